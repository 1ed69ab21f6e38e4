"""An attested TLS endpoint: the draft's roles on one side of a real TLS 1.3 connection.

One :class:`AttestedEndpoint` wraps a :class:`~expat.reference.tls.TlsConnection`, its frame
channel (docs/framing.md) and its RFC 9261 session, and plays either or both roles of the draft:

* **Relying Party** (requester): sends an authenticator request offering ``cmw_attestation``
  (draft §3.1), validates the authenticator (RFC 9261 §5.2.4), then the attestation: placement of
  the extension (§3), binding and AIK_pub_hash (§5.1, §5.2), Evidence appraisal by the Verifier
  (background check, §3.4) or the Attestation Result (passport, §4).
* **Attester** (its Target Environment): answers a request with an authenticator whose first
  CertificateEntry carries a CMW made by its Attesting Environment over the binding (§5).

Application data is refused until every required attestation direction completed (§7.3).
Every step emits its event (expat.model.events) where the step is done.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from cryptography import x509

from expat.checks import check
from expat.errors import Alert, ProtocolError
from expat.profile import Profile
from expat.reference import ea, messages, pki, wire
from expat.reference.attestation import binding as binding_mod
from expat.reference.attestation.tpm.evidence import evidence_facts
from expat.reference.attestation.environment import AttestingEnvironment
from expat.reference.attestation.ear import verify_ear_signature
from expat.reference.attestation.verifier import first_nonce, verify_ear
from expat.reference.framing import EaAlert, FramedChannel, FrameType
from expat.reference.messages import Extension

# Frame type of the attestation layer (framing range 16..31): the requester tells the attester the
# outcome, so that the attester knows when it may send application data (draft §7.3).
ATTESTATION_OUTCOME = 16

BACKGROUND_CHECK = "background-check"
PASSPORT = "passport"
MODELS = (BACKGROUND_CHECK, PASSPORT)

# Signature schemes an expat requester offers (RFC 8446 §4.2.3; TLS 1.3-valid only, RFC 9261 §5.2.2).
OFFERED_SCHEMES = (0x0403, 0x0503, 0x0807, 0x0804, 0x0805)

OFFER_REQUIRED = check("expat02-3.1-offer", "draft-fossati-seat-expat-02 §3.1", Alert.missing_extension,
                       "attestation is requested by an empty cmw_attestation extension in the request; "
                       "without it the attester attaches none")
OFFER_EMPTY = check("expat02-3.1-offer-empty", "draft-fossati-seat-expat-02 §3.1", Alert.decode_error,
                    "the cmw_attestation extension in a request has empty extension_data")
FIRST_ENTRY_ONLY = check("expat02-3-first-entry", "draft-fossati-seat-expat-02 §3", Alert.illegal_parameter,
                         "cmw_attestation appears only in the first CertificateEntry (the end-entity)")
CMW_STRUCT = check("expat02-3-cmw-struct", "draft-fossati-seat-expat-02 §3", Alert.decode_error,
                   "the extension_data is CMWAttestation: opaque cmw_data<1..2^16-1> and nothing else")
ATTESTATION_PRESENT = check("expat02-3.3-attestation-missing", "draft-fossati-seat-expat-02 §3.3",
                            Alert.missing_extension,
                            "an authenticator answering an attestation request carries cmw_attestation "
                            "(the requester's policy; default profile rejects)")
ATTESTED_BEFORE_DATA = check("expat02-7.3-attest-before-data", "draft-fossati-seat-expat-02 §7.3",
                             Alert.unexpected_message,
                             "no application data is sent to or accepted from a peer before its "
                             "remote attestation completed")
PEER_REFUSED = check("expat-peer-alert", "docs/framing.md §4", Alert.handshake_failure,
                     "the peer reported a failed check with an ea_alert frame")
SPONTANEOUS_ATTESTATION = check("expat02-3.1-spontaneous-attestation", "draft-fossati-seat-expat-02 §3.1, §3.2",
                                Alert.unsupported_extension,
                                "cmw_attestation is accepted only in an authenticator answering a request that "
                                "offered it; in a spontaneous server authenticator it aborts the verification")
OUTCOME_FRAME = check("expat-attestation-outcome", "docs/attestation.md", Alert.decode_error,
                      "an attestation outcome frame is uint8 accepted || certificate_request_context")


class Recorder(Protocol):
    def emit(self, event: str, agent: str, /, **args: Any) -> Any: ...


class _NullRecorder:
    def emit(self, event: str, agent: str, /, **args: Any) -> None:
        return None


def cmw_id(data: bytes) -> str:
    """Identifier of a CMW in traces: the first 16 bytes of its SHA-256, hex."""
    return hashlib.sha256(data).hexdigest()[:32]


def encode_cmw_attestation(cmw_data: bytes) -> bytes:
    """CMWAttestation (draft §3): opaque cmw_data<1..2^16-1>."""
    return wire.Writer().opaque16(cmw_data, 1, 0xFFFF).getvalue()


def decode_cmw_attestation(data: bytes) -> bytes:
    try:
        r = wire.Reader(data, "CMWAttestation")
        cmw = r.opaque16(1, 0xFFFF)
        r.finish()
    except ProtocolError as e:
        CMW_STRUCT.fail(f"malformed CMWAttestation: {e.reason}")
    return cmw


@dataclass
class VerifierHandle:
    """How an endpoint reaches the Verifier: an in-process Verifier or a VerifierClient (HTTP)."""

    service: Any  # Verifier | VerifierClient (same methods)
    name: str = "verifier"
    public_key: Any = None

    def __post_init__(self) -> None:
        if self.public_key is None:
            self.public_key = self.service.public_key()


@dataclass
class AttestationOutcome:
    direction: str          # the side that attested
    ctx: bytes
    accepted: bool
    binding: bytes = b""
    aik_spki: bytes = b""
    cmw: str = ""
    status: str = ""
    error: ProtocolError | None = None


@dataclass
class AttestedEndpoint:
    """One side of an attested connection. Use :meth:`create`."""

    side: str                       # "client" | "server"
    conn: Any                       # TlsConnection
    profile: Profile
    model: str
    conn_id: str
    channel: FramedChannel
    session: ea.EASession
    recorder: Recorder = field(default_factory=_NullRecorder)
    ae: AttestingEnvironment | None = None
    verifier: VerifierHandle | None = None
    aik_anchors: list[x509.Certificate] = field(default_factory=list)
    validation_time: datetime.datetime | None = None   # AIK chain validation time; None = now (golden: fixed)
    must_attest: tuple[str, ...] = ()       # sides that must attest before data flows (§7.3)
    completed: dict[str, AttestationOutcome] = field(default_factory=dict)
    pending: dict[bytes, bytes] = field(default_factory=dict)   # ctx -> request bytes we issued
    sent: dict[bytes, str] = field(default_factory=dict)        # ctx -> id of the CMW we sent for it
    evidence_hook: Callable[[bytes, bytes, bytes], bytes] | None = None   # attack demos only

    @classmethod
    def create(cls, side: str, conn: Any, profile: Profile, model: str, *, conn_id: str,
               recorder: Recorder | None = None, ae: AttestingEnvironment | None = None,
               verifier: VerifierHandle | None = None, aik_anchors: list[x509.Certificate] | None = None,
               must_attest: tuple[str, ...] = (), resumed_from: str = "-",
               inherited: dict[str, AttestationOutcome] | None = None,
               validation_time: datetime.datetime | None = None) -> "AttestedEndpoint":
        """``resumed_from``/``inherited``: a resumed connection (only with mitigation reject_resumption off,
        see resumption.py) and the attestation state it inherits from the ticket's connection."""
        if model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}")
        hello = conn.client_hello
        hello_exts = list(hello.extension_types) if hello else None
        if hello_exts is not None and not profile.mitigations.reject_spontaneous_attestation:
            # Unmitigated reading (attack demos): the client's support for cmw_attestation counts as offered
            # to spontaneous server authenticators too (RFC 9261 §5.2.1 takes their extensions from the
            # ClientHello; -02's TLS flag would be such a signal, DIGEST §3.8 #8, #13).
            hello_exts.append(profile.cmw_attestation_codepoint)
        session = ea.EASession(conn.exporter, is_server=conn.is_server,
                               client_hello_sigalgs=list(hello.signature_algorithms) if hello else None,
                               client_hello_extensions=hello_exts,
                               client_finished_verified=conn.handshake_complete,
                               extra_request_extensions=(profile.cmw_attestation_codepoint,),
                               check_context_unique=profile.mitigations.check_context_unique)
        ep = cls(side=side, conn=conn, profile=profile, model=model, conn_id=conn_id,
                 channel=FramedChannel(conn), session=session, recorder=recorder or _NullRecorder(),
                 ae=ae, verifier=verifier, aik_anchors=list(aik_anchors or []), must_attest=must_attest,
                 validation_time=validation_time)
        ep.emit("ChannelEstablished", side=side, suite=conn.cipher_suite, attest=list(must_attest),
                resumed_from=resumed_from, exporter_master_secret=conn.exporter_master_secret)
        if inherited and not profile.mitigations.reject_resumption:
            ep.completed.update(inherited)
        return ep

    # --- plumbing --------------------------------------------------------------------------------

    @property
    def agent(self) -> str:
        return self.side

    @property
    def peer(self) -> str:
        return "server" if self.side == "client" else "client"

    @property
    def ae_agent(self) -> str:
        return f"{self.side}-ae"

    def emit(self, event: str, **args: Any) -> None:
        self.recorder.emit(event, self.agent, conn=self.conn_id, **args)

    def _cmw_ext(self) -> int:
        return self.profile.cmw_attestation_codepoint

    @property
    def _kind(self) -> str:
        """What a cmw_attestation carries in this model (traces): Evidence or an Attestation Result."""
        return "evidence" if self.model == BACKGROUND_CHECK else "result"

    def _binding_nonce(self, ctx: bytes) -> bytes:
        """The nonce of the -01 binding formula: the Verifier nonce (the context) in the background-check
        model, empty otherwise (profile.binding_formula)."""
        return ctx if (self.profile.binding_formula == "01" and self.model == BACKGROUND_CHECK) else b""

    def send_alert(self, error: ProtocolError) -> None:
        self.channel.send_alert(error.alert, f"{error.check}: {error.reason}"[:200])

    def receive(self, expected: int) -> bytes:
        """Next frame, which must be of type ``expected``; a peer ea_alert becomes a ProtocolError."""
        frame_type, payload = self.channel.recv()
        if frame_type == FrameType.ea_alert:
            alert = EaAlert.decode(payload)
            raise ProtocolError(f"peer reported {alert.alert.name}: {alert.reason}", alert=alert.alert,
                                check=PEER_REFUSED.id, section=PEER_REFUSED.section)
        if frame_type != expected:
            raise ProtocolError(f"expected frame {expected}, got {frame_type}", alert=Alert.unexpected_message,
                                check=PEER_REFUSED.id, section=PEER_REFUSED.section)
        return payload

    # --- Relying Party: request (RFC 9261 §4, draft §3.1) ------------------------------------------

    def request_attestation(self, context: bytes | None = None) -> bytes:
        """Send an authenticator request offering cmw_attestation; returns the request bytes. ``context``
        (attack demos) overrides the Verifier nonce / random context."""
        if context is None and (self.model == BACKGROUND_CHECK and self.profile.context_source == "verifier-nonce"
                and self.verifier is not None):
            context = self.verifier.service.challenge()
            self.recorder.emit("NonceIssued", self.verifier.name, nonce=context, to=self.agent)
        exts = [messages.signature_algorithms(OFFERED_SCHEMES), Extension(self._cmw_ext(), b"")]
        request = self.session.request(exts, context=context)
        req = messages.decode_request(request)
        self.pending[req.context] = request
        self.channel.send(FrameType.ea_request, request)
        self.emit("RequestSent", ctx=req.context, msg_type=request[0], extensions=[e.type for e in req.extensions],
                  attestation_offered=True, request=request)
        return request

    # --- Attester: answer (draft §5, RFC 9261 §5.2) -------------------------------------------------

    def answer_request(self, request: bytes | None = None) -> bytes:
        """Receive (or take) a request and answer it with an attested authenticator."""
        if request is None:
            request = self.receive(FrameType.ea_request)
        req = messages.decode_request(request)
        offered = req.extension(self._cmw_ext())
        self.emit("RequestReceived", ctx=req.context, msg_type=request[0],
                  extensions=[e.type for e in req.extensions], attestation_offered=offered is not None,
                  request=request)
        if offered is not None:
            OFFER_EMPTY.require(offered.data == b"", "cmw_attestation in a request must be empty")
        # §3.1: attestation is attached only when the requester signalled it
        OFFER_REQUIRED.require(offered is not None, "the request does not offer cmw_attestation")
        if self.ae is None:
            raise ProtocolError("this endpoint has no Attesting Environment", alert=Alert.handshake_failure)
        cmw_data, _ = self.produce_attestation(req.context)
        return self._send_attested(req.context, cmw_data, request)

    # --- Attester: spontaneous server authenticator (RFC 9261 §3) ------------------------------------

    def attest_spontaneously(self) -> bytes:
        """Server only: send an authenticator with cmw_attestation that answers no request, over a context
        the server picked itself. The draft allows cmw_attestation only in answer to a request offering it
        (§3.1, §3.2); an honest expat endpoint never calls this (attack demos do)."""
        if self.ae is None or self.side != "server":
            raise ProtocolError("only a server with an Attesting Environment attests spontaneously",
                                alert=Alert.internal_error)
        ctx = os.urandom(32)
        cmw_data, _ = self.produce_attestation(ctx, spontaneous=True)
        return self._send_attested(ctx, cmw_data, None)

    def _send_attested(self, ctx: bytes, cmw_data: bytes, request: bytes | None) -> bytes:
        """The AIK's authenticator for ``request`` (None: spontaneous, over ``ctx``) with cmw_data in
        the first CertificateEntry (draft §3); sent and recorded."""
        assert self.ae is not None
        chain = self.ae.aik_identity().chain_der()
        entries = [[Extension(self._cmw_ext(), encode_cmw_attestation(cmw_data))]] + [[] for _ in chain[1:]]
        authenticator = self.session.authenticate(self.ae.aik_signer(), chain, request, entry_extensions=entries,
                                                  context=ctx if request is None else None)
        self.channel.send(FrameType.ea_authenticator, authenticator)
        self.sent[ctx] = cmw_id(cmw_data)
        self.emit("AuthenticatorSent", ctx=ctx, aik=pki.spki_der(self.ae.aik_public_key()), kind=self._kind,
                  cmw=cmw_id(cmw_data), spontaneous=request is None, authenticator=authenticator)
        return authenticator

    def produce_attestation(self, ctx: bytes, spontaneous: bool = False) -> tuple[bytes, bytes]:
        """Binding (§5.1), AIK_pub_hash (§5.2), Evidence from the AE; in the passport model an EAR."""
        assert self.ae is not None
        profile, h = self.profile, self.conn.hash
        aik = self.ae.aik_public_key()
        exported = binding_mod.exported_value(self.conn.exporter, profile, ctx)
        binding_value = binding_mod.binding(h, profile, binding_mod.public_key_bytes(aik, profile), exported,
                                            self._binding_nonce(ctx))
        aik_hash = binding_mod.aik_pub_hash(h, profile, aik)
        self.emit("EvidenceRequested", ctx=ctx, ae=self.ae_agent, binding=binding_value, aik=pki.spki_der(aik),
                  spontaneous=spontaneous, exported_value=exported)
        evidence = self.ae.evidence(binding_value, aik_hash, hash=h)
        facts = evidence_facts(evidence, profile.evidence_claims)   # EAT or TPM Evidence, decoded once
        self.recorder.emit("EvidenceProduced", self.ae_agent, cmw=cmw_id(evidence), te=self.agent,
                           binding=binding_value,
                           aik_hash=facts.aik_pub_hash or b"",   # what the AE signed (it may refuse the host's value)
                           attestation_key=cmw_id(facts.attestation_key))
        if self.evidence_hook is not None:       # attack demos substitute Evidence here (after the AE made it)
            evidence = self.evidence_hook(ctx, binding_value, evidence)
        if self.model == BACKGROUND_CHECK:
            return evidence, binding_value
        assert self.verifier is not None, "passport model: the attester needs a Verifier"
        self.emit("EvidenceSubmitted", ctx=ctx, verifier=self.verifier.name, cmw=cmw_id(evidence))
        ear_cmw, report = self.verifier.service.appraise(evidence, expected_binding=binding_value, nonce=None,
                                                         expected_aik_pub_hash=aik_hash)
        self.recorder.emit("EvidenceAppraised", self.verifier.name, cmw=cmw_id(evidence), result=cmw_id(ear_cmw),
                           status=report.status.name, binding_echo=binding_value, nonce=b"", to=self.agent)
        self.emit("AttestationResultObtained", ctx=ctx, result=cmw_id(ear_cmw), status=report.status.name)
        return ear_cmw, binding_value

    # --- Relying Party: validate (RFC 9261 §5.2.4, draft §3-§5) -----------------------------------

    def accept_authenticator(self, request: bytes, authenticator: bytes | None = None) -> AttestationOutcome:
        """Validate the answer to ``request``; on any failure emit AuthenticatorRejected, tell the peer
        with an ea_alert frame, and raise."""
        ctx = messages.decode_request(request).context
        if authenticator is None:
            authenticator = self.receive(FrameType.ea_authenticator)
        try:
            outcome = self._validate_attested(request, authenticator)
        except ProtocolError as e:
            self.emit("AuthenticatorRejected", ctx=ctx, reason=e.check or e.alert.name)
            self.send_alert(e)
            raise
        return self._complete(outcome)

    def accept_spontaneous(self, authenticator: bytes | None = None) -> AttestationOutcome:
        """Client only: a server authenticator that answers no request (RFC 9261 §3). With mitigation
        reject_spontaneous_attestation (default) one carrying cmw_attestation aborts the verification with
        unsupported_extension (draft §3.1, §3.2); the client then closes the connection, whose required
        server attestation cannot complete (§7). Without it the attestation is judged as if requested."""
        if authenticator is None:
            authenticator = self.receive(FrameType.ea_authenticator)
        try:
            if self.profile.mitigations.reject_spontaneous_attestation:
                SPONTANEOUS_ATTESTATION.require(not self._carries_attestation(authenticator),
                                                "cmw_attestation in a spontaneous server authenticator")
            outcome = self._validate_attested(None, authenticator)
        except ProtocolError as e:
            self.send_alert(e)
            self.emit("ConnectionClosed", reason=e.check or e.alert.name)
            raise
        return self._complete(outcome)

    def _complete(self, outcome: AttestationOutcome) -> AttestationOutcome:
        """The peer's attestation passed: tell it (§7.3) and record it."""
        self.channel.send(ATTESTATION_OUTCOME, b"\x01" + outcome.ctx)
        self.completed[self.peer] = outcome
        self.emit("AttestationCompleted", ctx=outcome.ctx, attester=self.peer, cmw=outcome.cmw)
        return outcome

    def _carries_attestation(self, authenticator: bytes) -> bool:
        try:
            msgs = messages.split_handshakes(authenticator, "authenticator")
            cert = messages.Certificate.from_handshake(msgs[0])
        except (ProtocolError, IndexError):
            return False   # not a Certificate: RFC 9261 validation reports it
        return any(e.type == self._cmw_ext() for entry in cert.entries for e in entry.extensions)

    def _validate_attested(self, request: bytes | None, authenticator: bytes) -> AttestationOutcome:
        """The Relying Party's steps, in the order the specs give them; each emits its own event."""
        v = self._validate_authenticator(request, authenticator)
        cmw_data = self._attestation_extension(v)
        if cmw_data is None:                     # §3.3: no attestation, and the policy allows it
            return AttestationOutcome(direction=self.peer, ctx=v.context, accepted=True)
        leaf_key = x509.load_der_x509_certificate(v.chain_der[0]).public_key()
        aik_spki = pki.spki_der(leaf_key)
        # RFC 9261 §5.2.4 passed and cmw_attestation sits where §3 allows: the authenticator is accepted;
        # the attestation itself is judged next (binding, AIK_pub_hash, appraisal).
        self.emit("AuthenticatorAccepted", ctx=v.context, aik=aik_spki, kind=self._kind, cmw=cmw_id(cmw_data),
                  spontaneous=request is None, certificate=v.chain_der[0], authenticator=authenticator)
        cmw_binding, cmw_aik = self._claimed_binding(cmw_data)
        expected = self._check_binding(v.context, leaf_key, cmw_binding, cmw_aik)
        status = self._appraise(v.context, cmw_data, expected, cmw_binding=cmw_binding, spontaneous=request is None,
                                expected_aik=binding_mod.aik_pub_hash(self.conn.hash, self.profile, leaf_key))
        return AttestationOutcome(direction=self.peer, ctx=v.context, accepted=True, binding=expected,
                                  aik_spki=aik_spki, cmw=cmw_id(cmw_data), status=status)

    def _validate_authenticator(self, request: bytes | None, authenticator: bytes) -> ea.ValidatedAuthenticator:
        """RFC 9261 §5.2.4: the authenticator answers ``request`` on this connection (chain, signature,
        Finished); the request is no longer pending whatever follows."""
        validator = None
        if self.aik_anchors or self.profile.mitigations.require_trust_anchors:   # else: the unmitigated gap
            pki.ANCHORS_CONFIGURED.require(self.aik_anchors, "no AIK trust anchors configured")
            validator = pki.ChainValidator(self.aik_anchors, at=self.validation_time, use="aik")
        v = self.session.validate(request, authenticator, validator)
        self.pending.pop(v.context, None)
        if v.empty:
            ATTESTATION_PRESENT.fail("the peer refused with an empty authenticator")
        return v

    def _attestation_extension(self, v: ea.ValidatedAuthenticator) -> bytes | None:
        """Draft §3: cmw_attestation only in the first CertificateEntry, holding a CMWAttestation; §3.3:
        an answer without it is refused under the default policy. Returns cmw_data, or None."""
        code = self._cmw_ext()
        for i, entry in enumerate(v.entry_extensions[1:], start=1):
            FIRST_ENTRY_ONLY.require(all(e.type != code for e in entry),
                                     f"cmw_attestation in CertificateEntry {i}")
        ext = v.first_entry_extension(code)
        if ext is None:
            if self.profile.missing_attestation_policy == "reject":
                ATTESTATION_PRESENT.fail("authenticator answers an attestation request without cmw_attestation")
            return None
        return decode_cmw_attestation(ext.data)

    def _claimed_binding(self, cmw_data: bytes) -> tuple[bytes | None, bytes | None]:
        """The binding and AIK_pub_hash the CMW claims: Evidence claims (background check, §5) or the
        Attestation Result's echo, after the Verifier's signature (passport, §4)."""
        if self.model == BACKGROUND_CHECK:
            facts = evidence_facts(cmw_data, self.profile.evidence_claims)
            return facts.binding, facts.aik_pub_hash
        assert self.verifier is not None, "passport model: the Relying Party needs the Verifier's key"
        return _ear_echo(cmw_data, self.verifier.public_key)

    def _check_binding(self, ctx: bytes, leaf_key: Any, cmw_binding: bytes | None,
                       cmw_aik: bytes | None) -> bytes:
        """§5.1 binding and §5.2 AIK_pub_hash, compared by the receiver. Returns the binding the
        receiver expects (under the label the CMW matched, when the profile accepts several).

        Background check compares both (the Verifier repeats it). Passport compares the echoed binding
        only with passport_binding_echo (DIGEST §3.8 #10; off is the draft's literal §4). BindingChecked
        records a comparison that passed (or was switched off), so it follows the checks. With
        binding_check="delegated" (-04 §5.1) only AIK_pub_hash is compared here and no BindingChecked
        is recorded: the Verifier compares the binding and confirms it (BindingConfirmed)."""
        profile = self.profile
        expected_aik = binding_mod.aik_pub_hash(self.conn.hash, profile, leaf_key)
        if profile.delegated:
            # -04 §5.1: the binding goes to the Verifier, which compares it (_appraise); the Relying Party
            # still compares AIK_pub_hash itself (§5.2 puts that MUST on it)
            binding_mod.check_aik_pub_hash(profile, cmw_aik, expected_aik)
            return binding_mod.compute_binding(self.conn.exporter, profile, ctx, leaf_key, self._binding_nonce(ctx))
        acceptable = binding_mod.acceptable_bindings(self.conn.exporter, profile, ctx, leaf_key,
                                                     self._binding_nonce(ctx))
        expected = binding_mod.matched_candidate(cmw_binding, acceptable)
        compared = self.model == BACKGROUND_CHECK or profile.passport_binding_echo
        if compared:
            binding_mod.check_binding(profile, cmw_binding, acceptable)
        if self.model == BACKGROUND_CHECK:
            binding_mod.check_aik_pub_hash(profile, cmw_aik, expected_aik)
        if compared:
            self.emit("BindingChecked", ctx=ctx, expected_binding=expected.binding, cmw_binding=cmw_binding or b"",
                      expected_aik_hash=expected_aik, cmw_aik_hash=cmw_aik or b"", label=expected.label,
                      exported_value=binding_mod.exported_value(self.conn.exporter, profile, ctx,
                                                                label=expected.label))
        return expected.binding

    def _appraise(self, ctx: bytes, cmw_data: bytes, expected: bytes, *, cmw_binding: bytes | None,
                  spontaneous: bool, expected_aik: bytes) -> str:
        """Background check (§3.4): the Verifier appraises the Evidence and the Relying Party verifies
        its Attestation Result. Passport (§4): the Relying Party verifies the Attestation Result the
        Attester presented. Returns the overall status."""
        profile = self.profile
        assert self.verifier is not None, "the Relying Party needs a Verifier (or its public key)"
        if self.model == PASSPORT:
            result = verify_ear(cmw_data, self.verifier.public_key, expected, profile,
                                expected_aik_pub_hash=expected_aik)
            self.emit("AttestationResultReceived", ctx=ctx, result=cmw_id(cmw_data), status=result.overall.name)
            return result.overall.name
        self.emit("EvidenceForwarded", ctx=ctx, verifier=self.verifier.name, cmw=cmw_id(cmw_data),
                  expected_binding=expected)
        # a spontaneous context was picked by the server: no Verifier nonce stands behind it
        vnonce = ctx if profile.context_source == "verifier-nonce" and not spontaneous else None
        delegated = profile.delegated and profile.mitigations.check_binding
        ear_cmw, report = self.verifier.service.appraise(
            cmw_data, expected_binding=expected if profile.mitigations.check_binding else None,
            nonce=vnonce, expected_aik_pub_hash=expected_aik if profile.mitigations.check_aik_pub_hash else None,
            confirm_binding=delegated)
        if report.binding_confirmed is not None:     # -04 §5.1: the Verifier compared (or says it did)
            self.recorder.emit("BindingConfirmed", self.verifier.name, cmw=cmw_id(cmw_data),
                               binding=report.binding_confirmed, to=self.agent)
        self.recorder.emit("EvidenceAppraised", self.verifier.name, cmw=cmw_id(cmw_data), result=cmw_id(ear_cmw),
                           status=report.status.name, binding_echo=cmw_binding or b"",
                           nonce=vnonce or b"", to=self.agent)
        report.raise_for_status()
        if profile.delegated:
            result = verify_ear(ear_cmw, self.verifier.public_key, None, profile,
                                delegated_binding=expected if delegated else None)
        else:
            result = verify_ear(ear_cmw, self.verifier.public_key, expected, profile)
        self.emit("AttestationResultReceived", ctx=ctx, result=cmw_id(ear_cmw), status=result.overall.name)
        return result.overall.name

    # --- Attester: learn the outcome ---------------------------------------------------------------

    def await_outcome(self) -> AttestationOutcome:
        payload = self.receive(ATTESTATION_OUTCOME)
        OUTCOME_FRAME.require(len(payload) >= 1 and payload[0] in (0, 1) and len(payload) <= 256,
                              "malformed attestation outcome frame")
        outcome = AttestationOutcome(direction=self.side, ctx=payload[1:], accepted=payload[0] == 1)
        if outcome.accepted:
            self.completed[self.side] = outcome
            outcome.cmw = self.sent.get(outcome.ctx, "-")
            self.emit("AttestationCompleted", ctx=outcome.ctx, attester=self.side, cmw=outcome.cmw)
        return outcome

    # --- application data (draft §7.3) -------------------------------------------------------------

    def attested(self) -> bool:
        return all(s in self.completed for s in self.must_attest)

    def send_application_data(self, data: bytes) -> None:
        ATTESTED_BEFORE_DATA.require(self.attested(), "attestation has not completed; application data refused")
        self.channel.send(FrameType.application_data, data)
        self.emit("ApplicationDataSent", length=len(data))

    def receive_application_data(self) -> bytes:
        data = self.receive(FrameType.application_data)
        ATTESTED_BEFORE_DATA.require(self.attested(), "application data arrived before attestation completed")
        self.emit("ApplicationDataReceived", length=len(data))
        return data

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:
            pass


def _ear_echo(ear_cmw: bytes, verifier_public_key: Any) -> tuple[bytes | None, bytes | None]:
    """The binding and AIK_pub_hash an EAR echoes, after checking the Verifier's signature."""
    result = verify_ear_signature(ear_cmw, verifier_public_key, allow_bare=False)   # draft §3: a CMW
    for appraisal in result.submods.values():
        return first_nonce(appraisal.eat_nonce), appraisal.aik_pub_hash
    return None, None
