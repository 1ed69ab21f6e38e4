"""Bounded unrolling of the role tables against the adversary: every run up to the bound, as traces.

A run starts with the AIKs generated, the connections opened and, within the bound, the honest
connection secrets mallory learns (SecretRevealed) or the honest hosts it controls (HostCompromised:
their connections' secrets, their AIKs, their TEEs making Evidence for them; docs/proofs.md), then
takes up to ``requests`` attestation exchanges, in any order, each one of (docs/proofs.md):

``honest``     an honest requester asks its honest peer (background check or passport; fresh Verifier
               nonce or a nonce it used on another connection; with the bound's ``own_contexts`` also a
               fresh context of its own, no Verifier nonce, and with ``predictable_contexts`` any non-nonce
               context the run holds; or a spontaneous server authenticator)
``ask-adv``    an honest requester asks mallory (mallory answers later, with ``answer``)
``answer``     mallory answers a pending request: with Evidence it has an AE sign over a binding it can
               derive, with any Evidence or Attestation Result seen so far, with forged Evidence, or
               (within the bound's ``attestation_keys``) with Evidence it signs with an honest
               platform's revealed attestation key, under any key it holds (kM, kX, revealed AIKs); with
               the bound's ``every_answer``, every message it can derive (every AE, binding and AIK_pub_hash
               claim, any Evidence exchanged at the Verifier)
``adv-asks``   mallory asks an honest attester, with a context of its choice (any context of the run or
               a fresh one: z3 enumerates them)
``adv-spont``  mallory, as server, attests in a spontaneous authenticator
``resume``     the honest server issues a ticket on a connection, the client keeps it and a new
               connection resumes it
``inject``     on a leaked honest connection (SecretRevealed): mallory asks an endpoint in its peer's
               name, possibly with the nonce the Verifier is issuing to that peer
``intercept``  on a leaked connection: an endpoint's request reaches mallory instead of its peer
``deliver``    mallory answers an intercepted request with the peer's authenticator for the same
               connection and context (made before: a pre-play); when it controls the peer's host,
               also in the peer's name (the peer's AIK, Evidence the peer's TEE makes for the peer);
               with the bound's ``own_aik``, also as itself (its own keys, HostCompromised(mallory));
               with the bound's ``impersonate``, also under a revealed honest AIK (the peer's:
               impersonation; the requester's own: reflection)

The honest parties follow the rows of :mod:`expat.model.roles` that exist under the variant; whether a
requester's comparison (binding, AIK_pub_hash, label) or a Verifier's appraisal succeeds is decided by
z3 on the terms (:mod:`expat.proofs.terms`); an honest party that refuses records
AuthenticatorRejected. Of the answers the requester refuses, the first per answer step is a run ending
in AuthenticatorRejected, and a refusal ends its run (it adds no acceptance; docs/proofs.md). What
mallory may put into an answer is drawn from its knowledge (:mod:`expat.proofs.knowledge`). Each run is rendered to a
trace with real bytes and handed to the real checker: a run that breaks a rule of the tables is an
*encoding mismatch* (counted; expected zero), its property violations are the verdict's input.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

from expat.model.events import normalize_args
from expat.proofs import world as W
from expat.proofs.knowledge import DEPTH as KNOWLEDGE_DEPTH, Knowledge
from expat.proofs.terms import Algebra


# Terms never nest deeper than H(key || TLS-Exporter(label, conn, ctx)): the algebra has no
# constructor the adversary could apply to make a deeper one that a guard would read (docs/proofs.md).
TERM_DEPTH = KNOWLEDGE_DEPTH

# The prefix of an honest requester's own context (--own-contexts); Verifier nonces are n1, n2, ...,
# mallory's fresh contexts x1, x2, ...
OWN = "o"


# The bound's yes/no adversary options: (field of Bound, its letter in the tag, its words in the
# statement), in tag order. Each is also ``expat proofs run --<field with dashes>`` (proofs/commands.py).
OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("own_aik", "o", "mallory's own AIK on leaked connections"),
    ("impersonate", "i", "revealed honest AIKs on leaked connections"),
    ("all_bindings", "b", "every derivable binding (not one per class)"),
    ("own_contexts", "x", "honest requesters' own fresh contexts (not Verifier nonces)"),
    ("predictable_contexts", "p", "honest requesters' predictable contexts (any the run holds)"),
    ("every_answer", "m", "every derivable answer (every signer, binding and AIK_pub_hash)"),
    ("unpruned", "u", "every refused answer, runs going on after a refusal"),
)


@dataclass(frozen=True)
class Bound:
    """What a "holds" covers: runs with at most ``connections`` TLS connections, ``requests``
    attestation requests in all, ``reveals`` honest AIKs and ``secrets`` honest connections' secrets
    learnt by the adversary, over terms of depth at most :data:`TERM_DEPTH`."""
    connections: int = 2
    requests: int = 2
    reveals: int = 1
    secrets: int = 1
    one_way: bool = False  # connections may also require only the client's or only the server's attestation
    hosts: int = 0  # honest hosts mallory controls (HostCompromised); 0 (the CI bound): none
    honest: int = W.DEFAULT_HONEST  # honest endpoints in the cast (world.Cast); 2 (the CI bound): client, server
    attestation_keys: int = 0  # honest platforms whose attestation key mallory learns; 0 (the CI bound): none
    own_aik: bool = False  # mallory presents its own keys on honest connections it holds (HostCompromised(mallory))
    aes: int = 1  # Attesting Environments per honest endpoint (world.Cast); 1 (the CI bound)
    impersonate: bool = False  # mallory presents a revealed honest AIK on honest connections it holds
    all_bindings: bool = False  # oracle answers over every derivable binding, not one per class
    own_contexts: bool = False  # honest requesters may also take a fresh context of their own (no Verifier nonce)
    predictable_contexts: bool = False  # ... or reuse a context the run already holds (mallory knows it before)
    every_answer: bool = False  # mallory's answers range over every derivable message, no class representatives
    unpruned: bool = False  # every refused answer is a run, and a run goes on after a refusal

    def to_json(self) -> dict:
        doc = {"connections": self.connections, "requests": self.requests, "reveals": self.reveals,
               "secrets": self.secrets, "term_depth": TERM_DEPTH,
               "cast": W.cast(self.one_way, self.honest, self.aes)}
        if self.one_way:
            doc["one_way"] = True
        if self.hosts:
            doc["hosts"] = self.hosts
        if self.attestation_keys:
            doc["attestation_keys"] = self.attestation_keys
        doc.update((name, True) for name, _, _ in OPTIONS if getattr(self, name))
        return doc

    def statement(self) -> str:
        """The bound in words, printed next to every z3 verdict."""
        return (f"<= {self.connections} connection(s), <= {self.requests} request(s), <= {self.reveals} AIK "
                f"reveal(s), <= {self.secrets} connection-secret reveal(s), "
                + (f"<= {self.hosts} host compromise(s), " if self.hosts else "")
                + (f"<= {self.attestation_keys} attestation-key reveal(s), " if self.attestation_keys else "")
                + "".join(f"{words}, " for name, _, words in OPTIONS if getattr(self, name))
                + f"term depth <= {TERM_DEPTH}; " + W.cast_statement(self.one_way, self.honest, self.aes))

    def tag(self) -> str:
        return (f"{self.connections}c{self.requests}r{self.reveals}k{self.secrets}s"
                + (f"{self.hosts}h" if self.hosts else "")
                + (f"{self.attestation_keys}a" if self.attestation_keys else "")
                + "".join(letter for name, letter, _ in OPTIONS if getattr(self, name))
                + ("w" if self.one_way else "")
                + (f"{self.honest}e" if self.honest != W.DEFAULT_HONEST else "")
                + (f"{self.aes}t" if self.aes != 1 else ""))


# The mitigation flags the explorer models (model/roles.py FLAGS as of this search); a variant that
# switches off any other flag is reported as "not modelled" instead of being searched without it.
# local_binding_check off is the profile's binding_check="delegated" (draft -04 §5.1: the requester
# conveys its binding, the Verifier compares and confirms it).
MODELLED_FLAGS = frozenset((
    "check_binding", "check_aik_pub_hash", "include_public_key_in_binding", "check_context_unique",
    "reject_spontaneous_attestation", "reject_resumption", "check_exporter_label", "check_verifier_nonce",
    "check_evidence_signature", "passport_binding_echo", "verifier_compares_binding", "local_binding_check"))


@dataclass(frozen=True)
class Evidence:
    id: str
    ae: Optional[str]        # None: forged (no Attesting Environment produced it)
    te: str
    binding: object          # term
    hash_key: Optional[str]  # AIK_pub_hash is H(this key); None = absent


@dataclass(frozen=True)
class Result:
    id: str
    evidence: str
    echo: Optional[object]   # binding echoed (term) or None
    to: str


@dataclass
class State:
    events: list = field(default_factory=list)          # (agent, event, args)
    conns: dict = field(default_factory=dict)           # conn -> (client agent, server agent)
    used: dict = field(default_factory=dict)            # (agent, conn) -> {ctx: frozenset(roles)}
    nonces: dict = field(default_factory=dict)          # nonce ctx name -> agent it was issued to
    nonces_used: frozenset = frozenset()
    evidence: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    completed: dict = field(default_factory=dict)       # (agent, conn) -> frozenset(attester sides)
    inherited: frozenset = frozenset()                  # (agent, conn) in Attested through resumption
    pending: tuple = ()                                 # (conn, rp, ctx) asked of mallory
    sent: dict = field(default_factory=dict)            # (conn, ctx, te) -> (key, kind, cmw): honest authenticators
    leaked: tuple = ()                                  # honest connections whose secrets mallory knows
    attest: dict = field(default_factory=dict)          # conn -> the sides that must attest on it
    revealed: tuple = ()
    oracles: frozenset = frozenset()                    # AEs mallory used as signing oracle
    requests: int = 0
    counter: int = 0
    steps: tuple = ()                                   # human-readable step labels
    quiet: bool = False  # the last step only asked for attestation: no monitor can newly fail here
    final: bool = False  # a refused answer ends the run (docs/proofs.md: what a refusal adds)
    world: object = None  # the checker's World after replaying events[:world_len] (set by the analysis)
    world_len: int = 0
    hosts: tuple = ()  # honest endpoints whose host mallory controls (HostCompromised)
    attestation_keys: tuple = ()  # platforms whose attestation key mallory learnt (AttestationKeyRevealed)

    def clone(self) -> "State":
        s = State(list(self.events), dict(self.conns), {k: dict(v) for k, v in self.used.items()}, dict(self.nonces),
                  self.nonces_used, dict(self.evidence), dict(self.results), dict(self.completed), self.inherited,
                  self.pending, dict(self.sent), self.leaked, dict(self.attest), self.revealed, self.oracles,
                  self.requests, self.counter, self.steps, False, False, self.world, self.world_len, self.hosts,
                  self.attestation_keys)
        return s

    def e(self, agent: str, event: str, **args) -> None:
        """Record an event, its arguments checked against the vocabulary once, in trace (JSON) form."""
        self.events.append((agent, event, normalize_args(event, args, with_secrets=True)))

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def ctx_names(self) -> list[str]:
        seen: list[str] = []
        for d in self.used.values():
            for c in d:
                if c not in seen:
                    seen.append(c)
        return seen

    def mark(self, agent: str, conn: str, ctx: str, role: str) -> None:
        d = self.used.setdefault((agent, conn), {})
        d[ctx] = d.get(ctx, frozenset()) | {role}

    def complete(self, agent: str, conn: str, side: str) -> None:
        self.completed[(agent, conn)] = self.completed.get((agent, conn), frozenset()) | {side}


class Explorer:
    """Enumerates the runs of one variant (``flags``: flag -> bool) up to ``bound``."""

    def __init__(self, flags: dict[str, bool], bound: Bound, algebra: Optional[Algebra] = None):
        self.f = flags
        self.bound = bound
        cast = W.Cast(bound.honest, bound.aes)  # who exists: its names, computed once
        self.honest, self.pairs, self.aes = cast.honest_endpoints, cast.pairs, cast.aes
        self.endpoint_aes = cast.endpoint_aes
        self.key_ae, self.own_key, self.own_ae, self.revealable = cast.key_ae, cast.own_key, cast.own_ae, cast.revealable
        self.z = algebra or Algebra()

    # -- helpers ---------------------------------------------------------------------------

    def pk(self, key: str) -> Optional[str]:
        return key if self.f["include_public_key_in_binding"] else None

    def binding_for(self, key: str, label: str, conn: str, ctx: str) -> tuple:
        return ("bind", self.pk(key), ("exp", label, conn, ctx))

    def labels(self) -> tuple[str, ...]:
        return (W.LABEL,) if self.f["check_exporter_label"] else (W.LABEL, W.OTHER_LABEL)

    def side(self, st: State, agent: str, conn: str) -> str:
        return W.side_of(st.conns[conn], agent)

    def peer(self, st: State, agent: str, conn: str) -> str:
        a, b = st.conns[conn]
        return b if agent == a else a

    def ctx_free(self, st: State, agent: str, conn: str, role: str) -> list[str]:
        """Contexts ``agent`` may not take for a new ``role`` instance on ``conn``: its own instances of
        that role (table), and with check_context_unique any context it used there (RFC 9261 §4)."""
        if agent in W.ADVERSARIES:
            return []
        d = st.used.get((agent, conn), {})
        return [c for c, roles in d.items() if role in roles or self.f["check_context_unique"]]

    def data_enabled(self, st: State, agent: str, conn: str) -> bool:
        return (st.completed.get((agent, conn), frozenset()) >= st.attest[conn]
                or (agent, conn) in st.inherited)

    def expects(self, st: State, conn: str, te: str) -> bool:
        """``te``'s side must attest on ``conn`` (its peer accepts attestation only then: peer_is_attester)."""
        return self.side(st, te, conn) in st.attest[conn]

    def attest_options(self, n: int) -> Iterator[tuple[frozenset, ...]]:
        both = frozenset({"client", "server"})
        if not self.bound.one_way:
            yield (both,) * n
            return
        yield from itertools.product((both, frozenset({"server"}), frozenset({"client"})), repeat=n)

    # -- the run's start ---------------------------------------------------------------------

    def starts(self) -> Iterator[State]:
        for n in range(1, self.bound.connections + 1):
            for pairs, attests in ((p, a) for p in itertools.combinations_with_replacement(self.pairs, n)
                                   for a in self.attest_options(n)):
                st = State()
                for ae, (key, owner) in self.aes.items():
                    st.e(ae, "AikGenerated", aik=W.key_bytes(key), owner=owner)
                for pair, attest in zip(pairs, attests):
                    self.open(st, pair, "-", attest)
                st.steps = (f"connections {' '.join('-'.join(p) for p in pairs)}",)
                if self.bound.one_way:
                    st.steps += (f"attesting {' '.join('+'.join(sorted(a)) for a in attests)}",)
                yield st
                yield from self.leaks(st)
                yield from self.compromises(st)

    def leaks(self, st: State) -> Iterator[State]:
        """The start ``st`` with the secrets of 1..``secrets`` honest connections learnt by mallory, at
        the start (no monitor excuses a reveal, so an earlier one only gives mallory more). Connections
        opened alike are interchangeable, so then only the first k; with one-way attestation or honest
        connections between different endpoints (a larger cast), every choice."""
        honest = [c for c, pair in st.conns.items() if W.MALLORY not in pair]
        alike = not self.bound.one_way and len({st.conns[c] for c in honest}) <= 1
        for k in range(1, min(self.bound.secrets, len(honest)) + 1):
            choices = [tuple(honest[:k])] if alike else itertools.combinations(honest, k)
            for chosen in choices:
                leaky = st.clone()
                for conn in chosen:
                    leaky.e(W.MALLORY, "SecretRevealed", conn=conn)
                leaky.leaked = chosen
                leaky.steps = st.steps + (f"mallory learns the secrets of {', '.join(chosen)}",)
                yield leaky

    def compromises(self, st: State) -> Iterator[State]:
        """The start ``st`` with the hosts of 1..``hosts`` honest endpoints controlled by mallory
        (HostCompromised, at the start: the formulas excuse a compromise wherever it happens). Mallory
        then holds the secrets of every connection of those hosts (SecretRevealed each, as the theory's
        Compromised_LeaksConnection), uses each one's AIK (KeyRevealed right before first use, as
        Compromised_LeaksAik; not counted in ``reveals``) and has its TEE produce Evidence *for it* over
        any derivable binding (Compromised_TeeOracle), and answers requests to it on its leaked connections
        (:meth:`deliver`). The honest endpoint itself still follows the tables."""
        for k in range(1, min(self.bound.hosts, len(self.honest)) + 1):
            for hosts in itertools.combinations(self.honest, k):
                bad = st.clone()
                for host in hosts:
                    bad.e(W.MALLORY, "HostCompromised", platform=host)
                bad.hosts = hosts
                for conn, pair in st.conns.items():
                    if set(pair) & set(hosts) and W.MALLORY not in pair:
                        bad.e(W.MALLORY, "SecretRevealed", conn=conn)
                        bad.leaked = bad.leaked + (conn,)
                bad.steps = st.steps + (f"mallory controls the host of {', '.join(hosts)}",)
                yield bad

    def open(self, st: State, pair: tuple[str, str], resumed: str,
             attest: frozenset = frozenset({"client", "server"})) -> str:
        conn = f"c{len(st.conns) + 1}"
        st.conns[conn] = pair
        st.attest[conn] = attest
        for agent in pair:
            st.e(agent, "ChannelEstablished", conn=conn, side=W.side_of(pair, agent), suite=W.SUITE,
                 attest=sorted(attest), resumed_from=resumed, exporter_master_secret=W.ems_bytes(conn))
        return conn

    # -- building blocks ---------------------------------------------------------------------

    def request(self, st: State, conn: str, rp: str, te: str, ctx: str) -> None:
        """``rp`` asks and ``te`` receives the request."""
        args = self.request_only(st, conn, rp, te, ctx)
        st.e(te, "RequestReceived", **args)
        st.mark(te, conn, ctx, "te")

    def request_only(self, st: State, conn: str, rp: str, te: str, ctx: str) -> dict:
        """``rp`` sends a request to ``te`` (which may never receive it); returns its arguments."""
        if ctx.startswith("n") and ctx not in st.nonces:  # the fresh nonce of honest_contexts: issue it
            st.counter += 1
            st.nonces[ctx] = rp
            st.e(W.VERIFIER, "NonceIssued", nonce=W.ctx_bytes(ctx), to=rp)
        elif ctx.startswith(OWN) and ctx not in st.ctx_names():  # the requester's own fresh context: no nonce
            st.counter += 1
        # RFC 9261 §4: a server asks with CertificateRequest (13), a client with ClientCertificateRequest (17);
        # by the attester's side, since mallory injecting into an honest connection is on neither
        args = dict(conn=conn, ctx=W.ctx_bytes(ctx), msg_type=13 if self.side(st, te, conn) == "client" else 17,
                    extensions=[W.SIG_ALGS, W.CMW_EXT], attestation_offered=True)
        st.e(rp, "RequestSent", **args)
        st.mark(rp, conn, ctx, "rp")
        return args

    def appraise(self, st: State, ev: Evidence, to: str, nonce: str, echo: bool) -> Optional[Result]:
        """The honest Verifier's appraisal (draft §3.4, §5.1, §7); None when it refuses the nonce."""
        if nonce and self.f["check_verifier_nonce"] and nonce in st.nonces_used:
            return None
        rid = st.fresh("ar-")
        st.e(W.VERIFIER, "EvidenceAppraised", cmw=ev.id, result=rid, status="affirming",
             binding_echo=W.render(ev.binding) if echo else b"", nonce=W.ctx_bytes(nonce) if nonce else b"", to=to)
        if nonce:
            st.nonces_used = st.nonces_used | {nonce}
        res = Result(rid, ev.id, ev.binding if echo else None, to)
        st.results[rid] = res
        return res

    def te_choices(self, te: str) -> list[tuple[str, str]]:
        """The (AE, AIK) an honest attester may use: any of its AEs with any AIK generated for it (the
        tables tie the AIK to the endpoint, aik_is_mine, not to the AE asked; AIK_pub_hash is the check
        that ties them, draft §5.2). One pair with one AE per endpoint."""
        return [(ae, key) for ae, _ in self.endpoint_aes[te] for _, key in self.endpoint_aes[te]]

    def honest_answer(self, st: State, conn: str, te: str, ctx: str, model: str, spontaneous: bool,
                      ae: str, key: str) -> tuple[str, str]:
        """An honest attester (:meth:`te_choices`: AE ``ae``, AIK ``key``): binding over the key and its
        connection (draft §5.1), Evidence from the AE with AIK_pub_hash (§5.2); passport: the Verifier's
        result first. Returns (kind, cmw)."""
        b = self.binding_for(key, W.LABEL, conn, ctx)
        common = dict(conn=conn, ctx=W.ctx_bytes(ctx))
        st.e(te, "EvidenceRequested", **common, ae=ae, binding=W.render(b), aik=W.key_bytes(key),
             spontaneous=spontaneous, exported_value=W.render(("exp", W.LABEL, conn, ctx)))
        ev = self._produce(st, ae, ae, te, b, self.aes[ae][0])  # AIK_pub_hash: the AE's own AIK
        if spontaneous:
            st.mark(te, conn, ctx, "te")
        kind, cmw = "evidence", ev.id
        if model == "passport":
            st.e(te, "EvidenceSubmitted", **common, verifier=W.VERIFIER, cmw=ev.id)
            res = self.appraise(st, ev, te, "", self.f["passport_binding_echo"])
            assert res is not None
            st.e(te, "AttestationResultObtained", **common, result=res.id, status="affirming")
            kind, cmw = "result", res.id
        st.e(te, "AuthenticatorSent", **common, aik=W.key_bytes(key), kind=kind, cmw=cmw, spontaneous=spontaneous)
        st.sent[(conn, ctx, te)] = (key, kind, cmw)
        return kind, cmw

    def carried(self, st: State, kind: str, cmw: str) -> tuple[Evidence, Optional[Result], Optional[object]]:
        """(the Evidence behind ``cmw``, its Attestation Result when ``kind`` is "result", the binding
        the CMW carries: the Evidence's, or the result's echo)."""
        if kind == "evidence":
            ev = st.evidence[cmw]
            return ev, None, ev.binding
        res = st.results[cmw]
        return st.evidence[res.evidence], res, res.echo

    def delegates(self, kind: str) -> bool:
        """binding_check="delegated" (draft -04 §5.1): the requester conveys its binding to the Verifier
        instead of comparing it. Background check only: a passport result was made before the requester
        computed anything, so the requester compares the echoed binding itself (docs/profiles.md)."""
        return kind == "evidence" and not self.f["local_binding_check"]

    def decide(self, st: State, conn: str, ctx: str, key: str, kind: str, cmw: str) -> Optional[str]:
        """The honest requester's comparisons (draft §5.1, §5.2), decided on terms by z3: the label the
        binding matched under, "" when no comparison applies, or None when it refuses. Delegating, it
        compares AIK_pub_hash only (-04 §5.2); the binding is the Verifier's (:meth:`verifier_confirms`)."""
        ev, _, carried = self.carried(st, kind, cmw)
        if kind != "evidence" and not self.f["passport_binding_echo"]:
            return ""  # draft §4 literal: signature and policy only
        label = W.LABEL
        if self.f["check_binding"] and not self.delegates(kind):
            label = next((lab for lab in self.labels()
                          if carried is not None and self.z.equal(carried, self.binding_for(key, lab, conn, ctx))),
                         None)
            if label is None:
                return None
        if self.f["check_aik_pub_hash"]:
            if ev.hash_key is None or not self.z.equal(("aikhash", ev.hash_key), ("aikhash", key)):
                return None
        return label

    def verifier_affirms(self, st: State, ev: Evidence, expected: object) -> bool:
        if self.f["check_evidence_signature"] and ev.ae is None:
            return False  # draft §7: Evidence must chain to a manufacturer's attestation key
        return self.verifier_confirms(ev, expected)

    def verifier_confirms(self, ev: Evidence, expected: object) -> bool:
        """The Verifier's comparison of the binding the requester conveyed with the Evidence's (draft
        §5.1; -04 §5.1 when delegated), on terms; skipped with verifier_compares_binding off."""
        if not (self.f["check_binding"] and self.f["verifier_compares_binding"]) or ev.ae is None:
            return True
        return self.z.equal(expected, ev.binding)

    def accept(self, st: State, conn: str, rp: str, ctx: str, key: str, kind: str, cmw: str, spontaneous: bool,
               label: str) -> bool:
        """The honest requester after a successful comparison: RFC 9261 §5.2.4 validation, BindingChecked,
        then the Verifier (background check) or the carried result (passport), then completion."""
        common = dict(conn=conn, ctx=W.ctx_bytes(ctx))
        st.e(rp, "AuthenticatorAccepted", **common, aik=W.key_bytes(key), kind=kind, cmw=cmw, spontaneous=spontaneous)
        if spontaneous:
            st.mark(rp, conn, ctx, "rp")
        ev, res, carried = self.carried(st, kind, cmw)
        expected = self.binding_for(key, label, conn, ctx)
        if not self.delegates(kind) and (kind == "evidence" or self.f["passport_binding_echo"]):
            st.e(rp, "BindingChecked", **common, expected_binding=W.render(expected),
                 cmw_binding=W.render(carried) if carried is not None else b"",
                 expected_aik_hash=W.render(("aikhash", key)),
                 cmw_aik_hash=W.render(("aikhash", ev.hash_key)) if ev.hash_key else b"", label=label,
                 exported_value=W.render(("exp", label, conn, ctx)))
        if kind == "evidence":
            st.e(rp, "EvidenceForwarded", **common, verifier=W.VERIFIER, cmw=ev.id, expected_binding=W.render(expected))
            if not self.verifier_affirms(st, ev, expected):
                st.e(rp, "AuthenticatorRejected", **common, reason="verifier-contraindicated")
                return False
            if self.delegates(kind):  # -04 §5.1: the Verifier confirms the binding it compared
                st.e(W.VERIFIER, "BindingConfirmed", cmw=ev.id, binding=W.render(expected), to=rp)
            nonce = ctx if ctx in st.nonces else ""
            res = self.appraise(st, ev, rp, nonce, False)
            if res is None:
                st.e(rp, "AuthenticatorRejected", **common, reason="verifier-refused-nonce")
                return False
        assert res is not None
        st.e(rp, "AttestationResultReceived", **common, result=res.id, status="affirming")
        peer_side = W.peer_side(self.side(st, rp, conn))
        st.e(rp, "AttestationCompleted", **common, attester=peer_side, cmw=cmw)
        st.complete(rp, conn, peer_side)
        return True

    def te_completes(self, st: State, conn: str, te: str, ctx: str, cmw: str) -> None:
        if te in W.ADVERSARIES:
            return
        side = self.side(st, te, conn)
        st.e(te, "AttestationCompleted", conn=conn, ctx=W.ctx_bytes(ctx), attester=side, cmw=cmw)
        st.complete(te, conn, side)

    # -- the adversary's answers --------------------------------------------------------------

    def answers(self, st: State, conn: str, ctx: str, only_key: Optional[str] = None, own: bool = False,
                impersonate: Optional[str] = None) -> Iterator[tuple[str, Callable[[State], tuple]]]:
        """(label, apply) for every answer of mallory to (conn, ctx); ``apply`` emits mallory's and the
        AEs'/Verifier's events and returns (key, kind, cmw). An honest AIK is revealed (KeyRevealed)
        right before its first use: revealing it earlier only excuses more (aik_ownership)."""
        host_keys = [key for h in st.hosts for _, key in self.endpoint_aes[h]]
        if only_key is not None:
            keys = [only_key]
        elif impersonate is not None:
            keys = [impersonate]
        elif own:
            keys = list(W.ADVERSARY_KEYS)
        else:
            keys = list(W.ADVERSARY_KEYS) + list(st.revealed)
            if sum(k not in host_keys for k in st.revealed) < self.bound.reveals:
                keys += [k for k in self.revealable if k not in st.revealed and self.key_ae[k] not in st.oracles]
            keys += [k for k in host_keys if k not in keys]  # a compromised host's AIK (Compromised_LeaksAik)
        kn = self.knowledge(st)
        signing = list(st.attestation_keys)  # attestation keys held, or learnable within the bound
        if len(signing) < self.bound.attestation_keys:
            signing += [p for p in self.honest if p not in signing]
        for key in keys:
            def reveal(s: State, key: str = key) -> None:
                if key in self.revealable and key not in s.revealed:
                    s.e(W.MALLORY, "KeyRevealed", key=W.key_bytes(key))
                    s.revealed = s.revealed + (key,)
            every = self.bound.all_bindings or self.bound.every_answer
            reps = kn.bindings(conn, ctx, key, every)
            # passport: the request's own binding under each label only (the menu's), every one with all_bindings
            models = {cls: ("background", "passport") if cls in ("own", "label") or every
                      else ("background",) for cls, _ in reps}
            for ae, te in self.oracle_aes(st, key, only_key is not None):
                # impersonating: Evidence a TEE makes for mallory on an honest connection is the theory's
                # Compromised_TeeOracle of mallory's platform (docs/proofs.md, --impersonate)
                own_tee = impersonate is not None and te == W.MALLORY
                for cls, b in reps:
                    for model in models[cls]:
                        yield (f"oracle {ae}{'' if te == W.MALLORY else ' for ' + te} {key} {cls}-binding {model}",
                               lambda s, key=key, ae=ae, te=te, b=b, model=model, reveal=reveal, own_tee=own_tee: (
                                   reveal(s), own_tee and self._compromise_mallory(s),
                                   self._oracle(s, conn, ctx, key, ae, b, model, te))[2])
            for cmw in st.evidence:
                yield f"replay {cmw} {key}", lambda s, key=key, cmw=cmw, reveal=reveal: (
                    reveal(s), (key, "evidence", cmw))[1]
            for cmw in st.results:
                yield f"replay {cmw} {key}", lambda s, key=key, cmw=cmw, reveal=reveal: (
                    reveal(s), (key, "result", cmw))[1]
            yield f"forge {key}", lambda s, key=key, reveal=reveal: (reveal(s), self._forge(s, conn, ctx, key))[1]
            if self.bound.every_answer:
                yield from self._every_other_answer(st, conn, ctx, key, reveal, reps, kn)
            for platform in signing:
                for cls, b in reps:
                    for model in models[cls]:
                        for hk in self._claimable_hashes(key, kn):
                            yield (f"sign with ak-{platform} {key} {cls}-binding {model}"
                                   + ("" if hk == key else f" aik-hash {hk}"),
                                   lambda s, key=key, p=platform, b=b, model=model, reveal=reveal, hk=hk: (
                                       reveal(s), self._signed(s, conn, ctx, key, p, b, model, hk))[1])

    def _claimable_hashes(self, key: str, kn: Knowledge) -> list[Optional[str]]:
        """The AIK_pub_hash claims mallory may write into Evidence it signs itself (forged, or with a
        revealed attestation key): the presented key's; with the bound's ``every_answer`` also every other
        public key's, and none (the claim left out, draft §5.2's MUST broken)."""
        if not self.bound.every_answer:
            return [key]
        return [key] + [k for k in kn.keys if k != key] + [None]

    def _every_other_answer(self, st: State, conn: str, ctx: str, key: str, reveal: Callable[[State], None],
                            reps: list, kn: Knowledge) -> Iterator[tuple[str, Callable[[State], tuple]]]:
        """With the bound's ``every_answer``, the answers the menu's shapes leave out (docs/proofs.md): forged
        Evidence (no AE signed it) over every derivable binding with every AIK_pub_hash claim, and, where the
        Verifier does not check Evidence signatures (draft §7), exchanged at the Verifier for a result; and
        every Evidence of the run (an honest party's too) submitted to the Verifier by mallory for an
        Attestation Result naming mallory as recipient, presented as a passport answer."""
        forged_models = ("background",) if self.f["check_evidence_signature"] else ("background", "passport")
        for cls, b in reps:
            for hk in self._claimable_hashes(key, kn):
                for model in forged_models:
                    if (cls, hk, model) == ("own", key, "background"):
                        continue  # the menu's own forge, above
                    yield (f"forge {key} {cls}-binding aik-hash {hk} {model}",
                           lambda s, key=key, b=b, hk=hk, model=model, reveal=reveal: (
                               reveal(s), self._forge(s, conn, ctx, key, b, hk, model))[1])
        for cmw, ev in st.evidence.items():
            if ev.ae is None and self.f["check_evidence_signature"]:
                continue  # the Verifier refuses it (draft §7); the search models no refusing appraisal
            yield (f"resubmit {cmw} {key}", lambda s, key=key, ev=ev, reveal=reveal: (
                reveal(s), self._present(s, conn, ctx, key, ev, "passport"))[1])

    @staticmethod
    def _compromise_mallory(st: State) -> None:
        """HostCompromised(mallory), once per run (the theory's only way to Evidence of an adversary's TEE
        over a binding it chooses for an honest connection: Compromised_TeeOracle)."""
        if not any(e[1] == "HostCompromised" and e[2]["platform"] == W.MALLORY for e in st.events):
            st.e(W.MALLORY, "HostCompromised", platform=W.MALLORY)

    def impersonation_keys(self, st: State) -> list[str]:
        """The honest AIKs mallory may present on a leaked connection (--impersonate): those it learnt,
        and, within ``reveals``, any other whose TEE it has not used as an oracle (a platform is never
        both; docs/proofs.md)."""
        host_keys = {key for h in st.hosts for _, key in self.endpoint_aes[h]}
        keys = [k for k in st.revealed if k not in host_keys]
        if len(keys) < self.bound.reveals:  # reveals not yet spent
            keys += [k for k in self.revealable
                     if k not in st.revealed and k not in host_keys and self.key_ae[k] not in st.oracles]
        return keys

    def oracle_aes(self, st: State, key: str, hosts_only: bool = False) -> list[tuple[str, str]]:
        """The AEs mallory may use as signing oracle: its own (m-ae), and one honest AE (split deployment,
        draft §5.2), never the AE of an AIK it holds (a leaked AIK and a hijacked TEE of one platform
        make a fully corrupted attester, against which nothing is claimed). Which honest AE is
        immaterial to every monitor (the Evidence names mallory as its TE either way), so only the
        first eligible one is explored (symmetry reduction). Returns (AE, the TE the Evidence is made for):
        mallory for these; and for each compromised host, its AE making Evidence for that host (the
        theory's Compromised_TeeOracle), the only ones with ``hosts_only``."""
        for_hosts = [(ae, h) for h in st.hosts for ae, _ in self.endpoint_aes[h]]
        if hosts_only:
            return for_hosts
        held = set(st.revealed) | ({key} if key in self.revealable else set())
        honest = [ae for ae in self.aes if ae != "m-ae" and self.aes[ae][0] not in held]
        used = [ae for ae in honest if ae in st.oracles]
        if self.bound.every_answer:  # no symmetry reduction: every honest AE it may use
            return [(ae, W.MALLORY) for ae in ["m-ae"] + honest] + for_hosts
        return [(ae, W.MALLORY) for ae in ["m-ae"] + (used or honest)[:1]] + for_hosts

    def knowledge(self, st: State) -> Knowledge:
        """The adversary's knowledge in ``st`` (:mod:`expat.proofs.knowledge`): every public key, label,
        context and nonce of the run, the secrets of its own and of the leaked connections, its own and
        the revealed AIKs, and the bindings projected from every Evidence and result echo it saw."""
        seen = [ev.binding for ev in st.evidence.values()] + [r.echo for r in st.results.values() if r.echo]
        return Knowledge(self.z, tuple(self.key_ae) + ("kX",), tuple(W.ADVERSARY_KEYS) + tuple(st.revealed),
                         tuple(c for c, pair in st.conns.items() if W.MALLORY in pair) + tuple(st.leaked),
                         tuple(dict.fromkeys(st.ctx_names() + list(st.nonces))), (W.LABEL, W.OTHER_LABEL),
                         tuple(dict.fromkeys(seen)), self.f["include_public_key_in_binding"])

    @staticmethod
    def _produce(st: State, by: str, ae: str, te: str, b: tuple, hash_key: Optional[str]) -> Evidence:
        """Evidence of ``ae``'s platform key for ``te`` over binding ``b`` with AIK_pub_hash of
        ``hash_key``, recorded as ``by``'s EvidenceProduced (the AE itself, or mallory signing with a
        revealed attestation key)."""
        ev = Evidence(st.fresh("ev-"), ae, te, b, hash_key)
        st.evidence[ev.id] = ev
        st.e(by, "EvidenceProduced", cmw=ev.id, te=te, binding=W.render(b),
             aik_hash=W.render(("aikhash", hash_key)) if hash_key is not None else b"", attestation_key="ak-" + ae)
        return ev

    def _oracle(self, st: State, conn: str, ctx: str, key: str, ae: str, b: tuple, model: str,
                te: str = W.MALLORY) -> tuple:
        st.e(W.MALLORY, "EvidenceRequested", conn=conn, ctx=W.ctx_bytes(ctx), ae=ae, binding=W.render(b),
             aik=W.key_bytes(key), spontaneous=False)
        if te == W.MALLORY:
            st.oracles = st.oracles | {ae}
        ev = self._produce(st, ae, ae, te, b, self.aes[ae][0])
        return self._present(st, conn, ctx, key, ev, model)

    def _present(self, st: State, conn: str, ctx: str, key: str, ev: Evidence, model: str) -> tuple:
        """mallory's answer with ``ev``: as Evidence (background check), or exchanged at the Verifier for
        an Attestation Result (passport)."""
        if model == "background":
            return key, "evidence", ev.id
        st.e(W.MALLORY, "EvidenceSubmitted", conn=conn, ctx=W.ctx_bytes(ctx), verifier=W.VERIFIER, cmw=ev.id)
        res = self.appraise(st, ev, W.MALLORY, "", self.f["passport_binding_echo"])
        assert res is not None
        return key, "result", res.id

    def _signed(self, st: State, conn: str, ctx: str, key: str, platform: str, b: tuple, model: str,
                hash_key: Optional[str] = "") -> tuple:
        """Evidence mallory signs with ``platform``'s attestation key (the theory's AttestationKeyRevealed
        outputs it): it names ``platform``, over binding ``b`` and AIK_pub_hash of ``key``, and the
        Verifier affirms it (draft §7: the signature chains to that platform's key). Revealed right before
        first use, like an AIK; recorded as mallory's EvidenceProduced (docs/proofs.md)."""
        if platform not in st.attestation_keys:
            st.e(W.MALLORY, "AttestationKeyRevealed", platform=platform)
            st.attestation_keys = st.attestation_keys + (platform,)
        ae = self.own_ae[platform]
        ev = self._produce(st, W.MALLORY, ae, platform, b, key if hash_key == "" else hash_key)
        return self._present(st, conn, ctx, key, ev, model)

    def _forge(self, st: State, conn: str, ctx: str, key: str, b: Optional[tuple] = None,
               hash_key: Optional[str] = "", model: str = "background") -> tuple:
        """Evidence no AE signed (it carries no EvidenceProduced): by default over this request's binding
        with the presented key's AIK_pub_hash; ``b``, ``hash_key`` (None: no claim) and ``model`` with the
        bound's ``every_answer``."""
        ev = Evidence(st.fresh("forged-"), None, W.MALLORY, b if b is not None else self.binding_for(key, W.LABEL, conn, ctx),
                      key if hash_key == "" else hash_key)
        st.evidence[ev.id] = ev
        if model == "background":
            return key, "evidence", ev.id
        return self._present(st, conn, ctx, key, ev, model)

    def adversary_answer(self, st: State, conn: str, rp: str, ctx: str, spontaneous: bool,
                         only_key: Optional[str] = None, own: bool = False,
                         impersonate: Optional[str] = None) -> Iterator[State]:
        """Every answer the requester accepts, each a run that goes on; and the first answer it refuses,
        as a run ending in AuthenticatorRejected (a refusal adds no acceptance: docs/proofs.md).
        ``only_key``: mallory answers as a compromised host, under that host's AIK only. ``own``: on an
        honest connection whose secrets it holds, under its own keys, as a platform whose host the
        adversary controls: HostCompromised(mallory) first, as the theory needs for that run.
        ``impersonate``: on such a connection, under that honest AIK (KeyRevealed before first use), with
        HostCompromised(mallory) recorded before Evidence a TEE makes for mallory (docs/proofs.md,
        --impersonate)."""
        refused = False
        for label, apply in self.answers(st, conn, ctx, only_key, own, impersonate):
            child = st.clone()
            if own:
                self._compromise_mallory(child)
            key, kind, cmw = apply(child)
            verdict = self.decide(child, conn, ctx, key, kind, cmw)
            if verdict is None and refused and not self.bound.unpruned:
                continue
            common = dict(conn=conn, ctx=W.ctx_bytes(ctx))
            child.e(W.MALLORY, "AuthenticatorSent", **common, aik=W.key_bytes(key), kind=kind, cmw=cmw,
                    spontaneous=spontaneous)
            if verdict is None:
                refused = True
                self.refuse(child, conn, rp, ctx, key, kind, cmw, spontaneous)
                child.steps = child.steps + (f"mallory answers {rp} on {conn}/{ctx}: {label} (refused)",)
                child.final = not self.bound.unpruned
                yield child
                continue
            if not self.accept(child, conn, rp, ctx, key, kind, cmw, spontaneous, verdict or W.LABEL):
                child.final = not self.bound.unpruned  # refused at the Verifier: a refusal ends the run, as above
            child.steps = child.steps + (f"mallory answers {rp} on {conn}/{ctx}: {label}",)
            yield child

    def refuse(self, st: State, conn: str, rp: str, ctx: str, key: str, kind: str, cmw: str,
               spontaneous: bool) -> None:
        """The requester validates the EA (RFC 9261 §5.2.4) and refuses its attestation: the comparison
        of AIK_pub_hash (§5.2) or of the binding (§5.1) failed."""
        common = dict(conn=conn, ctx=W.ctx_bytes(ctx))
        st.e(rp, "AuthenticatorAccepted", **common, aik=W.key_bytes(key), kind=kind, cmw=cmw, spontaneous=spontaneous)
        ev, _, _ = self.carried(st, kind, cmw)
        hash_ok = (not self.f["check_aik_pub_hash"] or ev.hash_key is not None
                   and self.z.equal(("aikhash", ev.hash_key), ("aikhash", key)))
        st.e(rp, "AuthenticatorRejected", **common, reason="binding-mismatch" if hash_ok else "aik-pub-hash-mismatch")

    # -- steps -------------------------------------------------------------------------------

    def honest_contexts(self, st: State, conn: str, rp: str, te: str) -> list[str]:
        """A fresh Verifier nonce, or a nonce the Verifier gave this requester before (background check,
        draft §5.1): z3 enumerates the ones the uniqueness rules allow; then :meth:`own_context`."""
        known = [n for n, to in st.nonces.items() if to == rp]
        avoid = set(self.ctx_free(st, rp, conn, "rp")) | set(self.ctx_free(st, te, conn, "te"))
        return self.z.choices(known, f"n{st.counter + 1}", avoid) + self.own_context(st, avoid)

    def own_context(self, st: State, avoid: set) -> list[str]:
        """With the bound's ``own_contexts``: a fresh context the requester picks itself, no Verifier nonce
        (the theory's passport requester, Fr(~ctx); draft §5.1 says the background-check context
        "contains" the nonce, with no requirement keyword, and the tables tie it to none: docs/proofs.md).
        With ``predictable_contexts``: also any context the run already holds that is not a Verifier nonce
        and that the uniqueness rules (``avoid``) allow: its own from another connection, the other
        endpoint's, mallory's; so mallory knows it before the request (RFC 9261 §4 asks only uniqueness
        within a connection). A context equal to a nonce is the Verifier's nonce (its appraisal looks the
        value up): those are :meth:`honest_contexts`' own choices. Last, so every run without the options
        is explored as before."""
        out = [f"{OWN}{st.counter + 1}"] if self.bound.own_contexts else []
        if self.bound.predictable_contexts:
            out += [c for c in st.ctx_names() if c not in st.nonces and c not in avoid]
        return out

    def steps(self, st: State) -> Iterator[State]:
        f = self.f
        if st.requests < self.bound.requests:
            for conn, (a, b) in st.conns.items():
                for rp, te in ((a, b), (b, a)):
                    if rp in self.honest and not self.expects(st, conn, te):
                        continue  # the requester accepts no attestation from this side (peer_is_attester)
                    if rp in self.honest and te in self.honest:
                        yield from self._honest(st, conn, rp, te)
                    elif rp in self.honest:
                        for ctx in self.honest_contexts(st, conn, rp, te):
                            child = st.clone()
                            child.requests += 1
                            self.request(child, conn, rp, te, ctx)
                            child.pending = child.pending + ((conn, rp, ctx),)
                            child.steps = child.steps + (f"{rp} asks mallory on {conn} with context {ctx}",)
                            child.quiet = True
                            yield child
                    elif te in self.honest:
                        yield from self._adversary_asks(st, conn, te)
                if (not f["reject_spontaneous_attestation"] and a in self.honest and b == W.MALLORY
                        and self.expects(st, conn, b)):
                    child = st.clone()
                    child.requests += 1
                    ctx = child.fresh("x")
                    child.steps = child.steps + (f"mallory attests spontaneously on {conn} with context {ctx}",)
                    for grandchild in self.adversary_answer(child, conn, a, ctx, True):
                        yield grandchild
        for i, (conn, rp, ctx) in enumerate(st.pending):
            base = st.clone()
            base.pending = st.pending[:i] + st.pending[i + 1:]
            if W.MALLORY in st.conns[conn]:
                yield from self.adversary_answer(base, conn, rp, ctx, False)
            else:
                yield from self.deliver(base, conn, rp, ctx)
        for conn in st.leaked:
            if st.requests < self.bound.requests:
                yield from self._leaked(st, conn)
        if not f["reject_resumption"] and len(st.conns) < self.bound.connections:
            for conn, pair in st.conns.items():
                if W.MALLORY in pair:
                    continue
                child = st.clone()
                ticket = child.fresh("t-")
                child.e(pair[1], "NewSessionTicketSent", conn=conn, ticket=ticket)
                child.e(pair[0], "NewSessionTicketReceived", conn=conn, ticket=ticket, kept=True)
                new = self.open(child, pair, ticket, st.attest[conn])
                if set(pair) & set(st.hosts):  # a compromised host leaks its new connection too
                    child.e(W.MALLORY, "SecretRevealed", conn=new)
                    child.leaked = child.leaked + (new,)
                for agent in pair:
                    if self.data_enabled(child, agent, conn):  # draft §7.2: the resumed state is inherited
                        child.inherited = child.inherited | {(agent, new)}
                child.steps = child.steps + (f"{conn}: ticket {ticket}, resumed as {new}",)
                yield child

    def _honest(self, st: State, conn: str, rp: str, te: str) -> Iterator[State]:
        te_side = self.side(st, te, conn)
        options: list[tuple[str, bool]] = [(ctx, False) for ctx in self.honest_contexts(st, conn, rp, te)]
        if te_side == "server" and not self.f["reject_spontaneous_attestation"]:
            options.append(("", True))
        choices = self.te_choices(te)
        for ctx, spontaneous in options:
            for model, (ae, key) in itertools.product(("background", "passport"), choices):
                child = st.clone()
                child.requests += 1
                if spontaneous:
                    ctx = child.fresh("x")
                else:
                    self.request(child, conn, rp, te, ctx)
                kind, cmw = self.honest_answer(child, conn, te, ctx, model, spontaneous, ae, key)
                label = self.decide(child, conn, ctx, key, kind, cmw)
                via = f", {ae} with {key}" if len(choices) > 1 else ""
                child.steps = child.steps + (f"{te} attests to {rp} on {conn} ({model}, context {ctx}"
                                             f"{', spontaneous' if spontaneous else ''}{via})",)
                if label is None:  # only an AE/AIK mismatch: refused by AIK_pub_hash (draft §5.2)
                    assert (ae, key) not in self.endpoint_aes[te], "an honest answer is always accepted"
                    self.refuse(child, conn, rp, ctx, key, kind, cmw, spontaneous)
                    child.steps = child.steps[:-1] + (child.steps[-1] + " (refused)",)
                    child.final = not self.bound.unpruned
                elif self.accept(child, conn, rp, ctx, key, kind, cmw, spontaneous, label or W.LABEL):
                    self.te_completes(child, conn, te, ctx, cmw)
                yield child

    def _adversary_asks(self, st: State, conn: str, te: str, for_rp: Optional[str] = None) -> Iterator[State]:
        """mallory asks ``te`` on ``conn``: on its own connection, or injected into a leaked honest one
        in the name of ``for_rp``, where it may also use a nonce the Verifier is issuing to ``for_rp``
        (a nonce is a freshness value: the draft gives it no confidential Relying Party-Verifier channel,
        draft §5.1; so mallory sees it when the Verifier issues it)."""
        avoid = self.ctx_free(st, te, conn, "te")
        fresh_x, fresh_n = f"x{st.counter + 1}", f"n{st.counter + 1}"
        options = self.z.choices(st.ctx_names(), fresh_x, avoid)
        if for_rp is not None:
            options.append(fresh_n)
        choices = self.te_choices(te)
        for ctx in options:
            for model, (ae, key) in itertools.product(("background", "passport"), choices):
                child = st.clone()
                child.requests += 1
                if ctx == fresh_x:
                    child.counter += 1
                elif ctx == fresh_n:
                    child.counter += 1
                    child.nonces[ctx] = for_rp
                    child.e(W.VERIFIER, "NonceIssued", nonce=W.ctx_bytes(ctx), to=for_rp)
                self.request(child, conn, W.MALLORY, te, ctx)
                kind, cmw = self.honest_answer(child, conn, te, ctx, model, False, ae, key)
                self.te_completes(child, conn, te, ctx, cmw)
                via = f" in the name of {for_rp}" if for_rp else ""
                used = f", {ae} with {key}" if len(choices) > 1 else ""
                child.steps = child.steps + (f"mallory asks {te} on {conn}{via} with context {ctx} ({model}{used})",)
                child.quiet = True
                yield child

    def _leaked(self, st: State, conn: str) -> Iterator[State]:
        """A leaked honest connection: mallory holds its traffic and exporter secrets, so it injects
        requests to either endpoint in the other's name and intercepts their requests; it answers an
        intercepted request only with an authenticator the peer made on this connection for the same
        context (:meth:`deliver`): any other one would fail the EA's CertificateVerify, which covers the
        connection, the direction and the context (RFC 9261 §5.1, §5.2.2)."""
        a, b = st.conns[conn]
        for rp, te in ((a, b), (b, a)):
            yield from self._adversary_asks(st, conn, te, for_rp=rp)
            if not self.expects(st, conn, te):
                continue
            known = [n for n, to in st.nonces.items() if to == rp]
            avoid = set(self.ctx_free(st, rp, conn, "rp"))
            for ctx in self.z.choices(known, f"n{st.counter + 1}", avoid) + self.own_context(st, avoid):
                child = st.clone()
                child.requests += 1
                self.request_only(child, conn, rp, te, ctx)
                child.pending = child.pending + ((conn, rp, ctx),)
                child.steps = child.steps + (f"mallory intercepts {rp}'s request on {conn} with context {ctx}",)
                child.quiet = True
                yield child

    def deliver(self, st: State, conn: str, rp: str, ctx: str) -> Iterator[State]:
        """mallory answers an intercepted request with the peer's authenticator for this connection and
        context, made earlier (pre-play) or now; nothing else passes RFC 9261 §5.2.2. When mallory
        controls the peer's host, it also answers in the peer's name: under the peer's AIK (it signs the
        CertificateVerify with the connection's secrets), with Evidence the peer's TEE makes for the peer
        over any derivable binding, or any Evidence or result it saw (:meth:`adversary_answer`)."""
        te = self.peer(st, rp, conn)
        if te in st.hosts:
            for _, key in self.endpoint_aes[te]:
                yield from self.adversary_answer(st, conn, rp, ctx, False, only_key=key)
        if self.bound.own_aik:  # its own platform, as the connection's peer (docs/proofs.md, --own-aik)
            yield from self.adversary_answer(st, conn, rp, ctx, False, own=True)
        if self.bound.impersonate:  # a revealed honest AIK (docs/proofs.md, --impersonate)
            for key in self.impersonation_keys(st):
                yield from self.adversary_answer(st, conn, rp, ctx, False, impersonate=key)
        made = st.sent.get((conn, ctx, te))
        if made is None:
            return
        key, kind, cmw = made
        child = st.clone()
        verdict = self.decide(child, conn, ctx, key, kind, cmw)
        if verdict is None:
            return
        self.accept(child, conn, rp, ctx, key, kind, cmw, False, verdict or W.LABEL)  # the attester completed already
        child.steps = child.steps + (f"mallory delivers {te}'s authenticator {cmw} to {rp} on {conn}/{ctx}",)
        yield child

    # -- the search --------------------------------------------------------------------------

    def runs(self) -> Iterator[State]:
        """Every run within the bound (depth-first, deterministic order), each one complete as is."""
        stack: list[State] = []
        for start in self.starts():
            stack.append(start)
            while stack:
                st = stack.pop()
                yield st
                children = [] if st.final else list(self.steps(st))
                stack.extend(reversed(children))

    def data_suffix(self, st: State) -> list[tuple[str, str, dict]]:
        """Application data wherever an honest endpoint may send it (draft §7.3), appended to each run."""
        out = []
        for conn, pair in st.conns.items():
            for agent in pair:
                if agent in self.honest and self.data_enabled(st, agent, conn):
                    out.append((agent, "ApplicationDataSent", {"conn": conn, "length": 64}))
                    peer = self.peer(st, agent, conn)
                    if peer in self.honest and self.data_enabled(st, peer, conn):
                        out.append((peer, "ApplicationDataReceived", {"conn": conn, "length": 64}))
        return out
