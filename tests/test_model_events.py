"""The event vocabulary, the trace recorder and the trace schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
from model_support import ROOT, builder, example_paths

from expat.model import events as ev
from expat.model.trace import (SCHEMA_PATH, TraceFormatError, TraceRecorder, json_schema, load_trace, parse_lines,
                               schema_text)


def test_event_names_are_camel_case_and_args_typed():
    for name, spec in ev.EVENTS.items():
        assert name[0].isupper() and "_" not in name
        assert spec.positional[0] == "agent"
        assert all(a.type in ev.ARG_TYPES for a in spec.args)
        assert spec.roles and set(spec.roles) <= set(ev.ROLES) | {ev.ADVERSARY}


def test_secret_args_are_optional_and_only_recorded_with_secrets():
    secrets = [(n, a.name) for n, s in ev.EVENTS.items() for a in s.args if a.secret]
    assert ("ChannelEstablished", "exporter_master_secret") in secrets
    args = dict(conn="c1", side="client", suite="TLS_AES_128_GCM_SHA256", attest=["client"], resumed_from="-",
                exporter_master_secret=b"\x01" * 32)
    plain = TraceRecorder(seed="s", with_secrets=False)
    plain.emit("ChannelEstablished", "client", **args)
    assert "exporter_master_secret" not in plain.events[0].args
    secret = TraceRecorder(seed="s", with_secrets=True)
    secret.emit("ChannelEstablished", "client", **args)
    assert secret.events[0].args["exporter_master_secret"] == "01" * 32


@pytest.mark.parametrize("event,args,message", [
    ("NoSuchEvent", {}, "unknown event"),
    ("ApplicationDataSent", {"conn": "c1"}, "missing argument"),
    ("ApplicationDataSent", {"conn": "c1", "length": 1, "extra": 2}, "unknown arguments"),
    ("ApplicationDataSent", {"conn": "c1", "length": -1}, "non-negative"),
    ("ApplicationDataSent", {"conn": "c1", "length": True}, "non-negative"),
    ("NonceIssued", {"nonce": "ABCD", "to": "rp"}, "hex"),
    ("NonceIssued", {"nonce": "abc", "to": "rp"}, "hex"),
    ("NonceIssued", {"nonce": "ab", "to": "two words"}, "identifier"),
    ("RequestSent", {"conn": "c", "ctx": b"", "msg_type": 13, "extensions": [70000],
                     "attestation_offered": True}, "uint16"),
])
def test_recorder_rejects_what_the_vocabulary_does_not_allow(event, args, message):
    with pytest.raises(ev.VocabularyError, match=message):
        TraceRecorder().emit(event, "a", **args)


def test_recorder_output_is_deterministic_sorted_compact_and_valid(tmp_path):
    def record() -> TraceRecorder:
        r = TraceRecorder(expat_version="9.9", profile={"z": 1, "a": 2}, seed="x", cipher_suite="TLS_AES_256_GCM_SHA384")
        r.emit("NonceIssued", "verifier", nonce=bytes([0xAB, 0x01]), to="rp")
        return r

    a, b = record(), record()
    assert a.lines() == b.lines()
    header = a.lines()[0]
    assert header == json.dumps(json.loads(header), sort_keys=True, separators=(",", ":"))
    assert json.loads(a.lines()[1]) == {"type": "event", "seq": 0, "agent": "verifier", "event": "NonceIssued",
                                        "args": {"nonce": "ab01", "to": "rp"}}
    path = a.write(tmp_path / "t.jsonl")
    t = load_trace(path)
    assert t.header["cipher_suite"] == "TLS_AES_256_GCM_SHA384" and t.header["profile"] == {"z": 1, "a": 2}
    assert [e.name for e in t.events] == ["NonceIssued"]


def test_committed_schema_is_the_generated_one():
    assert SCHEMA_PATH == ROOT / "traces" / "schema.json"
    assert SCHEMA_PATH.read_text() == schema_text()
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_every_example_line_validates_against_the_committed_schema():
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    paths = example_paths()
    assert len(paths) >= 16
    for p in paths:
        lines = p.read_text().splitlines()
        assert json.loads(lines[0])["type"] == "header"
        for line in lines:
            validator.validate(json.loads(line))


def test_examples_are_in_sync_with_their_builder():
    built = builder().build_all()
    on_disk = {p.stem: p.read_text() for p in example_paths()}
    assert built == on_disk


@pytest.mark.parametrize("lines,message", [
    ([], "empty"),
    (['{"type":"event","seq":0,"agent":"a","event":"SecretRevealed","args":{"conn":"c"}}'], "first line"),
    (["not json"], "not JSON"),
])
def test_loader_rejects_malformed_traces(lines, message):
    with pytest.raises(TraceFormatError, match=message):
        parse_lines(lines)


def test_loader_rejects_schema_violations():
    header = TraceRecorder(seed="s").lines()[0]
    bad_args = '{"type":"event","seq":0,"agent":"a","event":"SecretRevealed","args":{"conn":"c","x":1}}'
    with pytest.raises(TraceFormatError):
        parse_lines([header, bad_args])
    with pytest.raises(TraceFormatError):
        parse_lines([header, header])
