"""The Verifier HTTP service under bad input and load (issue 15), and nonce expiry.

Every answer is JSON with a status code naming the fault; the connection is never dropped under the
client (no reset, no broken pipe); issued and used nonces are forgotten after their lifetime.
"""

import expat  # noqa: F401

import http.client
import json
import socket
import threading

import pytest

from expat.reference import pki
from expat.reference.attestation.verifier import Verifier
from expat.reference.attestation.verifier_service import MAX_BODY, MAX_JSON_DEPTH, VerifierService

KEY = pki.derive_key("p256", b"issue-15-verifier")


@pytest.fixture(scope="module")
def service():
    with VerifierService(Verifier([], {}, KEY)) as s:
        yield s


def _conn(service):
    host, port = service.url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=10)


def _json(resp):
    assert resp.getheader("Content-Type") == "application/json"
    return json.loads(resp.read())


def test_deep_json_is_400_naming_the_depth_limit(service):
    c = _conn(service)
    body = b"[" * 100_000 + b"]" * 100_000
    c.request("POST", "/challenge", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    out = _json(r)
    assert r.status == 400 and out["error"] == "bad-request" and out["limit"] == "MAX_JSON_DEPTH"
    assert str(MAX_JSON_DEPTH) in out["reason"]


def test_oversize_body_is_413_json_and_the_connection_is_not_reset(service):
    c = _conn(service)
    c.request("POST", "/appraise", b"x" * (MAX_BODY + 1), {"Content-Type": "application/json"})
    r = c.getresponse()
    out = _json(r)
    assert r.status == 413 and out["error"] == "too-large" and out["limit"] == "MAX_BODY"


def test_oversize_declared_length_answered_before_reading(service):
    """A client that declares a huge body and waits for an answer gets 413 without sending it."""
    host, port = service.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST /appraise HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        assert data.startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_unknown_methods_get_a_json_error(service, method):
    c = _conn(service)
    c.request(method, "/challenge", b"{}")
    r = c.getresponse()
    out = _json(r)
    assert r.status in (405, 501) and out["error"] in ("method-not-allowed", "not-implemented")


def test_keep_alive_serves_many_requests_on_one_connection(service):
    c = _conn(service)
    nonces = set()
    for _ in range(20):
        c.request("POST", "/challenge", b"{}", {"Content-Type": "application/json"})
        r = c.getresponse()
        assert r.status == 200
        nonces.add(_json(r)["nonce"])
    assert len(nonces) == 20


def test_200_concurrent_clients_no_resets(service):
    errors: list[str] = []
    start = threading.Barrier(200)

    def client():
        try:
            start.wait(timeout=30)
            for _ in range(5):
                c = _conn(service)        # a new connection each time: exercises the listen backlog
                c.request("POST", "/challenge", b"{}", {"Content-Type": "application/json"})
                r = c.getresponse()
                assert r.status == 200, r.status
                r.read()
                c.close()
        except Exception as e:   # ConnectionResetError, BrokenPipeError, ...
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=client) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []


# --- nonce expiry (memory stays flat) ---------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.t = 1_000_000.0

    def __call__(self):
        return self.t


def test_issued_and_used_nonces_are_forgotten_after_their_lifetime():
    clock = Clock()
    v = Verifier([], {}, KEY, clock=clock, nonce_lifetime=10)
    used = v.challenge()
    assert v._consume_nonce(used) is None
    for _ in range(100):
        v.challenge()
    assert v.nonce_table_sizes() == (100, 1)
    clock.t += 11
    v.challenge()
    assert v.nonce_table_sizes() == (1, 0)          # both tables forgot the expired entries
    assert v._consume_nonce(used) is not None        # a forgotten used nonce is still refused


def test_expired_unforgotten_nonce_is_refused():
    clock = Clock()
    v = Verifier([], {}, KEY, clock=clock, nonce_lifetime=10)
    n = v.challenge()
    clock.t += 11
    assert v._consume_nonce(n) == "nonce expired"


# --- expat soak --verifier ------------------------------------------------------------------------------------

def test_verifier_soak_reports_resets_latency_and_memory(capsys):
    from expat.cli import main

    code = main(["soak", "--verifier", "--requests", "120", "--concurrency", "30", "--appraise-every", "4",
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["ok"] is True, out
    assert out["answered_ok"] == 120 and out["resets"] == 0 and out["statuses"] == {"200": 120}
    assert 0 < out["latency_ms"]["p50"] <= out["latency_ms"]["p99"] <= out["latency_ms"]["max"]
    assert out["rss_kib_after"] > 0
    # 30 of the 120 challenges were consumed by appraisals; the rest are held until they expire
    assert out["nonces_used_remembered"] == 30 and out["nonces_issued_unused"] == 90


def test_verifier_soak_bounds_are_enforced(capsys):
    from expat.cli import main

    assert main(["soak", "--verifier", "--requests", "0"]) == 2
    assert main(["soak", "--verifier", "--requests", "10", "--concurrency", "100000"]) == 2


def test_nonce_churn_holds_a_flat_number_of_nonces():
    from expat.perf.soak import nonce_churn

    points = nonce_churn(40_000, lifetime=2, tick=0.001, checkpoints=4)   # lifetime = 2,000 challenges
    held = [(p["issued_held"], p["used_held"]) for p in points]
    assert all(i <= 1000 and u <= 2000 for i, u in held), held       # half issued, half consumed
    assert points[-1]["traced_bytes"] < 2 * points[0]["traced_bytes"]
