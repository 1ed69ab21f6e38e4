"""The Verifier (RFC 9334 §5.2) and the Relying Party's check of an Attestation Result.

Background check (draft §3.4, §4, §5.1): the RP hands the Verifier the Evidence, the binding it
computed for its connection, the AIK_pub_hash of the EA end-entity key and (profile
context_source="verifier-nonce") the nonce it fetched from :meth:`Verifier.challenge` and used as
certificate_request_context. The Verifier cannot recompute the exporter: it compares what the RP
gives it (DIGEST §3.8 #9, #11).

Failure modes:
* malformed or forged Evidence (bad CMW/COSE/claims, broken chain, bad signature) raises the named
  check's ProtocolError (decode_error / bad_certificate / decrypt_error / illegal_parameter);
* well-formed Evidence that fails policy (measurements, binding, AIK_pub_hash, nonce) yields a signed
  EAR with status contraindicated and the failed check ids as reasons; the RP rejects it.

Delegated comparison (draft -04 §5.1, profile binding_check="delegated"): the RP does not compare the
binding itself; it asks the Verifier to (``confirm_binding``). The Verifier compares the conveyed
binding with the Evidence's (check ``expat04-5.1-delegated-binding-match``) and, when they are equal,
confirms it in the EAR (appraisal claim ``binding_confirmed``); :func:`verify_ear` with
``delegated_binding`` makes the RP refuse a result that does not confirm it
(``expat04-5.1-binding-confirmed``). Mitigation verifier_compares_binding off = the Verifier confirms
without comparing (attack demo).

Passport (draft §3.4, §4): :func:`verify_ear` checks the Verifier's signature, the status and, when
``profile.passport_binding_echo``, that the EAR echoes the RP's binding (DIGEST §3.8 #10).
"""

from __future__ import annotations

import collections
import datetime as _dt
import hashlib
import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from cryptography import x509

from expat.checks import check
from expat.errors import Alert, ProtocolError
from expat.profile import DEFAULT, Profile
from expat.reference import pki
from expat.reference.attestation import binding as binding_mod
from expat.reference.attestation import cmw, cose, eat
from expat.reference.attestation.tpm import appraisal as tpm_appraisal
from expat.reference.attestation.tpm import evidence as tpm_evidence
from expat.reference.attestation.ear import (APPRAISAL_ID_LENGTH, EAR, Appraisal, Tier, sign_ear,
                                             verify_ear_signature, wrap_ear)

VERIFIER_NONCE_FRESH = check("expat02-5.1-verifier-nonce-fresh", "draft-fossati-seat-expat-02 §5.1",
                             Alert.illegal_parameter,
                             "the Verifier accepts a nonce only if it issued it, within its lifetime, once")
MEASUREMENTS_MATCH = check("expat-verifier-measurements", "draft-fossati-seat-expat-02 §4; RFC 9334 §8.3",
                           Alert.illegal_parameter,
                           "each reference component is measured with exactly its reference value and nothing "
                           "unknown is measured")
EVIDENCE_AGE = check("expat-verifier-evidence-age", "RFC 9334 §10.1; RFC 9711 §4.3.1",
                     Alert.illegal_parameter,
                     "Evidence whose iat is older than the Verifier's maximum age, or later than its clock plus "
                     "the allowed skew, is not affirmed (explicit timekeeping, on top of the nonce)")
EAR_AFFIRMING = check("expat02-4-ar-affirming", "draft-fossati-seat-expat-02 §3.3, §4", Alert.bad_certificate,
                      "the Relying Party accepts only an Attestation Result whose status is affirming")
EAR_BINDING_ECHO = check("expat-passport-binding-echo", "draft-fossati-seat-expat-02 §4, §5.1",
                         Alert.illegal_parameter,
                         "passport model: the Attestation Result echoes the binding of this connection and "
                         "request (and the AIK_pub_hash of the EA key when the RP gives one)")
EAR_EXPIRED = check("ear03-3-exp", "draft-ietf-rats-ear-03 §3", Alert.bad_certificate,
                    "an Attestation Result past its exp is not accepted")

DEFAULT_VERIFIER_ID = ("https://expat.example/verifier", "expat 0.1.0")
DEFAULT_POLICY_ID = "https://expat.example/policy/reference-values/1"


@dataclass
class AppraisalReport:
    """What the Verifier concluded, in plain data (also in the EAR as reasons)."""

    status: Tier
    reasons: list[str] = field(default_factory=list)           # "check-id: detail"
    failures: list[ProtocolError] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)        # check id -> "pass" | "fail" | "skipped"
    claims: eat.EvidenceClaims | None = None
    binding_confirmed: bytes | None = None     # delegated comparison: the binding the EAR confirms

    @property
    def affirming(self) -> bool:
        return self.status == Tier.affirming

    def raise_for_status(self) -> None:
        """Raise the first failed check's error (the RP rejecting the appraisal)."""
        if self.failures:
            raise self.failures[0]
        EAR_AFFIRMING.require(self.affirming, f"appraisal status {self.status.name}")

    def to_dict(self) -> dict:
        d = {"status": self.status.name, "reasons": list(self.reasons), "checks": dict(self.checks)}
        if self.binding_confirmed is not None:
            d["binding_confirmed"] = self.binding_confirmed.hex()
        return d


def counter_appraisal_ids(seed: bytes) -> Callable[[], bytes]:
    """Deterministic per-appraisal identifiers: SHA-256(seed || counter), truncated. Distinct for each
    call (the counter), reproducible for a seed (golden traces). Share one generator between Verifier
    objects that stand for the same Verifier (e.g. the two connections of an attack)."""
    counter = itertools.count()
    lock = threading.Lock()

    def next_id() -> bytes:
        with lock:
            n = next(counter)
        return hashlib.sha256(b"expat-ear-appraisal-id|" + seed + b"|" + str(n).encode()).digest()[
            :APPRAISAL_ID_LENGTH]
    return next_id


def _now_dt(ts: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(int(ts), tz=_dt.timezone.utc)


class Verifier:
    """Appraises expat Evidence against a manufacturer trust anchor and reference values; signs EARs."""

    def __init__(self, trust_anchors: Sequence[x509.Certificate], reference_values: Mapping[str, bytes],
                 signing_key: pki.PrivateKey, *, verifier_id: tuple[str, str] = DEFAULT_VERIFIER_ID,
                 clock: Callable[[], float] = time.time, profile: Profile = DEFAULT,
                 policy_id: str = DEFAULT_POLICY_ID, rng: Callable[[int], bytes] = os.urandom,
                 nonce_size: int = 32, nonce_lifetime: int = 300, include_raw_evidence: bool = False,
                 appraisal_ids: Callable[[], bytes] | None = None, max_evidence_age: int | None = 300,
                 clock_skew: int = 60):
        if not 8 <= nonce_size <= 255:
            raise ValueError("nonce_size must be 8..255 (it becomes a certificate_request_context)")
        self.trust_anchors = list(trust_anchors)
        self.reference_values = dict(reference_values)
        self._key = signing_key
        self.verifier_id = verifier_id
        self.clock = clock
        self.profile = profile
        self.policy_id = policy_id
        self.rng = rng
        self.nonce_size = nonce_size
        self.nonce_lifetime = nonce_lifetime
        self.include_raw_evidence = include_raw_evidence
        # RFC 9334 §10.1: how old (seconds, by the iat claim) Evidence may be; None = no age policy.
        # The AE's and the Verifier's clocks are assumed synchronised to within ``clock_skew``.
        self.max_evidence_age = max_evidence_age
        self.clock_skew = clock_skew
        # every appraisal gets its own identifier in the EAR (random unless a generator is given)
        self.appraisal_ids = appraisal_ids or (lambda: self.rng(APPRAISAL_ID_LENGTH))
        # nonce -> expiry (issue time + lifetime), oldest first; both forget a nonce once it expired (a
        # forgotten nonce is refused as "not issued"), so memory stays flat under any number of challenges
        self._issued: collections.OrderedDict[bytes, float] = collections.OrderedDict()
        self._used: collections.OrderedDict[bytes, float] = collections.OrderedDict()
        self._lock = threading.Lock()

    def public_key(self) -> pki.PublicKey:
        return self._key.public_key()

    # --- nonces (§5.1: the request context contains the Verifier-provided nonce) -------------------

    def challenge(self) -> bytes:
        """A fresh, unpredictable, single-use nonce."""
        with self._lock:
            now = self.clock()
            self._expire_nonces(now)
            while True:
                nonce = self.rng(self.nonce_size)
                if nonce not in self._issued and nonce not in self._used:
                    break
            self._issued[nonce] = now + self.nonce_lifetime
        return nonce

    def _expire_nonces(self, now: float) -> None:
        """Drop issued and used nonces past their lifetime (caller holds the lock). Entries are in issue
        (resp. use) order, so this stops at the first live one; a used nonce may outlive its expiry by at
        most one lifetime, waiting behind a later-issued one."""
        for table in (self._issued, self._used):
            while table and next(iter(table.values())) < now:
                table.popitem(last=False)

    def nonce_table_sizes(self) -> tuple[int, int]:
        """(issued and unused, used and remembered): what the Verifier holds for replay protection."""
        with self._lock:
            return len(self._issued), len(self._used)

    def _consume_nonce(self, nonce: bytes) -> str | None:
        """Mark ``nonce`` used; returns a failure detail or None."""
        with self._lock:
            if not isinstance(nonce, bytes):
                return "nonce is not bytes"
            now = self.clock()
            if nonce in self._used:
                return "nonce already used"
            expiry = self._issued.pop(nonce, None)
            if expiry is None:
                return "nonce was not issued by this Verifier (or expired and was forgotten)"
            self._used[nonce] = expiry
            self._expire_nonces(now)
            if now > expiry:
                return "nonce expired"
        return None

    # --- appraisal ---------------------------------------------------------------------------

    def appraise(self, evidence_cmw: bytes, expected_binding: bytes | None = None, nonce: bytes | None = None,
                 expected_aik_pub_hash: bytes | None = None,
                 confirm_binding: bool = False) -> tuple[bytes, AppraisalReport]:
        """Appraise Evidence; returns (signed EAR as a CMW record, report). Raises on forged/malformed input.
        ``confirm_binding``: the Relying Party delegates the binding comparison (-04 §5.1); the EAR then
        confirms ``expected_binding`` if (and, with verifier_compares_binding, only if) it is the Evidence's."""
        if confirm_binding and expected_binding is None:
            raise ValueError("a delegated comparison needs the binding the Relying Party computed")
        report = AppraisalReport(status=Tier.affirming)
        mit = self.profile.mitigations

        def policy(c, ok: bool, detail: str) -> None:
            if ok:
                report.checks[c.id] = "pass"
                return
            report.checks[c.id] = "fail"
            try:
                c.fail(detail)
            except ProtocolError as e:
                report.failures.append(e)
                report.reasons.append(f"{c.id}: {detail}")

        # nonce first, so that it is consumed even if the Evidence turns out malformed
        if nonce is not None and mit.check_verifier_nonce:
            problem = self._consume_nonce(nonce)
            policy(VERIFIER_NONCE_FRESH, problem is None, problem or "")
        else:
            report.checks[VERIFIER_NONCE_FRESH.id] = "skipped"

        if tpm_evidence.is_tpm_evidence(evidence_cmw):   # TPM 2.0 Evidence, dispatched on its media type
            claims = tpm_appraisal.appraise_tpm(
                evidence_cmw, trust_anchors=self.trust_anchors, reference_values=self.reference_values,
                profile=self.profile, now=self.clock(), policy=policy, checks=report.checks,
                expected_aik_pub_hash=expected_aik_pub_hash if mit.check_aik_pub_hash else None)
        else:
            msg = eat.unwrap_evidence(evidence_cmw)
            if mit.check_evidence_signature:
                certs = pki.ChainValidator(self.trust_anchors, at=_now_dt(self.clock()), use="evidence-signer")(eat.x5chain(msg))
                cose.verify_sign1(msg, certs[0].public_key())
                report.checks["rfc9360-2-x5chain"] = report.checks[cose.SIGN1_SIGNATURE.id] = "pass"
            else:
                report.checks[cose.SIGN1_SIGNATURE.id] = "skipped"
            claims = eat.decode_claims(msg, self.profile.evidence_claims)
        report.claims = claims

        if self.max_evidence_age is not None:
            now = int(self.clock())
            policy(EVIDENCE_AGE, now - self.max_evidence_age <= claims.iat <= now + self.clock_skew,
                   f"iat {claims.iat} is {now - claims.iat} s before the Verifier's clock (allowed: "
                   f"{self.max_evidence_age} s old, {self.clock_skew} s ahead)")
        else:
            report.checks[EVIDENCE_AGE.id] = "skipped"

        measured, ref = claims.measurements, self.reference_values
        bad = sorted(k for k in ref if measured.get(k) != ref[k])
        unknown = sorted(set(measured) - set(ref))
        policy(MEASUREMENTS_MATCH, not bad and not unknown,
               f"components not matching reference values: {bad + unknown}")

        if confirm_binding:          # -04 §5.1: the comparison is delegated to us
            assert expected_binding is not None
            if mit.verifier_compares_binding:
                policy(binding_mod.DELEGATED_BINDING_MATCH, binding_mod.matches(claims.binding, [expected_binding]),
                       "Evidence binding differs from the binding the Relying Party conveyed")
            else:
                report.checks[binding_mod.DELEGATED_BINDING_MATCH.id] = "skipped"
            if report.checks[binding_mod.DELEGATED_BINDING_MATCH.id] != "fail":
                report.binding_confirmed = expected_binding
        elif expected_binding is not None and mit.check_binding:
            policy(binding_mod.BINDING_MATCH, binding_mod.matches(claims.binding, [expected_binding]),
                   "Evidence binding differs from the binding the Relying Party computed")
        else:
            report.checks[binding_mod.BINDING_MATCH.id] = "skipped"

        if expected_aik_pub_hash is not None and mit.check_aik_pub_hash:
            policy(binding_mod.AIK_PUB_HASH_MATCH,
                   claims.aik_pub_hash is not None and binding_mod.matches(claims.aik_pub_hash,
                                                                            [expected_aik_pub_hash]),
                   "Evidence has no AIK_pub_hash" if claims.aik_pub_hash is None
                   else "AIK_pub_hash differs from the EA end-entity key")
        else:
            report.checks[binding_mod.AIK_PUB_HASH_MATCH.id] = "skipped"

        if report.failures:
            report.status = Tier.contraindicated
        executables_ok = report.checks.get(MEASUREMENTS_MATCH.id) == "pass"
        identity_ok = report.checks.get(binding_mod.AIK_PUB_HASH_MATCH.id) != "fail"
        signed_ok = "pass" in (report.checks.get(cose.SIGN1_SIGNATURE.id),
                               report.checks.get(tpm_appraisal.TPM_SIGNATURE.id))
        vector = {"instance-identity": (2 if identity_ok else 96) if signed_ok else 0,
                  "executables": 2 if executables_ok else 96,
                  "hardware": 2 if signed_ok else 0}
        echo = [claims.binding, claims.aik_pub_hash] if (
            self.profile.evidence_claims == "nonce-array" and claims.aik_pub_hash is not None) else claims.binding
        appraisal = Appraisal(status=report.status, trust_vector=vector, policy_ids=(self.policy_id,),
                              eat_nonce=echo, reasons=tuple(report.reasons), eat_profile=claims.eat_profile,
                              aik_pub_hash=claims.aik_pub_hash, binding_confirmed=report.binding_confirmed)
        result = EAR(iat=int(self.clock()), verifier_id=self.verifier_id,
                     submods={cmw.EVIDENCE_EAT_PROFILE: appraisal}, status=report.status,
                     raw_evidence=evidence_cmw if self.include_raw_evidence else None,
                     appraisal_id=self.appraisal_ids())
        signed = sign_ear(result, self._key)
        return wrap_ear(signed, self.profile.ear_media_type, self.profile.cmw_serialization), report


# --- Relying Party side ----------------------------------------------------------------------------

def verify_ear(ear_bytes: bytes, verifier_public_key: pki.PublicKey, expected_binding: bytes | None,
               profile: Profile = DEFAULT, *, expected_aik_pub_hash: bytes | None = None,
               now: float | None = None, delegated_binding: bytes | None = None) -> EAR:
    """The Relying Party's check of an Attestation Result (draft §4 passport; also used after a
    background-check appraisal): Verifier signature, not expired, status affirming, and (profile
    passport_binding_echo) the echo of this connection's binding and, when given, AIK_pub_hash.
    ``delegated_binding`` (-04 §5.1, binding_check="delegated"): the binding the Relying Party conveyed;
    every appraisal must confirm exactly it, and the Relying Party compares nothing else itself
    (pass ``expected_binding=None``)."""
    result = verify_ear_signature(ear_bytes, verifier_public_key)
    if result.exp is not None:
        EAR_EXPIRED.require((time.time() if now is None else now) <= result.exp, "Attestation Result expired")
    EAR_AFFIRMING.require(result.overall == Tier.affirming, f"Attestation Result status {result.overall.name}")
    for name, appraisal in result.submods.items():
        EAR_AFFIRMING.require(appraisal.status == Tier.affirming, f"submod {name!r} is {appraisal.status.name}")
    if delegated_binding is not None:
        confirmed = [a.binding_confirmed for a in result.submods.values()]
        binding_mod.BINDING_CONFIRMED.require(
            bool(confirmed) and all(binding_mod.matches(c, [delegated_binding]) for c in confirmed),
            "the Attestation Result does not confirm the binding the Relying Party conveyed")
    elif profile.passport_binding_echo and profile.mitigations.check_binding:
        if expected_binding is None:
            raise ValueError("profile requires the binding echo: pass expected_binding")
        echoed = [first_nonce(a.eat_nonce) for a in result.submods.values()]
        EAR_BINDING_ECHO.require(bool(echoed) and all(binding_mod.matches(e, [expected_binding]) for e in echoed),
                                 "Attestation Result does not echo this connection's binding")
    if expected_aik_pub_hash is not None and profile.mitigations.check_aik_pub_hash:
        hashes = [a.aik_pub_hash for a in result.submods.values()]
        EAR_BINDING_ECHO.require(all(binding_mod.matches(h, [expected_aik_pub_hash]) for h in hashes),
                                 "Attestation Result is about a different AIK")
    return result


def first_nonce(nonce: bytes | list | None) -> bytes | None:
    """The first eat_nonce of an EAR appraisal (the binding echo; an array's first entry)."""
    if isinstance(nonce, list):
        return nonce[0] if nonce else None
    return nonce
