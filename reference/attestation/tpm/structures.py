"""Strict parsers for the TPM 2.0 structures a Verifier reads (no TPM library needed).

Everything here reads untrusted bytes: any deviation from the marshalling rules of TPM 2.0 Library
Part 2 (big-endian integers, TPM2B = UINT16 size + bytes, no trailing bytes) or a value outside the
subset expat uses is a DecodeError from the named check ``tpm2-part2-marshal``.

Section numbers are those of Part 2 rev 01.59 (docs/tpm.md lists how each was checked).
Subset: ECC P-256 keys (TPMT_PUBLIC, §12.2.4) with nameAlg SHA-256, ECDSA signatures
(TPMT_SIGNATURE §11.3.4 carrying TPMS_SIGNATURE_ECC §11.3.2), TPMS_ATTEST (§10.12.12) of type
quote or certify.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from expat.checks import check
from expat.errors import Alert

TPM_MARSHAL = check("tpm2-part2-marshal", "TPM 2.0 Library Part 2 §10.4, §10.5.3, §10.9.7, §10.12, §11.3.4, "
                    "§12.2.4", Alert.decode_error,
                    "TPM structures are well-formed (sizes, union selectors, no trailing bytes) and within the "
                    "subset expat uses (ECC P-256, SHA-256 names, ECDSA)")

# Part 2 §6.2 TPM_GENERATED, §6.9 TPM_ST, §6.3 TPM_ALG_ID, §6.4 TPM_ECC_CURVE, §7.4 TPM_RH
TPM_GENERATED_VALUE = 0xFF544347
TPM_ST_ATTEST_CERTIFY = 0x8017
TPM_ST_ATTEST_QUOTE = 0x8018
ALG_SHA256, ALG_SHA384, ALG_NULL, ALG_ECDSA, ALG_ECC = 0x000B, 0x000C, 0x0010, 0x0018, 0x0023
ECC_NIST_P256 = 0x0003
TPM_RH_OWNER = 0x40000001

# Part 2 §8.3 TPMA_OBJECT bits (table in §8.3.2; fixedTPM §8.3.3.2, fixedParent §8.3.3.4,
# sensitiveDataOrigin §8.3.3.5, userWithAuth §8.3.3.6, restricted §8.3.3.10, decrypt §8.3.3.11,
# sign/encrypt §8.3.3.12)
FIXED_TPM = 1 << 1
FIXED_PARENT = 1 << 4
SENSITIVE_DATA_ORIGIN = 1 << 5
USER_WITH_AUTH = 1 << 6
RESTRICTED = 1 << 16
DECRYPT = 1 << 17
SIGN_ENCRYPT = 1 << 18

# TPM2B_DATA (Part 2 §10.4.3) is bounded by sizeof(TPMT_HA): a 2-byte algorithm id plus the largest
# digest, 66 on a SHA-512-capable TPM such as libtpms. (tpm2-tss's C type holds only sizeof(TPMU_HA)
# = 64, so expat, which drives the TPM through tpm2-tss, never asks for more than 64.)
MAX_DATA = 2 + 64
MAX_NAME = 2 + 64   # TPM2B_NAME (§10.5.3): sizeof(TPMU_NAME), a TPMT_HA or a 4-byte handle
MAX_DIGEST = 64     # TPM2B_DIGEST (§10.4.2): sizeof(TPMU_HA)


class Reader:
    """Big-endian reader over ``data``; every shortfall is a tpm2-part2-marshal failure."""

    def __init__(self, data: bytes, what: str):
        TPM_MARSHAL.require(isinstance(data, bytes), f"{what} must be bytes")
        self.data, self.pos, self.what = data, 0, what

    def take(self, n: int) -> bytes:
        TPM_MARSHAL.require(self.pos + n <= len(self.data), f"{self.what}: truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack(">Q", self.take(8))[0]

    def tpm2b(self, max_size: int) -> bytes:
        size = self.u16()
        TPM_MARSHAL.require(size <= max_size, f"{self.what}: TPM2B of {size} bytes exceeds {max_size}")
        return self.take(size)

    def finish(self) -> None:
        TPM_MARSHAL.require(self.pos == len(self.data), f"{self.what}: {len(self.data) - self.pos} trailing bytes")


# --- TPMT_PUBLIC (ECC only) ---------------------------------------------------------------------

@dataclass(frozen=True)
class EccPublic:
    """A parsed TPMT_PUBLIC of an ECC P-256 key. ``raw`` is the marshalled TPMT_PUBLIC."""

    raw: bytes
    name_alg: int
    attributes: int
    scheme: int
    scheme_hash: int
    x: bytes
    y: bytes

    @property
    def name(self) -> bytes:
        """Name = nameAlg || H_nameAlg(TPMT_PUBLIC) (Part 1 §16 Names)."""
        return struct.pack(">H", self.name_alg) + hashlib.sha256(self.raw).digest()

    def qualified_name(self, hierarchy: int = TPM_RH_OWNER) -> bytes:
        """Qualified Name of a primary key of ``hierarchy``: nameAlg || H(handle || Name) (Part 1 §16 Names;
        the parent of a primary key is its hierarchy, whose Qualified Name is its handle)."""
        return struct.pack(">H", self.name_alg) + hashlib.sha256(struct.pack(">I", hierarchy) + self.name).digest()

    def public_key(self) -> ec.EllipticCurvePublicKey:
        try:
            return ec.EllipticCurvePublicNumbers(int.from_bytes(self.x, "big"), int.from_bytes(self.y, "big"),
                                                 ec.SECP256R1()).public_key()
        except ValueError:
            TPM_MARSHAL.fail("TPMT_PUBLIC: unique is not a point on P-256")

    def has(self, bits: int) -> bool:
        return self.attributes & bits == bits


def parse_public(data: bytes) -> EccPublic:
    r = Reader(data, "TPMT_PUBLIC")
    TPM_MARSHAL.require(r.u16() == ALG_ECC, "TPMT_PUBLIC: only ECC keys are supported")
    name_alg = r.u16()
    TPM_MARSHAL.require(name_alg == ALG_SHA256, "TPMT_PUBLIC: nameAlg must be SHA-256")
    attributes = r.u32()
    r.tpm2b(MAX_DIGEST)                           # authPolicy (TPM2B_DIGEST)
    sym = r.u16()
    if sym != ALG_NULL:
        r.u16()
        r.u16()                                   # keyBits, mode
    scheme = r.u16()
    scheme_hash = 0
    if scheme != ALG_NULL:
        TPM_MARSHAL.require(scheme == ALG_ECDSA, f"TPMT_PUBLIC: scheme 0x{scheme:04x} is not ECDSA or NULL")
        scheme_hash = r.u16()
    TPM_MARSHAL.require(r.u16() == ECC_NIST_P256, "TPMT_PUBLIC: curve must be NIST P-256")
    kdf = r.u16()
    if kdf != ALG_NULL:
        r.u16()
    x, y = r.tpm2b(32), r.tpm2b(32)
    r.finish()
    TPM_MARSHAL.require(len(x) == 32 and len(y) == 32, "TPMT_PUBLIC: P-256 coordinates are 32 bytes")
    return EccPublic(raw=data, name_alg=name_alg, attributes=attributes, scheme=scheme, scheme_hash=scheme_hash,
                     x=x, y=y)


# --- TPMT_SIGNATURE (ECDSA only) -----------------------------------------------------------------

def parse_ecdsa_signature(data: bytes) -> tuple[int, bytes]:
    """TPMT_SIGNATURE -> (hash alg, DER-encoded ECDSA signature)."""
    r = Reader(data, "TPMT_SIGNATURE")
    TPM_MARSHAL.require(r.u16() == ALG_ECDSA, "TPMT_SIGNATURE: only ECDSA is supported")
    hash_alg = r.u16()
    TPM_MARSHAL.require(hash_alg == ALG_SHA256, "TPMT_SIGNATURE: hash must be SHA-256")
    sig_r, sig_s = r.tpm2b(32), r.tpm2b(32)
    r.finish()
    return hash_alg, encode_dss_signature(int.from_bytes(sig_r, "big"), int.from_bytes(sig_s, "big"))


# --- TPMS_ATTEST ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attest:
    """A parsed TPMS_ATTEST (Part 2 §10.12.12; clockInfo is TPMS_CLOCK_INFO §10.11.1) of type quote or
    certify (TPMI_ST_ATTEST §10.12.10, TPMU_ATTEST §10.12.11)."""

    magic: int
    type: int
    qualified_signer: bytes
    extra_data: bytes
    clock: int
    reset_count: int
    restart_count: int
    safe: int
    firmware_version: int
    # TPMS_QUOTE_INFO (Part 2 §10.12.4): TPML_PCR_SELECTION (§10.9.7) and pcrDigest
    pcr_select: tuple[tuple[int, tuple[int, ...]], ...] = ()
    pcr_digest: bytes = b""
    # TPMS_CERTIFY_INFO (Part 2 §10.12.3): Name and Qualified Name of the certified object
    certified_name: bytes = b""
    certified_qualified_name: bytes = b""


def _pcr_indices(bitmap: bytes) -> tuple[int, ...]:
    return tuple(i * 8 + b for i, byte in enumerate(bitmap) for b in range(8) if byte >> b & 1)


def parse_attest(data: bytes) -> Attest:
    r = Reader(data, "TPMS_ATTEST")
    magic, kind = r.u32(), r.u16()
    signer, extra = r.tpm2b(MAX_NAME), r.tpm2b(MAX_DATA)
    clock, resets, restarts, safe = r.u64(), r.u32(), r.u32(), r.u8()
    TPM_MARSHAL.require(safe in (0, 1), "TPMS_CLOCK_INFO: safe is not a TPMI_YES_NO")
    firmware = r.u64()
    fields: dict = {}
    if kind == TPM_ST_ATTEST_QUOTE:
        count = r.u32()
        TPM_MARSHAL.require(count <= 16, "TPML_PCR_SELECTION: too many banks")
        sel = []
        for _ in range(count):
            alg, size = r.u16(), r.u8()
            TPM_MARSHAL.require(size <= 4, "TPMS_PCR_SELECTION: sizeofSelect > 4")   # §10.6.2
            sel.append((alg, _pcr_indices(r.take(size))))
        fields = {"pcr_select": tuple(sel), "pcr_digest": r.tpm2b(MAX_DIGEST)}
    elif kind == TPM_ST_ATTEST_CERTIFY:
        fields = {"certified_name": r.tpm2b(MAX_NAME), "certified_qualified_name": r.tpm2b(MAX_NAME)}
    else:
        # other attestation types are well-formed TPM data but not what expat Evidence carries;
        # the caller's type check reports them (we stop parsing here)
        return Attest(magic, kind, signer, extra, clock, resets, restarts, safe, firmware)
    r.finish()
    return Attest(magic, kind, signer, extra, clock, resets, restarts, safe, firmware, **fields)


def pcr_select_bitmap(indices: tuple[int, ...] | list[int]) -> bytes:
    """The 3-byte pcrSelect bitmap of a PCR set (TPMS_PCR_SELECT, Part 2 §10.6.1; 24 PCRs)."""
    bitmap = bytearray(3)
    for i in indices:
        bitmap[i // 8] |= 1 << (i % 8)
    return bytes(bitmap)
