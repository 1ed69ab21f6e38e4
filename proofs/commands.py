"""Sub-command ``expat proofs run``: the bounded z3 analysis (docs/proofs.md)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from expat.layout import display


def _bound(args: argparse.Namespace):
    from expat.proofs.analysis import CI_BOUND
    from expat.proofs.search import Bound

    return Bound(connections=args.connections if args.connections is not None else CI_BOUND.connections,
                 requests=args.requests if args.requests is not None else CI_BOUND.requests,
                 reveals=args.reveals if args.reveals is not None else CI_BOUND.reveals)


def _run(args: argparse.Namespace) -> int:
    from expat.model.expectations import VARIANTS
    from expat.proofs import record
    from expat.proofs.analysis import UNSUPPORTED_FLAGS, analyse, supported_variants

    bound = _bound(args)
    if min(bound.connections, bound.requests) < 1 or bound.reveals < 0:
        print("bounds: --connections and --requests at least 1, --reveals at least 0", file=sys.stderr)
        return 2
    variants = args.variant or supported_variants()
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        print(f"unknown variant(s) {', '.join(unknown)} (one of {', '.join(VARIANTS)})", file=sys.stderr)
        return 2
    unsupported = [v for v in VARIANTS if v not in supported_variants()]
    if set(variants) & set(unsupported):
        print(f"variant(s) {', '.join(sorted(set(variants) & set(unsupported)))}: the bounded search does not encode "
              f"{', '.join(UNSUPPORTED_FLAGS)} (the delegated comparison, draft -04 §5.1); see the Tamarin model",
              file=sys.stderr)
        return 2
    if unsupported and not args.variant:
        print(f"not analysed (the search does not encode {', '.join(UNSUPPORTED_FLAGS)}): {', '.join(unsupported)}",
              file=sys.stderr)
    t0 = time.perf_counter()
    rows, reports = analyse(bound, variants)
    wall = time.perf_counter() - t0
    mismatched = [r for r in rows if not r.matches]
    encoding = [rep for rep in reports if rep.mismatches]
    if args.json:
        runs = {(rep.variant, p): t.header["description"] for rep in reports for p, t in rep.counterexamples.items()}
        print(json.dumps({"bound": bound.to_json(), "seconds": round(wall, 3),
                          "encoding_mismatches": {rep.variant: rep.mismatches for rep in reports},
                          "results": [{"property": r.property, "variant": r.variant, "verdict": r.verdict,
                                       "expected": r.expected, "matches": r.matches, "states": r.states,
                                       "time_s": r.time_s,
                                       "counterexample": r.counterexample if args.record else None,
                                       "violating_run": runs.get((r.variant, r.property))} for r in rows]},
                         sort_keys=True))
    else:
        _table(rows, reports, bound, wall)
    if args.record:
        if len(variants) != len(supported_variants()):
            print("--record needs every variant the search supports", file=sys.stderr)
            return 2
        growth = {}
        for conns in args.timings or []:
            from expat.proofs.search import Bound
            b = Bound(conns, bound.requests, bound.reveals)
            t1 = time.perf_counter()
            _, reps = analyse(b, variants)
            growth[conns] = (time.perf_counter() - t1, sum(r.runs for r in reps))
            print(f"timing: bound {b.to_json()}: {growth[conns][0]:.1f} s, {growth[conns][1]} runs", file=sys.stderr)
        for path in record.write_verdicts(bound, rows, reports):
            print(f"wrote {display(path)}", file=sys.stderr)
        print(f"wrote {display(record.write_timings(bound, reports, wall, growth))}", file=sys.stderr)
    for rep in encoding:
        print(f"ENCODING MISMATCH in {rep.variant}: {rep.mismatches} run(s) break the role tables, first: "
              f"{rep.first_mismatch}", file=sys.stderr)
    return 0 if not mismatched and not encoding else 1


def _table(rows, reports, bound, wall: float) -> None:
    from expat.model.properties import PROPERTY_IDS

    variants = [rep.variant for rep in reports]
    cell = {(r.property, r.variant): r for r in rows}
    print(f"bounded analysis: {bound.to_json()}; {sum(rep.runs for rep in reports)} runs in {wall:.1f} s")
    print("H = holds within the bound, V = violated (counterexample written with --record); "
          "* = differs from model/expectations.py")
    width = max(len(p) for p in PROPERTY_IDS)
    for i, v in enumerate(variants):
        print(f"  [{i:2d}] {v}")
    print(f"{'':{width}} " + " ".join(f"{i:>3d}" for i in range(len(variants))))
    for p in PROPERTY_IDS:
        marks = []
        for v in variants:
            r = cell[(p, v)]
            marks.append(f"{'H' if r.verdict == 'holds' else 'V'}{'' if r.matches else '*':1}".rjust(3))
        print(f"{p:{width}} " + " ".join(marks))
    bad = [r for r in rows if not r.matches]
    print("every verdict matches the expectations" if not bad else
          f"{len(bad)} verdict(s) differ from the expectations: "
          + ", ".join(f"{r.property}/{r.variant} ({r.verdict})" for r in bad))


def register(sub) -> None:
    proofs = sub.add_parser("proofs", help="bounded proofs of the security properties (z3; docs/proofs.md)")
    psub = proofs.add_subparsers(dest="proofs_command", metavar="SUBCOMMAND")
    proofs.set_defaults(handler=lambda a: (proofs.print_help(), 2)[1])
    run = psub.add_parser("run", help="property x variant verdicts within a bound; exit 0 only when every "
                                      "verdict matches model/expectations.py")
    run.add_argument("--connections", type=int, help="TLS connections per run (CI bound: 2)")
    run.add_argument("--requests", type=int, help="attestation requests per run (CI bound: 2)")
    run.add_argument("--reveals", type=int, help="honest AIKs the adversary may learn (CI bound: 1)")
    run.add_argument("--variant", action="append", help="only this variant (repeatable; default: all)")
    run.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    run.add_argument("--record", action="store_true",
                     help="write proofs/verdicts.json, proofs/counterexamples/ and proofs/timings.json")
    run.add_argument("--timings", type=int, action="append", metavar="CONNECTIONS",
                     help="with --record: also time the whole analysis at this connection bound (repeatable)")
    run.set_defaults(handler=_run)
