"""COSE_Sign1, written literally (RFC 9052 §4.2, §4.4; algorithms RFC 9053 §2.1, §2.2).

    COSE_Sign1 = [ protected: bstr .cbor header_map / bstr .size 0, unprotected: header_map,
                   payload: bstr / nil, signature: bstr ]          (optionally tag 18)
    Sig_structure = [ "Signature1", body_protected, external_aad, payload ]

ECDSA signatures are the fixed-length r || s (RFC 9053 §2.1) and are produced deterministically
(RFC 6979) so a fixed key and input always give the same bytes. We require ``alg`` in the protected
header and that it matches the key (ES256 with P-256, ES384 with P-384, EdDSA with Ed25519).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from expat.checks import check
from expat.errors import Alert
from expat.reference.attestation import cbor

COSE_SIGN1_TAG = 18
HDR_ALG, HDR_CRIT, HDR_CTY, HDR_KID, HDR_X5CHAIN = 1, 2, 3, 4, 33  # RFC 9052 §3.1, RFC 9360 §2
ES256, ES384, EDDSA = -7, -35, -8
ALG_NAMES = {ES256: "ES256", ES384: "ES384", EDDSA: "EdDSA"}
_EC = {ES256: ("secp256r1", hashes.SHA256, 32), ES384: ("secp384r1", hashes.SHA384, 48)}

SIGN1_STRUCTURE = check("rfc9052-4.2-sign1", "RFC 9052 §4.2", Alert.decode_error,
                        "a COSE_Sign1 is a 4-element array [bstr, map, bstr, bstr], tagged 18 or not, "
                        "whose protected bstr is empty or a CBOR map")
SIGN1_ALG = check("rfc9052-3.1-alg", "RFC 9052 §3.1; RFC 9053 §2", Alert.illegal_parameter,
                  "alg is in the protected header, supported and matches the verification key")
SIGN1_SIGNATURE = check("rfc9052-4.4-signature", "RFC 9052 §4.4", Alert.decrypt_error,
                        "the COSE_Sign1 signature verifies over Sig_structure with the expected key")


def alg_for_key(key) -> int:
    pub = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(pub, ed25519.Ed25519PublicKey):
        return EDDSA
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return {"secp256r1": ES256, "secp384r1": ES384}.get(pub.curve.name) or _unsupported(pub.curve.name)
    return _unsupported(type(pub).__name__)


def _unsupported(what: str):
    SIGN1_ALG.fail(f"no supported COSE algorithm for key {what}")


def sig_structure(protected: bytes, external_aad: bytes, payload: bytes) -> bytes:
    """RFC 9052 §4.4: Sig_structure for COSE_Sign1 (context "Signature1")."""
    return cbor2.dumps(["Signature1", protected, external_aad, payload])


def encode_protected(header: dict) -> bytes:
    """The protected bucket: zero-length when empty (RFC 9052 §3)."""
    return cbor2.dumps(header) if header else b""


@dataclass(frozen=True)
class Sign1:
    protected: bytes                 # serialized protected bucket, exactly as signed
    unprotected: dict
    payload: bytes
    signature: bytes
    protected_header: dict = field(default_factory=dict)
    tagged: bool = True

    @property
    def alg(self) -> Any:
        return self.protected_header.get(HDR_ALG)

    def header(self, label: int) -> Any:
        """A header parameter, protected bucket first."""
        if label in self.protected_header:
            return self.protected_header[label]
        return self.unprotected.get(label)

    def encode(self) -> bytes:
        arr = [self.protected, self.unprotected, self.payload, self.signature]
        return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, arr) if self.tagged else arr)


def _raw_signature(key, alg: int, data: bytes) -> bytes:
    if alg == EDDSA:
        return key.sign(data)
    _, h, n = _EC[alg]
    der = key.sign(data, ec.ECDSA(h(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


def sign1(key, payload: bytes, *, protected: dict | None = None, unprotected: dict | None = None,
          external_aad: bytes = b"", tagged: bool = True) -> bytes:
    """Sign ``payload``; alg (from the key) is put first in the protected header."""
    alg = alg_for_key(key)
    extra = dict(protected or {})
    if HDR_ALG in extra and extra[HDR_ALG] != alg:
        raise ValueError(f"protected alg {extra[HDR_ALG]} does not match the key (alg {alg})")
    extra.pop(HDR_ALG, None)
    header = {HDR_ALG: alg, **extra}
    prot = encode_protected(header)
    sig = _raw_signature(key, alg, sig_structure(prot, external_aad, payload))
    return Sign1(prot, dict(unprotected or {}), payload, sig, header, tagged).encode()


def decode_sign1(data: bytes, *, require_tag: bool | None = None) -> Sign1:
    """Parse a COSE_Sign1 strictly (no signature check). ``require_tag``: True/False/None (either)."""
    obj = cbor.loads(data)
    tagged = isinstance(obj, cbor2.CBORTag)
    if tagged:
        SIGN1_STRUCTURE.require(obj.tag == COSE_SIGN1_TAG, f"tag {obj.tag} is not COSE_Sign1 (18)")
        obj = obj.value
    if require_tag is not None:
        SIGN1_STRUCTURE.require(tagged == require_tag, "COSE_Sign1 tag " + ("missing" if require_tag else "not allowed"))
    SIGN1_STRUCTURE.require(isinstance(obj, list) and len(obj) == 4, "COSE_Sign1 must be a 4-element array")
    prot, unprot, payload, sig = obj
    SIGN1_STRUCTURE.require(isinstance(prot, bytes), "protected header must be a byte string")
    SIGN1_STRUCTURE.require(isinstance(unprot, dict), "unprotected header must be a map")
    SIGN1_STRUCTURE.require(isinstance(payload, bytes), "payload must be an attached byte string")
    SIGN1_STRUCTURE.require(isinstance(sig, bytes), "signature must be a byte string")
    header: dict = {}
    if prot:
        header = cbor.loads(prot)
        SIGN1_STRUCTURE.require(isinstance(header, dict), "protected header must encode a map")
        SIGN1_STRUCTURE.require(len(header) > 0, "a non-empty protected bucket must not encode an empty map")
    dup = set(header) & set(unprot)
    SIGN1_STRUCTURE.require(not dup, f"header labels in both buckets: {sorted(map(str, dup))}")
    SIGN1_STRUCTURE.require(HDR_CRIT not in header and HDR_CRIT not in unprot,
                            "crit header parameters are not supported")
    return Sign1(prot, unprot, payload, sig, header, tagged)


def verify_sign1(message: bytes | Sign1, public_key, *, external_aad: bytes = b"") -> Sign1:
    """Verify a COSE_Sign1 with ``public_key``; returns the parsed message."""
    msg = message if isinstance(message, Sign1) else decode_sign1(message)
    alg = msg.protected_header.get(HDR_ALG)
    SIGN1_ALG.require(alg is not None, "alg missing from the protected header")
    SIGN1_ALG.require(alg in ALG_NAMES, f"unsupported alg {alg!r}")
    SIGN1_ALG.require(alg == alg_for_key(public_key), f"alg {ALG_NAMES[alg]} does not match the key")
    to_be_signed = sig_structure(msg.protected, external_aad, msg.payload)
    try:
        if alg == EDDSA:
            SIGN1_SIGNATURE.require(len(msg.signature) == 64, "EdDSA signature must be 64 bytes")
            public_key.verify(msg.signature, to_be_signed)
        else:
            _, h, n = _EC[alg]
            SIGN1_SIGNATURE.require(len(msg.signature) == 2 * n, f"{ALG_NAMES[alg]} signature must be {2 * n} bytes")
            r = int.from_bytes(msg.signature[:n], "big")
            s = int.from_bytes(msg.signature[n:], "big")
            public_key.verify(encode_dss_signature(r, s), to_be_signed, ec.ECDSA(h()))
    except (InvalidSignature, ValueError):
        SIGN1_SIGNATURE.fail("COSE_Sign1 signature does not verify")
    return msg
