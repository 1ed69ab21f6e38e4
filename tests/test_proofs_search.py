"""The bounded run generator against the real checker: generated runs follow the tables, the
incremental evaluation agrees with check_trace, and the answers it prunes are really refused."""

from __future__ import annotations

import itertools

import pytest

import expat  # noqa: F401  (OpenSSL config first)
from expat.model.checker import check_trace
from expat.model.expectations import VARIANTS
from expat.model.trace import parse_lines
from expat.proofs import world as W
from expat.proofs.analysis import analyse_variant, to_trace, variant_flags, variant_profile
from expat.proofs.search import Bound, Explorer


def explorer(variant: str, bound: Bound) -> Explorer:
    return Explorer(variant_flags(VARIANTS[variant]), bound)


def test_one_connection_one_request_default_has_runs_and_no_violation():
    rep = analyse_variant(VARIANTS["default"], Bound(1, 1, 0))
    assert rep.runs > 10
    assert rep.mismatches == 0
    assert rep.counterexamples == {}


@pytest.mark.parametrize("variant,bound", [("passport-literal", Bound(1, 2, 0)), ("resumption", Bound(2, 1, 0)),
                                           ("no-context-unique", Bound(1, 2, 1)), ("no-binding-check", Bound(1, 2, 1)),
                                           ("resumption", Bound(2, 1, 0, 0, one_way=True)),
                                           ("spontaneous-attestation", Bound(1, 2, 0, 1, one_way=True)),
                                           ("default", Bound(1, 2, 0, 1, honest=3)),
                                           ("no-aik-hash-check", Bound(1, 1, 1, 0, attestation_keys=1)),
                                           ("no-aik-hash-check", Bound(1, 1, 0, 1, own_aik=True)),
                                           ("no-aik-hash-check", Bound(1, 1, 0, 0, aes=2))])
def test_incremental_evaluation_agrees_with_check_trace(variant, bound):
    """Every run of a small bound, checked from scratch by check_trace: no rule violation, and the
    properties violated by some run are exactly the ones the (incremental) analysis reports."""
    v = VARIANTS[variant]
    ex = explorer(variant, bound)
    found = set()
    n = 0
    for st in ex.runs():
        n += 1
        result = check_trace(to_trace(st, ex, v, variant_profile(v)))
        assert result.rules() == set(), st.steps
        found |= result.properties()
    rep = analyse_variant(v, bound)
    assert rep.runs == n > 50
    assert set(rep.counterexamples) == found != set()


def test_runs_are_valid_traces_with_secrets_and_the_adversary_named():
    v = VARIANTS["default"]
    ex = explorer("default", Bound(1, 1, 0))
    st = next(itertools.islice(ex.runs(), 3, None))
    trace = to_trace(st, ex, v, variant_profile(v))
    again = parse_lines(trace.lines(), "run")  # the trace schema (traces/schema.json)
    assert again.header["with_secrets"] is True and again.header["adversaries"] == ["mallory"]
    assert any("exporter_master_secret" in e.args for e in again.events)


@pytest.mark.parametrize("variant", ["default", "no-key-in-binding", "no-binding-check", "passport-literal"])
def test_answers_the_search_prunes_are_refused_by_the_tables(variant):
    """Force every answer of mallory that z3 says the requester refuses: the checker must find a rule
    violation (so pruning them loses no run of the tables)."""
    v = VARIANTS[variant]
    ex = explorer(variant, Bound(1, 1, 1))
    start = next(s for s in ex.starts() if s.conns == {"c1": (W.CLIENT, W.MALLORY)})
    asked = next(s for s in ex.steps(start) if s.pending)
    conn, rp, ctx = asked.pending[0]
    refused = 0
    for label, apply in ex.answers(asked, conn, ctx):
        child = asked.clone()
        key, kind, cmw = apply(child)
        if ex.decide(child, conn, ctx, key, kind, cmw) is not None:
            continue
        refused += 1
        child.e(W.MALLORY, "AuthenticatorSent", conn=conn, ctx=W.ctx_bytes(ctx), aik=W.key_bytes(key), kind=kind,
                cmw=cmw, spontaneous=False)
        ex.accept(child, conn, rp, ctx, key, kind, cmw, False, W.LABEL)
        rules = check_trace(to_trace(child, ex, v, variant_profile(v), data=False)).rules()
        assert rules, f"{label}: refused by z3 but the tables accept it"
    assert refused > 0


def test_a_leaked_connection_secret_lets_mallory_pre_play_a_request():
    """Reasoned before the run (issue 13): with an honest connection's secrets, mallory injects the
    client's coming nonce as a request to the server and answers the client's request with the
    server's earlier authenticator; every comparison passes, only reattestation_fresh falls. Without
    the leak (secrets 0) the same bound finds nothing."""
    v = VARIANTS["default"]
    rep = analyse_variant(v, Bound(1, 2, 0, 1))
    assert rep.mismatches == 0
    assert set(rep.counterexamples) == {"reattestation_fresh"}
    trace = rep.counterexamples["reattestation_fresh"]
    result = check_trace(trace)
    assert result.rules() == set() and result.properties() == {"reattestation_fresh"}
    names = [(e.agent, e.name) for e in trace.events]
    assert ("mallory", "SecretRevealed") in names
    produced = names.index(("server-ae", "EvidenceProduced"))
    assert produced < names.index(("client", "RequestSent"))
    assert ("client", "AttestationCompleted") in names
    assert analyse_variant(v, Bound(1, 2, 0, 0)).counterexamples == {}


def test_repeated_contexts_do_not_give_two_acceptances_of_one_evidence():
    """Reasoned before the run: a requester's instance is keyed by (connection, context), so one
    requester never asks twice with one context; the only other acceptor of Evidence bound to
    (connection, context, kB) is the server itself, which would need an authenticator valid in the
    other direction (RFC 9261 §5.1 handshake context), i.e. its own AIK (docs/proofs.md: a path the
    search does not try). Within the search, evidence_freshness holds under no-context-unique even
    with a leaked connection and a revealed AIK."""
    rep = analyse_variant(VARIANTS["no-context-unique"], Bound(1, 2, 1, 1))
    assert rep.mismatches == 0 and rep.runs > 100
    assert "evidence_freshness" not in rep.counterexamples
    assert "reattestation_fresh" in rep.counterexamples  # the pre-play is there (the search does reach)


def test_an_unknown_flag_variant_is_not_searched_as_if_it_were_known():
    from expat.model.expectations import Variant
    from expat.proofs.analysis import NOT_MODELLED

    v = Variant("x", ("some_future_flag",), ())
    rep = analyse_variant(v, Bound(1, 1, 0, 0))
    assert rep.unmodelled and rep.runs == 0
    assert rep.verdict("channel_binding") == NOT_MODELLED
    assert analyse_variant(VARIANTS["delegated"], Bound(1, 1, 0, 0)).unmodelled is None


def test_the_delegated_comparison_is_searched_and_holds_while_the_verifier_compares():
    """Reasoned from draft -04 §5.1 before the run: delegating moves the binding comparison to the
    Verifier, against the binding the requester computed; the requester still compares AIK_pub_hash
    (§5.2) and accepts only a result confirming its own binding. Without connection secrets nothing
    falls, at two connections (a replay onto another connection included). Every background-check
    acceptance went through EvidenceForwarded + BindingConfirmed, never a local BindingChecked."""
    v = VARIANTS["delegated"]
    ex = explorer("delegated", Bound(2, 2, 1, 0))
    confirmed = 0
    for st in itertools.islice(ex.runs(), 0, None, 97):
        names = [e for _, e, _ in st.events]
        forwarded = [a for _, e, a in st.events if e == "EvidenceForwarded"]
        if forwarded:
            assert "BindingConfirmed" in names or "AuthenticatorRejected" in names, st.steps
        confirmed += names.count("BindingConfirmed")
        checked = [(ag, a) for ag, e, a in st.events if e == "BindingChecked"]
        # a local comparison only for a passport result (nothing to delegate there, docs/profiles.md)
        for ag, a in checked:
            assert any(e == "AuthenticatorAccepted" and x["kind"] == "result" and x["ctx"] == a["ctx"]
                       for _, e, x in st.events), st.steps
        assert check_trace(to_trace(st, ex, v, variant_profile(v))).rules() == set(), st.steps
    assert confirmed > 0
    rep = analyse_variant(v, Bound(2, 2, 1, 0))
    assert rep.mismatches == 0 and rep.runs > 1000
    assert rep.counterexamples == {}


def test_a_verifier_that_does_not_compare_lets_a_replayed_evidence_through():
    """Reasoned before the run: with verifier_compares_binding off nobody compares the binding (the
    requester delegated it), so as in no-binding-check genuine Evidence whose AIK_pub_hash matches is
    accepted on another request or connection, and with a revealed AIK diverted or reflected; the
    requester's AIK_pub_hash comparison keeps aik_in_tee. The channel_binding counterexample is a trace
    `expat check` flags with channel_binding, and the Verifier confirmed a binding other than the
    Evidence's there."""
    v = VARIANTS["delegated-no-verifier-compare"]
    rep = analyse_variant(v, Bound(2, 2, 1, 0))
    assert rep.mismatches == 0
    assert set(rep.counterexamples) <= set(v.violated)
    assert {"channel_binding", "request_binding", "evidence_freshness", "no_diversion", "no_reflection"} \
        <= set(rep.counterexamples)
    trace = rep.counterexamples["channel_binding"]
    assert "channel_binding" in check_trace(trace).properties() and check_trace(trace).rules() == set()
    produced = {e.args["cmw"]: e.args["binding"] for e in trace.events if e.name == "EvidenceProduced"}
    assert any(e.name == "BindingConfirmed" and e.args["binding"] != produced.get(e.args["cmw"])
               for e in trace.events)
    assert trace.header["profile"]["binding_check"] == "delegated"
    assert trace.header["profile"]["mitigations"]["verifier_compares_binding"] is False


def test_the_pre_play_run_is_tamarins_request_binding_attack_too():
    """Tamarin falsifies request_binding on the default profile (tamarin/results/expat__default.json):
    its formula (model/formulas.py) asks that the requester's RequestSent precede the attester's
    EvidenceRequested for that connection and context. The search reaches such a run at 1 connection,
    2 requests, 1 secret: in the committed pre-play counterexample the server is asked (by mallory, in
    the client's name) before the client sends its request with that context. The runtime monitor
    request_binding has no order, so only reattestation_fresh flags it (docs/proofs.md)."""
    from pathlib import Path

    from expat.model.trace import load_trace

    path = Path(__file__).resolve().parents[1] / "proofs" / "counterexamples" / "default--reattestation_fresh.jsonl"
    trace = load_trace(path)
    asked = [(i, e) for i, e in enumerate(trace.events) if e.name == "EvidenceRequested" and e.agent == "server"]
    sent = [(i, e) for i, e in enumerate(trace.events) if e.name == "RequestSent" and e.agent == "client"]
    assert any(j < q and ej.args["conn"] == eq.args["conn"] and ej.args["ctx"] == eq.args["ctx"]
               for j, ej in asked for q, eq in sent)
    done = [e for e in trace.events if e.name == "AttestationCompleted" and e.agent == "client"]
    assert done and check_trace(trace).properties() == {"reattestation_fresh"}
