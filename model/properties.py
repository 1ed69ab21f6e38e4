"""The security properties, by stable id.

The same ids name the trace monitors (:mod:`expat.model.monitors`), the Tamarin lemmas, the z3
proofs and the docs. Each statement is the property in plain words, quantified over one trace;
"accepted" always means: an honest requester recorded AttestationCompleted for its peer.
"""

from __future__ import annotations

PROPERTY_IDS: tuple[str, ...] = (
    "evidence_integrity",
    "evidence_freshness",
    "channel_binding",
    "request_binding",
    "aik_ownership",
    "aik_in_tee",
    "no_diversion",
    "no_reflection",
    "attest_before_data",
    "reattestation_fresh",
    "verifier_nonce_fresh",
    "no_resumption",
)

STATEMENTS: dict[str, str] = {
    "evidence_integrity":
        "Accepted Evidence was produced by an Attesting Environment, and the binding and AIK_pub_hash the "
        "requester read are the ones the AE signed (for an Attestation Result: a Verifier issued it for such "
        "Evidence).",
    "evidence_freshness":
        "Injective agreement: each Evidence generation is accepted at most once, by one requester, on one "
        "request.",
    "channel_binding":
        "Accepted Evidence was made for this very TLS connection: its binding is this connection's binding "
        "under the profile's exporter label, formula and public-key encoding.",
    "request_binding":
        "Accepted Evidence was made for the very request it answers: the binding is the one for this "
        "certificate_request_context, and the requester did send that request.",
    "aik_ownership":
        "The accepted authenticator's AIK was used by the agent that holds its private key, on this connection "
        "and context, unless that key was revealed earlier.",
    "aik_in_tee":
        "The AIK in the accepted certificate is a key that the TEE which produced the Evidence generated and "
        "vouches for.",
    "no_diversion":
        "Accepted Evidence was produced for the requester's peer on this connection, not for some other "
        "endpoint whose attestation was relayed.",
    "no_reflection":
        "An endpoint never accepts, as its peer's attestation, Evidence produced for itself or an AIK of its "
        "own.",
    "attest_before_data":
        "On a connection that requires attestation, an endpoint sends or accepts application data only after "
        "every required direction completed on that same connection.",
    "reattestation_fresh":
        "Evidence accepted for a request was generated after that request was sent, so a re-attestation never "
        "reuses older Evidence.",
    "verifier_nonce_fresh":
        "A Verifier appraises Evidence against a nonce only if it issued that nonce, to the requester the result "
        "goes to, when no request had used it yet, and uses each nonce once.",
    "no_resumption":
        "No session ticket is issued or kept on a connection that requires attestation, and no connection "
        "resumes such a ticket (so no connection inherits attestation state).",
}

assert tuple(STATEMENTS) == PROPERTY_IDS
