"""The Verifier's appraisal of TPM Evidence (docs/tpm.md; draft §5.1, §5.2, §7; RFC 9334 §5.2).

Hard failures (raise, like forged EAT Evidence): malformed Evidence or TPM structures, an AK chain
that does not lead to a trust anchor, an AK that is not a restricted TPM-resident signing key, a bad
quote/certify signature, wrong magic or attestation type, a qualifiedSigner that is not the AK, a
certify that is not about the AIK in the Evidence. Policy failures (signed EAR, contraindicated,
the check id as the reason): qualifyingData, PCRs vs event log and reference values, AIK
attributes, and the certified AIK vs AIK_pub_hash and the EA end-entity key.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Callable, Mapping, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from expat.checks import Check, check
from expat.errors import Alert
from expat.profile import Profile
from expat.reference import pki
from expat.reference.attestation import binding as binding_mod
from expat.reference.attestation import eat
from expat.reference.attestation.tpm import evidence as ev
from expat.reference.attestation.tpm import structures as st

P2 = "TPM 2.0 Library Part 2"
P3 = "TPM 2.0 Library Part 3"

TPM_AK = check("tpm2-ak-key", f"{P2} §8.3.3, §12.2.4", Alert.bad_certificate,
               "the AK is a restricted, fixedTPM, fixedParent, sensitiveDataOrigin signing key and its public "
               "area is the key of the AK certificate")
TPM_SIGNATURE = check("tpm2-attest-signature", f"{P3} §18.2, §18.4", Alert.decrypt_error,
                      "the quote and the certify structure are signed by the AK (ECDSA P-256 SHA-256)")
TPM_MAGIC = check("tpm2-attest-magic", f"{P2} §6.2, §10.12.12", Alert.illegal_parameter,
                  "TPMS_ATTEST.magic is TPM_GENERATED_VALUE (the TPM made the structure)")
TPM_ATTEST_TYPE = check("tpm2-attest-type", f"{P2} §6.9, §10.12.10, §10.12.12", Alert.illegal_parameter,
                        "the quote is TPM_ST_ATTEST_QUOTE and the certify structure TPM_ST_ATTEST_CERTIFY")
TPM_QUALIFIED_SIGNER = check("tpm2-attest-signer", f"{P2} §10.12.12; Part 1 §16", Alert.illegal_parameter,
                             "qualifiedSigner of both structures is the Qualified Name of the AK")
TPM_CERTIFIED_NAME = check("tpm2-certify-name", f"{P3} §18.2; {P2} §10.12.3; Part 1 §16", Alert.illegal_parameter,
                           "the certify structure names the AIK public area carried in the Evidence")
TPM_EXTRA_DATA = check("tpm2-attest-extra-data", f"{P2} §10.12.12; draft-fossati-seat-expat-02 §5.1, §5.2",
                       Alert.illegal_parameter,
                       "extraData of the quote and of the certify structure is the qualifyingData derived from "
                       "this binding and AIK_pub_hash (docs/tpm.md)")
TPM_EVENT_LOG = check("expat-tpm-event-log", f"{P3} §22.2, §18.4; {P2} §10.12.4", Alert.illegal_parameter,
                      "the event log names each component once and replays to the quoted SHA-256 PCR selection "
                      "and pcrDigest")
TPM_PCR_REFERENCE = check("tpm2-quote-pcr-digest", f"{P3} §18.4; {P2} §10.12.4; RFC 9334 §8.3",
                          Alert.illegal_parameter,
                          "the quoted pcrDigest equals the digest of the PCRs the reference values produce")
TPM_AIK_ATTRIBUTES = check("tpm2-certify-aik-attributes", f"{P2} §8.3.3; draft-fossati-seat-expat-02 §7",
                           Alert.illegal_parameter,
                           "the certified AIK is a fixedTPM, fixedParent, sensitiveDataOrigin signing key: "
                           "generated in the TPM and not exportable")
TPM_CERTIFIED_AIK = check("expat-tpm-certified-aik", "draft-fossati-seat-expat-02 §5.2, §7", Alert.illegal_parameter,
                          "AIK_pub_hash of the certified AIK (suite hash, profile public_key_encoding) equals the "
                          "Evidence's AIK_pub_hash and the hash of the EA end-entity key")

AK_REQUIRED = (st.RESTRICTED | st.SIGN_ENCRYPT | st.FIXED_TPM | st.FIXED_PARENT | st.SENSITIVE_DATA_ORIGIN)
AIK_REQUIRED = (st.SIGN_ENCRYPT | st.FIXED_TPM | st.FIXED_PARENT | st.SENSITIVE_DATA_ORIGIN)

Policy = Callable[[Check, bool, str], None]


def _verify(public: st.EccPublic, signature: bytes, data: bytes, what: str) -> None:
    _, der = st.parse_ecdsa_signature(signature)
    try:
        public.public_key().verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        TPM_SIGNATURE.fail(f"the {what} signature does not verify under the AK")


def _quotes(quote: st.Attest, pcrs: dict[int, bytes]) -> bool:
    """The quote selects exactly these SHA-256 PCRs and its pcrDigest is their digest (Part 3 §18.4)."""
    return (quote.pcr_select == ((st.ALG_SHA256, tuple(sorted(pcrs))),)
            and quote.pcr_digest == ev.pcr_digest(pcrs))


def appraise_tpm(evidence_cmw: bytes, *, trust_anchors: Sequence[x509.Certificate],
                 reference_values: Mapping[str, bytes], profile: Profile, now: float, policy: Policy,
                 checks: dict[str, str], expected_aik_pub_hash: bytes | None) -> eat.EvidenceClaims:
    """Appraise TPM Evidence; records results through ``policy`` / ``checks`` and returns the claims
    the common Verifier steps use (binding, AIK_pub_hash of the *certified* AIK, measurements)."""
    e = ev.decode(evidence_cmw)
    ak, aik = st.parse_public(e.ak_public), st.parse_public(e.aik_public)
    quote, cert = st.parse_attest(e.quote), st.parse_attest(e.certify)

    if profile.mitigations.check_evidence_signature:
        at = _dt.datetime.fromtimestamp(int(now), tz=_dt.timezone.utc)
        certs = pki.ChainValidator(list(trust_anchors), at=at, use="evidence-signer")(list(e.ak_x5chain))
        TPM_AK.require(pki.spki_der(certs[0].public_key()) == pki.spki_der(ak.public_key()),
                       "the AK certificate is not for the AK public area in the Evidence")
        TPM_AK.require(ak.has(AK_REQUIRED) and not ak.has(st.DECRYPT),
                       f"AK attributes 0x{ak.attributes:08x} lack restricted/sign/fixedTPM/fixedParent/"
                       "sensitiveDataOrigin")
        _verify(ak, e.quote_sig, e.quote, "quote")
        _verify(ak, e.certify_sig, e.certify, "certify")
        checks["rfc9360-2-x5chain"] = checks[TPM_AK.id] = checks[TPM_SIGNATURE.id] = "pass"
    else:
        checks[TPM_SIGNATURE.id] = "skipped"

    TPM_MAGIC.require(quote.magic == st.TPM_GENERATED_VALUE and cert.magic == st.TPM_GENERATED_VALUE,
                      "TPMS_ATTEST.magic is not TPM_GENERATED_VALUE")
    TPM_ATTEST_TYPE.require(quote.type == st.TPM_ST_ATTEST_QUOTE, f"quote has type 0x{quote.type:04x}")
    TPM_ATTEST_TYPE.require(cert.type == st.TPM_ST_ATTEST_CERTIFY, f"certify has type 0x{cert.type:04x}")
    TPM_QUALIFIED_SIGNER.require(quote.qualified_signer == ak.qualified_name()
                                 and cert.qualified_signer == ak.qualified_name(),
                                 "qualifiedSigner is not the AK's Qualified Name")
    TPM_CERTIFIED_NAME.require(cert.certified_name == aik.name, "the certify structure is about another object")
    for c in (TPM_MAGIC, TPM_ATTEST_TYPE, TPM_QUALIFIED_SIGNER, TPM_CERTIFIED_NAME):
        checks[c.id] = "pass"

    # freshness and binding (draft §5.1, §5.2): qualifyingData commits to both
    qd = ev.qualifying_data(e.binding, e.aik_pub_hash)
    policy(TPM_EXTRA_DATA, quote.extra_data == qd and cert.extra_data == qd,
           "quote/certify extraData is not the qualifyingData of this binding and AIK_pub_hash (replayed?)")

    # PCRs: event log -> quoted PCRs; reference values -> quoted PCRs
    names = [name for _, name, _ in e.event_log]
    policy(TPM_EVENT_LOG, len(set(names)) == len(names) and _quotes(quote, ev.replay(list(e.event_log))),
           "the event log does not replay to the quoted PCRs")
    policy(TPM_PCR_REFERENCE, _quotes(quote, ev.replay(ev.measurement_log(dict(reference_values)))),
           "quoted PCR values differ from those the reference values produce")

    # the AIK: TPM-resident and non-exportable, and the key of the EA certificate (draft §5.2, §7)
    policy(TPM_AIK_ATTRIBUTES, aik.has(AIK_REQUIRED) and not aik.has(st.DECRYPT),
           f"AIK attributes 0x{aik.attributes:08x} lack sign/fixedTPM/fixedParent/sensitiveDataOrigin")
    derived = binding_mod.aik_pub_hash(ev.suite_hash_for(e.aik_pub_hash), profile, aik.public_key())
    if not binding_mod.matches(e.aik_pub_hash, [derived]):
        policy(TPM_CERTIFIED_AIK, False, "the Evidence's AIK_pub_hash is not the certified AIK's (a key outside "
                                         "the TPM?)")
    else:
        policy(TPM_CERTIFIED_AIK,
               expected_aik_pub_hash is None or binding_mod.matches(derived, [expected_aik_pub_hash]),
               "the certified AIK is not the EA end-entity key")

    ueid = bytes([eat.UEID_RAND]) + hashlib.sha256(pki.spki_der(ak.public_key())).digest()
    return eat.EvidenceClaims(binding=e.binding, aik_pub_hash=derived, ueid=ueid,
                              measurements={name: digest for _, name, digest in e.event_log},
                              iat=int(now), eat_profile=ev.TPM_EVIDENCE_PROFILE)
