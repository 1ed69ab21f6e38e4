"""Real keys, certificate chains and a literal chain validator.

Keys are derived from a seed so that a fixed seed gives byte-identical certificates
(deterministic ECDSA, RFC 6979, and Ed25519 are deterministic); this is what lets the
golden traces be byte-stable. Chains are root CA -> intermediate CA -> leaf.

``ChainValidator`` is the caller-supplied chain validation of RFC 9261 §7.4 (and the
PKIX validation the draft keeps mandatory, §3.3): signatures along the path, names,
validity window, CA constraints and a trust anchor. It is deliberately small and
literal rather than a full RFC 5280 engine (no revocation, no policy mapping).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, field
from typing import Iterable, Sequence, Union

from cryptography import x509
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


def issue_certificate(*, subject_cn: str, subject_key: PublicKey, issuer_cn: str, issuer_key: PrivateKey,
                      ca: bool, seed: bytes = b"", path_length: int | None = None,
                      dns_names: Sequence[str] = (), not_before: _dt.datetime = NOT_BEFORE,
                      not_after: _dt.datetime = NOT_AFTER,
                      extra_extensions: Iterable[tuple[x509.ExtensionType, bool]] = ()) -> x509.Certificate:
    """Issue one X.509 v3 certificate (deterministic for fixed inputs)."""
    b = (x509.CertificateBuilder()
         .subject_name(_name(subject_cn))
         .issuer_name(_name(issuer_cn))
         .public_key(subject_key)
         .serial_number(_serial(seed, subject_cn))
         .not_valid_before(not_before)
         .not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key), critical=False))
    if ca:
        b = b.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                          crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                          crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
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

    ``kind`` is the leaf key type; ``ca_kind`` the CAs' key type (defaults to ``kind``).
    """
    seed_b = seed.encode() if isinstance(seed, str) else seed
    ca_kind = ca_kind or kind
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
                       "each certificate is within its validity period at validation time")
CHAIN_LINK = check("pkix-issuer-link", "RFC 5280 §6.1.3", Alert.bad_certificate,
                   "each certificate's issuer name is the next certificate's subject and its signature verifies")
CHAIN_CA = check("pkix-ca-constraints", "RFC 5280 §4.2.1.9", Alert.bad_certificate,
                 "issuing certificates are CAs allowed to sign certificates, within their path length")
CHAIN_ANCHOR = check("pkix-trust-anchor", "RFC 5280 §6.1", Alert.bad_certificate,
                     "the path ends at a configured trust anchor")


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


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    return verify_signature(issuer.public_key(), cert.signature, cert.tbs_certificate_bytes,
                            cert.signature_hash_algorithm)


@dataclass
class ChainValidator:
    """Validate a DER chain (leaf first) against trust anchors at a fixed time.

    Returns the parsed chain on success; raises BadCertificate naming the failed check.
    """

    trust_anchors: list[x509.Certificate]
    at: _dt.datetime = field(default_factory=lambda: _dt.datetime(2026, 6, 1, tzinfo=_dt.timezone.utc))
    max_depth: int = 8

    @classmethod
    def from_pem(cls, pem: bytes, **kw) -> "ChainValidator":
        return cls(trust_anchors=list(x509.load_pem_x509_certificates(pem)), **kw)

    def __call__(self, chain_der: Sequence[bytes]) -> list[x509.Certificate]:
        CHAIN_EMPTY.require(len(chain_der) >= 1, "empty certificate chain")
        CHAIN_CA.require(len(chain_der) <= self.max_depth, f"chain longer than {self.max_depth}")
        certs = []
        for i, der in enumerate(chain_der):
            try:
                cert = x509.load_der_x509_certificate(der)
                # cryptography parses some fields lazily: touch every field the validator reads
                # so a corrupt certificate fails here, as bad_certificate, not later as ValueError.
                _ = (cert.subject, cert.issuer, cert.not_valid_before_utc, cert.not_valid_after_utc,
                     cert.signature_hash_algorithm, cert.tbs_certificate_bytes, cert.signature,
                     cert.public_key(), list(cert.extensions))
                certs.append(cert)
            except Exception as e:  # cryptography raises ValueError (and friends) for bad DER
                CHAIN_PARSE.fail(f"certificate {i} is not valid DER X.509: {e}")
        for i, c in enumerate(certs):
            CHAIN_VALIDITY.require(c.not_valid_before_utc <= self.at <= c.not_valid_after_utc,
                                   f"certificate {i} not valid at {self.at.isoformat()}")
        for i in range(len(certs) - 1):
            child, parent = certs[i], certs[i + 1]
            CHAIN_LINK.require(_issued_by(child, parent), f"certificate {i} is not issued by certificate {i + 1}")
            self._require_ca(parent, i + 1, cas_below=i)
        anchors_der = {a.public_bytes(serialization.Encoding.DER) for a in self.trust_anchors}
        top = certs[-1]
        if top.public_bytes(serialization.Encoding.DER) in anchors_der:
            return certs
        for anchor in self.trust_anchors:
            if _issued_by(top, anchor):
                self._require_ca(anchor, len(certs), cas_below=len(certs) - 1)
                CHAIN_VALIDITY.require(anchor.not_valid_before_utc <= self.at <= anchor.not_valid_after_utc,
                                       "trust anchor not valid at validation time")
                return certs
        CHAIN_ANCHOR.fail("chain does not end at a trusted anchor")

    @staticmethod
    def _require_ca(cert: x509.Certificate, index: int, cas_below: int) -> None:
        try:
            bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            CHAIN_CA.fail(f"certificate {index} has no basicConstraints but issues certificates")
        CHAIN_CA.require(bc.ca, f"certificate {index} is not a CA")
        # path_length counts the non-self-issued intermediates below this CA (RFC 5280 §4.2.1.9)
        CHAIN_CA.require(bc.path_length is None or cas_below - 1 <= bc.path_length,
                         f"certificate {index} path length constraint exceeded")
        try:
            ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
            CHAIN_CA.require(ku.key_cert_sign, f"certificate {index} lacks keyCertSign")
        except x509.ExtensionNotFound:
            pass
