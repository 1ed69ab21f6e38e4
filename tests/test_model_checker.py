"""The conformance checker and the property monitors on the synthetic example traces."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json

import pytest
from model_support import EXAMPLES, examples, with_events

from expat.cli import main
from expat.model import monitors
from expat.model.checker import check_trace
from expat.model.properties import PROPERTY_IDS, STATEMENTS
from expat.model.trace import Event

HONEST = examples("synthetic-honest")
ATTACKS = examples("synthetic-attack")


def test_there_are_honest_and_attack_examples():
    assert len(HONEST) >= 4 and len(ATTACKS) >= 12


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_examples_are_conformant(name):
    result = check_trace(HONEST[name])
    assert result.violations == []


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_examples_fail_with_exactly_the_expected_properties(name):
    trace = ATTACKS[name]
    result = check_trace(trace)
    assert not result.conformant
    assert result.rules() == set(), "with its mitigation off an attack follows the (weakened) rules"
    assert result.properties() == set(trace.header["expect"]["properties"])


@pytest.mark.parametrize("name", sorted(n for n, t in ATTACKS.items() if t.header["expect"]["mitigations_off"]))
def test_attack_examples_break_the_rules_once_their_mitigation_is_back_on(name):
    trace = ATTACKS[name]
    header = copy.deepcopy(trace.header)
    for flag in trace.header["expect"]["mitigations_off"]:
        if flag in header["profile"]["mitigations"]:
            header["profile"]["mitigations"][flag] = True
        else:
            header["profile"][flag] = True
    result = check_trace(with_events(trace, trace.events, header))
    assert result.rules(), "an honest party following the default profile would have refused"


def test_every_property_is_tripped_by_some_attack_and_by_no_honest_trace():
    tripped = set().union(*(check_trace(t).properties() for t in ATTACKS.values()))
    assert tripped == set(PROPERTY_IDS)
    assert not set().union(*(check_trace(t).properties() for t in HONEST.values()))


def test_property_ids_order_and_monitor_docstrings():
    assert PROPERTY_IDS == ("evidence_integrity", "evidence_freshness", "channel_binding", "request_binding",
                            "aik_ownership", "aik_in_tee", "no_diversion", "no_reflection", "attest_before_data",
                            "reattestation_fresh", "verifier_nonce_fresh", "no_resumption")
    assert tuple(monitors.MONITORS) == PROPERTY_IDS
    for pid, fn in monitors.MONITORS.items():
        assert fn.__doc__ and len(fn.__doc__.split()) >= 10, pid
        assert STATEMENTS[pid]


# --- data relations with secrets ------------------------------------------------------------------

SECRETS = HONEST["synthetic-honest-secrets"]


def _edit(trace, name: str, field: str, fn):
    events = []
    for e in trace.events:
        args = dict(e.args)
        if e.name == name and field in args:
            args[field] = fn(args[field])
        events.append(Event(e.seq, e.agent, e.name, args))
    return with_events(trace, events)


def _flip_byte(hexstr: str, position: int) -> str:
    b = bytearray.fromhex(hexstr)
    b[position] ^= 0x01
    return b.hex()


def test_secrets_example_binding_is_the_draft_formula_recomputed_independently():
    """binding = SHA-256(SPKI || TLS-Exporter("Attestation", ctx, 32)), with HKDF written out here."""
    ch = next(e for e in SECRETS.events if e.name == "ChannelEstablished")
    req = next(e for e in SECRETS.events if e.name == "EvidenceRequested")
    ems, ctx, spki = (bytes.fromhex(x) for x in (ch.args["exporter_master_secret"], req.args["ctx"], req.args["aik"]))

    def expand_label(secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
        info = length.to_bytes(2, "big") + bytes([6 + len(label)]) + b"tls13 " + label + bytes([len(context)]) + context
        return hmac.new(secret, info + b"\x01", "sha256").digest()[:length]  # one block suffices (<= 32 bytes)

    derived = expand_label(ems, b"Attestation", hashlib.sha256(b"").digest(), 32)
    exported = expand_label(derived, b"exporter", hashlib.sha256(ctx).digest(), 32)
    assert req.args["exported_value"] == exported.hex()
    assert req.args["binding"] == hashlib.sha256(spki + exported).hexdigest()


@pytest.mark.parametrize("event,field,position,rule", [
    ("AuthenticatorAccepted", "authenticator", -1, "ea-finished"),          # last byte of Finished
    ("AuthenticatorAccepted", "authenticator", -40, "ea-signature"),        # inside the CertificateVerify signature
    ("ChannelEstablished", "exporter_master_secret", 0, "binding-recompute"),
    ("EvidenceRequested", "exported_value", 3, "binding-recompute"),
    ("BindingChecked", "exported_value", 3, "binding-recompute"),
    ("RequestSent", "request", -1, "request-encoding"),
])
def test_tampered_secret_relations_are_detected(event, field, position, rule):
    tampered = _edit(SECRETS, event, field, lambda v: _flip_byte(v, position))
    assert rule in check_trace(tampered).rules()


def test_wrong_exporter_secret_breaks_finished_and_signature_too():
    rules = check_trace(_edit(SECRETS, "ChannelEstablished", "exporter_master_secret",
                              lambda v: _flip_byte(v, 5))).rules()
    assert {"ea-finished", "ea-signature", "binding-recompute"} <= rules


def test_secrets_example_without_its_secrets_is_still_conformant():
    from expat.model.events import EVENTS

    stripped = []
    for e in SECRETS.events:
        secret = {a.name for a in EVENTS[e.name].args if a.secret}
        stripped.append(Event(e.seq, e.agent, e.name, {k: v for k, v in e.args.items() if k not in secret}))
    header = dict(SECRETS.header, with_secrets=False)
    assert check_trace(with_events(SECRETS, stripped, header)).violations == []


def test_certificate_that_is_not_the_aik_is_refused():
    other = next(e for e in HONEST["synthetic-honest-background"].events if e.name == "AikGenerated").args["aik"]
    rules = check_trace(_edit(SECRETS, "AuthenticatorAccepted", "aik", lambda v: other)).rules()
    assert {"guard:certificate_has_aik", "ea-certificate", "aik-hash-recompute"} <= rules


# --- CLI ----------------------------------------------------------------------------------------

def test_cli_check_prints_conformant_and_exits_zero(capsys):
    paths = [str(EXAMPLES / f"{n}.jsonl") for n in sorted(HONEST)]
    assert main(["check", *paths]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{p}: conformant" for p in paths]


def test_cli_check_prints_violations_as_json_and_exits_one(capsys):
    honest = str(EXAMPLES / "synthetic-honest-background.jsonl")
    attack = str(EXAMPLES / "synthetic-attack-split-relay.jsonl")
    assert main(["check", honest, attack]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{honest}: conformant"
    report = json.loads(lines[1])
    assert report["trace"] == attack and report["conformant"] is False
    assert {v["property"] for v in report["violations"]} == {"aik_in_tee"}
    assert all(set(v) == {"property", "event_index", "detail"} for v in report["violations"])


def test_cli_check_json_and_format_errors(capsys, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n")
    honest = str(EXAMPLES / "synthetic-honest-passport.jsonl")
    assert main(["check", "--json", honest, str(bad)]) == 3  # a file that is not a trace
    first, second = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    assert first == {"trace": honest, "conformant": True, "broken": [], "violations": []}
    assert second["violations"][0]["rule"] == "format"
