"""TLS presentation-language codec (RFC 8446 §3)."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import pytest
from hypothesis import given, settings, strategies as st

from expat.errors import Alert, DecodeError, InternalError, ProtocolError
from expat.reference.wire import Reader, Writer


def test_integers_are_big_endian():
    # RFC 8446 §3.3: the uint32 with bytes 01 02 03 04 is 16909060.
    assert Reader(bytes.fromhex("01020304")).uint32() == 16909060
    assert Writer().uint32(16909060).getvalue() == bytes.fromhex("01020304")
    w = Writer().uint8(0xAB).uint16(0x0102).uint24(0x030405)
    assert w.getvalue() == bytes.fromhex("ab0102030405")
    r = Reader(w.getvalue())
    assert (r.uint8(), r.uint16(), r.uint24()) == (0xAB, 0x0102, 0x030405)
    r.finish()


@pytest.mark.parametrize("prefix,expected", [(1, "03616263"), (2, "0003616263"), (3, "000003616263")])
def test_vector_prefix_widths(prefix, expected):
    encoded = Writer().vector(prefix, b"abc", 0, 2 ** (8 * prefix) - 1).getvalue()
    assert encoded.hex() == expected
    r = Reader(encoded)
    assert r.vector(prefix, 0, 2 ** (8 * prefix) - 1) == b"abc"
    r.finish()


def _fails(fn, check_id, alert=Alert.decode_error, cls=DecodeError):
    with pytest.raises(cls) as ei:
        fn()
    assert ei.value.check == check_id
    assert ei.value.alert == alert
    return ei.value


def test_truncated_integer_and_vector():
    _fails(lambda: Reader(b"\x01").uint16(), "rfc8446-3.4-truncated")
    _fails(lambda: Reader(b"\x05abc").opaque8(), "rfc8446-3.4-truncated")
    _fails(lambda: Reader(b"\x00").opaque16(), "rfc8446-3.4-truncated")


def test_vector_floor_and_ceiling():
    # opaque mandatory<300..400> from RFC 8446 §3.4, with lengths just outside
    _fails(lambda: Reader((299).to_bytes(2, "big") + bytes(299)).opaque16(300, 400), "rfc8446-3.4-vector-bounds")
    _fails(lambda: Reader((401).to_bytes(2, "big") + bytes(401)).opaque16(300, 400), "rfc8446-3.4-vector-bounds")
    assert len(Reader((300).to_bytes(2, "big") + bytes(300)).opaque16(300, 400)) == 300
    _fails(lambda: Reader(b"\x00").opaque8(1, 255), "rfc8446-3.4-vector-bounds")


def test_vector_of_uint16_must_have_even_length():
    # RFC 8446 §3.4: a 17-byte vector of uint16 is illegal
    _fails(lambda: Reader(b"\x00\x11" + bytes(17)).vector(2, 0, 800, element_size=2), "rfc8446-3.4-vector-multiple")


def test_finish_rejects_trailing_bytes():
    r = Reader(b"\x01\x02")
    r.uint8()
    _fails(r.finish, "rfc8446-6-trailing-bytes")


def test_writer_refuses_out_of_range_values():
    _fails(lambda: Writer().uint8(256), "rfc8446-3.4-encode-bounds", Alert.internal_error, InternalError)
    _fails(lambda: Writer().uint16(-1), "rfc8446-3.4-encode-bounds", Alert.internal_error, InternalError)
    _fails(lambda: Writer().opaque8(bytes(256)), "rfc8446-3.4-encode-bounds", Alert.internal_error, InternalError)
    _fails(lambda: Writer().opaque16(b"", 2, 10), "rfc8446-3.4-encode-bounds", Alert.internal_error, InternalError)
    # the range is checked before the element size
    assert _fails(lambda: Writer().vector(2, b"abc", 0, 2, "v", 2), "rfc8446-3.4-encode-bounds", Alert.internal_error,
                  InternalError).reason == "v length 3 outside <0..2>"
    assert _fails(lambda: Writer().vector(2, b"abc", 0, 10, "v", 2), "rfc8446-3.4-encode-bounds", Alert.internal_error,
                  InternalError).reason == "v length 3 not a multiple of 2"
    assert _fails(lambda: Writer().uint16(0x10000, "f"), "rfc8446-3.4-encode-bounds", Alert.internal_error,
                  InternalError).reason == "f value 65536 does not fit uint16"


def test_sub_reader_is_confined_to_its_vector():
    data = Writer().opaque16(Writer().uint16(7).getvalue()).uint8(9).getvalue()
    r = Reader(data)
    inner = r.sub(2, 0, 0xFFFF)
    assert inner.uint16() == 7
    _fails(inner.uint8, "rfc8446-3.4-truncated")  # cannot read into the outer structure
    assert r.uint8() == 9
    r.finish()


@settings(max_examples=150, deadline=None)
@given(prefix=st.sampled_from([1, 2, 3]), payload=st.binary(max_size=300))
def test_vector_round_trip(prefix, payload):
    ceiling = 2 ** (8 * prefix) - 1
    if len(payload) > ceiling:
        payload = payload[:ceiling]
    encoded = Writer().vector(prefix, payload, 0, ceiling).getvalue()
    assert encoded[:prefix] == len(payload).to_bytes(prefix, "big")
    r = Reader(encoded)
    assert r.vector(prefix, 0, ceiling) == payload
    r.finish()


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=64), prefix=st.sampled_from([1, 2, 3]))
def test_arbitrary_bytes_only_raise_protocol_errors(data, prefix):
    r = Reader(data)
    try:
        r.vector(prefix, 1, 40, element_size=2)
        r.uint16()
        r.finish()
    except ProtocolError as e:
        assert e.alert == Alert.decode_error
