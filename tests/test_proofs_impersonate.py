"""A revealed honest AIK on a leaked honest connection (issue 13; ``--impersonate``, bound letter i): mallory,
holding an honest connection's secrets and an honest AIK, answers a request it intercepted there under that
AIK (the peer's: impersonation; the requester's own: reflection). docs/proofs.md has the expectations,
written before the run: no verdict changes; the aik_ownership excuse (KeyRevealed of the AIK's holder) is
what the move exercises."""

from __future__ import annotations

import json

import pytest

import expat  # noqa: F401  (OpenSSL config first)
from expat.cli import main
from expat.model.checker import check_trace
from expat.model.expectations import VARIANTS
from expat.model.judge import judge
from expat.model.trace import Event, Trace
from expat.proofs import world as W
from expat.proofs.analysis import CI_BOUND, analyse_variant, to_trace, variant_flags, variant_profile
from expat.proofs.search import Bound, Explorer
from model_support import assert_counterexamples_flagged

DEFAULT = VARIANTS["default"]
SMALL = Bound(1, 2, 1, 1, impersonate=True)  # client-server, its secrets leaked, one AIK, two requests


def impersonations(ex: Explorer, st) -> list[tuple[str, str]]:
    """(requester, AIK) of every answer mallory sent in ``st`` under an honest AIK on an honest connection."""
    honest = {W.key_bytes(k).hex(): k for k in ex.revealable}
    out = []
    for agent, name, args in st.events:
        if agent == W.MALLORY and name == "AuthenticatorSent" and W.MALLORY not in st.conns[args["conn"]]:
            key = honest.get(args["aik"] if isinstance(args["aik"], str) else args["aik"].hex())
            if key is not None:
                out.append((st.conns[args["conn"]], key))
    return out


def accepted_impersonations(variant: str, bound: Bound = SMALL):
    """Every run whose last step is an impersonation the requester completed on: (run, trace, requester,
    the AIK, its holder, the AE that produced the accepted Evidence)."""
    v = VARIANTS[variant]
    ex = Explorer(variant_flags(v), bound)
    owner = {key: o for _, (key, o) in ex.aes.items()}
    for st in ex.runs():
        if not impersonations(ex, st) or st.events[-1][1] != "AttestationCompleted":
            continue
        rp, _, args = st.events[-1]
        if rp == W.MALLORY:
            continue
        key = impersonations(ex, st)[-1][1]
        trace = to_trace(st, ex, v, variant_profile(v))
        cmw = args["cmw"]
        ev = cmw if cmw in st.evidence else st.results[cmw].evidence
        yield st, trace, rp, key, owner[key], st.evidence[ev].ae


def without(trace: Trace, name: str) -> Trace:
    evs = [e for e in trace.events if e.name != name]
    return Trace(trace.header, [Event(i, e.agent, e.name, e.args) for i, e in enumerate(evs)])


def test_the_bound_states_the_move_and_the_ci_bound_has_it_not():
    assert not CI_BOUND.impersonate and "impersonate" not in CI_BOUND.to_json()
    assert "revealed honest AIKs" not in CI_BOUND.statement()
    assert SMALL.tag() == "1c2r1k1si" and SMALL.to_json()["impersonate"] is True
    assert "revealed honest AIKs on leaked connections" in SMALL.statement()
    assert Bound(1, 1, 1, 1, own_aik=True, impersonate=True).tag() == "1c1r1k1soi"


def test_the_move_is_reached_only_with_the_option():
    plain = Explorer(variant_flags(DEFAULT), Bound(1, 2, 1, 1))
    assert not any(impersonations(plain, st) for st in plain.runs())
    ex = Explorer(variant_flags(DEFAULT), SMALL)
    made = {(pair, key) for st in ex.runs() for pair, key in impersonations(ex, st)}
    # both honest AIKs, on the client-server connection (both requesters: the peer's key and their own)
    assert made == {((W.CLIENT, W.SERVER), "kA"), ((W.CLIENT, W.SERVER), "kB")}


def test_under_the_default_profile_only_the_peer_s_own_evidence_for_the_request_passes():
    """Reasoned (docs/proofs.md): with the binding and AIK_pub_hash compared, an answer under an honest AIK
    is accepted only with Evidence the AIK's own TEE produced for this connection and context, so only
    under the peer's AIK (the requester never attested with its own request's context on this connection,
    check_context_unique) and only with the peer's Evidence; mallory's TEE, an oracle's, forged Evidence
    and the requester's own AIK are all refused. Every such run replays clean, and the monitors flag at
    most the pre-play (reattestation_fresh; the formulas also request_binding), never aik_ownership: the
    KeyRevealed of the AIK's holder excuses it."""
    found = list(accepted_impersonations("default"))
    assert found
    peer_ae = {W.CLIENT: "server-ae", W.SERVER: "client-ae"}
    for st, trace, rp, key, holder, producer in found:
        assert holder != rp and producer == peer_ae[rp], st.steps
        result = check_trace(trace, formulas=True)
        assert result.rules() == set(), st.steps
        assert check_trace(trace).properties() <= {"reattestation_fresh"}, st.steps
        assert {v.id for v in judge(trace)} <= {"reattestation_fresh", "request_binding"}, st.steps
    assert {rp for _, _, rp, *_ in found} == {W.CLIENT, W.SERVER}


def test_the_impersonation_is_excused_by_the_reveal_of_the_aik_s_holder_only():
    """The run where mallory intercepts the client's request, asks the server with the same context in the
    client's name, the server answers with an Attestation Result (passport), and mallory answers the
    client under the server's revealed AIK with the Evidence inside that result (made after the request:
    no pre-play). The client accepts an authenticator the server never sent (the server sent the result):
    aik_ownership's conclusion fails and KeyRevealed(server, kB) excuses it. Without that reveal the
    monitor and the formula report aik_ownership, and nothing else. (Had the server answered with
    Evidence, mallory's EA would carry what the server sent, and aik_ownership would hold as for a
    delivery.)"""
    def never_sent(st, trace) -> bool:
        last = next(e for e in reversed(trace.events) if e.name == "AuthenticatorSent" and e.agent == W.MALLORY)
        return not any(e.name == "AuthenticatorSent" and e.agent != W.MALLORY
                       and all(e.args[k] == last.args[k] for k in ("conn", "ctx", "aik", "kind", "cmw"))
                       for e in trace.events)
    st, trace = next((st, trace) for st, trace, rp, key, *_ in accepted_impersonations("default")
                     if rp == W.CLIENT and key == "kB" and never_sent(st, trace)
                     and not check_trace(trace).properties())
    names = [(e.agent, e.name) for e in trace.events]
    assert names.index((W.MALLORY, "KeyRevealed")) < names.index((W.MALLORY, "AuthenticatorSent"))
    assert any(e.name == "AuthenticatorSent" and e.agent == W.SERVER and e.args["kind"] == "result"
               for e in trace.events)
    result = check_trace(trace, formulas=True)
    assert result.rules() == set() and result.properties() == set()
    bare = without(trace, "KeyRevealed")
    assert check_trace(bare).rules() == set()
    assert check_trace(bare).properties() == {"aik_ownership"}
    assert {v.id for v in judge(bare)} == {"aik_ownership"}


def test_mallory_s_tee_behind_the_peer_s_aik_is_excused_only_by_its_recorded_compromise():
    """Without the AIK_pub_hash comparison, mallory's TEE's Evidence over the leaked connection's binding is
    accepted under the server's AIK: Evidence of P = mallory, accepted on a connection whose peer is the
    server. The run records HostCompromised(mallory) before it (the theory reaches that Evidence only by
    Compromised_TeeOracle), which excuses no_diversion; aik_in_tee is reported (the variant's expected
    violation). Without the record, the monitor and the formula report no_diversion too."""
    run = next(trace for st, trace, rp, key, holder, producer in accepted_impersonations("no-aik-hash-check")
               if rp == W.CLIENT and key == "kB" and producer == "m-ae")
    names = [(e.agent, e.name) for e in run.events]
    assert names.index((W.MALLORY, "HostCompromised")) < names.index((W.MALLORY, "EvidenceRequested"))
    assert check_trace(run).properties() == {"aik_in_tee"} == {v.id for v in judge(run)}
    bare = without(run, "HostCompromised")
    assert check_trace(bare).rules() == set()
    assert check_trace(bare).properties() == {"aik_in_tee", "no_diversion"} == {v.id for v in judge(bare)}


@pytest.mark.parametrize("variant", ["default", "no-aik-hash-check", "no-context-unique"])
def test_every_counterexample_with_the_move_is_flagged_by_expat_check(variant, tmp_path, capsys):
    """The round trip: every shortest counterexample of the search with the move on, written as a trace,
    is flagged by `expat check` with the same property (monitors), and by `expat check --formulas` (the
    formulas' ones); and the verdicts are those without the move (docs/proofs.md)."""
    v = VARIANTS[variant]
    rep = analyse_variant(v, SMALL, formulas=True)
    plain = analyse_variant(v, Bound(1, 2, 1, 1), formulas=True)
    assert rep.mismatches == 0 and rep.runs > plain.runs
    assert set(rep.counterexamples) == set(plain.counterexamples)
    assert set(rep.formula_counterexamples) == set(plain.formula_counterexamples)
    assert_counterexamples_flagged(rep, tmp_path, capsys, variant)


def test_cli_takes_the_option(capsys):
    assert main(["proofs", "run", "--variant", "default", "--connections", "1", "--requests", "1",
                 "--impersonate", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {c["z3_bound"] for c in doc["cells"]} == {"1c1r1k1si"} and doc["bound"]["impersonate"] is True
