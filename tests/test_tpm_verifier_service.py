"""`expat verifier serve` appraising TPM Evidence (--evidence tpm|any), and `expat run --evidence tpm
--verifier http` end to end. The TPM AK CA root is derived from the seed, so the service needs no TPM;
the Evidence comes from a real swtpm."""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import subprocess
import sys

import expat  # noqa: F401  (before OpenSSL)

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from expat.errors import ProtocolError
from expat.profile import DEFAULT
from expat.reference.attestation import binding as binding_mod
from expat.reference.attestation.commands import serve_verifier
from expat.reference.attestation.ear import Tier
from expat.reference.attestation.environment import SoftwareAttestingEnvironment
from expat.reference.attestation.tpm.ak_ca import ak_ca_root
from expat.reference.attestation.tpm.swtpm import swtpm_path
from expat.reference.attestation.verifier_service import VerifierClient, VerifierService
from expat.reference.keyschedule import SHA256

needs_swtpm = pytest.mark.skipif(swtpm_path() is None, reason="swtpm is not installed (scripts/setup.sh installs it)")

SEED = "tpm-service-seed"
BINDING = hashlib.sha256(b"binding for the verifier service").digest()


# --- no TPM needed ----------------------------------------------------------------------------------

def test_ak_ca_root_is_a_self_signed_ca_from_the_seed():
    root = ak_ca_root(SEED)
    assert root.subject == root.issuer
    assert root.subject.rfc4514_string().startswith("CN=expat TPM attestation root CA")
    root.public_key().verify(root.signature, root.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    assert ak_ca_root(SEED) == root                       # deterministic
    assert ak_ca_root(SEED + "x") != root
    assert ak_ca_root(SEED, "another manufacturer") != root


def test_serve_verifier_trust_anchors_follow_the_evidence_option():
    sw_root = SoftwareAttestingEnvironment(seed=SEED).manufacturer_root
    tpm_root = ak_ca_root(SEED)
    assert serve_verifier(SEED, evidence="software").trust_anchors == [sw_root]
    assert serve_verifier(SEED, evidence="tpm").trust_anchors == [tpm_root]
    assert serve_verifier(SEED, evidence="any").trust_anchors == [sw_root, tpm_root]
    with pytest.raises(ValueError):
        serve_verifier(SEED, evidence="tpm2")


# --- with a real swtpm ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tpm_ae():
    from expat.reference.attestation.tpm.environment import TpmAttestingEnvironment

    if swtpm_path() is None:
        pytest.skip("swtpm is not installed")
    ae = TpmAttestingEnvironment(seed=SEED.encode())      # starts and owns its swtpm
    yield ae
    ae.close()
    assert not ae.device.swtpm.running()


def _tpm_evidence(ae) -> tuple[bytes, bytes]:
    aik = binding_mod.aik_pub_hash(SHA256, DEFAULT, ae.aik_public_key())
    return ae.evidence(BINDING, aik), aik


def _software_evidence() -> tuple[bytes, bytes]:
    sw = SoftwareAttestingEnvironment(seed=SEED)
    aik = binding_mod.aik_pub_hash(SHA256, DEFAULT, sw.aik_public_key())
    return sw.evidence(BINDING, aik), aik


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    ready = sel.select(timeout)
    sel.close()
    assert ready, f"no output from the verifier service within {timeout} s"
    return proc.stdout.readline()


@needs_swtpm
def test_cli_verifier_serve_evidence_tpm_appraises_tpm_evidence(tpm_ae):
    proc = subprocess.Popen([sys.executable, "-m", "expat", "verifier", "serve", "--evidence", "tpm",
                             "--seed", SEED], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        hello = json.loads(_read_line(proc, 30))
        assert hello["evidence"] == "tpm" and hello["url"].startswith("http://127.0.0.1:")
        client = VerifierClient(hello["url"])
        data, aik = _tpm_evidence(tpm_ae)
        _ear, report = client.appraise(data, expected_binding=BINDING, expected_aik_pub_hash=aik)
        assert report.status == Tier.affirming, report.reasons
        for c in ("tpm2-attest-signature", "tpm2-quote-pcr-digest", "expat-tpm-certified-aik"):
            assert report.checks[c] == "pass", c
        # the service trusts the TPM AK CA only: the software AE's Evidence has no trust anchor
        sw_data, sw_aik = _software_evidence()
        with pytest.raises(ProtocolError) as e:
            client.appraise(sw_data, expected_binding=BINDING, expected_aik_pub_hash=sw_aik)
        assert e.value.check == "pkix-trust-anchor"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode is not None


@needs_swtpm
def test_service_trusts_tpm_evidence_only_when_asked(tpm_ae):
    data, aik = _tpm_evidence(tpm_ae)
    with VerifierService(serve_verifier(SEED, evidence="software")) as service:
        with pytest.raises(ProtocolError) as e:       # the gap this option closes
            VerifierClient(service.url).appraise(data, expected_binding=BINDING, expected_aik_pub_hash=aik)
        assert e.value.check == "pkix-trust-anchor"
    with VerifierService(serve_verifier(SEED, evidence="any")) as service:
        client = VerifierClient(service.url)
        assert client.appraise(data, expected_binding=BINDING, expected_aik_pub_hash=aik)[1].status == Tier.affirming
        sw_data, sw_aik = _software_evidence()
        _, report = client.appraise(sw_data, expected_binding=BINDING, expected_aik_pub_hash=sw_aik)
        assert report.status == Tier.affirming, report.reasons
    # a TPM AE of another seed is not trusted
    with VerifierService(serve_verifier(SEED + "-other", evidence="tpm")) as service:
        with pytest.raises(ProtocolError) as e:
            VerifierClient(service.url).appraise(data, expected_binding=BINDING, expected_aik_pub_hash=aik)
        assert e.value.check == "pkix-trust-anchor"


@needs_swtpm
def test_cli_run_evidence_tpm_verifier_http_end_to_end(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "expat", "run", "--evidence", "tpm", "--verifier", "http",
                          "--attester", "mutual", "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    account = json.loads(out.stdout)
    assert account["ok"] is True and account["model_check"] == "conformant"
    assert [a["status"] for a in account["attestations"]] == ["affirming", "affirming"]
    assert os.listdir(tmp_path) == []      # both swtpm state directories removed
