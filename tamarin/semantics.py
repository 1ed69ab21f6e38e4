"""The symbolic meaning of the model's rows: messages, memory and guard restrictions.

:mod:`expat.model.roles` says *which* transitions exist (role, from, event, to, guard, effect, when);
this module says what each one does in a Dolev-Yao model, so that :mod:`expat.tamarin.generate` can
emit one Tamarin rule per row:

* every role instance keeps a fixed memory (:data:`MEMORY`); a state ``S`` of role ``R`` is the
  linear fact ``St_R_S(memory...)``. RelyingParty and TargetEnvironment instances start from the
  persistent ``!Conn`` fact of their endpoint (:data:`VIRTUAL_START`) instead of a Start fact;
* :func:`row_semantics` gives, for one row and one set of switched-off flags, the event's argument
  terms (in :attr:`EventSpec.positional` order), extra premises/conclusions (network, keys), helper
  actions (``Eq``, ``Commit``, ``Running``), memory writes and the terms each guard is applied to;
* :data:`GUARDS` gives every guard of :data:`expat.model.roles.GUARDS` a restriction over the same
  event action facts the Python guard reads from the trace prefix, per flag (``None`` = holds
  trivially with that mitigation off, like the Python guard);
* :data:`ENV_RULES` are the rules that are not protocol steps: the abstract TLS 1.3 handshake,
  setups of keys, and the adversary's reveal and oracle rules.

Abstractions (docs/tamarin.md): the TLS 1.3 handshake is one step that gives both endpoints a fresh
exporter_master_secret; exporters are a free function ``exporter(secret, label, context)``
(RFC 8446 §7.5); EA messages travel inside the connection, protected under a per-direction key
derived from that secret; CertificateVerify is a signature over the transcript hash and Finished a
MAC (RFC 9261 §5.2.2, §5.2.3); Evidence is signed by the AE's attestation key over binding,
AIK_pub_hash and claims (draft §5.1, §5.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from expat.model.events import (ATTESTING_ENVIRONMENT, ENDPOINT, RELYING_PARTY, TARGET_ENVIRONMENT,
                                VERIFIER)
from expat.model.roles import INITIAL, Row
from expat.tamarin import spthy

FLAG_PREFIX = "OFF_"  # preprocessor flag for "mitigation switched off": -D=OFF_check_binding
LABEL = "'Attestation'"  # the profile's exporter label (draft -02 §5.1), a public constant here

# --- memory per role ----------------------------------------------------------------------------

MEMORY: dict[str, tuple[str, ...]] = {
    ENDPOINT: ("A", "conn", "side", "pside", "suite", "attest", "resumed", "ems", "peer", "dn"),
    RELYING_PARTY: ("A", "conn", "ctx", "side", "pside", "attest", "ems", "peer", "vnonce",
                    "attestation_offered", "request", "aik", "kind", "cmw", "cmw_binding", "cmw_aik_hash",
                    "crest", "csig", "verifier", "result", "status"),
    TARGET_ENVIRONMENT: ("A", "conn", "ctx", "side", "pside", "attest", "ems", "peer", "attestation_offered",
                         "request", "ae", "binding", "aik", "spontaneous", "cmw", "verifier", "result",
                         "status"),
    ATTESTING_ENVIRONMENT: ("ae", "ak"),
    VERIFIER: ("v", "vk"),
}

CONN_FACT = "!Conn(A, conn, side, pside, attest, ems, peer)"
# Roles whose instances start from a persistent fact rather than a Start state fact.
VIRTUAL_START: dict[str, tuple[str, frozenset[str]]] = {
    RELYING_PARTY: (CONN_FACT, frozenset({"A", "conn", "side", "pside", "attest", "ems", "peer"})),
    TARGET_ENVIRONMENT: (CONN_FACT, frozenset({"A", "conn", "side", "pside", "attest", "ems", "peer"})),
}


def virtual_start(role: str, state: str) -> bool:
    """The state has no state fact: the role's initial state, when its instances start from !Conn."""
    return state == INITIAL[role] and role in VIRTUAL_START


def state_fact(role: str, state: str) -> str:
    return f"St_{role}_{state}"


def guard_fact(name: str) -> str:
    return f"Guard_{name}"


# --- terms ----------------------------------------------------------------------------------------

def bind(off: frozenset[str], key: str, exported: str) -> str:
    """binding = H(public_key || exported_value) (draft -02 §5.1); the key is left out when
    include_public_key_in_binding is off."""
    if "include_public_key_in_binding" in off:
        return f"h({exported})"
    return f"h(<{key}, {exported}>)"


def exporter(label: str, ctx: str, secret: str = "ems") -> str:
    """TLS-Exporter(label, context, L) as a function of the connection's secret (RFC 8446 §7.5)."""
    return f"exporter({secret}, {label}, {ctx})"


def handshake_context(sender: str) -> str:
    """Handshake Context of an authenticator from ``sender``'s side (RFC 9261 §5.1)."""
    return f"exporter(ems, <'hc', {sender}>, 'empty')"


def finished_key(sender: str) -> str:
    """Finished MAC Key of an authenticator from ``sender``'s side (RFC 9261 §5.1)."""
    return f"exporter(ems, <'fk', {sender}>, 'empty')"


def tls(payload: str, sender: str) -> str:
    """A message inside the connection: record protection under the sender's traffic key."""
    return f"senc({payload}, h(<'tls', {sender}, ems>))"


REQUEST = "<msg_type, ctx, extensions, attestation_offered>"
CMW_PATTERN = "<kind, <cmw_binding, cmw_aik_hash, crest>, csig>"
RP_CERT = f"<ctx, aik, {CMW_PATTERN}>"
EVIDENCE_PATTERN = "<'evidence', <ebind, eah, ecl>, esig>"


def authenticator(sender: str, request: str, cert: str, cv: str) -> str:
    fin = f"mac({finished_key(sender)}, h(<{handshake_context(sender)}, {request}, {cert}, {cv}>))"
    return f"<{cert}, {cv}, {fin}>"


# --- guards -------------------------------------------------------------------------------------

UNIQUE = "UNIQUE"  # body marker: the guard's arguments never repeat


@dataclass(frozen=True)
class GuardSpec:
    params: tuple[str, ...]
    args: tuple[str, ...]  # default terms (memory/event variables) the rules apply the guard to
    cases: tuple[tuple[Optional[str], tuple[str, ...]], ...]
    """(flag, bodies): the first case whose flag is switched off applies; flag None = otherwise.
    A body is a formula over the params and ``#i`` (the guard's time point), or UNIQUE, or
    ``UNIQUE|<formula>`` (unique unless formula). No bodies = no restriction."""

    def bodies(self, off: frozenset[str]) -> tuple[str, ...]:
        for flag, bodies in self.cases:
            if flag is None or flag in off:
                return bodies
        return ()  # pragma: no cover - every table ends with a None case

    def flags(self) -> tuple[str, ...]:
        return tuple(f for f, _ in self.cases if f is not None)


def split_top(text: str) -> tuple[str, ...]:
    """Split on commas outside (), <> and quotes (the parser's own splitter, so both read terms alike)."""
    return tuple(spthy.split_top(text))


def _g(params: str, args: str, *cases) -> GuardSpec:
    split = split_top
    if cases and isinstance(cases[0], str):
        cases = ((None, tuple(cases)),)
    return GuardSpec(split(params), split(args), tuple((f, tuple(b) if isinstance(b, (tuple, list)) else
                                                         ((b,) if b else ())) for f, b in cases))


_ALL_DONE = ("at = x | at = dn | (at = 'both' & dn = 'client' & x = 'server') "
             "| (at = 'both' & dn = 'server' & x = 'client')")
_TICKET_OF_PLAIN_CONN = (
    "t = 'none' | (Ex c #j s su r e #k. NewSessionTicketSent(a, c, t)@j & #j < #i "
    "& ChannelEstablished(a, c, s, su, 'none', r, e)@k) "
    "| (Ex c #j s su r e #k. NewSessionTicketReceived(a, c, t, 'true')@j & #j < #i "
    "& ChannelEstablished(a, c, s, su, 'none', r, e)@k)")
_TICKET_KNOWN = ("t = 'none' | (Ex c #j. NewSessionTicketSent(a, c, t)@j & #j < #i) "
                 "| (Ex c #j. NewSessionTicketReceived(a, c, t, 'true')@j & #j < #i)")

GUARDS: dict[str, GuardSpec] = {
    # Endpoint (draft §7.2, §7.3)
    "attestation_needed": _g("at", "attest", "not (at = 'none')"),
    "no_attestation_needed": _g("at", "attest", "at = 'none'"),
    "resumption_allowed": _g("a, t", "A, resumed", ("reject_resumption", _TICKET_KNOWN),
                             (None, _TICKET_OF_PLAIN_CONN)),
    "resumes_attested_session": _g(
        "a, t", "A, resumed",
        "(Ex c #j s su at r e #k. NewSessionTicketSent(a, c, t)@j & #j < #i "
        "& ChannelEstablished(a, c, s, su, at, r, e)@k & not (at = 'none')) "
        "| (Ex c #j s su at r e #k. NewSessionTicketReceived(a, c, t, 'true')@j & #j < #i "
        "& ChannelEstablished(a, c, s, su, at, r, e)@k & not (at = 'none'))"),
    "directions_outstanding": _g("at, dn, x", "attest, old_dn, attester", f"not ({_ALL_DONE})"),
    "all_directions_done": _g("at, dn, x", "attest, old_dn, attester", _ALL_DONE),
    "is_server": _g("s", "side", "s = 'server'"),
    "is_client": _g("s", "side", "s = 'client'"),
    "ticket_discarded": _g("k", "kept", "k = 'false'"),
    # requester and attester endpoint (RFC 9261 §3, §4; draft §3.1)
    "connection_up": _g("a, c", "A, conn",
                        "(Ex s su at r e #j. ChannelEstablished(a, c, s, su, at, r, e)@j & #j < #i) "
                        "& not (Ex r #k. ConnectionClosed(a, c, r)@k & #k < #i)"),
    "ctx_unused_on_conn": _g("a, c, x", "A, conn, ctx", ("check_context_unique", ()), (None, UNIQUE)),
    "request_type_matches_side": _g("s, m", "side, msg_type", "(s = 'server' & m = '13') | (s = 'client' & m = '17')"),
    "not_spontaneous": _g("sp", "spontaneous", "sp = 'false'"),
    "spontaneous_from_server": _g("sp, s, w", "spontaneous, side, 'client'", "sp = 'true' & s = w"),
    "attestation_was_offered": _g("o", "attestation_offered", "o = 'true'"),
    "peer_is_attester": _g("p, at", "pside, attest", "at = p | at = 'both' | at = 'none'"),
    "certificate_has_aik": _g("ce, k, x, m", f"{RP_CERT}, aik, ctx, {CMW_PATTERN}", "ce = <x, k, m>"),
    "binding_matches": _g("eb, cb, l", "", ("check_binding", ()), ("check_exporter_label", "eb = cb"),
                          (None, f"eb = cb & l = {LABEL}")),
    "aik_hash_matches": _g("eh, ch", "h(aik), cmw_aik_hash", ("check_aik_pub_hash", ()), (None, "eh = ch")),
    "carries_evidence": _g("k", "kind", "k = 'evidence'"),
    "carries_result": _g("k", "kind", "k = 'result'"),
    "forwards_what_it_accepted": _g("a, c, x, m", "A, conn, ctx, cmw",
                                    "Ex k kd sp ce au #j. AuthenticatorAccepted(a, c, x, k, kd, m, sp, ce, au)@j "
                                    "& #j < #i"),
    "result_from_verifier": _g("a, v, m, r, st", "A, verifier, cmw, result, status",
                               "Ex e n #j. EvidenceAppraised(v, m, r, st, e, n, a)@j & #j < #i"),
    "result_is_carried": _g("a, c, x, r", "A, conn, ctx, cmw",
                            "Ex k sp ce au #j. AuthenticatorAccepted(a, c, x, k, 'result', r, sp, ce, au)@j "
                            "& #j < #i"),
    "status_affirming": _g("st", "status", "st = 'affirming'"),
    "completes_peer_direction": _g("a, c, x, m, w, p", "A, conn, ctx, cmw, pside, pside",
                                   "w = p & (Ex k kd sp ce au #j. "
                                   "AuthenticatorAccepted(a, c, x, k, kd, m, sp, ce, au)@j & #j < #i)"),
    "request_offered_attestation": _g("o", "attestation_offered", "o = 'true'"),
    "aik_is_mine": _g("a, ae, k", "A, ae, aik", "Ex sk #j. AikGenerated(ae, k, a, sk)@j & #j < #i"),
    "evidence_for_this_request": _g("a, ae, b, m", "A, ae, binding, ev",
                                    "Ex ah ak #j. EvidenceProduced(ae, m, a, b, ah, ak)@j & #j < #i"),
    "same_aik": _g("a, c, x, k", "A, conn, ctx, aik",
                   "Ex ae b sp ev #j. EvidenceRequested(a, c, x, ae, b, k, sp, ev)@j & #j < #i"),
    "same_spontaneity": _g("a, c, x, sp", "A, conn, ctx, spontaneous",
                           "Ex ae b k ev #j. EvidenceRequested(a, c, x, ae, b, k, sp, ev)@j & #j < #i"),
    "result_for_submitted_evidence": _g("a, v, m, r, st", "A, verifier, cmw, result, status",
                                        "Ex e n #j. EvidenceAppraised(v, m, r, st, e, n, a)@j & #j < #i"),
    "result_obtained_here": _g("a, c, x, r", "A, conn, ctx, result",
                               "Ex st #j. AttestationResultObtained(a, c, x, r, st)@j & #j < #i"),
    "completes_own_direction": _g("a, c, x, m, w, s", "A, conn, ctx, cmw, side, side",
                                  "w = s & (Ex k kd sp au #j. AuthenticatorSent(a, c, x, k, kd, m, sp, au)@j "
                                  "& #j < #i)"),
    # Attesting Environment (draft §5, §7)
    "aik_new": _g("k", "pk(aik_private)", UNIQUE),
    "cmw_new": _g("m", "", UNIQUE),
    "evidence_was_requested": _g("ae, te, b", "ae, te, binding",
                                 "(Ex c x k sp ev #j. EvidenceRequested(te, c, x, ae, b, k, sp, ev)@j & #j < #i) "
                                 "| (Ex #j. HostAsked(te, ae, b)@j & #j < #i)"),
    "aik_hash_of_own_aik": _g("ae, hh", "ae, h(aik)",
                              "Ex k o sk #j. AikGenerated(ae, k, o, sk)@j & hh = h(k) & #j < #i"),
    # Verifier (draft §3.4, §5.1; RFC 9334 §5)
    "nonce_new": _g("v, n", "v, nonce", UNIQUE),
    "evidence_sent_to_me": _g("v, m, to", f"v, {EVIDENCE_PATTERN}, to",
                              "(Ex c x eb #j. EvidenceForwarded(to, c, x, v, m, eb)@j & #j < #i) "
                              "| (Ex c x #j. EvidenceSubmitted(to, c, x, v, m)@j & #j < #i) "
                              "| (Ex #j. AdversarySubmitted(to, v, m)@j & #j < #i)"),
    "result_new": _g("r", "", UNIQUE),
    "nonce_fresh": _g("v, n", "v, nonce", ("check_verifier_nonce", ()),
                      (None, ("n = 'empty' | (Ex t #j. NonceIssued(v, n, t)@j & #j < #i)",
                              f"{UNIQUE}|n = 'empty'"))),
    # verify() is reducible: Tamarin refuses it in a formula (Wellformedness.hs, "Formula terms"), so the
    # rule applies it and the restriction compares the result with true (the Eq-restriction idiom).
    "evidence_genuine": _g("st, vr", "status, verify(esig, <ebind, eah, ecl>, akpk)",
                           ("check_evidence_signature", ()),
                           (None, "not (st = 'affirming') | vr = true")),
    "delegated_binding_matches": _g("st, eb, b", "status, eb, ebind", ("check_binding", ()),
                                    ("verifier_compares_binding", ()),
                                    (None, "not (st = 'affirming') | eb = 'nil' | eb = b")),
    # draft -04 §5.1: the delegated comparison (profile binding_check="delegated")
    "forwarded_aik_hash_matches": _g("eh, ch", "h(aik), cmw_aik_hash", ("check_aik_pub_hash", ()),
                                     (None, "eh = ch")),
    "binding_confirmed_to_me": _g("a, v, m, b", "A, verifier, cmw, eb",
                                  "Ex #j. BindingConfirmed(v, m, b, a)@j & #j < #i"),
    "confirms_conveyed_binding": _g("v, m, b, to", f"v, {EVIDENCE_PATTERN}, eb, to",
                                    "Ex c x #j. EvidenceForwarded(to, c, x, v, m, b)@j & #j < #i"),
    "confirmed_binding_is_evidence_binding": _g("b, e", "eb, ebind", ("verifier_compares_binding", ()),
                                                (None, "b = e")),
    "echo_is_evidence_binding": _g("e, b", "echo, ebind", "e = 'empty' | e = b"),
}


def restriction_name(guard: str, k: int) -> str:
    """The name of the ``k``-th restriction (0-based) of a guard's bodies."""
    return f"guard_{guard}" if k == 0 else f"guard_{guard}_{k + 1}"


def restriction_text(name: str, params: tuple[str, ...], body: str) -> str:
    """The formula of one guard restriction."""
    fact = f"{guard_fact(name)}({', '.join(params)})"
    ps = " ".join(params)
    if body.startswith(UNIQUE):
        unless = body[len(UNIQUE) + 1:] if body.startswith(UNIQUE + "|") else ""
        tail = f" | {unless}" if unless else ""
        return f"All {ps} #i #j. {fact}@i & {fact}@j ==> #i = #j{tail}"
    return f"All {ps} #i. {fact}@i ==> ({body})"


# --- rows --------------------------------------------------------------------------------------

@dataclass
class RowSem:
    """What one row does; strings use plain variable names (see ``fresh``/``public``)."""

    args: dict[str, str]
    premises: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    conclusions: list[str] = field(default_factory=list)
    writes: dict[str, str] = field(default_factory=dict)
    match: dict[str, str] = field(default_factory=dict)  # memory slot -> pattern in the state premise
    guard_args: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fresh: tuple[str, ...] = ()   # rendered ~x in this rule
    public: tuple[str, ...] = ()  # rendered $x in this rule


def _endpoint(row: Row, off: frozenset[str]) -> RowSem:
    ev = row.event
    if ev == "ChannelEstablished":
        return RowSem({"agent": "A", "conn": "conn", "side": "side", "suite": "suite", "attest": "attest",
                       "resumed_from": "resumed", "exporter_master_secret": "ems"},
                      conclusions=[CONN_FACT])
    if ev in ("ApplicationDataSent", "ApplicationDataReceived"):
        return RowSem({"agent": "A", "conn": "conn", "length": "length"}, public=("length",))
    if ev == "ConnectionClosed":
        return RowSem({"agent": "A", "conn": "conn", "reason": "reason"}, public=("reason",))
    if ev == "NewSessionTicketSent":
        return RowSem({"agent": "A", "conn": "conn", "ticket": "ticket"}, premises=["Fr(ticket)"],
                      conclusions=[f"Out({tls('ticket', 'side')})"], fresh=("ticket",))
    if ev == "NewSessionTicketReceived":
        keeps = "+Ticket" in row.effect
        return RowSem({"agent": "A", "conn": "conn", "ticket": "ticket", "kept": "'true'" if keeps else "kept"},
                      premises=[f"In({tls('ticket', 'pside')})"], public=() if keeps else ("kept",))
    raise KeyError(f"no semantics for {row.role} {ev}")  # AttestationCompleted: see endpoint_completion


def endpoint_completion(partner: RowSem) -> RowSem:
    """The Endpoint half of AttestationCompleted, joined with the RP or TE half (which owns the args)."""
    attester = partner.args["attester"]
    return RowSem(dict(partner.args), writes={"dn": attester},
                  guard_args={"directions_outstanding": ("attest", "old_dn", attester),
                              "all_directions_done": ("attest", "old_dn", attester)})


def _relying_party(row: Row, off: frozenset[str]) -> RowSem:
    ev = row.event
    base = {"agent": "A", "conn": "conn", "ctx": "ctx"}
    if ev == "RequestSent":
        # draft §5.1: the context is the Verifier's nonce (background check) or a fresh value
        return RowSem({**base, "msg_type": "msg_type", "extensions": "extensions",
                       "attestation_offered": "attestation_offered", "request": REQUEST},
                      premises=["CtxSource(A, ctx, vnonce)"],
                      conclusions=[f"Out({tls(REQUEST, 'side')})"],
                      writes={"ctx": "ctx", "vnonce": "vnonce", "attestation_offered": "attestation_offered",
                              "request": REQUEST},
                      public=("msg_type", "extensions", "attestation_offered"))
    if ev == "AuthenticatorAccepted":
        spontaneous = row.src == "Start"
        request = "'empty'" if spontaneous else "request"  # RFC 9261 §5.2.2: no request in a spontaneous one
        hc = handshake_context("pside")
        auth = authenticator("pside", request, RP_CERT, "cv")
        writes = {s: s for s in ("aik", "kind", "cmw_binding", "cmw_aik_hash", "crest", "csig")}
        writes["cmw"] = CMW_PATTERN
        if spontaneous:
            writes.update(ctx="ctx", request="'empty'", vnonce="'empty'")
        return RowSem({**base, "aik": "aik", "kind": "kind", "cmw": CMW_PATTERN, "spontaneous": "spontaneous",
                       "certificate": RP_CERT, "authenticator": auth},
                      premises=[f"In({tls(auth, 'pside')})"],
                      # RFC 9261 §5.2.4: CertificateVerify verifies under the certificate's key
                      actions=[f"Eq(verify(cv, h(<{hc}, {request}, {RP_CERT}>), aik), true)"],
                      writes=writes, public=("spontaneous",),
                      guard_args={"spontaneous_from_server": ("spontaneous", "side", "'client'")})
    if ev == "AuthenticatorRejected":
        return RowSem({**base, "reason": "reason"}, public=("reason",))
    if ev == "BindingChecked":
        exported = exporter("label", "ctx")
        expected = bind(off, "aik", exported)
        return RowSem({**base, "expected_binding": expected, "cmw_binding": "cmw_binding",
                       "expected_aik_hash": "h(aik)", "cmw_aik_hash": "cmw_aik_hash", "label": "label",
                       "exported_value": exported},
                      public=("label",), guard_args={"binding_matches": (expected, "cmw_binding", "label")})
    if ev == "EvidenceForwarded":
        expected = bind(off, "aik", exporter(LABEL, "ctx"))
        return RowSem({**base, "verifier": "verifier", "cmw": "cmw", "expected_binding": expected},
                      conclusions=[f"Submit(verifier, A, cmw, {expected}, vnonce)",
                                   f"!Conveyed(verifier, A, cmw, {expected})"],
                      writes={"verifier": "verifier"}, public=("verifier",))
    if ev == "AttestationResultReceived":
        if row.src in ("Forwarded", "Delegated"):
            conveyed = bind(off, "aik", exporter(LABEL, "ctx"))   # -04 §5.1: what the requester conveyed
            return RowSem({**base, "result": "result", "status": "status"},
                          premises=["!VerifierAnswer(A, verifier, cmw, result, status)"],
                          writes={"result": "result", "status": "status"},
                          guard_args={"binding_confirmed_to_me": ("A", "verifier", "cmw", conveyed)})
        # passport: the Attestation Result came inside the authenticator; check the Verifier's signature
        return RowSem({**base, "result": "cmw", "status": "st"},
                      premises=["!VerifierPk(vv, vpk)"], match={"crest": "<ev, st>"},
                      actions=["Eq(verify(csig, <'ar', cmw_binding, cmw_aik_hash, ev, st>, vpk), true)"],
                      writes={"result": "cmw", "status": "st"})
    if ev == "AttestationCompleted":
        return RowSem({**base, "attester": "pside", "cmw": "cmw"},
                      actions=["Commit(A, conn, ctx, cmw, cmw_binding, aik)"])
    raise KeyError(f"no semantics for {row.role} {ev}")


def _target_environment(row: Row, off: frozenset[str]) -> RowSem:
    ev = row.event
    base = {"agent": "A", "conn": "conn", "ctx": "ctx"}
    if ev == "RequestReceived":
        return RowSem({**base, "msg_type": "msg_type", "extensions": "extensions",
                       "attestation_offered": "attestation_offered", "request": REQUEST},
                      premises=[f"In({tls(REQUEST, 'pside')})"],
                      writes={"ctx": "ctx", "attestation_offered": "attestation_offered", "request": REQUEST})
    if ev == "EvidenceRequested":
        exported = exporter(LABEL, "ctx")
        binding = bind(off, "aik", exported)
        sem = RowSem({**base, "ae": "ae", "binding": binding, "aik": "aik", "spontaneous": "spontaneous",
                      "exported_value": exported},
                     premises=["!Aik(ae, aik, A)"],
                     conclusions=[f"EvidenceRequest(ae, A, {binding}, aik)"],
                     writes={"ae": "ae", "binding": binding, "aik": "aik", "spontaneous": "spontaneous"},
                     public=("spontaneous",),
                     guard_args={"spontaneous_from_server": ("spontaneous", "side", "'server'")})
        if row.src == "Start":  # RFC 9261 §3: a spontaneous authenticator, server-chosen context
            sem.premises.insert(0, "Fr(ctx)")
            sem.writes.update(ctx="ctx", request="'empty'")
            sem.fresh = ("ctx",)
        return sem
    if ev == "EvidenceSubmitted":
        return RowSem({**base, "verifier": "verifier", "cmw": "ev"},
                      premises=["!EvidenceFor(A, ae, binding, ev)"],
                      conclusions=["Submit(verifier, A, ev, 'nil', 'empty')"],
                      writes={"cmw": "ev", "verifier": "verifier"}, public=("verifier",))
    if ev == "AttestationResultObtained":
        return RowSem({**base, "result": "result", "status": "status"},
                      premises=["!VerifierAnswer(A, verifier, cmw, result, status)"],
                      writes={"result": "result", "status": "status"})
    if ev == "AuthenticatorSent":
        from_evidence = row.src == "Awaiting"
        cmw = "ev" if from_evidence else "result"
        cert = f"<ctx, aik, {cmw}>"
        cv = f"sign(h(<{handshake_context('side')}, request, {cert}>), sk)"
        auth = authenticator("side", "request", cert, cv)
        sem = RowSem({**base, "aik": "aik", "kind": "'evidence'" if from_evidence else "'result'", "cmw": cmw,
                      "spontaneous": "spontaneous", "authenticator": auth},
                     premises=["!AikSk(A, aik, sk)"],
                     actions=[f"Running(A, conn, ctx, {cmw})"],
                     conclusions=[f"Out({tls(auth, 'side')})"],
                     writes={"cmw": cmw},
                     guard_args={"carries_evidence": ("'evidence'",), "carries_result": ("'result'",),
                                 "result_obtained_here": ("A", "conn", "ctx", "result")})
        if from_evidence:
            sem.premises.insert(0, "!EvidenceFor(A, ae, binding, ev)")
        return sem
    if ev == "AttestationCompleted":
        # the attester learns the outcome once its peer accepted (draft §7.3)
        return RowSem({**base, "attester": "side", "cmw": "cmw"}, premises=["!Accepted(conn, ctx, cmw)"])
    raise KeyError(f"no semantics for {row.role} {ev}")


def _attesting_environment(row: Row, off: frozenset[str]) -> RowSem:
    if row.event == "AikGenerated":
        return RowSem({"agent": "ae", "aik": "pk(aik_private)", "owner": "owner", "aik_private": "aik_private"},
                      premises=["Fr(aik_private)"],
                      conclusions=["!AikSk(owner, pk(aik_private), aik_private)", "Out(pk(aik_private))"],
                      fresh=("aik_private",), public=("owner",))
    if row.event == "EvidenceProduced":
        body = "<binding, h(aik), 'claims'>"
        cmw = f"<'evidence', {body}, sign({body}, ak)>"  # draft §5: signed over binding, AIK_pub_hash, claims
        return RowSem({"agent": "ae", "cmw": cmw, "te": "te", "binding": "binding", "aik_hash": "h(aik)",
                       "attestation_key": "pk(ak)"},
                      premises=["EvidenceRequest(ae, te, binding, aik)", "!Aik(ae, aik, te)"],
                      conclusions=[f"!EvidenceFor(te, ae, binding, {cmw})", f"Out({cmw})"],
                      guard_args={"cmw_new": (cmw,)})
    raise KeyError(f"no semantics for {row.role} {row.event}")


def _verifier(row: Row, off: frozenset[str]) -> RowSem:
    if row.event == "NonceIssued":
        return RowSem({"agent": "v", "nonce": "nonce", "to": "to"}, premises=["Fr(nonce)"],
                      conclusions=["!IssuedTo(to, v, nonce)", "Out(nonce)"], fresh=("nonce",), public=("to",))
    if row.event == "EvidenceAppraised":
        body = f"<echo, eah, {EVIDENCE_PATTERN}, status>"
        result = f"<'result', {body}, sign(<'ar', echo, eah, {EVIDENCE_PATTERN}, status>, vk)>"
        return RowSem({"agent": "v", "cmw": EVIDENCE_PATTERN, "result": result, "status": "status",
                       "binding_echo": "echo", "nonce": "nonce", "to": "to"},
                      premises=[f"Submit(v, to, {EVIDENCE_PATTERN}, eb, nonce)", "!AttestationKeyPub(aek, akpk)",
                                "In(echo)"],
                      conclusions=[f"!VerifierAnswer(to, v, {EVIDENCE_PATTERN}, {result}, status)",
                                   f"Out({result})"],
                      public=("status",), guard_args={"result_new": (result,)})
    if row.event == "BindingConfirmed":   # -04 §5.1: compare the conveyed binding, confirm it
        return RowSem({"agent": "v", "cmw": EVIDENCE_PATTERN, "binding": "eb", "to": "to"},
                      premises=[f"!Conveyed(v, to, {EVIDENCE_PATTERN}, eb)"])
    raise KeyError(f"no semantics for {row.role} {row.event}")


_BY_ROLE = {ENDPOINT: _endpoint, RELYING_PARTY: _relying_party, TARGET_ENVIRONMENT: _target_environment,
            ATTESTING_ENVIRONMENT: _attesting_environment, VERIFIER: _verifier}


def row_semantics(row: Row, off: frozenset[str]) -> RowSem:
    return _BY_ROLE[row.role](row, off)


# --- effects -------------------------------------------------------------------------------------

_EFFECT = re.compile(r"\+(\w+)\(([^)]*)\)")


def effects(row: Row) -> list[tuple[str, tuple[str, ...]]]:
    """``+Name(a, b)`` of a row as (Name, (a, b))."""
    return [(m.group(1), tuple(a.strip() for a in m.group(2).split(",") if a.strip()))
            for m in _EFFECT.finditer(row.effect)]


# --- environment, setup and adversary rules -------------------------------------------------------

ENDPOINT_START = "St_Endpoint_Start"


@dataclass(frozen=True)
class EnvRule:
    name: str
    premises: tuple[str, ...]
    actions: tuple[str, ...]
    conclusions: tuple[str, ...]
    comment: str


def _e(name: str, comment: str, premises, actions, conclusions) -> EnvRule:
    return EnvRule(name, tuple(premises), tuple(actions), tuple(conclusions), comment)


def _start(agent: str, side: str, pside: str, attest: str, resumed: str, peer: str) -> str:
    return f"{ENDPOINT_START}({agent}, ~conn, {side}, {pside}, $suite, {attest}, {resumed}, ~ems, {peer}, 'none')"


ENV_RULES: tuple[EnvRule, ...] = (
    _e("TLS_Server_Key", "a TLS server's long-term key (certificate key of the handshake)",
       ["Fr(~ltk)"], ["TlsKey($S)"], ["!TlsLtk($S, ~ltk)", "Out(pk(~ltk))"]),
    _e("TLS_Handshake", "abstract TLS 1.3 full handshake between two honest endpoints: fresh connection and "
       "exporter_master_secret shared by both (RFC 8446 §7.1); the client authenticated the server's key",
       ["!TlsLtk(S, ltk)", "Fr(~conn)", "Fr(~ems)"],
       ["Handshake(~conn, $C, S)", "Neq($C, S)", "AttestMode($attest)"],
       [_start("$C", "'client'", "'server'", "$attest", "'none'", "S"),
        _start("S", "'server'", "'client'", "$attest", "'none'", "$C"), "Out(~conn)"]),
    _e("TLS_Handshake_AdversaryPeer", "an honest endpoint connects to (or accepts) the adversary as its peer: "
       "the adversary knows the connection's secrets",
       ["Fr(~conn)", "Fr(~ems)"],
       ["AdversaryPeer(~conn, $A, $E)", "Reveal(~conn)", "AttestMode($attest)", "Sides($side, $pside)"],
       [_start("$A", "$side", "$pside", "$attest", "'none'", "$E"), "Out(<~conn, ~ems>)"]),
    _e("TLS_Handshake_Impersonation", "with a server's long-term key revealed, the adversary completes a "
       "handshake with an honest client in that server's name",
       ["!TlsCompromised(S)", "Fr(~conn)", "Fr(~ems)"],
       ["Impersonated(~conn, $C, S)", "Reveal(~conn)", "AttestMode($attest)"],
       [_start("$C", "'client'", "'server'", "$attest", "'none'", "S"), "Out(<~conn, ~ems>)"]),
    _e("TLS_Resumption", "resumption with a ticket both endpoints hold: a new connection and secret "
       "(draft §7.2 forbids it for attestation connections)",
       ["!Ticket(t, c0)", "!Conn(C, c0, 'client', 'server', at0, ems0, S)",
        "!Conn(S, c0, 'server', 'client', at1, ems0, C)", "Fr(~conn)", "Fr(~ems)"],
       ["Resumption(~conn, t, c0)", "AttestMode($attest)"],
       [_start("C", "'client'", "'server'", "$attest", "t", "S"),
        _start("S", "'server'", "'client'", "$attest", "t", "C"), "Out(~conn)"]),
    _e("Context_Fresh", "a requester's own fresh certificate_request_context (RFC 9261 §4)",
       ["Fr(~c)"], ["ContextChosen($A, ~c)"], ["CtxSource($A, ~c, 'empty')"]),
    _e("Context_VerifierNonce", "background check: the Verifier's nonce as certificate_request_context "
       "(draft §5.1)", ["!IssuedTo(A, v, n)"], ["ContextFromNonce(A, n)"], ["CtxSource(A, n, n)"]),
    _e("AE_Setup", "an Attesting Environment with its attestation key (chains to the manufacturer)",
       ["Fr(~ak)"], ["AeSetup($AE)"],
       [f"{state_fact(ATTESTING_ENVIRONMENT, 'Start')}($AE, ~ak)", "!AttestationKey($AE, ~ak)",
        "!AttestationKeyPub($AE, pk(~ak))", "Out(pk(~ak))"]),
    _e("Verifier_Setup", "a Verifier with its Attestation Result signing key",
       ["Fr(~vk)"], ["VerifierSetup($V)"],
       [f"{state_fact(VERIFIER, 'Ready')}($V, ~vk)", "!VerifierPk($V, pk(~vk))", "Out(pk(~vk))"]),
    _e("Application_Exporter", "applications on the same connection export keying material under other "
       "labels (RFC 8446 §7.5); the adversary learns those values",
       ["!Conn(A, conn, side, pside, attest, ems, peer)", "In(x)"],
       ["OtherLabelExported(conn, $L, x)", f"Neq($L, {LABEL})"], ["Out(exporter(ems, $L, x))"]),
    _e("Adversary_SubmitToVerifier", "anyone may ask a Verifier to appraise Evidence",
       ["In(<v, m, eb, n>)"], ["AdversarySubmitted($E, v, m)"], ["Submit(v, $E, m, eb, n)"]),
    _e("Reveal_ConnectionSecret", "the adversary learns a connection's exporter_master_secret",
       ["!Conn(A, conn, side, pside, attest, ems, peer)"], ["SecretRevealed('adversary', conn)", "Reveal(conn)"],
       ["Out(ems)"]),
    _e("Reveal_Aik", "the adversary learns an AIK private key",
       ["!AikSk(o, k, sk)"], ["KeyRevealed('adversary', k)", "Reveal(k)"], ["Out(sk)"]),
    _e("Reveal_AttestationKey", "the adversary learns an AE's attestation key",
       ["!AttestationKey(ae, ak)"], ["KeyRevealed('adversary', pk(ak))", "AttestationKeyRevealed(ae)", "Reveal(ae)"],
       ["Out(ak)"]),
    _e("Reveal_TlsKey", "the adversary learns a TLS server's long-term key",
       ["!TlsLtk(S, ltk)"], ["TlsKeyRevealed(S)", "Reveal(S)"], ["!TlsCompromised(S)", "Out(ltk)"]),
    _e("Reveal_Host", "split deployment (draft §5.2): the host outside the TEE is compromised; the TEE is not",
       ["!Aik(ae, k, host)"], ["HostRevealed(host)", "Reveal(host)"], ["!HostCompromised(host)"]),
    _e("Host_EvidenceOracle", "a compromised host asks its TEE for Evidence over any binding",
       ["!HostCompromised(host)", "!Aik(ae, k, host)", "In(b)"], ["HostAsked(host, ae, b)"],
       ["EvidenceRequest(ae, host, b, k)"]),
    _e("Host_AikSignOracle", "a compromised host has the TEE sign with the AIK it holds",
       ["!HostCompromised(host)", "!AikSk(host, k, sk)", "In(m)"], ["HostSigned(host, m)"],
       ["Out(sign(m, sk))"]),
)

# Restrictions that are not guards.
ENV_RESTRICTIONS: tuple[tuple[str, str], ...] = (
    ("Equality", "All x y #i. Eq(x, y)@i ==> x = y"),
    ("Inequality", "All x #i. Neq(x, x)@i ==> F"),
    ("attest_modes", "All m #i. AttestMode(m)@i ==> m = 'none' | m = 'client' | m = 'server' | m = 'both'"),
    ("sides", "All s p #i. Sides(s, p)@i ==> (s = 'client' & p = 'server') | (s = 'server' & p = 'client')"),
    ("one_attesting_environment_setup", "All a #i #j. AeSetup(a)@i & AeSetup(a)@j ==> #i = #j"),
    ("one_verifier_setup", "All a #i #j. VerifierSetup(a)@i & VerifierSetup(a)@j ==> #i = #j"),
    ("one_tls_key", "All a #i #j. TlsKey(a)@i & TlsKey(a)@j ==> #i = #j"),
)

# Helper action facts (not events of the vocabulary) and why they exist.
HELPER_ACTIONS = {
    "Eq": "equality restriction (signature verification)", "Neq": "inequality restriction",
    "Commit": "Commit-style: an honest requester accepted its peer's attestation",
    "Running": "Running-style: an attester sent an authenticator carrying this CMW",
    "Reveal": "any adversary capability that voids all guarantees (sanity lemmas exclude it)",
}
