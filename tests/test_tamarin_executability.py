"""Executability lemmas are the golden honest traces projected onto the theory's action facts, and the
lemmas name the party each mitigation protects without excluding the attack it is for (issue 12)."""

from __future__ import annotations

import re

from tests.tamarin_support import COMMITTED, fresh_theory, lemma_block

from expat.model import formulas
from expat.tamarin import executability as X
from expat.tamarin import lemmas
from expat.tamarin.mapping import ACTIONS, NOT_MODELLED


def test_every_listed_golden_trace_is_an_executability_lemma_of_the_committed_theory():
    text = COMMITTED.read_text(encoding="ascii")
    for trace in X.GOLDEN:
        assert X.golden_path(trace).exists(), trace
        name = X.lemma_name(trace)
        assert X.lemma_text(trace) in text, name
        assert name in lemmas.lemma_names()
        assert lemmas.expected_verdict(name, []) == "verified"
    # background check and passport, each direction
    assert {"client", "server"} == {t.split("-")[1] for t in X.GOLDEN}
    assert {"background", "passport"} == {t.split("-")[2] for t in X.GOLDEN}


def test_projection_keeps_every_mapped_event_in_order():
    for trace in X.GOLDEN:
        events = X.read_events(X.golden_path(trace))
        facts = X.project(events)
        mapped = [e["event"] for e in events if e["event"] in ACTIONS]
        kept = [n for n, _, _ in facts]
        # only the application data of an endpoint that attests nothing is left out (the theory's data
        # rule is the attester's); everything else stays, in trace order
        assert [n for n in mapped if n != "ApplicationDataSent"] == [n for n in kept if n != "ApplicationDataSent"]
        assert 1 <= kept.count("ApplicationDataSent") <= mapped.count("ApplicationDataSent")
        assert all(len(t) == len(ACTIONS[n]) for n, t, _ in facts)
        assert not {n for n in kept} & set(NOT_MODELLED)


def test_projection_keeps_equal_values_equal_and_agents_apart():
    facts = X.project(X.read_events(X.golden_path("honest-client-background-check")))
    by = {n: t for n, t, _ in facts}
    # the server's request context is the Verifier's nonce, and the client answers that context
    assert by["NonceIssued"][1] == by["RequestSent"][2] == by["EvidenceRequested"][2] == by["AuthenticatorAccepted"][2]
    # the binding the client's TEE was asked for is the one the server checked, on both sides of the check
    assert by["EvidenceRequested"][4] == by["BindingChecked"][3] == by["BindingChecked"][4]
    # the AE's events belong to its platform; the requester and the attester differ
    assert by["EvidenceProduced"][0] == by["EvidenceRequested"][0] != by["AuthenticatorAccepted"][0]
    passport = {n: t for n, t, _ in X.project(X.read_events(X.golden_path("honest-server-passport")))}
    assert passport["EvidenceAppraised"][3] == "'none'"


def test_steps_group_the_events_one_rule_carries():
    text = X.lemma_text("honest-client-background-check")
    acc = re.search(r"AuthenticatorAccepted\([^@]*@ (#t\d+)", text).group(1)
    for name in ("BindingChecked", "EvidenceForwarded", "EvidenceAppraised", "AttestationResultReceived"):
        assert re.search(rf"{name}\([^@]*@ {acc}\b", text), name
    # the attester's own completion is a later step than the requester's
    completions = re.findall(r"AttestationCompleted\([^@]*@ (#t\d+)", text)
    assert completions[0] == acc and completions[1] != acc


def test_split_deployment_oracle_takes_only_the_binder_from_the_host():
    """-02/-04 §5.2: the binder comes from the TLS stack, AIK_pub_hash is the TEE's own claim over its AIK."""
    text = fresh_theory()
    rule = text.split("rule Compromised_TeeOracle:")[1].split("\n\n")[0]
    assert "In(b)" in rule and "In(<b, ah>)" not in rule
    assert "ah = h(pk(aik))" in rule and "!Aik(P, aik)" in rule


def test_exclusions_do_not_exclude_the_attack_the_mitigation_is_for():
    text = fresh_theory()
    # AIK_pub_hash is for a host that binds a key its TEE never held: P's host is not excluded
    assert "HostCompromised(P)" not in lemma_block(text, "aik_in_tee")
    assert "AttestationKeyRevealed(P)" in lemma_block(text, "aik_in_tee")
    # context uniqueness and AIK_pub_hash stop the reflection of a leaked own AIK: it is not excluded
    assert "KeyRevealed(R, aik)" not in lemma_block(text, "no_reflection")
    assert "HostCompromised(R)" in lemma_block(text, "no_reflection")
    # ... but the Evidence's own TEE key is: with it, Evidence of P naming R's AIK is simply forged
    assert "AttestationKeyRevealed(P)" in lemma_block(text, "no_reflection")


def test_verifier_nonce_fresh_speaks_of_the_verifier_not_the_restriction():
    (_, _, prem, concl, unless), = formulas.PROPERTY_LEMMAS["verifier_nonce_fresh"]
    assert prem.startswith("EvidenceAppraised(V,") and "NonceIssued(V, n, to)" in concl and unless == "F"
    assert "NonceUsed" not in prem + concl


def test_sanity_lemmas_pin_an_honest_run():
    for pid, text in formulas.SANITY.items():
        assert "AuthenticatorAccepted(" in text and "RequestSent(R, k, ctx)" in text, pid


def test_a_run_lemma_binds_each_variable_once_even_when_one_fact_names_it_twice():
    """A requester's BindingChecked names the binding twice when it matched; if that is the value's first
    use, the quantifier must still list it once (Tamarin renames a repeated variable and refuses the
    lemma as unguarded)."""
    from expat.tamarin.executability import run_lemma

    facts = [("RequestSent", ["A1", "k2", "x3"], ("a",)),
             ("BindingChecked", ["A1", "k2", "x3", "x4", "x4"], ("b",))]
    text = run_lemma("t", facts, [])
    quantified = text.split('"Ex ', 1)[1].split(".", 1)[0].split()
    assert quantified == ["A1", "k2", "x3", "x4", "#t1", "#t2"]
