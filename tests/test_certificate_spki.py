"""relations.certificate_spki reads keys in cryptography's own encodings from the certificate's bytes
(docs/performance.md, ninth pass): it must answer exactly as decoding the key and encoding it back."""

from __future__ import annotations

import datetime
import json
import os
import random
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from expat.model import relations

ROOT = Path(__file__).resolve().parents[1]
SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def by_cryptography(cert_der: bytes):
    """What certificate_spki answered before: the key decoded and encoded back by cryptography."""
    try:
        return x509.load_der_x509_certificate(cert_der).public_key().public_bytes(*SPKI)
    except Exception:
        return None


def certificate(key, signer=None) -> bytes:
    signer = signer or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aik")])
    now = datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key)
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(signer, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


KEYS = {
    "p256": lambda: ec.generate_private_key(ec.SECP256R1()).public_key(),
    "p384": lambda: ec.generate_private_key(ec.SECP384R1()).public_key(),
    "p521": lambda: ec.generate_private_key(ec.SECP521R1()).public_key(),
    "secp256k1": lambda: ec.generate_private_key(ec.SECP256K1()).public_key(),
    "ed25519": lambda: ed25519.Ed25519PrivateKey.generate().public_key(),
    "ed448": lambda: ed448.Ed448PrivateKey.generate().public_key(),
    "rsa": lambda: rsa.generate_private_key(65537, 2048).public_key(),
}


def committed_certificates() -> set[str]:
    found = set()
    for path in list((ROOT / "traces").rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            try:
                args = json.loads(line).get("args", {})
            except (ValueError, AttributeError):
                continue
            if isinstance(args, dict) and isinstance(args.get("certificate"), str):
                found.add(args["certificate"])
    return found


def test_every_committed_certificate_answers_as_cryptography():
    certs = committed_certificates()
    assert len(certs) > 20
    for c in certs:
        der = bytes.fromhex(c)
        assert relations.certificate_spki(der) == by_cryptography(der)
    # the corpus's keys take the new reading, not the fallback
    assert any(relations.canonical_spki(by_cryptography(bytes.fromhex(c))) for c in certs)


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_generated_certificates_of_every_key_type(kind):
    for _ in range(3):
        key = KEYS[kind]()
        der = certificate(key)
        assert relations.certificate_spki(der) == by_cryptography(der) == key.public_bytes(*SPKI)


def _points_swapped(der: bytes, spki: bytes, rng: random.Random) -> list[bytes]:
    """The certificate with its key's bytes changed in place (so it still parses): coordinates flipped,
    set to p or all ones, the point byte made compressed or hybrid."""
    at = der.index(spki)
    out = []
    for i in (len(spki) - 1, len(spki) - 20, len(spki) // 2 + 10):
        b = bytearray(spki)
        b[i] ^= 1 << rng.randrange(8)
        out.append(bytes(b))
    prefix = next((p for p in relations._EC_SPKI if spki.startswith(p)), None)
    if prefix is not None:
        n, p, _ = relations._EC_SPKI[prefix]
        body = spki[len(prefix) + 1:]
        x, y = body[:n], body[n:]
        out += [prefix + b"\x04" + p.to_bytes(n, "big") + y, prefix + b"\x04" + x + p.to_bytes(n, "big"),
                prefix + b"\x04" + b"\xff" * (2 * n), prefix + b"\x04" + bytes(2 * n),
                prefix + b"\x06" + body, prefix + b"\x07" + body, prefix + b"\x02" + body]
    return [der[:at] + s + der[at + len(spki):] for s in out]


@pytest.mark.parametrize("kind", ["p256", "p384", "p521", "ed25519"])
def test_altered_keys_answer_as_cryptography(kind):
    rng = random.Random(kind)
    for _ in range(4):
        key = KEYS[kind]()
        der = certificate(key)
        for bad in _points_swapped(der, key.public_bytes(*SPKI), rng):
            x509.load_der_x509_certificate(bad)          # still a certificate
            assert relations.certificate_spki(bad) == by_cryptography(bad)


def test_random_points_answer_as_cryptography():
    rng = random.Random(7)
    key = KEYS["p256"]()
    der = certificate(key)
    spki = key.public_bytes(*SPKI)
    at = der.index(spki)
    prefix = spki[:-64]
    valid = 0
    for _ in range(300):
        x = rng.getrandbits(256).to_bytes(32, "big")
        # about half of the x have a point; y from the curve when there is one, else random
        n, p, b = relations._EC_SPKI[prefix[:-1]]
        rhs = (int.from_bytes(x, "big") ** 3 - 3 * int.from_bytes(x, "big") + b) % p
        y = pow(rhs, (p + 1) // 4, p)
        y = (y if y * y % p == rhs else rng.getrandbits(256)).to_bytes(32, "big")
        bad = der[:at] + prefix + x + y + der[at + len(spki):]
        got = relations.certificate_spki(bad)
        assert got == by_cryptography(bad)
        valid += got is not None
    assert 100 < valid < 250   # both answers were exercised


def test_not_certificates_and_truncations():
    der = certificate(KEYS["p256"]())
    for bad in (b"", b"\x30", der[:-1], der[:40], der + b"\x00", os.urandom(64), b"\x30\x82\xff\xff" + der[4:]):
        assert relations.certificate_spki(bad) == by_cryptography(bad)


def test_the_field_walk_finds_the_subject_public_key_info():
    for kind in sorted(KEYS):
        key = KEYS[kind]()
        assert relations._spki_field(certificate(key)) == key.public_bytes(*SPKI)
    assert relations._spki_field(b"\x30\x03\x30\x01") is None


def _mangled(der: bytes, rng: random.Random) -> bytes:
    """``der`` truncated, a byte changed (lengths and tags included), bytes cut out or put in."""
    how = rng.choice(("truncate", "flip", "cut", "insert", "tag"))
    at = rng.randrange(len(der))
    if how == "truncate":
        return der[:at]
    if how == "flip":
        return der[:at] + bytes([rng.randrange(256)]) + der[at + 1:]
    if how == "cut":
        return der[:at] + der[at + rng.randrange(1, 8):]
    if how == "insert":
        return der[:at] + os.urandom(rng.randrange(1, 4)) + der[at:]
    return der[:at] + bytes([rng.choice((0x30, 0xA0, 0x02, 0x80, 0x81, 0x82, 0xFF))]) + der[at + 1:]


def test_the_walk_in_line_equals_the_walk_of_tlv_calls():
    """_spki_field (the DER walk read in line, tenth pass) against _spki_field_by_tlv (the walk of _tlv
    calls it replaced): the committed certificates, every key type, with and without a version field, and
    20,000 mangled certificates (lengths, tags, truncations, the long forms of the length)."""
    rng = random.Random(16)
    ders = [bytes.fromhex(c) for c in sorted(committed_certificates())]
    ders += [certificate(KEYS[kind]()) for kind in sorted(KEYS)]
    ders += [b"", b"\x30", b"\x30\x00", b"\x30\x03\x30\x01", b"\x30\x80\x30\x80\xa0", b"\x30\x84\xff\xff\xff\xff"]
    for der in ders:
        assert relations._spki_field(der) == relations._spki_field_by_tlv(der)
    found = 0
    for _ in range(20_000):
        der = rng.choice(ders[:12] or ders)
        bad = _mangled(der, rng) if der else b"\x30"
        got = relations._spki_field(bad)
        assert got == relations._spki_field_by_tlv(bad), bad.hex()
        found += got is not None
    assert 1_000 < found < 19_000  # both answers exercised
