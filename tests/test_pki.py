"""Deterministic identities and the literal chain validator (pki.py).

The validator's verdicts are cross-checked against the system `openssl verify`
(OpenSSL 3.0, independent of the OpenSSL 4 bundled with pyOpenSSL/cryptography).
"""

import expat  # noqa: F401  (configures OpenSSL first)

import datetime as dt
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from expat.errors import Alert, BadCertificate
from expat.reference import pki

KINDS = pki.KEY_KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_bytes_other_seed_other_bytes(kind):
    a = pki.make_identity(kind, seed="s1")
    b = pki.make_identity(kind, seed="s1")
    c = pki.make_identity(kind, seed="s2")
    assert a.chain_der(include_root=True) == b.chain_der(include_root=True)
    assert a.key_pem() == b.key_pem()
    assert a.leaf.public_bytes(serialization.Encoding.DER) != c.leaf.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize("kind", KINDS)
def test_leaf_key_matches_certificate(kind):
    ident = pki.make_identity(kind)
    assert pki.spki_der(ident.key) == pki.spki_der(ident.leaf)
    assert pki.key_kind(ident.leaf.public_key()) == kind


def test_raw_public_key_layouts():
    p256 = pki.make_identity("p256")
    raw = pki.raw_public_key(p256.leaf)
    assert len(raw) == 65 and raw[0] == 0x04
    ed = pki.make_identity("ed25519")
    assert len(pki.raw_public_key(ed.leaf)) == 32
    # the SPKI DER ends with the raw key (BIT STRING contents, no unused bits)
    assert pki.spki_der(p256.leaf).endswith(raw)


@pytest.mark.parametrize("kind", KINDS)
def test_valid_chain_accepted(kind):
    ident = pki.make_identity(kind)
    certs = pki.ChainValidator([ident.root])(ident.chain_der())
    assert [c.subject for c in certs] == [c.subject for c in ident.chain[:-1]]


def _fails(check_id, validator, chain):
    with pytest.raises(BadCertificate) as e:
        validator(chain)
    assert e.value.check == check_id
    assert e.value.alert is Alert.bad_certificate


def test_unknown_anchor_rejected():
    ident = pki.make_identity("p256", seed="a")
    other = pki.make_identity("p256", seed="b")
    _fails("pkix-trust-anchor", pki.ChainValidator([other.root]), ident.chain_der())


def test_expired_rejected():
    ident = pki.make_identity("p256")
    late = dt.datetime(2040, 1, 1, tzinfo=dt.timezone.utc)
    _fails("pkix-validity", pki.ChainValidator([ident.root], at=late), ident.chain_der())


def test_swapped_order_rejected():
    ident = pki.make_identity("p256")
    leaf, inter = ident.chain_der()
    # the first entry is the end entity (RFC 8446 §4.4.2): a CA certificate there is refused
    _fails("pkix-leaf-key-usage", pki.ChainValidator([ident.root]), [inter, leaf])


def test_tampered_signature_rejected():
    ident = pki.make_identity("p256")
    leaf = bytearray(ident.chain_der()[0])
    leaf[-3] ^= 0x01  # inside the signature value
    _fails("pkix-issuer-link", pki.ChainValidator([ident.root]), [bytes(leaf), ident.chain_der()[1]])


def test_leaf_cannot_issue():
    ident = pki.make_identity("p256")
    rogue_key = pki.derive_key("p256", b"rogue")
    rogue = pki.issue_certificate(subject_cn="rogue", subject_key=rogue_key.public_key(), issuer_cn="endpoint",
                                  issuer_key=ident.key, ca=False)
    der = lambda c: c.public_bytes(serialization.Encoding.DER)  # noqa: E731
    _fails("pkix-ca-constraints", pki.ChainValidator([ident.root]), [der(rogue)] + ident.chain_der())


def test_garbage_rejected_with_typed_error():
    ident = pki.make_identity("p256")
    _fails("pkix-parse", pki.ChainValidator([ident.root]), [b"\x30\x03\x02\x01\x01"])
    _fails("pkix-nonempty", pki.ChainValidator([ident.root]), [])


@pytest.mark.skipif(shutil.which("openssl") is None, reason="system openssl CLI not installed")
@pytest.mark.parametrize("kind", KINDS)
def test_openssl_cli_agrees(tmp_path, kind):
    """An independent implementation (openssl verify) accepts what we accept and rejects a foreign anchor."""
    ident = pki.make_identity(kind)
    other = pki.make_identity(kind, seed="other")
    (tmp_path / "root.pem").write_bytes(ident.root_pem())
    (tmp_path / "other.pem").write_bytes(other.root_pem())
    (tmp_path / "inter.pem").write_bytes(ident.chain[1].public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(ident.leaf.public_bytes(serialization.Encoding.PEM))
    base = ["openssl", "verify", "-attime", "1780000000", "-untrusted", str(tmp_path / "inter.pem")]
    ok = subprocess.run(base + ["-CAfile", str(tmp_path / "root.pem"), str(tmp_path / "leaf.pem")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run(base + ["-CAfile", str(tmp_path / "other.pem"), str(tmp_path / "leaf.pem")],
                         capture_output=True, text=True)
    assert bad.returncode != 0
    with pytest.raises(BadCertificate):
        pki.ChainValidator([other.root])(ident.chain_der())


def test_every_single_bit_flip_of_a_leaf_is_rejected_with_a_typed_error():
    """Corrupt certificates fail as bad_certificate (cryptography parses some fields lazily)."""
    ident = pki.make_identity("p256")
    leaf, inter = ident.chain_der()
    validator = pki.ChainValidator([ident.root])
    for pos in range(0, len(leaf), 3):
        mutated = bytearray(leaf)
        mutated[pos] ^= 0x10
        with pytest.raises(BadCertificate):
            validator([bytes(mutated), inter])
