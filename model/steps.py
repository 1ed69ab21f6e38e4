"""The theory's steps in a trace: which rule instance of the Tamarin theory carries each event.

Where one rule of the theory makes several actions, a trace records several events. The term view
(:func:`expat.model.termview.instants`: the instants of the property formulas' facts) and the
executability lemmas (:mod:`expat.tamarin.executability`: the lemmas' time points) group them by
:func:`rule_steps`. Events with equal steps are one rule instance:

* ``("channel", conn)``: both endpoints' ChannelEstablished (the handshake);
* ``("tee", P, conn, ctx)``: an attester's RequestReceived and EvidenceRequested, and the Evidence its
  platform's AE produced over that request's binding;
* ``("result", P, conn, ctx)``: a passport attester's AttestationResultObtained and the authenticator
  that carries the result;
* ``("accept", R, conn, ctx)``: a requester's AuthenticatorAccepted, BindingChecked, EvidenceForwarded,
  AttestationResultReceived, and its AttestationCompleted of a request it accepted an authenticator
  for; a background-check Verifier's EvidenceAppraised of the Evidence that requester accepted, against
  the request's context as nonce, and BindingConfirmed of it (the theory's relying party appraises and
  accepts at once);
* ``("complete", P, conn)``: an attester's AttestationCompleted of a request it sent the authenticator
  for, and its first ApplicationDataSent after its first such completion on the connection;
* ``("event", k)``: any other event, a step of its own.

``P`` and ``R`` are agents read through ``platform`` (an Attesting Environment acts for the endpoint
that owns it; the term view passes none and keeps every agent). The anchor of a step, where its facts
sit, is the first AttestationCompleted in it (:func:`anchors`).
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from expat.model.trace import Event

Step = tuple


def channel_sides(events: Sequence[Event]) -> dict[tuple[str, str], str]:
    """(agent, conn) -> the side that agent took in the connection's handshake."""
    return {(e.agent, e.args["conn"]): e.args["side"] for e in events if e.name == "ChannelEstablished"}


def completes_as_requester(e: Event, sides: Mapping[tuple[str, str], str]) -> bool:
    """``e`` (an AttestationCompleted) is its agent's completion as the requester: the side that attested
    is not its own. With a context reused across the two directions of a connection (check_context_unique
    off), one agent may complete the same (connection, context) as attester too; that completion is not
    an acceptance."""
    return e.args["attester"] != sides.get((e.agent, e.args["conn"]))


def rule_steps(events: Sequence[Event], platform: Optional[Mapping[str, str]] = None) -> list[Step]:
    """The step of each event of ``events`` (see the module text), in order."""
    who = (lambda agent: agent) if not platform else (lambda agent: platform.get(agent, agent))
    requested = {e.args["binding"]: (e.args["conn"], e.args["ctx"]) for e in events if e.name == "EvidenceRequested"}
    accepted = {(e.agent, e.args["conn"], e.args["ctx"]): e.args["cmw"]
                for e in events if e.name == "AuthenticatorAccepted"}
    confirmed = {(e.agent, e.args["cmw"]): (e.args["conn"], e.args["ctx"])
                 for e in events if e.name == "AuthenticatorAccepted"}
    sent = {(e.agent, e.args["conn"], e.args["ctx"]) for e in events if e.name == "AuthenticatorSent"}
    sides = channel_sides(events)
    completed: dict[tuple[str, str, str], int] = {}  # requester's (agent, conn, ctx) -> its first completion
    attester_done: dict[tuple[str, str], int] = {}   # attester's (agent, conn) -> its first completion
    for pos, e in enumerate(events):
        if e.name == "AttestationCompleted":
            key = (e.agent, e.args["conn"], e.args["ctx"])
            if key in accepted and completes_as_requester(e, sides):
                completed.setdefault(key, pos)
            elif key in sent and not completes_as_requester(e, sides):
                attester_done.setdefault(key[:2], pos)
    # the appraisal inside a requester's acceptance: of the Evidence it accepted, against its context
    appraised = {(key[0], accepted[key], key[2]): key for key in completed}
    first_data: set[tuple[str, str]] = set()
    out: list[Step] = []
    for k, e in enumerate(events):
        name, a = e.name, e.args
        step: Step = ("event", k)
        if name == "ChannelEstablished":
            step = ("channel", a["conn"])
        elif name in ("RequestReceived", "EvidenceRequested"):
            step = ("tee", who(e.agent), a["conn"], a["ctx"])
        elif name == "EvidenceProduced":
            step = ("tee", who(e.agent), *requested.get(a["binding"], (k,)))
        elif name == "AttestationResultObtained" or (name == "AuthenticatorSent" and a["kind"] == "result"):
            step = ("result", who(e.agent), a["conn"], a["ctx"])
        elif name in ("AuthenticatorAccepted", "BindingChecked", "EvidenceForwarded", "AttestationResultReceived"):
            step = ("accept", who(e.agent), a["conn"], a["ctx"])
        elif name == "AttestationCompleted":
            key = (e.agent, a["conn"], a["ctx"])
            if key in accepted and completes_as_requester(e, sides):
                step = ("accept", who(e.agent), a["conn"], a["ctx"])
            elif key in sent and not completes_as_requester(e, sides):
                step = ("complete", who(e.agent), a["conn"])
        elif name == "EvidenceAppraised" and (key := appraised.get((a["to"], a["cmw"], a["nonce"]))) is not None:
            step = ("accept", who(key[0]), *key[1:])
        elif name == "BindingConfirmed" and (a["to"], a["cmw"]) in confirmed:
            step = ("accept", who(a["to"]), *confirmed[(a["to"], a["cmw"])])
        elif name == "ApplicationDataSent" and attester_done.get(key := (e.agent, a["conn"]), k) < k \
                and key not in first_data:
            first_data.add(key)
            step = ("complete", who(e.agent), a["conn"])
        out.append(step)
    return out


def anchors(events: Sequence[Event], steps: Sequence[Step]) -> dict[Step, int]:
    """Where each acceptance and completion step sits: the position of its first AttestationCompleted."""
    out: dict[Step, int] = {}
    for pos, (e, step) in enumerate(zip(events, steps)):
        if e.name == "AttestationCompleted" and step[0] in ("accept", "complete"):
            out.setdefault(step, pos)
    return out
