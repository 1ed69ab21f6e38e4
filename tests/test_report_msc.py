"""Message sequence charts (perf/msc.py): event pairing, lifeline order, deterministic SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import expat  # noqa: F401  (before anything imports OpenSSL)
from expat.model.trace import Event, Trace, load_trace
from expat.perf.msc import build_chart, to_svg, trace_svg

EXAMPLES = Path(__file__).resolve().parents[1] / "traces" / "examples"
SVG = "{http://www.w3.org/2000/svg}"


def _trace(*events: tuple[str, str, dict]) -> Trace:
    return Trace({"type": "header"}, [Event(i, agent, name, args) for i, (agent, name, args) in enumerate(events)])


def test_background_check_example_pairs_sends_with_receives():
    # Rows read off traces/examples/synthetic-honest-background.jsonl by hand.
    chart = build_chart(load_trace(EXAMPLES / "synthetic-honest-background.jsonl"), "bg")
    pairs = {(m.send, m.recv, m.src, m.dst) for m in chart.messages}
    assert (0, 1, "client", "server") in pairs          # ChannelEstablished x2: the handshake
    assert (4, 5, "server", "client") in pairs          # RequestSent -> RequestReceived
    assert (6, 7, "client", "client-ae") in pairs       # EvidenceRequested -> EvidenceProduced
    assert (7, None, "client-ae", "client") in pairs    # Evidence back to the TE (no receive event)
    assert (8, 9, "client", "server") in pairs          # AuthenticatorSent -> AuthenticatorAccepted
    assert (11, 12, "server", "verifier") in pairs      # EvidenceForwarded -> EvidenceAppraised
    assert (12, 13, "verifier", "server") in pairs      # EvidenceAppraised -> AttestationResultReceived
    assert (3, None, "verifier", "server") in pairs     # NonceIssued(to=server)
    assert (16, 17, "client", "server") in pairs and (18, 19, "server", "client") in pairs
    assert len(chart.messages) == 10
    assert [(loc.row, loc.agent) for loc in chart.locals] == [(2, "client-ae"), (10, "server"), (14, "server"),
                                                             (15, "client")]
    assert chart.agents == ["client-ae", "client", "server", "verifier"]
    assert chart.rows == 20


def test_rejected_authenticator_and_unanswered_request():
    chart = build_chart(_trace(
        ("server", "RequestSent", {"conn": "c", "ctx": "aa"}),
        ("client", "AuthenticatorSent", {"conn": "c", "ctx": "aa", "cmw": "e", "kind": "evidence"}),
        ("server", "AuthenticatorRejected", {"conn": "c", "ctx": "aa", "reason": "bad"}),
        ("server", "RequestSent", {"conn": "c", "ctx": "bb"}),
    ), "t")
    assert [(m.send, m.recv, m.failed) for m in chart.messages] == [(1, 2, True)]
    # RequestSent without RequestReceived: shown as a local box on the sender, twice
    assert [(loc.row, loc.agent, loc.label.endswith("(not received)")) for loc in chart.locals] == [
        (0, "server", True), (3, "server", True)]


def test_receive_never_matches_own_send_and_odd_arguments_do_not_crash():
    chart = build_chart(_trace(
        ("a", "ApplicationDataSent", {"conn": "c"}),
        ("a", "ApplicationDataReceived", {"conn": "c"}),       # same agent: not the receive of its own send
        ("b", "ApplicationDataReceived", {"conn": "c", "length": "x"}),
        ("z", "EvidenceAppraised", {}),                          # no arguments at all
        ("z", "NoSuchEvent", {"weird": {"nested": [1]}}),
    ), "odd")
    assert [(m.send, m.recv, m.src, m.dst) for m in chart.messages] == [(0, 2, "a", "b")]
    assert sorted(loc.row for loc in chart.locals) == [1, 3, 4]
    ET.fromstring(to_svg(chart))  # well-formed


def test_svg_is_byte_stable_well_formed_and_escaped():
    t = _trace(("<b>&", "RequestSent", {"conn": "c", "ctx": "<script>"}),
               ("peer", "RequestReceived", {"conn": "c", "ctx": "<script>"}))
    a, b = trace_svg(t, 'title "<x>"', "id1"), trace_svg(t, 'title "<x>"', "id1")
    assert a == b
    assert "<script>" not in a and "<b>" not in a
    root = ET.fromstring(a)
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    assert root.find(SVG + "title").text == 'title "<x>"'
    arrows = [el for el in root.iter(SVG + "line") if el.get("marker-end")]
    assert len(arrows) == 1 and arrows[0].get("marker-end") == "url(#id1-arrow)"
    lifelines = [el for el in root.iter(SVG + "line") if el.get("stroke-dasharray") == "3 3"]
    assert len(lifelines) == 2


def test_every_example_trace_draws():
    for p in sorted(EXAMPLES.glob("*.jsonl")):
        t = load_trace(p)
        chart = build_chart(t, p.stem)
        drawn = ({m.send for m in chart.messages} | {m.recv for m in chart.messages if m.recv is not None}
                 | {loc.row for loc in chart.locals})
        assert drawn == set(range(len(t.events))), p.name   # every event appears somewhere
        ET.fromstring(to_svg(chart, p.stem))
