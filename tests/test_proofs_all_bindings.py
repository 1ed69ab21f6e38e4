"""Every derivable binding instead of one per class (issue 13; ``--all-bindings``, bound letter b): mallory's
TEE oracles sign over every binding it can derive, background or passport. docs/proofs.md has the
expectations, written before the run: no verdict changes; identical runs wherever the requester compares
the binding, more runs only where nobody compares it, or where the Verifier does (delegated: its refusals
are runs of their own)."""

from __future__ import annotations

import json

import pytest

import expat  # noqa: F401  (OpenSSL config first)
from expat.cli import main
from expat.model.expectations import VARIANTS
from expat.proofs.analysis import CI_BOUND, analyse_variant, variant_flags
from expat.proofs.knowledge import Knowledge
from expat.proofs.search import Bound, Explorer
from expat.proofs.terms import Algebra
from model_support import expat_check_violations

PLAIN, EVERY = Bound(1, 2, 1, 1), Bound(1, 2, 1, 1, all_bindings=True)


def test_the_bound_states_the_option_and_the_ci_bound_has_it_not():
    assert not CI_BOUND.all_bindings and "all_bindings" not in CI_BOUND.to_json()
    assert EVERY.tag() == "1c2r1k1sb" and EVERY.to_json()["all_bindings"] is True
    assert "every derivable binding (not one per class)" in EVERY.statement()
    assert "every derivable binding" not in CI_BOUND.statement()


@pytest.mark.parametrize("key_in_binding", [True, False])
def test_every_binding_is_the_representatives_and_every_hash_it_can_build(key_in_binding):
    k = Knowledge(Algebra(), ("kA", "kB", "kM", "kX"), ("kM", "kX"), ("c1", "c2"), ("n1", "x2"),
                  ("L", "L2"), (), key_in_binding)
    reps = k.bindings("c1", "n1", "kM")
    every = k.bindings("c1", "n1", "kM", every=True)
    assert every[:len(reps)] == reps
    keys = ("kA", "kB", "kM", "kX") if key_in_binding else (None,)
    want = {("bind", key, ("exp", lab, c, x)) for key in keys for lab in ("L", "L2") for c in ("c1", "c2")
            for x in ("n1", "x2")}
    assert {b for _, b in every} == want and len(every) == len(want)


def _runs(variant: str, bound: Bound) -> list[tuple]:
    return [(st.steps, st.events[-1][1], st.events[-1][2].get("reason"))
            for st in Explorer(variant_flags(VARIANTS[variant]), bound).runs()]


def test_where_the_requester_compares_the_binding_the_runs_are_the_same():
    """Reasoned: only a binding equal to the requester's own under an acceptable label passes, which the
    own and label representatives are; every other one is refused, and only the first refusal per answer
    step, the same as before, is a run."""
    assert _runs("default", EVERY) == _runs("default", PLAIN)


def test_under_delegation_the_extra_runs_are_the_verifier_s_refusals():
    """Reasoned: delegating, the requester does not compare the binding, the Verifier does; each further
    binding is a run ending in the Verifier's refusal, and the runs that go on are the same."""
    plain, every = _runs("delegated", PLAIN), _runs("delegated", EVERY)
    extra = [r for r in every if r not in plain]
    assert extra and all((last, reason) == ("AuthenticatorRejected", "verifier-contraindicated")
                         for _, last, reason in extra)
    assert [r for r in every if r in plain] == plain


@pytest.mark.parametrize("variant", ["no-binding-check", "delegated-no-verifier-compare"])
def test_where_nobody_compares_the_binding_more_runs_the_same_verdicts_and_the_round_trip(variant, tmp_path, capsys):
    """Reasoned: every binding is accepted there, so more runs go on; the properties that read the binding
    are violated already, the others do not read it. Every counterexample is flagged by `expat check`."""
    plain = analyse_variant(VARIANTS[variant], PLAIN, formulas=True)
    every = analyse_variant(VARIANTS[variant], EVERY, formulas=True)
    assert plain.mismatches == every.mismatches == 0 and every.runs > plain.runs
    assert set(every.counterexamples) == set(plain.counterexamples)
    assert set(every.formula_counterexamples) == set(plain.formula_counterexamples)
    for prop, trace in every.counterexamples.items():
        assert prop in {x.get("property") for x in expat_check_violations(trace, tmp_path / f"{prop}.jsonl", capsys)}


def test_cli_takes_the_option(capsys):
    assert main(["proofs", "run", "--variant", "default", "--connections", "1", "--requests", "1",
                 "--all-bindings", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {c["z3_bound"] for c in doc["cells"]} == {"1c1r1k1sb"} and doc["bound"]["all_bindings"] is True
