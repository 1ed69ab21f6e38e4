"""Attack demos on the real reference (expat.reference.attacks): each attack, run over real loopback
TLS 1.3, is rejected with its mitigation on (trace conformant) and accepted with it off (the checker
flags the named property)."""

import expat  # noqa: F401  (OpenSSL config first)

import json

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from expat.cli import main
from expat.model.checker import check_trace
from expat.model.roles import flag
from expat.model.trace import load_trace
from expat.reference import pki
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
    "spontaneous-attestation": ("reject_spontaneous_attestation", "expat02-3.1-spontaneous-attestation",
                                {"request_binding"}),
    "reflection-without-public-key": ("include_public_key_in_binding", "expat02-5.1-binding-match",
                                      {"no_reflection", "aik_in_tee"}),
    "resumption-inherits-attestation": ("reject_resumption", "expat02-7.3-attest-before-data",
                                        {"no_resumption", "attest_before_data"}),
    "delegated-verifier-skips-comparison": ("verifier_compares_binding", "expat04-5.1-delegated-binding-match",
                                            {"channel_binding"}),
}
# what differs from the first five: alert, who the adversary is, how the refusal shows in the trace,
# and mitigations off in both runs (the weaker baseline the attack needs)
ALERT = {"spontaneous-attestation": "unsupported_extension", "resumption-inherits-attestation": "unexpected_message"}
ADVERSARY = {"spontaneous-attestation": ["server"], "reflection-without-public-key": ["server"]}
REFUSAL = {"spontaneous-attestation": "ConnectionClosed", "resumption-inherits-attestation": "ConnectionClosed"}
BASELINE_OFF = {"reflection-without-public-key": ["check_context_unique", "check_aik_pub_hash"],
                "delegated-verifier-skips-comparison": ["local_binding_check"]}


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
    assert mitigated.error.alert.name == ALERT.get(name, "illegal_parameter")
    assert mitigated.check.conformant, mitigated.check.to_json()
    if mitigation == "passport_binding_echo":
        assert mitigated.profile.passport_binding_echo is True
    else:
        assert getattr(mitigated.profile.mitigations, mitigation) is True
    # the attack was refused on the wire: the RP emitted AuthenticatorRejected (or closed the connection)
    refusal = REFUSAL.get(name, "AuthenticatorRejected")
    assert [e for e in mitigated.trace.events if e.name == refusal and e.agent not in ADVERSARY.get(name, ["client"])]
    assert mitigated.as_expected


def test_unmitigated_run_accepts_and_is_flagged(runs):
    name, (_, unmitigated) = runs
    mitigation, _, properties = EXPECTED[name]
    assert not unmitigated.mitigated
    assert unmitigated.accepted and unmitigated.error is None
    assert not unmitigated.check.conformant
    assert properties <= unmitigated.check.properties(), unmitigated.check.to_json()
    # only properties: no model rule breaks (e.g. result_new: every appraisal yields a distinct EAR)
    assert not unmitigated.check.rules(), unmitigated.check.to_json()
    if mitigation == "passport_binding_echo":
        assert unmitigated.profile.passport_binding_echo is False
    else:
        assert getattr(unmitigated.profile.mitigations, mitigation) is False
        assert unmitigated.trace.header["profile"]["mitigations"][mitigation] is False
    assert unmitigated.as_expected


def test_header_names_adversary_and_disabled_mitigation(runs):
    name, (mitigated, unmitigated) = runs
    mitigation = EXPECTED[name][0]
    baseline = BASELINE_OFF.get(name, [])
    for r in (mitigated, unmitigated):
        assert r.trace.header["adversaries"] == ADVERSARY.get(name, ["client"])
        assert r.trace.header["attack"] == name
        assert all(flag(r.trace.header["profile"], m) is False for m in baseline)
    assert mitigated.trace.header["mitigations_off"] == baseline
    assert unmitigated.trace.header["mitigations_off"] == baseline + [mitigation]


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


def test_spontaneous_attestation_needs_no_request():
    mitigated, unmitigated = run_attack("spontaneous-attestation")
    for r in (mitigated, unmitigated):
        assert not [e for e in r.trace.events if e.name in ("RequestSent", "RequestReceived")]
        sent = [e for e in r.trace.events if e.name == "AuthenticatorSent"]
        assert len(sent) == 1 and sent[0].args["spontaneous"] is True and sent[0].agent == "server"
    accepted = [e for e in unmitigated.trace.events if e.name == "AuthenticatorAccepted"]
    assert accepted and accepted[0].args["spontaneous"] is True and accepted[0].args["ctx"] == sent[0].args["ctx"]
    assert not [e for e in mitigated.trace.events if e.name == "AuthenticatorAccepted"]


def test_reflection_returns_the_clients_own_evidence():
    _, unmitigated = run_attack("reflection-without-public-key")
    ev = unmitigated.trace.events
    produced = {e.args["cmw"]: e.agent for e in ev if e.name == "EvidenceProduced"}
    sent = {e.agent: e for e in ev if e.name == "AuthenticatorSent"}
    # one context for both directions; the server's authenticator carries the client AE's Evidence
    assert sent["client"].args["ctx"] == sent["server"].args["ctx"]
    assert produced[sent["server"].args["cmw"]] == "client-ae"
    assert sent["server"].args["aik"] != sent["client"].args["aik"]
    assert unmitigated.profile.mitigations.include_public_key_in_binding is False


def test_resumption_is_a_real_psk_handshake_only_without_the_mitigation():
    mitigated, unmitigated = run_attack("resumption-inherits-attestation")
    m_ev, u_ev = mitigated.trace.events, unmitigated.trace.events
    # mitigated: no ticket issued, connB is a full handshake and the server refuses its data
    assert not [e for e in m_ev if e.name.startswith("NewSessionTicket")]
    assert {e.args["resumed_from"] for e in m_ev if e.name == "ChannelEstablished"} == {"-"}
    assert not mitigated.result.endpoints["server"].conn.resumed
    # unmitigated: a ticket on connA, connB resumes it (TLS reports a PSK handshake) and carries data
    ticket = next(e.args["ticket"] for e in u_ev if e.name == "NewSessionTicketSent")
    assert {e.args["resumed_from"] for e in u_ev if e.name == "ChannelEstablished" and e.args["conn"] == "connB"} \
        == {ticket}
    for side in ("client", "server"):
        assert unmitigated.result.endpoints[side].conn.resumed
    assert unmitigated.result.endpoints["client"].conn.peer_chain_der == []   # PSK: no server Certificate
    assert not [e for e in u_ev if e.args.get("conn") == "connB" and e.name == "AttestationCompleted"]
    assert [e for e in u_ev if e.args.get("conn") == "connB" and e.name == "ApplicationDataReceived"
            and e.agent == "server"]


def test_context_reuse_across_directions_is_refused_by_default():
    """RFC 9261 §4 in the EA layer: the peer may not reuse one of our contexts, unless the profile's
    check_context_unique is off (which the endpoint passes down; the reflection attack needs it)."""
    from expat.errors import ProtocolError
    from expat.reference import ea, messages
    from expat.reference.keyschedule import SHA256, SecretExporter

    exporter = SecretExporter(SHA256, bytes(range(32)))
    ctx = b"\x42" * 32
    for unique in (True, False):
        client = ea.EASession(exporter, is_server=False, check_context_unique=unique)
        server = ea.EASession(exporter, is_server=True, check_context_unique=unique)
        client.request([messages.signature_algorithms([0x0403])], context=ctx)
        reflected = server.request([messages.signature_algorithms([0x0403])], context=ctx)
        ident = pki.make_identity("p256", seed=b"ctx-test", name="client")
        if unique:
            with pytest.raises(ProtocolError) as err:
                client.authenticate(ea.as_signer(ident.key), [c.public_bytes(Encoding.DER) for c in ident.chain[:1]],
                                    reflected)
            assert err.value.check == "rfc9261-4-ctx-unique"
        else:
            client.authenticate(ea.as_signer(ident.key), [c.public_bytes(Encoding.DER) for c in ident.chain[:1]],
                                reflected)


def test_every_attack_is_a_documented_variant_whose_expected_violations_it_shows():
    """The attacks, the z3 proofs and the Tamarin lemmas share one table of expectations
    (model/expectations.py): each attack's unmitigated run is one of its variants, and what the
    attack claims to break is among what that variant is expected to break."""
    from expat.model.expectations import VARIANTS

    by_off = {frozenset(v.off): v for v in VARIANTS.values()}
    for name, attack in ATTACKS.items():
        off = frozenset((attack.mitigation, *attack.base_off))
        assert off in by_off, f"{name}: no variant switches off exactly {sorted(off)}"
        assert set(attack.properties) <= set(by_off[off].violated), (name, by_off[off].name)
