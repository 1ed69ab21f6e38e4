"""What changed between two revisions of a draft, and what in expat it touches.

Statements are matched by their normalized sentence, independent of section numbers
and line wrapping: first exact matches, then by token similarity (difflib on the
normalized words with the BCP 14 keywords left out, so "SHOULD" -> "MUST" still
matches). Change kinds:

* ``added`` / ``removed``: a normative statement with no counterpart;
* ``strength-changed``: keywords differ (also prose -> MUST and MUST -> prose, when a
  new statement matches a plain sentence of the old revision or vice versa);
* ``reworded``: same keywords, different words;
* ``moved``: same sentence, now under a section with a different title.

Parameters (:mod:`expat.spec.parameters`) are compared by name; sections by their
title path (falling back to title, then anchor), so renumbering shows up as ``moved``;
references and authors' addresses (renderer output) are not compared. Prose without a
keyword is reported too, below the statements, when it changed inside a section that
holds requirements (a BCP 14 statement or a catalogue entry): a short word-level diff
and the catalogue entries that section feeds, since such prose (§5.1's choice between
a local and a delegated binding comparison, for one) changes what implementations do.
Every change lists the catalogue entries it affects and, through them, the checks,
tests, monitors, lemmas and profile parameters.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from expat.spec import parameters as P
from expat.spec.catalogue import Catalogue, Entry, load_catalogue
from expat.spec.document import Document, Section
from expat.spec.statements import STRENGTH, Sentence, extract, normalize, section_sentences

# Similarity (0..1) above which two sentences are "the same statement, changed".
MATCH_THRESHOLD = 0.6
_KEYWORD_TOKENS = {"must", "not", "shall", "should", "may", "required", "recommended", "optional"}


def _tokens(s: Sentence) -> list[str]:
    return [w for w in normalize(s.text).split() if w not in _KEYWORD_TOKENS]


def similarity(a: Sentence, b: Sentence) -> float:
    return difflib.SequenceMatcher(None, _tokens(a), _tokens(b), autojunk=False).ratio()


@dataclass
class Affects:
    requirements: list[str] = field(default_factory=list)
    profile_parameters: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    monitors: list[str] = field(default_factory=list)
    lemmas: list[str] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        for attr, values in (("requirements", [entry.id]),
                             ("profile_parameters", entry.profile_parameters),
                             ("checks", entry.checks), ("tests", entry.tests),
                             ("monitors", entry.monitors), ("lemmas", entry.lemmas)):
            bucket = getattr(self, attr)
            bucket.extend(v for v in values if v not in bucket)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class StatementChange:
    kind: str
    old: Sentence | None
    new: Sentence | None
    similarity: float = 1.0
    affects: Affects = field(default_factory=Affects)

    @property
    def strength(self) -> str:
        o = "/".join(self.old.keywords) if self.old and self.old.keywords else "prose"
        n = "/".join(self.new.keywords) if self.new and self.new.keywords else "prose"
        return f"{o} -> {n}"

    @property
    def sections(self) -> list[str]:
        return [s.section for s in (self.old, self.new) if s is not None]

    def as_dict(self) -> dict:
        d = {"kind": self.kind, "similarity": round(self.similarity, 3),
             "old": self.old.as_dict() if self.old else None,
             "new": self.new.as_dict() if self.new else None,
             "affects": self.affects.as_dict()}
        if self.kind == "strength-changed":
            d["strength"] = self.strength
        return d


@dataclass
class ParameterChange:
    kind: str                  # added | removed | changed
    name: str
    old_values: list[str]
    new_values: list[str]
    old_sections: list[str]
    new_sections: list[str]
    affects: Affects = field(default_factory=Affects)

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["affects"] = self.affects.as_dict()
        return d


@dataclass
class SectionChange:
    kind: str                  # added | removed | moved | renamed
    title: str
    old_number: str = ""
    new_number: str = ""
    new_title: str = ""
    affects: Affects = field(default_factory=Affects)

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["affects"] = self.affects.as_dict()
        return d


@dataclass
class ProseChange:
    """Changed non-normative prose in a section that holds requirements (ranked below statements)."""
    section: str               # the section in the new revision (old one if it is gone)
    title: str
    old: list[str]             # the changed sentences as found
    new: list[str]
    words: str                 # short word-level diff: [-removed-] {+added+}
    feeds: list[str] = field(default_factory=list)    # catalogue entries of this section
    affects: Affects = field(default_factory=Affects)

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["affects"] = self.affects.as_dict()
        return d


@dataclass
class DiffReport:
    old: str
    new: str
    statements: list[StatementChange] = field(default_factory=list)
    parameters: list[ParameterChange] = field(default_factory=list)
    sections: list[SectionChange] = field(default_factory=list)
    prose: list[ProseChange] = field(default_factory=list)

    @property
    def normative(self) -> list[StatementChange]:
        return [c for c in self.statements if c.kind != "moved"]

    def empty(self) -> bool:
        return not (self.statements or self.parameters or self.sections or self.prose)

    def as_dict(self) -> dict:
        return {"old": self.old, "new": self.new,
                "statements": [c.as_dict() for c in self.statements],
                "parameters": [c.as_dict() for c in self.parameters],
                "prose": [c.as_dict() for c in self.prose],
                "sections": [c.as_dict() for c in self.sections]}


def family(doc: Document) -> str:
    """Which catalogue document a draft revision belongs to."""
    text = f"{doc.path} {doc.name}".lower()
    if "9261" in text or "exported-authenticator" in text:
        return "rfc9261"
    if "seat-expat" in text or "editors-copy" in text:
        return "expat"
    return "other"


# ---------------------------------------------------------------- statements

def match_statements(old: Document, new: Document,
                     threshold: float = MATCH_THRESHOLD) -> list[StatementChange]:
    old_all, new_all = extract(old).sentences, extract(new).sentences
    changes: list[StatementChange] = []
    # 1. identical normalized sentences (any section)
    by_norm: dict[str, list[int]] = {}
    for i, s in enumerate(old_all):
        by_norm.setdefault(s.normalized, []).append(i)
    used_old: set[int] = set()
    used_new: set[int] = set()
    for j, s in enumerate(new_all):
        cands = [i for i in by_norm.get(s.normalized, []) if i not in used_old]
        if not cands:
            continue
        i = min(cands, key=lambda k: old_all[k].title != s.title)
        used_old.add(i)
        used_new.add(j)
        if s.normative and old_all[i].title != s.title:
            changes.append(StatementChange("moved", old_all[i], s))

    def pairs(olds: list[int], news: list[int]) -> list[tuple[float, int, int]]:
        scored = [(similarity(old_all[i], new_all[j]), i, j) for i in olds for j in news]
        return sorted((p for p in scored if p[0] >= threshold), reverse=True)

    def greedy(olds: list[int], news: list[int]) -> None:
        for score, i, j in pairs(olds, news):
            if i in used_old or j in used_new:
                continue
            used_old.add(i)
            used_new.add(j)
            a, b = old_all[i], new_all[j]
            kind = "strength-changed" if a.keywords != b.keywords else "reworded"
            changes.append(StatementChange(kind, a, b, score))

    rest_old = lambda normative: [i for i, s in enumerate(old_all)  # noqa: E731
                                  if i not in used_old and s.normative == normative]
    rest_new = lambda normative: [j for j, s in enumerate(new_all)  # noqa: E731
                                  if j not in used_new and s.normative == normative]
    # 2. normative <-> normative, 3. prose -> normative, 4. normative -> prose
    greedy(rest_old(True), rest_new(True))
    greedy(rest_old(False), rest_new(True))
    greedy(rest_old(True), rest_new(False))
    for i in rest_old(True):
        changes.append(StatementChange("removed", old_all[i], None, 0.0))
    for j in rest_new(True):
        changes.append(StatementChange("added", None, new_all[j], 0.0))
    order = {"removed": 0, "strength-changed": 1, "reworded": 2, "added": 3, "moved": 4}
    return sorted(changes, key=lambda c: (order[c.kind], (c.new or c.old).line))


# ---------------------------------------------------------------- parameters

def match_parameters(old: Document, new: Document) -> list[ParameterChange]:
    a, b = P.by_name(P.extract(old)), P.by_name(P.extract(new))
    out: list[ParameterChange] = []
    for name in list(a) + [n for n in b if n not in a]:
        ga, gb = a.get(name, []), b.get(name, [])
        kind_of = (ga or gb)[0].kind
        if kind_of == "message":
            continue
        va, vb = P.values(ga), P.values(gb)
        if not ga:
            kind = "added"
        elif not gb:
            kind = "removed"
        elif va != vb:
            kind = "changed"
        else:
            continue
        out.append(ParameterChange(kind, name, va, vb, P.sections_of(ga), P.sections_of(gb)))
    return out


# ---------------------------------------------------------------- sections

def section_pairs(old: Document, new: Document) -> tuple[list[Section], list[Section], dict[int, Section]]:
    """Old and new sections (renderer output left out) and the new section each old one became."""
    # references and addresses are renderer output (absent from the Markdown source)
    olds = [s for s in old.sections if s.part != "generated"]
    news = [s for s in new.sections if s.part != "generated"]
    new_by_path = {s.path: s for s in news}
    matched: dict[int, Section] = {}
    used: set[int] = set()
    for s in olds:
        t = new_by_path.get(s.path)
        if t is not None and id(t) not in used:
            matched[id(s)] = t
            used.add(id(t))
    for attr in ("title", "anchor"):
        for s in olds:
            if id(s) in matched:
                continue
            cands = [t for t in news if id(t) not in used
                     and getattr(t, attr) == getattr(s, attr)
                     and (attr == "title" or not t.anchor.startswith("name-"))]
            if len(cands) == 1:
                matched[id(s)] = cands[0]
                used.add(id(cands[0]))
    return olds, news, matched


def match_sections(old: Document, new: Document) -> list[SectionChange]:
    olds, news, matched = section_pairs(old, new)
    used = {id(t) for t in matched.values()}
    out: list[SectionChange] = []
    for s in olds:
        t = matched.get(id(s))
        if t is None:
            out.append(SectionChange("removed", s.title, old_number=s.number))
        elif t.title != s.title:
            out.append(SectionChange("renamed", s.title, s.number, t.number, t.title))
        elif t.number != s.number or t.parent_titles != s.parent_titles:
            out.append(SectionChange("moved", s.title, s.number, t.number))
    for t in news:
        if id(t) not in used:
            out.append(SectionChange("added", t.title, new_number=t.number))
    return out


# ---------------------------------------------------------------- prose

# Words of context kept around each change in the word-level diff, and its length cap.
PROSE_CONTEXT = 4
PROSE_MAX_CHARS = 400


def word_diff(old: str, new: str, context: int = PROSE_CONTEXT, limit: int = PROSE_MAX_CHARS) -> str:
    """``[-removed-] {+added+}`` over normalized words, with a little context, elided between."""
    a, b = normalize(old).split(), normalize(new).split()
    parts: list[str] = []
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            words = a[i1:i2]
            head = words[:context] if k else []
            tail = words[-context:] if k < len(ops) - 1 else []
            if len(words) > len(head) + len(tail):
                parts += head + (["…"] if head or tail else []) + tail
            else:
                parts += words
            continue
        if i2 > i1:
            parts.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            parts.append("{+" + " ".join(b[j1:j2]) + "+}")
    text = " ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _prose(section: Section | None) -> list[Sentence]:
    if section is None or not section.is_content:
        return []
    return [s for s in section_sentences(section) if not s.normative]


def match_prose(old: Document, new: Document, cat: Catalogue, fam: str,
                reported: set[str]) -> list[ProseChange]:
    """Changed prose sentences in sections that hold requirements, section by section.

    A section holds requirements when it has a BCP 14 statement in either revision or a
    catalogue entry cites it. Sentences already reported as statement changes
    (``reported``: normalized texts) are left out.
    """
    olds, news, matched = section_pairs(old, new)
    old_of = {id(t): s for s in olds for t in [matched.get(id(s))] if t is not None}
    stmts = extract(old).statements + extract(new).statements
    holding = {s.section for s in stmts}
    out: list[ProseChange] = []
    pairs = [(s, matched.get(id(s))) for s in olds] + [(None, t) for t in news if id(t) not in old_of]
    for a, b in pairs:
        labels = {x.label for x in (a, b) if x is not None}
        feeds = [e for e in cat.entries if e.family == fam and e.section in labels]
        if not (labels & holding or feeds):
            continue
        sa = [s for s in _prose(a) if s.normalized not in reported]
        sb = [s for s in _prose(b) if s.normalized not in reported]
        ops = difflib.SequenceMatcher(None, [s.normalized for s in sa], [s.normalized for s in sb],
                                      autojunk=False).get_opcodes()
        for tag, i1, i2, j1, j2 in ops:
            if tag == "equal":
                continue
            ol, nl = [s.text for s in sa[i1:i2]], [s.text for s in sb[j1:j2]]
            where = b if b is not None else a
            change = ProseChange(where.label, where.title, ol, nl, word_diff(" ".join(ol), " ".join(nl)),
                                 [e.id for e in feeds])
            for e in feeds:
                change.affects.add(e)
            out.append(change)
    return out


# ---------------------------------------------------------------- catalogue links

def _affects_statement(cat: Catalogue, fam: str, change: StatementChange) -> Affects:
    aff = Affects()
    for entry in cat.related(fam, [s for s in (change.old, change.new) if s is not None]):
        aff.add(entry)
    return aff


def diff(old: Document, new: Document, catalogue: Catalogue | None = None,
         threshold: float = MATCH_THRESHOLD) -> DiffReport:
    cat = catalogue if catalogue is not None else load_catalogue()
    fam = family(new)
    report = DiffReport(old.path, new.path)
    report.statements = match_statements(old, new, threshold)
    report.parameters = match_parameters(old, new)
    report.sections = match_sections(old, new)
    reported = {x.normalized for c in report.statements for x in (c.old, c.new) if x is not None}
    report.prose = match_prose(old, new, cat, fam, reported)
    for c in report.statements:
        c.affects = _affects_statement(cat, fam, c)
    for p in report.parameters:
        for entry in cat.entries:
            if entry.family == fam and p.name in entry.parameters:
                p.affects.add(entry)
    for sc in report.sections:
        if sc.kind in ("removed", "renamed") and sc.old_number:
            for entry in cat.entries:
                if entry.family == fam and entry.section == sc.old_number:
                    sc.affects.add(entry)
    return report


__all__ = ["diff", "DiffReport", "StatementChange", "ParameterChange", "SectionChange", "ProseChange",
           "word_diff",
           "Affects", "similarity", "MATCH_THRESHOLD", "STRENGTH"]
