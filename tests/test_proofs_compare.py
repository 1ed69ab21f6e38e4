"""The four-way table of `expat proofs run`: the defensive Tamarin reader, the monitors on the attack
traces, and the disagreement path (a Tamarin verdict that differs, with and without a reason naming
the cell)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import expat  # noqa: F401  (OpenSSL config first)
from expat.cli import main
from expat.model.expectations import VARIANTS
from expat.model.properties import PROPERTY_IDS
from expat.proofs import compare as C
from expat.proofs import disagreements as D
from expat.proofs.analysis import Row
from expat.proofs.search import Bound

ROOT = Path(__file__).resolve().parents[1]


def write_results(root: Path, variant: str, doc: object) -> None:
    path = C.tamarin_path(variant, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")


def rows(variant: str, verdicts: dict[str, str]) -> list[Row]:
    out = []
    for p in PROPERTY_IDS:
        expected = "holds" if VARIANTS[variant].holds(p) else "violated"
        verdict = verdicts.get(p, expected)
        out.append(Row(p, variant, verdict, expected, 1, 0.0, None))
    return out


NO_FLAGS = ({}, [])


# -- the Tamarin reader ----------------------------------------------------------------------

def test_missing_or_malformed_tamarin_results_are_not_recorded(tmp_path):
    assert C.read_tamarin("default", tmp_path) == {}
    write_results(tmp_path, "default", "{not json")
    assert C.read_tamarin("default", tmp_path) == {}
    write_results(tmp_path, "default", {"lemmas": "nonsense"})
    assert C.read_tamarin("default", tmp_path) == {}
    write_results(tmp_path, "default", [{"name": "channel_binding"}, {"verdict": "verified"}, 7,
                                        {"name": "channel_binding_sanity", "verdict": "verified"},
                                        {"name": "no_diversion", "verdict": 3}])
    assert C.read_tamarin("default", tmp_path) == {}  # no record with both a property name and a verdict


@pytest.mark.parametrize("shape", ["list", "lemmas-list", "lemmas-map", "results-list"])
def test_tamarin_records_are_read_in_every_shape(tmp_path, shape):
    recs = [{"name": "channel_binding", "verdict": "verified", "expected": "verified", "wall_s": 3.5,
             "peak_rss_mb": 410},
            {"name": "no_reflection", "verdict": "falsified", "expected": "verified", "wall_s": 9,
             "peak_rss_mb": "big"},
            {"name": "aik_in_tee", "verdict": "timeout", "expected": "verified"}]
    doc = {"list": recs, "lemmas-list": {"lemmas": recs, "tamarin_version": "1.8.0"},
           "lemmas-map": {"lemmas": {r["name"]: {k: v for k, v in r.items() if k != "name"} for r in recs}},
           "results-list": {"results": recs}}[shape]
    write_results(tmp_path, "default", doc)
    got = C.read_tamarin("default", tmp_path)
    assert got["channel_binding"] == C.TamarinCell("holds", "verified", 3.5, 410)
    assert got["no_reflection"] == C.TamarinCell("violated", "falsified", 9, None)
    assert got["aik_in_tee"].verdict == C.INCONCLUSIVE
    assert set(got) == {"channel_binding", "no_reflection", "aik_in_tee"}


# -- the disagreement path -------------------------------------------------------------------

def test_a_tamarin_disagreement_without_a_reason_is_not_understood(tmp_path):
    write_results(tmp_path, "default", [{"name": "channel_binding", "verdict": "falsified"},
                                        {"name": "request_binding", "verdict": "verified"}])
    cells, _ = C.compare(rows("default", {}), Bound(1, 1, 0, 0), ["default"], tmp_path, reasons=(), flags=NO_FLAGS)
    by = {c.property: c for c in cells}
    assert by["channel_binding"].disagreements == [("tamarin", "violated")]
    assert not by["channel_binding"].understood
    assert by["request_binding"].agrees and by["request_binding"].tamarin.verdict == "holds"
    assert by["no_diversion"].tamarin.verdict == C.NOT_RECORDED and by["no_diversion"].agrees


def test_a_reason_excuses_only_the_cell_tool_and_verdict_it_names(tmp_path):
    write_results(tmp_path, "default", [{"name": "channel_binding", "verdict": "falsified"},
                                        {"name": "no_diversion", "verdict": "falsified"}])
    reason = D.Reason("default", "channel_binding", "tamarin", "violated", "fixture: understood")
    others = (D.Reason("default", "channel_binding", "z3", "violated", "wrong tool"),
              D.Reason("default", "channel_binding", "tamarin", "holds", "wrong verdict"),
              D.Reason("resumption", "no_diversion", "tamarin", "violated", "wrong variant"))
    cells, _ = C.compare(rows("default", {}), Bound(1, 1, 0, 0), ["default"], tmp_path,
                         reasons=(reason,) + others, flags=NO_FLAGS)
    by = {c.property: c for c in cells}
    assert by["channel_binding"].understood and by["channel_binding"].reasons["tamarin"] is reason
    assert not by["no_diversion"].understood
    # the z3 and "holds" entries explain nothing that ran here; the resumption one was not compared
    assert C.stale_reasons(cells, Bound(1, 1, 0, 0), (reason,) + others) == [others[0], others[1]]


def test_bound_limited_reasons_apply_only_below_their_bound():
    r = D.lookup("resumption", "no_resumption", "z3", "holds", 1)
    assert r is not None and r.below_connections == 2
    assert D.lookup("resumption", "no_resumption", "z3", "holds", 2) is None
    assert D.lookup("resumption", "no_resumption", "tamarin", "holds", 1) is None


def test_every_reason_names_one_existing_cell():
    keys = [(r.variant, r.property, r.tool, r.verdict) for r in D.REASONS]
    assert len(keys) == len(set(keys))
    for r in D.REASONS:
        assert r.variant in VARIANTS and r.property in PROPERTY_IDS
        assert r.tool in ("z3", "tamarin", "monitors") and r.verdict in ("holds", "violated")
        expected = "holds" if VARIANTS[r.variant].holds(r.property) else "violated"
        assert r.verdict != expected, "a reason for a verdict that agrees explains nothing"


def test_monitors_on_the_golden_attack_traces_flag_their_variants_properties():
    flags, unmatched = C.monitor_flags()
    # the resumption attack inherits attestation on a resumed connection (draft §7.2)
    resumption = "traces/golden/attack-resumption-inherits-attestation-unmitigated.jsonl"
    assert resumption in flags["resumption"]["no_resumption"]
    # mitigated attacks run with every mitigation on: no property flagged in the default variant
    assert set(flags["default"]) == {""}
    assert "traces/golden/attack-reflection-without-public-key-mitigated.jsonl" in unmatched


# -- the command -----------------------------------------------------------------------------

def test_cli_exits_1_on_an_unexplained_tamarin_disagreement_and_0_when_none(tmp_path, monkeypatch, capsys):
    args = ["proofs", "run", "--variant", "default", "--connections", "1", "--requests", "1", "--reveals", "0",
            "--secrets", "0", "--jobs", "1"]
    assert main(args + ["--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["all_agree"] is True and doc["bound"]["connections"] == 1
    assert "<= 1 connection(s)" in doc["bound_statement"]
    assert {c["z3"] for c in doc["cells"]} == {"holds"}
    results = tmp_path / "tamarin" / "results"
    shutil.copytree(ROOT / "traces" / "golden", tmp_path / "traces" / "golden")
    write_results(tmp_path, "default", [{"name": "no_diversion", "verdict": "falsified"}])
    monkeypatch.setattr(C, "tamarin_path", lambda variant, root=None: results / f"expat__{variant}.json")
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "DISAGREE tamarin" in out and "NO REASON RECORDED" in out
    assert "z3 bound 1c1r0k0s" in out


def test_cli_shows_the_reason_of_an_understood_bound_disagreement(capsys):
    # resumption at one connection: its attacks need a second connection (reasons table, below 2)
    assert main(["proofs", "run", "--variant", "resumption", "--connections", "1", "--requests", "1",
                 "--reveals", "0", "--secrets", "0", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "UNDERSTOOD z3" in out and "a ticket is issued on one connection" in out


def test_timings_keep_only_earlier_bounds_measured_along_the_same_axis(tmp_path):
    from expat.proofs import record
    from expat.proofs.analysis import VariantReport

    path = tmp_path / "proofs" / "timings.json"
    path.parent.mkdir(parents=True)
    ci = Bound(2, 2, 1, 1)
    same = {"seconds": 9.0, "runs": 5, "bound": Bound(3, 2, 1, 1).to_json()}
    other = {"seconds": 392.2, "runs": 7, "bound": {"connections": 4, "requests": 2, "reveals": 1}}  # no secrets
    path.write_text(json.dumps({"bounds": {"3": same, "4": other}}), encoding="ascii")
    rep = VariantReport("default", runs=10, time_s=2.0, cpu_s=1.5)
    record.write_timings(ci, [rep], 2.5, {1: (0.5, 3, 0.4, 1.25)}, root=tmp_path, jobs=2)
    doc = json.loads(path.read_text(encoding="ascii"))
    assert sorted(doc["bounds"]) == ["1", "2", "3"]
    assert doc["bounds"]["2"]["cpu_s"] == 1.5 and doc["bounds"]["1"]["cpu_s"] == 0.4 and doc["jobs"] == 2
    assert doc["cpu_s_ci"] == 1.5
