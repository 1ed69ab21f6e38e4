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
 # the host of P is NOT excluded: a split deployment whose TLS stack (outside the TEE) uses a key the TEE
 # never held is the very attack AIK_pub_hash is for (draft 5.2); only P's attestation key is
 "aik_in_tee": both("(Ex #g. AikGenerated(P, aik) @ g & #g < #i)", rev_ak('P')),
 "no_diversion": both("(Ex s #e. ChannelEstablished(R, k, s, P) @ e & #e < #i)", TEE_P),
 # a leaked AIK of R is NOT excluded: context uniqueness and AIK_pub_hash are what stop its reflection;
 # the attestation key of the Evidence's TEE P is (with it, Evidence of P naming any AIK can be forged)
 "no_reflection": both("not (P = R) & not (Ex #g. AikGenerated(R, aik) @ g)", f"{rev_ak('P')} | {rev_ak('R')} | {rev_host('R')}"),
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
 # what the Verifier did: it issued the nonce to this requester before, and appraised nothing else against it
 "verifier_nonce_fresh": [
   ("any", "V ev ar n to #a", "EvidenceAppraised(V, ev, ar, n, to) @ a & not (n = 'none')",
    "(Ex #j. NonceIssued(V, n, to) @ j & #j < #a) & (All ev2 ar2 to2 #b. EvidenceAppraised(V, ev2, ar2, n, to2) @ b ==> #a = #b)",
    "F")],
}
# Sanity (exists-trace): the property's premise and its conclusion happen together in a run with no
# reveal at all, so no lemma holds vacuously. Each states the honest run that gets there (request, the
# TEE's Evidence, the authenticator, the acceptance, at one instant with the requester's completion):
# pinned to the protocol's own events, Tamarin's search finds it directly instead of wandering through
# the adversary's ways of making each message.
RUN_EV = ("RequestSent(R, k, ctx) @ q & EvidenceRequested(P, k, ctx, P, b, aik) @ j & "
          f"AuthenticatorSent(P, k, ctx, aik, 'evidence', {EV}) @ a & "
          f"AuthenticatorAccepted(R, k, ctx, aik, 'evidence', {EV}) @ i & AttestationCompleted(R, k, ctx, os, {EV}) @ i & "
          "#q < #j & #j < #a & #a < #i")
RUN_AR = ("RequestSent(R, k, ctx) @ q & EvidenceRequested(P, k, ctx, P, b, aik) @ j & "
          f"EvidenceSubmitted(P, k, ctx, V, {EV}) @ u & AuthenticatorSent(P, k, ctx, aik, 'result', {AR}) @ a & "
          f"AuthenticatorAccepted(R, k, ctx, aik, 'result', {AR}) @ i & AttestationCompleted(R, k, ctx, os, {AR}) @ i & "
          "#q < #j & #j < #u & #u < #a & #a < #i")
X_EV = "R k ctx aik os P b ah es #q #j #a #i"
X_AR = "R k ctx aik os V P b ah es vs #q #j #u #a #i"
SANITY: dict[str, str] = {
 "evidence_integrity": f"Ex {X_EV} te #p. {RUN_EV} & EvidenceProduced(P, {EV}, te, b, ah) @ p & #p < #i",
 "channel_binding": f"Ex {X_EV}. {RUN_EV}",
 "request_binding": f"Ex {X_AR}. {RUN_AR}",
 "aik_in_tee": f"Ex {X_EV} #g. {RUN_EV} & AikGenerated(P, aik) @ g & #g < #i",
 "no_diversion": f"Ex {X_EV} s #e. {RUN_EV} & ChannelEstablished(R, k, s, P) @ e & not (R = P)",
 "no_reflection": f"Ex {X_EV} #g. {RUN_EV} & AikGenerated(P, aik) @ g & not (P = R)",
 "reattestation_fresh": f"Ex {X_EV} te #p. {RUN_EV} & EvidenceProduced(P, {EV}, te, b, ah) @ p & #q < #p",
 "evidence_freshness": f"Ex {X_AR} te #p. {RUN_AR} & EvidenceProduced(P, {EV}, te, b, ah) @ p",
 "aik_ownership": f"Ex {X_EV} #g. {RUN_EV} & AikGenerated(P, aik) @ g",
 "attest_before_data": f"Ex {X_EV} s #t. {RUN_EV} & AttestationCompleted(P, k, ctx, s, {EV}) @ t & ApplicationDataSent(P, k) @ t & #i < #t",
 "verifier_nonce_fresh": f"Ex {X_EV} V ar #n. {RUN_EV} & NonceIssued(V, ctx, R) @ n & EvidenceAppraised(V, {EV}, ar, ctx, R) @ i",
}
NO_REVEAL = ("not (Ex x #r. HostCompromised(x) @ r) & not (Ex x #r. AttestationKeyRevealed(x) @ r) & "
             "not (Ex x y #r. KeyRevealed(x, y) @ r) & not (Ex x #r. SecretRevealed(x) @ r)")

assert set(PROPERTY_LEMMAS) <= set(PROPERTY_IDS)
assert set(SANITY) == set(PROPERTY_LEMMAS)
