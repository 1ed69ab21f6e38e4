"""The TPM 2.0 Attesting Environment on a real swtpm: end to end, and the Verifier's TPM checks.

One swtpm serves the whole module (session fixture ``tpm_device``); tests that need a differently
booted TPM start their own. Every swtpm is stopped by PID and checked gone afterwards.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import expat  # noqa: F401  (before OpenSSL)

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from expat.errors import ProtocolError
from expat.model.checker import check_trace
from expat.model.trace import TraceRecorder
from expat.profile import DEFAULT, get_profile
from expat.reference import pki
from expat.reference.attestation import binding as binding_mod
from expat.reference.attestation import cmw
from expat.reference.attestation.ear import Tier
from expat.reference.attestation.environment import default_measurements
from expat.reference.attestation.scenario import Scenario, run
from expat.reference.attestation.tpm import evidence as ev
from expat.reference.attestation.tpm import structures as st
from expat.reference.attestation.tpm.swtpm import Swtpm, swtpm_path
from expat.reference.attestation.verifier import Verifier
from expat.reference.keyschedule import SHA256, SHA384

pytestmark = pytest.mark.skipif(swtpm_path() is None, reason="swtpm is not installed (scripts/setup.sh installs it)")

BINDING = hashlib.sha256(b"binding of connection 1").digest()
BINDING2 = hashlib.sha256(b"binding of connection 2").digest()


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except FileNotFoundError:
        return False


@pytest.fixture(scope="session")
def tpm_device():
    from expat.reference.attestation.tpm.device import TpmDevice

    device = TpmDevice()
    pid, state = device.swtpm.pid, device.swtpm.state_dir
    yield device
    device.close()
    assert not _alive(pid), "swtpm still running after close"
    assert not os.path.exists(state)


@pytest.fixture(scope="module")
def tpm_ae(tpm_device):
    from expat.reference.attestation.tpm.environment import TpmAttestingEnvironment

    return TpmAttestingEnvironment(device=tpm_device, seed=b"tpm-tests")


def _verifier(ae, **kw) -> Verifier:
    return Verifier([ae.manufacturer_root], default_measurements(), pki.derive_key("p256", b"tpm-test-verifier"), **kw)


def _evidence_map(data: bytes) -> dict:
    return cbor2.loads(cmw.single_record(cmw.decode(data)[0]).value)


def _rewrap(m: dict) -> bytes:
    return cmw.encode(cmw.Record(ev.TPM_EVIDENCE_MEDIA_TYPE, cbor2.dumps(m), cmw.IND_EVIDENCE))


def _failed(report) -> set[str]:
    return {c for c, r in report.checks.items() if r == "fail"}


# --- process management --------------------------------------------------------------------------

def test_swtpm_started_on_loopback_and_stopped_by_pid():
    with Swtpm() as tpm:
        pid, state = tpm.pid, tpm.state_dir
        assert _alive(pid) and os.path.isdir(state)
        assert tpm.tcti_config == f"host=127.0.0.1,port={tpm.port}"
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert b"bindaddr=127.0.0.1" in b" ".join(cmdline)
    assert not _alive(pid) and not os.path.exists(state)
    tpm.stop()   # idempotent


def test_no_transient_objects_left_and_private_keys_stay_in_tpm(tpm_device, tpm_ae):
    tpm_ae.evidence(BINDING, hash=SHA256)
    tpm_ae.aik_signer().sign(0x0403, b"data")
    assert tpm_device.transient_handles() == []
    private = (ec.EllipticCurvePrivateKey,)
    for holder in (tpm_ae, tpm_ae.aik_signer(), tpm_ae.aik_identity()):
        for name in dir(holder):
            if not name.startswith("__"):
                assert not isinstance(getattr(holder, name), private), name


def test_aik_signer_is_the_tpm_key(tpm_device, tpm_ae):
    signer = tpm_ae.aik_signer()
    before = tpm_device.counts["sign"]
    sig = signer.sign(0x0403, b"CertificateVerify content")
    assert tpm_device.counts["sign"] == before + 1
    tpm_ae.aik_public_key().verify(sig, b"CertificateVerify content", ec.ECDSA(hashes.SHA256()))
    assert tpm_ae.aik_identity().leaf.public_key() == tpm_ae.aik_public_key()
    with pytest.raises(ProtocolError) as e:
        signer.sign(0x0503, b"x")
    assert e.value.check == "expat-tpm-aik-scheme"


def test_qualifying_data_formula():
    # docs/tpm.md: H_suite(label || 0x00 || len(binding) || binding || len(aik) || aik), computed here by hand
    aik = bytes(range(48))
    expected = hashlib.sha384(b"expat tpm2 qualifyingData v1\x00\x20" + BINDING + b"\x30" + aik).digest()
    assert ev.qualifying_data(BINDING, aik) == expected and len(expected) == 48
    assert len(ev.qualifying_data(bytes(64), bytes(32))) == 32


# --- end to end over real TLS 1.3 ---------------------------------------------------------------------

@pytest.mark.parametrize("attester", ["client", "server", "mutual"])
@pytest.mark.parametrize("model", ["background-check", "passport"])
def test_end_to_end_with_tpm_evidence(tpm_device, attester, model):
    rec = TraceRecorder(profile=DEFAULT.to_dict(), seed="tpm", cipher_suite="TLS_AES_128_GCM_SHA256",
                        scenario={"attester": attester, "model": model, "evidence": "tpm"})
    quotes = tpm_device.counts["quote"]
    result = run(Scenario(attester=attester, model=model, evidence="tpm", tpm_device=tpm_device,
                          seed=b"tpm-e2e-" + attester.encode()), rec)
    assert result.ok, result.error
    n = 2 if attester == "mutual" else 1
    assert [o.status for o in result.outcomes] == ["affirming"] * n
    assert tpm_device.counts["quote"] == quotes + n        # each attestation was a TPM2_Quote
    assert check_trace(rec.trace()).conformant
    assert tpm_device.transient_handles() == []


@pytest.mark.parametrize("profile,suite", [("self-signed-aik", "TLS_AES_256_GCM_SHA384"),
                                           ("raw-public-key", "TLS_AES_256_GCM_SHA384"),
                                           ("json-cmw", "TLS_AES_128_GCM_SHA256")])
def test_end_to_end_profiles(tpm_device, profile, suite):
    result = run(Scenario(profile=get_profile(profile), suite=suite, evidence="tpm", tpm_device=tpm_device,
                          seed=b"tpm-profile"))
    assert result.ok, result.error


def test_cli_run_evidence_tpm_leaves_no_swtpm():
    tmp = tempfile.mkdtemp(prefix="expat-tpm-cli-")
    env = dict(os.environ, TMPDIR=tmp)
    out = subprocess.run([sys.executable, "-m", "expat", "run", "--evidence", "tpm", "--attester", "mutual",
                          "--model", "passport", "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert '"model_check": "conformant"' in out.stdout
    leftovers = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline_has(p, tmp)]
    assert leftovers == []
    assert os.listdir(tmp) == []     # state directories removed


def _cmdline_has(pid: str, text: str) -> bool:
    try:
        return text.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


# --- the Verifier's TPM appraisal -----------------------------------------------------------------------

@pytest.mark.parametrize("h", [SHA256, SHA384])
def test_genuine_evidence_is_affirming(tpm_ae, h):
    aik = binding_mod.aik_pub_hash(h, DEFAULT, tpm_ae.aik_public_key())
    data = tpm_ae.evidence(BINDING, aik)
    _ear, report = _verifier(tpm_ae).appraise(data, expected_binding=BINDING, expected_aik_pub_hash=aik)
    assert report.status == Tier.affirming, report.reasons
    for c in ("tpm2-attest-signature", "tpm2-attest-magic", "tpm2-attest-type", "tpm2-attest-signer",
              "tpm2-certify-name", "tpm2-attest-extra-data", "expat-tpm-event-log", "tpm2-quote-pcr-digest",
              "tpm2-certify-aik-attributes", "expat-tpm-certified-aik", "expat02-5.2-aik-pub-hash"):
        assert report.checks[c] == "pass", c
    quote = st.parse_attest(_evidence_map(data)[3])
    assert len(quote.extra_data) == h.length        # 48 bytes for SHA-384 suites


def test_replayed_quote_is_rejected(tpm_ae):
    aik = binding_mod.aik_pub_hash(SHA256, DEFAULT, tpm_ae.aik_public_key())
    old = tpm_ae.evidence(BINDING, aik)
    v = _verifier(tpm_ae)
    # as recorded: the binding it carries is connection 1's
    _, report = v.appraise(old, expected_binding=BINDING2, expected_aik_pub_hash=aik)
    assert report.status == Tier.contraindicated and "expat02-5.1-binding-match" in _failed(report)
    # relabelled with connection 2's binding: the quote's extraData still commits to connection 1
    m = _evidence_map(old)
    m[1] = BINDING2
    _, report = v.appraise(_rewrap(m), expected_binding=BINDING2, expected_aik_pub_hash=aik)
    assert report.status == Tier.contraindicated
    assert _failed(report) == {"tpm2-attest-extra-data"}


def test_quote_from_another_ak_is_rejected(tpm_device, tpm_ae):
    aik = binding_mod.aik_pub_hash(SHA256, DEFAULT, tpm_ae.aik_public_key())
    m = _evidence_map(tpm_ae.evidence(BINDING, aik))
    other = tpm_device.create_key("another AK", restricted=True)
    m[3], m[4] = tpm_device.quote(other, [0, 10], ev.qualifying_data(BINDING, aik))
    with pytest.raises(ProtocolError) as e:
        _verifier(tpm_ae).appraise(_rewrap(m), expected_binding=BINDING, expected_aik_pub_hash=aik)
    assert e.value.check == "tpm2-attest-signature"
    # the other AK's own public area does not help: it is not the key of the AK certificate
    m[8] = other.public
    with pytest.raises(ProtocolError) as e:
        _verifier(tpm_ae).appraise(_rewrap(m), expected_binding=BINDING, expected_aik_pub_hash=aik)
    assert e.value.check == "tpm2-ak-key"


def test_evidence_of_an_untrusted_ak_ca_is_rejected(tpm_device, tpm_ae):
    from expat.reference.attestation.tpm.environment import TpmAttestingEnvironment

    stranger = TpmAttestingEnvironment(device=tpm_device, seed=b"untrusted CA", manufacturer="someone else")
    with pytest.raises(ProtocolError) as e:
        _verifier(tpm_ae).appraise(stranger.evidence(BINDING, hash=SHA256), expected_binding=BINDING)
    assert e.value.check == "pkix-trust-anchor"


def test_aik_outside_the_tpm_split_relay_is_rejected(tpm_device, tpm_ae):
    """The host authenticates with a software key and gets a genuine quote over that key's binding."""
    from expat.reference.attestation.tpm.environment import TpmAttestingEnvironment

    host_key = pki.derive_key("p256", b"host key outside the TPM")
    host_hash = binding_mod.aik_pub_hash(SHA256, DEFAULT, host_key.public_key())
    # an honest AE refuses to vouch for a key it does not hold
    with pytest.raises(ProtocolError) as e:
        tpm_ae.evidence(BINDING, host_hash)
    assert e.value.check == "expat-ae-own-aik"
    # a compromised host drives the TPM itself (same TPM keys: same seed)
    host = TpmAttestingEnvironment(device=tpm_device, seed=b"tpm-tests", vouch_for_any_aik=True)
    data = host.evidence(BINDING, host_hash)
    _, report = _verifier(tpm_ae).appraise(data, expected_binding=BINDING, expected_aik_pub_hash=host_hash)
    assert report.status == Tier.contraindicated
    assert "expat-tpm-certified-aik" in _failed(report)
    assert report.checks["tpm2-attest-extra-data"] == "pass"     # the quote itself is genuine


def test_split_relay_end_to_end_is_rejected(tpm_device):
    from expat.reference.attestation.environment import AikIdentity, AikSigner
    from expat.reference.attestation.tpm.environment import TpmAttestingEnvironment

    class CompromisedHost:
        """Authenticates with its own key; asks the TPM for Evidence naming that key."""

        def __init__(self, tpm_ae):
            self.identity = pki.make_identity("p256", seed=b"relay host", name="client host")
            self.signer = AikSigner(self.identity.key)
            self.tpm = TpmAttestingEnvironment(device=tpm_device, seed=tpm_ae.seed, vouch_for_any_aik=True)
            self.profile = tpm_ae.profile

        def aik_public_key(self):
            return self.identity.key.public_key()

        def aik_signer(self):
            return self.signer

        def aik_identity(self):
            return AikIdentity(chain=list(self.identity.chain), signer=self.signer)

        def evidence(self, binding, aik_pub_hash=None, *, hash=None):
            return self.tpm.evidence(binding, aik_pub_hash, hash=hash)

    class Relay:
        def prepare(self, eps):
            host = CompromisedHost(eps["client"].ae)
            eps["client"].ae = host
            eps["server"].aik_anchors.append(host.identity.root)

        def before_accept(self, rp, att, request):
            pass

    result = run(Scenario(evidence="tpm", tpm_device=tpm_device, seed=b"tpm-relay"), attack=Relay())
    assert not result.ok
    assert result.error.check == "expat-tpm-certified-aik"


def test_aik_loaded_from_outside_is_not_tpm_resident(tpm_device, tpm_ae):
    """A software key imported with TPM2_LoadExternal can be certified, but not as fixedTPM."""
    from cryptography.hazmat.primitives import serialization
    from tpm2_pytss.constants import ESYS_TR, TPM2_ALG
    from tpm2_pytss.types import TPM2B_DATA, TPM2B_PUBLIC, TPM2B_SENSITIVE, TPMT_SIG_SCHEME

    sw = ec.generate_private_key(ec.SECP256R1())
    pem = sw.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())
    public = TPM2B_PUBLIC.from_pem(pem)
    sw_hash = binding_mod.aik_pub_hash(SHA256, DEFAULT, sw.public_key())
    qd = ev.qualifying_data(BINDING, sw_hash)
    m = _evidence_map(tpm_ae.evidence(BINDING, hash=SHA256))
    with tpm_device._lock:
        esapi = tpm_device.esapi
        handle = esapi.load_external(public, TPM2B_SENSITIVE.from_pem(pem), ESYS_TR.RH_NULL)
        try:
            with tpm_device.loaded(tpm_ae.ak) as (ak,):
                attest, sig = esapi.certify(handle, ak, TPM2B_DATA(qd), TPMT_SIG_SCHEME(scheme=TPM2_ALG.NULL))
        finally:
            esapi.flush_context(handle)
    m[2], m[5], m[6], m[7] = sw_hash, attest.marshal()[2:], sig.marshal(), public.publicArea.marshal()
    m[3], m[4] = tpm_device.quote(tpm_ae.ak, [0, 10], qd)
    _, report = _verifier(tpm_ae).appraise(_rewrap(m), expected_binding=BINDING, expected_aik_pub_hash=sw_hash)
    assert report.status == Tier.contraindicated
    assert _failed(report) == {"tpm2-certify-aik-attributes"}
    assert tpm_device.transient_handles() == []


# --- PCRs ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tampered_ae():
    """A device whose TLS stack is not the reference build (its own swtpm)."""
    from expat.reference.attestation.tpm.environment import TpmAttestingEnvironment

    measurements = default_measurements()
    measurements["tls-stack"] = hashlib.sha256(b"patched tls stack").digest()
    ae = TpmAttestingEnvironment(seed=b"tampered", measurements=measurements)
    pid = ae.device.swtpm.pid
    yield ae
    ae.close()
    assert not _alive(pid)


def test_wrong_pcr_value_is_rejected(tampered_ae):
    aik = binding_mod.aik_pub_hash(SHA256, DEFAULT, tampered_ae.aik_public_key())
    data = tampered_ae.evidence(BINDING, aik)
    v = Verifier([tampered_ae.manufacturer_root], default_measurements(), pki.derive_key("p256", b"v"))
    _, report = v.appraise(data, expected_binding=BINDING, expected_aik_pub_hash=aik)
    assert report.status == Tier.contraindicated
    assert _failed(report) == {"tpm2-quote-pcr-digest", "expat-verifier-measurements"}
    # the host lies in the event log (claims the reference build): the log no longer replays to the quote
    m = _evidence_map(data)
    m[10] = [list(e) for e in ev.measurement_log(default_measurements())]
    _, report = v.appraise(_rewrap(m), expected_binding=BINDING, expected_aik_pub_hash=aik)
    assert _failed(report) == {"expat-tpm-event-log", "tpm2-quote-pcr-digest"}


# --- malformed input never crashes ------------------------------------------------------------------------

def test_mutated_evidence_is_rejected_not_crashing(tpm_ae):
    import random

    aik = binding_mod.aik_pub_hash(SHA256, DEFAULT, tpm_ae.aik_public_key())
    m = _evidence_map(tpm_ae.evidence(BINDING, aik))
    v = _verifier(tpm_ae)
    rng = random.Random(7)
    for i in range(150):
        mm = dict(m)
        key = rng.choice([2, 3, 4, 5, 6, 7, 8])
        field = bytearray(mm[key])
        action = i % 3
        if action == 0:
            field[rng.randrange(len(field))] ^= 1 << rng.randrange(8)
        elif action == 1:
            del field[rng.randrange(len(field)):]
        else:
            field += b"\x00"
        mm[key] = bytes(field)
        try:
            _, report = v.appraise(_rewrap(mm), expected_binding=BINDING, expected_aik_pub_hash=aik)
        except ProtocolError:
            continue
        assert report.status == Tier.contraindicated, (key, action)
    for bad in ({**m, 11: b"x"}, {k: m[k] for k in m if k != 5}, {**m, 9: []}, {**m, 10: [[99, "x", bytes(32)]]}):
        with pytest.raises(ProtocolError) as e:
            v.appraise(_rewrap(bad))
        assert e.value.check == "expat-tpm-evidence"


def test_tpm_ae_implements_the_attesting_environment_protocol(tpm_ae):
    from expat.reference.attestation.environment import AttestingEnvironment

    assert isinstance(tpm_ae, AttestingEnvironment)
    facts = ev.evidence_facts(tpm_ae.evidence(BINDING, hash=SHA384))
    assert facts.binding == BINDING
    assert facts.aik_pub_hash == binding_mod.aik_pub_hash(SHA384, DEFAULT, tpm_ae.aik_public_key())
    assert facts.attestation_key == tpm_ae.attestation_key_id()


@pytest.mark.parametrize("parser,data", [
    (st.parse_attest, b""), (st.parse_attest, b"\xff\x54\x43\x47\x80\x18\x00"),
    (st.parse_public, b"\x00\x01" + bytes(20)),                       # RSA: outside the subset
    (st.parse_ecdsa_signature, b"\x00\x18\x00\x0b\x00\x21" + bytes(33) + b"\x00\x00"),   # r longer than 32
])
def test_malformed_tpm_structures_are_decode_errors(parser, data):
    with pytest.raises(ProtocolError) as e:
        parser(data)
    assert e.value.check == "tpm2-part2-marshal" and e.value.alert.name == "decode_error"


def test_off_curve_aik_point_is_a_decode_error(tpm_ae):
    raw = bytearray(tpm_ae.aik.public)
    raw[-1] ^= 1                                   # last byte of y: no longer on P-256
    with pytest.raises(ProtocolError) as e:
        st.parse_public(bytes(raw)).public_key()
    assert e.value.check == "tpm2-part2-marshal"


def test_swtpm_retries_when_its_port_is_taken(monkeypatch):
    import socket

    from expat.reference.attestation.tpm import swtpm as swtpm_mod

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    real = swtpm_mod._free_port_pair
    ports = iter([busy.getsockname()[1]])
    monkeypatch.setattr(swtpm_mod, "_free_port_pair", lambda: next(ports, None) or real())
    try:
        with Swtpm() as tpm:
            assert tpm.port != busy.getsockname()[1] and _alive(tpm.pid)
            pid = tpm.pid
    finally:
        busy.close()
    assert not _alive(pid)
