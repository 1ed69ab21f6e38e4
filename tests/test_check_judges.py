"""The judge registry of the checker (issue 16): judges by name, on or off by default, selected by name on
the command line (``--judge``, ``--no-judge``; ``--formulas`` the same as ``--judge formulas``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from expat.cli import main
from expat.model import checker
from expat.model.trace import load_trace
from expat.model.verdicts import Violation

ROOT = Path(__file__).resolve().parents[1]
FORGED = str(ROOT / "traces/examples/synthetic-attack-forged-evidence.jsonl")


@pytest.fixture
def extra_judge():
    """An off-by-default judge that flags the trace's last event, registered for one test."""
    def judge(w):
        return [Violation("property", "evidence_integrity", len(w.done) - 1, "extra judge")]

    checker.register_judge("extra", judge, default=False)
    yield "extra"
    del checker.JUDGES["extra"]


def _details(result) -> list[str]:
    return [v.detail for v in result.violations]


def test_the_monitors_are_on_and_the_formulas_off_by_default():
    assert {n: j.default for n, j in checker.JUDGES.items()} == {"monitors": True, "formulas": False}
    assert checker.select_judges() == ("monitors",)
    assert checker.select_judges(add=["formulas"]) == ("monitors", "formulas")
    assert checker.select_judges(add=["formulas"], drop=["monitors"]) == ("formulas",)
    with pytest.raises(KeyError, match="nosuch"):
        checker.select_judges(add=["nosuch"])


def test_the_keyword_aliases_select_the_same_judges_as_names():
    trace = load_trace(FORGED)
    assert checker.check_trace(trace).to_json() == checker.check_trace(trace, judges=["monitors"]).to_json()
    assert checker.check_trace(trace, formulas=True).to_json() == \
        checker.check_trace(trace, judges=["monitors", "formulas"]).to_json()
    no_judges = checker.check_trace(trace, monitors=False)
    assert no_judges.to_json() == checker.check_trace(trace, judges=[]).to_json()
    assert not [v for v in no_judges.violations if v.kind == "property"]  # this trace breaks properties only
    assert [v for v in checker.check_trace(trace).violations if v.kind == "property"]


def test_an_off_by_default_judge_runs_only_when_selected(extra_judge):
    trace = load_trace(FORGED)
    assert "extra judge" not in _details(checker.check_trace(trace))
    assert "extra judge" in _details(checker.check_trace(trace, judges=checker.select_judges(add=[extra_judge])))


def test_a_judge_that_raises_is_reported_as_malformed_input():
    checker.register_judge("broken", lambda w: 1 / 0)
    try:
        found = checker.check_trace(load_trace(FORGED), judges=["broken"]).violations
    finally:
        del checker.JUDGES["broken"]
    assert [(v.id, v.detail) for v in found if v.id == "malformed-value"] == [("malformed-value",
                                                                            "ZeroDivisionError: division by zero")]


def _cli(capsys, *flags: str) -> tuple[int, dict]:
    code = main(["check", "--json", "-j", "1", *flags, FORGED])
    return code, json.loads(capsys.readouterr().out)


def test_the_command_line_selects_judges_by_name(capsys):
    assert _cli(capsys, "--formulas") == _cli(capsys, "--judge", "formulas")
    code, both = _cli(capsys, "--judge", "formulas")
    assert code == 1 and any(v["detail"].startswith("formula") for v in both["violations"])
    code, formulas_only = _cli(capsys, "--judge", "formulas", "--no-judge", "monitors")
    assert code == 1 and all(v["detail"].startswith("formula") for v in formulas_only["violations"])
    code, none = _cli(capsys, "--no-judge", "monitors")
    assert code == 0 and none["conformant"] and not none["violations"]


def test_an_unknown_judge_is_a_usage_error(capsys):
    assert main(["check", "-j", "1", "--judge", "nosuch", FORGED]) == 2
    assert "unknown judge nosuch" in capsys.readouterr().err
