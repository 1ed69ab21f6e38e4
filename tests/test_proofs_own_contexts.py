"""Honest requesters' own contexts (issue 13; ``--own-contexts``, bound letter x): an honest requester may also
take a fresh certificate_request_context of its own, no Verifier nonce, in both RATS models; in background
check its Verifier then appraises against no nonce. docs/proofs.md has the expectations, written before the
run: no verdict changes, more runs."""

from __future__ import annotations

import json

import pytest

import expat  # noqa: F401  (OpenSSL config first)
from expat.cli import main
from expat.model.checker import check_trace
from expat.model.expectations import VARIANTS
from expat.proofs import world as W
from expat.proofs.analysis import CI_BOUND, analyse_variant, to_trace, variant_flags, variant_profile
from expat.proofs.search import Bound, Explorer
from model_support import assert_counterexamples_flagged

OWN, PLAIN = Bound(1, 2, 1, 1, own_contexts=True), Bound(1, 2, 1, 1)
HONEST = Bound(1, 2, 0, 0, own_contexts=True)  # client-server only reaches the honest runs; two requests


def own_requests(st) -> list[tuple[str, str]]:
    """(requester, context) of every honest RequestSent whose context no Verifier issued as a nonce."""
    issued = {args["nonce"] for _, name, args in st.events if name == "NonceIssued"}
    return [(agent, args["ctx"]) for agent, name, args in st.events
            if name == "RequestSent" and agent != W.MALLORY and args["ctx"] not in issued]


def accepted_kinds(st, requests: list[tuple[str, str]]) -> set[str]:
    """The kinds ("evidence": background check, "result": passport) an honest requester completed on with
    one of ``requests``."""
    mine = set(requests)
    return {args["kind"] for agent, name, args in st.events
            if name == "AuthenticatorAccepted" and (agent, args["ctx"]) in mine
            and any(n == "AttestationCompleted" and a == agent and x["ctx"] == args["ctx"]
                    for a, n, x in st.events)}


def test_the_bound_states_the_option_and_the_ci_bound_has_it_not():
    assert not CI_BOUND.own_contexts and "own_contexts" not in CI_BOUND.to_json()
    assert "own fresh contexts" not in CI_BOUND.statement()
    assert OWN.tag() == "1c2r1k1sx" and OWN.to_json()["own_contexts"] is True
    assert "honest requesters' own fresh contexts (not Verifier nonces)" in OWN.statement()
    assert Bound(1, 1, 1, 1, all_bindings=True, own_contexts=True, one_way=True).tag() == "1c1r1k1sbxw"


def test_requests_with_a_context_no_verifier_issued_only_with_the_option():
    """Without the option every honest request carries a Verifier nonce; with it some carry the requester's
    own context, from both endpoints, to its honest peer, to mallory and intercepted on a leaked connection,
    and are completed on in both models; a background-check appraisal then names no nonce."""
    plain = Explorer(variant_flags(VARIANTS["default"]), PLAIN)
    assert not any(own_requests(st) for st in plain.runs())
    ex = Explorer(variant_flags(VARIANTS["default"]), OWN)
    runs = [st for st in ex.runs() if own_requests(st)]
    assert {rp for st in runs for rp, _ in own_requests(st)} == {W.CLIENT, W.SERVER}
    steps = " ".join(s for st in runs for s in st.steps)
    assert "attests to client on c1 (background, context o" in steps and "asks mallory on c1 with context o" in steps
    assert "mallory intercepts client's request on c1 with context o" in steps
    assert {k for st in runs for k in accepted_kinds(st, own_requests(st))} == {"evidence", "result"}
    appraised = 0
    for st in runs:
        own = {ctx for _, ctx in own_requests(st)}
        for agent, name, args in st.events:
            if name == "EvidenceAppraised" and args["to"] != W.MALLORY and any(
                    n == "EvidenceForwarded" and x["cmw"] == args["cmw"] and x["ctx"] in own for _, n, x in st.events):
                assert not args["nonce"], st.steps
                appraised += 1
    assert appraised


@pytest.mark.parametrize("variant", ["default", "delegated", "verifier-nonce-unchecked", "passport-literal"])
def test_every_honest_run_with_an_own_context_passes_expat_check(variant):
    """The honest roles follow the tables: every run in which the adversary does nothing (no event of
    mallory, no connection to it) and some request carries an own context replays on the checker without a
    rule violation, and no monitor fails."""
    v = VARIANTS[variant]
    ex = Explorer(variant_flags(v), HONEST)
    honest = [st for st in ex.runs() if own_requests(st) and all(a != W.MALLORY for a, _, _ in st.events)]
    assert len(honest) > 10 and {k for st in honest for k in accepted_kinds(st, own_requests(st))} \
        == {"evidence", "result"}
    for st in honest:
        result = check_trace(to_trace(st, ex, v, variant_profile(v)))
        assert result.rules() == set() and result.properties() == set(), st.steps


@pytest.mark.parametrize("variant", ["default", "no-context-unique", "delegated", "verifier-nonce-unchecked"])
def test_the_verdicts_are_those_without_the_option(variant):
    """Reasoned (docs/proofs.md): an own context behaves as a fresh nonce that mallory cannot learn before the
    request and that the Verifier does not check; the option only adds runs, and none violates a property
    that held. Judged by the monitors and by the formulas."""
    v = VARIANTS[variant]
    own, plain = analyse_variant(v, OWN, formulas=True), analyse_variant(v, PLAIN, formulas=True)
    assert own.mismatches == plain.mismatches == 0 and own.runs > plain.runs
    assert set(own.counterexamples) == set(plain.counterexamples)
    assert set(own.formula_counterexamples) == set(plain.formula_counterexamples)


@pytest.mark.parametrize("variant", ["no-binding-check", "evidence-signature-unchecked", "no-context-unique"])
def test_every_counterexample_with_the_option_is_flagged_by_expat_check(variant, tmp_path, capsys):
    """The round trip: every shortest counterexample with the option, written as a trace, is flagged by
    `expat check` with its property (monitors) and by `expat check --formulas` (formulas). Without a nonce
    event these runs are the shortest, so the ones that carry an own context are checked here."""
    rep = analyse_variant(VARIANTS[variant], OWN, formulas=True)
    assert rep.mismatches == 0 and rep.counterexamples
    assert any("context o" in t.header["description"] for t in rep.counterexamples.values())
    assert_counterexamples_flagged(rep, tmp_path, capsys, variant)


def test_cli_takes_the_option(capsys):
    assert main(["proofs", "run", "--variant", "default", "--connections", "1", "--requests", "1",
                 "--own-contexts", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {c["z3_bound"] for c in doc["cells"]} == {"1c1r1k1sx"} and doc["bound"]["own_contexts"] is True
