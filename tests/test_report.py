"""`expat report` (perf/report.py): inputs read to their contracts, the side-by-side verdict cells,
graceful "not recorded"/"unreadable", escaping, byte-stable output, Markdown = HTML content."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

import expat  # noqa: F401  (before anything imports OpenSSL)
from expat.model.expectations import VARIANTS
from expat.perf import report
from expat.perf.report import tamarin_variant, write_report

EXAMPLES = Path(__file__).resolve().parents[1] / "traces" / "examples"
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


class Tables(HTMLParser):
    """Collects every table: caption, column headers (with scope), rows of (tag, scope, class, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.figures = 0
        self._cell: dict | None = None
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"caption": "", "head": [], "rows": []})
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td"):
            self._cell = {"tag": tag, "scope": a.get("scope"), "class": a.get("class"), "text": ""}
        elif tag == "br" and self._cell is not None:
            self._cell["text"] += "\n"
        elif tag == "figure":
            self.figures += 1

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag in ("th", "td") and self._cell is not None:
            self.tables[-1]["rows"][-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._in_caption:
            self.tables[-1]["caption"] += data
        elif self._cell is not None:
            self._cell["text"] += data

    def table(self, caption_start: str) -> dict:
        found = [t for t in self.tables if t["caption"].startswith(caption_start)]
        assert len(found) == 1, (caption_start, [t["caption"] for t in self.tables])
        return found[0]


def parse(html_text: str) -> Tables:
    p = Tables()
    p.feed(html_text)
    return p


def matrix_cell(tables: Tables, prop: str, variant: str) -> dict:
    t = tables.table("Property × variant")
    head = [c["text"] for c in t["rows"][0]]
    row = next(r for r in t["rows"][1:] if r[0]["text"] == prop)
    return row[head.index(variant)]


def _write(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    ex = r / "traces" / "examples"
    ex.mkdir(parents=True)
    for name in ("synthetic-honest-background", "synthetic-attack-spontaneous", "synthetic-attack-aik-misuse"):
        shutil.copy(EXAMPLES / f"{name}.jsonl", ex)
    _write(r / "proofs" / "verdicts.json", {
        "bound": {"connections": 2}, "z3_version": "4.13.0", "generated_by": "expat proofs run",
        "results": [
            {"property": "request_binding", "variant": "spontaneous-attestation", "verdict": "violated",
             "expected": "violated", "matches": True, "states": 1234, "time_s": 0.5,
             "counterexample": "proofs/cex/request_binding.txt"},
            {"property": "channel_binding", "variant": "default", "verdict": "violated", "expected": "holds",
             "matches": False, "states": 99, "time_s": 1.25, "counterexample": None},
            {"property": "no_such_property", "variant": "default", "verdict": "holds"},
        ]})
    _write(r / "tamarin" / "results" / "no-binding.json", {
        "theory": "expat.spthy", "flags": ["check_binding"], "tamarin_version": "1.8.0", "maude_version": "3.3.1",
        "host": "ci-runner", "started": "2026-01-01T00:00:00Z",
        "lemmas": [{"name": "channel_binding", "verdict": "falsified", "expected": "falsified", "wall_s": 12.5,
                    "peak_rss_mb": 300},
                   {"name": "aik_in_tee", "verdict": "falsified", "expected": "verified", "wall_s": 3.0,
                    "peak_rss_mb": 200},
                   {"name": "no_diversion", "verdict": "timeout", "expected": "falsified", "wall_s": 600.0,
                    "peak_rss_mb": 900}]})
    _write(r / "perf" / "results" / "latest.json", {
        "machine": {"cpus": 2}, "started": "2026-01-01T01:00:00Z",
        "figures": [{"name": "ea_vs_sign", "ratio": 3.5, "aim": "<= 5", "aim_met": True, "absolute": {"ea_ms": 1.2}},
                    {"name": "<script>alert(1)</script>", "ratio": 9.0, "aim": "<= 5", "aim_met": None,
                     "absolute": {}, "note": "no reference"},
                    {"name": "slow", "ratio": 12.0, "aim": "<= 5", "aim_met": False, "absolute": {"b": 2, "a": 1}}]})
    return r


def render(root: Path, out: Path, now=NOW) -> tuple[str, str]:
    write_report(out, root, now)
    return (out / "index.html").read_text(encoding="utf-8"), (out / "report.md").read_text(encoding="utf-8")


def test_side_by_side_cells_follow_the_inputs(root, tmp_path):
    html_text, _ = render(root, tmp_path / "out")
    t = parse(html_text)
    c = matrix_cell(t, "request_binding", "spontaneous-attestation")
    assert c["text"].split("\n") == ["expect: violated", "z3: violated ✓", "Tamarin: not run",
                                     "monitors: 1/1 flagged ✓"]
    assert c["class"] == "ok"
    c = matrix_cell(t, "channel_binding", "default")       # the proof disagrees with expectations.py
    assert "z3: violated ✗" in c["text"] and c["class"] == "bad"
    c = matrix_cell(t, "aik_ownership", "default")         # the aik-misuse trace is a default-profile trace
    assert "monitors: 1/2 flagged ✗" in c["text"] and c["class"] == "bad"
    assert "monitors: 0/2 flagged ✓" in matrix_cell(t, "evidence_integrity", "default")["text"]
    c = matrix_cell(t, "channel_binding", "no-binding-check")
    assert c["text"].split("\n")[1:] == ["z3: not recorded", "Tamarin: falsified ✓", "monitors: no trace"]
    assert "Tamarin: falsified ✗" in matrix_cell(t, "aik_in_tee", "no-binding-check")["text"]
    assert "Tamarin: timeout (inconclusive)" in matrix_cell(t, "no_diversion", "no-binding-check")["text"]
    assert matrix_cell(t, "no_resumption", "resumption")["text"].split("\n") == [
        "expect: violated", "z3: not recorded", "Tamarin: not run", "monitors: no trace"]
    # accessible tables: every one has a caption, scoped column headers and row headers
    for tab in t.tables:
        assert tab["caption"]
        assert all(c["tag"] == "th" and c["scope"] == "col" for c in tab["rows"][0])
        assert all(r[0]["tag"] == "th" and r[0]["scope"] == "row" for r in tab["rows"][1:])


def test_details_tables(root, tmp_path):
    t = parse(render(root, tmp_path / "out")[0])
    proofs = t.table("Bounded proof results")
    rows = {r[0]["text"]: [c["text"] for c in r[1:]] for r in proofs["rows"][1:]}
    assert rows == {"request_binding / spontaneous-attestation": ["violated", "violated", "1234", "0.5 s",
                                                                  "proofs/cex/request_binding.txt"],
                    "channel_binding / default": ["violated", "holds", "99", "1.25 s", "—"]}
    lemmas = t.table("Lemmas of tamarin/results/no-binding.json")
    rows = {r[0]["text"]: [c["text"] for c in r[1:]] for r in lemmas["rows"][1:]}
    assert rows["aik_in_tee"] == ["falsified", "verified", "3 s", "200 MB"]
    assert rows["channel_binding"] == ["falsified", "falsified", "12.5 s", "300 MB"]
    bench = t.table("Benchmark figures")
    cells = {r[0]["text"]: r for r in bench["rows"][1:]}
    assert [c["text"] for c in cells["ea_vs_sign"][1:]] == ["3.5", "<= 5", "yes", "ea_ms: 1.2", "—"]
    assert [c["text"] for c in cells["<script>alert(1)</script>"][1:]] == ["9", "<= 5", "—", "", "no reference"]
    assert cells["<script>alert(1)</script>"][3]["class"] == "na"
    assert [c["text"] for c in cells["slow"][1:]] == ["12", "<= 5", "no", "a: 1, b: 2", "—"]
    assert cells["slow"][3]["class"] == "bad"
    mon = t.table("Monitor results per trace")
    rows = {r[0]["text"]: [c["text"] for c in r[1:]] for r in mon["rows"][1:]}
    assert rows["traces/examples/synthetic-attack-spontaneous.jsonl"] == [
        "attack", "spontaneous-attestation", "reject_spontaneous_attestation", "conformant", "request_binding",
        "matches"]
    inputs = {r[0]["text"]: r[2]["text"] for r in t.table("Inputs read")["rows"][1:]}
    assert inputs["bounded proofs"] == "found" and inputs["Tamarin results"] == "found (1 run(s))"
    assert inputs["honest traces for the charts"] == "found: synthetic (1)"
    assert "result 2 ignored" in render(root, tmp_path / "o2")[0]


def test_missing_inputs_read_not_recorded(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    html_text, md = render(empty, tmp_path / "out")
    t = parse(html_text)
    inputs = {r[0]["text"]: r[2]["text"] for r in t.table("Inputs read")["rows"][1:]}
    assert inputs == {"bounded proofs": "not recorded", "Tamarin results": "not recorded",
                      "traces for the monitors": "not recorded", "honest traces for the charts": "not recorded",
                      "requirement catalogue": "found", "benchmarks": "not recorded"}
    assert matrix_cell(t, "channel_binding", "default")["text"].split("\n") == [
        "expect: holds", "z3: not recorded", "Tamarin: not run", "monitors: no trace"]
    expected = {r[0]["text"]: [c["text"] for c in r[1:]] for r in t.table("Expected lemma verdicts")["rows"][1:]}
    assert expected["no-aik-hash-check"][0] == "check_aik_pub_hash"
    # the table shows expectations.py as it stands (that file is the input, owned by the proofs work)
    assert expected["no-aik-hash-check"][2] == ", ".join(VARIANTS["no-aik-hash-check"].violated)
    assert "aik_in_tee" in expected["no-aik-hash-check"][2]
    assert expected["no-aik-hash-check"][3] == "not run"
    assert t.figures == 0 and "Not run: no results in tamarin/results/" in html_text
    assert not list((tmp_path / "out").glob("*.svg"))
    assert "perf/results/latest.json: not recorded." in md


def test_unreadable_inputs_are_reported_not_raised(tmp_path):
    r = tmp_path / "bad"
    _write(r / "proofs" / "verdicts.json", "{not json")
    _write(r / "tamarin" / "results" / "x.json", {"lemmas": "nope"})
    _write(r / "perf" / "results" / "latest.json", {"figures": {"a": 1}})
    _write(r / "traces" / "examples" / "synthetic-honest-broken.jsonl", "this is not a trace\n")
    _write(r / "traces" / "examples" / "synthetic-attack-x.jsonl", '{"type":"event"}\n')
    t = parse(render(r, tmp_path / "out")[0])
    inputs = {row[0]["text"]: row[2]["text"] for row in t.table("Inputs read")["rows"][1:]}
    assert inputs["bounded proofs"].startswith("unreadable: JSONDecodeError")
    assert inputs["benchmarks"] == 'unreadable: no "figures" list'
    mon = {row[0]["text"]: row[4] for row in t.table("Monitor results per trace")["rows"][1:]}
    assert mon["traces/examples/synthetic-honest-broken.jsonl"]["text"].startswith("unreadable: TraceFormatError")
    assert mon["traces/examples/synthetic-attack-x.jsonl"]["class"] == "bad"
    html_text = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'tamarin/results/x.json: no "lemmas" list' in html_text.replace("&quot;", '"')


def test_golden_traces_preferred_for_charts_and_monitors(root, tmp_path):
    golden = root / "traces" / "golden"
    golden.mkdir(parents=True)
    shutil.copy(EXAMPLES / "synthetic-honest-passport.jsonl", golden / "honest-client-passport.jsonl")
    out = tmp_path / "out"
    t = parse(render(root, out)[0])
    assert sorted(p.name for p in out.glob("*.svg")) == ["msc-honest-client-passport.svg"]
    assert t.figures == 1
    runs = [r[0]["text"] for r in t.table("Monitor results per trace")["rows"][1:]]
    # honest set from golden; no golden attack trace, so the attack set stays synthetic
    assert runs == ["traces/golden/honest-client-passport.jsonl", "traces/examples/synthetic-attack-aik-misuse.jsonl",
                    "traces/examples/synthetic-attack-spontaneous.jsonl"]


def test_escaping(root, tmp_path):
    html_text, md = render(root, tmp_path / "out")
    assert "<script>" not in html_text and "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;" in md


def test_byte_stable_apart_from_the_generated_line(root, tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    render(root, a)
    render(root, b)
    render(root, c, now=NOW + dt.timedelta(days=400))
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and "index.html" in names and "report.md" in names
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n
    for n in ("index.html", "report.md"):
        la, lc = (a / n).read_text().splitlines(), (c / n).read_text().splitlines()
        diff = [(x, y) for x, y in zip(la, lc) if x != y]
        assert len(la) == len(lc) and len(diff) == 1, n
        assert "2026-01-02T03:04:05Z" in diff[0][0] and "2027-02-06T03:04:05Z" in diff[0][1]


def test_markdown_holds_the_same_tables_and_charts(root, tmp_path):
    out = tmp_path / "out"
    html_text, md = render(root, out)
    t = parse(html_text)
    md_tables = re.findall(r"^\*\*(.+)\*\*\n\n(\|.*\|\n(?:\|.*\|\n)+)", md, flags=re.M)
    assert len(md_tables) == len(t.tables)
    for (caption, body), tab in zip(md_tables, t.tables):
        assert len(body.strip().splitlines()) == len(tab["rows"]) + 1, caption    # + the |---| line
    for svg in out.glob("*.svg"):
        assert f"]({svg.name})" in md
        assert svg.read_text(encoding="utf-8").rstrip() in html_text          # the same SVG inline


def test_tamarin_flags_to_variant():
    assert tamarin_variant([]) == "default"
    assert tamarin_variant(["no-binding-check"]) == "no-binding-check"
    assert tamarin_variant(["check_binding"]) == "no-binding-check"
    assert tamarin_variant(["no_check_exporter_label"]) == "any-exporter-label"
    assert tamarin_variant(["-D=OFF_check_aik_pub_hash"]) == "no-aik-hash-check"   # expat/tamarin's macros
    assert tamarin_variant(["OFF_check_evidence_signature"]) == "evidence-signature-unchecked"
    assert tamarin_variant(["check_binding", "check_aik_pub_hash"]) is None
    assert tamarin_variant("check_binding") is None


def test_sample_generated_line_honours_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert report.generated_line() == "Generated 1970-01-01T00:00:00Z by expat report."


def test_cli_writes_the_report(root, tmp_path, capsys):
    from expat.cli import main

    out = tmp_path / "cli-out"
    assert main(["report", "--out", str(out), "--root", str(root)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "msc-synthetic-honest-background.svg",
                                                     "report.md"]
    printed = capsys.readouterr().out
    assert f"wrote {out / 'index.html'}" in printed and "wrote 1 sequence chart(s)" in printed
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["report", "--out", str(blocker), "--root", str(root)]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_tamarin_cells_come_from_the_committed_theory_s_records_only():
    """tamarin/results/ also holds the attack theory's runs (attacks__*.json): their lemma names contain
    property ids, but they are not the property lemmas and never fill a property cell."""
    from pathlib import Path

    from expat.perf.report_inputs import read_tamarin

    root = Path(__file__).resolve().parents[1]
    tam = read_tamarin(root)
    assert any("attacks__" in run.file for run in tam.runs)
    assert tam.by_key and all("expat__" in src for _, src in tam.by_key.values())
    lemma, _ = tam.by_key[("request_binding", "default")]
    assert lemma["name"] == "request_binding"
