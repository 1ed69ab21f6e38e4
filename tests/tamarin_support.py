"""Shared helpers for tests/test_tamarin_*.py."""

from __future__ import annotations

import re
from pathlib import Path

import expat  # noqa: F401  (OpenSSL config first)
from expat.tamarin import generate, lemmas

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "tamarin" / generate.THEORY_FILE

_CACHE: dict[str, str] = {}


def fresh_theory() -> str:
    """A fresh export with the golden traces of this checkout (cached per test session)."""
    if "text" not in _CACHE:
        _CACHE["text"] = generate.theory_text(lemmas.golden_traces())
    return _CACHE["text"]


def rule_block(text: str, name: str) -> str:
    """The text of one rule (from its 'rule NAME:' line to the blank line after it)."""
    m = re.search(rf"^rule {re.escape(name)}:\n(?:[^#\n].*\n)+", text, flags=re.M)
    assert m, name
    return m.group(0)


def lemma_block(text: str, name: str) -> str:
    m = re.search(rf'^lemma {re.escape(name)}\b[^\n]*\n  "[^"]*"\n', text, flags=re.M)
    assert m, name
    return m.group(0)
