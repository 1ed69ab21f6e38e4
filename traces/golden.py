"""The golden trace corpus (``traces/golden/``) and its normalisation (``expat traces regenerate``).

The corpus holds real runs of the reference: the honest scenario matrix (attester client / server /
mutual x background-check / passport with the default profile, plus a few profile variants) and
both runs of every attack in :data:`expat.reference.attacks.ATTACKS`.

Keys, certificates, AIKs and signatures derive from fixed seeds, but TLS randoms and ECDHE shares
come from OpenSSL, which pyOpenSSL does not let us seed (cryptography's bundled OpenSSL exposes no
RAND override). Everything that depends on them (contexts when they are Verifier nonces or random,
exporter values, bindings, Evidence and EAR bytes and so their ``cmw`` identifiers, authenticators)
differs from run to run. The golden writer therefore **normalises** a trace (:func:`normalise`):

* every value of a *renamed* argument (:data:`RENAMED`) is replaced by a deterministic stand-in of
  the same length, derived from (trace seed, value class, order of first appearance); the mapping
  is one per trace and by value, so the same original always gets the same stand-in wherever it
  appears (a ``ctx`` that is also a Verifier ``nonce``, a ``binding`` echoed as ``binding_echo``, an
  EAR id that is both ``result`` and ``cmw``): every equality the checker and the monitors use holds
  in the normalised trace exactly when it held in the recorded one;
* ``request`` is rewritten: it is the encoded request, a pure function of its context and
  extensions, so the stand-in context is spliced into it (the request-encoding relation still holds);
* ``authenticator`` is dropped (optional argument): its CertificateVerify and Finished are keyed by
  the connection's secrets and cannot be made consistent with stand-ins;
* values that are already deterministic (AIKs, AIK_pub_hash values, certificates, attestation key
  ids, connection names, lengths, flags) stay real, so relations such as aik_hash == H(aik) are
  still recomputed by the checker.

Golden traces are recorded without secrets. The header says that the trace is normalised, which
arguments were renamed, rewritten and dropped (``normalised``). See traces/README.md.
"""

from __future__ import annotations

import datetime as _dt

import argparse
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from expat.model.trace import Event, Trace, TraceRecorder

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
SCHEME = "expat-golden/1"

# argument name -> value class (stand-ins are numbered per class, in order of first appearance)
RENAMED: dict[str, str] = {
    "ctx": "ctx", "nonce": "ctx",
    "binding": "binding", "expected_binding": "binding", "cmw_binding": "binding", "binding_echo": "binding",
    "cmw": "cmw", "result": "cmw",
    "ticket": "ticket", "resumed_from": "ticket",
}
REWRITTEN = ("request",)
DROPPED = ("authenticator",)
_KEEP = ("", "-")   # "none" markers are not values


def _stand_in(seed: str, kind: str, n: int, length: int) -> bytes:
    out = b""
    block = 0
    while len(out) < length:
        out += hashlib.sha256(f"{SCHEME}|{seed}|{kind}|{n}|{block}".encode()).digest()
        block += 1
    return out[:length]


class Normaliser:
    """One trace's consistent renaming (original JSON value -> stand-in)."""

    def __init__(self, seed: str):
        self.seed = seed
        self.map: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.renamed: set[str] = set()
        self.rewritten: set[str] = set()
        self.dropped: set[str] = set()

    def value(self, name: str, v: Any) -> Any:
        if not isinstance(v, str) or v in _KEEP:
            return v
        if v not in self.map:
            kind = RENAMED[name]
            n = self.counts.get(kind, 0)
            self.counts[kind] = n + 1
            if kind in ("cmw", "ticket"):   # identifiers: hex of the same length (a valid id)
                stand = _stand_in(self.seed, kind, n, (len(v) + 1) // 2).hex()[:len(v)]
            else:
                stand = _stand_in(self.seed, kind, n, len(v) // 2).hex()
            self.map[v] = stand
        self.renamed.add(name)
        return self.map[v]

    def request(self, hexreq: str, ctx: str | None) -> str:
        """Splice the stand-in context into an encoded request: type(1) len(3) ctx_len(1) ctx ..."""
        raw = bytes.fromhex(hexreq)
        if len(raw) < 5 or ctx is None:
            return hexreq
        n = raw[4]
        old = raw[5:5 + n].hex()
        if old != ctx:
            return hexreq   # not the recorded context: leave as recorded (the checker will say so)
        self.rewritten.add("request")
        return (raw[:5] + bytes.fromhex(self.value("ctx", old)) + raw[5 + n:]).hex()

    def event(self, e: Event) -> Event:
        args: dict[str, Any] = {}
        for name, v in e.args.items():
            if name in DROPPED:
                self.dropped.add(name)
                continue
            if name in REWRITTEN:
                args[name] = self.request(v, e.args.get("ctx"))
            elif name in RENAMED:
                args[name] = self.value(name, v)
            else:
                args[name] = v
        return Event(e.seq, e.agent, e.name, args)


def normalise(trace: Trace) -> Trace:
    """The normalised copy of a trace recorded without secrets (see the module docstring)."""
    if trace.header.get("with_secrets"):
        raise ValueError("golden traces are recorded without secrets")
    norm = Normaliser(str(trace.header.get("seed", "")))
    events = [norm.event(e) for e in trace.events]
    header = dict(trace.header)
    header["normalised"] = {"scheme": SCHEME, "renamed": sorted(norm.renamed), "rewritten": sorted(norm.rewritten),
                            "dropped": sorted(norm.dropped)}
    return Trace(header, events, trace.source)


# --- the corpus ------------------------------------------------------------------------------------

ATTESTERS = ("client", "server", "mutual")
MODELS = ("background-check", "passport")
# (attester, model, profile): cheap variants of the default matrix, one reading each
PROFILE_VARIANTS = (
    ("client", "background-check", "rev01"),
    ("client", "background-check", "editors"),
    ("client", "background-check", "raw-public-key"),
    ("client", "background-check", "nonce-array"),
    ("client", "background-check", "json-cmw"),
    ("client", "background-check", "random-context"),
    ("server", "passport", "self-signed-aik"),
    ("mutual", "background-check", "exporter-hlen"),
    # draft -04: every attester x model, and the delegated comparison (background check only, -04 §5.1)
    *((a, m, "rev04") for a in ("client", "server", "mutual") for m in ("background-check", "passport")),
    *((a, "background-check", "rev04-delegated") for a in ("client", "server", "mutual")),
)


@dataclass(frozen=True)
class Entry:
    name: str                      # file name under traces/golden/
    build: Callable[[], Trace]     # the recorded (not yet normalised) trace
    kind: str                      # "honest" | "attack-mitigated" | "attack-unmitigated"
    attack: str = ""


# Chain validation time of the golden honest runs (RFC 5280 §6.1.3): fixed here, and only here, so that the
# corpus does not depend on the day it is regenerated; everywhere else validation runs at "now".
GOLDEN_VALIDATION_TIME = _dt.datetime(2026, 6, 1, tzinfo=_dt.timezone.utc)


def _honest(attester: str, model: str, profile: str) -> Callable[[], Trace]:
    def build() -> Trace:
        from expat.profile import get_profile
        from expat.reference.attestation.scenario import Scenario, run

        seed = f"expat-golden|{attester}|{model}|{profile}"
        s = Scenario(attester=attester, model=model, profile=get_profile(profile), seed=seed.encode(),
                     validation_time=GOLDEN_VALIDATION_TIME)
        rec = TraceRecorder(profile=s.profile.to_dict(), seed=seed, cipher_suite=s.suite, with_secrets=False,
                            scenario={"attester": attester, "model": model, "verifier": s.verifier_transport},
                            description=f"golden honest run: {attester} attests, {model}, profile {profile}")
        result = run(s, rec)
        if not result.ok:
            raise RuntimeError(f"honest golden run {attester}/{model}/{profile} failed: {result.error}")
        return rec.trace()
    return build


def _attack(name: str, mitigated: bool) -> Callable[[], Trace]:
    def build() -> Trace:
        from expat.reference.attacks import ATTACKS, run_once

        r = run_once(ATTACKS[name], mitigated, with_secrets=False)
        if not r.as_expected:
            raise RuntimeError(f"attack {name} ({'mitigated' if mitigated else 'unmitigated'}) did not behave "
                               f"as expected: {r.decision()}; {r.finding()}")
        return r.trace
    return build


def entries() -> list[Entry]:
    from expat.reference.attacks import ATTACKS

    out = [Entry(f"honest-{a}-{m}.jsonl", _honest(a, m, "default"), "honest") for a in ATTESTERS for m in MODELS]
    out += [Entry(f"honest-{a}-{m}-{p}.jsonl", _honest(a, m, p), "honest") for a, m, p in PROFILE_VARIANTS]
    for name in ATTACKS:
        for mitigated in (True, False):
            tag = "mitigated" if mitigated else "unmitigated"
            out.append(Entry(f"attack-{name}-{tag}.jsonl", _attack(name, mitigated), f"attack-{tag}", name))
    return out


def build_all() -> dict[str, str]:
    """file name -> normalised trace text, for the whole corpus."""
    return {e.name: normalise(e.build()).text() for e in entries()}


def regenerate(directory: Path = GOLDEN_DIR, *, check: bool = False) -> list[str]:
    """Write the corpus into ``directory`` (or, with ``check``, only compare). Returns the names of the
    files that changed / would change (including stale ``*.jsonl`` files no entry produces)."""
    built = build_all()
    changed = []
    for name, body in built.items():
        p = directory / name
        if not p.exists() or p.read_text(encoding="ascii") != body:
            changed.append(name)
            if not check:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(body, encoding="ascii")
    if directory.exists():
        for p in sorted(directory.glob("*.jsonl")):
            if p.name not in built:
                changed.append(p.name)
                if not check:
                    p.unlink()
    return sorted(changed)


# --- CLI: expat traces regenerate [--check] ----------------------------------------------------------

def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("traces", help="the golden trace corpus (traces/golden/) and synthetic corpora")
    tsub = t.add_subparsers(dest="traces_command", metavar="ACTION")
    r = tsub.add_parser("regenerate", help="re-record and normalise the golden corpus (real TLS runs)")
    r.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 and name the files that regeneration would change")
    r.add_argument("--dir", default=str(GOLDEN_DIR), help=f"corpus directory (default: {GOLDEN_DIR})")
    r.set_defaults(handler=cmd_regenerate)
    from expat.traces import synth

    synth.register(tsub)  # expat traces synth --count N [--seed S] --out DIR
    t.set_defaults(handler=lambda args: (t.print_help(), 2)[1])


def cmd_regenerate(args: argparse.Namespace) -> int:
    try:
        changed = regenerate(Path(args.dir), check=args.check)
    except RuntimeError as e:
        print(f"expat traces regenerate: {e}", file=sys.stderr)
        return 2
    if args.check:
        for name in changed:
            print(f"would change: {name}")
        print("golden corpus up to date" if not changed else f"{len(changed)} file(s) would change")
        return 1 if changed else 0
    for name in changed:
        print(f"wrote: {name}")
    print(f"golden corpus: {len(changed)} file(s) changed")
    return 0
