"""Draft -04 (editor's copy of 2026-09-19): the rev04 profile, its named checks, and the delegated
binding comparison of §5.1 (profile binding_check="delegated"), over real TLS 1.3 on loopback.

Each -04 check has a test that makes it reject; the delegated mode is exercised in-process and through
the Verifier's HTTP/JSON service, and its events are checked against the role tables."""

from __future__ import annotations

import expat  # noqa: F401  (before OpenSSL)

import dataclasses
import json
import urllib.error
import urllib.request

import pytest

from attestation_support import (assert_accepted, assert_rejected, drive, independent_binding, run_with, scenario,
                                 suite_hash)
from expat.cli import main
from expat.errors import Alert, ProtocolError
from expat.model.checker import check_trace
from expat.model.trace import Trace, TraceRecorder
from expat.profile import PROFILES, Profile
from expat.reference.attestation import binding as B
from expat.reference.attestation import resumption
from expat.reference.attestation.endpoint import BACKGROUND_CHECK, PASSPORT
from expat.reference.attestation.scenario import Scenario, run
from expat.reference.attestation.verifier import Verifier, verify_ear
from expat.reference.attestation.verifier_service import VerifierService

LABEL_04 = "EXPORTER-cmw-attestation"          # -04 §5.1 (both places) and §9.2


# --- the profile ------------------------------------------------------------------------------------

def test_rev04_profile_reads_the_04_text():
    p = PROFILES["rev04"]
    assert (p.revision, p.exporter_label, p.binding_check) == ("04", LABEL_04, "local")
    assert p.forbids_resumption and not p.delegated
    d = PROFILES["rev04-delegated"]
    assert d.delegated and d.exporter_label == LABEL_04
    assert Profile.from_dict(d.to_dict()) == d
    assert "binding_check=delegated" in d.variant_name()
    with pytest.raises(ValueError):
        Profile(binding_check="verifier")
    assert Profile().binding_check == "local" and Profile().mitigations.verifier_compares_binding


def test_delegated_is_refused_for_passport():
    with pytest.raises(ValueError, match="background-check"):
        scenario(model=PASSPORT, revision="04", binding_check="delegated")


def test_cli_profiles_and_run_revision_04(capsys):
    assert main(["profiles", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    names = set(listed) if isinstance(listed, dict) else {p["name"] for p in listed}
    assert {"rev04", "rev04-delegated"} <= names
    assert main(["run", "--revision", "04", "--binding-check", "delegated", "--verifier", "http", "--seed", "t",
                 "--json"]) == 0
    account = json.loads(capsys.readouterr().out)
    assert account["ok"] and account["revision"] == "04" and account["model_check"] == "conformant"
    assert main(["run", "--revision", "04", "--binding-check", "delegated", "--model", "passport"]) == 2


@pytest.mark.parametrize("model", [BACKGROUND_CHECK, PASSPORT])
@pytest.mark.parametrize("attester", ["client", "server", "mutual"])
def test_rev04_over_the_http_verifier_with_a_conformant_trace(attester: str, model: str) -> None:
    s = scenario(attester=attester, model=model, revision="04", verifier_transport="http")
    rec = TraceRecorder(profile=s.profile.to_dict(), seed="rev04", cipher_suite=s.suite, with_secrets=True)
    result = run(s, rec)
    assert_accepted(result)
    verdict = check_trace(rec.trace())
    assert verdict.conformant, verdict.to_json()
    h = suite_hash(result.cipher_suite)
    for o in result.outcomes:   # the binding under the -04 label, recomputed with hashlib/hmac only
        rp = result.endpoints["client" if o.direction == "server" else "server"]
        assert o.binding == independent_binding(h, rp.conn.exporter_master_secret, o.ctx, o.aik_spki,
                                                label=LABEL_04.encode())


# --- §5.1: local comparison under the -04 label -------------------------------------------------------

def _bind_with_label(label: str):
    """The client's AE signs Evidence over the binding under ``label`` instead of the profile's."""
    def prepare(eps):
        att = eps["client"]
        wrong = dataclasses.replace(att.profile, exporter_label=label)
        aik = att.ae.aik_public_key()
        aik_hash = B.aik_pub_hash(att.conn.hash, att.profile, aik)
        att.evidence_hook = lambda ctx, binding, evidence: att.ae.evidence(
            B.compute_binding(att.conn.exporter, wrong, ctx, aik), aik_hash, hash=att.conn.hash)
    return prepare


def test_04_5_1_local_binding_match_rejects_the_02_label():
    result = run_with(scenario(revision="04"), on_prepare=_bind_with_label("Attestation"))
    assert_rejected(result, "expat04-5.1-binding-match", Alert.illegal_parameter)


# --- §5.1: delegated comparison -----------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["in-process", "http"])
def test_04_5_1_delegated_verifier_rejects_another_binding(transport: str):
    s = scenario(revision="04", binding_check="delegated", verifier_transport=transport)
    result = run_with(s, on_prepare=_bind_with_label("Attestation"))
    assert_rejected(result, "expat04-5.1-delegated-binding-match", Alert.illegal_parameter)


def test_04_5_1_delegated_rp_records_no_binding_check_and_the_verifier_confirms():
    s = scenario(revision="04", binding_check="delegated")
    rec = TraceRecorder(profile=s.profile.to_dict(), seed="delegated", cipher_suite=s.suite)
    result = run(s, rec)
    assert_accepted(result)
    trace = rec.trace()
    names = [e.name for e in trace.events]
    assert "BindingChecked" not in names
    confirmed = [e for e in trace.events if e.name == "BindingConfirmed"]
    forwarded = [e for e in trace.events if e.name == "EvidenceForwarded"]
    assert len(confirmed) == len(forwarded) == 1
    assert confirmed[0].args["binding"] == forwarded[0].args["expected_binding"] == result.outcomes[0].binding.hex()
    assert names.index("BindingConfirmed") < names.index("AttestationResultReceived")
    assert check_trace(trace).conformant
    # the checker refuses the acceptance once the Verifier's confirmation is gone
    without = [e for e in trace.events if e.name != "BindingConfirmed"]
    bad = check_trace(Trace(trace.header, [dataclasses.replace(e, seq=i) for i, e in enumerate(without)]))
    assert "guard:binding_confirmed_to_me" in bad.rules()
    # ... or when the Verifier confirms a binding that is not the Evidence's (it must compare)
    forged = [dataclasses.replace(e, args={**e.args, "binding": "11" * 32}) if e.name == "BindingConfirmed" else e
              for e in trace.events]
    assert {"guard:confirms_conveyed_binding", "guard:binding_confirmed_to_me"} & check_trace(
        Trace(trace.header, forged)).rules()


class _NonDelegatingVerifier:
    """A real Verifier behind an adapter that ignores the request to compare and confirm (a Verifier that
    does not implement -04 §5.1 delegation)."""

    def __init__(self, verifier: Verifier):
        self.verifier = verifier

    def challenge(self) -> bytes:
        return self.verifier.challenge()

    def public_key(self):
        return self.verifier.public_key()

    def appraise(self, evidence, expected_binding=None, nonce=None, expected_aik_pub_hash=None,
                 confirm_binding=False):
        return self.verifier.appraise(evidence, expected_binding, nonce, expected_aik_pub_hash)


def test_04_5_1_rp_refuses_a_result_that_does_not_confirm_its_binding():
    def prepare(eps):
        for ep in eps.values():
            ep.verifier.service = _NonDelegatingVerifier(ep.verifier.service)
    result = run_with(scenario(revision="04", binding_check="delegated"), on_prepare=prepare)
    assert_rejected(result, "expat04-5.1-binding-confirmed", Alert.illegal_parameter)


def test_04_5_1_verify_ear_requires_confirmation_of_exactly_the_conveyed_binding():
    from test_verifier import EXPORTER, VKEY, _setup
    from expat.reference.keyschedule import SHA256

    profile = PROFILES["rev04-delegated"]
    ae, v = _setup(profile)
    nonce = v.challenge()
    aik = ae.aik_identity().leaf
    b = B.compute_binding(EXPORTER, profile, nonce, aik)
    h = B.aik_pub_hash(SHA256, profile, aik)
    ear_bytes, report = v.appraise(ae.evidence(b, h), b, nonce, h, confirm_binding=True)
    assert report.affirming and report.binding_confirmed == b
    assert report.checks["expat04-5.1-delegated-binding-match"] == "pass"
    verify_ear(ear_bytes, VKEY.public_key(), None, profile, delegated_binding=b)
    with pytest.raises(ProtocolError) as e:
        verify_ear(ear_bytes, VKEY.public_key(), None, profile, delegated_binding=bytes(32))
    assert e.value.check == "expat04-5.1-binding-confirmed"
    with pytest.raises(ValueError):
        v.appraise(ae.evidence(b, h), None, None, h, confirm_binding=True)
    # mitigation off: the Verifier confirms whatever it is given, without comparing
    blind = Verifier(v.trust_anchors, v.reference_values, VKEY, clock=v.clock,
                     profile=profile.with_mitigations(verifier_compares_binding=False))
    other = bytes(range(32))
    _, report = blind.appraise(ae.evidence(b, h), other, None, h, confirm_binding=True)
    assert report.affirming and report.binding_confirmed == other
    assert report.checks["expat04-5.1-delegated-binding-match"] == "skipped"


def test_04_5_1_http_service_carries_the_delegation():
    from test_verifier import EXPORTER, _setup
    from expat.reference.keyschedule import SHA256

    profile = PROFILES["rev04-delegated"]
    ae, v = _setup(profile)
    with VerifierService(v) as svc:
        def post(body: dict) -> tuple[int, dict]:
            req = urllib.request.Request(svc.url + "/appraise", data=json.dumps(body).encode(), method="POST")
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())
        nonce = v.challenge()
        aik = ae.aik_identity().leaf
        b = B.compute_binding(EXPORTER, profile, nonce, aik)
        ev = ae.evidence(b, B.aik_pub_hash(SHA256, profile, aik)).hex()
        code, out = post({"evidence": ev, "nonce": nonce.hex(), "expected_binding": b.hex(), "confirm_binding": True})
        assert code == 200 and out["binding_confirmed"] == b.hex() and out["status"] == "affirming"
        assert post({"evidence": ev, "confirm_binding": "yes", "expected_binding": b.hex()})[0] == 400
        assert post({"evidence": ev, "confirm_binding": True})[0] == 400
        code, out = post({"evidence": ev, "expected_binding": bytes(32).hex(), "confirm_binding": True})
        assert code == 200 and out["status"] == "contraindicated" and "binding_confirmed" not in out


def test_ear_binding_confirmed_claim_round_trips_and_is_typed():
    from expat.reference.attestation.ear import Appraisal, Tier

    a = Appraisal(status=Tier.affirming, binding_confirmed=b"\x07" * 32)
    assert Appraisal.from_map(a.to_map()).binding_confirmed == b"\x07" * 32
    m = a.to_map()
    m[-70100]["binding_confirmed"] = b"\x07" * 4
    with pytest.raises(ProtocolError) as e:
        Appraisal.from_map(m)
    assert e.value.check == "ear03-3-claims"


# --- §7.2: no tickets, no resumption ------------------------------------------------------------------

def test_04_7_2_server_refuses_to_send_a_new_session_ticket():
    def fn(eps):
        server, client = eps["server"], eps["client"]
        request = server.request_attestation()
        client.answer_request()
        server.accept_authenticator(request)
        client.await_outcome()
        resumption.issue_ticket(server)
    assert_rejected(drive(scenario(revision="04"), fn), "expat04-7.2-no-new-session-ticket", Alert.unexpected_message)
    # the editor's copy keeps the older behaviour: no ticket, silently
    assert drive(scenario(revision="editors"), lambda eps: resumption.issue_ticket(eps["server"])).value is None


def test_04_7_2_client_refuses_to_resume_with_a_ticket_of_an_attestation_connection():
    ticket = resumption.Ticket("00" * 16, bytes(32), {}, attestation_connection=True)
    result = run(Scenario(profile=PROFILES["rev04"], seed=b"resume", resume=ticket))
    assert_rejected(result, "expat04-7.2-no-resumption", Alert.illegal_parameter)


def test_04_7_2_attested_connection_offers_no_resumption():
    result = run(scenario(revision="04"))
    assert_accepted(result)
    offered = result.endpoints["server"].conn.client_hello.extension_types
    assert 42 not in offered and 41 not in offered     # early_data, pre_shared_key (RFC 8446 §4.2)


# --- the delegated attack -----------------------------------------------------------------------------

def test_attack_delegated_verifier_skips_comparison_is_flagged():
    from expat.reference.attacks import run_attack

    mitigated, unmitigated = run_attack("delegated-verifier-skips-comparison")
    assert not mitigated.accepted and mitigated.check.conformant
    assert mitigated.error.check == "expat04-5.1-delegated-binding-match"
    assert unmitigated.accepted and "channel_binding" in unmitigated.violated
    assert unmitigated.trace.header["profile"]["binding_check"] == "delegated"
    assert unmitigated.trace.header["profile"]["mitigations"]["verifier_compares_binding"] is False


# --- model side ---------------------------------------------------------------------------------------

def test_model_flags_and_variants_for_the_delegated_mode():
    from expat.model import roles
    from expat.model.expectations import VARIANTS
    from expat.model.static import check_static

    assert {"local_binding_check", "verifier_compares_binding"} <= set(roles.FLAGS)
    assert roles.flag({"binding_check": "delegated"}, "local_binding_check") is False
    assert VARIANTS["delegated"].off == ("local_binding_check",) and VARIANTS["delegated"].violated == ()
    assert "channel_binding" in VARIANTS["delegated-no-verifier-compare"].violated
    delegated = PROFILES["rev04-delegated"].to_dict()
    assert all(f.ok for f in check_static(delegated)), check_static(delegated)
    blind = PROFILES["rev04-delegated"].with_mitigations(verifier_compares_binding=False).to_dict()
    failed = {f.check for f in check_static(blind) if not f.ok}
    assert failed == {"binding-before-acceptance"}


def test_bounded_search_encodes_the_delegated_comparison(capsys):
    """-04 §5.1 in the search: with the Verifier comparing, one connection and one request show no
    binding attack; with the Verifier not comparing, the adversary's own binding is accepted there."""
    main(["proofs", "run", "--variant", "delegated", "--variant", "delegated-no-verifier-compare",
          "--connections", "1", "--requests", "1", "--json"])
    doc = json.loads(capsys.readouterr().out)
    z3 = {(c["variant"], c["property"]): c["z3"] for c in doc["cells"]}
    assert doc["not_modelled"] == {}
    assert {p for (v, p), verdict in z3.items() if v == "delegated" and verdict != "holds"} == set()
    assert {p for (v, p), verdict in z3.items() if v == "delegated-no-verifier-compare" and verdict == "violated"} \
        == {"channel_binding", "request_binding"}


def test_monitors_take_the_binding_of_a_delegated_acceptance_from_the_verifiers_confirmation():
    """Evidence no AE produced (forged), accepted in delegated mode: the monitors still find the binding the
    acceptance rests on (the Verifier's BindingConfirmed), so only evidence_integrity falls, not the
    binding properties."""
    from pathlib import Path
    from expat.model.trace import load_trace

    path = Path(__file__).resolve().parents[1] / "traces" / "golden" / \
        "honest-client-background-check-rev04-delegated.jsonl"
    trace = load_trace(path)
    kept = [e for e in trace.events if e.name != "EvidenceProduced"]
    forged = Trace(trace.header, [dataclasses.replace(e, seq=i) for i, e in enumerate(kept)])
    props = check_trace(forged).properties()
    assert "evidence_integrity" in props
    assert not {"channel_binding", "request_binding"} & props
