"""`expat check` over corpora: many trace files, parallel workers, a summary, CI exit codes.

Each worker loads and checks one trace at a time and hands back a small verdict (no events), so
memory stays bounded by the largest single trace whatever the corpus size. Verdicts come back in
input order; the parent streams them to stdout and keeps only counters.

Exit codes (docs/trace-format.md): 0 every trace conformant (with ``--labels``: every verdict as its
label says); 1 some trace violates a rule or property (with ``--labels``: some verdict differs from
its label); 2 usage error (no trace files found); 3 some file is not a well-formed trace.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, TextIO

from expat.model.properties import PROPERTY_IDS

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_FORMAT = 0, 1, 2, 3


def trace_files(paths: Iterable[str]) -> list[str]:
    """Files as given, and every ``*.jsonl`` under each directory (sorted, recursively)."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            out += sorted(str(f) for f in Path(p).rglob("*.jsonl") if f.is_file())
        else:
            out.append(p)
    return out


def check_file(path: str, judges: Optional[tuple[str, ...]] = None) -> dict[str, Any]:
    """The verdict on one trace file, as the JSON object `expat check --json` prints, plus ``events``
    and ``label`` (a synthetic trace's header label, traces/synth.py) for the summary. ``judges``: the
    judges to run (default: those on by default; ``--judge`` / ``--no-judge``)."""
    from expat.model.checker import check_trace
    from expat.model.trace import TraceFormatError, load_trace

    try:
        trace = load_trace(path)
    except (OSError, UnicodeDecodeError, TraceFormatError) as e:
        return {"trace": path, "conformant": False, "broken": [], "format_error": True, "events": 0,
                "violations": [{"rule": "format", "event_index": None, "detail": str(e), "breaks": []}]}
    result = check_trace(trace, judges=judges)
    result.source = path
    out = result.to_json()
    out["events"] = len(trace.events)
    label = trace.header.get("synthetic")
    if isinstance(label, dict) and isinstance(label.get("expect"), str):
        out["label"] = {"mutation": str(label.get("mutation", "")), "expect": label["expect"]}
    return out


def label_holds(verdict: dict[str, Any]) -> Optional[bool]:
    """Whether a labelled trace got the verdict its label says: the expected property among those
    flagged, or conformant for a benign rewrite. None for an unlabelled trace."""
    label = verdict.get("label")
    if label is None:
        return None
    if not label["expect"]:
        return bool(verdict["conformant"])
    return label["expect"] in verdict["broken"]


@dataclass
class Summary:
    traces: int = 0
    conformant: int = 0
    format_errors: int = 0
    events: int = 0
    by_property: Counter = field(default_factory=Counter)
    by_rule: Counter = field(default_factory=Counter)
    labelled: int = 0
    label_mismatches: int = 0
    seconds: float = 0.0
    jobs: int = 1

    def add(self, v: dict[str, Any]) -> None:
        self.traces += 1
        self.events += v.get("events", 0)
        self.conformant += bool(v["conformant"])
        self.format_errors += bool(v.get("format_error"))
        self.by_property.update(v["broken"])
        self.by_rule.update({x["rule"] for x in v["violations"] if "rule" in x})
        held = label_holds(v)
        if held is not None:
            self.labelled += 1
            self.label_mismatches += not held
        elif not v["conformant"]:
            self.unlabelled_violating += 1

    unlabelled_violating: int = 0

    def exit_code(self, labels: bool) -> int:
        if self.format_errors:
            return EXIT_FORMAT
        if labels:  # an unlabelled trace is expected to be conformant
            return EXIT_VIOLATION if self.label_mismatches + self.unlabelled_violating else EXIT_OK
        return EXIT_OK if self.conformant == self.traces else EXIT_VIOLATION

    def to_json(self) -> dict[str, Any]:
        return {"traces": self.traces, "conformant": self.conformant, "not_conformant": self.traces - self.conformant,
                "format_errors": self.format_errors, "events": self.events,
                "violations_per_property": {p: self.by_property.get(p, 0) for p in PROPERTY_IDS},
                "violations_per_rule": dict(sorted(self.by_rule.items())),
                "labelled": self.labelled, "label_mismatches": self.label_mismatches,
                "seconds": round(self.seconds, 3), "jobs": self.jobs,
                "traces_per_s": round(self.traces / self.seconds, 1) if self.seconds else None,
                "events_per_s": round(self.events / self.seconds, 1) if self.seconds else None}

    def table(self) -> str:
        rows = [("traces", self.traces), ("conformant", self.conformant),
                ("not conformant", self.traces - self.conformant), ("format errors", self.format_errors)]
        if self.labelled:
            rows.append(("labelled (synthetic)", self.labelled))
            rows.append(("label mismatches", self.label_mismatches))
        lines = [f"{k:<28}{v:>10}" for k, v in rows]
        lines.append(f"{'property':<28}{'traces':>10}")
        lines += [f"  {p:<26}{self.by_property.get(p, 0):>10}" for p in PROPERTY_IDS]
        if self.seconds:
            lines.append(f"{self.events} events in {self.seconds:.2f} s with {self.jobs} job(s): "
                         f"{self.traces / self.seconds:.0f} traces/s, {self.events / self.seconds:.0f} events/s")
        return "\n".join(lines) + "\n"


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, stream: TextIO):
        self.total, self.stream = total, stream
        self.on = total > 0 and stream.isatty()
        self.t0 = time.perf_counter()
        self.last = 0.0

    def update(self, done: int) -> None:
        if not self.on:
            return
        now = time.perf_counter()
        if now - self.last < 0.1 and done < self.total:
            return
        self.last = now
        width = 30
        fill = width * done // self.total
        rate = done / max(now - self.t0, 1e-9)
        self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{self.total} traces {rate:.0f}/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.on:
            self.stream.write("\n")
            self.stream.flush()


def verdicts(files: list[str], jobs: int, judges: Optional[tuple[str, ...]] = None) -> Iterator[dict[str, Any]]:
    """Verdicts in input order, from ``jobs`` worker processes (1: in this process)."""
    one = functools.partial(check_file, judges=judges) if judges is not None else check_file
    if jobs <= 1 or len(files) < 2:
        yield from map(one, files)
        return
    import multiprocessing

    chunk = max(1, min(64, len(files) // (jobs * 8)))
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        yield from pool.imap(one, files, chunksize=chunk)


def run(paths: list[str], *, jobs: Optional[int] = None, mode: str = "text", labels: bool = False,
        quiet: bool = False, out: Optional[TextIO] = None, err: Optional[TextIO] = None,
        judges: Optional[tuple[str, ...]] = None) -> int:
    """`expat check`: check every trace under ``paths``, print per ``mode``, summarise; the exit code."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    files = trace_files(paths)
    if not files:
        print("expat check: no trace files found", file=err)
        return EXIT_USAGE
    summary = Summary(jobs=max(1, jobs or os.cpu_count() or 1))
    progress = Progress(len(files), err)
    t0 = time.perf_counter()
    for n, v in enumerate(verdicts(files, summary.jobs, judges), 1):
        summary.add(v)
        public = {k: x for k, x in v.items() if k not in ("events", "format_error")}
        if mode in ("json", "jsonl"):
            out.write(json.dumps(public, sort_keys=True) + "\n")
        elif not quiet or not v["conformant"]:
            out.write(f"{v['trace']}: conformant\n" if v["conformant"] else json.dumps(public, sort_keys=True) + "\n")
        progress.update(n)
    summary.seconds = time.perf_counter() - t0
    progress.close()
    if mode == "jsonl":
        out.write(json.dumps({"summary": summary.to_json()}, sort_keys=True) + "\n")
    if mode == "text" or err.isatty():
        err.write(summary.table())
    return summary.exit_code(labels)
