"""The property formulas as a logic: parser, printer and evaluator over traces (issues 12, 13, 16).

The formulas of :mod:`expat.model.formulas` are written once, in the syntax of Tamarin's guarded
formulas; Tamarin proves them (:mod:`expat.tamarin.lemmas` prints them as lemmas) and this module
evaluates the very same text on a trace, read as action facts (:mod:`expat.model.termview`).

The subset (Tamarin manual, "Security properties" / guarded formulas)::

    formula := All vars. formula | Ex vars. formula | formula ==> formula
             | formula | formula | formula & formula | not formula | ( formula )
             | Fact(term, ...) @ i | #i < #j | #i = #j | term = term | F | T
    term    := variable | 'constant' | <term, term, ...>
    vars    := names, temporal ones written #i

Binding strength, loosest first: quantifiers (their body runs as far right as possible), ``==>``
(right-associative), ``|``, ``&``, ``not``. The printer keeps the source's parentheses, so
``show(parse(text))`` gives the text back up to white space.

Evaluation is over a finite trace: a temporal variable ranges over positions, a term variable over
the terms of the facts. Quantification must be guarded, as Tamarin requires: ``All xs. A ==> B``
enumerates the ways the atoms of ``A`` match facts (they bind the variables), checks ``A``'s other
conjuncts as soon as their variables are bound, and evaluates ``B`` for each; ``Ex xs. A`` looks for
one such match. Facts are indexed by name, so a formula costs what its atoms match, not the trace
length to the power of its variables. A formula that is not guarded is refused (:class:`Unguarded`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

# --- syntax ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Const:
    value: str  # the text between the quotes


@dataclass(frozen=True)
class Tup:
    items: tuple["Term", ...]


Term = Union[Var, Const, Tup]


@dataclass(frozen=True)
class Atom:
    fact: str
    args: tuple[Term, ...]
    at: str  # temporal variable


@dataclass(frozen=True)
class Time:
    """``#left < #right`` or ``#left = #right``."""
    op: str  # "<" or "="
    left: str
    right: str


@dataclass(frozen=True)
class Eq:
    left: Term
    right: Term


@dataclass(frozen=True)
class Not:
    body: "Formula"


@dataclass(frozen=True)
class And:
    items: tuple["Formula", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Formula", ...]


@dataclass(frozen=True)
class Implies:
    premise: "Formula"
    conclusion: "Formula"


@dataclass(frozen=True)
class Quant:
    kind: str  # "All" or "Ex"
    variables: tuple[str, ...]  # temporal ones keep their '#'
    body: "Formula"


@dataclass(frozen=True)
class Paren:
    body: "Formula"


@dataclass(frozen=True)
class Truth:
    value: bool


Formula = Union[Atom, Time, Eq, Not, And, Or, Implies, Quant, Paren, Truth]


class SyntaxErr(ValueError):
    """The text is not a formula of the subset."""


class Unguarded(ValueError):
    """A quantified variable is not bound by an atom of its guard."""


_TOKEN = re.compile(r"\s*(==>|'[^']*'|#?[A-Za-z_][A-Za-z0-9_]*|[()<>,.@&|=])")


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise SyntaxErr(f"unexpected {text[pos:pos + 20]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, k: int = 0) -> Optional[str]:
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def take(self, want: Optional[str] = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise SyntaxErr(f"expected {want or 'a token'}, found {tok!r} at token {self.i}")
        self.i += 1
        return tok

    def formula(self) -> Formula:
        if self.peek() in ("All", "Ex"):
            kind = self.take()
            names = []
            while self.peek() != ".":
                tok = self.take()
                if not re.fullmatch(r"#?[A-Za-z_][A-Za-z0-9_]*", tok):
                    raise SyntaxErr(f"bad variable {tok!r}")
                names.append(tok)
            self.take(".")
            return Quant(kind, tuple(names), self.formula())
        left = self.disjunction()
        if self.peek() == "==>":
            self.take()
            return Implies(left, self.formula())
        return left

    def disjunction(self) -> Formula:
        return self._joined("|", self.conjunction, Or)

    def conjunction(self) -> Formula:
        return self._joined("&", self.negation, And)

    def _joined(self, sep: str, item, node) -> Formula:
        """``item (sep item)*``: one item alone, or the ``node`` of all of them."""
        items = [item()]
        while self.peek() == sep:
            self.take()
            items.append(item())
        return items[0] if len(items) == 1 else node(tuple(items))

    def negation(self) -> Formula:
        if self.peek() == "not":
            self.take()
            return Not(self.negation())
        return self.primary()

    def primary(self) -> Formula:
        tok = self.peek()
        if tok in ("All", "Ex"):  # a quantifier inside a conjunction runs to the end of its scope
            return self.formula()
        if tok == "(":
            self.take()
            body = self.formula()
            self.take(")")
            return Paren(body)
        if tok in ("F", "T") and self.peek(1) != "(":
            self.take()
            return Truth(tok == "T")
        if tok is not None and tok.startswith("#"):
            left = self.take()[1:]
            op = self.take()
            right = self.take()
            if not right.startswith("#") or op not in ("<", "="):
                raise SyntaxErr(f"bad temporal comparison at {left}")
            return Time(op, left, right[1:])
        if tok is not None and tok[0].isupper() and self.peek(1) == "(":
            name = self.take()
            args = self.arguments()
            self.take("@")
            at = self.take()
            return Atom(name, args, at.lstrip("#"))
        left_term = self.term()
        self.take("=")
        return Eq(left_term, self.term())

    def arguments(self) -> tuple[Term, ...]:
        self.take("(")
        args = [self.term()]
        while self.peek() == ",":
            self.take()
            args.append(self.term())
        self.take(")")
        return tuple(args)

    def term(self) -> Term:
        tok = self.take()
        if tok == "<":
            items = [self.term()]
            while self.peek() == ",":
                self.take()
                items.append(self.term())
            self.take(">")
            return Tup(tuple(items))
        if tok.startswith("'"):
            return Const(tok[1:-1])
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tok):
            return Var(tok)
        raise SyntaxErr(f"bad term {tok!r}")


def parse(text: str) -> Formula:
    p = _Parser(text)
    f = p.formula()
    if p.peek() is not None:
        raise SyntaxErr(f"trailing {p.peek()!r} at token {p.i}")
    return f


def show_term(t: Term) -> str:
    if isinstance(t, Var):
        return t.name
    if isinstance(t, Const):
        return f"'{t.value}'"
    return "<" + ", ".join(show_term(x) for x in t.items) + ">"


def show(f: Formula) -> str:
    """The formula as text (the parentheses of the source, single spaces)."""
    if isinstance(f, Atom):
        return f"{f.fact}(" + ", ".join(show_term(a) for a in f.args) + f") @ {f.at}"
    if isinstance(f, Time):
        return f"#{f.left} {f.op} #{f.right}"
    if isinstance(f, Eq):
        return f"{show_term(f.left)} = {show_term(f.right)}"
    if isinstance(f, Not):
        return f"not {show(f.body)}"
    if isinstance(f, And):
        return " & ".join(show(x) for x in f.items)
    if isinstance(f, Or):
        return " | ".join(show(x) for x in f.items)
    if isinstance(f, Implies):
        return f"{show(f.premise)} ==> {show(f.conclusion)}"
    if isinstance(f, Quant):
        return f"{f.kind} {' '.join(f.variables)}. {show(f.body)}"
    if isinstance(f, Paren):
        return f"({show(f.body)})"
    return "T" if f.value else "F"


def strip(f: Formula) -> Formula:
    """``f`` without redundant structure: parentheses dropped, nested & and | flattened (the meaning)."""
    if isinstance(f, Paren):
        return strip(f.body)
    if isinstance(f, (And, Or)):
        flat: list[Formula] = []
        for x in f.items:
            x = strip(x)
            flat += list(x.items) if type(x) is type(f) else [x]
        return type(f)(tuple(flat))
    if isinstance(f, Not):
        return Not(strip(f.body))
    if isinstance(f, Implies):
        return Implies(strip(f.premise), strip(f.conclusion))
    if isinstance(f, Quant):
        return Quant(f.kind, f.variables, strip(f.body))
    return f


def term_vars(t: Term) -> set[str]:
    if isinstance(t, Var):
        return {t.name}
    if isinstance(t, Tup):
        return set().union(*(term_vars(x) for x in t.items))
    return set()


def free_vars(f: Formula) -> frozenset[str]:
    """Free variables (temporal ones without '#': variable names are unique across sorts here)."""
    if isinstance(f, Atom):
        return frozenset(set().union(*(term_vars(a) for a in f.args)) | {f.at})
    if isinstance(f, Time):
        return frozenset({f.left, f.right})
    if isinstance(f, Eq):
        return frozenset(term_vars(f.left) | term_vars(f.right))
    if isinstance(f, (Not, Paren)):
        return free_vars(f.body)
    if isinstance(f, (And, Or)):
        return frozenset().union(*(free_vars(x) for x in f.items))
    if isinstance(f, Implies):
        return free_vars(f.premise) | free_vars(f.conclusion)
    if isinstance(f, Quant):
        return free_vars(f.body) - {v.lstrip("#") for v in f.variables}
    return frozenset()


# --- evaluation --------------------------------------------------------------------------------

Value = Any  # a str (name, constant or value of the trace), a tuple of values, or an opaque unknown
Env = dict[str, Value]


class Facts:
    """The action facts of one trace, indexed by name (``name -> [(position, args), ...]`` in order) and
    by name and first argument (an atom whose first argument is known scans only those)."""

    def __init__(self, facts: Mapping[str, Sequence[tuple[int, tuple[Value, ...]]]]):
        self.by_name = {k: list(v) for k, v in facts.items()}
        self.by_first: dict[tuple[str, Value], list[tuple[int, tuple[Value, ...]]]] = {}
        for name, rows in self.by_name.items():
            for pos, args in rows:
                if args:
                    self.by_first.setdefault((name, args[0]), []).append((pos, args))

    def of(self, name: str) -> list[tuple[int, tuple[Value, ...]]]:
        return self.by_name.get(name, [])


def _match(pattern: Term, value: Value, env: Env) -> Optional[Env]:
    """Extend ``env`` so that ``pattern`` equals ``value``, or None. Does not change ``env``."""
    if isinstance(pattern, Var):
        if pattern.name in env:
            return env if env[pattern.name] == value else None
        out = dict(env)
        out[pattern.name] = value
        return out
    if isinstance(pattern, Const):
        return env if value == pattern.value else None
    if not isinstance(value, tuple) or len(value) != len(pattern.items):
        return None
    for p, v in zip(pattern.items, value):
        got = _match(p, v, env)
        if got is None:
            return None
        env = got
    return env


def _value(t: Term, env: Env) -> Value:
    if isinstance(t, Var):
        return env[t.name]
    if isinstance(t, Const):
        return t.value
    return tuple(_value(x, env) for x in t.items)


def conjuncts_of(f: Formula) -> list[Formula]:
    if isinstance(f, Paren):
        return conjuncts_of(f.body)
    if isinstance(f, And):
        return [c for x in f.items for c in conjuncts_of(x)]
    return [f]


@dataclass(frozen=True)
class Compiled:
    """A formula prepared once for evaluation on many traces (:func:`compile_formula`)."""
    formula: Formula
    text: str


def compile_formula(text: str) -> Compiled:
    f = strip(parse(text))
    _check_guarded(f)
    return Compiled(f, text)


def _check_guarded(f: Formula, bound: frozenset[str] = frozenset()) -> None:
    """Every quantified variable occurs in an atom of the quantifier's guard (its top conjunction, or
    for All the premise of its implication); refuses the formula otherwise."""
    if isinstance(f, Quant):
        names = {v.lstrip("#") for v in f.variables}
        guard = f.body.premise if f.kind == "All" and isinstance(f.body, Implies) else f.body
        if f.kind == "All" and not isinstance(f.body, Implies):
            raise Unguarded(f"All {' '.join(f.variables)}: the body is not an implication")
        atoms = [c for c in conjuncts_of(guard) if isinstance(c, Atom)]
        covered = set().union(*(free_vars(a) for a in atoms)) if atoms else set()
        if names - covered:
            raise Unguarded(f"{f.kind}: {sorted(names - covered)} not bound by an atom of the guard")
        inner = bound | names
        if isinstance(f.body, Implies):
            for c in conjuncts_of(f.body.premise):
                _check_guarded(c, inner)
            _check_guarded(f.body.conclusion, inner)
        else:
            for c in conjuncts_of(f.body):
                _check_guarded(c, inner)
    elif isinstance(f, (Not, Paren)):
        _check_guarded(f.body, bound)
    elif isinstance(f, (And, Or)):
        for x in f.items:
            _check_guarded(x, bound)
    elif isinstance(f, Implies):
        _check_guarded(f.premise, bound)
        _check_guarded(f.conclusion, bound)


@dataclass(frozen=True)
class _Plan:
    """A conjunction prepared once: its atoms in order, and its other conjuncts with their variables."""
    atoms: tuple[Atom, ...]
    rest: tuple[tuple[Formula, frozenset[str]], ...]


def _make_plan(conjuncts: Sequence[Formula]) -> _Plan:
    return _Plan(tuple(c for c in conjuncts if isinstance(c, Atom)),
                 tuple((c, free_vars(c)) for c in conjuncts if not isinstance(c, Atom)))


_PLANS: dict[int, tuple[Formula, _Plan]] = {}


def _plan(q: Quant) -> _Plan:
    """The guard of ``q`` (its body for Ex, its premise for All), planned once per formula node."""
    hit = _PLANS.get(id(q))
    if hit is None or hit[0] is not q:
        guard = q.body.premise if q.kind == "All" else q.body
        hit = (q, _make_plan(conjuncts_of(guard)))
        _PLANS[id(q)] = hit
    return hit[1]


def solutions(conjuncts: Sequence[Formula], facts: Facts, env: Env) -> Iterator[Env]:
    """Every extension of ``env`` under which all ``conjuncts`` hold: atoms bind, in the order given,
    by matching the facts of their name; any other conjunct is checked as soon as its variables are
    bound (an equality with one unbound side binds it)."""
    plan = _make_plan(conjuncts)
    yield from _solve(plan.atoms, plan.rest, facts, env)


def _ready(rest: Sequence[tuple[Formula, frozenset[str]]], facts: Facts,
           env: Env) -> tuple[Optional[Env], list[tuple[Formula, frozenset[str]]]]:
    """Check the non-atom conjuncts whose variables are bound; None when one fails."""
    waiting = []
    for c, names in rest:
        if not names <= env.keys():
            if isinstance(c, Eq):
                for x, y in ((c.left, c.right), (c.right, c.left)):
                    if isinstance(x, Var) and x.name not in env and term_vars(y) <= env.keys():
                        env = {**env, x.name: _value(y, env)}
                        break
            if not names <= env.keys():
                waiting.append((c, names))
                continue
        if not holds(c, facts, env):
            return None, []
    return env, waiting


def _solve(atoms: Sequence[Atom], rest: Sequence[tuple[Formula, frozenset[str]]], facts: Facts,
           env: Env) -> Iterator[Env]:
    if rest:
        got, waiting = _ready(rest, facts, env)
        if got is None:
            return
        env = got
    else:
        waiting = []
    if not atoms:
        if waiting:
            raise Unguarded("conjuncts whose variables no atom binds: " + "; ".join(show(c) for c, _ in waiting))
        yield env
        return
    atom, later = atoms[0], atoms[1:]
    pinned = env.get(atom.at)
    first = atom.args[0] if atom.args else None
    if isinstance(first, Const):
        rows = facts.by_first.get((atom.fact, first.value), ())
    elif isinstance(first, Var) and first.name in env:
        rows = facts.by_first.get((atom.fact, env[first.name]), ())
    else:
        rows = facts.of(atom.fact)
    n = len(atom.args)
    for pos, args in rows:
        if (pinned is not None and pos != pinned) or len(args) != n:
            continue
        e: Optional[Env] = env if pinned is not None else {**env, atom.at: pos}
        for p, v in zip(atom.args, args):
            e = _match(p, v, e)
            if e is None:
                break
        if e is not None:
            yield from _solve(later, waiting, facts, e)


def holds(f: Formula, facts: Facts, env: Env) -> bool:
    """Truth of ``f`` (stripped, guarded) on ``facts`` with its free variables bound by ``env``."""
    if isinstance(f, Truth):
        return f.value
    if isinstance(f, Atom):
        return any(True for _ in _solve((f,), (), facts, env))
    if isinstance(f, Time):
        return env[f.left] < env[f.right] if f.op == "<" else env[f.left] == env[f.right]
    if isinstance(f, Eq):
        return _value(f.left, env) == _value(f.right, env)
    if isinstance(f, Not):
        return not holds(f.body, facts, env)
    if isinstance(f, Paren):
        return holds(f.body, facts, env)
    if isinstance(f, And):
        return all(holds(x, facts, env) for x in f.items)
    if isinstance(f, Or):
        return any(holds(x, facts, env) for x in f.items)
    if isinstance(f, Implies):
        return not holds(f.premise, facts, env) or holds(f.conclusion, facts, env)
    names = {v.lstrip("#") for v in f.variables}
    if names & env.keys():  # a quantifier shadows outer names
        env = {k: v for k, v in env.items() if k not in names}
    if f.kind == "Ex":
        plan = _plan(f)
        return any(True for _ in _solve(plan.atoms, plan.rest, facts, env))
    return not any(True for _ in counterexamples(f, facts, env))


def guard_solutions(f: Quant, facts: Facts, env: Optional[Env] = None) -> Iterator[Env]:
    """For ``All xs. A ==> B``: every binding of the guard ``A`` (the cases ``B`` must cover)."""
    plan = _plan(f)
    return _solve(plan.atoms, plan.rest, facts, dict(env or {}))


def counterexamples(f: Formula, facts: Facts, env: Optional[Env] = None) -> Iterator[Env]:
    """For ``All xs. A ==> B``: every binding of the guard ``A`` under which ``B`` fails."""
    assert isinstance(f, Quant) and f.kind == "All" and isinstance(f.body, Implies), show(f)
    plan = _plan(f)
    for e in _solve(plan.atoms, plan.rest, facts, dict(env or {})):
        if not holds(f.body.conclusion, facts, e):
            yield e


def evaluate(f: Formula, facts: Facts, env: Optional[Env] = None) -> bool:
    return holds(f, facts, dict(env or {}))
