"""Hand edits of a draft text against `expat spec lint` and `expat spec diff`, in general.

Edits that keep the meaning (re-wrapped paragraphs, a heading wrapped onto two lines, artwork and
tables indented differently, the whole body indented differently, no table of contents, typographic
quotes, trailing spaces, tabs, CRLF line ends, page breaks with running headers, footers and form feeds) must change no lint finding and no diff entry; edits that change it (a
MUST made a SHOULD, a whole section removed, a struct field renamed) must be reported exactly, and
nothing else. The edits work on the lines of a text file, wherever they apply: on the synthetic
tests/spec_fixtures/gadget.md rendered as RFC-style text (always), and on the shared -04 text and
-02 Markdown (when ../shared/specs is present). Targets are drawn by hypothesis.
"""

import expat  # noqa: F401  (before anything imports OpenSSL)

import re
import textwrap

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from expat.spec.catalogue import Catalogue
from expat.spec.diff import diff
from expat.spec.document import load
from expat.spec.lint import lint
from expat.spec.parameters import extract as parameters
from expat.spec.statements import extract as statements
from expat.spec.text import _BULLET, _heading, _join, _looks_like_code
from spec_helpers import FIXTURES, SPECS
from spec_render import HEADER as render_header, paginate, to_text
from test_spec_renderings import NO_CHANGE, diff_key, lint_key

needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason="../shared/specs not present")
EMPTY = Catalogue([])
V02, V04 = "draft-fossati-seat-expat-02.md", "draft-fossati-seat-expat-04-editors-2026-09-19.txt"
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_GENERATED_HEADING = re.compile(r"^(?:\d+(?:\.\d+)*\.\s+)?(?:(?:Normative|Informative)\s+)?References\b"
                                r"|^Authors?'? Address", re.I)


def gadget_text() -> str:
    return "\n".join(to_text(load(FIXTURES / "gadget.md"), width=68)) + "\n"


def v04_text() -> str:
    return (SPECS / V04).read_text(encoding="utf-8")


def read(tmp_path, text: str, name: str = "edited.txt"):
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return load(p)


# ---------------------------------------------------------------- where edits apply

def content_range(lines: list[str]) -> tuple[int, int]:
    """[first line of section 1, first line of the references / addresses): the numbered body."""
    start = next(i for i, x in enumerate(lines) if re.match(r"^1\.\s{1,3}\S", x))
    end = next((i for i in range(start, len(lines)) if _GENERATED_HEADING.match(lines[i])), len(lines))
    return start, end


def runs(lines: list[str], lo: int, hi: int) -> list[tuple[int, int]]:
    """[a, b) runs of non-blank lines between blank lines, inside [lo, hi)."""
    out, a = [], None
    for i in range(lo, hi + 1):
        blank = i == hi or not lines[i].strip()
        if blank and a is not None:
            out.append((a, i))
            a = None
        elif not blank and a is None:
            a = i
    return out


def _in_terminology(lines: list[str], i: int) -> bool:
    """The BCP 14 boilerplate of the Terminology section is not a statement to edit."""
    head = next((lines[k] for k in range(i, -1, -1) if lines[k][:1].strip()), "")
    return "Terminology" in head or "Conventions" in head


def paragraphs(lines: list[str]) -> list[tuple[int, int]]:
    """Plain prose paragraphs of the body: every line at the body indentation (3), no bullet, no
    code, no columns, ending a sentence."""
    lo, hi = content_range(lines)
    out = []
    for a, b in runs(lines, lo, hi):
        block = lines[a:b]
        if not all(re.match(r"^ {3}\S", x) for x in block) or _BULLET.match(block[0]) or _looks_like_code(block):
            continue
        if any(re.search(r"\S {2,}\S", x.strip().replace(".  ", ". ")) or re.search(r"[|{};]\s*$", x) for x in block):
            continue
        if _join(block).endswith(".") and len(_join(block).split()) >= 6:
            out.append((a, b))
    return out


def artwork(lines: list[str]) -> list[tuple[int, int]]:
    """Figures and tables of the body: runs indented deeper than the body whose block before is not
    a list item (an item's second paragraph is indented too), or code at the body indentation."""
    lo, hi = content_range(lines)
    out = []
    found = runs(lines, lo, hi)
    for k, (a, b) in enumerate(found):
        block = lines[a:b]
        before = lines[found[k - 1][0]] if k else ""
        deep = all(x.startswith("    ") for x in block) and not _BULLET.match(before) \
            and not (before.startswith("      ") and not before.startswith("       "))
        if (deep and (any(re.search(r"[|+{};=()]|\S {3,}\S", x) for x in block))) or _looks_like_code(block):
            out.append((a, b))
    return out


def items(lines: list[str]) -> list[tuple[int, int]]:
    """Bullet items of the body (``*  text`` at the body indentation, continued under the text)."""
    lo, hi = content_range(lines)
    out = []
    for a, b in runs(lines, lo, hi):
        m = re.match(r"^( {3}[*o-] {2})\S", lines[a])
        if m and all(x.startswith(" " * len(m.group(1))) and x[len(m.group(1))] != " " for x in lines[a + 1:b]) \
                and not any(re.search(r"\S {3,}\S|[|{};]\s*$", x) for x in lines[a:b]):
            out.append((a, b))
    return out


def numbered_headings(lines: list[str]) -> list[int]:
    lo, hi = content_range(lines)
    return [i for i in range(lo, hi) if lines[i][:1].strip() and _heading(lines[i])
            and len(lines[i].split()) >= 3 and not lines[i + 1][:1].isspace()]


# ---------------------------------------------------------------- meaning-preserving edits

def rewrap(lines: list[str], width: int, which: list[int]) -> list[str]:
    """Re-wrap the chosen prose paragraphs at ``width`` (joined as the reader joins them)."""
    paras = paragraphs(lines)
    chosen = {paras[k % len(paras)] for k in which} if paras else set()
    out: list[str] = []
    i = 0
    for a, b in sorted(chosen):
        out += lines[i:a]
        out += textwrap.wrap(_join(lines[a:b]), width, initial_indent="   ", subsequent_indent="   ",
                             break_long_words=False, break_on_hyphens=False)
        i = b
    return out + lines[i:]


def rewrap_items(lines: list[str], width: int, which: list[int]) -> list[str]:
    """Re-wrap the chosen bullet items at ``width``, the text continuing under its first word."""
    found = items(lines)
    chosen = {found[k % len(found)] for k in which} if found else set()
    out: list[str] = []
    i = 0
    for a, b in sorted(chosen):
        out += lines[i:a]
        bullet = re.match(r"^( {3}[*o-] {2})", lines[a]).group(1)
        text = _join([lines[a][len(bullet):]] + lines[a + 1:b])
        out += textwrap.wrap(text, width, initial_indent=bullet, subsequent_indent=" " * len(bullet),
                             break_long_words=False, break_on_hyphens=False)
        i = b
    return out + lines[i:]


def extra_blank_lines(lines: list[str], which: list[int]) -> list[str]:
    """One more blank line at the chosen block boundaries of the body (blocks stay apart)."""
    lo, hi = content_range(lines)
    gaps = [i for i in range(lo + 1, hi) if not lines[i].strip() and lines[i - 1].strip()]
    chosen = {gaps[k % len(gaps)] for k in which} if gaps else set()
    out: list[str] = []
    for i, x in enumerate(lines):
        out.append(x)
        if i in chosen:
            out.append("")
    return out


def tabs(lines: list[str]) -> list[str]:
    """Leading runs of eight spaces written as tabs (the reader expands tabs to 8 columns)."""
    return [re.sub(r"^((?: {8})+)", lambda m: "\t" * (len(m.group(1)) // 8), x) for x in lines]


def shift_body(lines: list[str], delta: int) -> list[str]:
    """Every indented line moved right by ``delta`` columns: the running text at 3 + delta."""
    return [" " * delta + x if x[:1] == " " else x for x in lines]


def without_toc(lines: list[str]) -> list[str]:
    """The table of contents deleted (it is generated; unnumbered headings then nest by their titles)."""
    if "Table of Contents" not in lines:
        return lines
    s = lines.index("Table of Contents")
    e = next(i for i in range(s + 1, len(lines)) if lines[i][:1].strip())
    return lines[:s] + lines[e:]


def curly_quotes(lines: list[str]) -> list[str]:
    """Straight double quotes made typographic, as a word processor does."""
    return [re.sub(r'"([^"]*)"', "\u201c\\1\u201d", x) for x in lines]


def wrap_unnumbered_heading(lines: list[str], which: int) -> list[str]:
    """Wrap a multi-word unnumbered back-matter heading listed in the table of contents."""
    lo, _ = content_range(lines)
    toc = {x.strip() for x in lines[:lo] if x.startswith("   ")}
    heads = [i for i in range(lo, len(lines)) if lines[i][:1].strip() and not _heading(lines[i])
             and lines[i].strip() in toc and len(lines[i].split()) >= 3 and not _GENERATED_HEADING.match(lines[i])]
    if not heads:
        return lines
    i = heads[which % len(heads)]
    words = lines[i].split()
    cut = len(words) // 2
    return lines[:i] + [" ".join(words[:cut]), "   " + " ".join(words[cut:])] + lines[i + 1:]


def wrap_heading(lines: list[str], which: int, at: int) -> list[str]:
    """Wrap one numbered heading onto two lines, the title continuing under its first word."""
    heads = numbered_headings(lines)
    if not heads:
        return lines
    i = heads[which % len(heads)]
    m = re.match(r"^(\S+\s+)(.*)$", lines[i])
    words = m.group(2).split()
    cut = 1 + at % (len(words) - 1)
    indent = " " * max(len(m.group(1)), 3)
    return lines[:i] + [m.group(1) + " ".join(words[:cut]), indent + " ".join(words[cut:])] + lines[i + 1:]


def indent_artwork(lines: list[str], which: list[int], delta: int) -> list[str]:
    """Shift the chosen figures / tables right by ``delta`` columns (relative layout kept)."""
    arts = artwork(lines)
    chosen = {arts[k % len(arts)] for k in which} if arts else set()
    out = list(lines)
    for a, b in chosen:
        out[a:b] = [" " * delta + x for x in lines[a:b]]
    return out


def trailing_spaces(lines: list[str], which: list[int]) -> list[str]:
    out = list(lines)
    for k in which:
        out[k % len(out)] += " " * (1 + k % 3)
    return out


class Edited(str):
    """An edited text whose repr is short (hypothesis prints what it drew)."""

    def __repr__(self) -> str:
        return f"<edited text, {len(self)} characters>"


# running headers as xml2rfc v3 and v2, nroff and hand-made texts print them
HEADERS = [render_header, "Internet-Draft    Remote Attestation with EAs    19 September 2026",
           "INTERNET-DRAFT          Attested TLS                 September 19, 2026",
           "RFC 9999                       Fixture                       Sept 2026",
           "Internet-Draft       expat                      Sep 2026"]


@st.composite
def layout_edits(draw, lines: list[str]):
    """A composition of meaning-preserving edits of ``lines``, as (description, text)."""
    done = []
    if draw(st.booleans()):
        width = draw(st.integers(min_value=40, max_value=90))
        which = draw(st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=12))
        lines = rewrap(lines, width, which)
        done.append(f"rewrap {width} {which}")
    if draw(st.booleans()):
        width = draw(st.integers(min_value=40, max_value=90))
        which = draw(st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=8))
        lines = rewrap_items(lines, width, which)
        done.append(f"items {width} {which}")
    if draw(st.booleans()):
        which, at = draw(st.integers(min_value=0, max_value=100)), draw(st.integers(min_value=0, max_value=20))
        lines = wrap_heading(lines, which, at)
        done.append(f"heading {which} {at}")
    if draw(st.booleans()):
        which = draw(st.integers(min_value=0, max_value=100))
        lines = wrap_unnumbered_heading(lines, which)
        done.append(f"unnumbered heading {which}")
    if draw(st.booleans()):
        which = draw(st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=10))
        lines = extra_blank_lines(lines, which)
        done.append(f"blank lines {which}")
    if draw(st.booleans()):
        which = draw(st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=6))
        delta = draw(st.integers(min_value=1, max_value=8))
        lines = indent_artwork(lines, which, delta)
        done.append(f"artwork {which} +{delta}")
    if draw(st.booleans()):
        which = draw(st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=40))
        lines = trailing_spaces(lines, which)
        done.append("trailing spaces")
    if draw(st.booleans()):
        lines = curly_quotes(lines)
        done.append("curly quotes")
    if draw(st.booleans()):
        lines = without_toc(lines)
        done.append("no table of contents")
    if draw(st.booleans()):
        delta = draw(st.integers(min_value=1, max_value=4))
        lines = shift_body(lines, delta)
        done.append(f"body +{delta}")
    if draw(st.booleans()):
        lines = tabs(lines)
        done.append("tabs")
    if draw(st.booleans()):
        breaks = sorted(draw(st.sets(st.integers(min_value=1, max_value=len(lines) - 1), min_size=1, max_size=20)))
        formfeed_line = draw(st.booleans())
        text = paginate(lines, breaks, formfeed_line)
        header = draw(st.sampled_from(HEADERS))
        text = text.replace(render_header, header)
        done.append(f"pages {breaks} {formfeed_line} {header!r}")
    else:
        text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
        done.append("crlf")
    return done, Edited(text)


def _same_reading(tmp_path, original, edited_text: str, done: list[str], catalogue=EMPTY) -> None:
    edited = read(tmp_path, edited_text)
    assert diff_key(diff(original, edited, catalogue)) == NO_CHANGE, done
    assert lint_key(edited) == lint_key(original), done


# ---------------------------------------------------------------- synthetic text (always run)

def test_edit_targets_exist_in_the_gadget_text():
    lines = gadget_text().split("\n")
    assert len(paragraphs(lines)) >= 5 and len(artwork(lines)) >= 3 and len(numbered_headings(lines)) >= 4
    assert len(items(lines)) >= 2


@settings(max_examples=60, **SETTINGS)
@given(data=st.data())
def test_layout_edits_of_the_gadget_text_change_nothing(tmp_path, data):
    text = gadget_text()
    done, edited = data.draw(layout_edits(text.split("\n")))
    _same_reading(tmp_path, read(tmp_path, text, "gadget.txt"), edited, done)


@settings(max_examples=30, **SETTINGS)
@given(data=st.data())
def test_layout_edits_of_the_gadget_markdown_change_nothing(tmp_path, data):
    """The Markdown source with CRLF and trailing spaces (hard line breaks inside a paragraph)."""
    text = (FIXTURES / "gadget.md").read_text(encoding="utf-8")
    lines = text.split("\n")
    start = lines.index("--- middle")
    which = data.draw(st.lists(st.integers(min_value=start + 1, max_value=len(lines) - 1), max_size=30))
    edited = "\n".join(trailing_spaces(lines[:], which) if which else lines)
    if data.draw(st.booleans()):
        edited = edited.replace("\n", "\r\n")
    p = tmp_path / "gadget.md"
    p.write_bytes(edited.encode("utf-8"))
    original = load(FIXTURES / "gadget.md")
    assert diff_key(diff(original, load(p), EMPTY)) == NO_CHANGE, which
    assert lint_key(load(p)) == lint_key(original), which


# ---------------------------------------------------------------- meaning-changing edits

def statement_lines(doc_lines: list[str]) -> list[int]:
    lo, hi = content_range(doc_lines)
    return [i for i in range(lo, hi) if re.search(r"\bMUST\b(?! NOT)", doc_lines[i])
            and doc_lines[i].startswith("   ") and not _in_terminology(doc_lines, i)]


def _section_of(lines: list[str], i: int) -> str:
    head = next(lines[k] for k in range(i, -1, -1) if lines[k][:1].strip() and _heading(lines[k]))
    return _heading(head).group(1)


def check_keyword_weakened(tmp_path, text: str, which: int) -> None:
    lines = text.split("\n")
    targets = statement_lines(lines)
    i = targets[which % len(targets)]
    edited = list(lines)
    edited[i] = re.sub(r"\bMUST\b(?! NOT)", "SHOULD", lines[i], count=1)
    old, new = read(tmp_path, text, "old.txt"), read(tmp_path, "\n".join(edited), "new.txt")
    r = diff(old, new, EMPTY)
    (c,) = r.statements
    assert c.kind == "strength-changed" and c.old.section == c.new.section == _section_of(lines, i)
    assert "MUST" in c.old.keywords and "SHOULD" in c.new.keywords
    assert r.parameters == [] and r.sections == [] and r.prose == []


def check_section_removed(tmp_path, text: str, which: int) -> None:
    """Remove a whole numbered section with no subsections that is the last of its siblings (so no
    other section is renumbered): its section and statements are reported removed, nothing else."""
    lines = text.split("\n")
    lo, hi = content_range(lines)
    heads = [i for i in range(lo, hi) if lines[i][:1].strip() and _heading(lines[i])]
    numbers = [_heading(lines[i]).group(1) for i in heads]
    candidates = []
    for k, i in enumerate(heads):
        n = numbers[k]
        nxt = numbers[k + 1] if k + 1 < len(numbers) else None
        if "." in n and nxt is not None and not nxt.startswith(n + ".") \
                and nxt.rsplit(".", 1)[0] != n.rsplit(".", 1)[0]:
            candidates.append(k)
    assume(candidates)
    k = candidates[which % len(candidates)]
    a, b = heads[k], heads[k + 1]
    old = read(tmp_path, text, "old.txt")
    new = read(tmp_path, "\n".join(lines[:a] + lines[b:]), "new.txt")
    number = numbers[k]
    r = diff(old, new, EMPTY)
    assert [(s.kind, s.old_number) for s in r.sections] == [("removed", number)]
    gone = [s for s in statements(old).sentences if s.section == number and s.keywords]
    assert sorted(c.old.normalized for c in r.statements) == sorted(s.normalized for s in gone)
    assert all(c.kind == "removed" and c.old.section == number for c in r.statements)
    values: dict[str, set[str]] = {}
    rest: dict[str, set[str]] = {}
    for o in parameters(old):
        values.setdefault(o.name, set()).add(o.value)
        if o.section != number:
            rest.setdefault(o.name, set()).add(o.value)
    expected = {("removed", n) for n in values if n not in rest} | \
        {("changed", n) for n in rest if rest[n] != values[n]}
    assert {(p.kind, p.name) for p in r.parameters} == expected
    assert all(p.section == number for p in r.prose)


def check_label_changed_once(tmp_path, text: str, which: int) -> None:
    """Change one use of an exporter label (outside the IANA section): lint names the new label as
    unregistered and in a conflict over the edited section; diff reports the label parameter changed,
    and any reworded statement or prose only in that section."""
    lines = text.split("\n")
    lo, hi = content_range(lines)
    iana = next(i for i in range(lo, hi) if lines[i][:1].strip() and "IANA" in lines[i])
    uses = [(i, m) for i in range(lo, iana) for m in re.finditer(r'"(EXPORTER-[\w-]+)"', lines[i])]
    i, m = uses[which % len(uses)]
    label = m.group(1) + "-edited"
    edited = list(lines)
    edited[i] = lines[i][:m.start(1)] + label + lines[i][m.end(1):]
    section = _section_of(lines, i)
    old, new = read(tmp_path, text, "old.txt"), read(tmp_path, "\n".join(edited), "new.txt")
    found = lint(new).findings
    assert label in [f.subject for f in found if f.kind == "exporter-label-unregistered"]
    assert any(label in f.detail and section in f.sections for f in found if f.kind == "parameter-conflict")
    r = diff(old, new, EMPTY)
    (p,) = [p for p in r.parameters if p.name.endswith(".label")]
    assert p.kind == "changed" and label in p.new_values and section in p.new_sections
    assert all(c.kind in ("reworded", "strength-changed") and c.new.section == section for c in r.statements)
    assert all(c.section == section for c in r.prose)
    assert r.sections == []


def check_struct_field_renamed(tmp_path, text: str, which: int, suffix: str) -> None:
    lines = text.split("\n")
    fields = [i for i, x in enumerate(lines) if re.match(r"^\s+(?:opaque|uint\d+|\w+)\s+\w+(?:<[^>]*>|\[[^\]]*\])?;\s*$", x)
              and any(re.match(r"^\s*struct\s*\{", lines[k]) for k in range(max(0, i - 6), i))]
    assert fields, "no struct field to rename"
    i = fields[which % len(fields)]
    m = re.match(r"^(\s+\w+\s+)(\w+)(.*)$", lines[i])
    edited = list(lines)
    edited[i] = m.group(1) + m.group(2) + suffix + m.group(3)
    old, new = read(tmp_path, text, "old.txt"), read(tmp_path, "\n".join(edited), "new.txt")
    r = diff(old, new, EMPTY)
    changes = sorted((p.kind, p.name.rsplit(".", 1)[-1]) for p in r.parameters)
    assert changes == [("added", m.group(2) + suffix), ("removed", m.group(2))]
    assert all(p.name.startswith("struct:") for p in r.parameters)
    assert r.statements == [] and r.sections == [] and r.prose == []


@settings(max_examples=15, **SETTINGS)
@given(which=st.integers(min_value=0, max_value=100))
def test_gadget_keyword_weakened(tmp_path, which):
    check_keyword_weakened(tmp_path, gadget_text(), which)


@settings(max_examples=10, **SETTINGS)
@given(which=st.integers(min_value=0, max_value=100))
def test_gadget_section_removed(tmp_path, which):
    check_section_removed(tmp_path, gadget_text(), which)


@settings(max_examples=10, **SETTINGS)
@given(which=st.integers(min_value=0, max_value=100))
def test_gadget_label_changed_once(tmp_path, which):
    check_label_changed_once(tmp_path, gadget_text(), which)


@settings(max_examples=10, **SETTINGS)
@given(suffix=st.sampled_from(["_x", "2", "_value"]))
def test_gadget_struct_field_renamed(tmp_path, suffix):
    check_struct_field_renamed(tmp_path, gadget_text(), 0, suffix)


# ---------------------------------------------------------------- the shared -04 text and -02 Markdown

@needs_specs
def test_edit_targets_exist_in_the_04_text():
    lines = v04_text().split("\n")
    assert len(paragraphs(lines)) >= 30 and len(artwork(lines)) >= 4 and len(numbered_headings(lines)) >= 10
    assert len(items(lines)) >= 5 and wrap_unnumbered_heading(lines, 0) != lines
    assert len(statement_lines(lines)) >= 10


@needs_specs
@settings(max_examples=25, **SETTINGS)
@given(data=st.data())
def test_layout_edits_of_the_04_text_change_nothing(tmp_path, data):
    text = v04_text()
    done, edited = data.draw(layout_edits(text.split("\n")))
    _same_reading(tmp_path, load(SPECS / V04), edited, done, catalogue=None)


@needs_specs
@settings(max_examples=10, **SETTINGS)
@given(which=st.lists(st.integers(min_value=0, max_value=3000), max_size=40), crlf=st.booleans())
def test_02_markdown_with_crlf_and_trailing_spaces_changes_nothing(tmp_path, which, crlf):
    text = (SPECS / V02).read_text(encoding="utf-8")
    lines = text.split("\n")
    start = lines.index("--- middle")
    edited = "\n".join(trailing_spaces(lines, [start + 1 + k % (len(lines) - start - 1) for k in which]))
    if crlf:
        edited = edited.replace("\n", "\r\n")
    p = tmp_path / V02
    p.write_bytes(edited.encode("utf-8"))
    original = load(SPECS / V02)
    assert diff_key(diff(original, load(p))) == NO_CHANGE
    assert lint_key(load(p)) == lint_key(original)


@needs_specs
@settings(max_examples=15, **SETTINGS)
@given(which=st.integers(min_value=0, max_value=100))
def test_04_keyword_weakened(tmp_path, which):
    check_keyword_weakened(tmp_path, v04_text(), which)


@needs_specs
@settings(max_examples=10, **SETTINGS)
@given(which=st.integers(min_value=0, max_value=100))
def test_04_section_removed(tmp_path, which):
    check_section_removed(tmp_path, v04_text(), which)


@needs_specs
def test_04_struct_field_renamed(tmp_path):
    check_struct_field_renamed(tmp_path, v04_text(), 0, "_renamed")


@needs_specs
@settings(max_examples=10, **SETTINGS)
@given(which=st.integers(min_value=0, max_value=100))
def test_04_label_changed_once(tmp_path, which):
    check_label_changed_once(tmp_path, v04_text(), which)


# ---------------------------------------------------------------- the reader fixes these edits found

@needs_specs
def test_04_without_table_of_contents_keeps_the_appendix_nesting(tmp_path):
    doc = read(tmp_path, "\n".join(without_toc(v04_text().split("\n"))), "draft-fossati-seat-expat-04-notoc.txt")
    appendix = [s.title for s in doc.sections if s.parent_titles == ("Appendix",)]
    assert appendix == ["Post-handshake vs. Intra-handshake Privacy", "Post-handshake vs. Intra-handshake Security",
                        "Document History"]
    assert diff_key(diff(load(SPECS / V04), doc)) == NO_CHANGE


@needs_specs
def test_04_with_typographic_quotes_reads_the_label_registration(tmp_path):
    doc = read(tmp_path, "\n".join(curly_quotes(v04_text().split("\n"))), "draft-fossati-seat-expat-04-curly.txt")
    assert ("iana:TLS Exporter Labels:EXPORTER-cmw-attestation", "registered", "9.2") in \
        {(o.name, o.value, o.section) for o in parameters(doc)}
    assert not [f for f in lint(doc).findings if f.kind == "exporter-label-unregistered"]


@pytest.mark.parametrize("delta", [1, 2, 4])
def test_body_indented_otherwise_reads_the_same(tmp_path, delta):
    text = gadget_text()
    doc = read(tmp_path, "\n".join(shift_body(text.split("\n"), delta)))
    original = read(tmp_path, text, "gadget.txt")
    assert [(b.kind, b.text.split()) for s in doc.sections for b in s.blocks] == \
        [(b.kind, b.text.split()) for s in original.sections for b in s.blocks]
