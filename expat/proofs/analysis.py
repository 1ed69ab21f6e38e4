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
from expat.model.checker import check_trace
from expat.model.expectations import VARIANTS, Variant
from expat.model.properties import PROPERTY_IDS
from expat.model.roles import FLAGS
from expat.model.trace import Trace, TraceRecorder
from expat.proofs import world as W
from expat.proofs.search import Bound, Explorer, State

CI_BOUND = Bound(connections=2, requests=2, reveals=1)


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
    rec = TraceRecorder(expat_version=expat.__version__, profile=profile, seed=f"proofs|{variant.name}",
                        cipher_suite=W.SUITE, with_secrets=True, adversaries=list(W.ADVERSARIES),
                        description=f"bounded run (expat proofs, variant {variant.name}): " + "; ".join(st.steps))
    for agent, name, args in st.events + (explorer.data_suffix(st) if data else []):
        rec.emit(name, agent, **args)
    return rec.trace()


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


def analyse_variant(variant: Variant, bound: Bound) -> VariantReport:
    t0 = time.perf_counter()
    explorer = Explorer(variant_flags(variant), bound)
    profile = variant_profile(variant)
    report = VariantReport(variant.name)
    for st in explorer.runs():
        report.runs += 1
        trace = to_trace(st, explorer, variant, profile)
        result = check_trace(trace)
        rules = result.rules()
        if rules:  # the run is not a run of the tables: the encoding and the tables disagree
            report.mismatches += 1
            if report.first_mismatch is None:
                report.first_mismatch = ("; ".join(st.steps), sorted(rules))
            continue
        for prop in result.properties():
            best = report.counterexamples.get(prop)
            if best is None or len(trace.events) < len(best.events):
                report.counterexamples[prop] = trace
    report.time_s = time.perf_counter() - t0
    report.z3_queries = explorer.z.queries
    return report


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
    for name in variants or list(VARIANTS):
        v = VARIANTS[name]
        rep = analyse_variant(v, bound)
        reports.append(rep)
        for prop in PROPERTY_IDS:
            verdict = rep.verdict(prop)
            rows.append(Row(prop, name, verdict, "holds" if v.holds(prop) else "violated", rep.runs,
                            round(rep.time_s, 3), counterexample_name(name, prop) if verdict == "violated" else None))
    return rows, reports


def z3_version() -> str:
    return z3.get_version_string()
