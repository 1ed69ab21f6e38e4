"""Sub-commands of `expat` for expat.reference.attestation."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands; each sets `handler=callable(args) -> int`."""
