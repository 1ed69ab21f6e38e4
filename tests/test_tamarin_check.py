"""`expat tamarin check`: mutations of the theory (a rule, fact, lemma or restriction removed or
renamed) are reported, and the small spthy parser's checks fail on what Tamarin would reject."""

from __future__ import annotations

import pytest
from tamarin_support import fresh_theory, lemma_block, rule_block

from expat.cli import main
from expat.tamarin import check, executability, lemmas, spthy


def findings(text: str) -> set[tuple[str, str]]:
    return {(f.kind, f.detail) for f in check.check_text(text, lemmas.golden_traces())}


def kinds(text: str) -> set[str]:
    return {k for k, _ in findings(text)}


def test_fresh_theory_has_no_findings():
    assert findings(fresh_theory()) == set()


def test_removed_rule_is_reported():
    text = fresh_theory()
    block = rule_block(text, "RelyingParty_Validated_BindingChecked_Bound")  # first (#ifdef) copy
    mutated = text.replace(block, "", 1)
    assert ("rule-missing", "RelyingParty_Validated_BindingChecked_Bound") in findings(mutated)


def test_renamed_rule_is_reported():
    text = fresh_theory()
    mutated = text.replace("rule Verifier_Ready_NonceIssued_Ready:", "rule Verifier_Ready_NonceMade_Ready:")
    got = findings(mutated)
    assert ("rule-missing", "Verifier_Ready_NonceIssued_Ready") in got
    assert ("rule-extra", "Verifier_Ready_NonceMade_Ready") in got


def test_removed_rule_under_a_flag_is_reported_only_for_that_variant():
    text = fresh_theory()
    block = rule_block(text, "Endpoint_Start_ChannelEstablished_Attested")
    out = check.check_text(text.replace(block, ""), lemmas.golden_traces())
    assert {f.variant for f in out} == {"resumption"}
    assert ("rule-missing", "Endpoint_Start_ChannelEstablished_Attested") in {(f.kind, f.detail) for f in out}


def test_removed_and_renamed_lemmas_are_reported():
    text = fresh_theory()
    got = findings(text.replace(lemma_block(text, "no_reflection"), ""))
    assert ("lemma-missing", "no_reflection") in got
    got = findings(text.replace("lemma aik_in_tee:", "lemma aik_in_the_tee:"))
    assert {("lemma-missing", "aik_in_tee"), ("lemma-extra", "aik_in_the_tee")} <= got
    got = findings(text.replace("lemma no_resumption_reachable: exists-trace", "lemma no_resumption_reachable:"))
    assert ("lemma-quantifier", "no_resumption_reachable is all-traces, expected exists-trace") in got


def test_removed_executability_lemma_is_reported():
    traces = lemmas.golden_traces()
    assert traces, "no golden or example traces in this checkout"
    name = lemmas.executable_name(traces[0])
    text = fresh_theory()
    assert ("lemma-missing", name) in findings(text.replace(lemma_block(text, name), ""))


def test_without_traces_the_executability_lemmas_present_are_accepted():
    text = fresh_theory()
    assert check.check_text(text) == []
    name = lemmas.executable_name(lemmas.golden_traces()[0])
    assert check.check_text(text.replace(lemma_block(text, name), "")) == []


def test_removed_guard_fact_is_reported():
    text = fresh_theory()
    block = rule_block(text, "RelyingParty_Start_RequestSent_Requested")
    mutated = text.replace(block, block.replace("\n  , Guard_request_type_matches_side(side, $msg_type)", ""))
    assert mutated != text
    assert ("guard-missing", "rule RelyingParty_Start_RequestSent_Requested lacks "
                             "Guard_request_type_matches_side/2") in findings(mutated)


def test_renamed_event_fact_is_reported():
    text = fresh_theory()
    block = rule_block(text, "Verifier_Ready_NonceIssued_Ready")
    mutated = text.replace(block, block.replace("NonceIssued(", "NonceGiven("))
    got = findings(mutated)
    assert ("event-missing", "rule Verifier_Ready_NonceIssued_Ready lacks action NonceIssued/3") in got
    assert ("fact-missing", "event NonceIssued is no action fact") in got


def test_event_fact_with_wrong_arity_is_reported():
    text = fresh_theory()
    block = rule_block(text, "Verifier_Ready_NonceIssued_Ready")
    mutated = text.replace(block, block.replace("NonceIssued(v, ~nonce, $to)", "NonceIssued(v, ~nonce)"))
    assert mutated != text
    assert "fact-arity" in kinds(mutated) and "event-missing" in kinds(mutated)


def test_removed_state_and_effect_facts_are_reported():
    text = fresh_theory()
    block = rule_block(text, "Verifier_Ready_NonceIssued_Ready")
    mutated = text.replace(block, block.replace("\n  , !Nonce(v, ~nonce)", ""))
    assert ("effect-missing", "rule Verifier_Ready_NonceIssued_Ready lacks !Nonce/2") in findings(mutated)
    mutated = text.replace("St_Verifier_Ready(", "St_Verifier_Waiting(")
    assert {"state-missing", "state-fact-missing", "state-fact-extra"} <= kinds(mutated)


def test_removed_restriction_is_reported():
    text = fresh_theory()
    start = text.index("restriction guard_status_affirming:")
    end = text.index("\n\n", start)
    got = findings(text[:start] + text[end:])
    assert ("restriction-missing", "guard_status_affirming") in got


def test_unbalanced_preprocessor_is_a_parse_finding():
    text = fresh_theory()
    mutated = text.replace("#endif\n", "", 1)
    assert "parse" in kinds(mutated)


def test_unbound_variable_is_reported():
    text = fresh_theory()
    block = rule_block(text, "Verifier_Ready_NonceIssued_Ready")
    mutated = text.replace(block, block.replace("Out(~nonce)", "Out(<~nonce, secret>)"))
    assert any(k == "wellformedness" and "secret" in d for k, d in findings(mutated))


def test_executability_lemma_that_fits_no_rule_is_reported():
    traces = lemmas.golden_traces()
    name = lemmas.executable_name(traces[0])
    text = fresh_theory()
    block = lemma_block(text, name)
    assert "'evidence'" in block or "'result'" in block
    mutated = text.replace(block, block.replace("'evidence'", "'evidense'").replace("'result'", "'resu1t'"))
    got = [d for k, d in findings(mutated) if k == "executability"]
    assert got and got[0].startswith(name + ": event ")
    assert "AuthenticatorSent" in got[0] or "AuthenticatorAccepted" in got[0]


def test_unification_respects_sorts_and_shared_variables():
    P = executability.parse_term
    assert executability.unify(P("'a'"), P("$x"), {}) is not None
    assert executability.unify(P("'a'"), P("~x"), {}) is None
    assert executability.unify(P("h(y)"), P("$x"), {}) is None
    assert executability.unify(P("<a, b, c>"), P("<'1', <'2', '3'>>"), {}) is not None
    s = executability.unify(P("<v, v>"), P("<'1', w>"), {})
    assert s is not None and executability.walk(P("w"), s) == P("'1'")
    assert executability.unify(P("<v, v>"), P("<'1', '2'>"), {}) is None
    assert executability.unify(P("pk(k)"), P("h(k)"), {}) is None


def test_check_cli_reports_mutation(tmp_path, capsys):
    text = fresh_theory()
    (tmp_path / "expat.spthy").write_text(text.replace("lemma aik_in_tee:", "lemma aik_in_the_tee:"),
                                          encoding="ascii")
    assert main(["tamarin", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "lemma-missing: aik_in_tee" in out and "mismatch" in out


# --- the parser and its well-formedness checks -----------------------------------------------------

def test_preprocessor_flag_formulas_like_tamarin():
    text = "a\n#ifdef X & not Y | Z\nb\n#else\nc\n#endif\nd"
    keep = lambda flags: [x for x in spthy.preprocess(text, flags).splitlines() if x]  # noqa: E731
    assert keep(set()) == ["a", "c", "d"]
    assert keep({"X"}) == ["a", "b", "d"]
    assert keep({"X", "Y"}) == ["a", "c", "d"]
    assert keep({"X", "Y", "Z"}) == ["a", "b", "d"]
    assert spthy.flags_used(text) == ["X", "Y", "Z"]


@pytest.mark.parametrize("bad", [
    "#ifdef X\na",                          # unbalanced
    "#else\n#endif",                        # else without ifdef
    "#ifdef X\n#ifdef Y\n#endif\n#endif",  # nested: tamarin-prover's skip would stop at the inner #endif
    "#ifdef (X | Y)\n#endif",               # no parentheses in Tamarin's flag formulas
    "#ifdef\n#endif",
    "#define X",
])
def test_preprocessor_refuses_what_tamarin_would_misread(bad):
    with pytest.raises(spthy.SpthyError):
        spthy.preprocess(bad)


def test_generated_theory_has_only_flat_blocks():
    depth = 0
    for line in fresh_theory().splitlines():
        if line.startswith("#ifdef"):
            depth += 1
            assert depth == 1, line
        elif line.startswith("#endif"):
            depth -= 1
    assert depth == 0


def test_split_top_respects_brackets_and_quotes():
    assert spthy.split_top("a, <b, c>, f(d, e), 'x, y'") == ["a", "<b, c>", "f(d, e)", "'x, y'"]
    with pytest.raises(spthy.SpthyError):
        spthy.split_top("f(a, b")


MINI = '''theory T begin
builtins: hashing
rule A: [ Fr(~x) ] --[ Ev(~x) ]-> [ St(~x) ]
rule B: [ St(x) ] --[ Ev(x) ]-> [ Out(h(x)) ]
lemma l: "All x #i. Ev(x)@i ==> Ex #j. Ev(x)@j"
end
'''


def test_wellformedness_of_a_small_theory():
    assert spthy.wellformedness(spthy.parse(MINI)) == []


@pytest.mark.parametrize("old,new,message", [
    ("[ Out(h(x)) ]", "[ Out(h(y)) ]", "not bound by premises"),
    ("--[ Ev(x) ]->", "--[ Ev(x, x) ]->", "arities"),
    ("[ St(x) ] --[", "[ !St(x) ] --[", "linear and persistent"),
    ("[ St(x) ] --[", "[ Stt(x) ] --[", "produced by no rule"),
    ('"All x #i. Ev(x)@i', '"All #i. Ev(x)@i', "unquantified"),
    ('Ev(x)@j"', 'Evv(x)@j"', "occurs in no rule"),
    ("[ Fr(~x) ]", "[ Fr(x) ]", "Fr of a non-fresh"),
    ("[ St(~x) ]\nrule B", "[ St(~x), Out(x) ]\nrule B", "two sorts"),
])
def test_wellformedness_catches(old, new, message):
    mutated = MINI.replace(old, new)
    assert mutated != MINI
    problems = spthy.wellformedness(spthy.parse(mutated))
    assert any(message in p for p in problems), problems


def test_parse_rejects_outside_the_subset():
    with pytest.raises(spthy.SpthyError):
        spthy.parse(MINI.replace("end\n", ""))
    with pytest.raises(spthy.SpthyError):
        spthy.parse(MINI.replace("--[ Ev(~x) ]->", "=[ Ev(~x) ]=>"))
    with pytest.raises(spthy.SpthyError):
        spthy.parse(MINI.replace("#", "").replace("theory T begin", "theory T\n#define X\nbegin"))
