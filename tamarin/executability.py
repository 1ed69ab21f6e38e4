"""A necessary condition for the executability lemmas, checkable without Tamarin.

An ``executable_*`` lemma asks for a trace whose actions include the golden trace's events in order.
Here each event atom must *unify* with the action fact of some rule of the theory (under the same
``-D`` flags), all at once: variables shared between the trace's atoms keep one value, rule variables
are renamed per step, public variables (``$x``) only take public names, fresh ones (``~x``) only fresh
values, and constants must match. A failure means the lemma cannot hold (a constant, sort or term
shape the rules never produce); success does not prove it (state facts and knowledge are not
followed) -- that is Tamarin's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

from expat.tamarin.spthy import Formula, Theory, formula_atoms, split_top


@dataclass(frozen=True)
class Var:
    name: str
    sort: str  # "msg" | "fresh" | "pub"


@dataclass(frozen=True)
class Const:
    value: str


@dataclass(frozen=True)
class App:
    fn: str
    args: tuple["Term", ...]


Term = Union[Var, Const, App]


def parse_term(text: str, scope: str = "") -> Term:
    """A term of the generated subset; variable names get ``scope`` (renaming apart)."""
    t = text.strip()
    if t.startswith("'") and t.endswith("'"):
        return Const(t[1:-1])
    if t.startswith("<") and t.endswith(">"):
        parts = [parse_term(p, scope) for p in split_top(t[1:-1])]
        while len(parts) > 2:  # <a, b, c> = <a, <b, c>>
            parts = parts[:-2] + [App("pair", (parts[-2], parts[-1]))]
        return App("pair", tuple(parts))
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\((.*)\)", t, re.S)
    if m:
        return App(m.group(1), tuple(parse_term(p, scope) for p in split_top(m.group(2))))
    m = re.fullmatch(r"([~$]?)([A-Za-z_][A-Za-z0-9_]*)", t)
    if not m:
        raise ValueError(f"not a term: {t!r}")
    if m.group(2) == "true" and not m.group(1):
        return App("true", ())
    return Var(scope + m.group(2), {"~": "fresh", "$": "pub", "": "msg"}[m.group(1)])


Subst = dict[str, Term]


def walk(t: Term, s: Subst) -> Term:
    while isinstance(t, Var) and t.name in s:
        t = s[t.name]
    return t


def _bind(v: Var, t: Term, s: Subst) -> Optional[Subst]:
    if isinstance(t, Var):
        if t.name == v.name:
            return s
        if v.sort == "msg":
            return {**s, v.name: t}
        if t.sort == "msg":
            return {**s, t.name: v}
        return {**s, v.name: t} if v.sort == t.sort else None
    if v.sort == "fresh":
        return None  # a fresh value is never a constant or a compound term
    if v.sort == "pub" and not isinstance(t, Const):
        return None
    return {**s, v.name: t}


def unify(a: Term, b: Term, s: Subst) -> Optional[Subst]:
    a, b = walk(a, s), walk(b, s)
    if isinstance(a, Var):
        return _bind(a, b, s)
    if isinstance(b, Var):
        return _bind(b, a, s)
    if isinstance(a, Const) or isinstance(b, Const):
        return s if a == b else None
    if a.fn != b.fn or len(a.args) != len(b.args):
        return None
    for x, y in zip(a.args, b.args):
        s = unify(x, y, s)  # type: ignore[assignment]
        if s is None:
            return None
    return s


def _shape(args: tuple[str, ...]) -> str:
    """Action arguments up to renaming of variables (rules with equal shapes are interchangeable here)."""
    names: dict[str, str] = {}
    return re.sub(r"(?<![A-Za-z0-9_'])([~$]?)([a-z_A-Z][A-Za-z0-9_]*)(?![A-Za-z0-9_(])",
                  lambda m: m.group(1) + names.setdefault(m.group(0), f"x{len(names)}"), ", ".join(args))


def rename(t: Term, scope: str) -> Term:
    if isinstance(t, Var):
        return Var(scope + t.name, t.sort)
    if isinstance(t, App):
        return App(t.fn, tuple(rename(a, scope) for a in t.args))
    return t


def candidates(theory: Theory) -> dict[tuple[str, int], list[tuple[str, tuple[Term, ...]]]]:
    """(action name, arity) -> one (rule, parsed arguments) per distinct argument shape."""
    out: dict[tuple[str, int], dict[str, tuple[str, tuple[Term, ...]]]] = {}
    for r in theory.rules:
        for f in r.actions:
            shapes = out.setdefault((f.name, f.arity), {})
            key = _shape(f.args)
            if key not in shapes:
                shapes[key] = (r.name, tuple(parse_term(a) for a in f.args))
    return {k: list(v.values()) for k, v in out.items()}


def explain(theory: Theory, lemma: Formula) -> Optional[str]:
    """None if the lemma's atoms unify with rules' actions; otherwise the first atom that cannot."""
    atoms = [a for a in formula_atoms(lemma.text) if a.name != "Reveal"]
    cands = getattr(theory, "_candidates", None)
    if cands is None:
        cands = candidates(theory)
        theory._candidates = cands  # type: ignore[attr-defined]
    trace_terms = [[parse_term(x, "") for x in a.args] for a in atoms]
    deepest = [0, ""]

    def search(k: int, s: Subst) -> bool:
        if k == len(atoms):
            return True
        options = cands.get((atoms[k].name, atoms[k].arity), [])
        for n, (rule, args) in enumerate(options):
            s2: Optional[Subst] = s
            for x, y in zip(trace_terms[k], args):
                s2 = unify(x, rename(y, f"{k}.{n}."), s2)  # type: ignore[arg-type]
                if s2 is None:
                    break
            if s2 is not None and search(k + 1, s2):
                return True
        if k >= deepest[0]:
            deepest[:] = [k, f"event {k} {atoms[k].name}({', '.join(atoms[k].args)}) fits no rule's action "
                             f"({len(options)} candidate shapes)"]
        return False

    return None if search(0, {}) else deepest[1]
