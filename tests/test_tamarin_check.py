"""`expat tamarin check`: the refinement mapping (every event an action fact, or declared not
modelled), lemma coverage, and mutations of the theory that must be reported."""

from __future__ import annotations

from tamarin_support import fresh_theory

from expat.cli import main
from expat.model.events import EVENTS
from expat.tamarin import check, mapping


def kinds(text: str) -> list[str]:
    return [f.detail for f in check.check_text(text)]


def test_fresh_theory_has_no_findings():
    assert check.check_text(fresh_theory()) == []


def test_every_event_is_mapped_or_declared_not_modelled_with_a_reason():
    for name in EVENTS:
        assert (name in mapping.ACTIONS) != (name in mapping.NOT_MODELLED), name
        if name in mapping.NOT_MODELLED:
            assert len(mapping.NOT_MODELLED[name]) > 20
    assert set(mapping.ACTIONS) | set(mapping.NOT_MODELLED) == set(EVENTS)


def test_mapped_arguments_are_event_arguments():
    for name, args in mapping.ACTIONS.items():
        event_args = {a.name for a in EVENTS[name].args} | {"agent"}
        assert all(a.startswith("+") or a in event_args for a in args), name


def test_action_facts_are_read_from_the_rules():
    facts = check.action_facts(fresh_theory())
    assert facts["AuthenticatorAccepted"] == {6}
    assert facts["EvidenceProduced"] == {5}
    assert "bind" not in facts and "sign" not in facts  # function symbols are not facts


def test_a_removed_action_is_reported():
    text = fresh_theory().replace("AikGenerated($P, pk(~aik))", "AikMade($P, pk(~aik))")
    found = kinds(text)
    assert any("event AikGenerated is mapped but no rule has it" in d for d in found)
    assert any("action AikMade is neither an event" in d for d in found)


def test_a_wrong_arity_is_reported():
    text = fresh_theory().replace("RequestSent(R, k, ~ctx)", "RequestSent(R, k, ~ctx, 'x')")
    assert any("RequestSent: arity" in d for d in kinds(text))


def test_a_missing_lemma_is_reported():
    text = fresh_theory().replace("lemma no_diversion:", "lemma no_diversion_renamed:")
    assert any("no lemma no_diversion" in d for d in kinds(text))


def test_cli_check_passes_on_the_committed_theory(capsys):
    assert main(["tamarin", "check"]) == 0
    assert "ok:" in capsys.readouterr().out
