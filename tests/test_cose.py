"""COSE_Sign1 (RFC 9052) checked against RFC 6979 vectors, hand-built Sig_structure and python-cwt."""

import expat  # noqa: F401

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cwt import COSE, COSEKey

from expat.errors import DecodeError, DecryptError, IllegalParameter, ProtocolError
from expat.reference import pki
from expat.reference.attestation import cose

P256 = pki.derive_key("p256", b"cose-test")
P384 = pki.derive_key("p384", b"cose-test")
ED = pki.derive_key("ed25519", b"cose-test")
PAYLOAD = b"This is the content."


def test_sig_structure_bytes():
    # ["Signature1", h'a10126', h'', h'7061796c6f6164'] written out by hand (RFC 8949 encoding)
    expected = bytes.fromhex("84" "6a" + b"Signature1".hex() + "43a10126" "40" "47" + b"payload".hex())
    assert cose.sig_structure(bytes.fromhex("a10126"), b"", b"payload") == expected


def test_rfc6979_p256_sha256_sample():
    # RFC 6979 A.2.5, P-256 with SHA-256, message "sample"
    x = int("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721", 16)
    key = ec.derive_private_key(x, ec.SECP256R1())
    sig = cose._raw_signature(key, cose.ES256, b"sample")
    assert sig.hex().upper() == ("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
                                 "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8")


@pytest.mark.parametrize("key,alg,siglen", [(P256, -7, 64), (P384, -35, 96), (ED, -8, 64)])
def test_sign_verify_and_layout(key, alg, siglen):
    msg = cose.sign1(key, PAYLOAD, protected={cose.HDR_CTY: "application/cbor"}, unprotected={cose.HDR_KID: b"k1"})
    assert msg == cose.sign1(key, PAYLOAD, protected={cose.HDR_CTY: "application/cbor"},
                             unprotected={cose.HDR_KID: b"k1"})  # deterministic
    raw = cbor2.loads(msg)
    assert isinstance(raw, cbor2.CBORTag) and raw.tag == 18
    prot, unprot, payload, sig = raw.value
    assert cbor2.loads(prot) == {1: alg, 3: "application/cbor"}
    assert unprot == {4: b"k1"} and payload == PAYLOAD and len(sig) == siglen
    parsed = cose.verify_sign1(msg, key.public_key())
    assert parsed.payload == PAYLOAD and parsed.alg == alg and parsed.header(cose.HDR_KID) == b"k1"
    untagged = cose.sign1(key, PAYLOAD, tagged=False)
    assert untagged[0] == 0x84
    cose.verify_sign1(untagged, key.public_key())
    with pytest.raises(DecodeError):
        cose.decode_sign1(untagged, require_tag=True)
    with pytest.raises(DecodeError):
        cose.decode_sign1(msg, require_tag=False)


def _cwt_key(key, alg_name, private):
    from cryptography.hazmat.primitives import serialization
    if private:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    else:
        pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return COSEKey.from_pem(pem, alg=alg_name)


@pytest.mark.parametrize("key,alg_name", [(P256, "ES256"), (P384, "ES384"), (ED, "EdDSA")])
def test_cross_check_with_python_cwt(key, alg_name):
    # ours -> cwt
    ours = cose.sign1(key, PAYLOAD, external_aad=b"aad")
    assert COSE.new().decode(ours, _cwt_key(key, alg_name, False), external_aad=b"aad") == PAYLOAD
    # cwt -> ours
    theirs = COSE.new(alg_auto_inclusion=True).encode_and_sign(PAYLOAD, _cwt_key(key, alg_name, True),
                                                               external_aad=b"aad")
    parsed = cose.verify_sign1(theirs, key.public_key(), external_aad=b"aad")
    assert parsed.payload == PAYLOAD
    with pytest.raises(DecryptError):
        cose.verify_sign1(theirs, key.public_key(), external_aad=b"other")


def _rebuild(msg: bytes, **change) -> bytes:
    raw = cbor2.loads(msg).value
    fields = dict(zip(("protected", "unprotected", "payload", "signature"), raw))
    fields.update(change)
    return cbor2.dumps(cbor2.CBORTag(18, [fields["protected"], fields["unprotected"], fields["payload"],
                                          fields["signature"]]))


def test_tampering_and_wrong_keys():
    msg = cose.sign1(P256, PAYLOAD)
    sig = cbor2.loads(msg).value[3]
    cases = {
        "payload": _rebuild(msg, payload=PAYLOAD + b"!"),
        "signature bit": _rebuild(msg, signature=sig[:-1] + bytes([sig[-1] ^ 1])),
        "r = 0": _rebuild(msg, signature=bytes(32) + sig[32:]),
        "protected": _rebuild(msg, protected=cbor2.dumps({1: -7, 3: "x/y"})),
    }
    for name, bad in cases.items():
        with pytest.raises(DecryptError) as e:
            cose.verify_sign1(bad, P256.public_key())
        assert e.value.check == "rfc9052-4.4-signature", name
    with pytest.raises(DecryptError):
        cose.verify_sign1(msg, pki.derive_key("p256", b"other").public_key())
    with pytest.raises(DecryptError):
        cose.verify_sign1(_rebuild(msg, signature=sig + b"\x00"), P256.public_key())
    # algorithm confusion: a P-384 key cannot verify an ES256 message, alg must be protected
    with pytest.raises(IllegalParameter):
        cose.verify_sign1(msg, P384.public_key())
    with pytest.raises(IllegalParameter):
        cose.verify_sign1(_rebuild(msg, protected=b"", unprotected={1: -7}), P256.public_key())
    with pytest.raises(IllegalParameter):
        cose.verify_sign1(_rebuild(msg, protected=cbor2.dumps({1: -257})), P256.public_key())


MALFORMED = [
    b"",
    bytes.fromhex("d3" "84" "40a0" "40" "40"),               # tag 19
    bytes.fromhex("d2" "83" "40a0" "40"),                    # 3 elements
    bytes.fromhex("d2" "84" "a0" "a0" "40" "40"),            # protected is a map, not bstr
    bytes.fromhex("d2" "84" "40" "80" "40" "40"),            # unprotected is an array
    bytes.fromhex("d2" "84" "40" "a0" "f6" "40"),            # detached payload (nil)
    bytes.fromhex("d2" "84" "4101" "a0" "40" "40"),          # protected bstr is not a map
    bytes.fromhex("d2" "84" "41a0" "a0" "40" "40"),          # protected encodes an empty map
    bytes.fromhex("d2" "84" "43a10126" "a10126" "40" "40"),  # alg in both buckets
    bytes.fromhex("d2" "84" "46a20126028101" "a0" "40" "40"),  # crit [1]
    bytes.fromhex("d2" "84" "40" "a0" "40" "40" "00"),       # trailing byte
]


@pytest.mark.parametrize("data", MALFORMED)
def test_malformed_is_decode_error(data):
    with pytest.raises(ProtocolError) as e:
        cose.verify_sign1(data, P256.public_key())
    assert isinstance(e.value, DecodeError)
