"""Verdicts: every run of a variant within the bound, checked by the real checker and monitors.

"holds" for (property, variant) means: no run of the bounded search (:mod:`expat.proofs.search`)
violates the property's monitor (:mod:`expat.model.monitors`). "violated" comes with the shortest
violating run found, written as an expat trace that ``expat check`` flags with the same property.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

import z3

import expat
from expat.model import checker, monitors
from expat.model.checker import World
from expat.model.expectations import VARIANTS, Variant
from expat.model.properties import PROPERTY_IDS
from expat.model.roles import FLAGS
from expat.model.trace import Event, Trace, TraceRecorder
from expat.proofs import world as W
from expat.proofs.search import Bound, Explorer, State

CI_BOUND = Bound(connections=2, requests=2, reveals=1)

# Flags the search does not encode: the delegated binding comparison of draft -04 §5.1 (issue 14; the
# search's requester always compares locally). Variants switching one off are not analysed, and say so.
UNSUPPORTED_FLAGS = ("local_binding_check", "verifier_compares_binding")


def supported(variant: Variant) -> bool:
    return not set(variant.off) & set(UNSUPPORTED_FLAGS)


def supported_variants() -> list[str]:
    return [name for name, v in VARIANTS.items() if supported(v)]


def variant_flags(variant: Variant) -> dict[str, bool]:
    return {f: f not in variant.off for f in FLAGS}


def variant_profile(variant: Variant) -> dict:
    """The default profile with the variant's flags off (the trace header's profile)."""
    from expat.profile import Mitigations, Profile

    p = Profile(name="default" if not variant.off else f"proofs-{variant.name}")
    mitigation_names = set(Mitigations().__dataclass_fields__)
    off = {f: False for f in variant.off if f in mitigation_names}
    if off:
        p = p.with_mitigations(**off)
    d = p.to_dict()
    for f in variant.off:
        if f not in mitigation_names:
            d[f] = False
    return d


def to_trace(st: State, explorer: Explorer, variant: Variant, profile: dict, data: bool = True) -> Trace:
    """The run as an expat trace (with secrets; mallory listed as adversary); events were checked
    against the vocabulary when the run recorded them."""
    rec = TraceRecorder(expat_version=expat.__version__, profile=profile, seed=f"proofs|{variant.name}",
                        cipher_suite=W.SUITE, with_secrets=True, adversaries=list(W.ADVERSARIES),
                        description=f"bounded run (expat proofs, variant {variant.name}): " + "; ".join(st.steps))
    events = st.events + (explorer.data_suffix(st) if data else [])
    return Trace(dict(rec.header), [Event(i, agent, name, args) for i, (agent, name, args) in enumerate(events)])


@dataclass
class VariantReport:
    variant: str
    runs: int = 0
    mismatches: int = 0
    first_mismatch: Optional[tuple[str, list[str]]] = None
    counterexamples: dict[str, Trace] = field(default_factory=dict)
    time_s: float = 0.0
    z3_queries: int = 0

    def verdict(self, prop: str) -> str:
        return "violated" if prop in self.counterexamples else "holds"


def _extend(base: Optional[World], trace: Trace, start: int, stop: int) -> tuple[World, list]:
    """Replay ``trace.events[start:stop]`` on a copy of ``base`` (the checker's World after the first
    ``start`` events, or a new World): the checker's own per-event step (tables, guards, relations), so
    a run is checked once per event rather than once per prefix. Returns the World and rule violations."""
    if base is None:
        w = World(trace)
    else:
        w = base.fork(trace)
    violations: list = []
    for i in range(start, stop):
        ev = trace.events[i]
        if w.honest(ev.agent):
            violations += checker._step(w, i, ev)
        violations += checker._relations(w, i, ev)
        w.record(ev)
    return w, violations


def analyse_variant(variant: Variant, bound: Bound) -> VariantReport:
    t0 = time.perf_counter()
    explorer = Explorer(variant_flags(variant), bound)
    profile = variant_profile(variant)
    report = VariantReport(variant.name)
    for st in explorer.runs():
        report.runs += 1
        trace = to_trace(st, explorer, variant, profile)
        n = len(st.events)
        w, rules = _extend(st.world, trace, st.world_len, n)  # the run itself
        w_run = w
        if not st.quiet:
            w, more = _extend(w, trace, n, len(trace.events))  # plus the application data the endpoints may now send
            rules += more
        if rules:  # the run is not a run of the tables: the encoding and the tables disagree
            report.mismatches += 1
            if report.first_mismatch is None:
                report.first_mismatch = ("; ".join(st.steps), sorted({v.id for v in rules}))
            continue
        st.world, st.world_len = _prefix_world(w_run, st, trace), n
        if st.quiet:
            continue  # its parent run has every violation it could show (docs/proofs.md)
        for prop in {v.id for v in monitors.run_all(w)}:
            best = report.counterexamples.get(prop)
            if best is None or len(trace.events) < len(best.events):
                report.counterexamples[prop] = trace
    report.time_s = time.perf_counter() - t0
    report.z3_queries = explorer.z.queries
    return report


def _prefix_world(w: World, st: State, trace: Trace) -> World:
    """The World of the run without its data suffix, for the runs that extend it."""
    w.trace = Trace(trace.header, trace.events[:len(st.events)], trace.source)
    return w


@dataclass(frozen=True)
class Row:
    property: str
    variant: str
    verdict: str
    expected: str
    states: int
    time_s: float
    counterexample: Optional[str]

    @property
    def matches(self) -> bool:
        return self.verdict == self.expected


def counterexample_name(variant: str, prop: str) -> str:
    return f"proofs/counterexamples/{variant}--{prop}.jsonl"


def analyse(bound: Bound = CI_BOUND, variants: Optional[list[str]] = None) -> tuple[list[Row], list[VariantReport]]:
    rows: list[Row] = []
    reports: list[VariantReport] = []
    for name in variants or supported_variants():
        v = VARIANTS[name]
        if not supported(v):
            raise ValueError(f"variant {name} switches off {sorted(set(v.off) & set(UNSUPPORTED_FLAGS))}, "
                             "which the bounded search does not encode")
        rep = analyse_variant(v, bound)
        reports.append(rep)
        for prop in PROPERTY_IDS:
            verdict = rep.verdict(prop)
            rows.append(Row(prop, name, verdict, "holds" if v.holds(prop) else "violated", rep.runs,
                            round(rep.time_s, 3), counterexample_name(name, prop) if verdict == "violated" else None))
    return rows, reports


def z3_version() -> str:
    return z3.get_version_string()
