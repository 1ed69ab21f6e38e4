"""The refinement mapping: every event of :mod:`expat.model.events` is an action fact of the theory, or
is declared not modelled with the reason (``expat tamarin check`` checks both directions).

The projection of each event onto its action fact (:data:`ACTIONS`) is model data, in
:mod:`expat.model.facts`: the formula judge reads traces through the same table.
"""

from __future__ import annotations

from expat.model.facts import ACTIONS

__all__ = ["ACTIONS", "AUXILIARY", "FLAGS_NOT_MODELLED", "NOT_MODELLED"]

NOT_MODELLED: dict[str, str] = {
    "ApplicationDataReceived": "the attester's sending side carries attest_before_data; a receiver's check "
                               "is its own guard, not an agreement",
    "NewSessionTicketSent": "no session tickets in the abstract channel (no_resumption is not modelled)",
    "NewSessionTicketReceived": "no session tickets in the abstract channel (no_resumption is not modelled)",
    "ConnectionClosed": "a refused message is a rule that does not fire; failures are not transitions",
    "AuthenticatorRejected": "a refused message is a rule that does not fire; failures are not transitions",
}

# theory-only actions: setup uniqueness, and the checks that
# the restrictions turn into the receivers' checks
AUXILIARY: dict[str, str] = {
    "Platform": "one attestation key per platform (restriction one_platform)",
    "VerifierKey": "one signing key per Verifier (restriction one_verifier_key)",
    "CheckBinding": "restriction check_binding (draft Sec. 5.1)",
    "VerifierChecksBinding": "restriction verifier_compares_binding: the delegated comparison at the Verifier "
                             "(draft -04 Sec. 5.1)",
    "CheckAikPubHash": "restriction check_aik_pub_hash (draft Sec. 5.2)",
    "CheckEcho": "restriction passport_binding_echo (passport: the result's Evidence claims)",
    "NonceUsed": "restriction check_verifier_nonce",
    "CtxFresh": "restriction request_context_unique (RFC 9261 Sec. 4)",
    "ContextAnswered": "restriction no_reflected_context (check_context_unique)",
    "Neq": "restriction Neq (the two endpoints of a connection differ)",
}


# Mitigation flags of model.roles.FLAGS that the theory has no ``OFF_<flag>`` switch for. A variant that
# switches one of them off is not proved (``expat prove`` refuses it, saying why), never proved as if
# the flag were on. ``expat tamarin check`` keeps this list equal to the flags the theory lacks.
FLAGS_NOT_MODELLED: dict[str, str] = {
    "reject_spontaneous_attestation": "no spontaneous server authenticators in the abstract theory",
    "reject_resumption": "no session tickets or resumption in the abstract channel",
    "check_exporter_label": "one exporter label in the theory; other labels are other applications' exporters",
}
