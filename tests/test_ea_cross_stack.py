"""Exported Authenticators across two TLS stacks on one live connection.

One end is expat's pyOpenSSL adapter (bundled OpenSSL 4.0, exporter = SSL_export_keying_material);
the other is the stdlib ``ssl`` module on the system OpenSSL 3.0 (tests/peers.py), whose exporter
values come from its own keylog: keyschedule.SecretExporter(hash, EXPORTER_SECRET). An
authenticator made through one stack must validate with exporter values obtained from the other
(RFC 9261 §5.1: both ends derive the same Handshake Context and Finished MAC Key).

Each connection carries, over the framing of docs/framing.md:
(a) stdlib requests -> expat authenticates (OpenSSL exporter) -> stdlib validates (keylog exporter);
(b) expat requests -> stdlib authenticates (keylog exporter) -> expat validates (OpenSSL exporter),
    then a second expat request that the stdlib side refuses with an empty authenticator (§6).
With the stdlib end as server, (a) is client-sent (answering CertificateRequest 13) and (b)
server-sent (answering ClientCertificateRequest 17); with the stdlib end as client, the reverse.
"""

import expat  # noqa: F401  (before anything imports OpenSSL)

import hashlib
import ssl
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from expat.errors import Alert, DecryptError
from expat.reference import pki, tls
from expat.reference.ea import EASession, authenticator_keys, validate_authenticator
from expat.reference.framing import FramedChannel, FrameType
from expat.reference.keyschedule import CIPHER_SUITE_HASH, SecretExporter
from expat.reference.messages import HandshakeType, SignatureScheme, decode_request, signature_algorithms
from expat.reference.tls import parse_keylog
from peers import identities, stdlib_peer

REQUEST_SCHEMES = [SignatureScheme.ecdsa_secp384r1_sha384, SignatureScheme.ecdsa_secp256r1_sha256,
                   SignatureScheme.ed25519]
# suite -> (hash, expat EA key kind, stdlib EA key kind)
SUITES = {"TLS_AES_128_GCM_SHA256": ("sha256", "p256", "ed25519"),
          "TLS_AES_256_GCM_SHA384": ("sha384", "p384", "p256")}
SCHEME_FOR_KIND = {"p256": SignatureScheme.ecdsa_secp256r1_sha256, "p384": SignatureScheme.ecdsa_secp384r1_sha384,
                   "ed25519": SignatureScheme.ed25519}
SEED = "ea-cross-stack"


def ea_identity(kind: str, name: str) -> pki.Identity:
    return pki.make_identity(kind, seed=SEED, name=name)


def spki_sha256(ident: pki.Identity) -> bytes:
    return hashlib.sha256(ident.leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()


class SslStream:
    """framing.Stream over a stdlib SSLSocket."""

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self.sock = sock

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_exact(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError("stdlib peer: connection closed")
            out += chunk
        return out


def stdlib_exporter(sock: ssl.SSLSocket) -> SecretExporter:
    """The stdlib side's exporter: its own keylog's EXPORTER_SECRET, its own negotiated suite."""
    [(_, secrets)] = parse_keylog(Path(sock.context.keylog_filename).read_bytes()).items()
    return SecretExporter(CIPHER_SUITE_HASH[sock.cipher()[0]], secrets["EXPORTER_SECRET"])


def expect(chan: FramedChannel, frame_type: int) -> bytes:
    got_type, payload = chan.recv()
    assert got_type == frame_type, f"expected frame {frame_type!r}, got {got_type!r}"
    return payload


def stdlib_conversation(role: str, stdlib_ea: pki.Identity, expat_ea: pki.Identity):
    """The stdlib end's side of (a) and (b); returns what it saw, validated with its keylog exporter."""
    is_server = role == "server"

    def conversation(sock: ssl.SSLSocket) -> dict:
        chan = FramedChannel(SslStream(sock))
        exporter = stdlib_exporter(sock)
        session = EASession(exporter, is_server)  # request contexts, answers (§4, §7.1, §7.3)
        expat_role = "client" if is_server else "server"
        # (a) our request; expat's authenticator, validated statelessly with keylog-derived keys
        request = session.request([signature_algorithms(REQUEST_SCHEMES)])
        chan.send(FrameType.ea_request, request)
        authenticator = expect(chan, FrameType.ea_authenticator)
        validated = validate_authenticator(authenticator_keys(exporter, expat_role), expat_role, request,
                                           authenticator, pki.ChainValidator([expat_ea.root]))
        # (b) expat's request answered with an authenticator, then its second request refused (§6)
        made = session.authenticate(stdlib_ea.key, stdlib_ea.chain_der(), expect(chan, FrameType.ea_request))
        chan.send(FrameType.ea_authenticator, made)
        refused = session.empty_authenticator(expect(chan, FrameType.ea_request))
        chan.send(FrameType.ea_authenticator, refused)
        expect(chan, FrameType.close)
        return {"request": request, "authenticator": authenticator, "validated": validated,
                "made": made, "refused": refused, "exporter": exporter}

    return conversation


def expat_side(conn: tls.TlsConnection, stdlib_ea: pki.Identity, expat_ea: pki.Identity) -> dict:
    """expat's side of (a) and (b) over its OpenSSL exporter."""
    chan = FramedChannel(conn)
    session = EASession(conn.exporter, conn.is_server, client_finished_verified=conn.handshake_complete)
    # (a)
    request = expect(chan, FrameType.ea_request)
    authenticator = session.authenticate(expat_ea.key, expat_ea.chain_der(), request)
    chan.send(FrameType.ea_authenticator, authenticator)
    # (b)
    own_request = session.request([signature_algorithms(REQUEST_SCHEMES)])
    chan.send(FrameType.ea_request, own_request)
    validated = session.validate(own_request, expect(chan, FrameType.ea_authenticator),
                                 pki.ChainValidator([stdlib_ea.root]))
    refusal_request = session.request([signature_algorithms(REQUEST_SCHEMES)])
    chan.send(FrameType.ea_request, refusal_request)
    refusal = session.validate(refusal_request, expect(chan, FrameType.ea_authenticator),
                               pki.ChainValidator([stdlib_ea.root]))
    chan.send(FrameType.close)
    return {"request": request, "authenticator": authenticator, "own_request": own_request,
            "validated": validated, "refusal": refusal}


def run_expat_side(peer, conn: tls.TlsConnection, stdlib_ea: pki.Identity, expat_ea: pki.Identity) -> dict:
    try:
        return expat_side(conn, stdlib_ea, expat_ea)
    except EOFError:
        peer.result()  # the stdlib side hung up: re-raise its failure (e.g. a failed validation)
        raise


def run_connection(stdlib_role: str, suite: str) -> tuple[dict, dict, tls.TlsConnection]:
    """One live connection: (stdlib side's record, expat side's record, expat connection (closed))."""
    _, expat_kind, stdlib_kind = SUITES[suite]
    stdlib_ea, expat_ea = ea_identity(stdlib_kind, "stdlib-ea"), ea_identity(expat_kind, "expat-ea")
    srv_id, _ = identities("p256")
    conversation = stdlib_conversation(stdlib_role, stdlib_ea, expat_ea)
    if stdlib_role == "server":
        peer = stdlib_peer("server", identity=srv_id, conversation=conversation)
        cfg = tls.TlsConfig(trust_anchors=srv_id.root_pem(), verify_peer=True, cipher_suites=(suite,))
        conn = tls.connect(peer.address, cfg)
        with conn:
            mine = run_expat_side(peer, conn, stdlib_ea, expat_ea)
            theirs = peer.result()
    else:
        with tls.TlsServer(tls.TlsConfig(identity=srv_id, cipher_suites=(suite,))) as server:
            peer = stdlib_peer("client", address=server.address, trust_pem=srv_id.root_pem(),
                               conversation=conversation)
            with server.accept() as conn:
                mine = run_expat_side(peer, conn, stdlib_ea, expat_ea)
                theirs = peer.result()
    peer.join()
    assert theirs.cipher_suite == conn.cipher_suite == suite
    return theirs.conversation_result, mine, conn


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("stdlib_role", ["server", "client"])
def test_authenticators_cross_stacks(stdlib_role, suite):
    hash_name, expat_kind, stdlib_kind = SUITES[suite]
    theirs, mine, conn = run_connection(stdlib_role, suite)
    expat_role = "client" if stdlib_role == "server" else "server"
    assert conn.is_server == (expat_role == "server")
    assert theirs["exporter"].hash.name == conn.hash.name == hash_name

    # The bytes crossed the connection unchanged, and requests have the kind their sender's role gives (§4).
    assert theirs["request"] == mine["request"] and theirs["authenticator"] == mine["authenticator"]
    kind_by = {"server": HandshakeType.certificate_request, "client": HandshakeType.client_certificate_request}
    assert decode_request(theirs["request"]).msg_type == kind_by[stdlib_role]
    assert decode_request(mine["own_request"]).msg_type == kind_by[expat_role]

    # (a) made over OpenSSL 4.0's exporter, validated with the system OpenSSL 3.0 keylog's secret
    a = theirs["validated"]
    assert (a.valid, a.empty, a.sender_role, a.hash_name, a.chain_validated) == (True, False, expat_role, hash_name, True)
    assert a.context == decode_request(theirs["request"]).context
    assert a.signature_scheme == SCHEME_FOR_KIND[expat_kind]
    assert a.leaf_spki_sha256 == spki_sha256(ea_identity(expat_kind, "expat-ea"))

    # (b) made over the keylog secret, validated with OpenSSL 4.0's exporter
    b = mine["validated"]
    assert (b.valid, b.empty, b.sender_role, b.hash_name, b.chain_validated) == (True, False, stdlib_role, hash_name, True)
    assert b.context == decode_request(mine["own_request"]).context
    assert b.signature_scheme == SCHEME_FOR_KIND[stdlib_kind]
    assert b.leaf_spki_sha256 == spki_sha256(ea_identity(stdlib_kind, "stdlib-ea"))
    # the empty authenticator's Finished (keylog Finished MAC Key) verified under OpenSSL's (§6, §7.4)
    r = mine["refusal"]
    assert (r.valid, r.empty, r.sender_role) == (False, True, stdlib_role)
    assert len(theirs["refused"]) == 4 + theirs["exporter"].hash.length

    # Control: the keys each side used are not role-symmetric, so the other role's keys reject (§5.1).
    with pytest.raises(DecryptError):
        validate_authenticator(authenticator_keys(theirs["exporter"], stdlib_role), expat_role,
                               theirs["request"], theirs["authenticator"], None)


@pytest.mark.parametrize("suite", SUITES)
def test_exporter_secret_of_another_connection_fails(suite):
    first, first_mine, _ = run_connection("server", suite)
    second, _, _ = run_connection("server", suite)
    right, other = first["exporter"], second["exporter"]
    assert right.exporter_master_secret != other.exporter_master_secret
    # The same bytes validate with their own connection's secret ...
    assert validate_authenticator(authenticator_keys(right, "client"), "client", first["request"],
                                  first["authenticator"], None).valid
    # ... but not with another connection's: the CertificateVerify covers the Handshake Context,
    # so the signature check fails first (RFC 9261 §5.2.2, §5.2.4).
    with pytest.raises(DecryptError) as e:
        validate_authenticator(authenticator_keys(other, "client"), "client", first["request"],
                               first["authenticator"], None)
    assert e.value.alert == Alert.decrypt_error and e.value.check == "rfc9261-5.2.2-signature"
    # The stdlib side's (server-sent) authenticator and empty authenticator from the first connection,
    # against the second connection's secret.
    own_request, refusal_request = first_mine["validated"].request, first_mine["refusal"].request
    assert validate_authenticator(authenticator_keys(right, "server"), "server", own_request,
                                  first["made"], None).valid
    with pytest.raises(DecryptError) as e:
        validate_authenticator(authenticator_keys(other, "server"), "server", own_request, first["made"], None)
    assert e.value.alert == Alert.decrypt_error and e.value.check == "rfc9261-5.2.2-signature"
    assert validate_authenticator(authenticator_keys(right, "server"), "server", refusal_request,
                                  first["refused"], None).empty
    with pytest.raises(DecryptError) as e:  # a lone Finished: only the Finished MAC can fail (§6)
        validate_authenticator(authenticator_keys(other, "server"), "server", refusal_request,
                               first["refused"], None)
    assert e.value.alert == Alert.decrypt_error and e.value.check == "rfc9261-5.2.3-finished"
