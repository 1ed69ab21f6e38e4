"""Known-answer tests for the literal key schedule and record layer.

Vectors: RFC 8448 §3 ("Simple 1-RTT Handshake", TLS_AES_128_GCM_SHA256, SHA-256). They are
published values, copied as hex; nothing here is computed by the code under test.
"""

import expat  # noqa: F401  (before anything imports OpenSSL)

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from expat.errors import ProtocolError
from expat.reference import keyschedule as ks
from expat.reference import record

H = ks.SHA256
ZERO32 = bytes(32)

# --- RFC 8448 §3 -----------------------------------------------------------------------------------
ECDHE_SHARED = bytes.fromhex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d")
EARLY_SECRET = bytes.fromhex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
DERIVED_FROM_EARLY = bytes.fromhex("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba")
HANDSHAKE_SECRET = bytes.fromhex("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")
TH_CH_SH = bytes.fromhex("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8")
C_HS_TRAFFIC = bytes.fromhex("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
S_HS_TRAFFIC = bytes.fromhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
S_HS_KEY = bytes.fromhex("3fce516009c21727d0f2e4e86ee403bc")
S_HS_IV = bytes.fromhex("5d313eb2671276ee13000b30")
C_HS_KEY = bytes.fromhex("dbfaa693d1762c5b666af5d950258d01")
C_HS_IV = bytes.fromhex("5bd3c71b836e0b76bb73265f")
S_FINISHED_KEY = bytes.fromhex("008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8")
DERIVED_FROM_HS = bytes.fromhex("43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4")
MASTER_SECRET = bytes.fromhex("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919")
TH_CH_SF = bytes.fromhex("9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13")
C_AP_TRAFFIC = bytes.fromhex("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5")
S_AP_TRAFFIC = bytes.fromhex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643")
EXP_MASTER = bytes.fromhex("fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50")
S_AP_KEY = bytes.fromhex("9f02283b6c9c07efc26bb9f2ac92e356")
S_AP_IV = bytes.fromhex("cf782b88dd83549aadf1e984")
C_AP_KEY = bytes.fromhex("17422dda596ed5d9acd890e3c63f5051")
C_AP_IV = bytes.fromhex("5b78923dee08579033e523d9")
TH_CH_CF = bytes.fromhex("209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d")
RES_MASTER = bytes.fromhex("7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c")
RESUMPTION_PSK = bytes.fromhex("4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3")
# {server} NewSessionTicket message (205 octets) and its protected record (227 octets).
NST_MESSAGE = bytes.fromhex(
    "040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec9000000"
    "00262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be785a"
    "bc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827"
    "db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529"
    "513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea61764"
    "6fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934a"
    "e4d3570008002a000400000400")
NST_RECORD = bytes.fromhex(
    "17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d4"
    "1d6af8f6b580dcf3d11d63c758db289a015940252f55713e061dc13e078891a3"
    "8efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e0"
    "9c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406"
    "f16e3fc181a77ca475840025db2f0a77f81b5ab05b94c01346755f69232c8651"
    "9d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74"
    "bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf159"
    "85684f")
# Application data 00..31 (50 octets) each way; the server's follows its NST (sequence 1).
APP_DATA = bytes(range(0x32))
SERVER_APP_RECORD = bytes.fromhex(
    "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8"
    "fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d")
SERVER_ALERT_RECORD = bytes.fromhex("1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9")
CLIENT_APP_RECORD = bytes.fromhex(
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b"
    "62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4")
SUITE = "TLS_AES_128_GCM_SHA256"


# --- the key schedule (RFC 8446 §7.1) --------------------------------------------------------------

def test_rfc8448_early_and_handshake_secrets():
    early = ks.hkdf_extract(H, ZERO32, ZERO32)
    assert early == EARLY_SECRET
    assert ks.derive_secret(H, early, b"derived", b"") == DERIVED_FROM_EARLY
    assert ks.hkdf_extract(H, DERIVED_FROM_EARLY, ECDHE_SHARED) == HANDSHAKE_SECRET


def test_rfc8448_handshake_traffic_secrets_from_transcript_hash():
    assert ks.hkdf_expand_label(H, HANDSHAKE_SECRET, b"c hs traffic", TH_CH_SH, 32) == C_HS_TRAFFIC
    assert ks.hkdf_expand_label(H, HANDSHAKE_SECRET, b"s hs traffic", TH_CH_SH, 32) == S_HS_TRAFFIC
    assert ks.hkdf_expand_label(H, S_HS_TRAFFIC, b"finished", b"", 32) == S_FINISHED_KEY


def test_rfc8448_master_and_application_secrets():
    assert ks.derive_secret(H, HANDSHAKE_SECRET, b"derived", b"") == DERIVED_FROM_HS
    assert ks.hkdf_extract(H, DERIVED_FROM_HS, ZERO32) == MASTER_SECRET
    assert ks.hkdf_expand_label(H, MASTER_SECRET, b"c ap traffic", TH_CH_SF, 32) == C_AP_TRAFFIC
    assert ks.hkdf_expand_label(H, MASTER_SECRET, b"s ap traffic", TH_CH_SF, 32) == S_AP_TRAFFIC
    assert ks.hkdf_expand_label(H, MASTER_SECRET, b"res master", TH_CH_CF, 32) == RES_MASTER
    assert ks.hkdf_expand_label(H, RES_MASTER, b"resumption", b"\x00\x00", 32) == RESUMPTION_PSK


def test_rfc8448_exporter_master_secret():
    # exporter_master_secret = Derive-Secret(Master Secret, "exp master", ClientHello..server Finished)
    assert ks.hkdf_expand_label(H, MASTER_SECRET, b"exp master", TH_CH_SF, 32) == EXP_MASTER


def test_derive_secret_hashes_its_messages():
    # Derive-Secret over messages == HKDF-Expand-Label over their hash (independent hashlib call).
    msgs = b"\x01\x00\x00\x00" + b"some transcript"
    assert ks.derive_secret(H, MASTER_SECRET, b"exp master", msgs) == \
        ks.hkdf_expand_label(H, MASTER_SECRET, b"exp master", hashlib.sha256(msgs).digest(), 32)
    assert ks.derive_secret(H, MASTER_SECRET, b"exp master", msgs) != EXP_MASTER


@pytest.mark.parametrize("secret,key,iv", [
    (S_HS_TRAFFIC, S_HS_KEY, S_HS_IV),
    (C_HS_TRAFFIC, C_HS_KEY, C_HS_IV),
    (S_AP_TRAFFIC, S_AP_KEY, S_AP_IV),
    (C_AP_TRAFFIC, C_AP_KEY, C_AP_IV),
])
def test_rfc8448_traffic_key_and_iv(secret, key, iv):
    assert record.traffic_keys(SUITE, secret) == (key, iv)


# --- HkdfLabel byte layout (DIGEST §1.2), built by hand --------------------------------------------

EA_HS_LABEL = b"EXPORTER-server authenticator handshake context"


def test_hkdf_label_layout_for_ea_label_sha256():
    assert len(EA_HS_LABEL) == 47
    info = ks.hkdf_label(EA_HS_LABEL, hashlib.sha256(b"").digest(), 32)
    expected = (b"\x00\x20" + b"\x35" + b"tls13 " + EA_HS_LABEL
                + b"\x20" + bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
    assert info == expected
    assert len(info) == 2 + 1 + 53 + 1 + 32


def test_hkdf_label_layout_exporter_step_sha384():
    ctx_hash = hashlib.sha384(b"ctx").digest()
    info = ks.hkdf_label(b"exporter", ctx_hash, 48)
    assert info == b"\x00\x30" + b"\x0etls13 exporter" + b"\x30" + ctx_hash


@pytest.mark.parametrize("h,alg", [(ks.SHA256, hashes.SHA256()), (ks.SHA384, hashes.SHA384())])
@pytest.mark.parametrize("context", [b"", b"\x00" * 5, b"certificate_request_context"])
@pytest.mark.parametrize("length", [32, 48])
def test_tls_exporter_against_cryptography_hkdf(h, alg, context, length):
    # Independent two-step computation (DIGEST §1.2) with cryptography's HKDFExpand and a hand-built info.
    secret = bytes(range(h.length))
    label = b"EXPORTER-client authenticator finished key"
    hash_empty = hashlib.new(h.name, b"").digest()
    info1 = h.length.to_bytes(2, "big") + bytes([6 + len(label)]) + b"tls13 " + label + bytes([h.length]) + hash_empty
    per_label = HKDFExpand(alg, h.length, info1).derive(secret)
    info2 = length.to_bytes(2, "big") + b"\x0etls13 exporter" + bytes([h.length]) + hashlib.new(h.name, context).digest()
    expected = HKDFExpand(alg, length, info2).derive(per_label)
    assert ks.tls_exporter(h, secret, label, context, length) == expected


def test_hkdf_expand_rfc5869_case1():
    # RFC 5869 A.1 (SHA-256).
    prk = ks.hkdf_extract(H, bytes.fromhex("000102030405060708090a0b0c"), b"\x0b" * 22)
    assert prk.hex() == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
    okm = ks.hkdf_expand(H, prk, bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"), 42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c"
                         "5db02d56ecc4c5bf34007208d5b887185865")


def test_hkdf_label_limits():
    with pytest.raises(ValueError):
        ks.hkdf_label(b"x" * 250, b"", 32)
    with pytest.raises(ValueError):
        ks.hkdf_label(b"ok", b"\x00" * 256, 32)
    with pytest.raises(ValueError):
        ks.tls_exporter(H, bytes(31), b"label", b"", 32)


# --- record layer against the RFC 8448 §3 records --------------------------------------------------

def test_rfc8448_new_session_ticket_record_decrypts():
    prot = record.RecordProtection(SUITE, S_AP_TRAFFIC)
    ctype, content = prot.open(NST_RECORD)
    assert ctype == record.ContentType.handshake
    assert content == NST_MESSAGE
    [msg] = record.split_handshake_messages(content)
    assert msg.msg_type == record.HandshakeType.new_session_ticket and len(msg.body) == 0xc9
    # then application data (sequence 1) and close_notify (sequence 2)
    assert prot.open(SERVER_APP_RECORD) == (record.ContentType.application_data, APP_DATA)
    assert prot.open(SERVER_ALERT_RECORD) == (record.ContentType.alert, b"\x01\x00")


def test_direction_reader_switches_to_application_secret_after_finished():
    # A server direction: plaintext ServerHello, a protected handshake record ending in Finished
    # (sealed here under the RFC's server handshake secret), then the RFC 8448 §3 application
    # records. The reader must switch keys at Finished to decrypt the published records.
    server_hello = record.Record(22, 0x0303, b"\x02\x00\x00\x02\x03\x03").encode()
    ccs = record.Record(20, 0x0303, b"\x01").encode()
    finished = b"\x14\x00\x00\x20" + bytes(32)
    hs_record = record.RecordProtection(SUITE, S_HS_TRAFFIC).seal(record.ContentType.handshake, finished)
    reader = record.DirectionReader(SUITE, S_HS_TRAFFIC, S_AP_TRAFFIC)
    reader.feed([server_hello, ccs, hs_record, NST_RECORD, SERVER_APP_RECORD, SERVER_ALERT_RECORD])
    assert [(e, m.msg_type) for e, m in reader.handshake_messages] == [
        ("plaintext", 2), ("handshake", 20), ("application", 4)]
    assert reader.count(record.HandshakeType.new_session_ticket) == 1
    assert reader.application_data == APP_DATA
    assert record.count_new_session_tickets(SUITE, [server_hello, hs_record, NST_RECORD], S_HS_TRAFFIC,
                                            S_AP_TRAFFIC) == 1


def test_rfc8448_seal_client_app_data():
    prot = record.RecordProtection(SUITE, C_AP_TRAFFIC)
    assert prot.seal(record.ContentType.application_data, APP_DATA) == CLIENT_APP_RECORD


def test_record_tamper_and_wrong_sequence_fail():
    bad = bytearray(NST_RECORD)
    bad[-1] ^= 1
    with pytest.raises(ProtocolError) as e:
        record.RecordProtection(SUITE, S_AP_TRAFFIC).open(bytes(bad))
    assert e.value.check == "rfc8446-5.2-record-aead"
    prot = record.RecordProtection(SUITE, S_AP_TRAFFIC)
    prot.seq = 1
    with pytest.raises(ProtocolError):
        prot.open(NST_RECORD)


def test_record_nonce_xor():
    iv = bytes.fromhex("cf782b88dd83549aadf1e984")
    assert record.record_nonce(iv, 0) == iv
    assert record.record_nonce(iv, 1) == bytes.fromhex("cf782b88dd83549aadf1e985")
    assert record.record_nonce(iv, 0x0102) == bytes.fromhex("cf782b88dd83549aadf1e886")


def test_inner_plaintext_padding():
    assert record.strip_inner_plaintext(b"abc\x17\x00\x00\x00") == (23, b"abc")
    assert record.strip_inner_plaintext(b"\x16") == (22, b"")
    with pytest.raises(ProtocolError) as e:
        record.strip_inner_plaintext(b"\x00\x00\x00")
    assert e.value.check == "rfc8446-5.4-inner-plaintext"


def test_key_update_secret_is_traffic_upd_label():
    # RFC 8446 §7.2, checked against cryptography's HKDFExpand with a hand-built HkdfLabel.
    info = b"\x00\x20" + bytes([6 + 11]) + b"tls13 traffic upd" + b"\x00"
    expected = HKDFExpand(hashes.SHA256(), 32, info).derive(S_AP_TRAFFIC)
    assert record.next_traffic_secret(SUITE, S_AP_TRAFFIC) == expected


@pytest.mark.parametrize("raw", [b"", b"\x17\x03", b"\x18\x03\x03\x00\x00", b"\x17\x03\x03\x48\x01",
                                 b"\x17\x03\x03\x00\x05abc"])
def test_record_syntax_errors_are_protocol_errors(raw):
    with pytest.raises(ProtocolError):
        record.parse_record(raw)


def test_hmac_sanity_of_hash_alg():
    assert H.hmac(b"k", b"d") == hmac.new(b"k", b"d", "sha256").digest()
