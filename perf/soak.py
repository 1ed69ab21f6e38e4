"""``expat soak``: one server, many concurrent attested clients on loopback, then a cross-check.

The server thread accepts TLS connections (handshake in the accept loop, public
:class:`~expat.reference.tls.TlsServer` API) and hands each one to a worker pool; a client pool of
the same size opens the connections. With ``attester="client"`` (default) the server side is the
Relying Party and every client attests; with ``attester="server"`` the roles swap (each server
connection attests to its client). Every attestation is appraised by one shared Verifier
(background-check model, draft -02 §3.4).

Afterwards both sides' records are paired by TLS client_random and compared. A *confusion* is an
Evidence/authenticator (or application data) accepted on a connection it was not made for: the
server accepted a context, binding, AIK or CMW that differs from what the client of that same TLS
connection produced, a server record with no matching client, or a context / binding / CMW seen on
two connections. Leaks: threads, file descriptors and child processes are counted before and after.

Bounds: at most :data:`MAX_CONNECTIONS` connections, :data:`MAX_CONCURRENCY` workers, and a wall-time
limit after which no new connection starts (the report says so). Loopback only.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from expat.profile import get_profile
from expat.reference import tls
from expat.perf.fixture import AttestationFixture, ConnectionRecord, relying_party
from expat.perf.fixture import attester as attester_half

MAX_CONNECTIONS = 10_000
MAX_CONCURRENCY = 256
LOOPBACK = "127.0.0.1"
ATTESTERS = ("client", "server")


@dataclass
class SoakReport:
    connections: int
    concurrency: int
    attester: str = "client"
    started: int = 0
    completed: int = 0
    failures: list[str] = field(default_factory=list)
    confusion: list[str] = field(default_factory=list)
    leaked_threads: list[str] = field(default_factory=list)
    leaked_fds: int = 0
    leaked_processes: int = 0
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (self.completed == self.connections and not self.failures and not self.confusion
                and not self.leaked_threads and self.leaked_fds == 0 and self.leaked_processes == 0
                and not self.timed_out)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "connections": self.connections, "concurrency": self.concurrency,
                "attester": self.attester,
                "started": self.started, "completed": self.completed, "failures": len(self.failures),
                "failure_details": self.failures[:20], "confusion": len(self.confusion),
                "confusion_details": self.confusion[:20], "leaked_threads": self.leaked_threads,
                "leaked_fds": self.leaked_fds, "leaked_processes": self.leaked_processes,
                "timed_out": self.timed_out, "seconds": round(self.seconds, 3),
                "connections_per_s": round(self.completed / self.seconds, 2) if self.seconds else 0.0}


def open_fds() -> int:
    """Open file descriptors of this process (Linux /proc; -1 where unavailable)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def child_processes() -> int:
    """Live child processes of this process (Linux /proc; 0 where unavailable)."""
    me, n = os.getpid(), 0
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == me:
            n += 1
    return n


def cross_check(server: list[ConnectionRecord], client: list[ConnectionRecord]) -> list[str]:
    """Every confusion found between the Relying Party records (``server``: what was accepted) and the
    attester records (``client``: what was produced), paired by TLS client_random (module docstring)."""
    problems: list[str] = []
    by_random: dict[bytes, ConnectionRecord] = {}
    for c in client:
        if c.client_random in by_random:
            problems.append(f"client {c.index}: client_random shared with client {by_random[c.client_random].index}")
        by_random[c.client_random] = c
    for s in server:
        if not s.ok:
            continue
        c = by_random.get(s.client_random)
        if c is None:
            problems.append(f"server {s.index}: accepted a connection no client made")
            continue
        for what in ("ctx", "binding", "aik_spki", "cmw"):
            if getattr(s, what) != getattr(c, what):
                problems.append(f"server {s.index} / client {c.index}: accepted {what} differs from the one "
                                f"produced on this connection")
        if c.payload and s.payload != c.payload:
            problems.append(f"server {s.index} / client {c.index}: application data from another connection")
    for what in ("ctx", "binding", "cmw"):
        seen: dict[Any, int] = {}
        for s in server:
            if s.ok:
                v = getattr(s, what)
                if v in seen:
                    problems.append(f"server {s.index}: {what} also accepted on server connection {seen[v]}")
                seen[v] = s.index
    return problems


def run_soak(connections: int, concurrency: int, *, time_limit: float = 600.0, devices: int = 4,
             profile: str = "default", fixture: AttestationFixture | None = None,
             attester: str = "client", clock: Callable[[], float] = time.monotonic) -> SoakReport:
    """Run the soak; never raises for protocol failures (they are counted in the report).
    ``clock`` measures the time limit (tests pass a fake one)."""
    if attester not in ATTESTERS:
        raise ValueError(f"attester must be one of {ATTESTERS}")
    if not 1 <= connections <= MAX_CONNECTIONS:
        raise ValueError(f"connections must be 1..{MAX_CONNECTIONS}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be 1..{MAX_CONCURRENCY}")
    if not 0 < time_limit <= 3600:
        raise ValueError("time_limit must be in (0, 3600] seconds")
    fx = fixture or AttestationFixture(profile=get_profile(profile), devices=devices)
    report = SoakReport(connections=connections, concurrency=concurrency, attester=attester)
    # the half each TLS side plays
    server_half = ((lambda c, i: relying_party(fx, c, i, "client")) if attester == "client"
                   else (lambda c, i: attester_half(fx, c, i)))
    client_half = ((lambda c, i: attester_half(fx, c, i)) if attester == "client"
                   else (lambda c, i: relying_party(fx, c, i, "server")))
    threads_before = set(threading.enumerate())
    fds_before, procs_before = open_fds(), child_processes()
    start = clock()
    deadline = start + time_limit
    server_records: list[ConnectionRecord] = []
    client_records: list[ConnectionRecord] = []
    lock = threading.Lock()

    with tls.TlsServer(fx.server_config, host=LOOPBACK) as server:
        address = server.address
        stop = threading.Event()

        def accept_loop(pool: ThreadPoolExecutor) -> None:
            for index in range(connections):
                try:
                    conn = server.accept()
                except Exception as e:  # handshake failure or timeout: one failed connection, keep serving
                    if stop.is_set():
                        return
                    with lock:
                        server_records.append(ConnectionRecord("server", index, error=f"accept: {e!r}"))
                    if clock() > deadline or isinstance(e, OSError) and not isinstance(e, TimeoutError):
                        return
                    continue
                if stop.is_set():
                    conn.close()
                    return
                pool.submit(_collect, server_records, lock, server_half, conn, index)

        def client(index: int) -> None:
            if clock() > deadline:
                with lock:
                    report.timed_out = True
                return
            with lock:
                report.started += 1
            try:
                conn = tls.connect(address, fx.client_config)
            except Exception as e:
                with lock:
                    client_records.append(ConnectionRecord("client", index, error=f"connect: {e!r}"))
                return
            _collect(client_records, lock, client_half, conn, index)

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="expat-soak-rp") as server_pool:
            acceptor = threading.Thread(target=accept_loop, args=(server_pool,), name="expat-soak-accept")
            acceptor.start()
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="expat-soak-client") as clients:
                for f in [clients.submit(client, i) for i in range(connections)]:
                    f.result()
            # Every client is done, so every connection that reached the server was accepted. If the
            # loop still waits (clients that never started or never connected), wake accept() with a
            # bare TCP connection that closes at once (its handshake fails) and let it see the flag.
            stop.set()
            if acceptor.is_alive():
                with contextlib.suppress(OSError):
                    socket.create_connection(address, timeout=1).close()
            acceptor.join(fx.server_config.timeout + 5)
    report.seconds = clock() - start

    ok_clients = [c for c in client_records if c.ok]
    ok_servers = [s for s in server_records if s.ok]
    report.completed = min(len(ok_clients), len(ok_servers))
    report.failures = [f"{r.side} {r.index}: {r.error}" for r in server_records + client_records
                       if not r.ok and not (report.timed_out and "accept" in r.error)]
    rp_records, attester_records = ((server_records, client_records) if attester == "client"
                                    else (client_records, server_records))
    report.confusion = cross_check(rp_records, attester_records)
    report.leaked_threads = sorted(t.name for t in _settle_threads(threads_before))
    fds_after = open_fds()
    report.leaked_fds = max(0, fds_after - fds_before) if fds_before >= 0 and fds_after >= 0 else 0
    report.leaked_processes = max(0, child_processes() - procs_before)
    return report


def _collect(records: list, lock: threading.Lock, fn, *args) -> None:
    rec = fn(*args)
    with lock:
        records.append(rec)


def _settle_threads(before: set[threading.Thread], wait: float = 5.0) -> list[threading.Thread]:
    """Threads started during the run and still alive after a short grace period."""
    end = time.monotonic() + wait
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra or time.monotonic() > end:
            return extra
        time.sleep(0.05)


# --- `expat soak --verifier`: the Verifier HTTP service under concurrent clients ----------------------

MAX_REQUESTS = 200_000
_RESETS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


@dataclass
class VerifierSoakReport:
    requests: int
    concurrency: int
    appraise_every: int
    keep_alive: bool
    started: int = 0
    ok: int = 0
    resets: int = 0
    errors: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    rss_kib_before: int = -1
    rss_kib_after: int = -1
    nonce_tables: tuple[int, int] = (0, 0)
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.ok == self.requests and self.resets == 0 and not self.errors and not self.timed_out

    def percentile(self, p: float) -> float:
        xs = sorted(self.latencies_ms)
        return round(xs[min(len(xs) - 1, int(p / 100 * len(xs)))], 3) if xs else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.passed, "requests": self.requests, "concurrency": self.concurrency,
                "appraise_every": self.appraise_every, "keep_alive": self.keep_alive, "started": self.started,
                "answered_ok": self.ok, "resets": self.resets, "errors": len(self.errors),
                "error_details": self.errors[:20], "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "latency_ms": {"p50": self.percentile(50), "p90": self.percentile(90), "p99": self.percentile(99),
                               "max": round(max(self.latencies_ms), 3) if self.latencies_ms else 0.0},
                "rss_kib_before": self.rss_kib_before, "rss_kib_after": self.rss_kib_after,
                "nonces_issued_unused": self.nonce_tables[0], "nonces_used_remembered": self.nonce_tables[1],
                "timed_out": self.timed_out, "seconds": round(self.seconds, 3),
                "requests_per_s": round(self.ok / self.seconds, 1) if self.seconds else 0.0}


def rss_kib() -> int:
    """Resident set size of this process in KiB (Linux /proc; -1 where unavailable)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def run_verifier_soak(requests: int, concurrency: int, *, appraise_every: int = 10, keep_alive: bool = False,
                      time_limit: float = 300.0, seed: str = "expat-soak",
                      clock: Callable[[], float] = time.monotonic) -> VerifierSoakReport:
    """Drive ``expat verifier serve``'s service (in this process, on 127.0.0.1) with ``concurrency``
    clients sending ``requests`` requests in total: POST /challenge, and every ``appraise_every``-th a
    POST /appraise of real Evidence with that nonce. ``keep_alive=False`` opens a connection per request
    (what urllib does, and what exercises the listen backlog). Counts resets, latencies, memory."""
    import http.client
    import json

    from expat.reference.attestation.commands import serve_verifier
    from expat.reference.attestation.environment import SoftwareAttestingEnvironment
    from expat.reference.attestation.verifier_service import VerifierService
    from expat.reference.keyschedule import SHA256

    if not 1 <= requests <= MAX_REQUESTS:
        raise ValueError(f"requests must be 1..{MAX_REQUESTS}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be 1..{MAX_CONCURRENCY}")
    if appraise_every < 0:
        raise ValueError("appraise_every must be >= 0 (0: challenges only)")
    if not 0 < time_limit <= 3600:
        raise ValueError("time_limit must be in (0, 3600] seconds")
    verifier = serve_verifier(seed)
    evidence = SoftwareAttestingEnvironment(seed=seed).evidence(b"\x00" * 32, hash=SHA256)
    report = VerifierSoakReport(requests=requests, concurrency=concurrency, appraise_every=appraise_every,
                                keep_alive=keep_alive)
    lock = threading.Lock()
    counter = iter(range(requests))
    report.rss_kib_before = rss_kib()
    start = clock()
    deadline = start + time_limit

    with VerifierService(verifier) as service:
        host, port = service.url.removeprefix("http://").split(":")

        def call(conn, path: str, body: dict) -> tuple[int, dict]:
            conn.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())

        def worker() -> None:
            conn = None
            while True:
                with lock:
                    i = next(counter, None)
                    if i is not None and clock() > deadline:
                        report.timed_out, i = True, None
                    if i is None:
                        break
                    report.started += 1
                t0 = time.perf_counter()
                try:
                    if conn is None or not keep_alive:
                        conn = http.client.HTTPConnection(host, int(port), timeout=30)
                    status, out = call(conn, "/challenge", {})
                    if status == 200 and appraise_every and i % appraise_every == 0:
                        status, out = call(conn, "/appraise", {"evidence": evidence.hex(), "nonce": out["nonce"]})
                    with lock:
                        report.statuses[status] = report.statuses.get(status, 0) + 1
                        report.latencies_ms.append((time.perf_counter() - t0) * 1000)
                        report.ok += status == 200
                except _RESETS as e:
                    with lock:
                        report.resets += 1
                        report.errors.append(f"request {i}: {type(e).__name__}")
                    conn = None
                except Exception as e:   # RemoteDisconnected, timeouts, bad JSON: counted, never raised
                    with lock:
                        report.errors.append(f"request {i}: {type(e).__name__}: {e}")
                    conn = None
                finally:
                    if conn is not None and not keep_alive:
                        conn.close()
                        conn = None
            if conn is not None:
                conn.close()

        threads = [threading.Thread(target=worker, name=f"expat-vsoak-{n}") for n in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    report.seconds = clock() - start
    report.rss_kib_after = rss_kib()
    report.nonce_tables = verifier.nonce_table_sizes()
    return report


def nonce_churn(challenges: int, *, lifetime: int = 10, tick: float = 0.001, consume_every: int = 2,
                checkpoints: int = 5) -> list[dict[str, int]]:
    """In process, no HTTP: ``challenges`` Verifier challenges on a virtual clock advancing ``tick`` s
    each, every ``consume_every``-th nonce consumed (as an appraisal would). Returns, at ``checkpoints``
    evenly spaced points, the nonces held and the Python heap traced (tracemalloc, bytes): flat once
    the lifetime has passed, whatever the number of challenges."""
    import tracemalloc

    from expat.reference import pki
    from expat.reference.attestation.verifier import Verifier

    if not 1 <= challenges <= 10_000_000:
        raise ValueError("challenges must be 1..10^7")
    now = [0.0]
    verifier = Verifier([], {}, pki.derive_key("p256", b"nonce-churn"), clock=lambda: now[0],
                        nonce_lifetime=lifetime)
    every = max(1, challenges // checkpoints)
    out = []
    tracemalloc.start()
    try:
        for i in range(1, challenges + 1):
            now[0] += tick
            nonce = verifier.challenge()
            if consume_every and i % consume_every == 0:
                verifier._consume_nonce(nonce)
            if i % every == 0:
                issued, used = verifier.nonce_table_sizes()
                out.append({"challenges": i, "issued_held": issued, "used_held": used,
                            "traced_bytes": tracemalloc.get_traced_memory()[0]})
    finally:
        tracemalloc.stop()
    return out
