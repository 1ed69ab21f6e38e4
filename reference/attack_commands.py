"""`expat attack list` and `expat attack run NAME [--trace FILE]` (expat.reference.attacks, docs/attacks.md).

`attack run` runs the attack twice over real loopback TLS 1.3: with the draft's mitigation on, then
with it switched off through the profile. For each run it prints what the implementation decided and
what the model checker found; exit 0 when both runs behaved as expected (mitigated: rejected and
conformant; unmitigated: accepted and the expected properties flagged), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("attack", help="attack demos on the real reference, each with and without its mitigation")
    asub = a.add_subparsers(dest="attack_command", metavar="ACTION")
    lst = asub.add_parser("list", help="list the attacks")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    lst.set_defaults(handler=cmd_list)
    r = asub.add_parser("run", help="run one attack twice (mitigated, unmitigated) and check both traces")
    r.add_argument("name", help="attack name (see `expat attack list`)")
    r.add_argument("--trace", metavar="FILE",
                   help="write the traces to FILE-mitigated.jsonl and FILE-unmitigated.jsonl "
                        "(a trailing .jsonl in FILE is dropped first)")
    r.add_argument("--json", action="store_true", help="print the account as JSON")
    r.set_defaults(handler=cmd_run)
    a.set_defaults(handler=lambda args: (a.print_help(), 2)[1])
    from expat.traces import golden
    golden.register(sub)   # expat traces regenerate [--check]


def cmd_list(args: argparse.Namespace) -> int:
    from expat.reference.attacks import ATTACKS

    if args.json:
        print(json.dumps([{"name": x.name, "summary": x.summary, "section": x.section, "mitigation": x.mitigation,
                           "properties": list(x.properties), "adversaries": list(x.adversaries),
                           "baseline_off": list(x.base_off)}
                          for x in ATTACKS.values()], indent=2))
        return 0
    for x in ATTACKS.values():
        print(f"{x.name}\n    {x.summary} ({x.section})\n    mitigation: {x.mitigation}; "
              f"without it: {', '.join(x.properties)}"
              + (f"\n    off in both runs: {', '.join(x.base_off)}" if x.base_off else ""))
    return 0


def _trace_paths(base: str) -> dict[bool, Path]:
    stem = base[:-len(".jsonl")] if base.endswith(".jsonl") else base
    return {True: Path(stem + "-mitigated.jsonl"), False: Path(stem + "-unmitigated.jsonl")}


def cmd_run(args: argparse.Namespace) -> int:
    from expat.reference.attacks import ATTACKS, run_attack

    if args.name not in ATTACKS:
        print(f"unknown attack {args.name!r}; known: {', '.join(ATTACKS)}", file=sys.stderr)
        return 2
    runs = run_attack(args.name)
    paths = _trace_paths(args.trace) if args.trace else {}
    for r in runs:
        if r.mitigated in paths:
            r.trace.write(paths[r.mitigated])
    ok = all(r.as_expected for r in runs)
    if args.json:
        print(json.dumps({"attack": args.name, "as_expected": ok, "runs": [
            {"mitigated": r.mitigated, "profile": r.profile.variant_name(), "accepted": r.accepted,
             "check": r.error.check if r.error else None, "alert": r.error.alert.name if r.error else None,
             "conformant": r.check.conformant, "properties": sorted(r.violated), "rules": sorted(r.check.rules()),
             "as_expected": r.as_expected, "trace": str(paths[r.mitigated]) if paths else None}
            for r in runs]}, indent=2))
        return 0 if ok else 1
    attack = ATTACKS[args.name]
    print(f"attack {attack.name}: {attack.summary} ({attack.section})")
    print(f"  adversary: {', '.join(attack.adversaries)}; mitigation: {attack.mitigation}"
          + (f" (off in both runs: {', '.join(attack.base_off)})" if attack.base_off else ""))
    for r in runs:
        label = "mitigation on " if r.mitigated else "mitigation off"
        want = "rejected + conformant" if r.mitigated else f"accepted + {', '.join(attack.properties)} flagged"
        print(f"  [{label}] profile {r.profile.variant_name()}")
        print(f"    implementation: {r.decision()}")
        print(f"    checker:        {r.finding()}")
        print(f"    expected:       {want} -> {'as expected' if r.as_expected else 'NOT AS EXPECTED'}")
        if paths:
            print(f"    trace:          {paths[r.mitigated]}")
    print("both runs as expected" if ok else "UNEXPECTED behaviour")
    return 0 if ok else 1
