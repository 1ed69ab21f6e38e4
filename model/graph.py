"""The role tables as a networkx graph, and its renderings (text, Graphviz dot, SVG).

Nodes are ``"Role:State"``; each table row is one edge carrying its event, guards, ``when`` flags and
checks. With a profile, rows whose ``when`` does not hold are left out, so the graph is the model
under that profile (the attack edges of a switched-off mitigation appear only then).
"""

from __future__ import annotations

import html
import shutil
import subprocess
from typing import Iterable

import networkx as nx

from expat.model.roles import INITIAL, TABLES, Row, states


def node(role: str, state: str) -> str:
    return f"{role}:{state}"


def build_graph(roles: Iterable[str] | None = None, profile: dict | None = None) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for role in (roles or TABLES):
        for s in states(role):
            g.add_node(node(role, s), role=role, state=s, initial=(s == INITIAL[role]))
        for row in TABLES[role]:
            if profile is not None and not row.enabled_under(profile):
                continue
            g.add_edge(node(role, row.src), node(role, row.dst), key=len(g.edges), event=row.event, row=row)
    return g


def _roles(g: nx.MultiDiGraph) -> list[str]:
    """The roles of ``g``'s nodes, in order of first appearance."""
    return list(dict.fromkeys(d["role"] for _, d in g.nodes(data=True)))


def _label(row: Row) -> str:
    parts = [row.event]
    if row.guard:
        parts.append("[" + ", ".join(row.guard) + "]")
    if row.when:
        parts.append("when " + row.when)
    return "\n".join(parts)


def to_text(g: nx.MultiDiGraph) -> str:
    out = []
    roles = _roles(g)
    for role in roles:
        out.append(f"{role} (initial state {INITIAL[role]})")
        for u, v, d in g.edges(data=True):
            if g.nodes[u]["role"] != role:
                continue
            row: Row = d["row"]
            extra = []
            if row.guard:
                extra.append("guard: " + ", ".join(row.guard))
            if row.effect:
                extra.append("effect: " + row.effect)
            if row.when:
                extra.append("when: " + row.when)
            if row.checks:
                extra.append("checks: " + ", ".join(row.checks))
            out.append(f"  {row.src:<10} --{row.event}--> {row.dst:<10} {'; '.join(extra)}")
        out.append("")
    return "\n".join(out)


def to_dot(g: nx.MultiDiGraph) -> str:
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = ["digraph expat {", "  rankdir=LR;", "  node [shape=box, style=rounded, fontname=Helvetica];",
             "  edge [fontname=Helvetica, fontsize=9];"]
    roles = _roles(g)
    for i, role in enumerate(roles):
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(f"    label={q(role)};")
        for n, d in g.nodes(data=True):
            if d["role"] == role:
                shape = ", peripheries=2" if d["initial"] else ""
                lines.append(f"    {q(n)} [label={q(d['state'])}{shape}];")
        lines.append("  }")
    for u, v, d in g.edges(data=True):
        style = ", style=dashed, color=red" if d["row"].when else ""
        lines.append(f"  {q(u)} -> {q(v)} [label={q(_label(d['row']))}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(g: nx.MultiDiGraph) -> str:
    """SVG via Graphviz ``dot`` when it is on PATH, otherwise a simple built-in layout."""
    dot = shutil.which("dot")
    if dot:
        done = subprocess.run([dot, "-Tsvg"], input=to_dot(g).encode(), capture_output=True, timeout=60)
        if done.returncode == 0:
            return done.stdout.decode()
    return simple_svg(g)


def simple_svg(g: nx.MultiDiGraph) -> str:
    """One column per role, states in BFS order from the initial state, edges as labelled curves."""
    roles = _roles(g)
    col_w, row_h, box_w, box_h = 330, 90, 130, 34
    pos: dict[str, tuple[float, float]] = {}
    height = 0
    for c, role in enumerate(roles):
        start = node(role, INITIAL[role])
        order = [start] + [v for _, v in nx.bfs_edges(g, start)] if start in g else []
        order += [n for n, d in g.nodes(data=True) if d["role"] == role and n not in order]
        for r, n in enumerate(order):
            pos[n] = (40 + c * col_w, 60 + r * row_h)
        height = max(height, 60 + len(order) * row_h)
    width = 40 + len(roles) * col_w
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Helvetica" font-size="11">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>']
    for c, role in enumerate(roles):
        out.append(f'<text x="{40 + c * col_w}" y="30" font-weight="bold">{html.escape(role)}</text>')
    for i, (u, v, d) in enumerate(g.edges(data=True)):
        (x1, y1), (x2, y2) = pos[u], pos[v]
        x1c, y1c, x2c, y2c = x1 + box_w / 2, y1 + box_h / 2, x2 + box_w / 2, y2 + box_h / 2
        bend = box_w / 2 + 30 + 12 * (i % 5)
        color = "red" if d["row"].when else "black"
        dash = ' stroke-dasharray="4 3"' if d["row"].when else ""
        if u == v:
            path = f"M {x1 + box_w} {y1c - 6} C {x1 + box_w + 40} {y1c - 30}, {x1 + box_w + 40} {y1c + 30}, " \
                   f"{x1 + box_w} {y1c + 6}"
            lx, ly = x1 + box_w + 42, y1c
        else:
            path = f"M {x1c + box_w / 2} {y1c} C {x1c + bend} {y1c}, {x2c + bend} {y2c}, {x2c + box_w / 2} {y2c}"
            lx, ly = max(x1c, x2c) + bend * 0.8, (y1c + y2c) / 2
        out.append(f'<path d="{path}" fill="none" stroke="{color}"{dash} marker-end="url(#arrow)"/>')
        out.append(f'<text x="{lx:.0f}" y="{ly:.0f}" fill="{color}">{html.escape(d["event"])}</text>')
    for n, (x, y) in pos.items():
        d = g.nodes[n]
        stroke = 3 if d["initial"] else 1
        out.append(f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="8" fill="white" stroke="black" '
                   f'stroke-width="{stroke}"/>')
        out.append(f'<text x="{x + box_w / 2}" y="{y + box_h / 2 + 4}" text-anchor="middle">'
                   f'{html.escape(d["state"])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
