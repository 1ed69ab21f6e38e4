"""Message sequence charts of a trace, as SVG written directly (no layout engine).

One lifeline per agent; time flows down, one row per event (row = position in the trace).
A *message* is a send event matched with the receive event it caused, by the pairs below; it is
drawn as an arrow from the sender's row to the receiver's row. Sends whose receive is not recorded
(a nonce handed to the Relying Party, Evidence returned to its Target Environment) are drawn as a
horizontal arrow to the agent their arguments name. Everything else is a local event: a box on
the agent's lifeline. Output is deterministic: same trace, same bytes.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from expat.model.trace import Event, Trace

ROW_H = 26
COL_W = 210
TOP = 64
LEFT = 90
CHAR_W = 6.3          # rough advance of the 11 px sans-serif font, for box widths
MAX_LABEL = 34


@dataclass(frozen=True)
class Message:
    send: int                 # row (event position) of the send
    recv: Optional[int]       # row of the receive, None for an implicit (unrecorded) receive
    src: str
    dst: str
    label: str
    detail: str
    both_ways: bool = False   # the TLS handshake: one exchange, both ends record it
    failed: bool = False      # received but rejected


@dataclass(frozen=True)
class Local:
    row: int
    agent: str
    label: str
    detail: str
    alarm: bool = False


@dataclass
class Chart:
    title: str
    agents: list[str]
    rows: int
    messages: list[Message] = field(default_factory=list)
    locals: list[Local] = field(default_factory=list)


def _short(v: Any, n: int = 8) -> str:
    s = str(v)
    return s if len(s) <= n else s[:n] + "..."


def _detail(ev: Event) -> str:
    """The event with its short arguments, for tooltips and text alternatives."""
    parts = [f"{k}={_short(v, 16)}" for k, v in sorted(ev.args.items()) if not isinstance(v, (dict,))]
    return f"#{ev.seq} {ev.agent}: {ev.name}({', '.join(parts)})"


# Send event -> (receive events, key of the pairing). Keys use arguments both sides record.
_PAIRS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "RequestSent": (("RequestReceived",), ("conn", "ctx")),
    "AuthenticatorSent": (("AuthenticatorAccepted", "AuthenticatorRejected"), ("conn", "ctx")),
    "ApplicationDataSent": (("ApplicationDataReceived",), ("conn",)),
    "NewSessionTicketSent": (("NewSessionTicketReceived",), ("conn", "ticket")),
}
_RECEIVES = {r: (s, key) for s, (rs, key) in _PAIRS.items() for r in rs}


def _send_label(ev: Event) -> str:
    a = ev.args
    if ev.name == "RequestSent":
        kind = {13: "CertificateRequest", 17: "ClientCertificateRequest"}.get(a.get("msg_type"), "request")
        return f"{kind} ctx {_short(a.get('ctx', ''))}"
    if ev.name == "AuthenticatorSent":
        what = "Evidence" if a.get("kind") == "evidence" else "Attestation Result"
        return f"Authenticator [{what} {_short(a.get('cmw', ''), 10)}]"
    if ev.name == "ApplicationDataSent":
        return f"application data ({a.get('length', '?')} B)"
    if ev.name == "NewSessionTicketSent":
        return f"NewSessionTicket {_short(a.get('ticket', ''), 10)}"
    if ev.name == "EvidenceRequested":
        return "request Evidence" + (" (spontaneous)" if a.get("spontaneous") else "")
    if ev.name == "EvidenceProduced":
        return f"Evidence {_short(a.get('cmw', ''), 10)}"
    if ev.name in ("EvidenceForwarded", "EvidenceSubmitted"):
        return f"Evidence {_short(a.get('cmw', ''), 10)} for appraisal"
    if ev.name == "EvidenceAppraised":
        return f"Attestation Result {_short(a.get('result', ''), 10)} ({a.get('status', '?')})"
    if ev.name == "NonceIssued":
        return f"nonce {_short(a.get('nonce', ''))}"
    return ev.name


def _local_label(ev: Event) -> tuple[str, bool]:
    a = ev.args
    if ev.name == "BindingChecked":
        ok = a.get("expected_binding") == a.get("cmw_binding") and a.get("expected_aik_hash") == a.get("cmw_aik_hash")
        return ("binding checked: " + ("match" if ok else "MISMATCH"), not ok)
    if ev.name == "AttestationCompleted":
        return (f"attestation of {a.get('attester', '?')} complete", False)
    if ev.name == "AikGenerated":
        return (f"AIK generated for {a.get('owner', '?')}", False)
    if ev.name == "ConnectionClosed":
        return (f"connection {a.get('conn', '?')} closed: {a.get('reason', '')}", True)
    if ev.name in ("KeyRevealed", "SecretRevealed"):
        return (ev.name, True)
    if ev.name == "AuthenticatorRejected":
        return (f"authenticator rejected: {a.get('reason', '')}", True)
    if ev.name in ("AttestationResultReceived", "AttestationResultObtained"):
        return (f"Attestation Result {_short(a.get('result', ''), 10)} read ({a.get('status', '?')})",
                a.get("status") != "affirming")
    if ev.name == "ChannelEstablished":
        return (f"TLS 1.3 up ({a.get('conn', '?')})", False)
    return (ev.name, False)


def build_chart(trace: Trace, title: str) -> Chart:
    """Pair the trace's events into messages and local events."""
    evs = trace.events
    messages: list[Message] = []
    locals_: list[Local] = []
    pending: list[tuple[str, tuple, int]] = []      # (send name, key, row) waiting for its receive
    consumed: set[int] = set()                      # rows that are the receive end of a message

    def take(pred) -> Optional[int]:
        for j, (name, key, row) in enumerate(pending):
            if pred(name, key, row):
                del pending[j]
                return row
        return None

    def answered(row: int, i: int, ev: Event, failed: bool = False) -> None:
        """The arrow from the send at ``row`` to the event ``ev`` at ``i`` that answers it."""
        s = evs[row]
        messages.append(Message(row, i, s.agent, ev.agent, _send_label(s), _detail(s) + " -> " + _detail(ev),
                                failed=failed))

    for i, ev in enumerate(evs):
        a = ev.args
        if ev.name in _RECEIVES:
            send_name, keys = _RECEIVES[ev.name]
            key = tuple(a.get(k) for k in keys)
            row = take(lambda n, k, r: n == send_name and k == key and evs[r].agent != ev.agent)
            if row is not None:
                answered(row, i, ev, failed=ev.name == "AuthenticatorRejected")
                consumed.update((row, i))
                continue
        elif ev.name == "EvidenceProduced":  # answers EvidenceRequested(te, ae=this agent, binding)
            row = take(lambda n, k, r: n == "EvidenceRequested" and k == (ev.agent, a.get("te"), a.get("binding")))
            if row is not None:
                answered(row, i, ev)
                consumed.add(row)
        elif ev.name == "EvidenceAppraised":  # answers EvidenceForwarded/EvidenceSubmitted(verifier, cmw)
            row = take(lambda n, k, r: n in ("EvidenceForwarded", "EvidenceSubmitted")
                       and k == (ev.agent, a.get("cmw")))
            if row is not None:
                answered(row, i, ev)
                consumed.add(row)
        elif ev.name in ("AttestationResultReceived", "AttestationResultObtained"):
            row = take(lambda n, k, r: n == "EvidenceAppraised" and k == (ev.agent, a.get("result")))
            if row is not None:
                answered(row, i, ev)
                consumed.update((row, i))
                continue
        elif ev.name == "ChannelEstablished":
            row = take(lambda n, k, r: n == "ChannelEstablished" and k == (a.get("conn"),)
                       and evs[r].agent != ev.agent)
            if row is not None:
                s = evs[row]
                res = a.get("resumed_from", "-")
                resumes = f", resumes {res}" if res not in ("-", None) else ""
                label = f"TLS 1.3 handshake ({a.get('conn')}{resumes})"
                messages.append(Message(row, i, s.agent, ev.agent, label, _detail(s) + " <-> " + _detail(ev),
                                        both_ways=True))
                consumed.update((row, i))
                continue
            pending.append((ev.name, (a.get("conn"),), i))
            continue

        # this event may itself be a send
        if ev.name in _PAIRS:
            pending.append((ev.name, tuple(a.get(k) for k in _PAIRS[ev.name][1]), i))
        elif ev.name == "EvidenceRequested":
            pending.append((ev.name, (a.get("ae"), ev.agent, a.get("binding")), i))
        elif ev.name in ("EvidenceForwarded", "EvidenceSubmitted"):
            pending.append((ev.name, (a.get("verifier"), a.get("cmw")), i))
        elif ev.name == "EvidenceAppraised":
            pending.append((ev.name, (a.get("to"), a.get("result")), i))
        elif ev.name not in ("EvidenceProduced", "NonceIssued") and i not in consumed:
            label, alarm = _local_label(ev)
            locals_.append(Local(i, ev.agent, label, _detail(ev), alarm))
        if ev.name == "EvidenceProduced" and a.get("te"):
            messages.append(Message(i, None, ev.agent, a["te"], _send_label(ev), _detail(ev)))
        elif ev.name == "NonceIssued" and a.get("to"):
            messages.append(Message(i, None, ev.agent, a["to"], _send_label(ev), _detail(ev)))

    # sends never answered: an implicit arrow when the arguments name the receiver, else a box
    implicit_dst = {"EvidenceRequested": "ae", "EvidenceForwarded": "verifier", "EvidenceSubmitted": "verifier",
                    "EvidenceAppraised": "to"}
    for name, _key, row in sorted(pending, key=lambda p: p[2]):
        ev = evs[row]
        dst = ev.args.get(implicit_dst.get(name, ""), None)
        if dst and dst != ev.agent:
            messages.append(Message(row, None, ev.agent, dst, _send_label(ev), _detail(ev) + " (no receive recorded)"))
        else:
            label, alarm = _local_label(ev)
            if name in _PAIRS:
                label = _send_label(ev) + " (not received)"
            locals_.append(Local(row, ev.agent, label, _detail(ev), alarm))

    messages.sort(key=lambda m: (m.send, m.recv if m.recv is not None else m.send))
    locals_.sort(key=lambda loc: loc.row)
    return Chart(title, _order_agents(trace, messages), len(evs), messages, locals_)


def _order_agents(trace: Trace, messages: list[Message]) -> list[str]:
    """Endpoints in order of appearance; each one's Attesting Environment(s) on its outer side;
    then every other agent (Verifier, adversaries, ...) in order of appearance."""
    seen: list[str] = []
    for ev in trace.events:
        if ev.agent not in seen:
            seen.append(ev.agent)
    for m in messages:
        for ag in (m.src, m.dst):
            if ag not in seen:
                seen.append(ag)
    endpoints = [e.agent for e in trace.events if e.name == "ChannelEstablished"]
    endpoints = list(dict.fromkeys(endpoints))
    ae_of: dict[str, list[str]] = {}
    for ev in trace.events:
        if ev.name in ("AikGenerated", "EvidenceProduced"):
            owner = ev.args.get("owner") or ev.args.get("te")
            if owner and ev.agent not in ae_of.setdefault(owner, []) and ev.agent not in endpoints:
                ae_of[owner].append(ev.agent)
    placed: list[str] = []
    for n, ep in enumerate(endpoints):
        aes = [x for x in ae_of.get(ep, []) if x not in placed]
        placed += (aes + [ep]) if n == 0 else ([ep] + aes)
    return placed + [a for a in seen if a not in placed]


# --- SVG ---------------------------------------------------------------------------------------

def _e(s: str) -> str:
    return html.escape(s, quote=True)


def _clip(s: str) -> str:
    return s if len(s) <= MAX_LABEL else s[:MAX_LABEL - 3] + "..."


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-") or "chart"


def to_svg(chart: Chart, ident: str | None = None) -> str:
    """The chart as a standalone SVG document (also valid inline in HTML)."""
    pid = _slug(ident or chart.title)
    x_of = {ag: LEFT + 60 + k * COL_W for k, ag in enumerate(chart.agents)}
    width = LEFT + 60 + max(len(chart.agents) - 1, 0) * COL_W + 140
    height = TOP + chart.rows * ROW_H + 30

    def y(row: int) -> int:
        return TOP + row * ROW_H + ROW_H // 2

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{pid}-title {pid}-desc" '
           f'font-family="Helvetica, Arial, sans-serif" font-size="11">',
           f'<title id="{pid}-title">{_e(chart.title)}</title>',
           f'<desc id="{pid}-desc">Message sequence chart: {len(chart.agents)} agents '
           f'({_e(", ".join(chart.agents))}), {len(chart.messages)} messages, {len(chart.locals)} local events, '
           f'time flowing down.</desc>',
           f'<defs><marker id="{pid}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           f'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="context-stroke"/>'
           f'</marker></defs>',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>']
    for ag, x in x_of.items():
        out.append(f'<line x1="{x}" y1="{TOP - 8}" x2="{x}" y2="{height - 10}" stroke="#999" '
                   f'stroke-dasharray="3 3"/>')
        w = int(len(ag) * CHAR_W + 16)
        out.append(f'<rect x="{x - w // 2}" y="{TOP - 34}" width="{w}" height="22" rx="4" fill="#eef2f7" '
                   f'stroke="#445"/>')
        out.append(f'<text x="{x}" y="{TOP - 19}" text-anchor="middle" font-weight="bold">{_e(ag)}</text>')
    for r in range(chart.rows):
        out.append(f'<text x="8" y="{y(r) + 4}" fill="#777">#{r}</text>')
    for m in chart.messages:
        if m.src not in x_of or m.dst not in x_of:
            continue
        x1, x2 = x_of[m.src], x_of[m.dst]
        y1, y2 = y(m.send), y(m.recv if m.recv is not None else m.send)
        colour = "#b00020" if m.failed else ("#335" if m.recv is not None else "#557")
        dash = ' stroke-dasharray="5 3"' if m.recv is None else ""
        start = f' marker-start="url(#{pid}-arrow)"' if m.both_ways else ""
        out.append(f'<g><title>{_e(m.detail)}</title>'
                   f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="1.4"{dash}'
                   f'{start} marker-end="url(#{pid}-arrow)"/>'
                   f'<text x="{(x1 + x2) // 2}" y="{(y1 + y2) // 2 - 4}" text-anchor="middle" fill="{colour}" '
                   f'stroke="white" stroke-width="3" paint-order="stroke">'
                   f'{_e(_clip(m.label))}</text></g>')
    for loc in chart.locals:
        if loc.agent not in x_of:
            continue
        label = _clip(loc.label)
        w = int(len(label) * CHAR_W + 12)
        x = x_of[loc.agent]
        stroke, fill = ("#b00020", "#fdecee") if loc.alarm else ("#445", "#fffbe6")
        out.append(f'<g><title>{_e(loc.detail)}</title>'
                   f'<rect x="{x - w // 2}" y="{y(loc.row) - 9}" width="{w}" height="18" rx="3" fill="{fill}" '
                   f'stroke="{stroke}"/>'
                   f'<text x="{x}" y="{y(loc.row) + 4}" text-anchor="middle">{_e(label)}</text></g>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def trace_svg(trace: Trace, title: str, ident: str | None = None) -> str:
    return to_svg(build_chart(trace, title), ident)
