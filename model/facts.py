"""The event -> action-fact projection (issue 12): how an event of :mod:`expat.model.events` is read as
an action fact of the property formulas (:mod:`expat.model.formulas`) and of the Tamarin theory.

An action fact's arguments are the event's agent and a projection of its arguments, in the order given
here; a name starting with ``+`` is a theory-only argument (what the abstraction makes explicit, e.g.
the peer of a connection). Event arguments left out are refinements the abstraction does not need
(cipher suite, extension lists, Attestation Result status: none of the property formulas reads them).

The Tamarin generator checks its rules against this table (:mod:`expat.tamarin.mapping`); the formula
judge (:mod:`expat.model.logic`) reads a trace through it, with the term view of
:mod:`expat.model.termview` for the values.
"""

from __future__ import annotations

ACTIONS: dict[str, tuple[str, ...]] = {
    "ChannelEstablished": ("agent", "conn", "side", "+peer"),
    "ApplicationDataSent": ("agent", "conn"),
    "AttestationCompleted": ("agent", "conn", "ctx", "attester", "cmw"),
    "RequestSent": ("agent", "conn", "ctx"),
    "AuthenticatorAccepted": ("agent", "conn", "ctx", "aik", "kind", "cmw"),
    "BindingChecked": ("agent", "conn", "ctx", "expected_binding", "cmw_binding"),
    "EvidenceForwarded": ("agent", "conn", "ctx", "verifier", "cmw"),
    "AttestationResultReceived": ("agent", "conn", "ctx", "result"),
    "RequestReceived": ("agent", "conn", "ctx"),
    "EvidenceRequested": ("agent", "conn", "ctx", "ae", "binding", "aik"),
    "EvidenceSubmitted": ("agent", "conn", "ctx", "verifier", "cmw"),
    "AttestationResultObtained": ("agent", "conn", "ctx", "result"),
    "AuthenticatorSent": ("agent", "conn", "ctx", "aik", "kind", "cmw"),
    "AikGenerated": ("agent", "aik"),
    "EvidenceProduced": ("agent", "cmw", "te", "binding", "aik_hash"),
    "NonceIssued": ("agent", "nonce", "to"),
    "EvidenceAppraised": ("agent", "cmw", "result", "nonce", "to"),
    "BindingConfirmed": ("agent", "binding", "cmw", "to"),
    "KeyRevealed": ("+owner", "key"),
    "SecretRevealed": ("conn",),
    "HostCompromised": ("platform",),
    "AttestationKeyRevealed": ("platform",),
}
