"""Fuzz targets shared by the hypothesis tests (tests/test_hardening_fuzz.py) and the atheris harness
(fuzz/run.py). Not part of the library.

Every target takes arbitrary bytes and enforces two properties:

1. **No unexpected exception**: a decoder or validator either returns or raises a
   :class:`~expat.errors.ProtocolError` (a named check with a TLS alert). Anything else is a bug.
2. **No acceptance of a mutated valid message**: for authenticated inputs (COSE_Sign1 Evidence,
   EAR, the Verifier's appraisal) an accepted input must carry exactly the signed content of the
   valid seed it was mutated from (protected header bytes, payload). Unsigned wrappings (CBOR
   encoding variants, a dropped COSE tag, media-type case) may differ; what is signed may not.

``SEEDS`` holds valid inputs per target (deterministic: fixed seeds and the fixed clock).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import expat  # noqa: F401  (before OpenSSL)
from expat.errors import ProtocolError
from expat.reference import ea, messages, pki
from expat.reference.attestation import cbor, cmw, cose, eat
from expat.reference.attestation import ear as ear_mod
from expat.reference.attestation.environment import FIXED_TIME, deterministic_environment
from expat.reference.attestation.verifier import Verifier
from expat.reference.keyschedule import SHA256, SecretExporter

BINDING = bytes(range(32))


@dataclass(frozen=True)
class World:
    """Valid messages and the keys to check them with, built once."""

    evidence_cmw: bytes          # CMW record (CBOR) holding the Evidence COSE_Sign1
    evidence_cmw_json: bytes     # the same Evidence in a JSON CMW
    evidence_cose: bytes
    aik_pub_hash: bytes
    attestation_public_key: Any
    ear_cmw: bytes               # a signed EAR in a CMW record
    ear_cose: bytes
    verifier_public_key: Any
    verifier: Verifier
    ea_keys: Any                 # RFC 9261 authenticator keys of the client (sender) role
    ea_request: bytes            # the server's CertificateRequest
    ea_authenticator: bytes      # the client's authenticator answering it (with a cmw_attestation entry)
    ea_anchor: Any


@functools.lru_cache(maxsize=1)
def world() -> World:
    ae = deterministic_environment(seed=b"fuzz-ae")
    aik_hash = ae.own_aik_pub_hash(SHA256)
    evidence_cmw = ae.evidence(BINDING, aik_hash, hash=SHA256)
    evidence_cose = eat.unwrap_evidence(evidence_cmw).encode()
    att_pub = pki.ChainValidator([ae.manufacturer_root])(eat.x5chain(eat.unwrap_evidence(evidence_cmw)))[0].public_key()
    vkey = pki.derive_key("p256", b"fuzz-verifier")
    verifier = Verifier([ae.manufacturer_root], ae.reference_values(), vkey, clock=lambda: FIXED_TIME)
    ear_cmw, report = verifier.appraise(evidence_cmw, expected_binding=BINDING, expected_aik_pub_hash=aik_hash)
    assert report.affirming, report.to_dict()
    ident = pki.make_identity("p256", seed=b"fuzz-ea", name="fuzz-ea")
    exporter = SecretExporter(SHA256, bytes(range(32)))
    server = ea.EASession(exporter, True, extra_request_extensions=[0xFFFF],
                          rng=lambda n: bytes(n))   # fixed context: byte-stable seeds
    client = ea.EASession(exporter, False)
    request = server.request([messages.signature_algorithms([0x0403]), messages.Extension(0xFFFF)])
    authenticator = client.authenticate(ident.key, ident.chain_der(), request,
                                        entry_extensions=[[messages.Extension(0xFFFF, b"\x00\x03abc")]])
    return World(ea_keys=client.keys("client"), ea_request=request, ea_authenticator=authenticator,
                 ea_anchor=ident.root,
                 evidence_cmw=evidence_cmw,
                 evidence_cmw_json=eat.wrap_evidence(evidence_cose, "json"), evidence_cose=evidence_cose,
                 aik_pub_hash=aik_hash, attestation_public_key=att_pub, ear_cmw=ear_cmw,
                 ear_cose=ear_mod.unwrap_ear(ear_cmw).encode(), verifier_public_key=vkey.public_key(),
                 verifier=verifier)


def _signed_content(msg: cose.Sign1) -> tuple[bytes, bytes]:
    return msg.protected, msg.payload


def _must_match(accepted: cose.Sign1, original: bytes, what: str) -> None:
    if _signed_content(accepted) != _signed_content(cose.decode_sign1(original)):
        raise AssertionError(f"{what}: a mutated message with different signed content was accepted")


# --- targets: each returns normally or raises ProtocolError; AssertionError = property violated ------

def t_cbor(data: bytes) -> None:
    cbor.loads(data)


def t_cmw(data: bytes) -> None:
    c, _ = cmw.decode(data)
    # a decoded CMW re-encodes (both directions of the codec agree on what they accept)
    cmw.encode(c, "json" if data[:1] in (b"[", b"{") else "cbor")


def t_cose_evidence(data: bytes) -> None:
    w = world()
    msg = cose.verify_sign1(data, w.attestation_public_key)
    _must_match(msg, w.evidence_cose, "COSE_Sign1 Evidence")


def t_eat_claims(data: bytes) -> None:
    eat.EvidenceClaims.from_map(cbor.loads(data))


def t_ear(data: bytes) -> None:
    w = world()
    result = ear_mod.verify_ear_signature(data, w.verifier_public_key)
    _must_match(ear_mod.unwrap_ear(data), w.ear_cose, "EAR")
    if result != ear_mod.verify_ear_signature(w.ear_cmw, w.verifier_public_key):
        raise AssertionError("EAR: accepted claims differ from the signed ones")


def t_ear_claims(data: bytes) -> None:
    ear_mod.EAR.from_map(cbor.loads(data))


def t_evidence_validator(data: bytes) -> None:
    """The Verifier's appraisal (background check): CMW -> COSE -> x5chain -> signature -> claims -> policy."""
    w = world()
    _, report = w.verifier.appraise(data, expected_binding=BINDING, expected_aik_pub_hash=w.aik_pub_hash)
    if report.affirming:
        _must_match(eat.unwrap_evidence(data), w.evidence_cose, "Evidence appraisal")


def t_ea_authenticator(data: bytes) -> None:
    """RFC 9261 §5.2.4 validation with chain validation: the Finished MAC covers the exact bytes, so an
    accepted authenticator must be byte-identical to the valid one."""
    w = world()
    ea.validate_authenticator(w.ea_keys, "client", w.ea_request, data, pki.ChainValidator([w.ea_anchor]))
    if data != w.ea_authenticator:
        raise AssertionError("EA: a mutated authenticator was accepted")


def t_tls_messages(data: bytes) -> None:
    for decode in (messages.decode_request, messages.Certificate.decode, messages.CertificateVerify.decode,
                   messages.Finished.decode, messages.split_handshakes):
        try:
            decode(data)
        except ProtocolError:
            pass


TARGETS: dict[str, Callable[[bytes], None]] = {
    "cbor": t_cbor, "cmw": t_cmw, "cose-evidence": t_cose_evidence, "eat-claims": t_eat_claims,
    "ear": t_ear, "ear-claims": t_ear_claims, "evidence-validator": t_evidence_validator,
    "ea-authenticator": t_ea_authenticator, "tls-messages": t_tls_messages,
}


def seeds(name: str) -> list[bytes]:
    """Valid inputs for ``name`` (the starting points of mutation)."""
    w = world()
    claims_payload = eat.unwrap_evidence(w.evidence_cmw).payload
    ear_payload = ear_mod.unwrap_ear(w.ear_cmw).payload
    return {
        "cbor": [w.evidence_cmw, claims_payload, ear_payload],
        "cmw": [w.evidence_cmw, w.evidence_cmw_json, w.ear_cmw],
        "cose-evidence": [w.evidence_cose],
        "eat-claims": [claims_payload],
        "ear": [w.ear_cmw, w.ear_cose],
        "ear-claims": [ear_payload],
        "evidence-validator": [w.evidence_cmw, w.evidence_cmw_json],
        "ea-authenticator": [w.ea_authenticator],
        "tls-messages": [w.ea_request, w.ea_authenticator],
    }[name]


def run_one(name: str, data: bytes) -> str:
    """Run target ``name`` on ``data``: "accepted" or "rejected"; raises AssertionError on a violation."""
    try:
        TARGETS[name](data)
    except ProtocolError:
        return "rejected"
    except AssertionError:
        raise
    except Exception as e:  # the property: nothing but ProtocolError escapes
        raise AssertionError(f"{name}: unexpected {type(e).__name__}: {e}") from e
    return "accepted"
