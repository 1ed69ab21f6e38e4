"""The role tables, their graph and renderings, and the static checks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from model_support import ROOT

from expat.cli import main
from expat.model import graph, roles
from expat.model.events import EVENTS, ROLES
from expat.model.static import STATIC_CHECKS, check_static


def off(*flags: str) -> dict:
    """A profile dict with these flags off (mitigations, or the passport_binding_echo field)."""
    p: dict = {"mitigations": {}}
    for f in flags:
        if f == "passport_binding_echo":
            p[f] = False
        else:
            p["mitigations"][f] = False
    return p


def test_every_row_uses_known_events_roles_and_guards():
    for row in roles.ALL_ROWS:
        assert row.event in EVENTS and row.role in EVENTS[row.event].roles
        assert all(g in roles.GUARDS for g in row.guard)
        assert all(c in roles.CHECK_FLAGS for c in row.checks)
        for term in filter(None, (t.strip() for t in row.when.split("&"))):
            assert term.lstrip("!") in roles.FLAGS
    assert set(roles.TABLES) == set(ROLES)
    # every non-adversary event appears in some table of each role it claims
    for name, spec in EVENTS.items():
        for role in spec.roles:
            if role in roles.TABLES:
                assert any(r.event == name for r in roles.TABLES[role]), (name, role)


def test_default_profile_passes_every_static_check():
    findings = check_static({})
    assert [f.check for f in findings] == list(STATIC_CHECKS)
    assert all(f.ok for f in findings), findings


@pytest.mark.parametrize("flags,failing", [
    (("check_binding", "check_aik_pub_hash"), {"binding-before-acceptance", "aik-hash-before-acceptance"}),
    (("check_binding",), {"binding-before-acceptance"}),
    (("check_aik_pub_hash",), {"aik-hash-before-acceptance"}),
    (("passport_binding_echo",), {"binding-before-acceptance", "aik-hash-before-acceptance"}),
    (("reject_resumption",), {"attest-before-data"}),
    (("reject_spontaneous_attestation",), set()),
])
def test_switching_off_mitigations_fails_the_matching_static_check(flags, failing):
    found = {f.check for f in check_static(off(*flags)) if not f.ok}
    assert found == failing


def test_graph_holds_every_row_and_filters_by_profile():
    full = graph.build_graph()
    assert full.number_of_edges() == len(roles.ALL_ROWS)
    default = graph.build_graph(profile={})
    attack_rows = [r for r in roles.ALL_ROWS if r.when]
    assert default.number_of_edges() == len(roles.ALL_ROWS) - len(attack_rows)
    assert all(graph.node(r, roles.INITIAL[r]) in full for r in ROLES)


def test_renderings():
    g = graph.build_graph(["RelyingParty"])
    dot = graph.to_dot(g)
    assert dot.startswith("digraph expat {") and '"RelyingParty:Start" -> "RelyingParty:Requested"' in dot
    text = graph.to_text(g)
    assert "Validated  --BindingChecked--> Bound" in text
    svg = ET.fromstring(graph.simple_svg(graph.build_graph()))
    assert svg.tag.endswith("svg")
    labels = {t.text for t in svg.iter() if t.tag.endswith("text")}
    assert {"Completed", "BindingChecked", "Verifier"} <= labels


def test_cli_model_show_and_check_static(capsys):
    assert main(["model", "show", "--format", "dot", "--role", "Endpoint"]) == 0
    assert capsys.readouterr().out.startswith("digraph expat {")
    assert main(["model", "show", "--format", "svg"]) == 0
    ET.fromstring(capsys.readouterr().out)
    assert main(["model", "show", "--events"]) == 0
    assert "ChannelEstablished(agent, conn:id" in capsys.readouterr().out
    assert main(["model", "check-static"]) == 0
    assert capsys.readouterr().out.count("ok  ") == len(STATIC_CHECKS)
    assert main(["model", "check-static", "--profile", "passport-literal"]) == 1
    assert "FAIL binding-before-acceptance" in capsys.readouterr().out
    assert main(["model", "schema"]) == 0
    assert capsys.readouterr().out == (ROOT / "traces" / "schema.json").read_text()
