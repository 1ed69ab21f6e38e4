"""TLS 1.3 connections for expat: pyOpenSSL in memory-BIO mode, pumped over a real socket.

OpenSSL never touches the socket: expat moves the ciphertext between the socket and
OpenSSL's memory BIOs itself, so it sees every raw record (``wire_observer``), can
parse the plaintext ClientHello that RFC 9261 §5.2.1/§5.2.2 refer to for spontaneous
server authenticators, and can hand the records to :mod:`expat.reference.record`.

Secrets come from OpenSSL's keylog callback, kept per connection (keyed by the client
random). Only TLS 1.3; no session tickets, no resumption, no early data (editor's copy
§7.2; see :mod:`expat.reference.openssl_config`). See docs/tls.md.

The one exception is the resumption attack demo (docs/attacks.md): OpenSSL cannot be made to issue
a NewSessionTicket here (NumTickets=0 is global and neither pyOpenSSL nor cryptography's binding
exposes SSL_CTX_set_num_tickets), so a profile without ``reject_resumption`` resumes through a
TLS 1.3 PSK handshake (psk_dhe_ke, RFC 8446 §4.2.11) with a PSK the attestation layer derived on
the earlier connection (``TlsConfig.psk`` / ``psk_store``, installed with cryptography's binding of
SSL_CTX_set_psk_use_session_callback / SSL_CTX_set_psk_find_session_callback).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.bindings.openssl.binding import Binding
from OpenSSL import SSL, crypto

from expat.checks import check
from expat.errors import Alert, ProtocolError
from expat.reference import pki
from expat.reference.keyschedule import CIPHER_SUITE_HASH, HashAlg
from expat.reference.record import ContentType, HandshakeReassembler, HandshakeType, RecordSplitter, parse_record

# IANA names of the TLS 1.3 suites expat offers (RFC 8446 §B.4); OpenSSL uses the same names.
TLS13_CIPHER_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")

# RFC 8446 §4.2 extension types this module looks at.
EXT_SERVER_NAME = 0
EXT_SIGNATURE_ALGORITHMS = 13
EXT_PRE_SHARED_KEY = 41
EXT_EARLY_DATA = 42

SENT = "sent"
RECEIVED = "received"
WireObserver = Callable[[str, bytes], None]

DEFAULT_TIMEOUT = 10.0
_READ_CHUNK = 65536
MAX_WRITE = 16384  # plaintext handed to SSL_write at a time (one record, RFC 8446 §5.1)

CLIENT_HELLO_SYNTAX = check("rfc8446-4.1.2-client-hello-syntax", "RFC 8446 §4.1.2", Alert.decode_error,
                            "the ClientHello and its extension list parse exactly, without trailing bytes")
TLS13_ONLY = check("expat-tls-1.3-only", "RFC 9261 §5.1", Alert.protocol_version,
                   "expat's exported authenticators run only over TLS 1.3 (the exporter_master_secret)")
NO_EARLY_DATA = check("expatec-7.2-tls-no-early-data", "editor's copy §7.2", Alert.illegal_parameter,
                      "the client does not offer early data or a PSK on a connection that will be attested")
PEER_NAME = check("rfc6125-6.4.1-tls-server-name", "RFC 6125 §6.4.1", Alert.bad_certificate,
                  "when the client verifies the server, the leaf names the requested DNS server_name")


class HandshakeFailure(ProtocolError):
    """OpenSSL rejected the handshake (bad certificate, no common suite, peer alert ...)."""

    alert = Alert.handshake_failure


# --- ClientHello (RFC 8446 §4.1.2) ---------------------------------------------------------------------

@dataclass(frozen=True)
class ClientHelloInfo:
    """What RFC 9261 needs from the ClientHello, plus the raw message for tests."""

    random: bytes
    cipher_suites: list[int]
    extension_types: list[int]  # in the order sent
    signature_algorithms: list[int]
    extensions: dict[int, bytes] = field(default_factory=dict, compare=False)
    raw: bytes = field(default=b"", compare=False)  # the whole handshake message, header included


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.pos, self.what = data, 0, what

    def take(self, n: int) -> bytes:
        CLIENT_HELLO_SYNTAX.require(self.pos + n <= len(self.data), f"{self.what}: truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vector(self, len_bytes: int) -> bytes:
        return self.take(self.uint(len_bytes))

    def done(self) -> bool:
        return self.pos == len(self.data)


def parse_client_hello(message: bytes) -> ClientHelloInfo:
    """Parse a ClientHello handshake message (4-byte header included)."""
    r = _Reader(message, "ClientHello")
    CLIENT_HELLO_SYNTAX.require(r.uint(1) == HandshakeType.client_hello, "not a ClientHello (type 1)")
    CLIENT_HELLO_SYNTAX.require(r.uint(3) == len(message) - 4, "ClientHello length does not match")
    r.take(2)  # legacy_version
    random = r.take(32)
    session_id = r.vector(1)
    CLIENT_HELLO_SYNTAX.require(len(session_id) <= 32, "legacy_session_id longer than 32 bytes")
    suites_raw = r.vector(2)
    CLIENT_HELLO_SYNTAX.require(len(suites_raw) >= 2 and len(suites_raw) % 2 == 0, "bad cipher_suites vector")
    compression = r.vector(1)
    CLIENT_HELLO_SYNTAX.require(len(compression) >= 1, "empty legacy_compression_methods")
    ext_block = r.vector(2)
    CLIENT_HELLO_SYNTAX.require(r.done(), "bytes after the extensions")
    e = _Reader(ext_block, "ClientHello extensions")
    types: list[int] = []
    extensions: dict[int, bytes] = {}
    while not e.done():
        etype = e.uint(2)
        data = e.vector(2)
        # RFC 8446 §4.2: no extension type appears twice.
        CLIENT_HELLO_SYNTAX.require(etype not in extensions, f"extension {etype} appears twice")
        types.append(etype)
        extensions[etype] = data
    sig_algs: list[int] = []
    if EXT_SIGNATURE_ALGORITHMS in extensions:
        s = _Reader(extensions[EXT_SIGNATURE_ALGORITHMS], "signature_algorithms")
        lst = s.vector(2)
        CLIENT_HELLO_SYNTAX.require(s.done() and len(lst) >= 2 and len(lst) % 2 == 0,
                                    "bad signature_algorithms vector")
        sig_algs = [int.from_bytes(lst[i:i + 2], "big") for i in range(0, len(lst), 2)]
    return ClientHelloInfo(random=random,
                           cipher_suites=[int.from_bytes(suites_raw[i:i + 2], "big") for i in range(0, len(suites_raw), 2)],
                           extension_types=types, signature_algorithms=sig_algs, extensions=extensions,
                           raw=bytes(message))


class _ClientHelloCatcher:
    """Pick the first ClientHello out of the plaintext handshake records of one direction."""

    def __init__(self) -> None:
        self._hs = HandshakeReassembler()
        self.message: bytes | None = None
        self._done = False

    def record(self, raw: bytes) -> None:
        if self._done:
            return
        rec = parse_record(raw)
        if rec.content_type == ContentType.change_cipher_spec:
            return
        if rec.content_type != ContentType.handshake:
            self._done = True
            return
        for msg in self._hs.feed(rec.fragment):
            if msg.msg_type == HandshakeType.client_hello:
                self.message = msg.encode()
            self._done = True
            return


# --- keylog (NSS key log format) -------------------------------------------------------------------------

def parse_keylog_line(line: bytes | str) -> tuple[str, bytes, bytes] | None:
    """``LABEL <client_random hex> <secret hex>`` -> (label, client_random, secret); None for comments."""
    if isinstance(line, bytes):
        line = line.decode("ascii", "replace")
    parts = line.strip().split()
    if len(parts) != 3 or parts[0].startswith("#"):
        return None
    try:
        return parts[0], bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
    except ValueError:
        return None


def parse_keylog(text: bytes | str) -> dict[bytes, dict[str, bytes]]:
    """A whole keylog file: client_random -> {label: secret}."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    out: dict[bytes, dict[str, bytes]] = {}
    for line in text.splitlines():
        parsed = parse_keylog_line(line)
        if parsed:
            label, cr, secret = parsed
            out.setdefault(cr, {})[label] = secret
    return out


class KeylogStore:
    """Secrets from one SSL.Context's keylog callback, kept apart by client random."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_random: dict[bytes, dict[str, bytes]] = {}

    def callback(self, _conn: SSL.Connection, line: bytes) -> None:
        parsed = parse_keylog_line(line)
        if parsed:
            label, cr, secret = parsed
            with self._lock:
                self._by_random.setdefault(cr, {})[label] = secret

    def take(self, client_random: bytes) -> dict[str, bytes]:
        """The secrets of one connection, removed from the store."""
        with self._lock:
            return self._by_random.pop(client_random, {})


# --- configuration -----------------------------------------------------------------------------------

@dataclass
class TlsConfig:
    """One endpoint's TLS settings.

    ``trust_anchors`` are PEM roots; with ``verify_peer`` OpenSSL validates the peer chain
    against them (and the client checks ``server_name`` against the leaf's DNS names).
    ``request_client_cert`` (server) asks for a client certificate; without ``verify_peer``
    any certificate is accepted by OpenSSL and left to the application's ChainValidator.
    """

    identity: pki.Identity | None = None
    cipher_suites: tuple[str, ...] = TLS13_CIPHER_SUITES
    trust_anchors: bytes | None = None
    verify_peer: bool = False
    request_client_cert: bool = False
    server_name: str | None = "localhost"
    timeout: float = DEFAULT_TIMEOUT
    wire_observer: WireObserver | None = None
    # resumption attack demo only: (identity, key) a client offers; identity -> key a server accepts
    psk: tuple[bytes, bytes] | None = None
    psk_store: dict[bytes, bytes] | None = None

    def __post_init__(self) -> None:
        unknown = [s for s in self.cipher_suites if s not in CIPHER_SUITE_HASH]
        if unknown or not self.cipher_suites:
            raise ValueError(f"unsupported TLS 1.3 cipher suites {unknown or '(none)'}")
        if self.verify_peer and not self.trust_anchors:
            raise ValueError("verify_peer needs trust_anchors")


def _load_anchors(ctx: SSL.Context, pem: bytes) -> None:
    store = ctx.get_cert_store()
    assert store is not None
    for cert in x509.load_pem_x509_certificates(pem):
        store.add_cert(crypto.X509.from_cryptography(cert))


_TLS1_3 = 0x0304


def _psk_session(ssl: object, suite: str, key: bytes) -> object:
    """An SSL_SESSION carrying ``key`` as a TLS 1.3 PSK for ``suite`` (OpenSSL frees it)."""
    lib, ffi = Binding.lib, Binding.ffi
    code = {"TLS_AES_128_GCM_SHA256": b"\x13\x01", "TLS_AES_256_GCM_SHA384": b"\x13\x02",
            "TLS_CHACHA20_POLY1305_SHA256": b"\x13\x03"}[suite]
    sess = lib.Cryptography_SSL_SESSION_new()
    cipher = lib.SSL_CIPHER_find(ssl, code)
    if (sess == ffi.NULL or cipher == ffi.NULL or lib.SSL_SESSION_set1_master_key(sess, key, len(key)) != 1
            or lib.SSL_SESSION_set_cipher(sess, cipher) != 1
            or lib.SSL_SESSION_set_protocol_version(sess, _TLS1_3) != 1):
        return ffi.NULL
    return sess


def _install_psk(ctx: SSL.Context, config: TlsConfig, server: bool) -> None:
    """Resumption demo: offer (client) or accept (server) an external TLS 1.3 PSK."""
    lib, ffi = Binding.lib, Binding.ffi
    suite = config.cipher_suites[0]
    if server and config.psk_store:
        store = dict(config.psk_store)

        @ffi.callback("int (*)(SSL *, const unsigned char *, size_t, SSL_SESSION **)")
        def find(ssl, identity, n, sessp):  # type: ignore[no-untyped-def]
            key = store.get(bytes(ffi.buffer(identity, n)))
            sessp[0] = _psk_session(ssl, suite, key) if key is not None else ffi.NULL
            return 1   # unknown identity: no PSK, full handshake
        lib.SSL_CTX_set_psk_find_session_callback(ctx._context, find)  # type: ignore[attr-defined]
        ctx._expat_psk_callback = find  # type: ignore[attr-defined]  # keep it alive with the context
    elif not server and config.psk is not None:
        identity, key = config.psk
        ident_buf = ffi.new("unsigned char[]", identity)

        @ffi.callback("int (*)(SSL *, const EVP_MD *, const unsigned char **, size_t *, SSL_SESSION **)")
        def use(ssl, md, idp, idlen, sessp):  # type: ignore[no-untyped-def]
            idp[0], idlen[0] = ident_buf, len(identity)
            sessp[0] = _psk_session(ssl, suite, key)
            return 1
        lib.SSL_CTX_set_psk_use_session_callback(ctx._context, use)  # type: ignore[attr-defined]
        ctx._expat_psk_callback = (use, ident_buf)  # type: ignore[attr-defined]


def make_context(config: TlsConfig, *, server: bool, keylog: KeylogStore) -> SSL.Context:
    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_3_VERSION)
    ctx.set_max_proto_version(SSL.TLS1_3_VERSION)
    # No tickets, no session cache: NumTickets=0 comes from OPENSSL_CONF (openssl_config.py);
    # OP_NO_TICKET alone still allows stateful TLS 1.3 tickets.
    ctx.set_options(SSL.OP_NO_TICKET)
    ctx.set_session_cache_mode(SSL.SESS_CACHE_OFF)
    ctx.set_tls13_ciphersuites(":".join(config.cipher_suites).encode())
    ctx.set_keylog_callback(keylog.callback)
    if config.identity is not None:
        ident = config.identity
        ctx.use_privatekey(ident.key)
        ctx.use_certificate(ident.leaf)
        for cert in ident.chain[1:-1]:  # intermediates; the root stays with the peer as anchor
            ctx.add_extra_chain_cert(cert)
        ctx.check_privatekey()
    if config.trust_anchors:
        _load_anchors(ctx, config.trust_anchors)
    if server:
        if config.request_client_cert:
            if config.verify_peer:
                ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT)
            else:
                ctx.set_verify(SSL.VERIFY_PEER, lambda *_: True)
        else:
            ctx.set_verify(SSL.VERIFY_NONE)
    else:
        ctx.set_verify(SSL.VERIFY_PEER if config.verify_peer else SSL.VERIFY_NONE)
    if config.psk is not None or config.psk_store:
        _install_psk(ctx, config, server)
    return ctx


# --- connection -------------------------------------------------------------------------------------

class OpenSSLExporter:
    """keyschedule.Exporter backed by OpenSSL's SSL_export_keying_material (RFC 8446 §7.5)."""

    def __init__(self, conn: "TlsConnection") -> None:
        self._conn = conn
        self.hash: HashAlg = conn.hash

    def export_keying_material(self, label: bytes, length: int, context: bytes | None = None) -> bytes:
        """pyOpenSSL's call unchanged: ``context=None`` is OpenSSL's use_context=0."""
        with self._conn._ssl_lock:
            return self._conn._ssl.export_keying_material(label, length, context)

    def export(self, label: bytes, context: bytes, length: int) -> bytes:
        return self.export_keying_material(label, length, context)


class TlsConnection:
    """An established TLS 1.3 connection (built by :class:`TlsServer` / :func:`connect`)."""

    def __init__(self, sock: socket.socket, ctx: SSL.Context, keylog: KeylogStore, *, is_server: bool,
                 config: TlsConfig) -> None:
        self.is_server = is_server
        self.config = config
        self._sock = sock
        self._keylog_store = keylog
        self._ssl = SSL.Connection(ctx, None)
        self._ssl_lock = threading.RLock()   # the SSL object is not thread-safe
        self._out_lock = threading.Lock()    # keeps outgoing records in order on the socket
        self._in_lock = threading.Lock()     # one reader at a time
        self._split = {SENT: RecordSplitter(), RECEIVED: RecordSplitter()}
        self._hello = _ClientHelloCatcher()
        self._hello_dir = RECEIVED if is_server else SENT
        self._closed = False
        self._tcp_eof = False
        self.peer_closed_cleanly = False
        self.handshake_complete = False
        self.keylog: dict[str, bytes] = {}
        sock.settimeout(config.timeout)
        if is_server:
            self._ssl.set_accept_state()
        else:
            if config.server_name:
                self._ssl.set_tlsext_host_name(config.server_name.encode("idna"))
            self._ssl.set_connect_state()

    # -- pumping ------------------------------------------------------------------------------------
    def _observe(self, direction: str, data: bytes) -> None:
        for rec in self._split[direction].feed(data):
            if direction == self._hello_dir:
                self._hello.record(rec)
            if self.config.wire_observer is not None:
                self.config.wire_observer(direction, rec)

    def _flush(self) -> None:
        with self._out_lock:
            chunks = []
            with self._ssl_lock:
                while True:
                    try:
                        chunks.append(self._ssl.bio_read(_READ_CHUNK))
                    except SSL.WantReadError:
                        break
            data = b"".join(chunks)
            if data:
                self._observe(SENT, data)
                self._sock.sendall(data)

    def _pull(self) -> bool:
        """Move one chunk from the socket into OpenSSL; False on TCP EOF."""
        data = self._sock.recv(_READ_CHUNK)
        with self._ssl_lock:
            if not data:
                self._tcp_eof = True
                self._ssl.bio_shutdown()
                return False
            self._observe(RECEIVED, data)
            self._ssl.bio_write(data)
        return True

    def _handshake(self) -> None:
        with self._in_lock:
            while True:
                try:
                    with self._ssl_lock:
                        self._ssl.do_handshake()
                    break
                except SSL.WantReadError:
                    self._flush()
                    if not self._pull():
                        self._flush()
                        raise HandshakeFailure("peer closed the connection during the handshake")
                except SSL.Error as e:
                    self._flush()  # deliver our alert
                    raise HandshakeFailure(f"TLS handshake failed: {e}") from None
            self._flush()
        # On a server, SSL_do_handshake returns only after it verified the client Finished:
        # the precondition of RFC 9261 §9 for sending or processing an authenticator.
        self.handshake_complete = True
        self._after_handshake()

    def _after_handshake(self) -> None:
        TLS13_ONLY.require(self._ssl.get_protocol_version_name() == "TLSv1.3",
                           f"negotiated {self._ssl.get_protocol_version_name()}")
        self.cipher_suite: str = self._ssl.get_cipher_name()
        self.hash: HashAlg = CIPHER_SUITE_HASH[self.cipher_suite]
        self.client_random: bytes = self._ssl.client_random()
        self.keylog = self._keylog_store.take(self.client_random)
        if self._hello.message is None:
            raise HandshakeFailure("no plaintext ClientHello seen on the wire")
        self.client_hello: ClientHelloInfo = parse_client_hello(self._hello.message)
        # a PSK handshake (resumption demo only): the server authenticated on the earlier connection
        self.resumed = bool(Binding.lib.SSL_session_reused(self._ssl._ssl))  # type: ignore[attr-defined]
        if not self.is_server:
            offered_psk = EXT_PRE_SHARED_KEY in self.client_hello.extension_types
            NO_EARLY_DATA.require(EXT_EARLY_DATA not in self.client_hello.extension_types
                                  and (not offered_psk or self.config.psk is not None),
                                  "our ClientHello offered early_data or pre_shared_key")
        self.exporter = OpenSSLExporter(self)
        self.peer_chain_der: list[bytes] = self._peer_chain()
        if not self.is_server and self.config.verify_peer and self.config.server_name and not self.resumed:
            self._check_server_name()

    def _peer_chain(self) -> list[bytes]:
        leaf = self._ssl.get_peer_certificate(as_cryptography=True)
        chain = self._ssl.get_peer_cert_chain(as_cryptography=True) or []
        der = [c.public_bytes(serialization.Encoding.DER) for c in chain]
        if leaf is None:
            return der
        leaf_der = leaf.public_bytes(serialization.Encoding.DER)
        # A server's SSL_get_peer_cert_chain leaves the client's leaf out.
        return der if der and der[0] == leaf_der else [leaf_der] + der

    def _check_server_name(self) -> None:
        leaf = x509.load_der_x509_certificate(self.peer_chain_der[0])
        try:
            names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns = [n.lower() for n in names.get_values_for_type(x509.DNSName)]
        except x509.ExtensionNotFound:
            dns = []
        PEER_NAME.require(self.config.server_name.lower() in dns,
                          f"server certificate names {dns}, not {self.config.server_name!r}")

    # -- secrets ---------------------------------------------------------------------------------------
    @property
    def exporter_master_secret(self) -> bytes:
        """EXPORTER_SECRET from the keylog (RFC 8446 §7.1 exporter_master_secret)."""
        return self.keylog["EXPORTER_SECRET"]

    def export_keying_material(self, label: bytes, length: int, context: bytes | None = None) -> bytes:
        return self.exporter.export_keying_material(label, length, context)

    # -- application data ----------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        if self._closed:
            raise ConnectionError("connection closed")
        view = memoryview(data)
        while view:
            with self._ssl_lock:
                n = self._ssl.send(bytes(view[:MAX_WRITE]))
            view = view[n:]
            self._flush()

    sendall = send

    def recv(self, n: int = _READ_CHUNK) -> bytes:
        """Up to ``n`` bytes of application data; b"" once the peer has closed."""
        with self._in_lock:
            while True:
                try:
                    with self._ssl_lock:
                        data = self._ssl.recv(n)
                    self._flush()
                    return data
                except SSL.WantReadError:
                    self._flush()
                    if not self._pull():
                        return b""
                except SSL.ZeroReturnError:
                    self.peer_closed_cleanly = True
                    return b""
                except SSL.Error as e:
                    if self._tcp_eof:
                        return b""  # TCP EOF without close_notify (peer_closed_cleanly stays False)
                    self._flush()
                    raise ProtocolError(f"TLS record layer error: {e}", alert=Alert.bad_record_mac) from None

    def recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.recv(n - len(buf))
            if not chunk:
                raise EOFError(f"connection closed after {len(buf)} of {n} bytes")
            buf += chunk
        return bytes(buf)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            with self._ssl_lock:
                self._ssl.shutdown()  # close_notify
            self._flush()
        except (SSL.Error, OSError):
            pass
        finally:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()

    def __enter__(self) -> "TlsConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _establish(sock: socket.socket, config: TlsConfig, *, server: bool, ctx: SSL.Context | None = None,
               keylog: KeylogStore | None = None) -> TlsConnection:
    keylog = keylog or KeylogStore()
    ctx = ctx or make_context(config, server=server, keylog=keylog)
    try:
        conn = TlsConnection(sock, ctx, keylog, is_server=server, config=config)
        conn._handshake()
    except BaseException:
        sock.close()
        raise
    return conn


class TlsServer:
    """A listening TLS 1.3 endpoint on loopback; ``accept()`` returns one handshaken connection."""

    def __init__(self, config: TlsConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        if config.identity is None:
            raise ValueError("a TLS server needs an identity")
        self.config = config
        self._keylog = KeylogStore()
        self._ctx = make_context(config, server=True, keylog=self._keylog)
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(config.timeout)
        self.address: tuple[str, int] = self._listener.getsockname()[:2]

    def accept(self) -> TlsConnection:
        sock, _ = self._listener.accept()
        return _establish(sock, self.config, server=True, ctx=self._ctx, keylog=self._keylog)

    def close(self) -> None:
        self._listener.close()

    def __enter__(self) -> "TlsServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(address: tuple[str, int], config: TlsConfig) -> TlsConnection:
    sock = socket.create_connection(address, timeout=config.timeout)
    return _establish(sock, config, server=False)


def loopback_pair(server_config: TlsConfig, client_config: TlsConfig) -> tuple[TlsConnection, TlsConnection]:
    """A connected (client, server) pair over 127.0.0.1 on a listener of its own."""
    with TlsServer(server_config) as server:
        return connect_pair(server, client_config)


def connect_pair(server: TlsServer, client_config: TlsConfig) -> tuple[TlsConnection, TlsConnection]:
    """(client, server) connections to a running ``server``; the server side handshakes in a thread
    (the listener and its SSL context are reused, as a deployed server would)."""
    result: dict[str, object] = {}

    def serve() -> None:
        try:
            result["server"] = server.accept()
        except BaseException as e:  # re-raised in the caller
            result["error"] = e

    t = threading.Thread(target=serve, name="expat-tls-accept", daemon=True)
    t.start()
    try:
        client = connect(server.address, client_config)
    except BaseException:
        t.join(server.config.timeout + 1)
        srv = result.get("server")
        if isinstance(srv, TlsConnection):
            srv.close()
        raise
    t.join(server.config.timeout + 1)
    if "error" in result or "server" not in result:
        client.close()
        err = result.get("error")
        if isinstance(err, BaseException):
            raise err
        raise TimeoutError("server side of loopback_pair did not finish its handshake")
    return client, result["server"]  # type: ignore[return-value]
