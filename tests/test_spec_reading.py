"""Reading drafts: sections as rendered, BCP 14 statements, protocol parameters."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import pytest

from expat.spec.document import SpecInputError, load
from expat.spec.parameters import bound, extract as parameters
from expat.spec.statements import find_keywords, normalize, split_sentences, statements
from spec_helpers import FIXTURES, SPECS

needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason="../shared/specs not present")


def test_markdown_sections_numbered_as_rendered():
    doc = load(FIXTURES / "diff_new.md")
    assert [(s.number, s.title) for s in doc.sections] == [
        ("1", "Overview"), ("2", "Terminology"), ("3", "Requests"),
        ("4", "Proof Computation"), ("5", "Placement")]


def test_markdown_anchor_and_figure():
    doc = load(FIXTURES / "lint_findings.md")
    assert doc.section("derive").number == "2"
    assert doc.section("proof").title == "Proof Computation"
    kinds = [b.kind for b in doc.section("3").blocks]
    assert kinds.count("figure") == 2


def test_keywords_longest_first_and_capitals_only():
    assert find_keywords("A MUST NOT b; c SHOULD d; e must f; NOT RECOMMENDED g") == (
        "MUST NOT", "SHOULD", "NOT RECOMMENDED")
    assert find_keywords("the MUSTARD and MAYBE") == ()


def test_sentences_survive_abbreviations():
    parts = split_sentences("Use a format (e.g., JOSE or COSE) here. Then stop. i.e. Done.")
    assert parts[0] == "Use a format (e.g., JOSE or COSE) here."
    assert len(parts) == 2


def test_normalize_drops_references_and_markup():
    assert normalize("As in {{Section 9.3 of\n -tls13}}, the `x_y` MUST  be *set*.") == \
        "as in the x_y must be set"


def test_text_rendering_reader():
    doc = load(FIXTURES / "widget.txt")
    assert [s.number for s in doc.sections] == ["", "1", "2", "2.1", ""]
    st = statements(doc)
    assert [(s.section, s.keywords) for s in st] == [
        ("2", ("MUST",)), ("2", ("SHOULD NOT",)), ("2.1", ("MUST",))]
    names = {o.name: o.value for o in parameters(doc)}
    assert names["struct:WidgetProof.proof"] == "opaque<32..48>"
    assert names["exporter[empty].label"] == "EXPORTER-widget proof"


def test_presentation_bounds():
    assert bound("<1..2^16-1>") == "<1..65535>"
    assert bound("<0..2^8-1>") == "<0..255>"
    assert bound("[32]") == "[32]"


@pytest.mark.parametrize("content", [b"\x00\x01binary", b"\xff\xfe not utf8 \xff"])
def test_unreadable_input(tmp_path, content):
    p = tmp_path / "x.md"
    p.write_bytes(content)
    with pytest.raises(SpecInputError):
        load(p)
    with pytest.raises(SpecInputError):
        load(tmp_path / "missing.md")


@needs_specs
def test_draft_02_numbering():
    doc = load(SPECS / "draft-fossati-seat-expat-02.md")
    numbered = {s.number: s.title for s in doc.sections if s.number}
    assert numbered["3.1"].startswith("Negotiation")
    assert numbered["4.1.2"] == "Background-check Model"
    assert numbered["5.1"] == "Attestation Binder"
    assert numbered["7.3"] == "Timing for Remote Attestation"
    assert numbered["9.2"].startswith("TLS Flags")
    assert doc.section("binding").number == "5"
    assert not any(s.number for s in doc.sections if s.part == "back")


@needs_specs
def test_draft_02_statements():
    st = statements(load(SPECS / "draft-fossati-seat-expat-02.md"))
    by_section = {}
    for s in st:
        by_section.setdefault(s.section, []).extend(s.keywords)
    # counted by hand from the -02 text (terminology boilerplate excluded)
    assert len(st) == 22
    assert by_section["3.1"] == ["MUST", "MAY", "MUST", "MUST"]
    assert by_section["5.2"] == ["MUST", "MUST", "MUST"]
    assert by_section["7.3"] == ["MUST"]
    assert "2" not in by_section


@needs_specs
def test_rfc9261_text_statements_and_labels():
    doc = load(SPECS / "rfc9261.txt")
    assert doc.section("5.2.4").title == "Authenticator Creation"
    st = statements(doc)
    assert ("5.1", ("MUST NOT",)) in [(s.section, s.keywords) for s in st]   # wrapped "MUST\n NOT"
    occ = parameters(doc)
    used = {o.value for o in occ if o.name == "exporter[empty].label"}
    registered = {o.name.split(":", 2)[2] for o in occ if o.kind == "registered-label"}
    assert len(used) == 4 and used == registered
    assert {o.name: o.value for o in occ}["struct:CertificateRequest.certificate_request_context"] \
        == "opaque<0..255>"


@needs_specs
def test_draft_02_parameters():
    occ = parameters(load(SPECS / "draft-fossati-seat-expat-02.md"))
    got = {(o.name, o.value, o.section) for o in occ}
    assert ("exporter[certificate_request_context].label", "Attestation", "5.1") in got
    assert ("exporter[certificate_request_context].label", "Attestation Binding", "4") in got
    assert ("exporter[certificate_request_context].length", "32", "5.1") in got
    assert ("struct:CMWAttestation.cmw_data", "opaque<1..65535>", "3") in got
    assert ("extension:cmw_attestation", "TBD", "9.1") in got
    assert any(n == "iana:TLS Flags:CMW_Attestation" and s == "9.2" for n, _, s in got)
