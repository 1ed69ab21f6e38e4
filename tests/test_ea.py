"""RFC 9261 Exported Authenticators: construction and validation that succeed."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import hashlib
import hmac
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from expat.reference import ea
from expat.reference.ea import EASession, authenticator_keys, get_context, validate_authenticator
from expat.reference.keyschedule import SHA256, SHA384, SecretExporter
from expat.reference.messages import Extension, signature_algorithms
from expat.reference.pki import ChainValidator, make_identity, spki_der

ALL_SCHEMES = [0x0807, 0x0403, 0x0503]
IDENTITIES = {kind: make_identity(kind, seed=b"test-ea", name=f"ea-{kind}") for kind in ("p256", "p384", "ed25519")}
SCHEME_OF = {"p256": "ecdsa_secp256r1_sha256", "p384": "ecdsa_secp384r1_sha384", "ed25519": "ed25519"}


def pair(h=SHA256, **kw):
    ex = SecretExporter(h, os.urandom(h.length))
    server = EASession(ex, True, client_hello_sigalgs=ALL_SCHEMES, **kw)
    client = EASession(ex, False, client_hello_sigalgs=ALL_SCHEMES, **kw)
    return ex, server, client


def validator(kind):
    return ChainValidator([IDENTITIES[kind].root])


# --- independent re-computation (no ea.py helpers) -----------------------------------------------------


def _hkdf_expand_label(algo, secret, label, context, length):
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return HKDFExpand(algo, length, info).derive(secret)


def independent_exporter(h, secret, label, context, length):
    """RFC 8446 §7.5 with cryptography's HKDFExpand."""
    algo = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384()}[h.name]
    empty_hash = hashlib.new(h.name, b"").digest()
    derived = _hkdf_expand_label(algo, secret, label, empty_hash, h.length)
    return _hkdf_expand_label(algo, derived, b"exporter", hashlib.new(h.name, context).digest(), length)


def split(raw):
    out, i = [], 0
    while i < len(raw):
        n = int.from_bytes(raw[i + 1:i + 4], "big")
        out.append(raw[i:i + 4 + n])
        i += 4 + n
    return out


@pytest.mark.parametrize("h", [SHA256, SHA384])
@pytest.mark.parametrize("role", ["client", "server"])
def test_authenticator_keys_match_independent_exporter(h, role):
    secret = os.urandom(h.length)
    keys = authenticator_keys(SecretExporter(h, secret), role)
    assert keys.handshake_context == independent_exporter(
        h, secret, f"EXPORTER-{role} authenticator handshake context".encode(), b"", h.length)
    assert keys.finished_key == independent_exporter(
        h, secret, f"EXPORTER-{role} authenticator finished key".encode(), b"", h.length)
    assert len(keys.handshake_context) == len(keys.finished_key) == h.length


@pytest.mark.parametrize("h", [SHA256, SHA384])
def test_cv_content_and_finished_recomputed_by_hand(h):
    secret = os.urandom(h.length)
    ex = SecretExporter(h, secret)
    ident = IDENTITIES["p256"]
    server, client = EASession(ex, True), EASession(ex, False)
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(ident.key, ident.chain_der(), req)
    cert, cv, fin = split(auth)
    assert (cert[0], cv[0], fin[0]) == (11, 15, 20)
    hc = independent_exporter(h, secret, b"EXPORTER-client authenticator handshake context", b"", h.length)
    fk = independent_exporter(h, secret, b"EXPORTER-client authenticator finished key", b"", h.length)
    # CertificateVerify: scheme, then the signature over 64 spaces || label || 0 || H(HC || REQ || CERT)
    assert cv[4:6] == b"\x04\x03"
    sig = cv[8:]
    assert int.from_bytes(cv[6:8], "big") == len(sig)
    content = b" " * 64 + b"Exported Authenticator" + b"\x00" + hashlib.new(h.name, hc + req + cert).digest()
    assert len(content) == 64 + 22 + 1 + h.length
    ident.key.public_key().verify(sig, content, ec.ECDSA(hashes.SHA256()))
    # Finished: HMAC(finished key, H(HC || REQ || CERT || CV))
    assert fin[4:] == hmac.new(fk, hashlib.new(h.name, hc + req + cert + cv).digest(), h.name).digest()
    assert len(fin) == 4 + h.length


def test_empty_authenticator_recomputed_by_hand():
    secret = os.urandom(32)
    server, client = EASession(SecretExporter(SHA256, secret), True), EASession(SecretExporter(SHA256, secret), False)
    req = client.request([signature_algorithms([0x0403])], context=b"\x01\x02\x03")
    empty = server.empty_authenticator(req)
    hc = independent_exporter(SHA256, secret, b"EXPORTER-server authenticator handshake context", b"", 32)
    fk = independent_exporter(SHA256, secret, b"EXPORTER-server authenticator finished key", b"", 32)
    cert_empty = bytes.fromhex("0b000007" "03010203" "000000")  # ctx of the request, zero entries
    assert empty == b"\x14\x00\x00\x20" + hmac.new(fk, hashlib.sha256(hc + req + cert_empty).digest(),
                                                   "sha256").digest()


@pytest.mark.parametrize("kind,h", [("p256", SHA256), ("p384", SHA384), ("ed25519", SHA256), ("ed25519", SHA384),
                                    ("p256", SHA384)])
@pytest.mark.parametrize("sender", ["client", "server"])
def test_round_trip_both_directions(kind, h, sender):
    _, server, client = pair(h)
    ident = IDENTITIES[kind]
    requester, responder = (server, client) if sender == "client" else (client, server)
    req = requester.request([signature_algorithms([0x0403, 0x0503, 0x0807])])
    assert req[0] == (13 if requester is server else 17)
    auth = responder.authenticate(ident.key, ident.chain_der(), req)
    res = requester.validate(req, auth, validator(kind))
    assert res.valid and not res.empty and res.chain_validated
    assert res.sender_role == sender
    assert res.context == get_context(req) == get_context(auth)
    assert res.signature_scheme_name == SCHEME_OF[kind]
    assert res.leaf_spki_sha256 == hashlib.sha256(spki_der(ident.leaf)).digest()
    assert list(res.chain_der) == ident.chain_der()
    assert res.chain_validation[0] == ident.leaf


def test_scheme_follows_request_order_and_key():
    _, server, client = pair()
    ident = IDENTITIES["p384"]
    req = server.request([signature_algorithms([0x0807, 0x0403, 0x0804, 0x0503])])
    auth = client.authenticate(ident.key, ident.chain_der(), req)
    assert split(auth)[1][4:6] == b"\x05\x03"


def test_many_authenticators_on_one_session():
    _, server, client = pair()
    ident = IDENTITIES["ed25519"]
    contexts = set()
    for i in range(6):
        req = server.request([signature_algorithms([0x0807, 0x0403])])
        res = server.validate(req, client.authenticate(ident.key, ident.chain_der(), req), validator("ed25519"))
        contexts.add(res.context)
        req = client.request([signature_algorithms([0x0807, 0x0403])])
        res = client.validate(req, server.authenticate(ident.key, ident.chain_der(), req), validator("ed25519"))
        contexts.add(res.context)
    assert len(contexts) == 12 and all(len(c) == 32 for c in contexts)


def test_spontaneous_server_authenticator():
    _, server, client = pair()
    ident = IDENTITIES["p256"]
    auth = server.authenticate(ident.key, ident.chain_der(), None)
    res = client.validate(None, auth, validator("p256"))
    assert res.valid and res.sender_role == "server" and len(res.context) == 32
    assert res.request == b""
    # a second one gets a fresh context
    auth2 = server.authenticate(ident.key, ident.chain_der(), None)
    assert get_context(auth2) != res.context
    assert client.validate(None, auth2, validator("p256")).valid


def test_spontaneous_extensions_come_from_client_hello():
    ex = SecretExporter(SHA256, os.urandom(32))
    server = EASession(ex, True, client_hello_sigalgs=[0x0403], client_hello_extensions=[18])
    client = EASession(ex, False, client_hello_sigalgs=[0x0403], client_hello_extensions=[18])
    ident = IDENTITIES["p256"]
    auth = server.authenticate(ident.key, ident.chain_der(), None, entry_extensions=[[Extension(18, b"sct")]])
    assert client.validate(None, auth, validator("p256")).extensions == (18,)


def test_empty_authenticator_is_a_verified_refusal():
    _, server, client = pair()
    req = server.request([signature_algorithms([0x0403])])
    empty = client.empty_authenticator(req)
    assert empty[0] == 20 and len(empty) == 4 + 32
    res = server.validate(req, empty, validator("p256"))
    assert res.valid is False and res.empty is True
    assert res.context == get_context(req) and res.signature_scheme is None and res.leaf_spki_sha256 is None
    assert res.summary()["alert"] == "certificate_required"


def test_registered_request_extension_reaches_first_entry():
    _, server, client = pair(extra_request_extensions=[0xFFFF])
    ident = IDENTITIES["p256"]
    req = server.request([signature_algorithms([0x0403]), Extension(0xFFFF, b"")])
    payload = Extension(0xFFFF, b"\x00\x03cmw")
    auth = client.authenticate(ident.key, ident.chain_der(), req, entry_extensions=[[payload]])
    res = server.validate(req, auth, validator("p256"))
    assert res.extensions == (0xFFFF,) and res.first_entry_extension(0xFFFF) == payload
    assert res.entry_extensions[1] == ()
    assert [e.type for e in res.request_extensions] == [13, 0xFFFF]


def test_per_call_allowed_request_extension():
    _, server, _ = pair()
    req = server.request([signature_algorithms([0x0403]), Extension(0xFF01, b"")], allow=[0xFF01])
    assert get_context(req)


class OpaqueSigner:
    """A signer that never exposes its private key (as a TPM-held key would not)."""

    def __init__(self, key):
        self.__key = key
        self.calls = []

    def public_key(self):
        return self.__key.public_key()

    def sign(self, scheme, data):
        self.calls.append((scheme, len(data)))
        assert scheme == 0x0403
        return self.__key.sign(data, ec.ECDSA(hashes.SHA256()))


def test_custom_signer_protocol():
    _, server, client = pair()
    ident = IDENTITIES["p256"]
    signer = OpaqueSigner(ident.key)
    assert isinstance(signer, ea.CertificateVerifySigner)
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(signer, ident.chain_der(), req)
    assert signer.calls == [(0x0403, 64 + 22 + 1 + 32)]
    assert server.validate(req, auth, validator("p256")).valid


def test_deterministic_output_for_fixed_inputs():
    ex = SecretExporter(SHA256, bytes(range(32)))
    ident = IDENTITIES["p256"]
    outs = set()
    for _ in range(2):
        server, client = EASession(ex, True), EASession(ex, False)
        req = server.request([signature_algorithms([0x0403])], context=b"fixed")
        outs.add(client.authenticate(ident.key, ident.chain_der(), req))
    assert len(outs) == 1


def test_offline_validation_from_keys():
    ex, server, client = pair(SHA384)
    ident = IDENTITIES["p384"]
    req = client.request([signature_algorithms([0x0503])])
    auth = server.authenticate(ident.key, ident.chain_der(), req)
    keys = ea.EAKeys(SHA384, *(authenticator_keys(ex, "server").handshake_context,
                               authenticator_keys(ex, "server").finished_key))
    res = validate_authenticator(keys, "server", req, auth, None)
    assert res.valid and not res.chain_validated and res.context == get_context(req)
    # offline validation keeps no state: validating again still succeeds
    assert validate_authenticator(keys, "server", req, auth, validator("p384")).chain_validated


def test_client_finished_gate_opens():
    ex = SecretExporter(SHA256, os.urandom(32))
    server = EASession(ex, True, client_finished_verified=False)
    client = EASession(ex, False)
    req = client.request([signature_algorithms([0x0403])])
    server.client_finished_verified = True
    ident = IDENTITIES["p256"]
    assert client.validate(req, server.authenticate(ident.key, ident.chain_der(), req), validator("p256")).valid


def test_custom_rng_supplies_contexts():
    ex = SecretExporter(SHA256, os.urandom(32))
    server = EASession(ex, True, rng=lambda n: b"\x42" * n)
    assert get_context(server.request([signature_algorithms([0x0403])])) == b"\x42" * 32
