"""Documented expectations: which property holds under which variant of the protocol.

One table serves every analysis: the Tamarin lemmas (expected verified / falsified per preprocessor
flag set), the bounded z3 proofs (``expat proofs run`` exits 0 only if its verdicts equal these), the
attack demonstrations, and the report. A *variant* is the default profile with a set of flags of
:data:`expat.model.roles.FLAGS` switched off.

Owner: the bounded-proofs work (issue 5). Any change here must come with the reason in
``REASONS`` and keep tests green for both the Tamarin exporter and the z3 proofs.
"""

from __future__ import annotations

from dataclasses import dataclass

from expat.model.properties import PROPERTY_IDS
from expat.model.roles import FLAGS


@dataclass(frozen=True)
class Variant:
    name: str
    off: tuple[str, ...]          # flags of roles.FLAGS switched off
    violated: tuple[str, ...]     # properties expected to be falsified; every other one holds

    def holds(self, prop: str) -> bool:
        return prop not in self.violated


def _v(name: str, off: tuple[str, ...], violated: tuple[str, ...]) -> Variant:
    assert set(off) <= set(FLAGS), off
    assert set(violated) <= set(PROPERTY_IDS), violated
    return Variant(name, off, tuple(sorted(violated)))


# Threat model behind every entry (docs/proofs.md): honest client and server with their own TEEs,
# an honest Verifier, and an adversary "mallory" that is a TLS endpoint of its own connections, owns a
# genuine TEE, may use an honest TEE as a signing oracle (split deployment, draft §5.2), learns every
# Evidence and Attestation Result, and may learn an honest AIK private key (KeyRevealed) -- never both
# for the same platform. Crypto is perfect: no EA CertificateVerify without the key (RFC 9261 §5.2.2),
# no Attestation Result the Verifier did not sign, no hash collisions. The verdicts below were
# confirmed by the bounded z3 analysis (``expat proofs run``, proofs/verdicts.json) at its CI bound;
# several attacks need one revealed honest AIK (noted per variant): at ``--reveals 0`` no_reflection
# holds under no-binding-check, no-aik-hash-check, evidence-signature-unchecked and no-context-unique,
# and no_diversion under no-binding-check and no-context-unique; a Tamarin model without key reveals
# (or a lemma excluding revealed keys) should expect exactly that.
VARIANTS: dict[str, Variant] = {v.name: v for v in (
    _v("default", (), ()),
    _v("no-binding-check", ("check_binding",),
       ("channel_binding", "request_binding", "evidence_freshness", "reattestation_fresh", "no_diversion",
        "no_reflection")),
    _v("no-aik-hash-check", ("check_aik_pub_hash",), ("aik_in_tee", "no_reflection")),
    _v("no-key-in-binding", ("include_public_key_in_binding",), ()),
    _v("spontaneous-attestation", ("reject_spontaneous_attestation",), ("request_binding",)),
    _v("resumption", ("reject_resumption",), ("no_resumption", "attest_before_data")),
    _v("any-exporter-label", ("check_exporter_label",), ("channel_binding", "request_binding")),
    _v("verifier-nonce-unchecked", ("check_verifier_nonce",), ("verifier_nonce_fresh",)),
    _v("evidence-signature-unchecked", ("check_evidence_signature",),
       ("evidence_integrity", "aik_in_tee", "no_reflection")),
    _v("passport-literal", ("passport_binding_echo",),
       ("channel_binding", "request_binding", "evidence_freshness", "reattestation_fresh", "no_diversion",
        "aik_in_tee", "no_reflection")),
    _v("no-context-unique", ("check_context_unique",), ("no_reflection", "no_diversion")),
    _v("reflection", ("include_public_key_in_binding", "check_context_unique", "check_aik_pub_hash"),
       ("no_reflection", "aik_in_tee", "no_diversion")),
    # draft -04 §5.1 delegated comparison: "local_binding_check" off = profile binding_check="delegated"
    _v("delegated", ("local_binding_check",), ()),
    _v("delegated-no-verifier-compare", ("local_binding_check", "verifier_compares_binding"),
       ("channel_binding", "request_binding", "evidence_freshness", "reattestation_fresh", "no_diversion",
        "no_reflection")),
)}

REASONS: dict[str, str] = {
    "default":
        "Every mitigation on: the requester compares the binding H(AIK || TLS-Exporter(label, ctx)) with the "
        "profile's label and AIK_pub_hash with its own hash of the EA key (draft §5.1, §5.2), the EA proves "
        "possession of the AIK (RFC 9261 §5.2.2), contexts are unique per connection (RFC 9261 §4), the Verifier "
        "checks signatures and nonces, no tickets on attestation connections (-02 §7.2). Every property holds, "
        "even with one honest AIK revealed: a leaked AIK lets mallory authenticate with it, but only with "
        "Evidence an AE made for mallory's own connection and request.",
    "no-binding-check":
        "Without the binding comparison (requester and delegated Verifier), any genuine Evidence whose "
        "AIK_pub_hash matches the EA key is accepted: mallory replays its own TEE's Evidence into a later "
        "request or another connection (request_binding, channel_binding, evidence_freshness, "
        "reattestation_fresh). With a revealed honest AIK it also replays or reflects that honest endpoint's "
        "Evidence, made for the honest endpoint (no_diversion), back to that very endpoint (no_reflection). "
        "AIK_pub_hash still ties the AIK to the Evidence's TEE, so aik_in_tee holds.",
    "no-aik-hash-check":
        "Without the AIK_pub_hash comparison the binding still ties Evidence to this connection, request and "
        "EA key, but not the key to the TEE. In a split deployment (draft -02/-04 §5.2) the TLS stack outside the "
        "TEE provides the binder while AIK_pub_hash is the TEE's own claim over the AIK it holds: a compromised "
        "host P binds a key the TEE never held, has its TEE sign, and the requester accepts P's Evidence under "
        "that key (aik_in_tee, which therefore excludes only P's attestation key, not P's host). Likewise "
        "mallory's compromised host binds the requester's own revealed AIK into its TEE's Evidence "
        "(no_reflection: an own AIK accepted; it excludes the requester's own TEE and host and the attestation "
        "key of the Evidence's TEE, not its host). Binding "
        "properties hold (they exclude P's host: the binder is the host's).",
    "no-key-in-binding":
        "Leaving the public key out of the binding alone breaks nothing within the bound: AIK_pub_hash still "
        "ties the Evidence to the EA key, context uniqueness stops reflecting a request, and possession of "
        "the AIK is proven by the EA. The lead's first guess (no_reflection) needs two more mitigations off: "
        "see the 'reflection' variant.",
    "spontaneous-attestation":
        "A spontaneous server authenticator carries a server-chosen context that the client never sent, so "
        "an accepted attestation answers no request (request_binding). The binding still names the "
        "connection and the key, so every other property holds.",
    "resumption":
        "With tickets issued and kept on attestation connections, a resumed connection inherits the "
        "Attested state (-02 §7.2): no_resumption falls, and the resumed connection carries application "
        "data before any attestation on it (attest_before_data, draft §7.3). Nothing else depends on "
        "resumption.",
    "any-exporter-label":
        "Accepting a binding under the other exporter label ('Attestation Binding', §4 vs §5.1) lets an "
        "attester bind to an exporter value that is not the profile's binding for this connection and "
        "context (channel_binding, request_binding; visible only when the exporter secret is in the trace). "
        "The Evidence is still fresh, made for this peer and this key.",
    "verifier-nonce-unchecked":
        "A Verifier that does not track its nonces appraises Evidence against a nonce a requester reuses as "
        "context on a second connection (verifier_nonce_fresh). Bindings are per connection, so nothing "
        "else falls.",
    "evidence-signature-unchecked":
        "A Verifier that does not verify Evidence signatures affirms Evidence no AE produced "
        "(evidence_integrity, and aik_in_tee since no TEE stands behind the key). With a revealed AIK of "
        "the requester, forged Evidence under the requester's own key is affirmed (no_reflection). "
        "Forged Evidence must still carry the right binding, so the binding properties hold.",
    "passport-literal":
        "The draft's literal passport check (AR signature and policy only, §4) compares neither binding nor "
        "AIK_pub_hash: any Attestation Result ever issued can be replayed into another connection or request "
        "(channel_binding, request_binding, evidence_freshness, reattestation_fresh), under any key "
        "(aik_in_tee), including a result issued for an honest endpoint (no_diversion), even back to that very "
        "endpoint (no_reflection; no leaked key needed).",
    "no-context-unique":
        "Contexts reused across the two directions of one connection allow reflection (RFC 9261 §4): the "
        "client asks mallory with context x, mallory asks the client with the same x, and returns the "
        "client's own Evidence; binding and AIK_pub_hash match because mallory authenticates with the "
        "client's revealed AIK (no_reflection, no_diversion). Needs one revealed AIK; without it every "
        "property holds.",
    "reflection":
        "The reflection attack of traces/examples/synthetic-attack-reflection.jsonl: no key in the binding, "
        "no AIK_pub_hash comparison and reused contexts let mallory reflect the client's Evidence under its "
        "own key without any leaked AIK (no_reflection, no_diversion, aik_in_tee). Channel and request "
        "binding hold: the Evidence was made for this connection and context.",
    "delegated":
        "Draft -04 §5.1 lets the receiver delegate the binding comparison: it conveys the binding it computed "
        "with the Evidence, the Verifier compares it with the Evidence's binding, and the requester accepts only "
        "a result confirming that very binding for that Evidence (BindingConfirmed). The comparison still "
        "happens, only at the Verifier, against the requester's own computation, and the requester still "
        "compares AIK_pub_hash (§5.2). So the same guarantees as the local comparison: every property holds.",
    "delegated-no-verifier-compare":
        "Delegating to a Verifier that confirms whatever binding it is given, without comparing it with the "
        "Evidence, removes the only binding comparison: as in no-binding-check, genuine Evidence whose "
        "AIK_pub_hash matches the EA key is accepted on another connection or request (channel_binding, "
        "request_binding, evidence_freshness, reattestation_fresh), and with a revealed honest AIK its "
        "Evidence is diverted or reflected (no_diversion, no_reflection). AIK_pub_hash is still compared, so "
        "aik_in_tee holds. -04 §5.1 thus rests the binding on the Verifier's comparison.",
}

assert set(REASONS) == set(VARIANTS)


def expected(prop: str, variant: str) -> bool:
    """True when ``prop`` is expected to hold under ``variant``."""
    return VARIANTS[variant].holds(prop)
