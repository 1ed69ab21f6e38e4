"""The Attesting Environment (AE): holds the attestation key and the AIK, produces Evidence.

Split deployment (draft §5.2, §7.1; DIGEST §3.8 #6): the Target Environment (the TLS endpoint) runs
outside the AE and only ever hands the AE a value to sign. The AE never releases a private key: the
AIK is used through :class:`AikSigner` (CertificateVerify), the attestation key only inside
:meth:`SoftwareAttestingEnvironment.evidence`. Consequently a compromised host can ask the AE for
Evidence over *any* binding; what stops it from passing the Evidence off for a key outside the AE is
that the AE puts the hash of *its own* AIK into the Evidence (AIK_pub_hash) and the Relying Party
compares it with the EA end-entity key. Two switches reproduce weaker AEs for attack demos:
``include_aik_pub_hash=False`` (Evidence without AIK_pub_hash, as before -01) and
``vouch_for_any_aik=True`` (the AE copies whatever AIK_pub_hash the host supplies).

A TPM-backed AE implements the same :class:`AttestingEnvironment` protocol.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from expat.checks import check
from expat.errors import Alert
from expat.profile import DEFAULT, Profile
from expat.reference import pki
from expat.reference.attestation import binding as binding_mod
from expat.reference.attestation import eat
from expat.reference.keyschedule import SHA256, SHA384, HashAlg

# TLS 1.3 SignatureSchemes the AIK signer supports (RFC 8446 §4.2.3) -> (key kind, hash)
SCHEMES: dict[int, tuple[str, type[hashes.HashAlgorithm] | None]] = {
    0x0403: ("p256", hashes.SHA256),   # ecdsa_secp256r1_sha256
    0x0503: ("p384", hashes.SHA384),   # ecdsa_secp384r1_sha384
    0x0807: ("ed25519", None),         # ed25519
}

AIK_SCHEME = check("expat-ae-aik-scheme", "RFC 8446 §4.2.3", Alert.illegal_parameter,
                   "the AIK signs only with a TLS 1.3 SignatureScheme that matches its key")
AE_OWN_AIK = check("expat-ae-own-aik", "draft-fossati-seat-expat-02 §5.2", Alert.illegal_parameter,
                   "an Attesting Environment vouches only for its own AIK: the AIK_pub_hash it signs is the "
                   "hash of the AIK it holds")

# Deterministic-mode clock: 2026-06-01T00:00:00Z (inside the fixed certificate validity window of pki)
FIXED_TIME = int(_dt.datetime(2026, 6, 1, tzinfo=_dt.timezone.utc).timestamp())

SOFTWARE_VERSION = "expat software AE 0.1.0"


def default_measurements(version: str = SOFTWARE_VERSION) -> dict[str, bytes]:
    """Measurements of the honest software build: SHA-256 of a name for each component."""
    return {name: hashlib.sha256(f"{version}|{name}".encode()).digest()
            for name in ("tls-stack", "attester-firmware")}


class AikSigner:
    """CertificateVerify signer for the AIK; the private key stays inside the AE."""

    def __init__(self, key: pki.PrivateKey, log: list | None = None):
        self.__key = key
        self._log = log

    def public_key(self) -> pki.PublicKey:
        return self.__key.public_key()

    @property
    def schemes(self) -> list[int]:
        kind = pki.key_kind(self.__key)
        return [s for s, (k, _) in SCHEMES.items() if k == kind]

    def sign(self, scheme: int, data: bytes) -> bytes:
        """Sign ``data`` as TLS does for ``scheme`` (ECDSA: DER-encoded, RFC 8446 §4.2.3)."""
        AIK_SCHEME.require(scheme in SCHEMES, f"SignatureScheme 0x{scheme:04x} not supported by the AIK")
        kind, h = SCHEMES[scheme]
        AIK_SCHEME.require(kind == pki.key_kind(self.__key), f"SignatureScheme 0x{scheme:04x} does not match "
                                                            f"a {pki.key_kind(self.__key)} AIK")
        if self._log is not None:
            self._log.append(("aik-sign", scheme, data))
        if isinstance(self.__key, ed25519.Ed25519PrivateKey):
            return self.__key.sign(data)
        return self.__key.sign(data, ec.ECDSA(h(), deterministic_signing=True))


@dataclass
class AikIdentity(pki.CertificateChain):
    """The AIK's certificate chain (leaf first; root last unless self-signed) and its signer."""

    signer: AikSigner


@runtime_checkable
class AttestingEnvironment(Protocol):
    """What a Target Environment may ask of its AE (software now, TPM later)."""

    profile: Profile

    def aik_public_key(self) -> pki.PublicKey: ...

    def aik_signer(self) -> AikSigner: ...

    def aik_identity(self) -> AikIdentity: ...

    def evidence(self, binding: bytes, aik_pub_hash: bytes | None = None, *,
                 hash: HashAlg | None = None) -> bytes: ...


def _chain(seed: bytes, kind: str, name: str, leaf_key: pki.PrivateKey, leaf_cn: str,
           dns_names=()) -> list[x509.Certificate]:
    root_key = pki.derive_key(kind, seed + b"|" + name.encode() + b"|root")
    inter_key = pki.derive_key(kind, seed + b"|" + name.encode() + b"|intermediate")
    root_cn, inter_cn = f"{name} root CA", f"{name} intermediate CA"
    root = pki.issue_certificate(subject_cn=root_cn, subject_key=root_key.public_key(), issuer_cn=root_cn,
                                 issuer_key=root_key, ca=True, seed=seed, path_length=1)
    inter = pki.issue_certificate(subject_cn=inter_cn, subject_key=inter_key.public_key(), issuer_cn=root_cn,
                                  issuer_key=root_key, ca=True, seed=seed, path_length=0)
    leaf = pki.issue_certificate(subject_cn=leaf_cn, subject_key=leaf_key.public_key(), issuer_cn=inter_cn,
                                 issuer_key=inter_key, ca=False, seed=seed, dns_names=dns_names)
    return [leaf, inter, root]


class AttestingEnvironmentBase:
    """What every AE here shares (software and TPM): its trust anchor, its AIK signer, the honest
    reference values, and the AIK_pub_hash rule of draft §5.2 (an honest AE vouches only for its own
    AIK). Subclasses set ``profile``, ``log``, ``vouch_for_any_aik``, ``attestation_chain`` and
    ``_signer``, and implement :meth:`aik_public_key`."""

    profile: Profile
    log: list
    vouch_for_any_aik: bool
    attestation_chain: list[x509.Certificate]
    _signer: object

    @property
    def manufacturer_root(self) -> x509.Certificate:
        """The trust anchor a Verifier needs for this AE's Evidence."""
        return self.attestation_chain[-1]

    def aik_public_key(self) -> pki.PublicKey:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def aik_signer(self):
        return self._signer

    def reference_values(self) -> dict[str, bytes]:
        """The measurements of the honest build (what a Verifier is provisioned with)."""
        return default_measurements()

    def own_aik_pub_hash(self, hash: HashAlg) -> bytes:
        return binding_mod.aik_pub_hash(hash, self.profile, self.aik_public_key())

    def _vouched_aik_pub_hash(self, binding: bytes, aik_pub_hash: bytes | None, hash: HashAlg | None) -> bytes:
        """The AIK_pub_hash to sign next to ``binding``: the host's value if it names this AE's own AIK
        (under either suite hash), computed with ``hash`` if the host gave none (draft §5.1, §5.2)."""
        self.log.append(("evidence", binding, aik_pub_hash))
        eat._require_nonce(binding)
        if aik_pub_hash is None:
            if hash is None:
                raise ValueError("give aik_pub_hash or the suite hash to compute it")
            return self.own_aik_pub_hash(hash)
        if not self.vouch_for_any_aik:
            own = [self.own_aik_pub_hash(h) for h in (SHA256, SHA384)]
            AE_OWN_AIK.require(binding_mod.matches(aik_pub_hash, own),
                               "host asked the AE to vouch for a key it does not hold")
        return aik_pub_hash


class SoftwareAttestingEnvironment(AttestingEnvironmentBase):
    """An AE in software, deterministic for a fixed ``seed`` and ``clock``.

    Keys: attestation key (certified by the manufacturer chain) and AIK (certified by a device CA or
    self-signed, per ``profile.aik_certificate``), all derived from ``seed`` (random if None).
    """

    def __init__(self, *, seed: bytes | str | None = None, profile: Profile = DEFAULT, aik_kind: str = "p256",
                 attestation_key_kind: str = "p256", measurements: Mapping[str, bytes] | None = None,
                 clock: Callable[[], float] | None = None, include_aik_pub_hash: bool = True,
                 vouch_for_any_aik: bool = False, manufacturer: str = "expat manufacturer",
                 device: str = "expat device"):
        if seed is None:
            seed = os.urandom(16)
        self.seed = seed.encode() if isinstance(seed, str) else bytes(seed)
        self.profile = profile
        self.clock = clock or time.time
        self.include_aik_pub_hash = include_aik_pub_hash
        self.vouch_for_any_aik = vouch_for_any_aik
        self.measurements = dict(measurements) if measurements is not None else default_measurements()
        self.log: list = []  # what the host asked for (for traces and attack demos)
        self.ueid = bytes([eat.UEID_RAND]) + hashlib.sha256(b"expat-ueid|" + self.seed).digest()
        self.__attestation_key = pki.derive_key(attestation_key_kind, self.seed + b"|attestation-key")
        self.attestation_chain = _chain(self.seed, attestation_key_kind, manufacturer,
                                        self.__attestation_key, f"{manufacturer} attestation key")
        self.__aik = pki.derive_key(aik_kind, self.seed + b"|aik")
        self._signer = AikSigner(self.__aik, self.log)
        self._device = device
        self._aik_identity: AikIdentity | None = None

    # --- keys and certificates ---------------------------------------------------------------

    def aik_public_key(self) -> pki.PublicKey:
        return self.__aik.public_key()

    def aik_identity(self) -> AikIdentity:
        """Certificate for the AIK: device CA chain (root -> intermediate -> AIK) or self-signed."""
        if self._aik_identity is None:
            if self.profile.aik_certificate == "self-signed":
                cn = f"{self._device} AIK"
                cert = pki.issue_certificate(subject_cn=cn, subject_key=self.__aik.public_key(), issuer_cn=cn,
                                             issuer_key=self.__aik, ca=False, seed=self.seed,
                                             dns_names=("localhost",))
                chain = [cert]
            else:
                chain = _chain(self.seed, "p256", f"{self._device} CA", self.__aik, f"{self._device} AIK",
                               dns_names=("localhost",))
            self._aik_identity = AikIdentity(chain=chain, signer=self._signer)
        return self._aik_identity

    # --- Evidence ----------------------------------------------------------------------------

    def evidence(self, binding: bytes, aik_pub_hash: bytes | None = None, *,
                 hash: HashAlg | None = None) -> bytes:
        """Serialized CMW holding Evidence over ``binding`` (draft §5.1) and AIK_pub_hash (§5.2).

        ``aik_pub_hash`` may be supplied by the host; an honest AE accepts it only if it is the hash
        of its own AIK. If omitted, the AE computes it with ``hash`` (the connection's suite hash).
        """
        aik_pub_hash = self._vouched_aik_pub_hash(binding, aik_pub_hash, hash)
        claims = eat.EvidenceClaims(binding=binding,
                                    aik_pub_hash=aik_pub_hash if self.include_aik_pub_hash else None,
                                    ueid=self.ueid, measurements=self.measurements, iat=int(self.clock()))
        signed = eat.sign_evidence(claims, self.__attestation_key, self.attestation_chain[:-1],
                                   self.profile.evidence_claims)
        return eat.wrap_evidence(signed, self.profile.cmw_serialization)


def deterministic_environment(seed: bytes | str = b"expat", profile: Profile = DEFAULT,
                              **kw) -> SoftwareAttestingEnvironment:
    """A SoftwareAttestingEnvironment with a fixed seed and the fixed clock (byte-stable Evidence)."""
    kw.setdefault("clock", lambda: FIXED_TIME)
    return SoftwareAttestingEnvironment(seed=seed, profile=profile, **kw)


__all__ = ["AikIdentity", "AikSigner", "AttestingEnvironment", "AttestingEnvironmentBase", "SoftwareAttestingEnvironment",
           "deterministic_environment", "default_measurements", "SCHEMES", "FIXED_TIME"]
