"""The data constraints of the bounded analysis, decided by z3.

Symbolic values are small tuples (the term algebra):

* keys, connections, contexts, labels: names (``"kA"``, ``"c1"``, ``"x3"``, ``"Attestation"``);
* ``("exp", label, conn, ctx)``: TLS-Exporter(label, ctx, 32) of a connection (draft §5.1; RFC 8446 §7.5);
* ``("bind", key, exp)``: the binding H(public_key || exported_value) (draft -02 §5.1), ``key`` None
  when the profile leaves the public key out;
* ``("aikhash", key)``: AIK_pub_hash = H(public key) (draft §5.2).

z3 sees the hashes and the exporter as uninterpreted functions made injective by inverse functions
(the symbolic reading of a collision-resistant hash and a PRF keyed by a per-connection secret), and
the names of one sort as pairwise distinct constants. :meth:`Algebra.equal` then decides whether two
terms are equal (every binding comparison of the requester and the Verifier goes through it), and
:meth:`Algebra.choices` enumerates, by all-SAT, the values a free context variable may take under
the freshness/uniqueness constraints of one step.
"""

from __future__ import annotations

from typing import Iterable, Optional

import z3

Term = object


class UndecidedError(RuntimeError):
    """z3 could neither prove two terms equal nor different (the encoding is incomplete)."""


class Algebra:
    def __init__(self) -> None:
        self.Key = z3.DeclareSort("Key")
        self.Conn = z3.DeclareSort("Conn")
        self.Ctx = z3.DeclareSort("Ctx")
        self.Label = z3.DeclareSort("Label")
        self.Exp = z3.DeclareSort("Exported")
        self.Val = z3.DeclareSort("HashValue")
        self.NoKey = z3.Const("no_public_key", self.Key)  # bind(None, e): the public key left out
        self.exp = z3.Function("exporter", self.Label, self.Conn, self.Ctx, self.Exp)
        self.bind = z3.Function("binding", self.Key, self.Exp, self.Val)
        self.aikhash = z3.Function("aik_pub_hash", self.Key, self.Val)
        self.solver = z3.Solver()
        self._consts: dict[tuple[str, str], z3.ExprRef] = {}
        self._cache: dict[tuple, bool] = {}
        self.queries = 0
        self._injective()

    def _injective(self) -> None:
        """Inverse functions make every constructor injective; a tag separates the two hash uses."""
        s = self.solver
        l, c, x = z3.Const("l", self.Label), z3.Const("c", self.Conn), z3.Const("x", self.Ctx)
        k, e = z3.Const("k", self.Key), z3.Const("e", self.Exp)
        inv = {n: z3.Function(f"inv_{n}", dom, rng) for n, dom, rng in (
            ("exp_label", self.Exp, self.Label), ("exp_conn", self.Exp, self.Conn), ("exp_ctx", self.Exp, self.Ctx),
            ("bind_key", self.Val, self.Key), ("bind_exp", self.Val, self.Exp), ("hash_key", self.Val, self.Key))}
        tag = z3.Function("hash_use", self.Val, z3.IntSort())
        ex = self.exp(l, c, x)
        s.add(z3.ForAll([l, c, x], z3.And(inv["exp_label"](ex) == l, inv["exp_conn"](ex) == c,
                                          inv["exp_ctx"](ex) == x), patterns=[ex]))
        b = self.bind(k, e)
        s.add(z3.ForAll([k, e], z3.And(inv["bind_key"](b) == k, inv["bind_exp"](b) == e, tag(b) == 1),
                        patterns=[b]))
        h = self.aikhash(k)
        s.add(z3.ForAll([k], z3.And(inv["hash_key"](h) == k, tag(h) == 2), patterns=[h]))

    # -- terms -> z3 ---------------------------------------------------------------------------

    def const(self, sort: str, name: str) -> z3.ExprRef:
        key = (sort, name)
        c = self._consts.get(key)
        if c is None:
            c = z3.Const(f"{sort}:{name}", getattr(self, sort))
            for (other_sort, _), other in self._consts.items():
                if other_sort == sort:
                    self.solver.add(c != other)  # distinct names are distinct values
            if sort == "Key":
                self.solver.add(c != self.NoKey)
            self._consts[key] = c
        return c

    def z3(self, t: Term) -> z3.ExprRef:
        if isinstance(t, tuple) and t and t[0] == "exp":
            _, label, conn, ctx = t
            return self.exp(self.const("Label", label), self.const("Conn", conn), self.const("Ctx", ctx))
        if isinstance(t, tuple) and t and t[0] == "bind":
            _, key, e = t
            return self.bind(self.NoKey if key is None else self.const("Key", key), self.z3(e))
        if isinstance(t, tuple) and t and t[0] == "aikhash":
            return self.aikhash(self.const("Key", t[1]))
        raise TypeError(f"not a term: {t!r}")

    # -- queries -------------------------------------------------------------------------------

    def equal(self, a: Optional[Term], b: Optional[Term]) -> bool:
        """True when a = b follows from the axioms, False when a != b does; None is "absent"."""
        if a is None or b is None:
            return a is None and b is None
        key = (a, b)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        self.queries += 1
        za, zb = self.z3(a), self.z3(b)
        s = self.solver
        s.push()
        s.add(za != zb)
        differ = s.check()
        s.pop()
        if differ == z3.unsat:
            result = True
        else:
            s.push()
            s.add(za == zb)
            same = s.check()
            s.pop()
            if same != z3.unsat:
                raise UndecidedError(f"cannot decide {a!r} = {b!r}")
            result = False
        self._cache[key] = self._cache[(b, a)] = result
        return result

    def member(self, t: Term, candidates: Iterable[Term]) -> Optional[Term]:
        """The first candidate equal to ``t``, or None."""
        for c in candidates:
            if self.equal(t, c):
                return c
        return None

    def choices(self, known: list[str], fresh: str, avoid: Iterable[str]) -> list[str]:
        """Every value a free context variable can take: a context already in the run or a fresh one,
        different from ``avoid`` (RFC 9261 §4 uniqueness on the connection). Enumerated by all-SAT."""
        v = z3.Const(f"ctx_choice_{len(self._cache)}_{self.queries}", self.Ctx)
        domain = list(dict.fromkeys(list(known) + [fresh]))
        consts = {name: self.const("Ctx", name) for name in domain}
        s = self.solver
        s.push()
        s.add(z3.Or([v == c for c in consts.values()]))
        for name in avoid:
            s.add(v != self.const("Ctx", name))
        found: list[str] = []
        while True:
            self.queries += 1
            if s.check() != z3.sat:
                break
            m = s.model()
            name = next(n for n, c in consts.items() if z3.is_true(m.eval(v == c)))
            found.append(name)
            s.add(v != consts[name])
        s.pop()
        return sorted(found, key=domain.index)
