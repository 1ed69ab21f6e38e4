"""Shared helpers for tests/test_model_*.py: the synthetic example traces and a trace copier."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import expat  # noqa: F401  (OpenSSL config first)
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
