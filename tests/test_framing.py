"""expat's application framing (docs/framing.md): byte layout, strict decoding, live channel."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expat.errors import Alert, DecodeError, ProtocolError
from expat.reference import framing, tls
from expat.reference.framing import EaAlert, FramedChannel, FrameType
from peers import mutual_configs


def test_layout_by_hand():
    assert framing.encode_frame(FrameType.ea_request, b"\x0d\x00\x00\x01\x00") == b"\x01\x00\x00\x05\x0d\x00\x00\x01\x00"
    assert framing.encode_frame(FrameType.close, b"") == b"\x05\x00\x00\x00"
    assert framing.encode_frame(17, b"xy") == b"\x11\x00\x00\x02xy"
    assert [t.value for t in FrameType] == [1, 2, 3, 4, 5]
    assert framing.MAX_PAYLOAD == 1 << 20


def test_alert_payload():
    assert EaAlert(Alert.bad_certificate, "chain").encode() == b"\x2achain"
    assert EaAlert.decode(b"\x33r\xc3\xa9") == EaAlert(Alert.decrypt_error, "r\u00e9")
    for bad in (b"", b"\x01", b"\x2a\xff"):
        with pytest.raises(DecodeError):
            EaAlert.decode(bad)


@pytest.mark.parametrize("data,check_id", [
    (b"", "expat-framing-header"),
    (b"\x01\x00\x00", "expat-framing-header"),
    (b"\x00\x00\x00\x00", "expat-framing-type"),
    (b"\x06\x00\x00\x00", "expat-framing-type"),
    (b"\x20\x00\x00\x00", "expat-framing-type"),
    (b"\x01\x10\x00\x01" + bytes(16), "expat-framing-header"),  # 1 MiB + 1
    (b"\x01\x00\x00\x02x", "expat-framing-header"),  # truncated
    (b"\x01\x00\x00\x01xy", "expat-framing-header"),  # trailing byte
    (b"\x05\x00\x00\x01x", "expat-framing-close"),
])
def test_strict_decoding(data, check_id):
    with pytest.raises(DecodeError) as e:
        framing.decode_frame(data)
    assert e.value.check == check_id


def test_encode_refuses_bad_frames():
    for args in ((0, b""), (6, b""), (32, b""), (FrameType.close, b"x"),
                 (FrameType.application_data, bytes(framing.MAX_PAYLOAD + 1))):
        with pytest.raises(ValueError):
            framing.encode_frame(*args)


@settings(max_examples=60, deadline=None)
@given(t=st.sampled_from([1, 2, 3, 4] + list(range(16, 32))), payload=st.binary(max_size=300))
def test_roundtrip(t, payload):
    ft, p = framing.decode_frame(framing.encode_frame(t, payload))
    assert (int(ft), p) == (t, payload)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=40))
def test_garbage_is_accepted_only_if_well_formed(data):
    try:
        ft, p = framing.decode_frame(data)
    except ProtocolError:
        return
    assert data == bytes([ft]) + len(p).to_bytes(3, "big") + p


@pytest.mark.parametrize("partial,error", [(b"", EOFError), (b"\x02", DecodeError),
                                           (b"\x02\x00\x00\x05ab", DecodeError)])
def test_channel_eof_between_and_inside_frames(partial, error):
    client, server = tls.loopback_pair(*mutual_configs("p256"))
    try:
        if partial:
            client.send(partial)
        client.close()
        with pytest.raises(error):
            FramedChannel(server).recv()
    finally:
        client.close()
        server.close()


def test_framed_channel_over_live_tls():
    client, server = tls.loopback_pair(*mutual_configs("p256"))
    try:
        c, s = FramedChannel(client), FramedChannel(server)
        request = b"\x11\x00\x00\x0b\x08" + bytes(8) + b"\x00\x00"
        c.send(FrameType.ea_request, request)
        assert s.recv() == (FrameType.ea_request, request)
        big = bytes(range(256)) * 2000  # 512000 bytes, many TLS records
        got = []
        t = threading.Thread(target=lambda: got.append(c.recv()))
        t.start()
        s.send(FrameType.ea_authenticator, big)
        t.join(10)
        assert got == [(FrameType.ea_authenticator, big)]
        s.send_alert(Alert.bad_certificate, "untrusted")
        ft, payload = c.recv()
        assert ft == FrameType.ea_alert and EaAlert.decode(payload) == EaAlert(Alert.bad_certificate, "untrusted")
        c.send(FrameType.close)
        assert s.recv() == (FrameType.close, b"")
        client.close()
        with pytest.raises(EOFError):
            s.recv()
    finally:
        client.close()
        server.close()


def test_live_peer_sending_unknown_type_is_decode_error():
    client, server = tls.loopback_pair(*mutual_configs("p256"))
    try:
        client.send(b"\x09\x00\x00\x00")
        with pytest.raises(DecodeError):
            FramedChannel(server).recv()
    finally:
        client.close()
        server.close()
