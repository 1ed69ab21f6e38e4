"""The attestation binder and AIK_pub_hash (draft -02 §5.1, §5.2; DIGEST §3.4).

    exported_value = TLS-Exporter(label, certificate_request_context, length)
    binding        = H(public_key || exported_value)            (-02, default)
    AIK_pub_hash   = H(AIK public key)

H is the hash of the negotiated cipher suite. Every choice the draft leaves open (label, length,
public-key encoding, formula) comes from the :class:`~expat.profile.Profile`.
"""

from __future__ import annotations

import hmac
from typing import NamedTuple, Sequence

from cryptography import x509

from expat.checks import check
from expat.errors import Alert
from expat.profile import EXPORTER_LABELS, Profile
from expat.reference import pki
from expat.reference.keyschedule import Exporter, HashAlg

BINDING_MATCH = check("expat02-5.1-binding-match", "draft-fossati-seat-expat-02 §5.1", Alert.illegal_parameter,
                      "the binding carried in the Evidence equals the binding the receiver computes for its "
                      "connection, certificate_request_context and the EA end-entity key")
# draft -04 §5.1: the receiving endpoint compares the binding itself ("local") or delegates the comparison
# to the Verifier, conveying the binding it computed ("delegated"; profile binding_check).
BINDING_MATCH_04 = check("expat04-5.1-binding-match", "draft-fossati-seat-expat-04 §5.1", Alert.illegal_parameter,
                         "comparing locally, the receiver rejects Evidence whose binding differs from the one it "
                         "computes with the label EXPORTER-cmw-attestation for its connection, context and EA key")
DELEGATED_BINDING_MATCH = check("expat04-5.1-delegated-binding-match", "draft-fossati-seat-expat-04 §5.1",
                                Alert.illegal_parameter,
                                "a Verifier the comparison is delegated to confirms only a conveyed binding equal "
                                "to the binding in the Evidence")
BINDING_CONFIRMED = check("expat04-5.1-binding-confirmed", "draft-fossati-seat-expat-04 §5.1", Alert.illegal_parameter,
                          "delegating, the Relying Party accepts only an Attestation Result in which the Verifier "
                          "confirms the very binding the Relying Party conveyed")
AIK_PUB_HASH_MATCH = check("expat02-5.2-aik-pub-hash", "draft-fossati-seat-expat-02 §5.2", Alert.illegal_parameter,
                           "the Evidence carries AIK_pub_hash and it equals the suite hash of the EA "
                           "end-entity public key")


def exporter_length(hash: HashAlg, profile: Profile) -> int:
    """32 (§5.1), Hlen ("hash") or 64 ("64", Rust implementation)."""
    return {"32": 32, "hash": hash.length, "64": 64}[profile.exporter_length]


def exported_value(exporter: Exporter, profile: Profile, ctx: bytes, *, label: str | None = None) -> bytes:
    """TLS-Exporter(profile.exporter_label, certificate_request_context, length) (§5.1)."""
    if not 0 <= len(ctx) <= 255:
        raise ValueError("certificate_request_context is 0..255 bytes (RFC 9261 §4)")
    label = profile.exporter_label if label is None else label
    return exporter.export(label.encode("ascii"), ctx, exporter_length(exporter.hash, profile))


def public_key_bytes(key_or_cert: object, profile: Profile) -> bytes:
    """The "public_key" of §5.1/§5.2 in the profile's encoding (DIGEST §3.8 #4)."""
    if isinstance(key_or_cert, bytes):
        raise TypeError("pass a key or certificate, not bytes")
    if isinstance(key_or_cert, x509.Certificate):
        key_or_cert = key_or_cert.public_key()
    if profile.public_key_encoding == "spki":
        return pki.spki_der(key_or_cert)
    return pki.raw_public_key(key_or_cert)


def binding(hash: HashAlg, profile: Profile, public_key_bytes: bytes, exported_value: bytes,
            nonce: bytes = b"") -> bytes:
    """The binding value per ``profile.binding_formula``.

    "02": H(public_key || exported_value); "01": H(nonce || public_key || exported_value), where the
    nonce is the Verifier nonce (background check) or empty; "exporter": exported_value itself.
    ``nonce`` only enters the "01" formula. With mitigation include_public_key_in_binding off the
    public key is left out of the hash (attack demos).
    """
    pk = public_key_bytes if profile.mitigations.include_public_key_in_binding else b""
    if profile.binding_formula == "02":
        return hash.digest(pk + exported_value)
    if profile.binding_formula == "01":
        return hash.digest(nonce + pk + exported_value)
    return exported_value


def aik_pub_hash(hash: HashAlg, profile: Profile, key: object) -> bytes:
    """AIK_pub_hash = H(AIK public key) with the suite hash (§5.2), same encoding as the binding."""
    return hash.digest(public_key_bytes(key, profile))


def compute_binding(exporter: Exporter, profile: Profile, ctx: bytes, aik: object, nonce: bytes = b"",
                    *, label: str | None = None) -> bytes:
    """exported_value + binding in one step, for the attester and the receiver alike."""
    ev = exported_value(exporter, profile, ctx, label=label)
    return binding(exporter.hash, profile, public_key_bytes(aik, profile), ev, nonce)


def acceptable_labels(profile: Profile) -> list[str]:
    """Exporter labels the receiver accepts, the profile's first: only with mitigation
    check_exporter_label off also the draft's other label (§4 vs §5.1)."""
    labels = [profile.exporter_label]
    if not profile.mitigations.check_exporter_label:
        labels += [label for label in EXPORTER_LABELS if label != profile.exporter_label]
    return labels


class Candidate(NamedTuple):
    """A binding the receiver accepts, with the exporter label it was computed under."""
    label: str
    binding: bytes


def acceptable_bindings(exporter: Exporter, profile: Profile, ctx: bytes, aik: object,
                        nonce: bytes = b"") -> list[Candidate]:
    """What the receiver accepts: the binding under each of :func:`acceptable_labels`, in that order."""
    return [Candidate(label, compute_binding(exporter, profile, ctx, aik, nonce, label=label))
            for label in acceptable_labels(profile)]


def matched_candidate(value: bytes | None, acceptable: Sequence[Candidate]) -> Candidate:
    """The candidate ``value`` equals; the receiver's own (the first) when it equals none."""
    return next((c for c in acceptable if matches(value, [c.binding])), acceptable[0])


def matches(value: bytes | None, candidates: Sequence[bytes]) -> bool:
    """Constant-time membership of ``value`` in ``candidates``."""
    if not isinstance(value, bytes):
        return False
    hit = False
    for c in candidates:
        hit |= hmac.compare_digest(value, c)
    return hit


def check_binding(profile: Profile, evidence_binding: bytes | None, acceptable: Sequence[Candidate]) -> None:
    """Receiver-side binding check (§5.1); skipped only when mitigation check_binding is off."""
    if not profile.mitigations.check_binding:
        return
    (BINDING_MATCH_04 if profile.revision == "04" else BINDING_MATCH).require(matches(evidence_binding, [c.binding for c in acceptable]),
                          "Evidence binding does not match this connection and request")


def check_aik_pub_hash(profile: Profile, evidence_aik_pub_hash: bytes | None, expected: bytes) -> None:
    """Receiver-side AIK_pub_hash check (§5.2); skipped only when mitigation check_aik_pub_hash is off."""
    if not profile.mitigations.check_aik_pub_hash:
        return
    AIK_PUB_HASH_MATCH.require(evidence_aik_pub_hash is not None, "Evidence has no AIK_pub_hash")
    AIK_PUB_HASH_MATCH.require(matches(evidence_aik_pub_hash, [expected]),
                               "AIK_pub_hash does not match the EA end-entity key")
