"""The data constraints of the bounded analysis, decided by z3.

Symbolic values are small tuples (the term algebra):

* keys, connections, contexts, labels: names (``"kA"``, ``"c1"``, ``"x3"``, ``"Attestation"``);
* ``("exp", label, conn, ctx)``: TLS-Exporter(label, ctx, 32) of a connection (draft §5.1; RFC 8446 §7.5);
* ``("bind", key, exp)``: the binding H(public_key || exported_value) (draft -02 §5.1), ``key`` None
  when the profile leaves the public key out;
* ``("aikhash", key)``: AIK_pub_hash = H(public key) (draft §5.2).

z3 sees the hashes and the exporter as uninterpreted functions, made injective by ground instances
of injectivity for every pair of applications in a question (the symbolic reading of a
collision-resistant hash, and of a PRF keyed by a per-connection secret), and the names of one sort as
pairwise distinct constants. :meth:`Algebra.equal` decides whether two terms are equal (every binding
and AIK_pub_hash comparison of the requester and the Verifier goes through it; it raises if z3 can
prove neither equality nor difference), and :meth:`Algebra.choices` enumerates, by all-SAT, the values
a free context variable may take under the freshness/uniqueness constraints of one step.
"""

from __future__ import annotations

from typing import Iterable, Optional

import z3

Term = object


class UndecidedError(RuntimeError):
    """z3 could neither prove two terms equal nor different (the encoding is incomplete)."""


class Algebra:
    """The term algebra in z3 (QF_UF): one small ground problem per question, answers cached."""

    def __init__(self) -> None:
        self.sorts = {name: z3.DeclareSort(name) for name in ("Key", "Conn", "Ctx", "Label", "Exported", "HashValue")}
        S = self.sorts
        self.no_key = z3.Const("no_public_key", S["Key"])  # bind(None, e): the public key left out
        self.exp = z3.Function("exporter", S["Label"], S["Conn"], S["Ctx"], S["Exported"])
        self.bind = z3.Function("binding", S["Key"], S["Exported"], S["HashValue"])
        self.aikhash = z3.Function("aik_pub_hash", S["Key"], S["HashValue"])
        self._cache: dict[tuple, bool] = {}
        self._choices: dict[tuple, list[str]] = {}
        self.queries = 0

    # -- terms -> z3 ---------------------------------------------------------------------------

    def _encode(self, t: Term, consts: dict, apps: list) -> z3.ExprRef:
        """z3 expression of ``t``; collects its named constants and its applications (for the axioms)."""
        def const(sort: str, name: str) -> z3.ExprRef:
            c = consts.get((sort, name))
            if c is None:
                c = consts[(sort, name)] = z3.Const(f"{sort}:{name}", self.sorts[sort])
            return c

        if isinstance(t, tuple) and t and t[0] == "exp":
            _, label, conn, ctx = t
            args = (const("Label", label), const("Conn", conn), const("Ctx", ctx))
            z = self.exp(*args)
        elif isinstance(t, tuple) and t and t[0] == "bind":
            _, key, e = t
            args = (self.no_key if key is None else const("Key", key), self._encode(e, consts, apps))
            z = self.bind(*args)
        elif isinstance(t, tuple) and t and t[0] == "aikhash":
            args = (const("Key", t[1]),)
            z = self.aikhash(*args)
        else:
            raise TypeError(f"not a term: {t!r}")
        apps.append((t[0], z, args))
        return z

    def _axioms(self, consts: dict, apps: list) -> list:
        """Ground instances: distinct names are distinct values (and never the empty key); every
        function is injective (a collision-resistant hash, a PRF output per secret/label/context); the
        binding and AIK_pub_hash uses of H never collide (they hash differently shaped inputs)."""
        out = []
        by_sort: dict[str, list] = {}
        for (sort, _), c in consts.items():
            by_sort.setdefault(sort, []).append(c)
        for sort, cs in by_sort.items():
            if len(cs) > 1:
                out.append(z3.Distinct(*cs))
            if sort == "Key":
                out += [c != self.no_key for c in cs]
        for i, (h1, z1, a1) in enumerate(apps):
            for h2, z2, a2 in apps[i + 1:]:
                if h1 == h2:
                    out.append(z3.Implies(z1 == z2, z3.And([x == y for x, y in zip(a1, a2)])))
                elif {h1, h2} == {"bind", "aikhash"}:
                    out.append(z1 != z2)
        return out

    # -- queries -------------------------------------------------------------------------------

    def equal(self, a: Optional[Term], b: Optional[Term]) -> bool:
        """True when a = b follows from the axioms, False when a != b is consistent with them and
        a = b is not; None is "absent" (equal only to None)."""
        if a is None or b is None:
            return a is None and b is None
        key = (a, b)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        consts: dict = {}
        apps: list = []
        za, zb = self._encode(a, consts, apps), self._encode(b, consts, apps)
        s = z3.SolverFor("QF_UF")
        s.add(self._axioms(consts, apps))
        self.queries += 1
        differ = s.check(za != zb)
        if differ == z3.unsat:
            result = True
        else:
            self.queries += 1
            if s.check(za == zb) != z3.unsat:
                raise UndecidedError(f"cannot decide {a!r} = {b!r}")
            result = False
        self._cache[key] = self._cache[(b, a)] = result
        return result

    def choices(self, known: list[str], fresh: str, avoid: Iterable[str]) -> list[str]:
        """Every value a free context variable can take: a context already in the run or a fresh one,
        different from ``avoid`` (RFC 9261 §4 uniqueness on the connection). Enumerated by all-SAT."""
        domain = list(dict.fromkeys(list(known) + [fresh]))
        avoid = sorted(set(avoid))
        key = (tuple(domain), tuple(avoid))
        hit = self._choices.get(key)
        if hit is not None:
            return list(hit)
        consts = {name: z3.Const(f"Ctx:{name}", self.sorts["Ctx"]) for name in dict.fromkeys(domain + avoid)}
        v = z3.Const("ctx_choice", self.sorts["Ctx"])
        s = z3.SolverFor("QF_UF")
        if len(consts) > 1:
            s.add(z3.Distinct(*consts.values()))
        s.add(z3.Or([v == consts[n] for n in domain]))
        s.add([v != consts[n] for n in avoid])
        found: list[str] = []
        while True:
            self.queries += 1
            if s.check() != z3.sat:
                break
            m = s.model()
            name = next(n for n in domain if z3.is_true(m.eval(v == consts[n])))
            found.append(name)
            s.add(v != consts[name])
        found.sort(key=domain.index)
        self._choices[key] = found
        return list(found)
