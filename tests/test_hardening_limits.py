"""Resource limits: oversize, deeply nested or huge inputs and over-long chains are refused by a named
limit check with its TLS alert, before the work the limit bounds (docs/performance.md, "Limits")."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import os

import cbor2
import pytest

from expat.checks import REGISTRY
from expat.errors import Alert, ProtocolError
from expat.reference import ea, messages, pki
from expat.reference.attestation import cbor, cmw, cose, eat
from expat.reference.attestation.environment import FIXED_TIME, deterministic_environment
from expat.reference.attestation.verifier import Verifier
from expat.reference.keyschedule import SHA256, SecretExporter


def _fails(fn, check_id, alert=None):
    with pytest.raises(ProtocolError) as e:
        fn()
    assert e.value.check == check_id, e.value
    if alert is not None:
        assert e.value.alert == alert
    return e.value


@pytest.fixture(scope="module")
def verifier_setup():
    ae = deterministic_environment(seed=b"limits-ae")
    key = pki.derive_key("p256", b"limits-verifier")
    verifier = Verifier([ae.manufacturer_root], ae.reference_values(), key, clock=lambda: FIXED_TIME)
    return ae, verifier


def test_limit_checks_are_registered_with_alerts():
    expected = {"expat-limit-cbor": Alert.decode_error, "expat-limit-json-depth": Alert.decode_error,
                "expat-limit-chain-length": Alert.bad_certificate, "expat-limit-x5chain": Alert.bad_certificate,
                "cmw-size": Alert.decode_error}
    for cid, alert in expected.items():
        assert REGISTRY[cid].alert == alert
        assert REGISTRY[cid].section


# --- cmw_data size (draft -02 §3: cmw_data<1..2^16-1> inside a 2^16-1 extension) -------------------

def test_oversize_cmw_is_refused_in_both_serializations():
    _fails(lambda: cmw.decode(b"\x82" + bytes(65533)), "cmw-size", Alert.decode_error)      # 65534 bytes
    _fails(lambda: cmw.decode(b'["a/b","' + b"A" * 65530 + b'"]'), "cmw-size", Alert.decode_error)
    # 65533 bytes is the largest accepted size: a record of exactly that length decodes
    value = bytes(65533 - 1 - 4 - 3)           # array head, "a/b" text, bstr head with 2-byte length
    data = b"\x82" + b"\x63a/b" + b"\x59" + len(value).to_bytes(2, "big") + value
    assert len(data) == 65533 and cmw.decode(data)[0].value == value
    _fails(lambda: cmw.decode(b"\x82\x63a/b\x59" + (len(value) + 1).to_bytes(2, "big") + value + b"\x00"),
           "cmw-size")


def test_oversize_evidence_is_refused_by_the_verifier(verifier_setup):
    _, verifier = verifier_setup
    _fails(lambda: verifier.appraise(b"\x83" + bytes(70000)), "cmw-size")


# --- CBOR: depth, size, item count, announced lengths -----------------------------------------------

def test_deep_cbor_nesting_is_refused_at_the_depth_limit():
    ok = b"\x81" * cbor.MAX_DEPTH + b"\x00"
    assert cbor.loads(ok) is not None
    _fails(lambda: cbor.loads(b"\x81" * (cbor.MAX_DEPTH + 1) + b"\x00"), "expat-limit-cbor", Alert.decode_error)
    # far deeper than Python's recursion limit: refused at depth MAX_DEPTH, no RecursionError
    _fails(lambda: cbor.loads(b"\x81" * 100_000 + b"\x00"), "expat-limit-cbor")
    _fails(lambda: cbor.loads(b"\xbf\x01" * 50_000), "expat-limit-cbor")   # nested indefinite maps


def test_huge_cbor_is_refused_by_size_before_decoding():
    data = cbor2.dumps(bytes(cbor.MAX_SIZE))   # one valid byte string, larger than the limit
    err = _fails(lambda: cbor.loads(data), "expat-limit-cbor")
    assert str(cbor.MAX_SIZE) in err.reason


def test_too_many_items_are_refused():
    ok = cbor2.dumps([0] * (cbor.MAX_ITEMS - 1))
    assert len(cbor.loads(ok)) == cbor.MAX_ITEMS - 1
    _fails(lambda: cbor.loads(cbor2.dumps([0] * cbor.MAX_ITEMS)), "expat-limit-cbor")
    _fails(lambda: cbor.loads(b"\x9f" + b"\x00" * 20_000 + b"\xff"), "expat-limit-cbor")        # indefinite array
    _fails(lambda: cbor.loads(b"\x5f" + b"\x40" * 20_000 + b"\xff"), "expat-limit-cbor")        # 20k string chunks


def test_announced_lengths_beyond_the_input_are_refused_without_allocating():
    # an array / map / string announcing 2^32-1 entries in a few bytes
    for data in (b"\x9a\xff\xff\xff\xff\x00", b"\xba\xff\xff\xff\xff\x00\x00", b"\x5a\xff\xff\xff\xff\x00",
                 b"\x9b" + b"\xff" * 8):
        _fails(lambda: cbor.loads(data), "rfc8949-3-well-formed", Alert.decode_error)


def test_deep_or_huge_cbor_inside_cmw_and_evidence(verifier_setup):
    _, verifier = verifier_setup
    nested = b"\xa1\x01" * 2000 + b"\x82\x63a/b\x40"          # collections nested 2000 deep
    _fails(lambda: cmw.decode(nested), "expat-limit-cbor")
    _fails(lambda: verifier.appraise(nested), "expat-limit-cbor")
    deep = b"\x81" * 1000 + b"\x00"
    # a protected header nested 1000 deep: refused while parsing the COSE_Sign1, before any signature work
    evidence = eat.wrap_evidence(cose.Sign1(deep, {}, b"", bytes(64)).encode())
    _fails(lambda: verifier.appraise(evidence), "expat-limit-cbor")
    # claims nested 1000 deep (reached only after the signature verified): refused by the same limit
    _fails(lambda: eat.decode_claims(cose.Sign1(b"\xa1\x01\x26", {}, deep, bytes(64), {1: -7})), "expat-limit-cbor")


# --- JSON ---------------------------------------------------------------------------------------------

def test_deep_json_cmw_is_refused_before_parsing():
    _fails(lambda: cmw.decode(b"[" * 60_000), "expat-limit-json-depth", Alert.decode_error)
    _fails(lambda: cmw.decode(b'{"a":' * 10_000 + b'["x/y","AA"]' + b"}" * 10_000), "expat-limit-json-depth")
    # brackets inside strings do not count
    rec = cmw.decode(b'["x/y; p=\\"[[[[[[[[\\"","AA"]')[0]
    assert rec.type == 'x/y; p="[[[[[[[["' and rec.value == b"\x00"


def test_json_depth_at_the_limit_is_accepted():
    leaf = b'["x/y","AA"]'

    def nested(n: int) -> bytes:
        return b'{"a":' * n + leaf + b"}" * n

    # MAX_DEPTH collections then the record: the deepest valid CMW passes both caps
    assert cmw.json_depth(nested(cmw.MAX_DEPTH), 100) == cmw.MAX_DEPTH + 1
    assert isinstance(cmw.decode(nested(cmw.MAX_DEPTH))[0], cmw.Collection)
    # one more: within the JSON depth limit, refused by the collection nesting cap (RFC 9999 §3.3)
    _fails(lambda: cmw.decode(nested(cmw.MAX_DEPTH + 1)), "cmw-3.3-collection")
    # two more: refused by the JSON depth limit before parsing
    _fails(lambda: cmw.decode(nested(cmw.MAX_DEPTH + 2)), "expat-limit-json-depth")


def test_huge_json_numbers_are_refused():
    _fails(lambda: cmw.decode(b'["x/y","AA",' + b"9" * 5000 + b"]"), "cmw-json-syntax")
    _fails(lambda: cmw.decode(b'["x/y","AA",1e99999]'), "cmw-3.1-record")


# --- certificate chains -----------------------------------------------------------------------------

def _authenticator_with_entries(n: int) -> tuple[ea.EAKeys, bytes, bytes]:
    ex = SecretExporter(SHA256, bytes(32))
    server = ea.EASession(ex, True)
    request = server.request([messages.signature_algorithms([0x0403])])
    ctx = messages.decode_request(request).context
    # garbage certificates: the bound must trip before any entry is parsed
    cert = messages.Certificate(ctx, [messages.CertificateEntry(b"\x00" * 10) for _ in range(n)]).raw
    cv = messages.CertificateVerify(0x0403, bytes(70)).raw
    fin = messages.Finished(bytes(32)).raw
    return server.keys("client"), request, cert + cv + fin


def test_authenticator_chain_beyond_the_bound_is_refused_before_parsing():
    keys, request, auth = _authenticator_with_entries(ea.MAX_CHAIN_ENTRIES + 1)
    _fails(lambda: ea.validate_authenticator(keys, "client", request, auth, None),
           "expat-limit-chain-length", Alert.bad_certificate)
    keys, request, auth = _authenticator_with_entries(5000)
    _fails(lambda: ea.validate_authenticator(keys, "client", request, auth, None), "expat-limit-chain-length")
    # at the bound the length check passes and validation goes on to the (garbage) end-entity certificate
    keys, request, auth = _authenticator_with_entries(ea.MAX_CHAIN_ENTRIES)
    _fails(lambda: ea.validate_authenticator(keys, "client", request, auth, None), "rfc9261-5.2.1-leaf-x509")


def test_long_real_chain_is_refused_by_length_not_by_validation():
    ident = pki.make_identity("p256", seed=b"limits-chain")
    ex = SecretExporter(SHA256, os.urandom(32))
    server, client = ea.EASession(ex, True), ea.EASession(ex, False)
    request = server.request([messages.signature_algorithms([0x0403])])
    chain = ident.chain_der() + [ident.chain_der(include_root=True)[-1]] * ea.MAX_CHAIN_ENTRIES
    auth = client.authenticate(ident.key, chain, request)      # a sender may build it; a receiver refuses it
    _fails(lambda: server.validate(request, auth, pki.ChainValidator([ident.root])), "expat-limit-chain-length")


def test_x5chain_beyond_the_bound_is_refused_before_parsing(verifier_setup):
    _, verifier = verifier_setup
    key = pki.derive_key("p256", b"limits-x5")
    long_chain = [b"\x30\x00"] * (eat.MAX_X5CHAIN + 1)        # unparsable DER: must not be reached
    evidence = eat.wrap_evidence(cose.sign1(key, cbor2.dumps({}), protected={cose.HDR_X5CHAIN: long_chain}))
    _fails(lambda: verifier.appraise(evidence), "expat-limit-x5chain", Alert.bad_certificate)
    at_bound = eat.wrap_evidence(cose.sign1(key, cbor2.dumps({}),
                                            protected={cose.HDR_X5CHAIN: long_chain[:eat.MAX_X5CHAIN]}))
    _fails(lambda: verifier.appraise(at_bound), "rfc9360-2-x5chain")   # length fine, DER parse fails
