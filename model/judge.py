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

from expat.model.compiled import Guard, Test, guarded, predicate
from expat.model.formulas import PROPERTY_LEMMAS
from expat.model.logic import (Atom, Compiled, Facts, Implies, Quant, conjuncts_of, compile_formula, counterexamples,
                               show)
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
            assert isinstance(c.formula, Quant) and isinstance(c.formula.body, Implies)
            times = tuple(a.at for a in conjuncts_of(c.formula.body.premise) if isinstance(a, Atom))
            out.append(Branch(pid, name, c, times))
    return tuple(out)


@functools.lru_cache(maxsize=None)
def _by_premise() -> tuple[tuple[Guard, tuple[tuple[Branch, Test], ...]], ...]:
    """Branches grouped by their premise (most properties share the acceptance premise), compiled once
    (:mod:`expat.model.compiled`): each group's premise is matched once per trace, and each branch's
    conclusion checked on its bindings."""
    groups: dict[str, list[Branch]] = {}
    for b in branches():
        groups.setdefault(show(b.compiled.formula.body.premise), []).append(b)
    out = []
    for group in groups.values():
        bound: set[str] = set()
        premise = guarded(conjuncts_of(group[0].compiled.formula.body.premise), bound)
        out.append((premise, tuple((b, predicate(b.compiled.formula.body.conclusion, set(bound))) for b in group)))
    return tuple(out)


def modelled() -> frozenset[str]:
    return frozenset(PROPERTY_LEMMAS)


def judge_facts(facts: Facts, *, interpreted: bool = False) -> list[Violation]:
    """Every formula counterexample on ``facts``; ``interpreted``: by the reference interpreter of
    :mod:`expat.model.logic` instead of the compiled closures (same result, slower; for tests)."""
    found: dict[tuple[str, int], Violation] = {}

    def report(b: Branch, env: dict) -> None:
        found[(b.property, max(env[t] for t in b.times))] = Violation(
            "property", b.property, max(env[t] for t in b.times), f"formula ({b.name} branch) fails: " + ", ".join(
                f"{k}={_short(v)}" for k, v in sorted(env.items()) if k not in b.times and len(k) <= 3))

    if interpreted:
        for b in branches():
            for env in counterexamples(b.compiled.formula, facts):
                if (b.property, max(env[t] for t in b.times)) not in found:
                    report(b, env)
    else:
        for premise, group in _by_premise():
            for env in premise(facts, {}):
                for b, conclusion in group:
                    if (b.property, max(env[t] for t in b.times)) not in found and not conclusion(facts, env):
                        report(b, env)  # one violation per property and event, as the monitors report
    order = {b.property: n for n, b in enumerate(branches())}
    return sorted(found.values(), key=lambda v: (order[v.id], v.event_index))


def _short(v) -> str:
    if isinstance(v, tuple):
        return "<" + ", ".join(_short(x) for x in v) + ">"
    s = str(v)
    return s if len(s) <= 12 else s[:10] + ".."


def judge(trace: Trace) -> list[Violation]:
    """Every formula counterexample in ``trace``."""
    return judge_facts(trace_facts(trace))


# --- where the formulas and the monitors differ ------------------------------------------------
# Every (trace, property) on which the formula verdict and the monitor verdict differ in the committed
# corpora (traces/golden, traces/examples, proofs/counterexamples) and the synthetic corpus falls in one
# of these classes (tests/test_formula_judge.py holds the exact list). Each says which side flags and
# why; none is settled by editing one side to fit the other (the formula text belongs to the Tamarin
# theory, the monitors to the checker and the bounded search).


@dataclass(frozen=True)
class Difference:
    properties: tuple[str, ...]
    flagged_by: str  # "formula" or "monitor": the side that reports a violation the other does not
    reason: str


DIFFERENCES: dict[str, Difference] = {
    "unproduced-evidence": Difference(
        ("channel_binding", "request_binding", "no_diversion"), "formula",
        "Evidence no Attesting Environment produced (forged; both flag evidence_integrity): the formulas "
        "ask which platform requested it on which connection and for which endpoint, and no event "
        "answers; the monitors fall back to the binding value the requester could check itself, or skip "
        "no_diversion. The formula is the agreement reading issue 12 asks for."),
    "pre-played-request": Difference(
        ("request_binding",), "formula",
        "the Evidence answers a request with the same context that was made (pre-played, with a known "
        "connection secret) before the requester sent its own: the formula orders RequestSent before "
        "EvidenceRequested; the monitor checks the binding value and that a request was sent before "
        "acceptance, and reports the pre-play as reattestation_fresh only. Tamarin falsifies "
        "request_binding on the default profile for the same reason (tamarin/results)."),
    "exporter-label": Difference(
        ("channel_binding", "request_binding"), "monitor",
        "the binding was computed under another exporter label: the theory has one exporter (flag "
        "check_exporter_label is not modelled, tamarin/mapping.py), so the formula sees a binding the "
        "attester requested on this connection; the monitor recomputes the label."),
    "binding-for-another-aik": Difference(
        ("channel_binding",), "monitor",
        "the binding was requested on this connection for another AIK than the accepted one: the "
        "formula leaves the binding's AIK free (aik2; the AIK is aik_in_tee's concern); the monitor "
        "recomputes the binding with the accepted AIK."),
    "adversary-chosen-binding": Difference(
        ("channel_binding", "request_binding"), "monitor",
        "Evidence of the adversary's own platform, whose TEE the adversary asked on this connection with "
        "a binding of its choosing: the trace records that request as an EvidenceRequested on the "
        "connection, which the formula reads as agreement (the theory's honest TE computes the binding "
        "itself, and a compromised host's TEE oracle records no request and is excluded by the lemma); "
        "the monitor recomputes the binding the requester should have compared. Either way the "
        "adversary's own platform is no honest party the formula protects."),
    "tee-for-another-endpoint": Difference(
        ("aik_in_tee",), "both",
        "an Attesting Environment serves an endpoint it did not generate the AIK for (a foreign host "
        "uses it as an oracle, or an AIK generated for another endpoint): the theory has one name per "
        "platform, the term view reads an AE's acts as the endpoint they name (te, owner); the monitor "
        "asks whether the same AE generated the AIK."),
    "sibling-tee": Difference(
        ("aik_in_tee",), "monitor",
        "an endpoint with several Attesting Environments (the bounded search's --aes N) presents the AIK one "
        "of them generated with Evidence another one produced, accepted where AIK_pub_hash is not compared: "
        "the theory has one TEE per platform and one name for the TLS endpoint and its TEE (!AK(P, ak), "
        "AikGenerated(P, aik)), so the formula asks whether the AIK was generated for the Evidence's "
        "platform, which it was; the monitor asks, as the property's statement does, whether the TEE that "
        "produced the Evidence generated it. The formula is exact for the theory's cast and cannot name a "
        "second TEE of one platform without a TEE argument in its facts (the theory's to add); with one AE "
        "per endpoint the two readings coincide."),
    "claims-read": Difference(
        ("evidence_integrity",), "monitor",
        "the claims the requester read (BindingChecked) differ from those the AE signed: the theory's "
        "Evidence is one term, read and signed alike; the monitor compares the two records."),
    "verifier-nonce": Difference(
        ("verifier_nonce_fresh",), "both",
        "the formula states that no two Attestation Result receptions share a context; the monitor that a "
        "Verifier appraises only against nonces it issued, once each, and that were fresh when issued (no "
        "request had used the value as its context). A reused context flags the formula only; an unissued or "
        "late nonce, or one a request used before it was issued, the monitor only."),
    "mixed-freshness": Difference(
        ("evidence_freshness",), "monitor",
        "one Evidence accepted once directly (background check) and once inside an Attestation Result "
        "(passport): the formula's branches pair evidence with evidence and result with result only."),
    "peer-completion": Difference(
        ("attest_before_data",), "formula",
        "the formula asks that the other party recorded a completed attestation on the connection "
        "before data is sent; the monitor that each required direction's requester did, the sender being "
        "the requester of its peer's direction. They differ when the peer's events are under another "
        "connection id (also rule connection-peers)."),
    "per-direction-completion": Difference(
        ("attest_before_data",), "monitor",
        "the formula asks for one completed attestation recorded by another party before data; the monitor "
        "for every direction the connection requires, each accepted by its requester (draft §7.3). They "
        "differ in mutual attestation when one direction was never accepted (its requester rejected, or "
        "the attester was never asked) while the other completed."),
    "trace-order": Difference(
        ("aik_ownership", "aik_in_tee", "channel_binding", "request_binding", "no_diversion"), "both",
        "a step recorded before a step it causally needs (an acceptance before the authenticator was sent, "
        "Evidence named before it was produced): the theory's traces are causal by construction, so the "
        "formulas leave such orders implicit and read a term from its event wherever it stands; the "
        "monitors read the trace's order and count only what happened before."),
    "evidence-for-another-endpoint": Difference(
        ("channel_binding", "request_binding"), "formula",
        "Evidence produced naming as its TE an endpoint that never asked for it (both flag no_diversion): "
        "the formulas read it as that endpoint's Evidence and find no request of that endpoint on the "
        "connection; the monitors find no such request either and fall back to the binding value the "
        "requester compared, which is its own request's."),
    "kind-confusion": Difference(
        ("evidence_integrity", "aik_in_tee", "channel_binding", "request_binding"), "monitor",
        "the requester reads Evidence as an Attestation Result: the theory's terms carry their kind, so an "
        "Evidence term matches no result branch's premise and no formula applies; the monitors read the "
        "recorded kind and find no Verifier behind the result."),
    "adversary-connection": Difference(
        ("attest_before_data",), "monitor",
        "data on a connection whose peer is an adversary: its secret is known, which the formula "
        "excuses (unless SecretRevealed(k)); the monitor holds the honest endpoint to its own rule."),
}
