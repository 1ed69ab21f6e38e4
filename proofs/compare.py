"""Four-way agreement per (property, variant): expectation, z3, Tamarin, monitors on the attack traces.

* expectation: ``model/expectations.py``;
* z3: this bounded search (:mod:`expat.proofs.analysis`), "holds" only within its bound;
* Tamarin: read from ``tamarin/results/expat__<variant>.json`` when present (one record per lemma with
  ``name``, ``verdict``, ``expected``, ``wall_s``, ``peak_rss_mb``; lemma names are property ids). A
  missing file, lemma or unreadable record is "not recorded"; a verdict other than verified/falsified
  (timeout, error) is "inconclusive". Neither counts as agreement or as disagreement;
* monitors: ``expat check`` on every ``traces/golden/attack-*.jsonl`` whose switched-off mitigations
  are exactly the variant's. A flagged property is "violated"; nothing flagged is "not flagged" (the
  traces demonstrate attacks, they do not enumerate runs, so only a flag can disagree).

A cell agrees when every tool that gave a verdict gives the expected one. A disagreement is
*understood* when :mod:`expat.proofs.disagreements` names that very cell, tool and verdict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from expat.layout import display, locate
from expat.model.expectations import VARIANTS
from expat.model.properties import PROPERTY_IDS
from expat.proofs import disagreements as D

NOT_RECORDED = "not recorded"
INCONCLUSIVE = "inconclusive"
NOT_FLAGGED = "not flagged"
NO_TRACE = "no trace"
TAMARIN_VERDICTS = {"verified": "holds", "falsified": "violated", "holds": "holds", "violated": "violated"}


def tamarin_path(variant: str, root: Optional[Path] = None) -> Path:
    return locate(f"tamarin/results/expat__{variant}.json", root)


def _lemma_records(doc: Any) -> list[dict]:
    """The per-lemma records of a results document, in any of the shapes it may take: a list of
    records, or a dict holding them under "lemmas"/"results" as a list or as a name -> record map."""
    if isinstance(doc, dict):
        for key in ("lemmas", "results"):
            if key in doc:
                doc = doc[key]
                break
        else:
            return []
    if isinstance(doc, dict):
        return [dict(rec, name=rec.get("name", name)) for name, rec in doc.items() if isinstance(rec, dict)]
    if isinstance(doc, list):
        return [rec for rec in doc if isinstance(rec, dict)]
    return []


@dataclass(frozen=True)
class TamarinCell:
    verdict: str                      # holds / violated / inconclusive / not recorded
    raw: Optional[str] = None         # Tamarin's own word (verified, falsified, timeout, ...)
    wall_s: Optional[float] = None
    peak_rss_mb: Optional[float] = None


def read_tamarin(variant: str, root: Optional[Path] = None) -> dict[str, TamarinCell]:
    """property id -> Tamarin's recorded verdict for ``variant``; a property absent from the result
    is absent here (shown as "not recorded"). Never raises on a missing or malformed file."""
    try:
        doc = json.loads(tamarin_path(variant, root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, TamarinCell] = {}
    for rec in _lemma_records(doc):
        name, raw = rec.get("name"), rec.get("verdict")
        if name not in PROPERTY_IDS or not isinstance(raw, str):
            continue
        wall, rss = rec.get("wall_s"), rec.get("peak_rss_mb")
        out[name] = TamarinCell(TAMARIN_VERDICTS.get(raw.lower(), INCONCLUSIVE), raw,
                                wall if isinstance(wall, (int, float)) else None,
                                rss if isinstance(rss, (int, float)) else None)
    return out


def attack_traces(root: Optional[Path] = None) -> list[Path]:
    return sorted(locate("traces/golden", root).glob("attack-*.jsonl"))


def monitor_flags(root: Optional[Path] = None) -> tuple[dict[str, dict[str, list[str]]], list[str]]:
    """variant -> property -> attack traces that ``expat check`` flags with it; and the traces that
    match no variant (their switched-off mitigations are no variant's set)."""
    from expat.model.checker import check_trace
    from expat.model.trace import load_trace

    by_off = {frozenset(v.off): name for name, v in VARIANTS.items()}
    flags: dict[str, dict[str, list[str]]] = {}
    unmatched: list[str] = []
    for path in attack_traces(root):
        trace = load_trace(path)
        variant = by_off.get(frozenset(trace.header.get("mitigations_off") or ()))
        name = display(path, root)
        if variant is None:
            unmatched.append(name)
            continue
        props = flags.setdefault(variant, {})
        for prop in sorted(check_trace(trace).properties()):
            props.setdefault(prop, []).append(name)
        props.setdefault("", []).append(name)  # the variant has attack traces at all
    return flags, unmatched


@dataclass
class Cell:
    property: str
    variant: str
    expected: str
    z3: Optional[str]                 # None: z3 not run for this variant
    z3_bound: Optional[str]
    tamarin: TamarinCell
    monitors: str                     # violated / not flagged / no trace
    monitor_traces: list[str] = field(default_factory=list)
    counterexample: Optional[str] = None
    disagreements: list[tuple[str, str]] = field(default_factory=list)   # (tool, its verdict)
    reasons: dict[str, D.Reason] = field(default_factory=dict)            # tool -> understood reason

    @property
    def agrees(self) -> bool:
        return not self.disagreements

    @property
    def understood(self) -> bool:
        return all(tool in self.reasons for tool, _ in self.disagreements)

    def to_json(self) -> dict:
        return {
            "property": self.property, "variant": self.variant, "expected": self.expected,
            "z3": self.z3, "z3_bound": self.z3_bound, "counterexample": self.counterexample,
            "tamarin": self.tamarin.verdict, "tamarin_raw": self.tamarin.raw, "tamarin_wall_s": self.tamarin.wall_s,
            "tamarin_peak_rss_mb": self.tamarin.peak_rss_mb,
            "monitors": self.monitors, "monitor_traces": self.monitor_traces,
            "agrees": self.agrees, "understood": self.understood,
            "disagreements": [{"tool": t, "verdict": v, "reason": self.reasons[t].reason if t in self.reasons else None}
                              for t, v in self.disagreements],
        }


def compare(z3_rows: Optional[list] = None, bound=None, variants: Optional[list[str]] = None,
            root: Optional[Path] = None, reasons: tuple[D.Reason, ...] = D.REASONS,
            flags: Optional[tuple[dict, list]] = None) -> tuple[list[Cell], list[str]]:
    """Every (property, variant) cell; and the attack traces that match no variant. ``z3_rows`` are
    :class:`expat.proofs.analysis.Row`; a variant without rows shows z3 as not run."""
    names = list(variants or VARIANTS)
    z3 = {(r.property, r.variant): r for r in (z3_rows or [])}
    flagged, unmatched = flags if flags is not None else monitor_flags(root)
    cells: list[Cell] = []
    connections = bound.connections if bound is not None else None
    for variant in names:
        tam = read_tamarin(variant, root)
        mon = flagged.get(variant, {})
        for prop in PROPERTY_IDS:
            expected = "holds" if VARIANTS[variant].holds(prop) else "violated"
            row = z3.get((prop, variant))
            m_traces = mon.get(prop, [])
            m = "violated" if m_traces else (NOT_FLAGGED if "" in mon else NO_TRACE)
            cell = Cell(prop, variant, expected, row.verdict if row else None,
                        bound.tag() if (row and bound is not None) else None,
                        tam.get(prop, TamarinCell(NOT_RECORDED)), m, m_traces,
                        row.counterexample if row else None)
            for tool, verdict in (("z3", cell.z3), ("tamarin", cell.tamarin.verdict), ("monitors", m)):
                if verdict in ("holds", "violated") and verdict != expected:
                    if tool == "monitors" and verdict != "violated":
                        continue
                    cell.disagreements.append((tool, verdict))
                    r = D.lookup(variant, prop, tool, verdict, connections if tool == "z3" else None, reasons)
                    if r is not None:
                        cell.reasons[tool] = r
            cells.append(cell)
    return cells, unmatched


def stale_reasons(cells: list[Cell], bound=None, reasons: tuple[D.Reason, ...] = D.REASONS) -> list[D.Reason]:
    """Entries of the reasons table that apply to this comparison but explain no disagreement in it
    (the tool now agrees, or gave no verdict): shown, so that an excuse does not outlive its cause."""
    used = {id(r) for c in cells for r in c.reasons.values()}
    ran = {(c.variant, c.property, "z3") for c in cells if c.z3 is not None}
    ran |= {(c.variant, c.property, "tamarin") for c in cells if c.tamarin.verdict in ("holds", "violated")}
    ran |= {(c.variant, c.property, "monitors") for c in cells if c.monitors != NO_TRACE}
    connections = bound.connections if bound is not None else None
    return [r for r in reasons if id(r) not in used and (r.variant, r.property, r.tool) in ran
            and (r.tool != "z3" or r.applies(connections))]
