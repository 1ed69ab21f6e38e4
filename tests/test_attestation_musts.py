"""Every endpoint MUST of draft-fossati-seat-expat-02 (DIGEST §3.3) enforced over a real TLS 1.3
connection; each test is named after the draft section and asserts the alert and the check id.

Not here: the editor's-copy §7.2 TLS-level rules (no NewSessionTicket, no early data) are covered
in test_no_tickets.py; only their visible effect on an attested connection is checked below.
"""

from __future__ import annotations

import expat  # noqa: F401  (before OpenSSL)

import dataclasses

import pytest

from attestation_support import (CMW_CODEPOINT, assert_accepted, assert_rejected, cmw_extension, drive,
                                 forge_authenticator, independent_binding, plain_request, rejected_and_peer_told,
                                 run_with, scenario, suite_hash)
from expat.errors import Alert, ProtocolError
from expat.profile import get_profile
from expat.reference import ea, messages, pki
from expat.reference.attestation import binding as binding_mod
from expat.reference.attestation.endpoint import OFFERED_SCHEMES, AttestedEndpoint
from expat.reference.attestation.environment import SoftwareAttestingEnvironment
from expat.reference.attestation.scenario import run
from expat.reference.framing import FrameType
from expat.reference.keyschedule import SHA256
from expat.reference.messages import Extension

# check ids, spelled out (a rename must show up here)
FIRST_ENTRY_ONLY = "expat02-3-first-entry"
CMW_STRUCT = "expat02-3-cmw-struct"
OFFER_EMPTY = "expat02-3.1-offer-empty"
EXT_SUBSET = "rfc9261-5.2.1-extension-subset"
ATTESTATION_PRESENT = "expat02-3.3-attestation-missing"
BINDING_MATCH = "expat02-5.1-binding-match"
AIK_PUB_HASH = "expat02-5.2-aik-pub-hash"
VERIFIER_NONCE = "expat02-5.1-verifier-nonce-fresh"
PKIX_ANCHOR = "pkix-trust-anchor"
PKIX_LINK = "pkix-issuer-link"
COSE_SIGNATURE = "rfc9052-4.4-signature"
MEASUREMENTS = "expat-verifier-measurements"
AR_AFFIRMING = "expat02-4-ar-affirming"
ATTESTED_BEFORE_DATA = "expat02-7.3-attest-before-data"

EARLY_DATA, PRE_SHARED_KEY = 42, 41     # RFC 8446 §4.2 ExtensionType values


def _answer(rp: AttestedEndpoint, att: AttestedEndpoint, request: bytes, entries_for, *, forge: bool = False,
            chain: list[bytes] | None = None) -> None:
    """The attester receives ``request`` from the wire and answers with the extensions
    ``entries_for(cmw_data)`` builds per CertificateEntry (honest Evidence over the right binding)."""
    received = att.receive(FrameType.ea_request)
    assert received == request
    cmw_data, _ = att.produce_attestation(ea.decode_request(received).context)
    chain = chain or att.ae.aik_identity().chain_der()
    if forge:
        auth = forge_authenticator(att.session, att.ae.aik_signer(), chain, received, entries_for(cmw_data))
    else:
        auth = att.session.authenticate(att.ae.aik_signer(), chain, received, entry_extensions=entries_for(cmw_data))
    att.channel.send(FrameType.ea_authenticator, auth)


# --- §3: the extension -----------------------------------------------------------------------------------

def test_s3_cmw_only_in_first_entry() -> None:
    def fn(eps):
        rp, att = eps["server"], eps["client"]
        request = rp.request_attestation()
        _answer(rp, att, request, lambda c: [[cmw_extension(c)], [cmw_extension(c)]])
        rejected_and_peer_told(rp, att, request, Alert.illegal_parameter)
    assert_rejected(drive(scenario(), fn), FIRST_ENTRY_ONLY, Alert.illegal_parameter)


def test_s3_not_in_intermediate_entry_server_attester() -> None:
    def fn(eps):
        rp, att = eps["client"], eps["server"]
        request = rp.request_attestation()
        _answer(rp, att, request, lambda c: [[], [cmw_extension(c)]])
        rp.accept_authenticator(request)
    assert_rejected(drive(scenario(attester="server"), fn), FIRST_ENTRY_ONLY, Alert.illegal_parameter)


@pytest.mark.parametrize("extension_data", [
    pytest.param(lambda c: len(c).to_bytes(2, "big") + c + b"\x00", id="trailing-byte"),
    pytest.param(lambda c: (len(c) + 1).to_bytes(2, "big") + c, id="length-overrun"),
    pytest.param(lambda c: b"\x00\x00", id="empty-cmw_data"),
])
def test_s3_cmw_attestation_struct(extension_data) -> None:
    """extension_data is CMWAttestation: opaque cmw_data<1..2^16-1>, nothing else."""
    def fn(eps):
        rp, att = eps["server"], eps["client"]
        request = rp.request_attestation()
        _answer(rp, att, request, lambda c: [[Extension(CMW_CODEPOINT, extension_data(c))]])
        rp.accept_authenticator(request)
    assert_rejected(drive(scenario(), fn), CMW_STRUCT, Alert.decode_error)


# --- §3.1: negotiation -----------------------------------------------------------------------------------

def test_s3_1_offer_signalled_by_empty_extension() -> None:
    def fn(eps):
        request = eps["server"].request_attestation()
        eps["client"].receive(FrameType.ea_request)
        return request
    request = drive(scenario(), fn).value
    req = messages.decode_request(request)
    assert req.msg_type == messages.HandshakeType.certificate_request
    assert req.extension(CMW_CODEPOINT) == Extension(CMW_CODEPOINT, b"")
    assert b"\xff\xff\x00\x00" in request          # type 0xFFFF, zero-length extension_data (DIGEST §3.2)


def test_s3_1_offer_with_data_rejected_by_attester() -> None:
    def fn(eps):
        rp, att = eps["server"], eps["client"]
        plain_request(rp, [Extension(CMW_CODEPOINT, b"\x00")], allow=(CMW_CODEPOINT,))
        att.answer_request()
    assert_rejected(drive(scenario(), fn), OFFER_EMPTY, Alert.decode_error)


def test_s3_1_unsolicited_cmw_aborts_with_unsupported_extension() -> None:
    def fn(eps):
        rp, att = eps["server"], eps["client"]
        request = plain_request(rp)
        _answer(rp, att, request, lambda c: [[cmw_extension(c)]], forge=True)
        rejected_and_peer_told(rp, att, request, Alert.unsupported_extension)
    assert_rejected(drive(scenario(), fn), EXT_SUBSET, Alert.unsupported_extension)


def test_s3_1_unknown_extension_in_request_ignored() -> None:
    """The attester ignores a request extension it does not know (0xFFFE) and attests normally."""
    def fn(eps):
        rp, att = eps["server"], eps["client"]
        request = plain_request(rp, [Extension(CMW_CODEPOINT, b""), Extension(0xFFFE, b"\x01\x02")],
                                 allow=(CMW_CODEPOINT, 0xFFFE))
        att.answer_request()
        return rp.accept_authenticator(request), request
    driven = drive(scenario(), fn)
    assert driven.error is None
    outcome, request = driven.value
    assert outcome.accepted and outcome.status == "affirming"
    assert outcome.ctx == messages.decode_request(request).context


@pytest.mark.parametrize("profile,accepted", [("default", False), ("accept-unattested", True)])
def test_s3_1_endpoint_not_knowing_cmw_attestation_ignores_it(profile: str, accepted: bool) -> None:
    """A plain RFC 9261 endpoint (its session knows nothing of cmw_attestation) answers the attestation
    request with an ordinary authenticator. The requester then applies §3.3's MAY-reject: the default
    profile rejects, accept-unattested accepts the connection unattested."""
    def fn(eps):
        rp, att = eps["server"], eps["client"]
        request = rp.request_attestation()
        plain = ea.EASession(att.conn.exporter, is_server=att.conn.is_server)
        received = att.receive(FrameType.ea_request)
        auth = plain.authenticate(att.ae.aik_signer(), att.ae.aik_identity().chain_der(), received)
        att.channel.send(FrameType.ea_authenticator, auth)
        return rp.accept_authenticator(request)
    driven = drive(scenario(profile=profile), fn)
    if accepted:
        assert driven.error is None
        assert driven.value.accepted and driven.value.cmw == "" and driven.value.binding == b""
    else:
        assert_rejected(driven, ATTESTATION_PRESENT, Alert.missing_extension)


# --- §3.2: only in response to a request, tied to its context -----------------------------------------------

def test_s3_2_no_spontaneous_authenticator_with_attestation() -> None:
    """A server's spontaneous authenticator (no request) carrying cmw_attestation: the ClientHello
    never offered the extension, so the client refuses it."""
    def fn(eps):
        client, server = eps["client"], eps["server"]
        ctx = b"\x5a" * 32
        binding = binding_mod.compute_binding(server.conn.exporter, server.profile, ctx, server.ae.aik_public_key())
        evidence = server.ae.evidence(binding, hash=server.conn.hash)
        chain = server.ae.aik_identity().chain_der()
        auth = forge_authenticator(server.session, server.ae.aik_signer(), chain, None,
                                   [[cmw_extension(evidence)]], context=ctx)
        client.session.validate(None, auth, pki.ChainValidator(client.aik_anchors))
    assert CMW_CODEPOINT not in run(scenario(attester="server")).endpoints["server"].conn.client_hello.extension_types
    assert_rejected(drive(scenario(attester="server"), fn), EXT_SUBSET, Alert.unsupported_extension)


def test_s3_2_attestation_associated_with_request_context() -> None:
    """Evidence over the binding of another certificate_request_context of the same connection."""
    def prepare(eps):
        att = eps["client"]

        def hook(ctx: bytes, binding: bytes, evidence: bytes) -> bytes:
            other = binding_mod.compute_binding(att.conn.exporter, att.profile, bytes(32), att.ae.aik_public_key())
            return att.ae.evidence(other, hash=att.conn.hash)
        att.evidence_hook = hook
    assert_rejected(run_with(scenario(), on_prepare=prepare), BINDING_MATCH, Alert.illegal_parameter)


# --- §3.3: X.509 validation still applies -----------------------------------------------------------------

def test_s3_3_pkix_validation_still_required() -> None:
    """Honest, well-bound Evidence does not rescue an AIK certificate that does not chain to the
    Relying Party's anchors."""
    stranger = SoftwareAttestingEnvironment(seed=b"stranger", device="stranger").aik_identity().root

    def prepare(eps):
        eps["server"].aik_anchors = [stranger]
    assert_rejected(run_with(scenario(), on_prepare=prepare), PKIX_ANCHOR, Alert.bad_certificate)


def test_s3_3_pkix_broken_chain_rejected() -> None:
    """AIK leaf presented with another device's intermediate: the issuer link fails."""
    other = SoftwareAttestingEnvironment(seed=b"stranger", device="stranger").aik_identity().chain_der()

    def fn(eps):
        rp, att = eps["server"], eps["client"]
        request = rp.request_attestation()
        chain = [att.ae.aik_identity().chain_der()[0], other[1]]
        _answer(rp, att, request, lambda c: [[cmw_extension(c)]], chain=chain)
        rp.accept_authenticator(request)
    assert_rejected(drive(scenario(), fn), PKIX_LINK, Alert.bad_certificate)


# --- §4: what the receiver verifies ------------------------------------------------------------------------

def _tamper_measurements(eps):
    att = next(ep for ep in eps.values() if ep.ae is not None)
    att.ae.measurements = {**att.ae.measurements, "tls-stack": bytes(32)}


def test_s4_background_check_policy_evaluated() -> None:
    result = run_with(scenario(), on_prepare=_tamper_measurements)
    assert_rejected(result, MEASUREMENTS, Alert.illegal_parameter)


def test_s4_passport_relying_party_checks_result_policy() -> None:
    """The EAR is genuine and bound, but contraindicated: the Relying Party refuses it."""
    result = run_with(scenario(model="passport"), on_prepare=_tamper_measurements)
    assert_rejected(result, AR_AFFIRMING, Alert.bad_certificate)


def test_s4_background_check_evidence_integrity() -> None:
    def prepare(eps):
        att = eps["client"]

        def hook(ctx: bytes, binding: bytes, evidence: bytes) -> bytes:
            # flip one byte of the signed claims (the binding bytes) inside the COSE payload
            i = evidence.index(binding)
            return evidence[:i] + bytes([evidence[i] ^ 1]) + evidence[i + 1:]
        att.evidence_hook = hook
    # the binding no longer matches locally: switch that check off to reach the Verifier's signature check
    profile = get_profile("default").with_mitigations(check_binding=False)
    result = run_with(dataclasses.replace(scenario(), profile=profile), on_prepare=prepare)
    assert_rejected(result, COSE_SIGNATURE, Alert.decrypt_error)


# --- §4.3: the EA API carries attestation in and reports the binding out ------------------------------------

def test_4_3_api_generation_and_validation_of_attestation() -> None:
    """Generation: the EA API takes the CMW for the first CertificateEntry. Validation: the result
    reports the request's context and the binding it verified, which we recompute independently."""
    def fn(eps):
        rp, att = eps["server"], eps["client"]
        request = rp.request_attestation()
        _answer(rp, att, request, lambda c: [[cmw_extension(c)]])
        outcome = rp.accept_authenticator(request)
        expected = independent_binding(suite_hash(rp.conn.cipher_suite), rp.conn.exporter_master_secret,
                                       messages.decode_request(request).context, outcome.aik_spki)
        return outcome, request, expected
    driven = drive(scenario(), fn)
    assert driven.error is None
    outcome, request, expected = driven.value
    assert outcome.accepted and outcome.status == "affirming" and outcome.direction == "client"
    assert outcome.ctx == messages.decode_request(request).context
    assert outcome.binding == expected


# --- §5.1 binding, §5.2 AIK_pub_hash --------------------------------------------------------------------

def test_s5_1_binding_over_the_aik_public_key() -> None:
    """Evidence bound with the right exporter value but another public key."""
    def prepare(eps):
        att = eps["client"]
        other = pki.derive_key("p256", b"another key").public_key()

        def hook(ctx: bytes, binding: bytes, evidence: bytes) -> bytes:
            return att.ae.evidence(binding_mod.compute_binding(att.conn.exporter, att.profile, ctx, other),
                                   hash=att.conn.hash)
        att.evidence_hook = hook
    assert_rejected(run_with(scenario(), on_prepare=prepare), BINDING_MATCH, Alert.illegal_parameter)


def test_s5_1_context_is_a_verifier_nonce() -> None:
    """Background check, default profile: the context must be a nonce the Verifier issued."""
    def fn(eps):
        rp, att = eps["server"], eps["client"]
        request = rp.session.request([messages.signature_algorithms(OFFERED_SCHEMES), Extension(CMW_CODEPOINT)],
                                     context=b"\x11" * 32)
        rp.channel.send(FrameType.ea_request, request)
        att.answer_request()
        rp.accept_authenticator(request)
    assert_rejected(drive(scenario(), fn), VERIFIER_NONCE, Alert.illegal_parameter)


def test_s5_2_aik_pub_hash_required() -> None:
    def prepare(eps):
        eps["client"].ae.include_aik_pub_hash = False
    err = assert_rejected(run_with(scenario(), on_prepare=prepare), AIK_PUB_HASH, Alert.illegal_parameter)
    assert "no AIK_pub_hash" in err.reason


def test_s5_2_aik_pub_hash_uses_the_suite_hash() -> None:
    """SHA-384 connection, AIK_pub_hash computed with SHA-256: not the RP's hash of the EE key."""
    def prepare(eps):
        att = eps["client"]
        att.evidence_hook = lambda ctx, binding, ev: att.ae.evidence(binding, att.ae.own_aik_pub_hash(SHA256))
    result = run_with(scenario(suite="TLS_AES_256_GCM_SHA384"), on_prepare=prepare)
    err = assert_rejected(result, AIK_PUB_HASH, Alert.illegal_parameter)
    assert "does not match" in err.reason


# --- §7: Evidence keys chain to a trust anchor ----------------------------------------------------------------

def test_s7_evidence_signed_by_key_chaining_to_trust_anchor() -> None:
    """Evidence from an AE of an unknown manufacturer (right binding, right AIK_pub_hash)."""
    foreign = SoftwareAttestingEnvironment(seed=b"foreign", manufacturer="unknown manufacturer",
                                           vouch_for_any_aik=True)

    def prepare(eps):
        att = eps["client"]
        aik_hash = binding_mod.aik_pub_hash(att.conn.hash, att.profile, att.ae.aik_public_key())
        att.evidence_hook = lambda ctx, binding, ev: foreign.evidence(binding, aik_hash)
    assert_rejected(run_with(scenario(), on_prepare=prepare), PKIX_ANCHOR, Alert.bad_certificate)


# --- §7.2 (editor's copy) and §7.3 ------------------------------------------------------------------------

def test_s7_2_editors_attested_connection_offers_no_resumption() -> None:
    result = run(scenario(revision="editors"))
    assert_accepted(result)
    offered = result.endpoints["server"].conn.client_hello.extension_types
    assert EARLY_DATA not in offered and PRE_SHARED_KEY not in offered


@pytest.mark.parametrize("attester", ["client", "server"])
def test_7_3_attestation_before_application_data(attester: str) -> None:
    def fn(eps):
        for ep in eps.values():            # neither side may send before the attester's attestation
            with pytest.raises(ProtocolError) as ei:
                ep.send_application_data(b"too early")
            assert (ei.value.check, ei.value.alert) == (ATTESTED_BEFORE_DATA, Alert.unexpected_message)
        # a peer that sends anyway: the receiver refuses the data
        rp = eps["server" if attester == "client" else "client"]
        eps[attester].channel.send(FrameType.application_data, b"too early")
        rp.receive_application_data()
    assert_rejected(drive(scenario(attester=attester), fn), ATTESTED_BEFORE_DATA, Alert.unexpected_message)


def test_7_3_mutual_needs_both_directions() -> None:
    def fn(eps):
        server, client = eps["server"], eps["client"]
        request = server.request_attestation()          # client attests first
        client.answer_request()
        server.accept_authenticator(request)
        client.await_outcome()
        client.send_application_data(b"server has not attested yet")
    assert_rejected(drive(scenario(attester="mutual"), fn), ATTESTED_BEFORE_DATA, Alert.unexpected_message)
