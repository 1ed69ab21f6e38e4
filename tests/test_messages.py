"""Handshake messages and extensions (RFC 8446 §4, RFC 9261 §4, §5.2)."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import pytest
from hypothesis import given, settings, strategies as st

from expat.errors import Alert, DecodeError, IllegalParameter, ProtocolError, UnexpectedMessage
from expat.reference.messages import (
    TLS13_CERTIFICATE_VERIFY_SCHEMES,
    Certificate,
    CertificateAuthorities,
    CertificateEntry,
    CertificateRequest,
    CertificateVerify,
    ClientCertificateRequest,
    Extension,
    ExtensionType,
    Finished,
    OIDFilters,
    ServerNameList,
    SignatureScheme,
    SignatureSchemeList,
    decode_request,
    scheme_name,
    signature_algorithms,
    signature_algorithms_cert,
    split_handshakes,
)


def test_certificate_request_known_bytes():
    # Hand-encoded: type 13, length 14, ctx "abc", extensions block of 8 bytes holding
    # signature_algorithms (13) with one scheme, ecdsa_secp256r1_sha256.
    wire = bytes.fromhex("0d00000e" "03616263" "0008" "000d0004" "0002" "0403")
    msg = CertificateRequest(b"abc", [signature_algorithms([0x0403])])
    assert msg.raw == wire
    decoded = CertificateRequest.decode(wire)
    assert decoded == msg and decoded.raw == wire
    assert decoded.signature_algorithms == (0x0403,)
    assert type(decode_request(wire)) is CertificateRequest


def test_client_certificate_request_is_type_17_same_body():
    body = bytes.fromhex("00" "0006" "000d0002" "0000")  # empty ctx; sigalgs data not parsed here
    wire = bytes([17]) + len(body).to_bytes(3, "big") + body
    msg = decode_request(wire)
    assert type(msg) is ClientCertificateRequest and msg.msg_type == 17
    assert msg.raw == wire and msg.context == b""


def test_certificate_certificate_verify_finished_known_bytes():
    cert = Certificate(b"\x07", [CertificateEntry(b"\x30\x00", [Extension(0xFFFF, b"\x00\x01\xaa")])])
    assert cert.raw.hex() == ("0b000013" "0107" "00000e" "000002" "3000" "0007" "ffff0003" "0001aa")
    assert Certificate.decode(cert.raw) == cert
    cv = CertificateVerify(0x0807, b"\x01\x02")
    assert cv.raw.hex() == "0f000006" "0807" "0002" "0102"
    assert CertificateVerify.decode(cv.raw) == cv and cv.algorithm_name == "ed25519"
    fin = Finished(bytes(32))
    assert fin.raw == b"\x14\x00\x00\x20" + bytes(32)
    assert Finished.decode(fin.raw, 32) == fin


def test_extension_views_round_trip():
    sa = signature_algorithms([0x0403, 0x0807])
    assert sa.data.hex() == "000404030807"
    assert sa.view() == SignatureSchemeList((0x0403, 0x0807))
    assert signature_algorithms_cert([0x0503]).type == ExtensionType.signature_algorithms_cert == 50
    ca = CertificateAuthorities((b"\x30\x00", b"\x30\x03\x31\x01\x00")).extension()
    assert ca.type == 47 and ca.data.hex() == "000b" "00023000" "00053003310100"
    assert ca.view().authorities == (b"\x30\x00", b"\x30\x03\x31\x01\x00")
    of = OIDFilters(((b"\x55\x1d\x25", b"\x30\x00"),)).extension()
    assert of.type == 48 and of.data.hex() == "0008" "03551d25" "00023000"
    assert of.view() == OIDFilters(((b"\x55\x1d\x25", b"\x30\x00"),))
    sn = ServerNameList((b"example.com",)).extension()
    assert sn.type == 0 and sn.data == b"\x00\x0e\x00\x00\x0b" + b"example.com"
    assert sn.view().host_names == (b"example.com",)
    assert Extension(0x1234, b"opaque").view() is None  # unknown: kept raw


def _raises(fn, cls, check_id, alert):
    with pytest.raises(cls) as ei:
        fn()
    assert ei.value.check == check_id and ei.value.alert == alert
    return ei.value


def test_trailing_bytes_after_message():
    wire = CertificateRequest(b"", [signature_algorithms([0x0403])]).raw
    _raises(lambda: decode_request(wire + b"\x00"), DecodeError, "rfc8446-6-trailing-bytes", Alert.decode_error)


def test_trailing_bytes_inside_body():
    body = bytes.fromhex("0807" "0002" "0102" "ff")  # one extra byte after the signature
    wire = b"\x0f" + len(body).to_bytes(3, "big") + body
    _raises(lambda: CertificateVerify.decode(wire), DecodeError, "rfc8446-6-trailing-bytes", Alert.decode_error)


def test_truncated_message():
    wire = CertificateRequest(b"ctx", [signature_algorithms([0x0403])]).raw
    for cut in (1, 3, 5, len(wire) - 1):
        _raises(lambda: decode_request(wire[:cut]), DecodeError, "rfc8446-3.4-truncated", Alert.decode_error)


def test_wrong_message_type():
    wire = CertificateVerify(0x0403, b"x").raw
    _raises(lambda: Finished.decode(wire), UnexpectedMessage, "rfc8446-4-handshake-type", Alert.unexpected_message)
    _raises(lambda: decode_request(wire), UnexpectedMessage, "rfc8446-4-handshake-type", Alert.unexpected_message)
    ccr = ClientCertificateRequest(b"", [signature_algorithms([0x0403])]).raw
    _raises(lambda: CertificateRequest.decode(ccr), UnexpectedMessage, "rfc8446-4-handshake-type",
            Alert.unexpected_message)


def test_wrong_message_type_names_both_types():
    cv = CertificateVerify(0x0403, b"x").raw
    fin = Finished(bytes(32)).raw
    for decode, wire, text in ((Certificate.decode, cv, "expected certificate, got certificate_verify"),
                               (CertificateVerify.decode, fin, "expected certificate_verify, got finished"),
                               (Finished.decode, cv, "expected finished, got certificate_verify"),
                               (decode_request, fin, "expected certificate_request/client_certificate_request, "
                                                     "got finished")):
        assert _raises(lambda: decode(wire), UnexpectedMessage, "rfc8446-4-handshake-type",
                       Alert.unexpected_message).reason == text


def test_duplicate_extension_in_request_and_entry():
    ext = Extension(13, b"\x00\x02\x04\x03").encode()
    body = b"\x00" + (2 * len(ext)).to_bytes(2, "big") + ext + ext
    wire = b"\x0d" + len(body).to_bytes(3, "big") + body
    _raises(lambda: decode_request(wire), IllegalParameter, "rfc8446-4.2-duplicate-extension",
            Alert.illegal_parameter)
    x = Extension(0xFFFF, b"").encode()
    entry = b"\x00\x00\x01\x30" + (2 * len(x)).to_bytes(2, "big") + x + x
    body = b"\x00" + len(entry).to_bytes(3, "big") + entry
    wire = b"\x0b" + len(body).to_bytes(3, "big") + body
    _raises(lambda: Certificate.decode(wire), IllegalParameter, "rfc8446-4.2-duplicate-extension",
            Alert.illegal_parameter)
    with pytest.raises(IllegalParameter):  # and we never encode one
        CertificateEntry(b"\x30", [Extension(1), Extension(1)]).encode()


def test_length_bounds():
    # request extensions<2..2^16-1>: an empty block is malformed
    _raises(lambda: decode_request(bytes.fromhex("0d000003" "00" "0000")), DecodeError,
            "rfc8446-3.4-vector-bounds", Alert.decode_error)
    # cert_data<1..2^24-1>
    body = bytes.fromhex("00" "000005" "000000" "0000")
    _raises(lambda: Certificate.decode(b"\x0b" + len(body).to_bytes(3, "big") + body), DecodeError,
            "rfc8446-3.4-vector-bounds", Alert.decode_error)
    # SignatureSchemeList<2..2^16-2> of uint16: odd length and empty list
    _raises(lambda: SignatureSchemeList.from_data(b"\x00\x03\x04\x03\x08"), DecodeError,
            "rfc8446-3.4-vector-multiple", Alert.decode_error)
    _raises(lambda: SignatureSchemeList.from_data(b"\x00\x00"), DecodeError, "rfc8446-3.4-vector-bounds",
            Alert.decode_error)
    _raises(lambda: Finished.decode(Finished(bytes(31)).raw, 32), DecodeError, "rfc8446-4.4.4-finished-length",
            Alert.decode_error)
    _raises(lambda: ServerNameList.from_data(b"\x00\x04\x01\x00\x01x"), DecodeError, "rfc6066-3-name-type",
            Alert.decode_error)


def test_signature_scheme_table():
    assert SignatureScheme(0x0403).name == "ecdsa_secp256r1_sha256"
    assert SignatureScheme(0x0503).name == "ecdsa_secp384r1_sha384"
    assert SignatureScheme(0x0807).name == "ed25519"
    assert SignatureScheme(0x080B).name == "rsa_pss_pss_sha512"
    assert scheme_name(0x0401) == "rsa_pkcs1_sha256" and scheme_name(0xFE00) == "unknown_0xfe00"
    for bad in (0x0401, 0x0501, 0x0601, 0x0201, 0x0203):
        assert bad not in TLS13_CERTIFICATE_VERIFY_SCHEMES
    assert {0x0403, 0x0503, 0x0603, 0x0804, 0x0807, 0x0808} <= TLS13_CERTIFICATE_VERIFY_SCHEMES


def test_split_handshakes_keeps_exact_bytes():
    a, b = Finished(b"\x01" * 32).raw, CertificateVerify(0x0403, b"sig").raw
    parts = split_handshakes(a + b)
    assert [p.raw for p in parts] == [a, b] and [p.msg_type for p in parts] == [20, 15]


# --- hypothesis round trips -------------------------------------------------------------------------

ext_st = st.builds(Extension, st.integers(0, 0xFFFF), st.binary(max_size=40))
ext_list_st = st.lists(ext_st, max_size=5, unique_by=lambda e: e.type)
ctx_st = st.binary(max_size=255)


@settings(max_examples=100, deadline=None)
@given(ctx=ctx_st, exts=ext_list_st.filter(bool), client=st.booleans())
def test_request_round_trip(ctx, exts, client):
    cls = ClientCertificateRequest if client else CertificateRequest
    msg = cls(ctx, exts)
    back = decode_request(msg.raw)
    assert type(back) is cls and back == msg and back.raw == msg.raw


@settings(max_examples=100, deadline=None)
@given(ctx=ctx_st, entries=st.lists(st.builds(CertificateEntry, st.binary(min_size=1, max_size=60), ext_list_st),
                                    max_size=4))
def test_certificate_round_trip(ctx, entries):
    msg = Certificate(ctx, entries)
    back = Certificate.decode(msg.raw)
    assert back == msg and back.raw == msg.raw


@settings(max_examples=100, deadline=None)
@given(alg=st.integers(0, 0xFFFF), sig=st.binary(max_size=200), vd=st.binary(min_size=32, max_size=48))
def test_cv_and_finished_round_trip(alg, sig, vd):
    cv = CertificateVerify(alg, sig)
    assert CertificateVerify.decode(cv.raw) == cv
    fin = Finished(vd)
    assert Finished.decode(fin.raw, len(vd)) == fin


@settings(max_examples=100, deadline=None)
@given(schemes=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=20),
       names=st.lists(st.binary(min_size=1, max_size=30), min_size=1, max_size=4),
       filters=st.lists(st.tuples(st.binary(min_size=1, max_size=12), st.binary(max_size=20)), max_size=4))
def test_extension_view_round_trip(schemes, names, filters):
    for view in (SignatureSchemeList(tuple(schemes)), CertificateAuthorities(tuple(names)),
                 OIDFilters(tuple(filters)), ServerNameList(tuple(names))):
        assert type(view).from_data(view.encode()) == view


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=80))
def test_arbitrary_bytes_never_crash_decoders(data):
    for decode in (decode_request, Certificate.decode, CertificateVerify.decode, Finished.decode,
                   split_handshakes, SignatureSchemeList.from_data, CertificateAuthorities.from_data,
                   OIDFilters.from_data, ServerNameList.from_data):
        try:
            decode(data)
        except ProtocolError:
            pass
