"""`expat check` over corpora (model/corpus.py) and `expat traces synth` (traces/synth.py)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

import expat  # noqa: F401
from expat.cli import main
from expat.model import corpus
from expat.model.properties import PROPERTY_IDS

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "traces" / "golden"


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    assert main(["traces", "synth", "--count", "96", "--seed", "7", "--out", str(out)]) == 0
    return out


def _honest_dir(tmp_path: Path) -> Path:
    d = tmp_path / "corpus" / "nested"
    d.mkdir(parents=True)
    for p in sorted(GOLDEN.glob("honest-*.jsonl"))[:4]:
        shutil.copy(p, d / p.name)
    return tmp_path / "corpus"


def test_synth_is_deterministic_and_labelled(synth_dir, tmp_path):
    again = tmp_path / "again"
    assert main(["traces", "synth", "--count", "96", "--seed", "7", "--out", str(again)]) == 0
    names = sorted(p.name for p in synth_dir.glob("*.jsonl"))
    assert names == sorted(p.name for p in again.glob("*.jsonl")) and len(names) == 96
    assert all((synth_dir / n).read_bytes() == (again / n).read_bytes() for n in names)
    other = tmp_path / "other"
    main(["traces", "synth", "--count", "96", "--seed", "8", "--out", str(other)])
    assert any((synth_dir / n).read_bytes() != (other / n).read_bytes() for n in names if (other / n).exists())
    from expat.traces.synth import golden_mutations

    labels = [json.loads((synth_dir / n).read_text().splitlines()[0])["synthetic"] for n in names]
    assert {x["mutation"] for x in labels} == set(golden_mutations())  # every mutation, in turn
    assert all(x["expect"] in PROPERTY_IDS or x["expect"] == "" for x in labels)


def test_check_flags_each_synthetic_trace_with_its_label(synth_dir, capsys):
    assert main(["check", "--jsonl", "--labels", "--jobs", "2", str(synth_dir)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    verdicts, summary = lines[:-1], lines[-1]["summary"]
    assert len(verdicts) == 96 and summary["traces"] == 96 and summary["label_mismatches"] == 0
    for v in verdicts:
        header = json.loads(Path(v["trace"]).read_text().splitlines()[0])
        expect = header["synthetic"]["expect"]
        if expect:
            assert expect in v["broken"], v
        else:
            assert v["conformant"], v
    assert sum(summary["violations_per_property"].values()) == sum(len(v["broken"]) for v in verdicts)
    # without --labels the same corpus fails: it is full of violations
    assert main(["check", "-q", "--jobs", "1", str(synth_dir)]) == corpus.EXIT_VIOLATION


def test_a_wrong_label_is_a_mismatch(synth_dir, tmp_path):
    src = next(p for p in sorted(synth_dir.glob("*.jsonl")) if '"expect":"channel_binding"' in p.read_text())
    lines = src.read_text().splitlines()
    header = json.loads(lines[0])
    header["synthetic"]["expect"] = "no_resumption"
    bad = tmp_path / "mislabelled.jsonl"
    bad.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    assert main(["check", "--labels", "-q", str(bad)]) == corpus.EXIT_VIOLATION


def test_directories_jobs_and_exit_codes(tmp_path, capsys):
    d = _honest_dir(tmp_path)
    assert main(["check", str(d)]) == corpus.EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and all(line.endswith(": conformant") for line in out)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["check", str(empty)]) == corpus.EXIT_USAGE
    (d / "broken.jsonl").write_text("not json\n")
    assert main(["check", str(d)]) == corpus.EXIT_FORMAT
    assert main(["check", "--jobs", "0", str(d)]) == corpus.EXIT_USAGE


def test_parallel_verdicts_equal_serial_ones_in_order(synth_dir):
    files = corpus.trace_files([str(synth_dir)])
    assert list(corpus.verdicts(files, 2)) == list(corpus.verdicts(files, 1))


def test_summary_and_progress_only_on_a_terminal(tmp_path):
    d = _honest_dir(tmp_path)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out, err = io.StringIO(), io.StringIO()
    assert corpus.run([str(d)], jobs=1, mode="jsonl", out=out, err=err) == 0
    assert err.getvalue() == ""  # not a terminal, machine output: no bar, no table
    out, tty = io.StringIO(), Tty()
    assert corpus.run([str(d)], jobs=1, mode="jsonl", out=out, err=tty) == 0
    assert "\r[" in tty.getvalue() and "4/4 traces" in tty.getvalue()
    assert "conformant" in tty.getvalue() and "channel_binding" in tty.getvalue()
    out, err = io.StringIO(), io.StringIO()
    corpus.run([str(d)], jobs=1, out=out, err=err)  # text mode: the table on stderr, never the bar
    assert "\r[" not in err.getvalue()
    assert err.getvalue().splitlines()[0].split() == ["traces", "4"]


def test_a_verdict_carries_no_events():
    v = corpus.check_file(str(sorted(GOLDEN.glob("honest-*.jsonl"))[0]))
    assert set(v) <= {"trace", "conformant", "broken", "violations", "events", "label"}
    assert v["conformant"] and v["events"] > 10
