"""A reusable attested-connection setup for benchmarks and the soak run.

:class:`AttestationFixture` builds once what a deployment provisions once: Attesting Environments
(a small pool of devices), the Verifier with their trust anchors and reference values, the TLS
server identity and both TLS configurations. The two halves of one connection (draft -02 §3.4
background-check model, §7.3 application data only after attestation) then run over a real
:class:`~expat.reference.tls.TlsConnection`.

:func:`relying_party` and :func:`attester` run on either TLS side (the client attests by default;
``expat soak --attester server`` swaps the roles). Each half returns a plain record of what it saw;
:mod:`expat.perf.soak` pairs them by the TLS client_random to detect cross-connection confusion.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from expat.errors import ProtocolError
from expat.profile import Profile, get_profile
from expat.reference import pki, tls
from expat.reference.attestation.endpoint import BACKGROUND_CHECK, AttestedEndpoint, VerifierHandle
from expat.reference.attestation.environment import SoftwareAttestingEnvironment
from expat.reference.attestation.verifier import Verifier


class EventLog:
    """A Recorder (endpoint.Recorder protocol) keeping only what the soak cross-check needs."""

    KEEP = {"EvidenceRequested": ("ctx", "binding", "aik"), "AuthenticatorSent": ("ctx", "cmw")}

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, Any]] = {}

    def emit(self, event: str, agent: str, /, **args: Any) -> None:
        keep = self.KEEP.get(event)
        if keep is not None:
            self.seen[event] = {k: args.get(k) for k in keep}


class _NoRecorder:
    def emit(self, event: str, agent: str, /, **args: Any) -> None:
        return None


@dataclass
class ConnectionRecord:
    """One side's view of one connection (bytes as hex-free raw values; compared, never printed)."""

    side: str
    index: int
    client_random: bytes = b""
    ok: bool = False
    error: str = ""
    ctx: bytes = b""
    binding: bytes = b""
    aik_spki: bytes = b""
    cmw: str = ""
    payload: bytes = b""          # client: what it sent; server: what it received
    echo_ok: bool = False         # client: the echo matched its payload


@dataclass
class AttestationFixture:
    """Everything provisioned once; ``devices`` Attesting Environments are shared round-robin."""

    profile: Profile = field(default_factory=lambda: get_profile("default"))
    devices: int = 4
    seed: bytes = b"expat-perf"
    suite: str = "TLS_AES_128_GCM_SHA256"
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not 1 <= self.devices <= 64:
            raise ValueError("devices must be 1..64")
        self.aes = [SoftwareAttestingEnvironment(seed=self.seed + b"|ae%d" % i, profile=self.profile,
                                                 device=f"expat perf device {i}") for i in range(self.devices)]
        for ae in self.aes:
            ae.aik_identity()  # build lazily-made state before any thread shares the AE
        self.verifier_key = pki.derive_key("p256", self.seed + b"|verifier")
        self.verifier = Verifier([ae.manufacturer_root for ae in self.aes], self.aes[0].reference_values(),
                                 self.verifier_key, profile=self.profile)
        self.verifier_handle = VerifierHandle(self.verifier, public_key=self.verifier_key.public_key())
        self.aik_anchors: list[x509.Certificate] = [
            ae.aik_identity().root if self.profile.aik_certificate == "device-ca" else ae.aik_identity().leaf
            for ae in self.aes]
        self.server_identity = pki.make_identity("p256", seed=self.seed + b"|tls-server", name="server")
        self.server_config = tls.TlsConfig(identity=self.server_identity, cipher_suites=(self.suite,),
                                           timeout=self.timeout)
        self.client_config = tls.TlsConfig(cipher_suites=(self.suite,), trust_anchors=self.server_identity.root_pem(),
                                           verify_peer=True, timeout=self.timeout)

    def ae_for(self, index: int) -> SoftwareAttestingEnvironment:
        return self.aes[index % len(self.aes)]


def payload_for(index: int, client_random: bytes) -> bytes:
    """Application data unique to one connection, so a mixed-up echo is detectable."""
    return b"expat soak %d " % index + hashlib.sha256(client_random).digest()


def _side(conn: tls.TlsConnection) -> str:
    return "server" if conn.is_server else "client"


def relying_party(fx: AttestationFixture, conn: tls.TlsConnection, index: int,
                  attester: str = "client") -> ConnectionRecord:
    """Relying Party half (on either TLS side): request attestation, validate (EA + binding + Verifier
    appraisal), then echo the attester's application data reversed. Never raises a ProtocolError (it
    lands in the record)."""
    side = _side(conn)
    rec = ConnectionRecord(side=f"rp-{side}", index=index, client_random=conn.client_random)
    try:
        ep = AttestedEndpoint.create(side, conn, fx.profile, BACKGROUND_CHECK, conn_id=f"conn{index}",
                                     recorder=_NoRecorder(), verifier=fx.verifier_handle,
                                     aik_anchors=fx.aik_anchors, must_attest=(attester,))
        request = ep.request_attestation()
        outcome = ep.accept_authenticator(request)
        rec.ctx, rec.binding, rec.aik_spki, rec.cmw = outcome.ctx, outcome.binding, outcome.aik_spki, outcome.cmw
        rec.payload = ep.receive_application_data()
        ep.send_application_data(rec.payload[::-1])
        rec.ok = outcome.accepted
    except (ProtocolError, OSError, EOFError, ConnectionError) as e:
        rec.error = f"{type(e).__name__}: {e}"
    finally:
        conn.close()
    return rec


def attester(fx: AttestationFixture, conn: tls.TlsConnection, index: int) -> ConnectionRecord:
    """Attester half (on either TLS side): answer the request with Evidence in an authenticator, learn
    the outcome, then send application data and check the echo."""
    side = _side(conn)
    rec = ConnectionRecord(side=f"attester-{side}", index=index, client_random=conn.client_random)
    log = EventLog()
    try:
        ep = AttestedEndpoint.create(side, conn, fx.profile, BACKGROUND_CHECK, conn_id=f"conn{index}",
                                     recorder=log, ae=fx.ae_for(index), must_attest=(side,))
        ep.answer_request()
        outcome = ep.await_outcome()
        asked, sent = log.seen.get("EvidenceRequested", {}), log.seen.get("AuthenticatorSent", {})
        rec.ctx, rec.binding, rec.aik_spki, rec.cmw = (asked.get("ctx") or b"", asked.get("binding") or b"",
                                                      asked.get("aik") or b"", sent.get("cmw") or "")
        if not outcome.accepted or outcome.ctx != rec.ctx:
            rec.error = "outcome frame does not accept this connection's request"
            return rec
        rec.payload = payload_for(index, conn.client_random)
        ep.send_application_data(rec.payload)
        rec.echo_ok = ep.receive_application_data() == rec.payload[::-1]
        rec.ok = rec.echo_ok
        if not rec.echo_ok:
            rec.error = "application data echo differs"
    except (ProtocolError, OSError, EOFError, ConnectionError) as e:
        rec.error = f"{type(e).__name__}: {e}"
    finally:
        conn.close()
    return rec


def loopback_connection(fx: AttestationFixture, server: tls.TlsServer) -> tuple[tls.TlsConnection, tls.TlsConnection]:
    """(client, server) TLS 1.3 connections to a running ``server`` (:func:`expat.reference.tls.connect_pair`)."""
    return tls.connect_pair(server, fx.client_config)


def attested_connection_sequential(fx: AttestationFixture, index: int = 0,
                                   server: tls.TlsServer | None = None) -> tuple[bool, str]:
    """One full attested connection on loopback, both halves driven in one thread after the
    handshake (like ``expat run``): handshake, request, Evidence, authenticator, validation,
    appraisal, application data. Returns (ok, error). With ``server`` the listener is reused."""
    if server is not None:
        client_conn, server_conn = loopback_connection(fx, server)
    else:
        client_conn, server_conn = tls.loopback_pair(fx.server_config, fx.client_config)
    try:
        ae = fx.ae_for(index)
        rp = AttestedEndpoint.create("server", server_conn, fx.profile, BACKGROUND_CHECK, conn_id="bench",
                                     verifier=fx.verifier_handle, aik_anchors=fx.aik_anchors,
                                     must_attest=("client",))
        att = AttestedEndpoint.create("client", client_conn, fx.profile, BACKGROUND_CHECK, conn_id="bench",
                                      ae=ae, must_attest=("client",))
        request = rp.request_attestation()
        att.answer_request()
        outcome = rp.accept_authenticator(request)
        att.await_outcome()
        att.send_application_data(b"x")
        rp.receive_application_data()
        return outcome.accepted, ""
    except ProtocolError as e:
        return False, str(e)
    finally:
        client_conn.close()
        server_conn.close()
