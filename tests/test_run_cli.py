"""`expat run`: the main job, its trace, and the model check of that trace."""

import expat  # noqa: F401

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from expat.model.checker import check_trace
from expat.model.trace import load_trace

REPO = Path(__file__).resolve().parents[1]
EXPAT = [sys.executable, "-m", "expat"]


def _expat(*args, check=True):
    r = subprocess.run(EXPAT + list(args), capture_output=True, text=True, timeout=120, cwd=REPO)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def _run(*args, check=True):
    return _expat("run", *args, check=check)


def test_default_run_succeeds_and_says_who_attested_to_whom():
    r = _run()
    assert "client as Attester, background-check, draft -02" in r.stdout
    assert "client attested to server" in r.stdout and "verdict affirming" in r.stdout
    assert "model check of the trace: conformant" in r.stdout


@pytest.mark.parametrize("attester,model,revision", [("server", "passport", "01"), ("mutual", "background-check",
                                                                                   "editors")])
def test_trace_validates_against_schema_and_model(tmp_path, attester, model, revision):
    path = tmp_path / "run.jsonl"
    r = _run("--attester", attester, "--model", model, "--revision", revision, "--trace", str(path), "--json",
             "--with-secrets")
    account = json.loads(r.stdout)
    assert account["ok"] is True and account["revision"] == revision
    expected = 2 if attester == "mutual" else 1
    assert len(account["attestations"]) == expected
    assert all(a["status"] == "affirming" for a in account["attestations"])
    schema = json.loads((REPO / "traces" / "schema.json").read_text())
    lines = path.read_text().splitlines()
    for line in lines:
        jsonschema.validate(json.loads(line), schema)
    header = json.loads(lines[0])
    assert header["profile"]["revision"] == revision and header["with_secrets"] is True
    trace = load_trace(path)
    assert check_trace(trace).conformant
    names = [e.name for e in trace.events]
    assert names.count("AttestationCompleted") == 2 * expected  # recorded by requester and by attester
    # the binding the trace carries is the one the run printed
    checked = [e for e in trace.events if e.name == "BindingChecked"]
    assert {e.args["expected_binding"] for e in checked} == {a["binding"] for a in account["attestations"]}
    c = _expat("check", str(path))
    assert c.stdout.strip() == f"{path}: conformant"


def test_trace_without_secrets_has_no_secret_fields(tmp_path):
    path = tmp_path / "plain.jsonl"
    _run("--trace", str(path))
    text = path.read_text()
    assert "exporter_master_secret" not in text and "exported_value" not in text
    assert check_trace(load_trace(path)).conformant


def test_tampered_trace_is_flagged_by_expat_check(tmp_path):
    path = tmp_path / "t.jsonl"
    _run("--trace", str(path), "--with-secrets")
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        obj = json.loads(line)
        if obj.get("event") == "BindingChecked":
            b = obj["args"]["cmw_binding"]
            obj["args"]["cmw_binding"] = ("00" if b[:2] != "00" else "01") + b[2:]
            lines[i] = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    r = _expat("check", str(bad), check=False)
    assert r.returncode == 1
    report = json.loads(r.stdout.strip().splitlines()[0])
    assert report["violations"]


def test_bad_option_is_a_usage_error():
    r = _run("--attester", "nobody", check=False)
    assert r.returncode == 2
