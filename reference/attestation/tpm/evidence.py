"""The TPM Evidence format: what a TPM Attesting Environment puts into cmw_attestation (docs/tpm.md).

A CMW record (RFC 9999 §3.1) ``[TPM_EVIDENCE_MEDIA_TYPE, bstr .cbor TpmEvidence, ind=Evidence]``;
TpmEvidence is a CBOR map with unsigned integer keys, all mandatory, nothing else:

    1 binding        bstr   the draft §5.1 binding the Target Environment computed
    2 aik_pub_hash   bstr   H_suite(AIK public key) (§5.2), 32 or 48 bytes; its length names the suite hash
    3 quote          bstr   TPMS_ATTEST from TPM2_Quote (Part 3 §18.4)
    4 quote_sig      bstr   TPMT_SIGNATURE over 3 by the AK
    5 certify        bstr   TPMS_ATTEST from TPM2_Certify of the AIK by the AK (Part 3 §18.2)
    6 certify_sig    bstr   TPMT_SIGNATURE over 5 by the AK
    7 aik_public     bstr   the AIK's TPMT_PUBLIC (its Name is what 5 certifies)
    8 ak_public      bstr   the AK's TPMT_PUBLIC
    9 ak_x5chain     [+ bstr]  DER certificates, AK certificate first, CA root left out
   10 event_log      [+ [pcr: uint, component: tstr, digest: bstr .size 32]]  in extension order

Both TPM2_Quote and TPM2_Certify get the same qualifyingData (:func:`qualifying_data`), which commits
to the binding and to AIK_pub_hash. Measurements go into SHA-256 PCRs (:data:`PCR_OF`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cbor2

from expat.checks import check
from expat.errors import Alert
from expat.reference.attestation import cbor, cmw
from expat.reference.keyschedule import SHA256, SHA384, HashAlg

TPM_EVIDENCE_MEDIA_TYPE = "application/vnd.expat.tpm2-evidence+cbor"
TPM_EVIDENCE_PROFILE = "tag:expat.example,2026:tpm2-evidence#1"   # names the format in EAR submods

TPM_EVIDENCE = check("expat-tpm-evidence", "docs/tpm.md; RFC 9999 §3.1", Alert.decode_error,
                     "TPM Evidence is a CMW record of the expat TPM media type holding a CBOR map with exactly "
                     "the keys 1..10, each of its documented type")

QD_LABEL = b"expat tpm2 qualifyingData v1"

# Where each measured component is extended (SHA-256 bank). 0: firmware (as the PC Client profile
# uses PCR 0 for platform firmware); 10: everything else (the PCR Linux IMA uses for applications).
PCR_OF = {"attester-firmware": 0}
APPLICATION_PCR = 10


def pcr_of(component: str) -> int:
    return PCR_OF.get(component, APPLICATION_PCR)


def measurement_log(measurements: dict[str, bytes]) -> list[tuple[int, str, bytes]]:
    """The event log of a boot that measures ``measurements`` in name order."""
    return [(pcr_of(name), name, digest) for name, digest in sorted(measurements.items())]


def replay(log: list[tuple[int, str, bytes]]) -> dict[int, bytes]:
    """PCR values after extending ``log`` into reset SHA-256 PCRs (Part 3 §22.2: new = H(old || digest))."""
    pcrs: dict[int, bytes] = {}
    for pcr, _name, digest in log:
        pcrs[pcr] = hashlib.sha256(pcrs.get(pcr, bytes(32)) + digest).digest()
    return pcrs


def pcr_digest(pcrs: dict[int, bytes]) -> bytes:
    """TPMS_QUOTE_INFO.pcrDigest (Part 2 §10.12.4): H(PCR values concatenated in ascending index order)
    (Part 3 §18.4)."""
    return hashlib.sha256(b"".join(pcrs[i] for i in sorted(pcrs))).digest()


def suite_hash_for(aik_pub_hash: bytes) -> HashAlg:
    """AIK_pub_hash is H_suite(...): its length says which suite hash the Target Environment used."""
    TPM_EVIDENCE.require(isinstance(aik_pub_hash, bytes) and len(aik_pub_hash) in (32, 48),
                         "aik_pub_hash must be 32 or 48 bytes")
    return SHA256 if len(aik_pub_hash) == 32 else SHA384


def qualifying_data(binding: bytes, aik_pub_hash: bytes) -> bytes:
    """qualifyingData of TPM2_Quote and TPM2_Certify:

        H_suite(QD_LABEL || 0x00 || uint8(len(binding)) || binding || uint8(len(AIK_pub_hash)) || AIK_pub_hash)

    H_suite is the connection's suite hash (SHA-256 or SHA-384, fixed by len(AIK_pub_hash)), so the
    value is 32 or 48 bytes and always fits TPM2B_DATA (at most 64 bytes on swtpm; 48 + 48 would not).
    One rule for every suite and every binding length (32/48/64 bytes depending on the profile).
    """
    h = suite_hash_for(aik_pub_hash)
    TPM_EVIDENCE.require(isinstance(binding, bytes) and 8 <= len(binding) <= 64, "binding must be 8..64 bytes")
    return h.digest(QD_LABEL + b"\x00" + bytes([len(binding)]) + binding + bytes([len(aik_pub_hash)]) + aik_pub_hash)


@dataclass(frozen=True)
class TpmEvidence:
    binding: bytes
    aik_pub_hash: bytes
    quote: bytes
    quote_sig: bytes
    certify: bytes
    certify_sig: bytes
    aik_public: bytes
    ak_public: bytes
    ak_x5chain: tuple[bytes, ...]
    event_log: tuple[tuple[int, str, bytes], ...]

    def to_map(self) -> dict:
        return {1: self.binding, 2: self.aik_pub_hash, 3: self.quote, 4: self.quote_sig, 5: self.certify,
                6: self.certify_sig, 7: self.aik_public, 8: self.ak_public, 9: list(self.ak_x5chain),
                10: [[p, n, d] for p, n, d in self.event_log]}

    def encode(self, serialization: str = "cbor") -> bytes:
        body = cbor2.dumps(self.to_map(), canonical=True)
        return cmw.encode(cmw.Record(TPM_EVIDENCE_MEDIA_TYPE, body, cmw.IND_EVIDENCE), serialization)

    @classmethod
    def from_map(cls, m: object) -> "TpmEvidence":
        TPM_EVIDENCE.require(isinstance(m, dict) and set(m) == set(range(1, 11)),
                             "TPM Evidence map must have exactly the keys 1..10")
        for key in range(1, 9):
            TPM_EVIDENCE.require(isinstance(m[key], bytes) and len(m[key]) > 0, f"key {key} must be a non-empty bstr")
        TPM_EVIDENCE.require(8 <= len(m[1]) <= 64, "binding must be 8..64 bytes")
        suite_hash_for(m[2])
        chain = m[9]
        TPM_EVIDENCE.require(isinstance(chain, list) and 1 <= len(chain) <= 8
                             and all(isinstance(c, bytes) and c for c in chain), "ak_x5chain must be [+ bstr]")
        log = m[10]
        TPM_EVIDENCE.require(isinstance(log, list) and 1 <= len(log) <= 64, "event_log must be [+ entry] (<= 64)")
        entries = []
        for e in log:
            TPM_EVIDENCE.require(isinstance(e, list) and len(e) == 3 and isinstance(e[0], int)
                                 and not isinstance(e[0], bool) and 0 <= e[0] <= 23 and isinstance(e[1], str)
                                 and isinstance(e[2], bytes) and len(e[2]) == 32,
                                 "event_log entry must be [pcr 0..23, component, 32-byte digest]")
            entries.append((e[0], e[1], e[2]))
        return cls(m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], tuple(chain), tuple(entries))


def _record(data: bytes) -> cmw.Record:
    return cmw.single_record(cmw.decode(data)[0], ind=cmw.IND_EVIDENCE)


def is_tpm_evidence(data: bytes) -> bool:
    """True when ``data`` is a CMW record of the TPM Evidence media type (dispatch; never raises)."""
    try:
        record = _record(data)
    except Exception:
        return False
    return isinstance(record.type, str) and cmw.base_media_type(record.type) == TPM_EVIDENCE_MEDIA_TYPE


def decode(data: bytes) -> TpmEvidence:
    record = _record(data)
    TPM_EVIDENCE.require(isinstance(record.type, str) and cmw.base_media_type(record.type) == TPM_EVIDENCE_MEDIA_TYPE,
                         f"record type {record.type!r} is not TPM Evidence")
    return TpmEvidence.from_map(cbor.loads(record.value))


@dataclass(frozen=True)
class EvidenceFacts:
    """What a Target Environment or Relying Party reads from Evidence of either format (unverified)."""

    binding: bytes | None
    aik_pub_hash: bytes | None
    attestation_key: bytes          # DER SPKI of the key that signed the Evidence


def evidence_facts(data: bytes, layout: str = "nonce+private-claim") -> EvidenceFacts:
    """One decode of EAT or TPM Evidence, dispatched on the CMW media type. The values are not
    authenticated here; the Verifier does that."""
    from cryptography import x509

    from expat.reference import pki
    from expat.reference.attestation import eat
    from expat.reference.attestation.tpm import structures

    if is_tpm_evidence(data):
        e = decode(data)
        return EvidenceFacts(e.binding, e.aik_pub_hash, pki.spki_der(structures.parse_public(e.ak_public).public_key()))
    msg = eat.unwrap_evidence(data)
    claims = eat.decode_claims(msg, layout)
    key = x509.load_der_x509_certificate(eat.x5chain(msg)[0]).public_key()
    return EvidenceFacts(claims.binding, claims.aik_pub_hash, pki.spki_der(key))
