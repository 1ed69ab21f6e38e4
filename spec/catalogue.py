"""The requirement catalogue: one stable id per normative requirement expat tracks.

Data lives in ``catalogue.json`` next to this module. Each entry names its source
(document, section, keyword), paraphrases it in our own words, and links to what
covers it: named checks (ids in :data:`expat.checks.REGISTRY` or qualified Python
names), pytest node ids, monitors and lemmas (model property ids) and
``expat.profile`` fields. The source sentence itself is not stored: ``fingerprint``
is a hash of its normalized form and ``terms`` its content words, enough for
:mod:`expat.spec.diff` to find the entry again in a later revision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from expat.spec.statements import Sentence, terms

CATALOGUE_PATH = Path(__file__).with_name("catalogue.json")
# Jaccard similarity of content words above which a sentence is taken to be an entry's source.
RELATED_THRESHOLD = 0.5
DOCUMENTS = {"draft-fossati-seat-expat-02": "expat", "draft-fossati-seat-expat-ec": "expat",
             "draft-fossati-seat-expat-04": "expat", "rfc9261": "rfc9261"}
# Revision names used in ``revisions`` (the editor's copy of July 2026 is what became -03).
REVISIONS = ("02", "ec", "04", "9261")


@dataclass
class Entry:
    id: str
    document: str
    section: str
    keyword: str
    paraphrase: str
    revisions: list[str] = field(default_factory=list)
    fingerprint: str = ""
    terms: list[str] = field(default_factory=list)
    parameters: list[str] = field(default_factory=list)        # draft parameter names
    profile_parameters: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    monitors: list[str] = field(default_factory=list)
    lemmas: list[str] = field(default_factory=list)

    @property
    def family(self) -> str:
        return DOCUMENTS.get(self.document, self.document)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Catalogue:
    entries: list[Entry]

    def get(self, id: str) -> Entry:
        for e in self.entries:
            if e.id == id:
                return e
        raise KeyError(id)

    def revision(self, rev: str | None) -> list[Entry]:
        if not rev:
            return list(self.entries)
        return [e for e in self.entries if rev in e.revisions]

    def related(self, family: str, sentences: list[Sentence],
                threshold: float = RELATED_THRESHOLD) -> list[Entry]:
        """Entries whose source is one of ``sentences`` (by fingerprint, else by content words)."""
        prints = {s.fingerprint for s in sentences}
        exact = [e for e in self.entries if e.family == family and e.fingerprint in prints]
        if exact:
            return exact
        scored = []
        sentence_terms = [(s, set(terms(s.text))) for s in sentences]
        for e in self.entries:
            if e.family != family or not e.terms:
                continue
            et = set(e.terms)
            best = 0.0
            for s, st in sentence_terms:
                j = len(et & st) / len(et | st) if et | st else 0.0
                if s.section == e.section:
                    j += 0.1
                best = max(best, j)
            if best >= threshold:
                scored.append((best, e))
        scored.sort(key=lambda p: -p[0])
        return [e for _, e in scored[:3]]


def load_catalogue(path: Path | str = CATALOGUE_PATH) -> Catalogue:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return Catalogue([Entry(**e) for e in data["entries"]])


@dataclass
class Coverage:
    total: int
    covered: dict[str, int]
    missing: dict[str, list[str]]

    def as_dict(self) -> dict:
        return {"total": self.total, "covered": self.covered, "missing": self.missing}


COVERAGE_KINDS = ("checks", "tests", "monitors", "lemmas")


def coverage(entries: list[Entry]) -> Coverage:
    covered = {k: sum(1 for e in entries if getattr(e, k)) for k in COVERAGE_KINDS}
    missing = {k: [e.id for e in entries if not getattr(e, k)] for k in COVERAGE_KINDS}
    return Coverage(len(entries), covered, missing)
