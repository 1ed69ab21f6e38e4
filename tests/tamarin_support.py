"""Shared helpers for tests/test_tamarin_*.py."""

from __future__ import annotations

import re
from pathlib import Path

import expat  # noqa: F401  (OpenSSL config first)
from expat.tamarin import generate

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "tamarin" / generate.THEORY_FILE
RESULTS = ROOT / "tamarin" / "results"


def fresh_theory() -> str:
    return generate.theory_text()


def lemma_block(text: str, name: str) -> str:
    m = re.search(rf'^lemma {re.escape(name)}\b[^\n]*\n  "[^"]*"\n', text, flags=re.M)
    assert m, name
    return m.group(0)
