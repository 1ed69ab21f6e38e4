"""Session resumption on attested connections, for the mitigation ``reject_resumption`` (draft §7.2).

-02 §7.2 only suggests it and the editor's copy and -04 make it MUSTs (DIGEST §3.7): a server that requires
attestation sends no NewSessionTicket on that connection, and a client discards one received there
and never resumes with it, so no connection inherits attestation state. With the mitigation on
(default) :func:`issue_ticket` issues nothing and :func:`receive_ticket` discards.

Off (attack demo ``resumption-inherits-attestation``) expat resumes. OpenSSL cannot issue a real
NewSessionTicket here (NumTickets=0 is global, docs/tls.md), so the ticket is an attestation-layer
frame (:data:`NEW_SESSION_TICKET`, type 17) carrying a 16-byte ticket id, and both ends derive the
resumption PSK from the connection being resumed: ``TLS-Exporter(RESUMPTION_LABEL, ticket, 32)``
(standing in for RFC 8446 §4.6.1's resumption PSK). The next connection is a real TLS 1.3 PSK
handshake with it (:class:`~expat.reference.tls.TlsConfig` ``psk`` / ``psk_store``), and the endpoints
of that connection inherit the attestation state the ticket captured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from expat.checks import check
from expat.errors import Alert

NEW_SESSION_TICKET = 17          # attestation-layer frame (framing range 16..31)
RESUMPTION_LABEL = b"EXPERIMENTAL expat resumption"
TICKET_LENGTH = 16

TICKET_FRAME = check("expat-ticket-frame", "docs/attacks.md", Alert.decode_error,
                     "a ticket frame is exactly the 16-byte ticket identifier")
# draft -04 §7.2 (profile revision "04"): the prohibitions as checks that refuse, not only as silence
NO_TICKET_04 = check("expat04-7.2-no-new-session-ticket", "draft-fossati-seat-expat-04 §7.2", Alert.unexpected_message,
                     "a server sends no NewSessionTicket on a connection for which it requires remote attestation")
NO_RESUMPTION_04 = check("expat04-7.2-no-resumption", "draft-fossati-seat-expat-04 §7.2", Alert.illegal_parameter,
                         "a client never resumes with a ticket received on a connection that required remote "
                         "attestation (it discards such tickets)")


@dataclass
class Ticket:
    ticket: str                   # identifier (hex), as recorded in traces
    psk: bytes
    inherited: dict[str, Any] = field(default_factory=dict)   # side -> AttestationOutcome at issue time
    attestation_connection: bool = False    # issued on a connection that required remote attestation

    @property
    def identity(self) -> bytes:
        return bytes.fromhex(self.ticket)


def _refuses(ep: Any) -> bool:
    """editor's copy §7.2: no tickets on a connection that requires attestation."""
    return bool(ep.profile.mitigations.reject_resumption and ep.must_attest)


def _psk(ep: Any, ticket: bytes) -> bytes:
    return ep.conn.exporter.export(RESUMPTION_LABEL, ticket, 32)


def issue_ticket(ep: Any) -> Ticket | None:
    """Server: issue a ticket on this connection, or (mitigation on) refuse to: returns None."""
    if ep.side != "server":
        raise ValueError("only a server issues tickets")
    if _refuses(ep):
        if ep.profile.revision == "04":
            NO_TICKET_04.fail("this connection requires remote attestation: no NewSessionTicket")
        return None
    ticket = os.urandom(TICKET_LENGTH)
    ep.channel.send(NEW_SESSION_TICKET, ticket)
    ep.emit("NewSessionTicketSent", ticket=ticket.hex())
    return Ticket(ticket.hex(), _psk(ep, ticket), dict(ep.completed), bool(ep.must_attest))


def receive_ticket(ep: Any) -> Ticket | None:
    """Client: read a ticket frame; keep it, or (mitigation on) discard it: returns None."""
    payload = ep.receive(NEW_SESSION_TICKET)
    TICKET_FRAME.require(len(payload) == TICKET_LENGTH, "ticket frame of the wrong length")
    kept = not _refuses(ep)
    ep.emit("NewSessionTicketReceived", ticket=payload.hex(), kept=kept)
    return Ticket(payload.hex(), _psk(ep, payload), dict(ep.completed), bool(ep.must_attest)) if kept else None


def check_resumable(profile: Any, ticket: Ticket) -> None:
    """-04 §7.2: with mitigation reject_resumption a client refuses to resume with a ticket of a connection
    that required attestation (however it came by one)."""
    if profile.revision == "04" and profile.mitigations.reject_resumption:
        NO_RESUMPTION_04.require(not ticket.attestation_connection,
                                 "ticket {} comes from a connection that required remote attestation", ticket.ticket)
