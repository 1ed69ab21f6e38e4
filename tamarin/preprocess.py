"""The theory as Tamarin sees it under one variant: its integrated preprocessor, for the lines this
project writes (``#ifdef FORMULA``, ``#else``, ``#endif``; Tamarin manual, "Integrated
Preprocessor"; its parser, lib/theory/src/Theory/Text/Parser.hs: a flag formula of atoms, ``not``,
``&`` and ``|``; blocks do not nest).

A record of ``expat prove`` is about the preprocessed theory its flags select, so it stays valid when
an edit of the theory leaves that text alone, comments aside (for example a block added for another
variant, or a comment reworded):
:func:`variant_hash` is what ``tamarin/records.py`` compares. Only flag formulas may follow ``#ifdef``
here; anything else (``#define``, ``#include``, nesting) is refused rather than guessed.
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterable

FLAG = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class PreprocessError(ValueError):
    pass


def holds(formula: str, on: set[str], line: int = 0) -> bool:
    """A flag formula as Tamarin's parser reads it: atoms, ``not`` atom, ``&`` binding tighter than ``|``
    (no parentheses)."""
    def atom(a: str) -> bool:
        a = a.strip()
        neg = a.startswith("not ")
        name = a[4:].strip() if neg else a
        if not FLAG.fullmatch(name):
            raise PreprocessError(f"line {line}: not a flag formula: {formula.strip()!r}")
        return (name in on) != neg
    return any(all(atom(a) for a in conj.split("&")) for conj in formula.split("|"))


def preprocess(text: str, defined: Iterable[str]) -> str:
    """The lines of ``text`` kept with the flags ``defined`` (directive lines themselves dropped)."""
    on = set(defined)
    stack: list[tuple[bool, bool]] = []  # (this block's condition, in the else branch)
    out: list[str] = []
    for n, line in enumerate(text.splitlines(keepends=True), 1):
        word = line.strip()
        if word.startswith("#ifdef"):
            if stack:
                raise PreprocessError(f"line {n}: Tamarin's #ifdef does not nest")
            stack.append((holds(word[len("#ifdef"):], on, n), False))
        elif word == "#else":
            if not stack or stack[-1][1]:
                raise PreprocessError(f"line {n}: #else without #ifdef")
            stack[-1] = (stack[-1][0], True)
        elif word == "#endif":
            if not stack:
                raise PreprocessError(f"line {n}: #endif without #ifdef")
            stack.pop()
        elif word.startswith("#define") or word.startswith("#include"):
            raise PreprocessError(f"line {n}: {word.split()[0]} is not used by this project")
        elif all(cond != in_else for cond, in_else in stack):
            out.append(line)
    if stack:
        raise PreprocessError("unterminated #ifdef")
    return "".join(out)


COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def without_comments(text: str) -> str:
    """``text`` without ``/* */`` and ``//`` comments (Tamarin ignores them) and without blank lines."""
    return "".join(line for line in COMMENT.sub("", text).splitlines(keepends=True) if line.strip())


def variant_hash(text: str, defined: Iterable[str]) -> str:
    """sha256 of the theory Tamarin proves under the ``-D`` flags ``defined`` (comments left out)."""
    return hashlib.sha256(without_comments(preprocess(text, defined)).encode("ascii")).hexdigest()
