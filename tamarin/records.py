"""Reader of the recorded ``expat prove`` runs (tamarin/results/expat__<variant>.json), for the report and
the bounded search: one record per variant, each lemma with name, verdict, expected, wall_s, peak_rss_mb."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from expat.layout import locate
from expat.tamarin.generate import THEORY_FILE, theory_hash
from expat.tamarin.preprocess import variant_hash

RESULTS_DIR = "tamarin/results"


def read_results(root: Optional[Path] = None, theory_file: str = THEORY_FILE) -> dict[str, dict]:
    """variant name -> record, for every results file of ``theory_file`` (default the theory, not the attack
    theory's attacks__*.json; ``root``: a checkout; default: this package's)."""
    folder = (root / RESULTS_DIR) if root is not None else locate(RESULTS_DIR)
    out: dict[str, dict] = {}
    for path in sorted(Path(folder).glob(f"{Path(theory_file).stem}__*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        out[record.get("variant") or path.stem.split("__", 1)[-1]] = record
    return out


def verdicts(record: dict) -> dict[str, str]:
    return {x["name"]: x["verdict"] for x in record.get("lemmas", [])}


def belongs_to(record: dict, theory: Path) -> bool:
    """The record was made on this theory: on this very text, or on a text that preprocesses to the same
    theory under the record's flags (``variant_sha256``, :mod:`expat.tamarin.preprocess`)."""
    text = theory.read_text(encoding="ascii")
    if record.get("theory_sha256") == theory_hash(text):
        return True
    return record.get("variant_sha256") == variant_hash(text, record.get("flags") or [])


def committed_theory() -> Path:
    return Path(locate("tamarin")) / THEORY_FILE
