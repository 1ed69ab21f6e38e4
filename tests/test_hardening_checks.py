"""Lazy failure details of named checks, and the zero-copy sub-readers of the TLS codec: the speed-ups
keep every check (same ids, alerts and messages on failure)."""

import expat  # noqa: F401

import pytest

from expat.checks import check
from expat.errors import Alert, DecodeError, ProtocolError
from expat.reference import messages
from expat.reference.wire import Reader, Writer, encode_uint, encode_vector

LAZY = check("test-only-lazy-detail", "RFC 0000 §9", Alert.decode_error, "lazy detail demo")


def test_callable_detail_is_called_only_on_failure():
    calls = []

    def detail():
        calls.append(1)
        return "computed detail"

    LAZY.require(True, detail)
    assert calls == []
    with pytest.raises(DecodeError) as e:
        LAZY.require(False, detail)
    assert calls == [1] and e.value.reason == "computed detail" and e.value.check == "test-only-lazy-detail"


def test_template_detail_is_filled_only_on_failure():
    class Exploding:
        def __format__(self, spec):
            raise AssertionError("formatted although the check passed")

    LAZY.require(True, "value {}", Exploding())
    with pytest.raises(DecodeError) as e:
        LAZY.require(0, "{} needs {} bytes", "field", 3)
    assert e.value.reason == "field needs 3 bytes"
    with pytest.raises(DecodeError) as e:
        LAZY.fail("{} of {}", "a", "b")
    assert e.value.reason == "a of b"


def test_plain_strings_with_braces_are_not_formatted():
    with pytest.raises(DecodeError) as e:
        LAZY.require(False, "literal {braces} stay")
    assert e.value.reason == "literal {braces} stay"


def test_a_broken_template_still_raises_the_check():
    with pytest.raises(DecodeError) as e:
        LAZY.require(False, "{} and {}", "only one")
    assert e.value.check == "test-only-lazy-detail" and "only one" in e.value.reason


def test_sub_readers_share_the_buffer_and_report_nested_names():
    data = b"\x00\x05" + b"\x00\x02ab" + b"\x01" + b"\x05" + b"tail"
    r = Reader(data, "Outer")
    inner = r.sub(2, 0, 0xFFFF, "list")
    assert inner.what == "Outer.list" and inner.remaining == 5 and inner.position == 0
    assert inner.opaque16() == b"ab" and inner.position == 4 and inner.since(0) == b"\x00\x02ab"
    with pytest.raises(ProtocolError) as e:
        inner.finish()
    assert e.value.check == "rfc8446-6-trailing-bytes" and "Outer.list: 1 trailing bytes" in e.value.reason
    assert inner.uint8() == 1
    with pytest.raises(ProtocolError) as e:          # the sub-reader cannot read past its vector
        inner.take(1, "x")
    assert e.value.check == "rfc8446-3.4-truncated" and "Outer.list: x needs 1 bytes, only 0 left" in e.value.reason
    assert r.uint8() == 5 and r.rest() == b"tail" and r.at_end()


def test_truncated_vector_names_its_field_and_length():
    with pytest.raises(ProtocolError) as e:
        Reader(b"\x00", "S").opaque16(field="ext")
    assert e.value.check == "rfc8446-3.4-truncated" and e.value.reason == "S: ext length needs 2 bytes, only 1 left"
    with pytest.raises(ProtocolError) as e:
        Reader(b"\x00\x05ab", "S").opaque16(field="ext")
    assert e.value.reason == "S: ext needs 5 bytes, only 2 left"


def test_fast_encoders_agree_with_writer_and_keep_bounds():
    assert encode_vector(2, b"abc", 0, 0xFFFF) == Writer().opaque16(b"abc").getvalue() == b"\x00\x03abc"
    assert encode_uint(3, 0x010203) == Writer().uint24(0x010203).getvalue()
    for bad in (lambda: encode_vector(1, bytes(256), 0, 0xFF), lambda: encode_vector(2, b"", 1, 10),
                lambda: encode_uint(1, 256), lambda: encode_uint(2, -1), lambda: encode_vector(1, b"", 0, 0x100)):
        with pytest.raises(ProtocolError) as e:
            bad()
        assert e.value.check == "rfc8446-3.4-encode-bounds" and e.value.alert == Alert.internal_error


def test_decode_request_memo_returns_equal_values_and_still_rejects():
    req = messages.CertificateRequest(b"\x01" * 32, (messages.signature_algorithms([0x0403]),)).raw
    a, b = messages.decode_request(req), messages.decode_request(bytearray(req))
    assert a == b and a.raw == req and a.signature_algorithms == (0x0403,)
    bad = req[:-1]
    for _ in range(2):  # failures are not memoised
        with pytest.raises(ProtocolError):
            messages.decode_request(bad)


def test_handshake_body_error_names_the_message_type():
    with pytest.raises(ProtocolError) as e:
        messages.split_handshakes(b"\x0b\x00\x00\x09abc")
    assert e.value.check == "rfc8446-3.4-truncated" and "certificate body needs 9 bytes" in e.value.reason
    with pytest.raises(ProtocolError) as e:
        messages.split_handshakes(b"\xc8\x00\x00\x09abc")
    assert "handshake_type_200 body" in e.value.reason
