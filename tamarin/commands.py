"""Sub-commands ``expat tamarin export|check`` and ``expat prove`` (issue 5)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from expat.layout import display, locate

DEFAULT_DIR = locate("tamarin")


def _export(args: argparse.Namespace) -> int:
    from expat.tamarin import generate, lemmas, spthy

    traces = lemmas.golden_traces()
    if args.check:
        path = Path(args.out) / generate.THEORY_FILE
        fresh = generate.theory_text(traces)
        if not path.exists() or path.read_text(encoding="ascii") != fresh:
            print(f"{path} is stale or missing: run `expat tamarin export`", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    path = generate.export(Path(args.out), traces)
    theory = spthy.parse(path.read_text(encoding="ascii"))
    source = display(traces[0].parent) if traces else "-"
    print(f"wrote {path} ({len(theory.rules)} rules, {len(theory.restrictions)} restrictions, "
          f"{len(theory.lemmas)} lemmas under the default flags; {len(traces)} executability traces from {source})")
    return 0


def _check(args: argparse.Namespace) -> int:
    from expat.tamarin import check, lemmas

    findings = check.check_dir(Path(args.dir), lemmas.golden_traces())
    groups = check.dedupe(findings)
    if args.json:
        print(json.dumps([{"kind": k, "detail": d, "variants": v} for k, d, v in groups], indent=2))
    else:
        n = len(check.variant_flag_sets())
        for kind, detail, variants in groups:
            where = "all variants" if len(variants) == n else ", ".join(variants)
            print(f"{kind}: {detail}  [{where}]")
        print("ok: the theory matches the model (rules, facts, restrictions, lemmas) under "
              f"{n} flag sets" if not groups else f"{len(groups)} mismatch(es)")
    return 0 if not groups else 1


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
                                   progress=lambda s: print(s, file=sys.stderr, flush=True))
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return 2
    bad = [r for r in record["lemmas"] if r["verdict"] != r["expected"]]
    print(f"wrote {path}: {len(record['lemmas']) - len(bad)}/{len(record['lemmas'])} lemmas as expected "
          f"(Tamarin {record['tamarin_version']}, Maude {record['maude_version']})")
    for r in bad:
        print(f"  {r['name']}: {r['verdict']}, expected {r['expected']}")
    return 0 if not bad else 1


def register(sub) -> None:
    t = sub.add_parser("tamarin", help="Tamarin theory generated from the model: export, check")
    tsub = t.add_subparsers(dest="tamarin_command", metavar="SUBCOMMAND")
    e = tsub.add_parser("export", help="write tamarin/expat.spthy from the model tables (byte-stable)")
    e.add_argument("--out", default=str(DEFAULT_DIR), help="output directory (default: tamarin/)")
    e.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file differs from a fresh export")
    e.set_defaults(handler=_export)
    c = tsub.add_parser("check", help="parse the theory and check rules, facts and lemmas against the model")
    c.add_argument("dir", nargs="?", default=str(DEFAULT_DIR), help="directory with expat.spthy, or the file")
    c.add_argument("--json", action="store_true", help="findings as JSON")
    c.set_defaults(handler=_check)
    t.set_defaults(handler=lambda args: (t.print_help(), 2)[1])

    p = sub.add_parser("prove", help="run tamarin-prover lemma by lemma; record verdicts in tamarin/results/")
    p.add_argument("--lemma", help="prove only this lemma")
    p.add_argument("--flags", nargs="*", metavar="FLAG",
                   help="mitigations switched off (check_binding or OFF_check_binding ...)")
    p.add_argument("--variant", help="the flags of a named variant (model/expectations.py)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per lemma (default 600)")
    p.add_argument("--theory", default=str(DEFAULT_DIR / "expat.spthy"), help="theory file")
    p.add_argument("--out", help="results directory (default: results/ next to the theory)")
    p.set_defaults(handler=_prove)
