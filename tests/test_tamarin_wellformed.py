"""What tamarin-prover would report on loading a theory (parser, Wellformedness.hs, Guarded.hs,
MessageDerivationChecks.hs), as re-implemented in expat.tamarin.wellformed: the generated theory is
clean under every flag set, and each rule catches its violation (one negative test per rule)."""

from __future__ import annotations

import re

import pytest
from tamarin_support import fresh_theory

from expat.tamarin import check, lemmas, semantics, spthy
from expat.tamarin import wellformed as W

BASE = """theory t
begin
builtins: hashing, signing, symmetric-encryption
functions: f/2
rule Setup:
    [ Fr(~k) ]
  --[ Start(~k) ]->
    [ !Key($A, ~k), Out(pk(~k)) ]
rule Use:
    [ !Key(A, k), In(m) ]
  --[ Used(A, m), Eq(verify(m, 'x', pk(k)), true) ]->
    [ Out(f(m, k)) ]
restriction Equality:
  "All x y #i. Eq(x, y)@i ==> x = y"
lemma ok:
  "All a m #i. Used(a, m)@i ==> Ex k #j. Start(k)@j & #j < #i"
lemma seen: exists-trace
  "Ex a m #i. Used(a, m)@i & not (Ex k #j. Start(k)@j & #i < #j)"
%s
end
"""


def problems(extra: str = "", replace: tuple[str, str] = ("", "")) -> list[str]:
    text = BASE % extra
    if replace[0]:
        assert replace[0] in text
        text = text.replace(*replace)
    theory = spthy.parse(text)
    return W.check_theory(theory) + W.derivation_problems(theory)


def has(found: list[str], pattern: str) -> bool:
    return any(re.search(pattern, p) for p in found)


def test_base_theory_is_clean():
    assert problems() == []


def test_generated_theory_is_clean_under_every_flag_set():
    text = fresh_theory()
    assert W.preprocessor_problems(text) == []
    for variant, off in check.variant_flag_sets():
        theory = spthy.parse(text, {semantics.FLAG_PREFIX + f for f in off})
        assert W.check_theory(theory) == [], variant
        assert W.derivation_problems(theory) == [], variant


def test_regression_reducible_verify_in_restriction_is_reported_end_to_end():
    """The bug found by the audit: verify() inside a restriction formula (Formula terms)."""
    text = fresh_theory()
    fixed = "Guard_evidence_genuine(st, vr)@i ==> (not (st = 'affirming') | vr = true)"
    assert fixed in text
    bad = text.replace(fixed, "Guard_evidence_genuine(st, vr)@i ==> (not (st = 'affirming') "
                              "| verify(vr, st, st) = true)")
    got = {(f.kind, f.detail) for f in check.check_text(bad, lemmas.golden_traces())}
    assert ("tamarin-wellformedness", "restriction guard_evidence_genuine uses terms of the wrong form: "
                                      "reducible function symbol verify") in got


# --- formulas ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("formula, pattern", [
    ('"All a m #i. Used(a, m)@i"', "without toplevel implication"),
    ('"All a m #i. Used(a, m)@i | Start(a)@i ==> F"', "unguarded variable"),
    ('"Ex a m. a = m"', r"unguarded variable\(s\) a, m"),
    ('"All a m #i. Used(a, m)@i ==> Ex k #j. (Start(k)@j | #j < #i)"', r"unguarded variable\(s\) k, #?j"),
])
def test_unguarded_formulas_are_reported(formula, pattern):
    got = problems(f"lemma bad:\n  {formula}")
    assert has(got, r"lemma bad cannot be converted to a guarded formula: .*" + pattern), got


def test_guard_by_equality_with_a_covered_side_is_accepted():
    assert problems('lemma eqg:\n  "All a m #i. Used(a, m)@i ==> Ex k. k = h(m) & not (k = a)"') == []


def test_quantifier_over_a_public_variable_is_reported():
    assert has(problems('lemma bad:\n  "All $a m #i. Used($a, m)@i ==> F"'), "quantifier over pub variable a")


def test_free_variable_and_fresh_name_in_formula_are_reported():
    got = problems('lemma bad:\n  "All m #i. Used(a, m)@i ==> m = ~\'n\'"')
    assert has(got, "free variable a") and has(got, "fresh name ~'n'")


def test_reducible_function_in_lemma_is_reported():
    got = problems('lemma bad:\n  "All a m #i. Used(a, m)@i ==> snd(m) = a"')
    assert has(got, "lemma bad uses terms of the wrong form: reducible function symbol snd")


def test_lemma_action_no_rule_has_is_reported():
    got = problems('lemma bad:\n  "All a #i. Used(a)@i ==> F"')
    assert has(got, "lemma bad references action Used/1 but no rule has such an action")
    got = problems('restriction r2:\n  "All a #i. Missing(a)@i ==> F"')
    assert has(got, "restriction r2 references action Missing/1")


def test_exists_trace_reuse_lemma_is_reported():
    got = problems('lemma bad [reuse]: exists-trace\n  "Ex a m #i. Used(a, m)@i"')
    assert has(got, "cannot reuse 'exists-trace' lemmas")


def test_words_tamarin_reads_differently_are_reported():
    got = problems('lemma bad:\n  "All a notary #i. Used(a, notary)@i ==> notary = a"')
    assert has(got, "read as 'not ary'")
    got = problems('lemma bad2:\n  "All a trueish #i. Used(a, trueish)@i ==> F"')
    assert has(got, "trueish starts with 'true'")


# --- rules ------------------------------------------------------------------------------------------

def rule(body: str, name: str = "Bad") -> str:
    return f"rule {name}:\n    {body}"


@pytest.mark.parametrize("body, pattern", [
    ("[ In(x) ] --[ Used(x, y) ]-> [ ]", "rule Bad has unbound variables: y"),
    ("[ In(x) ] --> [ Out(~'n') ]", r"fresh names are not allowed in rule: ~'n'"),
    ("[ In(a), !Key(A, k) ] --> [ Out(<a, A, k>) ]", "clashing sorts or casings of variables: A, a"),
    ("[ Fr(~x), In(x) ] --> [ Out(x) ]", "clashing sorts or casings of variables: x, ~x"),
    ("[ Out(x) ] --> [ ]", "disallowed fact Out on left-hand-side"),
    ("[ In(x) ] --> [ In(x) ]", "disallowed fact In on right-hand-side"),
    ("[ Fr(<x, y>) ] --> [ Out(<x, y>) ]", "Fr facts must only use a fresh- or a msg-variable"),
    ("[ !Fr(~x) ] --> [ ]", "fresh facts cannot be persistent"),
    ("[ In(x) ] --> [ OUT(x, x) ]", "fact OUT used with arity 2 instead of arity one"),
    ("[ In(x) ] --> [ K(x) ]", "fact name K is reserved"),
    ("[ In(x) ] --> [ Out(g(x)) ]", "unknown operator g"),
    ("[ In(x) ] --> [ Out(f(x)) ]", "function f has arity 2, used with 1"),
    ("[ In(x) ] --> [ Out('a-b') ]", "public name 'a-b' is not an identifier"),
])
def test_rule_problems_are_reported(body, pattern):
    got = problems(rule(body))
    assert has(got, pattern), got


def test_reserved_rule_name_is_reported():
    assert has(problems(rule("[ In(x) ] --> [ Out(x) ]", name="Fresh")), "rule Fresh: reserved rule name")


def test_public_names_with_mismatching_capitalisation_are_reported():
    got = problems(rule("[ In(x) ] --> [ Out(<'X', 'x'>) ]"))
    assert has(got, "public names with mismatching capitalization: X, x")


def test_fact_usage_modulo_case_and_multiplicity_is_reported():
    assert has(problems(rule("[ In(x) ] --[ Key(x, x) ]-> [ ]")), r"fact usage: !Key/2, Key/2")
    assert has(problems(rule("[ In(x) ] --> [ KEY(x, x) ]") + "\n" + rule("[ KEY(x, y) ] --> [ ]", "B2")),
               r"fact usage: !Key/2, KEY/2")
    got = problems('lemma bad:\n  "All a #i. Start(a, a)@i ==> F"')
    assert has(got, r"fact usage: Start/1, Start/2")


def test_unary_operator_takes_a_tuple_like_tamarin():
    assert problems(rule("[ In(x) ] --> [ Out(h(x, x)) ]")) == []


def test_underivable_pattern_is_reported():
    got = problems(rule("[ In(h(x)) ] --> [ Out(x) ]"))
    assert has(got, r"rule Bad: variables not derivable from the premises .*: x")
    assert problems(rule("[ In(senc(x, k)), !Key(A, k) ] --> [ Out(x) ]")) == []
    got = problems(rule("[ In(senc(x, h(k))) ] --> [ Out(x) ]"))
    assert has(got, "not derivable from the premises .*: k, x")


# --- preprocessor and lexer ---------------------------------------------------------------------------

@pytest.mark.parametrize("line, pattern", [
    ("#ifdef (A & B) | C", "is not a flag"),
    ("#ifdef not not A", "is not a flag"),
    ("#ifdef A &", "ends without a flag"),
    ("#ifdef A B", "expected & or |"),
    ("#ifdef notify", "would be read as 'not ify'"),
    ("#ifdef _A", "is not a flag"),
])
def test_flag_formulas_outside_tamarins_grammar_are_reported(line, pattern):
    text = f"theory t\nbegin\n{line}\n#endif\nend\n"
    assert has(W.preprocessor_problems(text), pattern)


def test_flag_formulas_in_tamarins_grammar_are_accepted():
    for line in ("#ifdef A", "#ifdef not A", "#ifdef A & not B | C", "#ifdef OFF_x | not OFF_y & OFF_z"):
        assert W.flag_formula_problems(line[len("#ifdef"):]) == [], line


def test_endif_inside_a_block_is_reported():
    text = "theory t\nbegin\n#ifdef A\n// the #endif of it\nrule R: [ In(x) ] --> [ Out(x) ]\n#endif\nend\n"
    assert has(W.preprocessor_problems(text), "line 4: '#' followed by else/endif")
    text = "theory t\nbegin\n#ifdef A\nlemma l: \"All x #else. X(x)@else ==> F\"\n#endif\nend\n"
    assert has(W.preprocessor_problems(text), "line 4")


def test_nested_block_comment_is_reported():
    assert has(W.preprocessor_problems("/* a /* b */\ntheory t begin end\n"), "inside a block comment")
    assert has(W.preprocessor_problems("/* a \ntheory t begin end\n"), "unterminated")
    assert W.preprocessor_problems("// a /* b\n/* c // d */\ntheory t begin end\n") == []


def test_check_text_reports_preprocessor_problems():
    text = fresh_theory()
    bad = text.replace("#ifdef OFF_reject_resumption\n", "#ifdef (OFF_reject_resumption)\n", 1)
    assert bad != text
    kinds = {f.kind for f in check.check_text(bad, lemmas.golden_traces()) if f.variant == "-"}
    assert kinds == {"preprocessor"}


def test_directive_inside_an_item_is_reported():
    inside_rule = ("theory t\nbegin\nrule R:\n    [ In(x) ]\n#ifdef A\n  --[ X(x) ]->\n#endif\n"
                   "    [ Out(x) ]\nend\n")
    assert has(W.preprocessor_problems(inside_rule), "line 5: preprocessor directive inside an item")
    between = "theory t\nbegin\nrule R:\n    [ In(x) ]\n  -->\n    [ Out(x) ]\n\n#ifdef A\n// c\nrule S:\n" \
              "    [ In(x) ] --> [ Out(x) ]\n#endif\nend\n"
    assert W.preprocessor_problems(between) == []


def test_signature_inside_a_block_is_reported():
    text = "theory t\nbegin\n#ifdef A\nfunctions: g/1\n#endif\nend\n"
    assert has(W.preprocessor_problems(text), "line 4: signature declarations inside #ifdef")


def test_cli_check_fails_on_the_pre_audit_restriction(tmp_path, capsys):
    from expat.cli import main

    text = fresh_theory()
    fixed = ("restriction guard_evidence_genuine:\n"
             "  \"All st vr #i. Guard_evidence_genuine(st, vr)@i ==> (not (st = 'affirming') | vr = true)\"")
    assert fixed in text
    old = ("restriction guard_evidence_genuine:\n  \"All st sg bd kp #i. Guard_evidence_genuine(st, sg, bd, kp)@i "
           "==> (not (st = 'affirming') | verify(sg, bd, kp) = true)\"")
    (tmp_path / "expat.spthy").write_text(text.replace(fixed, old), encoding="ascii")
    assert main(["tamarin", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "reducible function symbol verify" in out
