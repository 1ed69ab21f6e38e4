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


MUTATIONS: dict[str, Mutation] = {}


def mutation(expect: str, note: str) -> Callable[[Mutate], Mutate]:
    def add(fn: Mutate) -> Mutate:
        name = fn.__name__.replace("_", "-")
        MUTATIONS[name] = Mutation(name, expect, fn, note)
        return fn
    return add


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
    chosen = [MUTATIONS[n] for n in (names or sorted(MUTATIONS))]
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
