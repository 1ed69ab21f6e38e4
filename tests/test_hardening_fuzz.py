"""Fuzzing the attestation-layer decoders and validators (hypothesis; fuzz/run.py is the atheris twin).

Properties (fuzz/targets.py): only ProtocolError escapes; an authenticated input (COSE Evidence, EAR,
the Verifier's appraisal) is accepted only with the signed content of its valid seed.
"""

import expat  # noqa: F401  (before anything imports OpenSSL)

import importlib.util
import sys
from pathlib import Path

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from expat.errors import ProtocolError
from expat.reference.attestation import cbor, cmw, cose, eat

_spec = importlib.util.spec_from_file_location("expat_fuzz_targets", Path(__file__).parents[1] / "fuzz" / "targets.py")
T = importlib.util.module_from_spec(_spec)
sys.modules["expat_fuzz_targets"] = T
_spec.loader.exec_module(T)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TRIED: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_inputs_tried(request):
    """After the module: print how many inputs the fuzz properties were run on (shown with -s / -rA)."""
    yield
    total = sum(TRIED.values())
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n[hardening fuzz] inputs tried: {total} ("
              + ", ".join(f"{k}={v}" for k, v in sorted(TRIED.items())) + ")")


@st.composite
def mutation(draw, data: bytes) -> bytes:
    """One to three byte-level edits: flip a bit, set a byte, insert, delete a run, truncate."""
    for _ in range(draw(st.integers(1, 3))):
        n = len(data)
        if n == 0:
            return draw(st.binary(min_size=1, max_size=8))
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if kind == "flip":
            i, bit = draw(st.integers(0, n - 1)), draw(st.integers(0, 7))
            data = data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1:]
        elif kind == "set":
            i = draw(st.integers(0, n - 1))
            data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]
        elif kind == "insert":
            i = draw(st.integers(0, n))
            data = data[:i] + draw(st.binary(min_size=1, max_size=6)) + data[i:]
        elif kind == "delete":
            i = draw(st.integers(0, n - 1))
            data = data[:i] + data[draw(st.integers(i + 1, min(n, i + 8))):]
        else:
            data = data[:draw(st.integers(0, n - 1))]
    return data


def _mutated(target: str):
    return st.sampled_from(T.seeds(target)).flatmap(mutation)


def _run(target: str, data: bytes) -> str:
    TRIED[target] = TRIED.get(target, 0) + 1
    return T.run_one(target, data)


def test_seeds_are_valid_and_accepted():
    for name in T.TARGETS:
        for seed in T.seeds(name):
            assert T.run_one(name, seed) == "accepted", name


def test_the_property_check_catches_a_substituted_payload():
    # A correctly signed Evidence over *different* claims must be flagged by the acceptance property,
    # otherwise the "never accepted" half of the fuzz tests could not fail.
    w = T.world()
    original = cose.decode_sign1(w.evidence_cose)
    other = cose.Sign1(original.protected, original.unprotected, original.payload + b"", original.signature,
                       original.protected_header, original.tagged)
    T._must_match(other, w.evidence_cose, "same")  # identical content passes
    changed = cose.Sign1(original.protected, {}, b"\xa0", original.signature, original.protected_header)
    with pytest.raises(AssertionError):
        T._must_match(changed, w.evidence_cose, "changed")


@pytest.mark.parametrize("target", sorted(T.TARGETS))
def test_random_bytes_only_raise_protocol_errors(target):
    @FUZZ
    @given(st.binary(max_size=300))
    def run(data):
        _run(target, data)
    run()


@pytest.mark.parametrize("target", [t for t in sorted(T.TARGETS) if t != "tls-messages"])
def test_mutated_valid_messages_are_rejected_or_carry_the_signed_content(target):
    @FUZZ
    @given(_mutated(target))
    def run(data):
        _run(target, data)
    run()


@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.binary(max_size=20)
                    | st.text(max_size=10),
                    lambda kids: st.lists(kids, max_size=4)
                    | st.dictionaries(st.integers(-300, 300) | st.text(max_size=4), kids, max_size=4),
                    max_leaves=20))
def test_structured_cbor_reaches_the_claims_decoders(value):
    # well-formed CBOR of arbitrary shape: exercises the claim checks rather than the byte parser
    data = cbor2.dumps(value)
    for target in ("eat-claims", "ear-claims", "cmw"):
        if target == "cmw" and data[:1] not in (b"\x82", b"\x83") and not 0xA0 <= data[0] <= 0xBB:
            continue
        _run(target, data)


@FUZZ
@given(st.recursive(st.text(max_size=6) | st.integers(0, 2 ** 33) | st.none(),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4),
                    max_leaves=16))
def test_structured_json_cmw_only_raises_protocol_errors(value):
    import json
    data = json.dumps(value).encode()
    if data[:1] in (b"[", b"{"):
        _run("cmw", data)


def test_cbor_roundtrips_what_it_accepts():
    # what the strict decoder accepts, cbor2 decodes to the same value (no type confusion)
    w = T.world()
    for data in (w.evidence_cmw, eat.unwrap_evidence(w.evidence_cmw).payload):
        assert cbor.loads(data) == cbor2.loads(data)


def test_deep_json_cmw_is_refused_by_the_depth_limit():
    deep = b"[" * 5000 + b"]" * 5000
    with pytest.raises(ProtocolError) as e:
        cmw.decode(deep)
    assert e.value.check == "expat-limit-json-depth"
