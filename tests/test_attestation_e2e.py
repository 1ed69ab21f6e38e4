"""Negative end-to-end tests: attacks on a real attested TLS 1.3 connection, each rejected by the
default profile with a named check and alert; for several, the profile with that one mitigation
switched off accepts, which shows that the named check (not something incidental) is what rejects.
"""

from __future__ import annotations

import expat  # noqa: F401  (before OpenSSL)

import dataclasses
import hashlib

import pytest

from attestation_support import (assert_accepted, assert_rejected, cmw_extension, drive, forge_authenticator,
                                 plain_request, rejected_and_peer_told, run_with, scenario)
from expat.errors import Alert, ProtocolError
from expat.profile import get_profile
from expat.reference import ea, pki
from expat.reference.attestation import binding as binding_mod
from expat.reference.attestation import cmw, cose
from expat.reference.attestation.endpoint import FIRST_ENTRY_ONLY, AttestedEndpoint, VerifierHandle
from expat.reference.attestation.scenario import run
from expat.reference.attestation.verifier import Verifier
from expat.reference.framing import FrameType

BINDING_MATCH = "expat02-5.1-binding-match"
AIK_PUB_HASH = "expat02-5.2-aik-pub-hash"
EXT_SUBSET = "rfc9261-5.2.1-extension-subset"
COSE_SIGNATURE = "rfc9052-4.4-signature"


def _hook_client(hook_factory):
    """on_prepare that installs an evidence_hook on the client (the attester in these runs)."""
    def prepare(eps: dict[str, AttestedEndpoint]) -> None:
        eps["client"].evidence_hook = hook_factory(eps["client"])
    return prepare


# --- replay -------------------------------------------------------------------------------------------

def _replay_first_evidence(att: AttestedEndpoint):
    seen: list[bytes] = []

    def hook(ctx: bytes, binding: bytes, evidence: bytes) -> bytes:
        seen.append(evidence)
        return seen[0]
    return hook


def test_evidence_replayed_from_earlier_request_on_same_connection() -> None:
    result = run_with(scenario(reattest=1), on_prepare=_hook_client(_replay_first_evidence))
    assert_rejected(result, BINDING_MATCH, Alert.illegal_parameter)
    assert len(result.outcomes) == 1          # the first (honest) attestation went through


def test_evidence_replay_same_connection_accepted_without_binding_check() -> None:
    profile = get_profile("default").with_mitigations(check_binding=False)
    result = run_with(dataclasses.replace(scenario(reattest=1), profile=profile),
                      on_prepare=_hook_client(_replay_first_evidence))
    assert_accepted(result)


def _record_evidence(store: list[bytes]):
    def factory(att: AttestedEndpoint):
        def hook(ctx: bytes, binding: bytes, evidence: bytes) -> bytes:
            store.append(evidence)
            return evidence
        return hook
    return factory


def _substitute_evidence(evidence: bytes):
    return lambda att: (lambda ctx, binding, _evidence: evidence)


def test_evidence_replayed_from_another_connection() -> None:
    recorded: list[bytes] = []
    first = run_with(scenario(), on_prepare=_hook_client(_record_evidence(recorded)))
    assert_accepted(first)
    # same device, same Verifier (same seed), a new TLS connection
    second = run_with(scenario(), on_prepare=_hook_client(_substitute_evidence(recorded[0])))
    assert_rejected(second, BINDING_MATCH, Alert.illegal_parameter)


# --- wrong binding inputs ------------------------------------------------------------------------------

def _other_label_evidence(att: AttestedEndpoint):
    """The AE signs a binding computed with the §4 label "Attestation Binding" instead of §5.1's."""
    def hook(ctx: bytes, binding: bytes, evidence: bytes) -> bytes:
        other = binding_mod.compute_binding(att.conn.exporter, att.profile, ctx, att.ae.aik_public_key(),
                                            label="Attestation Binding")
        assert other != binding
        return att.ae.evidence(other, hash=att.conn.hash)
    return hook


def test_binding_with_wrong_exporter_label() -> None:
    result = run_with(scenario(), on_prepare=_hook_client(_other_label_evidence))
    assert_rejected(result, BINDING_MATCH, Alert.illegal_parameter)


def test_wrong_label_accepted_without_exporter_label_check() -> None:
    profile = get_profile("default").with_mitigations(check_exporter_label=False)
    result = run_with(dataclasses.replace(scenario(), profile=profile), on_prepare=_hook_client(_other_label_evidence))
    assert_accepted(result)


def test_label_attestation_binding_profile_on_both_sides_accepted() -> None:
    """Both endpoints on the §4 reading: consistent, so accepted (the label is a profile choice)."""
    assert_accepted(run(scenario(profile="label-attestation-binding")))


def _foreign_aik_hash_evidence(att: AttestedEndpoint):
    """A weak AE that vouches for any AIK (split deployment, draft §5.2): Evidence names another key."""
    att.ae.vouch_for_any_aik = True
    other_key = pki.derive_key("p256", b"not the AIK").public_key()
    foreign = binding_mod.aik_pub_hash(att.conn.hash, att.profile, other_key)

    def hook(ctx: bytes, binding: bytes, evidence: bytes) -> bytes:
        return att.ae.evidence(binding, foreign)
    return hook


def test_wrong_aik_pub_hash() -> None:
    result = run_with(scenario(), on_prepare=_hook_client(_foreign_aik_hash_evidence))
    assert_rejected(result, AIK_PUB_HASH, Alert.illegal_parameter)


def test_wrong_aik_pub_hash_accepted_without_aik_check() -> None:
    profile = get_profile("default").with_mitigations(check_aik_pub_hash=False)
    result = run_with(dataclasses.replace(scenario(), profile=profile),
                      on_prepare=_hook_client(_foreign_aik_hash_evidence))
    assert_accepted(result)


# --- placement and negotiation ---------------------------------------------------------------------------

def test_unsolicited_cmw_attestation() -> None:
    def fn(eps):
        rp, att = eps["server"], eps["client"]
        request = plain_request(rp)
        received = att.receive(FrameType.ea_request)
        cmw_data, _ = att.produce_attestation(ea.decode_request(received).context)
        chain = att.ae.aik_identity().chain_der()
        # a conforming attester's session refuses to build it ...
        with pytest.raises(ProtocolError) as own:
            att.session.authenticate(att.ae.aik_signer(), chain, received,
                                     entry_extensions=[[cmw_extension(cmw_data)]])
        assert (own.value.check, own.value.alert) == (EXT_SUBSET, Alert.unsupported_extension)
        # ... a non-conforming one sends it anyway
        forged = forge_authenticator(att.session, att.ae.aik_signer(), chain, received, [[cmw_extension(cmw_data)]])
        att.channel.send(FrameType.ea_authenticator, forged)
        rejected_and_peer_told(rp, att, request, Alert.unsupported_extension)
    assert_rejected(drive(scenario(), fn), EXT_SUBSET, Alert.unsupported_extension)


def test_cmw_attestation_in_second_certificate_entry() -> None:
    def fn(eps):
        rp, att = eps["server"], eps["client"]
        request = rp.request_attestation()
        received = att.receive(FrameType.ea_request)
        cmw_data, _ = att.produce_attestation(ea.decode_request(received).context)
        chain = att.ae.aik_identity().chain_der()
        assert len(chain) == 2                    # AIK leaf + device intermediate
        auth = att.session.authenticate(att.ae.aik_signer(), chain, received,
                                        entry_extensions=[[], [cmw_extension(cmw_data)]])
        att.channel.send(FrameType.ea_authenticator, auth)
        return rp.accept_authenticator(request)
    assert_rejected(drive(scenario(), fn), FIRST_ENTRY_ONLY.id, Alert.illegal_parameter)


# --- Evidence integrity, Verifier trust, AR replay --------------------------------------------------------

def _tampered_signature(att: AttestedEndpoint):
    def hook(ctx: bytes, binding: bytes, evidence: bytes) -> bytes:
        (record, kind) = cmw.decode(evidence)
        msg = cose.decode_sign1(record.value)
        sig = bytearray(msg.signature)
        sig[-1] ^= 0x01
        tampered = dataclasses.replace(msg, signature=bytes(sig)).encode()
        return cmw.encode(cmw.Record(record.type, tampered, record.ind), kind)
    return hook


def test_tampered_eat_signature() -> None:
    result = run_with(scenario(), on_prepare=_hook_client(_tampered_signature))
    assert_rejected(result, COSE_SIGNATURE, Alert.decrypt_error)


def test_tampered_eat_signature_accepted_without_signature_check() -> None:
    profile = get_profile("default").with_mitigations(check_evidence_signature=False)
    result = run_with(dataclasses.replace(scenario(), profile=profile), on_prepare=_hook_client(_tampered_signature))
    assert_accepted(result)


def test_ear_from_untrusted_verifier() -> None:
    """Passport: the attester gets its EAR from a Verifier whose key the Relying Party does not trust."""
    def prepare(eps):
        att = eps["client"]
        rogue = Verifier([att.ae.manufacturer_root], att.ae.reference_values(),
                         pki.derive_key("p256", b"rogue verifier"), profile=att.profile)
        att.verifier = VerifierHandle(rogue, name="rogue-verifier")
        assert pki.spki_der(att.verifier.public_key) != pki.spki_der(eps["server"].verifier.public_key)
    result = run_with(scenario(model="passport"), on_prepare=prepare)
    assert_rejected(result, COSE_SIGNATURE, Alert.decrypt_error)


def _passport_flow(substitute: bytes | None = None):
    """Client attests in the passport model; the attester host may put an old EAR in its authenticator."""
    def fn(eps):
        rp, att = eps["server"], eps["client"]
        request = rp.request_attestation()
        received = att.receive(FrameType.ea_request)
        ear, _ = att.produce_attestation(ea.decode_request(received).context)
        auth = att.session.authenticate(att.ae.aik_signer(), att.ae.aik_identity().chain_der(), received,
                                        entry_extensions=[[cmw_extension(substitute or ear)]])
        att.channel.send(FrameType.ea_authenticator, auth)
        outcome = rp.accept_authenticator(request)
        return ear, outcome
    return fn


@pytest.mark.parametrize("profile,rejected", [("default", True), ("passport-literal", False)])
def test_passport_ear_replayed_into_another_connection(profile: str, rejected: bool) -> None:
    """Default: the EAR echoes the binding, so an old one fails on a new connection. The draft's
    literal §4 passport check (signature and policy only, profile passport-literal) accepts it
    (DIGEST §3.8 #10)."""
    first = drive(scenario(model="passport", profile=profile), _passport_flow())
    assert first.error is None
    old_ear, first_outcome = first.value
    assert first_outcome.accepted and first_outcome.status == "affirming"
    second = drive(scenario(model="passport", profile=profile), _passport_flow(substitute=old_ear))
    if rejected:
        assert_rejected(second, BINDING_MATCH, Alert.illegal_parameter)
    else:
        assert second.error is None
        fresh_ear, outcome = second.value
        assert fresh_ear != old_ear and outcome.accepted
        assert outcome.cmw == hashlib.sha256(old_ear).hexdigest()[:32]     # it was the old EAR that passed
