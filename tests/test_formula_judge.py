"""The property formulas evaluated on traces (model/logic.py, model/termview.py, model/judge.py): the
text Tamarin proves is parsed, printed back, and judged on every committed trace; where its verdict and
the monitor's differ, the difference is one of the documented classes (model/judge.py DIFFERENCES)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import expat  # noqa: F401
from expat.cli import main
from expat.model import formulas as F
from expat.model import judge as J
from expat.model import logic as L
from expat.model.checker import check_trace
from expat.model.termview import Unknown, trace_facts
from expat.model.trace import load_trace

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ("traces/golden", "traces/examples", "proofs/counterexamples")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _all_texts() -> list[str]:
    from expat.tamarin.lemmas import EXTRA_LEMMAS
    out = [J.branch_text(p, v, c, u) for rows in F.PROPERTY_LEMMAS.values() for _, v, p, c, u in rows]
    out += list(F.SANITY.values()) + [F.NO_REVEAL]
    out += [re.search(r'"(.*)"', text, re.S).group(1) for text, _ in EXTRA_LEMMAS.values()]
    return out


# --- syntax ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", _all_texts())
def test_every_formula_prints_back_as_written(text):
    f = L.parse(text)
    assert _norm(L.show(f)) == _norm(text)
    assert L.parse(L.show(f)) == f


def test_judge_branches_are_the_lemmas_of_the_theory():
    """The judge evaluates exactly what the committed theory states: each lemma's formula is the
    conjunction of the judge's branch formulas."""
    from expat.tamarin.lemmas import lemma_text
    theory = (ROOT / "tamarin" / "expat.spthy").read_text()
    for pid in F.PROPERTY_LEMMAS:
        text = lemma_text(pid)
        assert text in theory, pid
        lemma = L.strip(L.parse(re.search(r'"(.*)"', text, re.S).group(1)))
        mine = [b.compiled.formula for b in J.branches() if b.property == pid]
        assert (lemma.items if isinstance(lemma, L.And) else (lemma,)) == tuple(mine), pid


def test_precedence_and_quantifier_scope():
    f = L.strip(L.parse("All x #i. A(x) @ i ==> not B(x) @ i | C(x) @ i & D(x) @ i"))
    assert isinstance(f, L.Quant) and isinstance(f.body, L.Implies)
    c = f.body.conclusion
    assert isinstance(c, L.Or) and isinstance(c.items[0], L.Not) and isinstance(c.items[1], L.And)
    g = L.parse("Ex #r. A('k') @ r & B(<'ev', x>) @ r")  # the Ex body runs to the end
    assert isinstance(g, L.Quant) and isinstance(g.body, L.And)
    assert L.parse("a = 'none'") == L.Eq(L.Var("a"), L.Const("none"))


@pytest.mark.parametrize("bad", ["All x. A(x) @ i ==>", "A(x)", "#i < j", "x = ", "(A(x) @ i", "All x. y = x"])
def test_malformed_or_unguarded_formulas_are_refused(bad):
    with pytest.raises((L.SyntaxErr, L.Unguarded)):
        L.compile_formula(bad)


# --- evaluation ------------------------------------------------------------------------------------

def _facts(*rows):
    out: dict = {}
    for pos, name, *args in rows:
        out.setdefault(name, []).append((pos, tuple(args)))
    return L.Facts(out)


PROPERTY = L.compile_formula("All a b #i. Acc(a, <'ev', b>) @ i ==> (Ex #j. Made(b) @ j & #j < #i) | (Ex #r. Leak(a) @ r)")


def test_guarded_all_finds_exactly_the_unsupported_premises():
    facts = _facts((0, "Made", "p"), (1, "Acc", "r", ("ev", "p")), (2, "Acc", "r", ("ev", "q")),
                   (3, "Acc", "s", ("ev", "q")), (4, "Leak", "s"), (5, "Made", "q"))
    bad = list(L.counterexamples(PROPERTY.formula, facts))
    assert bad == [{"a": "r", "b": "q", "i": 2}]  # q was made only later; s's key leaked
    assert L.evaluate(PROPERTY.formula, _facts((0, "Made", "p"), (1, "Acc", "r", ("ev", "p"))))


def test_structured_terms_match_only_their_shape_and_unknowns_match_nothing():
    facts = _facts((1, "Acc", "r", ("ar", "p")), (2, "Acc", "r", "ev"), (3, "Acc", "r", ("ev", Unknown("P:x"))),
                   (0, "Made", "P:x"))
    bad = list(L.counterexamples(PROPERTY.formula, facts))
    assert bad == [{"a": "r", "b": Unknown("P:x"), "i": 3}]  # the unknown is not the string "P:x"


def test_temporal_equality_and_negation():
    f = L.compile_formula("All x #i #j. A(x) @ i & A(x) @ j ==> #i = #j").formula
    assert L.evaluate(f, _facts((0, "A", "u"), (1, "A", "v")))
    assert [e["x"] for e in L.counterexamples(f, _facts((0, "A", "u"), (1, "A", "u")))] == ["u", "u"]
    g = L.compile_formula("All x #i. A(x) @ i & not (x = 'none') ==> F").formula
    assert [e["x"] for e in L.counterexamples(g, _facts((0, "A", "none"), (1, "A", "n1")))] == ["n1"]


# --- the term view ---------------------------------------------------------------------------------

def test_a_trace_reads_as_the_theory_builds_its_terms():
    t = load_trace(ROOT / "traces/golden/honest-mutual-passport.jsonl")
    facts = trace_facts(t)
    produced = {e.args["cmw"]: e for e in t.events if e.name == "EvidenceProduced"}
    appraised = {e.args["result"]: e for e in t.events if e.name == "EvidenceAppraised"}
    accepted = [args for _, args in facts.of("AuthenticatorAccepted")]
    assert len(accepted) == 2
    for R, k, ctx, aik, kind, ar in accepted:
        assert kind == "result" and ar[0] == "ar" and ar[1] == "verifier"
        ev = ar[2]
        p = produced[appraised[ar[3]].args["cmw"]]
        assert ev == ("ev", p.args["te"], p.args["binding"], p.args["aik_hash"], p.args["cmw"])
        assert ev[1] != R  # the other endpoint's Evidence
    # platforms: the AE's events are the endpoint's
    assert {args[0] for _, args in facts.of("AikGenerated")} == {"client", "server"}
    assert {(args[0], args[3]) for _, args in facts.of("ChannelEstablished")} == {("client", "server"),
                                                                                  ("server", "client")}


# --- the judge on the corpora ----------------------------------------------------------------------

def _verdicts(path: Path) -> tuple[set[str], set[str]]:
    t = load_trace(path)
    monitors = {v.id for v in check_trace(t).violations if v.kind == "property"}
    return monitors & J.modelled(), {v.id for v in J.judge(t)}


def test_honest_golden_traces_satisfy_every_formula():
    paths = sorted((ROOT / "traces/golden").glob("honest-*.jsonl"))
    assert len(paths) >= 10
    for p in paths:
        assert J.judge(load_trace(p)) == [], p.name


def test_no_branch_is_vacuous_and_every_sanity_lemma_is_witnessed_by_an_honest_run():
    """The judge reads real runs: every branch's premise matches in some honest golden trace (so its
    verdict there is a real check), and each property's sanity lemma (exists-trace, no reveal) holds
    on some honest golden trace, as Tamarin must find for the theory."""
    facts = [trace_facts(load_trace(p)) for p in sorted((ROOT / "traces/golden").glob("honest-*.jsonl"))]
    for b in J.branches():
        assert any(True for fx in facts for _ in L.guard_solutions(b.compiled.formula, fx)), (b.property, b.name)
    for pid, text in F.SANITY.items():
        f = L.compile_formula(f"{text} & {F.NO_REVEAL}").formula
        assert any(L.evaluate(f, fx) for fx in facts), pid


# (trace, property, the side that flags) -> class of model/judge.py DIFFERENCES; nothing else differs
CE = "proofs/counterexamples/"
KNOWN = {
    **{(CE + f"evidence-signature-unchecked--{x}.jsonl", pid, "formula"): "unproduced-evidence"
       for x in ("aik_in_tee", "evidence_integrity", "no_reflection")
       for pid in ("channel_binding", "request_binding", "no_diversion")},
    **{("traces/examples/synthetic-attack-forged-evidence.jsonl", pid, "formula"): "unproduced-evidence"
       for pid in ("channel_binding", "request_binding", "no_diversion")},
    **{(CE + f"{v}--reattestation_fresh.jsonl", "request_binding", "formula"): "pre-played-request"
       for v in ("default", "delegated", "delegated-no-verifier-compare", "any-exporter-label", "evidence-signature-unchecked", "no-aik-hash-check",
                 "no-binding-check", "no-context-unique", "no-key-in-binding", "passport-literal", "reflection",
                 "resumption", "spontaneous-attestation", "verifier-nonce-unchecked")},
    **{(path, pid, "monitor"): "exporter-label"
       for path in ("traces/golden/attack-binding-other-label-unmitigated.jsonl",
                    "traces/examples/synthetic-attack-other-label-secrets.jsonl",
                    CE + "any-exporter-label--channel_binding.jsonl", CE + "any-exporter-label--request_binding.jsonl")
       for pid in ("channel_binding", "request_binding")},
    (CE + "passport-literal--no_diversion.jsonl", "channel_binding", "monitor"): "binding-for-another-aik",
    **{(CE + f"{x}.jsonl", pid, "monitor"): "adversary-chosen-binding"
       for x in ("no-binding-check--channel_binding", "no-binding-check--request_binding",
                 "delegated-no-verifier-compare--channel_binding", "delegated-no-verifier-compare--request_binding",
                 "passport-literal--channel_binding", "passport-literal--request_binding")
       for pid in ("channel_binding", "request_binding")},
    **{(CE + f"{v}--aik_in_tee.jsonl", "aik_in_tee", "monitor"): "tee-for-another-endpoint"
       for v in ("no-aik-hash-check", "passport-literal", "reflection")},
    ("traces/examples/synthetic-attack-aik-misuse.jsonl", "aik_in_tee", "formula"): "tee-for-another-endpoint",
    (CE + "no-binding-check--evidence_freshness.jsonl", "evidence_freshness", "monitor"): "mixed-freshness",
    ("traces/golden/attack-resumption-inherits-attestation-unmitigated.jsonl", "attest_before_data", "monitor"):
        "adversary-connection",
}
# synthetic corpus (expat traces synth): mutation -> the differences it may show
KNOWN_SYNTH = {
    ("aik-hash-claim-dropped", "evidence_integrity", "monitor"): "claims-read",
    ("aik-owner-swapped", "aik_in_tee", "formula"): "tee-for-another-endpoint",
    ("connection-split", "attest_before_data", "formula"): "peer-completion",
    ("context-reused", "verifier_nonce_fresh", "formula"): "verifier-nonce",
    ("nonce-issued-late", "verifier_nonce_fresh", "monitor"): "verifier-nonce",
    ("nonce-not-issued", "verifier_nonce_fresh", "monitor"): "verifier-nonce",
    # second review of issue 16
    ("nonce-issued-after-request", "verifier_nonce_fresh", "monitor"): "verifier-nonce",
    **{(m, "attest_before_data", "monitor"): "per-direction-completion"
       for m in ("attest-requirement-widened", "attester-data-after-rejection", "data-after-rejection")},
    ("accepted-before-sent", "aik_ownership", "monitor"): "trace-order",
    ("own-attestation-accepted", "aik_in_tee", "monitor"): "trace-order",
    **{("own-attestation-accepted", pid, "formula"): "trace-order"
       for pid in ("channel_binding", "request_binding", "no_diversion")},
    ("evidence-by-other-ae", "aik_in_tee", "monitor"): "tee-for-another-endpoint",
    ("evidence-for-other-te", "aik_in_tee", "formula"): "tee-for-another-endpoint",
    **{("evidence-for-other-te", pid, "formula"): "evidence-for-another-endpoint"
       for pid in ("channel_binding", "request_binding")},
    **{("evidence-read-as-result", pid, "monitor"): "kind-confusion"
       for pid in ("evidence_integrity", "aik_in_tee", "channel_binding", "request_binding")},
}

# the bounded search with several AEs per endpoint (--aes N; tests/test_proofs_cast.py reproduces it)
KNOWN_SEARCH = {("expat proofs run --aes 2", "aik_in_tee", "monitor"): "sibling-tee"}


def _differences(path: Path) -> set[tuple[str, str]]:
    monitors, formulas = _verdicts(path)
    return {(pid, "monitor" if pid in monitors else "formula") for pid in monitors ^ formulas}


def test_known_differences_name_documented_classes():
    for key, cls in list(KNOWN.items()) + list(KNOWN_SYNTH.items()) + list(KNOWN_SEARCH.items()):
        d = J.DIFFERENCES[cls]
        assert key[1] in d.properties and d.flagged_by in (key[2], "both"), (key, cls)
    assert set(KNOWN.values()) | set(KNOWN_SYNTH.values()) | set(KNOWN_SEARCH.values()) == set(J.DIFFERENCES)


def test_formula_and_monitor_verdicts_agree_on_the_committed_corpora_but_for_the_known_differences():
    found = {}
    for corpus in CORPORA:
        for p in sorted((ROOT / corpus).glob("*.jsonl")):
            for pid, side in _differences(p):
                found[(f"{corpus}/{p.name}", pid, side)] = True
    assert set(found) == set(KNOWN), (sorted(set(found) - set(KNOWN)), sorted(set(KNOWN) - set(found)))


def test_formula_and_monitor_verdicts_agree_on_a_synthetic_corpus_but_for_the_known_differences(tmp_path):
    assert main(["traces", "synth", "--count", "96", "--seed", "7", "--out", str(tmp_path)]) == 0
    paths = sorted(tmp_path.glob("*.jsonl"))
    assert len(paths) == 96
    seen = set()
    for p in paths:
        mutation = load_trace(p).header["synthetic"]["mutation"]
        for pid, side in _differences(p):
            assert (mutation, pid, side) in KNOWN_SYNTH, (p.name, pid, side)
            seen.add((mutation, pid, side))
    assert seen, "the synthetic corpus shows none of its known differences: the comparison is not running"


def test_expat_check_formulas_reports_counterexamples_under_the_property(capsys):
    path = str(ROOT / "traces/examples/synthetic-attack-forged-evidence.jsonl")
    assert main(["check", "--json", "-j", "1", path]) == 1
    plain = json.loads(capsys.readouterr().out)
    assert main(["check", "--json", "-j", "1", "--formulas", path]) == 1
    both = json.loads(capsys.readouterr().out)
    formula = [v for v in both["violations"] if v.get("detail", "").startswith("formula")]
    assert {v["property"] for v in formula} == {"evidence_integrity", "channel_binding", "request_binding",
                                                "aik_in_tee", "no_diversion"}
    assert not any(v.get("detail", "").startswith("formula") for v in plain["violations"])
    assert set(plain["broken"]) < set(both["broken"])


def test_compiled_judge_equals_the_interpreter_on_every_committed_trace():
    n = 0
    for corpus in CORPORA:
        for p in sorted((ROOT / corpus).glob("*.jsonl")):
            facts = trace_facts(load_trace(p))
            fast, slow = J.judge_facts(facts), J.judge_facts(facts, interpreted=True)
            assert [(v.id, v.event_index, v.detail) for v in fast] == [(v.id, v.event_index, v.detail) for v in slow], p
            n += len(fast)
    assert n > 50  # the corpora have counterexamples to compare, not only silence


def test_an_inner_quantifier_shadows_an_outer_variable():
    from expat.model.compiled import predicate
    f = L.compile_formula("All x #i. A(x) @ i ==> (Ex #i. B(x) @ i)").formula
    facts = _facts((0, "A", "u"), (1, "B", "u"))
    assert L.evaluate(f, facts) and predicate(f, set())(facts, {})
    assert not L.evaluate(f, _facts((0, "A", "u"), (1, "B", "v")))


def test_an_attester_s_own_completion_of_a_reused_context_is_no_acceptance():
    """Found by the bounded search with --unpruned (docs/proofs.md): without context uniqueness the client
    answers mallory's request with context n1 (completing as attester) and, as requester with the same n1,
    validates the EA of mallory's replay of that Evidence under kM and refuses it (aik-pub-hash-mismatch).
    The client's completion as attester is not the requester's completion: the refused attestation is no
    acceptance fact, so no formula judges it, and the attester's completion stays its own step."""
    from expat.model.expectations import VARIANTS
    from expat.model.steps import rule_steps
    from expat.proofs.analysis import to_trace, variant_flags, variant_profile
    from expat.proofs.search import Bound, Explorer

    v = VARIANTS["no-context-unique"]
    ex = Explorer(variant_flags(v), Bound(1, 2, 1, 1, unpruned=True))
    want = ("connections client-mallory", "client asks mallory on c1 with context n1",
            "mallory asks client on c1 with context n1 (background)",
            "mallory answers client on c1/n1: replay ev-2 kM (refused)")
    st = next(st for st in ex.runs() if st.steps == want)
    trace = to_trace(st, ex, v, variant_profile(v))
    names = [e.name for e in trace.events]
    assert "AuthenticatorRejected" in names and names.count("AttestationCompleted") == 1
    assert "AuthenticatorAccepted" not in trace_facts(trace).by_name, "a refused attestation is no acceptance"
    assert J.judge(trace) == [] and check_trace(trace).properties() == set()
    done = names.index("AttestationCompleted")
    assert rule_steps(trace.events)[done] == ("complete", "client", "c1")
