"""Reading the report's inputs to their contracts (docs/report.md). Nothing here raises on bad input:
a missing input is NOT_RECORDED, an unreadable one says why."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from expat.layout import display, locate
from expat.model.expectations import VARIANTS
from expat.model.properties import PROPERTY_IDS
from expat.model.roles import FLAGS, flag

NOT_RECORDED = "not recorded"

PROOFS_PATH = "proofs/verdicts.json"
TAMARIN_DIR = "tamarin/results"
GOLDEN_DIR = "traces/golden"
EXAMPLES_DIR = "traces/examples"
BENCH_PATH = "perf/results/latest.json"
CATALOGUE_REL = "spec/catalogue.json"


# --- reading inputs ------------------------------------------------------------------------------

@dataclass
class Input:
    name: str
    path: str
    status: str            # "found", NOT_RECORDED, or "unreadable: ..."


def read_json(path: Path) -> tuple[Optional[Any], str]:
    if not path.exists():
        return None, NOT_RECORDED
    try:
        return json.loads(path.read_text(encoding="utf-8")), "found"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"unreadable: {type(e).__name__}: {e}"


def _rel(path: Path, root: Optional[Path]) -> str:
    return display(path, root)


def num_text(v: Any, unit: str = "") -> str:
    """A number as fixed text (never 'nan'); anything else as its string."""
    if isinstance(v, bool) or v is None:
        return "—" if v is None else str(v).lower()
    if isinstance(v, int):
        return f"{v}{unit}"
    if isinstance(v, float):
        return f"{v:.3g}{unit}" if math.isfinite(v) else str(v)
    return str(v)


def as_text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False)


@dataclass
class Proofs:
    status: str
    meta: dict[str, Any] = field(default_factory=dict)
    by_key: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_proofs(root: Optional[Path]) -> Proofs:
    data, status = read_json(locate(PROOFS_PATH, root))
    if data is None:
        return Proofs(status)
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return Proofs("unreadable: no \"results\" list")
    out = Proofs("found", {k: data.get(k) for k in ("bound", "z3_version", "generated_by")})
    for n, r in enumerate(data["results"]):
        if not isinstance(r, dict) or r.get("property") not in PROPERTY_IDS or r.get("variant") not in VARIANTS \
                or r.get("verdict") not in ("holds", "violated"):
            out.problems.append(f"result {n} ignored: unknown property/variant or verdict")
            continue
        key = (r["property"], r["variant"])
        if key in out.by_key:
            out.problems.append(f"result {n}: {key[0]} / {key[1]} recorded twice; the last one is shown")
        out.by_key[key] = r
    return out


@dataclass
class TamarinRun:
    file: str
    data: dict[str, Any]
    variant: Optional[str]
    lemmas: list[dict[str, Any]]


@dataclass
class Tamarin:
    status: str
    runs: list[TamarinRun] = field(default_factory=list)
    by_key: dict[tuple[str, str], tuple[dict[str, Any], str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _norm_flag(f: str) -> str:
    f = f.strip()
    f = (f[3:] if f[:3] in ("-D=", "-D ") else f).strip().lower().replace("-", "_")
    for prefix in ("no_", "off_", "not_"):
        if f.startswith(prefix) and f[len(prefix):] in FLAGS:
            return f[len(prefix):]
    return f


def tamarin_variant(flags: Any) -> Optional[str]:
    """The variant a run's preprocessor flags stand for: a variant's name among the flags; or the
    flags (optionally written -D=OFF_x, OFF_x, no_x as the Tamarin export does) equal to the variant's
    switched-off mitigations; or the flags
    equal to the mitigations left on. None when no variant fits (shown as such)."""
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        return None
    names = [v for v in VARIANTS if v in flags]
    if len(names) == 1:
        return names[0]
    norm = {_norm_flag(f) for f in flags}
    for v in VARIANTS.values():
        if norm == set(v.off):
            return v.name
    for v in VARIANTS.values():
        if norm == set(FLAGS) - set(v.off):
            return v.name
    return None


THEORY_FILE = "expat.spthy"  # expat.tamarin.generate.THEORY_FILE


def lemma_property(name: Any) -> Optional[str]:
    """Lemmas are named by property id (docs/model.md); a longer name containing one id also maps."""
    if not isinstance(name, str):
        return None
    if name in PROPERTY_IDS:
        return name
    hits = [p for p in PROPERTY_IDS if p in name]
    return max(hits, key=len) if hits else None


def read_tamarin(root: Optional[Path]) -> Tamarin:
    d = locate(TAMARIN_DIR, root)
    files = sorted(d.glob("*.json")) if d.is_dir() else []
    if not files:
        return Tamarin(NOT_RECORDED)
    out = Tamarin("found")
    for p in files:
        data, status = read_json(p)
        rel = _rel(p, root)
        if not isinstance(data, dict) or not isinstance(data.get("lemmas"), list):
            out.problems.append(f"{rel}: " + (status if data is None else 'no "lemmas" list'))
            continue
        lemmas = [lm for lm in data["lemmas"] if isinstance(lm, dict)]
        run = TamarinRun(rel, data, tamarin_variant(data.get("flags")), lemmas)
        out.runs.append(run)
        if run.variant is None or data.get("theory", THEORY_FILE) != THEORY_FILE:
            continue  # the property cells come from the committed theory's runs (not tamarin/attacks.spthy)
        for lm in lemmas:
            prop = lemma_property(lm.get("name"))
            if prop is not None:
                out.by_key[(prop, run.variant)] = (lm, rel)
    return out


@dataclass
class TraceRun:
    file: str
    kind: str                    # "honest" or "attack"
    description: str
    variant: Optional[str]
    off: tuple[str, ...]
    error: str = ""
    conformant: bool = False
    rules: tuple[str, ...] = ()
    flagged: tuple[str, ...] = ()
    expect: Optional[tuple[str, ...]] = None   # header "expect.properties" of synthetic examples


@dataclass
class Monitors:
    source: str                  # where the traces came from
    runs: list[TraceRun] = field(default_factory=list)


def trace_files(root: Optional[Path], kind: str) -> tuple[list[Path], str]:
    """Golden traces of ``kind`` when any is present, else the synthetic examples."""
    pattern = {"honest": "honest-*.jsonl", "attack": "attack-*-unmitigated.jsonl"}[kind]
    golden = sorted(locate(GOLDEN_DIR, root).glob(pattern)) if locate(GOLDEN_DIR, root).is_dir() else []
    if golden:
        return golden, "golden"
    ex = locate(EXAMPLES_DIR, root)
    return (sorted(ex.glob(f"synthetic-{kind}-*.jsonl")) if ex.is_dir() else []), "synthetic"


def variant_of(profile: dict) -> tuple[Optional[str], tuple[str, ...]]:
    """The variant whose switched-off flags are exactly the profile's (None if no variant is)."""
    off = tuple(f for f in FLAGS if not flag(profile, f))
    for v in VARIANTS.values():
        if set(v.off) == set(off):
            return v.name, off
    return None, off


def run_monitors(root: Optional[Path]) -> Monitors:
    from expat.model.checker import check_trace
    from expat.model.trace import TraceFormatError, load_trace

    sources = []
    runs: list[TraceRun] = []
    for kind in ("honest", "attack"):
        files, src = trace_files(root, kind)
        if files:
            sources.append(f"{kind}: {src} ({len(files)})")
        for p in files:
            rel = _rel(p, root)
            try:
                t = load_trace(p)
            except (TraceFormatError, OSError, UnicodeDecodeError, ValueError) as e:
                runs.append(TraceRun(rel, kind, "", None, (), error=f"{type(e).__name__}: {e}"))
                continue
            variant, off = variant_of(t.profile if isinstance(t.profile, dict) else {})
            r = check_trace(t)
            exp = t.header.get("expect")
            expect = tuple(sorted(exp["properties"])) if isinstance(exp, dict) and isinstance(
                exp.get("properties"), list) else None
            runs.append(TraceRun(rel, kind, str(t.header.get("description", "")), variant, off, "",
                                 r.conformant, tuple(sorted(r.rules())), tuple(sorted(r.properties())), expect))
    return Monitors("; ".join(sources) if sources else NOT_RECORDED, runs)


@dataclass
class Diagram:
    name: str
    file: str
    svg: str
    error: str = ""


def diagrams(root: Optional[Path]) -> tuple[list[Diagram], str]:
    from expat.model.trace import TraceFormatError, load_trace
    from expat.perf.msc import trace_svg

    files, src = trace_files(root, "honest")
    out = []
    for p in files:
        name = p.stem
        try:
            t = load_trace(p)
        except (TraceFormatError, OSError, UnicodeDecodeError, ValueError) as e:
            out.append(Diagram(name, "", "", f"{type(e).__name__}: {e}"))
            continue
        title = f"{name}: {t.header.get('description', '')}".rstrip(": ")
        out.append(Diagram(name, f"msc-{name}.svg", trace_svg(t, title, f"msc-{name}")))
    return out, src if files else NOT_RECORDED


def read_coverage() -> tuple[Optional[list[tuple[str, Any]]], str]:
    from expat.spec.catalogue import coverage, load_catalogue

    try:
        cat = load_catalogue()
    except (OSError, ValueError, TypeError, KeyError) as e:
        return None, f"unreadable: {type(e).__name__}: {e}"
    scopes = [("all", cat.entries)] + [(f"revision {r}", cat.revision(r))
                                       for r in sorted({r for e in cat.entries for r in e.revisions})]
    return [(name, coverage(entries)) for name, entries in scopes], "found"
