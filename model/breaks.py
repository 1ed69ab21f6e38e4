"""Which security property a failed rule puts at risk, so a trace producer sees the meaning, not only
the rule (model/properties.py has the ids and statements).

A rule failure (a guard of the role tables, a step no row allows, a data relation that does not
recompute) means the run left the protocol at that point; the property named here is the one whose
guarantee that step exists for. Well-formedness rules (``seq``, ``vocabulary``, ``malformed-value``,
``format``) put no property at risk: they say the trace cannot be judged there.
"""

from __future__ import annotations

from expat.model.properties import PROPERTY_IDS

FRESH, INTEGRITY, CHANNEL, REQUEST = "evidence_freshness", "evidence_integrity", "channel_binding", "request_binding"

# guard name (model/roles.py) -> properties
GUARD_BREAKS: dict[str, tuple[str, ...]] = {
    # Endpoint
    "attestation_needed": ("attest_before_data",),
    "no_attestation_needed": ("attest_before_data",),
    "resumption_allowed": ("no_resumption",),
    "resumes_attested_session": ("no_resumption",),
    "directions_outstanding": ("attest_before_data",),
    "all_directions_done": ("attest_before_data",),
    "is_server": ("no_resumption",),
    "is_client": ("no_resumption",),
    "ticket_discarded": ("no_resumption",),
    # requester and attester endpoints
    "connection_up": (CHANNEL,),
    "ctx_unused_on_conn": (FRESH, REQUEST),  # RFC 9261 §4: a reused context lets an old answer pass as new
    "request_type_matches_side": (REQUEST,),
    "not_spontaneous": (REQUEST,),
    "spontaneous_from_server": (REQUEST,),
    "attestation_was_offered": (REQUEST,),
    "peer_is_attester": ("no_diversion",),
    "certificate_has_aik": ("aik_ownership",),
    "binding_matches": (CHANNEL, REQUEST),
    "aik_hash_matches": ("aik_in_tee",),
    "carries_evidence": (INTEGRITY,),
    "carries_result": (INTEGRITY,),
    "forwards_what_it_accepted": (INTEGRITY,),
    "result_from_verifier": (INTEGRITY,),  # an accepted result no Verifier appraisal stands behind
    "result_is_carried": (INTEGRITY,),
    "status_affirming": (INTEGRITY,),
    "completes_peer_direction": (INTEGRITY,),
    "request_offered_attestation": (REQUEST,),
    "aik_is_mine": ("aik_ownership",),
    "evidence_for_this_request": (REQUEST,),
    "same_aik": ("aik_in_tee",),
    "same_spontaneity": (REQUEST,),
    "result_for_submitted_evidence": (INTEGRITY,),
    "result_obtained_here": (INTEGRITY,),
    "completes_own_direction": (INTEGRITY,),
    # Attesting Environment
    "aik_new": ("aik_ownership",),
    "cmw_new": (FRESH,),
    "evidence_was_requested": (INTEGRITY,),
    "aik_hash_of_own_aik": ("aik_in_tee",),
    "attestation_key_is_own": (INTEGRITY,),
    "evidence_is_not_result": (INTEGRITY,),
    "producer_is_not_the_peer": ("no_reflection",),
    "appraiser_is_not_attester": (INTEGRITY,),
    "result_is_not_evidence": (INTEGRITY,),
    # Verifier
    "nonce_new": ("verifier_nonce_fresh",),
    "evidence_sent_to_me": (INTEGRITY,),
    "result_new": (FRESH,),
    "nonce_fresh": ("verifier_nonce_fresh",),
    "evidence_genuine": (INTEGRITY,),
    "delegated_binding_matches": (CHANNEL,),
    "echo_is_evidence_binding": (CHANNEL,),
    # delegated comparison (-04 §5.1): the Relying Party relies on the Verifier's confirmation
    "forwarded_aik_hash_matches": (INTEGRITY, "aik_in_tee"),  # what the AE signed vs the key accepted
    "binding_confirmed_to_me": (CHANNEL, REQUEST),
    "confirms_conveyed_binding": (CHANNEL, REQUEST),
    "confirmed_binding_is_evidence_binding": (CHANNEL, REQUEST),
}

# data relation rule (model/checker.py) -> properties
RELATION_BREAKS: dict[str, tuple[str, ...]] = {
    "binding-recompute": (CHANNEL, REQUEST),
    "aik-hash-recompute": ("aik_in_tee",),
    "exporter-secret-agree": (CHANNEL,),
    "channel-agree": (CHANNEL,),
    "attest-agree": ("attest_before_data",),
    "connection-peers": ("no_diversion",),
    "request-encoding": (REQUEST,),
    "result-echo": (CHANNEL,),  # passport: a result that does not carry the binding the requester compared
    "result-aik-hash": (INTEGRITY,),
    "appraisal-nonce": ("verifier_nonce_fresh",),
    "ea-encoding": ("aik_ownership",),
    "ea-context": (REQUEST,),
    "ea-certificate": ("aik_ownership",),
    "ea-signature": ("aik_ownership",),
    "ea-finished": (CHANNEL,),
}

# rule ``not-enabled``: the step the event would take is not in the tables; by event
STEP_BREAKS: dict[str, tuple[str, ...]] = {
    "ChannelEstablished": (CHANNEL,),
    "ApplicationDataSent": ("attest_before_data",),
    "ApplicationDataReceived": ("attest_before_data",),
    "NewSessionTicketSent": ("no_resumption",),
    "NewSessionTicketReceived": ("no_resumption",),
    "AttestationCompleted": (INTEGRITY,),
    "RequestSent": (REQUEST,),
    "RequestReceived": (REQUEST,),
    "EvidenceRequested": (REQUEST,),
    "AuthenticatorAccepted": (REQUEST,),
    "AuthenticatorSent": (REQUEST,),
    "BindingChecked": (CHANNEL,),
    "EvidenceForwarded": (INTEGRITY,),
    "AttestationResultReceived": (CHANNEL,),  # a result taken without the binding comparison
    "EvidenceSubmitted": (INTEGRITY,),
    "AttestationResultObtained": (INTEGRITY,),
    "AikGenerated": ("aik_ownership",),
    "EvidenceProduced": (INTEGRITY,),
    "NonceIssued": ("verifier_nonce_fresh",),
    "EvidenceAppraised": (INTEGRITY,),
    "BindingConfirmed": (CHANNEL,),
}
CONTEXT_REUSE = (FRESH, REQUEST)  # a request-opening event on a context already used (RFC 9261 §4)

for _table in (GUARD_BREAKS, RELATION_BREAKS, STEP_BREAKS):
    assert all(p in PROPERTY_IDS for ps in _table.values() for p in ps)


def rule_breaks(rule: str, event: str | None = None) -> tuple[str, ...]:
    """The properties a failure of ``rule`` (as the checker names it) at an ``event`` puts at risk."""
    if rule.startswith("guard:"):
        return GUARD_BREAKS.get(rule[len("guard:"):], ())
    if rule == "not-enabled":
        return STEP_BREAKS.get(event or "", ())
    return RELATION_BREAKS.get(rule, ())
