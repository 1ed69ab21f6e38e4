"""Every derivable answer (issue 13; ``--every-answer``, bound letter m): mallory's answers range over every
Attesting Environment it may use, every derivable binding, every AIK_pub_hash claim (or none) on Evidence it
makes itself, and any Evidence of the run exchanged at the Verifier. docs/proofs.md has the expectations,
written before the run: no verdict changes; the same runs where every comparison is on, apart from runs the
Verifier ends; more runs where a comparison is off."""

from __future__ import annotations

import json

import pytest

import expat  # noqa: F401  (OpenSSL config first)
from expat.cli import main
from expat.model.checker import check_trace
from expat.model.expectations import VARIANTS
from expat.proofs import world as W
from expat.proofs.analysis import CI_BOUND, analyse_variant, to_trace, variant_flags, variant_profile
from expat.proofs.search import Bound, Explorer
from model_support import assert_counterexamples_flagged

EVERY, PLAIN = Bound(1, 2, 1, 1, every_answer=True), Bound(1, 2, 1, 1)


def explorer(variant: str, bound: Bound = EVERY) -> Explorer:
    return Explorer(variant_flags(VARIANTS[variant]), bound)


def test_the_bound_states_the_option_and_the_ci_bound_has_it_not():
    assert not CI_BOUND.every_answer and "every_answer" not in CI_BOUND.to_json()
    assert "every derivable answer" not in CI_BOUND.statement()
    assert EVERY.tag() == "1c2r1k1sm" and EVERY.to_json()["every_answer"] is True
    assert "every derivable answer (every signer, binding and AIK_pub_hash)" in EVERY.statement()


def _pending_with_evidence(ex: Explorer):
    """A run of the client asking mallory on c1 after mallory asked the client (so the run holds the client's
    Evidence), with a connection secret of no use here (client-mallory only)."""
    for st in ex.runs():
        if (len(st.steps) == 3 and st.steps[0] == "connections client-mallory" and st.pending
                and st.steps[1].startswith("mallory asks client on c1") and "(background)" in st.steps[1]):
            return st
    raise AssertionError("no such run")


@pytest.mark.parametrize("variant", ["default", "evidence-signature-unchecked"])
def test_the_answers_are_every_derivable_message(variant):
    """Against an enumeration written here from the knowledge (not from the search's own lists): per key
    mallory may present, the oracle answers use every AE it may use; forged Evidence ranges over every
    derivable binding times every public key's AIK_pub_hash or none (as a result too when the Verifier does
    not check signatures); every Evidence of the run is resubmitted; every binding signed is derivable."""
    ex = explorer(variant)
    st = _pending_with_evidence(ex)
    conn, rp, ctx = st.pending[0]
    kn = ex.knowledge(st)
    derivable = {W.render(b) for b in kn.constructed_bindings()} | {
        W.render(s) for s in kn.seen if isinstance(s, tuple) and s[0] == "bind"}
    hashes = set(kn.keys) | {None}
    by_key: dict[str, dict] = {}
    for label, apply in ex.answers(st, conn, ctx):
        child = st.clone()
        before = set(child.evidence)
        k, kind, cmw = apply(child)
        mine = by_key.setdefault(k, {"oracle": set(), "forged": set(), "resubmitted": set()})
        made = [child.evidence[e] for e in child.evidence if e not in before]
        for ev in made:
            assert kn.derivable(ev.binding), label
        if label.startswith("oracle"):
            mine["oracle"].add(made[0].ae)
        elif label.startswith("forge"):
            mine["forged"].add((W.render(made[0].binding), made[0].hash_key, kind))
        elif label.startswith("resubmit"):
            assert kind == "result" and child.results[cmw].evidence == label.split()[1]
            mine["resubmitted"].add(label.split()[1])
    assert set(W.ADVERSARY_KEYS) <= set(by_key)
    honest_aes = {ae for ae, (aik, owner) in ex.aes.items() if owner != W.MALLORY}
    kinds = {"evidence"} if ex.f["check_evidence_signature"] else {"evidence", "result"}
    for k, mine in by_key.items():
        assert mine["oracle"] == {"m-ae"} | {ae for ae in honest_aes if ex.aes[ae][0] != k}, k
        assert mine["forged"] == {(b, h, kind) for b in derivable for h in hashes for kind in kinds}, k
        assert mine["resubmitted"] == set(st.evidence), k


def test_where_every_comparison_is_on_the_runs_are_the_same():
    """default: every new answer is refused by the requester's comparisons, and only the first refusal per
    answer step is a run, so the runs are exactly those without the option."""
    every = [st.steps for st in explorer("default").runs()]
    plain = [st.steps for st in explorer("default", PLAIN).runs()]
    assert every == plain


@pytest.mark.parametrize("variant,grows", [
    ("no-aik-hash-check", True), ("reflection", True), ("evidence-signature-unchecked", True), ("delegated", True),
    ("no-context-unique", True), ("verifier-nonce-unchecked", False)])
def test_the_verdicts_are_those_without_the_option(variant, grows):
    """Reasoned (docs/proofs.md): the new answers pass only where a comparison is off, and there they break
    only properties already violated; by the monitors and by the formulas."""
    v = VARIANTS[variant]
    every, plain = analyse_variant(v, EVERY, formulas=True), analyse_variant(v, PLAIN, formulas=True)
    assert every.mismatches == plain.mismatches == 0
    assert (every.runs > plain.runs) if grows else (every.runs == plain.runs)
    assert set(every.counterexamples) == set(plain.counterexamples)
    assert set(every.formula_counterexamples) == set(plain.formula_counterexamples)


def test_no_context_unique_gains_only_the_reflection_as_a_passport_answer():
    """Measured beyond the prediction's run counts (docs/proofs.md): without context uniqueness mallory asks an
    endpoint with the context that endpoint asked it with, resubmits the Evidence at the Verifier and hands the
    result back under the endpoint's revealed AIK. Every new run is that, and the checker flags no_reflection."""
    ex = explorer("no-context-unique")
    plain = {st.steps for st in explorer("no-context-unique", PLAIN).runs()}
    new = [st for st in ex.runs() if st.steps not in plain]
    assert new and all(" resubmit " in st.steps[-1] for st in new)
    v = VARIANTS["no-context-unique"]
    for st in new:
        assert "no_reflection" in check_trace(to_trace(st, ex, v, variant_profile(v))).properties(), st.steps


def test_forged_evidence_exchanged_for_a_result_where_signatures_are_unchecked():
    """evidence-signature-unchecked: forged Evidence the Verifier appraises anyway yields a result that an
    honest requester accepts as a passport answer; the checker flags evidence_integrity."""
    ex = explorer("evidence-signature-unchecked")
    v = VARIANTS["evidence-signature-unchecked"]
    found = [st for st in ex.runs() if any("forge" in s and s.endswith(" passport") for s in st.steps)
             and any(name == "AttestationCompleted" and agent != W.MALLORY and args["cmw"].startswith("ar-")
                     for agent, name, args in st.events)]
    assert found
    for st in found[:20]:
        assert "evidence_integrity" in check_trace(to_trace(st, ex, v, variant_profile(v))).properties(), st.steps


@pytest.mark.parametrize("variant", ["no-aik-hash-check", "evidence-signature-unchecked"])
def test_every_counterexample_with_the_option_is_flagged_by_expat_check(variant, tmp_path, capsys):
    rep = analyse_variant(VARIANTS[variant], EVERY, formulas=True)
    assert rep.mismatches == 0 and rep.counterexamples
    assert_counterexamples_flagged(rep, tmp_path, capsys, variant)


def test_cli_takes_the_option(capsys):
    assert main(["proofs", "run", "--variant", "default", "--connections", "1", "--requests", "1",
                 "--every-answer", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {c["z3_bound"] for c in doc["cells"]} == {"1c1r1k1sm"} and doc["bound"]["every_answer"] is True
