"""Attack demos on the real reference (expat.reference.attacks): each attack, run over real loopback
TLS 1.3, is rejected with its mitigation on (trace conformant) and accepted with it off (the checker
flags the named property)."""

import expat  # noqa: F401  (OpenSSL config first)

import json

import pytest

from expat.cli import main
from expat.model.checker import check_trace
from expat.model.trace import load_trace
from expat.reference.attacks import ATTACKS, run_attack

# attack -> (mitigation switched off, check id that rejects with it on, properties flagged with it off)
EXPECTED = {
    "evidence-replay-other-connection": ("check_binding", "expat02-5.1-binding-match", {"channel_binding"}),
    "evidence-replay-same-connection": ("check_binding", "expat02-5.1-binding-match",
                                        {"request_binding", "reattestation_fresh"}),
    "binding-other-label": ("check_exporter_label", "expat02-5.1-binding-match",
                            {"channel_binding", "request_binding"}),
    "relay-split-deployment": ("check_aik_pub_hash", "expat02-5.2-aik-pub-hash", {"aik_in_tee"}),
    "passport-result-replay": ("passport_binding_echo", "expat02-5.1-binding-match", {"channel_binding"}),
}


def test_every_attack_has_an_expectation():
    assert set(ATTACKS) == set(EXPECTED)


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def runs(request):
    return request.param, run_attack(request.param)


def test_mitigated_run_rejects_and_is_conformant(runs):
    name, (mitigated, _) = runs
    mitigation, check_id, _ = EXPECTED[name]
    assert mitigated.mitigated
    assert not mitigated.accepted
    assert mitigated.error is not None and mitigated.error.check == check_id
    assert mitigated.error.alert.name == "illegal_parameter"
    assert mitigated.check.conformant, mitigated.check.to_json()
    if mitigation == "passport_binding_echo":
        assert mitigated.profile.passport_binding_echo is True
    else:
        assert getattr(mitigated.profile.mitigations, mitigation) is True
    # the attacked request was rejected on the wire: the RP emitted AuthenticatorRejected
    assert [e for e in mitigated.trace.events if e.name == "AuthenticatorRejected"]
    assert mitigated.as_expected


def test_unmitigated_run_accepts_and_is_flagged(runs):
    name, (_, unmitigated) = runs
    mitigation, _, properties = EXPECTED[name]
    assert not unmitigated.mitigated
    assert unmitigated.accepted and unmitigated.error is None
    assert not unmitigated.check.conformant
    assert properties <= unmitigated.check.properties(), unmitigated.check.to_json()
    if mitigation == "passport_binding_echo":
        assert unmitigated.profile.passport_binding_echo is False
    else:
        assert getattr(unmitigated.profile.mitigations, mitigation) is False
        assert unmitigated.trace.header["profile"]["mitigations"][mitigation] is False
    assert unmitigated.as_expected


def test_header_names_adversary_and_disabled_mitigation(runs):
    name, (mitigated, unmitigated) = runs
    mitigation = EXPECTED[name][0]
    for r in (mitigated, unmitigated):
        assert r.trace.header["adversaries"] == ["client"]
        assert r.trace.header["attack"] == name
    assert mitigated.trace.header["mitigations_off"] == []
    assert unmitigated.trace.header["mitigations_off"] == [mitigation]


def test_replay_other_connection_spans_two_connections():
    _, unmitigated = run_attack("evidence-replay-other-connection")
    conns = {e.args["conn"] for e in unmitigated.trace.events if e.name == "ChannelEstablished"}
    assert conns == {"connA", "connB"}
    # the CMW accepted on connB is the one the AE produced on connA
    sent = {e.args["conn"]: e.args["cmw"] for e in unmitigated.trace.events if e.name == "AuthenticatorSent"}
    assert sent["connA"] == sent["connB"]


def test_cli_run_writes_checkable_traces(tmp_path, capsys):
    base = tmp_path / "replay"
    assert main(["attack", "run", "evidence-replay-same-connection", "--trace", str(base)]) == 0
    out = capsys.readouterr().out
    assert "rejected: expat02-5.1-binding-match" in out and "accepted" in out
    mitigated = load_trace(tmp_path / "replay-mitigated.jsonl")
    unmitigated = load_trace(tmp_path / "replay-unmitigated.jsonl")
    assert check_trace(mitigated).conformant
    assert {"request_binding", "reattestation_fresh"} <= check_trace(unmitigated).properties()


def test_cli_list_and_unknown(capsys):
    assert main(["attack", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {a["name"] for a in listed} == set(EXPECTED)
    assert main(["attack", "run", "no-such-attack"]) == 2
