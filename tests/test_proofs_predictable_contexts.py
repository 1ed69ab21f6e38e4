"""Honest requesters' predictable contexts (issue 13; ``--predictable-contexts``, bound letter p): an honest
requester may also take, as its own context, any context the run already holds that is not a Verifier nonce and
that the uniqueness rules allow, so mallory knows it before the request. docs/proofs.md has the expectations,
written before the run: no verdict changes; the only gain for mallory is the pre-play of Finding 1, which a
known context enables without any nonce."""

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

REUSE = Bound(2, 2, 0, 0, own_contexts=True, predictable_contexts=True)  # two connections: reuse across them
HONEST_OWN = Bound(2, 2, 0, 0, own_contexts=True)
PREPLAY = Bound(1, 2, 0, 1, predictable_contexts=True)


def predictable_requests(st) -> list[tuple[str, str, str]]:
    """(requester, connection, context) of every honest RequestSent whose context is no Verifier nonce and
    appeared in an event before it (a request or a received request, on any connection, by anyone)."""
    issued = {args["nonce"] for _, name, args in st.events if name == "NonceIssued"}
    seen: set[str] = set()
    out = []
    for agent, name, args in st.events:
        if name in ("RequestSent", "RequestReceived", "EvidenceRequested") and args.get("ctx"):
            if (name == "RequestSent" and agent != W.MALLORY and args["ctx"] in seen
                    and args["ctx"] not in issued):
                out.append((agent, args["conn"], args["ctx"]))
            seen.add(args["ctx"])
    return out


def test_the_bound_states_the_option_and_the_ci_bound_has_it_not():
    assert not CI_BOUND.predictable_contexts and "predictable_contexts" not in CI_BOUND.to_json()
    assert "predictable contexts" not in CI_BOUND.statement()
    assert REUSE.tag() == "2c2r0k0sxp" and REUSE.to_json()["predictable_contexts"] is True
    assert "honest requesters' predictable contexts (any the run holds)" in REUSE.statement()


def test_a_requester_reuses_a_known_context_only_with_the_option_and_never_a_nonce():
    """With own contexts alone no honest request repeats a context of the run; with the option the client
    and the server each reuse their own context on the other connection, and the context is never one a
    Verifier issued (that is nonce reuse, the other choice) nor one the uniqueness rule forbids there."""
    default = variant_flags(VARIANTS["default"])
    assert not any(predictable_requests(st) for st in Explorer(default, HONEST_OWN).runs())
    every = list(Explorer(default, REUSE).runs())
    for st in every:
        issued = {args["nonce"]: args["to"] for _, name, args in st.events if name == "NonceIssued"}
        assert all(issued.get(args["ctx"], agent) == agent for agent, name, args in st.events
                   if name == "RequestSent" and agent != W.MALLORY), st.steps  # a nonce: its requester's only
    runs = [st for st in every if predictable_requests(st)]
    reused = {(rp, conn) for st in runs for rp, conn, _ in predictable_requests(st)}
    assert {W.CLIENT, W.SERVER} <= {rp for rp, _ in reused} and {"c2"} <= {conn for _, conn in reused}
    for st in runs:
        for rp, conn, ctx in predictable_requests(st):
            earlier = [a for a, name, args in st.events if name == "RequestSent" and args["ctx"] == ctx
                       and args["conn"] == conn and a == rp]
            assert len(earlier) == 1, st.steps  # once per connection (RFC 9261 §4)


@pytest.mark.parametrize("variant", ["default", "delegated", "passport-literal"])
def test_every_honest_run_with_a_reused_context_passes_expat_check(variant):
    """The honest roles follow the tables: every run with no adversary event in which a requester reuses a
    context replays on the checker with no rule violation and no property violation."""
    v = VARIANTS[variant]
    ex = Explorer(variant_flags(v), REUSE)
    honest = [st for st in ex.runs() if predictable_requests(st) and all(a != W.MALLORY for a, _, _ in st.events)]
    assert len(honest) > 10
    for st in honest:
        result = check_trace(to_trace(st, ex, v, variant_profile(v)))
        assert result.rules() == set() and result.properties() == set(), st.steps


def test_a_known_context_is_pre_played_without_any_nonce():
    """Reasoned before the run: knowing the context early is worth something only with the connection's
    secret. Mallory injects a request with its own context x into the leaked client-server connection; the
    client then picks x, mallory intercepts and delivers the server's earlier authenticator: Finding 1's
    pre-play with no Verifier nonce at all, which the checker flags with reattestation_fresh."""
    v = VARIANTS["default"]
    ex = Explorer(variant_flags(v), PREPLAY)
    found = [st for st in ex.runs()
             if any("intercepts client's request on c1 with context x" in s for s in st.steps)
             and any(s.startswith("mallory delivers server's authenticator") for s in st.steps)]
    assert found
    for st in found:
        assert not any(name == "NonceIssued" for _, name, _ in st.events)
        assert "reattestation_fresh" in check_trace(to_trace(st, ex, v, variant_profile(v))).properties(), st.steps
    plain = Explorer(variant_flags(v), Bound(1, 2, 0, 1))
    assert not any(any("with context x" in s and "intercepts" in s for s in st.steps) for st in plain.runs())


@pytest.mark.parametrize("variant", ["default", "no-context-unique", "verifier-nonce-unchecked"])
def test_the_verdicts_are_those_without_the_option(variant):
    """Reasoned (docs/proofs.md): the option only adds runs, and none violates a property that held, by the
    monitors or by the formulas."""
    v = VARIANTS[variant]
    bound = Bound(1, 2, 1, 1, own_contexts=True)
    more = analyse_variant(v, Bound(1, 2, 1, 1, own_contexts=True, predictable_contexts=True), formulas=True)
    plain = analyse_variant(v, bound, formulas=True)
    assert more.mismatches == plain.mismatches == 0 and more.runs > plain.runs
    assert set(more.counterexamples) == set(plain.counterexamples)
    assert set(more.formula_counterexamples) == set(plain.formula_counterexamples)


def test_cli_takes_the_option(capsys):
    assert main(["proofs", "run", "--variant", "default", "--connections", "1", "--requests", "1",
                 "--own-contexts", "--predictable-contexts", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {c["z3_bound"] for c in doc["cells"]} == {"1c1r1k1sxp"} and doc["bound"]["predictable_contexts"] is True
