"""Binding and AIK_pub_hash (draft -02 §5.1, §5.2) against hand-computed values."""

import expat  # noqa: F401

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from expat.errors import IllegalParameter
from expat.profile import DEFAULT, PROFILES
from expat.reference import pki
from expat.reference.attestation import binding as B
from expat.reference.keyschedule import SHA256, SHA384, SecretExporter

CTX = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
NONCE = bytes(range(8, 40))


def _hkdf_expand(name, prk, info, length):
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), name).digest()
        out += t
        i += 1
    return out[:length]


def _label(label, context, length):
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return info


def _exporter(name, secret, label, context, length):
    """RFC 8446 §7.5 by hand: HKDF-Expand-Label(Derive-Secret(S, label, ""), "exporter", H(ctx), L)."""
    hlen = hashlib.new(name).digest_size
    empty = hashlib.new(name, b"").digest()
    derived = _hkdf_expand(name, secret, _label(label, empty, hlen), hlen)
    return _hkdf_expand(name, derived, _label(b"exporter", hashlib.new(name, context).digest(), length), length)


def _secret(name):
    return bytes(range(hashlib.new(name).digest_size))


KEY = pki.derive_key("p256", b"binding-test-aik")
SPKI = KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
RAW = KEY.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@pytest.mark.parametrize("hname,hash_alg", [("sha256", SHA256), ("sha384", SHA384)])
def test_default_binding_matches_hand_computation(hname, hash_alg):
    ex = SecretExporter(hash_alg, _secret(hname))
    ev = _exporter(hname, _secret(hname), b"Attestation", CTX, 32)
    assert B.exported_value(ex, DEFAULT, CTX) == ev
    expected = hashlib.new(hname, SPKI + ev).digest()
    assert B.compute_binding(ex, DEFAULT, CTX, KEY.public_key()) == expected
    assert B.binding(hash_alg, DEFAULT, SPKI, ev) == expected
    assert B.aik_pub_hash(hash_alg, DEFAULT, KEY) == hashlib.new(hname, SPKI).digest()
    assert len(expected) == hash_alg.length


def test_spki_encoding_is_the_certificate_spki():
    ident = pki.make_identity("p256", seed="binding-cert")
    cert = ident.leaf
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert B.public_key_bytes(cert, DEFAULT) == spki
    assert spki[0] == 0x30 and len(spki) == 91  # P-256 SPKI: SEQUENCE of 91 bytes
    assert B.public_key_bytes(cert, PROFILES["raw-public-key"])[:1] == b"\x04"
    assert len(B.public_key_bytes(cert, PROFILES["raw-public-key"])) == 65
    with pytest.raises(TypeError):
        B.public_key_bytes(spki, DEFAULT)


def test_each_setting_changes_the_value_as_specified():
    name, ex = "sha256", SecretExporter(SHA256, _secret("sha256"))
    base = B.compute_binding(ex, DEFAULT, CTX, KEY)

    # exporter_label "Attestation Binding" (§4)
    p = PROFILES["label-attestation-binding"]
    ev = _exporter(name, _secret(name), b"Attestation Binding", CTX, 32)
    assert B.compute_binding(ex, p, CTX, KEY) == hashlib.sha256(SPKI + ev).digest() != base

    # raw public key encoding
    p = PROFILES["raw-public-key"]
    ev32 = _exporter(name, _secret(name), b"Attestation", CTX, 32)
    assert B.compute_binding(ex, p, CTX, KEY) == hashlib.sha256(RAW + ev32).digest() != base
    assert B.aik_pub_hash(SHA256, p, KEY) == hashlib.sha256(RAW).digest()

    # exporter length = Hlen (SHA-384 suite: 48) and 64 (Rust)
    ex384 = SecretExporter(SHA384, _secret("sha384"))
    ev48 = _exporter("sha384", _secret("sha384"), b"Attestation", CTX, 48)
    assert B.exported_value(ex384, PROFILES["exporter-hlen"], CTX) == ev48
    assert B.exported_value(ex384, DEFAULT, CTX) == _exporter("sha384", _secret("sha384"), b"Attestation", CTX, 32)
    assert B.exported_value(ex, PROFILES["exporter-hlen"], CTX) == ev32  # Hlen = 32 for SHA-256

    # -01 formula: H(nonce || pk || ev), with and without a Verifier nonce
    p = PROFILES["binding-01"]
    assert B.compute_binding(ex, p, CTX, KEY, nonce=NONCE) == hashlib.sha256(NONCE + SPKI + ev32).digest()
    assert B.compute_binding(ex, p, CTX, KEY) == base  # empty nonce: same bytes as -02
    # the nonce does not enter the -02 formula
    assert B.compute_binding(ex, DEFAULT, CTX, KEY, nonce=NONCE) == base

    # raw exporter as binding (-01 sentence / Rust), 64 bytes with "Attestation Binding"
    p = PROFILES["rust-compat"]
    assert B.compute_binding(ex, p, CTX, KEY) == _exporter(name, _secret(name), b"Attestation Binding", CTX, 64)

    # mitigation off: public key left out
    p = DEFAULT.with_mitigations(include_public_key_in_binding=False)
    assert B.compute_binding(ex, p, CTX, KEY) == hashlib.sha256(ev32).digest() != base

    # context and secret matter
    assert B.compute_binding(ex, DEFAULT, CTX[:-1], KEY) != base
    assert B.compute_binding(SecretExporter(SHA256, bytes(32)), DEFAULT, CTX, KEY) != base


def test_receiver_checks():
    ex = SecretExporter(SHA256, _secret("sha256"))
    good = B.compute_binding(ex, DEFAULT, CTX, KEY)
    other_label = B.compute_binding(ex, PROFILES["label-attestation-binding"], CTX, KEY)
    strict = B.acceptable_bindings(ex, DEFAULT, CTX, KEY)
    assert strict == [B.Candidate(DEFAULT.exporter_label, good)]
    B.check_binding(DEFAULT, good, strict)
    with pytest.raises(IllegalParameter) as e:
        B.check_binding(DEFAULT, other_label, strict)
    assert e.value.check == "expat02-5.1-binding-match"
    with pytest.raises(IllegalParameter):
        B.check_binding(DEFAULT, None, strict)
    lenient = DEFAULT.with_mitigations(check_exporter_label=False)
    lenient_candidates = B.acceptable_bindings(ex, lenient, CTX, KEY)
    B.check_binding(lenient, other_label, lenient_candidates)
    matched = B.matched_candidate(other_label, lenient_candidates)
    assert matched.binding == other_label and matched.label == PROFILES["label-attestation-binding"].exporter_label
    assert B.matched_candidate(b"x" * 32, lenient_candidates) == lenient_candidates[0]
    B.check_binding(DEFAULT.with_mitigations(check_binding=False), b"x" * 32, strict)

    h = B.aik_pub_hash(SHA256, DEFAULT, KEY)
    B.check_aik_pub_hash(DEFAULT, h, h)
    other = B.aik_pub_hash(SHA256, DEFAULT, ec.generate_private_key(ec.SECP256R1()))
    for bad in (other, None, h[:-1]):
        with pytest.raises(IllegalParameter) as e:
            B.check_aik_pub_hash(DEFAULT, bad, h)
        assert e.value.check == "expat02-5.2-aik-pub-hash"
    B.check_aik_pub_hash(DEFAULT.with_mitigations(check_aik_pub_hash=False), other, h)


def test_context_length_limit():
    ex = SecretExporter(SHA256, _secret("sha256"))
    B.exported_value(ex, DEFAULT, bytes(255))
    with pytest.raises(ValueError):
        B.exported_value(ex, DEFAULT, bytes(256))


def test_ed25519_and_p384_keys():
    for kind, rawlen in (("ed25519", 32), ("p384", 97)):
        k = pki.derive_key(kind, b"x")
        raw = B.public_key_bytes(k, PROFILES["raw-public-key"])
        assert len(raw) == rawlen
        spki = B.public_key_bytes(k, DEFAULT)
        assert spki.endswith(raw)  # the BIT STRING contents close the SPKI
        assert B.aik_pub_hash(SHA384, DEFAULT, k) == hashlib.sha384(spki).digest()
