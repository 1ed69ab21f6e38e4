"""The generated Tamarin theory: byte-stable, committed, lemmas from the property data, results that
belong to the committed theory."""

from __future__ import annotations

import json
import re

import jsonschema
from tamarin_support import COMMITTED, RESULTS, fresh_theory, lemma_block

from expat.cli import main
from expat.model.expectations import VARIANTS
from expat.model.properties import PROPERTY_IDS
from expat.tamarin import generate, lemmas, prove
from expat.tamarin import records as results


def test_committed_theory_equals_a_fresh_export():
    """CI gate: tamarin/expat.spthy is what `expat tamarin export` writes from this checkout."""
    assert COMMITTED.exists(), "tamarin/expat.spthy missing: run `expat tamarin export`"
    assert COMMITTED.read_text(encoding="ascii") == fresh_theory(), \
        "tamarin/expat.spthy is stale: run `expat tamarin export` and commit it"


def test_export_check_flags_a_stale_file(tmp_path, capsys):
    assert main(["tamarin", "export", "--check", "--out", str(tmp_path)]) == 1  # missing
    assert main(["tamarin", "export", "--out", str(tmp_path)]) == 0
    assert main(["tamarin", "export", "--check", "--out", str(tmp_path)]) == 0
    theory = tmp_path / "expat.spthy"
    theory.write_text(theory.read_text(encoding="ascii") + "\n", encoding="ascii")
    assert main(["tamarin", "export", "--check", "--out", str(tmp_path)]) == 1
    assert "stale" in capsys.readouterr().err


def test_export_is_byte_stable_ascii(tmp_path):
    assert main(["tamarin", "export", "--out", str(tmp_path / "a")]) == 0
    assert main(["tamarin", "export", "--out", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "expat.spthy").read_bytes()
    assert a == (tmp_path / "b" / "expat.spthy").read_bytes()
    a.decode("ascii")


def test_one_lemma_and_one_sanity_lemma_per_modelled_property():
    text = fresh_theory()
    names = re.findall(r"^lemma ([a-z_]+)", text, re.M)
    assert len(names) == len(set(names))
    for pid in PROPERTY_IDS:
        if pid in lemmas.NOT_MODELLED:
            assert pid not in names and lemmas.NOT_MODELLED[pid]
            continue
        assert "exists-trace" not in lemma_block(text, pid).splitlines()[0]
        assert "exists-trace" in lemma_block(text, pid + lemmas.REACHABLE_SUFFIX).splitlines()[0]


def test_lemmas_name_the_party_not_any_host():
    """Reveal exclusions bind the party concerned (P, R, A or k): no 'any host revealed'."""
    text = fresh_theory()
    for pid in lemmas.PROPERTY_LEMMAS:
        block = lemma_block(text, pid)
        for m in re.finditer(r"\(Ex (#r|[a-z]+ #r)\. (HostCompromised|AttestationKeyRevealed|KeyRevealed|"
                             r"SecretRevealed)\(([^)]*)\)", block):
            assert m.group(1) == "#r", f"{pid}: a reveal quantified over any party: {m.group(0)}"


def test_passport_branches_exist_where_the_property_speaks_of_accepted_evidence():
    for pid, branches in lemmas.PROPERTY_LEMMAS.items():
        kinds = {b[0] for b in branches}
        assert kinds in ({"evidence", "result"}, {"any"}), pid


def test_no_adversary_shortcut_to_the_verifier():
    text = fresh_theory()
    assert "Adversary_SubmitToVerifier" not in text
    # the Verifier's answers are produced only by rules that hold its signing key
    blocks = [b for b in text.split("\nrule ")[1:] if "sign(<'ar', V, ev>, vk)" in b.split("\n\n")[0]]
    assert len(blocks) >= 3
    for b in blocks:
        assert "!VKey(V, vk)" in b.split("\n\n")[0], b.split(":")[0]


def test_expected_verdicts_follow_the_expectations_table():
    assert lemmas.expected_verdict("channel_binding", ["check_binding"]) == "falsified"
    assert lemmas.expected_verdict("channel_binding", []) == "verified"
    assert lemmas.expected_verdict("channel_binding_reachable", ["check_binding"]) == "verified"


def test_committed_results_belong_to_the_committed_theory():
    """A results file records the sha256 of the theory it was made on; stale results fail here."""
    files = sorted(RESULTS.glob("expat__*.json"))
    for path in files:
        record = json.loads(path.read_text())
        jsonschema.validate(record, prove.RESULT_SCHEMA)
        assert results.belongs_to(record, COMMITTED), f"{path.name} was made on another theory: rerun `expat prove`"
        assert record["variant"] in VARIANTS, path.name
        names = lemmas.lemma_names()
        assert {x["name"] for x in record["lemmas"]} <= set(names)
    assert {p.stem.split("__")[1] for p in files} <= set(VARIANTS)


def test_committed_results_were_made_by_one_search_with_a_processor_budget():
    """Every record, of the theory and of the attack lemmas, was made with the search expat prove uses
    now and a processor-time budget, so its verdicts do not depend on the load or on Tamarin's parallel
    search (docs/tamarin.md, "How each lemma is searched"); each lemma says what it used."""
    files = sorted(RESULTS.glob("*__*.json"))
    assert files
    for path in files:
        record = json.loads(path.read_text())
        assert record.get("search_options") == list(prove.SEARCH_OPTIONS), path.name
        assert record.get("cpu_limit_s") and record["batch"] is False, path.name
        for lemma in record["lemmas"]:
            assert lemma["cpu_s"] is not None, (path.name, lemma["name"])
            # GHC's defaults (records made before RUNTIME_OPTIONS: no field) or the current runtime options
            assert lemma.get("runtime_options", record.get("runtime_options", [])) in (
                [], list(prove.RUNTIME_OPTIONS)), (path.name, lemma["name"])
            if lemma["verdict"] == "timeout":  # a timeout is the budget spent, not the wall clock
                assert lemma["cpu_s"] >= 0.95 * record["cpu_limit_s"], (path.name, lemma["name"])


def test_results_reader_reads_every_committed_record():
    got = results.read_results(RESULTS.parent.parent)
    assert set(got) == {p.stem.split("__")[1] for p in RESULTS.glob("expat__*.json")}
    for record in got.values():
        assert set(results.verdicts(record).values()) <= {"verified", "falsified", "timeout", "error"}


def test_theory_hash_changes_with_the_text():
    text = fresh_theory()
    assert generate.theory_hash(text) != generate.theory_hash(text + "\n")
