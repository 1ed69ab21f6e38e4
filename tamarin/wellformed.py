"""The checks tamarin-prover runs on a theory before it proves anything, re-implemented for our subset.

Read from tamarin-prover's sources (GPL; read, not copied -- see docs/tamarin.md):

* ``lib/theory/src/Theory/Text/Parser.hs`` -- the ``#ifdef`` flag formula grammar (an atom, ``not``
  before an atom only, ``&`` binding tighter than ``|``, no parentheses) and how a false block is
  skipped (raw text up to the next ``#`` followed by ``else``/``endif``, comments included);
* ``Parser/Token.hs``, ``Parser/Term.hs``, ``Parser/Fact.hs``, ``Parser/Formula.hs`` -- identifiers,
  public constants, special facts (``Fr``/``In``/``Out``/``KU``/``KD`` matched case-insensitively, arity
  one, ``Fr`` never persistent), the formula grammar and its precedence;
* ``Tools/Wellformedness.hs`` -- the reports: unbound variables, fresh names in rules, public names
  with mismatching capitalisation, clashing sorts or casings of a rule's variables, reserved and
  special fact usage, fact usage (same name modulo case with another arity or multiplicity, lemmas
  included), lemma/restriction actions no rule has, quantifier sorts, formula terms (bound variables,
  public names and irreducible function symbols only) and guardedness;
* ``Constraint/System/Guarded.hs`` -- ``formulaToGuarded``: which formulas are guarded;
* ``Model/Rule.hs`` -- reserved rule names.

Each function returns human-readable problems (empty = what Tamarin would accept on that point).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Union

from expat.tamarin.spthy import Fact, Theory

# --- signature --------------------------------------------------------------------------------------

# name -> (arity, reducible) per builtin (Tamarin manual "Cryptographic messages"; Parser/Signature.hs)
BUILTIN_FUNCTIONS: dict[str, dict[str, tuple[int, bool]]] = {
    "hashing": {"h": (1, False)},
    "signing": {"sign": (2, False), "verify": (3, True), "pk": (1, False), "true": (0, False)},
    "revealing-signing": {"revealSign": (2, False), "revealVerify": (3, True), "getMessage": (1, True),
                          "pk": (1, False), "true": (0, False)},
    "symmetric-encryption": {"senc": (2, False), "sdec": (2, True)},
    "asymmetric-encryption": {"aenc": (2, False), "adec": (2, True), "pk": (1, False)},
}
PAIRING = {"pair": (2, False), "fst": (1, True), "snd": (1, True)}  # always present
RESERVED_RULE_NAMES = {"Fresh", "irecv", "isend", "coerce", "fresh", "pub", "iequality"}  # Model/Rule.hs
RESERVED_WORDS = {"in", "let", "rule", "diff"}  # Token.hs reservedNames: never identifiers
SPECIAL_FACTS = {"OUT": "Out", "IN": "In", "KU": "KU", "KD": "KD", "DED": "Ded", "FR": "Fr"}  # Fact.hs
MANUAL_RESERVED = {"K"}  # the manual reserves K too (the adversary-knowledge action of lemmas)
IDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*\Z")  # identStart alphaNum, identLetter alphaNum or _


def signature(theory: Theory) -> tuple[dict[str, tuple[int, bool]], list[str]]:
    """function name -> (arity, reducible), and problems with the declarations."""
    sig = dict(PAIRING)
    problems = []
    for b in theory.builtins:
        if b not in BUILTIN_FUNCTIONS and b not in ("multiset", "xor", "diffie-hellman", "bilinear-pairing",
                                                     "natural-numbers", "reliable-channel"):
            problems.append(f"unknown builtin {b!r}")
        sig.update(BUILTIN_FUNCTIONS.get(b, {}))
    for f in theory.functions:
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9_]*)\s*/\s*(\d+)(\s*\[\s*private\s*\])?", f.strip())
        if not m:
            problems.append(f"bad function declaration {f!r}")
            continue
        name, arity = m.group(1), int(m.group(2))
        if name in sig and sig[name][0] != arity:
            problems.append(f"function {name}/{arity} clashes with {name}/{sig[name][0]} of a builtin")
        sig[name] = (arity, sig.get(name, (arity, False))[1])
    return sig, problems


# --- terms ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class V:
    name: str
    sort: str  # msg | fresh | pub | node


@dataclass(frozen=True)
class C:
    name: str
    fresh: bool = False  # ~'n' (a fresh name)


@dataclass(frozen=True)
class A:
    fn: str  # "pair" for tuples
    args: tuple["T", ...]


T = Union[V, C, A]
_PREFIX = {"msg": "", "fresh": "~", "pub": "$", "node": "#"}

_TOK = re.compile(r"\s*(?:('[^']*')|(==>|<=>|[()<>,.=@&|!~$#^*+\[\]])|([A-Za-z0-9_]+)|(\S))")


class ParseError(ValueError):
    pass


def tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOK.match(text, pos)
        if not m or m.end() == pos:
            break
        tok = next(g for g in m.groups() if g is not None)
        out.append(tok)
        pos = m.end()
    return out


class _P:
    """Recursive descent over tokens, in the order of Tamarin's Parser/Formula.hs alternatives."""

    def __init__(self, text: str, sig: dict[str, tuple[int, bool]]):
        self.t = tokens(text)
        self.i = 0
        self.sig = sig

    def peek(self, k: int = 0) -> Optional[str]:
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def take(self, want: Optional[str] = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise ParseError(f"expected {want or 'a token'} at {' '.join(self.t[self.i:self.i + 6])!r}")
        self.i += 1
        return tok

    def ident(self) -> str:
        tok = self.take()
        if not IDENT.match(tok) or tok in RESERVED_WORDS:
            raise ParseError(f"not an identifier: {tok!r}")
        return tok

    # terms (Parser/Term.hs: tuples, constants, applications, sorted variables)
    def term(self) -> T:
        tok = self.peek()
        if tok == "<":
            self.take()
            items = [self.term()]
            while self.peek() == ",":
                self.take()
                items.append(self.term())
            self.take(">")
            return self.tuple(items)
        if tok == "(":
            self.take()
            t = self.term()
            self.take(")")
            return t
        if tok is not None and tok.startswith("'"):
            self.take()
            name = tok[1:-1]
            if not IDENT.match(name) or name in RESERVED_WORDS:
                raise ParseError(f"public name {tok} is not an identifier")
            return C(name)
        if tok == "~" and (self.peek(1) or "").startswith("'"):
            self.take()
            return C(self.take()[1:-1], fresh=True)
        if tok in ("~", "$"):
            self.take()
            return V(self.ident(), "fresh" if tok == "~" else "pub")
        name = self.ident()
        if self.peek() == "(":
            self.take()
            args = []
            if self.peek() != ")":
                args.append(self.term())
                while self.peek() == ",":
                    self.take()
                    args.append(self.term())
            self.take(")")
            if name not in self.sig:
                raise ParseError(f"unknown operator {name}")
            if self.sig[name][0] == 1 and len(args) > 1:  # Term.hs: a unary operator takes a tuple
                args = [self.tuple(args)]
            if self.sig[name][0] != len(args):
                raise ParseError(f"function {name} has arity {self.sig[name][0]}, used with {len(args)}")
            return A(name, tuple(args))
        if self.sig.get(name, (None,))[0] == 0:
            return A(name, ())
        # Term.hs tries the constants `1`, `DH_neutral` and every nullary operator with a plain
        # `symbol` (no word boundary) before variables: `trueish` would be read as `true` + `ish`.
        for const in sorted(["1", "DH_neutral"] + [f for f, (k, _) in self.sig.items() if k == 0]):
            if name.startswith(const):
                raise ParseError(f"variable {name} starts with {const!r}: Tamarin reads {const!r} first")
        return V(name, "msg")

    @staticmethod
    def tuple(items: list[T]) -> T:
        out = items[-1]
        for x in reversed(items[:-1]):
            out = A("pair", (x, out))
        return out

    def node(self) -> V:
        if self.peek() == "#":
            self.take()
        return V(self.ident(), "node")

    def at_end(self) -> bool:
        return self.i >= len(self.t)


def parse_term(text: str, sig: dict[str, tuple[int, bool]]) -> T:
    return _parse_whole("term", text, tuple(sorted(sig.items())))


@functools.lru_cache(maxsize=16384)
def _parse_cached(kind: str, text: str, sig_items: tuple) -> Union[T, F, ParseError]:
    """Parse a whole term or formula once (the same texts recur under every flag set); a
    ParseError is cached as a value and re-raised by :func:`_parse_whole`."""
    p = _P(text, dict(sig_items)) if kind == "term" else _FP(text, dict(sig_items))
    try:
        out = p.term() if kind == "term" else p.iff()
        if not p.at_end():
            raise ParseError(f"trailing text in term {text!r}" if kind == "term"
                             else f"trailing text at {' '.join(p.t[p.i:p.i + 6])!r}")
    except ParseError as e:
        return e
    return out


def _parse_whole(kind: str, text: str, sig_items: tuple) -> Any:
    out = _parse_cached(kind, text, sig_items)
    if isinstance(out, ParseError):
        raise ParseError(str(out))
    return out


def term_vars(t: T) -> list[V]:
    if isinstance(t, V):
        return [t]
    if isinstance(t, A):
        return [v for a in t.args for v in term_vars(a)]
    return []


def subterms(t: T) -> Iterable[T]:
    yield t
    if isinstance(t, A):
        for a in t.args:
            yield from subterms(a)


# --- formulas ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Atom:
    kind: str  # action | eq | less | last
    terms: tuple[T, ...]
    fact: Optional[str] = None  # action: fact name
    persistent: bool = False

    def frees(self) -> set[V]:
        return {v for t in self.terms for v in term_vars(t)}


@dataclass(frozen=True)
class F:
    op: str  # atom | tf | not | and | or | imp | iff | All | Ex
    args: tuple = ()


class _FP(_P):
    def iff(self) -> F:
        lhs = self.imp()
        if self.peek() == "<=>":
            self.take()
            return F("iff", (lhs, self.imp()))
        return lhs

    def imp(self) -> F:
        lhs = self.disj()
        if self.peek() == "==>":
            self.take()
            return F("imp", (lhs, self.imp()))
        return lhs

    def disj(self) -> F:
        f = self.conj()
        while self.peek() == "|":
            self.take()
            f = F("or", (f, self.conj()))
        return f

    def conj(self) -> F:
        f = self.neg()
        while self.peek() == "&":
            self.take()
            f = F("and", (f, self.neg()))
        return f

    def neg(self) -> F:
        if self.peek() == "not":
            self.take()
            return F("not", (self.fatom(),))
        tok = self.peek() or ""
        if tok.startswith("not") and IDENT.match(tok):  # opLNot is a plain `symbol "not"`
            raise ParseError(f"{tok!r} at the start of an atom is read as 'not {tok[3:]}'")
        return self.fatom()

    def fatom(self) -> F:
        tok = self.peek()
        if tok in ("F", "T") and self.peek(1) != "(":
            self.take()
            return F("tf", (tok == "T",))
        if tok in ("All", "Ex"):
            self.take()
            vs = []
            while self.peek() != ".":
                if self.peek() == "#":
                    vs.append(self.node())
                elif self.peek() in ("~", "$"):
                    s = self.take()
                    vs.append(V(self.ident(), "fresh" if s == "~" else "pub"))
                else:
                    vs.append(V(self.ident(), "msg"))
            if not vs:
                raise ParseError(f"{tok} without variables")
            self.take(".")
            body = self.iff()
            for v in reversed(vs):
                body = F(tok, (v, body))
            return body
        save = self.i
        try:
            return F("atom", (self.atom(),))
        except ParseError:
            self.i = save
        if tok == "(":
            self.take()
            f = self.iff()
            self.take(")")
            return f
        return F("atom", (self.atom(),))  # re-raise the atom's error

    def atom(self) -> Atom:
        save = self.i
        if self.peek() == "last" and self.peek(1) == "(":
            self.take(), self.take()
            n = self.node()
            self.take(")")
            return Atom("last", (n,))
        persistent = False
        if self.peek() == "!":
            self.take()
            persistent = True
        tok = self.peek()
        if tok and tok[:1].isupper() and self.peek(1) == "(" and IDENT.match(tok):
            self.take(), self.take()
            args = []
            if self.peek() != ")":
                args.append(self.term())
                while self.peek() == ",":
                    self.take()
                    args.append(self.term())
            self.take(")")
            if self.peek() != "@":
                raise ParseError(f"predicate {tok}(...) is not declared (an action atom needs @)")
            self.take("@")
            return Atom("action", tuple(args) + (self.node(),), fact=tok, persistent=persistent)
        self.i = save
        try:  # node < node
            a = self.node()
            self.take("<")
            return Atom("less", (a, self.node()))
        except ParseError:
            self.i = save
        try:  # term = term
            a = self.term()
            self.take("=")
            return Atom("eq", (a, self.term()))
        except ParseError:
            self.i = save
        a = self.node()  # node = node
        self.take("=")
        return Atom("eq", (a, self.node()))


def parse_formula(text: str, sig: dict[str, tuple[int, bool]]) -> F:
    return _parse_whole("formula", text, tuple(sorted(sig.items())))


def formula_atoms(f: F) -> Iterable[Atom]:
    if f.op == "atom":
        yield f.args[0]
    elif f.op in ("All", "Ex"):
        yield from formula_atoms(f.args[1])
    elif f.op != "tf":
        for g in f.args:
            yield from formula_atoms(g)


def _conj_guards(f: F) -> tuple[list[Atom], list[F]]:
    """conjActionsEqs (Guarded.hs): action and equality atoms of a top-level conjunction are guards."""
    if f.op == "and":
        a1, r1 = _conj_guards(f.args[0])
        a2, r2 = _conj_guards(f.args[1])
        return a1 + a2, r1 + r2
    if f.op == "atom" and f.args[0].kind in ("action", "eq"):
        return [f.args[0]], []
    return [], [f]


def _unguarded(xs: list[V], guards: list[Atom]) -> list[V]:
    """remainingUnguarded (Guarded.hs): actions first, then equalities with one side covered."""
    ug = list(xs)
    for g in [g for g in guards if g.kind == "action"] + [g for g in guards if g.kind == "eq"]:
        if g.kind == "action":
            fv = g.frees()
            ug = [v for v in ug if v not in fv]
        else:
            s, t = g.terms
            fs, ft = set(term_vars(s)), set(term_vars(t))
            if not fs & set(ug):
                ug = [v for v in ug if v not in ft]
            elif not ft & set(ug):
                ug = [v for v in ug if v not in fs]
    return ug


def guardedness(f: F, polarity: bool = False) -> list[str]:
    """Why ``formulaToGuarded`` would refuse ``f`` (empty: it is guarded)."""
    if f.op in ("atom", "tf"):
        return []
    if f.op == "not":
        return guardedness(f.args[0], not polarity)
    if f.op in ("and", "or"):
        return guardedness(f.args[0], polarity) + guardedness(f.args[1], polarity)
    if f.op == "imp":
        return guardedness(f.args[0], not polarity) + guardedness(f.args[1], polarity)
    if f.op == "iff":
        a, b = f.args
        return guardedness(F("imp", (a, b)), polarity) + guardedness(F("imp", (b, a)), polarity)
    q, xs, body = f.op, [], f
    while body.op == q:  # openFormulaPrefix: a prefix of quantifiers of the same kind
        xs.append(body.args[0])
        body = body.args[1]
    names = ", ".join(("#" if v.sort == "node" else "") + v.name for v in xs)
    if q == "Ex":
        guards, rest = _conj_guards(body)
        out = []
        ug = _unguarded(xs, guards)
        if ug:
            out.append(f"unguarded variable(s) {', '.join(v.name for v in ug)} in Ex {names}")
        for g in rest:
            out += guardedness(g, polarity)
        return out
    if body.op != "imp":
        return [f"universal quantifier without toplevel implication (All {names})"]
    guards, rest = _conj_guards(body.args[0])
    out = []
    ug = _unguarded(xs, guards)
    if ug:
        out.append(f"unguarded variable(s) {', '.join(v.name for v in ug)} in All {names}")
    for g in rest:
        out += guardedness(g, not polarity)
    return out + guardedness(body.args[1], polarity)


def formula_terms(f: F, sig: dict[str, tuple[int, bool]]) -> list[str]:
    """checkTerms and checkQuantifiers (Wellformedness.hs): only bound message/node variables, public
    names and irreducible function symbols; quantifiers over message and node variables only."""
    out: list[str] = []

    def term_ok(t: T, scope: list[V]) -> Optional[str]:
        if isinstance(t, V):
            return None if t in scope else f"free variable {_PREFIX[t.sort]}{t.name}"
        if isinstance(t, C):
            return f"fresh name ~'{t.name}'" if t.fresh else None
        if sig.get(t.fn, (0, False))[1]:
            return f"reducible function symbol {t.fn}"
        for a in t.args:
            why = term_ok(a, scope)
            if why:
                return why
        return None

    def walk(g: F, scope: list[V]) -> None:
        if g.op == "atom":
            for t in g.args[0].terms:
                why = term_ok(t, scope)
                if why and why not in out:
                    out.append(why)
        elif g.op in ("All", "Ex"):
            v = g.args[0]
            if v.sort not in ("msg", "node"):
                out.append(f"quantifier over {v.sort} variable {v.name}")
            walk(g.args[1], scope + [v])
        elif g.op != "tf":
            for x in g.args:
                walk(x, scope)
    walk(f, [])
    return out


# --- theory-level reports ---------------------------------------------------------------------------

def _fact_info(name: str, arity: int, persistent: bool) -> tuple[str, int, bool]:
    return (SPECIAL_FACTS.get(name.upper(), name), arity, persistent)


def _rule_terms(fact: Fact, sig, problems: list[str], where: str) -> list[T]:
    out = []
    for a in fact.args:
        try:
            out.append(parse_term(a, sig))
        except ParseError as e:
            problems.append(f"{where}: {e}")
    return out


@functools.lru_cache(maxsize=4096)
def _formula_report(text: str, sig_items: tuple) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[Atom, ...]]:
    """(parse error, wrong terms, guardedness problems, action atoms) of one formula (cached: the same
    formulas recur under every flag set)."""
    sig = dict(sig_items)
    try:
        f = parse_formula(text, sig)
    except ParseError as e:
        return str(e), (), (), ()
    return ("", tuple(formula_terms(f, sig)), tuple(guardedness(f)),
            tuple(a for a in formula_atoms(f) if a.kind == "action"))


def check_theory(theory: Theory) -> list[str]:
    """Tamarin's parse-level and well-formedness reports for one preprocessed theory."""
    sig, problems = signature(theory)
    facts_seen: dict[str, set[tuple[str, int, bool]]] = {}
    public_names: dict[str, set[str]] = {}
    rule_actions: set[tuple[str, int, bool]] = {("K", 1, False), ("KU", 1, False), ("Ded", 1, False)}

    def seen(name: str, arity: int, persistent: bool) -> None:
        facts_seen.setdefault(SPECIAL_FACTS.get(name.upper(), name).lower(), set()).add(
            _fact_info(name, arity, persistent))

    for r in theory.rules:
        where = f"rule {r.name}"
        if r.name in RESERVED_RULE_NAMES:
            problems.append(f"{where}: reserved rule name")
        variables: set[V] = set()
        prem_vars: set[V] = set()
        rhs_vars: set[V] = set()
        for part, facts in (("premise", r.premises), ("action", r.actions), ("conclusion", r.conclusions)):
            for f in facts:
                special = SPECIAL_FACTS.get(f.name.upper())
                if special and f.arity != 1:
                    problems.append(f"{where}: fact {f.name} used with arity {f.arity} instead of arity one")
                if special == "Fr" and f.persistent:
                    problems.append(f"{where}: fresh facts cannot be persistent")
                if f.name.upper() in MANUAL_RESERVED and part != "action":
                    problems.append(f"{where}: fact name {f.name} is reserved")
                if part == "premise" and special in ("Out", "KU", "KD"):
                    problems.append(f"{where}: uses disallowed fact {f.name} on left-hand-side")
                if part == "conclusion" and special in ("Fr", "KU", "KD", "In"):
                    problems.append(f"{where}: uses disallowed fact {f.name} on right-hand-side")
                terms = _rule_terms(f, sig, problems, where)
                if special == "Fr" and part == "premise" and terms and not (
                        isinstance(terms[0], V) and terms[0].sort in ("fresh", "msg")):
                    problems.append(f"{where}: Fr facts must only use a fresh- or a msg-variable")
                seen(f.name, f.arity, f.persistent)
                if part == "action":
                    rule_actions.add(_fact_info(f.name, f.arity, f.persistent))
                for t in terms:
                    for s in subterms(t):
                        if isinstance(s, C) and s.fresh:
                            problems.append(f"{where}: fresh names are not allowed in rule: ~'{s.name}'")
                        if isinstance(s, C) and not s.fresh:
                            public_names.setdefault(s.name.lower(), set()).add(s.name)
                    vs = set(term_vars(t))
                    variables |= vs
                    (prem_vars if part == "premise" else rhs_vars).update(vs)
        unbound = sorted(v.name for v in rhs_vars - prem_vars if v.sort != "pub")
        if unbound:
            problems.append(f"{where} has unbound variables: {', '.join(unbound)}")
        by_name: dict[str, set[V]] = {}
        for v in variables:
            by_name.setdefault(v.name.lower(), set()).add(v)
        for key, group in sorted(by_name.items()):
            if len(group) > 1:
                shown = sorted(("~" if v.sort == "fresh" else "$" if v.sort == "pub" else "") + v.name for v in group)
                problems.append(f"{where}: clashing sorts or casings of variables: {', '.join(shown)}")
    for key, spellings in sorted(public_names.items()):
        if len(spellings) > 1:
            problems.append(f"public names with mismatching capitalization: {', '.join(sorted(spellings))}")

    items = [(x, "lemma") for x in theory.lemmas] + [(x, "restriction") for x in theory.restrictions]
    for item, kind in items:
        where = f"{kind} {item.name}"
        parse_error, wrong_terms, unguarded, actions = _formula_report(item.text, tuple(sorted(sig.items())))
        if parse_error:
            problems.append(f"{where}: parse error: {parse_error}")
            continue
        for why in wrong_terms:
            problems.append(f"{where} uses terms of the wrong form: {why}")
        for why in unguarded:
            problems.append(f"{where} cannot be converted to a guarded formula: {why}")
        for atom in actions:
            info = _fact_info(atom.fact, len(atom.terms) - 1, atom.persistent)
            if kind == "lemma":
                seen(atom.fact, len(atom.terms) - 1, atom.persistent)
            if info not in rule_actions:
                problems.append(f"{where} references action {atom.fact}/{info[1]} but no rule has such an action")
        if kind == "lemma" and item.quantifier == "exists-trace" and "reuse" in item.attributes:
            problems.append(f"{where}: cannot reuse 'exists-trace' lemmas")
    for key, infos in sorted(facts_seen.items()):
        if len(infos) > 1:
            shown = sorted(f"{'!' if p else ''}{n}/{a}" for n, a, p in infos)
            problems.append(f"fact usage: {', '.join(shown)} (same name modulo case, other arity or multiplicity)")
    return problems


# --- message derivation checks (MessageDerivationChecks.hs) ------------------------------------------
# Tamarin (1.8+) gives the adversary every term of a rule's premises (functions made public), each
# variable as a fresh name, and warns about each variable it then cannot derive: a pattern that
# matches on something the rule could not compute ("unintended pattern matching").

def _analz(known: set[T], sig) -> set[T]:
    known = set(known)
    changed = True
    while changed:
        changed = False
        for t in list(known):
            parts: list[T] = []
            if isinstance(t, A) and t.fn == "pair":
                parts = list(t.args)
            elif isinstance(t, A) and t.fn == "senc" and _synth(t.args[1], known, sig):
                parts = [t.args[0]]
            elif isinstance(t, A) and t.fn == "aenc" and isinstance(t.args[1], A) and t.args[1].fn == "pk" \
                    and _synth(t.args[1].args[0], known, sig):
                parts = [t.args[0]]
            elif isinstance(t, A) and t.fn == "revealSign":
                parts = [t.args[0]]
            for p in parts:
                if p not in known:
                    known.add(p)
                    changed = True
    return known


def _synth(t: T, known: set[T], sig) -> bool:
    if t in known or (isinstance(t, C) and not t.fresh):
        return True
    return isinstance(t, A) and all(_synth(a, known, sig) for a in t.args)


def derivation_problems(theory: Theory) -> list[str]:
    sig, _ = signature(theory)
    out = []
    for r in theory.rules:
        try:
            prem = [parse_term(a, sig) for f in r.premises for a in f.args]
        except ParseError:
            continue  # reported by check_theory
        known = _analz(set(prem), sig)
        missing = sorted({v.name for t in prem for v in term_vars(t)
                          if v.sort != "pub" and not _synth(v, known, sig)})
        if missing:
            out.append(f"rule {r.name}: variables not derivable from the premises "
                       f"(unintended pattern matching): {', '.join(missing)}")
    return out


# --- preprocessor -----------------------------------------------------------------------------------

def flag_formula_problems(formula: str) -> list[str]:
    """The grammar of Parser.hs flagdisjuncts: atom | 'not' atom, joined by '&' and '|'."""
    toks = tokens(formula)
    out, expect_atom = [], True
    i = 0
    while i < len(toks):
        tok = toks[i]
        if expect_atom:
            if tok in ("not", "\u00ac"):
                i += 1
                if i >= len(toks):
                    break
                tok = toks[i]
            if not IDENT.match(tok) or tok in RESERVED_WORDS or tok == "not":
                out.append(f"{tok!r} is not a flag (no parentheses, no double negation)")
                return out
            if tok.startswith("not"):
                out.append(f"flag {tok!r} would be read as 'not {tok[3:]}'")
            expect_atom = False
        else:
            if tok not in ("&", "|"):
                out.append(f"expected & or | before {tok!r}")
                return out
            expect_atom = True
        i += 1
    if expect_atom:
        out.append("flag formula ends without a flag")
    return out


_DIRECTIVE = re.compile(r"^\s*#(ifdef|else|endif)\b")
_EARLY_END = re.compile(r"#\s*(?:else|endif)")


def comment_problems(text: str) -> list[str]:
    """Block comments nest in Tamarin (Token.hs nestedComments): a '/*' inside one needs its own '*/'."""
    out, depth, i, line = [], 0, 0, 1
    while i < len(text):
        two = text[i:i + 2]
        if text[i] == "\n":
            line += 1
        if depth == 0 and two == "//":
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
            continue
        if two == "/*":
            depth += 1
            if depth > 1:
                out.append(f"line {line}: '/*' inside a block comment (Tamarin nests block comments)")
            i += 2
            continue
        if two == "*/" and depth:
            depth -= 1
            i += 2
            continue
        i += 1
    if depth:
        out.append("unterminated block comment")
    return out


def preprocessor_problems(text: str) -> list[str]:
    """Flag formulas outside Tamarin's grammar; and text inside a block that tamarin-prover would
    take for the block's end when it skips the block (a '#' followed by 'else' or 'endif' that is not
    the directive itself: in a comment, or a timepoint variable named so); nested block comments."""
    out = comment_problems(text)
    inside = False
    lines = text.splitlines()
    for n, line in enumerate(lines, 1):
        m = _DIRECTIVE.match(line)
        if m:
            out += _between_items(lines, n)
            if m.group(1) == "ifdef":
                for why in flag_formula_problems(line.split("#ifdef", 1)[1]):
                    out.append(f"line {n}: {why}")
                inside = True
            elif m.group(1) == "endif":
                inside = False
            rest = line[m.end():] if m.group(1) != "ifdef" else ""
            if rest.strip():
                out.append(f"line {n}: text after #{m.group(1)}")
            continue
        if inside and _EARLY_END.search(line):
            out.append(f"line {n}: '#' followed by else/endif inside a block ends a skipped block early")
        if inside and re.match(r"\s*(builtins|functions|equations)\s*:", line):
            out.append(f"line {n}: signature declarations inside #ifdef (tamarin-prover issue #296)")
    return out


_ITEM_START = re.compile(r"\s*(rule|restriction|lemma|builtins|functions|equations|end)\b|\s*#(ifdef|else|endif)\b")


def _significant(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("//")


def _between_items(lines: list[str], n: int) -> list[str]:
    """A directive stands between whole items: the parser only looks for it where an item may start
    (Parser.hs addItems; tamarin-prover issue #723: not inside a rule or a lemma)."""
    before = next((lines[k] for k in range(n - 2, -1, -1) if _significant(lines[k])), "begin")
    after = next((lines[k] for k in range(n, len(lines)) if _significant(lines[k])), "end")
    b = before.strip()
    ended = (b == "begin" or b.endswith(("]", '"')) or _DIRECTIVE.match(before) is not None
             or (re.match(r"(builtins|functions)\s*:", b) is not None and not b.endswith(",")))
    if not ended or not _ITEM_START.match(after):
        return [f"line {n}: preprocessor directive inside an item (only whole items can be switched)"]
    return []
