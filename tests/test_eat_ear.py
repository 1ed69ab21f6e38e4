"""EAT Evidence (RFC 9711) and EAR (draft-ietf-rats-ear-03) encodings, checked with cbor2 and python-cwt."""

import expat  # noqa: F401

import dataclasses

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cwt import COSE, COSEKey

from expat.errors import DecodeError, DecryptError, IllegalParameter, ProtocolError
from expat.profile import DEFAULT, PROFILES
from expat.reference import pki
from expat.reference.attestation import cmw, cose, ear, eat, environment
from expat.reference.keyschedule import SHA256

BINDING = bytes(range(32))
AIK_HASH = bytes(range(100, 132))


def _evidence(profile=DEFAULT, **kw):
    ae = environment.deterministic_environment(seed=b"eat-test", profile=profile, **kw)
    return ae, ae.evidence(BINDING, ae.own_aik_pub_hash(SHA256))


def test_evidence_layout_default():
    ae, data = _evidence()
    rec = cbor2.loads(data)
    assert rec[0] == 'application/eat+cwt; eat_profile="tag:expat.example,2026:evidence#1"' and rec[2] == 4
    sign1 = cbor2.loads(rec[1])
    assert sign1.tag == 18
    prot = cbor2.loads(sign1.value[0])
    assert prot[1] == -7
    chain = [x509.load_der_x509_certificate(d) for d in prot[33]]
    assert chain[0] == ae.attestation_chain[0] and chain[1] == ae.attestation_chain[1] and len(chain) == 2
    claims = cbor2.loads(sign1.value[2])
    assert set(claims) == {6, 10, 256, 265, 273, -70001}
    assert claims[10] == BINDING
    assert claims[-70001] == ae.own_aik_pub_hash(SHA256)
    assert claims[6] == environment.FIXED_TIME and isinstance(claims[6], int)
    assert claims[256][0] == 0x01 and len(claims[256]) == 33
    assert claims[265] == "tag:expat.example,2026:evidence#1"
    assert all(m[0] == 60 and isinstance(m[1], bytes) for m in claims[273])
    assert {cbor2.loads(m[1])[0]: cbor2.loads(m[1])[1] for m in claims[273]} == environment.default_measurements()
    # verifies with python-cwt using the attestation-key certificate's public key
    pem = chain[0].public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    assert COSE.new().decode(rec[1], COSEKey.from_pem(pem, alg="ES256")) == sign1.value[2]
    # deterministic mode: byte-stable
    assert _evidence()[1] == data


def test_evidence_layout_nonce_array_and_json():
    ae, data = _evidence(PROFILES["nonce-array"])
    claims = cbor2.loads(cbor2.loads(cbor2.loads(data)[1]).value[2])
    assert -70001 not in claims and claims[10][0] == BINDING and len(claims[10]) == 2
    parsed = eat.decode_claims(eat.unwrap_evidence(data), "nonce-array")
    assert parsed.binding == BINDING and parsed.aik_pub_hash == claims[10][1]
    with pytest.raises(DecodeError):
        eat.decode_claims(eat.unwrap_evidence(data), "nonce+private-claim")
    _, jdata = _evidence(PROFILES["json-cmw"])
    assert jdata[:1] == b"[" and eat.unwrap_evidence(jdata).payload


def _good_map():
    return eat.EvidenceClaims(binding=BINDING, aik_pub_hash=AIK_HASH, ueid=b"\x01" + bytes(32),
                              measurements={"a": bytes(32)}, iat=1).to_map()


@pytest.mark.parametrize("change,exc", [
    ({10: bytes(7)}, DecodeError), ({10: bytes(65)}, DecodeError), ({10: "text-nonce"}, DecodeError),
    ({10: [BINDING]}, DecodeError), ({6: 1.0}, DecodeError), ({6: -1}, DecodeError), ({6: True}, DecodeError),
    ({256: b"\x01" + bytes(5)}, DecodeError), ({256: b"\x01" + bytes(20)}, DecodeError),
    ({256: b"\x09" + bytes(32)}, DecodeError), ({-70001: bytes(31)}, DecodeError),
    ({273: []}, DecodeError), ({273: [[61, cbor2.dumps(["a", bytes(32)])]]}, DecodeError),
    ({273: [[60, cbor2.dumps(["a", bytes(31)])]]}, DecodeError), ({273: [[60, b"\xff"]]}, DecodeError),
    ({273: [[60, cbor2.dumps(["a", bytes(32)])]] * 2}, DecodeError),
    ({999: 1}, DecodeError), ({265: "tag:other,2026:x"}, IllegalParameter),
])
def test_claims_decode_is_strict(change, exc):
    m = _good_map()
    assert eat.EvidenceClaims.from_map(dict(m)).binding == BINDING
    m.update(change)
    with pytest.raises(exc):
        eat.EvidenceClaims.from_map(m)
    for key in (6, 10, 256, 265, 273):
        m2 = _good_map()
        del m2[key]
        with pytest.raises(DecodeError):
            eat.EvidenceClaims.from_map(m2)


def test_evidence_wrapper_checks():
    _, data = _evidence()
    rec = cbor2.loads(data)
    wrong_type = cmw.encode_cbor(cmw.Record("application/eat+cwt", rec[1], 4))
    with pytest.raises(IllegalParameter):
        eat.unwrap_evidence(wrong_type)
    wrong_ind = cmw.encode_cbor(cmw.Record(rec[0], rec[1], cmw.IND_ATTESTATION_RESULTS))
    with pytest.raises(DecodeError):
        eat.unwrap_evidence(wrong_ind)


# --- EAR -------------------------------------------------------------------------------------------

# draft-ietf-rats-ear-03 Figure 5 (CBOR claims-set: contraindicated appraisal)
FIGURE_5 = {
    265: "tag:ietf.org,2026:rats/ear#03",
    6: 1666529184,
    1004: {0: "https://veraison-project.org", 1: "vts 0.0.1"},
    1002: bytes.fromhex("6C696665626F61746D616E"),
    266: {"PSA": {1000: 96, 1001: {0: 2, 2: 96, 4: 2},
                  1003: ["https://veraison.example/policy/1/60a0068d"]}},
}


def test_ear_figure_5_round_trip():
    e = ear.EAR.from_map(FIGURE_5)
    assert e.iat == 1666529184 and e.verifier_id == ("https://veraison-project.org", "vts 0.0.1")
    psa = e.submods["PSA"]
    assert psa.status == ear.Tier.contraindicated
    assert psa.trust_vector == {"instance-identity": 2, "executables": 96, "hardware": 2}
    assert psa.policy_ids == ("https://veraison.example/policy/1/60a0068d",)
    assert e.overall == ear.Tier.contraindicated and e.raw_evidence == b"lifeboatman"
    assert e.to_map() == FIGURE_5


VKEY = pki.derive_key("p256", b"ear-verifier")


def test_ear_sign_verify_and_cwt_cross_check():
    e = ear.EAR(iat=1, verifier_id=("d", "b"),
                submods={"x": ear.Appraisal(ear.Tier.affirming, eat_nonce=BINDING, reasons=("ok",),
                                            aik_pub_hash=AIK_HASH)},
                status=ear.Tier.affirming)
    signed = ear.sign_ear(e, VKEY)
    pem = VKEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    payload = COSE.new().decode(signed, COSEKey.from_pem(pem, alg="ES256"))
    assert cbor2.loads(payload)[266]["x"][10] == BINDING
    for blob in (signed, ear.wrap_ear(signed), ear.wrap_ear(signed, "rfc9782"), ear.wrap_ear(signed, serialization="json")):
        assert ear.verify_ear_signature(blob, VKEY.public_key()) == e
    rec = cbor2.loads(ear.wrap_ear(signed))
    assert rec[0] == 'application/eat-cwt; eat_profile="tag:ietf.org,2026:rats/ear#03"' and rec[2] == 8
    with pytest.raises(DecryptError):
        ear.verify_ear_signature(signed, pki.derive_key("p256", b"impostor").public_key())
    with pytest.raises(IllegalParameter):
        ear.verify_ear_signature(cmw.encode_cbor(cmw.Record(cmw.EVIDENCE_MEDIA_TYPE, signed, 8)), VKEY.public_key())


@pytest.mark.parametrize("mutate,exc", [
    (lambda m: m.update({265: "tag:ietf.org,2025-07:ear"}), IllegalParameter),
    (lambda m: m.update({6: 1.5}), DecodeError),
    (lambda m: m.update({266: {}}), DecodeError),
    (lambda m: m[266]["PSA"].update({1000: 1}), DecodeError),
    (lambda m: m[266]["PSA"].pop(1000), DecodeError),
    (lambda m: m[266]["PSA"].update({1003: []}), DecodeError),
    (lambda m: m[266]["PSA"].update({1001: {9: 2}}), DecodeError),
    (lambda m: m[266]["PSA"].update({1001: {0: 300}}), DecodeError),
    (lambda m: m[266]["PSA"].update({10: bytes(4)}), DecodeError),
    (lambda m: m.update({1000: 2}), IllegalParameter),           # top-level better than the worst submod
    (lambda m: m.update({1004: {0: "d"}}), DecodeError),
    (lambda m: m.update({-70200: 5}), DecodeError),               # extension that is not a map
    (lambda m: m.pop(1004), DecodeError),
])
def test_ear_decode_is_strict(mutate, exc):
    import copy
    m = copy.deepcopy(FIGURE_5)
    mutate(m)
    with pytest.raises(exc):
        ear.EAR.from_map(m)


def test_tier_order():
    assert ear.worst([ear.Tier.affirming, ear.Tier.warning]) == ear.Tier.warning
    assert ear.worst([ear.Tier.affirming, ear.Tier.contraindicated, ear.Tier.warning]) == ear.Tier.contraindicated
    assert [t.value for t in ear.Tier] == [0, 2, 32, 96]
    assert dataclasses.is_dataclass(ear.EAR)


def test_garbage_ear_is_protocol_error():
    for blob in (b"", b"\xd2", b"\x82\x00", b'["a/b","AA"]', bytes(40)):
        with pytest.raises(ProtocolError):
            ear.verify_ear_signature(blob, VKEY.public_key())
    assert cose.COSE_SIGN1_TAG == 18
