"""Synthetic trace corpora: golden honest traces, mutated deterministically (``expat traces synth``).

Each mutation is a semantic change a faulty or hostile implementation could make, with the one
security property it breaks, decided here from the draft (never read back from the checker); a
``benign`` rewrite (consistent renaming) breaks nothing. A synthetic trace carries its label in the
header (``synthetic: {mutation, expect, base}``), so a test or a CI job can assert that
``expat check`` flags exactly the expected property on each. Same ``--seed``, same bytes.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from expat.layout import locate
from expat.model.trace import Event, Trace, load_trace

GOLDEN_DIR = locate("traces/golden")
OTHER_SUITE = {"TLS_AES_128_GCM_SHA256": "TLS_CHACHA20_POLY1305_SHA256",
               "TLS_CHACHA20_POLY1305_SHA256": "TLS_AES_128_GCM_SHA256",
               "TLS_AES_256_GCM_SHA384": "TLS_AES_128_GCM_SHA256"}

Mutate = Callable[[Trace, random.Random], Optional[Trace]]


@dataclass(frozen=True)
class Mutation:
    name: str
    expect: str  # property id the mutation breaks; "" = benign (the trace stays conformant)
    fn: Mutate
    note: str
    secrets: bool = False  # applies only to traces recorded with secrets (the golden corpus has none)


MUTATIONS: dict[str, Mutation] = {}


def mutation(expect: str, note: str, secrets: bool = False) -> Callable[[Mutate], Mutate]:
    def add(fn: Mutate) -> Mutate:
        name = fn.__name__.replace("_", "-")
        MUTATIONS[name] = Mutation(name, expect, fn, note, secrets)
        return fn
    return add


def golden_mutations() -> list[str]:
    """The mutations a secret-free golden trace can take (what ``expat traces synth`` cycles through)."""
    return sorted(n for n, m in MUTATIONS.items() if not m.secrets)


# --- helpers -----------------------------------------------------------------------------------

def _copy(trace: Trace, events: list[Event]) -> Trace:
    return Trace(copy.deepcopy(trace.header), [Event(i, e.agent, e.name, dict(e.args)) for i, e in enumerate(events)],
                 trace.source)


def _where(trace: Trace, name: str, **match) -> list[int]:
    return [i for i, e in enumerate(trace.events) if e.name == name
            and all(e.args.get(k) == v for k, v in match.items())]


def _set(trace: Trace, i: int, **args) -> list[Event]:
    events = list(trace.events)
    events[i] = Event(i, events[i].agent, events[i].name, dict(events[i].args, **args))
    return events


def _pick(rng: random.Random, xs: list):
    return xs[rng.randrange(len(xs))] if xs else None


def _rename(trace: Trace, old: str, new: str, keys: tuple[str, ...], agent: Optional[str] = None) -> list[Event]:
    out = []
    for e in trace.events:
        args = dict(e.args)
        if agent is None or e.agent == agent:
            for k in keys:
                if args.get(k) == old:
                    args[k] = new
        out.append(Event(e.seq, e.agent, e.name, args))
    return out


def _public_key(spki_hex: str, profile: dict) -> bytes:
    from expat.model.relations import public_key_bytes

    return public_key_bytes(bytes.fromhex(spki_hex), profile) or b""


# --- the mutations -------------------------------------------------------------------------------

@mutation("channel_binding", "passport: the Attestation Result echoes no binding (passport_binding_echo on)")
def passport_echo_dropped(t, rng):
    if not t.profile.get("passport_binding_echo", True):
        return None
    spots = [i for i in _where(t, "EvidenceAppraised") if t.events[i].args["binding_echo"]
             and _where(t, "AttestationResultReceived", result=t.events[i].args["result"])
             and not _where(t, "EvidenceForwarded", cmw=t.events[i].args["cmw"])]
    i = _pick(rng, spots)
    return None if i is None else _copy(t, _set(t, i, binding_echo=""))


@mutation("channel_binding", "one endpoint records another cipher suite (same hash) than its peer")
def suite_disagrees(t, rng):
    i = _pick(rng, _where(t, "ChannelEstablished"))
    if i is None:
        return None
    return _copy(t, _set(t, i, suite=OTHER_SUITE[t.events[i].args["suite"]]))


@mutation("aik_in_tee", "the Evidence claims AIK_pub_hash under a hash other than the suite's (and the "
                        "requester reads that claim)")
def aik_hash_other_hash(t, rng):
    i = _pick(rng, [i for i in _where(t, "EvidenceProduced") if t.events[i].args["aik_hash"]])
    if i is None:
        return None
    ev = t.events[i]
    ask = [j for j in _where(t, "EvidenceRequested", ae=ev.agent, binding=ev.args["binding"]) if j < i]
    if not ask:
        return None
    aik = t.events[ask[-1]].args["aik"]
    suite = next(e.args["suite"] for e in t.events if e.name == "ChannelEstablished")
    other = "sha384" if suite.endswith("SHA256") else "sha256"
    new = hashlib.new(other, _public_key(aik, t.profile)).hexdigest()
    old = ev.args["aik_hash"]
    events = _set(t, i, aik_hash=new)
    for j in _where(t, "BindingChecked", cmw_aik_hash=old):  # the requester reads the Evidence's claim
        if _where(t, "AuthenticatorAccepted", kind="evidence", ctx=t.events[j].args["ctx"]):
            events[j] = Event(j, events[j].agent, events[j].name, dict(events[j].args, cmw_aik_hash=new))
    return _copy(t, events)


@mutation("attest_before_data", "one endpoint records no attestation requirement on a connection that has one")
def attestation_requirement_dropped(t, rng):
    i = _pick(rng, [i for i in _where(t, "ChannelEstablished") if t.events[i].args["attest"]])
    return None if i is None else _copy(t, _set(t, i, attest=[]))


@mutation("no_diversion", "one endpoint's events of a connection appear under another connection id")
def connection_split(t, rng):
    i = _pick(rng, _where(t, "ChannelEstablished", side="server"))
    if i is None:
        return None
    ev = t.events[i]
    return _copy(t, _rename(t, ev.args["conn"], ev.args["conn"] + "-x", ("conn",), agent=ev.agent))


@mutation("evidence_freshness", "a certificate_request_context is used twice on one connection")
def context_reused(t, rng):
    ctxs: dict[str, list[str]] = {}
    for e in t.events:
        if e.name == "RequestSent" and e.args["ctx"] not in ctxs.setdefault(e.args["conn"], []):
            ctxs[e.args["conn"]].append(e.args["ctx"])
    pairs = [(c[0], c[1]) for c in ctxs.values() if len(c) > 1]
    pair = _pick(rng, pairs)
    if pair is None:
        return None
    return _copy(t, _rename(t, pair[1], pair[0], ("ctx",)))


@mutation("evidence_integrity", "background check: the requester accepts with no Verifier appraisal behind it")
def appraisal_missing(t, rng):
    spots = [i for i in _where(t, "EvidenceAppraised") if _where(t, "EvidenceForwarded", cmw=t.events[i].args["cmw"])]
    i = _pick(rng, spots)
    return None if i is None else _copy(t, t.events[:i] + t.events[i + 1:])


@mutation("evidence_integrity", "the requester completes on a result whose status is not affirming")
def status_not_affirming(t, rng):
    i = _pick(rng, _where(t, "EvidenceAppraised", status="affirming"))
    if i is None:
        return None
    res = t.events[i].args["result"]
    events = _set(t, i, status="warning")
    for j, e in enumerate(events):
        if e.name in ("AttestationResultReceived", "AttestationResultObtained") and e.args["result"] == res:
            events[j] = Event(j, e.agent, e.name, dict(e.args, status="warning"))
    return _copy(t, events)


@mutation("attest_before_data", "application data sent before the peer's attestation completed")
def data_before_attestation(t, rng):
    data = _where(t, "ApplicationDataSent")
    done = _where(t, "AttestationCompleted")
    if not data or not done:
        return None
    i = _pick(rng, data)
    ev = t.events[i]
    first = min(j for j in done if t.events[j].args["conn"] == ev.args["conn"])
    events = [e for j, e in enumerate(t.events) if j != i]
    events.insert(first, ev)
    return _copy(t, events)


@mutation("no_resumption", "a ticket issued on a connection that requires attestation")
def ticket_on_attested_connection(t, rng):
    i = _pick(rng, _where(t, "ChannelEstablished", side="server"))
    if i is None or not t.events[i].args["attest"]:
        return None
    ev = t.events[i]
    events = list(t.events)
    events.insert(len(events), Event(0, ev.agent, "NewSessionTicketSent", {"conn": ev.args["conn"], "ticket": "tk1"}))
    return _copy(t, events)


@mutation("verifier_nonce_fresh", "the Verifier appraises against a nonce it never issued")
def nonce_not_issued(t, rng):
    i = _pick(rng, _where(t, "NonceIssued"))
    return None if i is None else _copy(t, t.events[:i] + t.events[i + 1:])


@mutation("evidence_integrity", "the Evidence carries no AIK_pub_hash, yet the requester compares one")
def aik_hash_claim_dropped(t, rng):
    i = _pick(rng, [i for i in _where(t, "EvidenceProduced") if t.events[i].args["aik_hash"]])
    return None if i is None else _copy(t, _set(t, i, aik_hash=""))


@mutation("verifier_nonce_fresh", "the Verifier appraises without the nonce it issued for the request")
def nonce_not_checked(t, rng):
    i = _pick(rng, [i for i in _where(t, "EvidenceAppraised") if t.events[i].args["nonce"]])
    return None if i is None else _copy(t, _set(t, i, nonce=""))


@mutation("aik_ownership", "the authenticator's AIK was generated for another endpoint")
def aik_owner_swapped(t, rng):
    owners = sorted({e.agent for e in t.events if e.name == "ChannelEstablished"})
    i = _pick(rng, _where(t, "AikGenerated"))
    if i is None or len(owners) != 2:
        return None
    owner = t.events[i].args["owner"]
    return _copy(t, _set(t, i, owner=next(o for o in owners if o != owner)))


@mutation("request_binding", "the requester accepts an authenticator for a request it never sent")
def request_dropped(t, rng):
    i = _pick(rng, _where(t, "RequestSent"))
    return None if i is None else _copy(t, t.events[:i] + t.events[i + 1:])


@mutation("evidence_integrity", "the requester forwards other Evidence than the one it accepted")
def forwarded_other_evidence(t, rng):
    i = _pick(rng, _where(t, "EvidenceForwarded"))
    if i is None:
        return None
    return _copy(t, _set(t, i, cmw="00" * 16))


@mutation("no_resumption", "both endpoints resume a ticket nobody issued")
def resumes_unknown_ticket(t, rng):
    i = _pick(rng, _where(t, "ChannelEstablished"))
    if i is None:
        return None
    conn = t.events[i].args["conn"]
    return _copy(t, [Event(e.seq, e.agent, e.name, dict(e.args, resumed_from="tk-unknown"))
                     if e.name == "ChannelEstablished" and e.args["conn"] == conn else e for e in t.events])


@mutation("verifier_nonce_fresh", "the Verifier issues its nonce only after the appraisal that used it")
def nonce_issued_late(t, rng):
    i = _pick(rng, _where(t, "NonceIssued"))
    if i is None:
        return None
    events = list(t.events)
    events.append(events.pop(i))
    return _copy(t, events)


@mutation("evidence_integrity", "the attester submits its Evidence to another Verifier than the one that answers")
def submitted_to_other_verifier(t, rng):
    i = _pick(rng, _where(t, "EvidenceSubmitted"))
    return None if i is None else _copy(t, _set(t, i, verifier="other-verifier"))


@mutation("request_binding", "the Attesting Environment produces the Evidence before the request arrives")
def evidence_before_request(t, rng):
    i = _pick(rng, _where(t, "EvidenceProduced"))
    if i is None:
        return None
    te = t.events[i].args["te"]
    earlier = [j for j in _where(t, "RequestReceived") if j < i and t.events[j].agent == te]
    if not earlier:
        return None
    events = list(t.events)
    events.insert(earlier[-1], events.pop(i))
    return _copy(t, events)


_AGENT_ARGS = ("owner", "te", "to", "ae", "verifier")


@mutation("", "benign: one agent renamed consistently (events, arguments naming agents, adversaries)")
def rename_agent(t, rng):
    agents = sorted({e.agent for e in t.events})
    old = _pick(rng, agents)
    new = f"{old}-renamed"
    events = [Event(e.seq, new if e.agent == old else e.agent, e.name,
                    {k: (new if k in _AGENT_ARGS and v == old else v) for k, v in e.args.items()})
              for e in t.events]
    out = _copy(t, events)
    if "adversaries" in out.header:
        out.header["adversaries"] = [new if a == old else a for a in out.header["adversaries"]]
    return out


@mutation("", "benign: an application-data record counted twice (data may repeat)")
def duplicate_data(t, rng):
    i = _pick(rng, _where(t, "ApplicationDataSent"))
    if i is None:
        return None
    events = list(t.events)
    events.insert(i + 1, events[i])
    return _copy(t, events)


@mutation("", "benign: every connection id renamed consistently")
def rename_connections(t, rng):
    events = list(t.events)
    for n, conn in enumerate(sorted({e.args["conn"] for e in t.events if "conn" in e.args})):
        events = _rename(Trace(t.header, events, t.source), conn, f"renamed-{n}", ("conn",))
    return _copy(t, events)


@mutation("", "benign: every Evidence and result identifier renamed consistently")
def rename_identifiers(t, rng):
    events = list(t.events)
    ids = sorted({e.args[k] for e in t.events for k in ("cmw", "result") if k in e.args})
    for n, old in enumerate(ids):
        events = _rename(Trace(t.header, events, t.source), old, f"{n:032x}", ("cmw", "result"))
    return _copy(t, events)


# --- second review (issue 16): kinds the first round did not try -----------------------------------
# Each expectation is decided from the draft and the property statements before the mutation was run
# (docs/model.md, "Hidden mutations, second round", has the before/after table).

def _ev(e: Event, **args) -> Event:
    return Event(e.seq, e.agent, e.name, dict(e.args, **args))


def _as(e: Event, agent: str) -> Event:
    return Event(e.seq, agent, e.name, dict(e.args))


def _by_another_verifier(t: Trace, rng: random.Random, name: str) -> Optional[Trace]:
    """One ``name`` event of a Verifier recorded as made by a second Verifier (its agent with "-2")."""
    i = _pick(rng, _where(t, name))
    if i is None:
        return None
    events = list(t.events)
    events[i] = _as(events[i], events[i].agent + "-2")
    return _copy(t, events)


def _has_secrets(t: Trace) -> bool:
    return any("exporter_master_secret" in e.args for e in t.events)


def _endpoints(t: Trace) -> list[str]:
    return sorted({e.agent for e in t.events if e.name == "ChannelEstablished"})


@mutation("verifier_nonce_fresh", "the Verifier's nonce is recorded as issued to another agent than the requester "
                                  "whose Evidence it appraises against it (draft §5.1)")
def nonce_issued_to_other(t, rng):
    i = _pick(rng, _where(t, "NonceIssued"))
    if i is None:
        return None
    others = [a for a in _endpoints(t) if a != t.events[i].args["to"]]
    return _copy(t, _set(t, i, to=others[0] if others else "someone-else"))


@mutation("verifier_nonce_fresh", "the Verifier issues its nonce only after the request that used it as its "
                                  "context, and the Evidence, were made")
def nonce_issued_after_request(t, rng):
    i = _pick(rng, _where(t, "NonceIssued"))
    if i is None:
        return None
    appraised = _where(t, "EvidenceAppraised", nonce=t.events[i].args["nonce"])
    produced = _where(t, "EvidenceProduced", cmw=t.events[appraised[0]].args["cmw"]) if appraised else []
    if not produced:
        return None
    events = list(t.events)
    events.insert(produced[0], events.pop(i))  # right after the EvidenceProduced
    return _copy(t, events)


@mutation("verifier_nonce_fresh", "two appraisals swap the Verifier nonces they were checked against")
def appraisal_nonces_swapped(t, rng):
    spots = [i for i in _where(t, "EvidenceAppraised") if t.events[i].args["nonce"]]
    if len(spots) < 2:
        return None
    i, j = spots[:2]
    events = list(t.events)
    events[i], events[j] = _ev(t.events[i], nonce=t.events[j].args["nonce"]), _ev(t.events[j], nonce=t.events[i].args["nonce"])
    return _copy(t, events)


@mutation("verifier_nonce_fresh", "the nonce is recorded as issued by another Verifier than the one appraising against it")
def nonce_from_other_verifier(t, rng):
    return _by_another_verifier(t, rng, "NonceIssued")


@mutation("evidence_integrity", "background check: the requester reads the Evidence as an Attestation Result "
                                "(kind confusion) and completes on it with no appraisal behind it")
def evidence_read_as_result(t, rng):
    i = _pick(rng, _where(t, "EvidenceForwarded"))
    if i is None:
        return None
    f = t.events[i]
    rp, conn, ctx, cmw = f.agent, f.args["conn"], f.args["ctx"], f.args["cmw"]
    out = []
    for e in t.events:
        mine = e.agent == rp and e.args.get("conn") == conn and e.args.get("ctx") == ctx
        if mine and e.name == "EvidenceForwarded" or e.name == "EvidenceAppraised" and e.args["cmw"] == cmw:
            continue
        if mine and e.name == "AuthenticatorAccepted":
            e = _ev(e, kind="result")
        elif mine and e.name == "AttestationResultReceived":
            e = _ev(e, result=cmw)
        out.append(e)
    return _copy(t, out)


@mutation("evidence_integrity", "the Attestation Result is issued by a Verifier other than the one the Evidence went to")
def appraised_by_other_verifier(t, rng):
    return _by_another_verifier(t, rng, "EvidenceAppraised")


@mutation("evidence_integrity", "background check: the Verifier's appraisal is recorded after the acceptance that "
                                "rests on it")
def appraisal_after_acceptance(t, rng):
    i = _pick(rng, [i for i in _where(t, "EvidenceAppraised") if _where(t, "EvidenceForwarded", cmw=t.events[i].args["cmw"])])
    if i is None:
        return None
    e = t.events[i]
    done = [j for j in _where(t, "AttestationCompleted", cmw=e.args["cmw"]) if t.events[j].agent == e.args["to"]]
    events = list(t.events)
    events.insert(done[0] + 1, e)
    events.pop(i)
    return _copy(t, events)


@mutation("aik_in_tee", "the Evidence is produced by another Attesting Environment than the one asked, which does "
                        "not hold the AIK")
def evidence_by_other_ae(t, rng):
    i = _pick(rng, _where(t, "EvidenceProduced"))
    if i is None:
        return None
    others = sorted({x.agent for x in t.events if x.name == "AikGenerated"} - {t.events[i].agent})
    events = list(t.events)
    events[i] = _as(events[i], others[0] if others else "rogue-ae")
    return _copy(t, events)


@mutation("no_diversion", "the AE produces the Evidence for the other endpoint of the connection (te)")
def evidence_for_other_te(t, rng):
    i = _pick(rng, _where(t, "EvidenceProduced"))
    if i is None:
        return None
    others = [a for a in _endpoints(t) if a != t.events[i].args["te"]]
    return _copy(t, _set(t, i, te=others[0])) if others else None


@mutation("aik_ownership", "the AIK is generated only after the authenticator that uses it was accepted")
def aik_generated_late(t, rng):
    i = _pick(rng, _where(t, "AikGenerated"))
    if i is None:
        return None
    accepted = _where(t, "AuthenticatorAccepted", aik=t.events[i].args["aik"])
    if not accepted:
        return None
    events = list(t.events)
    events.insert(accepted[-1], events.pop(i))
    return _copy(t, events)


@mutation("aik_ownership", "the requester's acceptance is recorded before the attester sent the authenticator")
def accepted_before_sent(t, rng):
    i = _pick(rng, _where(t, "AuthenticatorSent"))
    if i is None:
        return None
    s = t.events[i]
    later = [j for j in _where(t, "AuthenticatorAccepted", conn=s.args["conn"], ctx=s.args["ctx"]) if j > i]
    if not later:
        return None
    events = list(t.events)
    events.insert(i, events.pop(later[0]))
    return _copy(t, events)


@mutation("channel_binding", "the requester accepts the authenticator after it closed the connection (RFC 9261 "
                             "§5.2: validated against a live connection)")
def accepted_after_close(t, rng):
    i = _pick(rng, _where(t, "AuthenticatorAccepted"))
    if i is None:
        return None
    e = t.events[i]
    events = list(t.events)
    events.insert(i, Event(0, e.agent, "ConnectionClosed", {"conn": e.args["conn"], "reason": "done"}))
    return _copy(t, events)


@mutation("request_binding", "the requester accepts and completes under a context it never requested")
def accepted_unrequested_context(t, rng):
    i = _pick(rng, _where(t, "AuthenticatorAccepted"))
    if i is None:
        return None
    a = t.events[i]
    new = "ab" * (len(a.args["ctx"]) // 2 or 16)
    return _copy(t, [_ev(e, ctx=new) if j >= i and e.agent == a.agent and e.args.get("conn") == a.args["conn"]
                     and e.args.get("ctx") == a.args["ctx"] else e for j, e in enumerate(t.events)])


@mutation("request_binding", "the requester marks the authenticator it requested as spontaneous")
def accepted_as_spontaneous(t, rng):
    i = _pick(rng, _where(t, "AuthenticatorAccepted", spontaneous=False))
    return None if i is None else _copy(t, _set(t, i, spontaneous=True))


@mutation("channel_binding", "the requester's binding comparison is recorded under its peer's name")
def binding_check_by_peer(t, rng):
    i = _pick(rng, _where(t, "BindingChecked"))
    if i is None:
        return None
    e = t.events[i]
    peers = [x.agent for x in t.events if x.name == "ChannelEstablished" and x.args["conn"] == e.args["conn"]
             and x.agent != e.agent]
    events = list(t.events)
    events[i] = _as(e, peers[0])
    return _copy(t, events)


@mutation("no_reflection", "mutual: an endpoint completes its peer's direction naming its own Evidence and AIK")
def own_attestation_accepted(t, rng):
    accepted = _where(t, "AuthenticatorAccepted")
    if len(accepted) < 2:
        return None
    i = accepted[0]
    a = t.events[i]
    own = [j for j in _where(t, "AuthenticatorSent") if t.events[j].agent == a.agent]
    if not own:
        return None
    s = t.events[own[0]]
    return _copy(t, [_ev(e, **{k: s.args[k] for k in ("cmw", "aik") if k in e.args})
                     if j >= i and e.agent == a.agent and e.args.get("ctx") == a.args["ctx"]
                     and e.name != "AttestationResultReceived" else e for j, e in enumerate(t.events)])


def _rejected(t: Trace, i: int, keep_requester_data: bool) -> Trace:
    """The requester of the AuthenticatorAccepted at ``i`` rejects it at its binding comparison: its later
    steps for that request, and the appraisal it would have asked for, are gone."""
    a = t.events[i]
    rp, conn, ctx = a.agent, a.args["conn"], a.args["ctx"]
    out = []
    for j, e in enumerate(t.events):
        if j > i and e.agent == rp and e.args.get("conn") == conn and e.args.get("ctx") == ctx:
            if e.name == "BindingChecked":
                out.append(Event(0, rp, "AuthenticatorRejected", {"conn": conn, "ctx": ctx, "reason": "binding"}))
            continue
        if not keep_requester_data and (e.agent == rp and e.name.startswith("ApplicationData")
                                        or e.name == "ApplicationDataReceived"):
            continue
        if e.name == "EvidenceAppraised" and e.args["cmw"] == a.args["cmw"] and e.args["to"] == rp:
            continue
        if keep_requester_data and e.name == "AttestationCompleted" and e.args.get("conn") == conn \
                and e.args.get("ctx") == ctx:
            continue
        out.append(e)
    return _copy(t, out)


@mutation("attest_before_data", "the requester rejects the authenticator, yet both sides exchange application data")
def data_after_rejection(t, rng):
    i = _pick(rng, _where(t, "AuthenticatorAccepted"))
    return None if i is None or not _where(t, "ApplicationDataSent") else _rejected(t, i, True)


@mutation("attest_before_data", "the requester rejects; the attester still records its attestation as complete "
                                "and sends data (draft §7.3: complete means accepted by the requester)")
def attester_data_after_rejection(t, rng):
    i = _pick(rng, _where(t, "AuthenticatorAccepted"))
    return None if i is None or not _where(t, "ApplicationDataSent") else _rejected(t, i, False)


@mutation("attest_before_data", "an endpoint sends application data before its own handshake completed")
def data_before_handshake(t, rng):
    i = _pick(rng, _where(t, "ApplicationDataSent"))
    if i is None:
        return None
    e = t.events[i]
    ch = [j for j in _where(t, "ChannelEstablished", conn=e.args["conn"]) if t.events[j].agent == e.agent][0]
    events = list(t.events)
    events.pop(i)
    events.insert(ch, e)
    return _copy(t, events)


@mutation("attest_before_data", "both endpoints record that the requester must attest too, which it never does")
def attest_requirement_widened(t, rng):
    spots = {i for i in _where(t, "ChannelEstablished") if len(t.events[i].args["attest"]) == 1}
    if not spots:
        return None
    return _copy(t, [_ev(e, attest=["client", "server"]) if j in spots else e for j, e in enumerate(t.events)])


@mutation("attest_before_data", "application data moves to a second, never attested connection between the same "
                                "endpoints")
def data_on_sibling_connection(t, rng):
    ce = _where(t, "ChannelEstablished")
    data = _where(t, "ApplicationDataSent") + _where(t, "ApplicationDataReceived")
    if len(ce) != 2 or not data:
        return None
    conn = t.events[ce[0]].args["conn"] + "-b"
    extra = [_ev(t.events[i], conn=conn) for i in ce]
    moved = [_ev(e, conn=conn) if e.name.startswith("ApplicationData") else e for e in t.events]
    return _copy(t, moved[:min(data)] + extra + moved[min(data):])


def _after_open_connection(t: Trace) -> Optional[Trace]:
    """``t`` (one connection, full handshake) resuming a ticket kept from an earlier connection conn0 of the
    same endpoints that needed no attestation."""
    ce = _where(t, "ChannelEstablished")
    if len(ce) != 2 or any(t.events[i].args["resumed_from"] != "-" for i in ce):
        return None
    c, s = sorted((t.events[i] for i in ce), key=lambda e: e.args["side"])
    suite = c.args["suite"]
    pre = [Event(0, c.agent, "ChannelEstablished", dict(conn="conn0", side="client", attest=[], resumed_from="-", suite=suite)),
           Event(0, s.agent, "ChannelEstablished", dict(conn="conn0", side="server", attest=[], resumed_from="-", suite=suite)),
           Event(0, s.agent, "NewSessionTicketSent", {"conn": "conn0", "ticket": "tk0"}),
           Event(0, c.agent, "NewSessionTicketReceived", {"conn": "conn0", "ticket": "tk0", "kept": True})]
    return _copy(t, pre + [_ev(e, resumed_from="tk0") if e.name == "ChannelEstablished" else e for e in t.events])


@mutation("no_resumption", "the server resumes a ticket another server issued")
def resumes_other_servers_ticket(t, rng):
    got = _after_open_connection(t)
    if got is None:
        return None
    events = list(got.events)
    for j in (1, 2):  # conn0's server and its ticket
        events[j] = _as(events[j], events[j].agent + "-b")
    return _copy(got, events)


@mutation("channel_binding", "with secrets: the header's exporter label and every recorded label changed "
                             "consistently, the recorded bindings kept", secrets=True)
def exporter_label_swapped(t, rng):
    if not _has_secrets(t):
        return None
    out = _copy(t, [_ev(e, label="EXPORTER-Other") if e.name == "BindingChecked" else e for e in t.events])
    out.header.setdefault("profile", {})["exporter_label"] = "EXPORTER-Other"
    return out


@mutation("channel_binding", "with secrets: both endpoints' exporter_master_secret replaced by another one", secrets=True)
def exporter_secret_replaced(t, rng):
    if not _has_secrets(t):
        return None
    return _copy(t, [_ev(e, exporter_master_secret="5a" * (len(e.args["exporter_master_secret"]) // 2))
                     if e.name == "ChannelEstablished" and "exporter_master_secret" in e.args else e for e in t.events])


@mutation("channel_binding", "with secrets: the header's exporter length changed, the bindings made under the old "
                             "one", secrets=True)
def exporter_length_changed(t, rng):
    if not _has_secrets(t):
        return None
    out = _copy(t, list(t.events))
    out.header["profile"]["exporter_length"] = "64"
    return out


@mutation("channel_binding", "with secrets and a Verifier nonce: the header's binding formula changed to -01's, the "
                             "bindings made under -02's (without a nonce the two formulas coincide)", secrets=True)
def binding_formula_changed(t, rng):
    if not _has_secrets(t) or not _where(t, "NonceIssued"):
        return None
    out = _copy(t, list(t.events))
    out.header["profile"]["binding_formula"] = "01"
    return out


@mutation("aik_in_tee", "the header's public key encoding changed; the AIK_pub_hash values are of the old one")
def public_key_encoding_changed(t, rng):
    if t.profile.get("public_key_encoding", "spki") != "spki" or not _where(t, "BindingChecked"):
        return None
    out = _copy(t, list(t.events))
    out.header["profile"]["public_key_encoding"] = "raw"
    return out


# benign rewrites of the second review: reorderings that keep causality, consistent renamings

@mutation("", "benign: the AE and Verifier set-up events (AikGenerated, NonceIssued) moved to the front, in order")
def setup_hoisted(t, rng):
    setup = ("AikGenerated", "NonceIssued")
    return _copy(t, [e for e in t.events if e.name in setup] + [e for e in t.events if e.name not in setup])


@mutation("", "benign: the server's handshake completion recorded before the client's")
def handshake_order_swapped(t, rng):
    ce = _where(t, "ChannelEstablished")
    if len(ce) != 2:
        return None
    events = list(t.events)
    events[ce[0]], events[ce[1]] = events[ce[1]], events[ce[0]]
    return _copy(t, events)


@mutation("", "benign: mutual, the second attestation direction (nonce, request, answer, appraisal) happens first")
def directions_reordered(t, rng):
    sent = _where(t, "RequestSent")
    if len(sent) != 2:
        return None
    first, second = (t.events[i].args["ctx"] for i in sent)
    cmws = {e.args["cmw"] for e in t.events if e.args.get("ctx") == second and "cmw" in e.args}
    block = [e.args.get("ctx") == second or e.args.get("nonce") == second
             or (e.args.get("cmw") in cmws and "ctx" not in e.args) for e in t.events]
    start = min(j for j, e in enumerate(t.events) if block[j] or e.args.get("ctx") == first
                or e.args.get("nonce") == first)
    rest = [e for j, e in enumerate(t.events) if not block[j]]
    return _copy(t, rest[:start] + [e for j, e in enumerate(t.events) if block[j]] + rest[start:])


@mutation("", "benign: an ApplicationDataReceived recorded at the end (receipt delayed)")
def data_receipt_delayed(t, rng):
    i = _pick(rng, _where(t, "ApplicationDataReceived"))
    if i is None:
        return None
    events = list(t.events)
    events.append(events.pop(i))
    return _copy(t, events)


@mutation("", "benign: both endpoints close every connection at the end")
def closed_at_end(t, rng):
    return _copy(t, list(t.events) + [Event(0, e.agent, "ConnectionClosed", {"conn": e.args["conn"], "reason": "done"})
                                      for e in t.events if e.name == "ChannelEstablished"])


@mutation("", "benign: every certificate_request_context (and the Verifier nonce it is) renamed consistently, the "
              "request bytes (an encoding of it) left out")
def rename_contexts(t, rng):
    if _has_secrets(t):  # the exporter values and bindings are of the contexts
        return None
    ctxs = sorted({e.args["ctx"] for e in t.events if "ctx" in e.args})
    new = {c: f"{n + 1:02x}" * (len(c) // 2 or 32) for n, c in enumerate(ctxs)}
    return _copy(t, [Event(e.seq, e.agent, e.name, {k: (new.get(v, v) if k in ("ctx", "nonce") else v)
                                                    for k, v in e.args.items() if k != "request"})
                     for e in t.events])


@mutation("", "benign: attestation key identifiers renamed consistently")
def rename_attestation_keys(t, rng):
    keys = sorted({e.args["attestation_key"] for e in t.events if "attestation_key" in e.args})
    new = {k: f"ak-{n}" for n, k in enumerate(keys)}
    return _copy(t, [_ev(e, attestation_key=new[e.args["attestation_key"]]) if "attestation_key" in e.args else e
                     for e in t.events])


@mutation("", "benign: passport, the Verifier appraises the same Evidence twice; the attester uses the second result")
def evidence_appraised_twice(t, rng):
    i = _pick(rng, [i for i in _where(t, "EvidenceAppraised") if not t.events[i].args["nonce"]
                    and _where(t, "EvidenceSubmitted", cmw=t.events[i].args["cmw"])])
    if i is None:
        return None
    events = list(t.events)
    events.insert(i, _ev(t.events[i], result="ee" * 16))
    return _copy(t, events)


@mutation("", "benign: the client resumes a ticket kept from an earlier connection that needed no attestation")
def resumes_open_ticket(t, rng):
    return _after_open_connection(t)


@mutation("", "benign, with secrets: one endpoint's exporter_master_secret left out", secrets=True)
def secret_dropped_one_endpoint(t, rng):
    i = _pick(rng, [i for i in _where(t, "ChannelEstablished") if "exporter_master_secret" in t.events[i].args])
    if i is None:
        return None
    events = list(t.events)
    e = events[i]
    events[i] = Event(e.seq, e.agent, e.name, {k: v for k, v in e.args.items() if k != "exporter_master_secret"})
    return _copy(t, events)


def _without_request_bytes(t: Trace) -> list[Event]:
    return [Event(e.seq, e.agent, e.name, {k: v for k, v in e.args.items() if k != "request"}) for e in t.events]


@mutation("request_binding", "the request's extensions lack the cmw_attestation codepoint at both ends (request bytes "
                             "left out), yet the offer is recorded (draft §3.1)")
def offer_without_codepoint(t, rng):
    code = int(t.profile.get("cmw_attestation_codepoint", 0xFFFF))
    return _copy(t, [_ev(e, extensions=[x for x in e.args["extensions"] if x != code])
                     if e.name in ("RequestSent", "RequestReceived") else e for e in _without_request_bytes(t)])


@mutation("request_binding", "the header's cmw_attestation codepoint changed; the requests offer the old one (request "
                             "bytes left out)")
def codepoint_changed(t, rng):
    out = _copy(t, _without_request_bytes(t))
    out.header["profile"]["cmw_attestation_codepoint"] = 0xFFFE
    return out


@mutation("request_binding", "the attester records another request (extensions) than the requester sent on the "
                             "connection (request bytes left out; RFC 9261 §5.1: the authenticator covers the request)")
def request_fields_disagree(t, rng):
    i = _pick(rng, _where(t, "RequestReceived"))
    if i is None:
        return None
    events = _without_request_bytes(t)
    events[i] = _ev(events[i], extensions=list(events[i].args["extensions"]) + [43])
    return _copy(t, events)


@mutation("", "benign: the request's extensions listed in another order at both ends (request bytes left out)")
def extensions_permuted(t, rng):
    return _copy(t, [_ev(e, extensions=list(reversed(e.args["extensions"])))
                     if e.name in ("RequestSent", "RequestReceived") else e for e in _without_request_bytes(t)])


@mutation("evidence_integrity", "mutual: an AE signs its Evidence with the other platform's attestation key (draft §7: "
                                "the attestation key names the TEE that produced the Evidence)")
def attestation_key_of_other_ae(t, rng):
    keys = {e.agent: e.args["attestation_key"] for e in t.events if e.name == "EvidenceProduced"}
    if len(keys) < 2:
        return None
    i = _pick(rng, _where(t, "EvidenceProduced"))
    other = next(k for a, k in sorted(keys.items()) if a != t.events[i].agent)
    return _copy(t, _set(t, i, attestation_key=other))



# roles played by one agent (RFC 9334 §3, draft §3.4): which merges are attacks, which colocations

def _merged(t: Trace, old: str, new: str) -> Trace:
    """Agent ``old`` merged into ``new``: its events and every argument naming it are ``new``'s."""
    out = _copy(t, [Event(e.seq, new if e.agent == old else e.agent, e.name,
                          {k: (new if k in _AGENT_ARGS and v == old else v) for k, v in e.args.items()})
                    for e in t.events])
    if "adversaries" in out.header:
        out.header["adversaries"] = sorted({new if a == old else a for a in out.header["adversaries"]})
    return out


def _appraised_producer(t: Trace, rng: random.Random) -> Optional[tuple[Event, Event]]:
    """(EvidenceAppraised, EvidenceProduced of the Evidence it appraises), picked."""
    pairs = [(t.events[i], t.events[j]) for i in _where(t, "EvidenceAppraised")
             for j in _where(t, "EvidenceProduced", cmw=t.events[i].args["cmw"])]
    return _pick(rng, pairs)


@mutation("evidence_integrity", "the Verifier is the attesting endpoint itself: it appraises Evidence produced for it")
def verifier_is_attester(t, rng):
    pair = _appraised_producer(t, rng)
    return None if pair is None else _merged(t, pair[0].agent, pair[1].args["te"])


@mutation("evidence_integrity", "the Verifier is the Attesting Environment that produced the Evidence it appraises")
def verifier_is_the_ae(t, rng):
    pair = _appraised_producer(t, rng)
    return None if pair is None else _merged(t, pair[0].agent, pair[1].agent)


@mutation("no_reflection", "the attester's Attesting Environment is the requester, the other endpoint of the "
                           "connection: it accepts Evidence (and an AIK) it made itself")
def ae_is_the_peer(t, rng):
    i = _pick(rng, _where(t, "EvidenceProduced"))
    if i is None:
        return None
    e = t.events[i]
    asked = [t.events[j] for j in _where(t, "EvidenceRequested", ae=e.agent, binding=e.args["binding"])]
    peers = [x.agent for x in t.events if asked and x.name == "ChannelEstablished"
             and x.args["conn"] == asked[0].args["conn"] and x.agent != e.args["te"]]
    return _merged(t, e.agent, peers[0]) if peers else None


@mutation("evidence_integrity", "the Attestation Result's identifier is the appraised Evidence's: Evidence passed off "
                                "as a result (kind confusion)")
def result_id_is_evidence_id(t, rng):
    i = _pick(rng, _where(t, "EvidenceAppraised"))
    if i is None:
        return None
    old, new = t.events[i].args["result"], t.events[i].args["cmw"]
    return _copy(t, _rename(t, old, new, ("cmw", "result")))


@mutation("", "benign: a Relying Party hosts its own Verifier (one agent, requester and Verifier; RFC 9334 allows "
              "combined roles)")
def verifier_hosted_by_requester(t, rng):
    requesters = {e.agent for e in t.events if e.name == "RequestSent"}
    attesters = {e.agent for e in t.events if e.name == "RequestReceived"}
    pick = _pick(rng, [i for i in _where(t, "EvidenceForwarded") if t.events[i].agent not in attesters])
    if pick is None or len(requesters) != 1:
        return None
    return _merged(t, t.events[pick].args["verifier"], t.events[pick].agent)


@mutation("", "benign: the Attesting Environment is the TLS endpoint it serves (the TLS stack inside the TEE)")
def ae_colocated_with_te(t, rng):
    i = _pick(rng, _where(t, "AikGenerated"))
    return None if i is None else _merged(t, t.events[i].agent, t.events[i].args["owner"])



@mutation("request_binding", "the attester receives the request before its requester sent it (causality broken; the "
                             "Evidence still follows both)")
def request_received_before_sent(t, rng):
    i = _pick(rng, [i for i in _where(t, "RequestSent") if i + 1 < len(t.events)
                    and t.events[i + 1].name == "RequestReceived" and t.events[i + 1].args["ctx"] == t.events[i].args["ctx"]])
    if i is None:
        return None
    events = list(t.events)
    events[i], events[i + 1] = events[i + 1], events[i]
    return _copy(t, events)


# --- corpus --------------------------------------------------------------------------------------

def bases(directory: Path = GOLDEN_DIR) -> list[Trace]:
    """The honest golden traces, the corpus every synthetic trace starts from."""
    return [load_trace(p) for p in sorted(directory.glob("honest-*.jsonl"))]


def synthesize(count: int, seed: int = 0, names: Optional[list[str]] = None,
               base: Optional[list[Trace]] = None) -> list[tuple[str, Trace]]:
    """``count`` labelled synthetic traces, (file name, trace), in a fixed order for a fixed seed.
    Mutations that do not apply to a base trace are skipped (and the next pair tried)."""
    rng = random.Random(seed)
    base = bases() if base is None else base
    chosen = [MUTATIONS[n] for n in (names or golden_mutations())]
    out: list[tuple[str, Trace]] = []
    while len(out) < count:
        if not chosen:
            raise RuntimeError("no mutation applies to the base traces")
        m = chosen[len(out) % len(chosen)]  # every mutation in turn
        order = list(base)
        rng.shuffle(order)
        sub = random.Random(rng.getrandbits(64))
        for t in order:  # the first base trace (in a seeded order) the mutation applies to
            mutated = m.fn(t, sub)
            if mutated is not None:
                break
        else:
            chosen.remove(m)
            continue
        stem = Path(t.source).stem
        mutated.header["synthetic"] = {"mutation": m.name, "expect": m.expect, "base": stem}
        mutated.header["description"] = f"synthetic: {m.note} (from {stem})"
        out.append((f"synth-{len(out):06d}-{m.name}.jsonl", mutated))
    return out


def cmd_synth(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, trace in synthesize(args.count, args.seed, args.mutation or None):
        trace.write(out / name)
    print(f"wrote {args.count} synthetic traces to {out}", file=sys.stderr)
    return 0


def register(tsub: argparse._SubParsersAction) -> None:
    s = tsub.add_parser("synth", help="write N synthetic traces: golden honest traces mutated deterministically, "
                                      "each labelled with its mutation and the property it breaks")
    s.add_argument("--count", type=int, required=True, metavar="N")
    s.add_argument("--seed", type=int, default=0, metavar="S")
    s.add_argument("--out", required=True, metavar="DIR")
    s.add_argument("--mutation", action="append", choices=sorted(MUTATIONS),
                   help="only this mutation (repeatable; default: every one, in turn)")
    s.set_defaults(handler=cmd_synth)
