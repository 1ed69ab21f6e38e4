"""model/steps.py: which rule instance of the theory carries each event, the one grouping the term view
(instants of the formulas' facts) and the executability lemmas (their time points) share."""

from __future__ import annotations

from pathlib import Path

import pytest

from expat.model.steps import anchors, rule_steps
from expat.model.termview import instants
from expat.model.trace import load_trace
from expat.tamarin import executability

ROOT = Path(__file__).resolve().parents[1]
HONEST = sorted((ROOT / "traces" / "golden").glob("honest-*.jsonl"))


def _positions(events, name, agent=None):
    return [k for k, e in enumerate(events) if e.name == name and (agent is None or e.agent == agent)]


@pytest.mark.parametrize("path", HONEST, ids=lambda p: p.stem)
def test_one_step_per_rule_of_the_theory_on_the_honest_runs(path):
    events = load_trace(path).events
    steps = rule_steps(events)
    chans = _positions(events, "ChannelEstablished")
    assert len(chans) == 2 and steps[chans[0]] == steps[chans[1]] == ("channel", events[chans[0]].args["conn"])
    for acc in _positions(events, "AuthenticatorAccepted"):
        rp, a = events[acc].agent, events[acc].args
        done = [k for k in _positions(events, "AttestationCompleted", rp) if events[k].args["ctx"] == a["ctx"]]
        assert done and steps[acc] == steps[done[0]] == ("accept", rp, a["conn"], a["ctx"])
        assert instants(load_trace(path))[acc] == anchors(events, steps)[steps[acc]] == done[0]
    produced = _positions(events, "EvidenceProduced")
    asked = _positions(events, "EvidenceRequested")
    # the AE acts for its platform: its Evidence joins the TE's step only through ``platform``
    owner = {e.agent: e.args["owner"] for e in events if e.name == "AikGenerated"}
    assert produced and asked
    assert rule_steps(events, owner)[produced[0]] == rule_steps(events, owner)[asked[0]]
    assert rule_steps(events)[produced[0]] != rule_steps(events)[asked[0]]


def test_the_executability_lemmas_take_their_time_points_from_rule_steps():
    for trace in executability.GOLDEN:
        path = executability.golden_path(trace)
        events = load_trace(path).events
        owner = {e.agent: e.args["owner"] for e in events if e.name == "AikGenerated"}
        steps = rule_steps(events, owner)
        attest = {a for e in events if e.name == "ChannelEstablished" for a in e.args["attest"]}
        kept = [k for k, e in enumerate(events) if e.name in executability.ACTIONS
                and not (e.name == "ApplicationDataSent" and e.agent not in attest)]
        projected = executability.project(executability.read_events(path))
        assert [s for _, _, s in projected] == [steps[k] for k in kept], trace


def test_a_completion_with_nothing_accepted_is_no_acceptance_step():
    path = next(p for p in HONEST if "background" in p.stem)
    events = [e for e in load_trace(path).events if e.name != "AuthenticatorAccepted"]
    steps = rule_steps(events)
    assert not [k for k, e in enumerate(events) if e.name == "AttestationCompleted" and steps[k][0] == "accept"]
    assert not [s for s in anchors(events, steps) if s[0] == "accept"]
