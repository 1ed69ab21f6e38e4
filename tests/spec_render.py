"""Test fixture generator: a second rendering of the same draft text.

``to_text`` renders a parsed draft the way xml2rfc lays out plain text (numbered
headings in column 0, wrapped titles indented under the title, three-space body,
``*  `` bullets, figures with captions, grid tables, a table of contents, references and
addresses), optionally cut into pages with running headers, footers and form feeds.
``to_markdown`` renders it as kramdown-rfc Markdown. Both work from a parsed
:class:`expat.spec.document.Document`, so fixtures are produced at test time from the
shared drafts (never stored) or from the small synthetic drafts in spec_fixtures/.
"""

from __future__ import annotations

import re
import textwrap

from expat.spec.document import Document, Section

FOOTER = "Writer, et al.          Expires 1 January 2031          [Page {n}]"
HEADER = "Internet-Draft          Fixture Rendering               July 2030"


def _inline(text: str, doc: Document) -> str:
    """kramdown references and markup as xml2rfc prints them."""
    def ref(m: re.Match) -> str:
        body = m.group(1).strip()
        sec = re.match(r"(Sections?\s+[\w.]+)\s+of\s+(\S+)", body)
        if sec:
            name = sec.group(2).lstrip("-!?")
            return f"{sec.group(1)} of [{doc.aliases.get(name, name)}]"
        if body == "&SELF":
            return "[RFCthis]"
        name = body.lstrip("-!?")
        return f"[{doc.aliases.get(name, name)}]"
    t = re.sub(r"\{\{(.*?)\}\}", ref, text, flags=re.S)
    t = re.sub(r"[`*]", "", t)
    return re.sub(r"\s+", " ", t).strip()


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]


def _prefix(s: Section) -> str:
    if not s.number:
        return ""
    if s.number[0].isalpha() and "." not in s.number:
        return f"Appendix {s.number}.  "
    return f"{s.number}.  "


def _caption(text: str, width: int) -> list[str]:
    """A centred caption, wrapped (never in column 0)."""
    return [("  " + x).center(width).rstrip() for x in textwrap.wrap(text, width - 8)]


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    border = lambda ch: "   +" + "+".join(ch * (w + 2) for w in widths) + "+"  # noqa: E731
    line = lambda r: "   |" + "|".join(f" {c:<{w}} " for c, w in zip(r, widths)) + "|"  # noqa: E731
    out = [border("="), line(rows[0]), border("=")]
    for r in rows[1:]:
        out += [line(r), border("-")]
    return out


def _table_rows(text: str) -> list[list[str]]:
    rows = [[c.strip() for c in r.strip().strip("|").split("|")] for r in text.splitlines()]
    return [r for r in rows if not all(re.fullmatch(r":?-+:?", c) for c in r if c)]


def _body(doc: Document, width: int, heading_width: int) -> tuple[list[str], list[str]]:
    """(table of contents, body lines) of the middle and back."""
    toc: list[str] = []
    body: list[str] = []
    figures = tables = 0
    for s in doc.sections:
        if s.part in ("abstract", "front", "generated"):
            continue
        prefix = _prefix(s)
        toc += _wrap(f"{prefix}{s.title}", width, "   " + "  " * (s.level - 1),
                     "   " + "  " * (s.level - 1) + " " * (len(prefix) + 4))
        body += _wrap(f"{prefix}{s.title}", heading_width, "", " " * max(len(prefix), 3)) + [""]
        for b in s.blocks:
            if b.kind == "para":
                body += _wrap(_inline(b.text, doc), width, "   ", "   ")
            elif b.kind == "item":
                body += _wrap(_inline(b.text, doc), width, "   *  ", "      ")
            elif b.kind == "figure":
                lines = b.text.splitlines()
                cut = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
                body += ["      " + x[cut:].rstrip() if x.strip() else "" for x in lines]
                if b.title:
                    figures += 1
                    body += [""] + _caption(f"Figure {figures}: {b.title}", width)
            elif b.kind == "table":
                tables += 1
                body += _grid(_table_rows(b.text)) + [""] + _caption(f"Table {tables}", width)
            body.append("")
    return toc, body


def to_text(doc: Document, width: int = 72, heading_width: int = 72) -> list[str]:
    """Lines of an unpaginated RFC-style rendering of ``doc``."""
    toc, body = _body(doc, width, heading_width)
    out = ["Fixture Working Group", "Internet-Draft", "", "Fixture Rendering".center(width), ""]
    for s in doc.sections:
        if s.part == "abstract":
            out += ["Abstract", ""]
            for b in s.blocks:
                out += _wrap(_inline(b.text, doc), width, "   ", "   ") + [""]
    out += ["Status of This Memo", "", "   A fixture; not a memo of anyone.", ""]
    number = max((int(s.number.split(".")[0]) for s in doc.sections
                  if s.number[:1].isdigit()), default=0) + 1
    toc += [f"   {number}.  References", f"     {number}.1.  Normative References"]
    out += ["Table of Contents", ""] + toc + ["   Authors' Addresses", ""] + body
    out += [f"{number}.  References", "", f"{number}.1.  Normative References", "",
            "   [FIXTURE]  Writer, A., \"A Reference Entry Written for Tests\", 2030.", "",
            "Authors' Addresses", "", "   A. Writer", "   Email: writer@example.org", ""]
    return out


def paginate(lines: list[str], breaks: list[int], formfeed_line: bool = True) -> str:
    """Cut ``lines`` into pages before each index in ``breaks`` (xml2rfc page furniture).

    As xml2rfc does, a heading is kept with what follows: no break inside or right after one.
    """
    out: list[str] = []
    page = 1
    in_heading = False
    for i, line in enumerate(lines):
        in_heading = bool(line[:1].strip()) or (in_heading and bool(line.strip()))
        if i in breaks and not (i and (lines[i - 1][:1].strip() or in_heading)):
            out += ["", "", FOOTER.format(n=page)]
            out += ["\f", HEADER] if formfeed_line else ["\f" + HEADER]
            out += [""]
            page += 1
        out.append(line)
    return "\n".join(out) + "\n"


def to_markdown(doc: Document) -> str:
    """A kramdown-rfc Markdown rendering of ``doc`` (references and addresses left to the renderer)."""
    out = ["---", "title: Fixture Rendering", "---", ""]
    part = ""
    for s in doc.sections:
        if s.part in ("front", "generated"):
            continue
        want = s.part if s.part in ("abstract", "back") else "middle"
        if want != part:
            out += [f"--- {want}", ""]
            part = want
        if s.part != "abstract":
            out.append("#" * s.level + " " + s.title)
            if not s.number:
                out.append("{:unnumbered}")
            out.append("")
        for b in s.blocks:
            if b.kind == "para":
                out += [b.text, ""]
            elif b.kind == "item":
                out += [f"* {b.text}", ""]
            elif b.kind == "figure":
                out += ["~~~", textwrap.dedent(b.text), "~~~"]
                out += [f'{{: title="{b.title}"}}'] if b.title else []
                out.append("")
            elif b.kind == "table":
                rows = _table_rows(b.text)
                out.append("| " + " | ".join(rows[0]) + " |")
                out.append("|" + "|".join("---" for _ in rows[0]) + "|")
                out += ["| " + " | ".join(r) + " |" for r in rows[1:]] + [""]
    return "\n".join(out) + "\n"
