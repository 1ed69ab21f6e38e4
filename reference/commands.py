"""Sub-commands of `expat` for the reference implementation (exporter, ea)."""

from __future__ import annotations

import argparse

from expat.reference import cli_ea, cli_exporter


def register(sub: argparse._SubParsersAction) -> None:
    cli_exporter.register(sub)
    cli_ea.register(sub)
