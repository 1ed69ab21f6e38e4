"""Shared helpers for tests/test_model_*.py and tests/test_proofs_*.py: the synthetic example traces, a
trace copier, and `expat check` run on a trace written to a file."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import expat  # noqa: F401  (OpenSSL config first)
from expat.cli import main
from expat.model.trace import Event, Trace, load_trace

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "traces" / "examples"


def builder():
    spec = importlib.util.spec_from_file_location("build_examples", EXAMPLES / "build_examples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def example_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("synthetic-*.jsonl"))


def examples(prefix: str = "") -> dict[str, Trace]:
    return {p.stem: load_trace(p) for p in example_paths() if p.stem.startswith(prefix)}


def with_events(trace: Trace, events: list[Event], header: dict | None = None) -> Trace:
    """A copy of ``trace`` with ``events`` renumbered 0..n-1 (so ``seq`` never gives a mutation away)."""
    renumbered = [Event(i, e.agent, e.name, dict(e.args)) for i, e in enumerate(events)]
    return Trace(copy.deepcopy(header if header is not None else trace.header), renumbered, trace.source)


def expat_check_violations(trace: Trace, path: Path, capsys, *flags: str) -> list[dict]:
    """``trace`` written to ``path`` and checked by `expat check --json -j 1 [flags]`, which must exit 1 (a
    violation found); the violations it printed."""
    path.write_text("\n".join(trace.lines()) + "\n", encoding="ascii")
    assert main(["check", "--json", "-j", "1", *flags, str(path)]) == 1
    return json.loads(capsys.readouterr().out)["violations"]


def assert_counterexamples_flagged(rep, folder: Path, capsys, stem: str) -> None:
    """The round trip of a bounded-search report ``rep``: each counterexample, written as a trace, is flagged
    by `expat check` with its property, and each formula counterexample by `expat check --formulas` with a
    formula violation of its property."""
    for prop, trace in rep.counterexamples.items():
        found = expat_check_violations(trace, folder / f"{stem}--{prop}.jsonl", capsys)
        assert prop in {x.get("property") for x in found}
    for prop, trace in rep.formula_counterexamples.items():
        found = expat_check_violations(trace, folder / f"{stem}--{prop}.formula.jsonl", capsys, "--formulas")
        assert prop in {x.get("property") for x in found if x.get("detail", "").startswith("formula")}
