"""The ``expat`` command line. Each area registers its own sub-commands.

Areas (module with a ``register(subparsers)`` function):
  expat.reference.commands   exporter, ea (validate, demo)
  expat.reference.attestation.commands run, profiles, verifier
  expat.model.commands       model, check, attack
  expat.spec.commands        spec (lint, diff, requirements, coverage)
  expat.tamarin.commands     tamarin (export, check), prove
  expat.proofs.commands      proofs (run)
  expat.perf.commands        bench, soak, report
"""

from __future__ import annotations

import argparse
import importlib
import sys

import expat  # noqa: F401  (configures OpenSSL before anything imports it)

AREAS = (
    "expat.reference.commands",
    "expat.reference.attestation.commands",
    "expat.model.commands",
    "expat.reference.attack_commands",
    "expat.spec.commands",
    "expat.tamarin.commands",
    "expat.proofs.commands",
    "expat.perf.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="expat",
        description="Remote Attestation with Exported Authenticators: reference implementation, "
                    "traces, model and proofs.")
    parser.add_argument("--version", action="version", version=f"expat {expat.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in AREAS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
