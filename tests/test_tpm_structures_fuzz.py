"""The TPM Evidence decoders never raise anything but ProtocolError on mutated input (hypothesis).

The seeds are well-formed structures written out byte by byte here from the Part 2 layouts
(TPMS_ATTEST §10.12.12, TPMT_PUBLIC §12.2.4, TPMT_SIGNATURE §11.3.4), not produced by the code
under test, so these tests need no TPM.
"""

from __future__ import annotations

import hashlib
import struct

import expat  # noqa: F401  (before OpenSSL)

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from expat.errors import ProtocolError
from expat.reference.attestation.tpm import evidence as ev
from expat.reference.attestation.tpm import structures as st

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def _b2(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data


def _name(label: bytes) -> bytes:
    return b"\x00\x0b" + hashlib.sha256(label).digest()          # nameAlg SHA-256 || digest


_KEY = ec.derive_private_key(0x1234567890ABCDEF, ec.SECP256R1()).public_key().public_numbers()
X, Y = _KEY.x.to_bytes(32, "big"), _KEY.y.to_bytes(32, "big")
EXTRA = hashlib.sha256(b"qualifyingData").digest()
PCR_DIGEST = hashlib.sha256(b"pcr values").digest()
CLOCK = (struct.pack(">Q", 123456) + struct.pack(">I", 7) + struct.pack(">I", 2) + b"\x01"
         + struct.pack(">Q", 0x2019102300163600))

QUOTE = (bytes.fromhex("ff544347" "8018") + _b2(_name(b"signer")) + _b2(EXTRA) + CLOCK
         + struct.pack(">I", 1) + bytes.fromhex("000b" "03" "010400") + _b2(PCR_DIGEST))   # sha256: PCR 0, 10
CERTIFY = (bytes.fromhex("ff544347" "8017") + _b2(_name(b"signer")) + _b2(EXTRA) + CLOCK
           + _b2(_name(b"object")) + _b2(_name(b"qualified object")))
# ECC, nameAlg SHA-256, fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|sign, no policy,
# symmetric NULL, scheme ECDSA-SHA256, curve NIST P-256, kdf NULL, unique (x, y)
PUBLIC = (bytes.fromhex("0023" "000b" "00040072" "0000" "0010" "0018000b" "0003" "0010") + _b2(X) + _b2(Y))
SIGNATURE = bytes.fromhex("0018" "000b") + _b2(b"\x11" * 32) + _b2(b"\x22" * 32)


def test_seeds_are_well_formed():
    q = st.parse_attest(QUOTE)
    assert (q.magic, q.type, q.extra_data, q.pcr_digest) == (0xFF544347, 0x8018, EXTRA, PCR_DIGEST)
    assert q.pcr_select == ((0x000B, (0, 10)),) and (q.clock, q.reset_count, q.restart_count, q.safe) == (123456, 7, 2, 1)
    c = st.parse_attest(CERTIFY)
    assert c.type == 0x8017 and c.certified_name == _name(b"object")
    p = st.parse_public(PUBLIC)
    assert p.attributes == 0x00040072 and (p.x, p.y) == (X, Y) and p.public_key().public_numbers() == _KEY
    assert p.name == b"\x00\x0b" + hashlib.sha256(PUBLIC).digest()
    assert st.parse_ecdsa_signature(SIGNATURE)[0] == 0x000B
    # the TPM2B_DATA bound of Part 2 §10.4.3 is sizeof(TPMT_HA) = 66 on a SHA-512 TPM; one more is malformed
    for size, ok in ((66, True), (67, False)):
        data = QUOTE.replace(_b2(EXTRA), _b2(bytes(size)))
        if ok:
            assert st.parse_attest(data).extra_data == bytes(size)
        else:
            with pytest.raises(ProtocolError):
                st.parse_attest(data)


@hs.composite
def mutated(draw, seeds):
    data = bytearray(draw(hs.sampled_from(seeds)))
    for _ in range(draw(hs.integers(1, 4))):
        op = draw(hs.sampled_from(["flip", "truncate", "insert", "overwrite"]))
        at = draw(hs.integers(0, len(data)))
        if op == "flip" and at < len(data):
            data[at] ^= 1 << draw(hs.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(hs.binary(min_size=1, max_size=8))
        else:
            chunk = draw(hs.binary(min_size=1, max_size=8))
            data[at:at + len(chunk)] = chunk
    return bytes(data)


def _only_marshal_errors(fn, data):
    try:
        return fn(data)
    except ProtocolError as e:
        assert e.check == "tpm2-part2-marshal" and e.alert.name == "decode_error", e
        return None


@FUZZ
@given(mutated([QUOTE, CERTIFY]))
def test_mutated_attest_is_parsed_or_a_decode_error(data):
    _only_marshal_errors(st.parse_attest, data)


@FUZZ
@given(mutated([PUBLIC]))
def test_mutated_public_is_parsed_or_a_decode_error(data):
    p = _only_marshal_errors(st.parse_public, data)
    if p is not None:
        assert len(p.name) == 34 and len(p.qualified_name()) == 34
        _only_marshal_errors(lambda _: p.public_key(), data)     # off-curve points are decode errors too


@FUZZ
@given(mutated([SIGNATURE]))
def test_mutated_signature_is_parsed_or_a_decode_error(data):
    _only_marshal_errors(st.parse_ecdsa_signature, data)


@FUZZ
@given(hs.binary(max_size=200))
def test_random_bytes_never_crash_any_parser(data):
    for parser in (st.parse_attest, st.parse_public, st.parse_ecdsa_signature):
        _only_marshal_errors(parser, data)


EVIDENCE = ev.TpmEvidence(binding=hashlib.sha256(b"binding").digest(), aik_pub_hash=bytes(32), quote=QUOTE,
                          quote_sig=SIGNATURE, certify=CERTIFY, certify_sig=SIGNATURE, aik_public=PUBLIC,
                          ak_public=PUBLIC, ak_x5chain=(b"\x30\x03\x02\x01\x01",),
                          event_log=((0, "attester-firmware", bytes(32)),)).encode()


@FUZZ
@given(mutated([EVIDENCE]))
def test_mutated_tpm_evidence_record_is_decoded_or_rejected(data):
    try:
        e = ev.decode(data)
    except ProtocolError:
        return
    for parser, field in ((st.parse_attest, e.quote), (st.parse_attest, e.certify), (st.parse_public, e.aik_public),
                          (st.parse_ecdsa_signature, e.quote_sig)):
        _only_marshal_errors(parser, field)


INTERESTING = (0, 1, 2, 3, 4, 5, 6, 7, 8, 0x0B, 0x10, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x40, 0x41, 0x42, 0x43,
               0x7F, 0x80, 0x17, 0x18, 0xFE, 0xFF)


@pytest.mark.parametrize("parser,seed", [(st.parse_attest, QUOTE), (st.parse_attest, CERTIFY),
                                         (st.parse_public, PUBLIC), (st.parse_ecdsa_signature, SIGNATURE)])
def test_every_truncation_and_single_byte_value(parser, seed):
    """Deterministic complement to the random mutations: every prefix, and every byte set to each of
    the values that matter to sizes, selectors and counts."""
    for cut in range(len(seed)):
        assert _only_marshal_errors(parser, seed[:cut]) is None      # every proper prefix is truncated
    for at in range(len(seed)):
        for value in INTERESTING:
            out = _only_marshal_errors(parser, seed[:at] + bytes([value]) + seed[at + 1:])
            if isinstance(out, st.EccPublic):
                _only_marshal_errors(lambda _: out.public_key(), b"")
