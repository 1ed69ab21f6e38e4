"""Static checks on the model (the role tables under one profile), with networkx.

* ``states-reachable``: every state of every role is reachable from its initial state;
* ``binding-before-acceptance``: no path of the requester to "Completed" (attestation accepted)
  avoids a transition that really compares the binding (draft §5.1);
* ``aik-hash-before-acceptance``: likewise for AIK_pub_hash (draft §5.2);
* ``attest-before-data``: application data is enabled only in states reached through an
  AttestationCompleted, or on connections that need no attestation (draft §7.3).

Under the default profile all hold; switching off a mitigation makes the corresponding one fail,
which is how the static view shows what each mitigation buys.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from expat.model.events import ENDPOINT, RELYING_PARTY
from expat.model.graph import build_graph, node
from expat.model.roles import DATA_EVENTS, INITIAL, TABLES, states

STATIC_CHECKS = ("states-reachable", "binding-before-acceptance", "aik-hash-before-acceptance",
                 "attest-before-data")

NO_ATTESTATION_STATES = ("Open",)  # the Endpoint state of connections that require no attestation


@dataclass(frozen=True)
class StaticFinding:
    check: str
    ok: bool
    detail: str

    def to_json(self) -> dict:
        return {"check": self.check, "ok": self.ok, "detail": self.detail}


def _states_reachable(profile: dict) -> StaticFinding:
    g = build_graph(profile=profile)
    missing = []
    for role in TABLES:
        reach = nx.descendants(g, node(role, INITIAL[role])) | {node(role, INITIAL[role])}
        used = {s for r in TABLES[role] if r.enabled_under(profile) for s in (r.src, r.dst)}  # under this profile
        missing += [node(role, s) for s in states(role) if s in used and node(role, s) not in reach]
    return StaticFinding("states-reachable", not missing,
                         "all states reachable" if not missing else f"unreachable: {', '.join(missing)}")


def _check_before_acceptance(profile: dict, check_name: str, finding: str) -> StaticFinding:
    g = build_graph([RELYING_PARTY], profile)
    cut = nx.MultiDiGraph(g)
    cut.remove_edges_from([(u, v, k) for u, v, k, d in g.edges(keys=True, data=True)
                           if d["row"].performs(check_name, profile)])
    src, dst = node(RELYING_PARTY, INITIAL[RELYING_PARTY]), node(RELYING_PARTY, "Completed")
    if nx.has_path(cut, src, dst):
        path = nx.shortest_path(cut, src, dst)
        events = [next(iter(cut.get_edge_data(a, b).values()))["event"] for a, b in zip(path, path[1:])]
        return StaticFinding(finding, False, f"accepted without a {check_name} check via {' -> '.join(events)}")
    return StaticFinding(finding, True, f"every path to acceptance compares the {check_name}")


def _attest_before_data(profile: dict) -> StaticFinding:
    g = build_graph([ENDPOINT], profile)
    cut = nx.MultiDiGraph(g)
    cut.remove_edges_from([(u, v, k) for u, v, k, d in g.edges(keys=True, data=True)
                           if d["event"] == "AttestationCompleted"])
    start = node(ENDPOINT, INITIAL[ENDPOINT])
    before = nx.descendants(cut, start) | {start}
    bad = sorted({g.nodes[u]["state"] for u, _, d in g.edges(data=True)
                  if d["event"] in DATA_EVENTS and u in before and g.nodes[u]["state"] not in NO_ATTESTATION_STATES})
    if bad:
        return StaticFinding("attest-before-data", False,
                             f"application data enabled before any AttestationCompleted in: {', '.join(bad)}")
    return StaticFinding("attest-before-data", True, "application data only after attestation completed")


def check_static(profile: dict | None = None) -> list[StaticFinding]:
    """Run every static check on the model under ``profile`` (a trace-header profile dict)."""
    profile = profile or {}
    return [_states_reachable(profile),
            _check_before_acceptance(profile, "binding", "binding-before-acceptance"),
            _check_before_acceptance(profile, "aik_pub_hash", "aik-hash-before-acceptance"),
            _attest_before_data(profile)]
