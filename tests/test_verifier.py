"""Verifier appraisal, the Relying Party's EAR check, and the Verifier HTTP service on loopback."""

import expat  # noqa: F401

import json
import urllib.error
import urllib.request

import cbor2
import pytest

from expat.errors import BadCertificate, DecodeError, DecryptError, IllegalParameter, ProtocolError
from expat.profile import DEFAULT, PROFILES
from expat.reference import pki
from expat.reference.attestation import binding as B
from expat.reference.attestation import cmw, cose, ear, eat
from expat.reference.attestation.environment import (FIXED_TIME, SoftwareAttestingEnvironment,
                                                     deterministic_environment)
from expat.reference.attestation.verifier import Verifier, verify_ear
from expat.reference.attestation.verifier_service import VerifierClient, VerifierService
from expat.reference.keyschedule import SHA256, SecretExporter

VKEY = pki.derive_key("p256", b"verifier-test")
EXPORTER = SecretExporter(SHA256, bytes(range(32)))


def _setup(profile=DEFAULT, **ae_kw):
    ae = deterministic_environment(seed=b"verifier-test-device", profile=profile, **ae_kw)
    v = Verifier([deterministic_environment(seed=b"verifier-test-device").manufacturer_root],
                 deterministic_environment().reference_values(), VKEY, clock=lambda: FIXED_TIME, profile=profile)
    return ae, v


def _attest(ae, v, profile=DEFAULT):
    """Background check as the RP would run it: nonce -> ctx -> binding -> Evidence."""
    nonce = v.challenge()
    aik = ae.aik_identity().leaf
    b = B.compute_binding(EXPORTER, profile, nonce, aik)
    h = B.aik_pub_hash(SHA256, profile, aik)
    return nonce, b, h, ae.evidence(b, h)


def test_happy_path_background_check():
    ae, v = _setup()
    nonce, b, h, ev = _attest(ae, v)
    ear_bytes, report = v.appraise(ev, b, nonce, h)
    assert report.affirming and report.reasons == []
    assert set(report.checks.values()) == {"pass"}
    report.raise_for_status()
    result = verify_ear(ear_bytes, VKEY.public_key(), b, DEFAULT, expected_aik_pub_hash=h)
    sub = result.submods[cmw.EVIDENCE_EAT_PROFILE]
    assert sub.eat_nonce == b and sub.aik_pub_hash == h and result.iat == FIXED_TIME
    assert sub.trust_vector == {"instance-identity": 2, "executables": 2, "hardware": 2}
    # the EAR verifies by hand too: COSE signature with the verifier key, claims per EAR -03
    rec = cbor2.loads(ear_bytes)
    assert rec[2] == cmw.IND_ATTESTATION_RESULTS
    claims = cbor2.loads(cose.verify_sign1(rec[1], VKEY.public_key()).payload)
    assert claims[265] == "tag:ietf.org,2026:rats/ear#03" and claims[1000] == 2


def test_nonces_are_unpredictable_single_use_and_tracked():
    ae, v = _setup()
    nonces = {v.challenge() for _ in range(20)}
    assert len(nonces) == 20 and all(len(n) == 32 for n in nonces)
    nonce, b, h, ev = _attest(ae, v)
    assert v.appraise(ev, b, nonce, h)[1].affirming
    _, again = v.appraise(ev, b, nonce, h)  # replay of the same nonce
    assert not again.affirming and again.reasons[0].startswith("expat02-5.1-verifier-nonce-fresh")
    _, unknown = v.appraise(ev, b, b"\x99" * 32, h)
    assert unknown.status == ear.Tier.contraindicated
    with pytest.raises(IllegalParameter):
        unknown.raise_for_status()
    # expired nonce
    now = [FIXED_TIME]
    v2 = Verifier([ae.manufacturer_root], ae.reference_values(), VKEY, clock=lambda: now[0], nonce_lifetime=10)
    n = v2.challenge()
    now[0] += 11
    assert "expired" in v2.appraise(ev, None, n, None)[1].reasons[0]
    # mitigation off: nonce not checked
    v3 = Verifier([ae.manufacturer_root], ae.reference_values(), VKEY, clock=lambda: FIXED_TIME,
                  profile=DEFAULT.with_mitigations(check_verifier_nonce=False))
    assert v3.appraise(ev, b, b"\x99" * 32, h)[1].affirming


@pytest.mark.parametrize("what", ["binding", "aik", "measurement"])
def test_policy_failures_give_contraindicated_ears(what):
    ae, v = _setup(measurements={"tls-stack": b"\x66" * 32, "attester-firmware": b"\x00" * 32}) \
        if what == "measurement" else _setup()
    nonce, b, h, ev = _attest(ae, v)
    if what == "binding":
        b = B.compute_binding(EXPORTER, DEFAULT, b"another request context", ae.aik_identity().leaf)
    if what == "aik":
        h = B.aik_pub_hash(SHA256, DEFAULT, pki.derive_key("p256", b"not the AIK"))
    ear_bytes, report = v.appraise(ev, b, nonce, h)
    expected = {"binding": "expat02-5.1-binding-match", "aik": "expat02-5.2-aik-pub-hash",
                "measurement": "expat-verifier-measurements"}[what]
    assert report.status == ear.Tier.contraindicated and report.checks[expected] == "fail"
    assert [r.split(":")[0] for r in report.reasons] == [expected]
    with pytest.raises(ProtocolError) as e:
        report.raise_for_status()
    assert e.value.check == expected
    result = ear.verify_ear_signature(ear_bytes, VKEY.public_key())
    assert result.overall == ear.Tier.contraindicated
    assert result.submods[cmw.EVIDENCE_EAT_PROFILE].reasons[0].startswith(expected)
    with pytest.raises(BadCertificate) as e:
        verify_ear(ear_bytes, VKEY.public_key(), b)
    assert e.value.check == "expat02-4-ar-affirming"


def test_missing_aik_pub_hash_is_caught_unless_mitigation_off():
    ae, v = _setup(include_aik_pub_hash=False)
    nonce, b, h, ev = _attest(ae, v)
    _, report = v.appraise(ev, b, nonce, h)
    assert report.checks["expat02-5.2-aik-pub-hash"] == "fail"
    off = DEFAULT.with_mitigations(check_aik_pub_hash=False)
    v_off = Verifier([ae.manufacturer_root], ae.reference_values(), VKEY, clock=lambda: FIXED_TIME, profile=off)
    n2 = v_off.challenge()
    assert v_off.appraise(ev, b, n2, h)[1].affirming


def test_forged_or_malformed_evidence_raises():
    ae, v = _setup()
    nonce, b, h, ev = _attest(ae, v)
    rec = cbor2.loads(ev)
    msg = cbor2.loads(rec[1])
    prot, unprot, payload, sig = msg.value

    def rewrap(p=prot, pl=payload, s=sig):
        return cbor2.dumps([rec[0], cbor2.dumps(cbor2.CBORTag(18, [p, unprot, pl, s])), 4])

    # tampered signature / payload
    with pytest.raises(DecryptError):
        v.appraise(rewrap(s=sig[:-1] + bytes([sig[-1] ^ 1])), b, None, h)
    tampered = cbor2.loads(payload)
    tampered[10] = b"\x00" * 32
    with pytest.raises(DecryptError):
        v.appraise(rewrap(pl=cbor2.dumps(tampered)), b, None, h)
    # Evidence from a device of another manufacturer (wrong chain)
    stranger = deterministic_environment(seed=b"counterfeit")
    with pytest.raises(BadCertificate) as e:
        v.appraise(stranger.evidence(b, hash=SHA256), b, None, None)
    assert e.value.check == "pkix-trust-anchor"
    # x5chain missing
    p2 = cbor2.loads(prot)
    del p2[33]
    with pytest.raises(BadCertificate):
        v.appraise(rewrap(p=cbor2.dumps(p2)), b, None, h)
    # re-signed by a key the chain does not certify
    fake = cose.sign1(pki.derive_key("p256", b"fake"), payload, protected={33: cbor2.loads(prot)[33]})
    with pytest.raises(DecryptError):
        v.appraise(cbor2.dumps([rec[0], fake, 4]), b, None, h)
    # malformed CMW / CBOR / JSON and oversize
    for blob in (b"", b"\x01", ev[:-3], ev + b"\x00", b'["application/eat+cwt","!!"]', b"\x82" + bytes(70000)):
        with pytest.raises(DecodeError):
            v.appraise(blob, b, None, h)
    # the attempts above carried no nonce, so the nonce is still fresh; a malformed attempt with it burns it
    with pytest.raises(DecodeError):
        v.appraise(b"\x01", b, nonce, h)
    _, rep = v.appraise(ev, b, nonce, h)
    assert rep.checks["expat02-5.1-verifier-nonce-fresh"] == "fail"


def test_passport_binding_echo():
    ae, v = _setup()
    nonce, b, h, ev = _attest(ae, v)
    ear_bytes, _ = v.appraise(ev, b, None, h)  # passport: the attester asks the Verifier
    verify_ear(ear_bytes, VKEY.public_key(), b, DEFAULT, expected_aik_pub_hash=h)
    other_binding = B.compute_binding(EXPORTER, DEFAULT, b"other connection ctx", ae.aik_identity().leaf)
    with pytest.raises(IllegalParameter) as e:
        verify_ear(ear_bytes, VKEY.public_key(), other_binding, DEFAULT)
    assert e.value.check == "expat-passport-binding-echo"
    with pytest.raises(IllegalParameter):
        verify_ear(ear_bytes, VKEY.public_key(), b, DEFAULT,
                   expected_aik_pub_hash=B.aik_pub_hash(SHA256, DEFAULT, pki.derive_key("p256", b"x")))
    # the draft's literal passport check accepts the replayed AR (DIGEST §3.8 #10)
    verify_ear(ear_bytes, VKEY.public_key(), other_binding, PROFILES["passport-literal"])
    with pytest.raises(ValueError):
        verify_ear(ear_bytes, VKEY.public_key(), None, DEFAULT)
    with pytest.raises(DecryptError):
        verify_ear(ear_bytes, pki.derive_key("p256", b"not the verifier").public_key(), b, DEFAULT)


def test_expired_ear_rejected():
    e = ear.EAR(iat=1, verifier_id=("d", "b"), exp=100,
                submods={"x": ear.Appraisal(ear.Tier.affirming, eat_nonce=b"\x01" * 32)})
    blob = ear.sign_ear(e, VKEY)
    verify_ear(blob, VKEY.public_key(), b"\x01" * 32, now=100)
    with pytest.raises(BadCertificate):
        verify_ear(blob, VKEY.public_key(), b"\x01" * 32, now=101)


@pytest.mark.parametrize("name", ["nonce-array", "json-cmw", "raw-public-key", "rev01", "ear-rfc9782"])
def test_profiles_end_to_end(name):
    profile = PROFILES[name]
    ae, v = _setup(profile)
    nonce = v.challenge()
    aik = ae.aik_identity().leaf
    b = B.compute_binding(EXPORTER, profile, nonce, aik, nonce=nonce if profile.binding_formula == "01" else b"")
    h = B.aik_pub_hash(SHA256, profile, aik)
    ev = ae.evidence(b, h)
    ear_bytes, report = v.appraise(ev, b, nonce, h)
    assert report.affirming, report.reasons
    verify_ear(ear_bytes, VKEY.public_key(), b, profile, expected_aik_pub_hash=h)
    assert (ev[:1] == b"[") == (profile.cmw_serialization == "json")


def test_service_over_loopback():
    ae, v = _setup()
    with VerifierService(v) as svc:
        assert svc.url.startswith("http://127.0.0.1:")
        client = VerifierClient(svc.url)
        nonce = client.challenge()
        assert len(nonce) == 32
        aik = ae.aik_identity().leaf
        b = B.compute_binding(EXPORTER, DEFAULT, nonce, aik)
        h = B.aik_pub_hash(SHA256, DEFAULT, aik)
        ev = ae.evidence(b, h)
        ear_bytes, report = client.appraise(ev, b, nonce, h)
        assert report.affirming
        verify_ear(ear_bytes, client.public_key(), b, DEFAULT, expected_aik_pub_hash=h)
        _, again = client.appraise(ev, b, nonce, h)
        assert again.status == ear.Tier.contraindicated
        with pytest.raises(IllegalParameter) as e:     # the failed check named, as in-process
            again.raise_for_status()
        assert e.value.check == "expat02-5.1-verifier-nonce-fresh"
        # forged Evidence -> 422 mapped back to the typed error
        with pytest.raises(DecodeError) as e:
            client.appraise(b"\x01\x02", b, None, h)
        assert e.value.check == "cmw-3.4-demux"
        # malformed requests -> 400 / 404 with JSON bodies
        for path, body, code in (("/appraise", b"not json", 400), ("/appraise", b'{"evidence": "zz"}', 400),
                                 ("/appraise", b"{}", 400), ("/appraise", b"[1]", 400), ("/nope", b"{}", 404)):
            req = urllib.request.Request(svc.url + path, data=body, method="POST")
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req, timeout=5)
            assert err.value.code == code
            assert "error" in json.loads(err.value.read())
        url = svc.url
    # stopped: nothing is listening any more
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/public-key", timeout=2)


def test_cli_verifier_serve():
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-m", "expat", "verifier", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        client = VerifierClient(info["url"])
        assert len(client.challenge()) == 32
        # the CLI trusts the seed "expat" device; its clock is real, like the service's (Evidence age policy)
        ae = SoftwareAttestingEnvironment(seed=b"expat")
        nonce = client.challenge()
        aik = ae.aik_identity().leaf
        b = B.compute_binding(EXPORTER, DEFAULT, nonce, aik)
        h = B.aik_pub_hash(SHA256, DEFAULT, aik)
        assert client.appraise(ae.evidence(b, h), b, nonce, h)[1].affirming
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


from hypothesis import given, settings, strategies as st  # noqa: E402

_AE, _V = _setup()
_N, _B, _H, _EV = _attest(_AE, _V)


@settings(max_examples=120, deadline=None)
@given(st.integers(0, len(_EV) - 1), st.integers(1, 255))
def test_mutated_evidence_is_rejected_or_unchanged_in_meaning(pos, xor):
    data = bytearray(_EV)
    data[pos] ^= xor
    try:
        _, report = _V.appraise(bytes(data), _B, None, _H)
    except ProtocolError:
        return
    # only the unsigned CMW wrapper can change without a failure; the appraised claims are the originals
    assert report.claims == eat.decode_claims(eat.unwrap_evidence(_EV))


def test_evidence_age_policy_rfc9334_10_1():
    """Evidence whose iat is too old, or too far in the future, is contraindicated under a named check;
    within the window it is affirmed; without an age policy the check is skipped."""
    from expat.reference.attestation.verifier import EVIDENCE_AGE

    ae = deterministic_environment(seed=b"age-test-device")
    aik = ae.aik_identity().leaf
    for offset, affirmed in ((0, True), (300, True), (301, False), (-60, True), (-61, False)):
        v = Verifier([ae.manufacturer_root], ae.reference_values(), VKEY, clock=lambda o=offset: FIXED_TIME + o)
        nonce = v.challenge()
        b = B.compute_binding(EXPORTER, DEFAULT, nonce, aik)
        h = B.aik_pub_hash(SHA256, DEFAULT, aik)
        _, report = v.appraise(ae.evidence(b, h), b, nonce, h)
        assert report.affirming is affirmed, offset
        assert report.checks[EVIDENCE_AGE.id] == ("pass" if affirmed else "fail")
        if not affirmed:
            assert any(r.startswith(EVIDENCE_AGE.id) for r in report.reasons)
    v = Verifier([ae.manufacturer_root], ae.reference_values(), VKEY, clock=lambda: FIXED_TIME + 10 ** 6,
                 max_evidence_age=None)
    nonce = v.challenge()
    b = B.compute_binding(EXPORTER, DEFAULT, nonce, aik)
    _, report = v.appraise(ae.evidence(b, B.aik_pub_hash(SHA256, DEFAULT, aik)), b, nonce,
                           B.aik_pub_hash(SHA256, DEFAULT, aik))
    assert report.affirming and report.checks[EVIDENCE_AGE.id] == "skipped"
