"""The lemmas of the Tamarin theory: one per property id (agreement, Running/Commit style), one sanity
exists-trace lemma per property.

Each property lemma says what the OTHER parties did when an honest requester accepted (its
``AuthenticatorAccepted`` and ``AttestationCompleted``): which TEE produced the Evidence, for which
connection secret and context, which Verifier appraised it, which endpoint used the AIK -- unless a
reveal on the party concerned (named: the producing platform ``P``, the AIK's holder, the requester
``R`` itself, or the connection ``k``). A lemma never restates the requester's own check (the binding
comparison is a restriction; the lemma asks who computed the binding). Evidence (background check) and
Attestation Result (passport) acceptance are separate branches of one lemma. Properties the abstraction
does not model are listed in :data:`NOT_MODELLED` with the reason.
"""

from __future__ import annotations

from typing import Iterable, Optional

from expat.model.expectations import VARIANTS, Variant
from expat.model.properties import PROPERTY_IDS

REACHABLE_SUFFIX = "_reachable"

# (branch, universally quantified variables, premise, conclusion, unless)
Branch = tuple[str, str, str, str, str]

EV = "<'ev', P, b, ah, es>"
AR = f"<'ar', V, {EV}, vs>"
ACC_EV = f"AuthenticatorAccepted(R, k, ctx, aik, 'evidence', {EV}) @ i & AttestationCompleted(R, k, ctx, os, {EV}) @ c"
ACC_AR = f"AuthenticatorAccepted(R, k, ctx, aik, 'result', {AR}) @ i & AttestationCompleted(R, k, ctx, os, {AR}) @ c"
V_EV = "R k ctx aik os P b ah es #i #c"
V_AR = "R k ctx aik os V P b ah es vs #i #c"
def rev_ak(x): return f"(Ex #r. AttestationKeyRevealed({x}) @ r)"
def rev_host(x): return f"(Ex #r. HostCompromised({x}) @ r)"
def rev_aik(x, key): return f"(Ex #r. KeyRevealed({x}, {key}) @ r)"
TEE_P = f"{rev_ak('P')} | {rev_host('P')}"
def both(concl, unless):
    return [("evidence", V_EV, ACC_EV, concl, unless), ("result", V_AR, ACC_AR, concl, unless)]
PRODUCED = f"(Ex te #p. EvidenceProduced(P, {EV}, te, b, ah) @ p & #p < #i)"
PROPERTY_LEMMAS: dict[str, list[Branch]] = {
 "evidence_integrity": [
   ("evidence", V_EV, ACC_EV, PRODUCED, rev_ak('P')),
   ("result", V_AR, ACC_AR, f"(Ex ar n to #v. EvidenceAppraised(V, {EV}, ar, n, to) @ v & #v < #i) & ({PRODUCED} | {rev_ak('P')})", "F")],
 "channel_binding": both("(Ex ctx2 aik2 #j. EvidenceRequested(P, k, ctx2, P, b, aik2) @ j & #j < #i)", TEE_P),
 "request_binding": both("(Ex aik2 #j #q. EvidenceRequested(P, k, ctx, P, b, aik2) @ j & RequestSent(R, k, ctx) @ q & #q < #j & #j < #i)", TEE_P),
 "aik_in_tee": both("(Ex #g. AikGenerated(P, aik) @ g & #g < #i)", TEE_P),
 "no_diversion": both("(Ex s #e. ChannelEstablished(R, k, s, P) @ e & #e < #i)", TEE_P),
 "no_reflection": both("not (P = R) & not (Ex #g. AikGenerated(R, aik) @ g)", f"{rev_ak('R')} | {rev_host('R')} | {rev_aik('R', 'aik')}"),
 "reattestation_fresh": [
   ("evidence", V_EV + " te #p #q", ACC_EV + f" & EvidenceProduced(P, {EV}, te, b, ah) @ p & RequestSent(R, k, ctx) @ q", "#q < #p", TEE_P),
   ("result", V_AR + " te #p #q", ACC_AR + f" & EvidenceProduced(P, {EV}, te, b, ah) @ p & RequestSent(R, k, ctx) @ q", "#q < #p", TEE_P)],
 "evidence_freshness": [
   ("evidence", "R k ctx aik P b ah es R2 k2 ctx2 aik2 #i #j",
    f"AuthenticatorAccepted(R, k, ctx, aik, 'evidence', {EV}) @ i & AuthenticatorAccepted(R2, k2, ctx2, aik2, 'evidence', {EV}) @ j",
    "#i = #j", TEE_P),
   ("result", "R k ctx aik V P b ah es vs R2 k2 ctx2 aik2 V2 vs2 #i #j",
    f"AuthenticatorAccepted(R, k, ctx, aik, 'result', {AR}) @ i & AuthenticatorAccepted(R2, k2, ctx2, aik2, 'result', <'ar', V2, {EV}, vs2>) @ j",
    "#i = #j", TEE_P)],
 "aik_ownership": [
   ("any", "R k ctx aik kind cmw A #i #g", "AuthenticatorAccepted(R, k, ctx, aik, kind, cmw) @ i & AikGenerated(A, aik) @ g",
    "(Ex #j. AuthenticatorSent(A, k, ctx, aik, kind, cmw) @ j & #j < #i)", f"{rev_aik('A', 'aik')}")],
 "attest_before_data": [
   ("any", "A k #i", "ApplicationDataSent(A, k) @ i",
    "(Ex R ctx os cmw #j. AttestationCompleted(R, k, ctx, os, cmw) @ j & #j < #i & not (R = A))", "(Ex #r. SecretRevealed(k) @ r)")],
 "verifier_nonce_fresh": [
   ("any", "R k ctx ar R2 k2 ar2 #i #j", "AttestationResultReceived(R, k, ctx, ar) @ i & AttestationResultReceived(R2, k2, ctx, ar2) @ j & not (ctx = 'none')",
    "#i = #j", "F")],
}
SANITY: dict[str, str] = {  # exists-trace: the property's premise happens with no reveal at all
 "evidence_integrity": f"Ex {V_EV} #p te. {ACC_EV} & EvidenceProduced(P, {EV}, te, b, ah) @ p",
 "channel_binding": f"Ex {V_EV} aik2 #j. {ACC_EV} & EvidenceRequested(P, k, ctx, P, b, aik2) @ j",
 "request_binding": f"Ex {V_AR} aik2 #j. {ACC_AR} & EvidenceRequested(P, k, ctx, P, b, aik2) @ j",
 "aik_in_tee": f"Ex {V_EV} #g. {ACC_EV} & AikGenerated(P, aik) @ g",
 "no_diversion": f"Ex {V_EV} s #e. {ACC_EV} & ChannelEstablished(R, k, s, P) @ e & not (R = P)",
 "no_reflection": f"Ex {V_EV} #g. {ACC_EV} & AikGenerated(P, aik) @ g & not (P = R)",
 "reattestation_fresh": f"Ex {V_EV} te #p #q. {ACC_EV} & EvidenceProduced(P, {EV}, te, b, ah) @ p & RequestSent(R, k, ctx) @ q & #q < #p",
 "evidence_freshness": f"Ex {V_AR} #p te. {ACC_AR} & EvidenceProduced(P, {EV}, te, b, ah) @ p",
 "aik_ownership": "Ex R k ctx aik kind cmw A #i #g #j. AuthenticatorAccepted(R, k, ctx, aik, kind, cmw) @ i & AikGenerated(A, aik) @ g & AuthenticatorSent(A, k, ctx, aik, kind, cmw) @ j",
 "attest_before_data": "Ex A k R ctx os cmw #i #j. ApplicationDataSent(A, k) @ i & AttestationCompleted(R, k, ctx, os, cmw) @ j & not (R = A)",
 "verifier_nonce_fresh": "Ex R k ctx ar V #i #j. AttestationResultReceived(R, k, ctx, ar) @ i & NonceIssued(V, ctx, R) @ j",
}
NO_REVEAL = ("not (Ex x #r. HostCompromised(x) @ r) & not (Ex x #r. AttestationKeyRevealed(x) @ r) & "
             "not (Ex x y #r. KeyRevealed(x, y) @ r) & not (Ex x #r. SecretRevealed(x) @ r)")

# Lemmas that are not property ids: what the theory can say beyond the table. (name, text, expected)
SPLIT_RELAY = "relay_split_deployment"
EXTRA_LEMMAS: dict[str, tuple[str, str]] = {
    # channel_binding with only the TEE's own key excluded, not its host: a compromised host that lends
    # its TEE to another connection (draft -04 Sec. 5.2 split deployment; Sec. 7.1 assumes no other way
    # to start Evidence generation than signed code). Expected falsified in every variant.
    SPLIT_RELAY: (
        f"lemma {SPLIT_RELAY}:\n  \"All {V_EV}.\n     {ACC_EV}\n"
        f"   ==> (Ex ctx2 aik2 #j. EvidenceRequested(P, k, ctx2, P, b, aik2) @ j & #j < #i) | {rev_ak('P')}\"\n",
        "falsified"),
}

NOT_MODELLED: dict[str, str] = {
    "no_resumption": "the abstract channel has no session tickets or resumption (RFC 8446 Sec. 4.6.1); the "
                     "runtime monitor and the bounded search cover it",
}

# mitigation flags of roles.FLAGS that the theory does not model (the flag has no effect on it)
FLAGS_NOT_MODELLED: dict[str, str] = {
    "reject_resumption": "no resumption in the abstract channel",
    "check_exporter_label": "the exporter is one symbolic function of the connection secret; a binding under "
                            "another label is still a function of this connection and context",
    "reject_spontaneous_attestation": "every authenticator answers a request in this theory",
}

assert set(PROPERTY_LEMMAS) | set(NOT_MODELLED) == set(PROPERTY_IDS)
assert set(SANITY) == set(PROPERTY_LEMMAS)


def lemma_text(pid: str) -> str:
    parts = []
    for _branch, vs, prem, concl, unless in PROPERTY_LEMMAS[pid]:
        rhs = f"({concl})" if unless == "F" else f"({concl}) | {unless}"
        parts.append(f"  (All {vs}.\n     {prem}\n   ==> {rhs})")
    return f"lemma {pid}:\n  \"" + "\n  &\n".join(parts).lstrip() + "\"\n"


def sanity_text(pid: str) -> str:
    return f"lemma {pid}{REACHABLE_SUFFIX}: exists-trace\n  \"{SANITY[pid]} & {NO_REVEAL}\"\n"


def lemma_names() -> list[str]:
    return [p + REACHABLE_SUFFIX for p in SANITY] + list(PROPERTY_LEMMAS) + list(EXTRA_LEMMAS)


def lemmas_section() -> str:
    return "\n".join([sanity_text(p) for p in SANITY] + [lemma_text(p) for p in PROPERTY_LEMMAS]
                     + [text for text, _ in EXTRA_LEMMAS.values()])


def variant_for(off: Iterable[str]) -> Optional[Variant]:
    off = frozenset(off)
    for v in VARIANTS.values():
        if frozenset(v.off) == off:
            return v
    return None


def violated_under(off: Iterable[str]) -> frozenset[str]:
    """Properties expected falsified with ``off`` switched off (model/expectations.py); for a combination
    no variant names, the union over the variants it contains."""
    off = frozenset(off)
    exact = variant_for(off)
    if exact is not None:
        return frozenset(exact.violated)
    return frozenset(p for v in VARIANTS.values() if v.off and set(v.off) <= off for p in v.violated)


def expected_verdict(lemma: str, off: Iterable[str]) -> str:
    if lemma in PROPERTY_LEMMAS:
        return "falsified" if lemma in violated_under(off) else "verified"
    if lemma in EXTRA_LEMMAS:
        return EXTRA_LEMMAS[lemma][1]
    return "verified"
