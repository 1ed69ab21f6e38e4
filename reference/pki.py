"""Real keys, certificate chains and a literal chain validator.

Keys are derived from a seed so that a fixed seed gives byte-identical certificates
(deterministic ECDSA, RFC 6979, and Ed25519 are deterministic); this is what lets the
golden traces be byte-stable. Chains are root CA -> intermediate CA -> leaf.

``ChainValidator`` is the caller-supplied chain validation of RFC 9261 §7.4 (and the
PKIX validation the draft keeps mandatory, §3.3). RFC 5280 path building and validation
are done by a maintained library, ``cryptography.x509.verification`` (signatures, names,
validity at the validation time, basicConstraints and pathLenConstraint, keyCertSign,
unrecognised critical extensions, trust anchors); expat adds per-use extension policies
(EA leaf, AIK, Evidence signer) and maps the library's errors to named checks and TLS
alerts. The validation time is "now" unless the caller passes one. No revocation.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence, Union

from cryptography import x509
from cryptography.x509 import verification
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from expat.checks import check
from expat.errors import Alert

PrivateKey = Union[ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey]
PublicKey = Union[ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey]

KEY_KINDS = ("p256", "p384", "ed25519")
_CURVES = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}

# Fixed validity window so certificates are byte-stable for a seed.
NOT_BEFORE = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
NOT_AFTER = _dt.datetime(2036, 1, 1, tzinfo=_dt.timezone.utc)


def derive_key(kind: str, seed: bytes | str) -> PrivateKey:
    """A private key of ``kind`` derived from ``seed`` (deterministic)."""
    if isinstance(seed, str):
        seed = seed.encode()
    material = hashlib.sha512(b"expat-key|" + kind.encode() + b"|" + seed).digest()
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(material[:32])
    if kind in _CURVES:
        curve = _CURVES[kind]
        order = {"p256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
                 "p384": int("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                             "581a0db248b0a77aecec196accc52973", 16)}[kind]
        scalar = int.from_bytes(material, "big") % (order - 1) + 1
        return ec.derive_private_key(scalar, curve)
    raise ValueError(f"unknown key kind {kind!r}; expected one of {KEY_KINDS}")


def key_kind(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "ed25519"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return {"secp256r1": "p256", "secp384r1": "p384"}.get(key.curve.name, key.curve.name)
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "rsa"
    raise ValueError(f"unsupported key type {type(key).__name__}")


def _sign_hash(key: PrivateKey):
    kind = key_kind(key)
    return {"ed25519": None, "p256": hashes.SHA256(), "p384": hashes.SHA384()}[kind]


def _public_key(key: PrivateKey | PublicKey | x509.Certificate) -> PublicKey:
    """The public key of a private key or certificate (a public key as it is)."""
    if isinstance(key, x509.Certificate):
        key = key.public_key()
    if hasattr(key, "public_key"):
        key = key.public_key()
    return key


def spki_der(key: PrivateKey | PublicKey | x509.Certificate) -> bytes:
    """DER SubjectPublicKeyInfo of a key or certificate."""
    key = _public_key(key)
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def raw_public_key(key: PrivateKey | PublicKey | x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING contents (0x04||X||Y for EC, 32 bytes for Ed25519)."""
    key = _public_key(key)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def _serial(seed: bytes, name: str) -> int:
    return int.from_bytes(hashlib.sha256(b"serial|" + seed + b"|" + name.encode()).digest()[:16], "big") >> 1


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "expat test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


_KEY_USAGE_BITS = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                   "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")


def issue_certificate(*, subject_cn: str, subject_key: PublicKey, issuer_cn: str, issuer_key: PrivateKey,
                      ca: bool, seed: bytes = b"", path_length: int | None = None,
                      dns_names: Sequence[str] = (), not_before: _dt.datetime = NOT_BEFORE,
                      not_after: _dt.datetime = NOT_AFTER, key_usage: Sequence[str] | None = None,
                      extra_extensions: Iterable[tuple[x509.ExtensionType, bool]] = ()) -> x509.Certificate:
    """Issue one X.509 v3 certificate (deterministic for fixed inputs).

    ``key_usage`` names the keyUsage bits to set (``x509.KeyUsage`` argument names); default: keyCertSign
    and cRLSign for a CA, digitalSignature for an end entity.
    """
    if key_usage is None:
        key_usage = ("key_cert_sign", "crl_sign") if ca else ("digital_signature",)
    b = (x509.CertificateBuilder()
         .subject_name(_name(subject_cn))
         .issuer_name(_name(issuer_cn))
         .public_key(subject_key)
         .serial_number(_serial(seed, subject_cn))
         .not_valid_before(not_before)
         .not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key), critical=False))
    b = b.add_extension(x509.KeyUsage(**{bit: bit in key_usage for bit in _KEY_USAGE_BITS}), critical=True)
    if not ca:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                            critical=False)
    if dns_names:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False)
    for ext, critical in extra_extensions:
        b = b.add_extension(ext, critical=critical)
    kwargs = {"ecdsa_deterministic": True} if isinstance(issuer_key, ec.EllipticCurvePrivateKey) else {}
    return b.sign(issuer_key, _sign_hash(issuer_key), **kwargs)


@dataclass
class CertificateChain:
    """A certificate chain, leaf first and root last (a self-signed chain is its one certificate)."""

    chain: list[x509.Certificate]

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def root(self) -> x509.Certificate:
        return self.chain[-1]

    def _sent_chain(self, include_root: bool) -> list[x509.Certificate]:
        """The chain an endpoint sends: without the root (the peer's anchor) unless asked or self-signed."""
        return self.chain if include_root else self.chain[:-1] or self.chain

    def chain_der(self, include_root: bool = False) -> list[bytes]:
        return [c.public_bytes(serialization.Encoding.DER) for c in self._sent_chain(include_root)]


@dataclass
class Identity(CertificateChain):
    """A private key with its certificate chain (leaf first, root last, root included)."""

    key: PrivateKey

    @property
    def kind(self) -> str:
        return key_kind(self.key)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def chain_pem(self, include_root: bool = False) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self._sent_chain(include_root))

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)


def make_identity(kind: str = "p256", *, seed: bytes | str = b"expat", name: str = "endpoint",
                  dns_names: Sequence[str] = ("localhost",), ca_kind: str | None = None) -> Identity:
    """root CA -> intermediate CA -> leaf, all derived from ``seed``.

    ``kind`` is the leaf key type; ``ca_kind`` the CAs' key type (defaults to ``kind``, except that an
    Ed25519 leaf gets P-256 CAs: the path validation library accepts Ed25519 end-entity keys but not
    Ed25519 certificate signatures, see :data:`CHAIN_ALGORITHM`).
    """
    seed_b = seed.encode() if isinstance(seed, str) else seed
    ca_kind = ca_kind or ("p256" if kind == "ed25519" else kind)
    root_key = derive_key(ca_kind, seed_b + b"|root|" + name.encode())
    inter_key = derive_key(ca_kind, seed_b + b"|intermediate|" + name.encode())
    leaf_key = derive_key(kind, seed_b + b"|leaf|" + name.encode())
    root_cn, inter_cn, leaf_cn = f"{name} root CA", f"{name} intermediate CA", name
    root = issue_certificate(subject_cn=root_cn, subject_key=root_key.public_key(), issuer_cn=root_cn,
                             issuer_key=root_key, ca=True, seed=seed_b, path_length=1)
    inter = issue_certificate(subject_cn=inter_cn, subject_key=inter_key.public_key(), issuer_cn=root_cn,
                              issuer_key=root_key, ca=True, seed=seed_b, path_length=0)
    leaf = issue_certificate(subject_cn=leaf_cn, subject_key=leaf_key.public_key(), issuer_cn=inter_cn,
                             issuer_key=inter_key, ca=False, seed=seed_b, dns_names=dns_names)
    return Identity(key=leaf_key, chain=[leaf, inter, root])


def self_signed_identity(kind: str = "p256", *, seed: bytes | str = b"expat", name: str = "self-signed") -> Identity:
    seed_b = seed.encode() if isinstance(seed, str) else seed
    key = derive_key(kind, seed_b + b"|self|" + name.encode())
    cert = issue_certificate(subject_cn=name, subject_key=key.public_key(), issuer_cn=name, issuer_key=key,
                             ca=False, seed=seed_b)
    return Identity(key=key, chain=[cert])


# --- chain validation (RFC 9261 §7.4 "validation function"; draft §3.3 PKIX stays mandatory) ----------------

CHAIN_PARSE = check("pkix-parse", "RFC 5280 §4.1", Alert.bad_certificate,
                    "every certificate in the chain is a well-formed X.509 v3 certificate")
CHAIN_EMPTY = check("pkix-nonempty", "RFC 8446 §4.4.2", Alert.bad_certificate,
                    "a certificate chain has at least the end-entity certificate")
CHAIN_VALIDITY = check("pkix-validity", "RFC 5280 §6.1.3", Alert.bad_certificate,
                       "each certificate is within its validity period at validation time (now, unless the "
                       "caller names another time)")
CHAIN_LINK = check("pkix-issuer-link", "RFC 5280 §6.1.3", Alert.bad_certificate,
                   "each certificate's issuer name is the next certificate's subject and its signature verifies")
CHAIN_CA = check("pkix-ca-constraints", "RFC 5280 §4.2.1.9, §4.2.1.3", Alert.bad_certificate,
                 "issuing certificates are CAs allowed to sign certificates (keyCertSign), within their "
                 "pathLenConstraint, and the path is at most the maximum depth")
CHAIN_CRITICAL = check("pkix-critical-extensions", "RFC 5280 §4.2", Alert.bad_certificate,
                       "a certificate with a critical extension the validator does not recognise is refused")
CHAIN_KEY_USAGE = check("pkix-leaf-key-usage", "RFC 5280 §4.2.1.3; RFC 8446 §4.4.2.2", Alert.bad_certificate,
                        "the end-entity certificate's keyUsage (required for an AIK and an Evidence signer) "
                        "allows digitalSignature, and the end entity is not a CA")
CHAIN_ALGORITHM = check("pkix-algorithm", "RFC 5280 §4.1.1.2", Alert.unsupported_certificate,
                        "certificate signature and key algorithms are ones the path validation library "
                        "accepts (ECDSA P-256/P-384/P-521, RSA; Ed25519 keys in end entities only)")
CHAIN_ANCHOR = check("pkix-trust-anchor", "RFC 5280 §6.1", Alert.bad_certificate,
                     "the path ends at a configured trust anchor")
ANCHORS_CONFIGURED = check("expat-pkix-anchors-configured", "RFC 5280 §6.1.1(d); draft -02 §3.3",
                           Alert.bad_certificate,
                           "chain validation runs against at least one configured trust anchor: none configured "
                           "is a refusal, never a skipped validation (mitigation require_trust_anchors)")

# Extension policies per use of the end-entity certificate (RFC 5280 §4.2). Unlisted extensions are
# accepted when non-critical and refused when critical (the library's "unaccounted-for" rule).
EXTENSION_USES = ("ea-leaf", "aik", "evidence-signer")


def verify_signature(public_key: PublicKey, signature: bytes, data: bytes, hash_alg: hashes.HashAlgorithm | None) -> bool:
    """Verify an X.509-style signature; False on mismatch or unsupported key."""
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hash_alg))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hash_alg)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


class _PolicyFault(Exception):
    """Raised by our extension validators; the library reports it inside its VerificationError text."""

    def __init__(self, check_id: str, detail: str):
        super().__init__(f"expat:{check_id}: {detail}")


def _ee_key_usage(_policy, _cert, ku: x509.KeyUsage | None) -> None:
    # RFC 8446 §4.4.2.2 (RFC 9261 §5.2.1): the key must be usable for the CertificateVerify signature
    if ku is not None and not ku.digital_signature:
        raise _PolicyFault(CHAIN_KEY_USAGE.id, "end-entity keyUsage lacks digitalSignature")


def _ee_not_ca(_policy, _cert, bc: x509.BasicConstraints | None) -> None:
    if bc is not None and bc.ca:
        raise _PolicyFault(CHAIN_KEY_USAGE.id, "end-entity certificate asserts cA")


def _ca_key_usage(_policy, _cert, ku: x509.KeyUsage | None) -> None:
    if ku is not None and not ku.key_cert_sign:   # RFC 5280 §4.2.1.3
        raise _PolicyFault(CHAIN_CA.id, "issuing certificate's keyUsage lacks keyCertSign")


def _ca_policy() -> verification.ExtensionPolicy:
    return (verification.ExtensionPolicy.permit_all()
            .require_present(x509.BasicConstraints, verification.Criticality.AGNOSTIC, None)
            .may_be_present(x509.KeyUsage, verification.Criticality.AGNOSTIC, _ca_key_usage))


def _ee_policy(use: str) -> verification.ExtensionPolicy:
    """EA leaf: keyUsage optional (RFC 8446 §4.4.2.2 "if present"); AIK and Evidence signer: a keyUsage
    stating digitalSignature is required (an attestation key's certificate says what it is for)."""
    if use not in EXTENSION_USES:
        raise ValueError(f"use must be one of {EXTENSION_USES}")
    p = verification.ExtensionPolicy.permit_all()
    crit = verification.Criticality.AGNOSTIC
    ku = p.may_be_present if use == "ea-leaf" else p.require_present
    return ku(x509.KeyUsage, crit, _ee_key_usage).may_be_present(x509.BasicConstraints, crit, _ee_not_ca)


# library error text -> our check (first match wins; anything else: no path to an anchor)
_LIBRARY_ERRORS = (
    ("not valid at validation time", CHAIN_VALIDITY),
    ("unaccounted-for critical extension", CHAIN_CRITICAL),
    ("Forbidden", CHAIN_ALGORITHM),
    ("path length", CHAIN_CA),
    ("basicConstraints", CHAIN_CA),
    ("maximum depth", CHAIN_CA),
    ("missing required extension", CHAIN_CA),
)


def _library_check(message: str):
    for check_id in (CHAIN_KEY_USAGE.id, CHAIN_CA.id):
        if f"expat:{check_id}" in message:
            return CHAIN_KEY_USAGE if check_id == CHAIN_KEY_USAGE.id else CHAIN_CA
    for needle, chk in _LIBRARY_ERRORS:
        if needle in message:
            return chk
    return CHAIN_ANCHOR


def _diagnose_links(certs: list[x509.Certificate]) -> None:
    """No path found: name the first sent certificate that the next one did not issue (issuer name or
    signature; RFC 8446 §4.4.2 asks for this order) before falling back to "no trust anchor"."""
    for i in range(len(certs) - 1):
        child, parent = certs[i], certs[i + 1]
        CHAIN_LINK.require(child.issuer == parent.subject and verify_signature(
            parent.public_key(), child.signature, child.tbs_certificate_bytes, child.signature_hash_algorithm),
            "certificate {} is not issued by certificate {}", i, i + 1)


@dataclass
class ChainValidator:
    """Validate a DER chain (leaf first) against trust anchors, by RFC 5280 path validation.

    ``at`` is the validation time; None (the default) means "now", read at each call. Only golden
    traces and tests pass a fixed time. ``use`` picks the end-entity extension policy
    (``EXTENSION_USES``). Returns the parsed chain as sent (leaf first) on success; raises
    BadCertificate (or UnsupportedCertificate) naming the failed check.
    """

    trust_anchors: list[x509.Certificate]
    at: _dt.datetime | None = None
    max_depth: int = 8
    use: str = "ea-leaf"
    _store: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.trust_anchors = list(self.trust_anchors)
        self._ee = _ee_policy(self.use)
        self._ca = _ca_policy()
        if self.trust_anchors:
            self._store = verification.Store(self.trust_anchors)

    @classmethod
    def from_pem(cls, pem: bytes, **kw) -> "ChainValidator":
        return cls(trust_anchors=list(x509.load_pem_x509_certificates(pem)), **kw)

    def validation_time(self) -> _dt.datetime:
        return self.at if self.at is not None else _dt.datetime.now(_dt.timezone.utc)

    def __call__(self, chain_der: Sequence[bytes]) -> list[x509.Certificate]:
        CHAIN_EMPTY.require(len(chain_der) >= 1, "empty certificate chain")
        CHAIN_CA.require(len(chain_der) <= self.max_depth, "chain longer than {}", self.max_depth)
        ANCHORS_CONFIGURED.require(self._store is not None, "no trust anchors configured")
        certs = []
        for i, der in enumerate(chain_der):
            try:
                cert = x509.load_der_x509_certificate(der)
                # cryptography parses some fields lazily: touch them so a corrupt certificate fails
                # here, as bad_certificate, not later as ValueError.
                _ = (cert.subject, cert.issuer, cert.not_valid_before_utc, cert.not_valid_after_utc,
                     cert.signature_hash_algorithm, cert.tbs_certificate_bytes, cert.signature,
                     cert.public_key(), list(cert.extensions))
                certs.append(cert)
            except Exception as e:  # cryptography raises ValueError (and friends) for bad DER
                CHAIN_PARSE.fail(f"certificate {i} is not valid DER X.509: {e}")
        verifier = (verification.PolicyBuilder().store(self._store).time(self.validation_time())
                    .max_chain_depth(self.max_depth)
                    .extension_policies(ca_policy=self._ca, ee_policy=self._ee)
                    .build_client_verifier())
        try:
            verifier.verify(certs[0], certs[1:])
        except Exception as e:  # VerificationError, or ValueError for what the library cannot handle
            message = str(e)
            chk = _library_check(message)
            if chk is CHAIN_ANCHOR:
                _diagnose_links(certs)
            chk.fail("{} (validation time {})", message.split(" (encountered")[0],
                                         self.validation_time().isoformat())
        return certs
