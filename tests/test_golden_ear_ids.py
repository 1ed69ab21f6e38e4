"""Each appraisal yields a distinct Attestation Result (expat EAR extension -70101 "appraisal_id"),
deterministic for a seeded generator, so golden traces stay byte-stable and the model's result_new
guard holds in replay traces (docs/attacks.md)."""

import expat  # noqa: F401

import cbor2
import pytest

from expat.errors import DecodeError
from expat.profile import DEFAULT
from expat.reference import pki
from expat.reference.attestation import ear
from expat.reference.attestation.environment import FIXED_TIME, deterministic_environment
from expat.reference.attestation.verifier import Verifier, counter_appraisal_ids, verify_ear
from expat.reference.attestation import cose
from expat.reference.keyschedule import SHA256

VKEY = pki.derive_key("p256", b"ear-id-test")
BINDING = bytes(range(32))


def _verifier(ids=None):
    ae = deterministic_environment(seed=b"ear-id-device")
    return ae, Verifier([ae.manufacturer_root], ae.reference_values(), VKEY, clock=lambda: FIXED_TIME,
                        appraisal_ids=ids)


def _claims(ear_cmw: bytes) -> dict:
    return cbor2.loads(ear.unwrap_ear(ear_cmw).payload)


def test_same_evidence_same_second_gives_distinct_results():
    ae, v = _verifier(counter_appraisal_ids(b"seed"))
    evidence = ae.evidence(BINDING, hash=SHA256)
    first, r1 = v.appraise(evidence, expected_binding=BINDING)
    second, r2 = v.appraise(evidence, expected_binding=BINDING)
    assert r1.affirming and r2.affirming
    assert first != second
    c1, c2 = _claims(first), _claims(second)
    assert c1[ear.IAT] == c2[ear.IAT] == FIXED_TIME
    ids = [c[ear.EXPAT_EAR_EXT]["appraisal_id"] for c in (c1, c2)]
    assert ids[0] != ids[1] and all(len(i) == 16 for i in ids)
    # the identifier is the only difference
    del c1[ear.EXPAT_EAR_EXT], c2[ear.EXPAT_EAR_EXT]
    assert c1 == c2
    # and it survives the Relying Party's strict decoding
    assert verify_ear(first, VKEY.public_key(), BINDING, DEFAULT).appraisal_id == ids[0]


def test_seeded_identifiers_are_reproducible_and_default_is_random():
    ae, _ = _verifier()
    evidence = ae.evidence(BINDING, hash=SHA256)
    runs = []
    for _ in range(2):
        _, v = _verifier(counter_appraisal_ids(b"same seed"))
        runs.append([v.appraise(evidence, expected_binding=BINDING)[0] for _ in range(2)])
    assert runs[0] == runs[1]                       # byte-stable for a seed
    _, other = _verifier(counter_appraisal_ids(b"other seed"))
    assert other.appraise(evidence, expected_binding=BINDING)[0] != runs[0][0]
    _, rnd1 = _verifier()
    _, rnd2 = _verifier()
    assert rnd1.appraise(evidence, expected_binding=BINDING)[0] != rnd2.appraise(evidence,
                                                                                 expected_binding=BINDING)[0]


@pytest.mark.parametrize("ext", [b"\x00" * 16, {"appraisal_id": b"\x00" * 15}, {"appraisal_id": "text" * 4},
                                 {"appraisal_id": b"\x00" * 16, "x": 1}])
def test_malformed_extension_is_refused(ext):
    claims = ear.EAR(iat=FIXED_TIME, verifier_id=("a", "b"),
                     submods={"x": ear.Appraisal(status=ear.Tier.affirming)}).to_map()
    claims[ear.EXPAT_EAR_EXT] = ext
    signed = cose.sign1(VKEY, cbor2.dumps(claims))
    with pytest.raises(DecodeError):
        ear.verify_ear_signature(signed, VKEY.public_key())

