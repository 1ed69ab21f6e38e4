"""Live TLS 1.3 on loopback through expat's adapter: exporter, keylog, ClientHello, identities."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import threading

import pytest

from expat.errors import ProtocolError
from expat.reference import keyschedule, pki, tls
from peers import KINDS, SUITES, identities, mutual_configs

LABELS = (b"EXPORTER-client authenticator handshake context", b"EXPORTER-server authenticator finished key",
          b"Attestation", b"EXPERIMENTAL expat test")
CONTEXTS = (None, b"", b"\x00", bytes(range(32)))
SUITE_IDS = {"TLS_AES_128_GCM_SHA256": 0x1301, "TLS_AES_256_GCM_SHA384": 0x1302,
             "TLS_CHACHA20_POLY1305_SHA256": 0x1303}
# RFC 8446 §4.2.3 SignatureScheme codepoints
ECDSA_P256, ECDSA_P384, ED25519 = 0x0403, 0x0503, 0x0807


@pytest.fixture
def pair_factory():
    made = []

    def make(server_config, client_config):
        c, s = tls.loopback_pair(server_config, client_config)
        made.extend([c, s])
        return c, s

    yield make
    for conn in made:
        conn.close()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("suite", SUITES)
def test_exporter_from_keylog_equals_openssl(pair_factory, kind, suite):
    client, server = pair_factory(*mutual_configs(kind, suite))
    h = keyschedule.CIPHER_SUITE_HASH[suite]
    assert client.cipher_suite == server.cipher_suite == suite
    assert client.hash == server.hash == h
    ems = client.exporter_master_secret
    assert len(ems) == h.length
    assert server.exporter_master_secret == ems
    assert client.keylog == server.keylog  # same connection, same secrets
    for label in LABELS:
        for context in CONTEXTS:
            for length in (32, 48):
                mine = keyschedule.tls_exporter(h, ems, label, context or b"", length)
                assert client.exporter.export_keying_material(label, length, context) == mine
                assert server.exporter.export_keying_material(label, length, context) == mine
                assert client.exporter.export(label, context or b"", length) == mine
    # TLS 1.3: no context == empty context; a different context or label changes the value
    assert client.export_keying_material(b"Attestation", 32, None) == client.export_keying_material(b"Attestation", 32, b"")
    assert client.export_keying_material(b"Attestation", 32, b"a") != client.export_keying_material(b"Attestation", 32, b"")
    assert client.export_keying_material(b"Attestation", 32) != client.export_keying_material(b"Attestation Binding", 32)


@pytest.mark.parametrize("kind", KINDS)
def test_identities_and_peer_chains(pair_factory, kind):
    srv_id, cli_id = identities(kind)
    client, server = pair_factory(*mutual_configs(kind))
    assert client.handshake_complete and server.handshake_complete
    assert client.is_server is False and server.is_server is True
    # each side sees the other's leaf first, then the intermediate; both validate to the peer's root
    assert client.peer_chain_der == srv_id.chain_der()
    assert server.peer_chain_der == cli_id.chain_der()
    pki.ChainValidator.from_pem(srv_id.root_pem())(client.peer_chain_der)
    pki.ChainValidator.from_pem(cli_id.root_pem())(server.peer_chain_der)


@pytest.mark.parametrize("suites", [("TLS_AES_256_GCM_SHA384",), SUITES])
def test_client_hello_parsed_the_same_on_both_sides(pair_factory, suites):
    server_cfg, client_cfg = mutual_configs("p256")
    client_cfg.cipher_suites = suites
    client, server = pair_factory(server_cfg, client_cfg)
    ch_c, ch_s = client.client_hello, server.client_hello
    assert ch_c == ch_s
    assert ch_c.raw == ch_s.raw
    assert ch_c.random == client.client_random == server.client_random
    tls13 = [s for s in ch_c.cipher_suites if 0x1301 <= s <= 0x1305]
    assert tls13 == [SUITE_IDS[s] for s in suites]
    assert {ECDSA_P256, ECDSA_P384, ED25519} <= set(ch_c.signature_algorithms)
    assert tls.EXT_SIGNATURE_ALGORITHMS in ch_c.extension_types
    assert tls.EXT_SERVER_NAME in ch_c.extension_types
    # server_name carries "localhost" (RFC 6066 §3 layout: list len, type 0, name len, name)
    assert ch_c.extensions[tls.EXT_SERVER_NAME] == b"\x00\x0c\x00\x00\x09localhost"


def test_application_data_both_ways_and_concurrently(pair_factory):
    client, server = pair_factory(*mutual_configs("p256"))
    client.send(b"ping")
    assert server.recv_exact(4) == b"ping"
    big = bytes(range(256)) * 300  # spans several records
    received = []

    def reader():
        received.append(server.recv_exact(len(big)))

    t = threading.Thread(target=reader)
    t.start()
    # client sends while the server thread receives, and the server sends at the same time
    server.send(b"pong")
    client.send(big)
    t.join(5)
    assert received == [big]
    assert client.recv_exact(4) == b"pong"


def test_close_sends_close_notify(pair_factory):
    client, server = pair_factory(*mutual_configs("p256"))
    client.close()
    assert server.recv(10) == b""
    assert server.peer_closed_cleanly
    with pytest.raises(EOFError):
        server.recv_exact(1)
    assert client._sock.fileno() == -1


def test_concurrent_connections_keep_their_own_secrets():
    server_cfg, client_cfg = mutual_configs("p256")
    with tls.TlsServer(server_cfg) as srv:
        accepted = []
        t = threading.Thread(target=lambda: accepted.extend(srv.accept() for _ in range(2)))
        t.start()
        clients = [tls.connect(srv.address, client_cfg) for _ in range(2)]
        t.join(10)
    try:
        assert len(accepted) == 2
        by_random = {s.client_random: s for s in accepted}
        for c in clients:
            s = by_random[c.client_random]
            assert s.exporter_master_secret == c.exporter_master_secret
        assert clients[0].exporter_master_secret != clients[1].exporter_master_secret
    finally:
        for conn in clients + accepted:
            conn.close()


def test_wire_observer_sees_every_record(pair_factory):
    seen = []
    server_cfg, client_cfg = mutual_configs("p256")
    client_cfg.wire_observer = lambda d, r: seen.append((d, r))
    client, server = pair_factory(server_cfg, client_cfg)
    client.send(b"x")
    assert server.recv_exact(1) == b"x"
    sent = [r for d, r in seen if d == tls.SENT]
    received = [r for d, r in seen if d == tls.RECEIVED]
    assert sent[0][0] == 22 and sent[0][5] == 1  # first record: plaintext handshake, ClientHello
    assert received[0][0] == 22 and received[0][5] == 2  # first received: ServerHello
    for r in sent + received:
        assert len(r) == 5 + int.from_bytes(r[3:5], "big")


def test_untrusted_server_is_rejected():
    server_cfg, client_cfg = mutual_configs("p256")
    client_cfg.trust_anchors = pki.make_identity("p256", seed="other", name="server").root_pem()
    with pytest.raises(ProtocolError):
        tls.loopback_pair(server_cfg, client_cfg)


def test_server_name_mismatch_is_rejected():
    server_cfg, client_cfg = mutual_configs("p256", server_name="attester.example")
    with pytest.raises(ProtocolError) as e:
        tls.loopback_pair(server_cfg, client_cfg)
    assert e.value.check == "rfc6125-6.4.1-tls-server-name"


def test_server_requiring_client_cert_rejects_anonymous_client():
    server_cfg, client_cfg = mutual_configs("p256")
    client_cfg.identity = None
    with pytest.raises(ProtocolError):
        tls.loopback_pair(server_cfg, client_cfg)


def test_config_validation():
    with pytest.raises(ValueError):
        tls.TlsConfig(cipher_suites=("TLS_AES_128_CCM_SHA256x",))
    with pytest.raises(ValueError):
        tls.TlsConfig(verify_peer=True)
    with pytest.raises(ValueError):
        tls.TlsServer(tls.TlsConfig())


@pytest.mark.parametrize("raw", [
    b"", b"\x01\x00\x00\x00", b"\x02\x00\x00\x00",
    # ClientHello with a duplicated extension
    b"\x01\x00\x00\x31" + b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
    + b"\x00\x08" + b"\x00\x0a\x00\x00" + b"\x00\x0a\x00\x00",
])
def test_client_hello_parser_rejects_garbage(raw):
    with pytest.raises(ProtocolError):
        tls.parse_client_hello(raw)


def test_tcp_eof_without_close_notify_is_not_clean(pair_factory):
    import socket
    client, server = pair_factory(*mutual_configs("p256"))
    client._sock.shutdown(socket.SHUT_RDWR)  # TCP FIN without a TLS close_notify (truncation)
    assert server.recv(10) == b""
    assert server.peer_closed_cleanly is False
