"""The requirement catalogue: links resolve, sources resolve, matrix is current."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import json
import re

import pytest

from expat.cli import main
from expat.spec.catalogue import CATALOGUE_PATH, REVISIONS, Catalogue, Entry, coverage, load_catalogue
from expat.spec.document import load
from expat.spec.links import node_exists, property_ids, verify
from expat.spec.statements import extract
from expat.spec.traceability import render
from spec_helpers import SPECS

needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason="../shared/specs not present")
ROOT = CATALOGUE_PATH.parents[1]
SOURCES = {"draft-fossati-seat-expat-02": "draft-fossati-seat-expat-02.md",
           "draft-fossati-seat-expat-ec": "editors-copy.md",
           "draft-fossati-seat-expat-04": "draft-fossati-seat-expat-04-editors-2026-09-19.txt",
           "rfc9261": "rfc9261.txt"}
# the text of each revision an entry may list
REVISION_SOURCES = {"02": "draft-fossati-seat-expat-02", "ec": "draft-fossati-seat-expat-ec",
                    "04": "draft-fossati-seat-expat-04", "9261": "rfc9261"}


def test_every_link_resolves():
    assert verify(load_catalogue()) == []


def test_broken_links_are_reported():
    bad = Entry(id="X-1", document="rfc9261", section="4", keyword="MUST", paraphrase="p",
                checks=["no-such-check-id"], tests=["tests/test_spec_catalogue.py::nope"],
                monitors=["not_a_property"], lemmas=["channel_binding"],
                profile_parameters=["no_such_field_anywhere"])
    problems = verify(Catalogue([bad, bad]))
    assert len(problems) == 9          # 4 broken links per entry, plus the duplicate id
    for word in ("duplicate id", "check 'no-such-check-id'", "test 'tests/", "monitor 'not_a_property'",
                 "profile parameter"):
        assert any(word in p for p in problems), word
    assert not any("channel_binding" in p for p in problems)


def test_node_ids_parsed_with_ast():
    assert node_exists("tests/test_spec_catalogue.py::test_every_link_resolves", ROOT)
    assert node_exists("tests/test_spec_catalogue.py::TestShape::test_ids", ROOT)
    assert not node_exists("tests/test_spec_catalogue.py::TestShape::test_missing", ROOT)
    assert not node_exists("tests/nope.py::test_x", ROOT)


def test_property_ids_match_the_project_list():
    # the twelve ids the model issue fixes for monitors, lemmas and proofs alike
    assert set(property_ids()) == {
        "evidence_integrity", "evidence_freshness", "channel_binding", "request_binding", "aik_ownership",
        "aik_in_tee", "no_diversion", "no_reflection", "attest_before_data", "reattestation_fresh",
        "verifier_nonce_fresh", "no_resumption"}


class TestShape:
    def test_ids(self):
        entries = load_catalogue().entries
        ids = [e.id for e in entries]
        assert len(ids) == len(set(ids))
        assert all(re.fullmatch(r"(EXPAT|RFC9261)(-EC|-04)?-[0-9.]+-[A-Z0-9-]+", i) for i in ids)
        assert all(set(e.revisions) <= set(REVISIONS) for e in entries)
        assert all(e.paraphrase and e.keyword and e.revisions for e in entries)

    def test_revision_filter(self):
        cat = load_catalogue()
        assert all("02" in e.revisions for e in cat.revision("02"))
        assert not [e for e in cat.revision("02") if e.id.startswith("EXPAT-EC-")]
        assert len(cat.revision(None)) == len(cat.entries)


def test_coverage_counts():
    entries = [Entry("A-1-X", "d", "1", "MUST", "p", checks=["c"], tests=["t"]),
               Entry("A-1-Y", "d", "1", "MUST", "p", monitors=["m"])]
    cov = coverage(entries)
    assert cov.covered == {"checks": 1, "tests": 1, "monitors": 1, "lemmas": 0}
    assert cov.missing["lemmas"] == ["A-1-X", "A-1-Y"] and cov.missing["checks"] == ["A-1-Y"]


def test_traceability_doc_is_current():
    assert (ROOT / "docs" / "traceability.md").read_text(encoding="utf-8") == render(load_catalogue())


def test_cli_requirements_and_coverage(capsys):
    assert main(["spec", "requirements", "--revision", "ec", "--json"]) == 0
    ids = {e["id"] for e in json.loads(capsys.readouterr().out)}
    assert "EXPAT-EC-7.2-NO-NST" in ids and "RFC9261-4-CTX-UNIQUE" not in ids
    assert main(["spec", "coverage", "--json"]) == 0
    cov = json.loads(capsys.readouterr().out)
    assert cov["total"] == len(load_catalogue().entries)


def _sentences(document):
    return extract(load(SPECS / SOURCES[document])).sentences


@needs_specs
def test_sources_resolve_in_cited_section():
    cache = {}
    for e in load_catalogue().entries:
        sents = cache.setdefault(e.document, _sentences(e.document))
        hits = [s for s in sents if s.fingerprint == e.fingerprint]
        assert hits, e.id
        assert e.section in {s.section for s in hits}, e.id
        kw = "/".join(dict.fromkeys(hits[0].keywords)) or "(definition)"
        assert kw == e.keyword, e.id


@needs_specs
def test_sources_resolve_in_every_listed_revision():
    """An entry listing revision 04 (say) has its source, same section and keyword, in -04's text."""
    cache = {}
    for e in load_catalogue().entries:
        for rev in e.revisions:
            doc = REVISION_SOURCES[rev]
            sents = cache.setdefault(doc, _sentences(doc))
            hits = [s for s in sents if s.fingerprint == e.fingerprint]
            assert hits and e.section in {s.section for s in hits}, (e.id, rev)
            assert ("/".join(dict.fromkeys(hits[0].keywords)) or "(definition)") == e.keyword, (e.id, rev)


@needs_specs
def test_every_normative_statement_is_catalogued():
    entries = load_catalogue().entries
    for rev, doc in REVISION_SOURCES.items():
        prints = {e.fingerprint for e in entries if rev in e.revisions}
        missing = [(s.section, s.keywords) for s in _sentences(doc) if s.normative
                   and s.fingerprint not in prints]
        assert missing == [], rev


def test_cli_requirements_for_04(capsys):
    assert main(["spec", "requirements", "--revision", "04", "--json"]) == 0
    ids = {e["id"] for e in json.loads(capsys.readouterr().out)}
    assert {"EXPAT-EC-7.2-NO-NST", "EXPAT-04-9.2-ONE-LABEL", "EXPAT-04-5.1-DELEGATED-CONVEY"} <= ids
    assert "RFC9261-4-CTX-UNIQUE" not in ids


@needs_specs
def test_paraphrases_are_not_copied():
    cache = {}
    for e in load_catalogue().entries:
        sents = cache.setdefault(e.document, _sentences(e.document))
        (src,) = {s.normalized for s in sents if s.fingerprint == e.fingerprint}
        words = src.split()
        grams = {" ".join(words[i:i + 6]) for i in range(len(words) - 5)}
        para = " ".join(re.findall(r"[a-z0-9_]+", e.paraphrase.lower()))
        assert not any(g in para for g in grams), e.id
