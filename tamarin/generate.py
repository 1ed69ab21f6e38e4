"""Assemble the Tamarin theory from the model's tables (``expat tamarin export``).

One rule per row of :data:`expat.model.roles.TABLES`; an event that belongs to two machines at once
(AttestationCompleted: the Endpoint and the requester or attester) gets one rule per pair of rows,
named ``<row>__<endpoint row>``, so that one event is one step, as in a trace. A row's ``when`` and
every flag the rule's text depends on become flat ``#ifdef <flag formula>`` blocks, so the single file
covers the default profile and every weakened variant of :data:`expat.model.expectations.VARIANTS`.

The output is a pure function of the model tables, the semantics tables and the golden traces:
byte-stable, no timestamps.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

from expat.model.events import ENDPOINT, EVENTS, ROLES
from expat.model.roles import ALL_ROWS, FLAGS, TABLES, Row
from expat.tamarin import lemmas as L
from expat.tamarin import semantics as S

THEORY_NAME = "expat_attestation"
THEORY_FILE = "expat.spthy"
BUILTINS = ("hashing", "signing", "symmetric-encryption")
FUNCTIONS = ("exporter/3", "mac/2")


def flag_macro(flag: str) -> str:
    return S.FLAG_PREFIX + flag


# --- rule names -------------------------------------------------------------------------------------

def _base_name(row: Row) -> str:
    return f"{row.role}_{row.src}_{row.event}_{row.dst}"


def row_names() -> dict[int, str]:
    """id(row) -> rule name; rows sharing role/src/event/dst get _1, _2 in table order."""
    counts: dict[str, int] = {}
    for r in ALL_ROWS:
        counts[_base_name(r)] = counts.get(_base_name(r), 0) + 1
    seen: dict[str, int] = {}
    out = {}
    for r in ALL_ROWS:
        base = _base_name(r)
        if counts[base] > 1:
            seen[base] = seen.get(base, 0) + 1
            out[id(r)] = f"{base}_{seen[base]}"
        else:
            out[id(r)] = base
    return out


@dataclass(frozen=True)
class RuleSpec:
    """A rule of the theory: the rows it implements (partner row first, Endpoint row second)."""

    rows: tuple[Row, ...]
    name: str

    @property
    def event(self) -> str:
        return self.rows[0].event

    def when_terms(self) -> list[tuple[str, bool]]:
        """(flag, must_be_off) for every term of the rows' ``when``."""
        out = []
        for r in self.rows:
            for term in filter(None, (t.strip() for t in r.when.split("&"))):
                item = (term.lstrip("!"), term.startswith("!"))
                if item not in out:
                    out.append(item)
        return out

    def enabled(self, off: frozenset[str]) -> bool:
        return all((flag in off) == must_off for flag, must_off in self.when_terms())


def shared_events() -> set[str]:
    """Events that step an Endpoint machine and another machine at once."""
    by_event: dict[str, set[str]] = {}
    for r in ALL_ROWS:
        by_event.setdefault(r.event, set()).add(r.role)
    return {e for e, roles in by_event.items() if ENDPOINT in roles and len(roles) > 1}


def rule_specs() -> list[RuleSpec]:
    names = row_names()
    shared = shared_events()
    out = []
    for role in ROLES:
        for r in TABLES[role]:
            if r.event in shared and role == ENDPOINT:
                continue
            if r.event in shared:
                for er in TABLES[ENDPOINT]:
                    if er.event == r.event:
                        out.append(RuleSpec((r, er), f"{names[id(r)]}__{names[id(er)]}"))
            else:
                out.append(RuleSpec((r,), names[id(r)]))
    return out


# --- rendering one rule -----------------------------------------------------------------------------

def _rename(text: str, names: Iterable[str], prefix: str) -> str:
    for n in names:
        text = re.sub(rf"(?<![\w~$']){re.escape(n)}(?![\w'])", prefix + n, text)
    return text


@dataclass
class RenderedRule:
    name: str
    premises: list[str]
    actions: list[str]
    conclusions: list[str]
    comment: str

    def text(self) -> str:
        def block(items: list[str]) -> str:
            return "\n  , ".join(items)
        lines = [f"// {self.comment}"] if self.comment else []
        lines.append(f"rule {self.name}:")
        lines.append(f"    [ {block(self.premises)} ]" if self.premises else "    [ ]")
        lines.append(f"  --[ {block(self.actions)} ]->" if self.actions else "  -->")
        lines.append(f"    [ {block(self.conclusions)} ]" if self.conclusions else "    [ ]")
        return "\n".join(lines) + "\n"


def _part(row: Row, sem: S.RowSem) -> tuple[list[str], list[str], list[str], list[str]]:
    """(state premises, guard actions, state conclusions, effect conclusions) of one row."""
    mem = S.MEMORY[row.role]
    if S.virtual_start(row.role, row.src):
        init, bound = S.VIRTUAL_START[row.role]
        premises = [init]
    else:
        slots = [sem.match.get(m, f"old_{m}" if m in sem.writes else m) for m in mem]
        premises = [f"{S.state_fact(row.role, row.src)}({', '.join(slots)})"]
        bound = frozenset(m for m in mem if m not in sem.writes)
    after = [sem.writes.get(m, sem.match.get(m, m) if m in bound else "'nil'") for m in mem]
    conclusions = [f"{S.state_fact(row.role, row.dst)}({', '.join(after)})"]
    guards = []
    for g in row.guard:
        spec = S.GUARDS[g]
        args = sem.guard_args.get(g, spec.args)
        if len(args) != len(spec.params):
            raise ValueError(f"{row.role} {row.src} {row.event}: guard {g} needs {len(spec.params)} terms")
        guards.append(f"{S.guard_fact(g)}({', '.join(args)})")
    effects = []
    for name, eargs in S.effects(row):
        terms = [sem.args.get(a, sem.args.get("agent") if a in ("ae", "verifier") else None) for a in eargs]
        if None in terms:
            raise ValueError(f"{row.role} {row.event}: effect {name}{eargs} names unknown arguments")
        effects.append(f"!{name}({', '.join(terms)})")  # type: ignore[arg-type]
    return premises, guards, conclusions, effects


def render_rule(spec: RuleSpec, off: frozenset[str]) -> Optional[RenderedRule]:
    if not spec.enabled(off):
        return None
    first = spec.rows[0]
    sem = S.row_semantics(first, off)
    parts = [(first, sem)]
    if len(spec.rows) > 1:
        parts.append((spec.rows[1], S.endpoint_completion(sem)))
    event = EVENTS[spec.event]
    if set(sem.args) != set(event.positional):
        raise ValueError(f"{spec.name}: event arguments {sorted(sem.args)} != {list(event.positional)}")
    premises, actions, conclusions = [], [], []
    guard_actions, effect_facts, extra_premises, extra_conclusions, extra_actions = [], [], [], [], []
    fresh, public = [], []
    for row, s in parts:
        p, g, c, e = _part(row, s)
        premises += p
        guard_actions += g
        conclusions += c
        effect_facts += e
        extra_premises += s.premises
        extra_conclusions += s.conclusions
        extra_actions += s.actions
        fresh += s.fresh
        public += s.public
    event_fact = f"{spec.event}({', '.join(sem.args[a] for a in event.positional)})"
    premises += [p for p in extra_premises if p not in premises]
    actions = [event_fact] + extra_actions + guard_actions
    conclusions += effect_facts + extra_conclusions
    rows_txt = "; ".join(f"{r.role}: {r.src} --{r.event}--> {r.dst}" + (f" [when {r.when}]" if r.when else "")
                         for r in spec.rows)
    rule = RenderedRule(spec.name, premises, actions, conclusions, rows_txt)
    for field_ in ("premises", "actions", "conclusions"):
        items = [_rename(_rename(x, fresh, "~"), public, "$") for x in getattr(rule, field_)]
        setattr(rule, field_, items)
    return rule


# --- preprocessor blocks -------------------------------------------------------------------------------
# tamarin-prover's preprocessor evaluates a flag formula per block (``#ifdef A & not B | C``: literals,
# conjunctions, disjunctions, no parentheses) but does not track nesting when it skips a block, so
# every block here is flat and its condition is a disjunction of conjunctions.

def _implicants(minterms: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Prime implicants (Quine-McCluskey; -1 = the flag does not matter) covering ``minterms``."""
    terms, primes = set(minterms), set()
    while terms:
        merged, used = set(), set()
        for a in sorted(terms):
            for b in sorted(terms):
                diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
                if len(diff) == 1 and -1 not in (a[diff[0]], b[diff[0]]):
                    merged.add(tuple(-1 if i == diff[0] else x for i, x in enumerate(a)))
                    used |= {a, b}
        primes |= terms - used
        terms = merged
    cover, left = [], set(minterms)
    covers = lambda t, m: all(x in (-1, y) for x, y in zip(t, m))  # noqa: E731
    while left:
        best = max(sorted(primes), key=lambda t: (sum(covers(t, m) for m in left), t.count(-1)))
        cover.append(best)
        left = {m for m in left if not covers(best, m)}
    return cover


def flag_condition(deps: list[str], minterms: list[tuple[int, ...]]) -> str:
    """The ``#ifdef`` formula that holds exactly for ``minterms`` (1 = flag defined) over ``deps``."""
    terms = []
    for t in _implicants(minterms):
        lits = [("" if v else "not ") + flag_macro(f) for f, v in zip(deps, t) if v != -1]
        terms.append(" & ".join(lits))
    return " | ".join(terms)


def ifdef_blocks(deps: list[str], render: Callable[[frozenset[str]], str]) -> str:
    """Text for every combination of ``deps``: one flat ``#ifdef <formula>`` block per distinct
    rendering (none when the rendering is the same everywhere)."""
    groups: dict[str, list[tuple[int, ...]]] = {}
    for bits in itertools.product((0, 1), repeat=len(deps)):
        text = render(frozenset(f for f, b in zip(deps, bits) if b))
        groups.setdefault(text, []).append(bits)
    out = ""
    for text, minterms in groups.items():
        if not text:
            continue
        if len(minterms) == 2 ** len(deps):
            out += text
        else:
            out += f"#ifdef {flag_condition(deps, minterms)}\n{text}#endif\n"
    return out


def _rule_deps(spec: RuleSpec) -> list[str]:
    deps = [f for f, _ in spec.when_terms()]
    least = frozenset(f for f, must_off in spec.when_terms() if must_off)  # the least flags enabling it
    base = render_rule(spec, least)
    for f in FLAGS:
        if f in deps or base is None:
            continue
        other = render_rule(spec, least | {f})
        if other is not None and other.text() != base.text():
            deps.append(f)
    return deps


def rules_section() -> str:
    out = []
    for spec in rule_specs():
        def render(off: frozenset[str], spec: RuleSpec = spec) -> str:
            r = render_rule(spec, off)
            return r.text() if r else ""
        out.append(ifdef_blocks(_rule_deps(spec), render))
    return "\n".join(out)


def guard_restrictions_section() -> str:
    """One restriction per guard (per flag case); present only when a rule applying it exists."""
    specs = rule_specs()
    out = []
    for g in sorted({g for r in ALL_ROWS for g in r.guard}):
        spec = S.GUARDS[g]
        users = [sp for sp in specs if any(g in r.guard for r in sp.rows)]
        deps = list(spec.flags())
        for sp in users:
            deps += [f for f, _ in sp.when_terms() if f not in deps]

        def render(off: frozenset[str], g: str = g, spec: S.GuardSpec = spec, users=users) -> str:
            if not any(sp.enabled(off) for sp in users):
                return ""
            text = ""
            for k, body in enumerate(spec.bodies(off)):
                text += f'restriction {S.restriction_name(g, k)}:\n  "{S.restriction_text(g, spec.params, body)}"\n'
            return text
        out.append(ifdef_blocks(deps, render))
    return "\n".join(x for x in out if x)


def env_rules_section() -> str:
    out = []
    for r in S.ENV_RULES:
        out.append(RenderedRule(r.name, list(r.premises), list(r.actions), list(r.conclusions), r.comment).text())
    return "\n".join(out)


def env_restrictions_section() -> str:
    return "\n".join(f'restriction {n}:\n  "{f}"\n' for n, f in S.ENV_RESTRICTIONS)


# --- the theory -------------------------------------------------------------------------------------

def _header() -> str:
    lines = [
        "/*",
        " * Remote Attestation with Exported Authenticators (draft-fossati-seat-expat-02) as a Tamarin theory.",
        " * GENERATED by `expat tamarin export` from model/ (events, role tables, properties) and",
        " * tamarin/ (semantics, lemmas); do not edit, regenerate. See docs/tamarin.md.",
        " *",
        " * Preprocessor flags (-D=FLAG) switch one mitigation off; no flag = the draft's default profile:",
    ]
    lines += [f" *   {flag_macro(f)}" for f in FLAGS]
    lines += [" *", " * Expected verdicts (model/expectations.py VARIANTS; every other property lemma is verified):"]
    for v in L.variants():
        flags = " ".join(f"-D={flag_macro(f)}" for f in v.off) or "(no flags)"
        lines.append(f" *   {v.name:<30} {flags}")
        lines.append(f" *   {'':<30} falsified: {', '.join(v.violated) or '(none)'}")
    lines += [" * Sanity (<property>_reachable), sources and executable_* lemmas are expected verified everywhere.",
              " */", ""]
    return "\n".join(lines)


def theory_text(golden: Optional[list[Path]] = None) -> str:
    traces = L.golden_traces() if golden is None else golden
    parts = [
        _header(),
        f"theory {THEORY_NAME}",
        "begin",
        "",
        f"builtins: {', '.join(BUILTINS)}",
        f"functions: {', '.join(FUNCTIONS)}",
        "",
        "// ===== restrictions of the environment =====",
        "",
        env_restrictions_section(),
        "// ===== guards of the role tables (model/roles.py), as restrictions =====",
        "",
        guard_restrictions_section(),
        "// ===== TLS 1.3 channel, key setup, adversary (reveals and oracles) =====",
        "",
        env_rules_section(),
        "// ===== protocol rules: one per row of model/roles.py TABLES =====",
        "",
        rules_section(),
        "// ===== lemmas =====",
        "",
        L.lemmas_section(traces),
        "end",
        "",
    ]
    text = "\n".join(parts).replace("\u00a7", "Sec. ")  # ASCII only: section signs of comments
    return re.sub(r"\n{3,}", "\n\n", text)


def export(out_dir: Path, golden: Optional[list[Path]] = None) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / THEORY_FILE
    path.write_text(theory_text(golden), encoding="ascii")
    return path
