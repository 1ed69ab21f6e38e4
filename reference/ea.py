"""Exported Authenticators (RFC 9261), written step by step after the RFC.

Everything takes an :class:`~expat.reference.keyschedule.Exporter` (TLS-Exporter of one TLS 1.3
connection), so it runs the same over a live OpenSSL connection or a known exporter secret.

* :func:`authenticator_keys` - Handshake Context and Finished MAC Key (§5.1).
* :class:`EASession` - per-connection state and the four APIs of §7: :meth:`EASession.request`
  (§7.1), :func:`get_context` (§7.2), :meth:`EASession.authenticate` /
  :meth:`EASession.empty_authenticator` (§7.3, §5.2, §6) and :meth:`EASession.validate` (§7.4).
* :func:`create_authenticator` / :func:`validate_authenticator` - the same construction and
  validation without connection state, from precomputed :class:`EAKeys` (offline use, CLI).

Every requirement enforced is a named check (:mod:`expat.checks`); docs/exported-authenticators.md
lists them with their sections and alerts and records the choices made where RFC 9261 is silent.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Iterable, Protocol, Sequence, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import SignatureAlgorithmOID

from expat.checks import check
from expat.errors import Alert, ProtocolError
from expat.reference.keyschedule import Exporter, HashAlg
from expat.reference.messages import (
    TLS13_CERTIFICATE_VERIFY_SCHEMES,
    Certificate,
    CertificateEntry,
    CertificateRequest,
    CertificateVerify,
    ClientCertificateRequest,
    Extension,
    ExtensionType,
    Finished,
    HandshakeType,
    SignatureScheme,
    SignatureSchemeList,
    decode_request,
    find_extension,
    handshake_type_name,
    scheme_name,
    split_handshakes,
)
from expat.reference.pki import spki_der

# --- constants (RFC 9261 §5.1, §5.2.2) ---------------------------------------------------------------

ROLES = ("client", "server")
HANDSHAKE_CONTEXT_LABEL = {role: f"EXPORTER-{role} authenticator handshake context".encode() for role in ROLES}
FINISHED_KEY_LABEL = {role: f"EXPORTER-{role} authenticator finished key".encode() for role in ROLES}
CV_PAD = b"\x20" * 64
CV_CONTEXT_STRING = b"Exported Authenticator"
DEFAULT_CONTEXT_LENGTH = 32  # random, so unpredictable (§4, §5.2.1)
MAX_CHAIN_ENTRIES = 10  # end-entity + intermediates (+ root); a sane bound, documented in docs/performance.md

# Extensions whose IANA "TLS 1.3" column holds "CR" (RFC 8446 §4.2 table): status_request,
# signature_algorithms, signed_certificate_timestamp, certificate_authorities, oid_filters,
# signature_algorithms_cert. RFC 9261 §4/§8.1 add server_name for ClientCertificateRequest only.
CERTIFICATE_REQUEST_EXTENSIONS = frozenset({
    ExtensionType.status_request, ExtensionType.signature_algorithms, ExtensionType.signed_certificate_timestamp,
    ExtensionType.certificate_authorities, ExtensionType.oid_filters, ExtensionType.signature_algorithms_cert})
CLIENT_CERTIFICATE_REQUEST_EXTENSIONS = CERTIFICATE_REQUEST_EXTENSIONS | {ExtensionType.server_name}

# RFC 8446 §4.2: the extensions it defines, and those of them allowed in a Certificate ("CT" column:
# status_request, signed_certificate_timestamp). A defined extension in a message it is not listed for
# is illegal_parameter; extensions RFC 8446 does not define (cmw_attestation, ...) follow §5.2.1's
# subset rule only.
TLS13_DEFINED_EXTENSIONS = frozenset({0, 1, 5, 10, 13, 14, 15, 16, 18, 19, 20, 21, 41, 42, 43, 44, 45, 47, 48, 49,
                                      50, 51})
CERTIFICATE_EXTENSIONS = frozenset({ExtensionType.status_request, ExtensionType.signed_certificate_timestamp})
RSASSA_PSS_OID = "1.2.840.113549.1.1.10"   # RFC 4055 id-RSASSA-PSS

# Certificate signature algorithm -> the SignatureSchemes naming it in signature_algorithms_cert
# (RFC 8446 §4.2.3); RSASSA-PSS certificate signatures match either PSS family.
_CERT_SIGNATURE_SCHEMES = {
    SignatureAlgorithmOID.ECDSA_WITH_SHA256: {SignatureScheme.ecdsa_secp256r1_sha256},
    SignatureAlgorithmOID.ECDSA_WITH_SHA384: {SignatureScheme.ecdsa_secp384r1_sha384},
    SignatureAlgorithmOID.ECDSA_WITH_SHA512: {SignatureScheme.ecdsa_secp521r1_sha512},
    SignatureAlgorithmOID.ECDSA_WITH_SHA1: {SignatureScheme.ecdsa_sha1},
    SignatureAlgorithmOID.RSA_WITH_SHA256: {SignatureScheme.rsa_pkcs1_sha256},
    SignatureAlgorithmOID.RSA_WITH_SHA384: {SignatureScheme.rsa_pkcs1_sha384},
    SignatureAlgorithmOID.RSA_WITH_SHA512: {SignatureScheme.rsa_pkcs1_sha512},
    SignatureAlgorithmOID.RSA_WITH_SHA1: {SignatureScheme.rsa_pkcs1_sha1},
    SignatureAlgorithmOID.ED25519: {SignatureScheme.ed25519},
    SignatureAlgorithmOID.ED448: {SignatureScheme.ed448},
}
_PSS_BY_HASH = {"sha256": {SignatureScheme.rsa_pss_rsae_sha256, SignatureScheme.rsa_pss_pss_sha256},
                "sha384": {SignatureScheme.rsa_pss_rsae_sha384, SignatureScheme.rsa_pss_pss_sha384},
                "sha512": {SignatureScheme.rsa_pss_rsae_sha512, SignatureScheme.rsa_pss_pss_sha512}}

# --- checks ---------------------------------------------------------------------------------------

REQUEST_CTX_UNIQUE = check(
    "rfc9261-4-ctx-unique", "RFC 9261 §4", Alert.illegal_parameter,
    "a request's certificate_request_context is used by one request only on the connection, "
    "across CertificateRequest and ClientCertificateRequest")
REQUEST_SIGALGS = check(
    "rfc9261-7.1-signature-algorithms", "RFC 9261 §7.1; RFC 8446 §4.3.2", Alert.missing_extension,
    "an authenticator request carries signature_algorithms")
REQUEST_EXTENSIONS = check(
    "rfc9261-4-request-extensions", "RFC 9261 §4; RFC 8446 §4.2", Alert.illegal_parameter,
    "a request only carries extensions allowed in requests (CR column, server_name in client requests, "
    "and extensions the caller registered)")
REQUEST_KIND = check(
    "rfc9261-4-request-kind", "RFC 9261 §4", Alert.unexpected_message,
    "server-made requests are CertificateRequest (13), client-made ones ClientCertificateRequest (17)")
UNSOLICITED = check(
    "rfc9261-5-unsolicited-client", "RFC 9261 §5, §3", Alert.unexpected_message,
    "only a server may produce an authenticator without a preceding request")
CLIENT_FINISHED = check(
    "rfc9261-9-client-finished", "RFC 9261 §9", Alert.unexpected_message,
    "a server creates or processes authenticators only after verifying the client's TLS Finished")
CTX_FRESH = check(
    "rfc9261-5.2-ctx-fresh", "RFC 9261 §5.2", Alert.illegal_parameter,
    "no authenticator is built for a context this endpoint already used in an authenticator it created or validated")
SPONTANEOUS_CTX_UNIQUE = check(
    "rfc9261-5.2.1-spontaneous-ctx-unique", "RFC 9261 §5.2.1", Alert.illegal_parameter,
    "a spontaneous authenticator's context is unique on the connection")
CTX_MATCH = check(
    "rfc9261-5.2.4-ctx-match", "RFC 9261 §5.2.1, §5.2.4", Alert.illegal_parameter,
    "the Certificate's certificate_request_context equals the request's")
CTX_REPLAY = check(
    "rfc9261-7.4-ctx-replay", "RFC 9261 §7.4", Alert.illegal_parameter,
    "validation fails for a context already used by an authenticator seen on this connection")
REQUEST_ISSUED = check(
    "rfc9261-7.4-request-issued", "RFC 9261 §7.4", Alert.internal_error,
    "a session validates authenticators only against requests it issued itself (exact bytes)")
SEQUENCE = check(
    "rfc9261-5.2.4-message-sequence", "RFC 9261 §5.2.4, §6", Alert.unexpected_message,
    "an authenticator is exactly Certificate, CertificateVerify, Finished, or a lone Finished")
EMPTY_NEEDS_REQUEST = check(
    "rfc9261-6-empty-needs-request", "RFC 9261 §6", Alert.unexpected_message,
    "an empty authenticator only answers a request")
CERT_NONEMPTY = check(
    "rfc9261-5.2.1-certificate-nonempty", "RFC 9261 §5.2.1; RFC 8446 §4.4.2.4", Alert.decode_error,
    "a non-empty authenticator's Certificate holds at least the end-entity certificate")
EXT_SUBSET = check(
    "rfc9261-5.2.1-extension-subset", "RFC 9261 §5.2.1; RFC 8446 §4.2", Alert.unsupported_extension,
    "Certificate extensions are a subset of the request's (or, spontaneous, the ClientHello's)")
CERT_EXTENSIONS = check(
    "rfc8446-4.2-certificate-extensions", "RFC 9261 §5.2.1; RFC 8446 §4.2", Alert.illegal_parameter,
    "a CertificateEntry carries no extension RFC 8446 defines for other messages only (of its extensions only "
    "status_request and signed_certificate_timestamp may appear in a Certificate)")
RSASSA_PSS_KEY = check(
    "rfc8446-4.2.3-rsassa-pss-key", "RFC 8446 §4.2.3", Alert.unsupported_certificate,
    "an end-entity key with the RSASSA-PSS algorithm identifier is only usable with rsa_pss_pss_* (never "
    "rsa_pss_rsae_*); expat does not implement rsa_pss_pss_* and refuses such keys")
CERT_SIGNATURES = check(
    "rfc8446-4.2.3-signature-algorithms-cert", "RFC 9261 §5.2.1; RFC 8446 §4.2.3, §4.4.2.2",
    Alert.unsupported_certificate,
    "every certificate signature in the chain (self-signed certificates excepted) uses a scheme the request "
    "lists in signature_algorithms_cert, or in signature_algorithms when it has no signature_algorithms_cert")
SCHEME_TLS13 = check(
    "rfc9261-5.2.2-scheme-tls13", "RFC 9261 §5.2.2; RFC 8446 §4.2.3", Alert.illegal_parameter,
    "the CertificateVerify scheme is valid for TLS 1.3 (no RSASSA-PKCS1-v1_5, no SHA-1, no mismatched ECDSA)")
SCHEME_OFFERED = check(
    "rfc9261-5.2.2-scheme-offered", "RFC 9261 §5.2.2", Alert.illegal_parameter,
    "the CertificateVerify scheme is one of the request's (or, spontaneous, the ClientHello's) signature_algorithms")
SCHEME_KEY = check(
    "rfc9261-5.2.2-scheme-key", "RFC 9261 §5.2.2; RFC 8446 §4.4.3", Alert.illegal_parameter,
    "the CertificateVerify scheme fits the end-entity certificate's key (type and curve)")
SCHEME_AVAILABLE = check(
    "rfc9261-5.2.2-scheme-available", "RFC 9261 §5.2.2", Alert.handshake_failure,
    "an authenticator is only built when an offered scheme fits the signing key")
LEAF_X509 = check(
    "rfc9261-5.2.1-leaf-x509", "RFC 9261 §5.2.1", Alert.bad_certificate,
    "the end-entity entry is an X.509 certificate with a supported public key")
SIGNER_LEAF = check(
    "rfc9261-5.2.2-signer-matches-leaf", "RFC 9261 §5.2.2", Alert.internal_error,
    "the signer's public key is the end-entity certificate's key")
CHAIN = check(
    "rfc9261-7.4-chain-validation", "RFC 9261 §7.4", Alert.bad_certificate,
    "the caller's chain validation function accepts the certificate chain")
SIGNATURE = check(
    "rfc9261-5.2.2-signature", "RFC 9261 §5.2.2, §5.2.4", Alert.decrypt_error,
    "the CertificateVerify signature verifies under the end-entity key over the authenticator transcript")
CHAIN_LENGTH = check(
    "expat-limit-chain-length", "RFC 9261 §5.2.1; RFC 8446 §4.4.2", Alert.bad_certificate,
    "an authenticator's Certificate holds at most MAX_CHAIN_ENTRIES entries (checked before any is parsed)")
FINISHED = check(
    "rfc9261-5.2.3-finished", "RFC 9261 §5.2.3, §5.2.4, §6", Alert.decrypt_error,
    "Finished equals HMAC(Finished MAC Key, Hash(Handshake Context || request || Certificate || CertificateVerify))")

_FULL_SEQUENCE = [HandshakeType.certificate, HandshakeType.certificate_verify, HandshakeType.finished]

# --- keys and transcript (§5.1, §5.2.2, §5.2.3) ----------------------------------------------------


@dataclass(frozen=True)
class EAKeys:
    """The two exporter values one sender role uses (RFC 9261 §5.1)."""

    hash: HashAlg
    handshake_context: bytes
    finished_key: bytes
    role: str = ""  # sender role they were derived for, if known

    def __post_init__(self) -> None:
        for name in ("handshake_context", "finished_key"):
            if len(getattr(self, name)) != self.hash.length:
                raise ValueError(f"{name} must be {self.hash.length} bytes for {self.hash.name}")


def authenticator_keys(exporter: Exporter, sender_role: str) -> EAKeys:
    """§5.1: both values are TLS-Exporter(label, empty context, Hlen); the label names the sender."""
    if sender_role not in ROLES:
        raise ValueError(f"sender_role must be 'client' or 'server', not {sender_role!r}")
    h = exporter.hash
    return EAKeys(hash=h,
                  handshake_context=exporter.export(HANDSHAKE_CONTEXT_LABEL[sender_role], b"", h.length),
                  finished_key=exporter.export(FINISHED_KEY_LABEL[sender_role], b"", h.length),
                  role=sender_role)


def transcript_hash(keys: EAKeys, request: bytes, certificate: bytes, certificate_verify: bytes = b"") -> bytes:
    """Hash(Handshake Context || request || Certificate [|| CertificateVerify]); absent request = b"" (§5.2.2)."""
    return keys.hash.digest(keys.handshake_context + request + certificate + certificate_verify)


def certificate_verify_content(keys: EAKeys, request: bytes, certificate: bytes) -> bytes:
    """§5.2.2: 64 spaces || "Exported Authenticator" || 0x00 || Hash(Handshake Context || request || Certificate)."""
    return CV_PAD + CV_CONTEXT_STRING + b"\x00" + transcript_hash(keys, request, certificate)


def finished_verify_data(keys: EAKeys, request: bytes, certificate: bytes, certificate_verify: bytes = b"") -> bytes:
    """§5.2.3 (and §6 with the CertificateVerify omitted): HMAC(Finished MAC Key, transcript hash)."""
    return keys.hash.hmac(keys.finished_key, transcript_hash(keys, request, certificate, certificate_verify))


def empty_certificate(context: bytes) -> bytes:
    """The Certificate with no entries that an empty authenticator's Finished covers (§6).

    RFC 9261 does not say which context it carries; expat uses the request's (DIGEST A-RFC-1).
    """
    return Certificate(context, ()).raw


# --- signature schemes and signers (§5.2.2) ---------------------------------------------------------

_ECDSA = {  # scheme -> (curve name, hash)
    SignatureScheme.ecdsa_secp256r1_sha256: ("secp256r1", hashes.SHA256),
    SignatureScheme.ecdsa_secp384r1_sha384: ("secp384r1", hashes.SHA384),
    SignatureScheme.ecdsa_secp521r1_sha512: ("secp521r1", hashes.SHA512),
}
_RSA_PSS_RSAE = {
    SignatureScheme.rsa_pss_rsae_sha256: hashes.SHA256,
    SignatureScheme.rsa_pss_rsae_sha384: hashes.SHA384,
    SignatureScheme.rsa_pss_rsae_sha512: hashes.SHA512,
}
_ECDSA_BY_CURVE = {curve: tuple(s for s, (c, _) in _ECDSA.items() if c == curve) for curve, _ in _ECDSA.values()}
_SCHEMES_BY_TYPE: dict[type, tuple[int, ...]] = {}  # concrete Ed25519 key class -> schemes (curve-free)
_EC_TYPES: set[type] = set()                         # concrete EC public key classes (schemes depend on curve)
_PRIVATE_KEY_TYPES = (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey,
                      rsa.RSAPrivateKey)


def schemes_for_key(public_key: Any) -> tuple[int, ...]:
    """TLS 1.3 CertificateVerify schemes usable with ``public_key`` (RFC 8446 §4.2.3).

    ECDSA schemes bind the curve; RSA keys (rsaEncryption OID) use rsa_pss_rsae_*; rsa_pss_pss_*
    (RSASSA-PSS OID keys) is not supported.
    """
    kind = type(public_key)
    fixed = _SCHEMES_BY_TYPE.get(kind)  # fast paths for the concrete key classes seen before
    if fixed is not None:
        return fixed
    if kind in _EC_TYPES:
        return _ECDSA_BY_CURVE.get(public_key.curve.name, ())
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        _SCHEMES_BY_TYPE[kind] = (SignatureScheme.ed25519,)
        return (SignatureScheme.ed25519,)
    if isinstance(public_key, ed448.Ed448PublicKey):
        return (SignatureScheme.ed448,)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        _EC_TYPES.add(kind)
        return _ECDSA_BY_CURVE.get(public_key.curve.name, ())
    if isinstance(public_key, rsa.RSAPublicKey):
        return tuple(_RSA_PSS_RSAE)
    return ()


def verify_signature(public_key: Any, scheme: int, signature: bytes, data: bytes) -> bool:
    """Verify a CertificateVerify signature; False on any mismatch or unsupported combination."""
    try:
        if scheme not in schemes_for_key(public_key):
            return False
        if scheme in _ECDSA:
            public_key.verify(signature, data, ec.ECDSA(_ECDSA[scheme][1]()))
        elif scheme in _RSA_PSS_RSAE:
            h = _RSA_PSS_RSAE[scheme]()
            public_key.verify(signature, data, padding.PSS(padding.MGF1(h), h.digest_size), h)
        else:  # ed25519 / ed448
            public_key.verify(signature, data)
    except Exception:  # InvalidSignature, or malformed signature / key material
        return False
    return True


@runtime_checkable
class CertificateVerifySigner(Protocol):
    """Something that signs CertificateVerify content without handing out a private key (§7.3 "signer").

    ``sign(scheme, data)`` returns the signature field for SignatureScheme ``scheme`` over
    ``data`` (the full §5.2.2 content; the scheme's own hashing applies). A TPM- or
    enclave-resident attestation key implements this.
    """

    def public_key(self) -> Any: ...

    def sign(self, scheme: int, data: bytes) -> bytes: ...


class PrivateKeySigner:
    """A :class:`CertificateVerifySigner` over a ``cryptography`` private key (deterministic ECDSA, RFC 6979)."""

    def __init__(self, key: Any):
        if not isinstance(key, _PRIVATE_KEY_TYPES):
            raise TypeError(f"unsupported private key type {type(key).__name__}")
        self._key = key
        self._public_key = key.public_key()
        self.spki_der = spki_der(self._public_key)  # fixed for the signer's life (keys are immutable)

    def public_key(self) -> Any:
        return self._public_key

    def sign(self, scheme: int, data: bytes) -> bytes:
        if scheme not in schemes_for_key(self._public_key):
            raise ValueError(f"{scheme_name(scheme)} does not fit a {type(self._key).__name__}")
        if scheme in _ECDSA:
            return self._key.sign(data, ec.ECDSA(_ECDSA[scheme][1](), deterministic_signing=True))
        if scheme in _RSA_PSS_RSAE:
            h = _RSA_PSS_RSAE[scheme]()
            return self._key.sign(data, padding.PSS(padding.MGF1(h), h.digest_size), h)
        return self._key.sign(data)


def as_signer(signer: Any) -> CertificateVerifySigner:
    """Wrap a private key; pass any object with ``public_key()`` and ``sign(scheme, data)`` through."""
    if isinstance(signer, _PRIVATE_KEY_TYPES):
        return PrivateKeySigner(signer)
    if callable(getattr(signer, "public_key", None)) and callable(getattr(signer, "sign", None)):
        return signer
    raise TypeError("signer must be a P-256/P-384/Ed25519 (or RSA/Ed448) private key or a CertificateVerifySigner")


def choose_scheme(offered: Sequence[int], public_key: Any) -> int | None:
    """§5.2.2: the first offered scheme (peer's order) valid for TLS 1.3 that fits the key."""
    usable = schemes_for_key(public_key)
    for s in offered:
        if s in TLS13_CERTIFICATE_VERIFY_SCHEMES and s in usable:
            return s
    return None


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidatedAuthenticator:
    """Outcome of validating a well-formed authenticator (faults raise :class:`ProtocolError` instead).

    ``valid`` is True for a verified Certificate/CertificateVerify/Finished. A verified empty
    authenticator is an authenticated refusal and, as RFC 9261 §7.4 says, *not* valid:
    ``valid=False, empty=True`` and no identity.
    """

    valid: bool
    empty: bool
    sender_role: str
    hash_name: str
    context: bytes
    signature_scheme: int | None = None
    chain_der: tuple[bytes, ...] = field(default=(), repr=False)
    leaf_spki_sha256: bytes | None = None
    leaf_public_key: Any = field(default=None, repr=False, compare=False)
    entry_extensions: tuple[tuple[Extension, ...], ...] = ()
    request_extensions: tuple[Extension, ...] = ()
    chain_validated: bool = False
    chain_validation: Any = field(default=None, repr=False, compare=False)
    # transcript pieces, exact bytes
    request: bytes = field(default=b"", repr=False)
    certificate: bytes = field(default=b"", repr=False)
    certificate_verify: bytes = field(default=b"", repr=False)
    finished: bytes = field(default=b"", repr=False)
    handshake_context: bytes = field(default=b"", repr=False)

    @property
    def signature_scheme_name(self) -> str | None:
        return None if self.signature_scheme is None else scheme_name(self.signature_scheme)

    @property
    def extensions(self) -> tuple[int, ...]:
        """Extension types in the first CertificateEntry (where the end-entity's extensions live)."""
        return tuple(e.type for e in self.entry_extensions[0]) if self.entry_extensions else ()

    def first_entry_extension(self, ext_type: int) -> Extension | None:
        return find_extension(self.entry_extensions[0] if self.entry_extensions else (), ext_type)

    @property
    def refusal_alert(self) -> Alert | None:
        """For an empty authenticator, the alert a TLS stack would use for "no certificate" (RFC 8446 §4.4.2.4)."""
        return Alert.certificate_required if self.empty else None

    def summary(self) -> dict:
        """A JSON-ready summary (used by ``expat ea validate``)."""
        out: dict[str, Any] = {"valid": self.valid, "empty": self.empty, "sender_role": self.sender_role,
                               "hash": self.hash_name, "context": self.context.hex(),
                               "extensions": list(self.extensions)}
        if self.empty:
            out.update(alert=Alert.certificate_required.name, refusal_authenticated=True,
                       reason="empty authenticator: an authenticated refusal, invalid per RFC 9261 §7.4")
        else:
            out.update(signature_scheme=self.signature_scheme_name, signature_scheme_code=self.signature_scheme,
                       leaf_spki_sha256=self.leaf_spki_sha256.hex() if self.leaf_spki_sha256 else None,
                       chain_length=len(self.chain_der), chain_validated=self.chain_validated)
        return out


ChainValidatorFn = Callable[[list[bytes]], object]

# --- stateless construction and validation -------------------------------------------------------


def _request_type_answered_by(sender_role: str) -> int:
    """A client answers the server's CertificateRequest; a server the client's ClientCertificateRequest (§4)."""
    return HandshakeType.certificate_request if sender_role == "client" else HandshakeType.client_certificate_request


def _parse_answered_request(request: bytes, sender_role: str) -> CertificateRequest:
    req = decode_request(request)
    expected = _request_type_answered_by(sender_role)
    REQUEST_KIND.require(req.msg_type == expected,
                         lambda: f"a {sender_role} answers {handshake_type_name(expected)}, "
                                 f"got {handshake_type_name(req.msg_type)}")
    return req


@functools.lru_cache(maxsize=128)
def _leaf_key_info(cert_der: bytes) -> tuple[Any, bytes, bytes]:
    """(public key, SPKI DER, SHA-256 of the SPKI) of an end-entity certificate.

    A pure function of the DER bytes, so it is memoised (keyed by the exact bytes; failures raise
    and are not cached): re-validating authenticators from the same key skips re-parsing X.509.
    """
    try:
        cert = x509.load_der_x509_certificate(cert_der)
        key_oid = cert.public_key_algorithm_oid.dotted_string
    except Exception as e:  # malformed DER
        LEAF_X509.fail(f"end-entity certificate unusable: {e}")
    RSASSA_PSS_KEY.require(key_oid != RSASSA_PSS_OID, "end-entity key is RSASSA-PSS ({}): rsa_pss_pss_* "
                           "is not supported and rsa_pss_rsae_* is reserved for rsaEncryption keys", key_oid)
    try:
        key = cert.public_key()
    except Exception as e:  # unsupported key algorithm
        LEAF_X509.fail(f"end-entity certificate unusable: {e}")
    LEAF_X509.require(schemes_for_key(key), lambda: f"unsupported end-entity key type {type(key).__name__}")
    spki = spki_der(key)
    return key, spki, hashlib.sha256(spki).digest()


def _signature_algorithms_cert(req: CertificateRequest) -> tuple[int, ...]:
    """signature_algorithms_cert if the request has it, else signature_algorithms (RFC 8446 §4.2.3)."""
    ext = req.extension(ExtensionType.signature_algorithms_cert)
    if ext is not None:
        return SignatureSchemeList.from_data(ext.data).schemes
    return req.signature_algorithms or ()


def _check_entry_extensions(entries: Sequence[Sequence[Extension]], offered: Collection[int] | None,
                            offered_by: str) -> None:
    """§5.2.1: RFC 8446 §4.2 placement first (illegal_parameter), then the subset of what was offered."""
    for i, exts in enumerate(entries):
        for e in exts:
            CERT_EXTENSIONS.require(e.type not in TLS13_DEFINED_EXTENSIONS or e.type in CERTIFICATE_EXTENSIONS,
                                    "entry {}: extension {} is not allowed in a Certificate", i, e.type)
            if offered is not None:
                EXT_SUBSET.require(e.type in offered, "entry {}: extension {} was not offered by the {}", i, e.type,
                                   offered_by)


def certificate_signature_schemes(cert_der: bytes) -> set[int]:
    """The SignatureSchemes that name this certificate's own signature (RFC 8446 §4.2.3); empty if none."""
    try:
        cert = x509.load_der_x509_certificate(cert_der)
        oid = cert.signature_algorithm_oid
        if oid == SignatureAlgorithmOID.RSASSA_PSS:
            return set(_PSS_BY_HASH.get(cert.signature_hash_algorithm.name, ()))
        return set(_CERT_SIGNATURE_SCHEMES.get(oid, ()))
    except Exception:   # unparsable here: the leaf check or the chain validator names it
        return set()


def _check_certificate_signatures(chain: Sequence[bytes], allowed: Collection[int]) -> None:
    """RFC 8446 §4.2.3/§4.4.2.2 through RFC 9261 §5.2.1: every non-self-signed certificate is signed with
    an allowed scheme. Self-signed certificates are exempt (their signature is not validated)."""
    for i, der in enumerate(chain):
        try:
            cert = x509.load_der_x509_certificate(der)
            if cert.issuer == cert.subject:
                continue
        except Exception:
            continue   # the chain validator reports unparsable certificates
        CERT_SIGNATURES.require(certificate_signature_schemes(der) & set(allowed),
                                "certificate {} is signed with {}, not among the allowed {}", i,
                                cert.signature_algorithm_oid.dotted_string,
                                [scheme_name(a) for a in allowed])


def create_authenticator(keys: EAKeys, sender_role: str, signer: Any, chain_der: Sequence[bytes],
                         request: bytes | None, *, context: bytes | None = None,
                         entry_extensions: Sequence[Sequence[Extension]] | None = None,
                         client_hello_sigalgs: Collection[int] | Sequence[int] = (),
                         client_hello_extensions: Collection[int] = ()) -> bytes:
    """Certificate || CertificateVerify || Finished (§5.2.1-§5.2.4) from precomputed keys.

    Without a request (spontaneous, server only) ``context`` must be given and the scheme and
    extensions are drawn from the ClientHello's lists.
    """
    signer = as_signer(signer)
    if request is None:
        UNSOLICITED.require(sender_role == "server", "a client must not send an authenticator without a request")
        if context is None:
            raise ValueError("a spontaneous authenticator needs a context")
        ctx, req_raw = context, b""
        offered_schemes: Sequence[int] = list(client_hello_sigalgs)
        offered_extensions: Collection[int] = set(client_hello_extensions)
    else:
        req = _parse_answered_request(request, sender_role)
        REQUEST_SIGALGS.require(req.signature_algorithms is not None, "request lacks signature_algorithms")
        CTX_MATCH.require(context is None or context == req.context, "context differs from the request's context")
        ctx, req_raw = req.context, req.raw
        offered_schemes = req.signature_algorithms or ()
        offered_extensions = set(req.extension_types)
    chain = [bytes(c) for c in chain_der]
    CERT_NONEMPTY.require(chain, "no end-entity certificate (use an empty authenticator to refuse)")
    per_entry = [list(x) for x in (entry_extensions or [])]
    if len(per_entry) > len(chain):
        raise ValueError("more extension lists than certificates")
    per_entry += [[] for _ in range(len(chain) - len(per_entry))]
    _check_entry_extensions(per_entry, offered_extensions, "request" if request is not None else "ClientHello")
    public_key = signer.public_key()
    signer_spki = signer.spki_der if isinstance(signer, PrivateKeySigner) else spki_der(public_key)
    SIGNER_LEAF.require(signer_spki == _leaf_key_info(chain[0])[1],
                        "the signer's key is not the end-entity certificate's key")
    scheme = choose_scheme(offered_schemes, public_key)
    SCHEME_AVAILABLE.require(scheme is not None, "no offered signature scheme fits the signing key")
    cert = Certificate(ctx, [CertificateEntry(c, e) for c, e in zip(chain, per_entry)]).raw
    cv = CertificateVerify(scheme, signer.sign(scheme, certificate_verify_content(keys, req_raw, cert))).raw
    fin = Finished(finished_verify_data(keys, req_raw, cert, cv)).raw
    return cert + cv + fin


def create_empty_authenticator(keys: EAKeys, sender_role: str, request: bytes) -> bytes:
    """§6: a lone Finished over Handshake Context || request || Certificate-with-no-entries."""
    req = _parse_answered_request(request, sender_role)
    return Finished(finished_verify_data(keys, req.raw, empty_certificate(req.context))).raw


def validate_authenticator(keys: EAKeys, sender_role: str, request: bytes | None, authenticator: bytes,
                           chain_validator: ChainValidatorFn | None, *,
                           client_hello_sigalgs: Collection[int] | None = None,
                           client_hello_extensions: Collection[int] | None = None) -> ValidatedAuthenticator:
    """Every validation step of §5.2.4 / §7.4 except the per-connection ones (see :meth:`EASession.validate`).

    ``keys`` belong to ``sender_role`` (the authenticator's sender). Without a request the
    authenticator must be a server's spontaneous one, checked against the ClientHello's
    ``client_hello_sigalgs`` / ``client_hello_extensions``; ``None`` there means "unknown to the
    caller" and skips that offered-check (offline use only; :class:`EASession` never passes None).
    ``chain_validator=None`` skips chain validation (reported as ``chain_validated=False``).
    Raises a :class:`ProtocolError` naming the failed check; returns a result otherwise.
    """
    req = _parse_answered_request(request, sender_role) if request is not None else None
    req_raw = req.raw if req is not None else b""
    msgs = split_handshakes(authenticator, "authenticator")
    types = [m.msg_type for m in msgs]
    base = dict(sender_role=sender_role, hash_name=keys.hash.name, request=req_raw,
                request_extensions=req.extensions if req is not None else (),
                handshake_context=keys.handshake_context)

    if types == [HandshakeType.finished]:  # §6 empty authenticator
        EMPTY_NEEDS_REQUEST.require(req is not None, "a lone Finished without a request")
        fin = Finished.from_handshake(msgs[0], keys.hash.length)
        expected = finished_verify_data(keys, req_raw, empty_certificate(req.context))
        FINISHED.require(hmac.compare_digest(fin.verify_data, expected), "empty authenticator Finished mismatch")
        return ValidatedAuthenticator(valid=False, empty=True, context=req.context, finished=fin.raw, **base)

    SEQUENCE.require(types == _FULL_SEQUENCE,
                     lambda: "expected certificate, certificate_verify, finished; got "
                     + (", ".join(handshake_type_name(t) for t in types) or "nothing"))
    cert = Certificate.from_handshake(msgs[0])
    cv = CertificateVerify.from_handshake(msgs[1])
    fin = Finished.from_handshake(msgs[2], keys.hash.length)

    if req is None:  # §5: only servers authenticate spontaneously
        UNSOLICITED.require(sender_role == "server", "a client authenticator without a request")
        offered_schemes = client_hello_sigalgs
        offered_extensions = client_hello_extensions
    else:
        CTX_MATCH.require(hmac.compare_digest(cert.context, req.context),
                          "certificate_request_context differs from the request's")
        offered_schemes = req.signature_algorithms or ()
        offered_extensions = req.extension_types
    CERT_NONEMPTY.require(cert.entries, "Certificate with no entries next to a CertificateVerify")
    CHAIN_LENGTH.require(len(cert.entries) <= MAX_CHAIN_ENTRIES, "Certificate with {} entries (at most {})",
                         len(cert.entries), MAX_CHAIN_ENTRIES)
    _check_entry_extensions([entry.extensions for entry in cert.entries], offered_extensions,
                            "request" if req is not None else "ClientHello")
    SCHEME_TLS13.require(cv.algorithm in TLS13_CERTIFICATE_VERIFY_SCHEMES,
                         lambda: f"{scheme_name(cv.algorithm)} is not a TLS 1.3 CertificateVerify scheme")
    if offered_schemes is not None:
        SCHEME_OFFERED.require(cv.algorithm in offered_schemes, lambda: f"{scheme_name(cv.algorithm)} was not offered")
    leaf_key, _, leaf_spki_sha256 = _leaf_key_info(cert.entries[0].cert_data)
    SCHEME_KEY.require(cv.algorithm in schemes_for_key(leaf_key),
                       lambda: f"{scheme_name(cv.algorithm)} does not fit the end-entity {type(leaf_key).__name__}")
    chain = list(cert.chain_der)
    chain_result: object = None
    if chain_validator is not None:  # §7.4: the caller's validation function
        # the chain's own signatures are judged with the chain (RFC 8446 §4.2.3, §4.4.2.2)
        cert_schemes = _signature_algorithms_cert(req) if req is not None else offered_schemes
        if cert_schemes is not None:
            _check_certificate_signatures(chain, cert_schemes)
        try:
            chain_result = chain_validator(chain)
        except ProtocolError:
            raise
        except Exception as e:
            CHAIN.fail(f"chain validation function raised {type(e).__name__}: {e}")
        CHAIN.require(chain_result is not False, "chain validation function rejected the chain")
    content = certificate_verify_content(keys, req_raw, cert.raw)
    SIGNATURE.require(verify_signature(leaf_key, cv.algorithm, cv.signature, content),
                      "CertificateVerify signature does not verify")
    expected = finished_verify_data(keys, req_raw, cert.raw, cv.raw)
    FINISHED.require(hmac.compare_digest(fin.verify_data, expected), "Finished mismatch")
    return ValidatedAuthenticator(
        valid=True, empty=False, context=cert.context, signature_scheme=cv.algorithm, chain_der=tuple(chain),
        leaf_spki_sha256=leaf_spki_sha256, leaf_public_key=leaf_key,
        entry_extensions=tuple(e.extensions for e in cert.entries),
        chain_validated=chain_validator is not None, chain_validation=chain_result,
        certificate=cert.raw, certificate_verify=cv.raw, finished=fin.raw, **base)


# --- get context (§7.2) ----------------------------------------------------------------------------


def get_context(message: bytes) -> bytes:
    """certificate_request_context of a request or a (non-empty) authenticator (§7.2)."""
    msgs = split_handshakes(message, "request or authenticator")
    types = [m.msg_type for m in msgs]
    SEQUENCE.require(msgs, "no handshake message")
    if types[0] in (HandshakeType.certificate_request, HandshakeType.client_certificate_request):
        SEQUENCE.require(len(msgs) == 1, "bytes after the request")
        return CertificateRequest.from_handshake(msgs[0]).context
    SEQUENCE.require(types != [HandshakeType.finished],
                     "an empty authenticator carries no context; it answers the request it was given for")
    SEQUENCE.require(types == [HandshakeType.certificate, HandshakeType.certificate_verify, HandshakeType.finished],
                     "not a request nor Certificate, CertificateVerify, Finished")
    cert = Certificate.from_handshake(msgs[0])
    CertificateVerify.from_handshake(msgs[1])
    Finished.from_handshake(msgs[2])
    return cert.context


# --- per-connection API (§4-§7, §9) ----------------------------------------------------------------


class EASession:
    """Exported Authenticators on one TLS connection, seen from one endpoint.

    ``client_hello_sigalgs`` / ``client_hello_extensions`` are what the connection's ClientHello
    offered (needed for spontaneous server authenticators, §5.2.1-§5.2.2; ``None`` = nothing).
    ``client_finished_verified`` (server side, §9) must be True before the server creates or
    validates an authenticator. ``extra_request_extensions`` are extension types this endpoint may
    put in its requests beyond RFC 9261 §4's set (e.g. the profile's cmw_attestation codepoint).
    ``empty_consumes_context`` (default True): an empty authenticator sent or validated uses up
    its request's context, so no later authenticator may answer the same request.
    ``check_context_unique`` (default True) = RFC 9261 §4: the peer may not reuse, in its request or
    authenticator, a context this endpoint already used; False only through a profile (attack demos).
    """

    def __init__(self, exporter: Exporter, is_server: bool, client_hello_sigalgs: list[int] | None = None,
                 client_hello_extensions: list[int] | None = None, client_finished_verified: bool = True,
                 rng: Callable[[int], bytes] = os.urandom, *, extra_request_extensions: Iterable[int] = (),
                 empty_consumes_context: bool = True, check_context_unique: bool = True):
        self.exporter = exporter
        self.check_context_unique = check_context_unique
        self.is_server = bool(is_server)
        self.client_hello_sigalgs = tuple(client_hello_sigalgs or ())
        self.client_hello_extensions = frozenset(client_hello_extensions or ())
        self.client_finished_verified = client_finished_verified
        self.rng = rng
        self.extra_request_extensions = frozenset(int(t) for t in extra_request_extensions)
        self.empty_consumes_context = empty_consumes_context
        self.issued_requests: dict[bytes, bytes] = {}   # ctx -> exact request bytes we sent
        self.received_request_contexts: set[bytes] = set()
        self.created_contexts: set[bytes] = set()       # authenticators we built (incl. empty)
        self.validated_contexts: set[bytes] = set()     # authenticators we validated (incl. empty)
        self._keys: dict[str, EAKeys] = {}

    @property
    def role(self) -> str:
        return "server" if self.is_server else "client"

    @property
    def peer_role(self) -> str:
        return "client" if self.is_server else "server"

    def keys(self, sender_role: str) -> EAKeys:
        if sender_role not in self._keys:
            self._keys[sender_role] = authenticator_keys(self.exporter, sender_role)
        return self._keys[sender_role]

    def _is_known(self, ctx: bytes) -> bool:
        """``ctx`` is in any of the session's context sets (requests issued or received, authenticators
        created or validated)."""
        return (ctx in self.issued_requests or ctx in self.received_request_contexts
                or ctx in self.created_contexts or ctx in self.validated_contexts)

    def _require_client_finished(self) -> None:
        if self.is_server:
            CLIENT_FINISHED.require(self.client_finished_verified,
                                    "server has not verified the client's Finished yet")

    def _fresh_context(self, uniqueness: Any) -> bytes:
        for _ in range(8):
            ctx = bytes(self.rng(DEFAULT_CONTEXT_LENGTH))
            if not self._is_known(ctx):
                return ctx
        uniqueness.fail("the rng keeps returning contexts already used on this connection")

    # §7.1
    def request(self, extensions: Sequence[Extension], context: bytes | None = None, *,
                allow: Iterable[int] = ()) -> bytes:
        """A CertificateRequest (server) or ClientCertificateRequest (client) (§4, §7.1).

        ``context`` defaults to 32 random bytes. ``allow`` adds extension types for this call
        to the session's ``extra_request_extensions``.
        """
        exts = list(extensions)
        msg_cls = CertificateRequest if self.is_server else ClientCertificateRequest
        allowed = (CERTIFICATE_REQUEST_EXTENSIONS if self.is_server else CLIENT_CERTIFICATE_REQUEST_EXTENSIONS) \
            | self.extra_request_extensions | {int(t) for t in allow}
        for e in exts:
            REQUEST_EXTENSIONS.require(e.type in allowed, "extension {} is not allowed in a {}",
                                       e.type, msg_cls.__name__)
            e.view()  # known request extensions must be well-formed
        REQUEST_SIGALGS.require(find_extension(exts, ExtensionType.signature_algorithms) is not None,
                                "signature_algorithms is required in a request")
        ctx = self._fresh_context(REQUEST_CTX_UNIQUE) if context is None else bytes(context)
        REQUEST_CTX_UNIQUE.require(ctx not in self.issued_requests and ctx not in self.received_request_contexts,
                                   "context already used by a request on this connection")
        raw = msg_cls(ctx, tuple(exts)).raw
        self.issued_requests[ctx] = raw
        return raw

    def _answer_request(self, request: bytes) -> CertificateRequest:
        req = _parse_answered_request(request, self.role)
        REQUEST_CTX_UNIQUE.require(req.context not in self.issued_requests or not self.check_context_unique,
                                   "the peer's request reuses a context of one of our requests")
        CTX_FRESH.require(req.context not in self.created_contexts and req.context not in self.validated_contexts,
                          "an authenticator with this context was already created or validated")
        return req

    # §7.3
    def authenticate(self, signer: Any, chain_der: Sequence[bytes], request: bytes | None,
                     entry_extensions: Sequence[Sequence[Extension]] | None = None,
                     context: bytes | None = None) -> bytes:
        """An authenticator for ``request`` or, on a server with ``request=None``, a spontaneous one (§5.2)."""
        self._require_client_finished()
        if request is None:
            UNSOLICITED.require(self.is_server, "a client must not send an authenticator without a request")
            if context is None:
                ctx = self._fresh_context(SPONTANEOUS_CTX_UNIQUE)
            else:
                ctx = bytes(context)
                SPONTANEOUS_CTX_UNIQUE.require(not self._is_known(ctx),
                                               "context already used on this connection")
        else:
            ctx = self._answer_request(request).context
        out = create_authenticator(self.keys(self.role), self.role, signer, chain_der, request,
                                   context=ctx if request is None else context, entry_extensions=entry_extensions,
                                   client_hello_sigalgs=self.client_hello_sigalgs,
                                   client_hello_extensions=self.client_hello_extensions)
        self.created_contexts.add(ctx)
        if request is not None:
            self.received_request_contexts.add(ctx)
        return out

    # §6
    def empty_authenticator(self, request: bytes) -> bytes:
        """An authenticated refusal of ``request`` (§6)."""
        self._require_client_finished()
        req = self._answer_request(request)
        out = create_empty_authenticator(self.keys(self.role), self.role, request)
        self.received_request_contexts.add(req.context)
        if self.empty_consumes_context:
            self.created_contexts.add(req.context)
        return out

    # §7.4
    def validate(self, request: bytes | None, authenticator: bytes,
                 chain_validator: ChainValidatorFn | None) -> ValidatedAuthenticator:
        """Validate the peer's authenticator (§5.2.4, §7.4). Raises ProtocolError on any fault.

        ``request`` must be one this session issued (exact bytes) or None for a server's
        spontaneous authenticator (client sessions only).
        """
        self._require_client_finished()
        if request is not None:
            issued = self.issued_requests.get(decode_request(request).context)
            REQUEST_ISSUED.require(issued == bytes(request), "request was not issued by this session")
        else:
            UNSOLICITED.require(not self.is_server, "a client authenticator without a request")
        result = validate_authenticator(self.keys(self.peer_role), self.peer_role, request, authenticator,
                                        chain_validator, client_hello_sigalgs=self.client_hello_sigalgs,
                                        client_hello_extensions=self.client_hello_extensions)
        ctx = result.context
        if request is None:
            SPONTANEOUS_CTX_UNIQUE.require(
                ctx not in self.issued_requests and ctx not in self.received_request_contexts,
                "spontaneous authenticator reuses a request's context")
        CTX_REPLAY.require(ctx not in self.validated_contexts
                           and (ctx not in self.created_contexts or not self.check_context_unique),
                           "context already used by an authenticator on this connection")
        if result.valid or self.empty_consumes_context:
            self.validated_contexts.add(ctx)
        return result
