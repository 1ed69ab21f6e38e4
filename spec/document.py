"""A draft as sections and blocks, independent of its source format.

Both readers (:mod:`expat.spec.markdown` for kramdown-rfc, :mod:`expat.spec.text` for
the plain-text rendering) produce a :class:`Document`: an ordered list of
:class:`Section` objects numbered as the rendered document numbers them, each
holding :class:`Block` objects (paragraphs, list items, figures, tables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


class SpecInputError(Exception):
    """The draft could not be read (missing, not text, or no recognisable structure)."""


@dataclass
class Block:
    kind: str          # "para" | "item" | "figure" | "table"
    text: str          # prose joined with single spaces; figures and tables keep their lines
    line: int          # 1-based line in the source file
    title: str = ""    # figure title or anchor (kramdown IAL), if any


@dataclass
class Section:
    number: str        # as rendered: "3.1", "A", "A.2"; "" when unnumbered
    title: str
    level: int
    anchor: str
    part: str          # "abstract" | "middle" | "back" | "front" | "generated" (references, addresses)
    line: int
    parent_titles: tuple[str, ...] = ()
    blocks: list[Block] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How a finding names the section: its number, else its title."""
        return self.number or self.title

    @property
    def path(self) -> tuple[str, ...]:
        return self.parent_titles + (self.title,)

    @property
    def is_content(self) -> bool:
        """Text the authors wrote: not front matter, references or addresses (renderer output)."""
        return self.part not in ("front", "generated") and "references" not in self.title.lower()

    def prose(self) -> list[Block]:
        return [b for b in self.blocks if b.kind in ("para", "item")]


@dataclass
class Document:
    path: str
    format: str        # "markdown" | "text"
    sections: list[Section]
    aliases: dict[str, str] = field(default_factory=dict)   # kramdown reference aliases
    name: str = ""

    def section(self, label: str) -> Section:
        for s in self.sections:
            if s.label == label or s.anchor == label:
                return s
        raise KeyError(label)

    def is_iana(self, section: Section) -> bool:
        return any("iana" in t.lower() for t in section.path)


def slug(title: str) -> str:
    """kramdown-rfc style automatic anchor for an untagged heading."""
    s = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"name-{s}"


# Typography a word processor or a hand edit may bring in, read as the plain characters xml2rfc and
# kramdown-rfc use: curly double quotes (labels and registry names are quoted), no-break spaces and
# hyphens. Apostrophes are left alone (sentences of the shared drafts carry them).
_TYPOGRAPHY = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00a0": " ", "\u202f": " ",
                             "\u2007": " ", "\u2011": "-"})


def load(path: str | Path, *, fmt: str | None = None) -> Document:
    """Read a draft from ``path``; the format is guessed from the suffix and content."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SpecInputError(f"cannot read {p}: {exc.strerror or exc}") from exc
    if b"\x00" in raw:
        raise SpecInputError(f"{p} is not a text file")
    try:
        source = raw.decode("utf-8-sig")          # a byte-order mark is not text
    except UnicodeDecodeError as exc:
        raise SpecInputError(f"{p} is not UTF-8 text") from exc
    source = source.translate(_TYPOGRAPHY)
    if fmt is None:
        fmt = "text" if p.suffix.lower() == ".txt" else "markdown"
        if p.suffix.lower() not in (".md", ".txt") and not re.search(r"(?m)^#{1,6} ", source):
            fmt = "text"
    if fmt == "markdown":
        from expat.spec.markdown import parse_markdown
        doc = parse_markdown(source, str(p))
    elif fmt == "text":
        from expat.spec.text import parse_text
        doc = parse_text(source, str(p))
    else:
        raise SpecInputError(f"unknown format {fmt!r}")
    if not doc.sections:
        raise SpecInputError(f"{p}: no sections found")
    return doc
