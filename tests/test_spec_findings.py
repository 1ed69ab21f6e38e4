"""`expat spec findings`: every tool's verdict per question, read defensively; -02 ambiguities per revision."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import json

import pytest

from expat.cli import main
from expat.model.expectations import REASONS, VARIANTS, Variant
from expat.perf.page import render_markdown
from expat.spec.ambiguities import compare
from expat.spec.document import load
from expat.spec.findings import QUESTIONS, blocks, build
from spec_helpers import SPECS
from spec_render import to_markdown

needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason="../shared/specs not present")
V02, V04 = "draft-fossati-seat-expat-02.md", "draft-fossati-seat-expat-04-editors-2026-09-19.txt"


def _root(tmp_path, verdicts=None, tamarin=None):
    if verdicts is not None:
        (tmp_path / "proofs").mkdir()
        (tmp_path / "proofs" / "verdicts.json").write_text(verdicts if isinstance(verdicts, str)
                                                           else json.dumps(verdicts))
    if tamarin is not None:
        (tmp_path / "tamarin" / "results").mkdir(parents=True)
        for name, data in tamarin.items():
            (tmp_path / "tamarin" / "results" / name).write_text(data if isinstance(data, str) else json.dumps(data))
    return tmp_path


def _variant(f, key, name):
    (q,) = [x for x in f.questions if x[0].key == key]
    (a,) = [a for a in q[1] if a.name == name]
    return a


def test_verdicts_come_from_the_inputs(tmp_path):
    root = _root(tmp_path, {"results": [
        {"property": "no_reflection", "variant": "reflection", "verdict": "violated",
         "counterexample": "proofs/counterexamples/x.jsonl"},
        {"property": "aik_in_tee", "variant": "reflection", "verdict": "holds"}]},
        {"expat__reflection.json": {"flags": ["reflection"], "lemmas": [
            {"name": "no_reflection", "verdict": "falsified"}]}})
    f = build(root)
    a = _variant(f, "key-in-binder", "reflection")
    rows = {r.prop: r for r in a.rows}
    assert (rows["no_reflection"].z3, rows["no_reflection"].tamarin) == ("violated", "falsified")
    assert rows["aik_in_tee"].z3 == "holds" and rows["aik_in_tee"].expected == "violated"
    assert rows["no_diversion"].z3 == "not recorded" and rows["no_diversion"].tamarin == "not recorded"
    assert rows["no_reflection"].monitors == "no trace"          # no traces under this root
    assert a.counterexamples == ("proofs/counterexamples/x.jsonl",) and a.reason == REASONS["reflection"]
    page = render_markdown("t", blocks(f), "g")
    assert "| aik\\_in\\_tee | violated | holds |" in page          # a disagreement is shown as it is


def test_missing_and_unreadable_inputs(tmp_path):
    f = build(_root(tmp_path, "{not json", {"bad.json": "[1, 2"}))
    for q, answers, _ in f.questions:
        for a in answers:
            assert all(r.z3 == "not recorded" and r.tamarin == "not recorded" for r in a.rows if a.defined)
    assert render_markdown("t", blocks(f), "g")


def test_new_variants_appear_without_code_changes(tmp_path, monkeypatch):
    f = build(tmp_path)
    if "delegated-no-verifier-compare" not in VARIANTS:
        assert not _variant(f, "delegated-comparison", "delegated-no-verifier-compare").defined
        monkeypatch.setitem(VARIANTS, "delegated-no-verifier-compare",
                            Variant("delegated-no-verifier-compare", ("check_binding",), ("channel_binding",)))
        monkeypatch.setitem(REASONS, "delegated-no-verifier-compare", "a reason written for the test")
    a = _variant(build(tmp_path), "delegated-comparison", "delegated-no-verifier-compare")
    assert a.defined and a.reason
    assert "channel_binding" in {r.prop for r in a.rows if r.expected == "violated"}


def test_every_question_names_sections_and_variants():
    assert {q.key for q in QUESTIONS} >= {"key-in-binder", "aik-pub-hash", "delegated-comparison", "resumption"}
    assert all(q.sections and q.variants for q in QUESTIONS)


def test_repository_inputs(capsys):
    """On the checkout's own recorded verdicts and golden traces, the attacks show up."""
    f = build()
    a = _variant(f, "aik-pub-hash", "no-aik-hash-check")
    (row,) = [r for r in a.rows if r.prop == "aik_in_tee"]
    assert row.expected == "violated" and row.z3 == "violated" and row.monitors.startswith("violated on")
    assert any("split-deployment" in t for t in a.traces)
    assert main(["spec", "findings", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [q["key"] for q in out["questions"]] == [q.key for q in QUESTIONS]


@needs_specs
def test_ambiguities_02_to_04():
    status = {s.ambiguity.number: s.verdict for s in compare(load(SPECS / V02), load(SPECS / V04))}
    assert {n for n, v in status.items() if v == "resolved"} == {1, 7, 13}   # label, registration, flags
    assert status[12] == "remains" and status[4] == "remains" and status[9] == "remains"


@needs_specs
def test_ambiguity_detectors_follow_the_text(tmp_path):
    """An edit that settles a point flips its detector; the Markdown form of -04 reads the same."""
    text = (SPECS / V04).read_text(encoding="utf-8")
    edited = text.replace("   for authentication.  The Hash function",
                          "   for authentication, encoded as a DER SubjectPublicKeyInfo.  The Hash function")
    assert edited != text
    p = tmp_path / "draft-fossati-seat-expat-05.txt"
    p.write_text(edited, encoding="utf-8")
    v04 = load(SPECS / V04)
    status = {s.ambiguity.number: s.verdict for s in compare(v04, load(p))}
    assert status[4] == "resolved" and [n for n, v in status.items() if v == "resolved"] == [4]
    md = tmp_path / "draft-fossati-seat-expat-04.md"
    md.write_text(to_markdown(v04), encoding="utf-8")
    assert [(s.old, s.new) for s in compare(v04, load(md))] == [(s.new, s.new) for s in compare(v04, v04)]


def test_report_has_the_findings_section(tmp_path):
    from expat.perf.page import Heading
    from expat.perf.report import build as build_report

    _, page = build_report(tmp_path)
    anchors = [b.anchor for b in page if isinstance(b, Heading)]
    assert "findings" in anchors and "findings-ambiguities" in anchors
    assert anchors.index("findings") > anchors.index("coverage")
