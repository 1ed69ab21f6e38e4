"""``expat tamarin check``: the theory against the model, without a prover.

* every event of :mod:`expat.model.events` is an action fact of the theory with the arity the
  refinement mapping (:mod:`expat.tamarin.mapping`) gives, or is declared not modelled with a reason;
* every action fact of the theory is a mapped event or a declared auxiliary action;
* every property id has a lemma and a sanity lemma, or is declared not modelled;
* the committed file equals a fresh export.

Whether Tamarin itself accepts the theory (wellformedness, guardedness) is checked by running it:
``expat tamarin check --prover`` loads the theory under every variant's flags and fails on any
wellformedness warning (the Maude version notice is not one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from expat.model.events import EVENTS
from expat.model.properties import PROPERTY_IDS
from expat.model.roles import FLAGS
from expat.tamarin import lemmas as L
from expat.tamarin import mapping as M

_ACTIONS = re.compile(r"--\[(.*?)\]->", re.S)
_FACT = re.compile(r"\b([A-Z][A-Za-z0-9_]*)\(")


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str


def _args(text: str, start: int) -> list[str]:
    """Top-level comma-separated arguments of the fact whose '(' is at ``start``."""
    depth, cur, out = 0, "", []
    for ch in text[start + 1:]:
        if ch in "(<":
            depth += 1
        elif ch in ")>":
            if depth == 0:
                out.append(cur.strip())
                return out
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return out


def action_facts(text: str) -> dict[str, set[int]]:
    """action name -> arities used in the rules' action lists."""
    out: dict[str, set[int]] = {}
    for block in _ACTIONS.findall(text):
        for m in _FACT.finditer(block):
            depth = block[:m.start()].count("(") - block[:m.start()].count(")")
            if depth:
                continue  # an argument (a function application), not a fact
            out.setdefault(m.group(1), set()).add(len(_args(block, m.end() - 1)))
    return out


def check_text(text: str) -> list[Finding]:
    found: list[Finding] = []
    facts = action_facts(text)
    for name in EVENTS:
        if name in M.ACTIONS and name in M.NOT_MODELLED:
            found.append(Finding("mapping", f"{name} is both mapped and declared not modelled"))
        elif name in M.ACTIONS:
            arity = len(M.ACTIONS[name])
            if name not in facts:
                found.append(Finding("mapping", f"event {name} is mapped but no rule has it as an action"))
            elif facts[name] != {arity}:
                found.append(Finding("mapping", f"{name}: arity {sorted(facts[name])} in the theory, {arity} mapped"))
            for a in M.ACTIONS[name]:
                if not a.startswith("+") and a != "agent" and a not in {x.name for x in EVENTS[name].args}:
                    found.append(Finding("mapping", f"{name}: {a} is not an argument of the event"))
        elif name not in M.NOT_MODELLED or not M.NOT_MODELLED[name].strip():
            found.append(Finding("mapping", f"event {name} is neither an action fact nor declared not modelled"))
    for name in facts:
        if name not in M.ACTIONS and name not in M.AUXILIARY:
            found.append(Finding("mapping", f"action {name} is neither an event nor a declared auxiliary action"))
    switched = set(re.findall(r"OFF_([A-Za-z0-9_]+)", text))
    for flag_name in FLAGS:
        if (flag_name in switched) == (flag_name in M.FLAGS_NOT_MODELLED):
            found.append(Finding("flags", f"flag {flag_name}: " + (
                "has a switch in the theory and is declared not modelled" if flag_name in switched else
                "has no OFF_ switch in the theory and is not declared in FLAGS_NOT_MODELLED")))
    lemmas = set(re.findall(r"^lemma ([A-Za-z0-9_]+)", text, re.M))
    for pid in PROPERTY_IDS:
        if pid in L.NOT_MODELLED:
            continue
        for name in (pid, pid + L.REACHABLE_SUFFIX):
            if name not in lemmas:
                found.append(Finding("lemma", f"no lemma {name}"))
    return found
