"""Property monitors: each security property evaluated on one whole trace, like a lemma.

A monitor gets the checker's :class:`~expat.model.world.World` after replay (``w.done`` is every
event in order) and returns (event_index, detail) pairs, one per counterexample. "Accepted" means an
honest requester's AttestationCompleted for its peer's attestation (:func:`acceptances`). Agents in
the header's ``adversaries`` are never the subject of a property: they are the attacker. A reveal
excuses an acceptance exactly where the property's formula (:mod:`expat.model.formulas`, ``unless``)
excuses it: KeyRevealed in aik_ownership, HostCompromised / AttestationKeyRevealed of the Evidence's
platform or of the requester as each formula names them.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from expat.model.properties import PROPERTY_IDS
from expat.model.verdicts import Violation

if TYPE_CHECKING:  # pragma: no cover
    from expat.model.world import World
    from expat.model.trace import Event

Finding = tuple[Optional[int], str]
_UNASKED = object()  # an Acceptance's origin not looked up yet (None is an answer)


@dataclass
class Acceptance:
    index: int
    rp: str
    conn: str
    ctx: str
    cmw: str
    accepted: Optional["Event"]  # the AuthenticatorAccepted
    kind: Optional[str]
    aik: Optional[bytes]
    evidence: Optional[str]  # the Evidence behind it (for a result: the appraised Evidence)
    appraisal: Optional["Event"]
    produced: Optional["Event"]  # EvidenceProduced of that Evidence
    binding: Optional[bytes]  # the binding the acceptance rests on
    tee_compromised: bool = False  # the formulas' TEE_P of the Evidence's platform (:func:`_tee_compromised`)
    # the reveals the monitors ask about, looked up once per acceptance (:func:`_acceptances`):
    key_revealed: bool = False  # AttestationKeyRevealed of the Evidence's platform
    rp_revealed: bool = False  # AttestationKeyRevealed or HostCompromised of the requester
    # per-acceptance answers several monitors ask (the World is finished): None until asked
    checked: Optional[list] = field(default=None, repr=False, compare=False)  # :func:`_checked`
    origin: Any = field(default=_UNASKED, repr=False, compare=False)  # :func:`_origin`
    sent: Optional[list] = field(default=None, repr=False, compare=False)  # :func:`_sent`


def _first_keyed(w: "World", name: str, arg: str, value: str) -> Optional["Event"]:
    """The first recorded ``name`` event whose ``arg`` is ``value`` (a pair the World indexes)."""
    found = w.keyed(name, arg, value)
    return found[0] if found else None


def acceptances(w: "World") -> list[Acceptance]:
    if "acceptances" not in w.memo:  # every monitor asks; the trace does not change meanwhile
        w.memo["acceptances"] = _acceptances(w)
    return w.memo["acceptances"]


def _acceptances(w: "World") -> list[Acceptance]:
    out = []
    adversaries = w.adversaries
    index_of = w.index_of
    revealed = _reveals(w)
    keys, hosts = revealed["AttestationKeyRevealed"], revealed["HostCompromised"]
    for i, e in w.positions("AttestationCompleted"):
        if e.agent in adversaries:
            continue
        a = e.args
        conn, ctx = a["conn"], a["ctx"]
        if a["attester"] == w.side(e.agent, conn):
            continue  # the attester learning its own outcome
        accs = w.instance_before(i, "AuthenticatorAccepted", e.agent, conn, ctx)
        acc = accs[-1] if accs else None
        kind = acc.args["kind"] if acc else None
        aik = w.arg_bytes(acc, "aik") if acc else None
        appraisal = None
        evidence: Optional[str] = a["cmw"]
        if kind == "result":
            appraisal = _first_keyed(w, "EvidenceAppraised", "result", a["cmw"])
            evidence = appraisal.args["cmw"] if appraisal else None
        produced = _first_keyed(w, "EvidenceProduced", "cmw", evidence) if evidence else None
        if produced is not None and (index_of(produced) >= i or not w.signed_with_held_key(produced)):
            produced = None  # adversary-signed without the attestation key: produced by no AE
        binding: Optional[bytes] = None
        checked = None
        if kind == "result" and appraisal is not None and appraisal.args["binding_echo"]:
            binding = appraisal.get_bytes("binding_echo")
        elif produced is not None:
            binding = produced.get_bytes("binding")
        else:
            checked = w.instance_before(i, "BindingChecked", e.agent, conn, ctx)
            # delegated comparison (-04 §5.1): the binding the Verifier confirmed to this requester
            confirmed = checked or [x for _, x in w.keyed_before(i, "BindingConfirmed", "cmw", a["cmw"])
                                    if x.args["to"] == e.agent]
            binding = confirmed[-1].get_bytes("cmw_binding" if confirmed[-1].name == "BindingChecked"
                                              else "binding") if confirmed else None
        found = Acceptance(i, e.agent, conn, ctx, a["cmw"], acc, kind, aik, evidence, appraisal, produced, binding)
        found.checked = checked
        # the formulas' TEE_P (five monitors ask) and the other reveals, as _revealed answers them
        platform = produced.args["te"] if produced is not None else None
        found.key_revealed = platform is not None and platform in keys
        found.tee_compromised = found.key_revealed or (platform is not None and platform in hosts)
        found.rp_revealed = e.agent in keys or e.agent in hosts
        out.append(found)
    return out


def _checked(w: "World", a: Acceptance) -> list["Event"]:
    """The requester's BindingChecked of the accepted request, before the acceptance (looked up once
    per acceptance; the list is shared, not to be changed)."""
    found = a.checked
    if found is None:
        found = a.checked = _checked_scan(w, a)
    return found


def _checked_scan(w: "World", a: Acceptance) -> list["Event"]:
    return w.instance_before(a.index, "BindingChecked", a.rp, a.conn, a.ctx)


def _sent(w: "World", a: Acceptance) -> list["Event"]:
    """The requester's RequestSent with the accepted context on the connection, before the acceptance
    (looked up once per acceptance; shared, not to be changed)."""
    found = a.sent
    if found is None:
        found = a.sent = _sent_scan(w, a)
    return found


def _sent_scan(w: "World", a: Acceptance) -> list["Event"]:
    return w.instance_before(a.index, "RequestSent", a.rp, a.conn, a.ctx)


def _origin(w: "World", a: Acceptance) -> Optional["Event"]:
    """The TE's EvidenceRequested that the accepted Evidence answered (symbolic origin), looked up once
    per acceptance."""
    found = a.origin
    if found is _UNASKED:
        found = a.origin = _origin_scan(w, a)
    return found


def _origin_scan(w: "World", a: Acceptance) -> Optional["Event"]:
    if a.produced is None:
        return None
    p = w.index_of(a.produced)
    te, ae = a.produced.args["te"], a.produced.agent
    asks = [e for _, e in w.keyed_before(p, "EvidenceRequested", "binding", a.produced.args["binding"], te)
            if e.args["ae"] == ae]
    return asks[-1] if asks else None


def _contexts_on(w: "World", conn: str) -> list[str]:
    """The contexts used on ``conn``, in order of first use (memoised: monitors run on a finished replay)."""
    memo = w.memo.setdefault("contexts_on", {})
    if conn not in memo:
        seen: list[str] = []
        for e in w.done:
            if e.args.get("conn") == conn and "ctx" in e.args and e.args["ctx"] not in seen:
                seen.append(e.args["ctx"])
        memo[conn] = seen
    return memo[conn]


def _references(w: "World", a: Acceptance) -> list[bytes]:
    """This connection's bindings for the accepted AIK, one per context used on it (traces with secrets;
    none without, when reference_binding has nothing to recompute from)."""
    if a.aik is None or w.exporter_secret(a.conn) is None:
        return []
    return [r for ctx in _contexts_on(w, a.conn) if (r := w.reference_binding(a.conn, ctx, a.aik)) is not None]


def _agent_conn_before(w: "World", index: int, name: str, agent: str, conn: str) -> list["Event"]:
    return [e for j, e in w.positions(name) if j < index and e.agent == agent and e.args.get("conn") == conn]


def _recorded_expected(w: "World", a: Acceptance, ctx: Optional[str]) -> list[bytes]:
    out = []
    for e in _agent_conn_before(w, a.index, "BindingChecked", a.rp, a.conn) \
            + _agent_conn_before(w, a.index, "EvidenceForwarded", a.rp, a.conn):
        if ctx is None or e.args["ctx"] == ctx:
            out.append(e.get_bytes("expected_binding"))
    return out


def _other_label(w: "World", a: Acceptance) -> Optional[str]:
    """Without secrets: the label under which the requester's binding comparison matched, when it is
    not the profile's exporter label (the binding is then not this connection's binding, §5.1)."""
    checked = _checked(w, a)
    if checked and checked[-1].args["label"] != w.exporter_label:
        return checked[-1].args["label"]
    return None


_position = operator.itemgetter(0)  # sort key of (index, event) pairs


# The reveals the property formulas excuse (model/formulas.py ``unless``), besides KeyRevealed: a
# platform's host compromised, its TEE's attestation key revealed. As in the formulas (``Ex #r``), a
# reveal anywhere in the trace excuses; only the bounded search records them (docs/proofs.md).
def _revealed(w: "World", name: str, platform: Optional[str]) -> bool:
    if platform is None:
        return False
    return platform in _reveals(w)[name]


def _reveals(w: "World") -> dict[str, set[str]]:
    """The platforms each reveal names, gathered once per finished replay."""
    revealed = w.memo.get("revealed")
    if revealed is None:
        revealed = w.memo["revealed"] = {n: {e.args["platform"] for _, e in w.positions(n)} for n in _REVEALS}
    return revealed


_REVEALS = ("HostCompromised", "AttestationKeyRevealed")


def _platform(a: Acceptance) -> Optional[str]:
    """The formulas' P: the endpoint the accepted Evidence was produced for (None: no AE produced it)."""
    return a.produced.args["te"] if a.produced is not None else None


def _tee_compromised(w: "World", a: Acceptance) -> bool:
    """The formulas' ``TEE_P``: P's host compromised or P's attestation key revealed."""
    p = _platform(a)
    return _revealed(w, "HostCompromised", p) or _revealed(w, "AttestationKeyRevealed", p)


MONITORS: dict[str, Callable[["World"], list[Finding]]] = {}


def monitor(fn: Callable[["World"], list[Finding]]) -> Callable[["World"], list[Finding]]:
    assert fn.__name__ in PROPERTY_IDS, fn.__name__
    MONITORS[fn.__name__] = fn
    return fn


@monitor
def evidence_integrity(w: "World") -> list[Finding]:
    """Accepted Evidence was produced by an Attesting Environment, and what the requester read from it
    (binding, AIK_pub_hash) is what the AE signed; an accepted Attestation Result was issued by a
    Verifier for such Evidence."""
    out: list[Finding] = []
    for a in acceptances(w):
        if a.kind == "result" and a.appraisal is None:
            out.append((a.index, f"Attestation Result {a.cmw} was issued by no Verifier"))
            continue
        if a.kind == "result" and a.evidence == a.cmw:  # Evidence passed off as its own appraisal's result
            out.append((a.index, f"Attestation Result {a.cmw} is the Evidence it appraises"))
            continue
        if a.produced is None:
            out.append((a.index, f"Evidence {a.evidence} was produced by no Attesting Environment"))
            continue
        if a.kind == "evidence" and not a.key_revealed:
            for c in _checked(w, a):
                if c.args["cmw_binding"] != a.produced.args["binding"] or (
                        c.args["cmw_aik_hash"] and c.args["cmw_aik_hash"] != a.produced.args["aik_hash"]):
                    out.append((a.index, f"claims read from {a.evidence} differ from those the AE signed"))
    return out


@monitor
def evidence_freshness(w: "World") -> list[Finding]:
    """Injective: every Evidence generation is accepted at most once (one requester, one request)."""
    out: list[Finding] = []
    first: dict[str, Acceptance] = {}
    for a in acceptances(w):
        key = a.evidence or a.cmw
        if key in first and not a.tee_compromised:
            f = first[key]
            out.append((a.index, f"Evidence {key} accepted again (first by {f.rp} on {f.conn} at event {f.index})"))
        else:
            first[key] = a
    return out


@monitor
def channel_binding(w: "World") -> list[Finding]:
    """Accepted Evidence was made for this very connection: its binding equals this connection's
    binding (recomputed from the exporter secret when the trace has it), or, without secrets, it was
    requested on this connection."""
    out: list[Finding] = []
    for a in acceptances(w):
        if a.tee_compromised:
            continue
        if a.binding is None:
            out.append((a.index, "the accepted attestation carries no binding"))
            continue
        refs = _references(w, a)
        if refs:
            if a.binding not in refs:
                out.append((a.index, f"binding is not a binding of connection {a.conn}"))
            continue
        if (label := _other_label(w, a)) is not None:
            out.append((a.index, f"binding matched under exporter label {label!r}, not the profile's"))
            continue
        origin = _origin(w, a)
        if origin is not None:
            if origin.args["conn"] != a.conn:
                out.append((a.index, f"Evidence was made for connection {origin.args['conn']}, accepted on {a.conn}"))
            continue
        expected = _recorded_expected(w, a, None)
        if not expected or a.binding not in expected:
            out.append((a.index, f"binding cannot be tied to connection {a.conn}"))
    return out


@monitor
def request_binding(w: "World") -> list[Finding]:
    """Accepted Evidence answers the very request it is accepted for: the requester sent a request with
    this context on this connection, and the Evidence's binding is the one for that context."""
    out: list[Finding] = []
    for a in acceptances(w):
        if a.tee_compromised:
            continue
        sent = _sent(w, a)
        if not sent:
            out.append((a.index, "accepted without having sent a request with this context"))
            continue
        if a.binding is None:
            out.append((a.index, "the accepted attestation carries no binding"))
            continue
        ref = w.reference_binding(a.conn, a.ctx, a.aik) if a.aik is not None else None
        if ref is not None:
            if a.binding != ref:
                out.append((a.index, "binding is not the one for this certificate_request_context"))
            continue
        if (label := _other_label(w, a)) is not None:
            out.append((a.index, f"binding matched under exporter label {label!r}, not the one for this request"))
            continue
        origin = _origin(w, a)
        if origin is not None:
            if (origin.args["conn"], origin.args["ctx"]) != (a.conn, a.ctx):
                out.append((a.index, f"Evidence answered context {origin.args['ctx']} on {origin.args['conn']}"))
            continue
        if a.binding not in _recorded_expected(w, a, a.ctx):
            out.append((a.index, "binding cannot be tied to this request"))
    return out


@monitor
def aik_ownership(w: "World") -> list[Finding]:
    """The accepted AIK was used, on this connection and context and for this very authenticator (kind and
    CMW), by the agent holding its private key (the TE it was generated for; for keys no TEE generated, an
    adversary), unless it was revealed."""
    out: list[Finding] = []
    for a in acceptances(w):
        if a.aik is None or a.accepted is None:
            out.append((a.index, "no authenticator was accepted"))
            continue
        aik, at = a.aik.hex(), w.index_of(a.accepted)
        if any(j < at and e.args.get("key") == aik for j, e in w.positions("KeyRevealed")):
            continue
        gen = _first_keyed(w, "AikGenerated", "aik", aik)
        owner = gen.args["owner"] if gen else None
        # the same authenticator (the EA's signature covers its CMW, RFC 9261 §5.2.2), as the formula asks
        senders = {e.agent for j, e in w.positions("AuthenticatorSent") if j < at and e.args.get("conn") == a.conn
                   and e.args.get("ctx") == a.ctx and e.args.get("aik") == aik
                   and e.args.get("kind") == a.accepted.args.get("kind") and e.args.get("cmw") == a.accepted.args.get("cmw")}
        ok = owner in senders if owner is not None else bool(senders & w.adversaries)
        if not ok:
            out.append((a.index, f"AIK accepted on {a.conn} was not used there by its holder ({owner or 'adversary'})"))
    return out


@monitor
def aik_in_tee(w: "World") -> list[Finding]:
    """The AIK in the accepted certificate was generated by, and lives in, the same TEE (Attesting
    Environment) that produced the accepted Evidence."""
    out: list[Finding] = []
    for a in acceptances(w):
        if a.produced is None or a.aik is None:
            out.append((a.index, "no Evidence producer or no AIK to relate"))
            continue
        if (not w.keyed_before(a.index, "AikGenerated", "aik", a.aik.hex(), a.produced.agent)
                and not a.key_revealed):
            out.append((a.index, f"AIK is not a key of {a.produced.agent}, which produced the Evidence"))
    return out


@monitor
def no_diversion(w: "World") -> list[Finding]:
    """Accepted Evidence was produced for the requester's peer on this connection, not for another
    endpoint whose attestation was relayed."""
    out: list[Finding] = []
    for a in acceptances(w):
        peers = {e.agent for e in w.keyed("ChannelEstablished", "conn", a.conn) if e.agent != a.rp}
        if a.produced is None or a.tee_compromised:
            continue
        if not peers:  # the trace never shows the other endpoint: whose Evidence crossed is unknown
            out.append((a.index, f"no peer of {a.rp} is recorded on {a.conn}"))
        elif a.produced.args["te"] not in peers:
            out.append((a.index, f"Evidence produced for {a.produced.args['te']} accepted from {sorted(peers)}"))
    return out


@monitor
def no_reflection(w: "World") -> list[Finding]:
    """An endpoint never accepts as its peer's attestation Evidence produced for itself, or an AIK
    generated for itself."""
    out: list[Finding] = []
    for a in acceptances(w):
        if a.key_revealed or a.rp_revealed:
            continue
        if a.produced is not None and a.produced.args["te"] == a.rp:
            out.append((a.index, f"{a.rp} accepted its own Evidence {a.evidence}"))
        elif a.aik is not None and w.aik_owner(a.aik) == a.rp:
            out.append((a.index, f"{a.rp} accepted its own AIK"))
    return out


@monitor
def attest_before_data(w: "World") -> list[Finding]:
    """On a connection that requires attestation, an endpoint sends or accepts application data only
    after every required direction has completed on that same connection (draft §7.3): accepted by its
    requester, whoever records it (the attester learning the outcome is not the acceptance)."""
    out: list[Finding] = []
    data = w.positions("ApplicationDataSent") + w.positions("ApplicationDataReceived")
    if not data:
        return out
    # per (agent, conn): _data_facts (its channel and completion facts, the last of their indexes, and
    # the directions missing after all of them)
    seen: dict[tuple[str, str], tuple[list, list, int, list]] = {}
    adversaries = w.adversaries
    for i, e in sorted(data, key=_position):
        if e.agent in adversaries:
            continue
        conn = e.args["conn"]
        facts = seen.get((e.agent, conn))
        if facts is None:
            facts = seen[e.agent, conn] = _data_facts(w, e.agent, conn)
        # after the last of its facts (most data): what is missing after all of them, found once
        missing = facts[3] if i > facts[2] else _missing(facts[0], facts[1], i)
        if missing:
            out.append((i, f"{e.agent}: {e.name} on {e.args['conn']} before attestation of {missing} completed"))
    return out


def _data_facts(w: "World", agent: str, conn: str) -> tuple[list, list, int, list]:
    """(index, attest) of ``agent``'s ChannelEstablished on ``conn``, (index, attester) of the
    AttestationCompleted there that complete a direction (:func:`_accepted_by_requester`), both in trace
    order; the last of those indexes; and the sides missing after all of them (``_missing`` at the end of
    the trace, written out: every fact is before it)."""
    index_of = w.index_of
    chans = [(index_of(c), c.args["attest"]) for c in w.keyed("ChannelEstablished", "conn", conn) if c.agent == agent]
    completions = [(index_of(c), c.args["attester"])
                   for c in w.keyed("AttestationCompleted", "conn", conn) if _accepted_by_requester(w, c, conn)]
    last = max(chans[-1][0] if chans else -1, completions[-1][0] if completions else -1)
    required = set(chans[-1][1]) if chans else set()
    return chans, completions, last, sorted(required - {attester for _, attester in completions})


def _accepted_by_requester(w: "World", c: "Event", conn: str) -> bool:
    """An AttestationCompleted that completes its direction: recorded by the direction's requester (the
    endpoint of the other side), or by the attester when its peer is an adversary or the connection's
    secret was revealed (the adversary can answer as the requester; the formula excuses SecretRevealed(k)
    too). The attester's own record of an outcome its requester never recorded is no acceptance."""
    side = w.side(c.agent, conn)
    if side is None:
        return False
    if side != c.args["attester"]:
        return True
    return any(x.agent != c.agent and x.agent in w.adversaries for x in w.keyed("ChannelEstablished", "conn", conn)) \
        or any(x.args["conn"] == conn for _, x in w.positions("SecretRevealed"))


def _missing(chans: list, completions: list, i: int) -> list:
    """The sides the last ChannelEstablished before ``i`` (or, before any, the first) requires that no
    completion before ``i`` names, sorted (chans and completions: (index, value) pairs in trace order)."""
    before = [attest for j, attest in chans if j < i] or [attest for _, attest in chans[:1]]  # data before the
    required = set(before[-1]) if before else set()  # handshake: what the connection will require
    done = {attester for j, attester in completions if j < i}
    return sorted(required - done)


@monitor
def reattestation_fresh(w: "World") -> list[Finding]:
    """Evidence accepted for a request was generated after the requester sent that request."""
    out: list[Finding] = []
    for a in acceptances(w):
        sent = _sent(w, a)
        if sent and a.produced is not None and w.index_of(a.produced) < w.index_of(sent[-1]) \
                and not a.tee_compromised:
            out.append((a.index, f"Evidence {a.evidence} predates the request it answers"))
    return out


@monitor
def verifier_nonce_fresh(w: "World") -> list[Finding]:
    """A Verifier appraises Evidence against a nonce only if it issued it, to the requester the result goes
    to, and only once per nonce, and the nonce was fresh when issued (no request had used it as its context)."""
    out: list[Finding] = []
    for i, e in w.positions("EvidenceAppraised"):
        if not e.args["nonce"] or not w.honest(e.agent):
            continue
        issued = w.keyed_before(i, "NonceIssued", "nonce", e.args["nonce"], e.agent)
        used = w.keyed_before(i, "EvidenceAppraised", "nonce", e.args["nonce"], e.agent)
        if not issued:
            out.append((i, "nonce was not issued by this Verifier"))
        elif not any(x.args["to"] == e.args["to"] for _, x in issued):  # as the formula: NonceIssued(V, n, to)
            out.append((i, f"nonce was issued to {issued[-1][1].args['to']}, not to {e.args['to']}"))
        elif w.keyed_before(issued[0][0], "RequestSent", "ctx", e.args["nonce"]):  # not fresh when issued
            out.append((i, "nonce was used as a certificate_request_context before it was issued"))
        elif used:
            out.append((i, "nonce was already used for another appraisal"))
    return out


@monitor
def no_resumption(w: "World") -> list[Finding]:
    """No ticket is issued or kept on a connection that requires attestation, and no connection resumes
    a ticket of such a connection (no attestation state is inherited)."""
    tickets = w.positions("NewSessionTicketSent") + w.positions("NewSessionTicketReceived")
    if not tickets:  # every finding names a ticket event (issued, kept, or the origin of a resumption)
        return []
    return _ticket_findings(w, tickets)


def _ticket_findings(w: "World", tickets: list) -> list[Finding]:
    """no_resumption's findings over the ticket events ``tickets`` and every channel."""
    out: list[Finding] = []
    requires = w.conn_requires_attestation
    for i, e in sorted(tickets + w.positions("ChannelEstablished"), key=_position):
        if not w.honest(e.agent):
            continue
        if e.name == "NewSessionTicketSent" and requires(e.agent, e.args["conn"]):
            out.append((i, f"ticket issued on attestation connection {e.args['conn']}"))
        elif e.name == "NewSessionTicketReceived" and e.args["kept"] and requires(e.agent, e.args["conn"]):
            out.append((i, f"ticket kept from attestation connection {e.args['conn']}"))
        elif e.name == "ChannelEstablished" and e.args["resumed_from"] != "-":
            origins = [x for x in w.done[:i] if x.name in ("NewSessionTicketSent", "NewSessionTicketReceived")
                       and x.args["ticket"] == e.args["resumed_from"]]
            if any(requires(x.agent, x.args["conn"]) for x in origins):
                out.append((i, f"{e.args['conn']} resumes a ticket of an attestation connection"))
    return out


assert tuple(MONITORS) == PROPERTY_IDS


def run_all(w: "World") -> list["Violation"]:
    out = []
    for pid, fn in MONITORS.items():
        for index, detail in fn(w):
            out.append(Violation("property", pid, index, detail))
    return out
