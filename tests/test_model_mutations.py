"""Mutated honest traces are never reported conformant when the mutation breaks a rule.

Which mutations break a rule is decided here, independently of the checker:

* altering any non-empty byte value: every byte value in a trace is cross-checked by another event
  (contexts select instances, bindings and hashes are compared, secrets are recomputed);
* duplicating any event other than application data: every other step happens once per instance;
* dropping a step that a later event of the same agent, connection and context follows;
* moving a step behind a later event of the same agent, connection and context.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_support import examples, with_events

from expat.model.checker import check_trace
from expat.model.events import EVENTS
from expat.model.trace import Event

HONEST = examples("synthetic-honest")
NAMES = sorted(HONEST)
DATA = ("ApplicationDataSent", "ApplicationDataReceived")
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _depends(events: list[Event], i: int, j: int) -> bool:
    """Event j (later) continues the same instance as event i: same agent, same connection, and the
    same context when i has one (connection-level events are followed by anything on the connection)."""
    a, b = events[i], events[j]
    if a.agent != b.agent or a.name in DATA or b.name in DATA:
        return False
    if "conn" not in a.args:
        return "conn" not in b.args or a.name == "AikGenerated"
    if a.args.get("conn") != b.args.get("conn"):
        return False
    return "ctx" not in a.args or a.args["ctx"] == b.args.get("ctx")


def test_every_honest_example_is_conformant_before_mutation():
    for t in HONEST.values():
        assert check_trace(t).conformant


@SETTINGS
@given(st.data())
def test_altered_byte_values_are_detected(data):
    trace = HONEST[data.draw(st.sampled_from(NAMES))]
    spots = [(i, a.name) for i, e in enumerate(trace.events) for a in EVENTS[e.name].args
             if a.type == "bytes" and e.args.get(a.name)]
    i, field = data.draw(st.sampled_from(spots))
    value = bytearray.fromhex(trace.events[i].args[field])
    pos = data.draw(st.integers(0, len(value) - 1))
    value[pos] ^= data.draw(st.integers(1, 255))
    events = list(trace.events)
    events[i] = Event(i, events[i].agent, events[i].name, dict(events[i].args, **{field: value.hex()}))
    assert not check_trace(with_events(trace, events)).conformant


@SETTINGS
@given(st.data())
def test_duplicated_steps_are_detected(data):
    trace = HONEST[data.draw(st.sampled_from(NAMES))]
    candidates = [i for i, e in enumerate(trace.events) if e.name not in DATA]
    i = data.draw(st.sampled_from(candidates))
    at = data.draw(st.integers(0, len(trace.events)))
    events = list(trace.events)
    events.insert(at, trace.events[i])
    assert not check_trace(with_events(trace, events)).conformant


@SETTINGS
@given(st.data())
def test_dropped_steps_with_a_follower_are_detected(data):
    trace = HONEST[data.draw(st.sampled_from(NAMES))]
    ev = trace.events
    candidates = [i for i in range(len(ev)) if any(_depends(ev, i, j) for j in range(i + 1, len(ev)))]
    i = data.draw(st.sampled_from(candidates))
    events = ev[:i] + ev[i + 1:]
    assert not check_trace(with_events(trace, events)).conformant


@SETTINGS
@given(st.data())
def test_steps_moved_behind_their_follower_are_detected(data):
    trace = HONEST[data.draw(st.sampled_from(NAMES))]
    ev = trace.events
    pairs = [(i, j) for i in range(len(ev)) for j in range(i + 1, len(ev)) if _depends(ev, i, j)]
    i, j = data.draw(st.sampled_from(pairs))
    events = ev[:i] + ev[i + 1:j + 1] + [ev[i]] + ev[j + 1:]
    assert not check_trace(with_events(trace, events)).conformant


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_arbitrary_mutations_never_crash_the_checker(data):
    trace = HONEST[data.draw(st.sampled_from(NAMES))]
    events = list(trace.events)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["drop", "dup", "swap"]))
        i = data.draw(st.integers(0, len(events) - 1))
        if op == "drop" and len(events) > 1:
            events.pop(i)
        elif op == "dup":
            events.insert(data.draw(st.integers(0, len(events))), events[i])
        else:
            j = data.draw(st.integers(0, len(events) - 1))
            events[i], events[j] = events[j], events[i]
    result = check_trace(with_events(trace, events))
    assert all(v.kind in ("rule", "property") for v in result.violations)
