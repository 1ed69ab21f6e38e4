"""The rules and restrictions of the Tamarin theory (issue 12): the protocol as an abstract channel.

Written for Tamarin's proof search, not row by row: TLS 1.3 is a fresh connection secret ``k`` shared by
the two named endpoints of one connection; a message on a connection is public and authenticated by
``h(<k, to, tag, payload>)``, ``to`` the receiver's side (the adversary forges it only with ``k``; TLS 1.3
protects each direction under its own traffic keys, RFC 8446 Sec. 7.1, so an endpoint never takes its own
message for its peer's). State facts are small (one per
waiting role instance). Each rule's action facts are events of :mod:`expat.model.events` (the mapping is
:mod:`expat.tamarin.mapping`, checked by ``expat tamarin check``) plus the check actions that the
restrictions below turn into the receiver's checks, one restriction per mitigation flag of
:data:`expat.model.roles.FLAGS` (``-D=OFF_<flag>`` drops it).

The authenticator's CertificateVerify signs ``h(<'cv', k, side, ctx, cmw>)``: the handshake context of
RFC 9261 Sec. 5.2.2 is derived from the connection with a label per sender role, so an authenticator
made by one endpoint does not verify as the other endpoint's.

Private by construction, with the rules that break it:
* the Attesting Environment inside its platform: the TE's request and the AE's answer are one step
  (``TE_1_EvidenceProduced``); ``HostCompromised`` + ``Compromised_TeeOracle`` let a compromised host hand
  its TEE any binder, while the TEE computes AIK_pub_hash over its own AIK (draft -02/-04 Sec. 5.2, split
  deployment);
* the Relying Party's channel to its Verifier (background check): forwarding, appraisal and the result
  are one step of ``RP_2_AttestationCompleted_background`` (the Verifier is honest);
* keys: ``KeyRevealed`` (an AIK), ``AttestationKeyRevealed`` (a TEE's attestation key),
  ``SecretRevealed`` (a connection secret; also leaked by a compromised endpoint).

The requester's and the attester's rules carry their step number in the role (``RP_1_RequestSent_*``,
``RP_2_AttestationCompleted_*``, ``TE_1_`` .. ``TE_4_``). Tamarin's sequential search tries the cases of a
goal in the order of the rules' names, so the name decides which sender of a message is tried first. With
the step first, the adversary's knowledge of a nonce or context is first taken from the request that
carries it, not from the ``'accepted'`` message of another, complete acceptance, whose case opens a
second run of the whole protocol (docs/tamarin.md, "Rule names and the search": no-binding-check
``channel_binding`` falsified in 4 s instead of 822 s). Names change no trace and no verdict.
"""

from __future__ import annotations

def _rp_background(signed: bool, delegated: bool) -> str:
    """The requester's background-check acceptance: Evidence signature checked by the Verifier or not
    (OFF_check_evidence_signature), binding compared by the requester or delegated (-04 5.1)."""
    ev = "<'ev', P, b, ah, sign(<'ev', P, b, ah>, ak)>" if signed else "<'ev', P, b, ah, es>"
    ak = ", !AK(P, ak)" if signed else ""
    if delegated:
        checks = ("  --[ VerifierChecksBinding(b, bind(k, ctx, aikpub)), CheckAikPubHash(ah, h(aikpub)), NonceUsed(V, ctx),\n"
                  "      AuthenticatorAccepted(R, k, ctx, aikpub, 'evidence', ev),\n"
                  "      EvidenceForwarded(R, k, ctx, V, ev),\n"
                  "      BindingConfirmed(V, bind(k, ctx, aikpub), ev, R),\n")
    else:
        checks = ("  --[ CheckBinding(b, bind(k, ctx, aikpub)), CheckAikPubHash(ah, h(aikpub)), NonceUsed(V, ctx),\n"
                  "      AuthenticatorAccepted(R, k, ctx, aikpub, 'evidence', ev),\n"
                  "      BindingChecked(R, k, ctx, bind(k, ctx, aikpub), b),\n"
                  "      EvidenceForwarded(R, k, ctx, V, ev),\n")
    return ("rule RP_2_AttestationCompleted_background:\n"
            f"  let ev = {ev}\n"
            "      aikpub = pk(aik)\n"
            "      ar = <'ar', V, ev, sign(<'ar', V, ev>, vk)>\n"
            "  in\n"
            "  [ RPWaitBackground(R, k, os, ctx, V), In(<'ea', aikpub, ev, sign(h(<'cv', k, os, ctx, ev>), aik)>), "
            f"!VKey(V, vk){ak} ]\n"
            + checks +
            "      EvidenceAppraised(V, ev, ar, ctx, R),\n"
            "      AttestationResultReceived(R, k, ctx, ar),\n"
            "      AttestationCompleted(R, k, ctx, os, ev) ]->\n"
            "  [ Out(<'accepted', ctx, h(<k, os, 'accepted', ctx>)>) ]\n")


def _when(signed: bool, delegated: bool) -> str:
    """The flag formula selecting one combination (Tamarin's #ifdef does not nest: flat conjunctions)."""
    return (("not " if signed else "") + "OFF_check_evidence_signature & "
            + ("" if delegated else "not ") + "OFF_local_binding_check")


_RP_BACKGROUND = "".join(f"#ifdef {_when(signed, delegated)}\n{_rp_background(signed, delegated)}#endif\n"
                         for signed in (False, True) for delegated in (True, False))


RULES = """\
builtins: hashing, signing

/* binding (draft 5.1): H(AIK_pub || TLS-Exporter(label, ctx)) with the exporter abstracted as a hash of the
   connection secret */
#ifdef OFF_include_public_key_in_binding
macros: bind(k, ctx, aik) = h(<'exp', k, ctx>)
#else
macros: bind(k, ctx, aik) = h(<h(<'exp', k, ctx>), aik>)
#endif

rule Platform:
  [ Fr(~ak) ] --[ Platform($P) ]-> [ !AK($P, ~ak), !AKPub($P, pk(~ak)), Out(pk(~ak)) ]

rule Verifier_Key:
  [ Fr(~vk) ] --[ VerifierKey($V) ]-> [ !VKey($V, ~vk), !VPub($V, pk(~vk)), Out(pk(~vk)) ]

rule AikGenerated:
  [ !AK($P, ~ak), Fr(~aik) ] --[ AikGenerated($P, pk(~aik)) ]-> [ !Aik($P, ~aik), Out(pk(~aik)) ]

rule ChannelEstablished:
  [ Fr(~k) ]
  --[ ChannelEstablished($C, ~k, 'client', $S), ChannelEstablished($S, ~k, 'server', $C), Neq($C, $S) ]->
  [ !Ep($C, ~k, 'client', 'server', $S), !Ep($S, ~k, 'server', 'client', $C), !Conn(~k) ]

rule SecretRevealed:
  [ !Conn(k) ] --[ SecretRevealed(k) ]-> [ Out(k) ]

rule KeyRevealed:
  [ !Aik(P, aik) ] --[ KeyRevealed(P, pk(aik)) ]-> [ Out(aik) ]

rule AttestationKeyRevealed:
  [ !AK(P, ak) ] --[ AttestationKeyRevealed(P) ]-> [ Out(ak) ]

rule HostCompromised:
  [ !AK(P, ak) ] --[ HostCompromised(P) ]-> [ !Compromised(P) ]

rule Compromised_LeaksConnection:
  [ !Compromised(P), !Ep(P, k, s, os, Q) ] --[ SecretRevealed(k) ]-> [ Out(k) ]

rule Compromised_LeaksAik:
  [ !Compromised(P), !Aik(P, aik) ] --[ KeyRevealed(P, pk(aik)) ]-> [ Out(aik) ]

/* split deployment (draft -02 5.2, -04 5.2): the TLS stack outside the TEE provides the attestation binder,
   so a compromised host hands its TEE any binder; AIK_pub_hash is a claim the TEE itself generates over
   an AIK it holds, so the host cannot choose it */
rule Compromised_TeeOracle:
  let ah = h(pk(aik))
      ev = <'ev', P, b, ah, sign(<'ev', P, b, ah>, ak)>
  in
  [ !Compromised(P), !AK(P, ak), !Aik(P, aik), In(b) ] --[ EvidenceProduced(P, ev, P, b, ah) ]-> [ Out(sign(<'ev', P, b, ah>, ak)) ]

/* background check: the Verifier nonce is the certificate_request_context */
rule NonceIssued:
  [ Fr(~n) ] --[ NonceIssued($V, ~n, $R) ]-> [ !VNonce($R, $V, ~n) ]

rule RP_1_RequestSent_background:
  [ !Ep(R, k, s, os, A), !VNonce(R, V, n) ]
  --[ RequestSent(R, k, n), CtxFresh(R, k, n) ]->
  [ RPWaitBackground(R, k, os, n, V), Out(<'req', n, h(<k, os, 'req', n>)>) ]

rule RP_1_RequestSent_passport:
  [ !Ep(R, k, s, os, A), Fr(~ctx) ]
  --[ RequestSent(R, k, ~ctx), CtxFresh(R, k, ~ctx) ]->
  [ RPWaitPassport(R, k, os, ~ctx), Out(<'req', ~ctx, h(<k, os, 'req', ~ctx>)>) ]

rule TE_1_EvidenceProduced:
  let aikpub = pk(~aik)
      b = bind(k, ctx, aikpub)
      ah = h(aikpub)
      ev = <'ev', A, b, ah, sign(<'ev', A, b, ah>, ak)>
  in
  [ !Ep(A, k, s, os, R), In(<'req', ctx, h(<k, s, 'req', ctx>)>), !Aik(A, ~aik), !AK(A, ak) ]
  --[ RequestReceived(A, k, ctx), ContextAnswered(A, k, ctx),
      EvidenceRequested(A, k, ctx, A, b, aikpub), EvidenceProduced(A, ev, A, b, ah) ]->
  [ TEHas(A, k, s, ctx, ~aik, ev) ]

rule TE_2_AuthenticatorSent_evidence:
  let aikpub = pk(~aik) in
  [ TEHas(A, k, s, ctx, ~aik, ev) ]
  --[ AuthenticatorSent(A, k, ctx, aikpub, 'evidence', ev) ]->
  [ TEWait(A, k, s, ctx, ev), Out(<'ea', aikpub, ev, sign(h(<'cv', k, s, ctx, ev>), ~aik)>) ]

rule TE_2_EvidenceSubmitted:
  [ TEHas(A, k, s, ctx, ~aik, ev), !VPub(V, vpk) ]
  --[ EvidenceSubmitted(A, k, ctx, V, ev) ]->
  [ TESubmitted(A, k, s, ctx, ~aik, ev, V), Out(<'submit', V, ev>) ]

rule TE_3_AuthenticatorSent_result:
  let aikpub = pk(~aik)
      vs = sign(<'ar', V, ev>, vk)
      ar = <'ar', V, ev, vs>
  in
  [ TESubmitted(A, k, s, ctx, ~aik, ev, V), In(vs), !VKey(V, vk) ]
  --[ AttestationResultObtained(A, k, ctx, ar), AuthenticatorSent(A, k, ctx, aikpub, 'result', ar) ]->
  [ TEWait(A, k, s, ctx, ar), Out(<'ea', aikpub, sign(h(<'cv', k, s, ctx, ar>), ~aik)>) ]

/* the attester learns its acceptance only from the requester's message, and may then send application
   data at once (this step) or later (ApplicationDataSent) */
rule TE_4_AttestationCompleted:
  [ TEWait(A, k, s, ctx, cmw), In(<'accepted', ctx, h(<k, s, 'accepted', ctx>)>) ]
  --[ AttestationCompleted(A, k, ctx, s, cmw), ApplicationDataSent(A, k) ]->
  [ !Attested(A, k), Out(<'data', h(<k, 'data'>)>) ]

rule ApplicationDataSent:
  [ !Attested(A, k) ] --[ ApplicationDataSent(A, k) ]-> [ Out(<'data', h(<k, 'data'>)>) ]

/* background check: the requester checks binding and AIK_pub_hash and has its Verifier appraise the Evidence
   over a private, authenticated channel (one step: the Verifier is honest and the channel private).
   Delegated comparison (-04 5.1, profile binding_check=delegated, -D=OFF_local_binding_check): the
   requester conveys the binding it computed with the Evidence and the Verifier compares it
   (VerifierChecksBinding, a restriction unless the Verifier does not compare) and confirms it */
"""  + _RP_BACKGROUND + """
/* passport: the attester submits its Evidence over the network; the Verifier answers over the network */
#ifdef OFF_check_evidence_signature
rule V_EvidenceAppraised_passport:
  let ev = <'ev', P, b, ah, es> in
  [ In(<'submit', V, ev>), !VKey(V, vk) ]
  --[ EvidenceAppraised(V, ev, <'ar', V, ev, sign(<'ar', V, ev>, vk)>, 'none', P) ]->
  [ Out(sign(<'ar', V, ev>, vk)) ]
#else
rule V_EvidenceAppraised_passport:
  let ev = <'ev', P, b, ah, sign(<'ev', P, b, ah>, ak)> in
  [ In(<'submit', V, ev>), !VKey(V, vk), !AK(P, ak) ]
  --[ EvidenceAppraised(V, ev, <'ar', V, ev, sign(<'ar', V, ev>, vk)>, 'none', P) ]->
  [ Out(sign(<'ar', V, ev>, vk)) ]
#endif

rule RP_2_AttestationCompleted_passport:
  let ev = <'ev', P, b, ah, es>
      ar = <'ar', V, ev, sign(<'ar', V, ev>, vk)>
      aikpub = pk(aik)
  in
  [ RPWaitPassport(R, k, os, ctx), In(<'ea', aikpub, ar, sign(h(<'cv', k, os, ctx, ar>), aik)>), !VKey(V, vk) ]
  --[
      CheckEcho(<b, ah>, <bind(k, ctx, aikpub), h(aikpub)>),
      AuthenticatorAccepted(R, k, ctx, aikpub, 'result', ar),
      BindingChecked(R, k, ctx, bind(k, ctx, aikpub), b),
      AttestationResultReceived(R, k, ctx, ar), AttestationCompleted(R, k, ctx, os, ar) ]->
  [ Out(<'accepted', ctx, h(<k, os, 'accepted', ctx>)>) ]
"""

RESTRICTIONS = """\
restriction Neq: "All x y #i. Neq(x, y) @ i ==> not (x = y)"
restriction one_platform: "All P #i #j. Platform(P) @ i & Platform(P) @ j ==> #i = #j"
restriction one_verifier_key: "All V #i #j. VerifierKey(V) @ i & VerifierKey(V) @ j ==> #i = #j"
#ifdef not OFF_check_binding & not OFF_local_binding_check
restriction check_binding: "All x y #i. CheckBinding(x, y) @ i ==> x = y"
#endif
#ifdef OFF_local_binding_check & not OFF_verifier_compares_binding & not OFF_check_binding
restriction verifier_compares_binding: "All x y #i. VerifierChecksBinding(x, y) @ i ==> x = y"
#endif
#ifdef OFF_check_aik_pub_hash
#else
restriction check_aik_pub_hash: "All x y #i. CheckAikPubHash(x, y) @ i ==> x = y"
#endif
#ifdef OFF_passport_binding_echo
#else
restriction passport_binding_echo: "All x y #i. CheckEcho(x, y) @ i ==> x = y"
#endif
#ifdef OFF_check_verifier_nonce
#else
restriction check_verifier_nonce: "All V n #i #j. NonceUsed(V, n) @ i & NonceUsed(V, n) @ j ==> #i = #j"
#endif
restriction request_context_unique: "All R k ctx #i #j. CtxFresh(R, k, ctx) @ i & CtxFresh(R, k, ctx) @ j ==> #i = #j"
#ifdef OFF_check_context_unique
#else
restriction no_reflected_context: "All A k ctx #i #j. ContextAnswered(A, k, ctx) @ i & RequestSent(A, k, ctx) @ j ==> F"
#endif
"""

# Derivation-check findings that are intended: the requester verifies the authenticator's
# CertificateVerify by matching sign(..., aik) against the certificate's pk(aik) (the adversary makes
# such a signature only with aik: KeyRevealed). Any other finding stops `expat prove`.
INTENDED_PATTERN_MATCHING: dict[str, frozenset[str]] = {
    "RP_2_AttestationCompleted_background": frozenset({"aik"}),
    "RP_2_AttestationCompleted_passport": frozenset({"aik"}),
}
