"""``expat prove``: run ``tamarin-prover`` on the theory, one lemma at a time, and record the verdicts.

Each lemma is proved by its own ``tamarin-prover --prove=LEMMA [-D=FLAG ...] --quit-on-warning THEORY``
process with a wall-clock timeout; the verdict is read from Tamarin's "summary of summaries" line for that lemma
(``NAME (all-traces): verified (N steps)``, ``falsified - found trace``, ``analysis incomplete`` ...;
for exists-trace lemmas "verified" means a trace was found). Wall time and the child's peak resident
memory (``wait4`` rusage) are measured per lemma. Results go to ``tamarin/results/<theory>__<variant>.json``
with the expected verdict from :mod:`expat.model.expectations` next to each one.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional, Sequence

from expat.model.roles import FLAGS
from expat.tamarin import lemmas as L
from expat.tamarin.semantics import FLAG_PREFIX
from expat.tamarin.spthy import parse

PROVER = "tamarin-prover"

_SUMMARY = re.compile(r"^\s*(?P<name>[A-Za-z0-9_]+)\s+\((?P<quantifier>all-traces|exists-trace)\):\s+"
                      r"(?P<status>verified|falsified - found trace|falsified - no trace found|"
                      r"analysis incomplete|analysis undetermined)(?:\s+\((?P<steps>\d+) steps\))?", re.M)
_TAMARIN_VERSION = re.compile(r"(?:tamarin-prover|Tamarin version)\s+v?(\d+(?:\.\d+)+)", re.I)
_MAUDE_VERSION = re.compile(r"(?:Maude version|maude\b.*?checking version:)\s*v?(\d+(?:\.\d+)+)", re.I | re.S)


class ProverMissing(RuntimeError):
    pass


@dataclass
class LemmaResult:
    name: str
    verdict: str  # verified | falsified | timeout | error
    expected: str  # verified | falsified
    wall_s: float
    peak_rss_mb: float


def find_prover() -> Optional[str]:
    return shutil.which(PROVER)


def normalise_flags(flags: Sequence[str]) -> list[str]:
    """Accept ``check_binding`` or ``OFF_check_binding``; return mitigation names, in FLAGS order."""
    names = set()
    for f in flags:
        name = f[len(FLAG_PREFIX):] if f.startswith(FLAG_PREFIX) else f
        if name not in FLAGS:
            raise ValueError(f"unknown flag {f!r} (one of {', '.join(FLAGS)})")
        names.add(name)
    return [f for f in FLAGS if f in names]


def parse_summary(output: str) -> dict[str, tuple[str, str]]:
    """lemma -> (quantifier, status) from Tamarin's summary lines."""
    return {m.group("name"): (m.group("quantifier"), m.group("status")) for m in _SUMMARY.finditer(output)}


def verdict_of(status: Optional[str]) -> str:
    if status is None:
        return "error"
    if status == "verified":
        return "verified"
    if status.startswith("falsified"):
        return "falsified"
    return "error"  # analysis incomplete / undetermined


def versions(prover: str, extra_output: str = "") -> tuple[str, str]:
    text = extra_output
    try:
        done = subprocess.run([prover, "--version"], capture_output=True, text=True, timeout=60)
        text = done.stdout + done.stderr + "\n" + text
    except (OSError, subprocess.TimeoutExpired):
        pass
    t = _TAMARIN_VERSION.search(text)
    m = _MAUDE_VERSION.search(text)
    return (t.group(1) if t else "unknown", m.group(1) if m else "unknown")


def run_lemma(prover: str, theory: Path, lemma: str, flags: Sequence[str], timeout: float) -> tuple[str, float, float, str]:
    """(verdict, wall_s, peak_rss_mb, output) of one ``--prove=lemma`` run."""
    # --quit-on-warning: a well-formedness warning aborts the run (verdict "error") instead of a verdict
    # resting on a theory Tamarin itself flagged (docs/tamarin.md, audit against tamarin-prover's sources)
    cmd = [prover, f"--prove={lemma}", *[f"-D={FLAG_PREFIX}{f}" for f in flags], "--quit-on-warning", str(theory)]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > timeout:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=5)
    output = b"".join(chunks).decode("utf-8", "replace")
    peak = usage.ru_maxrss / 1024.0  # Linux: kilobytes
    if timed_out:
        return "timeout", wall, peak, output
    return verdict_of(parse_summary(output).get(lemma, (None, None))[1]), wall, peak, output


def result_name(theory: Path, flags: Sequence[str]) -> str:
    v = L.variant_for(flags)
    tag = v.name if v is not None else "flags-" + "+".join(flags)
    return f"{theory.stem}__{tag}.json"


def prove(theory: Path, *, lemma: Optional[str] = None, flags: Sequence[str] = (), timeout: float = 600.0,
          out_dir: Optional[Path] = None, progress: Callable[[str], None] = lambda s: None,
          prover: Optional[str] = None) -> tuple[dict, Path]:
    prover = prover or find_prover()
    if prover is None:
        raise ProverMissing(f"{PROVER} is not on PATH")
    flags = normalise_flags(flags)
    parsed = parse(theory.read_text(encoding="ascii"), {FLAG_PREFIX + f for f in flags})
    names = [x.name for x in parsed.lemmas]
    if lemma is not None:
        if lemma not in names:
            raise ValueError(f"no lemma {lemma!r} in {theory} under flags {flags}")
        names = [lemma]
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    results: list[LemmaResult] = []
    first_output = ""
    for k, name in enumerate(names, 1):
        progress(f"[{k}/{len(names)}] {name} ...")
        verdict, wall, peak, output = run_lemma(prover, theory, name, flags, timeout)
        first_output = first_output or output
        expected = L.expected_verdict(name, flags)
        results.append(LemmaResult(name, verdict, expected, round(wall, 3), round(peak, 1)))
        mark = "ok" if verdict == expected else "UNEXPECTED"
        progress(f"[{k}/{len(names)}] {name}: {verdict} (expected {expected}, {wall:.1f} s, {peak:.0f} MB) {mark}")
    tamarin_version, maude_version = versions(prover, first_output)
    record = {"theory": theory.name, "flags": [FLAG_PREFIX + f for f in flags],
              "tamarin_version": tamarin_version, "maude_version": maude_version, "host": platform.node(),
              "started": started, "lemmas": [asdict(r) for r in results]}
    out_dir = out_dir or theory.parent / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / result_name(theory, flags)
    path.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return record, path


RESULT_SCHEMA = {
    "type": "object",
    "required": ["theory", "flags", "tamarin_version", "maude_version", "host", "started", "lemmas"],
    "properties": {
        "theory": {"type": "string"}, "flags": {"type": "array", "items": {"type": "string"}},
        "tamarin_version": {"type": "string"}, "maude_version": {"type": "string"},
        "host": {"type": "string"}, "started": {"type": "string"},
        "lemmas": {"type": "array", "items": {
            "type": "object", "required": ["name", "verdict", "expected", "wall_s", "peak_rss_mb"],
            "properties": {"name": {"type": "string"},
                           "verdict": {"enum": ["verified", "falsified", "timeout", "error"]},
                           "expected": {"enum": ["verified", "falsified"]},
                           "wall_s": {"type": "number"}, "peak_rss_mb": {"type": "number"}}}},
    },
}
