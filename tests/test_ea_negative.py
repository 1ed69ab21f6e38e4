"""RFC 9261 validation and construction faults: one fault per test, right alert and check id.

Faulty authenticators are forged here with hashlib/hmac and the raw signing key, so each
carries exactly one fault and is otherwise correctly signed and MAC'd.
"""

import expat  # noqa: F401  (before anything imports OpenSSL)

import hashlib
import hmac
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from expat.errors import Alert, ProtocolError
from expat.reference.ea import EASession, validate_authenticator
from expat.reference.keyschedule import SHA256, SecretExporter
from expat.reference.messages import (
    Certificate,
    CertificateAuthorities,
    CertificateEntry,
    Extension,
    ServerNameList,
    signature_algorithms,
)
from expat.reference.pki import ChainValidator, make_identity

P256 = make_identity("p256", seed=b"neg", name="neg-p256")
ED = make_identity("ed25519", seed=b"neg", name="neg-ed")
OTHER = make_identity("p256", seed=b"other", name="other")
VALID_P256 = ChainValidator([P256.root])


def expect(fn, check_id, alert):
    with pytest.raises(ProtocolError) as ei:
        fn()
    assert ei.value.check == check_id, ei.value
    assert ei.value.alert == alert
    return ei.value


@pytest.fixture
def s():
    ex = SecretExporter(SHA256, os.urandom(32))
    server = EASession(ex, True, client_hello_sigalgs=[0x0403, 0x0807])
    client = EASession(ex, False, client_hello_sigalgs=[0x0403, 0x0807])
    return server, client


def hs(msg_type, body):
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def sign(key, scheme, data):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    h = {0x0403: hashes.SHA256(), 0x0503: hashes.SHA384(), 0x0401: hashes.SHA256(), 0x0203: hashes.SHA1()}[scheme]
    return key.sign(data, ec.ECDSA(h))


def forge(keys, request, cert_raw, scheme, key, *, corrupt_signature=False, corrupt_finished=False):
    """Certificate || CertificateVerify || Finished built by hand (RFC 9261 §5.2.2, §5.2.3)."""
    hc, fk = keys.handshake_context, keys.finished_key
    content = b" " * 64 + b"Exported Authenticator\x00" + hashlib.sha256(hc + request + cert_raw).digest()
    sig = sign(key, scheme, content)
    if corrupt_signature:
        sig = sig[:-1] + bytes([sig[-1] ^ 1])
    cv = hs(15, scheme.to_bytes(2, "big") + len(sig).to_bytes(2, "big") + sig)
    mac = hmac.new(fk, hashlib.sha256(hc + request + cert_raw + cv).digest(), "sha256").digest()
    if corrupt_finished:
        mac = mac[:-1] + bytes([mac[-1] ^ 1])
    return cert_raw + cv + hs(20, mac)


def cert_for(ctx, ident=P256, first_entry_exts=()):
    chain = ident.chain_der()
    return Certificate(ctx, [CertificateEntry(chain[0], first_entry_exts)] + [CertificateEntry(c) for c in chain[1:]]).raw


def ctx_of(request):
    return request[5:5 + request[4]]


# --- sanity: the forge helper produces a valid authenticator when no fault is injected -------------


def test_forge_without_fault_is_valid(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = forge(client.keys("client"), req, cert_for(ctx_of(req)), 0x0403, P256.key)
    assert server.validate(req, auth, VALID_P256).valid


# --- validation faults ----------------------------------------------------------------------------------


def test_wrong_context(s):
    server, client = s
    req_a = server.request([signature_algorithms([0x0403])])
    req_b = server.request([signature_algorithms([0x0403])])
    auth_b = client.authenticate(P256.key, P256.chain_der(), req_b)
    expect(lambda: server.validate(req_a, auth_b, VALID_P256), "rfc9261-5.2.4-ctx-match", Alert.illegal_parameter)
    # same context bytes in the Certificate but transcript of the other request: correct ctx, bad signature
    forged = forge(client.keys("client"), req_b, cert_for(ctx_of(req_a)), 0x0403, P256.key)
    expect(lambda: server.validate(req_a, forged, VALID_P256), "rfc9261-5.2.2-signature", Alert.decrypt_error)


def test_reused_context(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    assert server.validate(req, auth, VALID_P256).valid
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-7.4-ctx-replay", Alert.illegal_parameter)


def test_extension_not_offered(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = forge(client.keys("client"), req, cert_for(ctx_of(req), first_entry_exts=[Extension(0xFFFF, b"x")]),
                 0x0403, P256.key)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-5.2.1-extension-subset",
           Alert.unsupported_extension)
    # the creating side refuses too
    expect(lambda: client.authenticate(P256.key, P256.chain_der(), req, entry_extensions=[[Extension(0xFFFF)]]),
           "rfc9261-5.2.1-extension-subset", Alert.unsupported_extension)


def test_extension_in_later_entry_not_offered(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    chain = P256.chain_der()
    cert = Certificate(ctx_of(req), [CertificateEntry(chain[0]), CertificateEntry(chain[1], [Extension(5, b"")])]).raw
    auth = forge(client.keys("client"), req, cert, 0x0403, P256.key)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-5.2.1-extension-subset",
           Alert.unsupported_extension)


def test_scheme_not_offered(s):
    server, client = s
    req = server.request([signature_algorithms([0x0807])])
    auth = forge(client.keys("client"), req, cert_for(ctx_of(req)), 0x0403, P256.key)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-5.2.2-scheme-offered", Alert.illegal_parameter)
    expect(lambda: client.authenticate(P256.key, P256.chain_der(), req), "rfc9261-5.2.2-scheme-available",
           Alert.handshake_failure)


@pytest.mark.parametrize("scheme", [0x0401, 0x0203])  # rsa_pkcs1_sha256, ecdsa_sha1
def test_scheme_not_valid_for_tls13(s, scheme):
    server, client = s
    req = server.request([signature_algorithms([scheme, 0x0403])])
    auth = forge(client.keys("client"), req, cert_for(ctx_of(req)), scheme, P256.key)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-5.2.2-scheme-tls13", Alert.illegal_parameter)
    # the creating side skips the offered legacy scheme and picks ecdsa_secp256r1_sha256
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    assert server.validate(req, auth, VALID_P256).signature_scheme == 0x0403


def test_scheme_not_matching_key(s):
    server, client = s
    req = server.request([signature_algorithms([0x0503, 0x0403])])
    # P-256 key signing under ecdsa_secp384r1_sha384 (ECDSA with the wrong curve/hash pairing)
    auth = forge(client.keys("client"), req, cert_for(ctx_of(req)), 0x0503, P256.key)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-5.2.2-scheme-key", Alert.illegal_parameter)
    # Ed25519 leaf with an ECDSA scheme
    req = server.request([signature_algorithms([0x0403, 0x0807])])
    auth = forge(client.keys("client"), req, cert_for(ctx_of(req), ED), 0x0403, P256.key)
    expect(lambda: server.validate(req, auth, ChainValidator([ED.root])), "rfc9261-5.2.2-scheme-key",
           Alert.illegal_parameter)


def test_bad_chain_keeps_validator_check_id(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    expect(lambda: server.validate(req, auth, ChainValidator([OTHER.root])), "pkix-trust-anchor",
           Alert.bad_certificate)
    # the context was not consumed by the failure: the right validator still accepts it
    assert server.validate(req, auth, VALID_P256).valid


def test_bad_chain_from_plain_validator(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)

    def raises(chain):
        raise ValueError("untrusted")

    expect(lambda: server.validate(req, auth, raises), "rfc9261-7.4-chain-validation", Alert.bad_certificate)
    expect(lambda: server.validate(req, auth, lambda chain: False), "rfc9261-7.4-chain-validation",
           Alert.bad_certificate)


def test_bad_signature(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = forge(client.keys("client"), req, cert_for(ctx_of(req)), 0x0403, P256.key, corrupt_signature=True)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-5.2.2-signature", Alert.decrypt_error)


def test_signature_by_another_key(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = forge(client.keys("client"), req, cert_for(ctx_of(req)), 0x0403, OTHER.key)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-5.2.2-signature", Alert.decrypt_error)


def test_bad_finished(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = forge(client.keys("client"), req, cert_for(ctx_of(req)), 0x0403, P256.key, corrupt_finished=True)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-5.2.3-finished", Alert.decrypt_error)


def test_other_connection_fails_signature(s):
    server, _ = s
    other_client = EASession(SecretExporter(SHA256, os.urandom(32)), False)
    req = server.request([signature_algorithms([0x0403])])
    auth = other_client.authenticate(P256.key, P256.chain_der(), req)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-5.2.2-signature", Alert.decrypt_error)


def test_keys_of_the_wrong_sender_role(s):
    server, client = s
    req = client.request([signature_algorithms([0x0403])])
    auth = server.authenticate(P256.key, P256.chain_der(), req)
    # treat it as if the client had sent it against a server request: request kind is wrong
    expect(lambda: validate_authenticator(server.keys("client"), "client", req, auth, None),
           "rfc9261-4-request-kind", Alert.unexpected_message)


def test_trailing_bytes(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    expect(lambda: server.validate(req, auth + b"\x00", VALID_P256), "rfc8446-3.4-truncated", Alert.decode_error)
    expect(lambda: server.validate(req, auth + auth[-36:], VALID_P256), "rfc9261-5.2.4-message-sequence",
           Alert.unexpected_message)


def test_trailing_bytes_inside_certificate_verify(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    cert_len = 4 + int.from_bytes(auth[1:4], "big")
    cv = auth[cert_len:-36]
    cv_long = hs(15, cv[4:] + b"\x00")
    expect(lambda: server.validate(req, auth[:cert_len] + cv_long + auth[-36:], VALID_P256),
           "rfc8446-6-trailing-bytes", Alert.decode_error)


def test_wrong_message_type(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    cert_len = 4 + int.from_bytes(auth[1:4], "big")
    swapped = auth[:cert_len] + b"\x10" + auth[cert_len + 1:]  # CertificateVerify -> type 16
    expect(lambda: server.validate(req, swapped, VALID_P256), "rfc9261-5.2.4-message-sequence",
           Alert.unexpected_message)
    expect(lambda: server.validate(req, auth[cert_len:], VALID_P256), "rfc9261-5.2.4-message-sequence",
           Alert.unexpected_message)


def test_truncated(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    for cut in (1, 3, 10, len(auth) - 1):
        expect(lambda: server.validate(req, auth[:cut], VALID_P256), "rfc8446-3.4-truncated", Alert.decode_error)


def test_finished_of_wrong_length(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    expect(lambda: server.validate(req, auth[:-36] + hs(20, auth[-32:] + b"\x00"), VALID_P256),
           "rfc8446-4.4.4-finished-length", Alert.decode_error)


def test_duplicate_extension_in_entry(s):
    server, client = s
    server.extra_request_extensions = frozenset({0xFFFF})
    req = server.request([signature_algorithms([0x0403]), Extension(0xFFFF)])
    leaf = P256.chain_der()[0]
    x = Extension(0xFFFF, b"").encode()
    entry = len(leaf).to_bytes(3, "big") + leaf + (2 * len(x)).to_bytes(2, "big") + x + x
    ctx = ctx_of(req)
    cert = hs(11, bytes([len(ctx)]) + ctx + len(entry).to_bytes(3, "big") + entry)
    auth = forge(client.keys("client"), req, cert, 0x0403, P256.key)
    expect(lambda: server.validate(req, auth, None), "rfc8446-4.2-duplicate-extension", Alert.illegal_parameter)


def test_certificate_without_entries(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    auth = forge(client.keys("client"), req, Certificate(ctx_of(req), ()).raw, 0x0403, P256.key)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-5.2.1-certificate-nonempty", Alert.decode_error)


def test_leaf_not_x509(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    cert = Certificate(ctx_of(req), [CertificateEntry(b"not a certificate")]).raw
    auth = forge(client.keys("client"), req, cert, 0x0403, P256.key)
    expect(lambda: server.validate(req, auth, None), "rfc9261-5.2.1-leaf-x509", Alert.bad_certificate)


def test_client_sending_unsolicited_authenticator(s):
    server, client = s
    expect(lambda: client.authenticate(P256.key, P256.chain_der(), None), "rfc9261-5-unsolicited-client",
           Alert.unexpected_message)
    # forged client authenticator without request: refused by the server session and by offline validation
    auth = forge(client.keys("client"), b"", cert_for(b"\x01" * 32), 0x0403, P256.key)
    expect(lambda: server.validate(None, auth, VALID_P256), "rfc9261-5-unsolicited-client", Alert.unexpected_message)
    expect(lambda: validate_authenticator(client.keys("client"), "client", None, auth, None),
           "rfc9261-5-unsolicited-client", Alert.unexpected_message)


def test_server_before_client_finished():
    ex = SecretExporter(SHA256, os.urandom(32))
    server = EASession(ex, True, client_hello_sigalgs=[0x0403], client_finished_verified=False)
    client = EASession(ex, False, client_hello_sigalgs=[0x0403])
    creq = client.request([signature_algorithms([0x0403])])
    expect(lambda: server.authenticate(P256.key, P256.chain_der(), creq), "rfc9261-9-client-finished",
           Alert.unexpected_message)
    expect(lambda: server.authenticate(P256.key, P256.chain_der(), None), "rfc9261-9-client-finished",
           Alert.unexpected_message)
    expect(lambda: server.empty_authenticator(creq), "rfc9261-9-client-finished", Alert.unexpected_message)
    sreq = server.request([signature_algorithms([0x0403])])  # a request is not an authenticator (§9)
    auth = client.authenticate(P256.key, P256.chain_der(), sreq)
    expect(lambda: server.validate(sreq, auth, VALID_P256), "rfc9261-9-client-finished", Alert.unexpected_message)


def test_request_without_signature_algorithms(s):
    server, client = s
    ca = CertificateAuthorities((b"\x30\x00",)).extension()
    expect(lambda: server.request([ca]), "rfc9261-7.1-signature-algorithms", Alert.missing_extension)
    # a received request without it cannot be answered
    body = b"\x00" + len(ca.encode()).to_bytes(2, "big") + ca.encode()
    expect(lambda: client.authenticate(P256.key, P256.chain_der(), hs(13, body)), "rfc9261-7.1-signature-algorithms",
           Alert.missing_extension)


def test_request_extension_not_allowed(s):
    server, client = s
    sn = ServerNameList((b"example.com",)).extension()
    expect(lambda: server.request([signature_algorithms([0x0403]), sn]), "rfc9261-4-request-extensions",
           Alert.illegal_parameter)
    assert client.request([signature_algorithms([0x0403]), sn])  # server_name: ClientCertificateRequest only
    for bad in (Extension(0xFFFF), Extension(43, b"\x02\x03\x04")):  # unregistered; supported_versions (not CR)
        expect(lambda: server.request([signature_algorithms([0x0403]), bad]), "rfc9261-4-request-extensions",
               Alert.illegal_parameter)


def test_request_context_reuse(s):
    server, client = s
    server.request([signature_algorithms([0x0403])], context=b"same")
    expect(lambda: server.request([signature_algorithms([0x0403])], context=b"same"), "rfc9261-4-ctx-unique",
           Alert.illegal_parameter)
    # across kinds: the client saw the server's request with this context, so its own request may not reuse it
    req = server.request([signature_algorithms([0x0403])], context=b"shared")
    client.authenticate(P256.key, P256.chain_der(), req)
    expect(lambda: client.request([signature_algorithms([0x0403])], context=b"shared"), "rfc9261-4-ctx-unique",
           Alert.illegal_parameter)


def test_peer_request_reusing_our_context(s):
    server, client = s
    client.request([signature_algorithms([0x0403])], context=b"mine")
    sreq = server.request([signature_algorithms([0x0403])], context=b"mine")
    expect(lambda: client.authenticate(P256.key, P256.chain_der(), sreq), "rfc9261-4-ctx-unique",
           Alert.illegal_parameter)


def test_answering_the_same_request_twice(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    client.authenticate(P256.key, P256.chain_der(), req)
    expect(lambda: client.authenticate(P256.key, P256.chain_der(), req), "rfc9261-5.2-ctx-fresh",
           Alert.illegal_parameter)
    expect(lambda: client.empty_authenticator(req), "rfc9261-5.2-ctx-fresh", Alert.illegal_parameter)


def test_request_of_the_wrong_kind(s):
    server, client = s
    sreq = server.request([signature_algorithms([0x0403])])
    # a server answering a CertificateRequest (its own kind) instead of a ClientCertificateRequest
    expect(lambda: server.authenticate(P256.key, P256.chain_der(), sreq), "rfc9261-4-request-kind",
           Alert.unexpected_message)


def test_request_not_issued_by_session(s):
    server, client = s
    other = EASession(SecretExporter(SHA256, os.urandom(32)), True)
    req = other.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-7.4-request-issued", Alert.internal_error)


def test_spontaneous_context_colliding_with_request(s):
    server, client = s
    creq = client.request([signature_algorithms([0x0403])], context=b"c" * 32)
    auth = forge(server.keys("server"), b"", cert_for(b"c" * 32), 0x0403, P256.key)
    expect(lambda: client.validate(None, auth, VALID_P256), "rfc9261-5.2.1-spontaneous-ctx-unique",
           Alert.illegal_parameter)
    # the server cannot reuse a spontaneous context of its own
    assert server.authenticate(P256.key, P256.chain_der(), None, context=b"c" * 32)
    expect(lambda: server.authenticate(P256.key, P256.chain_der(), None, context=b"c" * 32),
           "rfc9261-5.2.1-spontaneous-ctx-unique", Alert.illegal_parameter)
    assert creq[0] == 17


def test_spontaneous_scheme_not_in_client_hello():
    ex = SecretExporter(SHA256, os.urandom(32))
    server = EASession(ex, True, client_hello_sigalgs=[0x0807])
    client = EASession(ex, False, client_hello_sigalgs=[0x0807])
    expect(lambda: server.authenticate(P256.key, P256.chain_der(), None), "rfc9261-5.2.2-scheme-available",
           Alert.handshake_failure)
    auth = forge(server.keys("server"), b"", cert_for(b"s" * 32), 0x0403, P256.key)
    expect(lambda: client.validate(None, auth, VALID_P256), "rfc9261-5.2.2-scheme-offered", Alert.illegal_parameter)


def test_spontaneous_extension_not_in_client_hello(s):
    server, client = s
    expect(lambda: server.authenticate(P256.key, P256.chain_der(), None, entry_extensions=[[Extension(18)]]),
           "rfc9261-5.2.1-extension-subset", Alert.unsupported_extension)
    auth = forge(server.keys("server"), b"", cert_for(b"s" * 32, first_entry_exts=[Extension(18)]), 0x0403, P256.key)
    expect(lambda: client.validate(None, auth, VALID_P256), "rfc9261-5.2.1-extension-subset",
           Alert.unsupported_extension)


def test_empty_authenticator_faults(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    empty = client.empty_authenticator(req)
    bad = empty[:-1] + bytes([empty[-1] ^ 1])
    expect(lambda: server.validate(req, bad, VALID_P256), "rfc9261-5.2.3-finished", Alert.decrypt_error)
    ex = SecretExporter(SHA256, os.urandom(32))
    expect(lambda: EASession(ex, False).validate(None, empty, None), "rfc9261-6-empty-needs-request",
           Alert.unexpected_message)
    # a verified refusal uses up the request (default empty_consumes_context=True)
    assert server.validate(req, empty, VALID_P256).empty
    auth = forge(client.keys("client"), req, cert_for(ctx_of(req)), 0x0403, P256.key)
    expect(lambda: server.validate(req, auth, VALID_P256), "rfc9261-7.4-ctx-replay", Alert.illegal_parameter)


def test_signer_must_match_leaf(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    expect(lambda: client.authenticate(OTHER.key, P256.chain_der(), req), "rfc9261-5.2.2-signer-matches-leaf",
           Alert.internal_error)


def test_failed_validation_leaves_context_usable(s):
    server, client = s
    req = server.request([signature_algorithms([0x0403])])
    good = client.authenticate(P256.key, P256.chain_der(), req)
    bad = good[:-1] + bytes([good[-1] ^ 1])
    expect(lambda: server.validate(req, bad, VALID_P256), "rfc9261-5.2.3-finished", Alert.decrypt_error)
    assert server.validate(req, good, VALID_P256).valid
