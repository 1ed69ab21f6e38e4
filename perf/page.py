"""The report page as neutral blocks (heading, paragraph, bullets, table, figure) and its two renderings.

``render_html`` gives one self-contained page (inline CSS and SVG, no script; tables with ``<caption>``,
``<th scope="col">`` and a ``<th scope="row">`` per row); ``render_markdown`` the same blocks as GitHub
Markdown with the charts referenced as SVG files. Every text is escaped for its target.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Union

# Cell states: how a cell compares with model/expectations.py (shown as text and as a colour class).
OK, BAD, NEUTRAL = "ok", "bad", "na"

# --- the neutral document ------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    lines: tuple[str, ...]
    state: str = ""

    @staticmethod
    def of(*lines: str, state: str = "") -> "Cell":
        return Cell(tuple(lines), state)


CellLike = Union[str, Cell]


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[CellLike, ...], ...]   # first cell of a row is its header (th scope=row)
    wide: bool = False


@dataclass(frozen=True)
class Figure:
    caption: str
    file: str        # SVG file name next to the Markdown
    svg: str


Block = Union[Heading, Para, Bullets, Table, Figure]


# --- rendering -----------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1500px;
padding:0 1rem;color:#1b1f24;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.8rem 0;font-size:.86rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .45rem;vertical-align:top;text-align:left}
thead th{background:#f3f5f8}
tbody th{font-weight:600;background:#fafbfc}
table.wide td{white-space:nowrap;font-size:.78rem}
td.ok{background:#e8f5e9}td.bad{background:#fdecee;font-weight:600}td.na{background:#fff}
figure{margin:1rem 0;overflow-x:auto}figcaption{font-weight:600;margin-bottom:.3rem}
.generated{color:#57606a;font-size:.85rem}
"""


def _h(s: str) -> str:
    return html.escape(s, quote=True)


def _html_cell(c: CellLike, tag: str, scope: str = "") -> str:
    cell = c if isinstance(c, Cell) else Cell.of(c)
    cls = f' class="{cell.state}"' if cell.state and tag == "td" else ""
    sc = f' scope="{scope}"' if scope else ""
    return f"<{tag}{sc}{cls}>" + "<br>".join(_h(x) for x in cell.lines) + f"</{tag}>"


def render_html(title: str, blocks: list[Block], generated: str) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{_h(title)}</title>",
           f"<style>{CSS.strip()}</style>", "</head>", "<body>", "<main>", f"<h1>{_h(title)}</h1>",
           f'<p class="generated">{_h(generated)}</p>']
    toc = [b for b in blocks if isinstance(b, Heading)]
    out.append('<nav aria-label="Contents"><ul>' + "".join(f'<li><a href="#{b.anchor}">{_h(b.text)}</a></li>'
                                                          for b in toc) + "</ul></nav>")
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f'<h{b.level} id="{b.anchor}">{_h(b.text)}</h{b.level}>')
        elif isinstance(b, Para):
            out.append(f"<p>{_h(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{_h(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            rows = ["<tr>" + _html_cell(r[0], "th", "row") + "".join(_html_cell(c, "td") for c in r[1:]) + "</tr>"
                    for r in b.rows]
            cls = ' class="wide"' if b.wide else ""
            out.append(f'<div class="scroll"><table{cls}><caption>{_h(b.caption)}</caption>'
                       "<thead><tr>" + "".join(f'<th scope="col">{_h(h)}</th>' for h in b.head) + "</tr></thead>"
                       "<tbody>" + "\n".join(rows) + "</tbody></table></div>")
        elif isinstance(b, Figure):
            out.append(f"<figure><figcaption>{_h(b.caption)}</figcaption>\n{b.svg.rstrip()}\n</figure>")
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def _md(s: str) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _md_cell(c: CellLike) -> str:
    cell = c if isinstance(c, Cell) else Cell.of(c)
    return "<br>".join(_md(x) for x in cell.lines) or " "


def render_markdown(title: str, blocks: list[Block], generated: str) -> str:
    out = [f"# {_md(title)}", "", f"_{_md(generated)}_", ""]
    for b in blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + _md(b.text), ""]
        elif isinstance(b, Para):
            out += [_md(b.text), ""]
        elif isinstance(b, Bullets):
            out += [f"* {_md(i)}" for i in b.items] + [""]
        elif isinstance(b, Table):
            out += [f"**{_md(b.caption)}**", "",
                    "| " + " | ".join(_md(h) for h in b.head) + " |",
                    "|" + "---|" * len(b.head)]
            out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b.rows]
            out.append("")
        elif isinstance(b, Figure):
            out += [f"**{_md(b.caption)}**", "", f"![message sequence chart of {_md(b.caption)}]({b.file})", ""]
    return "\n".join(out)
