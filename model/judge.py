"""The formula judge: every modelled property's formula (:mod:`expat.model.formulas`) evaluated on a
trace, the same text Tamarin proves (issues 12, 13, 16).

Each branch ``(branch, variables, premise, conclusion, unless)`` is the formula
``All variables. premise ==> (conclusion) | unless``, exactly as :mod:`expat.tamarin.lemmas` prints it
into the lemma (a test holds the two texts equal). The branches are parsed and compiled once per
process; a trace is read once as facts (:mod:`expat.model.termview`) and each counterexample (a way
the premise happens while neither the conclusion nor the exclusion holds) is a
:class:`~expat.model.verdicts.Violation` of the property, at the premise's last event. Properties the
formulas do not model (the theory has no lemma for them) are judged by their monitor only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from expat.model.formulas import PROPERTY_LEMMAS
from expat.model.logic import Compiled, Facts, Quant, _conjuncts, Atom, compile_formula, counterexamples
from expat.model.termview import trace_facts
from expat.model.trace import Trace
from expat.model.verdicts import Violation


def branch_text(premise: str, variables: str, conclusion: str, unless: str) -> str:
    """One branch as the formula the lemma states (the lemma joins its branches with ``&``)."""
    rhs = f"({conclusion})" if unless == "F" else f"({conclusion}) | {unless}"
    return f"All {variables}.\n     {premise}\n   ==> {rhs}"


@dataclass(frozen=True)
class Branch:
    property: str
    name: str
    compiled: Compiled
    times: tuple[str, ...]  # the premise's temporal variables (where a counterexample happens)


@functools.lru_cache(maxsize=None)
def branches() -> tuple[Branch, ...]:
    out = []
    for pid, rows in PROPERTY_LEMMAS.items():
        for name, variables, premise, conclusion, unless in rows:
            c = compile_formula(branch_text(premise, variables, conclusion, unless))
            assert isinstance(c.formula, Quant)
            times = tuple(a.at for a in _conjuncts(c.formula.body.premise) if isinstance(a, Atom))
            out.append(Branch(pid, name, c, times))
    return tuple(out)


def modelled() -> frozenset[str]:
    return frozenset(PROPERTY_LEMMAS)


def judge_facts(facts: Facts) -> list[Violation]:
    out = []
    for b in branches():
        seen = set()
        for env in counterexamples(b.compiled.formula, facts):
            at = max(env[t] for t in b.times)
            if (at, b.property) in seen:
                continue  # one violation per property and event, as the monitors report
            seen.add((at, b.property))
            out.append(Violation("property", b.property, at, f"formula ({b.name} branch) fails: "
                                 + ", ".join(f"{k}={_short(v)}" for k, v in sorted(env.items())
                                             if k not in b.times and len(k) <= 3)))
    return out


def _short(v) -> str:
    if isinstance(v, tuple):
        return "<" + ", ".join(_short(x) for x in v) + ">"
    s = str(v)
    return s if len(s) <= 12 else s[:10] + ".."


def judge(trace: Trace) -> list[Violation]:
    """Every formula counterexample in ``trace``."""
    return judge_facts(trace_facts(trace))
