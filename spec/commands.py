"""`expat spec ...`: lint, diff, requirements, coverage, findings, trace.

Exit codes: 0 nothing to report, 1 findings/changes reported (lint, diff) or problems
(trace --check), 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from expat.spec.catalogue import COVERAGE_KINDS, coverage, load_catalogue
from expat.spec.document import SpecInputError, load


def _load(path: str, fmt: str | None):
    try:
        return load(path, fmt=fmt)
    except SpecInputError as exc:
        print(f"expat spec: {exc}", file=sys.stderr)
        return None


def _print_json(obj: object) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False))


def cmd_lint(args: argparse.Namespace) -> int:
    from expat.spec.lint import lint

    doc = _load(args.file, args.format)
    if doc is None:
        return 2
    report = lint(doc)
    if args.json:
        _print_json(report.as_dict())
    else:
        for f in report.findings:
            print(f"{f.kind}: §{', §'.join(f.sections)}: {f.detail}")
        print(f"{len(report.findings)} finding(s) in {doc.path}")
    return 1 if report.findings else 0


def _affects_text(aff) -> str:
    parts = []
    for attr in ("requirements", "checks", "tests", "monitors", "lemmas", "profile_parameters"):
        vals = getattr(aff, attr)
        if vals:
            parts.append(f"{attr}: {', '.join(vals)}")
    return "; ".join(parts) if parts else "no catalogue entry"


def cmd_diff(args: argparse.Namespace) -> int:
    from expat.spec.diff import diff

    old, new = _load(args.old, args.format), _load(args.new, args.format)
    if old is None or new is None:
        return 2
    report = diff(old, new)
    if args.json:
        _print_json(report.as_dict())
        return 1 if not report.empty() else 0
    for c in report.statements:
        where = " -> ".join(f"§{s}" for s in c.sections)
        extra = f" ({c.strength})" if c.kind == "strength-changed" else ""
        print(f"statement {c.kind}{extra} {where}: {(c.new or c.old).text}")
        print(f"    affects {_affects_text(c.affects)}")
    for p in report.parameters:
        print(f"parameter {p.kind} {p.name}: {p.old_values or '-'} -> {p.new_values or '-'} "
              f"(§{', §'.join(p.old_sections or p.new_sections)})")
        print(f"    affects {_affects_text(p.affects)}")
    for c in report.prose:
        print(f"prose changed §{c.section} ({c.title}): {c.words}")
        print(f"    feeds {', '.join(c.feeds) or 'no catalogue entry'}")
    for s in report.sections:
        num = f"{s.old_number or '-'} -> {s.new_number or '-'}"
        title = s.title + (f" -> {s.new_title}" if s.new_title else "")
        print(f"section {s.kind} {num}: {title}")
    if report.empty():
        print("no changes")
    return 1 if not report.empty() else 0


def cmd_requirements(args: argparse.Namespace) -> int:
    cat = load_catalogue()
    entries = cat.revision(args.revision)
    if args.json:
        _print_json([e.as_dict() for e in entries])
        return 0
    for e in entries:
        print(f"{e.id:34} {e.document} §{e.section} {e.keyword}: {e.paraphrase}")
    print(f"{len(entries)} requirement(s)")
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    cov = coverage(load_catalogue().revision(args.revision))
    if args.json:
        _print_json(cov.as_dict())
        return 0
    print(f"{cov.total} requirement(s)")
    for k in COVERAGE_KINDS:
        print(f"  with {k[:-1]}: {cov.covered[k]}/{cov.total}")
    for k in COVERAGE_KINDS:
        if cov.missing[k]:
            print(f"missing {k[:-1]}: {', '.join(cov.missing[k])}")
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    from expat.spec.links import verify
    from expat.spec.traceability import render

    cat = load_catalogue()
    text = render(cat)
    if args.check:
        problems = verify(cat)
        for p in problems:
            print(p, file=sys.stderr)
        if problems:
            return 1
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    else:
        sys.stdout.write(text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``spec`` and its sub-commands; each sets `handler=callable(args) -> int`."""
    spec = sub.add_parser("spec", help="spec-editor tooling: lint, diff, requirement catalogue")
    ssub = spec.add_subparsers(dest="spec_command", metavar="SPEC_COMMAND")
    spec.set_defaults(handler=lambda a: (spec.print_help(), 2)[1])

    fmt = argparse.ArgumentParser(add_help=False)
    fmt.add_argument("--format", choices=("markdown", "text"), default=None,
                     help="input format (default: .txt is text, otherwise kramdown-rfc markdown)")
    fmt.add_argument("--json", action="store_true", help="machine-readable output")

    p = ssub.add_parser("lint", parents=[fmt], help="findings in one draft (exit 1 if any)")
    p.add_argument("file")
    p.set_defaults(handler=cmd_lint)

    p = ssub.add_parser("diff", parents=[fmt], help="normative changes between two revisions")
    p.add_argument("old")
    p.add_argument("new")
    p.set_defaults(handler=cmd_diff)

    p = ssub.add_parser("requirements", help="list the requirement catalogue")
    p.add_argument("--revision", default=None, help="only entries of this revision (02, ec = -03, 04, 9261)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_requirements)

    p = ssub.add_parser("coverage", help="requirements with a check, test, monitor, lemma")
    p.add_argument("--revision", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_coverage)

    from expat.spec.findings import register as register_findings
    register_findings(ssub)

    p = ssub.add_parser("trace", help="render the traceability matrix (docs/traceability.md)")
    p.add_argument("--write", metavar="PATH", help="write to PATH instead of stdout")
    p.add_argument("--check", action="store_true", help="also verify every link (exit 1 if broken)")
    p.set_defaults(handler=cmd_trace)
