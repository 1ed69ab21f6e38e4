"""Executability lemmas (issue 12, refinement): a golden honest trace, projected onto the theory's action
facts (:data:`expat.tamarin.mapping.ACTIONS`), is an ``exists-trace`` lemma; Tamarin proving it shows
that the abstract theory can run the reference implementation's honest exchange, event for event.

The projection, written once here and tested against the golden corpus:

* every event of :data:`ACTIONS` becomes its action fact with the mapped arguments; events that one rule
  of the theory carries together share one instant (:func:`expat.model.steps.rule_steps`, which the
  term view groups by too: the connection's two endpoints; the request's receipt, the TE's request to
  its AE and the Evidence; the passport result and the authenticator carrying it; the requester's
  acceptance, binding check, appraisal and completion; the attester's completion and first data), and
  the steps are strictly ordered as they first occur in the trace;
* agents become variables; an Attesting Environment (``<owner>-ae``) is its platform, the agent that
  owns it (the theory's platform is the TEE and its host); other values (connections, contexts, keys,
  bindings, cmws, results) become one variable per distinct value, so equal values stay equal;
* ``side`` and ``kind`` are the theory's constants; the empty Verifier nonce of a passport appraisal is
  ``'none'``; the ``attester`` of ``AttestationCompleted`` is a side, the theory's constant;
* ``+peer`` of ``ChannelEstablished`` is the other endpoint of the connection; ``+owner`` of
  ``KeyRevealed`` the endpoint the AIK was generated for;
* events the theory does not model (``mapping.NOT_MODELLED``) are left out, and so is application data
  sent by an endpoint that attests nothing on the connection: the theory's data rule is the attester's,
  the one ``attest_before_data`` is about (draft §7.3).

The lemma also says that nothing was revealed or compromised (an honest run).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

from expat.layout import locate
from expat.model.formulas import NO_REVEAL
from expat.model.steps import rule_steps
from expat.model.trace import Event
from expat.tamarin.mapping import ACTIONS

# the golden honest runs proved executable: background check and passport, each direction
GOLDEN = (
    "honest-client-background-check",
    "honest-server-background-check",
    "honest-client-passport",
    "honest-server-passport",
)
PREFIX = "exec_"
# The golden runs are default-profile runs. A background-check requester there compares the binding
# itself (its BindingChecked); under the delegated comparison (-04 §5.1, OFF_local_binding_check) the
# Verifier compares and the requester's rule has no BindingChecked, so those runs are not runs of the
# delegated variants and their lemmas are not proved there (the lemma would be falsified trivially).
NOT_RUNS_UNDER = {"honest-client-background-check": ("local_binding_check",),
                  "honest-server-background-check": ("local_binding_check",)}
CONSTANT_ARGS = ("side", "kind")


def lemma_name(trace: str) -> str:
    return PREFIX + re.sub(r"[^A-Za-z0-9]+", "_", trace.removeprefix("honest-"))


def proved_under(lemma: str, flags: Sequence[str]) -> bool:
    """False for an executability lemma whose golden run is not a run of the variant with ``flags`` off
    (:data:`NOT_RUNS_UNDER`); True for every other lemma."""
    return not any(lemma == lemma_name(t) and set(off) & set(flags) for t, off in NOT_RUNS_UNDER.items())


def golden_path(trace: str) -> Path:
    return Path(locate("traces/golden")) / f"{trace}.jsonl"


def read_events(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if "event" in rec:
            out.append(rec)
    return out


def project(events: list[dict]) -> list[tuple[str, list[str], tuple]]:
    """(action, Tamarin argument terms, step) per projected event, in trace order."""
    owner = {e["agent"]: e["args"]["owner"] for e in events if e["event"] == "AikGenerated"}
    aik_owner = {e["args"]["aik"]: e["args"]["owner"] for e in events if e["event"] == "AikGenerated"}
    ends: dict[str, dict[str, str]] = {}  # conn -> agent -> side
    attests: dict[str, set[str]] = {}  # conn -> agents that attest on it
    for e in events:
        if e["event"] == "ChannelEstablished":
            ends.setdefault(e["args"]["conn"], {})[e["agent"]] = e["args"]["side"]
            attests.setdefault(e["args"]["conn"], set()).update(_attest(e["args"]["attest"]))
    names: dict[tuple[str, str], str] = {}

    def agent(a: str) -> str:
        return _var(names, "agent", owner.get(a, a))

    steps = rule_steps([Event(e["seq"], e["agent"], e["event"], e["args"]) for e in events], owner)
    out: list[tuple[str, list[str], tuple]] = []
    for k, e in enumerate(events):
        name, args = e["event"], e["args"]
        if name not in ACTIONS:
            continue
        if name == "ApplicationDataSent" and e["agent"] not in attests.get(args["conn"], set()):
            continue
        terms = []
        for field in ACTIONS[name]:
            if field == "agent":
                terms.append(agent(e["agent"]))
            elif field == "+peer":
                terms.append(agent(next(a for a in ends[args["conn"]] if a != e["agent"])))
            elif field == "+owner":  # a revealed AIK's platform: the endpoint it was generated for
                terms.append(agent(aik_owner[args["key"]]))
            elif field in ("te", "ae", "owner", "to", "verifier", "platform"):
                terms.append(agent(args[field]))
            elif field in CONSTANT_ARGS:
                terms.append(f"'{args[field]}'")
            elif field == "attester":  # already a side (model/events.py), the theory's constant
                terms.append(f"'{args['attester']}'")
            elif field == "nonce" and args[field] == "":
                terms.append("'none'")
            else:
                terms.append(_var(names, field, str(args[field])))
        out.append((name, terms, steps[k]))
    return out


def _attest(value) -> list[str]:
    return json.loads(value.replace("'", '"')) if isinstance(value, str) else list(value)


def _var(names: dict[tuple[str, str], str], kind: str, value: str) -> str:
    # one name space for values: the background check's context is the Verifier's nonce
    key = ("agent" if kind == "agent" else "value", value)
    if key not in names:
        prefix = {"agent": "A", "conn": "k"}.get(kind, "x")
        names[key] = f"{prefix}{len(names) + 1}"
    return names[key]


def run_lemma(name: str, facts: list[tuple[str, list[str], tuple]], extra: list[str]) -> str:
    """``exists-trace`` lemma: the projected facts at strictly ordered instants, and ``extra`` conjuncts."""
    variables: list[str] = []
    for _, terms, _ in facts:
        for t in terms:  # each once, in order of first use (a fact may name one value twice)
            if not t.startswith("'") and t not in variables:
                variables.append(t)
    steps: dict[tuple, str] = {}
    for _, _, step in facts:
        steps.setdefault(step, f"#t{len(steps) + 1}")
    stamps = list(steps.values())
    body = [f"{n}({', '.join(t)}) @ {steps[step]}" for n, t, step in facts]
    order = [f"{a} < {b}" for a, b in zip(stamps, stamps[1:])]
    return (f"lemma {name}: exists-trace\n  \"Ex {' '.join(variables + stamps)}.\n     "
            + "\n   & ".join(body + order + extra) + "\"\n")


def lemma_text(trace: str) -> str:
    return run_lemma(lemma_name(trace), project(read_events(golden_path(trace))), [NO_REVEAL])


def lemmas() -> dict[str, str]:
    return {lemma_name(t): lemma_text(t) for t in GOLDEN}
