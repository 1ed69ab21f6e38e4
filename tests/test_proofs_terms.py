"""The z3 term algebra of the bounded proofs: injective hashes, distinct names, context choices."""

from __future__ import annotations

import expat  # noqa: F401  (OpenSSL config first)
from expat.proofs.terms import Algebra


def exp(conn, ctx, label="Attestation"):
    return ("exp", label, conn, ctx)


def test_equal_terms_are_equal_and_any_differing_argument_makes_them_differ():
    z = Algebra()
    b = ("bind", "kA", exp("c1", "n1"))
    assert z.equal(b, ("bind", "kA", exp("c1", "n1")))
    assert not z.equal(b, ("bind", "kB", exp("c1", "n1")))       # another key
    assert not z.equal(b, ("bind", "kA", exp("c2", "n1")))       # another connection
    assert not z.equal(b, ("bind", "kA", exp("c1", "n2")))       # another context
    assert not z.equal(b, ("bind", "kA", exp("c1", "n1", "Attestation Binding")))  # another label


def test_binding_without_public_key_ignores_the_key_and_differs_from_keyed_bindings():
    z = Algebra()
    assert z.equal(("bind", None, exp("c1", "x")), ("bind", None, exp("c1", "x")))
    assert not z.equal(("bind", None, exp("c1", "x")), ("bind", "kA", exp("c1", "x")))


def test_aik_hash_is_injective_and_never_a_binding():
    z = Algebra()
    assert z.equal(("aikhash", "kA"), ("aikhash", "kA"))
    assert not z.equal(("aikhash", "kA"), ("aikhash", "kM"))
    assert not z.equal(("aikhash", "kA"), ("bind", "kA", exp("c1", "x")))


def test_absent_values_equal_only_absent_values():
    z = Algebra()
    assert z.equal(None, None)
    assert not z.equal(None, ("aikhash", "kA"))


def test_context_choices_are_known_or_fresh_and_avoid_used_ones():
    z = Algebra()
    assert z.choices(["n1", "x2"], "x3", []) == ["n1", "x2", "x3"]
    assert z.choices(["n1", "x2"], "x3", ["x2"]) == ["n1", "x3"]
    assert z.choices([], "n1", ["n1"]) == []
