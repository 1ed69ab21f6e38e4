"""Sub-commands of `expat` for expat.model: `model show`, `model check-static`, `model schema`, `check`."""

from __future__ import annotations

import argparse
import json
import sys

from expat.model.events import ROLES


def _profile(name: str | None) -> dict:
    """A profile dict by registry name (expat.profile), or {} = every documented default."""
    if not name:
        return {}
    from expat.profile import get_profile

    return get_profile(name).to_dict()


def _show(args: argparse.Namespace) -> int:
    from expat.model import events, graph

    if args.events:
        print(events.describe())
        return 0
    profile = _profile(args.profile) if args.profile else None
    g = graph.build_graph([args.role] if args.role else None, profile)
    render = {"text": graph.to_text, "dot": graph.to_dot, "svg": graph.to_svg}[args.format]
    sys.stdout.write(render(g))
    return 0


def _check_static(args: argparse.Namespace) -> int:
    from expat.model.static import check_static

    findings = check_static(_profile(args.profile))
    for f in findings:
        if args.json:
            print(json.dumps(f.to_json(), sort_keys=True))
        else:
            print(f"{'ok  ' if f.ok else 'FAIL'} {f.check}: {f.detail}")
    return 0 if all(f.ok for f in findings) else 1


def _schema(args: argparse.Namespace) -> int:
    from expat.model.trace import schema_text

    sys.stdout.write(schema_text())
    return 0


def _check(args: argparse.Namespace) -> int:
    from expat.model.corpus import run

    if args.jobs is not None and args.jobs < 1:
        print("expat check: --jobs must be at least 1", file=sys.stderr)
        return 2
    from expat.model.checker import select_judges

    try:
        judges = select_judges(args.judge + ["formulas"] * args.formulas, args.no_judge)
    except KeyError as e:
        print(f"expat check: {e.args[0]}", file=sys.stderr)
        return 2
    mode = "json" if args.json else "jsonl" if args.jsonl else "text"
    return run(args.traces, jobs=args.jobs, mode=mode, labels=args.labels, quiet=args.quiet, judges=judges)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands; each sets `handler=callable(args) -> int`."""
    model = sub.add_parser("model", help="the protocol model: role state machines and static checks")
    msub = model.add_subparsers(dest="model_command", metavar="SUBCOMMAND")
    model.set_defaults(handler=lambda a: (model.print_help(), 2)[1])

    show = msub.add_parser("show", help="draw the role state machines")
    show.add_argument("--format", choices=("text", "dot", "svg"), default="text")
    show.add_argument("--role", choices=ROLES, help="only this role")
    show.add_argument("--profile", help="only the rows enabled under this profile (default: every row)")
    show.add_argument("--events", action="store_true", help="print the event vocabulary instead")
    show.set_defaults(handler=_show)

    st = msub.add_parser("check-static", help="static checks on the model (reachability, binding, data)")
    st.add_argument("--profile", help="profile name (default: the default profile)")
    st.add_argument("--json", action="store_true")
    st.set_defaults(handler=_check_static)

    sc = msub.add_parser("schema", help="print the JSON Schema of trace lines (traces/schema.json)")
    sc.set_defaults(handler=_schema)

    chk = sub.add_parser("check", help="check traces (files, or directories of *.jsonl) against the model and "
                                       "the security properties",
                         description="Exit codes: 0 every trace conformant (with --labels: every verdict as "
                                     "labelled); 1 a rule or property violation (with --labels: a verdict "
                                     "differs from its label); 2 usage error or no trace found; 3 a file is not "
                                     "a well-formed trace. See docs/trace-format.md.")
    chk.add_argument("traces", nargs="+", metavar="TRACE|DIR")
    out = chk.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true",
                     help="one JSON object per trace (one line each), conformant or not")
    out.add_argument("--jsonl", action="store_true",
                     help="as --json, then one last line {\"summary\": ...} (counts per property, throughput)")
    chk.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                     help="worker processes (default: the number of cores)")
    chk.add_argument("--labels", action="store_true",
                     help="judge synthetic traces (expat traces synth) by their label: the expected property "
                          "flagged, or conformant for a benign rewrite")
    chk.add_argument("--quiet", "-q", action="store_true", help="text mode: print only traces that fail")
    chk.add_argument("--judge", action="append", default=[], metavar="NAME",
                     help="also run this judge (repeatable); judges: monitors (on by default: the property "
                          "monitors), formulas (off by default: every modelled property judged by its formula, "
                          "model/formulas.py, the text the Tamarin lemmas state; counterexamples reported "
                          "under the property's id)")
    chk.add_argument("--no-judge", action="append", default=[], metavar="NAME",
                     help="do not run this judge (repeatable)")
    chk.add_argument("--formulas", action="store_true", help="the same as --judge formulas")
    chk.set_defaults(handler=_check)
