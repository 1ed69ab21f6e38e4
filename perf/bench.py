"""``expat bench``: every figure is a ratio against a reference measured in the same run.

Each figure interleaves the measured operation and its reference in one loop (A, B, A, B, ...), so
a slow phase of a shared, noisy machine hits both sides alike; absolute figures are printed too,
with the machine description, but only ratios are compared with aims.

* ``ea_overhead/<key>`` — (RFC 9261 authenticate + validate) / (raw sign + raw verify) with the same
  key over content of the same size. The request (§7.1) is made outside the timed region; the
  session API is used (as an endpoint would), chain validation off. Aim < 1.5.
* ``attestation_overhead`` — one full attested connection on loopback (TLS 1.3 handshake, request,
  Evidence, authenticator, validation, Verifier appraisal, EAR check) / (a plain TLS 1.3 handshake
  on loopback + the raw signature operations that attestation needs: Evidence, CertificateVerify
  and EAR signatures, their verifications, and the certificate-chain links of the AIK chain and the
  Evidence x5chain). Provisioning (keys, certificates, Verifier) is done once, outside. Aim < 2.
* ``check_throughput`` — events/s of the trace check (``expat check``: schema-validated parse +
  model and monitors) / events/s of plain ``json.loads`` of the same lines. Aim > 0.25. With orjson
  installed, ``orjson.loads`` of the same lines is timed too, for diagnosis only (parse_lines decodes
  event lines with it).
* ``bounded_proofs`` — read from proofs/timings.json when ``expat proofs run`` has recorded it;
  "not available" otherwise.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from expat.layout import display, locate

RESULTS_PATH = locate("perf/results/latest.json")
PROOF_TIMINGS = locate("proofs/timings.json")
FIGURES = ("ea_overhead", "attestation_overhead", "check_throughput", "bounded_proofs")


def reported(ratio: float) -> float:
    """The ratio as printed and recorded (4 significant digits); the aim is judged on this same value, so
    a figure never reads "0.25, met" against "> 0.25"."""
    return float(f"{ratio:.4g}")


@dataclass
class Figure:
    name: str
    ratio: float | None
    aim: str
    aim_met: bool | None
    absolute: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "ratio": None if self.ratio is None else reported(self.ratio), "aim": self.aim,
               "aim_met": self.aim_met, "absolute": self.absolute}
        if self.note:
            out["note"] = self.note
        return out


class Interleaved:
    """Accumulate wall time of several named operations run in turn."""

    def __init__(self, names: tuple[str, ...]):
        self.ns = {n: 0 for n in names}
        self.count = 0

    def time(self, name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter_ns()
        out = fn()
        self.ns[name] += time.perf_counter_ns() - t0
        return out

    def per_op_us(self, name: str) -> float:
        return self.ns[name] / max(1, self.count) / 1000


def _until(seconds: float, min_rounds: int, body: Callable[[], None], max_rounds: int = 10 ** 7) -> int:
    deadline = time.perf_counter() + seconds
    n = 0
    while n < max_rounds and (n < min_rounds or time.perf_counter() < deadline):
        body()
        n += 1
    return n


# --- ea_overhead ----------------------------------------------------------------------------------

def _raw_ops(kind: str, key: Any) -> tuple[Callable[[bytes], bytes], Callable[[bytes, bytes], None]]:
    """The bare cryptography calls an authenticator is built around (same key, same algorithm)."""
    pub = key.public_key()
    if kind == "ed25519":
        return key.sign, lambda sig, data: pub.verify(sig, data)
    algo = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    verify_algo = ec.ECDSA(hashes.SHA256())
    return (lambda data: key.sign(data, algo)), (lambda sig, data: pub.verify(sig, data, verify_algo))


def ea_overhead(kind: str, seconds: float, min_rounds: int = 200) -> Figure:
    from expat.reference import ea, messages, pki
    from expat.reference.keyschedule import SHA256, SecretExporter

    ident = pki.make_identity(kind, seed="bench")
    exporter = SecretExporter(SHA256, os.urandom(32))
    server = ea.EASession(exporter, is_server=True)
    client = ea.EASession(exporter, is_server=False)
    signer = ea.as_signer(ident.key)
    chain = ident.chain_der()
    scheme = ea.schemes_for_key(ident.key.public_key())[0]
    sigalgs = [messages.signature_algorithms([scheme])]
    # CertificateVerify content is 64 + 22 + 1 + Hash.length bytes (RFC 9261 §5.2.2)
    content = os.urandom(64 + 22 + 1 + 32)
    sign, verify = _raw_ops(kind, ident.key)
    acc = Interleaved(("authenticate", "validate", "sign", "verify"))

    def round_() -> None:
        request = server.request(sigalgs)
        authenticator = acc.time("authenticate", lambda: client.authenticate(signer, chain, request))
        result = acc.time("validate", lambda: server.validate(request, authenticator, None))
        if not result.valid:
            raise AssertionError("benchmark authenticator did not validate")
        sig = acc.time("sign", lambda: sign(content))
        acc.time("verify", lambda: verify(sig, content))
        acc.count += 1

    for _ in range(50):  # warm-up (caches, allocator)
        round_()
    acc = Interleaved(tuple(acc.ns))
    _until(seconds, min_rounds, round_)
    ea_ns = acc.ns["authenticate"] + acc.ns["validate"]
    raw_ns = acc.ns["sign"] + acc.ns["verify"]
    ratio = reported(ea_ns / raw_ns)
    return Figure(f"ea_overhead/{kind}", ratio, "< 1.5", ratio < 1.5, {
        "rounds": acc.count, "authenticate_us": round(acc.per_op_us("authenticate"), 1),
        "validate_us": round(acc.per_op_us("validate"), 1), "raw_sign_us": round(acc.per_op_us("sign"), 1),
        "raw_verify_us": round(acc.per_op_us("verify"), 1)})


# --- attestation_overhead ---------------------------------------------------------------------------

def _raw_attestation_ops(fx: Any) -> tuple[Callable[[], None], dict[str, int]]:
    """The raw signature operations one attestation needs, on real keys and certificates."""
    from expat.reference import pki

    ae = fx.ae_for(0)
    aik_chain = ae.aik_identity().chain            # leaf .. root
    evidence_chain = ae.attestation_chain          # leaf .. manufacturer root
    links = [(aik_chain[i], aik_chain[i + 1]) for i in range(len(aik_chain) - 1)]
    links += [(evidence_chain[i], evidence_chain[i + 1]) for i in range(len(evidence_chain) - 1)]
    key = pki.derive_key("p256", b"bench raw p256")
    pub = key.public_key()
    algo = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    verify_algo = ec.ECDSA(hashes.SHA256())
    msgs = [os.urandom(n) for n in (119, 420, 380)]  # CertificateVerify content, Evidence, EAR (sizes alike)

    def run() -> None:
        for m in msgs:                              # 3 signatures, 3 verifications
            pub.verify(key.sign(m, algo), m, verify_algo)
        for cert, issuer in links:                  # chain links (AIK chain and Evidence x5chain)
            if not pki.verify_signature(issuer.public_key(), cert.signature, cert.tbs_certificate_bytes,
                                        cert.signature_hash_algorithm):
                raise AssertionError("benchmark certificate link does not verify")

    return run, {"raw_signatures": len(msgs), "raw_verifications": len(msgs) + len(links)}


def attestation_overhead(seconds: float, min_rounds: int = 10) -> Figure:
    from expat.perf.fixture import AttestationFixture, attested_connection_sequential, loopback_connection
    from expat.reference import tls

    fx = AttestationFixture(devices=1)
    raw, counts = _raw_attestation_ops(fx)
    acc = Interleaved(("attested", "handshake", "raw"))

    with tls.TlsServer(fx.server_config) as server:   # one listener for both sides of the ratio
        def plain() -> None:
            c, s = loopback_connection(fx, server)
            c.close()
            s.close()

        def round_() -> None:
            ok, err = acc.time("attested", lambda: attested_connection_sequential(fx, server=server))
            if not ok:
                raise AssertionError(f"benchmark attested connection failed: {err}")
            acc.time("handshake", plain)
            acc.time("raw", raw)
            acc.count += 1

        for _ in range(3):
            round_()
        acc = Interleaved(tuple(acc.ns))
        _until(seconds, min_rounds, round_)
    ratio = reported(acc.ns["attested"] / (acc.ns["handshake"] + acc.ns["raw"]))
    return Figure("attestation_overhead", ratio, "< 2", ratio < 2, {
        "rounds": acc.count, "attested_connection_ms": round(acc.per_op_us("attested") / 1000, 3),
        "plain_handshake_ms": round(acc.per_op_us("handshake") / 1000, 3),
        "raw_signature_ops_ms": round(acc.per_op_us("raw") / 1000, 3), **counts})


# --- check_throughput -------------------------------------------------------------------------------

def bench_traces() -> list[list[str]]:
    """JSON Lines of real traces: three fresh `expat run` connections, plus the repository's
    example and golden traces when present."""
    from expat.model.trace import TraceRecorder
    from expat.reference.attestation import scenario as sc

    out: list[list[str]] = []
    for attester, model in (("client", "background-check"), ("server", "passport"), ("mutual", "background-check")):
        s = sc.scenario_from_options(attester=attester, model=model, seed=b"bench-" + attester.encode())
        rec = TraceRecorder(profile=s.profile.to_dict(), seed="bench", cipher_suite=s.suite)
        sc.run(s, rec)
        out.append(rec.lines())
    for d in (locate("traces/examples"), locate("traces/golden")):
        if d.is_dir():
            for p in sorted(d.glob("*.jsonl")):
                out.append(p.read_text(encoding="utf-8").splitlines())
    return out


def check_throughput(seconds: float, min_rounds: int = 3) -> Figure:
    from expat.model.checker import check_trace
    from expat.model.trace import parse_lines

    try:  # diagnosis only: parse_lines decodes event lines with orjson when installed (seventh pass)
        from orjson import loads as orjson_loads
    except ImportError:
        orjson_loads = None
    traces = bench_traces()
    events = sum(len(t) - 1 for t in traces)
    parsed = [parse_lines(lines) for lines in traces]
    acc = Interleaved(("check", "json", "model") + (("orjson",) if orjson_loads else ()))

    def check_all() -> None:
        for lines in traces:
            check_trace(parse_lines(lines))

    def model_all() -> None:  # diagnosis only: the checker without parsing and schema validation
        for t in parsed:
            check_trace(t)

    def json_all() -> None:
        for lines in traces:
            for line in lines:
                json.loads(line)

    def orjson_all() -> None:  # diagnosis only: the decoder parse_lines runs on event lines
        for lines in traces:
            for line in lines:
                orjson_loads(line)

    def round_() -> None:
        acc.time("check", check_all)
        acc.time("json", json_all)
        acc.time("model", model_all)
        if orjson_loads:
            acc.time("orjson", orjson_all)
        acc.count += 1

    round_()
    acc = Interleaved(tuple(acc.ns))
    _until(seconds, min_rounds, round_)
    check_rate = events * acc.count / (acc.ns["check"] / 1e9)
    json_rate = events * acc.count / (acc.ns["json"] / 1e9)
    model_rate = events * acc.count / (acc.ns["model"] / 1e9)
    ratio = reported(check_rate / json_rate)
    absolute = {"rounds": acc.count, "traces": len(traces), "events": events,
                "check_events_per_s": round(check_rate, 1), "json_events_per_s": round(json_rate, 1),
                "model_only_events_per_s": round(model_rate, 1)}
    if orjson_loads:
        absolute["orjson_events_per_s"] = round(events * acc.count / (acc.ns["orjson"] / 1e9), 1)
    return Figure("check_throughput", ratio, "> 0.25", ratio > 0.25, absolute)


# --- bounded_proofs ---------------------------------------------------------------------------------

def bounded_proofs(path: Path = PROOF_TIMINGS) -> Figure:
    """Wall time of ``expat proofs run`` at its CI bound and its growth with the bound, from the
    timings file that command records. The file is another area's output; read defensively."""
    na = Figure("bounded_proofs", None, "growth table", None, {"status": "not available"},
                note=f"{display(path)} not recorded")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return na
    rows = _proof_rows(data)
    if not rows:
        na.note = "timings file has no per-bound wall times"
        return na
    ci = data.get("ci_bound") if isinstance(data, dict) else None
    ci = ci if isinstance(ci, int) and ci in rows else max(rows)
    base = rows[min(rows)]
    absolute: dict[str, Any] = {"ci_bound": ci, "ci_seconds": round(rows[ci], 3)}
    for b in sorted(rows):
        absolute[f"bound_{b}_seconds"] = round(rows[b], 3)
    # context of the measurement, when the timings file records it (expat proofs run --record)
    for key in ("jobs", "load_average_at_end", "cpu_s_ci"):
        if isinstance(data.get(key), (int, float)) and not isinstance(data.get(key), bool):
            absolute[key] = data[key]
    if isinstance(data.get("ci"), dict):
        absolute["ci_bound_detail"] = {k: v for k, v in data["ci"].items() if isinstance(v, int)}
    ratio = rows[ci] / base if base > 0 else None
    return Figure("bounded_proofs", ratio, "growth table", None, absolute,
                  note=f"ratio = wall time at the CI bound / at bound {min(rows)}")


_SECONDS_KEYS = ("seconds", "wall_seconds", "wall_time")


def _seconds(v: Any) -> float | None:
    if isinstance(v, dict):
        v = next((v[k] for k in _SECONDS_KEYS if k in v), None)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 else None


def _proof_rows(data: Any) -> dict[int, float]:
    """{bound: seconds} from the shapes documented in docs/performance.md:
    {"bounds": {"1": s | {"seconds": s}}} or {"runs": [{"bound": 1, "seconds": s}]}
    ("wall_seconds" / "wall_time" are read as "seconds")."""
    rows: dict[int, float] = {}
    if not isinstance(data, dict):
        return rows
    bounds = data.get("bounds")
    if isinstance(bounds, dict):
        for k, v in bounds.items():
            secs = _seconds(v)
            if str(k).isdigit() and secs is not None:
                rows[int(k)] = secs
    for run in data.get("runs", []) if isinstance(data.get("runs"), list) else []:
        if isinstance(run, dict) and isinstance(run.get("bound"), int) and _seconds(run) is not None:
            rows[run["bound"]] = _seconds(run)
    return rows


# --- driver -----------------------------------------------------------------------------------------

def run_all(seconds: float = 2.0, only: tuple[str, ...] = FIGURES,
            progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    from expat.perf.machine import describe

    started = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    machine = describe()   # before measuring: its load average is the one "at start"
    figures: list[Figure] = []
    say = progress or (lambda _m: None)
    if "ea_overhead" in only:
        for kind in ("p256", "ed25519"):
            say(f"ea_overhead/{kind}")
            figures.append(ea_overhead(kind, seconds))
    if "attestation_overhead" in only:
        say("attestation_overhead")
        figures.append(attestation_overhead(seconds))
    if "check_throughput" in only:
        say("check_throughput")
        figures.append(check_throughput(seconds))
    if "bounded_proofs" in only:
        figures.append(bounded_proofs())
    return {"machine": machine, "started": started, "seconds_per_figure": seconds,
            "figures": [f.to_dict() for f in figures]}


def record(result: dict[str, Any], path: Path = RESULTS_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def format_text(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [f"machine: {m['cpu']}, {m['cpus']} cpus, {m['platform']}, Python {m['python']}, {m['openssl']}",
             f"started {result['started']}, load average at start {m['loadavg_at_start']}", "",
             f"{'figure':24} {'ratio':>8}  {'aim':8} {'met':5} absolute"]
    for f in result["figures"]:
        ratio = "n/a" if f["ratio"] is None else f"{f['ratio']:.4g}"
        met = {True: "yes", False: "NO", None: "-"}[f["aim_met"]]
        absolute = ", ".join(f"{k}={v}" for k, v in f["absolute"].items())
        lines.append(f"{f['name']:24} {ratio:>8}  {f['aim']:8} {met:5} {absolute}")
        if f.get("note"):
            lines.append(f"{'':24} {'':>8}  note: {f['note']}")
    return "\n".join(lines)
