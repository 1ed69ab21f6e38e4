"""``expat prove``: run ``tamarin-prover`` on the theory, one lemma at a time, and record the verdicts.

First a load of the theory with the derivation checks given ``--derivcheck-timeout`` seconds
(:func:`preflight`): any wellformedness warning Tamarin prints stops the run with Tamarin's own text,
except derivation-check findings declared as intended pattern matching
(:data:`expat.tamarin.rules.INTENDED_PATTERN_MATCHING`: signature verification by matching) and the
Maude version notice (Maude 3.2 is not in Tamarin 1.8's list; it is not a wellformedness warning).
Then each lemma is proved by its own ``tamarin-prover --prove=LEMMA [-D=FLAG ...] --derivcheck-timeout=0
--quit-on-warning --stop-on-trace=SEQDFS +RTS -N1 -RTS THEORY`` (:data:`SEARCH_OPTIONS`; derivation
checks were done once; every other wellformedness check still
aborts the run)
process with a wall-clock timeout, and with ``--cpu-limit`` a processor-time budget (the prover and its
Maude processes together, read from ``/proc``: on a shared machine a wall-clock limit makes the verdict
depend on the load, a processor-time budget does not); the verdict is read from Tamarin's "summary of summaries" line for that lemma
(``NAME (all-traces): verified (N steps)``, ``falsified - found trace``, ``analysis incomplete`` ...;
for exists-trace lemmas "verified" means a trace was found). Wall time and the child's peak resident
memory (``wait4`` rusage) are measured per lemma. Results go to ``tamarin/results/<theory>__<variant>.json``
with the expected verdict from :mod:`expat.model.expectations` next to each one.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import re
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional, Sequence

from expat.model.roles import FLAGS
from expat.tamarin import lemmas as L
from expat.tamarin.executability import proved_under
from expat.tamarin.generate import FLAG_PREFIX, theory_hash
from expat.tamarin.preprocess import variant_hash
from expat.tamarin.rules import INTENDED_PATTERN_MATCHING

PROVER = "tamarin-prover"
DERIVCHECK_TIMEOUT = 120  # seconds for Tamarin's message-derivation checks (its default of 5 s is too short here)
MEMORY_LIMIT_MB = 8192    # address-space cap per prover process (others share the machine)
# How each proving process searches. Tamarin is built threaded with ``-N`` (one capability per core), and
# its default ``--stop-on-trace=DFS`` searches for an attack in parallel and lets started branches run on
# after one is found: on 2 cores that cost several times the processor time and memory of a sequential
# search for the same counterexample (request_binding: 123 s / 1.1 GB against 34 s / 0.2 GB; table in
# docs/tamarin.md). Lemmas run side by side with ``--jobs`` instead, each process on one capability.
SEARCH_OPTIONS = ("--stop-on-trace=SEQDFS", "+RTS", "-N1", "-RTS")
# The GHC runtime's options for every proving process, apart from the search: a 64 MB allocation area
# instead of GHC's 1 MB. This changes no proof (the same goals in the same order, the same steps), only how
# often the garbage collector runs: with GHC's default, garbage collection was half of Tamarin's processor
# time (default no_reflection: 11.7 of 22.0 s, 11,661 minor collections; with -A64m 2.6 of 12.9 s, 322
# steps either way; docs/tamarin.md). Every lemma of a record says which it ran with (``runtime_options``;
# a lemma without the field ran with GHC's defaults), so its processor time can be read against them.
RUNTIME_OPTIONS = ("+RTS", "-A64m", "-RTS")

_SUMMARY = re.compile(r"^\s*(?P<name>[A-Za-z0-9_]+)\s+\((?P<quantifier>all-traces|exists-trace)\):\s+"
                      r"(?P<status>verified|falsified - found trace|falsified - no trace found|"
                      r"analysis incomplete|analysis undetermined)(?:\s+\((?P<steps>\d+) steps\))?", re.M)
_TAMARIN_VERSION = re.compile(r"(?:tamarin-prover|Tamarin version)\s+v?(\d+(?:\.\d+)+)", re.I)
_MAUDE_VERSION = re.compile(r"(?:Maude version\s*v?|checking version:\s*|stdout:\s*)(\d+(?:\.\d+)+)", re.I)
_WARNINGS = re.compile(r"WARNING: the following wellformedness checks failed!\s*\n(?P<body>.*?)(?:\n\*/|\Z)", re.S)
_DERIV_RULE = re.compile(r"^Rule (?P<rule>[A-Za-z0-9_]+): ?\nFailed to derive Variable\(s\): (?P<vars>[^\n]*)", re.M)
_LEMMA = re.compile(r"^lemma ([A-Za-z0-9_]+)\b", re.M)
QUIT_MARK = "quit-on-warning mode selected"


class ProverMissing(RuntimeError):
    pass


@dataclass
class LemmaResult:
    name: str
    verdict: str  # verified | falsified | timeout | error
    expected: str  # verified | falsified
    wall_s: float
    peak_rss_mb: float
    steps: Optional[int] = None
    note: str = ""  # for an error: the end of Tamarin's output (e.g. the runtime's out-of-memory message)
    cpu_s: Optional[float] = None  # processor time of the prover and its Maude processes
    runtime_options: tuple[str, ...] = RUNTIME_OPTIONS  # the GHC runtime options the lemma's process ran with


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


def parse_summary(output: str) -> dict[str, tuple[str, str, Optional[int]]]:
    """lemma -> (quantifier, status, steps) from Tamarin's summary lines."""
    return {m.group("name"): (m.group("quantifier"), m.group("status"),
                              int(m.group("steps")) if m.group("steps") else None)
            for m in _SUMMARY.finditer(output)}


def verdict_of(status: Optional[str]) -> str:
    if status is None:
        return "error"
    if status == "verified":
        return "verified"
    if status.startswith("falsified"):
        return "falsified"
    return "error"  # analysis incomplete / undetermined


def warnings_of(output: str) -> str:
    """Tamarin's wellformedness warning text (empty when it printed none). The Maude version notice
    ('checking version: WARNING: ... unsupported version') is not part of it."""
    m = _WARNINGS.search(output)
    return m.group("body").strip() if m else ""


def unexpected_warnings(text: str) -> str:
    """The warning text minus derivation-check findings declared intended; '' when nothing is left."""
    if not text:
        return ""
    sections = re.split(r"\n(?=\S[^\n]*\n=+\n)", "\n" + text)
    left = []
    for sec in filter(str.strip, sections):
        if sec.strip().startswith("Message Derivation Checks") and "timed out" not in sec:
            bad = [m.group(0) for m in _DERIV_RULE.finditer(sec)
                   if not {v.strip() for v in m.group("vars").split(",")} <= INTENDED_PATTERN_MATCHING.get(
                       m.group("rule"), frozenset())]
            if bad:
                left.append("Message Derivation Checks\n" + "\n".join(bad))
        else:
            left.append(sec.strip())
    return "\n\n".join(left)


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


def _limit_memory(mb: int) -> Callable[[], None]:
    def apply() -> None:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (mb * 1024 * 1024, mb * 1024 * 1024))
    return apply


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def group_cpu(pgid: int) -> Optional[float]:
    """Processor seconds used so far by the processes of group ``pgid`` (their own time and that of the
    children they waited for), from ``/proc``; None where there is no ``/proc``."""
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for pid in entries:
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ... utime(11) stime cutime cstime
            total += sum(int(x) for x in fields[11:15])
    return total / _TICK


def _run(cmd: list[str], timeout: float, memory_mb: int,
         cpu_limit: Optional[float] = None) -> tuple[bool, float, float, str, Optional[float]]:
    """(timed_out, wall_s, peak_rss_mb, output, cpu_s) of one prover process (own process group, killed when
    it runs longer than ``timeout`` seconds of wall-clock time or, with ``cpu_limit``, uses more processor
    time than that)."""
    start = time.monotonic()
    cpu: Optional[float] = None
    next_poll = start
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=_limit_memory(memory_mb))
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        now = time.monotonic()
        if now >= next_poll:
            cpu = group_cpu(proc.pid) if cpu_limit is not None else None
            next_poll = now + 0.5
        if now - start > timeout or (cpu is not None and cpu > cpu_limit):
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
    # wait4's usage is the leader's with the children it reaped (Maude); a kill may leave children unreaped,
    # whose time the last poll counted
    cpu = max(usage.ru_utime + usage.ru_stime, cpu or 0.0)
    return timed_out, wall, usage.ru_maxrss / 1024.0, b"".join(chunks).decode("utf-8", "replace"), cpu


def preflight(prover: str, theory: Path, flags: Sequence[str], derivcheck_timeout: int = DERIVCHECK_TIMEOUT,
              timeout: float = 600.0, memory_mb: int = MEMORY_LIMIT_MB) -> tuple[str, str]:
    """Load the theory once with the derivation checks on: ('', output) when Tamarin has no warning left
    after the intended ones, else (Tamarin's warning text, output)."""
    cmd = [prover, *[f"-D={FLAG_PREFIX}{f}" for f in flags], f"--derivcheck-timeout={derivcheck_timeout}", str(theory)]
    timed_out, _wall, _peak, output, _cpu = _run(cmd, timeout, memory_mb)
    if timed_out:
        return f"loading the theory took more than {timeout:.0f} s", output
    return unexpected_warnings(warnings_of(output)), output


def _prove_command(prover: str, theory: Path, proves: Sequence[str], flags: Sequence[str]) -> list[str]:
    """The prover's command line for the ``--prove`` options ``proves``: the variant's flags, derivation
    checks off (done once by :func:`preflight`), warnings fatal, :data:`SEARCH_OPTIONS` and
    :data:`RUNTIME_OPTIONS`."""
    return [prover, *proves, *[f"-D={FLAG_PREFIX}{f}" for f in flags], "--derivcheck-timeout=0",
            "--quit-on-warning", *SEARCH_OPTIONS, *RUNTIME_OPTIONS, str(theory)]


def run_lemma(prover: str, theory: Path, lemma: str, flags: Sequence[str], timeout: float,
              memory_mb: int = MEMORY_LIMIT_MB,
              cpu_limit: Optional[float] = None) -> tuple[str, float, float, str, Optional[float]]:
    """(verdict, wall_s, peak_rss_mb, output, cpu_s) of one ``--prove=lemma`` run."""
    timed_out, wall, peak, output, cpu = _run(_prove_command(prover, theory, [f"--prove={lemma}"], flags),
                                              timeout, memory_mb, cpu_limit)
    if timed_out:
        return "timeout", wall, peak, output, cpu
    return verdict_of(parse_summary(output).get(lemma, (None, None, None))[1]), wall, peak, output, cpu


def run_batch(prover: str, theory: Path, flags: Sequence[str], timeout: float,
              memory_mb: int = MEMORY_LIMIT_MB, names: Optional[Sequence[str]] = None) -> tuple[dict[str, tuple[str, Optional[int]]], float, float, str]:
    """All lemmas in one ``--prove`` process (Tamarin's precomputation is done once): lemma -> (verdict,
    steps), the process's wall time and peak memory, its output. A lemma missing from the summary
    (timeout, warning) is 'timeout' or 'error'."""
    every = lemma_names(theory.read_text(encoding="ascii"))
    names = list(names) if names is not None else every
    proves = ["--prove"] if names == every else [f"--prove={n}" for n in names]
    timed_out, wall, peak, output, _cpu = _run(_prove_command(prover, theory, proves, flags), timeout, memory_mb)
    summary = parse_summary(output)
    out = {name: (verdict_of(s[1]), s[2]) for name, s in summary.items()}
    # Tamarin lists unselected lemmas as "analysis incomplete": only the selected ones count
    return ({n: out.get(n, ("timeout" if timed_out else "error", None)) for n in names}, wall, peak, output)


def error_note(output: str) -> str:
    """The last lines Tamarin printed, for a run that produced no verdict (out of memory, crash)."""
    lines = [x.strip() for x in output.splitlines() if x.strip() and not x.startswith("[Saturating")]
    return " | ".join(lines[-3:])[-400:]


def lemma_names(text: str) -> list[str]:
    return _LEMMA.findall(text)


def variant_name(flags: Sequence[str]) -> str:
    v = L.variant_for(flags)
    return v.name if v is not None else "flags-" + "+".join(flags)


def result_name(theory: Path, flags: Sequence[str]) -> str:
    return f"{theory.stem}__{variant_name(flags)}.json"


def prove(theory: Path, *, lemma: Optional[str] = None, flags: Sequence[str] = (), timeout: float = 600.0,
          out_dir: Optional[Path] = None, progress: Callable[[str], None] = lambda s: None,
          prover: Optional[str] = None, derivcheck_timeout: int = DERIVCHECK_TIMEOUT,
          memory_mb: int = MEMORY_LIMIT_MB, batch: bool = False,
          save_output: Optional[Path] = None, merge: bool = False,
          cpu_limit: Optional[float] = None, jobs: int = 1) -> tuple[dict, Path]:
    """Prove every lemma (or ``lemma``) under ``flags``; write the results record. ``batch``: one prover
    process for all lemmas (precomputation shared; each lemma's ``wall_s`` and ``peak_rss_mb`` are then
    the whole process's, and the record says ``"batch": true``). ``cpu_limit``: processor seconds per
    lemma (``timeout`` then only guards the wall clock); the record says ``"cpu_limit_s"``. ``jobs``: that
    many lemma processes at once (each lemma keeps its own process, time and memory)."""
    prover = prover or find_prover()
    if prover is None:
        raise ProverMissing(f"{PROVER} is not on PATH")
    flags = normalise_flags(flags)
    from expat.tamarin.mapping import FLAGS_NOT_MODELLED
    unmodelled = [f for f in flags if f in FLAGS_NOT_MODELLED]
    if unmodelled:
        raise ValueError("not modelled in the theory, so not proved: " +
                         "; ".join(f"{f} ({FLAGS_NOT_MODELLED[f]})" for f in unmodelled))
    text = theory.read_text(encoding="ascii")
    names = lemma_names(text)
    if lemma is not None:  # one name or several, comma-separated
        wanted = [x.strip() for x in lemma.split(",") if x.strip()]
        for x in wanted:
            if x not in names:
                raise ValueError(f"no lemma {x!r} in {theory}")
        names = wanted
    else:  # every lemma the variant has a claim on
        names = [n for n in names if proved_under(n, flags)]
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    run_start, load = time.monotonic(), _load()
    with tempfile.TemporaryDirectory(prefix="expat-prove-") as private:
        # the prover reads a private copy: the record is about ``text``, whatever happens to the file meanwhile
        copy = Path(private) / theory.name
        copy.write_text(text, encoding="ascii")
        progress(f"loading {theory.name} with derivation checks ({derivcheck_timeout} s) ...")
        warning, first_output = preflight(prover, copy, flags, derivcheck_timeout, timeout, memory_mb)
        results: list[LemmaResult] = []
        if warning:
            progress(f"tamarin-prover warned; no lemma is run:\n{warning}")
        if batch and not warning:
            progress(f"all {len(names)} lemmas in one process (timeout {timeout:.0f} s) ...")
            got, wall, peak, output = run_batch(prover, copy, flags, timeout, memory_mb, names)
            if save_output is not None:
                save_output.write_text(output, encoding="utf-8")
            if QUIT_MARK in output:
                progress(f"tamarin-prover stopped on a warning:\n{warnings_of(output) or output[-2000:]}")
            for k, name in enumerate(names, 1):
                verdict, steps = got[name]
                expected = L.expected_verdict(name, flags)
                note = error_note(output) if verdict == "error" else ""
                results.append(LemmaResult(name, verdict, expected, round(wall, 3), round(peak, 1), steps, note))
                mark = "ok" if verdict == expected else "UNEXPECTED"
                progress(f"[{k}/{len(names)}] {name}: {verdict} (expected {expected}, {steps} steps) {mark}")
            names = []
        def one(k: int, name: str) -> LemmaResult:
            progress(f"[{k}/{len(names)}] {name} ...")
            verdict, wall, peak, output, cpu = run_lemma(prover, copy, name, flags, timeout, memory_mb, cpu_limit)
            expected = L.expected_verdict(name, flags)
            steps = parse_summary(output).get(name, (None, None, None))[2]
            note = error_note(output) if verdict == "error" else ""
            if note:
                progress(f"tamarin-prover gave no verdict for {name}: {note}")
            if QUIT_MARK in output:
                progress(f"tamarin-prover stopped on a warning:\n{warnings_of(output) or output[-2000:]}")
            mark = "ok" if verdict == expected else "UNEXPECTED"
            used = "" if cpu is None else f", {cpu:.0f} s processor"
            progress(f"[{k}/{len(names)}] {name}: {verdict} (expected {expected}, {wall:.1f} s{used}, {peak:.0f} MB) {mark}")
            return LemmaResult(name, verdict, expected, round(wall, 3), round(peak, 1), steps, note,
                               None if cpu is None else round(cpu, 1))

        todo = list(enumerate(names if not warning else [], 1))
        # ``jobs`` lemma processes side by side; the record keeps the theory's lemma order
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results += list(pool.map(lambda item: one(*item), todo))
    tamarin_version, maude_version = versions(prover, first_output)
    record = {"theory": theory.name, "theory_sha256": theory_hash(text), "variant": variant_name(flags),
              "variant_sha256": variant_hash(text, [FLAG_PREFIX + f for f in flags]),
              "flags": [FLAG_PREFIX + f for f in flags], "derivcheck_timeout": derivcheck_timeout,
              "warning": warning, "tamarin_version": tamarin_version, "maude_version": maude_version,
              "host": platform.node(), "started": started, "not_modelled": sorted(L.NOT_MODELLED),
              "batch": batch, "memory_limit_mb": memory_mb, "timeout_s": timeout, "cpu_limit_s": cpu_limit,
              "load_at_start": load, "jobs": jobs, "search_options": list(SEARCH_OPTIONS),
              "runtime_options": list(RUNTIME_OPTIONS),
              "run_wall_s": round(time.monotonic() - run_start, 1),
              "lemmas": [asdict(r) for r in results]}
    out_dir = out_dir or theory.parent / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / result_name(theory, flags)
    if merge and path.exists():  # keep earlier verdicts on the same theory text for lemmas not rerun
        old = json.loads(path.read_text(encoding="utf-8"))
        same_search = old.get("search_options") == record["search_options"]
        if old.get("flags") == record["flags"] and same_search and (
                old.get("theory_sha256") == record["theory_sha256"] or
                old.get("variant_sha256") == record["variant_sha256"]):
            rerun = {r["name"] for r in record["lemmas"]}
            # a kept lemma says which runtime options it ran with (none recorded: GHC's defaults)
            kept = [{**r, "runtime_options": r.get("runtime_options", old.get("runtime_options", []))}
                    for r in old.get("lemmas", []) if r["name"] not in rerun]
            order = {n: i for i, n in enumerate(lemma_names(text))}
            record["lemmas"] = sorted(kept + record["lemmas"], key=lambda r: order.get(r["name"], 1 << 30))
            record["batch"] = bool(old.get("batch")) or batch
    path.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return record, path


def _load() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


RESULT_SCHEMA = {
    "type": "object",
    "required": ["theory", "theory_sha256", "variant", "flags", "tamarin_version", "maude_version", "host",
                 "started", "lemmas"],
    "properties": {
        "theory": {"type": "string"}, "theory_sha256": {"type": "string"}, "variant": {"type": "string"},
        "variant_sha256": {"type": "string"},
        "flags": {"type": "array", "items": {"type": "string"}},
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
