"""Recorded artefacts: proofs/verdicts.json, proofs/timings.json, proofs/counterexamples/*.jsonl.

verdicts.json is byte-stable for a given code base and bound (sorted keys, no wall times, no dates);
every wall time goes to timings.json. Counterexamples are expat traces (JSON Lines, header first)
that ``expat check`` flags with the property they are filed under.
"""

from __future__ import annotations

import dataclasses

import json
import os
import platform
from pathlib import Path
from typing import Optional

import expat
from expat.layout import locate
from expat.model.properties import PROPERTY_IDS
from expat.proofs.analysis import Row, VariantReport, counterexample_name, z3_version
from expat.proofs.search import Bound

GENERATED_BY = "expat proofs run --record"


def dumps(obj: object) -> str:
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"


def verdicts_document(bound: Bound, rows: list[Row]) -> dict:
    return {
        "bound": bound.to_json(),
        "z3_version": z3_version(),
        "generated_by": f"{GENERATED_BY} (expat {expat.__version__})",
        "timings": "proofs/timings.json",
        "results": [{"property": r.property, "variant": r.variant, "verdict": r.verdict, "expected": r.expected,
                     "matches": r.matches, "states": r.states, "time_s": None, "counterexample": r.counterexample}
                    for r in rows],
    }


def _write_traces(out_dir_name: str, found: list[tuple[str, dict]], name_of, root: Optional[Path]) -> list[Path]:
    """One trace file per (variant, property) of ``found`` [(variant, {property: trace})] in
    ``out_dir_name``; stale files of those variants removed."""
    out_dir = locate(out_dir_name, root)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, keep = [], set()
    for variant, traces in found:
        for prop, trace in sorted(traces.items()):
            path = locate(name_of(variant, prop), root)
            path.write_text(trace.text(), encoding="ascii")
            keep.add(path.name)
            written.append(path)
    names = {variant for variant, _ in found}
    for old in out_dir.glob("*.jsonl"):
        if old.name.split("--")[0] in names and old.name not in keep:
            old.unlink()
    return written


def write_verdicts(bound: Bound, rows: list[Row], reports: list[VariantReport], root: Optional[Path] = None) -> list[Path]:
    """verdicts.json and one counterexample trace per violated (variant, property); stale
    counterexamples of the recorded variants are removed."""
    written = _write_traces("proofs/counterexamples", [(rep.variant, rep.counterexamples) for rep in reports],
                            counterexample_name, root)
    path = locate("proofs/verdicts.json", root)
    path.write_text(dumps(verdicts_document(bound, rows)), encoding="ascii")
    return [path] + written


def formula_cells(reports: list[VariantReport]) -> list[dict]:
    """Per (variant, property): the monitors' and the formulas' verdicts on the same runs (byte-stable)."""
    out = []
    for rep in reports:
        for prop in PROPERTY_IDS:
            mon, form = rep.verdict(prop), rep.formula_verdict(prop)
            judged = form in ("holds", "violated")
            run = rep.formula_counterexamples.get(prop) if rep.formula_counterexamples else None
            out.append({"variant": rep.variant, "property": prop, "monitors": mon, "formulas": form,
                        "differs": judged and form != mon,
                        "formula_run": run.header["description"] if run is not None and form != mon else None})
    return out


FORMULA_COUNTEREXAMPLES = "proofs/counterexamples/formulas"


def formula_counterexample_name(variant: str, prop: str) -> str:
    return f"{FORMULA_COUNTEREXAMPLES}/{variant}--{prop}.jsonl"


def write_formula_verdicts(bound: Bound, reports: list[VariantReport], root: Optional[Path] = None) -> list[Path]:
    """proofs/formula-verdicts.json and, per formula-violated cell, the shortest run the formula fails on
    (proofs/counterexamples/formulas/; the attack lemmas of tamarin/attacks.py read them)."""
    written = _write_traces(FORMULA_COUNTEREXAMPLES,
                            [(rep.variant, rep.formula_counterexamples or {}) for rep in reports],
                            formula_counterexample_name, root)
    path = locate("proofs/formula-verdicts.json", root)
    path.write_text(dumps({"bound": bound.to_json(), "generated_by": f"{GENERATED_BY} --formulas "
                           f"(expat {expat.__version__})", "cells": formula_cells(reports)}), encoding="ascii")
    return [path] + written


def load_average() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def write_timings(ci: Bound, ci_reports: list[VariantReport], ci_seconds: float,
                  growth: Optional[dict[int, tuple[float, int, float, Optional[float]]]] = None,
                  root: Optional[Path] = None, jobs: int = 1, ci_load: Optional[float] = None) -> Path:
    """Wall times: per variant at the CI bound, and the whole analysis per connection bound."""
    path = locate("proofs/timings.json", root)
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    bounds = old.get("bounds", {}) if isinstance(old.get("bounds"), dict) else {}
    # keep an earlier entry only if it was measured along the same axis (same requests, reveals, ...)
    axis = {k: v for k, v in ci.to_json().items() if k != "connections"}
    bounds = {k: v for k, v in bounds.items() if isinstance(v, dict) and isinstance(v.get("bound"), dict)
              and {x: y for x, y in v["bound"].items() if x != "connections"} == axis}
    load = ci_load if ci_load is not None else load_average()  # at the end of the CI-bound run
    bounds[str(ci.connections)] = {"seconds": round(ci_seconds, 3), "runs": sum(r.runs for r in ci_reports),
                                   "cpu_s": round(sum(r.cpu_s for r in ci_reports), 3), "jobs": jobs,
                                   "load_average_at_end": load, "bound": ci.to_json()}
    for conns, (secs, runs, cpu, at_end) in (growth or {}).items():
        b = dataclasses.replace(ci, connections=conns)
        bounds[str(conns)] = {"seconds": round(secs, 3), "runs": runs, "cpu_s": round(cpu, 3), "jobs": jobs,
                              "load_average_at_end": at_end, "bound": b.to_json()}
    doc = {
        "ci_bound": ci.connections,
        "bound_axis": "connections (requests, reveals and secrets as in the CI bound)",
        "jobs": jobs,
        "load_average_at_end": load,
        "cpu_s_ci": round(sum(r.cpu_s for r in ci_reports), 3),
        "ci": ci.to_json(),
        "bounds": dict(sorted(bounds.items(), key=lambda kv: int(kv[0]))),
        "per_variant_ci": {r.variant: {"seconds": round(r.time_s, 3), "cpu_s": round(r.cpu_s, 3), "runs": r.runs,
                                       "z3_queries": r.z3_queries}
                           for r in ci_reports},
        "z3_version": z3_version(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    path.write_text(dumps(doc), encoding="ascii")
    return path
