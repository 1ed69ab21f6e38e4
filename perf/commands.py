"""Sub-commands `bench`, `soak` (and `report`) of issue 8.

register() is a plain list of sub-registrations: adding a command is one line.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    _register_bench(sub)
    _register_soak(sub)
    __import__("expat.perf.report", fromlist=["register"]).register(sub)  # expat report (docs/report.md)


# --- bench ------------------------------------------------------------------------------------------

def _register_bench(sub: argparse._SubParsersAction) -> None:
    from expat.perf.bench import FIGURES

    p = sub.add_parser("bench", help="benchmarks: ratios against references measured in the same run",
                       description="Each figure is a ratio against a reference measured in the same run "
                                   "(docs/performance.md).")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--record", action="store_true", help="also write perf/results/latest.json")
    p.add_argument("--seconds", type=float, default=2.0, help="measuring time per figure (default 2)")
    p.add_argument("--only", action="append", choices=FIGURES, help="measure only this figure (repeatable)")
    p.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from expat.perf import bench

    if not 0.05 <= args.seconds <= 600:
        print("expat bench: --seconds must be in 0.05..600", file=sys.stderr)
        return 2
    result = bench.run_all(args.seconds, tuple(args.only or bench.FIGURES),
                           progress=lambda name: print(f"measuring {name} ...", file=sys.stderr, flush=True))
    if args.record:
        path = bench.record(result)
        print(f"recorded {path}", file=sys.stderr)
    print(json.dumps(result, indent=2, sort_keys=True) if args.json else bench.format_text(result))
    return 0


# --- soak -------------------------------------------------------------------------------------------

def _register_soak(sub: argparse._SubParsersAction) -> None:
    from expat.perf.soak import MAX_CONCURRENCY, MAX_CONNECTIONS

    p = sub.add_parser("soak", help="many concurrent attested connections to one server on loopback",
                       description="One server, many concurrent clients on 127.0.0.1; every connection is "
                                   "attested and appraised, then both sides' records are cross-checked for "
                                   "confusion, and threads / file descriptors / processes for leaks.")
    p.add_argument("--connections", type=int, default=500, help=f"connections in total (1..{MAX_CONNECTIONS})")
    p.add_argument("--concurrency", type=int, default=50, help=f"clients at a time (1..{MAX_CONCURRENCY})")
    p.add_argument("--attester", choices=("client", "server"), default="client",
                   help="which TLS side attests; the other is the Relying Party (default: client)")
    p.add_argument("--devices", type=int, default=4, help="Attesting Environments shared by the clients")
    p.add_argument("--profile", default="default", help="profile name (expat profiles)")
    p.add_argument("--time-limit", type=float, default=600.0, help="no new connection after this many seconds")
    p.add_argument("--verifier", action="store_true",
                   help="drive the Verifier HTTP service (expat verifier serve) on 127.0.0.1 instead: report "
                        "connection resets, latency percentiles and memory")
    p.add_argument("--requests", type=int, default=5000, help="--verifier: requests in total")
    p.add_argument("--appraise-every", type=int, default=10,
                   help="--verifier: every N-th request also appraises Evidence with its nonce (0: never)")
    p.add_argument("--keep-alive", action="store_true", help="--verifier: reuse each client's connection")
    p.add_argument("--nonce-churn", type=int, default=0, metavar="N",
                   help="--verifier: also issue N challenges in process on a virtual clock and report the "
                        "nonces and heap held at checkpoints (memory stays flat)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_soak)


def _soak_report(run, as_json: bool):
    """(report, report dict) of ``run()``, printed as JSON if asked; (None, None) on a usage error."""
    try:
        report = run()
    except (ValueError, KeyError) as e:
        print(f"expat soak: {e}", file=sys.stderr)
        return None, None
    d = report.to_dict()
    if as_json:
        print(json.dumps(d, indent=2, sort_keys=True))
    return report, d


def _verifier_soak(args: argparse.Namespace) -> int:
    from expat.perf.soak import run_verifier_soak

    report, d = _soak_report(lambda: run_verifier_soak(
        args.requests, args.concurrency, appraise_every=args.appraise_every, keep_alive=args.keep_alive,
        time_limit=args.time_limit), args.json)
    if report is None:
        return 2
    if not args.json:
        lat = d["latency_ms"]
        print(f"verifier soak: {d['answered_ok']}/{d['requests']} requests answered 200 at concurrency "
              f"{d['concurrency']} in {d['seconds']} s ({d['requests_per_s']}/s, keep-alive {d['keep_alive']})")
        print(f"  resets: {d['resets']}   other errors: {d['errors'] - d['resets']}   statuses: {d['statuses']}")
        print(f"  latency ms: p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  max {lat['max']}")
        print(f"  RSS KiB: {d['rss_kib_before']} -> {d['rss_kib_after']}   nonces held: "
              f"{d['nonces_issued_unused']} issued, {d['nonces_used_remembered']} used")
        for line in d["error_details"]:
            print(f"  - {line}")
        print("  result: " + ("OK" if d["ok"] else "FAILED"))
    if args.nonce_churn:
        from expat.perf.soak import nonce_churn

        points = nonce_churn(args.nonce_churn)
        if args.json:
            print(json.dumps({"nonce_churn": points}, indent=2))
        else:
            print("nonce churn (in process, 1 ms virtual per challenge, lifetime 10 s, half consumed):")
            for pt in points:
                print(f"  {pt['challenges']:>9} challenges: {pt['issued_held']} issued + {pt['used_held']} used "
                      f"held, heap {pt['traced_bytes'] / 1e6:.2f} MB")
    return 0 if report.passed else 1


def _soak(args: argparse.Namespace) -> int:
    from expat.perf.soak import run_soak

    if args.verifier:
        return _verifier_soak(args)
    report, d = _soak_report(lambda: run_soak(
        args.connections, args.concurrency, time_limit=args.time_limit, devices=args.devices, profile=args.profile,
        attester=args.attester), args.json)
    if report is None:
        return 2
    if not args.json:
        print(f"soak: {d['completed']}/{d['connections']} connections attested ({d['attester']} as Attester) at "
              f"concurrency {d['concurrency']} in {d['seconds']} s ({d['connections_per_s']}/s)")
        print(f"  failures: {d['failures']}   cross-connection confusion: {d['confusion']}   "
              f"timed out: {d['timed_out']}")
        print(f"  leaked threads: {len(d['leaked_threads'])}   leaked fds: {d['leaked_fds']}   "
              f"leaked processes: {d['leaked_processes']}")
        for line in d["failure_details"] + d["confusion_details"]:
            print(f"  - {line}")
        print("  result: " + ("OK" if d["ok"] else "FAILED"))
    return 0 if report.ok else 1
