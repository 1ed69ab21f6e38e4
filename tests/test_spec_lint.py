"""`expat spec lint`: each finding kind on synthetic drafts, and the shared -02 revision."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import json

import pytest

from expat.cli import main
from expat.spec.document import load
from expat.spec.lint import FINDING_KINDS, LintOptions, is_defined, lint
from spec_helpers import FIXTURES, SPECS

needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason="../shared/specs not present")


def _findings(name):
    return lint(load(FIXTURES / name)).findings


def _by_kind(findings, kind):
    return [f for f in findings if f.kind == kind]


def test_every_kind_found_in_synthetic_draft():
    found = {f.kind for f in _findings("lint_findings.md")}
    assert found == set(FINDING_KINDS)


def test_clean_draft_has_no_findings():
    assert _findings("lint_clean.md") == []


def test_parameter_conflict_names_both_sections():
    (f,) = _by_kind(_findings("lint_findings.md"), "parameter-conflict")
    assert f.sections == ["2", "3"]
    assert "Widget Binding" in f.detail and "Widget Token" in f.detail


def test_undefined_terms():
    terms = {f.subject for f in _by_kind(_findings("lint_findings.md"), "undefined-term")}
    assert terms == {"salt", "Digest"}          # exported_value is defined by a "where" clause


def test_iana_usage_conflict_sections():
    (f,) = _by_kind(_findings("lint_findings.md"), "iana-usage-conflict")
    assert f.sections == ["4", "5.1"] and "CR" in f.detail


def test_exporter_label_findings():
    fs = _findings("lint_findings.md")
    unreg = {f.subject for f in _by_kind(fs, "exporter-label-unregistered")}
    conv = {f.subject for f in _by_kind(fs, "exporter-label-convention")}
    assert unreg == conv == {"Widget Binding", "Widget Token"}
    # a known registered label is accepted; an option can widen the registry
    opts = LintOptions(registered_labels=frozenset({"Widget Binding", "Widget Token"}))
    assert not _by_kind(lint(load(FIXTURES / "lint_findings.md"), opts).findings,
                        "exporter-label-unregistered")


def test_length_hash_and_no_actor():
    fs = _findings("lint_findings.md")
    (lh,) = _by_kind(fs, "length-hash-mismatch")
    assert lh.sections == ["3"] and "48" in lh.detail
    (na,) = _by_kind(fs, "no-actor")
    assert na.sections == ["3"] and "Widget verification" in na.detail


def test_definition_patterns():
    corpus = "The Frob function is the hash of the suite.\nwhere k_x is the key\nseed: a random value"
    assert is_defined("Frob", corpus) and is_defined("k_x", corpus) and is_defined("seed", corpus)
    assert not is_defined("salt", corpus)


def test_cli_exit_codes(tmp_path, capsys):
    assert main(["spec", "lint", str(FIXTURES / "lint_clean.md")]) == 0
    assert "0 finding(s)" in capsys.readouterr().out
    assert main(["spec", "lint", "--json", str(FIXTURES / "lint_findings.md")]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {"kind", "sections", "detail"} <= set(out["findings"][0])
    assert main(["spec", "lint", str(tmp_path / "nope.md")]) == 2
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"\x00\x00")
    assert main(["spec", "lint", str(bad)]) == 2


@needs_specs
def test_draft_02_exporter_label_conflict():
    fs = lint(load(SPECS / "draft-fossati-seat-expat-02.md")).findings
    (f,) = _by_kind(fs, "parameter-conflict")
    assert f.sections == ["4", "5.1"]
    assert "Attestation Binding" in f.detail and "'Attestation'" in f.detail
    iana = _by_kind(fs, "iana-usage-conflict")
    assert any("9.1" in x.sections and "3.1" in x.sections for x in iana)   # CT vs CR
    assert any(x.sections == ["9.2"] for x in iana)                        # flag never described


@needs_specs
def test_draft_01_formula_terms_and_rfc9261_clean_labels():
    fs = lint(load(SPECS / "draft-fossati-seat-expat-01.md")).findings
    assert {f.subject for f in _by_kind(fs, "undefined-term")} >= {"nonce", "hash"}
    fs9261 = lint(load(SPECS / "rfc9261.txt")).findings
    assert not [f for f in fs9261 if f.kind.startswith("exporter-label") or f.kind == "parameter-conflict"]
