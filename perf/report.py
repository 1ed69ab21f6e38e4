"""`expat report`: one page a reviewer opens (static HTML, plus the same content as Markdown).

Sections: the inputs found; property x variant verdicts with the bounded proofs, the recorded Tamarin
runs and the runtime monitors side by side; per-input details; message sequence charts of the honest
golden traces; requirement coverage; benchmark ratios; findings for the draft's editors (expat.spec.findings). Every input is optional: a missing one reads
"not recorded", an unreadable one says why; nothing here raises on bad input.

The page is built once as a list of neutral blocks (perf/page.py) and rendered twice, so the
HTML and the Markdown hold the same content; inputs are read by perf/report_inputs.py.
Output is byte-stable for the same inputs except the single "Generated" line (which honours
SOURCE_DATE_EPOCH).

Inputs (paths relative to the repository root; contracts in docs/report.md):
  proofs/verdicts.json            bounded z3 proofs
  tamarin/results/*.json          Tamarin runs
  traces/golden/{honest,attack}-*.jsonl, else traces/examples/synthetic-{honest,attack}-*.jsonl
  spec/catalogue.json       requirement catalogue (through expat.spec.catalogue)
  perf/results/latest.json  benchmark figures
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
from pathlib import Path
from typing import Any, Optional

import expat
from expat.model.expectations import VARIANTS, Variant
from expat.model.properties import PROPERTY_IDS, STATEMENTS
from expat.perf.page import (BAD, NEUTRAL, OK, Block, Bullets, Cell, CellLike, Figure, Heading, Para, Table,
                             render_html, render_markdown)
from expat.perf.report_inputs import (BENCH_PATH, CATALOGUE_REL, EXAMPLES_DIR, GOLDEN_DIR, NOT_RECORDED,
                                      PROOFS_PATH, TAMARIN_DIR, Diagram, Input, Monitors, Proofs, Tamarin,
                                      as_text, diagrams, lemma_property, num_text, read_coverage, read_json,
                                      read_proofs, read_tamarin, run_monitors, tamarin_variant)

__all__ = ["build", "write_report", "generated_line", "register", "tamarin_variant"]

from expat.layout import locate


# --- building the page ---------------------------------------------------------------------------

def _expected_word(variant: Variant, prop: str) -> str:
    return "holds" if variant.holds(prop) else "violated"


def _expected_lemma(variant: Variant, prop: str) -> str:
    return "verified" if variant.holds(prop) else "falsified"


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
    want = _expected_lemma(v, prop)
    if verdict in ("verified", "falsified"):
        return f"Tamarin: {verdict} {'✓' if verdict == want else '✗'}", OK if verdict == want else BAD
    return f"Tamarin: {as_text(verdict)} (inconclusive)", NEUTRAL


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
    return Table("Property × variant: expected verdict (model/expectations.py), bounded proof, Tamarin and "
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
    out.append(Para(f"Bound: {as_text(m.get('bound'))}; z3 {as_text(m.get('z3_version'))}; generated by "
                    f"{as_text(m.get('generated_by'))}. {len(proofs.by_key)} of {len(PROPERTY_IDS) * len(VARIANTS)} "
                    f"property/variant pairs recorded."))
    rows = []
    for v in VARIANTS.values():
        for prop in PROPERTY_IDS:
            r = proofs.by_key.get((prop, v.name))
            if r is None:
                continue
            mine = _expected_word(v, prop)
            note = "" if r.get("expected") in (None, mine) else f" (file says {as_text(r.get('expected'))})"
            good = r["verdict"] == mine
            rows.append((f"{prop} / {v.name}", Cell.of(r["verdict"], state=OK if good else BAD), mine + note,
                         num_text(r.get("states")), num_text(r.get("time_s"), " s"),
                         as_text(r["counterexample"]) if r.get("counterexample") else "—"))
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
        out.append(Para(f"{run.file}: theory {as_text(d.get('theory'))}, flags {as_text(d.get('flags'))} "
                        f"(variant: {run.variant or 'none matches'}), Tamarin {as_text(d.get('tamarin_version'))}, "
                        f"Maude {as_text(d.get('maude_version'))}, host {as_text(d.get('host'))}, "
                        f"started {as_text(d.get('started'))}."))
        lrows = []
        for lm in run.lemmas:
            prop = lemma_property(lm.get("name"))
            want = _expected_lemma(VARIANTS[run.variant], prop) if run.variant and prop else "—"
            verdict = as_text(lm.get("verdict"))
            state = NEUTRAL if want == "—" or verdict not in ("verified", "falsified") else (
                OK if verdict == want else BAD)
            said = lm.get("expected")
            note = "" if said in (None, want) or want == "—" else f" (file says {as_text(said)})"
            lrows.append((as_text(lm.get("name")), Cell.of(verdict, state=state), want + note,
                          num_text(lm.get("wall_s"), " s"), num_text(lm.get("peak_rss_mb"), " MB")))
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


def _bench_blocks(root: Optional[Path]) -> tuple[list[Block], str]:
    out: list[Block] = [Heading(2, "Benchmarks", "benchmarks")]
    data, status = read_json(locate(BENCH_PATH, root))
    if data is None:
        return out + [Para(f"{BENCH_PATH}: {status}.")], status
    if not isinstance(data, dict) or not isinstance(data.get("figures"), list):
        status = "unreadable: no \"figures\" list"
        return out + [Para(f"{BENCH_PATH}: {status}.")], status
    machine = data.get("machine")
    mtext = ", ".join(f"{k}: {as_text(machine[k])}" for k in sorted(machine)) if isinstance(machine, dict) else "—"
    out.append(Para(f"Started {as_text(data.get('started'))}; machine {mtext}. Ratios are measured against a "
                    "reference in the same run (see benchmarks/)."))
    rows = []
    for f in data["figures"]:
        if not isinstance(f, dict):
            continue
        met = f.get("aim_met")
        absolute = f.get("absolute")
        abs_text = ", ".join(f"{k}: {num_text(absolute[k])}" for k in sorted(absolute)) \
            if isinstance(absolute, dict) else as_text(absolute)
        rows.append((as_text(f.get("name")), num_text(f.get("ratio")), as_text(f.get("aim")),
                     Cell.of("yes" if met is True else "no" if met is False else "—",
                             state=OK if met is True else BAD if met is False else NEUTRAL), abs_text,
                     as_text(f["note"]) if f.get("note") else "—"))
    out.append(Table("Benchmark figures", ("figure", "ratio", "aim", "aim met", "absolute", "note"), tuple(rows)))
    return out, "found"


def build(root: Optional[Path] = None) -> tuple[str, list[Block]]:
    """Read every input (through the packages, or under ``root`` when given) and lay out the page. Returns (title, blocks)."""
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
             "listed mitigations switched off (model/expectations.py)."),
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
    from expat.spec.findings import blocks as findings_blocks, build as build_findings
    blocks += findings_blocks(build_findings(root, inputs=(proofs, tam, mon)))   # expat spec findings
    return "expat report", blocks


def generated_line(now: Optional[_dt.datetime] = None) -> str:
    """The only line that changes between runs on the same inputs (SOURCE_DATE_EPOCH pins it)."""
    if now is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
        now = (_dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc) if epoch.isdigit()
               else _dt.datetime.now(_dt.timezone.utc))
    return f"Generated {now.strftime('%Y-%m-%dT%H:%M:%SZ')} by expat report."


def write_report(out_dir: Path, root: Optional[Path] = None, now: Optional[_dt.datetime] = None) -> list[Path]:
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
    root = Path(args.root) if args.root else None
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
    p.add_argument("--root", default=None, metavar="DIR",
                   help="a directory laid out like the repository to read inputs from "
                        "(default: the installed packages' artefacts)")
    p.set_defaults(handler=cmd_report)
