"""Reader for the plain-text rendering of an RFC or Internet-Draft.

Section headings start in column 0 with their number (``5.2.1.  Certificate``) or as
``Appendix A.  Title``; everything before section 1 is front matter (its
``Abstract`` is kept). Page headers/footers and form feeds are dropped. Inside a
section, blocks are separated by blank lines: a block starting with a bullet or
``N.`` at body indentation is a list item; a block indented deeper than the body
(without a bullet before it) is a figure; other blocks are paragraphs.
"""

from __future__ import annotations

import re

from expat.spec.document import Block, Document, Section, slug

_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s{1,3}(\S.*?)\s*$")
_APPENDIX = re.compile(r"^Appendix\s+([A-Z](?:\.\d+)*)\.?\s+(\S.*?)\s*$")
_SUBAPP = re.compile(r"^([A-Z](?:\.\d+)+)\.?\s{1,3}(\S.*?)\s*$")
_PAGE = re.compile(r"(\[Page \d+\]\s*$)|(^RFC \d+\s{2,}.*\s{2,}\w+ \d{4}\s*$)|(^Internet-Draft\s{2,}.*\s{2,}\w+ \d{4}\s*$)")
_BULLET = re.compile(r"^(\s*)(?:[*o-]|\d+\.|\(\d+\))\s+(\S.*)$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def parse_text(source: str, path: str = "") -> Document:
    lines = [ln for ln in source.replace("\f", "\n").splitlines() if not _PAGE.search(ln)]
    sections: list[Section] = []
    current: Section | None = None
    stack: list[Section] = []
    in_toc = False
    block: list[str] = []
    block_line = 0

    def flush() -> None:
        nonlocal block
        if current is None or not block:
            block = []
            return
        first = block[0]
        ind = _indent(first)
        body_ind = 3
        m = _BULLET.match(first)
        if m and ind <= body_ind + 1:
            text = " ".join([m.group(2)] + [x.strip() for x in block[1:]])
            current.blocks.append(Block("item", text, block_line))
        elif ind > body_ind + 1 and not (current.blocks and current.blocks[-1].kind == "item"
                                         and ind <= body_ind + 4 and not _looks_like_code(block)):
            current.blocks.append(Block("figure", "\n".join(x.rstrip() for x in block), block_line))
        elif first.lstrip().startswith("|"):
            text = " ".join(x.strip().lstrip("|").strip() for x in block)
            current.blocks.append(Block("para", text, block_line))
        else:
            current.blocks.append(Block("para", " ".join(x.strip() for x in block), block_line))
        block = []

    for i, line in enumerate(lines):
        if line and not line[0].isspace():
            if line.strip() == "Table of Contents":
                flush()
                in_toc = True
                current = None
                continue
            m = _NUMBERED.match(line) or _APPENDIX.match(line) or _SUBAPP.match(line)
            if m and not line.rstrip().endswith(tuple(".,;")) or (m and _APPENDIX.match(line)):
                flush()
                in_toc = False
                number, title = m.group(1), m.group(2)
                level = number.count(".") + 1
                while len(stack) >= level:
                    stack.pop()
                part = "back" if number[0].isalpha() else "middle"
                current = Section(number, title, level, slug(title), part, i + 1,
                                  tuple(s.title for s in stack))
                sections.append(current)
                stack.append(current)
                continue
            if line.strip() == "Abstract" and not sections:
                flush()
                current = Section("", "Abstract", 1, "abstract", "abstract", i + 1)
                sections.append(current)
                continue
            if sections and sections[-1].title != "Abstract" and len(line.strip()) < 60 \
                    and not line.rstrip().endswith("."):
                # unnumbered back matter (Acknowledgements, Author's Address)
                flush()
                current = Section("", line.strip(), 1, slug(line.strip()), "back", i + 1)
                sections.append(current)
                stack = [current]
                continue
            if not sections or sections[-1].title == "Abstract":
                # front-matter headings (Status of This Memo, Copyright Notice)
                flush()
                current = None
                continue
        if in_toc:
            continue
        if not line.strip():
            flush()
            continue
        if not block:
            block_line = i + 1
        block.append(line)
    flush()
    return Document(path, "text", sections, {})


def _looks_like_code(block: list[str]) -> bool:
    joined = "\n".join(block)
    return bool(re.search(r"[{};]|\|\||<\d|\w\(.*\)\s*=", joined))
