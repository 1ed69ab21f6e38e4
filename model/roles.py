"""The protocol as data: one state machine per role, written as rule tables.

A row reads ``role, from-state, event, to-state, guard, effect`` (plus ``when``: the profile flags
under which the row exists at all, and ``checks``: the receiver-side checks the transition
performs). A Tamarin theory gets one rule per row: the event is the action fact, the states are
state facts, ``guard`` names become restrictions, ``when`` becomes a preprocessor flag (#ifdef),
``effect`` lists the persistent facts the rule adds.

Machine instances:

=====================  ===================  ==================================================
role                   instance key         what one instance is
=====================  ===================  ==================================================
Endpoint               (agent, conn)        one TLS connection seen by one endpoint
RelyingParty           (agent, conn, ctx)   one authenticator request made by the requester
TargetEnvironment      (agent, conn, ctx)   one request answered by the attester's TLS endpoint
AttestingEnvironment   (agent)              the AE (holds AIKs and the attestation key)
Verifier               (agent)              the Verifier
=====================  ===================  ==================================================

Guards are predicates over the trace prefix (``w`` is the checker's view of the events so far,
:class:`expat.model.world.World`); each returns ``None`` when it holds or a short reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

from expat.model.events import (ATTESTING_ENVIRONMENT, ENDPOINT, RELYING_PARTY, ROLES, TARGET_ENVIRONMENT,
                                VERIFIER)

if TYPE_CHECKING:  # pragma: no cover
    from expat.model.world import World
    from expat.model.trace import Event

# --- profile flags ----------------------------------------------------------------------------

# Mitigation flags (expat.profile.Mitigations) and the boolean profile fields the tables use.
# Absent from a trace header's profile = the documented default (all True: the default profile).
# ``local_binding_check`` stands for the profile parameter binding_check: True = "local" (default), off =
# "delegated" (draft -04 §5.1: the requester conveys its binding and the Verifier compares it).
FLAGS = ("check_binding", "check_aik_pub_hash", "include_public_key_in_binding", "check_context_unique",
         "reject_spontaneous_attestation", "reject_resumption", "check_exporter_label",
         "check_verifier_nonce", "check_evidence_signature", "passport_binding_echo",
         "verifier_compares_binding", "local_binding_check")


def flag(profile: dict, name: str) -> bool:
    """A profile flag from a trace header's profile dict; mitigations live under "mitigations"."""
    if name == "passport_binding_echo":
        return bool(profile.get(name, True))
    if name == "local_binding_check":
        return profile.get("binding_check", "local") == "local"
    return bool((profile.get("mitigations") or {}).get(name, True))


_MITIGATION_FLAGS = tuple(f for f in FLAGS if f not in ("passport_binding_echo", "local_binding_check"))


def flags_of(profile: dict) -> dict[str, bool]:
    """Every flag of FLAGS, in that order, as :func:`flag` reads it (the mitigations looked up once)."""
    mitigations = profile.get("mitigations") or {}
    out = {f: bool(mitigations.get(f, True)) for f in _MITIGATION_FLAGS}
    out["passport_binding_echo"] = bool(profile.get("passport_binding_echo", True))
    out["local_binding_check"] = profile.get("binding_check", "local") == "local"
    return {f: out[f] for f in FLAGS}


def when_holds(when: str, profile: dict) -> bool:
    """``when`` is "" (always) or flags joined by "&", each optionally negated with "!"."""
    for term in filter(None, (t.strip() for t in when.split("&"))):
        want = not term.startswith("!")
        if flag(profile, term.lstrip("!")) != want:
            return False
    return True


# Receiver-side checks a transition can perform, and the flags that make them real. "delegated_binding"
# is the binding comparison a requester delegates to its Verifier (draft -04 §5.1): a "binding" check
# as far as the requester's path is concerned, real only if the Verifier compares.
CHECK_FLAGS = {"binding": ("check_binding",), "aik_pub_hash": ("check_aik_pub_hash",),
               "delegated_binding": ("check_binding", "verifier_compares_binding")}
CHECK_KINDS = {"delegated_binding": "binding"}


@dataclass(frozen=True)
class Row:
    role: str
    src: str
    event: str
    dst: str
    guard: tuple[str, ...] = ()
    effect: str = ""
    when: str = ""
    checks: tuple[str, ...] = ()
    note: str = ""

    def enabled_under(self, profile: dict) -> bool:
        return when_holds(self.when, profile)

    def performs(self, check_name: str, profile: dict) -> bool:
        return any(CHECK_KINDS.get(c, c) == check_name and all(flag(profile, f) for f in CHECK_FLAGS[c])
                   for c in self.checks)


INITIAL = {ENDPOINT: "Start", RELYING_PARTY: "Start", TARGET_ENVIRONMENT: "Start",
           ATTESTING_ENVIRONMENT: "Start", VERIFIER: "Ready"}

# States with a meaning the static checks refer to.
ATTESTATION_ACCEPTED = (RELYING_PARTY, "Completed")
DATA_EVENTS = ("ApplicationDataSent", "ApplicationDataReceived")


def _rows(role: str, table: list[tuple]) -> list[Row]:
    """Expand a table: ``src`` may be a tuple of states, ``dst`` "=" means "stay in src"."""
    out = []
    for entry in table:
        src, event, dst, *rest = entry
        guard, effect, when, checks, note = (list(rest) + [(), "", "", (), ""][len(rest):])[:5]
        for s in (src if isinstance(src, tuple) else (src,)):
            out.append(Row(role, s, event, s if dst == "=" else dst, tuple(guard), effect, when, tuple(checks),
                           note))
    return out


# --- the tables -------------------------------------------------------------------------------
# (from, event, to, guard, effect, when, checks, note)

ENDPOINT_TABLE = _rows(ENDPOINT, [
    ("Start", "ChannelEstablished", "Pending", ("attestation_needed", "resumption_allowed"),
     "+Channel(conn, side, suite, attest)", "", (), "full handshake; peer attestation still to come"),
    ("Start", "ChannelEstablished", "Open", ("no_attestation_needed", "resumption_allowed"),
     "+Channel(conn, side, suite, attest)", "", (), "connection that needs no attestation"),
    ("Start", "ChannelEstablished", "Attested", ("attestation_needed", "resumes_attested_session"),
     "+Channel(conn, side, suite, attest)", "!reject_resumption", (),
     "resumption inherits the attestation state of the ticket's connection (attack edge)"),
    ("Pending", "AttestationCompleted", "Pending", ("directions_outstanding",),
     "+Completed(conn, attester)"),
    ("Pending", "AttestationCompleted", "Attested", ("all_directions_done",),
     "+Completed(conn, attester)"),
    (("Open", "Attested"), "AttestationCompleted", "=", (),
     "+Completed(conn, attester)", "", (), "re-attestation"),
    (("Open", "Attested"), "ApplicationDataSent", "=", (), "", "", (), "draft §7.3: only after attestation"),
    (("Open", "Attested"), "ApplicationDataReceived", "=", ()),
    ("Open", "NewSessionTicketSent", "=", ("is_server",), "+Ticket(ticket, conn)"),
    (("Pending", "Attested"), "NewSessionTicketSent", "=", ("is_server",), "+Ticket(ticket, conn)",
     "!reject_resumption", (), "draft §7.2: no tickets where attestation is required"),
    ("Open", "NewSessionTicketReceived", "=", ("is_client",), "+Ticket(ticket, conn)"),
    (("Pending", "Attested"), "NewSessionTicketReceived", "=", ("is_client", "ticket_discarded"), "", "",
     (), "the client discards tickets on attestation connections"),
    (("Pending", "Attested"), "NewSessionTicketReceived", "=", ("is_client",), "+Ticket(ticket, conn)",
     "!reject_resumption"),
    (("Pending", "Open", "Attested"), "ConnectionClosed", "Closed", ()),
])

RELYING_PARTY_TABLE = _rows(RELYING_PARTY, [
    ("Start", "RequestSent", "Requested",
     ("connection_up", "ctx_unused_on_conn", "request_type_matches_side"), "+UsedContext(conn, ctx)"),
    ("Requested", "AuthenticatorAccepted", "Validated",
     ("connection_up", "not_spontaneous", "attestation_was_offered", "peer_is_attester", "certificate_has_aik"), "",
     "", (), "RFC 9261 §5.2: validated against the live connection's handshake (none after it closed)"),
    ("Start", "AuthenticatorAccepted", "Validated",
     ("connection_up", "spontaneous_from_server", "ctx_unused_on_conn", "certificate_has_aik"),
     "+UsedContext(conn, ctx)", "!reject_spontaneous_attestation", (),
     "cmw_attestation accepted in a spontaneous server authenticator (attack edge)"),
    (("Requested", "Validated", "Bound", "Forwarded", "Appraised"), "AuthenticatorRejected", "Rejected", ()),
    ("Delegated", "AuthenticatorRejected", "Rejected", (), "", "!local_binding_check"),
    ("Validated", "BindingChecked", "Bound", ("binding_matches", "aik_hash_matches"), "", "",
     ("binding", "aik_pub_hash"), "draft §5.1, §5.2"),
    ("Validated", "EvidenceForwarded", "Delegated",
     ("carries_evidence", "forwards_what_it_accepted", "forwarded_aik_hash_matches"), "", "!local_binding_check",
     ("delegated_binding", "aik_pub_hash"),
     "draft -04 §5.1: the binding goes to the Verifier, which compares it; AIK_pub_hash is compared here (§5.2)"),
    ("Delegated", "AttestationResultReceived", "Appraised", ("result_from_verifier", "binding_confirmed_to_me"), "",
     "!local_binding_check", (), "draft -04 §5.1: accepted only with the Verifier's confirmation of the conveyed "
     "binding"),
    ("Bound", "EvidenceForwarded", "Forwarded", ("carries_evidence", "forwards_what_it_accepted"), ""),
    ("Validated", "EvidenceForwarded", "Forwarded", ("carries_evidence", "forwards_what_it_accepted"), "",
     "!check_binding & !check_aik_pub_hash", (), "no comparison at all (attack edge)"),
    ("Forwarded", "AttestationResultReceived", "Appraised", ("result_from_verifier",), ""),
    ("Bound", "AttestationResultReceived", "Appraised", ("carries_result", "result_is_carried"), "", "", (),
     "passport: the result arrived in the authenticator"),
    ("Validated", "AttestationResultReceived", "Appraised", ("carries_result", "result_is_carried"), "",
     "!passport_binding_echo", (), "passport, draft §4 literal: signature and policy only (attack edge)"),
    ("Validated", "AttestationResultReceived", "Appraised", ("carries_result", "result_is_carried"), "",
     "!check_binding & !check_aik_pub_hash", (), "no comparison at all (attack edge)"),
    ("Appraised", "AttestationCompleted", "Completed", ("status_affirming", "completes_peer_direction"),
     "+Accepted(conn, ctx, cmw)"),
])

TARGET_ENVIRONMENT_TABLE = _rows(TARGET_ENVIRONMENT, [
    ("Start", "RequestReceived", "Received", ("connection_up", "ctx_unused_on_conn"), "+UsedContext(conn, ctx)"),
    ("Received", "EvidenceRequested", "Awaiting", ("request_offered_attestation", "not_spontaneous",
                                                   "aik_is_mine"), ""),
    ("Start", "EvidenceRequested", "Awaiting", ("connection_up", "spontaneous_from_server", "ctx_unused_on_conn",
                                                "aik_is_mine"),
     "+UsedContext(conn, ctx)", "!reject_spontaneous_attestation", (),
     "attestation in a spontaneous server authenticator (attack edge)"),
    ("Awaiting", "AuthenticatorSent", "Sent", ("carries_evidence", "evidence_for_this_request", "same_aik",
                                              "same_spontaneity"), ""),
    ("Awaiting", "EvidenceSubmitted", "Submitted", ("evidence_for_this_request",), ""),
    ("Submitted", "AttestationResultObtained", "HasResult", ("result_for_submitted_evidence",), ""),
    ("HasResult", "AuthenticatorSent", "Sent", ("carries_result", "result_obtained_here", "same_aik",
                                               "same_spontaneity"), ""),
    ("Sent", "AttestationCompleted", "Completed", ("completes_own_direction",), ""),
])

ATTESTING_ENVIRONMENT_TABLE = _rows(ATTESTING_ENVIRONMENT, [
    ("Start", "AikGenerated", "Ready", ("aik_new",), "+Aik(ae, aik, owner)"),
    ("Ready", "AikGenerated", "Ready", ("aik_new",), "+Aik(ae, aik, owner)"),
    ("Ready", "EvidenceProduced", "Ready", ("cmw_new", "evidence_was_requested", "aik_hash_of_own_aik",
                                            "attestation_key_is_own", "evidence_is_not_result",
                                            "producer_is_not_the_peer"),
     "+Evidence(cmw, te, binding, aik_hash)"),
])

VERIFIER_TABLE = _rows(VERIFIER, [
    ("Ready", "NonceIssued", "Ready", ("nonce_new",), "+Nonce(verifier, nonce)"),
    ("Ready", "EvidenceAppraised", "Ready",
     ("evidence_sent_to_me", "result_new", "nonce_fresh", "evidence_genuine", "delegated_binding_matches",
      "echo_is_evidence_binding", "appraiser_is_not_attester", "result_is_not_evidence"),
     "+Result(result, cmw, status, binding_echo)"),
    ("Ready", "BindingConfirmed", "Ready", ("confirms_conveyed_binding", "confirmed_binding_is_evidence_binding"),
     "+Confirmed(verifier, cmw, binding, to)", "", (), "draft -04 §5.1: the delegated comparison"),
])

TABLES: dict[str, list[Row]] = {
    ENDPOINT: ENDPOINT_TABLE,
    RELYING_PARTY: RELYING_PARTY_TABLE,
    TARGET_ENVIRONMENT: TARGET_ENVIRONMENT_TABLE,
    ATTESTING_ENVIRONMENT: ATTESTING_ENVIRONMENT_TABLE,
    VERIFIER: VERIFIER_TABLE,
}
assert tuple(TABLES) == ROLES

ALL_ROWS: list[Row] = [r for rows in TABLES.values() for r in rows]


def states(role: str) -> list[str]:
    seen: list[str] = [INITIAL[role]]
    for r in TABLES[role]:
        for s in (r.src, r.dst):
            if s not in seen:
                seen.append(s)
    return seen


def rows_for(role: str, state: str, event: str, profile: dict) -> list[Row]:
    return [r for r in dispatch(profile).get((role, state, event), ())]


Dispatch = dict[tuple[str, str, str], tuple[Row, ...]]
_DISPATCH: dict[tuple[bool, ...], Dispatch] = {}


def dispatch(profile: dict) -> Dispatch:
    """The tables compiled for one profile: (role, from-state, event) -> the rows enabled under it, in
    table order. Only the flags decide which rows exist, so one compilation serves every trace whose
    profile sets them alike."""
    key = tuple(flag(profile, f) for f in FLAGS)
    table = _DISPATCH.get(key)
    if table is None:
        grouped: dict[tuple[str, str, str], list[Row]] = {}
        for r in ALL_ROWS:
            if r.enabled_under(profile):
                grouped.setdefault((r.role, r.src, r.event), []).append(r)
        table = _DISPATCH[key] = {k: tuple(v) for k, v in grouped.items()}
    return table


# --- guards ------------------------------------------------------------------------------------

Guard = Callable[["World", "Event"], Optional[str]]
GUARDS: dict[str, Guard] = {}


def guard(fn: Guard) -> Guard:
    GUARDS[fn.__name__] = fn
    return fn


# Each guard returns None when it holds, else its reason; a reason with values in it is formatted only
# when the guard fails (the replay evaluates a few guards per event, expat check throughput).


def _answers(appraisal: "Event", sent: "Event", ev: "Event") -> bool:
    """``appraisal`` is the Verifier's answer, to ``ev``'s agent and with ``ev``'s status, for the Evidence
    that agent ``sent`` it (EvidenceForwarded or EvidenceSubmitted)."""
    return (appraisal.agent == sent.args["verifier"] and appraisal.args["cmw"] == sent.args["cmw"]
            and appraisal.args["to"] == ev.agent and appraisal.args["status"] == ev.args["status"])


# Endpoint

@guard
def attestation_needed(w: "World", ev: "Event") -> Optional[str]:
    return None if ev.args["attest"] else "no side is required to attest"


@guard
def no_attestation_needed(w: "World", ev: "Event") -> Optional[str]:
    return "attestation is required" if ev.args["attest"] else None


@guard
def resumption_allowed(w: "World", ev: "Event") -> Optional[str]:
    """A full handshake, or a resumption of a known ticket; with reject_resumption the ticket must
    not come from a connection that required attestation (draft §7.2)."""
    ticket = ev.args["resumed_from"]
    if ticket == "-":
        return None
    origin = w.ticket_connection(ev.agent, ticket)
    if origin is None:
        return f"resumes unknown ticket {ticket!r}"
    if w.flag("reject_resumption") and w.conn_requires_attestation(ev.agent, origin):
        return f"resumes ticket {ticket!r} of attestation connection {origin!r}"
    return None


@guard
def resumes_attested_session(w: "World", ev: "Event") -> Optional[str]:
    ticket = ev.args["resumed_from"]
    origin = w.ticket_connection(ev.agent, ticket) if ticket != "-" else None
    if origin is None:
        return "not a resumption of a known ticket"
    if w.endpoint_in(ev.agent, origin, ("Attested", "Closed")) and w.conn_requires_attestation(ev.agent, origin):
        return None
    return "ticket's connection was not attested"


@guard
def directions_outstanding(w: "World", ev: "Event") -> Optional[str]:
    if w.missing_directions(ev.agent, ev.args["conn"], also=ev.args["attester"]):
        return None
    return "all required directions are now complete"


@guard
def all_directions_done(w: "World", ev: "Event") -> Optional[str]:
    missing = w.missing_directions(ev.agent, ev.args["conn"], also=ev.args["attester"])
    return f"still waiting for {missing}" if missing else None


@guard
def is_server(w: "World", ev: "Event") -> Optional[str]:
    return None if w.side(ev.agent, ev.args["conn"]) == "server" else "only a server sends NewSessionTicket"


@guard
def is_client(w: "World", ev: "Event") -> Optional[str]:
    return None if w.side(ev.agent, ev.args["conn"]) == "client" else "only a client receives NewSessionTicket"


@guard
def ticket_discarded(w: "World", ev: "Event") -> Optional[str]:
    return "ticket kept on an attestation connection" if ev.args["kept"] else None


# Requester and attester endpoint

_UP = ("Pending", "Open", "Attested")


@guard
def connection_up(w: "World", ev: "Event") -> Optional[str]:
    return None if w.endpoint_in(ev.agent, ev.args["conn"], _UP) else "no established connection"


@guard
def ctx_unused_on_conn(w: "World", ev: "Event") -> Optional[str]:
    """RFC 9261 §4: contexts are unique per connection, across both request kinds and both roles."""
    if not w.flag("check_context_unique") or not w.ctx_used_before(ev.agent, ev.args["conn"], ev.args["ctx"]):
        return None
    return "certificate_request_context already used on this connection"


@guard
def request_type_matches_side(w: "World", ev: "Event") -> Optional[str]:
    """RFC 9261 §4: servers send CertificateRequest (13), clients ClientCertificateRequest (17)."""
    want = 13 if w.side(ev.agent, ev.args["conn"]) == "server" else 17
    if ev.args["msg_type"] == want:
        return None
    return f"msg_type {ev.args['msg_type']} from this side (expected {want})"


@guard
def not_spontaneous(w: "World", ev: "Event") -> Optional[str]:
    return "marked spontaneous but answers a request" if ev.args["spontaneous"] else None


@guard
def spontaneous_from_server(w: "World", ev: "Event") -> Optional[str]:
    """RFC 9261 §3: only servers authenticate spontaneously."""
    # the requester side of a spontaneous authenticator is the client, the sending side the server
    want = "client" if ev.name == "AuthenticatorAccepted" else "server"
    if ev.args["spontaneous"] and w.side(ev.agent, ev.args["conn"]) == want:
        return None
    return "spontaneous authenticators go from server to client only"


@guard
def attestation_was_offered(w: "World", ev: "Event") -> Optional[str]:
    """draft §3.1: cmw_attestation in a Certificate whose request did not offer it is refused."""
    req = w.rp_request(ev.agent, ev.args["conn"], ev.args["ctx"])
    return None if req is not None and req.args["attestation_offered"] else "request did not offer cmw_attestation"


@guard
def peer_is_attester(w: "World", ev: "Event") -> Optional[str]:
    attest = w.conn_attest(ev.agent, ev.args["conn"])
    if w.peer_side(ev.agent, ev.args["conn"]) in attest or not attest:
        return None
    return "peer is not expected to attest on this connection"


@guard
def certificate_has_aik(w: "World", ev: "Event") -> Optional[str]:
    cert = ev.args.get("certificate")
    if not isinstance(cert, str):  # (what ev.get_bytes reads as None)
        return None
    spki = w.certificate_spki_hex(cert)
    return None if spki == w.arg_bytes(ev, "aik") else "aik is not the end-entity certificate's key"


@guard
def binding_matches(w: "World", ev: "Event") -> Optional[str]:
    if not w.flag("check_binding"):
        return None
    if ev.args["cmw_binding"] != ev.args["expected_binding"]:
        return "binding in the Evidence differs from the computed one"
    if ev.args["label"] != w.exporter_label and w.flag("check_exporter_label"):
        return f"binding matched under label {ev.args['label']!r}, not the profile's {w.exporter_label!r}"
    return None


@guard
def aik_hash_matches(w: "World", ev: "Event") -> Optional[str]:
    if not w.flag("check_aik_pub_hash"):
        return None
    if ev.args["cmw_aik_hash"] != "" and ev.args["cmw_aik_hash"] == ev.args["expected_aik_hash"]:
        return None
    return "AIK_pub_hash differs from the hash of the certificate key"


@guard
def carries_evidence(w: "World", ev: "Event") -> Optional[str]:
    kind = w.carried_kind(ev)
    return None if kind == "evidence" else f"cmw_attestation carries {kind}, not Evidence"


@guard
def carries_result(w: "World", ev: "Event") -> Optional[str]:
    kind = w.carried_kind(ev)
    return None if kind == "result" else f"cmw_attestation carries {kind}, not an Attestation Result"


@guard
def forwards_what_it_accepted(w: "World", ev: "Event") -> Optional[str]:
    acc = w.rp_accepted(ev.agent, ev.args["conn"], ev.args["ctx"])
    return None if acc is not None and acc.args["cmw"] == ev.args["cmw"] else "forwards other Evidence than it accepted"


@guard
def result_from_verifier(w: "World", ev: "Event") -> Optional[str]:
    fwd = w.rp_forwarded(ev.agent, ev.args["conn"], ev.args["ctx"])
    appraisal = w.appraisal(ev.args["result"])
    if fwd is None or appraisal is None:
        return "no Verifier issued this result"
    return None if _answers(appraisal, fwd, ev) else "result is not the Verifier's answer for the forwarded Evidence"


@guard
def result_is_carried(w: "World", ev: "Event") -> Optional[str]:
    acc = w.rp_accepted(ev.agent, ev.args["conn"], ev.args["ctx"])
    if acc is None or acc.args["cmw"] != ev.args["result"]:
        return "result is not the one carried in the authenticator"
    appraisal = w.appraisal(ev.args["result"])
    if appraisal is not None and appraisal.args["status"] != ev.args["status"]:
        return "status differs from the issued result"
    return None


@guard
def status_affirming(w: "World", ev: "Event") -> Optional[str]:
    res = w.rp_result(ev.agent, ev.args["conn"], ev.args["ctx"])
    return None if res is not None and res.args["status"] == "affirming" else "Attestation Result is not affirming"


@guard
def completes_peer_direction(w: "World", ev: "Event") -> Optional[str]:
    acc = w.rp_accepted(ev.agent, ev.args["conn"], ev.args["ctx"])
    if acc is not None and acc.args["cmw"] == ev.args["cmw"] \
            and ev.args["attester"] == w.peer_side(ev.agent, ev.args["conn"]):
        return None
    return "completion does not name the accepted attestation of the peer"


@guard
def request_offered_attestation(w: "World", ev: "Event") -> Optional[str]:
    req = w.te_request(ev.agent, ev.args["conn"], ev.args["ctx"])
    return None if req is not None and req.args["attestation_offered"] else "request did not offer cmw_attestation"


@guard
def aik_is_mine(w: "World", ev: "Event") -> Optional[str]:
    return None if w.aik_owner(w.arg_bytes(ev, "aik")) == ev.agent else "the AIK was not generated for this endpoint"


@guard
def evidence_for_this_request(w: "World", ev: "Event") -> Optional[str]:
    asked = w.te_evidence_request(ev.agent, ev.args["conn"], ev.args["ctx"])
    produced = w.produced(ev.args["cmw"])
    if asked is None or produced is None:
        return "Evidence was not produced for this request"
    if produced.agent == asked.args["ae"] and produced.args["te"] == ev.agent \
            and produced.args["binding"] == asked.args["binding"] and w.index_of(produced) > w.index_of(asked):
        return None
    return "Evidence was not produced for this request"


@guard
def same_aik(w: "World", ev: "Event") -> Optional[str]:
    asked = w.te_evidence_request(ev.agent, ev.args["conn"], ev.args["ctx"])
    return None if asked is not None and asked.args["aik"] == ev.args["aik"] else "authenticates with another AIK"


@guard
def same_spontaneity(w: "World", ev: "Event") -> Optional[str]:
    asked = w.te_evidence_request(ev.agent, ev.args["conn"], ev.args["ctx"])
    if asked is not None and asked.args["spontaneous"] == ev.args["spontaneous"]:
        return None
    return "spontaneous flag differs from the Evidence request"


@guard
def result_for_submitted_evidence(w: "World", ev: "Event") -> Optional[str]:
    sub = w.te_submitted(ev.agent, ev.args["conn"], ev.args["ctx"])
    appraisal = w.appraisal(ev.args["result"])
    if sub is not None and appraisal is not None and _answers(appraisal, sub, ev):
        return None
    return "result is not for the submitted Evidence"


@guard
def result_obtained_here(w: "World", ev: "Event") -> Optional[str]:
    got = w.te_result(ev.agent, ev.args["conn"], ev.args["ctx"])
    return None if got is not None and got.args["result"] == ev.args["cmw"] else "sends another result than obtained"


@guard
def completes_own_direction(w: "World", ev: "Event") -> Optional[str]:
    sent = w.te_sent(ev.agent, ev.args["conn"], ev.args["ctx"])
    if sent is not None and sent.args["cmw"] == ev.args["cmw"] \
            and ev.args["attester"] == w.side(ev.agent, ev.args["conn"]):
        return None
    return "completion does not name this endpoint's attestation"


# Attesting Environment

@guard
def aik_new(w: "World", ev: "Event") -> Optional[str]:
    return None if w.aik_owner(w.arg_bytes(ev, "aik")) is None else "AIK generated twice"


@guard
def cmw_new(w: "World", ev: "Event") -> Optional[str]:
    return None if w.produced(ev.args["cmw"]) is None else "Evidence identifier produced twice"


@guard
def evidence_was_requested(w: "World", ev: "Event") -> Optional[str]:
    if w.open_evidence_request(ev.agent, ev.args["te"], ev.args["binding"]) is not None:
        return None
    return "no TE asked this AE for Evidence over this binding"


@guard
def aik_hash_of_own_aik(w: "World", ev: "Event") -> Optional[str]:
    """AIK_pub_hash is a claim made by the TEE about a key it holds (draft §5.2)."""
    h = ev.get_bytes("aik_hash")
    if not h:
        return None
    asked = w.open_evidence_request(ev.agent, ev.args["te"], ev.args["binding"])
    if asked is None:  # evidence_was_requested fails; any hash of an own AIK is the best reading here
        return None if h in w.own_aik_hashes(ev.agent) else "AIK_pub_hash is not the hash of an AIK this AE holds"
    suite_hash = w.hash_for_conn(asked.args["conn"])
    if h in w.own_aik_hashes(ev.agent, (suite_hash,)):
        return None
    return f"AIK_pub_hash is not the {suite_hash.name} hash (the suite's, §5.2) of an AIK this AE holds"


@guard
def attestation_key_is_own(w: "World", ev: "Event") -> Optional[str]:
    """draft §7: Evidence is signed with the attestation key of the TEE that produced it, so the signature
    names its producer; a key another honest AE signed with is not this AE's own."""
    key = ev.args["attestation_key"]
    for _, e in w.positions("EvidenceProduced"):
        if e.args["attestation_key"] == key and e.agent != ev.agent and w.honest(e.agent):
            return f"attestation key {key} is {e.agent}'s"
    return None


@guard
def evidence_is_not_result(w: "World", ev: "Event") -> Optional[str]:
    """An identifier names one object (docs/trace-format.md: e.g. the digest of its bytes): Evidence is no
    Attestation Result a Verifier issued."""
    return None if w.appraisal(ev.args["cmw"]) is None else "Evidence identifier is an issued Attestation Result's"


@guard
def producer_is_not_the_peer(w: "World", ev: "Event") -> Optional[str]:
    """draft §3.4, §5.2: the Attesting Environment is in the attester's platform; the other endpoint of the
    connection the Evidence was asked for is not (it would accept Evidence it produced itself)."""
    asked = w.open_evidence_request(ev.agent, ev.args["te"], ev.args["binding"])
    if asked is None or ev.agent == ev.args["te"]:
        return None
    if any(e.agent == ev.agent for e in w.keyed("ChannelEstablished", "conn", asked.args["conn"])):
        return "the Evidence is produced by the other endpoint of the connection it was asked for"
    return None


# Verifier

@guard
def appraiser_is_not_attester(w: "World", ev: "Event") -> Optional[str]:
    """RFC 9334 §3 roles, draft §3.4: the Verifier appraising Evidence is neither the Attesting Environment
    that produced it nor the endpoint it was produced for (a Relying Party may host its Verifier)."""
    produced = w.produced(ev.args["cmw"])
    if produced is not None and ev.agent in (produced.agent, produced.args["te"]):
        return "the Verifier appraises Evidence it produced, or that was produced for it"
    return None


@guard
def result_is_not_evidence(w: "World", ev: "Event") -> Optional[str]:
    """The Attestation Result is a new object, not the appraised Evidence or any other Evidence passed off as
    a result (kind confusion)."""
    r = ev.args["result"]
    if r == ev.args["cmw"] or w.produced(r) is not None:
        return "the Attestation Result's identifier is an Evidence identifier"
    return None


@guard
def nonce_new(w: "World", ev: "Event") -> Optional[str]:
    """draft §5.1: a Verifier nonce is fresh: issued once, and not a value a requester already used as a
    certificate_request_context (a request made before the nonce existed cannot answer it)."""
    if w.nonce_issue(ev.agent, ev.args["nonce"]) is not None:
        return "nonce issued twice"
    if w.keyed("RequestSent", "ctx", ev.args["nonce"]):
        return "nonce already used as a certificate_request_context"
    return None


@guard
def evidence_sent_to_me(w: "World", ev: "Event") -> Optional[str]:
    if w.submission_to(ev.agent, ev.args["cmw"], ev.args["to"]) is not None:
        return None
    return "nobody sent this Evidence to this Verifier"


@guard
def result_new(w: "World", ev: "Event") -> Optional[str]:
    return None if w.appraisal(ev.args["result"]) is None else "result identifier issued twice"


@guard
def nonce_fresh(w: "World", ev: "Event") -> Optional[str]:
    """draft §5.1: a Verifier nonce counts only if this Verifier issued it, to the requester the result goes to,
    and never used it before."""
    nonce = ev.args["nonce"]
    if not nonce or not w.flag("check_verifier_nonce"):
        return None
    issued = w.nonce_issue(ev.agent, nonce)
    if issued is None:
        return "nonce not issued by this Verifier"
    if issued.args["to"] != ev.args["to"]:  # the nonce belongs to the requester it was handed to (§5.1)
        return f"nonce was issued to {issued.args['to']}, not to {ev.args['to']} who receives the result"
    return "nonce already used" if w.nonce_used(ev.agent, nonce) else None


@guard
def evidence_genuine(w: "World", ev: "Event") -> Optional[str]:
    """draft §7: Evidence is signed by an attestation key chaining to the manufacturer."""
    if not w.flag("check_evidence_signature") or ev.args["status"] != "affirming":
        return None
    return None if w.produced(ev.args["cmw"]) is not None else "Evidence was not produced by an Attesting Environment"


@guard
def delegated_binding_matches(w: "World", ev: "Event") -> Optional[str]:
    """draft §5.1: when the requester delegates, the Verifier compares the binding it was given (-04 §5.1:
    unless verifier_compares_binding is off)."""
    if not w.flag("check_binding") or not w.flag("verifier_compares_binding") or ev.args["status"] != "affirming":
        return None
    fwd = w.submission_to(ev.agent, ev.args["cmw"], ev.args["to"])
    produced = w.produced(ev.args["cmw"])
    if fwd is None or fwd.name != "EvidenceForwarded" or produced is None:
        return None
    if fwd.args["expected_binding"] == produced.args["binding"]:
        return None
    return "affirms Evidence whose binding differs from the one the requester computed"


@guard
def echo_is_evidence_binding(w: "World", ev: "Event") -> Optional[str]:
    echo = ev.args["binding_echo"]
    produced = w.produced(ev.args["cmw"])
    if not echo or produced is None:
        return None
    return None if echo == produced.args["binding"] else "echoed binding is not the Evidence's binding"


@guard
def forwarded_aik_hash_matches(w: "World", ev: "Event") -> Optional[str]:
    """Delegating the binding, the requester still compares AIK_pub_hash itself (draft §5.2): the
    Evidence it forwards carries the hash of the accepted end-entity key."""
    if not w.flag("check_aik_pub_hash"):
        return None
    acc = w.rp_accepted(ev.agent, ev.args["conn"], ev.args["ctx"])
    produced = w.produced(ev.args["cmw"])
    if acc is None or produced is None:
        return None   # Evidence no AE produced: evidence_genuine judges its appraisal
    want = w.aik_hash_on(ev.args["conn"], w.arg_bytes(acc, "aik") or b"")
    if produced.get_bytes("aik_hash") == want:
        return None
    return "AIK_pub_hash differs from the hash of the certificate key"


@guard
def binding_confirmed_to_me(w: "World", ev: "Event") -> Optional[str]:
    """draft -04 §5.1: delegating, the requester accepts a result only if its Verifier confirmed, for the
    forwarded Evidence, the very binding the requester conveyed."""
    fwd = w.rp_forwarded(ev.agent, ev.args["conn"], ev.args["ctx"])
    if fwd is None:
        return "nothing was forwarded"
    verifier, cmw, binding = fwd.args["verifier"], fwd.args["cmw"], fwd.args["expected_binding"]
    for e in w.keyed("BindingConfirmed", "cmw", cmw):
        if e.agent == verifier and e.args["to"] == ev.agent and e.args["binding"] == binding:
            return None
    return "the Verifier did not confirm the binding the requester conveyed"


@guard
def confirms_conveyed_binding(w: "World", ev: "Event") -> Optional[str]:
    """The confirmed binding is the one the requester conveyed with this Evidence."""
    fwd = w.submission_to(ev.agent, ev.args["cmw"], ev.args["to"])
    if fwd is not None and fwd.name == "EvidenceForwarded" and fwd.args["expected_binding"] == ev.args["binding"]:
        return None
    return "confirms a binding nobody conveyed with this Evidence"


@guard
def confirmed_binding_is_evidence_binding(w: "World", ev: "Event") -> Optional[str]:
    """With verifier_compares_binding the Verifier confirms only the Evidence's own binding."""
    if not w.flag("verifier_compares_binding"):
        return None
    produced = w.produced(ev.args["cmw"])
    if produced is None:
        return None   # Evidence no AE produced: evidence_genuine judges the appraisal
    if produced.args["binding"] == ev.args["binding"]:
        return None
    return "confirms a binding that differs from the one in the Evidence"


def _check_guards() -> None:
    missing = {g for r in ALL_ROWS for g in r.guard if g not in GUARDS}
    if missing:  # pragma: no cover - table/guard mismatch is a programming error
        raise RuntimeError(f"guards without implementation: {sorted(missing)}")


_check_guards()
