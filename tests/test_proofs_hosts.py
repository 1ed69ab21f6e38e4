"""Host compromise in the bounded search (issue 13): HostCompromised is an adversary event the monitors
and the formula judge read, excused exactly where the property formulas excuse it (model/formulas.py):
the Evidence's platform P for channel_binding, request_binding, no_diversion, reattestation_fresh and
evidence_freshness; the requester R for no_reflection; nobody for aik_in_tee, evidence_integrity,
aik_ownership (there only the KeyRevealed the compromised host's AIK use records). docs/proofs.md has
the reasoning, written before the run."""

from __future__ import annotations

import pytest

import expat  # noqa: F401  (OpenSSL config first)
from expat.model.checker import check_trace
from expat.model.expectations import VARIANTS
from expat.model.judge import judge
from expat.model.trace import Event, Trace
from expat.proofs import world as W
from expat.proofs.analysis import analyse_variant, to_trace, variant_flags, variant_profile
from expat.proofs.search import Bound, Explorer
from model_support import expat_check_violations

DEFAULT = VARIANTS["default"]
SMALL = Bound(1, 2, 0, 0, hosts=1)  # no AIK and no connection-secret reveal: only the host compromise


def without(trace: Trace, name: str) -> Trace:
    evs = [e for e in trace.events if e.name != name]
    return Trace(trace.header, [Event(i, e.agent, e.name, e.args) for i, e in enumerate(evs)])


def with_event(trace: Trace, event: Event) -> Trace:
    """``trace`` with an adversary event inserted right after the AIK generation (position 3)."""
    evs = trace.events[:3] + [event] + trace.events[3:]
    return Trace(trace.header, [Event(i, e.agent, e.name, e.args) for i, e in enumerate(evs)])


@pytest.fixture(scope="module")
def small_run():
    return analyse_variant(DEFAULT, SMALL, formulas=True)


def test_a_compromised_requester_host_gives_the_pre_play_which_no_formula_excuses(small_run):
    """Reasoned before the run: mallory controlling the client's host holds the secrets of the client's
    connections, so it can pre-play the server's authenticator to the client (Finding 1 without a
    separate SecretRevealed budget). The Evidence's platform is the server, whose host is intact, so
    reattestation_fresh (and request_binding's formula, which orders Evidence after the request) fall;
    everything the formulas excuse for a compromised P stays "holds"."""
    rep = small_run
    assert rep.mismatches == 0 and rep.runs > 1000
    assert set(rep.counterexamples) == {"reattestation_fresh"}
    assert set(rep.formula_counterexamples) == {"reattestation_fresh", "request_binding"}
    trace = rep.counterexamples["reattestation_fresh"]
    names = [(e.agent, e.name) for e in trace.events]
    compromised = [e.args["platform"] for e in trace.events if e.name == "HostCompromised"]
    assert compromised == ["client"]  # the requester's host, not the Evidence's platform
    assert ("mallory", "SecretRevealed") in names and ("mallory", "KeyRevealed") not in names
    assert names.index(("server-ae", "EvidenceProduced")) < names.index(("client", "RequestSent"))
    result = check_trace(trace, formulas=True)
    assert result.rules() == set()
    assert result.properties() == {"reattestation_fresh", "request_binding"}
    assert {v.id for v in judge(trace)} == {"reattestation_fresh", "request_binding"}


def test_expat_check_flags_the_host_compromise_counterexample(small_run, tmp_path, capsys):
    found = expat_check_violations(small_run.counterexamples["reattestation_fresh"], tmp_path / "host.jsonl", capsys)
    assert {v.get("property") for v in found} == {"reattestation_fresh"}


def test_the_excuse_is_the_platform_s_not_anyone_s(small_run):
    """The same pre-play trace: a compromise (or attestation-key reveal) of the Evidence's platform, the
    server, excuses it in the monitors and the formulas alike; of the client it does not."""
    trace = without(small_run.counterexamples["reattestation_fresh"], "HostCompromised")
    assert check_trace(trace, formulas=True).properties() == {"reattestation_fresh", "request_binding"}
    for name in ("HostCompromised", "AttestationKeyRevealed"):
        excused = with_event(trace, Event(0, W.MALLORY, name, {"platform": "server"}))
        result = check_trace(excused, formulas=True)
        assert result.rules() == set() and result.properties() == set(), name
    ak_client = with_event(trace, Event(0, W.MALLORY, "AttestationKeyRevealed", {"platform": "client"}))
    assert check_trace(ak_client, formulas=True).properties() == {"reattestation_fresh", "request_binding"}


def _answer(host: str, rp: str, label_start: str) -> Trace:
    """mallory controls ``host``; ``rp`` asks mallory on their own connection and mallory answers with
    the first answer whose label starts with ``label_start``."""
    ex = Explorer(variant_flags(DEFAULT), SMALL)
    pair = (W.CLIENT, W.MALLORY) if rp == W.CLIENT else (W.MALLORY, W.SERVER)
    start = next(s for s in ex.starts() if s.hosts == (host,) and list(s.conns.values()) == [pair])
    asked = next(s for s in ex.steps(start) if s.pending and s.pending[0][1] == rp)
    conn, _, ctx = asked.pending[0]
    labels = [label for label, _ in ex.answers(asked, conn, ctx)]
    pick = next(label for label in labels if label.startswith(label_start))
    child = next(c for c in ex.adversary_answer(asked, conn, rp, ctx, False) if c.steps[-1].endswith(pick))
    return to_trace(child, ex, DEFAULT, variant_profile(DEFAULT))


def test_a_compromised_host_s_tee_speaks_for_it_and_that_is_excused():
    """mallory controls the server's host: the server's TEE makes Evidence *for the server* over the
    binding of the client-mallory connection, and mallory presents the server's AIK (KeyRevealed
    first). The client accepts: the server's platform attests on a connection whose peer is mallory.
    The formulas excuse that for P = server (channel_binding, request_binding, no_diversion) and so do
    the monitors; without the HostCompromised event the same run violates them."""
    trace = _answer("server", W.CLIENT, "oracle server-ae for server kB own-binding background")
    names = [(e.agent, e.name) for e in trace.events]
    assert ("mallory", "KeyRevealed") in names and ("client", "AttestationCompleted") in names
    produced = next(e for e in trace.events if e.name == "EvidenceProduced" and e.agent == "server-ae")
    assert produced.args["te"] == "server"
    result = check_trace(trace, formulas=True)
    assert result.rules() == set() and result.properties() == set()
    bare = without(trace, "HostCompromised")
    assert check_trace(bare).properties() == {"no_diversion"}  # the monitors read the binding value
    assert {v.id for v in judge(bare)} == {"channel_binding", "request_binding", "no_diversion"}


def test_no_reflection_excuses_the_requester_s_own_host():
    """mallory controls the client's host and reflects the client's own platform to it (its TEE's
    Evidence for the client, the client's AIK): no_reflection names HostCompromised(R) as an excuse,
    so this is not a violation; without the compromise it is one (monitor and formula)."""
    trace = _answer("client", W.CLIENT, "oracle client-ae for client kA own-binding background")
    assert check_trace(trace, formulas=True).properties() == set()
    assert "no_reflection" in check_trace(without(trace, "HostCompromised"), formulas=True).properties()


def test_the_host_bound_is_stated_and_off_in_the_ci_bound():
    from expat.proofs.analysis import CI_BOUND
    assert CI_BOUND.hosts == 0 and CI_BOUND.tag() == "2c2r1k1s" and "hosts" not in CI_BOUND.to_json()
    assert "host" not in CI_BOUND.statement()
    b = Bound(2, 2, 1, 1, hosts=1)
    assert b.tag() == "2c2r1k1s1h" and b.to_json()["hosts"] == 1
    assert "<= 1 host compromise(s)" in b.statement()
    # no host compromise in any run of the CI-like small bound without --hosts
    ex = Explorer(variant_flags(DEFAULT), Bound(1, 1, 0, 0))
    assert not any(e[1] == "HostCompromised" for st in ex.runs() for e in st.events)
