"""EAT Attestation Results (draft-ietf-rats-ear-03 §3, §3.1), CBOR claims in a CWT (COSE_Sign1).

    265  eat_profile      "tag:ietf.org,2026:rats/ear#03"           (mandatory)
    6    iat              integer                                   (mandatory)
    1004 ear_verifier_id  {0: developer, 1: build}                  (mandatory)
    266  submods          { + text => EAR-appraisal }               (mandatory, >= 1)
    1000 ear_status       top-level tier, no better than the worst submod (optional)
    4    exp, 1002 ear_raw_evidence, 10 eat_nonce                   (optional)
    -70101 expat's EAR extension {"appraisal_id": bstr .size 16}   (optional; a map, §3 and §4)
  EAR-appraisal:
    1000 ear_status (mandatory), 1001 ear_trustworthiness_vector, 1003 ear_appraisal_policy_ids
    ([+ text]), 10 eat_nonce (the nonce of the appraised Evidence: for expat, the binding), 265
    eat_profile, and expat's extension -70100 => {? "reasons": [+ text], ? "aik_pub_hash": bytes,
    ? "binding_confirmed": bytes} (an extension is a map, §3.1; the AIK_pub_hash echo lets a passport
    RP do the §5.2 check; "binding_confirmed" is the binding a Relying Party conveyed that the Verifier
    compared with the Evidence's and found equal: the delegated comparison of draft -04 §5.1).

Tiers (AR4SI §3.2): none 0, affirming 2, warning 32, contraindicated 96.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import cbor2

from expat.checks import check
from expat.errors import Alert
from expat.reference.attestation import cbor, cmw, cose

EXP, IAT, EAT_NONCE, EAT_PROFILE, SUBMODS = 4, 6, 10, 265, 266
EAR_STATUS, EAR_TRUST_VECTOR, EAR_RAW_EVIDENCE, EAR_POLICY_IDS, EAR_VERIFIER_ID = 1000, 1001, 1002, 1003, 1004
EXPAT_APPRAISAL_EXT = -70100
# Top-level extension (EAR -03 §3: an extension is a map): a per-appraisal identifier, so that two
# appraisals of the same Evidence in the same second still yield distinct Attestation Results.
EXPAT_EAR_EXT = -70101
APPRAISAL_ID_LENGTH = 16
EAR_PROFILE = cmw.EAR_PROFILE

TRUST_VECTOR_KEYS = {"instance-identity": 0, "configuration": 1, "executables": 2, "file-system": 3,
                     "hardware": 4, "runtime-opaque": 5, "storage-opaque": 6, "sourced-data": 7}
_TV_NAMES = {v: k for k, v in TRUST_VECTOR_KEYS.items()}

EAR_CLAIMS = check("ear03-3-claims", "draft-ietf-rats-ear-03 §3, §3.1", Alert.decode_error,
                   "an EAR has eat_profile, integer iat, ear_verifier_id and >= 1 submod, each with an "
                   "ear_status tier; optional claims have their defined types")
EAR_PROFILE_MATCH = check("ear03-3-profile", "draft-ietf-rats-ear-03 §3", Alert.illegal_parameter,
                          "eat_profile of an EAR is exactly tag:ietf.org,2026:rats/ear#03")
EAR_STATUS_BOUND = check("ear03-3-status-bound", "draft-ietf-rats-ear-03 §3", Alert.illegal_parameter,
                         "a top-level ear_status is no better than the worst submod status")
EAR_WRAPPER = check("expat-ear-cmw", "RFC 9999 §3.1; draft-ietf-rats-ear-03 §5", Alert.illegal_parameter,
                    "an EAR travels as a CMW record with an EAR media type and (if present) ind "
                    "Attestation Results, or as a bare COSE_Sign1")


class Tier(enum.IntEnum):
    none = 0
    affirming = 2
    warning = 32
    contraindicated = 96

    @property
    def badness(self) -> int:
        return {Tier.affirming: 0, Tier.none: 1, Tier.warning: 2, Tier.contraindicated: 3}[self]


def worst(tiers) -> Tier:
    tiers = list(tiers)
    return max(tiers, key=lambda t: t.badness) if tiers else Tier.none


@dataclass(frozen=True)
class Appraisal:
    status: Tier
    trust_vector: dict[str, int] = field(default_factory=dict)
    policy_ids: tuple[str, ...] = ()
    eat_nonce: bytes | list | None = None
    reasons: tuple[str, ...] = ()
    eat_profile: str | None = None
    aik_pub_hash: bytes | None = None
    binding_confirmed: bytes | None = None

    def to_map(self) -> dict:
        m: dict = {EAR_STATUS: int(self.status)}
        if self.eat_profile is not None:
            m[EAT_PROFILE] = self.eat_profile
        if self.trust_vector:
            m[EAR_TRUST_VECTOR] = {TRUST_VECTOR_KEYS[k]: v for k, v in self.trust_vector.items()}
        if self.policy_ids:
            m[EAR_POLICY_IDS] = list(self.policy_ids)
        if self.eat_nonce is not None:
            m[EAT_NONCE] = self.eat_nonce
        ext: dict = {}
        if self.reasons:
            ext["reasons"] = list(self.reasons)
        if self.aik_pub_hash is not None:
            ext["aik_pub_hash"] = self.aik_pub_hash
        if self.binding_confirmed is not None:
            ext["binding_confirmed"] = self.binding_confirmed
        if ext:
            m[EXPAT_APPRAISAL_EXT] = ext
        return m

    @classmethod
    def from_map(cls, m: object) -> "Appraisal":
        EAR_CLAIMS.require(isinstance(m, dict), "EAR-appraisal must be a map")
        EAR_CLAIMS.require(EAR_STATUS in m, "EAR-appraisal without ear_status")
        status = _tier(m[EAR_STATUS])
        tv: dict[str, int] = {}
        if EAR_TRUST_VECTOR in m:
            v = m[EAR_TRUST_VECTOR]
            EAR_CLAIMS.require(isinstance(v, dict), "trustworthiness vector must be a map")
            for k, x in v.items():
                EAR_CLAIMS.require(k in _TV_NAMES, f"unknown trustworthiness claim {k!r}")
                EAR_CLAIMS.require(isinstance(x, int) and not isinstance(x, bool) and -128 <= x <= 127,
                                   "trustworthiness claim must be an int8")
                tv[_TV_NAMES[k]] = x
        policy_ids: tuple[str, ...] = ()
        if EAR_POLICY_IDS in m:
            p = m[EAR_POLICY_IDS]
            EAR_CLAIMS.require(isinstance(p, list) and p and all(isinstance(x, str) for x in p),
                               "ear_appraisal_policy_ids must be a non-empty list of text")
            policy_ids = tuple(p)
        nonce = m.get(EAT_NONCE)
        if nonce is not None:
            _check_nonce(nonce)
        reasons: tuple[str, ...] = ()
        aik = confirmed = None
        if EXPAT_APPRAISAL_EXT in m:
            ext = m[EXPAT_APPRAISAL_EXT]
            EAR_CLAIMS.require(isinstance(ext, dict) and ext
                               and set(ext) <= {"reasons", "aik_pub_hash", "binding_confirmed"}
                               and isinstance(ext.get("reasons", []), list)
                               and all(isinstance(r, str) for r in ext.get("reasons", [])),
                               "expat appraisal extension must be {? \"reasons\": [text], ? \"aik_pub_hash\": bytes, "
                               "? \"binding_confirmed\": bytes}")
            reasons = tuple(ext.get("reasons", []))
            aik = ext.get("aik_pub_hash")
            EAR_CLAIMS.require(aik is None or (isinstance(aik, bytes) and len(aik) in (32, 48)),
                               "aik_pub_hash must be 32 or 48 bytes")
            confirmed = ext.get("binding_confirmed")
            EAR_CLAIMS.require(confirmed is None or (isinstance(confirmed, bytes) and 8 <= len(confirmed) <= 64),
                               "binding_confirmed must be 8..64 bytes")
        profile = m.get(EAT_PROFILE)
        EAR_CLAIMS.require(profile is None or isinstance(profile, str), "submod eat_profile must be text")
        return cls(status, tv, policy_ids, nonce, reasons, profile, aik, confirmed)


@dataclass(frozen=True)
class EAR:
    iat: int
    verifier_id: tuple[str, str]   # (developer, build)
    submods: dict[str, Appraisal]
    status: Tier | None = None
    exp: int | None = None
    eat_nonce: bytes | list | None = None
    raw_evidence: bytes | None = None
    appraisal_id: bytes | None = None

    @property
    def overall(self) -> Tier:
        """The top-level status if present, else the worst submod status."""
        return self.status if self.status is not None else worst(a.status for a in self.submods.values())

    def to_map(self) -> dict:
        m: dict = {EAT_PROFILE: EAR_PROFILE, IAT: self.iat,
                   EAR_VERIFIER_ID: {0: self.verifier_id[0], 1: self.verifier_id[1]},
                   SUBMODS: {k: a.to_map() for k, a in self.submods.items()}}
        if self.status is not None:
            m[EAR_STATUS] = int(self.status)
        if self.exp is not None:
            m[EXP] = self.exp
        if self.eat_nonce is not None:
            m[EAT_NONCE] = self.eat_nonce
        if self.raw_evidence is not None:
            m[EAR_RAW_EVIDENCE] = self.raw_evidence
        if self.appraisal_id is not None:
            m[EXPAT_EAR_EXT] = {"appraisal_id": self.appraisal_id}
        return m

    @classmethod
    def from_map(cls, m: object) -> "EAR":
        EAR_CLAIMS.require(isinstance(m, dict), "EAR claims set must be a map")
        for key in (EAT_PROFILE, IAT, EAR_VERIFIER_ID, SUBMODS):
            EAR_CLAIMS.require(key in m, f"EAR claim {key} missing")
        EAR_PROFILE_MATCH.require(m[EAT_PROFILE] == EAR_PROFILE, f"eat_profile {m[EAT_PROFILE]!r}")
        iat = m[IAT]
        EAR_CLAIMS.require(isinstance(iat, int) and not isinstance(iat, bool), "iat must be an integer")
        vid = m[EAR_VERIFIER_ID]
        EAR_CLAIMS.require(isinstance(vid, dict) and set(vid) == {0, 1}
                           and all(isinstance(x, str) for x in vid.values()),
                           "ear_verifier_id must be {0: developer, 1: build}")
        subs = m[SUBMODS]
        EAR_CLAIMS.require(isinstance(subs, dict) and len(subs) >= 1 and all(isinstance(k, str) for k in subs),
                           "submods must be a non-empty map with text labels")
        submods = {k: Appraisal.from_map(v) for k, v in subs.items()}
        status = _tier(m[EAR_STATUS]) if EAR_STATUS in m else None
        if status is not None:
            EAR_STATUS_BOUND.require(status.badness >= worst(a.status for a in submods.values()).badness,
                                     "top-level ear_status is better than a submod status")
        exp = m.get(EXP)
        EAR_CLAIMS.require(exp is None or (isinstance(exp, int) and not isinstance(exp, bool)),
                           "exp must be an integer")
        nonce = m.get(EAT_NONCE)
        if nonce is not None:
            _check_nonce(nonce)
        raw = m.get(EAR_RAW_EVIDENCE)
        EAR_CLAIMS.require(raw is None or isinstance(raw, bytes), "ear_raw_evidence must be bytes")
        appraisal_id = None
        if EXPAT_EAR_EXT in m:
            ext = m[EXPAT_EAR_EXT]
            EAR_CLAIMS.require(isinstance(ext, dict) and set(ext) == {"appraisal_id"}
                               and isinstance(ext["appraisal_id"], bytes)
                               and len(ext["appraisal_id"]) == APPRAISAL_ID_LENGTH,
                               f"expat EAR extension must be {{\"appraisal_id\": bstr .size {APPRAISAL_ID_LENGTH}}}")
            appraisal_id = ext["appraisal_id"]
        known = {EAT_PROFILE, IAT, EAR_VERIFIER_ID, SUBMODS, EAR_STATUS, EXP, EAT_NONCE, EAR_RAW_EVIDENCE,
                 EXPAT_EAR_EXT}
        for k, v in m.items():
            if k not in known:  # $$ear-extension: any extension MUST be a map (§3)
                EAR_CLAIMS.require(isinstance(v, dict), f"EAR extension {k!r} is not a map")
        return cls(iat, (vid[0], vid[1]), submods, status, exp, nonce, raw, appraisal_id)


def _tier(v: object) -> Tier:
    EAR_CLAIMS.require(isinstance(v, int) and not isinstance(v, bool) and v in {t.value for t in Tier},
                       f"ear_status {v!r} is not a trustworthiness tier (0, 2, 32, 96)")
    return Tier(v)


def _check_nonce(n: object) -> None:
    ok = isinstance(n, bytes) and 8 <= len(n) <= 64
    if isinstance(n, list):
        ok = len(n) >= 2 and all(isinstance(x, bytes) and 8 <= len(x) <= 64 for x in n)
    EAR_CLAIMS.require(ok, "eat_nonce must be 8..64 bytes or an array of them")


def sign_ear(ear: EAR, verifier_key) -> bytes:
    """The EAR as a CWT: COSE_Sign1 (tag 18) signed by the Verifier key."""
    return cose.sign1(verifier_key, cbor2.dumps(ear.to_map()))


def wrap_ear(signed: bytes, media_type: str = "ear-03", serialization: str = "cbor") -> bytes:
    """A CMW record carrying the EAR (passport model), ind = Attestation Results."""
    return cmw.encode(cmw.Record(cmw.EAR_MEDIA_TYPES[media_type], signed, cmw.IND_ATTESTATION_RESULTS),
                      serialization)


def unwrap_ear(data: bytes, *, allow_bare: bool = True) -> cose.Sign1:
    """A CMW record holding a signed EAR, or (``allow_bare``, API use) a bare COSE_Sign1 (first byte 0xd2
    or 0x84). Where the draft requires a CMW (passport cmw_data, §3) callers pass ``allow_bare=False``
    and the CMW decoder refuses anything else."""
    EAR_WRAPPER.require(isinstance(data, (bytes, bytearray)) and len(data) > 0, "empty EAR")
    if allow_bare and data[0] in (0xD2, 0x84):
        return cose.decode_sign1(bytes(data))
    record = cmw.single_record(cmw.decode(bytes(data))[0], ind=cmw.IND_ATTESTATION_RESULTS)
    EAR_WRAPPER.require(isinstance(record.type, str)
                        and cmw.base_media_type(record.type) in ("application/eat-cwt", "application/eat+cwt")
                        and cmw.media_type_param(record.type, "eat_profile") == EAR_PROFILE,
                        f"record type {record.type!r} is not an EAR media type")
    return cose.decode_sign1(record.value)


def verify_ear_signature(data: bytes, verifier_public_key, *, allow_bare: bool = True) -> EAR:
    """Unwrap, verify the Verifier's signature and decode the claims (strict)."""
    msg = cose.verify_sign1(unwrap_ear(data, allow_bare=allow_bare), verifier_public_key)
    return EAR.from_map(cbor.loads(msg.payload))
