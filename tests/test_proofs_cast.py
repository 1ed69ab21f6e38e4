"""The cast is part of the bound and now a parameter of it (issue 13): ``--honest N`` honest endpoints
(client, server, client2, server2, ...), each with its Attesting Environment; the default is the CI
bound's cast, unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import expat  # noqa: F401  (OpenSSL config first)
from expat.cli import main
from expat.model.checker import check_trace
from expat.model.expectations import VARIANTS
from expat.proofs import world as W
from expat.proofs.analysis import CI_BOUND, analyse_variant, to_trace, variant_flags, variant_profile
from expat.proofs.search import Bound, Explorer

ROOT = Path(__file__).resolve().parents[1]


def test_the_default_cast_is_the_recorded_one():
    recorded = json.loads((ROOT / "proofs" / "verdicts.json").read_text())["bound"]["cast"]
    assert CI_BOUND.honest == 2 and CI_BOUND.to_json()["cast"] == recorded
    assert W.HONEST_ENDPOINTS == ("client", "server")
    assert W.PAIRS == (("client", "server"), ("client", "mallory"), ("mallory", "server"))


def test_a_larger_cast_names_its_parties_and_connections():
    c = W.Cast(4)
    assert c.honest_endpoints == ("client", "server", "client2", "server2")
    assert c.aes == {"client-ae": ("kA", "client"), "server-ae": ("kB", "server"), "client2-ae": ("kA2", "client2"),
                     "server2-ae": ("kB2", "server2"), "m-ae": ("kM", "mallory")}
    assert c.pairs == (("client", "server"), ("client", "server2"), ("client2", "server"), ("client2", "server2"),
                       ("client", "mallory"), ("client2", "mallory"), ("mallory", "server"), ("mallory", "server2"))
    assert c.revealable == ("kA", "kB", "kA2", "kB2")
    b = Bound(1, 1, 0, 0, honest=3)
    assert b.tag() == "1c1r0k0s3e"
    assert "honest client and server and client2" in b.statement() and "4 Attesting Environments" in b.statement()
    assert b.to_json()["cast"]["pairs"] == ["client-server", "client2-server", "client-mallory", "client2-mallory",
                                             "mallory-server"]


def test_a_third_honest_endpoint_is_pre_played_to_as_well():
    """Reasoned: a third honest endpoint brings no comparison that two lack, so at one connection, two
    requests and one leaked secret the only property violated is the pre-play's, and the search reaches
    it on a client2-server connection, in both directions, as on client-server (every run with client2 is checked
    against the tables in tests/test_proofs_search.py)."""
    v = VARIANTS["default"]
    bound = Bound(1, 2, 0, 1, honest=3)
    rep = analyse_variant(v, bound)
    assert rep.mismatches == 0 and set(rep.counterexamples) == {"reattestation_fresh"}
    ex = Explorer(variant_flags(v), bound)
    flagged = [st for st in ex.runs() if list(st.conns.values()) == [("client2", "server")]
               and check_trace(to_trace(st, ex, v, variant_profile(v))).properties() == {"reattestation_fresh"}]
    # each ends with the requester completing on the pre-played authenticator: both directions fall
    assert {(st.events[-1][0], st.events[-1][1]) for st in flagged} == {("client2", "AttestationCompleted"),
                                                                        ("server", "AttestationCompleted")}


def test_cli_takes_the_cast(capsys):
    assert main(["proofs", "run", "--variant", "default", "--connections", "1", "--requests", "1", "--honest", "3",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["bound"]["cast"]["honest_endpoints"] == ["client", "server", "client2"]
    assert {c["z3_bound"] for c in doc["cells"]} == {"1c1r1k1s3e"}
    assert main(["proofs", "run", "--honest", "1"]) == 2
