"""The fast line validator of expat.model.trace agrees with traces/schema.json (jsonschema)."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import expat  # noqa: F401
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expat.model import trace as T

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = jsonschema.Draft202012Validator(json.loads((ROOT / "traces" / "schema.json").read_text()))
EVENT_LINES = [json.loads(line) for f in sorted(glob.glob(str(ROOT / "traces" / "*" / "*.jsonl")))
               for line in Path(f).read_text().splitlines()[1:]]

# Values that probe each argument type's edges: wrong types, bools as ints, odd hex, long ids, etc.
ODD = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.floats(allow_nan=False),
                st.sampled_from(["", "-", "0", "0A", "00\n", "zz", "a" * 129, "ab", "client", "server",
                                 "evidence", "affirming", "TLS_AES_128_GCM_SHA256", " ", "\x7f"]),
                st.lists(st.one_of(st.integers(-1, 70000), st.sampled_from(["client", "server"]),
                                   st.booleans()), max_size=3),
                st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def test_corpus_lines_are_plainly_valid_and_schema_valid():
    assert len(EVENT_LINES) > 500
    for obj in EVENT_LINES:
        assert T._plainly_valid_event(obj), obj
        assert SCHEMA.is_valid(obj)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(base=st.sampled_from(EVENT_LINES), data=st.data())
def test_fast_path_never_accepts_what_the_schema_rejects(base, data):
    obj = json.loads(json.dumps(base))
    where = data.draw(st.sampled_from(["arg", "arg", "arg", "drop", "extra", "top"]))
    if where == "arg" and obj["args"]:
        obj["args"][data.draw(st.sampled_from(sorted(obj["args"])))] = data.draw(ODD)
    elif where == "drop" and obj["args"]:
        del obj["args"][data.draw(st.sampled_from(sorted(obj["args"])))]
    elif where == "extra":
        obj["args"][data.draw(st.sampled_from(["x", "conn", "ctx", "aik", "nonce"]))] = data.draw(ODD)
    else:
        obj[data.draw(st.sampled_from(["seq", "agent", "event", "type", "args", "more"]))] = data.draw(ODD)
    fast = T._plainly_valid_event(obj)
    schema = SCHEMA.is_valid(obj)
    if fast:
        assert schema, obj
    # and the validator parse_lines uses gives the schema's verdict, whichever path it takes
    assert (T._line_validator()(obj) is None) == schema, obj


def test_parse_lines_reports_the_schema_error():
    header = Path(sorted(glob.glob(str(ROOT / "traces" / "golden" / "*.jsonl")))[0]).read_text().splitlines()[0]
    bad = dict(EVENT_LINES[0], seq=-1)
    with pytest.raises(T.TraceFormatError, match=":2: "):
        T.parse_lines([header, json.dumps(bad)], "x")


HEADERS = [json.loads(Path(f).read_text().splitlines()[0])
           for f in sorted(glob.glob(str(ROOT / "traces" / "*" / "*.jsonl")))]
HEADER_KEYS = ["type", "format", "expat_version", "profile", "revision", "seed", "cipher_suite", "with_secrets",
               "adversaries", "description", "expect", "attack", "mitigations_off", "normalised", "synthetic"]


def test_corpus_headers_are_plainly_valid_and_schema_valid():
    assert len(HEADERS) > 20
    for obj in HEADERS:
        assert T._plainly_valid_header(obj), obj
        assert SCHEMA.is_valid(obj)


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(base=st.sampled_from(HEADERS), data=st.data())
def test_header_fast_path_never_accepts_what_the_schema_rejects(base, data):
    obj = json.loads(json.dumps(base))
    key = data.draw(st.sampled_from(HEADER_KEYS))
    if data.draw(st.booleans()) and key in obj:
        del obj[key]
    elif key == "normalised" and "normalised" in obj and data.draw(st.booleans()):
        inner = data.draw(st.sampled_from(["scheme", "renamed", "rewritten", "dropped", "more"]))
        obj["normalised"][inner] = data.draw(ODD)
    else:
        obj[key] = data.draw(ODD)
    if T._plainly_valid_header(obj):
        assert SCHEMA.is_valid(obj), obj
    assert (T._line_validator()(obj) is None) == SCHEMA.is_valid(obj), obj


@pytest.mark.parametrize("where,value", [
    ("mitigations", "x"), ("mitigations", 5), ("mitigations", []), ("mitigations", None),
    ("mitigations", {"check_binding": "yes"}), ("mitigations", {"check_binding": 1}),
    ("passport_binding_echo", "true"), ("binding_check", "remote"), ("binding_check", None),
])
def test_profile_parameters_the_checker_reads_are_typed(where, value, tmp_path):
    """model.roles.flag reads profile.mitigations, passport_binding_echo and binding_check: a header with
    one of them mistyped is refused by the schema and by the fast path alike, and expat check reports a
    format error instead of crashing (or reading "yes" as a mitigation switched on)."""
    import subprocess
    import sys

    path = ROOT / "traces" / "golden" / "honest-client-passport.jsonl"
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["profile"][where] = value
    assert not SCHEMA.is_valid(header)
    assert not T._plainly_valid_header(header)
    assert T._line_validator()(header) is not None
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    done = subprocess.run([sys.executable, "-m", "expat", "check", "--json", str(bad)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert json.loads(done.stdout.splitlines()[0])["violations"][0]["rule"] == "format"
