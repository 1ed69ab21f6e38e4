"""What the adversary knows: a set of terms closed under the term algebra's deconstructors, up to a depth.

The algebra (:mod:`expat.proofs.terms`) has three constructors an honest party's guard reads:
``("exp", label, conn, ctx)`` (TLS-Exporter, RFC 8446 §7.5), ``("bind", key, exp)`` (the binding,
draft §5.1) and ``("aikhash", key)`` (AIK_pub_hash, §5.2), plus the messages that carry them: Evidence
(signed by an Attesting Environment over te, binding and AIK_pub_hash) and Attestation Results (signed
by the Verifier over the Evidence and an optional binding echo).

The adversary's knowledge starts from

* every public key (they travel in certificates) and every label, context and Verifier nonce of the run
  (contexts travel in clear in CertificateRequest; a nonce is a freshness value with no confidential
  channel, DIGEST ambiguity 9), a fresh context of its own;
* the exporter secrets of its own connections and of the honest connections it learnt
  (``SecretRevealed``);
* the private keys of its own AIKs and of the AIKs it learnt (``KeyRevealed``);
* every Evidence and Attestation Result sent in the run,

and is closed under the deconstructors: **projection / signature opening** of a seen Evidence or result
gives its binding, AIK_pub_hash and echo (signatures are public-key signatures: opening needs no key);
**exporter application** with a known connection secret, label and context gives the exporter value;
**hash application** to known inputs gives a binding or an AIK_pub_hash. Hashes and exporter values are
one-way: nothing opens them. Signatures are not constructors the adversary has, except through a
Attesting Environment it may use (its own, or an honest one as a split-deployment oracle, draft §5.2),
or by forging Evidence that a Verifier checking signatures refuses.

Depth: no guard reads a term deeper than H(key || TLS-Exporter(label, conn, ctx)) (:data:`DEPTH`), so
:meth:`Knowledge.derivable` and :meth:`Knowledge.bindings` stop there; the bound statement prints it.
Membership of a term among the seen ones is decided by z3 (:meth:`Algebra.equal`), not syntactically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from expat.proofs.terms import Algebra, Term

DEPTH = 3  # bind(key, exp(label, conn, ctx)): a hash over an exporter over names


def depth(t: object) -> int:
    if not isinstance(t, tuple):
        return 0
    return 1 + max((depth(x) for x in t[1:]), default=0)


@dataclass(frozen=True)
class Knowledge:
    """The adversary's knowledge at one point of a run (immutable; rebuilt per question)."""
    z: Algebra
    keys: tuple[str, ...]          # every public key (names)
    private: tuple[str, ...]       # keys it can sign an EA CertificateVerify with
    secrets: tuple[str, ...]       # connections whose exporter secret it holds
    contexts: tuple[str, ...]      # contexts and nonces it knows
    labels: tuple[str, ...]
    seen: tuple[Term, ...]         # bindings / AIK_pub_hashes projected from the messages it saw
    key_in_binding: bool = True    # the profile hashes the public key into the binding (-02 §5.1)

    def derivable(self, t: Optional[Term]) -> bool:
        """``t`` is in the closure of the knowledge (up to :data:`DEPTH`)."""
        if t is None or depth(t) > DEPTH:
            return False
        if any(self.z.equal(t, s) for s in self.seen if isinstance(s, tuple) and s[0] == t[0]):
            return True  # projected from a message it saw
        if t[0] == "aikhash":
            return t[1] in self.keys
        if t[0] == "exp":
            _, label, conn, ctx = t
            return label in self.labels and conn in self.secrets and ctx in self.contexts
        if t[0] == "bind":
            _, key, e = t
            return (key is None or key in self.keys) and isinstance(e, tuple) and e[0] == "exp" and self.derivable(e)
        return False

    def constructed_bindings(self) -> list[Term]:
        """Every binding it can build by hash application (key x exporter it can compute)."""
        keys: Iterable[Optional[str]] = self.keys if self.key_in_binding else (None,)
        return [("bind", k, ("exp", lab, c, x)) for c in self.secrets for x in self.contexts
                for lab in self.labels for k in keys]

    def bindings(self, conn: str, ctx: str, key: str, every: bool = False) -> list[tuple[str, Term]]:
        """Representatives of the bindings it can put into Evidence answering (``conn``, ``ctx``) with EA
        key ``key``, one per class of what the honest checks and the monitors compare a binding with:
        this request's binding (``own``), the same under the other label (``label``), under another key
        (``key``), for another context of this connection (``ctx``), for another connection it holds the
        secret of (``conn``), and each binding projected from a message it saw (``seen``). Every
        representative is checked derivable. ``every``: after the representatives, every other binding it
        can build by hash application (``any``), not one per class (docs/proofs.md, --all-bindings)."""
        out: list[tuple[str, Term]] = []

        def add(cls: str, t: Term) -> None:
            if self.derivable(t) and not any(self.z.equal(t, u) for _, u in out):
                out.append((cls, t))

        pk = key if self.key_in_binding else None
        built = self.constructed_bindings()
        for lab in self.labels:
            add("own" if lab == self.labels[0] else "label", ("bind", pk, ("exp", lab, conn, ctx)))
        picks = (("key", lambda b: b[2][2:] == (conn, ctx) and b[1] != pk),
                 ("ctx", lambda b: b[2][2] == conn and b[2][3] != ctx),
                 ("conn", lambda b: b[2][2] != conn))
        for cls, pred in picks:
            first = next((b for b in built if pred(b) and b[2][1] == self.labels[0]), None)
            if first is not None:
                add(cls, first)
        for s in self.seen:
            if isinstance(s, tuple) and s[0] == "bind":
                add("seen", s)
        if every:
            for b in built:
                add("any", b)
        return out
