"""A small parser for the spthy subset that :mod:`expat.tamarin.generate` writes.

Covers: the preprocessor (``#ifdef FLAG`` / ``#else`` / ``#endif``, nested), comments, ``theory NAME
begin ... end``, ``builtins:``, ``functions:``, ``rule NAME: [..] --[..]-> [..]`` (or ``-->``),
``restriction NAME: "..."`` and ``lemma NAME [attrs]: [exists-trace|all-traces] "..."``. Terms are
kept as text; facts are split into name, persistence and top-level arguments. It also performs the
well-formedness checks Tamarin would reject a theory for and that can be decided on this subset:
consistent fact arities, variables of actions and conclusions bound by premises, fresh variables
from ``Fr``, quantified formula variables, balanced preprocessor blocks.

This is not Tamarin's parser; it is the contract ``expat tamarin check`` holds the generated theory to.
The checks tamarin-prover itself runs on loading (its grammar, Wellformedness.hs, guardedness, message
derivation) are re-implemented over this parse in :mod:`expat.tamarin.wellformed`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

BUILTIN_FACTS = {"In": 1, "Out": 1, "Fr": 1, "K": 1, "KU": 1, "KD": 1}
NULLARY = {"true"}
KEYWORDS = {"All", "Ex", "not", "F", "T"}


class SpthyError(ValueError):
    """The text is outside the subset (or malformed)."""


@dataclass(frozen=True)
class Fact:
    name: str
    args: tuple[str, ...]
    persistent: bool = False

    @property
    def arity(self) -> int:
        return len(self.args)


@dataclass
class Rule:
    name: str
    premises: list[Fact]
    actions: list[Fact]
    conclusions: list[Fact]


@dataclass
class Formula:
    name: str
    text: str
    kind: str = "restriction"  # restriction | lemma
    quantifier: str = "all-traces"
    attributes: tuple[str, ...] = ()


@dataclass
class Theory:
    name: str
    builtins: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    restrictions: list[Formula] = field(default_factory=list)
    lemmas: list[Formula] = field(default_factory=list)

    def rule(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)


# --- preprocessor -----------------------------------------------------------------------------

def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def flag_formula_holds(formula: str, defined: set[str], where: str = "") -> bool:
    """Evaluate a Tamarin flag formula: literals (``FLAG``, ``not FLAG``) joined by ``&`` and ``|``
    (``&`` binds tighter; no parentheses, as in tamarin-prover's preprocessor)."""
    def literal(text: str) -> bool:
        words = text.split()
        if len(words) == 1 and re.fullmatch(r"[A-Za-z0-9_]+", words[0]):
            return words[0] in defined
        if len(words) == 2 and words[0] in ("not", "\u00ac") and re.fullmatch(r"[A-Za-z0-9_]+", words[1]):
            return words[1] not in defined
        raise SpthyError(f"{where}bad flag literal {text.strip()!r}")
    return any(all(literal(lit) for lit in conj.split("&")) for conj in formula.split("|"))


def preprocess(text: str, defined: Iterable[str] = ()) -> str:
    """Keep the lines of the blocks selected by ``defined`` (Tamarin's -D flags).

    Nested blocks are refused: tamarin-prover skips a false block up to the first ``#else`` or
    ``#endif`` it meets, so a nested block would be misread."""
    defined = set(defined)
    out = []
    block: Optional[tuple[bool, bool]] = None  # (condition, in_else)
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("#ifdef"):
            if block is not None:
                raise SpthyError(f"line {n}: nested #ifdef (tamarin-prover does not track nesting)")
            formula = s[len("#ifdef"):]
            if not formula.strip():
                raise SpthyError(f"line {n}: #ifdef without a flag")
            block = (flag_formula_holds(formula, defined, f"line {n}: "), False)
            out.append("")
            continue
        if s == "#else":
            if block is None or block[1]:
                raise SpthyError(f"line {n}: #else without #ifdef")
            block = (block[0], True)
            out.append("")
            continue
        if s == "#endif":
            if block is None:
                raise SpthyError(f"line {n}: #endif without #ifdef")
            block = None
            out.append("")
            continue
        if s.startswith("#"):
            raise SpthyError(f"line {n}: unsupported preprocessor line {s!r}")
        keep = block is None or (block[0] != block[1])
        out.append(line if keep else "")
    if block is not None:
        raise SpthyError("unbalanced #ifdef")
    return "\n".join(out)


def flags_used(text: str) -> list[str]:
    found = set()
    for formula in re.findall(r"^\s*#ifdef\s+(.+)$", text, flags=re.M):
        found |= set(re.findall(r"[A-Za-z0-9_]+", formula)) - {"not"}
    return sorted(found)


# --- terms and facts ---------------------------------------------------------------------------

def split_top(text: str) -> list[str]:
    out, depth, cur, quoted = [], 0, "", False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch in "(<":
            depth += 1
        elif not quoted and ch in ")>":
            depth -= 1
            if depth < 0:
                raise SpthyError(f"unbalanced brackets in {text!r}")
        if ch == "," and depth == 0 and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if depth != 0 or quoted:
        raise SpthyError(f"unbalanced brackets or quotes in {text!r}")
    if cur.strip():
        out.append(cur.strip())
    return out


_FACT = re.compile(r"^(!?)([A-Z][A-Za-z0-9_]*)\((.*)\)$", re.S)


def parse_fact(text: str) -> Fact:
    m = _FACT.match(text.strip())
    if not m:
        raise SpthyError(f"not a fact: {text.strip()!r}")
    return Fact(m.group(2), tuple(split_top(m.group(3))), m.group(1) == "!")


def term_variables(term: str) -> set[str]:
    """Variables of a term, with their sort prefix (~x, $x, x)."""
    term = re.sub(r"'[^']*'", " ", term)
    return {v for v in re.findall(r"[~$#]?[A-Za-z_][A-Za-z0-9_]*(?![A-Za-z0-9_(])", term)
            if v not in NULLARY}


# --- items -------------------------------------------------------------------------------------

_ITEM = re.compile(r"^(rule|restriction|lemma|builtins|functions|end)\b", re.M)


def _rule(name: str, body: str) -> Rule:
    def bracket(s: str, start: int) -> tuple[str, int]:
        i = s.index("[", start)
        j = s.index("]", i)
        return s[i + 1:j], j + 1

    prem, pos = bracket(body, 0)
    rest = body[pos:].lstrip()
    if rest.startswith("-->"):
        acts, pos = "", pos + body[pos:].index("-->") + 3
    elif rest.startswith("--["):
        start = pos + body[pos:].index("--[") + 3
        end = body.index("]->", start)
        acts, pos = body[start:end], end + 3
    else:
        raise SpthyError(f"rule {name}: expected --> or --[ ... ]->")
    concl, pos = bracket(body, pos)
    if body[pos:].strip():
        raise SpthyError(f"rule {name}: trailing text {body[pos:].strip()[:40]!r}")
    facts = lambda s: [parse_fact(f) for f in split_top(s)]  # noqa: E731
    return Rule(name, facts(prem), facts(acts), facts(concl))


def parse(text: str, defined: Iterable[str] = ()) -> Theory:
    """Preprocess with ``defined`` flags, then parse."""
    body = strip_comments(preprocess(text, defined))
    m = re.search(r"\btheory\s+(\w+)\s+begin\b", body)
    if not m:
        raise SpthyError("no 'theory NAME begin'")
    theory = Theory(m.group(1))
    body = body[m.end():]
    starts = [x.start() for x in _ITEM.finditer(body)]
    if body[:starts[0] if starts else len(body)].strip():
        raise SpthyError("text before the first item")
    ended = False
    for a, b in zip(starts, starts[1:] + [len(body)]):
        chunk = body[a:b].strip()
        kw = chunk.split(None, 1)[0].rstrip(":")
        if ended:
            raise SpthyError("text after 'end'")
        if kw == "end":
            if chunk != "end":
                raise SpthyError("text after 'end'")
            ended = True
        elif kw in ("builtins", "functions"):
            items = [x.strip() for x in chunk.split(":", 1)[1].split(",")]
            getattr(theory, kw).extend(items)
        elif kw == "rule":
            mm = re.match(r"rule\s+(\w+)\s*:(.*)$", chunk, re.S)
            if not mm:
                raise SpthyError(f"bad rule header: {chunk[:60]!r}")
            theory.rules.append(_rule(mm.group(1), mm.group(2)))
        elif kw in ("restriction", "lemma"):
            mm = re.match(r'(restriction|lemma)\s+(\w+)\s*(\[[^\]]*\])?\s*:\s*(exists-trace|all-traces)?\s*"([^"]*)"$',
                          chunk, re.S)
            if not mm:
                raise SpthyError(f"bad {kw}: {chunk[:60]!r}")
            attrs = tuple(x.strip() for x in mm.group(3)[1:-1].split(",")) if mm.group(3) else ()
            f = Formula(mm.group(2), " ".join(mm.group(5).split()), kw, mm.group(4) or "all-traces", attrs)
            (theory.restrictions if kw == "restriction" else theory.lemmas).append(f)
    if not ended:
        raise SpthyError("missing 'end'")
    return theory


# --- formulas ---------------------------------------------------------------------------------

_ATOM = re.compile(r"(?<![A-Za-z0-9_])([A-Z][A-Za-z0-9_]*)\(")


def formula_atoms(text: str) -> list[Fact]:
    """Action atoms ``Name(args)@t`` of a formula."""
    out = []
    for m in _ATOM.finditer(text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        if text[i:i + 1] == "@":
            out.append(Fact(m.group(1), tuple(split_top(text[m.end():i - 1]))))
    return out


def formula_unbound(text: str) -> set[str]:
    """Variables used but bound by no All/Ex of the formula (a simple scope-free check)."""
    bound = set()
    for m in re.finditer(r"\b(All|Ex)\s+([^.]*)\.", text):
        bound |= {v.lstrip("#") for v in m.group(2).split()}
    body = re.sub(r"\b(All|Ex)\s+[^.]*\.", " ", text)
    body = re.sub(r"'[^']*'", " ", body)
    used = {v.lstrip("#") for v in re.findall(r"#?[A-Za-z_][A-Za-z0-9_]*(?![A-Za-z0-9_(])", body)}
    return {v for v in used if v not in bound and v not in KEYWORDS and v not in NULLARY}


# --- well-formedness ---------------------------------------------------------------------------

def wellformedness(theory: Theory) -> list[str]:
    problems: list[str] = []
    arity: dict[tuple[str, str], set[tuple[int, bool]]] = {}
    produced = set()
    for r in theory.rules:
        for kind, facts in (("state", r.premises), ("action", r.actions), ("state", r.conclusions)):
            for f in facts:
                arity.setdefault((kind, f.name), set()).add((f.arity, f.persistent))
        produced |= {f.name for f in r.conclusions}
        prem_vars = set().union(*[term_variables(a) for f in r.premises for a in f.args]) if r.premises else set()
        for f in r.premises:
            if f.name == "Fr" and not all(v.startswith("~") for v in term_variables(f.args[0])):
                problems.append(f"rule {r.name}: Fr of a non-fresh variable")
        used = set().union(*[term_variables(a) for f in r.actions + r.conclusions for a in f.args]) \
            if (r.actions or r.conclusions) else set()
        unbound = {v for v in used if not v.startswith("$") and v not in prem_vars}
        if unbound:
            problems.append(f"rule {r.name}: variables not bound by premises: {sorted(unbound)}")
        all_vars = prem_vars | used
        clashes = sorted({v.lstrip("~$") for v in all_vars
                          if len({w for w in all_vars if w.lstrip("~$") == v.lstrip("~$")}) > 1})
        if clashes:
            problems.append(f"rule {r.name}: variables used with two sorts: {clashes}")
        for f in r.premises + r.conclusions:
            if f.name in BUILTIN_FACTS and f.arity != BUILTIN_FACTS[f.name]:
                problems.append(f"rule {r.name}: {f.name} takes {BUILTIN_FACTS[f.name]} argument")
    for (kind, name), seen in sorted(arity.items()):
        if len({a for a, _ in seen}) > 1:
            problems.append(f"{kind} fact {name} used with arities {sorted(a for a, _ in seen)}")
        if kind == "state" and len({p for _, p in seen}) > 1:
            problems.append(f"fact {name} used both linear and persistent")
    for r in theory.rules:
        for f in r.premises:
            if f.name not in BUILTIN_FACTS and f.name not in produced:
                problems.append(f"rule {r.name}: premise {f.name} is produced by no rule")
    actions = {name: {a for a, _ in seen} for (kind, name), seen in arity.items() if kind == "action"}
    for f in theory.restrictions + theory.lemmas:
        for atom in formula_atoms(f.text):
            if atom.name in BUILTIN_FACTS:
                continue
            if atom.name not in actions:
                problems.append(f"{f.kind} {f.name}: action {atom.name} occurs in no rule")
            elif atom.arity not in actions[atom.name]:
                problems.append(f"{f.kind} {f.name}: {atom.name} with {atom.arity} arguments")
        unbound = formula_unbound(f.text)
        if unbound:
            problems.append(f"{f.kind} {f.name}: unquantified variables {sorted(unbound)}")
    names = [r.name for r in theory.rules]
    for n in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"rule {n} defined twice")
    lnames = [x.name for x in theory.lemmas + theory.restrictions]
    for n in sorted({n for n in lnames if lnames.count(n) > 1}):
        problems.append(f"lemma/restriction {n} defined twice")
    return problems
