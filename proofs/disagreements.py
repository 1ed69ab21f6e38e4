"""Understood disagreements: cells where a tool's verdict differs from ``model/expectations.py``.

Each entry names one cell exactly -- (variant, property, tool, the tool's verdict) -- and says why the
verdicts differ. ``expat proofs run`` shows the reason in that cell and counts the cell as understood;
a disagreement without an entry here makes the command exit 1. An entry may also be limited to z3
bounds below some number of connections (the bound too small to reach an attack).

Tools: "z3" (this bounded search), "tamarin" (tamarin/results/expat__<variant>.json),
"monitors" (the property monitors on traces/golden/attack-*.jsonl).

No entry excuses more than one cell: the pre-play entries below are spelled out per variant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Reason:
    variant: str
    property: str
    tool: str
    verdict: str                        # the tool's verdict this entry explains ("holds" / "violated")
    reason: str
    counterexample: Optional[str] = None  # repository path of the trace showing it, when the tool found an attack
    below_connections: Optional[int] = None  # z3 only: applies when the bound has fewer connections

    def applies(self, connections: Optional[int]) -> bool:
        return self.below_connections is None or (connections is not None and connections < self.below_connections)


PRE_PLAY = (
    "Finding of the bounded search (pre-play, predicted by issues 12 and 13 before the run): with the "
    "secrets of an honest connection leaked (SecretRevealed), mallory learns the Verifier nonce the "
    "client is about to use (the draft specifies no confidential Relying Party-Verifier channel for it, "
    "DIGEST ambiguity 9; a nonce is a freshness value, so the search treats it as public once issued), "
    "injects a request with that nonce to the server in the client's name, and when the client sends "
    "its request, answers it with the server's authenticator made before it. Binding, AIK_pub_hash, "
    "context uniqueness and the Verifier's nonce check all pass (the Evidence was made for this "
    "connection, context and key), so no mitigation stops it; model/expectations.py does not consider "
    "connection-secret reveals. Either the property needs an exclusion 'unless the connection's secret "
    "was revealed' (model/properties.py) or it is a finding about the draft: nonce freshness alone "
    "does not order Evidence after the request once TLS is compromised.")

PRE_PLAY_DECISION = (
    "Both tools need a revealed connection secret, which model/expectations.py does not consider; the "
    "expectation stays until the property statement decides whether to exclude that reveal.")

_PRE_PLAY_VARIANTS = (
    "default", "no-aik-hash-check", "no-key-in-binding", "spontaneous-attestation", "resumption",
    "any-exporter-label", "verifier-nonce-unchecked", "evidence-signature-unchecked", "no-context-unique",
    "reflection", "delegated")

# Tamarin's records where Finding 1 shows again: the variant leaves every check the attack passes
FINDING_1_AGAIN = (
    ("no-aik-hash-check", "request_binding"), ("no-aik-hash-check", "reattestation_fresh"),
    ("evidence-signature-unchecked", "reattestation_fresh"),
    ("verifier-nonce-unchecked", "request_binding"), ("verifier-nonce-unchecked", "reattestation_fresh"),
    ("no-key-in-binding", "request_binding"), ("no-key-in-binding", "reattestation_fresh"),
    ("delegated", "request_binding"), ("delegated", "reattestation_fresh"),
    ("no-context-unique", "request_binding"), ("no-context-unique", "reattestation_fresh"),
    ("reflection", "request_binding"), ("reflection", "reattestation_fresh"),
)

FORGED_EVIDENCE = (
    "Two readings of the property. The formula (model/formulas.py) asks agreement: the TEE named by the "
    "accepted Evidence made it for this connection and context (channel_binding, request_binding) and "
    "is the requester's peer (no_diversion). With Evidence signatures unchecked the adversary, as the "
    "peer of an honest relying party, forges Evidence naming an honest TEE with the correct binding for "
    "its own connection and AIK; every check the requester makes passes (the reading of "
    "model/expectations.py and the monitors) but no TEE made that Evidence. The bounded search judged by "
    "the same formulas (expat proofs run --formulas) finds it too, at one connection. It is "
    "evidence_integrity's attack seen through the agreement formulas; the expectation keeps the "
    "requester's-check reading (model/judge.py, class unproduced-evidence).")

REASONS: tuple[Reason, ...] = tuple(
    Reason(v, "reattestation_fresh", "z3", "violated", PRE_PLAY,
           f"proofs/counterexamples/{v}--reattestation_fresh.jsonl")
    for v in _PRE_PLAY_VARIANTS
) + (
    # An attack needs more connections than a small bound has: resumption opens a second connection
    # from a ticket of the first; a cross-connection replay or nonce reuse needs two connections.
    Reason("resumption", "no_resumption", "z3", "holds",
           "The bound is too small: a ticket is issued on one connection and resumed by a second one.",
           below_connections=2),
    Reason("resumption", "attest_before_data", "z3", "holds",
           "The bound is too small: data flows on the resumed (second) connection.", below_connections=2),
    Reason("verifier-nonce-unchecked", "verifier_nonce_fresh", "z3", "holds",
           "The bound is too small: the nonce is reused on a second connection.", below_connections=2),
    # Tamarin finds the same pre-play independently (docs/findings.md, finding 1)
    Reason("default", "reattestation_fresh", "tamarin", "violated",
           "Tamarin's attack is the bounded search's pre-play (docs/findings.md, finding 1): with the "
           "requester's connection secret revealed, the adversary sends the request first and answers the "
           "requester's own request with the authenticator made for it. " + PRE_PLAY_DECISION),
    Reason("default", "request_binding", "tamarin", "violated",
           "Tamarin's attack (docs/findings.md, finding 1): the requester reuses a Verifier nonce as "
           "context on a second connection whose secret the adversary knows (context uniqueness is per "
           "connection, RFC 9261 §4; the Verifier's once-per-appraisal nonce check does not see the "
           "request), and the adversary pre-plays the request there. " + PRE_PLAY_DECISION),
) + tuple(
    # the same attacks need neither the AIK_pub_hash check nor the Evidence signature check to be off:
    # Tamarin finds them again in these variants (tamarin/results/expat__<variant>.json)
    Reason(v, prop, "tamarin", "violated",
           f"Finding 1 again (docs/findings.md): the attack Tamarin found on {prop} in the default profile "
           "uses no check this variant switches off, so it is still there. " + PRE_PLAY_DECISION)
    for v, prop in FINDING_1_AGAIN
) + tuple(
    Reason("evidence-signature-unchecked", prop, "tamarin", "violated", FORGED_EVIDENCE)
    for prop in ("channel_binding", "request_binding", "no_diversion")
)


def lookup(variant: str, prop: str, tool: str, verdict: str, connections: Optional[int] = None,
           table: tuple[Reason, ...] = REASONS) -> Optional[Reason]:
    for r in table:
        if (r.variant, r.property, r.tool, r.verdict) == (variant, prop, tool, verdict) and r.applies(connections):
            return r
    return None
