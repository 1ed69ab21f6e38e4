"""Property formulas compiled once into Python closures (the fast path of :mod:`expat.model.judge`).

The reference semantics is the interpreter of :mod:`expat.model.logic` (``holds``,
``guard_solutions``); this module computes the same, with the work that does not depend on the trace
done once per formula: which variables are bound at each step of a guard (so matching an argument is
either a store or a comparison, decided here), where each non-atom conjunct is checked (after the atom
that binds its last variable), and which index an atom reads (facts by name, or by name and first
argument when that is known). A test holds the two equal on every committed trace.
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional

from expat.model.logic import (And, Atom, Const, Env, Eq, Facts, Formula, Implies, Not, Or, Paren, Term, Time,
                               Truth, Unguarded, Var, conjuncts_of, free_vars, show, term_vars)

Test = Callable[[Facts, Env], bool]
Guard = Callable[[Facts, Env], Iterator[Env]]
Matcher = Callable[[object, Env], bool]


def _value_fn(t: Term) -> Callable[[Env], object]:
    if isinstance(t, Var):
        name = t.name
        return lambda e: e[name]
    if isinstance(t, Const):
        c = t.value
        return lambda e: c
    parts = [_value_fn(x) for x in t.items]
    return lambda e: tuple(p(e) for p in parts)


def _matcher(p: Term, bound: set[str]) -> Matcher:
    """Match a value against ``p``, storing the variables not yet bound (``bound`` is updated)."""
    if isinstance(p, Var):
        name = p.name
        if name in bound:
            return lambda v, e: e[name] == v
        bound.add(name)

        def store(v, e):
            e[name] = v
            return True
        return store
    if isinstance(p, Const):
        c = p.value
        return lambda v, e: v == c
    subs = [_matcher(x, bound) for x in p.items]
    n = len(subs)

    def tup(v, e):
        return isinstance(v, tuple) and len(v) == n and all(m(x, e) for m, x in zip(subs, v))
    return tup


def _atom_step(a: Atom, bound: set[str], nxt: Guard) -> Guard:
    first = a.args[0] if a.args else None
    key_fn: Optional[Callable[[Env], object]] = None
    if isinstance(first, Const):
        c = first.value
        key_fn = lambda e: c  # noqa: E731
    elif isinstance(first, Var) and first.name in bound:
        fn = first.name
        key_fn = lambda e: e[fn]  # noqa: E731
    at, at_bound = a.at, a.at in bound
    matchers = [_matcher(p, bound) for p in a.args]
    bound.add(at)
    name, n = a.fact, len(a.args)

    def step(facts: Facts, env: Env) -> Iterator[Env]:
        rows = facts.by_first.get((name, key_fn(env)), ()) if key_fn else facts.by_name.get(name, ())
        pinned = env[at] if at_bound else None
        for pos, args in rows:
            if len(args) != n or (at_bound and pos != pinned):
                continue
            e = dict(env)
            e[at] = pos
            for m, v in zip(matchers, args):
                if not m(v, e):
                    break
            else:
                yield from nxt(facts, e)
    return step


def _filter_step(test: Test, nxt: Guard) -> Guard:
    def step(facts: Facts, env: Env) -> Iterator[Env]:
        if test(facts, env):
            yield from nxt(facts, env)
    return step


def _bind_step(name: str, value: Callable[[Env], object], nxt: Guard) -> Guard:
    def step(facts: Facts, env: Env) -> Iterator[Env]:
        e = dict(env)
        e[name] = value(e)
        yield from nxt(facts, e)
    return step


def _done(facts: Facts, env: Env) -> Iterator[Env]:
    yield env


def predicate(f: Formula, bound: set[str]) -> Test:
    """``f`` as a predicate on (facts, env), ``bound`` the variables ``env`` binds."""
    if isinstance(f, Truth):
        v = f.value
        return lambda facts, e: v
    if isinstance(f, Paren):
        return predicate(f.body, bound)
    if isinstance(f, Time):
        a, b = f.left, f.right
        if f.op == "<":
            return lambda facts, e: e[a] < e[b]
        return lambda facts, e: e[a] == e[b]
    if isinstance(f, Eq):
        left, right = _value_fn(f.left), _value_fn(f.right)
        return lambda facts, e: left(e) == right(e)
    if isinstance(f, Not):
        body = predicate(f.body, bound)
        return lambda facts, e: not body(facts, e)
    if isinstance(f, And):
        items = [predicate(x, bound) for x in f.items]
        return lambda facts, e: all(t(facts, e) for t in items)
    if isinstance(f, Or):
        items = [predicate(x, bound) for x in f.items]
        return lambda facts, e: any(t(facts, e) for t in items)
    if isinstance(f, Implies):
        p, c = predicate(f.premise, bound), predicate(f.conclusion, bound)
        return lambda facts, e: not p(facts, e) or c(facts, e)
    if isinstance(f, Atom):
        g = guarded([f], set(bound))
        return lambda facts, e: next(g(facts, e), None) is not None
    inner = set(bound) - {v.lstrip("#") for v in f.variables}  # a quantifier shadows outer names
    if f.kind == "Ex":
        g = guarded(conjuncts_of(f.body), inner)
        return lambda facts, e: next(g(facts, e), None) is not None
    g = guarded(conjuncts_of(f.body.premise), inner)
    concl = predicate(f.body.conclusion, inner)
    return lambda facts, e: all(concl(facts, x) for x in g(facts, e))


def guarded(conjuncts: list[Formula], bound: set[str]) -> Guard:
    """The conjunction as a generator of the bindings that satisfy it, entered with the variables
    ``bound`` bound (``bound`` is updated to those bound on exit)."""
    plan_bound = set(bound)
    atoms = [c for c in conjuncts if isinstance(c, Atom)]
    rest = [c for c in conjuncts if not isinstance(c, Atom)]
    return _build(atoms, rest, plan_bound, bound)


def _build(atoms: list[Atom], rest: list[Formula], running: set[str], out: set[str]) -> Guard:
    """Steps in order: each non-atom conjunct as soon as its variables are bound (an equality with one
    unbound variable side binds it), each atom in the order written."""
    steps: list[Callable[[Guard], Guard]] = []
    waiting = [(c, set(free_vars(c))) for c in rest]

    def place() -> None:
        progress = True
        while progress:
            progress = False
            for item in list(waiting):
                c, names = item
                if names <= running:
                    t = predicate(c, set(running))
                    steps.append(lambda nxt, t=t: _filter_step(t, nxt))
                    waiting.remove(item)
                    progress = True
                elif isinstance(c, Eq):
                    for x, y in ((c.left, c.right), (c.right, c.left)):
                        if isinstance(x, Var) and x.name not in running and term_vars(y) <= running:
                            v = _value_fn(y)
                            steps.append(lambda nxt, n=x.name, v=v: _bind_step(n, v, nxt))
                            running.add(x.name)
                            waiting.remove(item)
                            progress = True
                            break

    place()
    for a in atoms:
        snapshot = set(running)
        steps.append(lambda nxt, a=a, s=snapshot: _atom_step(a, set(s), nxt))
        running |= free_vars(a)
        place()
    if waiting:
        raise Unguarded("conjuncts whose variables no atom binds: " + "; ".join(show(c) for c, _ in waiting))
    out |= running
    g: Guard = _done
    for make in reversed(steps):
        g = make(g)
    return g
