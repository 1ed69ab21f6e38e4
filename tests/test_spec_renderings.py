"""Two renderings of one text (kramdown Markdown, xml2rfc-style plain text) read the same.

The second rendering is generated at test time (tests/spec_render.py) from the shared
drafts or from the synthetic tests/spec_fixtures/gadget.md; lint and diff results must
not depend on the form, on line width, on where pages break, or on how headings wrap.
"""

import expat  # noqa: F401  (before anything imports OpenSSL)

import json
import re

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from expat.cli import main
from expat.spec.catalogue import Catalogue
from expat.spec.diff import diff
from expat.spec.document import load
from expat.spec.lint import lint
from expat.spec.parameters import extract as parameters
from spec_helpers import FIXTURES, SPECS
from spec_render import paginate, to_markdown, to_text

needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason="../shared/specs not present")
EMPTY = Catalogue([])
V02, EC, V04 = "draft-fossati-seat-expat-02.md", "editors-copy.md", "draft-fossati-seat-expat-04-editors-2026-09-19.txt"


def lint_key(doc):
    return sorted((f.kind, tuple(f.sections), f.subject) for f in lint(doc).findings)


def diff_key(report):
    """A diff as comparable data: what changed and where, independent of markup."""
    return {
        "statements": sorted((c.kind, tuple(c.sections), (c.new or c.old).normalized)
                             for c in report.statements),
        "parameters": sorted((p.kind, p.name, tuple(p.old_values), tuple(p.new_values))
                             for p in report.parameters),
        "sections": sorted((s.kind, s.title, s.old_number, s.new_number) for s in report.sections),
        "prose": sorted((c.section, c.words) for c in report.prose),
    }


NO_CHANGE = {"statements": [], "parameters": [], "sections": [], "prose": []}


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return load(p)


def as_text(tmp_path, doc, name="x.txt", breaks=None, **kw):
    lines = to_text(doc, **kw)
    if breaks is None:
        breaks = list(range(45, len(lines), 52))
    return write(tmp_path, name, paginate(lines, breaks))


# ---------------------------------------------------------------- synthetic (always run)

def test_gadget_text_rendering_reads_like_its_markdown(tmp_path):
    md = load(FIXTURES / "gadget.md")
    txt = as_text(tmp_path, md, width=60, heading_width=40)
    assert [(s.number, s.title, s.parent_titles) for s in txt.sections if s.part != "generated"] == \
        [(s.number, s.title, s.parent_titles) for s in md.sections]
    assert diff_key(diff(md, txt, EMPTY)) == NO_CHANGE
    assert lint_key(md) == lint_key(txt)
    # the label registry table is read: only the unregistered label is reported
    unreg = [f.subject for f in lint(txt).findings if f.kind == "exporter-label-unregistered"]
    assert unreg == ["EXPORTER-gadget-check"]


def test_two_labels_for_one_exporter_conflict_in_both_forms(tmp_path):
    """§2.1 and §3 of the fixture give the same exporter two labels (as -02 did in §4 and §5.1)."""
    md = load(FIXTURES / "gadget.md")
    one = write(tmp_path, "one.md", (FIXTURES / "gadget.md").read_text(encoding="utf-8")
                .replace("EXPORTER-gadget-check", "EXPORTER-gadget-proof"))
    for doc, expected in ((md, {"2.1", "3"}), (one, set())):
        for form in (doc, as_text(tmp_path, doc)):
            found = [f for f in lint(form).findings if f.kind == "parameter-conflict"]
            assert {s for f in found for s in f.sections} == expected
            assert all(f.subject == "exporter[certificate_request_context].label" for f in found)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(width=st.integers(min_value=48, max_value=80), heading_width=st.integers(min_value=24, max_value=80),
       breaks=st.sets(st.integers(min_value=1, max_value=140), max_size=6), formfeed_line=st.booleans())
def test_layout_does_not_change_results(tmp_path, width, heading_width, breaks, formfeed_line):
    """Re-wrapping lines, reflowing headings and inserting page breaks change nothing."""
    md = load(FIXTURES / "gadget.md")
    text = paginate(to_text(md, width=width, heading_width=heading_width), sorted(breaks), formfeed_line)
    txt = write(tmp_path, "p.txt", text)
    assert diff_key(diff(md, txt, EMPTY)) == NO_CHANGE
    assert lint_key(txt) == lint_key(md)


def test_page_furniture_is_removed(tmp_path):
    lines = ["1.  Rules", "", "   The checker MUST keep a count of the", "   proofs it saw.", ""]
    text = paginate(lines, [3])
    assert "[Page 1]" in text and "\f" in text
    doc = write(tmp_path, "r.txt", text)
    (para,) = doc.section("1").blocks
    assert para.text == "The checker MUST keep a count of the proofs it saw."


def test_markdown_rendering_of_the_text_reader_output(tmp_path):
    md = load(FIXTURES / "gadget.md")
    txt = as_text(tmp_path, md)
    back = write(tmp_path, "back.md", to_markdown(txt))
    assert diff_key(diff(txt, back, EMPTY)) == NO_CHANGE
    assert lint_key(back) == lint_key(md)


# ---------------------------------------------------------------- the shared revisions

@needs_specs
@pytest.mark.parametrize("name", [V02, EC])
def test_markdown_revision_and_its_text_rendering_agree(tmp_path, name):
    md = load(SPECS / name)
    txt = as_text(tmp_path, md, name=name + ".txt")
    assert diff_key(diff(md, txt)) == NO_CHANGE
    assert lint_key(md) == lint_key(txt)


@needs_specs
def test_04_text_and_its_markdown_rendering_agree(tmp_path):
    txt = load(SPECS / V04)
    md = write(tmp_path, "draft-fossati-seat-expat-04.md", to_markdown(txt))
    assert diff_key(diff(txt, md)) == NO_CHANGE
    assert lint_key(md) == lint_key(txt)
    old = load(SPECS / V02)
    assert diff_key(diff(old, txt)) == diff_key(diff(old, md))
    old_txt = as_text(tmp_path, old, name="draft-fossati-seat-expat-02.txt")
    assert diff_key(diff(old_txt, txt)) == diff_key(diff(old, txt))


@needs_specs
def test_04_text_reading():
    doc = load(SPECS / V04)
    assert doc.section("3.2").title == \
        "Usage in Exported Authenticator-based Post-Handshake Authentication"
    appendix = [s for s in doc.sections if s.parent_titles == ("Appendix",)]
    assert [s.title for s in appendix] == ["Post-handshake vs. Intra-handshake Privacy",
                                           "Post-handshake vs. Intra-handshake Security",
                                           "Document History"]
    occ = {(o.name, o.value, o.section) for o in parameters(doc)}
    assert ("struct:CMWAttestation.cmw_data", "opaque<1..65535>", "3") in occ
    assert ("iana:TLS Exporter Labels:EXPORTER-cmw-attestation", "registered", "9.2") in occ
    ext = [v for n, v, s in occ if n == "iana:TLS ExtensionType Values:cmw_attestation"]
    assert ext == ["Value=TBD; Extension Name=cmw_attestation; TLS 1.3=CT; DTLS-Only=N; Recommended=Yes"]
    assert not [s for s in doc.sections if s.part == "generated" and s.blocks and s.is_content]


@needs_specs
def test_04_lint():
    fs = lint(load(SPECS / V04)).findings
    kinds = {f.kind for f in fs}
    assert "exporter-label-unregistered" not in kinds and "exporter-label-convention" not in kinds
    assert "parameter-conflict" not in kinds          # one label in §4 and §5.1 now
    (ct,) = [f for f in fs if f.kind == "iana-usage-conflict"]   # -02 ambiguity 12 remains
    assert "CR" in ct.detail and "9.1" in ct.sections


@needs_specs
def test_02_to_04_diff():
    r = diff(load(SPECS / V02), load(SPECS / V04))
    assert [(c.kind, c.new.section) for c in r.statements] == [("added", "7.2")] * 3
    assert {(p.kind, p.name) for p in r.parameters} == {
        ("changed", "exporter[certificate_request_context].label"),
        ("removed", "iana:TLS Flags:CMW_Attestation"),
        ("added", "iana:TLS Exporter Labels:EXPORTER-cmw-attestation")}
    assert {(s.kind, s.title) for s in r.sections} == {
        ("removed", "TLS Flags Extension Registry"), ("added", "TLS Exporter Label Registration")}
    prose = {c.section: c for c in r.prose}
    assert "{+exporter-cmw-attestation+}" in prose["5.1"].words
    assert "EXPAT-5.1-RECEIVER-CHECK" in prose["5.1"].feeds
    assert set(prose) == {"4", "5.1", "7.2", "7.4", "9.2"}     # 9.2 feeds EXPAT-04-9.2-ONE-LABEL
    assert prose["9.2"].old == [] and "EXPAT-04-9.2-ONE-LABEL" in prose["9.2"].feeds


@needs_specs
def test_delegated_comparison_prose_is_reported(tmp_path):
    """§5.1's choice between a local and a delegated comparison has no BCP 14 keyword."""
    text = (SPECS / V04).read_text(encoding="utf-8")
    start = text.index("   binding value using the same exporter")
    cut = text.index("   the comparison can be carried out during attestation validation.")
    edited = text[:start] + "   binding value and compares it.\n" + text[cut + len(
        "   the comparison can be carried out during attestation validation.\n"):]
    r = diff(write(tmp_path, "draft-fossati-seat-expat-04-local.txt", edited), load(SPECS / V04))
    assert r.statements == [] and r.parameters == []
    (c,) = r.prose
    assert c.section == "5.1" and any("delegates this check" in s for s in c.new)
    assert "EXPAT-5.1-RECEIVER-CHECK" in c.feeds and "delegat" in c.words


@needs_specs
def test_cli_ranks_prose_below_normative_changes(capsys):
    assert main(["spec", "diff", str(SPECS / V02), str(SPECS / V04)]) == 1
    out = capsys.readouterr().out.splitlines()
    kinds = [re.match(r"(statement|parameter|prose|section)", x).group(1) for x in out
             if re.match(r"(statement|parameter|prose|section) ", x)]
    assert kinds == sorted(kinds, key=["statement", "parameter", "prose", "section"].index)
    assert "prose" in kinds
    assert main(["spec", "diff", "--json", str(SPECS / V02), str(SPECS / V04)]) == 1
    assert json.loads(capsys.readouterr().out)["prose"]


@needs_specs
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(width=st.integers(min_value=56, max_value=76), page=st.integers(min_value=30, max_value=58))
def test_02_layout_property(tmp_path, width, page):
    md = load(SPECS / V02)
    lines = to_text(md, width=width, heading_width=width)
    txt = write(tmp_path, "draft-fossati-seat-expat-02.txt",
                paginate(lines, list(range(page, len(lines), page))))
    assert diff_key(diff(md, txt, EMPTY)) == NO_CHANGE
    assert lint_key(txt) == lint_key(md)


def test_label_conflict_within_one_section(tmp_path):
    """One passage names one label, the exporter call beside it another: a conflict in both forms."""
    src = ("--- middle\n\n# Proof\n\nThe prover uses the label \"EXPORTER-widget-a\" and the "
           "certificate_request_context as the exporter context.\n\n~~~\n"
           "TLS-Exporter(\"EXPORTER-widget-b\", certificate_request_context, 32)\n~~~\n")
    md = write(tmp_path, "w.md", src)
    for doc in (md, as_text(tmp_path, md)):
        (f,) = [f for f in lint(doc).findings if f.kind == "parameter-conflict"]
        assert f.sections == ["1"] and "EXPORTER-widget-a" in f.detail and "EXPORTER-widget-b" in f.detail


# ---------------------------------------------------------------- hand edits of the -04 text

def _edit(tmp_path, name, old, new, text=None):
    text = text if text is not None else (SPECS / V04).read_text(encoding="utf-8")
    assert old in text
    return write(tmp_path, name, text.replace(old, new))


@needs_specs
def test_edit_one_label_only(tmp_path):
    doc = _edit(tmp_path, "a.txt", 'TLS-Exporter("EXPORTER-cmw-attestation"', 'TLS-Exporter("EXPORTER-cmw-attest"')
    (f,) = [f for f in lint(doc).findings if f.kind == "parameter-conflict"]
    assert "EXPORTER-cmw-attest'" in f.detail and "5.1" in f.sections
    assert [f.subject for f in lint(doc).findings if f.kind == "exporter-label-unregistered"] == \
        ["EXPORTER-cmw-attest"]


@needs_specs
def test_edit_registration_as_a_list_or_a_plain_table(tmp_path):
    text = (SPECS / V04).read_text(encoding="utf-8")
    grid = text[text.index("     +=========================="):text.index("                                 Table 2")]
    listed = _edit(tmp_path, "b.txt", grid, "   *  Value: EXPORTER-cmw-attestation\n\n   *  DTLS-OK: Y\n\n",
                   text)
    assert not [f for f in lint(listed).findings if f.kind.startswith("exporter-label")]
    ext = text[text.index("    +=====+====="):text.index("                                  Table 1")]
    plain = ("      Value   Extension Name    TLS 1.3   DTLS-Only   Recommended\n"
             "      -----   ---------------   -------   ---------   -----------\n"
             "      TBD     cmw_attestation   CR, CT    N           Y\n")
    edited = "\ufeff" + text.replace(ext, plain).replace("\n", "\r\n")
    doc = write(tmp_path, "c.txt", edited)
    assert not [f for f in lint(doc).findings if f.kind == "iana-usage-conflict"]   # CR now registered
    r = diff(load(SPECS / V04), doc, EMPTY)
    assert [(p.kind, p.name) for p in r.parameters] == [("changed", "iana:TLS ExtensionType Values:cmw_attestation")]
    assert r.statements == [] and r.sections == [] and r.prose == []


@needs_specs
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(width=st.integers(min_value=56, max_value=76), page=st.integers(min_value=25, max_value=58),
       formfeed_line=st.booleans())
@example(width=57, page=25, formfeed_line=False)  # a page break after a wrapped line "5. Because ..." (CI, 3 Dec)
def test_04_layout_property(tmp_path, width, page, formfeed_line):
    """-04 re-laid out (other width, pages with furniture) reads as the original."""
    v04 = load(SPECS / V04)
    lines = to_text(v04, width=width, heading_width=width)
    txt = write(tmp_path, "draft-fossati-seat-expat-04-relaid.txt",
                paginate(lines, list(range(page, len(lines), page)), formfeed_line))
    assert diff_key(diff(v04, txt)) == NO_CHANGE
    assert lint_key(txt) == lint_key(v04)


@needs_specs
def test_renamed_text_file_still_links_the_catalogue(tmp_path):
    """The document name comes from the title page, not the file name."""
    doc = write(tmp_path, "new.txt", (SPECS / V04).read_text(encoding="utf-8"))
    assert doc.name == "draft-fossati-seat-expat-latest"
    r = diff(load(SPECS / EC), doc)
    (p,) = [p for p in r.parameters if p.name == "iana:TLS Exporter Labels:EXPORTER-cmw-attestation"]
    assert p.affects.requirements == ["EXPAT-04-9.2-ONE-LABEL"]


@needs_specs
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(breaks=st.sets(st.integers(min_value=1, max_value=1050), min_size=1, max_size=25),
       formfeed_line=st.booleans())
def test_04_page_breaks_anywhere(tmp_path, breaks, formfeed_line):
    """Page furniture inserted into the -04 file itself, at any line but inside a heading."""
    v04 = load(SPECS / V04)
    lines = (SPECS / V04).read_text(encoding="utf-8").split("\n")
    txt = write(tmp_path, "draft-fossati-seat-expat-04-paged.txt", paginate(lines, sorted(breaks), formfeed_line))
    assert diff_key(diff(v04, txt)) == NO_CHANGE
    assert lint_key(txt) == lint_key(v04)
