"""`expat spec diff`: change kinds on synthetic revisions, and the shared revisions."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import json
import textwrap

import pytest
from hypothesis import given, settings, strategies as st

from expat.cli import main
from expat.spec.catalogue import Catalogue, Entry
from expat.spec.diff import diff
from expat.spec.document import load
from spec_helpers import FIXTURES, SPECS

needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason="../shared/specs not present")
EMPTY = Catalogue([])


def _synthetic():
    return diff(load(FIXTURES / "diff_old.md"), load(FIXTURES / "diff_new.md"), EMPTY)


def _kinds(report):
    out = {}
    for c in report.statements:
        out.setdefault(c.kind, []).append(c)
    return out


def test_statement_change_kinds():
    k = _kinds(_synthetic())
    assert set(k) == {"added", "removed", "strength-changed", "reworded", "moved"}
    strengths = sorted(c.strength for c in k["strength-changed"])
    assert strengths == ["SHOULD -> MUST", "prose -> MUST"]
    assert [c.new.keywords for c in k["added"]] == [("MUST",), ("MUST NOT",)]
    assert sorted(c.old.section for c in k["removed"]) == ["2", "4"]
    (moved,) = k["moved"]
    assert (moved.old.title, moved.new.title) == ("Proof Computation", "Placement")
    (rew,) = k["reworded"]
    assert rew.old.section == "2" and rew.new.section == "3"     # renumbered, not "moved"


def test_reflowed_statement_is_unchanged():
    texts = [(c.new or c.old).text for c in _synthetic().statements]
    assert not any("cache proofs" in t for t in texts)


def test_parameter_and_section_changes():
    r = _synthetic()
    params = {p.name: (p.kind, p.old_values, p.new_values) for p in r.parameters}
    assert params["formula:proof value"] == ("changed", ["Digest(nonce || exported_value)"],
                                             ["Digest(exported_value)"])
    assert params["exporter[?].label"][0] == "changed"
    secs = {(s.kind, s.title, s.old_number, s.new_number) for s in r.sections}
    assert secs == {("moved", "Requests", "2", "3"), ("moved", "Proof Computation", "3", "4"),
                    ("removed", "Legacy Mode", "4", ""), ("added", "Terminology", "", "2"),
                    ("added", "Placement", "", "5")}


def test_affects_come_from_catalogue(monkeypatch):
    entry = Entry(id="TEST-1", document="widget", section="3", keyword="MUST NOT",
                  paraphrase="never answer twice", terms=["answer", "identifier", "prover",
                                                           "request", "same", "twice"],
                  checks=["x-check"], tests=["tests/t.py::t"], monitors=["no_reflection"],
                  lemmas=["no_reflection"], profile_parameters=["p"])
    old, new = load(FIXTURES / "diff_old.md"), load(FIXTURES / "diff_new.md")
    import expat.spec.diff as D
    monkeypatch.setattr(D, "family", lambda doc: "widget")
    r = diff(old, new, Catalogue([entry]))
    hit = [c for c in r.statements if c.affects.requirements]
    assert len(hit) == 1 and "twice" in hit[0].new.text
    a = hit[0].affects
    assert (a.checks, a.tests, a.monitors, a.lemmas, a.profile_parameters) == (
        ["x-check"], ["tests/t.py::t"], ["no_reflection"], ["no_reflection"], ["p"])


PARA = ("A checker MUST pick a fresh request identifier for every proof request it sends on a "
        "connection and it SHOULD remember the identifiers it has already used.")


@settings(max_examples=25, deadline=None)
@given(width=st.integers(min_value=20, max_value=120), indent=st.sampled_from(["", " "]))
def test_reflow_invariance(tmp_path_factory, width, indent):
    d = tmp_path_factory.mktemp("reflow")
    wrapped = textwrap.fill(PARA, width=width, subsequent_indent=indent)
    (d / "a.md").write_text(f"--- middle\n\n# Rules\n\n{PARA}\n")
    (d / "b.md").write_text(f"--- middle\n\n# Intro\n\nNew words.\n\n# Rules\n\n{wrapped}\n")
    r = diff(load(d / "a.md"), load(d / "b.md"), EMPTY)
    assert r.statements == []
    assert {(s.kind, s.title) for s in r.sections} == {("added", "Intro"), ("moved", "Rules")}


def test_cli_diff_json(capsys):
    assert main(["spec", "diff", "--json", str(FIXTURES / "diff_old.md"),
                 str(FIXTURES / "diff_new.md")]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {c["kind"] for c in out["statements"]} >= {"added", "removed"}
    assert main(["spec", "diff", str(FIXTURES / "diff_old.md"), str(FIXTURES / "diff_old.md")]) == 0
    assert main(["spec", "diff", str(FIXTURES / "diff_old.md"), "/nonexistent/x.md"]) == 2


@needs_specs
def test_02_to_editors_copy():
    r = diff(load(SPECS / "draft-fossati-seat-expat-02.md"), load(SPECS / "editors-copy.md"))
    changes = r.normative
    assert changes and all(c.kind in ("added", "strength-changed") for c in changes)
    assert all(c.new.section == "7.2" and c.new.title == "Using the TLS Connection" for c in changes)
    assert all(set(c.new.keywords) <= {"MUST", "MUST NOT"} for c in changes)
    joined = " ".join(c.new.text for c in changes)
    assert "NewSessionTicket" in joined and "early_data" in joined
    reqs = {rid for c in changes for rid in c.affects.requirements}
    assert reqs == {"EXPAT-EC-7.2-NO-NST", "EXPAT-EC-7.2-NO-EARLY-DATA", "EXPAT-EC-7.2-DISCARD-NST"}
    assert all("no_resumption" in c.affects.monitors for c in changes)
    assert [(s.kind, s.old_number) for s in r.sections] == [("removed", "9.2")]
    assert [(p.kind, p.name) for p in r.parameters] == [("removed", "iana:TLS Flags:CMW_Attestation")]


@needs_specs
def test_01_to_02_binding_formula():
    r = diff(load(SPECS / "draft-fossati-seat-expat-01.md"), load(SPECS / "draft-fossati-seat-expat-02.md"))
    (p,) = [p for p in r.parameters if p.name == "formula:binding value"]
    assert p.kind == "changed"
    assert "nonce" in p.old_values[0] and "nonce" not in p.new_values[0]
    assert "EXPAT-5.1-BINDING" in p.affects.requirements
    assert "channel_binding" in p.affects.lemmas
    moved = {(s.title, s.old_number, s.new_number) for s in r.sections if s.kind == "moved"}
    assert ("Binding the Authenticator Identity Key (AIK) to the TEE", "6", "5.2") in moved
    added = [c for c in r.statements if c.kind == "added"]
    assert [c.new.section for c in added] == ["7.3"]
