"""Writes the SYNTHETIC example traces in this directory (hand-written scenarios, not protocol runs).

    .venv/bin/python traces/examples/build_examples.py          # rewrite the *.jsonl files

Each scenario is spelled out event by event with :class:`expat.model.trace.TraceRecorder`. Values
that a real run would compute (bindings in traces without secrets, identifiers) are synthetic but
consistent; the ``synthetic-*-secrets`` traces carry a real exporter_master_secret, real keys and
certificates, and a real Exported Authenticator, built here with hashlib / cryptography
independently of expat's EA code. The header's ``expect`` says what tests expect of each trace.
The golden corpus from the reference implementation lives elsewhere (traces/golden/, later).
"""

from __future__ import annotations

import hashlib
import hmac
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

import expat  # noqa: E402,F401  (OpenSSL config first)
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from expat.model.trace import TraceRecorder  # noqa: E402
from expat.reference import pki  # noqa: E402
from expat.reference.keyschedule import SHA256, tls_exporter  # noqa: E402

SUITE = "TLS_AES_128_GCM_SHA256"
CMW_EXT = 0xFFFF  # default profile's cmw_attestation codepoint
SIG_ALGS = 13


def profile(**changes: Any) -> dict:
    """Every parameter of the default profile, with mitigations switched off as asked."""
    from expat.profile import Profile

    p = Profile()
    off = {k: v for k, v in changes.items() if k in p.to_dict()["mitigations"]}
    top = {k: v for k, v in changes.items() if k not in off}
    if off:
        p = p.with_mitigations(**off)
    d = p.to_dict()
    d.update(top)
    return d


def aik(name: str) -> bytes:
    return pki.spki_der(pki.derive_key("p256", "synthetic-aik|" + name))


def H(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def synthetic_binding(conn: str, ctx: bytes, key: bytes, label: str = "Attestation") -> bytes:
    """Stands for H(public_key || exported_value) in traces without secrets (never recomputed)."""
    return H(b"synthetic-binding|" + label.encode() + b"|" + conn.encode() + b"|" + ctx + b"|" + key)


class Scenario:
    def __init__(self, name: str, description: str, *, expect_conformant: bool, properties: tuple[str, ...] = (),
                 prof: dict | None = None, adversaries: tuple[str, ...] = (), with_secrets: bool = False,
                 mitigations_off: tuple[str, ...] = ()):
        self.name = name
        self.rec = TraceRecorder(profile=prof or profile(), seed=name, cipher_suite=SUITE, with_secrets=with_secrets,
                                 description="SYNTHETIC example: " + description, adversaries=list(adversaries),
                                 expect={"conformant": expect_conformant, "properties": sorted(properties),
                                         "mitigations_off": list(mitigations_off)})

    def e(self, event: str, agent: str, **args: Any) -> None:
        self.rec.emit(event, agent, **args)

    # -- building blocks --------------------------------------------------------------------

    def channel(self, conn: str, client: str, server: str, attest: list[str], resumed: str = "-",
                ems: bytes | None = None) -> None:
        for agent, side in ((client, "client"), (server, "server")):
            self.e("ChannelEstablished", agent, conn=conn, side=side, suite=SUITE, attest=attest, resumed_from=resumed,
                   exporter_master_secret=ems)

    def aik_gen(self, ae: str, owner: str) -> bytes:
        key = aik(owner)
        self.e("AikGenerated", ae, aik=key, owner=owner)
        return key

    def request(self, conn: str, rp: str, te: str, ctx: bytes, rp_side: str, request: bytes | None = None,
                te_receives: bool = True) -> None:
        args = dict(conn=conn, ctx=ctx, msg_type=13 if rp_side == "server" else 17, extensions=[SIG_ALGS, CMW_EXT],
                    attestation_offered=True, request=request)
        self.e("RequestSent", rp, **args)
        if te_receives:
            self.e("RequestReceived", te, **args)

    def evidence(self, conn: str, te: str, ae: str, ctx: bytes, key: bytes, cmw: str, binding: bytes,
                 spontaneous: bool = False, produce: bool = True, exported_value: bytes | None = None) -> None:
        self.e("EvidenceRequested", te, conn=conn, ctx=ctx, ae=ae, binding=binding, aik=key, spontaneous=spontaneous,
               exported_value=exported_value)
        if produce:
            self.e("EvidenceProduced", ae, cmw=cmw, te=te, binding=binding, aik_hash=H(key), attestation_key="ak-" + ae)

    def send_accept(self, conn: str, te: str | None, rp: str, ctx: bytes, key: bytes, kind: str, cmw: str,
                    spontaneous: bool = False, authenticator: bytes | None = None,
                    certificate: bytes | None = None) -> None:
        if te is not None:
            self.e("AuthenticatorSent", te, conn=conn, ctx=ctx, aik=key, kind=kind, cmw=cmw, spontaneous=spontaneous,
                   authenticator=authenticator)
        self.e("AuthenticatorAccepted", rp, conn=conn, ctx=ctx, aik=key, kind=kind, cmw=cmw, spontaneous=spontaneous,
               authenticator=authenticator, certificate=certificate)

    def check(self, conn: str, rp: str, ctx: bytes, expected: bytes, carried: bytes, key: bytes,
              carried_aik_hash: bytes | None = None, label: str = "Attestation",
              exported_value: bytes | None = None) -> None:
        self.e("BindingChecked", rp, conn=conn, ctx=ctx, expected_binding=expected, cmw_binding=carried,
               expected_aik_hash=H(key), cmw_aik_hash=H(key) if carried_aik_hash is None else carried_aik_hash,
               label=label, exported_value=exported_value)

    def appraise(self, conn: str, rp: str, verifier: str, ctx: bytes, cmw: str, result: str, expected: bytes,
                 nonce: bytes = b"") -> None:
        self.e("EvidenceForwarded", rp, conn=conn, ctx=ctx, verifier=verifier, cmw=cmw, expected_binding=expected)
        self.e("EvidenceAppraised", verifier, cmw=cmw, result=result, status="affirming", binding_echo=b"",
               nonce=nonce, to=rp)
        self.e("AttestationResultReceived", rp, conn=conn, ctx=ctx, result=result, status="affirming")

    def complete(self, conn: str, ctx: bytes, attester_side: str, cmw: str, *agents: str) -> None:
        for agent in agents:
            self.e("AttestationCompleted", agent, conn=conn, ctx=ctx, attester=attester_side, cmw=cmw)

    def data(self, conn: str, sender: str, receiver: str, n: int = 64) -> None:
        self.e("ApplicationDataSent", sender, conn=conn, length=n)
        self.e("ApplicationDataReceived", receiver, conn=conn, length=n)

    def background(self, conn: str, rp: str, te: str, ae: str, verifier: str, ctx: bytes, key: bytes, cmw: str,
                   result: str, rp_side: str, nonce: bool = True) -> None:
        """One complete, honest background-check attestation of ``te`` to ``rp``."""
        if nonce:
            self.e("NonceIssued", verifier, nonce=ctx, to=rp)
        self.request(conn, rp, te, ctx, rp_side)
        b = synthetic_binding(conn, ctx, key)
        self.evidence(conn, te, ae, ctx, key, cmw, b)
        self.send_accept(conn, te, rp, ctx, key, "evidence", cmw)
        self.check(conn, rp, ctx, b, b, key)
        self.appraise(conn, rp, verifier, ctx, cmw, result, b, nonce=ctx if nonce else b"")
        self.complete(conn, ctx, "client" if rp_side == "server" else "server", cmw, rp, te)

    def passport(self, conn: str, rp: str, te: str, ae: str, verifier: str, ctx: bytes, key: bytes, cmw: str,
                 result: str, rp_side: str, echo: bool = True) -> None:
        """One complete, honest passport-model attestation of ``te`` to ``rp``."""
        self.request(conn, rp, te, ctx, rp_side)
        b = synthetic_binding(conn, ctx, key)
        self.evidence(conn, te, ae, ctx, key, cmw, b)
        self.e("EvidenceSubmitted", te, conn=conn, ctx=ctx, verifier=verifier, cmw=cmw)
        self.e("EvidenceAppraised", verifier, cmw=cmw, result=result, status="affirming",
               binding_echo=b if echo else b"", nonce=b"", to=te)
        self.e("AttestationResultObtained", te, conn=conn, ctx=ctx, result=result, status="affirming")
        self.send_accept(conn, te, rp, ctx, key, "result", result)
        if echo:
            self.check(conn, rp, ctx, b, b, key)
        self.e("AttestationResultReceived", rp, conn=conn, ctx=ctx, result=result, status="affirming")
        self.complete(conn, ctx, "client" if rp_side == "server" else "server", result, rp, te)


# --- real Exported Authenticator (RFC 9261 §5), built independently of expat's EA code ---------

def _hs(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def real_request(ctx: bytes) -> bytes:
    """CertificateRequest (13) with signature_algorithms [ecdsa_secp256r1_sha256] and empty cmw_attestation."""
    sig_algs = (2).to_bytes(2, "big") + (0x0403).to_bytes(2, "big")
    exts = (SIG_ALGS.to_bytes(2, "big") + len(sig_algs).to_bytes(2, "big") + sig_algs
            + CMW_EXT.to_bytes(2, "big") + b"\x00\x00")
    return _hs(13, bytes([len(ctx)]) + ctx + len(exts).to_bytes(2, "big") + exts)


def real_authenticator(ems: bytes, ctx: bytes, request: bytes, identity: pki.Identity, cmw: bytes,
                       sender: str = "client") -> bytes:
    leaf = identity.leaf.public_bytes(serialization.Encoding.DER)
    ext_data = len(cmw).to_bytes(2, "big") + cmw
    exts = CMW_EXT.to_bytes(2, "big") + len(ext_data).to_bytes(2, "big") + ext_data
    entry = len(leaf).to_bytes(3, "big") + leaf + len(exts).to_bytes(2, "big") + exts
    cert = _hs(11, bytes([len(ctx)]) + ctx + len(entry).to_bytes(3, "big") + entry)
    hc = tls_exporter(SHA256, ems, f"EXPORTER-{sender} authenticator handshake context".encode(), b"", 32)
    fk = tls_exporter(SHA256, ems, f"EXPORTER-{sender} authenticator finished key".encode(), b"", 32)
    content = b" " * 64 + b"Exported Authenticator" + b"\x00" + H(hc + request + cert)
    sig = identity.key.sign(content, ec.ECDSA(pki.hashes.SHA256(), deterministic_signing=True))  # RFC 6979
    cv = _hs(15, (0x0403).to_bytes(2, "big") + len(sig).to_bytes(2, "big") + sig)
    fin = _hs(20, hmac.new(fk, H(hc + request + cert + cv), "sha256").digest())
    return cert + cv + fin


def real_binding(ems: bytes, ctx: bytes, spki: bytes, label: str = "Attestation") -> tuple[bytes, bytes]:
    ev = tls_exporter(SHA256, ems, label.encode(), ctx, 32)
    return ev, H(spki + ev)


# --- scenarios -----------------------------------------------------------------------------------

def honest_background() -> Scenario:
    s = Scenario("synthetic-honest-background", "client attests to the server, background-check model, "
                 "Verifier nonce as context, data after attestation", expect_conformant=True)
    s.channel("c1", "client", "server", ["client"])
    key = s.aik_gen("client-ae", "client")
    s.background("c1", "server", "client", "client-ae", "verifier", bytes.fromhex("a1" * 16), key, "ev-1", "ar-1",
                 "server")
    s.data("c1", "client", "server")
    s.data("c1", "server", "client")
    return s


def honest_passport() -> Scenario:
    s = Scenario("synthetic-honest-passport", "server attests to the client (ClientCertificateRequest), passport "
                 "model, the Attestation Result echoes the binding", expect_conformant=True)
    s.channel("c1", "client", "server", ["server"])
    key = s.aik_gen("server-ae", "server")
    s.passport("c1", "client", "server", "server-ae", "verifier", bytes.fromhex("b2" * 16), key, "ev-1", "ar-1",
               "client")
    s.data("c1", "client", "server")
    return s


def honest_mutual() -> Scenario:
    s = Scenario("synthetic-honest-mutual-reattest", "mutual attestation (both directions, background check), "
                 "then data, then a re-attestation of the client with a new context", expect_conformant=True)
    s.channel("c1", "client", "server", ["client", "server"])
    kc = s.aik_gen("client-ae", "client")
    ks = s.aik_gen("server-ae", "server")
    s.background("c1", "server", "client", "client-ae", "verifier", bytes.fromhex("c1" * 16), kc, "ev-c1", "ar-c1",
                 "server")
    s.background("c1", "client", "server", "server-ae", "verifier", bytes.fromhex("c2" * 16), ks, "ev-s1", "ar-s1",
                 "client")
    s.data("c1", "client", "server")
    s.data("c1", "server", "client")
    s.background("c1", "server", "client", "client-ae", "verifier", bytes.fromhex("c3" * 16), kc, "ev-c2", "ar-c2",
                 "server")
    s.data("c1", "client", "server")
    return s


def honest_secrets() -> Scenario:
    s = Scenario("synthetic-honest-secrets", "client attests to the server (background check) with a real "
                 "exporter_master_secret, real AIK certificate, real binding and a real Exported Authenticator",
                 expect_conformant=True, with_secrets=True)
    ems = H(b"synthetic exporter_master_secret")
    ident = pki.make_identity("p256", seed="synthetic-secrets", name="client")
    spki = pki.spki_der(ident.key)
    ctx = bytes.fromhex("d4" * 16)
    s.channel("c1", "client", "server", ["client"], ems=ems)
    s.e("AikGenerated", "client-ae", aik=spki, owner="client")
    s.e("NonceIssued", "verifier", nonce=ctx, to="server")
    req = real_request(ctx)
    s.request("c1", "server", "client", ctx, "server", request=req)
    ev, b = real_binding(ems, ctx, spki)
    s.evidence("c1", "client", "client-ae", ctx, spki, "ev-1", b, exported_value=ev)
    auth = real_authenticator(ems, ctx, req, ident, b"\x82\x19\xfd\xe7\x44\x23\x47\xda\x55")
    leaf = ident.leaf.public_bytes(serialization.Encoding.DER)
    s.send_accept("c1", "client", "server", ctx, spki, "evidence", "ev-1", authenticator=auth, certificate=leaf)
    s.check("c1", "server", ctx, b, b, spki, exported_value=ev)
    s.appraise("c1", "server", "verifier", ctx, "ev-1", "ar-1", b, nonce=ctx)
    s.complete("c1", ctx, "client", "ev-1", "server", "client")
    s.data("c1", "client", "server")
    return s


# --- attacks (each with the named mitigation off) -----------------------------------------------

def attack_replay_connection() -> Scenario:
    s = Scenario("synthetic-attack-replay-connection", "Evidence made for connection c1 is replayed by a host "
                 "holding the AIK into connection c2; the server does not compare bindings",
                 expect_conformant=False, properties=("channel_binding", "evidence_freshness", "request_binding",
                                                      "no_diversion", "reattestation_fresh"),
                 prof=profile(check_binding=False), adversaries=("mallory",), mitigations_off=("check_binding",))
    s.channel("c1", "client", "server", ["client"])
    key = s.aik_gen("client-ae", "client")
    s.background("c1", "server", "client", "client-ae", "verifier", bytes.fromhex("a1" * 16), key, "ev-1", "ar-1",
                 "server", nonce=False)
    s.e("KeyRevealed", "mallory", key=key)
    s.channel("c2", "mallory", "server", ["client"])
    ctx2 = bytes.fromhex("a2" * 16)
    s.request("c2", "server", "mallory", ctx2, "server")
    s.send_accept("c2", "mallory", "server", ctx2, key, "evidence", "ev-1")
    s.check("c2", "server", ctx2, synthetic_binding("c2", ctx2, key), synthetic_binding("c1", bytes.fromhex("a1" * 16),
                                                                                        key), key)
    s.appraise("c2", "server", "verifier", ctx2, "ev-1", "ar-2", synthetic_binding("c2", ctx2, key))
    s.complete("c2", ctx2, "client", "ev-1", "server")
    return s


def attack_replay_request() -> Scenario:
    s = Scenario("synthetic-attack-replay-request", "on one connection the attester answers a re-attestation "
                 "request with the Evidence of the first request; the server does not compare bindings",
                 expect_conformant=False, properties=("request_binding", "reattestation_fresh", "evidence_freshness"),
                 prof=profile(check_binding=False), adversaries=("mallory",), mitigations_off=("check_binding",))
    s.channel("c1", "mallory", "server", ["client"])
    key = s.aik_gen("m-ae", "mallory")
    ctx1, ctx2 = bytes.fromhex("e1" * 16), bytes.fromhex("e2" * 16)
    s.background("c1", "server", "mallory", "m-ae", "verifier", ctx1, key, "ev-1", "ar-1", "server", nonce=False)
    s.data("c1", "server", "mallory")
    s.request("c1", "server", "mallory", ctx2, "server")
    s.send_accept("c1", "mallory", "server", ctx2, key, "evidence", "ev-1")
    s.check("c1", "server", ctx2, synthetic_binding("c1", ctx2, key), synthetic_binding("c1", ctx1, key), key)
    s.appraise("c1", "server", "verifier", ctx2, "ev-1", "ar-2", synthetic_binding("c1", ctx2, key))
    s.complete("c1", ctx2, "client", "ev-1", "server")
    return s


def attack_split_relay() -> Scenario:
    s = Scenario("synthetic-attack-split-relay", "split deployment: a host outside the TEE authenticates with its "
                 "own key and has the TEE sign Evidence over its binding; AIK_pub_hash is not compared",
                 expect_conformant=False, properties=("aik_in_tee",), prof=profile(check_aik_pub_hash=False),
                 adversaries=("mallory",), mitigations_off=("check_aik_pub_hash",))
    s.channel("c1", "mallory", "server", ["client"])
    tee_key = s.aik_gen("client-ae", "client")
    own = aik("mallory-outside-tee")
    ctx = bytes.fromhex("f1" * 16)
    s.e("NonceIssued", "verifier", nonce=ctx, to="server")
    s.request("c1", "server", "mallory", ctx, "server")
    b = synthetic_binding("c1", ctx, own)
    s.e("EvidenceRequested", "mallory", conn="c1", ctx=ctx, ae="client-ae", binding=b, aik=own, spontaneous=False)
    s.e("EvidenceProduced", "client-ae", cmw="ev-1", te="mallory", binding=b, aik_hash=H(tee_key),
        attestation_key="ak-client-ae")
    s.send_accept("c1", "mallory", "server", ctx, own, "evidence", "ev-1")
    s.check("c1", "server", ctx, b, b, own, carried_aik_hash=H(tee_key))
    s.appraise("c1", "server", "verifier", ctx, "ev-1", "ar-1", b, nonce=ctx)
    s.complete("c1", ctx, "client", "ev-1", "server")
    return s


def attack_reflection() -> Scenario:
    s = Scenario("synthetic-attack-reflection", "mutual attestation: the server reuses the client's context for its "
                 "own request and reflects the client's Evidence back; the binding omits the public key",
                 expect_conformant=False, properties=("no_reflection", "aik_in_tee", "no_diversion"),
                 prof=profile(include_public_key_in_binding=False, check_context_unique=False,
                              check_aik_pub_hash=False),
                 adversaries=("mallory",),
                 mitigations_off=("include_public_key_in_binding", "check_context_unique", "check_aik_pub_hash"))
    s.channel("c1", "client", "mallory", ["client", "server"])
    kc = s.aik_gen("client-ae", "client")
    km = aik("mallory")
    x = bytes.fromhex("99" * 16)
    b = synthetic_binding("c1", x, b"")  # no public key in the binding: same value for both directions
    s.request("c1", "client", "mallory", x, "client")  # client asks the server (ClientCertificateRequest)
    s.e("RequestSent", "mallory", conn="c1", ctx=x, msg_type=13, extensions=[SIG_ALGS, CMW_EXT],
        attestation_offered=True)
    s.e("RequestReceived", "client", conn="c1", ctx=x, msg_type=13, extensions=[SIG_ALGS, CMW_EXT],
        attestation_offered=True)
    s.evidence("c1", "client", "client-ae", x, kc, "ev-c", b)
    s.e("AuthenticatorSent", "client", conn="c1", ctx=x, aik=kc, kind="evidence", cmw="ev-c", spontaneous=False)
    s.e("AuthenticatorSent", "mallory", conn="c1", ctx=x, aik=km, kind="evidence", cmw="ev-c", spontaneous=False)
    s.e("AuthenticatorAccepted", "client", conn="c1", ctx=x, aik=km, kind="evidence", cmw="ev-c", spontaneous=False)
    s.check("c1", "client", x, b, b, km, carried_aik_hash=H(kc))
    s.appraise("c1", "client", "verifier", x, "ev-c", "ar-c", b)
    s.complete("c1", x, "server", "ev-c", "client")
    return s


def attack_passport_replay() -> Scenario:
    s = Scenario("synthetic-attack-passport-replay", "passport model without binding echo: an Attestation Result "
                 "obtained on c1 is replayed into c2", expect_conformant=False,
                 properties=("channel_binding", "evidence_freshness", "request_binding", "no_diversion",
                             "reattestation_fresh"),
                 prof=profile(passport_binding_echo=False), adversaries=("mallory",),
                 mitigations_off=("passport_binding_echo",))
    s.channel("c1", "client", "server", ["server"])
    key = s.aik_gen("server-ae", "server")
    s.passport("c1", "client", "server", "server-ae", "verifier", bytes.fromhex("b1" * 16), key, "ev-1", "ar-1",
               "client", echo=False)
    s.e("KeyRevealed", "mallory", key=key)
    s.channel("c2", "client", "mallory", ["server"])
    ctx2 = bytes.fromhex("b2" * 16)
    s.request("c2", "client", "mallory", ctx2, "client")
    s.send_accept("c2", "mallory", "client", ctx2, key, "result", "ar-1")
    s.e("AttestationResultReceived", "client", conn="c2", ctx=ctx2, result="ar-1", status="affirming")
    s.complete("c2", ctx2, "server", "ar-1", "client")
    return s


def attack_resumption() -> Scenario:
    s = Scenario("synthetic-attack-resumption", "an attested connection issues a session ticket; a resumed "
                 "connection inherits the attestation state and carries data without attesting",
                 expect_conformant=False, properties=("no_resumption", "attest_before_data"),
                 prof=profile(reject_resumption=False), mitigations_off=("reject_resumption",))
    s.channel("c1", "client", "server", ["client"])
    key = s.aik_gen("client-ae", "client")
    s.background("c1", "server", "client", "client-ae", "verifier", bytes.fromhex("a1" * 16), key, "ev-1", "ar-1",
                 "server")
    s.e("NewSessionTicketSent", "server", conn="c1", ticket="t1")
    s.e("NewSessionTicketReceived", "client", conn="c1", ticket="t1", kept=True)
    s.channel("c2", "client", "server", ["client"], resumed="t1")
    s.data("c2", "client", "server")
    return s


def attack_spontaneous() -> Scenario:
    s = Scenario("synthetic-attack-spontaneous", "the server attests in a spontaneous authenticator whose context "
                 "it chose itself; the client accepts it", expect_conformant=False, properties=("request_binding",),
                 prof=profile(reject_spontaneous_attestation=False),
                 mitigations_off=("reject_spontaneous_attestation",))
    s.channel("c1", "client", "server", ["server"])
    key = s.aik_gen("server-ae", "server")
    ctx = bytes.fromhex("5a" * 16)
    b = synthetic_binding("c1", ctx, key)
    s.evidence("c1", "server", "server-ae", ctx, key, "ev-1", b, spontaneous=True)
    s.send_accept("c1", "server", "client", ctx, key, "evidence", "ev-1", spontaneous=True)
    s.check("c1", "client", ctx, b, b, key)
    s.appraise("c1", "client", "verifier", ctx, "ev-1", "ar-1", b)
    s.complete("c1", ctx, "server", "ev-1", "client", "server")
    s.data("c1", "client", "server")
    return s


def attack_other_label() -> Scenario:
    s = Scenario("synthetic-attack-other-label-secrets", "the attester's binding uses the exporter label "
                 "'Attestation Binding' (draft §4) instead of 'Attestation' (§5.1); the requester accepts either",
                 expect_conformant=False, properties=("channel_binding", "request_binding"),
                 prof=profile(check_exporter_label=False), adversaries=("mallory",), with_secrets=True,
                 mitigations_off=("check_exporter_label",))
    ems = H(b"synthetic exporter_master_secret 2")
    s.channel("c1", "mallory", "server", ["client"], ems=ems)
    key = s.aik_gen("m-ae", "mallory")
    ctx = bytes.fromhex("7e" * 16)
    s.request("c1", "server", "mallory", ctx, "server")
    ev, b = real_binding(ems, ctx, key, label="Attestation Binding")
    s.evidence("c1", "mallory", "m-ae", ctx, key, "ev-1", b)
    s.send_accept("c1", "mallory", "server", ctx, key, "evidence", "ev-1")
    s.check("c1", "server", ctx, b, b, key, label="Attestation Binding", exported_value=ev)
    s.appraise("c1", "server", "verifier", ctx, "ev-1", "ar-1", b)
    s.complete("c1", ctx, "client", "ev-1", "server")
    return s


def attack_diversion() -> Scenario:
    s = Scenario("synthetic-attack-diversion", "a man in the middle relays the server's request to the client on "
                 "another connection and diverts the client's Evidence into its own authenticator",
                 expect_conformant=False, properties=("no_diversion", "channel_binding", "request_binding",
                                                      "aik_in_tee"),
                 prof=profile(check_binding=False, check_aik_pub_hash=False), adversaries=("mallory",),
                 mitigations_off=("check_binding", "check_aik_pub_hash"))
    s.channel("c1", "client", "mallory", ["client"])
    s.channel("c2", "mallory", "server", ["client"])
    kc = s.aik_gen("client-ae", "client")
    km = s.aik_gen("m-ae", "mallory")
    ctx = bytes.fromhex("d1" * 16)
    s.request("c2", "server", "mallory", ctx, "server")
    s.request("c1", "mallory", "client", ctx, "server")
    b1 = synthetic_binding("c1", ctx, kc)
    s.evidence("c1", "client", "client-ae", ctx, kc, "ev-1", b1)
    s.e("AuthenticatorSent", "client", conn="c1", ctx=ctx, aik=kc, kind="evidence", cmw="ev-1", spontaneous=False)
    s.send_accept("c2", "mallory", "server", ctx, km, "evidence", "ev-1")
    b2 = synthetic_binding("c2", ctx, km)
    s.check("c2", "server", ctx, b2, b1, km, carried_aik_hash=H(kc))
    s.appraise("c2", "server", "verifier", ctx, "ev-1", "ar-1", b2)
    s.complete("c2", ctx, "client", "ev-1", "server")
    return s


def attack_nonce_reuse() -> Scenario:
    s = Scenario("synthetic-attack-verifier-nonce-reuse", "the server uses one Verifier nonce as context on two "
                 "connections (unique per connection, but not per Verifier); the Verifier accepts it twice",
                 expect_conformant=False, properties=("verifier_nonce_fresh",),
                 prof=profile(check_verifier_nonce=False), mitigations_off=("check_verifier_nonce",))
    key = s.aik_gen("client-ae", "client")
    n = bytes.fromhex("4e" * 16)
    s.channel("c1", "client", "server", ["client"])
    s.background("c1", "server", "client", "client-ae", "verifier", n, key, "ev-1", "ar-1", "server")
    s.channel("c2", "client", "server", ["client"])
    s.request("c2", "server", "client", n, "server")
    b = synthetic_binding("c2", n, key)
    s.evidence("c2", "client", "client-ae", n, key, "ev-2", b)
    s.send_accept("c2", "client", "server", n, key, "evidence", "ev-2")
    s.check("c2", "server", n, b, b, key)
    s.appraise("c2", "server", "verifier", n, "ev-2", "ar-2", b, nonce=n)
    s.complete("c2", n, "client", "ev-2", "server", "client")
    return s


def attack_forged_evidence() -> Scenario:
    s = Scenario("synthetic-attack-forged-evidence", "an attacker sends Evidence no Attesting Environment produced; "
                 "the Verifier does not verify its signature", expect_conformant=False,
                 properties=("evidence_integrity", "aik_in_tee"), prof=profile(check_evidence_signature=False),
                 adversaries=("mallory",), mitigations_off=("check_evidence_signature",))
    s.channel("c1", "mallory", "server", ["client"])
    km = aik("mallory")
    ctx = bytes.fromhex("0f" * 16)
    s.request("c1", "server", "mallory", ctx, "server")
    b = synthetic_binding("c1", ctx, km)
    s.send_accept("c1", "mallory", "server", ctx, km, "evidence", "forged-1")
    s.check("c1", "server", ctx, b, b, km)
    s.appraise("c1", "server", "verifier", ctx, "forged-1", "ar-1", b)
    s.complete("c1", ctx, "client", "forged-1", "server")
    return s


def attack_aik_misuse() -> Scenario:
    s = Scenario("synthetic-attack-aik-misuse", "an attacker presents the client's AIK certificate on its own "
                 "connection and the server accepts without a valid CertificateVerify (no profile switch: RFC 9261 "
                 "§5.2.4 is mandatory)", expect_conformant=False, properties=("aik_ownership",),
                 adversaries=("mallory",))
    kc = s.aik_gen("client-ae", "client")
    s.channel("c1", "mallory", "server", ["client"])
    ctx = bytes.fromhex("6b" * 16)
    s.e("NonceIssued", "verifier", nonce=ctx, to="server")
    s.request("c1", "server", "mallory", ctx, "server")
    b = synthetic_binding("c1", ctx, kc)
    s.evidence("c1", "mallory", "client-ae", ctx, kc, "ev-1", b)
    s.send_accept("c1", "mallory", "server", ctx, kc, "evidence", "ev-1")
    s.check("c1", "server", ctx, b, b, kc)
    s.appraise("c1", "server", "verifier", ctx, "ev-1", "ar-1", b, nonce=ctx)
    s.complete("c1", ctx, "client", "ev-1", "server")
    return s


SCENARIOS = (honest_background, honest_passport, honest_mutual, honest_secrets,
             attack_replay_connection, attack_replay_request, attack_split_relay, attack_reflection,
             attack_passport_replay, attack_resumption, attack_spontaneous, attack_other_label, attack_diversion,
             attack_nonce_reuse, attack_forged_evidence, attack_aik_misuse)


def build_all() -> dict[str, str]:
    """name -> trace text, for every scenario."""
    return {s.name: s.rec.text() for s in (f() for f in SCENARIOS)}


def main() -> int:
    for name, text in build_all().items():
        (HERE / f"{name}.jsonl").write_text(text, encoding="ascii")
        print(f"wrote {name}.jsonl")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
