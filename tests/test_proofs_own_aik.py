"""Mallory presenting its own AIK on a leaked honest connection (issue 13, item 3; ``--own-aik``): decided
as the theory has it. Tamarin's adversary has no TEE of its own, so it reaches that run only through
HostCompromised(mallory), which excuses every property about Evidence of P = mallory; the search records
that compromise right before such an answer. docs/proofs.md has the decision and the reasoning, written
before the run: no verdict changes, the move excused for mallory's platform only."""

from __future__ import annotations

import json

import pytest

import expat  # noqa: F401  (OpenSSL config first)
from expat.model.checker import check_trace
from expat.model.expectations import VARIANTS
from expat.model.judge import judge
from expat.model.trace import Event, Trace
from expat.proofs import world as W
from expat.proofs.analysis import CI_BOUND, analyse_variant, to_trace, variant_flags, variant_profile
from expat.proofs.search import Bound, Explorer

DEFAULT = VARIANTS["default"]
SMALL = Bound(1, 1, 0, 1, own_aik=True)  # client-server, its secrets leaked, one intercepted request


def compromised(trace: Trace, platform) -> Trace:
    """``trace`` with its HostCompromised naming ``platform`` instead (None: without it)."""
    evs = [e if e.name != "HostCompromised" else Event(e.seq, e.agent, e.name, {"platform": platform})
           for e in trace.events if not (e.name == "HostCompromised" and platform is None)]
    return Trace(trace.header, [Event(i, e.agent, e.name, e.args) for i, e in enumerate(evs)])


def own_runs(ex: Explorer) -> list:
    return [st for st in ex.runs() if any(e[1] == "HostCompromised" for e in st.events)]


def test_the_bound_states_the_move_and_the_ci_bound_has_it_not():
    assert not CI_BOUND.own_aik and "own AIK" not in CI_BOUND.statement() and "own_aik" not in CI_BOUND.to_json()
    assert SMALL.tag() == "1c1r0k1so" and "mallory's own AIK on leaked connections" in SMALL.statement()
    assert SMALL.to_json()["own_aik"] is True
    assert own_runs(Explorer(variant_flags(DEFAULT), Bound(1, 1, 0, 1))) == []


def test_mallory_s_own_platform_on_a_leaked_connection_is_excused_as_its_compromised_host():
    """Reasoned: mallory intercepts the client's request on the leaked client-server connection and
    answers with kM and Evidence its own TEE makes over that connection's binding. Every comparison
    passes, the client accepts mallory's platform as the server's side. With HostCompromised(mallory)
    (recorded before the answer) nothing is reported; without it, or with the server's host named
    instead, no_diversion is, by the monitor and the formula alike (mallory's TEE was asked on this very
    connection and after the request, so channel_binding, request_binding and reattestation_fresh hold)."""
    ex = Explorer(variant_flags(DEFAULT), SMALL)
    run = next(st for st in own_runs(ex) if st.steps[-1].endswith("oracle m-ae kM own-binding background"))
    trace = to_trace(run, ex, DEFAULT, variant_profile(DEFAULT))
    names = [(e.agent, e.name) for e in trace.events]
    assert names.index((W.MALLORY, "HostCompromised")) < names.index((W.MALLORY, "EvidenceRequested"))
    assert ("m-ae", "EvidenceProduced") in names and (W.CLIENT, "AttestationCompleted") in names
    result = check_trace(trace, formulas=True)
    assert result.rules() == set() and result.properties() == set()
    for other in (None, W.SERVER):
        moved = compromised(trace, other)
        result = check_trace(moved, formulas=True)
        assert result.rules() == set(), other
        assert check_trace(moved).properties() == {"no_diversion"}, other
        assert {v.id for v in judge(moved)} == {"no_diversion"}, other


def test_every_own_aik_run_replays_clean_and_only_its_own_tee_s_evidence_is_accepted():
    """Every run of the move replays clean (no rule, monitor or formula). Reasoned: under the default
    profile the requester (either endpoint) accepts only kM with Evidence mallory's own TEE made over
    the request's binding, background or passport: kX fails AIK_pub_hash, an honest TEE's Evidence
    carries its own AIK's hash, the other label fails the binding, forged Evidence the Verifier."""
    ex = Explorer(variant_flags(DEFAULT), SMALL)
    accepted = []
    for st in own_runs(ex):
        trace = to_trace(st, ex, DEFAULT, variant_profile(DEFAULT))
        result = check_trace(trace, formulas=True)
        assert result.rules() == set() and result.properties() == set(), st.steps
        done = [e.agent for e in trace.events if e.name == "AttestationCompleted" and e.agent != W.MALLORY
                and e.args["attester"] != W.side_of(st.conns[e.args["conn"]], e.agent)]
        if done:
            accepted.append((done[0], st.steps[-1].rsplit(": ", 1)[1]))
    assert sorted(accepted) == [(rp, f"oracle m-ae kM own-binding {model}")
                                for rp in (W.CLIENT, W.SERVER) for model in ("background", "passport")]


@pytest.mark.parametrize("variant", ["default", "no-aik-hash-check", "passport-literal"])
def test_the_own_aik_move_changes_no_verdict(variant):
    """Reasoned before the run (docs/proofs.md): the same counterexample properties, by the monitors and
    by the formulas, with and without the move; it only adds runs."""
    plain = analyse_variant(VARIANTS[variant], Bound(1, 2, 0, 1), formulas=True)
    own = analyse_variant(VARIANTS[variant], Bound(1, 2, 0, 1, own_aik=True), formulas=True)
    assert plain.mismatches == own.mismatches == 0
    assert own.runs > plain.runs
    assert set(own.counterexamples) == set(plain.counterexamples)
    assert set(own.formula_counterexamples) == set(plain.formula_counterexamples)


def test_cli_takes_the_adversary_options(capsys):
    """--attestation-keys, --own-aik and --aes reach the bound, its tag and its JSON; --aes 0 is refused."""
    from expat.cli import main
    assert main(["proofs", "run", "--variant", "default", "--connections", "1", "--requests", "1", "--reveals", "0",
                 "--secrets", "1", "--attestation-keys", "1", "--own-aik", "--aes", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {c["z3_bound"] for c in doc["cells"]} == {"1c1r0k1s1ao2t"}
    assert doc["bound"]["attestation_keys"] == 1 and doc["bound"]["own_aik"] is True
    assert doc["bound"]["cast"]["attesting_environments_per_endpoint"] == 2
    assert main(["proofs", "run", "--aes", "0"]) == 2
