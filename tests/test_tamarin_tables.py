"""docs/tamarin.md's tables are the records' (tamarin/tables.py, `expat tamarin tables`)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from expat.tamarin import attacks, tables
from expat.tamarin.records import read_results

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "tamarin.md"


def test_the_page_holds_the_tables_rendered_from_the_committed_records():
    page = PAGE.read_text(encoding="utf-8")
    assert tables.splice(page, tables.render()) == page


def test_the_check_command_agrees_and_fails_on_a_page_that_drifted(tmp_path):
    run = [sys.executable, "-m", "expat", "tamarin", "tables", "--check"]
    ok = subprocess.run([*run, "--page", str(PAGE)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    drifted = tmp_path / "tamarin.md"
    page = PAGE.read_text(encoding="utf-8")
    row = "| `channel_binding` | verified | verified |"   # the default table's row
    assert row in page
    drifted.write_text(page.replace(row, "| `channel_binding` | **falsified** | verified |", 1), encoding="utf-8")
    bad = subprocess.run([*run, "--page", str(drifted)], capture_output=True, text=True)
    assert bad.returncode == 1 and "differ from the records" in bad.stderr
    fixed = subprocess.run([sys.executable, "-m", "expat", "tamarin", "tables", "--write", "--page", str(drifted)],
                           capture_output=True, text=True)
    assert fixed.returncode == 0 and drifted.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8")


def test_a_cell_names_verdict_time_memory_and_marks_the_unexpected():
    lemma = {"name": "x", "verdict": "verified", "expected": "verified", "wall_s": 20.0, "cpu_s": 11.6,
             "peak_rss_mb": 200.0}
    assert tables.cell(lemma) == "V 12s/0.2G"
    assert tables.cell({**lemma, "verdict": "timeout", "expected": "falsified", "cpu_s": 300.0}) == \
        "**T 300s/0.2G** (exp. F)"
    assert tables.cell({**lemma, "cpu_s": None}) == "V 20s/0.2G"   # wall time where no processor time
    assert tables.cell({**lemma, "verdict": "error"}).startswith("**E ")


def test_a_changed_record_changes_the_rendering():
    records = read_results()
    changed = copy.deepcopy(records)
    target = next(x for x in changed["no-binding-check"]["lemmas"] if x["name"] == "channel_binding")
    target["verdict"] = "verified"
    before, after = tables.variant_table(records), tables.variant_table(changed)
    assert before != after and "**V " in after


def test_every_attack_of_attacks_py_has_a_row():
    text = tables.render()["attacks"]
    for a in attacks.ATTACKS:
        assert f"`{a.lemma}`" in text


def test_a_page_without_a_block_is_refused():
    with pytest.raises(ValueError, match="variants"):
        tables.splice("no tables here", {"variants": "|x|"})
