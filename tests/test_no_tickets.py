"""No NewSessionTicket on expat's connections, counted on the wire (editor's copy §7.2).

Every server->client record is decrypted with the keylog secrets and its handshake
messages are counted. A control run in a subprocess that does not import expat (plain
pyOpenSSL, OPENSSL_CONF removed) shows the same counting code does find tickets, so the
zero below is a measurement rather than an artefact.
"""

import expat  # noqa: F401  (before anything imports OpenSSL)

import json
import subprocess
import sys

import pytest

from expat.reference import record, tls
from peers import SUITES, env_without_openssl_conf, identities, mutual_configs

CONTROL = r'''
import json, sys
from OpenSSL import SSL
assert "expat" not in sys.modules
variant, chain, key = sys.argv[1:4]
keylog = []
def context(server):
    c = SSL.Context(SSL.TLS_METHOD)
    c.set_min_proto_version(SSL.TLS1_3_VERSION)
    c.set_keylog_callback(lambda conn, line: keylog.append(line.decode()))
    if variant == "op_no_ticket":
        c.set_options(SSL.OP_NO_TICKET)
    if server:
        c.use_certificate_chain_file(chain)
        c.use_privatekey_file(key)
    return c
srv = SSL.Connection(context(True), None); srv.set_accept_state()
cli = SSL.Connection(context(False), None); cli.set_connect_state()
s2c = b""
def drain(conn):
    out = b""
    while True:
        try:
            out += conn.bio_read(65536)
        except SSL.WantReadError:
            return out
def step(conn):
    try:
        conn.do_handshake()
        return True
    except SSL.WantReadError:
        return False
done = [False, False]
for _ in range(20):
    done[0] = step(cli) or done[0]
    data = drain(cli)
    if data:
        srv.bio_write(data)
    done[1] = step(srv) or done[1]
    data = drain(srv)
    if data:
        s2c += data
        cli.bio_write(data)
    if all(done):
        break
srv.send(b"after the handshake")
data = drain(srv)
s2c += data
cli.bio_write(data)
assert cli.recv(100) == b"after the handshake"
print(json.dumps({"suite": cli.get_cipher_name(), "s2c": s2c.hex(), "keylog": "\n".join(keylog),
                  "expat_loaded": "expat" in sys.modules}))
'''


def count_tickets(suite: str, server_records: list[bytes], secrets: dict[str, bytes]) -> record.DirectionReader:
    reader = record.DirectionReader(suite, secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"], secrets["SERVER_TRAFFIC_SECRET_0"])
    reader.feed(server_records)
    return reader


@pytest.mark.parametrize("suite", SUITES)
def test_expat_connection_sends_no_new_session_ticket(suite):
    seen_by_client, sent_by_server = [], []
    server_cfg, client_cfg = mutual_configs("p256", suite)
    client_cfg.wire_observer = lambda d, r: d == tls.RECEIVED and seen_by_client.append(r)
    server_cfg.wire_observer = lambda d, r: d == tls.SENT and sent_by_server.append(r)
    client, server = tls.loopback_pair(server_cfg, client_cfg)
    try:
        client.send(b"hello")
        assert server.recv_exact(5) == b"hello"
        server.send(b"world")
        assert client.recv_exact(5) == b"world"
        server.close()
        assert client.recv(1) == b""  # everything the server sent has now been seen
        assert client.peer_closed_cleanly
        assert seen_by_client == sent_by_server
        reader = count_tickets(suite, seen_by_client, client.keylog)
    finally:
        client.close()
        server.close()
    assert reader.count(record.HandshakeType.new_session_ticket) == 0
    # not vacuous: the reader decrypted the handshake flight and the application epoch
    types = [(e, m.msg_type) for e, m in reader.handshake_messages]
    assert ("handshake", record.HandshakeType.finished) in types
    assert reader.application_data == b"world"
    assert any(p.content_type == record.ContentType.alert and p.epoch == "application" for p in reader.plaintexts)


@pytest.mark.parametrize("variant", ["default", "op_no_ticket"])
def test_control_without_expat_config_finds_tickets(tmp_path, variant):
    srv_id, _ = identities("p256")
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    chain.write_bytes(srv_id.chain_pem())
    key.write_bytes(srv_id.key_pem())
    script = tmp_path / "control.py"
    script.write_text(CONTROL)
    out = subprocess.run([sys.executable, str(script), variant, str(chain), str(key)], capture_output=True,
                         env=env_without_openssl_conf(), cwd=tmp_path, timeout=60, check=True)
    result = json.loads(out.stdout)
    assert result["expat_loaded"] is False
    [(client_random, secrets)] = tls.parse_keylog(result["keylog"]).items()
    reader = count_tickets(result["suite"], record.split_records(bytes.fromhex(result["s2c"])), secrets)
    # OpenSSL's default is to send tickets, and OP_NO_TICKET alone does not stop TLS 1.3 tickets
    assert reader.count(record.HandshakeType.new_session_ticket) >= 1
    assert reader.application_data == b"after the handshake"


def test_client_never_offers_early_data_or_psk():
    server_cfg, client_cfg = mutual_configs("p256")
    hellos = []
    for _ in range(2):  # a second connection is where a resuming client would offer a PSK
        client, server = tls.loopback_pair(server_cfg, client_cfg)
        try:
            hellos.append(server.client_hello)
            assert client.client_hello == server.client_hello
        finally:
            client.close()
            server.close()
    for ch in hellos:
        assert tls.EXT_EARLY_DATA not in ch.extension_types
        assert tls.EXT_PRE_SHARED_KEY not in ch.extension_types
        assert 43 in ch.extension_types  # supported_versions: the parse really saw the extensions
