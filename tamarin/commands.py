"""Sub-commands ``expat tamarin export|check`` and ``expat prove`` (issue 5)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from expat.layout import display, locate

DEFAULT_DIR = locate("tamarin")


def _export(args: argparse.Namespace) -> int:
    """The theory and the attack theory (tamarin/attacks.py: the same theory with the attack lemmas)."""
    from expat.tamarin import attacks, generate

    theories = ((generate.THEORY_FILE, generate.theory_text), (attacks.THEORY_FILE, attacks.theory_text))
    stale = 0
    for name, text in theories:
        path = Path(args.out) / name
        if args.check:
            if not path.exists() or path.read_text(encoding="ascii") != text():
                print(f"{path} is stale or missing: run `expat tamarin export`", file=sys.stderr)
                stale += 1
            else:
                print(f"{path} is up to date")
            continue
        Path(args.out).mkdir(parents=True, exist_ok=True)
        path.write_text(text(), encoding="ascii")
        print(f"wrote {path} (sha256 {generate.theory_hash(path.read_text(encoding='ascii'))[:16]})")
    return 1 if stale else 0


def _check(args: argparse.Namespace) -> int:
    from expat.tamarin import check, generate, prove

    target = Path(args.dir)
    path = target / generate.THEORY_FILE if target.is_dir() else target
    text = path.read_text(encoding="ascii")
    findings = check.check_text(text)
    if text != generate.theory_text():
        findings.append(check.Finding("stale", f"{path} differs from a fresh `expat tamarin export`"))
    if args.prover:
        prover = prove.find_prover()
        if prover is None:
            print(f"{prove.PROVER} is not on PATH: --prover cannot run", file=sys.stderr)
            return 2
        from expat.model.expectations import VARIANTS

        for v in VARIANTS.values():
            warning, _ = prove.preflight(prover, path, prove.normalise_flags(v.off), args.derivcheck_timeout)
            if warning:
                findings.append(check.Finding("tamarin", f"[{v.name}] {warning}"))
    if args.json:
        print(json.dumps([{"kind": f.kind, "detail": f.detail} for f in findings], indent=2))
    else:
        for f in findings:
            print(f"{f.kind}: {f.detail}")
        print("ok: every event is mapped or declared not modelled, every property has its lemmas"
              + (", and tamarin-prover loads it under every variant without a warning" if args.prover else "")
              if not findings else f"{len(findings)} finding(s)")
    return 0 if not findings else 1


DOC_PAGE = "docs/tamarin.md"


def _tables(args: argparse.Namespace) -> int:
    """The tables of docs/tamarin.md from the records; --write puts them into the page, --check fails on drift."""
    from expat.tamarin import tables

    rendered = tables.render()
    if not (args.write or args.check):
        for name, text in rendered.items():
            print(f"## {name}\n\n{text}\n")
        return 0
    page = Path(args.page)
    old = page.read_text(encoding="utf-8")
    try:
        new = tables.splice(old, rendered)
    except ValueError as e:
        print(f"{page}: {e}", file=sys.stderr)
        return 2
    if args.check:
        if new != old:
            print(f"{page}: its tables differ from the records: run `expat tamarin tables --write`", file=sys.stderr)
            return 1
        print(f"{page}: the tables are the records'")
        return 0
    page.write_text(new, encoding="utf-8")
    print(f"wrote the tables {', '.join(rendered)} into {page}")
    return 0


def _prove(args: argparse.Namespace) -> int:
    from expat.tamarin import prove

    if prove.find_prover() is None:
        print(f"{prove.PROVER} is not on PATH: cannot prove. Install Tamarin (and Maude) and retry; "
              "`expat tamarin check` validates the theory without it.", file=sys.stderr)
        return 2
    flags = list(args.flags or [])
    if args.variant:
        from expat.model.expectations import VARIANTS

        if args.variant not in VARIANTS:
            print(f"unknown variant {args.variant!r} (one of {', '.join(VARIANTS)})", file=sys.stderr)
            return 2
        flags += list(VARIANTS[args.variant].off)
    theory = Path(args.theory)
    try:
        record, path = prove.prove(theory, lemma=args.lemma, flags=flags, timeout=args.timeout,
                                   out_dir=Path(args.out) if args.out else None,
                                   progress=lambda s: print(s, file=sys.stderr, flush=True),
                                   derivcheck_timeout=args.derivcheck_timeout, memory_mb=args.memory_mb,
                                   batch=args.batch, save_output=Path(args.save_output) if args.save_output else None,
                                   merge=args.merge, cpu_limit=args.cpu_limit, jobs=args.jobs)
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return 2
    if record["warning"]:
        print(f"wrote {path}: tamarin-prover warned, no lemma was run:\n{record['warning']}")
        return 1
    bad = [r for r in record["lemmas"] if r["verdict"] != r["expected"]]
    print(f"wrote {path}: {len(record['lemmas']) - len(bad)}/{len(record['lemmas'])} lemmas as expected "
          f"(Tamarin {record['tamarin_version']}, Maude {record['maude_version']})")
    for r in bad:
        print(f"  {r['name']}: {r['verdict']}, expected {r['expected']}")
    return 0 if not bad else 1


def register(sub) -> None:
    t = sub.add_parser("tamarin", help="Tamarin theory generated from the model: export, check")
    tsub = t.add_subparsers(dest="tamarin_command", metavar="SUBCOMMAND")
    e = tsub.add_parser("export", help="write tamarin/expat.spthy from tamarin/rules.py and tamarin/lemmas.py, and "
                                         "tamarin/attacks.spthy with the attack lemmas (byte-stable)")
    e.add_argument("--out", default=str(DEFAULT_DIR), help="output directory (default: tamarin/)")
    e.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file differs from a fresh export")
    e.set_defaults(handler=_export)
    c = tsub.add_parser("check", help="check the refinement mapping and lemma coverage (no prover; --prover also loads it in Tamarin)")
    c.add_argument("dir", nargs="?", default=str(DEFAULT_DIR), help="directory with expat.spthy, or the file")
    c.add_argument("--json", action="store_true", help="findings as JSON")
    c.add_argument("--prover", action="store_true",
                   help="also load the theory with tamarin-prover under every variant and fail on any warning")
    c.add_argument("--derivcheck-timeout", type=int, default=120, help="seconds for Tamarin's derivation checks")
    c.set_defaults(handler=_check)
    tt = tsub.add_parser("tables", help="the tables of docs/tamarin.md rendered from tamarin/results/ (print, --write, --check)")
    tt.add_argument("--write", action="store_true", help="replace the tables in the page")
    tt.add_argument("--check", action="store_true", help="write nothing; exit 1 if the page's tables differ from the records")
    tt.add_argument("--page", default=str(Path(locate("tamarin")).parent / DOC_PAGE), help="the page (default docs/tamarin.md)")
    tt.set_defaults(handler=_tables)
    t.set_defaults(handler=lambda args: (t.print_help(), 2)[1])

    p = sub.add_parser("prove", help="run tamarin-prover lemma by lemma; record verdicts in tamarin/results/")
    p.add_argument("--lemma", help="prove only this lemma (or several, comma-separated)")
    p.add_argument("--merge", action="store_true",
                   help="keep the earlier verdicts of other lemmas in the results file (same theory and flags)")
    p.add_argument("--flags", nargs="*", metavar="FLAG",
                   help="mitigations switched off (check_binding or OFF_check_binding ...)")
    p.add_argument("--variant", help="the flags of a named variant (model/expectations.py)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per lemma (default 600)")
    p.add_argument("--cpu-limit", type=float, metavar="SECONDS",
                   help="processor seconds per lemma (the prover and its Maude processes; a verdict that does not "
                        "depend on the machine's load); --timeout then only guards the wall clock")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="lemma processes at once (default 1; each lemma still has its own process)")
    p.add_argument("--derivcheck-timeout", type=int, default=120,
                   help="seconds for Tamarin's message-derivation checks in the load before the lemmas (default 120)")
    p.add_argument("--batch", action="store_true",
                   help="all lemmas in one prover process (Tamarin's precomputation once; times are per process)")
    p.add_argument("--save-output", metavar="FILE", help="--batch: keep Tamarin's full output (proofs, attack traces)")
    p.add_argument("--memory-mb", type=int, default=8192, help="address-space cap per prover process (default 8192)")
    p.add_argument("--theory", default=str(DEFAULT_DIR / "expat.spthy"), help="theory file")
    p.add_argument("--out", help="results directory (default: results/ next to the theory)")
    p.set_defaults(handler=_prove)
