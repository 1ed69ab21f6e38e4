"""Sub-command ``expat proofs run``: the bounded z3 analysis (docs/proofs.md)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from typing import Optional

from expat.layout import display


def _bound(args: argparse.Namespace):
    from expat.proofs.analysis import CI_BOUND
    from expat.proofs.search import OPTIONS, Bound

    def pick(name: str) -> int:
        given = getattr(args, name)
        return given if given is not None else getattr(CI_BOUND, name)
    return Bound(connections=pick("connections"), requests=pick("requests"), reveals=pick("reveals"),
                 secrets=pick("secrets"), one_way=bool(args.one_way) or CI_BOUND.one_way, hosts=pick("hosts"),
                 honest=pick("honest"), attestation_keys=pick("attestation_keys"),
                 aes=pick("aes"),
                 **{name: bool(getattr(args, name)) or getattr(CI_BOUND, name) for name, _, _ in OPTIONS})


def _progress(rep, done: int, total: int) -> None:
    """One line per finished variant on stderr, only when stderr is a terminal (long runs)."""
    if sys.stderr.isatty():
        print(f"  [{done}/{total}] {rep.variant}: {rep.runs} runs, {rep.time_s:.1f} s", file=sys.stderr, flush=True)


def _run(args: argparse.Namespace) -> int:
    from expat.model.expectations import VARIANTS
    from expat.proofs import compare, record
    from expat.proofs.analysis import analyse, default_jobs

    bound = _bound(args)
    if (min(bound.connections, bound.requests) < 1
            or min(bound.reveals, bound.secrets, bound.hosts, bound.attestation_keys) < 0 or bound.honest < 2
            or bound.aes < 1):
        print("bounds: --connections and --requests at least 1, --reveals, --secrets, --hosts and "
              "--attestation-keys at least 0, "
              "--honest at least 2, --aes at least 1", file=sys.stderr)
        return 2
    variants = args.variant or list(VARIANTS)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        print(f"unknown variant(s) {', '.join(unknown)} (one of {', '.join(VARIANTS)})", file=sys.stderr)
        return 2
    if args.record and len(variants) != len(VARIANTS):
        print("--record needs every variant", file=sys.stderr)
        return 2
    jobs = args.jobs or default_jobs()
    t0 = time.perf_counter()
    rows, reports = analyse(bound, variants, jobs=jobs, progress=_progress, formulas=args.formulas)
    wall = time.perf_counter() - t0
    ci_load = record.load_average()
    cells, unmatched = compare.compare(rows, bound, variants)
    stale = compare.stale_reasons(cells, bound)
    encoding = [rep for rep in reports if rep.mismatches]
    unexplained = [c for c in cells if not c.understood]
    if args.json:
        print(json.dumps({"bound": bound.to_json(), "bound_statement": bound.statement(), "seconds": round(wall, 3),
                          "jobs": jobs, "encoding_mismatches": {rep.variant: rep.mismatches for rep in reports},
                          "runs": {rep.variant: rep.runs for rep in reports},
                          "cells": [c.to_json() for c in cells], "unmatched_attack_traces": unmatched,
                          "stale_reasons": [f"{r.variant}/{r.property}/{r.tool}" for r in stale],
                          "all_agree": not unexplained and not encoding,
                          "not_modelled": {rep.variant: rep.unmodelled for rep in reports if rep.unmodelled},
                          "violating_runs": {f"{rep.variant}/{p}": t.header["description"]
                                             for rep in reports for p, t in sorted(rep.counterexamples.items())},
                          **({"formulas": record.formula_cells(reports)} if args.formulas else {})},
                         sort_keys=True))
    else:
        _table(cells, reports, bound, wall, jobs, unmatched, stale)
        if args.formulas:
            _formula_table(reports)
    if args.record:  # the artefacts first, then each timing run (timings.json rewritten after each)
        for path in record.write_verdicts(bound, rows, reports):
            print(f"wrote {display(path)}", file=sys.stderr)
        if args.formulas:
            for path in record.write_formula_verdicts(bound, reports):
                print(f"wrote {display(path)}", file=sys.stderr)
        growth: dict = {}
        print(f"wrote {display(record.write_timings(bound, reports, wall, growth, jobs=jobs, ci_load=ci_load))}",
              file=sys.stderr)
        for conns in args.timings or []:
            from expat.proofs.search import Bound
            b = dataclasses.replace(bound, connections=conns)
            t1 = time.perf_counter()
            more, reps = analyse(b, variants, jobs=jobs, progress=_progress)
            growth[conns] = (time.perf_counter() - t1, sum(r.runs for r in reps), sum(r.cpu_s for r in reps),
                             record.load_average())
            print(f"timing: bound {b.statement()}: {growth[conns][0]:.1f} s, {growth[conns][1]} runs, "
                  f"{growth[conns][2]:.1f} s processor time", file=sys.stderr)
            ci_verdict = {(r.property, r.variant): r.verdict for r in rows}
            changed = [f"{r.property}/{r.variant}: {ci_verdict[(r.property, r.variant)]} -> {r.verdict}"
                       for r in more if r.verdict != ci_verdict[(r.property, r.variant)]]
            print(f"timing: verdicts at {b.tag()} " + ("identical to the CI bound's" if not changed else
                  "differ from the CI bound's: " + "; ".join(changed)), file=sys.stderr)
            record.write_timings(bound, reports, wall, growth, jobs=jobs, ci_load=ci_load)
    for rep in encoding:
        print(f"ENCODING MISMATCH in {rep.variant}: {rep.mismatches} run(s) break the role tables, first: "
              f"{rep.first_mismatch}", file=sys.stderr)
    return 0 if not unexplained and not encoding else 1


def _mark(verdict: Optional[str]) -> str:
    return {"holds": "H", "violated": "V", None: "-"}.get(verdict, verdict or "-")


def _table(cells, reports, bound, wall: float, jobs: int, unmatched: list[str], stale: list) -> None:
    """Per variant: one line per property with expectation, z3 (and its bound), Tamarin, monitors on
    the attack traces, and the agreement; then the reasons of the understood disagreements."""
    from expat.proofs.compare import NOT_RECORDED

    print(f"z3 bound {bound.tag()}: {bound.statement()}")
    print(f"{sum(rep.runs for rep in reports)} runs in {wall:.1f} s ({jobs} process(es))")
    print("columns: expected (model/expectations.py) | z3 within the bound | Tamarin (tamarin/results) | "
          "monitors on traces/golden/attack-*.jsonl")
    width = max(len(c.property) for c in cells)
    notes: dict[str, list[str]] = {}  # reason -> the cells it explains (printed once)
    for variant in dict.fromkeys(c.variant for c in cells):
        print(f"\n{variant}")
        for c in (c for c in cells if c.variant == variant):
            z3 = f"{_mark(c.z3)} <={bound.tag()}" if c.z3 in ("holds", "violated") else (c.z3 or "not run")
            tam = c.tamarin.raw if c.tamarin.verdict not in (NOT_RECORDED,) else NOT_RECORDED
            mon = "V " + ",".join(t.split("/")[-1].removesuffix(".jsonl") for t in c.monitor_traces) \
                if c.monitors == "violated" else c.monitors
            if c.agrees:
                status = "agree"
            else:
                status = ("UNDERSTOOD " if c.understood else "DISAGREE ") + ",".join(t for t, _ in c.disagreements)
                for tool, verdict in c.disagreements:
                    r = c.reasons.get(tool)
                    text = r.reason if r else "NO REASON RECORDED (proofs/disagreements.py)"
                    notes.setdefault(text, []).append(
                        f"{variant}/{c.property}: {tool} says {verdict}"
                        + (f" [{r.counterexample}]" if r and r.counterexample else ""))
            print(f"  {c.property:{width}}  exp {_mark(c.expected)}  z3 {z3:14}  tamarin {tam:13}  "
                  f"monitors {mon[:40]:40}  {status}")
    for text, where in notes.items():
        print("\n" + "\n".join(where))
        print(f"  because: {text}")
    for rep in reports:
        if rep.unmodelled:
            print(f"note: z3 gives no verdict for {rep.variant}: {rep.unmodelled}")
    for r in stale:
        print(f"note: reason for {r.variant}/{r.property}/{r.tool} ({r.verdict}) explains nothing in this run")
    for t in unmatched:
        print(f"note: {t} switches off a set of mitigations that is no variant's")
    bad = [c for c in cells if not c.understood]
    print("every tool agrees with the expectations or the disagreement is understood" if not bad else
          f"{len(bad)} cell(s) disagree without a recorded reason: "
          + ", ".join(f"{c.property}/{c.variant}" for c in bad))


def _formula_table(reports) -> None:
    """The formulas' verdicts on the same runs, where they differ from the monitors' (issue 13)."""
    from expat.proofs.record import formula_cells

    cells = formula_cells(reports)
    differ = [c for c in cells if c["differs"]]
    judged = [c for c in cells if c["formulas"] in ("holds", "violated")]
    print(f"\nproperty formulas (model/formulas.py, the text of the Tamarin lemmas) on the same runs: "
          f"{len(judged) - len(differ)} of {len(judged)} judged cells agree with the monitors")
    for c in differ:
        print(f"  {c['variant']}/{c['property']}: monitors {c['monitors']}, formulas {c['formulas']}"
              + (f"  (shortest failing run: {c['formula_run']})" if c["formula_run"] else ""))


def register(sub) -> None:
    proofs = sub.add_parser("proofs", help="bounded proofs of the security properties (z3; docs/proofs.md)")
    psub = proofs.add_subparsers(dest="proofs_command", metavar="SUBCOMMAND")
    proofs.set_defaults(handler=lambda a: (proofs.print_help(), 2)[1])
    run = psub.add_parser("run", help="property x variant: expectation vs z3 within a bound vs Tamarin vs "
                                      "monitors; exit 0 only when all agree or the disagreement is understood")
    run.add_argument("--connections", type=int, help="TLS connections per run (CI bound: 2)")
    run.add_argument("--requests", type=int, help="attestation requests per run (CI bound: 2)")
    run.add_argument("--reveals", type=int, help="honest AIKs the adversary may learn (CI bound: 1)")
    run.add_argument("--secrets", type=int,
                     help="honest connections whose secrets the adversary learns (CI bound: 1)")
    run.add_argument("--hosts", type=int,
                     help="honest hosts the adversary controls (HostCompromised; CI bound: 0)")
    run.add_argument("--attestation-keys", type=int,
                     help="honest platforms whose TEE attestation key the adversary learns and signs Evidence "
                          "with (AttestationKeyRevealed; CI bound: 0)")
    run.add_argument("--honest", type=int,
                     help="honest endpoints in the cast: client, server, client2, server2, ... (CI bound: 2)")
    run.add_argument("--aes", type=int,
                     help="Attesting Environments per honest endpoint, each with its own AIK (CI bound: 1)")
    run.add_argument("--own-aik", action="store_true",
                     help="the adversary presents its own AIK on honest connections whose secrets it holds, as a "
                          "compromised host of its own (HostCompromised(mallory); not in the CI bound)")
    run.add_argument("--impersonate", action="store_true",
                     help="the adversary presents a revealed honest AIK (the peer's, or the requester's own) on "
                          "honest connections whose secrets it holds (KeyRevealed; not in the CI bound)")
    run.add_argument("--all-bindings", action="store_true",
                     help="the adversary's TEE oracles sign over every binding it can derive, not one per class "
                          "(not in the CI bound)")
    run.add_argument("--own-contexts", action="store_true",
                     help="honest requesters may also take a fresh context of their own instead of a Verifier "
                          "nonce, in both RATS models (not in the CI bound)")
    run.add_argument("--predictable-contexts", action="store_true",
                     help="honest requesters may also reuse a context the run already holds (one mallory knows "
                          "before the request), no Verifier nonce (not in the CI bound)")
    run.add_argument("--every-answer", action="store_true",
                     help="mallory's answers range over every message it can derive: every Attesting "
                          "Environment it may use, every binding, every AIK_pub_hash on forged or self-signed "
                          "Evidence, any Evidence exchanged at the Verifier (not in the CI bound)")
    run.add_argument("--unpruned", action="store_true",
                     help="explore every refused answer, and runs going on after a refusal, instead of the first "
                          "refusal per answer step ending its run (not in the CI bound)")
    run.add_argument("--one-way", action="store_true",
                     help="connections may also require only one side's attestation (not in the CI bound)")
    run.add_argument("--jobs", type=int, help="worker processes, variants as tasks (default: cores, at most 2)")
    run.add_argument("--variant", action="append", help="only this variant (repeatable; default: all)")
    run.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    run.add_argument("--formulas", action="store_true",
                     help="also judge every run by the property formulas (the Tamarin lemmas' text) and show "
                          "where they differ from the monitors; with --record, write proofs/formula-verdicts.json")
    run.add_argument("--record", action="store_true",
                     help="write proofs/verdicts.json, proofs/counterexamples/ and proofs/timings.json")
    run.add_argument("--timings", type=int, action="append", metavar="CONNECTIONS",
                     help="with --record: also time the whole analysis at this connection bound (repeatable)")
    run.set_defaults(handler=_run)
