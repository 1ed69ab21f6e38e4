"""Cross-stack exporter agreement: stdlib ``ssl`` (system OpenSSL 3.0) against expat's pyOpenSSL (4.0).

The stdlib side's EXPORTER_SECRET (its own keylog file) fed to keyschedule.tls_exporter must
give the same bytes as OpenSSL's export_keying_material on expat's side of the connection.
"""

import expat  # noqa: F401  (before anything imports OpenSSL)

import shutil
import socket
import ssl
import subprocess
import time

import pytest

from expat.reference import keyschedule, tls
from peers import KINDS, SUITES, identities, stdlib_peer

LABELS = (b"EXPORTER-server authenticator handshake context", b"EXPORTER-client authenticator finished key",
          b"Attestation")
CONTEXTS = (None, b"", bytes(range(16)))


def echo_once(sock: ssl.SSLSocket) -> bytes:
    data = sock.recv(64)
    sock.sendall(data[::-1])
    return data


def assert_exporters_agree(stdlib_ems: bytes, h: keyschedule.HashAlg, conn: tls.TlsConnection) -> None:
    assert stdlib_ems == conn.exporter_master_secret
    for label in LABELS:
        for context in CONTEXTS:
            for length in (32, 48):
                assert keyschedule.tls_exporter(h, stdlib_ems, label, context or b"", length) == \
                    conn.export_keying_material(label, length, context)


def test_stdlib_uses_a_different_openssl():
    from OpenSSL import SSL
    assert ssl.OPENSSL_VERSION != SSL.OpenSSL_version(SSL.OPENSSL_VERSION).decode()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("suite", SUITES)
def test_stdlib_client_against_expat_server(kind, suite):
    srv_id, _ = identities(kind)
    with tls.TlsServer(tls.TlsConfig(identity=srv_id, cipher_suites=(suite,))) as server:
        peer = stdlib_peer("client", address=server.address, trust_pem=srv_id.root_pem(),
                           conversation=lambda s: (s.sendall(b"ping"), s.recv(4))[1])
        with server.accept() as conn:
            assert conn.recv_exact(4) == b"ping"
            conn.send(b"pong")
            result = peer.result()
            assert result.conversation_result == b"pong"
            assert result.cipher_suite == suite == conn.cipher_suite
            assert result.client_random == conn.client_random
            assert_exporters_agree(result.exporter_master_secret, result.hash, conn)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("suite", SUITES)
def test_expat_client_against_stdlib_server(kind, suite):
    srv_id, cli_id = identities(kind)
    peer = stdlib_peer("server", identity=srv_id, trust_pem=cli_id.root_pem(), conversation=echo_once)
    cfg = tls.TlsConfig(identity=cli_id, cipher_suites=(suite,), trust_anchors=srv_id.root_pem(), verify_peer=True)
    with tls.connect(peer.address, cfg) as conn:
        conn.send(b"abcd")
        assert conn.recv_exact(4) == b"dcba"
        assert conn.peer_chain_der == srv_id.chain_der()
        result = peer.result()
        assert result.conversation_result == b"abcd"
        assert result.cipher_suite == suite == conn.cipher_suite
        assert_exporters_agree(result.exporter_master_secret, result.hash, conn)


def test_stdlib_server_sends_no_tickets_to_expat_client():
    # num_tickets = 0 on the stdlib server: check on the wire with expat's record reader.
    from expat.reference import record
    srv_id, _ = identities("p256")
    peer = stdlib_peer("server", identity=srv_id, conversation=echo_once)
    seen = []
    cfg = tls.TlsConfig(trust_anchors=srv_id.root_pem(), verify_peer=True,
                        wire_observer=lambda d, r: d == tls.RECEIVED and seen.append(r))
    with tls.connect(peer.address, cfg) as conn:
        conn.send(b"x")
        assert conn.recv_exact(1) == b"x"
        peer.result()
        assert conn.recv(1) == b""
        reader = record.DirectionReader(conn.cipher_suite, conn.keylog["SERVER_HANDSHAKE_TRAFFIC_SECRET"],
                                        conn.keylog["SERVER_TRAFFIC_SECRET_0"])
        reader.feed(seen)
    assert reader.application_data == b"x"
    assert reader.count(record.HandshakeType.new_session_ticket) == 0


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")
def test_openssl_s_server_keylog_matches_expat_client(tmp_path):
    srv_id, _ = identities("p384")
    leaf_pem, intermediate_pem = srv_id.chain_pem().split(b"-----END CERTIFICATE-----\n", 1)
    (tmp_path / "cert.pem").write_bytes(leaf_pem + b"-----END CERTIFICATE-----\n")
    (tmp_path / "intermediate.pem").write_bytes(intermediate_pem)
    (tmp_path / "key.pem").write_bytes(srv_id.key_pem())
    keylog = tmp_path / "keylog.txt"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-naccept", "1", "-tls1_3",
                             "-cert", "cert.pem", "-cert_chain", "intermediate.pem", "-key", "key.pem", "-keylogfile", str(keylog),
                             "-ciphersuites", "TLS_AES_256_GCM_SHA384", "-num_tickets", "0", "-quiet"],
                            cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        cfg = tls.TlsConfig(trust_anchors=srv_id.root_pem(), verify_peer=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                conn = tls.connect(("127.0.0.1", port), cfg)
                break
            except ConnectionRefusedError:  # s_server not listening yet
                assert proc.poll() is None and time.monotonic() < deadline, "openssl s_server did not start"
                time.sleep(0.05)
        with conn:
            conn.send(b"hello s_server\n")
            deadline = time.monotonic() + 10
            while b"EXPORTER_SECRET" not in (keylog.read_bytes() if keylog.exists() else b""):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            [(client_random, secrets)] = tls.parse_keylog(keylog.read_bytes()).items()
            assert client_random == conn.client_random
            assert_exporters_agree(secrets["EXPORTER_SECRET"], keyschedule.SHA384, conn)
    finally:
        proc.kill()
        proc.communicate(timeout=10)
