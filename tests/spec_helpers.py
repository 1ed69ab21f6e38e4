"""Shared paths for the spec-tooling tests."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "spec_fixtures"
SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs"
