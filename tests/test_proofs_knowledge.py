"""The adversary's knowledge (proofs/knowledge.py): derivability under the deconstructors, and every
message the search lets the adversary send is derivable from what it knows at that point."""

from __future__ import annotations

import expat  # noqa: F401  (OpenSSL config first)
from expat.model.expectations import VARIANTS
from expat.proofs import world as W
from expat.proofs.analysis import analyse_variant, variant_flags
from expat.proofs.knowledge import DEPTH, Knowledge, depth
from expat.proofs.search import Bound, Explorer
from expat.proofs.terms import Algebra

L, OTHER = W.LABEL, W.OTHER_LABEL


def kn(secrets=("c2",), contexts=("x1",), seen=()):
    return Knowledge(Algebra(), ("kA", "kB", "kM", "kX"), ("kM", "kX"), secrets, contexts, (L, OTHER), seen)


def test_exporter_and_hash_need_the_connection_secret_and_known_inputs():
    k = kn()
    assert k.derivable(("exp", L, "c2", "x1"))
    assert not k.derivable(("exp", L, "c1", "x1"))         # no secret of c1
    assert not k.derivable(("exp", L, "c2", "x9"))         # unknown context
    assert k.derivable(("bind", "kA", ("exp", OTHER, "c2", "x1")))  # any public key, any label
    assert not k.derivable(("bind", "kA", ("exp", L, "c1", "x1")))
    assert k.derivable(("aikhash", "kB"))


def test_a_seen_binding_is_known_by_projection_but_not_opened():
    honest = ("bind", "kA", ("exp", L, "c1", "x1"))
    k = kn(seen=(honest,))
    assert k.derivable(honest)                             # projected from the Evidence it saw
    assert not k.derivable(honest[2])                      # the hash is one-way: its exporter stays unknown
    assert ("seen", honest) in k.bindings("c2", "x1", "kM")


def test_bindings_are_derivable_distinct_representatives_within_the_depth():
    k = kn(secrets=("c1", "c2"), contexts=("x1", "x2"))
    reps = k.bindings("c2", "x1", "kM")
    classes = [c for c, _ in reps]
    assert classes[:2] == ["own", "label"] and {"key", "ctx", "conn"} <= set(classes)
    assert reps[0][1] == ("bind", "kM", ("exp", L, "c2", "x1"))
    assert all(k.derivable(t) and depth(t) <= DEPTH for _, t in reps)
    assert len({t for _, t in reps}) == len(reps)


def test_every_adversary_message_in_a_run_is_derivable_from_its_knowledge_then():
    """Soundness of the menu against the symbolic adversary: each binding mallory has an AE sign
    (EvidenceRequested by mallory) is derivable from the knowledge of the state it was sent in."""
    ex = Explorer(variant_flags(VARIANTS["no-binding-check"]), Bound(1, 2, 1, 1))
    checked = 0
    for st in ex.runs():
        for conn, rp, ctx in st.pending:
            for label, apply in ex.answers(st, conn, ctx):
                child = st.clone()
                before = ex.knowledge(st)
                apply(child)
                for agent, name, args in child.events[len(st.events):]:
                    if agent == W.MALLORY and name == "EvidenceRequested":
                        b = next(ev.binding for ev in child.evidence.values()
                                 if W.render(ev.binding).hex() == str(args["binding"]))
                        assert before.derivable(b), label
                        checked += 1
        if checked > 300:
            break
    assert checked > 300


def test_a_refused_answer_is_a_run_ending_in_authenticator_rejected():
    """Nothing pruned for the requester: an answer it refuses is explored, recorded as
    AuthenticatorRejected, and breaks no rule of the tables (the analysis checks every run)."""
    ex = Explorer(variant_flags(VARIANTS["default"]), Bound(1, 1, 1, 0))
    refused = [st for st in ex.runs() if st.final]
    assert refused
    assert all(st.events[-1][1] == "AuthenticatorRejected" for st in refused)
    rep = analyse_variant(VARIANTS["default"], Bound(1, 1, 1, 0))
    assert rep.mismatches == 0 and rep.counterexamples == {}
