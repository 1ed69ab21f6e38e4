"""Attestation-key reveal in the bounded search (issue 13): with a platform's attestation key mallory
signs Evidence naming that platform over any binding and AIK_pub_hash (the theory's
AttestationKeyRevealed rule outputs the key). Every property about accepted Evidence excuses a
reveal of the Evidence's platform's attestation key (model/formulas.py), so the move changes no
verdict; the excuse is that platform's alone. docs/proofs.md has the reasoning, written before the
run."""

from __future__ import annotations

from typing import Optional

import pytest

import expat  # noqa: F401  (OpenSSL config first)
from expat.model.checker import check_trace
from expat.model.expectations import VARIANTS
from expat.model.judge import judge
from expat.model.trace import Event, Trace
from expat.proofs import world as W
from expat.proofs.analysis import CI_BOUND, analyse_variant, to_trace, variant_flags, variant_profile
from expat.proofs.search import Bound, Explorer
from model_support import expat_check_violations

DEFAULT = VARIANTS["default"]
SMALL = Bound(1, 1, 0, 0, attestation_keys=1)  # one request answered by mallory, no other reveal
# the formulas' reading of Evidence no Attesting Environment produced (the term view: unknown P)
UNSIGNED_MONITORS = {"evidence_integrity", "aik_in_tee"}
UNSIGNED_FORMULAS = UNSIGNED_MONITORS | {"channel_binding", "request_binding", "no_diversion"}


def renamed(trace: Trace, platform: Optional[str]) -> Trace:
    """``trace`` with its AttestationKeyRevealed naming ``platform`` instead (None: without it)."""
    evs = [e if e.name != "AttestationKeyRevealed" else Event(e.seq, e.agent, e.name, {"platform": platform})
           for e in trace.events if not (e.name == "AttestationKeyRevealed" and platform is None)]
    return Trace(trace.header, [Event(i, e.agent, e.name, e.args) for i, e in enumerate(evs)])


def signed_answer(variant: str, rp: str, label: str) -> Trace:
    """``rp`` asks mallory on their connection and mallory answers with the answer labelled ``label``."""
    v = VARIANTS[variant]
    ex = Explorer(variant_flags(v), SMALL)
    pair = (W.CLIENT, W.MALLORY) if rp == W.CLIENT else (W.MALLORY, W.SERVER)
    start = next(s for s in ex.starts() if list(s.conns.values()) == [pair])
    asked = next(s for s in ex.steps(start) if s.pending and s.pending[0][1] == rp)
    conn, _, ctx = asked.pending[0]
    child = next(c for c in ex.adversary_answer(asked, conn, rp, ctx, False) if c.steps[-1].endswith(label))
    return to_trace(child, ex, v, variant_profile(v))


def test_the_bound_states_the_attestation_keys_and_the_ci_bound_has_none():
    assert CI_BOUND.attestation_keys == 0 and "attestation" not in CI_BOUND.statement()
    assert "attestation_keys" not in CI_BOUND.to_json()
    assert SMALL.tag() == "1c1r0k0s1a"
    assert "<= 1 attestation-key reveal(s)" in SMALL.statement() and SMALL.to_json()["attestation_keys"] == 1


@pytest.mark.parametrize("rp,label", [
    (W.SERVER, "sign with ak-client kX own-binding background"),
    (W.CLIENT, "sign with ak-server kM own-binding passport"),
])
def test_evidence_signed_with_a_revealed_attestation_key_is_excused_for_that_platform_only(rp, label, tmp_path, capsys):
    """Reasoned: mallory presents its own key with Evidence it signed with the other honest platform's
    attestation key, AIK_pub_hash over its own key, bound to its own connection. Every comparison
    passes and the Verifier affirms (the signature is that platform's). Excused for P = that platform
    by every property; with the reveal of the other platform's key, or none, it is Evidence nobody could
    sign: the Verifier's evidence_genuine guard fails (it appraised it, for the requester or, passport,
    for mallory), and evidence_integrity and aik_in_tee are reported, by the formulas also the three
    agreements on P (unknown)."""
    trace = signed_answer("default", rp, label)
    names = [(e.agent, e.name) for e in trace.events]
    assert names.index((W.MALLORY, "AttestationKeyRevealed")) < names.index((W.MALLORY, "EvidenceProduced"))
    signer = next(e for e in trace.events if e.name == "EvidenceProduced" and e.agent == W.MALLORY)
    platform = signer.args["te"]
    assert platform != rp and platform in (W.CLIENT, W.SERVER)
    assert (rp, "AttestationCompleted") in names and ("mallory", "KeyRevealed") not in names
    result = check_trace(trace, formulas=True)
    assert result.rules() == set() and result.properties() == set()
    for other in (rp, None):  # the requester's own platform, or no reveal at all
        moved = renamed(trace, other)
        result = check_trace(moved, formulas=True)
        assert result.rules() == {"guard:evidence_genuine"}, other  # the Verifier affirmed it
        assert {v.id for v in judge(moved)} == UNSIGNED_FORMULAS, other
        assert check_trace(moved).properties() == UNSIGNED_MONITORS, other
    found = expat_check_violations(renamed(trace, None), tmp_path / "unsigned.jsonl", capsys)
    assert {v.get("property") for v in found} - {None} == UNSIGNED_MONITORS


def test_every_run_with_a_signed_evidence_replays_clean_and_is_accepted_over_the_request_s_binding():
    """Round trip: every run of the small bound in which mallory signed with an attestation key is a
    trace the checker accepts without a rule violation and that no monitor or formula flags (each
    acceptance of that Evidence is excused; no other acceptance exists at one request). Reasoned: under
    the default profile the requester accepts signed Evidence exactly when it is over the request's own
    binding (the other representatives fail the binding comparison), with either platform's key, under
    either of mallory's keys (AIK_pub_hash is the presented key's), background or passport."""
    ex = Explorer(variant_flags(DEFAULT), SMALL)
    accepted = []
    for st in ex.runs():
        if not any(e == "AttestationKeyRevealed" for _, e, _ in st.events):
            continue
        trace = to_trace(st, ex, DEFAULT, variant_profile(DEFAULT))
        result = check_trace(trace, formulas=True)
        assert result.rules() == set() and result.properties() == set(), st.steps
        done = [e.agent for e in trace.events if e.name == "AttestationCompleted" and e.agent != W.MALLORY]
        if done:
            accepted.append((done[0], st.steps[-1].rsplit(": ", 1)[1]))
    assert sorted(accepted) == [(rp, f"sign with ak-{p} {key} own-binding {model}") for rp in (W.CLIENT, W.SERVER)
                                for p in (W.CLIENT, W.SERVER) for key in ("kM", "kX")
                                for model in ("background", "passport")]


@pytest.mark.parametrize("variant", ["default", "no-aik-hash-check", "evidence-signature-unchecked"])
def test_an_attestation_key_changes_no_verdict(variant):
    """Reasoned before the run (docs/proofs.md): the same counterexample properties, by the monitors and
    by the formulas, with and without an attestation-key reveal; the reveal only adds runs."""
    base = Bound(1, 2, 0, 0)
    plain = analyse_variant(VARIANTS[variant], base, formulas=True)
    keyed = analyse_variant(VARIANTS[variant], Bound(1, 2, 0, 0, attestation_keys=1), formulas=True)
    assert plain.mismatches == keyed.mismatches == 0
    assert keyed.runs > plain.runs
    assert set(keyed.counterexamples) == set(plain.counterexamples)
    assert set(keyed.formula_counterexamples) == set(plain.formula_counterexamples)
