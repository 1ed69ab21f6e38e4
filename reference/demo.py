"""``expat ea demo``: Exported Authenticators both ways over one live TLS 1.3 connection.

A loopback TLS 1.3 connection (OpenSSL via :mod:`expat.reference.tls`) carries framed RFC 9261
messages (:mod:`expat.reference.framing`). Each endpoint runs its own :class:`EASession` over
its own OpenSSL exporter and only ever uses bytes it received from the channel. One round is:

1. server -> client  CertificateRequest (13)                      (RFC 9261 §4)
2. client -> server  authenticator answering it; server validates   (§5.2, §7.4)
3. client -> server  ClientCertificateRequest (17)                (§4)
4. server -> client  authenticator answering it; client validates
5. server -> client  spontaneous authenticator; client validates    (§5, checked against the ClientHello)
6. server -> client  CertificateRequest (13)
7. client -> server  empty authenticator (refusal); server validates: authenticated, not valid (§6, §7.4)

Every request draws a fresh random context, so repeated rounds never reuse one (§4, §5.2.1).
:func:`run_demo` returns a :class:`DemoResult`; :func:`format_demo` renders it as text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from expat.errors import ProtocolError, UnexpectedMessage
from expat.reference import pki, tls
from expat.reference.ea import EASession, ValidatedAuthenticator, get_context
from expat.reference.framing import FramedChannel, FrameType
from expat.reference.keyschedule import CIPHER_SUITE_HASH
from expat.reference.messages import HandshakeType, SignatureScheme, decode_request, signature_algorithms

DEMO_SUITES = tls.TLS13_CIPHER_SUITES  # the suites expat offers
DEMO_KEYS = pki.KEY_KINDS  # p256, p384, ed25519
STEPS_PER_ROUND = 7
CONTEXT_PREFIX = 8  # bytes of context / SPKI hash shown in the account
DEMO_SEED = "expat-ea-demo"

# What each endpoint offers in its requests, most preferred first (RFC 8446 §4.2.3 names).
REQUEST_NAMES = {HandshakeType.certificate_request: "CertificateRequest (13)",
                 HandshakeType.client_certificate_request: "ClientCertificateRequest (17)"}
REQUEST_SCHEMES = (SignatureScheme.ed25519, SignatureScheme.ecdsa_secp256r1_sha256,
                   SignatureScheme.ecdsa_secp384r1_sha384, SignatureScheme.rsa_pss_rsae_sha256)


@dataclass(frozen=True)
class DemoStep:
    """One message on the channel and, for authenticators, the receiver's verdict."""

    round: int
    index: int            # 1-based within the round
    sender: str           # "client" or "server"
    message: str          # "CertificateRequest", "ClientCertificateRequest", "authenticator", ...
    frame_type: int
    size: int             # payload bytes
    context: bytes        # certificate_request_context the message is about
    validated_by: str | None = None
    valid: bool | None = None
    empty: bool = False
    signature_scheme: str | None = None
    leaf_spki_sha256: bytes | None = None
    chain_validated: bool = False
    expected: bool = True  # the outcome is what the demo set out to show
    error: str | None = None

    @property
    def receiver(self) -> str:
        return "client" if self.sender == "server" else "server"

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return f"REJECTED ({self.error})"
        if self.validated_by is None:
            return "received"
        if self.empty:
            return "authenticated refusal (empty, not valid per RFC 9261 §7.4)"
        return "valid" if self.valid else "not valid"


@dataclass
class DemoResult:
    suite: str
    hash_name: str
    key_kind: str
    rounds: int
    client_hello_sigalgs: tuple[int, ...] = ()
    steps: list[DemoStep] = field(default_factory=list)
    error: str | None = None  # a failure outside any step (e.g. the TLS handshake)

    @property
    def ok(self) -> bool:
        contexts = self.contexts
        return (self.error is None and len(self.steps) == self.rounds * STEPS_PER_ROUND
                and all(s.expected for s in self.steps) and len(set(contexts)) == len(contexts))

    @property
    def contexts(self) -> list[bytes]:
        """Contexts of the requests and spontaneous authenticators: one per exchange."""
        return [s.context for s in self.steps if s.frame_type == FrameType.ea_request
                or s.message == "spontaneous authenticator"]


def _identity(kind: str, name: str) -> pki.Identity:
    return pki.make_identity(kind, seed=DEMO_SEED, name=name)


def run_demo(suite: str = "TLS_AES_128_GCM_SHA256", key: str = "p256", rounds: int = 1) -> DemoResult:
    """Run the demo and return what happened; never raises a ProtocolError (it is recorded instead)."""
    if suite not in DEMO_SUITES:
        raise ValueError(f"suite must be one of {DEMO_SUITES}")
    if key not in DEMO_KEYS:
        raise ValueError(f"key must be one of {DEMO_KEYS}")
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    result = DemoResult(suite=suite, hash_name=CIPHER_SUITE_HASH[suite].name, key_kind=key, rounds=rounds)

    # TLS identities (the connection) and separate EA identities (what the authenticators prove).
    tls_server = _identity(key, "tls-server")
    ea_server, ea_client = _identity(key, "ea-server"), _identity(key, "ea-client")
    server_cfg = tls.TlsConfig(identity=tls_server, cipher_suites=(suite,))
    client_cfg = tls.TlsConfig(trust_anchors=tls_server.root_pem(), verify_peer=True, cipher_suites=(suite,))
    try:
        client_conn, server_conn = tls.loopback_pair(server_cfg, client_cfg)
    except ProtocolError as e:
        result.error = f"TLS handshake: {e}"
        return result
    try:
        result.hash_name = server_conn.hash.name
        result.client_hello_sigalgs = tuple(server_conn.client_hello.signature_algorithms)
        _Exchange(result, client_conn, server_conn, ea_client, ea_server).run()
    finally:
        client_conn.close()
        server_conn.close()
    return result


class _Exchange:
    """Both endpoints of the demo; each has its own channel end, EASession and trust anchor."""

    def __init__(self, result: DemoResult, client_conn: tls.TlsConnection, server_conn: tls.TlsConnection,
                 ea_client: pki.Identity, ea_server: pki.Identity) -> None:
        self.result = result
        self.chan = {"client": FramedChannel(client_conn), "server": FramedChannel(server_conn)}
        self.session = {
            "client": EASession(client_conn.exporter, False, client_hello_sigalgs=client_conn.client_hello.signature_algorithms,
                                client_hello_extensions=client_conn.client_hello.extension_types),
            # On a server, handshake_complete means OpenSSL verified the client Finished (RFC 9261 §9).
            "server": EASession(server_conn.exporter, True, client_hello_sigalgs=server_conn.client_hello.signature_algorithms,
                                client_hello_extensions=server_conn.client_hello.extension_types,
                                client_finished_verified=server_conn.handshake_complete),
        }
        self.identity = {"client": ea_client, "server": ea_server}
        # Each side trusts the root of the other side's EA identity.
        self.validator = {"client": pki.ChainValidator([ea_server.root]), "server": pki.ChainValidator([ea_client.root])}
        self.round = 0
        self.index = 0

    def _record(self, **kw) -> DemoStep:
        self.index += 1
        step = DemoStep(round=self.round, index=self.index, **kw)
        self.result.steps.append(step)
        return step

    def _transfer(self, sender: str, frame_type: int, payload: bytes) -> bytes:
        receiver = "client" if sender == "server" else "server"
        self.chan[sender].send(frame_type, payload)
        got_type, got = self.chan[receiver].recv()
        if got_type != frame_type:
            raise UnexpectedMessage(f"expected frame {frame_type}, got {got_type}")
        return got

    def _request(self, sender: str) -> bytes:
        """``sender`` issues a request; returns the bytes the peer received."""
        raw = self.session[sender].request([signature_algorithms(REQUEST_SCHEMES)])
        got = self._transfer(sender, FrameType.ea_request, raw)
        req = decode_request(got)
        self._record(sender=sender, message=REQUEST_NAMES[req.msg_type], frame_type=FrameType.ea_request,
                     size=len(got), context=req.context)
        return got

    def _answer(self, sender: str, request: bytes | None, *, empty: bool = False) -> None:
        """``sender`` answers ``request`` (None: spontaneous); the receiver validates."""
        receiver = "client" if sender == "server" else "server"
        ident = self.identity[sender]
        if empty:
            auth = self.session[sender].empty_authenticator(request)
            message = "empty authenticator"
        else:
            auth = self.session[sender].authenticate(ident.key, ident.chain_der(), request)
            message = "authenticator" if request is not None else "spontaneous authenticator"
        got = self._transfer(sender, FrameType.ea_authenticator, auth)
        context = decode_request(request).context if request is not None else get_context(got)
        try:
            v: ValidatedAuthenticator = self.session[receiver].validate(request, got, self.validator[receiver])
        except ProtocolError as e:
            self._record(sender=sender, message=message, frame_type=FrameType.ea_authenticator, size=len(got),
                         context=context, validated_by=receiver, valid=False, expected=False,
                         error=f"{e.alert.name} [{e.check}]: {e.reason}")
            return
        self._record(sender=sender, message=message, frame_type=FrameType.ea_authenticator, size=len(got),
                     context=v.context, validated_by=receiver, valid=v.valid, empty=v.empty,
                     signature_scheme=v.signature_scheme_name, leaf_spki_sha256=v.leaf_spki_sha256,
                     chain_validated=v.chain_validated,
                     expected=(v.empty and not v.valid) if empty else (v.valid and not v.empty and v.chain_validated
                                                                      and v.leaf_spki_sha256 == _spki_hash(ident)))

    def run(self) -> None:
        try:
            for r in range(1, self.result.rounds + 1):
                self.round, self.index = r, 0
                self._answer("client", self._request("server"))          # 1, 2
                self._answer("server", self._request("client"))          # 3, 4
                self._answer("server", None)                             # 5
                self._answer("client", self._request("server"), empty=True)  # 6, 7
            self.chan["client"].send(FrameType.close)
            if self.chan["server"].recv()[0] != FrameType.close:
                raise UnexpectedMessage("expected a close frame")
        except ProtocolError as e:
            self.result.error = f"round {self.round} step {self.index + 1}: {e}"


def _spki_hash(ident: pki.Identity) -> bytes:
    return hashlib.sha256(pki.spki_der(ident.key)).digest()


def format_demo(result: DemoResult) -> str:
    """A readable account of :func:`run_demo`'s result."""
    lines = [f"expat ea demo: TLS 1.3 over loopback, {result.suite} (hash {result.hash_name}), "
             f"EA keys {result.key_kind}, {result.rounds} round(s)",
             f"ClientHello signature_algorithms: {', '.join(f'0x{s:04x}' for s in result.client_hello_sigalgs)}"]
    current = None
    for s in result.steps:
        if s.round != current:
            current = s.round
            lines.append(f"round {s.round}")
        line = (f"  {s.index}. {s.sender:>6} -> {s.receiver:<6} {s.message:<30} "
                f"ctx {s.context[:CONTEXT_PREFIX].hex()}..  {s.size:>5} bytes")
        if s.signature_scheme:
            line += f"  scheme {s.signature_scheme}"
        if s.leaf_spki_sha256:
            line += f"  leaf SPKI sha256 {s.leaf_spki_sha256[:CONTEXT_PREFIX].hex()}.."
        if s.validated_by:
            line += f"  {s.validated_by}: {s.verdict}"
        lines.append(line)
    if result.error:
        lines.append(f"error: {result.error}")
    expected = sum(s.expected for s in result.steps)
    lines.append(f"result: {'OK' if result.ok else 'FAILED'}: {expected}/{result.rounds * STEPS_PER_ROUND} "
                 f"steps as expected, {len(set(result.contexts))} distinct contexts")
    return "\n".join(lines)
