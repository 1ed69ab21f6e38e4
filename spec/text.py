"""Reader for the plain-text rendering of an RFC or Internet-Draft (xml2rfc style).

Layout handled (RFC 7322 / xml2rfc v3 text output):

* pages: form feeds, page footers (``... [Page N]``) and running headers
  (``Internet-Draft  <title>  <date>``, ``RFC NNNN  <title>  <date>``) are removed, and
  a paragraph, list item or figure cut by a page break is joined again;
* headings in column 0: ``5.2.1.  Title``, ``Appendix A.  Title``, ``A.1.  Title``, and
  unnumbered ones (``Acknowledgements``, ``Appendix``); a title that wraps continues on
  the next, indented line. Unnumbered headings take their level from the table of
  contents (its indentation), so an unnumbered appendix keeps its parent;
* everything before section 1 is front matter (its ``Abstract`` is kept); references
  and authors' addresses are marked ``generated`` (the Markdown source has no text for
  them: kramdown-rfc produces them from the front matter);
* blocks are separated by blank lines: bullets (``*``, ``o``, ``-``, ``1.``) are list
  items, also nested; grid tables (``+===+`` / ``|...|``) become tables with one row per
  line, cells of a wrapped row joined; captions (``Figure 1: ...``, ``Table 2``) title
  the figure or table before them; blocks indented deeper than the body, or code
  at body indentation (``struct {``, a lone ``F(...)`` call), are figures, unless they
  read as prose.
"""

from __future__ import annotations

import re

from expat.spec.document import Block, Document, Section, slug

_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s{1,3}(\S.*?)\s*$")
_APPENDIX = re.compile(r"^Appendix\s+([A-Z](?:\.\d+)*)\.?\s+(\S.*?)\s*$")
_SUBAPP = re.compile(r"^([A-Z](?:\.\d+)+)\.?\s{1,3}(\S.*?)\s*$")
_FOOTER = re.compile(r"\[Page \d+\]\s*$")
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
          r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)")
# running header: document, title, date as "September 2026", "19 September 2026" or "September 19, 2026"
_HEADER = re.compile(r"^(?:RFC \d+|Internet-Draft|INTERNET-DRAFT)\s{2,}.*\s{2,}(?:\d{1,2}\s+)?"
                     + _MONTH + r"\s+(?:\d{1,2},\s+)?\d{4}\s*$")
_BULLET = re.compile(r"^(\s*)(?:[*o-]|\d+\.|\(\d+\)|[a-z]\.)\s+(\S.*)$")
_CAPTION = re.compile(r"^\s+(Figure|Table)\s+\d+(?::\s*(.*?))?\s*$")
_GRID_BORDER = re.compile(r"^\s*\+[=+-]+\+\s*$")
_GRID_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TOC_ENTRY = re.compile(r"^(\s+)((?:Appendix\s+)?[A-Z0-9]+(?:\.\d+)*\.?\s{1,3})?(\S.*?)\s*$")
_GENERATED = re.compile(r"^(?:(?:normative|informative)\s+)?references$|^authors?'?s?'? address(?:es)?$", re.I)
_APPENDICES = re.compile(r"^Appendix(?:es|ices)?$", re.I)
_BACK_MATTER = re.compile(r"^(?:Acknowledge?ments?|Contributors|Index|Appendix)$", re.I)
BODY_INDENT = 3   # xml2rfc's; a text indented otherwise is read at its own (body_indent)


def body_indent(lines: list[str]) -> int:
    """The indentation of the running text: the most common one of the prose lines that open a block
    (after a blank line, no bullet, six words or more), BODY_INDENT when there are none."""
    counts: dict[int, int] = {}
    for prev, line in zip([""] + lines, lines):
        if not prev.strip() and line[:1] == " " and len(line.split()) >= 6 and not _BULLET.match(line) \
                and not re.search(r"\S {3,}\S|[|{};]\s*$", line):
            counts[_indent(line)] = counts.get(_indent(line), 0) + 1
    return max(counts, key=lambda k: (counts[k], -k)) if counts else BODY_INDENT


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _heading(line: str) -> re.Match | None:
    """A numbered heading in column 0 (not a numbered sentence or list item)."""
    m = _APPENDIX.match(line)
    if m:
        return m
    m = _NUMBERED.match(line) or _SUBAPP.match(line)
    if m and not line.rstrip().endswith((".", ",", ";")):
        return m
    return None


# ---------------------------------------------------------------- pages

def strip_pages(source: str, body: int | None = None) -> list[str]:
    """Lines without page headers, footers and form feeds; text cut by a page break rejoined.
    ``body``: the running text's indentation (default: :func:`body_indent` of the source)."""
    raw = source.replace("\r\n", "\n").expandtabs(8).split("\n")
    if body is None:
        body = body_indent(raw)
    out: list[str] = []
    i = 0
    while i < len(raw):
        line = raw[i]
        is_break = "\f" in line or _FOOTER.search(line) or _HEADER.match(line.replace("\f", ""))
        if not is_break:
            out.append(line)
            i += 1
            continue
        # a page break: footer, form feed, header, in any combination, with blank lines around
        j = i
        while j < len(raw):
            t = raw[j].replace("\f", "")
            if "\f" in raw[j] or _FOOTER.search(t) or _HEADER.match(t) or not t.strip():
                j += 1
                continue
            break
        while out and not out[-1].strip():
            out.pop()
        before = out[-1] if out else ""
        after = raw[j] if j < len(raw) else ""
        start = len(out)
        while start and out[start - 1].strip():
            start -= 1
        heading = bool(out) and not out[start][:1].isspace()   # a (wrapped) heading ends the block
        if before and after and not heading and _continues(before, after, body, opens=start == len(out) - 1):
            pass                      # same block on both pages: no blank line between
        elif out:
            out.append("")
        i = j
    return out


def _continues(before: str, after: str, body: int = BODY_INDENT, opens: bool = True) -> bool:
    """Whether the line after a page break continues the block before it: it is indented like
    the block's running text (a bullet's text column, else the line before), is no bullet, and
    no paragraph of the body ended at the page end (two blocks there read the same anyway).
    ``opens``: ``before`` is its block's first line; only there can it be a bullet (a wrapped line
    that starts with "5. " after "Section" is running text)."""
    if not after[:1].isspace() or not before[:1].isspace() or _BULLET.match(after) \
            or _CAPTION.match(before) or _CAPTION.match(after):
        return False
    if _artwork(after) or _artwork(before):    # a figure runs on; or one starts, or ended, at the break
        return _artwork(after) and _artwork(before)
    bullet = _BULLET.match(before) if opens else None
    column = len(before) - len(bullet.group(2)) if bullet else _indent(before)
    if column > body + 1 and _indent(after) > body + 1:
        return True                   # artwork (or indented text) running onto the next page
    if _indent(after) != column:
        return False
    return column > body or not before.rstrip().endswith((".", ":"))


def _artwork(line: str) -> bool:
    """A line of a figure: code, a lone call or formula, diagram strokes, or columns (3+ spaces)."""
    short = len(line.split()) <= 3           # code lines end in { } ; -- prose ones are longer
    return _looks_like_code([line]) or bool(re.search(r"\||\+[=-]|[=-]\+|-->|<--|\S {3,}\S", line)) \
        or (short and bool(re.search(r"[{};]\s*$", line)))


# ---------------------------------------------------------------- table of contents

def _toc_levels(lines: list[str], start: int) -> tuple[dict[str, int], int]:
    """Title -> level of the ToC entries after ``start``; and the index where the ToC ends."""
    levels: dict[str, int] = {}
    entries: list[tuple[int, str]] = []
    base = None
    i = start
    while i < len(lines):
        line = lines[i]
        if line and not line[0].isspace():
            break
        m = _TOC_ENTRY.match(line) if line.strip() else None
        if m:
            ind = _indent(line)
            if entries and ind > entries[-1][0] + 2:          # a wrapped title
                entries[-1] = (entries[-1][0], entries[-1][1] + " " + m.group(3))
            else:
                entries.append((ind, m.group(3)))
        i += 1
    for ind, title in entries:
        base = ind if base is None else min(base, ind)
    for ind, title in entries:
        levels.setdefault(_title_key(title), (ind - (base or 0)) // 2 + 1)
    return levels, i


def _title_key(title: str) -> str:
    title = re.sub(r"\s*(?:\.\s?){2,}\s*\d+\s*$", "", title)     # ToC dot leaders and page numbers
    return re.sub(r"\s+", " ", title).strip().lower()


# ---------------------------------------------------------------- tables

def _grid_table(block: list[str]) -> str | None:
    """A grid table as Markdown-like rows (``| a | b |``), header first; None if not one."""
    if not (_GRID_BORDER.match(block[0]) and _GRID_BORDER.match(block[-1])):
        return None
    if not all(_GRID_BORDER.match(x) or _GRID_ROW.match(x) for x in block):
        return None
    border = block[0].strip()
    cuts = [k for k, ch in enumerate(border) if ch == "+"]
    offset = _indent(block[0])
    rows: list[list[str]] = []
    header_rows = 0
    current: list[list[str]] | None = None
    seen_border = 0
    for line in block:
        if _GRID_BORDER.match(line):
            if current:
                rows.append([" ".join(w for w in col if w) for col in current])
            current = None
            seen_border += 1
            if "=" in line and seen_border > 1 and not header_rows:
                header_rows = len(rows)
            continue
        body = line.rstrip()[offset:]
        cells = [body[cuts[k] + 1:cuts[k + 1]].strip() for k in range(len(cuts) - 1)]
        if current is None:
            current = [[] for _ in cells]
        for col, c in zip(current, cells):
            col.append(c)
    if not rows:
        return None
    if header_rows > 1:    # several header rows: one header, cells joined by column
        merged = [" ".join(c for c in col if c) for col in zip(*rows[:header_rows])]
        rows = [merged] + rows[header_rows:]
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


_DASHES = re.compile(r"^\s*-{2,}(?:\s+-{2,})+\s*$")


def _dash_table(block: list[str]) -> str | None:
    """A table whose header is underlined by dash runs (xml2rfc v2 ``texttable``), as rows."""
    under = next((k for k, x in enumerate(block) if _DASHES.match(x)), None)
    if under is None or under == 0 or under == len(block) - 1:
        return None
    spans = [(m.start(), m.end()) for m in re.finditer(r"-{2,}", block[under])]
    cuts = [a for a, _ in spans] + [10 ** 6]

    def cells(line: str) -> list[str]:
        return [line[cuts[k]:cuts[k + 1]].strip() for k in range(len(spans))]

    head = [" ".join(c) for c in zip(*(cells(x) for x in block[:under]))]
    rows = [cells(x) for x in block[under + 1:] if x.strip() and not _DASHES.match(x)]
    return "\n".join("| " + " | ".join(r) + " |" for r in [head] + rows)


# ---------------------------------------------------------------- blocks

def _looks_like_prose(block: list[str]) -> bool:
    joined = "\n".join(block)
    if re.search(r"\||\+-|-->|<--|[{};]\s*$|^\s*[\w-]+\s*\(.*\)\s*$", joined, re.M):
        return False
    gaps = re.findall(r"(\S)\s{2,}(?=\S)", joined)
    if any(ch not in ".:?!)" for ch in gaps):
        return False
    words = len(joined.split())
    return joined.rstrip().endswith((".", ":", ";")) or words >= 5 * len(block)


def _looks_like_code(block: list[str]) -> bool:
    """Code or a formula at body indentation: ``struct {``, ``} Name;``, a lone call or ``X = ...``."""
    if any(re.match(r"^\s*(?:struct|enum|select|case)\b.*\{\s*$|^\s*\}\s*\w*\s*;\s*$", x) for x in block):
        return True
    if len(block) == 1:
        x = block[0].strip()
        return (_lone_call(x) or bool(re.fullmatch(r"[A-Za-z][\w -]{0,40}=\s*\S.*", x))) and not x.endswith(".")
    return False


def _lone_call(x: str) -> bool:
    """``F(...)`` making up the whole line: the name touches its parenthesis, which closes at the end."""
    m = re.match(r"[A-Za-z][\w-]*\(", x)
    if not m:
        return False
    depth = 0
    for k, ch in enumerate(x.rstrip(";").rstrip()):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and k >= m.end() - 1:
            return k == len(x.rstrip(";").rstrip()) - 1
    return False


def _join(lines: list[str]) -> str:
    """Lines of one paragraph as one string; a line broken after a hyphen ("PKI-" / "based")
    is joined without a space (xml2rfc breaks only at hyphens the text has)."""
    out = ""
    for x in lines:
        x = x.strip()
        out = out + x if re.search(r"[A-Za-z0-9]-$", out) else (out + " " + x if out else x)
    return out


def parse_text(source: str, path: str = "") -> Document:
    raw = source.replace("\r\n", "\n").expandtabs(8).split("\n")
    body = body_indent(raw)
    lines = strip_pages(source, body)
    sections: list[Section] = []
    current: Section | None = None
    stack: list[Section] = []
    toc_levels: dict[str, int] = {}
    block: list[str] = []
    block_line = 0
    seen_numbered = False

    def add(kind: str, text: str, title: str = "") -> None:
        current.blocks.append(Block(kind, text, block_line, title))

    def flush() -> None:
        nonlocal block
        if current is None or not block:
            block = []
            return
        if len(block) > 1 and _CAPTION.match(block[-1]) and not _CAPTION.match(block[-2]):
            caption = block[-1]                  # a caption right under its figure or table
            block = block[:-1]
            flush()
            block = [caption]
        first = block[0]
        ind = _indent(first)
        prev = current.blocks[-1] if current.blocks else None
        cap = _CAPTION.match(first) if len(block) == 1 else None
        table = _grid_table(block) or _dash_table(block)
        m = _BULLET.match(first)
        if cap and prev is not None and prev.kind in ("figure", "table"):
            prev.title = cap.group(2) or f"{cap.group(1)} {first.split()[1]}"
        elif table is not None:
            add("table", table)
        elif m and (ind <= body + 1 or (prev is not None and prev.kind == "item")) \
                and not _looks_like_code(block):
            add("item", _join([m.group(2)] + block[1:]))
        elif _looks_like_code(block) or (ind > body + 1 and not _looks_like_prose(block)):
            add("figure", "\n".join(x.rstrip() for x in block))
        else:
            add("para", _join(block))
        block = []

    def open_section(number: str, title: str, line_no: int, level: int | None = None) -> Section:
        nonlocal stack
        if level is None and number:
            level = number.count(".") + 1
        elif level is None and toc_levels:
            level = toc_levels.get(_title_key(title), 1)
        elif level is None:   # no table of contents: unnumbered headings after "Appendix" are its children
            container = next((s for s in reversed(stack) if not s.number and _APPENDICES.match(s.title)), None)
            level = container.level + 1 if container is not None and not _GENERATED.match(title) \
                and not _BACK_MATTER.match(title) else 1
        while len(stack) >= level:
            stack.pop()
        if _GENERATED.match(title) or any(_GENERATED.match(s.title) for s in stack):
            part = "generated"
        elif not number:
            part = "back" if seen_numbered else "front"
        else:
            part = "back" if number[0].isalpha() else "middle"
        sec = Section(number, title, level, slug(title), part, line_no, tuple(s.title for s in stack))
        sections.append(sec)
        stack.append(sec)
        return sec

    i = 0
    while i < len(lines):
        line = lines[i]
        if line and not line[0].isspace():
            flush()
            if line.strip() == "Table of Contents":
                toc_levels, i = _toc_levels(lines, i + 1)
                current = None
                continue
            m = _heading(line)
            # a wrapped title continues on the following indented, non-blank lines
            title_lines = [m.group(2) if m else line.strip()]
            j = i + 1
            while j < len(lines) and lines[j].strip() and lines[j][0].isspace() \
                    and not _BULLET.match(lines[j]) and _indent(lines[j]) <= 12 \
                    and (m or len(lines[j].strip()) < 60):
                title_lines.append(lines[j].strip())
                j += 1
            title = _join(title_lines)
            if m:
                seen_numbered = True
                current = open_section(m.group(1), title, i + 1)
                i = j
                continue
            if title == "Abstract" and not seen_numbered:
                current = Section("", "Abstract", 1, "abstract", "abstract", i + 1)
                sections.append(current)
                stack = []
                i = j
                continue
            # unnumbered back matter; with a table of contents, only the headings it lists
            if seen_numbered and len(title) < 80 and not title.endswith(".") \
                    and (not toc_levels or _title_key(title) in toc_levels or _GENERATED.match(title)
                         or _BACK_MATTER.match(title)):
                current = open_section("", title, i + 1)      # unnumbered back matter
                i = j
                continue
            if not seen_numbered:
                current = None          # other front-matter headings (Status of This Memo, ...)
                i = j
                continue
        if not line.strip():
            flush()
            i += 1
            continue
        if current is None:
            i += 1
            continue
        if not block:
            block_line = i + 1
        block.append(line)
        i += 1
    flush()
    return Document(path, "text", sections, {}, _docname(lines))


def _docname(lines: list[str]) -> str:
    """The document's name from its first page: ``draft-…`` under the title, or the RFC number."""
    for line in lines[:80]:
        m = re.match(r"^\s+(draft-[a-z0-9-]+)\s*$", line) or re.search(r"Request for Comments:\s*(\d+)", line)
        if m:
            return m.group(1) if m.group(1).startswith("draft-") else f"rfc{m.group(1)}"
    return ""
