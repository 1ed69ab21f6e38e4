"""A TPM 2.0 Attesting Environment (the same :class:`AttestingEnvironment` protocol as the software AE).

In the TPM (docs/tpm.md):

* the **AK** (attestation key): restricted ECDSA P-256 signing key; it signs only TPM-made
  structures (TPM2_Quote, TPM2_Certify). An expat test CA certifies it (standing in for the
  enrolment a privacy CA does after credential activation, which expat does not model).
* the **AIK**: unrestricted ECDSA P-256 signing key; it signs the Exported Authenticator's
  CertificateVerify through :class:`TpmAikSigner` (TPM2_Sign), so its private key never leaves the TPM.
  Its certificate comes from an expat device CA or is self-signed (signed by the TPM), per
  ``profile.aik_certificate``.

Evidence (:meth:`TpmAttestingEnvironment.evidence`): TPM2_Quote of the measurement PCRs and
TPM2_Certify of the AIK by the AK, both with qualifyingData committing to the binding and AIK_pub_hash.
As with the software AE, an honest AE vouches only for its own AIK (``expat-ae-own-aik``);
``vouch_for_any_aik=True`` is the compromised host that drives the TPM directly (split-deployment demo).
"""

from __future__ import annotations

import hashlib
import os
from typing import Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from expat.checks import check
from expat.errors import Alert
from expat.profile import DEFAULT, Profile
from expat.reference import pki
from expat.reference.attestation.environment import (AikIdentity, AttestingEnvironmentBase, _chain,
                                                     default_measurements)
from expat.reference.attestation.tpm import evidence as ev
from expat.reference.attestation.tpm import structures as st
from expat.reference.attestation.tpm.ak_ca import DEFAULT_MANUFACTURER
from expat.reference.attestation.tpm.device import TpmDevice, TpmKey
from expat.reference.keyschedule import HashAlg

TPM_AIK_SCHEME = check("expat-tpm-aik-scheme", "RFC 8446 §4.2.3; TPM 2.0 Part 3 §20.2", Alert.illegal_parameter,
                       "the TPM AIK (ECDSA P-256) signs only with ecdsa_secp256r1_sha256")

ECDSA_P256_SHA256 = 0x0403
# AlgorithmIdentifier ecdsa-with-SHA256 (RFC 5758 §3.2), DER
_ECDSA_SHA256_ALGID = bytes.fromhex("300a06082a8648ce3d040302")


class TpmAikSigner:
    """CertificateVerify signer whose key lives in the TPM (ea.as_signer accepts it as is)."""

    def __init__(self, device: TpmDevice, key: TpmKey, log: list | None = None):
        self._device, self._key, self._log = device, key, log
        self._public = st.parse_public(key.public).public_key()

    def public_key(self) -> pki.PublicKey:
        return self._public

    @property
    def schemes(self) -> list[int]:
        return [ECDSA_P256_SHA256]

    def sign(self, scheme: int, data: bytes) -> bytes:
        """ECDSA-SHA256 over ``data`` by TPM2_Sign; DER-encoded as TLS wants (RFC 8446 §4.2.3)."""
        TPM_AIK_SCHEME.require(scheme == ECDSA_P256_SHA256, f"SignatureScheme 0x{scheme:04x} not supported by "
                                                            "the TPM AIK")
        if self._log is not None:
            self._log.append(("aik-sign", scheme, data))
        _, der = st.parse_ecdsa_signature(self._device.sign_digest(self._key, hashlib.sha256(data).digest()))
        return der


class _PublicOnly:
    """Adapter so that environment._chain can certify a key whose private half is in the TPM."""

    def __init__(self, public: pki.PublicKey):
        self._public = public

    def public_key(self) -> pki.PublicKey:
        return self._public


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _self_signed_by_tpm(signer: TpmAikSigner, cn: str, seed: bytes) -> x509.Certificate:
    """A self-signed AIK certificate whose signature the TPM makes: the TBSCertificate is built by
    cryptography (signed with a throw-away key, whose signature is discarded) and re-signed by the AIK."""
    throwaway = ec.generate_private_key(ec.SECP256R1())
    draft = pki.issue_certificate(subject_cn=cn, subject_key=signer.public_key(), issuer_cn=cn,
                                  issuer_key=throwaway, ca=False, seed=seed, dns_names=("localhost",))
    tbs = draft.tbs_certificate_bytes
    signature = signer.sign(ECDSA_P256_SHA256, tbs)
    bits = b"\x00" + signature
    body = tbs + _ECDSA_SHA256_ALGID + b"\x03" + _der_length(len(bits)) + bits
    cert = x509.load_der_x509_certificate(b"\x30" + _der_length(len(body)) + body)
    cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    return cert


class TpmAttestingEnvironment(AttestingEnvironmentBase):
    """An AE backed by a TPM 2.0 (a :class:`TpmDevice`; one is started and owned if none is given).

    ``seed`` derives the expat test CA keys (AK CA and AIK device CA) and key labels; the TPM keys
    themselves come from the TPM. ``measurements`` are extended into PCRs when the device boots.
    """

    def __init__(self, *, device: TpmDevice | None = None, seed: bytes | str | None = None,
                 profile: Profile = DEFAULT, measurements: Mapping[str, bytes] | None = None,
                 vouch_for_any_aik: bool = False, manufacturer: str = DEFAULT_MANUFACTURER,
                 device_name: str = "expat TPM device"):
        if seed is None:
            seed = os.urandom(16)
        self.seed = seed.encode() if isinstance(seed, str) else bytes(seed)
        self.profile = profile
        self.vouch_for_any_aik = vouch_for_any_aik
        self.log: list = []
        self._owned = device is None
        self.device = device if device is not None else TpmDevice()
        try:
            self.measurements = dict(measurements) if measurements is not None else default_measurements()
            self.device.boot(self.measurements)
            label = hashlib.sha256(b"expat tpm ae|" + self.seed).hexdigest()[:32]
            self.ak = self.device.create_key(f"{label}|ak", restricted=True)
            self.aik = self.device.create_key(f"{label}|aik", restricted=False)
            self._ak_public = st.parse_public(self.ak.public)
            self._aik_public = st.parse_public(self.aik.public)
            self.attestation_chain = _chain(self.seed, "p256", manufacturer, _PublicOnly(self._ak_public.public_key()),
                                            f"{device_name} AK")
        except Exception:
            self.close()
            raise
        self._signer = TpmAikSigner(self.device, self.aik, self.log)
        self._device_name = device_name
        self._aik_identity: AikIdentity | None = None

    def close(self) -> None:
        """Stop the TPM if this AE started it."""
        if self._owned:
            self.device.close()

    def __enter__(self) -> "TpmAttestingEnvironment":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- keys and certificates ------------------------------------------------------------------------

    def aik_public_key(self) -> pki.PublicKey:
        return self._aik_public.public_key()

    def aik_identity(self) -> AikIdentity:
        if self._aik_identity is None:
            cn = f"{self._device_name} AIK"
            if self.profile.aik_certificate == "self-signed":
                chain = [_self_signed_by_tpm(self._signer, cn, self.seed)]
            else:
                chain = _chain(self.seed, "p256", f"{self._device_name} CA", _PublicOnly(self.aik_public_key()),
                               cn, dns_names=("localhost",))
            self._aik_identity = AikIdentity(chain=chain, signer=self._signer)  # type: ignore[arg-type]
        return self._aik_identity

    def attestation_key_id(self) -> bytes:
        """DER SPKI of the AK (what traces name as the attestation key)."""
        return pki.spki_der(self._ak_public.public_key())

    # --- Evidence ------------------------------------------------------------------------------------

    def evidence(self, binding: bytes, aik_pub_hash: bytes | None = None, *,
                 hash: HashAlg | None = None) -> bytes:
        """Serialized CMW holding TPM Evidence over ``binding`` (draft §5.1) and AIK_pub_hash (§5.2)."""
        aik_pub_hash = self._vouched_aik_pub_hash(binding, aik_pub_hash, hash)
        qd = ev.qualifying_data(binding, aik_pub_hash)
        log = self.device.event_log or []
        quote, quote_sig = self.device.quote(self.ak, sorted({pcr for pcr, _, _ in log}), qd)
        certify, certify_sig = self.device.certify(self.aik, self.ak, qd)
        chain = [c.public_bytes(serialization.Encoding.DER) for c in self.attestation_chain[:-1]]
        return ev.TpmEvidence(binding=binding, aik_pub_hash=aik_pub_hash, quote=quote, quote_sig=quote_sig,
                              certify=certify, certify_sig=certify_sig, aik_public=self.aik.public,
                              ak_public=self.ak.public, ak_x5chain=tuple(chain),
                              event_log=tuple(log)).encode(self.profile.cmw_serialization)
