"""Reader of the recorded ``expat prove`` runs (tamarin/results/expat__<variant>.json), for the report and
the bounded search: one record per variant, each lemma with name, verdict, expected, wall_s, peak_rss_mb."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from expat.layout import locate
from expat.tamarin.generate import THEORY_FILE, theory_hash

RESULTS_DIR = "tamarin/results"


def read_results(root: Optional[Path] = None) -> dict[str, dict]:
    """variant name -> record, for every results file (``root``: a checkout; default: this package's)."""
    folder = (root / RESULTS_DIR) if root is not None else locate(RESULTS_DIR)
    out: dict[str, dict] = {}
    for path in sorted(Path(folder).glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        out[record.get("variant") or path.stem.split("__", 1)[-1]] = record
    return out


def verdicts(record: dict) -> dict[str, str]:
    return {x["name"]: x["verdict"] for x in record.get("lemmas", [])}


def belongs_to(record: dict, theory: Path) -> bool:
    """The record was made on this very theory text."""
    return record.get("theory_sha256") == theory_hash(theory.read_text(encoding="ascii"))


def committed_theory() -> Path:
    return Path(locate("tamarin")) / THEORY_FILE
