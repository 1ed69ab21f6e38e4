"""A trace read as the action facts of the property formulas: the term view (issues 12, 16).

Each event at position ``n`` becomes the fact its projection gives (:data:`expat.model.facts.ACTIONS`)
at ``n``; every value becomes a term as the theory (:mod:`expat.tamarin.rules`) builds it:

* **names and values** (agents, connection ids, contexts, AIKs, bindings, hashes, sides, kinds) are
  public constants: the string the trace records. A formula constant ``'evidence'`` equals the trace
  value ``"evidence"``.
* **platforms.** The theory names a platform once: its TLS endpoint, its TEE (Attesting Environment)
  and the AIKs the TEE generates share the name ``P``. A trace names the Attesting Environment as an
  agent of its own (``client-ae``), and each of its events names the endpoint it acts for: the
  ``owner`` of AikGenerated, the ``te`` of EvidenceProduced. The term view reads those events as acts
  of that endpoint (the fact's agent is ``owner`` / ``te``), and the ``ae`` of EvidenceRequested as the
  requesting endpoint itself (the theory's TE asks the TEE of its own platform). So the platform in an
  Evidence term is the endpoint the Evidence was produced for, as the monitors read it; which TEE
  signed is not a term of the theory (see the known differences in :mod:`expat.model.judge`).
* **Evidence** (an id ``c``): ``<'ev', P, b, ah, c>`` from the first EvidenceProduced of ``c`` (``P`` its
  ``te``, ``b``/``ah`` the binding and AIK_pub_hash signed into it; the signature is the id itself,
  unique per Evidence). Evidence no AE produced in the trace: ``P`` and the signature are *unknowns*
  (below), ``b``/``ah`` are the claims the requester read from it (its BindingChecked on the request
  where it first accepted ``c``), or unknowns when none was recorded.
* **Attestation Result** (an id ``r``): ``<'ar', V, <ev>, r>`` from the EvidenceAppraised that issued it
  (``V`` the Verifier, ``<ev>`` the appraised Evidence's term). A result no Verifier issued in the
  trace: ``V`` and its Evidence's producer and signature are unknowns, the Evidence's claims are those
  the requester read (the echoed binding and the AIK_pub_hash it compared).
* **no nonce.** An appraisal against no Verifier nonce records an empty ``nonce``; the theory writes
  the constant ``'none'`` there (the passport Verifier), and so does the term view.
* an id that is neither produced, appraised (as Evidence or as its result), nor carried with a kind
  stays an opaque constant.
  Equal ids give equal terms, different ids different terms (the id is the signature component).
* **theory-only arguments**: ``+peer`` of ChannelEstablished is the agent of the connection's other
  endpoint (an unknown when the trace has none or several); ``+owner`` of KeyRevealed is the endpoint
  the key was generated for (an unknown for a key no AE generated).
* **acceptance.** The theory's requester accepts an authenticator and its attestation in one rule
  (``AuthenticatorAccepted`` and ``AttestationCompleted`` are actions of the same step); a trace records
  the authenticator's validation first. An AuthenticatorAccepted is a fact only when the same
  requester completed that request (AttestationCompleted on the same connection and context, with the
  peer's side as attester: with a context reused across directions the agent's own completion as
  attester of the same context is not one): a refused attestation is a rule that does not fire
  (:mod:`expat.tamarin.mapping`).
* **one step.** Where the theory makes several actions in one rule, their facts share its instant, the
  position of the trace event that completes the step: a requester's AuthenticatorAccepted and
  AttestationResultReceived sit at its AttestationCompleted for that request, a background-check
  Verifier's EvidenceAppraised of the Evidence a requester accepted at that requester's completion
  (the theory's relying party rule appraises and accepts at once), and an attester's first
  ApplicationDataSent after its first AttestationCompleted on a connection at that completion (the
  theory's attester completes and sends its first data together). The acceptance facts move later,
  as the theory has them; the data moves earlier, which can only make attest_before_data (the one
  formula over ApplicationDataSent, whose conclusion is something before it) harder to satisfy.
* **the adversary.** Agents in the header's ``adversaries`` are never the subject of a property (as for
  the monitors): their AuthenticatorAccepted, AttestationResultReceived and ApplicationDataSent are not
  facts. What they do as a peer (their channel, requests, authenticators) stays in the trace's facts.
  What they know is read as the theory's reveals, before the first event: ``SecretRevealed(k)`` for
  each connection they are an endpoint of and ``KeyRevealed(x, aik)`` for each AIK generated for them.
  They are not read as ``HostCompromised``: a trace shows every use of a TEE (EvidenceRequested,
  EvidenceProduced), so no oracle needs to be assumed.
* ``HostCompromised`` and ``AttestationKeyRevealed`` are adversary events (``platform``: the endpoint),
  read as the facts of the same name at their position, like ``KeyRevealed`` and ``SecretRevealed``.
  An ``EvidenceProduced`` of an adversary after ``AttestationKeyRevealed`` of its ``te`` is Evidence it
  signed with that platform's attestation key: its term names that platform (``P`` = ``te``), but it is
  no ``EvidenceProduced`` fact (the theory's forgery has no action); before the reveal it is Evidence
  no AE produced (unknown ``P``).
  The reference never records them; the bounded search does (``expat proofs run --hosts N``), and
  records each use of a compromised host's connection secrets and AIKs as ``SecretRevealed`` /
  ``KeyRevealed``, as the theory's ``Compromised_LeaksConnection`` / ``Compromised_LeaksAik`` do.

An **unknown** is a value the trace does not record. It is a fresh name, equal only to itself (the
same unknown for the same missing component of the same id): it matches no recorded value. So a
formula's conclusion that needs it to be something the trace shows (an EvidenceProduced by ``P``, a
ChannelEstablished with peer ``P``) is false and the acceptance is reported; an unknown never makes
a positive conclusion true. The only conclusion it can make true is a negative one about a value no
event gives: ``not (P = R)`` for Evidence no AE produced (no event of the trace shows it made for
``R``; evidence_integrity reports that Evidence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from expat.model.facts import ACTIONS
from expat.model.logic import Facts
from expat.model.steps import anchors, channel_sides, completes_as_requester, rule_steps
from expat.model.trace import Event, Trace


@dataclass(frozen=True)
class Unknown:
    """A component of a value that the trace does not record (equal only to itself)."""
    what: str

    def __str__(self) -> str:
        return f"?{self.what}"


_CMW_ARGS = {("AttestationCompleted", "cmw"), ("AuthenticatorAccepted", "cmw"), ("AuthenticatorSent", "cmw"),
             ("EvidenceForwarded", "cmw"), ("EvidenceSubmitted", "cmw"), ("EvidenceProduced", "cmw"),
             ("EvidenceAppraised", "cmw"), ("EvidenceAppraised", "result"),
             ("AttestationResultReceived", "result"), ("AttestationResultObtained", "result")}
# an Attesting Environment's events, read as acts of the platform (endpoint) they name
_PLATFORM = {"AikGenerated": "owner", "EvidenceProduced": "te"}
NO_NONCE = "none"  # the theory's constant for an appraisal checked against no Verifier nonce
BEFORE = -1  # position of the compromise facts read from the header
# the events that make their agent the subject of a property (a requester's, and sending data)
SUBJECT = frozenset({"AuthenticatorAccepted", "AttestationResultReceived", "ApplicationDataSent"})


class TermView:
    """The terms of one trace's values (built once per trace)."""

    def __init__(self, trace: Trace):
        self.adversaries = adversaries = trace.adversaries
        self.events = [e for e in trace.events if not (e.agent in adversaries and e.name in SUBJECT)]
        self.produced: dict[str, Event] = {}
        self.appraised: dict[str, Event] = {}
        self.kind: dict[str, str] = {}
        self.read: dict[tuple[str, str, str], Event] = {}  # (agent, conn, ctx) -> first BindingChecked
        self.accepted_at: dict[str, tuple[str, str, str]] = {}  # cmw -> where it was first accepted
        self.aik_platform: dict[str, str] = {}
        self.endpoints: dict[str, list[str]] = {}
        for e in trace.events:  # every endpoint names a connection's peer, the adversary's too
            if e.name == "ChannelEstablished" and e.agent not in self.endpoints.setdefault(e.args["conn"], []):
                self.endpoints[e.args["conn"]].append(e.agent)
        keys: set[str] = set()  # platforms whose attestation key was revealed so far
        for e in self.events:
            a = e.args
            if e.name == "AikGenerated":
                self.aik_platform.setdefault(a["aik"], a["owner"])
            elif e.name == "AttestationKeyRevealed":
                keys.add(a["platform"])
            elif e.name == "EvidenceProduced" and (e.agent not in adversaries or a["te"] in keys):
                self.produced.setdefault(a["cmw"], e)
            elif e.name == "EvidenceAppraised":
                self.appraised.setdefault(a["result"], e)
                self.kind.setdefault(a["cmw"], "evidence")  # what a Verifier appraises is Evidence
            elif e.name == "BindingChecked":
                self.read.setdefault((e.agent, a["conn"], a["ctx"]), e)
            elif e.name in ("AuthenticatorAccepted", "AuthenticatorSent"):
                self.kind.setdefault(a["cmw"], a["kind"])
                if e.name == "AuthenticatorAccepted":
                    self.accepted_at.setdefault(a["cmw"], (e.agent, a["conn"], a["ctx"]))
        self._terms: dict[str, Any] = {}
        self._unfolding: set[str] = set()  # results whose term is being built (result() reads no cycle twice)

    def _claims(self, cmw: str) -> tuple[Any, Any]:
        """The binding and AIK_pub_hash a requester read from ``cmw`` (unknowns when none is recorded)."""
        where = self.accepted_at.get(cmw)
        checked = self.read.get(where) if where else None
        if checked is None:
            return Unknown(f"b:{cmw}"), Unknown(f"ah:{cmw}")
        return checked.args["cmw_binding"], checked.args["cmw_aik_hash"]

    def evidence(self, cmw: str) -> tuple:
        p = self.produced.get(cmw)
        if p is not None:
            return ("ev", p.args["te"], p.args["binding"], p.args["aik_hash"], cmw)
        b, ah = self._claims(cmw)
        return ("ev", Unknown(f"P:{cmw}"), b, ah, Unknown(f"es:{cmw}"))

    def result(self, r: str) -> tuple:
        a = self.appraised.get(r)
        if a is not None:
            c = a.args["cmw"]
            # an identifier that names a result and the Evidence it appraises (a Verifier passing Evidence off
            # as its result) or a cycle of appraisals: the inner term is read as Evidence, not unfolded again
            inner = self.evidence(c) if c == r or c in self._unfolding else self._unfold(c)
            return ("ar", a.agent, inner, r)
        b, ah = self._claims(r)
        return ("ar", Unknown(f"V:{r}"), ("ev", Unknown(f"P:{r}"), b, ah, Unknown(f"es:{r}")), r)

    def _unfold(self, cmw: str) -> Any:
        self._unfolding.add(cmw)
        try:
            return self.term(cmw)
        finally:
            self._unfolding.discard(cmw)

    def term(self, cmw: str) -> Any:
        t = self._terms.get(cmw)
        if t is None:
            if cmw in self.appraised:
                t = self.result(cmw)
            elif cmw in self.produced:
                t = self.evidence(cmw)
            elif self.kind.get(cmw) == "result":
                t = self.result(cmw)
            elif self.kind.get(cmw) == "evidence":
                t = self.evidence(cmw)
            else:
                t = cmw
            self._terms[cmw] = t
        return t

    def peer(self, agent: str, conn: str) -> Any:
        others = [x for x in self.endpoints.get(conn, ()) if x != agent]
        return others[0] if len(others) == 1 else Unknown(f"peer:{agent}:{conn}")

    def fact(self, e: Event) -> Optional[tuple]:
        names = ACTIONS.get(e.name)
        if names is None:
            return None
        out = []
        for n in names:
            if n == "agent":
                v: Any = e.args[_PLATFORM[e.name]] if e.name in _PLATFORM else e.agent
            elif n == "+peer":
                v = self.peer(e.agent, e.args["conn"])
            elif n == "+owner":
                v = self.aik_platform.get(e.args["key"], Unknown(f"owner:{e.args['key'][:16]}"))
            elif (e.name, n) in _CMW_ARGS:
                v = self.term(e.args[n])
            elif (e.name, n) == ("EvidenceRequested", "ae"):
                v = e.agent  # the theory's TE asks the TEE of its own platform
            elif (e.name, n) == ("EvidenceAppraised", "nonce") and e.args[n] == "":
                v = NO_NONCE  # an appraisal against no nonce (passport) is the theory's 'none'
            else:
                v = e.args[n]
            out.append(v)
        return tuple(out)

    def compromise(self) -> dict[str, list[tuple]]:
        """The theory's reveals of what the header's adversaries know."""
        out: dict[str, list[tuple]] = {}
        for x in sorted(self.adversaries):
            for conn, eps in self.endpoints.items():
                if x in eps:
                    out.setdefault("SecretRevealed", []).append((conn,))
            for aik, plat in self.aik_platform.items():
                if plat == x:
                    out.setdefault("KeyRevealed", []).append((x, aik))
        return out


def instants(trace: Trace) -> dict[int, int]:
    """Positions moved to the instant of the theory's rule that makes them (see "one step" above): the
    requester's acceptance facts to its completion, the attester's first data to its completion
    (:func:`expat.model.steps.rule_steps` groups them, :func:`expat.model.steps.anchors` places them)."""
    events = trace.events
    steps = rule_steps(events)
    anchor = anchors(events, steps)
    out: dict[int, int] = {}
    for pos, (e, step) in enumerate(zip(events, steps)):
        if e.name in _ACCEPTANCE_FACTS and step[0] == "accept":
            at = anchor.get(step)
            if at is not None and at >= pos:
                out[pos] = at
        elif e.name == "ApplicationDataSent" and step[0] == "complete":
            out[pos] = anchor[step]
    return out


_ACCEPTANCE_FACTS = ("AuthenticatorAccepted", "AttestationResultReceived", "EvidenceAppraised")


def trace_facts(trace: Trace) -> Facts:
    """The action facts of ``trace`` (see the module text), indexed by name, each at its instant."""
    view = TermView(trace)
    facts: dict[str, list[tuple[int, tuple]]] = {}
    for name, rows in view.compromise().items():
        facts.setdefault(name, []).extend((BEFORE, args) for args in rows)
    sides = channel_sides(trace.events)
    completed = {(e.agent, e.args["conn"], e.args["ctx"]) for e in trace.events
                 if e.name == "AttestationCompleted" and completes_as_requester(e, sides)}
    moved = instants(trace)
    for pos, e in enumerate(trace.events):
        if e.agent in view.adversaries and (e.name in SUBJECT or e.name == "EvidenceProduced"):
            continue  # an adversary's Evidence, signed with a revealed attestation key, is no TEE's act
        if e.name == "AuthenticatorAccepted" and (e.agent, e.args["conn"], e.args["ctx"]) not in completed:
            continue  # the theory's acceptance rule: the authenticator and its attestation accepted together
        args = view.fact(e)
        if args is not None:
            facts.setdefault(e.name, []).append((moved.get(pos, pos), args))
    return Facts(facts)
