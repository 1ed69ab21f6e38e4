"""Attack demos: the real reference over real loopback TLS 1.3, with a simulated adversary.

Each :class:`Attack` runs twice (:func:`run_attack`): once with the draft's mitigation on (the
implementation must reject and the trace must be conformant) and once with that mitigation switched
off through the profile (the implementation accepts and the checker must flag the named property).
The adversary acts through the hooks the reference offers to demos (``evidence_hook`` of an
:class:`~expat.reference.attestation.endpoint.AttestedEndpoint`, ``attack.prepare`` /
``attack.before_accept`` / ``attack.drive`` (the adversary runs the exchange itself) /
``attack.finish`` (after the application data) of :func:`~expat.reference.attestation.scenario.run`);
the trace header names the adversary agents and the disabled mitigations (docs/attacks.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from expat.errors import ProtocolError
from expat.model.checker import Result, check_trace
from expat.model.trace import Trace, TraceRecorder
from expat.profile import EXPORTER_LABELS, Profile, get_profile
from expat.reference import pki
from expat.reference import messages
from expat.reference.attestation.endpoint import (ATTESTATION_OUTCOME, BACKGROUND_CHECK, PASSPORT, AttestationOutcome,
                                                  AttestedEndpoint, decode_cmw_attestation)
from expat.reference.framing import FrameType
from expat.reference.attestation import resumption
from expat.reference.attestation.environment import AikIdentity, AikSigner
from expat.reference.attestation.scenario import RunResult, Scenario, run
from expat.reference.attestation.verifier import counter_appraisal_ids

SUITE = "TLS_AES_128_GCM_SHA256"


# --- plumbing ------------------------------------------------------------------------------------

class ConnectionNames:
    """Recorder wrapper for attacks that span several scenario runs: each run's connection ("conn1")
    gets its own name, and an Attesting Environment taking part in a later run (same device, same
    seed) does not announce its existing AIK again."""

    def __init__(self, recorder: TraceRecorder):
        self.recorder = recorder
        self.conn = "conn1"
        self._announced: set[tuple[str, str]] = set()

    def on(self, conn: str) -> "ConnectionNames":
        self.conn = conn
        return self

    def emit(self, event: str, agent: str, /, **args: Any) -> Any:
        if args.get("conn") == "conn1":
            args["conn"] = self.conn
        if event == "AikGenerated":
            key = (agent, bytes(args["aik"]).hex())
            if key in self._announced:
                return None
            self._announced.add(key)
        return self.recorder.emit(event, agent, **args)


class Hooks:
    """Base of the adversaries: no-op ``prepare`` / ``before_accept`` (scenario.run's attack protocol)."""

    def prepare(self, eps: dict[str, AttestedEndpoint]) -> None:
        pass

    def before_accept(self, rp: AttestedEndpoint, att: AttestedEndpoint, request: bytes) -> None:
        pass


class CaptureEvidence(Hooks):
    """The attester's host keeps a copy of every Evidence its AE produced (it sees them all)."""

    def __init__(self, side: str = "client"):
        self.side = side
        self.captured: list[bytes] = []

    def prepare(self, eps: dict[str, AttestedEndpoint]) -> None:
        def hook(ctx: bytes, binding: bytes, evidence: bytes) -> bytes:
            self.captured.append(evidence)
            return evidence
        eps[self.side].evidence_hook = hook


class CaptureResult(Hooks):
    """Passport model: the attester's host keeps a copy of every Attestation Result it obtained."""

    def __init__(self, side: str = "client"):
        self.side = side
        self.captured: list[bytes] = []

    def prepare(self, eps: dict[str, AttestedEndpoint]) -> None:
        def keep(ctx: bytes, result: bytes) -> bytes:
            self.captured.append(result)
            return result
        _substitute_result(eps[self.side], keep)


# --- the attacks ---------------------------------------------------------------------------------

Runner = Callable[[Profile, ConnectionNames], RunResult]


@dataclass(frozen=True)
class Attack:
    name: str
    summary: str
    section: str
    mitigation: str                   # a Mitigations field, or a profile flag of _PROFILE_FLAGS
    properties: tuple[str, ...]       # flagged when the mitigation is off (at least these)
    adversaries: tuple[str, ...]
    runner: Runner
    with_secrets: bool = False
    base_profile: str = "default"
    base_off: tuple[str, ...] = ()    # flags off in both runs: the weaker setting the attack needs

    def profile(self, mitigated: bool) -> Profile:
        p = get_profile(self.base_profile)
        for flag in self.base_off:
            p = _switch_off(p, flag)
        return p if mitigated else _switch_off(p, self.mitigation)


# Flags of model.roles.FLAGS that are profile parameters rather than Mitigations fields.
_PROFILE_FLAGS = {"passport_binding_echo": {"passport_binding_echo": False},
                  "local_binding_check": {"binding_check": "delegated"}}    # -04 §5.1 delegated comparison


def _switch_off(p: Profile, flag: str) -> Profile:
    if flag in _PROFILE_FLAGS:
        return dataclasses.replace(p, **_PROFILE_FLAGS[flag])
    return p.with_mitigations(**{flag: False})


def _seed(attack: str) -> bytes:
    return f"expat-attack|{attack}".encode()


def replay_other_connection(profile: Profile, rec: ConnectionNames, model: str = BACKGROUND_CHECK) -> RunResult:
    """Connection A: an honest run; the client host keeps its Evidence (or, passport, its EAR).
    Connection B: the host answers the server's request with the kept CMW instead of fresh one."""
    capture = CaptureEvidence("client") if model == BACKGROUND_CHECK else CaptureResult("client")
    seed = _seed(f"replay-{model}")
    ids = counter_appraisal_ids(seed + b"|verifier-appraisals")   # one Verifier across both connections
    first = run(Scenario(profile=profile, seed=seed, model=model, appraisal_ids=ids), rec.on("connA"),
                attack=capture)
    if not first.ok or not capture.captured:
        raise RuntimeError(f"the honest connection A failed: {first.error}")
    kept = capture.captured[0]

    class Replay(Hooks):
        def prepare(self, eps: dict[str, AttestedEndpoint]) -> None:
            if model == PASSPORT:
                _substitute_result(eps["client"], lambda ctx, ear: kept)
            else:
                eps["client"].evidence_hook = lambda ctx, binding, evidence: kept

    return run(Scenario(profile=profile, seed=seed, model=model, appraisal_ids=ids), rec.on("connB"),
               attack=Replay())


def passport_replay(profile: Profile, rec: ConnectionNames) -> RunResult:
    """Passport model: the Attestation Result the client obtained for connection A is presented
    by its host in connection B."""
    return replay_other_connection(profile, rec, model=PASSPORT)


def replay_same_connection(profile: Profile, rec: ConnectionNames) -> RunResult:
    """One connection, a re-attestation (reattest=1): the client host answers the second request
    with the Evidence of the first."""

    class ReplayFirst(Hooks):
        def prepare(self, eps: dict[str, AttestedEndpoint]) -> None:
            kept: list[bytes] = []

            def hook(ctx: bytes, binding: bytes, evidence: bytes) -> bytes:
                if not kept:
                    kept.append(evidence)
                return kept[0]
            eps["client"].evidence_hook = hook

    return run(Scenario(profile=profile, seed=_seed("replay-same"), reattest=1), rec, attack=ReplayFirst())


def binding_other_label(profile: Profile, rec: ConnectionNames) -> RunResult:
    """The client computes its binding with the draft's other exporter label (§4's "Attestation
    Binding" where §5.1 says "Attestation")."""
    other = next(label for label in EXPORTER_LABELS if label != profile.exporter_label)

    class OtherLabel(Hooks):
        def prepare(self, eps: dict[str, AttestedEndpoint]) -> None:
            eps["client"].profile = dataclasses.replace(eps["client"].profile, exporter_label=other)

    return run(Scenario(profile=profile, seed=_seed("other-label")), rec, attack=OtherLabel())


class _SplitHost:
    """A host outside the TEE that authenticates with its own key and has the genuine AE (the TEE)
    sign Evidence over the binding it computed for that key. Looks like an AE to the endpoint."""

    def __init__(self, tee: Any, seed: bytes):
        self.tee = tee
        self.identity = pki.make_identity("p256", seed=seed + b"|host-key", name="client host")
        self.signer = AikSigner(self.identity.key)

    def aik_public_key(self) -> Any:
        return self.identity.key.public_key()

    def aik_signer(self) -> AikSigner:
        return self.signer

    def aik_identity(self) -> AikIdentity:
        return AikIdentity(chain=list(self.identity.chain), signer=self.signer)

    def evidence(self, binding: bytes, aik_pub_hash: bytes | None = None, *, hash: Any = None) -> bytes:
        # The TEE vouches only for its own AIK (draft §5.2): it computes AIK_pub_hash itself.
        return self.tee.evidence(binding, None, hash=hash)


def split_relay(profile: Profile, rec: ConnectionNames) -> RunResult:
    """Split deployment (draft §5.2, §7): the client host's EA key is certified by a PKI the server
    trusts but is not the TEE's AIK; the TEE signs Evidence over the host's binding."""
    seed = _seed("split-relay")

    class Relay(Hooks):
        def prepare(self, eps: dict[str, AttestedEndpoint]) -> None:
            host = _SplitHost(eps["client"].ae, seed)
            eps["client"].ae = host
            eps["server"].aik_anchors.append(host.identity.root)

    return run(Scenario(profile=profile, seed=seed), rec, attack=Relay())


def spontaneous_attestation(profile: Profile, rec: ConnectionNames) -> RunResult:
    """The server host attests in a spontaneous authenticator (RFC 9261 §3) over a context it picked
    itself, instead of waiting for the client's request (draft §3.1, §3.2 allow cmw_attestation only in
    answer to a request offering it). The host's own EA stack is made to build it (it lists the
    cmw_attestation codepoint among the ClientHello's extensions, RFC 9261 §5.2.1)."""

    class Unasked(Hooks):
        def prepare(self, eps: dict[str, AttestedEndpoint]) -> None:
            session = eps["server"].session
            session.client_hello_extensions = frozenset(session.client_hello_extensions) | {
                profile.cmw_attestation_codepoint}

    return run(Scenario(profile=profile, seed=_seed("spontaneous"), attester="server", spontaneous=True), rec,
               attack=Unasked())


def reflection(profile: Profile, rec: ConnectionNames) -> RunResult:
    """Mutual attestation: the server host answers the client's request (context X) by first asking the
    client for attestation with the very same context X, then puts the client's own Evidence into its
    authenticator for X, signed with the server's AIK. Without the public key in the binding (§5.1)
    the binding is H(TLS-Exporter(label, X, L)), the same for both directions, and the client accepts
    its own Evidence as the server's. The run needs two further weaknesses in both runs (``base_off``):
    contexts may be reused across directions (RFC 9261 §4) and AIK_pub_hash is not compared (§5.2)."""

    class Reflect(Hooks):
        def drive(self, eps: dict[str, AttestedEndpoint]) -> list[AttestationOutcome]:
            client, server = eps["client"], eps["server"]
            request = client.request_attestation()              # X: the client's Verifier nonce
            theirs = server.receive(FrameType.ea_request)
            x = messages.decode_request(theirs).context
            server.request_attestation(context=x)               # the reflected request, same context
            client.answer_request()                             # the client attests over X
            auth = server.receive(FrameType.ea_authenticator)
            first = messages.Certificate.from_handshake(messages.split_handshakes(auth)[0]).entries[0]
            own = next(e for e in first.extensions if e.type == profile.cmw_attestation_codepoint)
            reflected = decode_cmw_attestation(own.data)
            server.evidence_hook = lambda ctx, binding, evidence: reflected
            server.answer_request(theirs)                       # the client's Evidence, under the server's AIK
            outcome = client.accept_authenticator(request)
            server.receive(ATTESTATION_OUTCOME)                 # the client's verdict on "the server"
            server.channel.send(ATTESTATION_OUTCOME, b"\x01" + x)   # "your attestation was fine"
            client.await_outcome()
            server.completed.update(client=outcome, server=outcome)  # the adversary needs no attestation
            return [outcome]

    return run(Scenario(profile=profile, seed=_seed("reflection"), attester="mutual"), rec, attack=Reflect())


def resumption_inherits(profile: Profile, rec: ConnectionNames) -> RunResult:
    """Connection A: the client attests honestly; the server then issues a session ticket, or (mitigation
    reject_resumption, draft §7.2 / editor's copy) refuses to. Connection B: the client host resumes A
    with the ticket if it got one (a real TLS 1.3 PSK handshake, resumption.py) and sends application
    data straight away, without attesting. The mitigated server issued no ticket, so B is a full
    handshake and it refuses the data (§7.3); without the mitigation B inherits A's attestation."""
    seed = _seed("resumption")
    ids = counter_appraisal_ids(seed + b"|verifier-appraisals")
    tickets: list[resumption.Ticket] = []

    class IssueTicket(Hooks):
        def finish(self, eps: dict[str, AttestedEndpoint]) -> None:
            if resumption.issue_ticket(eps["server"]) is not None:
                kept = resumption.receive_ticket(eps["client"])
                if kept is not None:
                    tickets.append(kept)

    first = run(Scenario(profile=profile, seed=seed, appraisal_ids=ids), rec.on("connA"), attack=IssueTicket())
    if not first.ok:
        raise RuntimeError(f"the honest connection A failed: {first.error}")

    class SkipAttestation(Hooks):
        def drive(self, eps: dict[str, AttestedEndpoint]) -> list[AttestationOutcome]:
            client, server = eps["client"], eps["server"]
            data = b"no attestation on this connection"
            client.channel.send(FrameType.application_data, data)   # the host bypasses its own §7.3 check
            client.emit("ApplicationDataSent", length=len(data))
            try:
                server.receive_application_data()
            except ProtocolError as e:
                server.send_alert(e)
                server.emit("ConnectionClosed", reason=e.check or e.alert.name)
                raise
            return []

    return run(Scenario(profile=profile, seed=seed, appraisal_ids=ids, resume=tickets[0] if tickets else None),
               rec.on("connB"), attack=SkipAttestation())


def _substitute_result(ep: AttestedEndpoint, substitute: Callable[[bytes, bytes], bytes]) -> None:
    """Passport model: the host lets the TE obtain its Attestation Result honestly, then puts
    ``substitute(ctx, result)`` into the authenticator instead."""
    honest = ep.produce_attestation

    def produce(ctx: bytes) -> tuple[bytes, bytes]:
        result, binding = honest(ctx)
        return substitute(ctx, result), binding
    ep.produce_attestation = produce  # type: ignore[method-assign]


ATTACKS: dict[str, Attack] = {a.name: a for a in (
    Attack("evidence-replay-other-connection",
           "Evidence captured on connection A is replayed by the attester's host into connection B",
           "draft-02 §5.1", "check_binding", ("channel_binding",), ("client",), replay_other_connection),
    Attack("evidence-replay-same-connection",
           "a re-attestation request is answered with the Evidence of the first request on the same connection",
           "draft-02 §5.1; RFC 9261 §4", "check_binding", ("request_binding", "reattestation_fresh"), ("client",),
           replay_same_connection),
    Attack("binding-other-label",
           "the attester binds with the other exporter label of the draft (§4 vs §5.1)",
           "draft-02 §4, §5.1", "check_exporter_label", ("channel_binding", "request_binding"), ("client",),
           binding_other_label, with_secrets=True),
    Attack("relay-split-deployment",
           "a host authenticates with its own key and relays Evidence its TEE signed over the host's binding",
           "draft-02 §5.2, §7", "check_aik_pub_hash", ("aik_in_tee",), ("client",), split_relay),
    Attack("passport-result-replay",
           "an Attestation Result obtained for connection A is presented in connection B (passport model)",
           "draft-02 §4, §5.1", "passport_binding_echo", ("channel_binding",), ("client",), passport_replay),
    Attack("spontaneous-attestation",
           "the server attests in a spontaneous authenticator over a context it chose, without a request",
           "draft-02 §3.1, §3.2; RFC 9261 §3", "reject_spontaneous_attestation", ("request_binding",), ("server",),
           spontaneous_attestation),
    Attack("reflection-without-public-key",
           "mutual attestation: the server reflects the client's own Evidence back under the client's context",
           "draft-02 §5.1; RFC 9261 §4", "include_public_key_in_binding", ("no_reflection", "aik_in_tee"),
           ("server",), reflection, base_off=("check_context_unique", "check_aik_pub_hash")),
    Attack("delegated-verifier-skips-comparison",
           "the Relying Party delegates the binding comparison (-04 §5.1) to a Verifier that confirms the conveyed "
           "binding without comparing it: Evidence captured on connection A is accepted on connection B",
           "draft-04 §5.1", "verifier_compares_binding", ("channel_binding",), ("client",), replay_other_connection,
           base_profile="rev04", base_off=("local_binding_check",)),
    Attack("resumption-inherits-attestation",
           "a connection resumed from a ticket of an attested connection carries data without attesting",
           "draft-02 §7.2, §7.3; editor's copy §7.2", "reject_resumption", ("no_resumption", "attest_before_data"),
           ("client",), resumption_inherits),
)}


# --- running an attack twice -----------------------------------------------------------------------

@dataclass
class AttackRun:
    """One run of an attack: what the implementation decided and what the checker found."""

    attack: Attack
    mitigated: bool
    profile: Profile
    result: RunResult
    trace: Trace
    check: Result

    @property
    def accepted(self) -> bool:
        return self.result.ok

    @property
    def error(self) -> ProtocolError | None:
        return self.result.error

    @property
    def violated(self) -> set[str]:
        return self.check.properties()

    @property
    def as_expected(self) -> bool:
        if self.mitigated:
            return not self.accepted and self.check.conformant
        return self.accepted and set(self.attack.properties) <= self.violated

    def decision(self) -> str:
        if self.accepted:
            return "accepted"
        e = self.error
        if e is None:
            return "rejected"
        return f"rejected: {e.check or '-'} ({e.alert.name}): {e.reason}"

    def finding(self) -> str:
        if self.check.conformant:
            return "conformant"
        parts = []
        if self.violated:
            parts.append("violated properties: " + ", ".join(sorted(self.violated)))
        if self.check.rules():
            parts.append("rule violations: " + ", ".join(sorted(self.check.rules())))
        return "; ".join(parts)


def run_once(attack: Attack, mitigated: bool, *, with_secrets: bool | None = None) -> AttackRun:
    """One run; ``with_secrets`` overrides the attack's default (golden traces are recorded without)."""
    profile = attack.profile(mitigated)
    recorder = TraceRecorder(profile=profile.to_dict(), seed=_seed(attack.name).decode(), cipher_suite=SUITE,
                             with_secrets=attack.with_secrets if with_secrets is None else with_secrets, adversaries=list(attack.adversaries),
                             description=f"attack {attack.name} ({'mitigated' if mitigated else 'unmitigated'}): "
                                         f"{attack.summary}",
                             attack=attack.name,
                             mitigations_off=list(attack.base_off) + ([] if mitigated else [attack.mitigation]))
    result = attack.runner(profile, ConnectionNames(recorder))
    trace = recorder.trace()
    return AttackRun(attack, mitigated, profile, result, trace, check_trace(trace))


def run_attack(name: str) -> list[AttackRun]:
    """Both runs of attack ``name``: mitigated first, then with the mitigation off."""
    try:
        attack = ATTACKS[name]
    except KeyError:
        raise ValueError(f"unknown attack {name!r}; known: {', '.join(ATTACKS)}") from None
    return [run_once(attack, True), run_once(attack, False)]
