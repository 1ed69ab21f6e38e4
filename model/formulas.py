"""The property formulas, written once (issue 12): each property id is one formula over the events of
:mod:`expat.model.events`, in the syntax of Tamarin's guarded formulas.

Each formula says what the OTHER parties did when an honest requester accepted (its
``AuthenticatorAccepted`` and ``AttestationCompleted``): which TEE produced the Evidence, for which
connection secret and context, which Verifier appraised it, which endpoint used the AIK -- unless a
reveal on the party concerned (named: the producing platform ``P``, the AIK's holder, the requester
``R`` itself, or the connection ``k``). A formula never restates the requester's own check (the binding
comparison is a restriction of the theory; the formula asks who computed the binding). Evidence
(background check) and Attestation Result (passport) acceptance are separate branches.

The Tamarin lemmas are generated from these (:mod:`expat.tamarin.lemmas`); the model owns them so the
runtime side can read the same text.
"""

from __future__ import annotations

from expat.model.properties import PROPERTY_IDS

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

assert set(PROPERTY_LEMMAS) <= set(PROPERTY_IDS)
assert set(SANITY) == set(PROPERTY_LEMMAS)
