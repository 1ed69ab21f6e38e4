"""Mutated requests and authenticators: only ProtocolError, never accepted (RFC 9261 §5.2.4, §7.4)."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import os

from hypothesis import HealthCheck, given, settings, strategies as st

from expat.errors import ProtocolError
from expat.reference.ea import EASession, get_context, validate_authenticator
from expat.reference.keyschedule import SHA256, SHA384, SecretExporter
from expat.reference.messages import Extension, decode_request, signature_algorithms
from expat.reference.pki import ChainValidator, make_identity


def _corpus():
    """Valid (keys, sender, request, authenticator, validator) cases built once."""
    cases = []
    for kind, h in (("p256", SHA256), ("ed25519", SHA384), ("p384", SHA384)):
        ident = make_identity(kind, seed=b"fuzz", name=f"fuzz-{kind}")
        validator = ChainValidator([ident.root])
        ex = SecretExporter(h, os.urandom(h.length))
        server = EASession(ex, True, client_hello_sigalgs=[0x0403, 0x0503, 0x0807], extra_request_extensions=[0xFFFF])
        client = EASession(ex, False, client_hello_sigalgs=[0x0403, 0x0503, 0x0807])
        req = server.request([signature_algorithms([0x0403, 0x0503, 0x0807]), Extension(0xFFFF)])
        auth = client.authenticate(ident.key, ident.chain_der(), req, entry_extensions=[[Extension(0xFFFF, b"\x00\x01z")]])
        cases.append((client.keys("client"), "client", req, auth, validator))
        req = client.request([signature_algorithms([0x0807, 0x0503, 0x0403])])
        cases.append((server.keys("server"), "server", req, server.empty_authenticator(req), validator))
        cases.append((server.keys("server"), "server", None,
                      server.authenticate(ident.key, ident.chain_der(), None), validator))
    return cases


CASES = _corpus()


def test_corpus_is_valid():
    for keys, sender, req, auth, validator in CASES:
        res = validate_authenticator(keys, sender, req, auth, validator)
        assert res.valid or res.empty


@st.composite
def mutation(draw, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "set"]))
    n = len(data)
    if kind == "flip":
        i, bit = draw(st.integers(0, n - 1)), draw(st.integers(0, 7))
        return data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1:]
    if kind == "set":
        i = draw(st.integers(0, n - 1))
        v = draw(st.integers(0, 255).filter(lambda v: v != data[i]))
        return data[:i] + bytes([v]) + data[i + 1:]
    if kind == "insert":
        i = draw(st.integers(0, n))
        return data[:i] + draw(st.binary(min_size=1, max_size=4)) + data[i:]
    if kind == "delete":
        i = draw(st.integers(0, n - 1))
        j = draw(st.integers(i + 1, min(n, i + 8)))
        return data[:i] + data[j:]
    return data[:draw(st.integers(0, n - 1))]


@st.composite
def mutated_authenticator(draw):
    case = draw(st.sampled_from(CASES))
    return case, draw(mutation(case[3]))


@st.composite
def mutated_request(draw):
    case = draw(st.sampled_from([c for c in CASES if c[2] is not None]))
    return case, draw(mutation(case[2]))


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(mutated_authenticator(), st.booleans())
def test_mutated_authenticator_is_rejected(case_and_bytes, with_chain):
    (keys, sender, req, _auth, validator), bad = case_and_bytes
    try:
        res = validate_authenticator(keys, sender, req, bad, validator if with_chain else None)
    except ProtocolError:
        return
    raise AssertionError(f"mutated authenticator accepted: {res}")


@FUZZ
@given(mutated_request())
def test_mutated_request_is_rejected(case_and_bytes):
    (keys, sender, _req, auth, validator), bad = case_and_bytes
    try:
        res = validate_authenticator(keys, sender, bad, auth, validator)
    except ProtocolError:
        return
    raise AssertionError(f"authenticator accepted against a mutated request: {res}")


@FUZZ
@given(st.one_of(mutated_request(), mutated_authenticator()))
def test_mutations_only_raise_protocol_errors_elsewhere(case_and_bytes):
    _case, bad = case_and_bytes
    for fn in (get_context, decode_request):
        try:
            fn(bad)
        except ProtocolError:
            pass


@settings(max_examples=60, deadline=None)
@given(st.one_of(mutated_request()))
def test_answering_a_mutated_request(case_and_bytes):
    """A mutated request may still be a valid request; answering it must fail only with ProtocolError."""
    (_keys, sender, _req, _auth, _validator), bad = case_and_bytes
    ident = make_identity("p256", seed=b"fuzz", name="fuzz-p256")
    session = EASession(SecretExporter(SHA256, bytes(32)), sender == "server", client_hello_sigalgs=[0x0403])
    try:
        session.authenticate(ident.key, ident.chain_der(), bad)
    except ProtocolError:
        pass
