"""`expat proofs run` at the CI bound, the committed verdicts and counterexamples, the expectations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import expat  # noqa: F401  (OpenSSL config first)
from expat.cli import main
from expat.model.checker import check_trace
from expat.model.expectations import REASONS, VARIANTS
from expat.model.properties import PROPERTY_IDS
from expat.model.roles import FLAGS
from expat.model.trace import load_trace
from expat.proofs import record
from expat.proofs.analysis import CI_BOUND, NOT_MODELLED, analyse, default_jobs
from expat.proofs.compare import compare

ROOT = Path(__file__).resolve().parents[1]
PROOFS = ROOT / "proofs"
EXAMPLES = ROOT / "traces" / "examples"


@pytest.fixture(scope="module")
def ci_run():
    return analyse(CI_BOUND, jobs=default_jobs(), formulas=True)


@pytest.mark.slow
def test_every_verdict_at_the_ci_bound_matches_the_expectations_or_is_understood(ci_run):
    rows, reports = ci_run
    assert len(rows) == len(PROPERTY_IDS) * len(VARIANTS)
    cells, _ = compare(rows, CI_BOUND, flags=({}, []))
    assert [(c.variant, c.property) for c in cells if not c.understood] == []
    assert {rep.variant: rep.mismatches for rep in reports} == {v: 0 for v in VARIANTS}, \
        "a generated run broke a rule of the role tables"


@pytest.mark.slow
def test_committed_verdicts_are_what_the_analysis_gives_byte_for_byte(ci_run):
    rows, _ = ci_run
    committed = (PROOFS / "verdicts.json").read_text(encoding="ascii")
    assert committed == record.dumps(record.verdicts_document(CI_BOUND, rows))
    doc = json.loads(committed)
    assert set(doc) >= {"bound", "z3_version", "generated_by", "results"}
    for r in doc["results"]:
        assert r["verdict"] != NOT_MODELLED  # every variant's flags are in the search (delegated included)
        assert r["verdict"] in ("holds", "violated")
        assert r["matches"] is (r["verdict"] == r["expected"])
        assert (r["counterexample"] is None) == (r["verdict"] == "holds")


@pytest.mark.slow
def test_committed_counterexamples_are_regenerated_identically(ci_run):
    _, reports = ci_run
    files = {p.name for p in (PROOFS / "counterexamples").glob("*.jsonl")}
    want = {f"{rep.variant}--{prop}.jsonl" for rep in reports for prop in rep.counterexamples}
    assert files == want
    for rep in reports:
        for prop, trace in rep.counterexamples.items():
            text = (PROOFS / "counterexamples" / f"{rep.variant}--{prop}.jsonl").read_text(encoding="ascii")
            assert text == "\n".join(trace.lines()) + "\n"


def test_each_counterexample_is_a_valid_trace_the_checker_flags_with_its_property():
    doc = json.loads((PROOFS / "verdicts.json").read_text(encoding="ascii"))
    violated = [r for r in doc["results"] if r["verdict"] == "violated"]
    assert violated
    for r in violated:
        trace = load_trace(ROOT / r["counterexample"])  # traces/schema.json
        result = check_trace(trace)
        assert result.rules() == set(), r["counterexample"]
        assert r["property"] in result.properties(), r["counterexample"]
        assert trace.header["profile"]["mitigations"] == {
            f: f not in VARIANTS[r["variant"]].off for f in trace.header["profile"]["mitigations"]}


def test_expat_check_flags_a_recorded_counterexample(capsys):
    path = PROOFS / "counterexamples" / "resumption--no_resumption.jsonl"
    assert main(["check", "--json", str(path)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert "no_resumption" in {v.get("property") for v in out["violations"]}


def test_cli_exit_code_follows_the_expectations(capsys):
    # default at a tiny bound: everything holds, as expected
    assert main(["proofs", "run", "--variant", "default", "--connections", "1", "--requests", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {c["z3"] for c in doc["cells"]} == {"holds"}
    assert main(["proofs", "run", "--variant", "nope"]) == 2
    assert main(["proofs", "run", "--secrets", "-1"]) == 2


def test_expectations_cover_every_flag_and_explain_every_variant():
    assert set(REASONS) == set(VARIANTS)
    assert all(len(REASONS[v]) > 80 for v in VARIANTS)
    single = {v.off[0] for v in VARIANTS.values() if len(v.off) == 1}
    assert {f for v in VARIANTS.values() for f in v.off} == set(FLAGS)
    # verifier_compares_binding matters only with the comparison delegated (local_binding_check off, -04 §5.1)
    assert single == set(FLAGS) - {"verifier_compares_binding"}
    assert VARIANTS["default"].off == () and VARIANTS["default"].violated == ()


def test_synthetic_attack_traces_fail_only_properties_their_variant_expects_violated():
    """traces/examples: an attack whose switched-off mitigations are exactly a variant's trips only
    properties that variant lists (the monitors agree with the expectations)."""
    by_off = {frozenset(v.off): v for v in VARIANTS.values()}
    seen = 0
    for path in sorted(EXAMPLES.glob("synthetic-attack-*.jsonl")):
        trace = load_trace(path)
        off = frozenset(trace.header["expect"]["mitigations_off"])
        if off not in by_off or not off:
            continue  # no variant switches exactly these off (or none: a broken EA, outside the variants)
        seen += 1
        assert check_trace(trace).properties() <= set(by_off[off].violated), path.name
    assert seen >= 8


@pytest.mark.slow
def test_committed_formula_verdicts_are_what_the_analysis_gives_byte_for_byte(ci_run):
    _, reports = ci_run
    committed = (PROOFS / "formula-verdicts.json").read_text(encoding="ascii")
    assert json.loads(committed)["cells"] == record.formula_cells(reports)


# where the formulas and the monitors read the same runs differently (model/judge.py DIFFERENCES)
FORMULA_DIFFERENCES = {
    **{(v, "request_binding"): "pre-played-request"
       for v in ("default", "no-aik-hash-check", "no-key-in-binding", "resumption", "verifier-nonce-unchecked",
                 "no-context-unique", "reflection", "delegated")},
    ("any-exporter-label", "channel_binding"): "exporter-label",
    **{("evidence-signature-unchecked", p): "unproduced-evidence"
       for p in ("channel_binding", "request_binding", "no_diversion")},
}


def test_formula_verdicts_differ_from_the_monitors_only_in_the_known_classes():
    from expat.model.judge import DIFFERENCES

    cells = json.loads((PROOFS / "formula-verdicts.json").read_text(encoding="ascii"))["cells"]
    differ = {(c["variant"], c["property"]): c for c in cells if c["differs"]}
    assert set(differ) == set(FORMULA_DIFFERENCES)
    for key, cls in FORMULA_DIFFERENCES.items():
        d = DIFFERENCES[cls]
        flagged = "formula" if differ[key]["formulas"] == "violated" else "monitor"
        assert key[1] in d.properties and d.flagged_by in (flagged, "both"), (key, cls)


def test_every_tamarin_verdict_is_the_bounded_search_s_under_the_same_formula():
    """Three-way agreement (issue 13): wherever Tamarin has a verdict on a property lemma, the bounded
    search judged by the same formula gives it. (The theory's channel was undirected until 3 Dec, which
    let Tamarin falsify attest_before_data under no-context-unique and reflection by handing an endpoint
    its own message; no cell is excused since the channel binds the direction.)"""
    cells = json.loads((PROOFS / "formula-verdicts.json").read_text(encoding="ascii"))["cells"]
    formula = {(c["variant"], c["property"]): c["formulas"] for c in cells}
    compared, unsettled = 0, []
    for path in sorted((ROOT / "tamarin" / "results").glob("expat__*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for lemma in doc["lemmas"]:
            key = (doc["variant"], lemma["name"])
            tamarin = {"verified": "holds", "falsified": "violated"}.get(lemma["verdict"])
            if key in formula and tamarin is not None:
                assert formula[key] == tamarin, (key, tamarin, formula[key])
                compared += 1
            elif key in formula:
                unsettled.append((key, lemma["verdict"]))
    # since the step-numbered rules (docs/tamarin.md) every recorded cell has a verdict: 121 cells, 11 variants
    assert compared >= 121 and unsettled == [], (compared, unsettled)
