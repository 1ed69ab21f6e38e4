"""BCP 14 statements (RFC 2119 / RFC 8174 keywords in capitals) and sentences.

Every prose sentence of a draft is extracted with its section; the ones that contain a
BCP 14 keyword in capitals are normative statements. The terminology boilerplate that
lists all keywords is not a statement. Sentences are compared after
:func:`normalize` (whitespace, kramdown references and markup removed), so reflowed
paragraphs and renumbered sections do not change them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from expat.spec.document import Document, Section

# Longest alternatives first so "MUST NOT" is not read as "MUST".
KEYWORDS = ("MUST NOT", "SHALL NOT", "SHOULD NOT", "NOT RECOMMENDED", "MUST", "REQUIRED",
            "SHALL", "SHOULD", "RECOMMENDED", "MAY", "OPTIONAL")
_KW = re.compile(r"(?<![A-Za-z-])(MUST\s+NOT|SHALL\s+NOT|SHOULD\s+NOT|NOT\s+RECOMMENDED|MUST|REQUIRED"
                 r"|SHALL|SHOULD|RECOMMENDED|MAY|OPTIONAL)(?![A-Za-z-])")
# Strength order for reporting "SHOULD -> MUST" (higher is stronger).
STRENGTH = {"": 0, "MAY": 1, "OPTIONAL": 1, "SHOULD": 2, "RECOMMENDED": 2, "SHOULD NOT": 2,
            "NOT RECOMMENDED": 2, "MUST": 3, "REQUIRED": 3, "SHALL": 3, "MUST NOT": 3,
            "SHALL NOT": 3}

_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z\"'`(\[*_{])")
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|cf|vs|Sec|Fig|No)\.|\b[A-Z]\.)$")

# Words naming who acts (actors) or what a constraint is placed on (protocol elements).
ACTORS = {"client", "server", "endpoint", "peer", "party", "implementation", "receiver",
          "recipient", "sender", "requester", "attester", "verifier", "application", "stack",
          "library", "api", "iana", "tee", "hsm", "platform", "user", "ca", "authority",
          "node", "device", "entity", "caller", "operator", "deployment", "relying", "we",
          "it", "they", "this", "these", "those", "each", "both", "either", "one"}
ELEMENTS = {"extension", "message", "field", "value", "evidence", "credential", "result",
            "key", "signature", "certificate", "request", "authenticator", "context", "label",
            "hash", "scheme", "entry", "list", "structure", "struct", "data", "token", "claim",
            "nonce", "record", "exporter", "secret", "cmw", "identifier", "codepoint",
            "chain", "flag", "alert", "connection", "handshake", "session", "ticket",
            "mechanism", "algorithm", "certificates", "extensions", "messages", "values",
            "results", "credentials", "keys", "entries", "labels"}
# -er/-or words that do not name an agent.
_NOT_AGENTS = {"other", "order", "number", "parameter", "after", "under", "over", "whether",
               "either", "neither", "rather", "together", "later", "proper", "error", "header",
               "identifier", "buffer", "counter", "cipher", "layer", "never", "however"}
_RELATIVE = re.compile(r"\b(that|which|who|whose|where|when|if)\b.*$", re.I)


@dataclass(frozen=True)
class Sentence:
    section: str            # rendered number, or title when unnumbered
    title: str              # section title
    anchor: str
    text: str               # as found (markup kept, whitespace collapsed)
    keywords: tuple[str, ...]
    line: int
    block: str              # "para" | "item"

    @property
    def normative(self) -> bool:
        return bool(self.keywords)

    @property
    def strength(self) -> str:
        """The strongest keyword (ties: the first one)."""
        if not self.keywords:
            return ""
        return max(self.keywords, key=lambda k: STRENGTH[k])

    @property
    def normalized(self) -> str:
        return normalize(self.text)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.text)

    def as_dict(self) -> dict:
        return {"section": self.section, "title": self.title, "anchor": self.anchor,
                "keywords": list(self.keywords), "sentence": self.text, "line": self.line,
                "fingerprint": self.fingerprint}


def normalize(text: str) -> str:
    """Lower-case words only: kramdown references, markup, quotes and spacing removed."""
    t = re.sub(r"\{\{.*?\}\}", " ", text, flags=re.S)         # {{RFC9261}}, {{Section 9.3 of -tls13}}, {{binding}}
    t = re.sub(r"\[[A-Za-z][\w.:+/-]*\]", " ", t)              # [RFC8446], [RA-TLS] in plain text
    # cross-references as rendered ("Section 5", "Section 9.3 of", "Figure 1"): {{anchor}} in the source
    t = re.sub(r"\b(?:Sections?|Appendix|Figure|Table)\s+(?:[A-Z]\b|\d)[\d.]*(?<!\.)(?:\s+of\b)?", " ", t)
    t = re.sub(r"[`*_]{1,2}(?=\w)|(?<=\w)[`*_]{1,2}", lambda m: "_" if m.group(0) == "_" else "", t)
    t = t.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9_.'-]*[A-Za-z0-9]|[A-Za-z0-9]", t)
    return " ".join(w.lower() for w in words)


_STOP = set("a an the of to in on for by with and or as is are be been being that this these those "
            "it its at from into than then there their any all each such which who whose when where "
            "if not no also can may must shall should will would do does".split())


def terms(text: str) -> list[str]:
    """Sorted distinct content words of a sentence (keywords and stop words removed)."""
    return sorted({w for w in normalize(text).split() if w not in _STOP and len(w) > 1})


def fingerprint(text: str) -> str:
    """A short hash of the normalized sentence: identifies it without storing it."""
    return hashlib.sha256(normalize(text).encode()).hexdigest()[:16]


def find_keywords(text: str) -> tuple[str, ...]:
    return tuple(re.sub(r"\s+", " ", m.group(1)) for m in _KW.finditer(text))


def split_sentences(text: str) -> list[str]:
    parts: list[str] = []
    buf = ""
    for piece in _SPLIT.split(text):
        buf = f"{buf} {piece}".strip() if buf else piece
        if _ABBREV.search(buf.rstrip("\"')]")):
            continue
        parts.append(buf)
        buf = ""
    if buf:
        parts.append(buf)
    return [p.strip() for p in parts if p.strip()]


def is_boilerplate(sentence: str) -> bool:
    """The RFC 2119/8174 terminology paragraph names the keywords; it states nothing."""
    return "BCP 14" in sentence or len(set(find_keywords(sentence))) >= 5


def section_sentences(section: Section) -> list[Sentence]:
    out = []
    for block in section.prose():
        for s in split_sentences(block.text):
            if is_boilerplate(s):
                continue
            out.append(Sentence(section.label, section.title, section.anchor, s,
                                find_keywords(s), block.line, block.kind))
    return out


@dataclass
class Extraction:
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def statements(self) -> list[Sentence]:
        return [s for s in self.sentences if s.normative]


def extract(doc: Document) -> Extraction:
    """All sentences of the draft's prose (list items included, figures and tables not)."""
    ex = Extraction()
    for section in doc.sections:
        if not section.is_content:
            continue
        ex.sentences.extend(section_sentences(section))
    return ex


def statements(doc: Document) -> list[Sentence]:
    return extract(doc).statements


def subject_of(sentence: str) -> str:
    """The clause before the first keyword: the part that should name who acts."""
    m = _KW.search(sentence)
    head = sentence[: m.start()] if m else sentence
    head = re.sub(r"\([^)]*\)", " ", head)
    head = re.sub(r"\{\{.*?\}\}", " ", head)
    head = re.split(r"[,;:]", head)[-1]
    return head.strip()


def has_actor(sentence: str) -> bool:
    """Heuristic: the subject names an actor or a protocol element, or an agent follows "by"."""
    subj = _RELATIVE.sub("", subject_of(sentence))
    words = [w.lower().strip("`'\"") for w in re.findall(r"[A-Za-z_`'\"-]+", subj)]
    words = [w[:-1] if w.endswith("s") and w[:-1] in ACTORS | ELEMENTS else w for w in words]
    if any(w in ACTORS or (w.endswith(("er", "or")) and len(w) > 4 and w not in _NOT_AGENTS)
           for w in words):
        return True
    if words and (words[-1] in ELEMENTS or words[-1].endswith("_attestation") or "_" in words[-1]):
        return True
    tail = sentence[_KW.search(sentence).end():] if _KW.search(sentence) else ""
    return bool(re.search(r"\bby (?:the |an? |each |every )?(\w+)", tail)
                and re.search(r"\bby (?:the |an? |each |every )?(?:\w+ )?("
                              + "|".join(sorted(ACTORS)) + r")s?\b", tail, re.I))
