"""`expat report`: one page a reviewer opens (static HTML, plus the same content as Markdown).

Sections: the inputs found; property x variant verdicts with the bounded proofs, the recorded Tamarin
runs and the runtime monitors side by side; per-input details; message sequence charts of the honest
golden traces; requirement coverage; benchmark ratios. Every input is optional: a missing one reads
"not recorded", an unreadable one says why; nothing here raises on bad input.

The page is built once as a list of neutral blocks (heading, paragraph, table, figure) and rendered
twice, so the HTML and the Markdown hold the same content. Output is byte-stable for the same inputs
except the single "Generated" line (which honours SOURCE_DATE_EPOCH).

Inputs (paths relative to the repository root; contracts in docs/report.md):
  proofs/verdicts.json            bounded z3 proofs
  tamarin/results/*.json          Tamarin runs
  traces/golden/{honest,attack}-*.jsonl, else traces/examples/synthetic-{honest,attack}-*.jsonl
  expat/spec/catalogue.json       requirement catalogue (through expat.spec.catalogue)
  benchmarks/results/latest.json  benchmark figures
"""

from __future__ import annotations

import argparse
import datetime as _dt
import html
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import expat
from expat.model.expectations import VARIANTS, Variant
from expat.model.properties import PROPERTY_IDS, STATEMENTS
from expat.model.roles import FLAGS, flag

ROOT = Path(__file__).resolve().parents[2]
NOT_RECORDED = "not recorded"

PROOFS_PATH = "proofs/verdicts.json"
TAMARIN_DIR = "tamarin/results"
GOLDEN_DIR = "traces/golden"
EXAMPLES_DIR = "traces/examples"
BENCH_PATH = "benchmarks/results/latest.json"
CATALOGUE_REL = "expat/spec/catalogue.json"

# Cell states: how a cell compares with expectations.py (shown as text and as a colour class).
OK, BAD, NEUTRAL = "ok", "bad", "na"


# --- the neutral document ------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    lines: tuple[str, ...]
    state: str = ""

    @staticmethod
    def of(*lines: str, state: str = "") -> "Cell":
        return Cell(tuple(lines), state)


CellLike = Union[str, Cell]


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[CellLike, ...], ...]   # first cell of a row is its header (th scope=row)
    wide: bool = False


@dataclass(frozen=True)
class Figure:
    caption: str
    file: str        # SVG file name next to the Markdown
    svg: str


Block = Union[Heading, Para, Bullets, Table, Figure]


# --- reading inputs ------------------------------------------------------------------------------

@dataclass
class Input:
    name: str
    path: str
    status: str            # "found", NOT_RECORDED, or "unreadable: ..."


def _read_json(path: Path) -> tuple[Optional[Any], str]:
    if not path.exists():
        return None, NOT_RECORDED
    try:
        return json.loads(path.read_text(encoding="utf-8")), "found"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"unreadable: {type(e).__name__}: {e}"


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _num(v: Any, unit: str = "") -> str:
    """A number as fixed text (never 'nan'); anything else as its string."""
    if isinstance(v, bool) or v is None:
        return "—" if v is None else str(v).lower()
    if isinstance(v, int):
        return f"{v}{unit}"
    if isinstance(v, float):
        return f"{v:.3g}{unit}" if math.isfinite(v) else str(v)
    return str(v)


def _str(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False)


@dataclass
class Proofs:
    status: str
    meta: dict[str, Any] = field(default_factory=dict)
    by_key: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_proofs(root: Path) -> Proofs:
    data, status = _read_json(root / PROOFS_PATH)
    if data is None:
        return Proofs(status)
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return Proofs("unreadable: no \"results\" list")
    out = Proofs("found", {k: data.get(k) for k in ("bound", "z3_version", "generated_by")})
    for n, r in enumerate(data["results"]):
        if not isinstance(r, dict) or r.get("property") not in PROPERTY_IDS or r.get("variant") not in VARIANTS \
                or r.get("verdict") not in ("holds", "violated"):
            out.problems.append(f"result {n} ignored: unknown property/variant or verdict")
            continue
        key = (r["property"], r["variant"])
        if key in out.by_key:
            out.problems.append(f"result {n}: {key[0]} / {key[1]} recorded twice; the last one is shown")
        out.by_key[key] = r
    return out


@dataclass
class TamarinRun:
    file: str
    data: dict[str, Any]
    variant: Optional[str]
    lemmas: list[dict[str, Any]]


@dataclass
class Tamarin:
    status: str
    runs: list[TamarinRun] = field(default_factory=list)
    by_key: dict[tuple[str, str], tuple[dict[str, Any], str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _norm_flag(f: str) -> str:
    f = f.strip()
    f = (f[3:] if f[:3] in ("-D=", "-D ") else f).strip().lower().replace("-", "_")
    for prefix in ("no_", "off_", "not_"):
        if f.startswith(prefix) and f[len(prefix):] in FLAGS:
            return f[len(prefix):]
    return f


def tamarin_variant(flags: Any) -> Optional[str]:
    """The variant a run's preprocessor flags stand for: a variant's name among the flags; or the
    flags (optionally written -D=OFF_x, OFF_x, no_x as the Tamarin export does) equal to the variant's
    switched-off mitigations; or the flags
    equal to the mitigations left on. None when no variant fits (shown as such)."""
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        return None
    names = [v for v in VARIANTS if v in flags]
    if len(names) == 1:
        return names[0]
    norm = {_norm_flag(f) for f in flags}
    for v in VARIANTS.values():
        if norm == set(v.off):
            return v.name
    for v in VARIANTS.values():
        if norm == set(FLAGS) - set(v.off):
            return v.name
    return None


def lemma_property(name: Any) -> Optional[str]:
    """Lemmas are named by property id (docs/model.md); a longer name containing one id also maps."""
    if not isinstance(name, str):
        return None
    if name in PROPERTY_IDS:
        return name
    hits = [p for p in PROPERTY_IDS if p in name]
    return max(hits, key=len) if hits else None


def read_tamarin(root: Path) -> Tamarin:
    d = root / TAMARIN_DIR
    files = sorted(d.glob("*.json")) if d.is_dir() else []
    if not files:
        return Tamarin(NOT_RECORDED)
    out = Tamarin("found")
    for p in files:
        data, status = _read_json(p)
        rel = _rel(p, root)
        if not isinstance(data, dict) or not isinstance(data.get("lemmas"), list):
            out.problems.append(f"{rel}: " + (status if data is None else 'no "lemmas" list'))
            continue
        lemmas = [lm for lm in data["lemmas"] if isinstance(lm, dict)]
        run = TamarinRun(rel, data, tamarin_variant(data.get("flags")), lemmas)
        out.runs.append(run)
        if run.variant is None:
            continue
        for lm in lemmas:
            prop = lemma_property(lm.get("name"))
            if prop is not None:
                out.by_key[(prop, run.variant)] = (lm, rel)
    return out


@dataclass
class TraceRun:
    file: str
    kind: str                    # "honest" or "attack"
    description: str
    variant: Optional[str]
    off: tuple[str, ...]
    error: str = ""
    conformant: bool = False
    rules: tuple[str, ...] = ()
    flagged: tuple[str, ...] = ()
    expect: Optional[tuple[str, ...]] = None   # header "expect.properties" of synthetic examples


@dataclass
class Monitors:
    source: str                  # where the traces came from
    runs: list[TraceRun] = field(default_factory=list)


def trace_files(root: Path, kind: str) -> tuple[list[Path], str]:
    """Golden traces of ``kind`` when any is present, else the synthetic examples."""
    pattern = {"honest": "honest-*.jsonl", "attack": "attack-*-unmitigated.jsonl"}[kind]
    golden = sorted((root / GOLDEN_DIR).glob(pattern)) if (root / GOLDEN_DIR).is_dir() else []
    if golden:
        return golden, "golden"
    ex = root / EXAMPLES_DIR
    return (sorted(ex.glob(f"synthetic-{kind}-*.jsonl")) if ex.is_dir() else []), "synthetic"


def variant_of(profile: dict) -> tuple[Optional[str], tuple[str, ...]]:
    """The variant whose switched-off flags are exactly the profile's (None if no variant is)."""
    off = tuple(f for f in FLAGS if not flag(profile, f))
    for v in VARIANTS.values():
        if set(v.off) == set(off):
            return v.name, off
    return None, off


def run_monitors(root: Path) -> Monitors:
    from expat.model.checker import check_trace
    from expat.model.trace import TraceFormatError, load_trace

    sources = []
    runs: list[TraceRun] = []
    for kind in ("honest", "attack"):
        files, src = trace_files(root, kind)
        if files:
            sources.append(f"{kind}: {src} ({len(files)})")
        for p in files:
            rel = _rel(p, root)
            try:
                t = load_trace(p)
            except (TraceFormatError, OSError, UnicodeDecodeError, ValueError) as e:
                runs.append(TraceRun(rel, kind, "", None, (), error=f"{type(e).__name__}: {e}"))
                continue
            variant, off = variant_of(t.profile if isinstance(t.profile, dict) else {})
            r = check_trace(t)
            exp = t.header.get("expect")
            expect = tuple(sorted(exp["properties"])) if isinstance(exp, dict) and isinstance(
                exp.get("properties"), list) else None
            runs.append(TraceRun(rel, kind, str(t.header.get("description", "")), variant, off, "",
                                 r.conformant, tuple(sorted(r.rules())), tuple(sorted(r.properties())), expect))
    return Monitors("; ".join(sources) if sources else NOT_RECORDED, runs)


@dataclass
class Diagram:
    name: str
    file: str
    svg: str
    error: str = ""


def diagrams(root: Path) -> tuple[list[Diagram], str]:
    from expat.model.trace import TraceFormatError, load_trace
    from expat.perf.msc import trace_svg

    files, src = trace_files(root, "honest")
    out = []
    for p in files:
        name = p.stem
        try:
            t = load_trace(p)
        except (TraceFormatError, OSError, UnicodeDecodeError, ValueError) as e:
            out.append(Diagram(name, "", "", f"{type(e).__name__}: {e}"))
            continue
        title = f"{name}: {t.header.get('description', '')}".rstrip(": ")
        out.append(Diagram(name, f"msc-{name}.svg", trace_svg(t, title, f"msc-{name}")))
    return out, src if files else NOT_RECORDED


def read_coverage() -> tuple[Optional[list[tuple[str, Any]]], str]:
    from expat.spec.catalogue import coverage, load_catalogue

    try:
        cat = load_catalogue()
    except (OSError, ValueError, TypeError, KeyError) as e:
        return None, f"unreadable: {type(e).__name__}: {e}"
    scopes = [("all", cat.entries)] + [(f"revision {r}", cat.revision(r))
                                       for r in sorted({r for e in cat.entries for r in e.revisions})]
    return [(name, coverage(entries)) for name, entries in scopes], "found"


# --- building the page ---------------------------------------------------------------------------

def _expected_word(variant: Variant, prop: str) -> str:
    return "holds" if variant.holds(prop) else "violated"


def _proof_line(proofs: Proofs, prop: str, v: Variant) -> tuple[str, str]:
    r = proofs.by_key.get((prop, v.name))
    if r is None:
        return "z3: not recorded", NEUTRAL
    good = r["verdict"] == _expected_word(v, prop)
    return f"z3: {r['verdict']} {'✓' if good else '✗'}", OK if good else BAD


def _tamarin_line(tam: Tamarin, prop: str, v: Variant) -> tuple[str, str]:
    hit = tam.by_key.get((prop, v.name))
    if hit is None:
        return "Tamarin: not run", NEUTRAL
    verdict = hit[0].get("verdict")
    want = "verified" if v.holds(prop) else "falsified"
    if verdict in ("verified", "falsified"):
        return f"Tamarin: {verdict} {'✓' if verdict == want else '✗'}", OK if verdict == want else BAD
    return f"Tamarin: {_str(verdict)} (inconclusive)", NEUTRAL


def _monitor_line(mon: Monitors, prop: str, v: Variant) -> tuple[str, str]:
    runs = [r for r in mon.runs if r.variant == v.name and not r.error]
    if not runs:
        return "monitors: no trace", NEUTRAL
    flagged = [r for r in runs if prop in r.flagged]
    if v.holds(prop):
        if flagged:
            return f"monitors: {len(flagged)}/{len(runs)} flagged ✗", BAD
        return f"monitors: 0/{len(runs)} flagged ✓", OK
    if flagged:
        return f"monitors: {len(flagged)}/{len(runs)} flagged ✓", OK
    return f"monitors: 0/{len(runs)} flagged, not exercised", NEUTRAL


def _cell_state(states: list[str]) -> str:
    if BAD in states:
        return BAD
    return OK if OK in states else NEUTRAL


def verdict_matrix(proofs: Proofs, tam: Tamarin, mon: Monitors) -> Table:
    rows = []
    for prop in PROPERTY_IDS:
        cells: list[CellLike] = [prop]
        for v in VARIANTS.values():
            lines = [_proof_line(proofs, prop, v), _tamarin_line(tam, prop, v), _monitor_line(mon, prop, v)]
            cells.append(Cell((f"expect: {_expected_word(v, prop)}",) + tuple(t for t, _ in lines),
                              _cell_state([s for _, s in lines])))
        rows.append(tuple(cells))
    return Table("Property × variant: expected verdict (expat/model/expectations.py), bounded proof, Tamarin and "
                 "runtime monitors side by side",
                 ("property",) + tuple(VARIANTS), tuple(rows), wide=True)


def _inputs_table(inputs: list[Input]) -> Table:
    return Table("Inputs read for this report", ("input", "path", "status"),
                 tuple((i.name, i.path, Cell.of(i.status, state=OK if i.status.startswith("found") else NEUTRAL))
                       for i in inputs))


def _proof_blocks(proofs: Proofs) -> list[Block]:
    out: list[Block] = [Heading(2, "Bounded proofs (z3)", "proofs")]
    if proofs.status != "found":
        return out + [Para(f"{PROOFS_PATH}: {proofs.status}.")]
    m = proofs.meta
    out.append(Para(f"Bound: {_str(m.get('bound'))}; z3 {_str(m.get('z3_version'))}; generated by "
                    f"{_str(m.get('generated_by'))}. {len(proofs.by_key)} of {len(PROPERTY_IDS) * len(VARIANTS)} "
                    f"property/variant pairs recorded."))
    rows = []
    for v in VARIANTS.values():
        for prop in PROPERTY_IDS:
            r = proofs.by_key.get((prop, v.name))
            if r is None:
                continue
            mine = _expected_word(v, prop)
            note = "" if r.get("expected") in (None, mine) else f" (file says {_str(r.get('expected'))})"
            good = r["verdict"] == mine
            rows.append((f"{prop} / {v.name}", Cell.of(r["verdict"], state=OK if good else BAD), mine + note,
                         _num(r.get("states")), _num(r.get("time_s"), " s"),
                         _str(r["counterexample"]) if r.get("counterexample") else "—"))
    out.append(Table("Bounded proof results", ("property / variant", "verdict", "expected", "states", "time",
                                               "counterexample"), tuple(rows)))
    if proofs.problems:
        out.append(Bullets(tuple(proofs.problems)))
    return out


def _tamarin_blocks(tam: Tamarin) -> list[Block]:
    out: list[Block] = [Heading(2, "Tamarin", "tamarin")]
    if tam.status != "found":
        out.append(Para(f"Not run: no results in {TAMARIN_DIR}/ (the prover is not installed on the machine that "
                        f"made this report). The verdicts each run is expected to give:"))
    rows = []
    for v in VARIANTS.values():
        runs = [r.file for r in tam.runs if r.variant == v.name]
        rows.append((v.name, ", ".join(v.off) or "—",
                     ", ".join(p for p in PROPERTY_IDS if v.holds(p)) or "—",
                     ", ".join(v.violated) or "—", ", ".join(runs) or "not run"))
    out.append(Table("Expected lemma verdicts per variant", ("variant", "mitigations off", "expected verified",
                                                             "expected falsified", "recorded runs"), tuple(rows)))
    for run in tam.runs:
        d = run.data
        out.append(Para(f"{run.file}: theory {_str(d.get('theory'))}, flags {_str(d.get('flags'))} "
                        f"(variant: {run.variant or 'none matches'}), Tamarin {_str(d.get('tamarin_version'))}, "
                        f"Maude {_str(d.get('maude_version'))}, host {_str(d.get('host'))}, "
                        f"started {_str(d.get('started'))}."))
        lrows = []
        for lm in run.lemmas:
            prop = lemma_property(lm.get("name"))
            want = ("verified" if VARIANTS[run.variant].holds(prop) else "falsified") \
                if run.variant and prop else "—"
            verdict = _str(lm.get("verdict"))
            state = NEUTRAL if want == "—" or verdict not in ("verified", "falsified") else (
                OK if verdict == want else BAD)
            note = "" if lm.get("expected") in (None, want) or want == "—" else f" (file says {_str(lm['expected'])})"
            lrows.append((_str(lm.get("name")), Cell.of(verdict, state=state), want + note,
                          _num(lm.get("wall_s"), " s"), _num(lm.get("peak_rss_mb"), " MB")))
        out.append(Table(f"Lemmas of {run.file}", ("lemma", "verdict", "expected", "wall time", "peak RSS"),
                         tuple(lrows)))
    if tam.problems:
        out.append(Bullets(tuple(tam.problems)))
    return out


def _monitor_blocks(mon: Monitors) -> list[Block]:
    out: list[Block] = [Heading(2, "Runtime monitors", "monitors")]
    if not mon.runs:
        return out + [Para(f"Traces: {NOT_RECORDED}.")]
    out.append(Para(f"expat.model.checker.check_trace over every trace ({mon.source}). A trace counts for the "
                    "variant whose switched-off mitigations are exactly the ones in its header profile."))
    rows = []
    for r in mon.runs:
        if r.error:
            rows.append((r.file, r.kind, "—", "—", Cell.of(f"unreadable: {r.error}", state=BAD), "—", "—"))
            continue
        if r.expect is None:
            exp = Cell.of("—")
        else:
            exp = Cell.of("matches" if r.expect == r.flagged else "differs: " + (", ".join(r.expect) or "none"),
                          state=OK if r.expect == r.flagged else BAD)
        rows.append((r.file, r.kind, r.variant or "none (" + ", ".join(r.off) + " off)",
                     ", ".join(r.off) or "—",
                     Cell.of("conformant" if not r.rules else "rules broken: " + ", ".join(r.rules),
                             state=OK if not r.rules else NEUTRAL),
                     Cell.of(", ".join(r.flagged) or "none", state=NEUTRAL),
                     exp))
    out.append(Table("Monitor results per trace", ("trace", "kind", "variant", "mitigations off", "model rules",
                                                   "properties flagged", "trace's own expectation"), tuple(rows)))
    return out


def _diagram_blocks(diags: list[Diagram], src: str) -> list[Block]:
    out: list[Block] = [Heading(2, "Message sequence charts", "sequence-charts")]
    if not diags:
        return out + [Para(f"Honest traces: {NOT_RECORDED}.")]
    out.append(Para(f"Honest traces ({src}). One row per event, time flowing down; arrows pair a send with the "
                    "receive it caused, dashed arrows have no recorded receive, boxes are local events."))
    for d in diags:
        if d.error:
            out.append(Para(f"{d.name}: unreadable: {d.error}"))
        else:
            out.append(Figure(d.name, d.file, d.svg))
    return out


def _coverage_blocks(cov: Optional[list[tuple[str, Any]]], status: str) -> list[Block]:
    from expat.spec.catalogue import COVERAGE_KINDS

    out: list[Block] = [Heading(2, "Requirement coverage", "coverage")]
    if cov is None:
        return out + [Para(f"{CATALOGUE_REL}: {status}.")]
    out.append(Para("From the requirement catalogue (expat spec coverage): how many requirements link to at least "
                    "one named check, test, monitor and lemma."))
    rows = []
    for name, c in cov:
        rows.append((name, str(c.total)) + tuple(
            f"{c.covered[k]}/{c.total} ({round(100 * c.covered[k] / c.total) if c.total else 0}%)"
            for k in COVERAGE_KINDS))
    out.append(Table("Requirements covered, by revision", ("scope", "requirements") + COVERAGE_KINDS, tuple(rows)))
    missing = cov[0][1].missing
    out.append(Table("Requirements without a link (all revisions)", ("kind", "requirement ids"),
                     tuple((k, ", ".join(missing[k]) or "none") for k in COVERAGE_KINDS)))
    return out


def _bench_blocks(root: Path) -> tuple[list[Block], str]:
    out: list[Block] = [Heading(2, "Benchmarks", "benchmarks")]
    data, status = _read_json(root / BENCH_PATH)
    if data is None:
        return out + [Para(f"{BENCH_PATH}: {status}.")], status
    if not isinstance(data, dict) or not isinstance(data.get("figures"), list):
        status = "unreadable: no \"figures\" list"
        return out + [Para(f"{BENCH_PATH}: {status}.")], status
    machine = data.get("machine")
    mtext = ", ".join(f"{k}: {_str(machine[k])}" for k in sorted(machine)) if isinstance(machine, dict) else "—"
    out.append(Para(f"Started {_str(data.get('started'))}; machine {mtext}. Ratios are measured against a "
                    "reference in the same run (see benchmarks/)."))
    rows = []
    for f in data["figures"]:
        if not isinstance(f, dict):
            continue
        met = f.get("aim_met")
        absolute = f.get("absolute")
        abs_text = ", ".join(f"{k}: {_num(absolute[k])}" for k in sorted(absolute)) \
            if isinstance(absolute, dict) else _str(absolute)
        rows.append((_str(f.get("name")), _num(f.get("ratio")), _str(f.get("aim")),
                     Cell.of("yes" if met is True else "no" if met is False else "—",
                             state=OK if met is True else BAD if met is False else NEUTRAL), abs_text,
                     _str(f["note"]) if f.get("note") else "—"))
    out.append(Table("Benchmark figures", ("figure", "ratio", "aim", "aim met", "absolute", "note"), tuple(rows)))
    return out, "found"


def build(root: Path = ROOT) -> tuple[str, list[Block]]:
    """Read every input under ``root`` and lay out the page. Returns (title, blocks)."""
    proofs = read_proofs(root)
    tam = read_tamarin(root)
    mon = run_monitors(root)
    diags, dsrc = diagrams(root)
    cov, cov_status = read_coverage()
    bench, bench_status = _bench_blocks(root)
    inputs = [
        Input("bounded proofs", PROOFS_PATH, proofs.status),
        Input("Tamarin results", TAMARIN_DIR + "/*.json",
              f"found ({len(tam.runs)} run(s))" if tam.status == "found" else tam.status),
        Input("traces for the monitors", f"{GOLDEN_DIR}/, else {EXAMPLES_DIR}/",
              f"found: {mon.source}" if mon.runs else NOT_RECORDED),
        Input("honest traces for the charts", f"{GOLDEN_DIR}/honest-*.jsonl, else synthetic",
              f"found: {dsrc} ({len(diags)})" if diags else NOT_RECORDED),
        Input("requirement catalogue", CATALOGUE_REL, cov_status),
        Input("benchmarks", BENCH_PATH, bench_status),
    ]
    blocks: list[Block] = [
        Para(f"expat {expat.__version__}; draft-fossati-seat-expat-02. Variants are the default profile with the "
             "listed mitigations switched off (expat/model/expectations.py)."),
        _inputs_table(inputs),
        Heading(2, "Verdicts side by side", "verdicts"),
        Para("Each cell: the expected verdict, then the bounded proof (z3), Tamarin and the runtime monitors "
             "(traces of that variant that flagged the property / traces of that variant); ✓ agrees with the "
             "expectation, ✗ disagrees. Monitors see concrete traces: \"not exercised\" means no trace of that "
             "variant shows the violation, \"no trace\" that no trace was recorded for the variant."),
        verdict_matrix(proofs, tam, mon),
        Table("Properties", ("property", "statement"), tuple((p, STATEMENTS[p]) for p in PROPERTY_IDS)),
    ]
    blocks += _proof_blocks(proofs) + _tamarin_blocks(tam) + _monitor_blocks(mon)
    blocks += _diagram_blocks(diags, dsrc) + _coverage_blocks(cov, cov_status) + bench
    return "expat report", blocks


# --- rendering -----------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1500px;
padding:0 1rem;color:#1b1f24;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.8rem 0;font-size:.86rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .45rem;vertical-align:top;text-align:left}
thead th{background:#f3f5f8}
tbody th{font-weight:600;background:#fafbfc}
table.wide td{white-space:nowrap;font-size:.78rem}
td.ok{background:#e8f5e9}td.bad{background:#fdecee;font-weight:600}td.na{background:#fff}
figure{margin:1rem 0;overflow-x:auto}figcaption{font-weight:600;margin-bottom:.3rem}
.generated{color:#57606a;font-size:.85rem}
"""


def _h(s: str) -> str:
    return html.escape(s, quote=True)


def _html_cell(c: CellLike, tag: str, scope: str = "") -> str:
    cell = c if isinstance(c, Cell) else Cell.of(c)
    cls = f' class="{cell.state}"' if cell.state and tag == "td" else ""
    sc = f' scope="{scope}"' if scope else ""
    return f"<{tag}{sc}{cls}>" + "<br>".join(_h(x) for x in cell.lines) + f"</{tag}>"


def render_html(title: str, blocks: list[Block], generated: str) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{_h(title)}</title>",
           f"<style>{CSS.strip()}</style>", "</head>", "<body>", "<main>", f"<h1>{_h(title)}</h1>",
           f'<p class="generated">{_h(generated)}</p>']
    toc = [b for b in blocks if isinstance(b, Heading)]
    out.append('<nav aria-label="Contents"><ul>' + "".join(f'<li><a href="#{b.anchor}">{_h(b.text)}</a></li>'
                                                          for b in toc) + "</ul></nav>")
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f'<h{b.level} id="{b.anchor}">{_h(b.text)}</h{b.level}>')
        elif isinstance(b, Para):
            out.append(f"<p>{_h(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{_h(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            rows = ["<tr>" + _html_cell(r[0], "th", "row") + "".join(_html_cell(c, "td") for c in r[1:]) + "</tr>"
                    for r in b.rows]
            cls = ' class="wide"' if b.wide else ""
            out.append(f'<div class="scroll"><table{cls}><caption>{_h(b.caption)}</caption>'
                       "<thead><tr>" + "".join(f'<th scope="col">{_h(h)}</th>' for h in b.head) + "</tr></thead>"
                       "<tbody>" + "\n".join(rows) + "</tbody></table></div>")
        elif isinstance(b, Figure):
            out.append(f"<figure><figcaption>{_h(b.caption)}</figcaption>\n{b.svg.rstrip()}\n</figure>")
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def _md(s: str) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _md_cell(c: CellLike) -> str:
    cell = c if isinstance(c, Cell) else Cell.of(c)
    return "<br>".join(_md(x) for x in cell.lines) or " "


def render_markdown(title: str, blocks: list[Block], generated: str) -> str:
    out = [f"# {_md(title)}", "", f"_{_md(generated)}_", ""]
    for b in blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + _md(b.text), ""]
        elif isinstance(b, Para):
            out += [_md(b.text), ""]
        elif isinstance(b, Bullets):
            out += [f"* {_md(i)}" for i in b.items] + [""]
        elif isinstance(b, Table):
            out += [f"**{_md(b.caption)}**", "",
                    "| " + " | ".join(_md(h) for h in b.head) + " |",
                    "|" + "---|" * len(b.head)]
            out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b.rows]
            out.append("")
        elif isinstance(b, Figure):
            out += [f"**{_md(b.caption)}**", "", f"![message sequence chart of {_md(b.caption)}]({b.file})", ""]
    return "\n".join(out)


def generated_line(now: Optional[_dt.datetime] = None) -> str:
    """The only line that changes between runs on the same inputs (SOURCE_DATE_EPOCH pins it)."""
    if now is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
        now = (_dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc) if epoch.isdigit()
               else _dt.datetime.now(_dt.timezone.utc))
    return f"Generated {now.strftime('%Y-%m-%dT%H:%M:%SZ')} by expat report."


def write_report(out_dir: Path, root: Path = ROOT, now: Optional[_dt.datetime] = None) -> list[Path]:
    """Write index.html, report.md and one SVG per chart into ``out_dir``; return the paths written."""
    title, blocks = build(root)
    gen = generated_line(now)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for b in blocks:
        if isinstance(b, Figure):
            p = out_dir / b.file
            p.write_text(b.svg, encoding="utf-8")
            written.append(p)
    for name, text in (("index.html", render_html(title, blocks, gen)),
                       ("report.md", render_markdown(title, blocks, gen))):
        p = out_dir / name
        p.write_text(text, encoding="utf-8")
        written.append(p)
    return written


def cmd_report(args: argparse.Namespace) -> int:
    root = Path(args.root)
    try:
        paths = write_report(Path(args.out), root)
    except OSError as e:
        print(f"expat report: cannot write {args.out}: {e}", file=sys.stderr)
        return 2
    for p in paths:
        if p.suffix != ".svg":
            print(f"wrote {p}")
    print(f"wrote {sum(p.suffix == '.svg' for p in paths)} sequence chart(s) to {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="one-page report (HTML + Markdown): verdicts, monitors, sequence charts, "
                                      "coverage, benchmarks")
    p.add_argument("--out", default="report", metavar="DIR", help="output directory (default: report/)")
    p.add_argument("--root", default=str(ROOT), metavar="DIR",
                   help="repository root to read inputs from (default: this checkout)")
    p.set_defaults(handler=cmd_report)
