"""Test peers: expat identities/configs and an independent TLS stack (stdlib ``ssl``).

The stdlib ``ssl`` module links the system OpenSSL (3.0.x) while pyOpenSSL bundles
OpenSSL 4.0.x, so a stdlib peer is an independent implementation of the handshake and
key schedule. Its secrets come from ``SSLContext.keylog_filename``.

``stdlib_peer(role, ...)`` starts a stdlib endpoint in a thread and returns a
:class:`StdlibPeer`; ``.result()`` gives the stdlib side's exporter_master_secret (and the
rest of its keylog) once its ``conversation`` callback has run on the live socket, so a
later test can carry Exported Authenticators over that socket and validate them with a
``keyschedule.SecretExporter`` built from the stdlib secret.
"""

from __future__ import annotations

import expat  # noqa: F401  (before anything imports OpenSSL)

import os
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from expat.reference import pki
from expat.reference.keyschedule import CIPHER_SUITE_HASH, HashAlg
from expat.reference.tls import TlsConfig, parse_keylog

SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
KINDS = ("p256", "p384", "ed25519")


def identities(kind: str = "p256") -> tuple[pki.Identity, pki.Identity]:
    """(server, client) identities with separate roots."""
    return (pki.make_identity(kind, seed="tls-test", name="server"),
            pki.make_identity(kind, seed="tls-test", name="client"))


def mutual_configs(kind: str = "p256", suite: str | None = None, **client_kw) -> tuple[TlsConfig, TlsConfig]:
    """(server_config, client_config) for mutually authenticated TLS 1.3."""
    srv, cli = identities(kind)
    suites = (suite,) if suite else SUITES
    server = TlsConfig(identity=srv, cipher_suites=suites, trust_anchors=cli.root_pem(), verify_peer=True,
                       request_client_cert=True)
    client = TlsConfig(identity=cli, trust_anchors=srv.root_pem(), verify_peer=True, **client_kw)
    return server, client


@dataclass
class PeerResult:
    exporter_master_secret: bytes
    hash: HashAlg
    cipher_suite: str
    client_random: bytes
    secrets: dict[str, bytes] = field(default_factory=dict)
    conversation_result: object = None


Conversation = Callable[[ssl.SSLSocket], object]


def _write(tmp: Path, name: str, data: bytes) -> str:
    p = tmp / name
    p.write_bytes(data)
    return str(p)


class StdlibPeer:
    """One stdlib-``ssl`` TLS 1.3 connection in a thread (role "server" listens on loopback)."""

    def __init__(self, role: str, *, identity: pki.Identity | None = None, trust_pem: bytes | None = None,
                 address: tuple[str, int] | None = None, server_name: str = "localhost",
                 conversation: Conversation | None = None, timeout: float = 10.0) -> None:
        if role not in ("client", "server"):
            raise ValueError("role is 'client' or 'server'")
        self.role = role
        self._tmp = tempfile.TemporaryDirectory(prefix="expat-stdlib-peer-")
        tmp = Path(self._tmp.name)
        self._keylog_path = tmp / "keylog.txt"
        self.timeout = timeout
        self.conversation = conversation
        self.server_name = server_name
        if role == "server":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.num_tickets = 0  # editor's copy §7.2: no tickets on attested connections
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = trust_pem is not None
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.keylog_filename = str(self._keylog_path)
        if identity is not None:
            ctx.load_cert_chain(_write(tmp, "chain.pem", identity.chain_pem()), _write(tmp, "key.pem", identity.key_pem()))
        if trust_pem is not None:
            ctx.load_verify_locations(cadata=trust_pem.decode())
            ctx.verify_mode = ssl.CERT_REQUIRED
        else:
            ctx.verify_mode = ssl.CERT_NONE
        self.ctx = ctx
        self._listener: socket.socket | None = None
        if role == "server":
            self._listener = socket.create_server(("127.0.0.1", 0))
            self._listener.settimeout(timeout)
            self.address = self._listener.getsockname()[:2]
        else:
            if address is None:
                raise ValueError("a client needs an address")
            self.address = address
        self._result: PeerResult | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stdlib-{role}", daemon=True)

    def start(self) -> "StdlibPeer":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            if self._listener is not None:
                raw, _ = self._listener.accept()
                raw.settimeout(self.timeout)
                tls = self.ctx.wrap_socket(raw, server_side=True)
            else:
                raw = socket.create_connection(self.address, timeout=self.timeout)
                tls = self.ctx.wrap_socket(raw, server_hostname=self.server_name)
            with tls:
                conv = self.conversation(tls) if self.conversation else None
                suite = tls.cipher()[0]
                keylog = parse_keylog(self._keylog_path.read_bytes())
                [(client_random, secrets)] = keylog.items()  # one connection per peer
                self._result = PeerResult(secrets["EXPORTER_SECRET"], CIPHER_SUITE_HASH[suite], suite,
                                          client_random, secrets, conv)
                self._ready.set()
                try:
                    tls.unwrap()  # close_notify, then wait for the peer's
                except (ssl.SSLError, OSError, ValueError):
                    pass
        except BaseException as e:  # re-raised by result()
            self._error = e
        finally:
            self._ready.set()
            if self._listener is not None:
                self._listener.close()
            self._tmp.cleanup()

    def result(self) -> PeerResult:
        """The stdlib side's secrets, once its conversation has run (the socket may still be open)."""
        if not self._ready.wait(self.timeout + 5):
            raise TimeoutError(f"stdlib {self.role} did not finish")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def join(self) -> None:
        """Wait until the stdlib side has closed its connection."""
        self._thread.join(self.timeout + 5)


def stdlib_peer(role: str, **kw) -> StdlibPeer:
    """Start a stdlib TLS 1.3 peer; see :class:`StdlibPeer` for the keywords."""
    return StdlibPeer(role, **kw).start()


def env_without_openssl_conf() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("OPENSSL_CONF", None)
    return env
