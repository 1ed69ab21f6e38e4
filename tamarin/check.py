"""``expat tamarin check``: the theory on disk matches the model one to one.

The raw text is checked for what tamarin-prover's preprocessor and lexer would misread
(:func:`expat.tamarin.wellformed.preprocessor_problems`). For the default profile and every variant
of :data:`expat.model.expectations.VARIANTS` (and every single flag), the theory is preprocessed with that variant's ``-D`` flags, parsed with
:mod:`expat.tamarin.spthy`, checked for well-formedness, and compared with the model:

* Tamarin's own parse-level and well-formedness reports and message derivation checks, re-implemented
  from its sources (:mod:`expat.tamarin.wellformed`);
* rules: exactly one per row enabled under the variant (joined rows for shared events), plus the
  environment rules; each with the row's event as an action fact of the vocabulary's arity, one
  ``Guard_<g>`` action per guard of the row, the from/to state facts and the row's effect facts;
* facts: every event of :data:`expat.model.events.EVENTS` occurs as an action fact, always with the
  vocabulary's arity; state facts are exactly the states of the enabled rows;
* restrictions: ``guard_<g>`` exactly for the guards that restrict something under the variant;
* lemmas: exactly the property ids, their ``_reachable`` exists-trace lemmas, the sources lemmas and
  one ``executable_*`` lemma per golden trace enabled under the variant, whose events unify, in order,
  with the actions of the variant's rules (:mod:`expat.tamarin.executability`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from expat.model.events import EVENTS
from expat.model.roles import FLAGS
from expat.tamarin import generate as G
from expat.tamarin import lemmas as L
from expat.tamarin import semantics as S
from expat.tamarin import wellformed as W
from expat.tamarin.executability import explain
from expat.tamarin.spthy import SpthyError, Theory, parse, wellformedness


@dataclass(frozen=True)
class Finding:
    variant: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.variant}] {self.kind}: {self.detail}"


def variant_flag_sets() -> list[tuple[str, frozenset[str]]]:
    out = [(v.name, frozenset(v.off)) for v in L.variants()]
    named = {fs for _, fs in out}
    out += [(f"only-{f}", frozenset({f})) for f in FLAGS if frozenset({f}) not in named]
    return out


def _expected_restrictions(specs: list[G.RuleSpec], off: frozenset[str]) -> set[str]:
    """``specs``: the rules enabled under ``off``."""
    used = {g for s in specs for r in s.rows for g in r.guard}
    names = {n for n, _ in S.ENV_RESTRICTIONS}
    for g in used:
        for k, _ in enumerate(S.GUARDS[g].bodies(off)):
            names.add(S.restriction_name(g, k))
    return names


def _expected_lemmas(off: frozenset[str], traces: list[Path]) -> set[str]:
    """The lemmas of the theory, with the executability lemmas of the ``traces`` enabled under ``off``."""
    return set(L.lemma_names([t for t in traces if set(L.trace_lemma(t)[2]) <= off]))


def check_variant(theory: Theory, variant: str, off: frozenset[str],
                  traces: Optional[list[Path]]) -> list[Finding]:
    out: list[Finding] = []

    def bad(kind: str, detail: str) -> None:
        out.append(Finding(variant, kind, detail))

    for p in wellformedness(theory):
        bad("wellformedness", p)
    for p in W.check_theory(theory):  # what tamarin-prover itself reports (parser, Wellformedness.hs)
        bad("tamarin-wellformedness", p)
    for p in W.derivation_problems(theory):  # MessageDerivationChecks.hs
        bad("derivation", p)
    rules = {r.name: r for r in theory.rules}
    specs = [s for s in G.rule_specs() if s.enabled(off)]
    expected = {s.name for s in specs} | {r.name for r in S.ENV_RULES}
    for n in sorted(expected - set(rules)):
        bad("rule-missing", n)
    for n in sorted(set(rules) - expected):
        bad("rule-extra", n)
    # each row's rule carries the row
    for spec in specs:
        rule = rules.get(spec.name)
        if rule is None:
            continue
        acts = {}
        for f in rule.actions:
            acts.setdefault(f.name, []).append(f)
        arity = len(EVENTS[spec.event].positional)
        if not any(f.arity == arity for f in acts.get(spec.event, [])):
            bad("event-missing", f"rule {spec.name} lacks action {spec.event}/{arity}")
        for row in spec.rows:
            for g in row.guard:
                want = len(S.GUARDS[g].params)
                if not any(f.arity == want for f in acts.get(S.guard_fact(g), [])):
                    bad("guard-missing", f"rule {spec.name} lacks {S.guard_fact(g)}/{want}")
            mem = len(S.MEMORY[row.role])
            if not S.virtual_start(row.role, row.src):
                name = S.state_fact(row.role, row.src)
                if not any(f.name == name and f.arity == mem and not f.persistent for f in rule.premises):
                    bad("state-missing", f"rule {spec.name} lacks premise {name}/{mem}")
            name = S.state_fact(row.role, row.dst)
            if not any(f.name == name and f.arity == mem and not f.persistent for f in rule.conclusions):
                bad("state-missing", f"rule {spec.name} lacks conclusion {name}/{mem}")
            for eff, args in S.effects(row):
                if not any(f.name == eff and f.persistent and f.arity == len(args) for f in rule.conclusions):
                    bad("effect-missing", f"rule {spec.name} lacks !{eff}/{len(args)}")
        guard_names = {S.guard_fact(g) for r in spec.rows for g in r.guard}
        for name in acts:
            if name.startswith("Guard_") and name not in guard_names:
                bad("guard-extra", f"rule {spec.name} has {name} that its row does not name")
        events_here = [n for n in acts if n in EVENTS]
        if events_here != [spec.event]:
            bad("event-extra", f"rule {spec.name} has events {events_here}")
    # facts: the vocabulary, with its arities
    action_arity: dict[str, set[int]] = {}
    for r in theory.rules:
        for f in r.actions:
            action_arity.setdefault(f.name, set()).add(f.arity)
    for name, spec in EVENTS.items():
        if name not in action_arity:
            bad("fact-missing", f"event {name} is no action fact")
        elif action_arity[name] != {len(spec.positional)}:
            bad("fact-arity", f"{name} used with {sorted(action_arity[name])} arguments, "
                              f"vocabulary has {len(spec.positional)}")
    states = {f.name for r in theory.rules for f in r.premises + r.conclusions if f.name.startswith("St_")}
    want_states = {S.state_fact(r.role, s) for sp in specs for r in sp.rows for s in (r.src, r.dst)
                   if not S.virtual_start(r.role, s)}
    for n in sorted(want_states - states):
        bad("state-fact-missing", n)
    for n in sorted(states - want_states):
        bad("state-fact-extra", n)
    # restrictions
    have = {x.name for x in theory.restrictions}
    want = _expected_restrictions(specs, off)
    for n in sorted(want - have):
        bad("restriction-missing", n)
    for n in sorted(have - want):
        bad("restriction-extra", n)
    # lemmas
    lemmas = {x.name: x for x in theory.lemmas}
    want_l = _expected_lemmas(off, traces or [])
    if traces is None:  # no golden traces available here: accept the executable_* lemmas present
        want_l |= {n for n in lemmas if n.startswith(L.EXECUTABLE_PREFIX)}
    for n in sorted(want_l - set(lemmas)):
        bad("lemma-missing", n)
    for n in sorted(set(lemmas) - want_l):
        bad("lemma-extra", n)
    for n, lem in lemmas.items():
        should = "exists-trace" if (n.endswith(L.REACHABLE_SUFFIX) or n.startswith(L.EXECUTABLE_PREFIX)) \
            else "all-traces"
        if lem.quantifier != should:
            bad("lemma-quantifier", f"{n} is {lem.quantifier}, expected {should}")
        if n in L.SOURCES_LEMMAS and "sources" not in lem.attributes:
            bad("lemma-attribute", f"{n} lacks [sources]")
        if n.startswith(L.EXECUTABLE_PREFIX):
            why = explain(theory, lem)
            if why is not None:
                bad("executability", f"{n}: {why}")
    return out


def check_text(text: str, traces: Optional[list[Path]] = None) -> list[Finding]:
    out: list[Finding] = [Finding("-", "preprocessor", p) for p in W.preprocessor_problems(text)]
    for variant, off in variant_flag_sets():
        try:
            theory = parse(text, {S.FLAG_PREFIX + f for f in off})
        except SpthyError as e:
            out.append(Finding(variant, "parse", str(e)))
            continue
        out += check_variant(theory, variant, off, traces)
    return out


def check_dir(path: Path, traces: Optional[list[Path]] = None) -> list[Finding]:
    theory = path / G.THEORY_FILE if path.is_dir() else path
    if not theory.exists():
        return [Finding("-", "missing", f"{theory} does not exist (run `expat tamarin export`)")]
    return check_text(theory.read_text(encoding="ascii"), traces)


def dedupe(findings: Iterable[Finding]) -> list[tuple[str, str, list[str]]]:
    """(kind, detail, variants) with findings that recur across variants grouped."""
    groups: dict[tuple[str, str], list[str]] = {}
    for f in findings:
        groups.setdefault((f.kind, f.detail), []).append(f.variant)
    return [(k, d, v) for (k, d), v in groups.items()]
