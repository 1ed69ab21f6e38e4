"""Reader for the kramdown-rfc Markdown form of an Internet-Draft.

Conventions handled: YAML front matter (reference aliases such as
``I-D.ietf-tls-rfc8446bis: tls13``), the ``--- abstract`` / ``--- middle`` /
``--- back`` part markers, ATX headings with ``{#anchor}``, IAL lines
(``{:unnumbered}``, ``{: #fig-x title="..."}``), fenced figures (``~~~`` or
`````), Markdown tables and list items. Section numbers are computed the way the
rendered draft shows them: the middle counts 1, 2, 3.1, ...; the back counts
appendices A, B, A.1, ...; headings marked unnumbered get no number.
"""

from __future__ import annotations

import re

from expat.spec.document import Block, Document, Section, slug

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(?:\{#([\w.:-]+)\})?\s*$")
_PART = re.compile(r"^---\s+(abstract|middle|back|note_\S+)\s*$")
_IAL = re.compile(r"^\{:(.*)\}\s*$")
_FENCE = re.compile(r"^(~~~+|```+)")
_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+\.)\s+(.*)$")
_ALIAS = re.compile(r"^\s{2}([A-Za-z0-9][\w.\-/]*):\s*([\w.\-]+)\s*$")


def _letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(ord("A") + r) + s
    return s


def _front_matter(lines: list[str]) -> tuple[int, dict[str, str]]:
    """Skip the YAML header; return the index of the first body line and the aliases."""
    aliases: dict[str, str] = {}
    if not lines or lines[0].strip() != "---":
        return 0, aliases
    top = ""
    for i in range(1, len(lines)):
        if lines[i].strip() == "---" or _PART.match(lines[i]):
            return (i + 1 if lines[i].strip() == "---" else i), aliases
        if re.match(r"^\w", lines[i]):
            top = lines[i].split(":", 1)[0]
        dm = re.match(r"^docname:\s*(\S+)", lines[i])
        if dm:
            aliases["__docname__"] = dm.group(1)
        m = _ALIAS.match(lines[i])
        if m and top in ("normative", "informative"):
            aliases[m.group(2)] = m.group(1)
    return len(lines), aliases


def parse_markdown(source: str, path: str = "") -> Document:
    lines = source.splitlines()
    start, aliases = _front_matter(lines)
    sections: list[Section] = []
    # a draft without part markers is all middle
    part = "front" if any(_PART.match(x) for x in lines) else "middle"
    counters: list[int] = []
    stack: list[Section] = []
    current: Section | None = None
    para: list[str] = []
    para_kind = "para"
    para_line = 0

    def flush() -> None:
        nonlocal para, para_kind
        text = " ".join(x.strip() for x in para if x.strip())
        if text and current is not None:
            current.blocks.append(Block(para_kind, text, para_line))
        para = []
        para_kind = "para"

    i = start
    while i < len(lines):
        line = lines[i]
        m = _PART.match(line)
        if m:
            flush()
            part = m.group(1)
            counters = []
            stack = []
            if part == "abstract":
                current = Section("", "Abstract", 1, "abstract", part, i + 1)
                sections.append(current)
            i += 1
            continue
        m = _FENCE.match(line)
        if m:
            flush()
            fence = m.group(1)[0] * 3
            body: list[str] = []
            j = i + 1
            while j < len(lines) and not lines[j].startswith(fence):
                body.append(lines[j])
                j += 1
            title = ""
            if j + 1 < len(lines):
                ial = _IAL.match(lines[j + 1].strip())
                if ial:
                    t = re.search(r'title="([^"]*)"', ial.group(1))
                    a = re.search(r"#([\w.:-]+)", ial.group(1))
                    title = (t.group(1) if t else "") or (a.group(1) if a else "")
            if current is not None:
                current.blocks.append(Block("figure", "\n".join(body), i + 2, title))
            i = j + 1
            continue
        m = _HEADING.match(line)
        if m and part in ("middle", "back", "front"):
            flush()
            level = len(m.group(1))
            title = m.group(2).strip()
            anchor = m.group(3) or ""
            unnumbered = False
            j = i + 1
            while j < len(lines) and _IAL.match(lines[j].strip()):
                ial = _IAL.match(lines[j].strip()).group(1)
                unnumbered = unnumbered or "unnumbered" in ial
                a = re.search(r"#([\w.:-]+)", ial)
                anchor = anchor or (a.group(1) if a else "")
                j += 1
            while len(stack) >= level:
                stack.pop()
            parent_unnumbered = any(not s.number for s in stack)
            number = ""
            if not unnumbered and not parent_unnumbered and part != "front":
                counters = counters[:level]
                while len(counters) < level:
                    counters.append(0)
                counters[level - 1] += 1
                if part == "back":
                    number = ".".join([_letters(counters[0])] + [str(c) for c in counters[1:]])
                else:
                    number = ".".join(str(c) for c in counters)
            current = Section(number, title, level, anchor or slug(title), part, i + 1,
                              tuple(s.title for s in stack))
            sections.append(current)
            stack.append(current)
            i = j
            continue
        if current is None:
            i += 1
            continue
        stripped = line.strip()
        if not stripped:
            flush()
        elif _IAL.match(stripped):
            flush()
        elif stripped.startswith("|"):
            if para_kind != "table":
                flush()
                para_kind = "table"
                para_line = i + 1
            para.append(stripped)
            # keep table rows on their own lines
            if i + 1 >= len(lines) or not lines[i + 1].strip().startswith("|"):
                current.blocks.append(Block("table", "\n".join(para), para_line))
                para = []
                para_kind = "para"
        elif _ITEM.match(line):
            flush()
            para_kind = "item"
            para_line = i + 1
            para.append(_ITEM.match(line).group(2))
        else:
            if not para:
                para_line = i + 1
            para.append(line)
        i += 1
    flush()
    seen: dict[str, int] = {}
    for s in sections:   # automatic anchors are made unique as the renderer does
        n = seen.get(s.anchor, 0)
        seen[s.anchor] = n + 1
        if n:
            s.anchor = f"{s.anchor}-{n}"
    name = aliases.pop("__docname__", "")
    return Document(path, "markdown", sections, aliases, name)
