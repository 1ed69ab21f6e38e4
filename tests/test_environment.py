"""The software Attesting Environment: keys stay inside, Evidence and AIK certificates, split deployment."""

import expat  # noqa: F401

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from expat.errors import BadCertificate, DecodeError, IllegalParameter
from expat.profile import DEFAULT, PROFILES
from expat.reference import pki
from expat.reference.attestation import eat
from expat.reference.attestation.binding import aik_pub_hash
from expat.reference.attestation.environment import (FIXED_TIME, AttestingEnvironment, SoftwareAttestingEnvironment,
                                                      deterministic_environment)
from expat.reference.keyschedule import SHA256, SHA384

BINDING = b"\x42" * 32
# TLS 1.3 CertificateVerify-like input (RFC 8446 §4.4.3 layout: 64 spaces, context, 0x00, hash)
CV_INPUT = b"\x20" * 64 + b"Exported Authenticator" + b"\x00" + bytes(32)


def _claims(data):
    return cbor2.loads(cbor2.loads(cbor2.loads(data)[1]).value[2])


@pytest.mark.parametrize("kind,scheme,verify", [
    ("p256", 0x0403, lambda pub, sig, d: pub.verify(sig, d, ec.ECDSA(hashes.SHA256()))),
    ("p384", 0x0503, lambda pub, sig, d: pub.verify(sig, d, ec.ECDSA(hashes.SHA384()))),
    ("ed25519", 0x0807, lambda pub, sig, d: pub.verify(sig, d)),
])
def test_aik_signer_signs_tls_schemes(kind, scheme, verify):
    ae = deterministic_environment(seed=b"env-" + kind.encode(), aik_kind=kind)
    signer = ae.aik_signer()
    assert signer.schemes == [scheme]
    sig = signer.sign(scheme, CV_INPUT)
    verify(ae.aik_public_key(), sig, CV_INPUT)  # raises InvalidSignature if wrong
    assert signer.sign(scheme, CV_INPUT) == sig  # deterministic (RFC 6979 / Ed25519)
    assert signer.public_key() == ae.aik_public_key()
    for other in (0x0403, 0x0503, 0x0807, 0x0401, 0x0804):
        if other != scheme:
            with pytest.raises(IllegalParameter):
                signer.sign(other, CV_INPUT)


def test_no_private_key_is_reachable_from_public_attributes():
    ae = deterministic_environment()
    private = (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)
    for holder in (ae, ae.aik_signer(), ae.aik_identity()):
        for name in dir(holder):
            if not name.startswith("_"):
                assert not isinstance(getattr(holder, name), private), name


def test_aik_identity_device_ca_and_self_signed():
    ae = deterministic_environment()
    ident = ae.aik_identity()
    assert len(ident.chain) == 3 and ident.leaf.public_key() == ae.aik_public_key()
    pki.ChainValidator([ident.root])(ident.chain_der())  # raises on a broken chain
    assert len(ident.chain_der()) == 2 and len(ident.chain_der(include_root=True)) == 3
    other = deterministic_environment(seed=b"someone else")
    with pytest.raises(BadCertificate):
        pki.ChainValidator([other.aik_identity().root])(ident.chain_der())

    ss = deterministic_environment(profile=PROFILES["self-signed-aik"]).aik_identity()
    assert len(ss.chain) == 1 and ss.leaf.issuer == ss.leaf.subject
    assert ss.leaf.public_key() == ae.aik_public_key()  # same seed, same AIK
    ss.leaf.verify_directly_issued_by(ss.leaf)


def test_evidence_contents_and_determinism():
    ae = deterministic_environment()
    assert isinstance(ae, AttestingEnvironment)
    h = aik_pub_hash(SHA256, DEFAULT, ae.aik_public_key())
    ev = ae.evidence(BINDING, h)
    c = _claims(ev)
    assert c[10] == BINDING and c[-70001] == h and c[6] == FIXED_TIME
    assert ae.evidence(BINDING, hash=SHA256) == ev  # the AE computes the same AIK_pub_hash itself
    assert deterministic_environment().evidence(BINDING, h) == ev
    c384 = _claims(ae.evidence(BINDING, hash=SHA384))
    assert c384[-70001] == aik_pub_hash(SHA384, DEFAULT, ae.aik_public_key()) and len(c384[-70001]) == 48
    assert deterministic_environment(seed=b"other").evidence(BINDING, hash=SHA256) != ev
    ticking = SoftwareAttestingEnvironment(seed=b"expat", clock=lambda: 1234.9)
    assert _claims(ticking.evidence(BINDING, hash=SHA256))[6] == 1234
    # random seed by default: different devices
    assert SoftwareAttestingEnvironment().ueid != SoftwareAttestingEnvironment().ueid
    with pytest.raises(ValueError):
        ae.evidence(BINDING)
    for bad in (b"", bytes(7), bytes(65)):
        with pytest.raises(DecodeError):
            ae.evidence(bad, hash=SHA256)


def test_split_deployment_host_controls_the_binding_not_the_aik():
    ae = deterministic_environment()
    # a compromised host can get Evidence over any value it chooses ...
    for chosen in (b"\x00" * 32, b"relayed binding!" * 2):
        assert eat.decode_claims(eat.unwrap_evidence(ae.evidence(chosen, hash=SHA256))).binding == chosen
    assert [entry[1] for entry in ae.log if entry[0] == "evidence"][-2:] == [b"\x00" * 32, b"relayed binding!" * 2]
    # ... but an honest AE vouches only for its own AIK
    foreign = aik_pub_hash(SHA256, DEFAULT, pki.derive_key("p256", b"host key outside the TEE"))
    with pytest.raises(IllegalParameter) as e:
        ae.evidence(BINDING, foreign)
    assert e.value.check == "expat-ae-own-aik"
    # weaker AEs for the attack demos
    flawed = deterministic_environment(vouch_for_any_aik=True)
    assert _claims(flawed.evidence(BINDING, foreign))[-70001] == foreign
    legacy = deterministic_environment(include_aik_pub_hash=False)
    c = _claims(legacy.evidence(BINDING, hash=SHA256))
    assert -70001 not in c and eat.EvidenceClaims.from_map(c).aik_pub_hash is None


def test_measurements_override_and_reference_values():
    ae = deterministic_environment(measurements={"tls-stack": b"\x66" * 32, "attester-firmware": b"\x01" * 32})
    claims = eat.decode_claims(eat.unwrap_evidence(ae.evidence(BINDING, hash=SHA256)))
    assert claims.measurements["tls-stack"] == b"\x66" * 32
    assert ae.reference_values() != claims.measurements
    honest = deterministic_environment()
    assert eat.decode_claims(eat.unwrap_evidence(honest.evidence(BINDING, hash=SHA256))).measurements == \
        honest.reference_values()
