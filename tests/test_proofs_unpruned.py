"""Nothing pruned after a refusal (issue 13; ``--unpruned``, bound letter u): every refused answer is a run of
its own, and runs go on after a refusal. docs/proofs.md has the expectations, written before the run: no
verdict changes, many more runs. The first full run found a formula-judge error (an attester's own
completion of a reused context read as the requester's acceptance), fixed in model/steps.py and
model/termview.py; tests/test_formula_judge.py keeps that run."""

from __future__ import annotations

import json
from collections import Counter

import pytest

import expat  # noqa: F401  (OpenSSL config first)
from expat.cli import main
from expat.model.expectations import VARIANTS
from expat.proofs.analysis import CI_BOUND, analyse_variant, variant_flags
from expat.proofs.search import Bound, Explorer

UNPRUNED, PLAIN = Bound(1, 2, 1, 1, unpruned=True), Bound(1, 2, 1, 1)


def refusals(bound: Bound, variant: str = "default") -> tuple[Counter, int]:
    """(refused runs per answer step: parent run and the request answered, runs with a step after a
    refusal)."""
    per_parent: Counter = Counter()
    after = 0
    for st in Explorer(variant_flags(VARIANTS[variant]), bound).runs():
        marks = [i for i, s in enumerate(st.steps) if s.endswith("(refused)")]
        if marks and marks[-1] == len(st.steps) - 1:
            per_parent[st.steps[:-1], st.steps[-1].split(":")[0]] += 1
        if marks and marks[0] < len(st.steps) - 1:
            after += 1
    return per_parent, after


def test_the_bound_states_the_option_and_the_ci_bound_has_it_not():
    assert not CI_BOUND.unpruned and "unpruned" not in CI_BOUND.to_json()
    assert UNPRUNED.tag() == "1c2r1k1su" and UNPRUNED.to_json()["unpruned"] is True
    assert "every refused answer, runs going on after a refusal" in UNPRUNED.statement()


def test_only_with_the_option_every_refusal_is_a_run_and_runs_go_on_after_one():
    pruned, after = refusals(PLAIN)
    assert pruned and max(pruned.values()) == 1 and after == 0
    unpruned, after = refusals(UNPRUNED)
    assert max(unpruned.values()) > 1 and after > 0
    assert set(pruned) <= set(unpruned)


@pytest.mark.parametrize("variant", ["default", "no-context-unique"])
def test_the_verdicts_are_those_of_the_pruned_search(variant):
    """Reasoned (docs/proofs.md): a refusal adds no acceptance, completion, ticket, appraisal or used nonce.
    By the monitors and by the formulas (no-context-unique: the run the judge fix is about)."""
    v = VARIANTS[variant]
    more, plain = analyse_variant(v, UNPRUNED, formulas=True), analyse_variant(v, PLAIN, formulas=True)
    assert more.mismatches == plain.mismatches == 0 and more.runs > 10 * plain.runs
    assert set(more.counterexamples) == set(plain.counterexamples)
    assert set(more.formula_counterexamples) == set(plain.formula_counterexamples)


def test_cli_takes_the_option(capsys):
    assert main(["proofs", "run", "--variant", "default", "--connections", "1", "--requests", "1",
                 "--unpruned", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {c["z3_bound"] for c in doc["cells"]} == {"1c1r1k1su"} and doc["bound"]["unpruned"] is True
