"""Conformance checker: replay a trace against the role tables, recompute data relations, run monitors.

For each event, in order:

1. its arguments must fit the vocabulary (rule ``vocabulary``) and ``seq`` must count 0, 1, 2, ...
   (rule ``seq``);
2. in every machine instance the event belongs to (:mod:`expat.model.roles`), some row leaving the
   instance's current state must exist under the trace's profile (rule ``not-enabled``) and have
   all its guards true (rule ``guard:<name>``); events of agents the header lists as
   ``adversaries``, and Adversary events, are recorded but not held to the honest tables;
3. the data relations it carries are recomputed literally (:mod:`expat.model.relations`): binding
   from the exporter secret or exported value (``binding-recompute``), AIK_pub_hash from the AIK
   (``aik-hash-recompute``), both endpoints' exporter secrets (``exporter-secret-agree``), the request
   encoding (``request-encoding``), the authenticator's context,
   end-entity key, CertificateVerify and Finished (``ea-*``), and both endpoints' cipher suite
   (``channel-agree``) and attestation requirement (``attest-agree``), a passport result's echoed
   binding and AIK_pub_hash against what the requester compared (``result-echo``,
   ``result-aik-hash``), a Verifier's use of the nonce it issued (``appraisal-nonce``).

At the end every connection id must have one client and one server endpoint (``connection-peers``),
and the selected judges run on the whole trace (:data:`JUDGES`, each registered by name with
:func:`register_judge`, on or off by default): on by default the property monitors
(:mod:`expat.model.monitors`), off by default the property formulas (:mod:`expat.model.judge`,
``expat check --judge formulas`` or ``--formulas``). Each rule violation names the properties it puts at risk
(:mod:`expat.model.breaks`).

Speed (docs/performance.md): the tables are compiled once per profile into (role, state, event) ->
(row, guard functions) (:func:`compiled_rows`) and into one step function per event type
(:func:`_stepper_source`: a machine's rows and guards called inline, :func:`_advance` for the rest and
for wording violations), relations are dispatched by event name (``_RELATIONS``), :func:`check_trace`
calls one compiled function per event name doing the step, the relation and the record
(:func:`_check_source`), and the World indexes past events by instance and by key argument, so one
event costs a few dictionary look-ups rather than scans of the trace.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Callable, Iterable

from expat.model import judge as formula_judge
from expat.model import monitors as mon
from expat.model import relations as rel
from expat.model.events import (ADVERSARY, ENDPOINT, EVENTS, RELYING_PARTY, TARGET_ENVIRONMENT, VocabularyError,
                                normalize_args)
from expat.model.roles import GUARDS, INITIAL, Dispatch, Guard, Row, rows_for
from expat.model.trace import Event, Trace
from expat.model.breaks import CONTEXT_REUSE, rule_breaks
from expat.model.verdicts import Result, Violation
from expat.model.world import RECORDERS, World, recorder_lines

__all__ = ["JUDGES", "Result", "Violation", "World", "check_trace", "check_traces", "machines_for",
           "register_judge", "select_judges"]


# --- replay ----------------------------------------------------------------------------------


_STATES: dict[str, frozenset[str]] = {}  # one frozenset per single state (most instances are in one)


def _one(state: str) -> frozenset[str]:
    return _STATES.setdefault(state, frozenset((state,)))


_START = {role: _one(state) for role, state in INITIAL.items()}
_MACHINE_ROLES = {name: tuple(r for r in spec.roles if r != ADVERSARY) for name, spec in EVENTS.items()}


def machines_for(w: World, ev: Event) -> list[tuple[str, tuple]]:
    """(role, instance key) of every machine ``ev`` moves."""
    out = []
    for role in _MACHINE_ROLES[ev.name]:
        if role == ENDPOINT:
            out.append((role, (ev.agent, ev.args["conn"])))
        elif role in (RELYING_PARTY, TARGET_ENVIRONMENT):
            if ev.name == "AttestationCompleted":  # requester or attester, by the side that attested
                mine = ev.args["attester"] == w.side(ev.agent, ev.args["conn"])
                if (role == TARGET_ENVIRONMENT) != mine:
                    continue
            out.append((role, (ev.agent, ev.args["conn"], ev.args["ctx"])))
        else:
            out.append((role, (ev.agent,)))
    return out


def _key_source(role: str) -> str:
    """(role, *instance key) of ``role``'s machine for an event ``ev`` with arguments ``a``, as ``w.state``
    is keyed (machines_for's keys), as an expression."""
    if role == ENDPOINT:
        return f"({role!r}, ev.agent, a['conn'])"
    if role in (RELYING_PARTY, TARGET_ENVIRONMENT):
        return f"({role!r}, ev.agent, a['conn'], a['ctx'])"
    return f"({role!r}, ev.agent)"


# The tables of one profile compiled for replay, once per dispatch table (roles.dispatch builds one per
# combination of flags): (role, from-state, event) -> (row, guard functions, {row.dst}) triples, and per
# event a step function (:func:`_stepper_source`).
CompiledRows = dict[tuple[str, str, str], tuple[tuple[Row, tuple[Guard, ...], frozenset[str]], ...]]
Stepper = Callable[[World, int, Event], list[Violation]]
_COMPILED: dict[int, tuple[Dispatch, CompiledRows, dict[str, Stepper]]] = {}


def _compiled(w: World) -> tuple[Dispatch, CompiledRows, dict[str, Stepper]]:
    table = w.rows
    hit = _COMPILED.get(id(table))
    if hit is None or hit[0] is not table:
        rows = {k: tuple((r, tuple(GUARDS[g] for g in r.guard), _one(r.dst)) for r in found)
                for k, found in table.items()}
        hit = _COMPILED[id(table)] = (table, rows, _steppers(rows))
    return hit


def compiled_rows(w: World) -> CompiledRows:
    return _compiled(w)[1]


def _machine_source(name: str, role: str, rows: CompiledRows, ns: dict, m: int, key: str, done: str) -> list[str]:
    """Lines that advance ``ev``'s ``role`` machine (number ``m`` of the event's machines, its state key in
    the variable ``key``) as :func:`_advance` does: from a state with rows for ``name``, each row's guards
    called inline in table order, the machine moved to the union of the states of the rows whose guards
    all hold. ``done`` is the statement that ends a move; whatever the inline code does not move (no row,
    no row enabled, an instance in several states) goes on after these lines, to :func:`_advance`, which
    decides the same way and words the violation."""
    ns[f"START{m}"] = _START[role]
    out = [f"current = w.state.get({key}) or START{m}"]
    q = 0
    for (r, state, event), found in rows.items():
        if r != role or event != name:
            continue
        ns[f"S{m}_{q}"] = _one(state)
        out.append(f"{'if' if q == 0 else 'elif'} current is S{m}_{q}:  # {state}")
        tests = []
        for j, (_row, guards, dst) in enumerate(found):
            ns[f"D{m}_{q}_{j}"] = dst
            ns.update({f"G{m}_{q}_{j}_{k}": g for k, g in enumerate(guards)})
            tests.append(" and ".join(f"G{m}_{q}_{j}_{k}(w, ev) is None" for k in range(len(guards))) or "True")
        if len(found) == 1:
            out += [f"    if {tests[0]}:",
                    f"        w.state[{key}] = D{m}_{q}_0",
                    f"        {done}"]
        else:  # several rows (a nondeterministic table): the union of the enabled rows' states
            out.append("    dst = None")
            for j, test in enumerate(tests):
                out += [f"    if {test}:",
                        f"        dst = D{m}_{q}_{j} if dst is None else dst | D{m}_{q}_{j}"]
            out += ["    if dst is not None:",
                    f"        w.state[{key}] = dst",
                    f"        {done}"]
        q += 1
    return out


def _stepper_source(name: str, rows: CompiledRows) -> tuple[str, dict]:
    """Source and globals of the step function of event ``name``: its machines (machines_for's, keyed
    and in that order) advanced by :func:`_machine_source`'s inline code."""
    roles = _MACHINE_ROLES[name]
    ns: dict = {"_advance": _advance, "ROWS": rows}
    body = ["def step(w, i, ev):",
            "    a = ev.args"]
    if len(roles) == 1:
        ns["ROLE0"] = roles[0]
        body.append(f"    skey = {_key_source(roles[0])}")
        body += ["    " + line for line in _machine_source(name, roles[0], rows, ns, 0, "skey", "return []")]
        body += ["    bad = _advance(w, i, ev, ROWS, ROLE0, skey)",
                 "    return [] if bad is None else [bad]"]
        return "\n".join(body) + "\n", ns
    moves: list[tuple[int, str, str]] = []  # (machine number, role, condition)
    for m, role in enumerate(roles):
        ns[f"ROLE{m}"] = role
        when = ""
        if name == "AttestationCompleted" and role in (RELYING_PARTY, TARGET_ENVIRONMENT):
            # requester or attester, by the side that attested
            if not any(c for _, _, c in moves):
                body.append("    mine = a['attester'] == w.side(ev.agent, a['conn'])")
            when = "mine" if role == TARGET_ENVIRONMENT else "not mine"
        body.append(f"    k{m} = {_key_source(role)}" + (f" if {when} else None" if when else ""))
        moves.append((m, role, when))
    body.append("    out = []")
    for m, role, when in moves:
        indent = "    "
        if when:
            body.append(f"    if {when}:")
            indent = "        "
        body.append(f"{indent}while True:  # machine {m}: {role}")
        body += [indent + "    " + line for line in _machine_source(name, role, rows, ns, m, f"k{m}", "break")]
        body += [f"{indent}    bad = _advance(w, i, ev, ROWS, ROLE{m}, k{m})",
                 f"{indent}    if bad is not None:",
                 f"{indent}        out.append(bad)",
                 f"{indent}    break"]
    body.append("    return out")
    return "\n".join(body) + "\n", ns


class _CompiledPerName(dict):
    """Per event name, the function ``kind`` ("step": :func:`_stepper_source`; "check":
    :func:`_check_source`) compiled for these rows when the name is first asked (a trace uses a dozen of
    the event names; compiling all of them for a profile took about 11 ms for the checks, which
    ``expat check`` of one trace would pay). check_trace runs the per-event "check" functions; the step
    functions serve ``_step`` and ``_replay_calls``."""

    def __init__(self, rows: CompiledRows, kind: str, source: Callable[[str, CompiledRows], tuple[str, dict]]):
        super().__init__()
        self.rows, self.kind, self.source = rows, kind, source

    def __missing__(self, name: str) -> Callable[..., None]:
        if name not in _MACHINE_ROLES:
            raise KeyError(name)
        text, ns = self.source(name, self.rows)
        exec(compile(text, f"<{self.kind} of {name}>", "exec"), ns)
        found = self[name] = ns[self.kind]
        return found


def _steppers(rows: CompiledRows) -> dict[str, Stepper]:
    return _CompiledPerName(rows, "step", _stepper_source)


def _check_source(name: str, rows: CompiledRows) -> tuple[str, dict]:
    """Source and globals of the function :func:`check_trace` calls for each event named ``name`` (once
    the event has passed ``seq`` and the vocabulary): what its loop did per event in three calls (the
    step function, the relation, the recorder) in one. Events of honest agents move their machines by
    :func:`_machine_source`'s inline code (the step function's); the event's relation (``_RELATIONS``,
    honest agents only for ``_HONEST_ONLY``) reports through ``bad`` with its index in ``at[0]``, its
    failures kept only when it ends without raising (``pending``); anything raised is reported as
    malformed input, and the step's violations are kept only if every machine was decided; then the event
    is recorded (:func:`expat.model.world.recorder_lines`, as ``RECORDERS``)."""
    roles = _MACHINE_ROLES[name]
    relation = _RELATIONS.get(name)
    ns: dict = {"_advance": _advance, "ROWS": rows, "RELATION": relation, "Violation": Violation}
    body = ["def check(w, i, ev, out, bad, at, pending):",
            "    a = ev.args",
            "    try:",
            "        if ev.agent not in w.adversaries:",
            "            found = None"]
    inner = "            "
    moves: list[tuple[int, str, str]] = []
    for m, role in enumerate(roles):
        ns[f"ROLE{m}"] = role
        when = ""
        if name == "AttestationCompleted" and role in (RELYING_PARTY, TARGET_ENVIRONMENT):
            if not any(c for _, _, c in moves):
                body.append(f"{inner}mine = a['attester'] == w.side(ev.agent, a['conn'])")
            when = "mine" if role == TARGET_ENVIRONMENT else "not mine"
        body.append(f"{inner}k{m} = {_key_source(role)}" + (f" if {when} else None" if when else ""))
        moves.append((m, role, when))
    for m, role, when in moves:
        indent = inner
        if when:
            body.append(f"{inner}if {when}:")
            indent = inner + "    "
        body.append(f"{indent}while True:  # machine {m}: {role}")
        body += [indent + "    " + line for line in _machine_source(name, role, rows, ns, m, f"k{m}", "break")]
        body += [f"{indent}    bad_move = _advance(w, i, ev, ROWS, ROLE{m}, k{m})",
                 f"{indent}    if bad_move is not None:",
                 f"{indent}        found = [bad_move] if found is None else found + [bad_move]",
                 f"{indent}    break"]
    body += [f"{inner}if found is not None:",
             f"{inner}    out += found"]
    call = ["at[0] = i",
            "RELATION(w, ev, bad)",
            "if pending:",
            "    out += pending",
            "    pending.clear()"]
    if relation is not None:
        where = inner if name in _HONEST_ONLY else "        "
        body += [where + line for line in call]
    body += ["    except Exception as e:  # a value no relation anticipated (e.g. undecodable key): malformed input",
             "        pending.clear()",
             "        out.append(Violation('rule', 'malformed-value', i, f'{type(e).__name__}: {e}'))"]
    body += recorder_lines(name, "    ", "j")
    return "\n".join(body) + "\n", ns


Checker = Callable[..., None]


def _checks(rows: CompiledRows) -> dict[str, Checker]:
    return _CompiledPerName(rows, "check", _check_source)


def _check_functions(w: World) -> dict[str, Checker]:
    """The per-event function of each event name under ``w``'s profile (what :func:`check_trace` calls)."""
    hit = _compiled(w)
    checks = _CHECKS.get(id(hit[1]))
    if checks is None or checks[0] is not hit[1]:
        checks = _CHECKS[id(hit[1])] = (hit[1], _checks(hit[1]))
    return checks[1]


_CHECKS: dict[int, tuple[CompiledRows, dict[str, Checker]]] = {}


def _step_functions(w: World) -> dict[str, Stepper]:
    """The step function of each event name under ``w``'s profile (what :func:`check_trace` calls)."""
    return _compiled(w)[2]


def _step(w: World, i: int, ev: Event) -> list[Violation]:
    """Advance every machine ``ev`` belongs to (:func:`_advance`); the violations of those it cannot move."""
    steppers = w.steppers
    if steppers is None:
        steppers = w.steppers = _step_functions(w)
    return steppers[ev.name](w, i, ev)


def _advance(w: World, i: int, ev: Event, rows: CompiledRows, role: str, skey: tuple) -> Violation | None:
    """Move one machine instance (``skey`` = (role, *instance key)) by ``ev``. Tables may be
    nondeterministic (two rows for the same event from one state with different guards), so an
    instance holds the set of states it can be in. Guards are pure queries of ``w``: the first failing
    guard rules a row out; only when no row is enabled are they all evaluated again, to name the row
    that came closest (:func:`_not_enabled`)."""
    current = w.state.get(skey) or _START[role]
    name = ev.name
    dst: frozenset[str] | None = None
    for state in (current if len(current) == 1 else sorted(current)):
        for _row, guards, to in rows.get((role, state, name), ()):
            for g in guards:
                if g(w, ev) is not None:
                    break
            else:
                dst = to if dst is None else dst | to
    if dst is None:
        return _not_enabled(w, i, ev, role, skey[1:], current, rows)
    w.state[skey] = dst
    return None


def _not_enabled(w: World, i: int, ev: Event, role: str, key: tuple, current: frozenset[str],
                 rows: CompiledRows) -> Violation:
    """The violation for an event no row of ``role``'s instance ``key`` enables: the rule, and the
    guard that failed in the row with the fewest failing guards (first such row in table order)."""
    best: tuple[int, str, str] | None = None
    any_row = False
    for state in (current if len(current) == 1 else sorted(current)):
        for row, guards, _dst in rows.get((role, state, ev.name), ()):
            any_row = True
            failures = [(g, r) for g, fn in zip(row.guard, guards) if (r := fn(w, ev)) is not None]
            if best is None or len(failures) < best[0]:
                best = (len(failures), failures[0][0], failures[0][1])
    where = f"{role} {'/'.join(key)} in state {'|'.join(sorted(current))}"
    stopped = (role, *key) in w.failed
    w.failed.add((role, *key))
    if not any_row and stopped:  # a consequence of the first violation: the rule, no second property
        return Violation("rule", "not-enabled", i, f"{where}: {ev.name} is not enabled "
                                                   "(the instance stopped at an earlier violation)")
    if not any_row:
        if _reopens(role, current, ev, w.profile):
            return Violation("rule", "not-enabled", i, f"{where}: {ev.name} is not enabled: "
                             "certificate_request_context already used on this connection (RFC 9261 §4)",
                             CONTEXT_REUSE)
        return Violation("rule", "not-enabled", i, f"{where}: {ev.name} is not enabled",
                         rule_breaks("not-enabled", ev.name))
    assert best is not None
    rule = f"guard:{best[1]}"
    return Violation("rule", rule, i, f"{where}: {ev.name}: {best[2]}", rule_breaks(rule))


def _reopens(role: str, current: frozenset[str], ev: Event, profile: dict) -> bool:
    """``ev`` would open a request instance (a row leaves the initial state) but the instance for its
    context is already under way: the context was used before on this connection."""
    if role not in (RELYING_PARTY, TARGET_ENVIRONMENT) or INITIAL[role] in current:
        return False
    return bool(rows_for(role, INITIAL[role], ev.name, profile))


def _relations(w: World, i: int, ev: Event) -> list[Violation]:
    """The data relations ``ev`` carries, recomputed (module docstring, step 3)."""
    relation = _RELATIONS.get(ev.name)
    if relation is None or (ev.name in _HONEST_ONLY and not w.honest(ev.agent)):
        return []
    out: list[Violation] = []

    def bad(rule: str, detail: str) -> None:
        out.append(Violation("rule", rule, i, detail, rule_breaks(rule)))

    relation(w, ev, bad)
    return out


def _channel_relation(w: World, ev: Event, bad) -> None:
    """Both endpoints of one connection agree on its cipher suite, on who must attest, and (traces with
    secrets) on the exporter_master_secret."""
    a = ev.args
    for e in w.keyed("ChannelEstablished", "conn", a["conn"]):
        if e.args["suite"] != a["suite"]:
            bad("channel-agree", "the endpoints of one connection record different cipher suites (RFC 8446 §4.1.3)")
        if sorted(e.args["attest"]) != sorted(a["attest"]):
            bad("attest-agree", "the endpoints of one connection record different sides that must attest "
                                "before application data (draft §7.3)")
        if "exporter_master_secret" in a and e.args.get("exporter_master_secret",
                                                        a["exporter_master_secret"]) != a["exporter_master_secret"]:
            bad("exporter-secret-agree", "the endpoints of one connection record different exporter_master_secrets "
                                         "(RFC 8446 §7.1)")


def _request_relation(w: World, ev: Event, bad) -> None:
    """The recorded request fields are those of the encoded (Client)CertificateRequest (RFC 9261 §4), an
    offer of cmw_attestation is among its extensions (draft §3.1), and a request received is the one its
    peer sent on this connection (its bytes, or without them its recorded fields)."""
    a = ev.args
    code = int(w.profile.get("cmw_attestation_codepoint", 0xFFFF))
    if "request" in a:
        try:
            msg_type, ctx, exts = w.parsed_request(a["request"])
        except rel.Malformed as e:
            bad("request-encoding", f"request does not parse: {e}")
        else:
            if msg_type != a["msg_type"] or ctx.hex() != a["ctx"] or [t for t, _ in exts] != a["extensions"]:
                bad("request-encoding", "msg_type, ctx or extensions differ from the encoded request")
            elif ((code, b"") in exts) != a["attestation_offered"]:
                bad("request-encoding", "attestation_offered differs from the empty cmw_attestation in the request")
    elif a["attestation_offered"] and code not in a["extensions"]:
        bad("request-encoding", f"cmw_attestation offered, but its codepoint {code} is not among the extensions")
    if ev.name == "RequestReceived" and w.honest(ev.agent):
        sent = [e for e in w.keyed("RequestSent", "ctx", a["ctx"])
                if e.args["conn"] == a["conn"] and w.honest(e.agent)
                and e.agent != ev.agent]   # sent by the peer (a reused context may be our own too)
        if not sent:
            peers = [e.agent for e in w.keyed("ChannelEstablished", "conn", a["conn"]) if e.agent != ev.agent]
            # unless the adversary could have sent it: it holds the connection's secret, or sent such a request
            injected = any(x.args["conn"] == a["conn"] for _, x in w.positions("SecretRevealed")) or any(
                e.args["conn"] == a["conn"] for e in w.keyed("RequestSent", "ctx", a["ctx"]) if not w.honest(e.agent))
            if peers and all(w.honest(p) for p in peers) and not injected:
                bad("request-encoding", "request received before its peer sent one with this context (causality)")
            return
        s = sent[-1].args
        if "request" in s and "request" in a:
            if s["request"] != a["request"]:
                bad("request-encoding", "received request differs from the one sent on this connection")
        elif (s["msg_type"], s["extensions"], s["attestation_offered"]) != \
                (a["msg_type"], a["extensions"], a["attestation_offered"]):
            bad("request-encoding", "received request's fields differ from those sent on this connection")


def _evidence_request_relation(w: World, ev: Event, bad) -> None:
    if w.honest(ev.agent):
        _binding_relation(w, ev, w.arg_bytes(ev, "aik") or b"", w.exporter_label, bytes.fromhex(ev.args["binding"]), bad)


def _binding_checked_relation(w: World, ev: Event, bad) -> None:
    a = ev.args
    acc = w.rp_accepted(ev.agent, a["conn"], a["ctx"])
    if acc is None:
        bad("binding-recompute", "no accepted authenticator to take the AIK from")
        return
    aik = w.arg_bytes(acc, "aik") or b""
    label = a["label"] if a["label"] in rel.EXPORTER_LABELS else w.exporter_label
    _binding_relation(w, ev, aik, label, bytes.fromhex(a["expected_binding"]), bad)
    want = w.aik_hash(w.hash_for_conn(a["conn"]), aik)
    if want is None or want.hex() != a["expected_aik_hash"]:
        bad("aik-hash-recompute", "expected_aik_hash is not H(AIK public key) with the suite hash (§5.2)")


def _passport_result_relation(w: World, ev: Event, bad) -> None:
    """Passport: what the requester compared came with the Attestation Result, so it is what the
    Verifier appraised. With passport_binding_echo (docs/profiles.md) the result echoes the binding and
    the requester compared that echo (``result-echo``); AIK_pub_hash compared is the claim of the
    appraised Evidence (draft §5.2, ``result-aik-hash``). Mitigations off: no comparison, no rule."""
    a = ev.args
    checked = w.rp_checked(ev.agent, a["conn"], a["ctx"])
    appraisal = w.appraisal(a["result"])
    if checked is None or appraisal is None or w.carried_kind(ev) != "result":
        return  # no comparison made, or no Verifier issued it (evidence_integrity speaks for that)
    echo = appraisal.args["binding_echo"]
    if w.flag("passport_binding_echo") and w.flag("check_binding"):
        if not echo:
            bad("result-echo", "the Attestation Result echoes no binding, yet the requester accepted it")
        elif checked.args["cmw_binding"] != echo:
            bad("result-echo", "the binding compared is not the one the Attestation Result echoes")
    produced = w.produced(appraisal.args["cmw"])
    if w.flag("check_aik_pub_hash") and produced is not None \
            and checked.args["cmw_aik_hash"] != produced.args["aik_hash"]:
        bad("result-aik-hash", "the AIK_pub_hash compared is not the one the appraised Evidence claims")


def _appraisal_nonce_relation(w: World, ev: Event, bad) -> None:
    """draft §5.1, background check: Evidence a requester forwarded under a context that is a nonce this
    Verifier issued is appraised against that nonce, not without one (``appraisal-nonce``)."""
    if ev.args["nonce"] or not w.flag("check_verifier_nonce"):
        return
    fwd = w.submission_to(ev.agent, ev.args["cmw"], ev.args["to"])
    if fwd is not None and fwd.name == "EvidenceForwarded" and w.nonce_issue(ev.agent, fwd.args["ctx"]) is not None:
        bad("appraisal-nonce", "appraised without the nonce this Verifier issued for the request")


def _binding_relation(w: World, ev: Event, aik: bytes, label: str, recorded: bytes, bad) -> None:
    conn, ctx = ev.args["conn"], ev.args["ctx"]
    h = w.hash_for_conn(conn)
    from_secret = w.exported(conn, ctx, label)
    carried = ev.get_bytes("exported_value")
    if from_secret is not None and carried is not None and from_secret != carried:
        bad("binding-recompute", "exported_value is not TLS-Exporter(label, ctx, length) of this connection")
    exported = from_secret if from_secret is not None else carried
    if exported is None:
        return
    want = rel.binding(h, w.profile, aik, exported, w.verifier_nonce_for(ctx))
    if want != recorded:
        bad("binding-recompute", f"binding is not the profile's formula over {label!r} exporter output (§5.1)")


def _authenticator_relation(w: World, ev: Event, bad) -> None:
    a = ev.args
    if "authenticator" not in a:
        return
    try:
        auth = w.parsed_authenticator(a["authenticator"])
    except rel.Malformed as e:
        bad("ea-encoding", f"authenticator does not parse: {e}")
        return
    if auth.ctx.hex() != a["ctx"]:
        bad("ea-context", "Certificate's certificate_request_context differs from the request's (RFC 9261 §5.2.1)")
    if w.certificate_spki(auth.leaf) != w.arg_bytes(ev, "aik"):
        bad("ea-certificate", "the end-entity certificate's key is not the recorded AIK")
    if "certificate" in a and auth.leaf.hex() != a["certificate"]:
        bad("ea-certificate", "recorded certificate is not the authenticator's end-entity certificate")
    ems = w.exporter_secret(a["conn"])
    if ems is None:
        return
    sending = ev.name == "AuthenticatorSent"
    if a["spontaneous"]:
        request = b""
    else:
        req = (w.te_request if sending else w.rp_request)(ev.agent, a["conn"], a["ctx"])
        if req is None or "request" not in req.args:
            return  # nothing to recompute the transcript from
        request = req.get_bytes("request") or b""
    sender = w.side(ev.agent, a["conn"]) if sending else w.peer_side(ev.agent, a["conn"])
    h = w.hash_for_conn(a["conn"])
    if len(ems) != h.length:
        bad("ea-finished", "exporter_master_secret has the wrong length for the suite")
        return
    for rule, detail in w.authenticator_problems(h, ems, sender, request, a["authenticator"],
                                                 w.arg_bytes(ev, "aik") or b""):
        bad(rule, detail)


# event name -> the relation its arguments must satisfy (one per event; most events carry none)
_RELATIONS = {
    "ChannelEstablished": _channel_relation,
    "RequestSent": _request_relation, "RequestReceived": _request_relation,
    "EvidenceRequested": _evidence_request_relation,
    "BindingChecked": _binding_checked_relation,
    "AuthenticatorAccepted": _authenticator_relation,
    "AuthenticatorSent": _authenticator_relation,
    "AttestationResultReceived": _passport_result_relation,
    "EvidenceAppraised": _appraisal_nonce_relation,
}
# events whose relation holds honest agents only (an adversary's are not recomputed)
_HONEST_ONLY = frozenset(("AuthenticatorAccepted", "AuthenticatorSent", "AttestationResultReceived",
                          "EvidenceAppraised"))


# events that record something the peer sent on the connection (or an outcome that needs one)
_FROM_PEER = frozenset(("RequestReceived", "AuthenticatorAccepted", "AuthenticatorRejected", "ApplicationDataReceived",
                        "NewSessionTicketReceived", "AttestationCompleted"))


def _heard_from_peer(w: World, conn: str, agent: str) -> bool:
    """Some event on ``conn`` records a message from ``agent``'s peer, or another agent acted on it."""
    return any(e.args.get("conn") == conn and (e.name in _FROM_PEER or e.agent != agent) for e in w.done)


def _connections(w: World) -> list[Violation]:
    """Every connection id names one TLS connection: one client and one server endpoint, two agents,
    one cipher suite (adversary endpoints count: they are the peer the honest side talked to). A
    connection with one endpoint only cannot show whose Evidence crossed it, once something on it was
    received from the peer (:data:`_FROM_PEER`); before that, the trace may just end before the peer's
    handshake did (a truncated run is a prefix of a conformant one)."""
    out = []
    sides: dict[str, list[Event]] = {}
    for _, e in w.positions("ChannelEstablished"):
        sides.setdefault(e.args["conn"], []).append(e)
    for conn, chans in sides.items():
        if len(chans) == 1 and not _heard_from_peer(w, conn, chans[0].agent):
            continue
        seen = sorted(c.args["side"] for c in chans)
        if seen != ["client", "server"] or len({c.agent for c in chans}) != 2:
            who = ", ".join(f"{c.agent} as {c.args['side']}" for c in chans)
            out.append(Violation("rule", "connection-peers", w.index_of(chans[0]),
                                 f"connection {conn} has endpoints [{who}], not one client and one server",
                                 rule_breaks("connection-peers")))
    return out


# A judge reads the World after the whole trace has been replayed and returns violations. Every judge
# is registered here by name, on or off by default; the checker runs the connection rule, then the
# selected judges in registration order; a judge that raises is reported as malformed input.
Judge = Callable[[World], list[Violation]]


@dataclass(frozen=True)
class Registered:
    name: str
    run: Judge
    default: bool  # run unless the caller selects otherwise
    doc: str


JUDGES: dict[str, Registered] = {}


def register_judge(name: str, judge: Judge, *, default: bool = True, doc: str = "") -> None:
    """Add (or replace) the judge ``name``; ``default``: whether check_trace runs it when not told which."""
    JUDGES[name] = Registered(name, judge, default, doc)


register_judge("monitors", mon.run_all, doc="the property monitors (model/monitors.py)")
register_judge("formulas", lambda w: formula_judge.judge(w.trace), default=False,
               doc="every modelled property's formula (model/formulas.py, the text the Tamarin lemmas state); "
                   "counterexamples reported under the property's id")


def select_judges(add: Iterable[str] = (), drop: Iterable[str] = ()) -> tuple[str, ...]:
    """The judges on by default, with ``add`` switched on and ``drop`` off, in registration order.
    Raises KeyError naming an unknown judge."""
    if add == () and drop == ():  # check_trace's default (once per trace): the judges on by default
        return tuple([n for n, j in JUDGES.items() if j.default])
    add, drop = set(add), set(drop)
    unknown = sorted((add | drop) - JUDGES.keys())
    if unknown:
        raise KeyError(f"unknown judge {', '.join(unknown)} (known: {', '.join(JUDGES)})")
    return tuple(n for n, j in JUDGES.items() if (j.default or n in add) and n not in drop)


def _judge(w: World, judge: Judge, out: list[Violation]) -> None:
    try:
        out += judge(w)
    except Exception as e:  # never crash on a trace
        out.append(Violation("rule", "malformed-value", None, f"{type(e).__name__}: {e}"))


def _replay(w: World, trace: Trace, out: list[Violation]) -> None:
    """Replay ``trace`` event by event into ``w`` (the rules of the module docstring, steps 1 to 3),
    violations to ``out``: per event the seq and vocabulary rules here, the rest in the event's compiled
    function (:func:`_check_source`). Decides as :func:`_replay_calls`, the same loop with one call each
    for the step, the relation and the record."""
    events = trace.events
    validated = trace.validated
    n_validated = len(validated)
    # parse_lines already held its events to the schema; checked again: events put in or replaced since
    all_validated = n_validated == len(events) and all(map(operator.is_, validated, events))
    checks = _check_functions(w)
    w.steppers = _step_functions(w)
    at, pending = [0], []  # a relation's failures: kept only if it ends without raising

    def bad(rule: str, detail: str) -> None:  # a relation's failure (called only then)
        pending.append(Violation("rule", rule, at[0], detail, rule_breaks(rule)))

    if all_validated:
        for i, ev in enumerate(events):
            if ev.seq != i:
                out.append(Violation("rule", "seq", i, f"seq {ev.seq} at position {i}"))
            checks[ev.name](w, i, ev, out, bad, at, pending)
        return
    for i, ev in enumerate(events):
        if ev.seq != i:
            out.append(Violation("rule", "seq", i, f"seq {ev.seq} at position {i}"))
        if i >= n_validated or validated[i] is not ev:
            try:
                normalize_args(ev.name, ev.args, with_secrets=True)
            except VocabularyError as e:
                out.append(Violation("rule", "vocabulary", i, str(e)))
                continue
        checks[ev.name](w, i, ev, out, bad, at, pending)


def _replay_calls(w: World, trace: Trace, out: list[Violation]) -> None:
    """:func:`_replay` with one call per event each to the step function, the relation and the recorder
    (the loop before the per-event functions; tests/test_check_fast_paths.py compares the two)."""
    events = trace.events
    validated = trace.validated
    n_validated = len(validated)
    all_validated = n_validated == len(events) and all(map(operator.is_, validated, events))
    adversaries = w.adversaries
    relations, honest_only = _RELATIONS, _HONEST_ONLY
    steppers = w.steppers = _step_functions(w)
    recorders = RECORDERS  # World.record per event name, compiled
    at, pending = [0], []

    def bad(rule: str, detail: str) -> None:
        pending.append(Violation("rule", rule, at[0], detail, rule_breaks(rule)))

    for i, ev in enumerate(events):
        if ev.seq != i:
            out.append(Violation("rule", "seq", i, f"seq {ev.seq} at position {i}"))
        if not all_validated and (i >= n_validated or validated[i] is not ev):
            try:
                normalize_args(ev.name, ev.args, with_secrets=True)
            except VocabularyError as e:
                out.append(Violation("rule", "vocabulary", i, str(e)))
                continue
        try:
            name = ev.name
            if ev.agent not in adversaries:
                found = steppers[name](w, i, ev)
                if found:
                    out += found
            elif name in honest_only:
                name = None
            relation = relations.get(name)
            if relation is not None:
                at[0] = i
                relation(w, ev, bad)
                if pending:
                    out += pending
                    pending.clear()
        except Exception as e:  # a value no relation anticipated (e.g. undecodable key): malformed input
            pending.clear()
            out.append(Violation("rule", "malformed-value", i, f"{type(e).__name__}: {e}"))
        recorders[ev.name](w, ev)


def check_trace(trace: Trace, *, monitors: bool = True, formulas: bool = False,
                judges: Iterable[str] | None = None) -> Result:
    """Replay ``trace``; return every rule and property violation found. ``judges``: the registered
    judges to run (default: those on by default, :func:`select_judges`). ``monitors=False`` and
    ``formulas=True`` are the short ways to drop the judge "monitors" and add the judge "formulas"."""
    selected = select_judges(("formulas",) if formulas else (), () if monitors else ("monitors",)) \
        if judges is None else tuple(judges)
    w = World(trace)
    result = Result(trace.source)
    _replay(w, trace, result.violations)
    out = result.violations
    out += _connections(w)
    for name in selected:
        _judge(w, JUDGES[name].run, out)
    return result


def check_traces(traces: Iterable[Trace]) -> list[Result]:
    return [check_trace(t) for t in traces]
