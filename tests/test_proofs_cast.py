"""The cast is part of the bound and now a parameter of it (issue 13): ``--honest N`` honest endpoints
(client, server, client2, server2, ...), each with its Attesting Environment; the default is the CI
bound's cast, unchanged."""

from __future__ import annotations

import json
import re

import pytest
from pathlib import Path

import expat  # noqa: F401  (OpenSSL config first)
from expat.cli import main
from expat.model.checker import check_trace
from expat.model.expectations import VARIANTS
from expat.proofs import world as W
from expat.proofs.analysis import CI_BOUND, analyse_variant, to_trace, variant_flags, variant_profile
from expat.proofs.search import Bound, Explorer

ROOT = Path(__file__).resolve().parents[1]


def test_the_default_cast_is_the_recorded_one():
    recorded = json.loads((ROOT / "proofs" / "verdicts.json").read_text())["bound"]["cast"]
    assert CI_BOUND.honest == 2 and CI_BOUND.to_json()["cast"] == recorded
    assert W.HONEST_ENDPOINTS == ("client", "server")
    assert W.PAIRS == (("client", "server"), ("client", "mallory"), ("mallory", "server"))


def test_a_larger_cast_names_its_parties_and_connections():
    c = W.Cast(4)
    assert c.honest_endpoints == ("client", "server", "client2", "server2")
    assert c.aes == {"client-ae": ("kA", "client"), "server-ae": ("kB", "server"), "client2-ae": ("kA2", "client2"),
                     "server2-ae": ("kB2", "server2"), "m-ae": ("kM", "mallory")}
    assert c.pairs == (("client", "server"), ("client", "server2"), ("client2", "server"), ("client2", "server2"),
                       ("client", "mallory"), ("client2", "mallory"), ("mallory", "server"), ("mallory", "server2"))
    assert c.revealable == ("kA", "kB", "kA2", "kB2")
    b = Bound(1, 1, 0, 0, honest=3)
    assert b.tag() == "1c1r0k0s3e"
    assert "honest client and server and client2" in b.statement() and "4 Attesting Environments" in b.statement()
    assert b.to_json()["cast"]["pairs"] == ["client-server", "client2-server", "client-mallory", "client2-mallory",
                                             "mallory-server"]


def test_a_third_honest_endpoint_is_pre_played_to_as_well():
    """Reasoned: a third honest endpoint brings no comparison that two lack, so at one connection, two
    requests and one leaked secret the only property violated is the pre-play's, and the search reaches
    it on a client2-server connection, in both directions, as on client-server (every run with client2 is checked
    against the tables in tests/test_proofs_search.py)."""
    v = VARIANTS["default"]
    bound = Bound(1, 2, 0, 1, honest=3)
    rep = analyse_variant(v, bound)
    assert rep.mismatches == 0 and set(rep.counterexamples) == {"reattestation_fresh"}
    ex = Explorer(variant_flags(v), bound)
    flagged = [st for st in ex.runs() if list(st.conns.values()) == [("client2", "server")]
               and check_trace(to_trace(st, ex, v, variant_profile(v))).properties() == {"reattestation_fresh"}]
    # each ends with the requester completing on the pre-played authenticator: both directions fall
    assert {(st.events[-1][0], st.events[-1][1]) for st in flagged} == {("client2", "AttestationCompleted"),
                                                                        ("server", "AttestationCompleted")}


def test_cli_takes_the_cast(capsys):
    assert main(["proofs", "run", "--variant", "default", "--connections", "1", "--requests", "1", "--honest", "3",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["bound"]["cast"]["honest_endpoints"] == ["client", "server", "client2"]
    assert {c["z3_bound"] for c in doc["cells"]} == {"1c1r1k1s3e"}
    assert main(["proofs", "run", "--honest", "1"]) == 2


# --- several Attesting Environments per endpoint (--aes N) --------------------------------------------


def test_several_attesting_environments_per_endpoint_are_named_and_stated():
    c = W.Cast(2, 2)
    assert c.aes == {"client-ae": ("kA", "client"), "client-ae2": ("kA.2", "client"), "server-ae": ("kB", "server"),
                     "server-ae2": ("kB.2", "server"), "m-ae": ("kM", "mallory")}
    assert c.own_key == {"client": "kA", "server": "kB", "mallory": "kM"}
    assert c.revealable == ("kA", "kA.2", "kB", "kB.2")
    b = Bound(1, 1, 0, 0, aes=2)
    assert b.tag() == "1c1r0k0s2t" and "5 Attesting Environments (2 per honest endpoint)" in b.statement()
    assert b.to_json()["cast"]["attesting_environments_per_endpoint"] == 2
    assert "attesting_environments_per_endpoint" not in CI_BOUND.to_json()["cast"]


def _exchanges(variant: str) -> dict[str, tuple]:
    """Each one-request run of an honest exchange on client-server with two AEs per endpoint: the step
    label -> (its last event, the reason of a refusal, monitors' properties, formulas' properties)."""
    from expat.model.judge import judge
    v = VARIANTS[variant]
    ex = Explorer(variant_flags(v), Bound(1, 1, 0, 0, aes=2))
    out = {}
    for st in ex.runs():
        if list(st.conns.values()) == [("client", "server")] and len(st.steps) == 2:
            trace = to_trace(st, ex, v, variant_profile(v))
            result = check_trace(trace)
            assert result.rules() == set(), st.steps
            out[st.steps[-1]] = (st.events[-1][1], st.events[-1][2].get("reason"), result.properties(),
                                 {x.id for x in judge(trace)})
    return out


def _matched(step: str) -> bool:
    """The step's attester used an AE with that AE's own AIK (client-ae with kA, client-ae2 with kA.2)."""
    ae, key = re.search(r"(\S+-ae2?) with (k[AB](?:\.2)?)\)", step).groups()
    return ae.endswith("ae2") == key.endswith(".2")


def test_an_attester_pairing_one_ae_s_evidence_with_another_ae_s_aik_is_what_aik_pub_hash_refuses():
    """Reasoned before the run: the tables tie the AIK an attester presents to the endpoint (aik_is_mine),
    not to the AE it asks, so an honest attester with two AEs may pair one AE's Evidence with the other's
    AIK. Its AIK_pub_hash is the producing AE's own AIK's hash, so the requester refuses every such pairing
    where it compares AIK_pub_hash (draft §5.2) and accepts the four matching ones."""
    runs = _exchanges("default")
    assert len(runs) == 16  # 2 directions x 2 models x 2 AEs x 2 AIKs
    for step, (last, reason, monitors, formulas) in runs.items():
        matched = _matched(step)
        assert (last, reason) == (("AttestationCompleted", None) if matched else
                                  ("AuthenticatorRejected", "aik-pub-hash-mismatch")), step
        assert monitors == formulas == set(), step


def test_without_the_aik_pub_hash_comparison_the_mismatch_is_accepted_and_only_the_monitor_sees_it():
    """Reasoned: without the comparison the requester accepts the mismatched pairing; the aik_in_tee
    monitor asks whether the AE that produced the Evidence generated the AIK (it did not), while the
    formula asks whether the AIK was generated for the Evidence's platform (it was: the theory has one
    TEE per platform, with any number of AIKs), so only the monitor reports it. The variant's aik_in_tee
    is violated already (mallory's own key), so no verdict changes; the formula is the weaker reading."""
    runs = _exchanges("no-aik-hash-check")
    flagged = {step for step, (last, _, monitors, formulas) in runs.items() if monitors}
    assert all(last == "AttestationCompleted" for last, *_ in runs.values())
    assert len(flagged) == 8 and all(runs[s][2] == {"aik_in_tee"} and runs[s][3] == set() for s in flagged)
    assert not any(_matched(s) for s in flagged)  # one AE with the other one's AIK


@pytest.mark.parametrize("variant", ["default", "no-aik-hash-check"])
def test_a_second_attesting_environment_changes_no_verdict(variant):
    plain = analyse_variant(VARIANTS[variant], Bound(1, 2, 0, 0), formulas=True)
    two = analyse_variant(VARIANTS[variant], Bound(1, 2, 0, 0, aes=2), formulas=True)
    assert plain.mismatches == two.mismatches == 0 and two.runs > plain.runs
    assert set(two.counterexamples) == set(plain.counterexamples)
    assert set(two.formula_counterexamples) == set(plain.formula_counterexamples)


# --- the sibling-tee difference (model/judge.py DIFFERENCES) -------------------------------------------


def _mismatched_acceptances(trace) -> list[str]:
    """For each honest acceptance of Evidence whose producing AE did not generate the accepted AIK, read
    from the trace's events (not from the monitors): "sibling" when the AIK was generated for the
    Evidence's endpoint by another of its AEs, "foreign" otherwise (another endpoint's AE or AIK)."""
    generated = {e.args["aik"]: (e.agent, e.args["owner"]) for e in trace.events if e.name == "AikGenerated"}
    owner_of = {a: o for a, o in generated.values()}
    produced = {e.args["cmw"]: (e.agent, e.args["te"]) for e in trace.events if e.name == "EvidenceProduced"}
    appraised = {e.args["result"]: e.args["cmw"] for e in trace.events if e.name == "EvidenceAppraised"}
    out = []
    for i, e in enumerate(trace.events):
        if e.name != "AuthenticatorAccepted" or e.agent == W.MALLORY:
            continue
        if not any(d.name == "AttestationCompleted" and d.agent == e.agent and d.args["cmw"] == e.args["cmw"]
                   for d in trace.events[i:]):
            continue
        ev = e.args["cmw"] if e.args["kind"] == "evidence" else appraised.get(e.args["cmw"])
        if ev not in produced or e.args["aik"] not in generated:
            continue
        (maker, te), (generator, owner) = produced[ev], generated[e.args["aik"]]
        if maker != generator:
            out.append("sibling" if te == owner == owner_of.get(maker) else "foreign")
    return out


def _differences(variant: str, bound: Bound) -> list[tuple[frozenset, set, set]]:
    """Per run: the (property, side that flags) where the monitors and the formulas differ, the kinds of
    its mismatched acceptances, and the monitors' properties."""
    from expat.model.judge import judge
    v = VARIANTS[variant]
    ex = Explorer(variant_flags(v), bound)
    out = []
    for st in ex.runs():
        trace = to_trace(st, ex, v, variant_profile(v))
        monitors, formulas = check_trace(trace).properties(), {x.id for x in judge(trace)}
        out.append((frozenset((p, "monitor" if p in monitors else "formula") for p in monitors ^ formulas),
                    set(_mismatched_acceptances(trace)), monitors))
    return out


@pytest.mark.parametrize("variant", ["default", "no-aik-hash-check"])
def test_with_two_aes_per_endpoint_the_only_new_formula_monitor_difference_is_the_sibling_tee(variant):
    """Reasoned (model/judge.py "sibling-tee"): the theory has one TEE per platform, so the aik_in_tee
    formula accepts an AIK generated for the Evidence's platform by any of its TEEs, while the monitor (the
    property's statement) asks for the TEE that produced the Evidence. With a second AE per endpoint that
    is the one new way the two can differ: every other difference of a run at --aes 2 is of a kind the
    same variant shows with one AE, and an aik_in_tee difference flagged by the monitor alone comes with
    an acceptance of Evidence from an AE that did not generate the AIK (a sibling AE, or the one-AE
    class tee-for-another-endpoint). Under the default profile AIK_pub_hash refuses every such pairing;
    without it some run's only mismatched acceptance is a sibling one, and its only difference that one."""
    from expat.model.judge import DIFFERENCES
    d = DIFFERENCES["sibling-tee"]
    assert d.properties == ("aik_in_tee",) and d.flagged_by == "monitor"
    one = {k for kinds, _, _ in _differences(variant, Bound(1, 2, 0, 0)) for k in kinds}
    two = _differences(variant, Bound(1, 2, 0, 0, aes=2))
    sibling = ("aik_in_tee", "monitor")
    for kinds, mismatched, monitors in two:
        assert kinds - {sibling} <= one, sorted(kinds - one)
        if sibling in kinds:
            assert mismatched, kinds
        if "sibling" in mismatched:
            assert "aik_in_tee" in monitors
    if variant == "default":
        assert not any(mismatched for _, mismatched, _ in two)
    else:
        assert any(mismatched == {"sibling"} and kinds == {sibling} for kinds, mismatched, _ in two)
