"""Evidence: an EAT claims set (RFC 9711) in a COSE_Sign1 (a CWT) wrapped in a CMW record.

Claims of expat's Evidence (eat_profile :data:`~expat.reference.attestation.cmw.EVIDENCE_EAT_PROFILE`):

    6    iat            integer seconds (RFC 9711 §4.3.1; no floating point)
    10   eat_nonce      the binding, 8..64 bytes (RFC 9711 §4.1; draft §5.1)
    256  ueid           0x01 (RAND) || 16/24/32 bytes (RFC 9711 §4.2.1)
    265  eat_profile    our tag URI (RFC 9711 §4.3.2)
    273  measurements   [+ [60, bstr .cbor [component: text, sha256-digest: bstr .size 32]]]
                        (RFC 9711 §4.2.16; C-F 60 = application/cbor)
    -70001 AIK_pub_hash bstr .size (32 / 48) — private-use CWT claim key (RFC 8392 §9.1: < -65536),
                        profile evidence_claims="nonce+private-claim" (default)

With evidence_claims="nonce-array" AIK_pub_hash travels as a second eat_nonce entry instead
(eat_nonce = [binding, AIK_pub_hash]). The COSE protected header carries alg and x5chain (label 33,
RFC 9360 §2): the attestation-key certificate and its intermediate, rooted in the manufacturer anchor.
Decoding is strict: unknown claims, wrong types and sizes are DecodeErrors.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from expat.checks import check
from expat.errors import Alert
from expat.reference.attestation import cbor, cmw, cose

IAT, EAT_NONCE, UEID, EAT_PROFILE, MEASUREMENTS = 6, 10, 256, 265, 273
AIK_PUB_HASH_CLAIM = -70001
MEASUREMENT_CF = 60  # application/cbor
UEID_RAND = 0x01
KNOWN_CLAIMS = {IAT, EAT_NONCE, UEID, EAT_PROFILE, MEASUREMENTS, AIK_PUB_HASH_CLAIM}
LAYOUTS = ("nonce+private-claim", "nonce-array")

EAT_CLAIMS = check("rfc9711-4-claims", "RFC 9711 §4", Alert.decode_error,
                   "Evidence claims are a map with exactly the expat profile's claims, each of the right "
                   "type and size (iat integer, ueid 0x01 RAND, measurements [C-F, bytes])")
EAT_NONCE_SIZE = check("rfc9711-4.1-eat-nonce", "RFC 9711 §4.1", Alert.decode_error,
                       "eat_nonce is a byte string of 8..64 bytes, or an array of at least two of them")
EAT_PROFILE_MATCH = check("rfc9711-4.3.2-eat-profile", "RFC 9711 §4.3.2", Alert.illegal_parameter,
                          "eat_profile names the expat Evidence profile")
EVIDENCE_WRAPPER = check("expat-evidence-cmw", "RFC 9999 §3.1; RFC 9782", Alert.illegal_parameter,
                         "Evidence is a single CMW record whose type is expat's EAT media type and whose "
                         "ind (if present) says Evidence")
X5CHAIN = check("rfc9360-2-x5chain", "RFC 9360 §2", Alert.bad_certificate,
                "the Evidence's protected header carries x5chain: one DER certificate or an array of them")
X5CHAIN_LENGTH = check("expat-limit-x5chain", "RFC 9360 §2", Alert.bad_certificate,
                       "an Evidence x5chain holds at most MAX_X5CHAIN certificates (checked before parsing them)")
MAX_X5CHAIN = 8  # the Verifier's ChainValidator depth (expat.reference.pki)


@dataclass(frozen=True)
class EvidenceClaims:
    binding: bytes
    aik_pub_hash: bytes | None
    ueid: bytes
    measurements: dict[str, bytes] = field(default_factory=dict)
    iat: int = 0
    eat_profile: str = cmw.EVIDENCE_EAT_PROFILE

    def to_map(self, layout: str = "nonce+private-claim") -> dict:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown evidence claims layout {layout!r}")
        m: dict = {EAT_PROFILE: self.eat_profile, IAT: self.iat, UEID: self.ueid}
        if layout == "nonce-array" and self.aik_pub_hash is not None:
            m[EAT_NONCE] = [self.binding, self.aik_pub_hash]
        else:
            m[EAT_NONCE] = self.binding
        if layout == "nonce+private-claim" and self.aik_pub_hash is not None:
            m[AIK_PUB_HASH_CLAIM] = self.aik_pub_hash
        m[MEASUREMENTS] = [[MEASUREMENT_CF, cbor2.dumps([name, digest])]
                           for name, digest in sorted(self.measurements.items())]
        return m

    @classmethod
    def from_map(cls, m: object, layout: str = "nonce+private-claim") -> "EvidenceClaims":
        EAT_CLAIMS.require(isinstance(m, dict), "claims set must be a map")
        unknown = set(m) - KNOWN_CLAIMS
        EAT_CLAIMS.require(not unknown, f"unknown claims {sorted(map(str, unknown))}")
        for key in (IAT, EAT_NONCE, UEID, EAT_PROFILE, MEASUREMENTS):
            EAT_CLAIMS.require(key in m, f"claim {key} missing")
        EAT_PROFILE_MATCH.require(m[EAT_PROFILE] == cmw.EVIDENCE_EAT_PROFILE,
                                  f"eat_profile {m[EAT_PROFILE]!r} is not {cmw.EVIDENCE_EAT_PROFILE!r}")
        iat = m[IAT]
        EAT_CLAIMS.require(isinstance(iat, int) and not isinstance(iat, bool) and iat >= 0,
                           "iat must be a non-negative integer")
        nonce = m[EAT_NONCE]
        aik = None
        if isinstance(nonce, list):
            EAT_NONCE_SIZE.require(len(nonce) >= 2, "an eat_nonce array has at least two entries")
            for n in nonce:
                _require_nonce(n)
            EAT_CLAIMS.require(layout == "nonce-array" and len(nonce) == 2,
                               "eat_nonce array is not the profile's [binding, AIK_pub_hash]")
            binding, aik = nonce
        else:
            _require_nonce(nonce)
            binding = nonce
        if AIK_PUB_HASH_CLAIM in m:
            EAT_CLAIMS.require(layout == "nonce+private-claim", "AIK_pub_hash claim not used by this layout")
            aik = m[AIK_PUB_HASH_CLAIM]
            EAT_CLAIMS.require(isinstance(aik, bytes) and len(aik) in (32, 48),
                               "AIK_pub_hash must be a 32- or 48-byte string")
        ueid = m[UEID]
        EAT_CLAIMS.require(isinstance(ueid, bytes) and 7 <= len(ueid) <= 33, "ueid must be 7..33 bytes")
        EAT_CLAIMS.require(ueid[0] in (1, 2, 3), f"ueid type 0x{ueid[0]:02x} unknown")
        if ueid[0] == UEID_RAND:
            EAT_CLAIMS.require(len(ueid) in (17, 25, 33), "RAND ueid must carry 16, 24 or 32 bytes")
        ms = m[MEASUREMENTS]
        EAT_CLAIMS.require(isinstance(ms, list) and len(ms) >= 1, "measurements must be a non-empty array")
        measurements: dict[str, bytes] = {}
        for entry in ms:
            EAT_CLAIMS.require(isinstance(entry, list) and len(entry) == 2, "measurement must be [C-F, body]")
            cf, body = entry
            EAT_CLAIMS.require(cf == MEASUREMENT_CF and isinstance(body, bytes),
                               f"measurement format {cf!r} unsupported (expected {MEASUREMENT_CF})")
            item = cbor.loads(body)
            EAT_CLAIMS.require(isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                               and isinstance(item[1], bytes) and len(item[1]) == 32,
                               "measurement body must be [component, 32-byte digest]")
            EAT_CLAIMS.require(item[0] not in measurements, f"component {item[0]!r} measured twice")
            measurements[item[0]] = item[1]
        return cls(binding=binding, aik_pub_hash=aik, ueid=ueid, measurements=measurements, iat=iat,
                   eat_profile=m[EAT_PROFILE])


def _require_nonce(n: object) -> None:
    EAT_NONCE_SIZE.require(isinstance(n, bytes) and 8 <= len(n) <= 64, "eat_nonce must be 8..64 bytes")


def sign_evidence(claims: EvidenceClaims, attestation_key, x5chain: list[x509.Certificate],
                  layout: str = "nonce+private-claim") -> bytes:
    """COSE_Sign1 over the claims, alg + x5chain in the protected header (tag 18)."""
    ders = [c.public_bytes(serialization.Encoding.DER) for c in x5chain]
    chain = ders[0] if len(ders) == 1 else ders
    return cose.sign1(attestation_key, cbor2.dumps(claims.to_map(layout)), protected={cose.HDR_X5CHAIN: chain})


def wrap_evidence(cose_sign1: bytes, serialization: str = "cbor") -> bytes:
    """The CMW record put into cmw_attestation: [EVIDENCE_MEDIA_TYPE, cose, ind=Evidence]."""
    return cmw.encode(cmw.Record(cmw.EVIDENCE_MEDIA_TYPE, cose_sign1, cmw.IND_EVIDENCE), serialization)


def unwrap_evidence(data: bytes) -> cose.Sign1:
    """CMW -> the Evidence COSE_Sign1 (parsed, signature not yet checked)."""
    record = cmw.single_record(cmw.decode(data)[0], ind=cmw.IND_EVIDENCE)
    EVIDENCE_WRAPPER.require(isinstance(record.type, str)
                             and cmw.base_media_type(record.type) == "application/eat+cwt"
                             and cmw.media_type_param(record.type, "eat_profile") == cmw.EVIDENCE_EAT_PROFILE,
                             f"record type {record.type!r} is not expat Evidence")
    return cose.decode_sign1(record.value)


def x5chain(msg: cose.Sign1) -> list[bytes]:
    """The DER certificates of the x5chain header (protected bucket only), leaf first."""
    chain = msg.protected_header.get(cose.HDR_X5CHAIN)
    X5CHAIN.require(chain is not None, "x5chain missing from the protected header")
    if isinstance(chain, bytes):
        chain = [chain]
    X5CHAIN.require(isinstance(chain, list) and len(chain) >= 1 and all(isinstance(c, bytes) for c in chain),
                    "x5chain must be a bstr or an array of bstr")
    X5CHAIN_LENGTH.require(len(chain) <= MAX_X5CHAIN, "x5chain of {} certificates (at most {})", len(chain),
                           MAX_X5CHAIN)
    X5CHAIN.require(not (isinstance(msg.protected_header.get(cose.HDR_X5CHAIN), list) and len(chain) == 1),
                    "a single-certificate x5chain must be a bstr, not an array")
    for i, der in enumerate(chain):
        _require_parsable(der, i)
    return chain


def _require_parsable(der: bytes, index: int) -> None:
    """Parse a certificate completely up front: cryptography parses some fields lazily and would
    otherwise raise ValueError later, in the middle of chain validation."""
    if der in _PARSABLE:  # parsed completely before (a pure function of the exact bytes)
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. a non-positive serial number (RFC 5280 §4.1.2.2)
            cert = x509.load_der_x509_certificate(der)
        cert.issuer, cert.subject, cert.public_key(), cert.signature_hash_algorithm  # noqa: B018
        cert.not_valid_before_utc, cert.not_valid_after_utc, cert.tbs_certificate_bytes  # noqa: B018
        for _ in cert.extensions:
            pass
    except Exception as e:  # cryptography raises ValueError / UnsupportedAlgorithm for bad DER
        X5CHAIN.fail(f"x5chain certificate {index} does not parse: {type(e).__name__}")
    if len(_PARSABLE) >= _PARSABLE_MAX:
        _PARSABLE.clear()
    _PARSABLE.add(der)


_PARSABLE: set[bytes] = set()   # DER certificates known to parse completely (bounded memo)
_PARSABLE_MAX = 256


def decode_claims(msg: cose.Sign1, layout: str = "nonce+private-claim") -> EvidenceClaims:
    return EvidenceClaims.from_map(cbor.loads(msg.payload), layout)
