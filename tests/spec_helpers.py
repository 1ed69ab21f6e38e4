"""Shared paths for the spec-tooling tests."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "spec_fixtures"


def _shared_specs() -> Path:
    """``shared/specs`` next to the checkout, or next to a folder above it (git worktrees)."""
    here = Path(__file__).resolve().parent
    for up in here.parents[1:]:
        candidate = up / "shared" / "specs"
        if candidate.is_dir():
            return candidate
    return here.parents[1] / "shared" / "specs"


SPECS = _shared_specs()
