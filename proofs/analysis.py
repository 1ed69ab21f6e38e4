"""Verdicts: every run of a variant within the bound, checked by the real checker and monitors.

"holds" for (property, variant) means: no run of the bounded search (:mod:`expat.proofs.search`)
violates the property's monitor (:mod:`expat.model.monitors`). "violated" comes with the shortest
violating run found, written as an expat trace that ``expat check`` flags with the same property.

With ``formulas`` the same runs are also judged by the property formulas (:mod:`expat.model.judge`,
the text the Tamarin lemmas are generated from): a second verdict per cell, from the same runs, that
``expat proofs run --formulas`` prints beside the monitors' (issue 13). Opt-in: it costs about a fifth
more processor time at the CI bound.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import z3

import expat
from expat.model import checker, monitors
from expat.model import judge as formula_judge
from expat.model.checker import World
from expat.model.expectations import VARIANTS, Variant
from expat.model.properties import PROPERTY_IDS
from expat.model.roles import FLAGS
from expat.model.trace import Event, Trace, TraceRecorder
from expat.proofs import world as W
from expat.proofs.search import MODELLED_FLAGS, Bound, Explorer, State

CI_BOUND = Bound(connections=2, requests=2, reveals=1, secrets=1)
NOT_MODELLED = "not modelled"
NO_FORMULA = "no formula"


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
    if "local_binding_check" in variant.off:  # roles.flag: the profile parameter binding_check (-04 §5.1)
        p = dataclasses.replace(p, binding_check="delegated")
    d = p.to_dict()
    for f in variant.off:
        if f not in mitigation_names and f != "local_binding_check":
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
    unmodelled: Optional[str] = None  # why the search cannot judge this variant
    cpu_s: float = 0.0                # processor time of the worker (wall time depends on the load)
    # with formulas=True: the shortest run each property formula fails on (None: not judged by formulas)
    formula_counterexamples: Optional[dict[str, Trace]] = None

    def verdict(self, prop: str) -> str:
        if self.unmodelled:
            return NOT_MODELLED
        return "violated" if prop in self.counterexamples else "holds"

    def formula_verdict(self, prop: str) -> Optional[str]:
        """The formula's verdict on the same runs; None when not judged, NO_FORMULA for a property the
        formulas do not state (the theory does not model it)."""
        if self.formula_counterexamples is None:
            return None
        if self.unmodelled:
            return NOT_MODELLED
        if prop not in formula_judge.modelled():
            return NO_FORMULA
        return "violated" if prop in self.formula_counterexamples else "holds"


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


def unmodelled(variant: Variant) -> Optional[str]:
    """Why the search cannot judge ``variant``, or None: a flag outside MODELLED_FLAGS."""
    extra = sorted(set(variant.off) - MODELLED_FLAGS)
    if extra:
        return f"the search does not model flag(s) {', '.join(extra)}"
    return None


def _shortest(found: dict[str, Trace], props, trace: Trace) -> None:
    for prop in props:
        best = found.get(prop)
        if best is None or len(trace.events) < len(best.events):
            found[prop] = trace


def analyse_variant(variant: Variant, bound: Bound, formulas: bool = False) -> VariantReport:
    t0, c0 = time.perf_counter(), time.process_time()
    report = VariantReport(variant.name)
    if formulas:
        report.formula_counterexamples = {}
    report.unmodelled = unmodelled(variant)
    if report.unmodelled:
        return report
    explorer = Explorer(variant_flags(variant), bound)
    profile = variant_profile(variant)
    tty = sys.stderr.isatty()
    for st in explorer.runs():
        report.runs += 1
        if tty and report.runs % 5000 == 0:  # progress on long runs (a terminal only)
            print(f"  ... {variant.name}: {report.runs} runs, {time.perf_counter() - t0:.0f} s", file=sys.stderr,
                  flush=True)
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
        _shortest(report.counterexamples, {v.id for v in monitors.run_all(w)}, trace)
        if report.formula_counterexamples is not None:
            _shortest(report.formula_counterexamples, {v.id for v in formula_judge.judge(trace)}, trace)
    report.time_s = time.perf_counter() - t0
    report.cpu_s = time.process_time() - c0
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


def _analyse_named(args: tuple[str, Bound, bool]) -> VariantReport:
    return analyse_variant(VARIANTS[args[0]], args[1], args[2])


def _recorded_costs() -> dict[str, float]:
    """Seconds per variant at the CI bound, from the last recorded proofs/timings.json (or none)."""
    import json

    from expat.layout import locate

    try:
        doc = json.loads(locate("proofs/timings.json").read_text(encoding="utf-8"))
        return {k: float(v["seconds"]) for k, v in doc.get("per_variant_ci", {}).items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def default_jobs() -> int:
    """Worker processes: one per core, at most 2 (the CI machine's cores)."""
    return max(1, min(2, os.cpu_count() or 1))


def analyse(bound: Bound = CI_BOUND, variants: Optional[list[str]] = None, jobs: int = 1,
            progress: Optional[Callable[[VariantReport, int, int], None]] = None, formulas: bool = False
            ) -> tuple[list[Row], list[VariantReport]]:
    """Every variant's report (in ``jobs`` processes, variants as tasks; the result does not depend on
    ``jobs``), and one row per (property, variant). ``progress`` is called as each variant ends.
    ``formulas``: also judge every run by the property formulas (VariantReport.formula_verdict)."""
    names = list(variants or VARIANTS)
    done: dict[str, VariantReport] = {}
    hint = _recorded_costs()  # longest first, so that two workers end together (order only)
    tasks = sorted(((name, bound, formulas) for name in names), key=lambda t: -hint.get(t[0], 0.0))
    if jobs > 1 and len(names) > 1:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(names))) as pool:
            for rep in pool.imap_unordered(_analyse_named, tasks):
                done[rep.variant] = rep
                if progress:
                    progress(rep, len(done), len(names))
    else:
        for task in tasks:
            rep = _analyse_named(task)
            done[rep.variant] = rep
            if progress:
                progress(rep, len(done), len(names))
    rows: list[Row] = []
    reports: list[VariantReport] = []
    for name in names:
        v = VARIANTS[name]
        rep = done[name]
        reports.append(rep)
        for prop in PROPERTY_IDS:
            verdict = rep.verdict(prop)
            rows.append(Row(prop, name, verdict, "holds" if v.holds(prop) else "violated", rep.runs,
                            round(rep.time_s, 3), counterexample_name(name, prop) if verdict == "violated" else None))
    return rows, reports


def z3_version() -> str:
    return z3.get_version_string()
