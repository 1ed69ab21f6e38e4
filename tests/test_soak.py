"""expat soak: concurrent attested connections to one server; failures, confusion and leaks are counted."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import dataclasses
import json
import os
import threading
import time

import pytest

from expat.cli import main
from expat.perf import soak
from expat.perf.fixture import AttestationFixture, ConnectionRecord


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _threads_settle(expected: int, wait: float = 5.0) -> int:
    end = time.monotonic() + wait
    while threading.active_count() > expected and time.monotonic() < end:
        time.sleep(0.05)
    return threading.active_count()


@pytest.fixture(scope="module")
def fixture():
    return AttestationFixture(devices=3, seed=b"soak-tests")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="fd counting needs Linux /proc")
def test_small_soak_attests_every_connection_without_confusion_or_leaks(fixture):
    threads, fds = threading.active_count(), _fds()
    report = soak.run_soak(20, 5, fixture=fixture)
    d = report.to_dict()
    assert d["ok"] is True, d
    assert d["completed"] == 20 and d["started"] == 20
    assert d["failures"] == 0 and d["confusion"] == 0 and not d["timed_out"]
    assert d["leaked_threads"] == [] and d["leaked_fds"] == 0 and d["leaked_processes"] == 0
    # measured here too, independently of the report
    assert _threads_settle(threads) == threads
    assert _fds() == fds


def test_server_as_attester(fixture):
    d = soak.run_soak(8, 4, fixture=fixture, attester="server").to_dict()
    assert d["ok"] is True and d["attester"] == "server" and d["completed"] == 8, d
    with pytest.raises(ValueError):
        soak.run_soak(1, 1, fixture=fixture, attester="mutual")


def test_confusion_in_a_real_run_is_detected(fixture, monkeypatch):
    """A Relying Party that records the binding of the previous connection: the cross-check must see it."""
    real = soak.relying_party
    previous: list[bytes] = []
    lock = threading.Lock()

    def confused(fx, conn, index, attester="client"):
        rec = real(fx, conn, index, attester)
        with lock:
            swapped = previous[-1] if previous else rec.binding
            previous.append(rec.binding)
        return dataclasses.replace(rec, binding=swapped)

    monkeypatch.setattr(soak, "relying_party", confused)
    report = soak.run_soak(6, 2, fixture=fixture)
    assert report.failures == []
    assert len(report.confusion) >= 5            # every connection after the first
    assert all("binding" in c for c in report.confusion)
    assert sum("binding differs" in c for c in report.confusion) >= 5
    assert report.ok is False


def _rec(side, index, cr, **kw):
    base = dict(ok=True, ctx=b"ctx%d" % index, binding=b"b%d" % index, aik_spki=b"aik", cmw="cmw%d" % index,
                payload=b"p%d" % index)
    base.update(kw)
    return ConnectionRecord(side, index, client_random=cr, **base)


def test_cross_check_rules():
    clients = [_rec("client", i, b"r%d" % i) for i in range(3)]
    servers = [_rec("server", i, b"r%d" % i) for i in range(3)]
    assert soak.cross_check(servers, clients) == []
    # an authenticator of connection 0 accepted on connection 1 (same ctx and cmw, other TLS connection)
    bad = servers[:1] + [_rec("server", 1, b"r1", ctx=b"ctx0", cmw="cmw0")] + servers[2:]
    problems = soak.cross_check(bad, clients)
    assert any("ctx differs" in p for p in problems) and any("cmw differs" in p for p in problems)
    assert any("ctx also accepted" in p for p in problems)
    # a server-side acceptance for a TLS connection no client made
    assert soak.cross_check(servers + [_rec("server", 9, b"nobody")], clients)[0].endswith("no client made")
    # application data of another connection
    assert any("application data" in p for p in
               soak.cross_check([_rec("server", 0, b"r0", payload=b"p1")], clients[:1]))
    # failed server records are failures, not confusion
    assert soak.cross_check([_rec("server", 0, b"r0", ok=False, ctx=b"zzz")], clients[:1]) == []


def test_time_limit_stops_new_connections_and_shuts_down_cleanly(fixture):
    calls = []

    def clock():  # the limit "passes" after the start and three connections have begun
        calls.append(1)
        return 0.0 if len(calls) <= 4 else 1e6

    threads = threading.active_count()
    d = soak.run_soak(40, 1, fixture=fixture, time_limit=5, clock=clock).to_dict()
    assert d["timed_out"] is True and d["ok"] is False
    assert d["started"] == 3 and d["completed"] == 3
    assert d["failures"] == 0 and d["confusion"] == 0 and d["leaked_threads"] == [] and d["leaked_fds"] == 0
    assert _threads_settle(threads) == threads


def test_bounds_are_enforced():
    for kw in ({"connections": 0, "concurrency": 1}, {"connections": soak.MAX_CONNECTIONS + 1, "concurrency": 1},
               {"connections": 1, "concurrency": soak.MAX_CONCURRENCY + 1}, {"connections": 1, "concurrency": 0}):
        with pytest.raises(ValueError):
            soak.run_soak(**kw)
    with pytest.raises(ValueError):
        soak.run_soak(1, 1, time_limit=0)


def test_cli_soak_json_and_usage_errors(capsys):
    assert main(["soak", "--connections", "6", "--concurrency", "3", "--devices", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["completed"] == 6 and out["confusion"] == 0
    assert main(["soak", "--connections", "0"]) == 2
    assert "connections must be" in capsys.readouterr().err
    assert main(["soak", "--connections", "2", "--profile", "no-such-profile"]) == 2
