"""The checker's view of a trace prefix: machine states plus queries over the events so far.

Guards (:mod:`expat.model.roles`) and monitors (:mod:`expat.model.monitors`) ask it; the replay
(:mod:`expat.model.checker`) moves it on event by event.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Optional

from expat.model import relations as rel
from expat.model.events import ENDPOINT, EVENTS
from expat.model.roles import INITIAL, dispatch, flag, flags_of
from expat.model.tlskdf import SuiteHash
from expat.model.trace import Event, Trace

_WITH_CTX = frozenset(name for name, spec in EVENTS.items() if any(a.name == "ctx" for a in spec.args))

# (event, argument) pairs the guards, relations and monitors look events up by: each gets an index
# value -> events (in trace order), kept up to date by World.record
_KEYED: dict[str, tuple[str, ...]] = {
    "EvidenceProduced": ("cmw", "binding"), "EvidenceAppraised": ("result", "nonce"), "AikGenerated": ("aik",),
    "NonceIssued": ("nonce",), "EvidenceForwarded": ("cmw",), "EvidenceSubmitted": ("cmw",),
    "ChannelEstablished": ("conn",), "BindingConfirmed": ("cmw",), "AttestationCompleted": ("conn",),
    "RequestSent": ("ctx",), "EvidenceRequested": ("binding",)}
_UNSEEN = object()  # a memo's "not computed yet" (None is a value)
_DISPATCH_BY_FLAGS: dict[tuple[bool, ...], Any] = {}  # roles.dispatch per combination of flag values
# events that use a certificate_request_context on a connection (RFC 9261 §4: unique per connection);
# the spontaneous ones only when marked spontaneous
# event -> whether it uses its context only when spontaneous
_USES_CTX = {"RequestSent": False, "RequestReceived": False, "EvidenceRequested": True,
             "AuthenticatorAccepted": True}
# event -> (its _KEYED arguments, its _USES_CTX entry or None): what record() does beyond the three
# indexes every event goes into
_RECORD = {name: (_KEYED.get(name, ()), _USES_CTX.get(name)) for name in (*_KEYED, *_USES_CTX)}


def _recorder_source(name: str) -> str:
    """Source of :meth:`World.record` for events named ``name``, with its indexes spelled out: the keys
    come from the vocabulary (``conn`` / ``ctx`` read directly when the event requires them, None when it
    has no such argument) and from _KEYED and _USES_CTX. For events that fit the vocabulary only."""
    return "\n".join(["def record(w, ev):", "    a = ev.args", *recorder_lines(name, "    ")]) + "\n"


def recorder_lines(name: str, indent: str, position: str = "i") -> list[str]:
    """The body of :func:`_recorder_source` (``w``, ``ev`` and its arguments ``a`` given), indented by
    ``indent``, the event's position in a local named ``position``: also the last lines of the checker's
    per-event functions (:func:`expat.model.checker._check_source`), so both record alike."""
    args = {a.name: a for a in EVENTS[name].args}

    def arg(n: str) -> str:
        return "None" if n not in args else f"a.get({n!r})" if args[n].optional else f"a[{n!r}]"

    j = position
    body = ["done = w.done",
            f"{j} = len(done)",
            f"w._index[id(ev)] = {j}",
            "done.append(ev)",
            f"w._positions[{name!r}].append(({j}, ev))",
            f"w._by_instance[{name!r}, ev.agent, {arg('conn')}, {arg('ctx')}].append(ev)"]
    body += [f"w._by_arg[{name!r}, {k!r}, a[{k!r}]].append(ev)" for k in _KEYED.get(name, ())]
    if name in _USES_CTX:
        add = "w._ctx_used.add((ev.agent, a['conn'], a['ctx']))"
        body += [f"if a['spontaneous']:", f"    {add}"] if _USES_CTX[name] else [add]
    body += ["if w.memo:",
             "    w.memo.clear()"]
    return [indent + line for line in body]


def _recorders() -> dict[str, Any]:
    """Per event name, the compiled :meth:`World.record` of :func:`_recorder_source` (``check_trace``
    records each event of its replay through it, once the event has passed the vocabulary)."""
    out = {}
    for name in EVENTS:
        ns: dict[str, Any] = {}
        exec(compile(_recorder_source(name), f"<record of {name}>", "exec"), ns)
        out[name] = ns["record"]
    return out


# flags_of and the dispatch table per profile, by what flags_of reads of it (profiles recur across traces)
_BY_PROFILE: dict[tuple, tuple[dict[str, bool], Any]] = {}


def _flags_and_rows(profile: dict) -> tuple[dict[str, bool], Any]:
    """``flags_of(profile)`` (shared: not to be changed) and ``roles.dispatch(profile)``. Remembered by the
    profile's mitigations dict, passport_binding_echo and binding_check (all flags_of reads): JSON values
    equal as keys read alike under bool() and ==; profiles with unhashable values there are not remembered."""
    m = profile.get("mitigations")
    try:
        key = (tuple(m.items()) if type(m) is dict else None if m is None else (m,),
               profile.get("passport_binding_echo", True), profile.get("binding_check", "local"))
        hit = _BY_PROFILE.get(key)
    except TypeError:  # an unhashable value
        key, hit = None, None
    if hit is None:
        flags = flags_of(profile)
        by_flags = tuple(flags.values())
        rows = _DISPATCH_BY_FLAGS.get(by_flags)
        if rows is None:
            rows = _DISPATCH_BY_FLAGS[by_flags] = dispatch(profile)
        hit = (flags, rows)
        if key is not None and len(_BY_PROFILE) < 4096:
            _BY_PROFILE[key] = hit
    return hit


class World:
    """The checker's view of a trace prefix: machine states plus queries over past events."""

    def __init__(self, trace: Trace):
        self.trace = trace
        self.profile: dict = trace.profile
        self.adversaries = trace.adversaries
        self.exporter_label = rel.exporter_label(self.profile)
        self.done: list[Event] = []
        # the indexes are defaultdicts for record(); every query reads them with .get (no entry made)
        self._positions: defaultdict[str, list[tuple[int, Event]]] = defaultdict(list)
        self._index: dict[int, int] = {}
        self.state: dict[tuple, frozenset[str]] = {}
        self.failed: set[tuple] = set()  # machine instances a rule violation has already stopped
        self.flags, self.rows = _flags_and_rows(self.profile)  # read once per trace
        self.steppers: Optional[dict] = None  # their step functions, set by the checker's first step
        # events by (name, agent, conn, ctx): the instance index most queries hit
        self._by_instance: defaultdict[tuple, list[Event]] = defaultdict(list)
        # (event, argument, value) -> events, for _KEYED
        self._by_arg: defaultdict[tuple, list[Event]] = defaultdict(list)
        self._ctx_used: set[tuple] = set()  # (agent, conn, ctx) whose context is used (ctx_used_before)
        self._secrets: dict[str, Optional[bytes]] = {}
        self._secret_events: tuple[Optional[Trace], dict] = (None, {})  # (trace, conn -> its first secret)
        # pure functions of bytes the trace repeats (an AIK in several events, a certificate in the
        # authenticator and its acceptance): computed once per trace, shared with forks
        self._spki_of: dict[bytes, Optional[bytes]] = {}
        self._spki_of_hex: dict[str, Optional[bytes]] = {}  # the same, by the trace's hex (not decoded again)
        self._aik_hash_of: dict[tuple[str, bytes], Optional[bytes]] = {}
        self._hex_bytes: dict[str, bytes] = {}  # arg_bytes: an AIK's hex recurs in most events of a trace
        self._requests: dict[str, tuple] = {}
        self._authenticators: dict[Optional[str], rel.Authenticator] = {}
        self._ea_problems: dict[tuple, tuple[tuple[str, str], ...]] = {}
        # derived views of ``done`` (monitors) and queries several guards of one event share; cleared by record()
        self.memo: dict[Any, Any] = {}

    # -- bookkeeping ---------------------------------------------------------------------------

    def flag(self, name: str) -> bool:
        v = self.flags.get(name)
        return flag(self.profile, name) if v is None else v

    def record(self, ev: Event) -> None:
        done = self.done
        i = len(done)
        self._index[id(ev)] = i
        done.append(ev)
        a = ev.args
        name = ev.name
        self._positions[name].append((i, ev))
        self._by_instance[name, ev.agent, a.get("conn"), a.get("ctx")].append(ev)
        plan = _RECORD.get(name)
        if plan is not None:
            keyed, if_spontaneous = plan
            for arg in keyed:
                self._by_arg[name, arg, a[arg]].append(ev)
            if if_spontaneous is not None and (not if_spontaneous or a["spontaneous"]):
                self._ctx_used.add((ev.agent, a["conn"], a["ctx"]))
        if self.memo:
            self.memo.clear()

    def fork(self, trace: Trace) -> "World":
        """A copy that can go on recording ``trace`` without touching this World (bounded search)."""
        w = copy.copy(self)
        w.trace = trace
        w.done = list(self.done)
        w._index = dict(self._index)
        w._positions = defaultdict(list, {k: list(v) for k, v in self._positions.items()})
        w._by_instance = defaultdict(list, {k: list(v) for k, v in self._by_instance.items()})
        w._by_arg = defaultdict(list, {k: list(v) for k, v in self._by_arg.items()})
        w._ctx_used = set(self._ctx_used)
        w._secrets = {}
        w._secret_events = (None, {})
        w.state = dict(self.state)
        w.failed = set(self.failed)
        w.memo = {}
        return w

    def positions(self, name: str) -> list[tuple[int, Event]]:
        """(index, event) of every recorded ``name`` event, in trace order."""
        return self._positions.get(name, [])

    def index_of(self, ev: Event) -> int:
        return self._index[id(ev)]

    def honest(self, agent: str) -> bool:
        return agent not in self.adversaries

    def _all(self, name: str, agent: str | None = None, **match: Any) -> list[Event]:
        if agent is not None and "conn" in match and ("ctx" in match or name not in _WITH_CTX):
            # one machine instance's events (events without a context are indexed under ctx None)
            found = self._by_instance.get((name, agent, match["conn"], match.get("ctx")), ())
            if len(match) == 1 + ("ctx" in match):
                return list(found)
            return [e for e in found if all(e.args.get(k) == v for k, v in match.items())]
        for arg in _KEYED.get(name, ()):
            if arg in match:   # the events with that argument's value, in trace order
                return [e for e in self._by_arg.get((name, arg, match[arg]), ())
                        if (agent is None or e.agent == agent) and all(e.args.get(k) == v for k, v in match.items())]
        return [e for _, e in self._positions.get(name, ()) if (agent is None or e.agent == agent)
                and all(e.args.get(k) == v for k, v in match.items())]

    def _last(self, name: str, agent: str | None = None, **match: Any) -> Optional[Event]:
        found = self._all(name, agent, **match)
        return found[-1] if found else None

    def events_before(self, index: int, name: str, agent: str | None = None,
                      **match: Any) -> list[tuple[int, Event]]:
        """(index, event) of the recorded ``name`` events before ``index``, by ``agent`` when given, whose
        arguments equal ``match``; in trace order. Looked up through the narrowest index that applies."""
        pos = self._index
        if agent is not None and len(match) == 2 and "conn" in match and "ctx" in match:
            pool: Any = self._by_instance.get((name, agent, match["conn"], match["ctx"]), ())
            return [(j, e) for e in pool if (j := pos[id(e)]) < index]
        for arg in _KEYED.get(name, ()):
            if arg in match:
                pool = self._by_arg.get((name, arg, match[arg]), ())
                return [(j, e) for e in pool if (j := pos[id(e)]) < index and (agent is None or e.agent == agent)
                        and all(e.args.get(k) == v for k, v in match.items())]
        return [(j, e) for j, e in self._positions.get(name, ()) if j < index and (agent is None or e.agent == agent)
                and all(e.args.get(k) == v for k, v in match.items())]

    def instance_before(self, index: int, name: str, agent: str, conn: str, ctx: Optional[str] = None) -> list[Event]:
        """The ``name`` events of one machine instance recorded before ``index``, in trace order (``ctx``
        None for events without a context): ``events_before`` for that instance, without the positions."""
        found = self._by_instance.get((name, agent, conn, ctx))
        if not found:
            return []
        pos = self._index
        if pos[id(found[-1])] < index:  # the last recorded is before: so is every other (trace order)
            return found[:]
        return [e for e in found if pos[id(e)] < index]

    def keyed_before(self, index: int, name: str, arg: str, value: Any,
                     agent: Optional[str] = None) -> list[tuple[int, Event]]:
        """(index, event) of the ``name`` events before ``index`` whose argument ``arg`` is ``value`` (a pair
        of _KEYED), by ``agent`` when given, in trace order."""
        found = self._by_arg.get((name, arg, value))
        if not found:
            return []
        pos = self._index
        return [(j, e) for e in found if (j := pos[id(e)]) < index and (agent is None or e.agent == agent)]

    def _instance_last(self, name: str, agent: str, conn: str, ctx: Optional[str] = None) -> Optional[Event]:
        """The last ``name`` event of one machine instance (``ctx`` None for events without a context)."""
        found = self._by_instance.get((name, agent, conn, ctx))
        return found[-1] if found else None

    def keyed(self, name: str, arg: str, value: Any) -> list[Event]:
        """The ``name`` events whose argument ``arg`` is ``value``, in trace order (pairs in _KEYED)."""
        return self._by_arg.get((name, arg, value), [])

    def _keyed_last(self, name: str, arg: str, value: Any, agent: str | None = None, **match: Any) -> Optional[Event]:
        for e in reversed(self._by_arg.get((name, arg, value), ())):
            if (agent is None or e.agent == agent) and all(e.args.get(k) == v for k, v in match.items()):
                return e
        return None

    # -- connections ---------------------------------------------------------------------------

    # The accessors below read the indexes directly (no call through _instance_last): guards ask them a
    # few times per event.

    def channel(self, agent: str, conn: str) -> Optional[Event]:
        found = self._by_instance.get(("ChannelEstablished", agent, conn, None))
        return found[-1] if found else None

    def side(self, agent: str, conn: str) -> Optional[str]:
        found = self._by_instance.get(("ChannelEstablished", agent, conn, None))
        return found[-1].args["side"] if found else None

    def peer_side(self, agent: str, conn: str) -> str:
        """The other endpoint's side of ``conn`` as ``agent`` sees it."""
        found = self._by_instance.get(("ChannelEstablished", agent, conn, None))
        return "client" if found and found[-1].args["side"] == "server" else "server"

    def conn_attest(self, agent: str, conn: str) -> list[str]:
        found = self._by_instance.get(("ChannelEstablished", agent, conn, None))
        return list(found[-1].args["attest"]) if found else []

    def conn_requires_attestation(self, agent: str, conn: str) -> bool:
        return bool(self.conn_attest(agent, conn))

    def endpoint_states(self, agent: str, conn: str) -> frozenset[str]:
        return self.state.get((ENDPOINT, agent, conn), frozenset({INITIAL[ENDPOINT]}))

    def endpoint_in(self, agent: str, conn: str, states: tuple[str, ...]) -> bool:
        current = self.state.get((ENDPOINT, agent, conn))
        return INITIAL[ENDPOINT] in states if current is None else not current.isdisjoint(states)

    def ticket_connection(self, agent: str, ticket: str) -> Optional[str]:
        for e in reversed(self.done):
            if e.agent == agent and e.args.get("ticket") == ticket and (
                    e.name == "NewSessionTicketSent" or (e.name == "NewSessionTicketReceived" and e.args["kept"])):
                return e.args["conn"]
        return None

    def missing_directions(self, agent: str, conn: str, also: str | None = None) -> list[str]:
        """The sides ``conn`` requires to attest that ``agent`` has not seen complete (nor ``also``). Both
        rows leaving Pending ask it for the same event: kept in ``memo`` until the next event is recorded."""
        key = ("missing_directions", agent, conn, also)
        found = self.memo.get(key)
        if found is None:
            done = {e.args["attester"] for e in self._by_arg.get(("AttestationCompleted", "conn", conn), ())
                    if e.agent == agent}
            if also:
                done.add(also)
            chan = self._by_instance.get(("ChannelEstablished", agent, conn, None))
            found = self.memo[key] = [s for s in chan[-1].args["attest"] if s not in done] if chan else []
        return found

    def ctx_used_before(self, agent: str, conn: str, ctx: str) -> bool:
        """``agent`` used ``ctx`` on ``conn`` already: a request sent or received with it, or a
        spontaneous authenticator under it (RFC 9261 §4)."""
        return (agent, conn, ctx) in self._ctx_used

    def suite(self, conn: str) -> Optional[str]:
        channels = self._by_arg.get(("ChannelEstablished", "conn", conn))
        return channels[0].args["suite"] if channels else None

    def hash_for_conn(self, conn: str) -> SuiteHash:
        channels = self._by_arg.get(("ChannelEstablished", "conn", conn))
        suite = channels[0].args["suite"] if channels else None
        return rel.SUITE_HASH[suite or self.trace.header.get("cipher_suite", "TLS_AES_128_GCM_SHA256")]

    def aik_hash_on(self, conn: str, spki: bytes) -> Optional[bytes]:
        """AIK_pub_hash of ``spki`` under the suite hash of ``conn`` (draft §5.2)."""
        return self.aik_hash(self.hash_for_conn(conn), spki)

    def aik_hash(self, h: SuiteHash, spki: bytes) -> Optional[bytes]:
        """rel.aik_hash under this trace's profile, computed once per (hash, key)."""
        key = (h.name, spki)
        if key not in self._aik_hash_of:
            self._aik_hash_of[key] = rel.aik_hash(h, spki, self.profile)
        return self._aik_hash_of[key]

    def exporter_secret(self, conn: str) -> Optional[bytes]:
        """The exporter_master_secret of ``conn``: the first ChannelEstablished of the whole trace that records
        one (secrets are connection facts, not steps); None in traces without secrets."""
        if conn not in self._secrets:
            self._secrets[conn] = None  # (a secret that is not hex raises here once, then reads as None)
            trace = self.trace
            if self._secret_events[0] is not trace:  # one pass over the trace finds every connection's
                first: dict[Any, Event] = {}
                for e in [e for e in trace.events if e.name == "ChannelEstablished"]:
                    if "exporter_master_secret" in e.args:
                        try:
                            first.setdefault(e.args.get("conn"), e)
                        except TypeError:  # an unhashable conn equals no connection id
                            pass
                self._secret_events = (trace, first)
            e = self._secret_events[1].get(conn)
            if e is not None:
                self._secrets[conn] = e.get_bytes("exporter_master_secret")
        return self._secrets[conn]

    # -- per-request facts ---------------------------------------------------------------------

    def rp_request(self, agent: str, conn: str, ctx: str) -> Optional[Event]:
        found = self._by_instance.get(("RequestSent", agent, conn, ctx))
        return found[-1] if found else None

    def rp_accepted(self, agent: str, conn: str, ctx: str) -> Optional[Event]:
        found = self._by_instance.get(("AuthenticatorAccepted", agent, conn, ctx))
        return found[-1] if found else None

    def rp_forwarded(self, agent: str, conn: str, ctx: str) -> Optional[Event]:
        found = self._by_instance.get(("EvidenceForwarded", agent, conn, ctx))
        return found[-1] if found else None

    def rp_checked(self, agent: str, conn: str, ctx: str) -> Optional[Event]:
        found = self._by_instance.get(("BindingChecked", agent, conn, ctx))
        return found[-1] if found else None

    def rp_result(self, agent: str, conn: str, ctx: str) -> Optional[Event]:
        found = self._by_instance.get(("AttestationResultReceived", agent, conn, ctx))
        return found[-1] if found else None

    def te_request(self, agent: str, conn: str, ctx: str) -> Optional[Event]:
        found = self._by_instance.get(("RequestReceived", agent, conn, ctx))
        return found[-1] if found else None

    def te_evidence_request(self, agent: str, conn: str, ctx: str) -> Optional[Event]:
        found = self._by_instance.get(("EvidenceRequested", agent, conn, ctx))
        return found[-1] if found else None

    def te_submitted(self, agent: str, conn: str, ctx: str) -> Optional[Event]:
        found = self._by_instance.get(("EvidenceSubmitted", agent, conn, ctx))
        return found[-1] if found else None

    def te_result(self, agent: str, conn: str, ctx: str) -> Optional[Event]:
        found = self._by_instance.get(("AttestationResultObtained", agent, conn, ctx))
        return found[-1] if found else None

    def te_sent(self, agent: str, conn: str, ctx: str) -> Optional[Event]:
        found = self._by_instance.get(("AuthenticatorSent", agent, conn, ctx))
        return found[-1] if found else None

    def carried_kind(self, ev: Event) -> Optional[str]:
        a = ev.args
        if "kind" in a:
            return a["kind"]
        found = self._by_instance.get(("AuthenticatorAccepted", ev.agent, a["conn"], a["ctx"]))
        return found[-1].args["kind"] if found else None

    # -- AE and Verifier facts -----------------------------------------------------------------

    def produced(self, cmw: str) -> Optional[Event]:
        found = self._by_arg.get(("EvidenceProduced", "cmw", cmw))
        return found[-1] if found and self.signed_with_held_key(found[-1]) else None

    def signed_with_held_key(self, produced: Event) -> bool:
        """An EvidenceProduced of an adversary is Evidence it signed with the attestation key of platform
        ``te``: genuine (draft §7) only once that key was revealed (AttestationKeyRevealed(te) before it;
        the theory's rule of that name). An Attesting Environment's own is always signed with its key."""
        if produced.agent not in self.adversaries:
            return True
        at, te = self.index_of(produced), produced.args["te"]
        return any(j < at and e.args["platform"] == te for j, e in self._positions.get("AttestationKeyRevealed", ()))

    def appraisal(self, result: str) -> Optional[Event]:
        found = self._by_arg.get(("EvidenceAppraised", "result", result))
        return found[-1] if found else None

    def arg_bytes(self, ev: Event, name: str) -> Optional[bytes]:
        """``ev.get_bytes(name)``: a plain ``str`` is decoded once per trace (an AIK recurs in most events of
        a trace, and guards, relations and monitors ask for it; docs/performance.md, eighth pass)."""
        v = ev.args.get(name)
        if type(v) is str:
            found = self._hex_bytes.get(v)
            if found is None:  # (bytes.fromhex raises on what is not hex, each time, as get_bytes)
                found = self._hex_bytes[v] = bytes.fromhex(v)
            return found
        return bytes.fromhex(v) if isinstance(v, str) else None

    def aik_owner(self, spki: Optional[bytes]) -> Optional[str]:
        if spki is None:
            return None
        found = self._by_arg.get(("AikGenerated", "aik", spki.hex()))
        return found[-1].args["owner"] if found else None

    def own_aik_hashes(self, ae: str, hashes: tuple = rel.HASHES_FOR_AE) -> set[bytes]:
        out: set[bytes] = set()
        for e in self._by_instance.get(("AikGenerated", ae, None, None), ()):  # AikGenerated has no conn, ctx
            spki = self.arg_bytes(e, "aik") or b""  # decoded once per key, not once per hash
            for h in hashes:
                d = self.aik_hash(h, spki)
                if d is not None:
                    out.add(d)
        return out

    def open_evidence_request(self, ae: str, te: str, binding: str) -> Optional[Event]:
        """The last EvidenceRequested by ``te`` of ``ae`` over ``binding`` if more were asked than ``ae``
        produced for ``te`` (two guards of EvidenceProduced ask; kept in ``memo`` like missing_directions).
        When ``te``'s host is the adversary's (HostCompromised), its TEE also takes the adversary's requests
        for Evidence made for ``te`` (draft Sec. 5.2 split deployment; the theory's Compromised_TeeOracle)."""
        key = ("open_evidence_request", ae, te, binding)
        memo = self.memo
        if key in memo:
            return memo[key]
        requested = self._by_arg.get(("EvidenceRequested", "binding", binding), ())
        produced = self._by_arg.get(("EvidenceProduced", "binding", binding), ())
        asked = [e for e in requested if e.agent == te and e.args["ae"] == ae]
        answered = sum(1 for e in produced if e.agent == ae and e.args["te"] == te) if asked else 0
        found = asked[-1] if len(asked) > answered else None
        if found is None and any(e.args["platform"] == te for _, e in self._positions.get("HostCompromised", ())):
            answered = sum(1 for e in produced if e.agent == ae and e.args["te"] == te)
            for adv in sorted(self.adversaries):
                by_adv = [e for e in requested if e.agent == adv and e.args["ae"] == ae]
                if by_adv and len(asked) + len(by_adv) > answered + sum(
                        1 for e in produced if e.agent == ae and e.args["te"] == adv):
                    found = by_adv[-1]
                    break
        memo[key] = found
        return found

    def nonce_issue(self, verifier: str, nonce: str) -> Optional[Event]:
        for e in reversed(self._by_arg.get(("NonceIssued", "nonce", nonce), ())):
            if e.agent == verifier:
                return e
        return None

    def nonce_used(self, verifier: str, nonce: str) -> bool:
        return any(e.agent == verifier for e in self._by_arg.get(("EvidenceAppraised", "nonce", nonce), ()))

    def submission_to(self, verifier: str, cmw: str, sender: str) -> Optional[Event]:
        for name in ("EvidenceForwarded", "EvidenceSubmitted"):
            for e in reversed(self._by_arg.get((name, "cmw", cmw), ())):
                if e.agent == sender and e.args["verifier"] == verifier:
                    return e
        return None

    def parsed_request(self, request_hex: str) -> tuple:
        """rel.parse_request of a recorded request (sent and received events carry the same bytes);
        raises rel.Malformed as it does, every time."""
        found = self._requests.get(request_hex)
        if found is None:
            found = self._requests[request_hex] = rel.parse_request(bytes.fromhex(request_hex))
        return found

    def parsed_authenticator(self, value: Any) -> rel.Authenticator:
        """rel.parse_authenticator of a recorded authenticator argument (the sending and the accepting event
        carry the same bytes), parsed once per trace; raises as it does, every time."""
        key = value if isinstance(value, str) else None
        found = self._authenticators.get(key)
        if found is None:
            found = self._authenticators[key] = rel.parse_authenticator(
                (bytes.fromhex(value) if isinstance(value, str) else None) or b"")
        return found

    def authenticator_problems(self, h: SuiteHash, ems: bytes, sender: str, request: bytes, value: str,
                               spki: bytes) -> tuple[tuple[str, str], ...]:
        """rel.check_authenticator of the recorded authenticator ``value`` (parsed_authenticator's), once per
        trace for the same inputs: the sending and the accepting event normally recompute the same
        CertificateVerify and Finished."""
        key = (h.name, ems, sender, request, value, spki)
        found = self._ea_problems.get(key)
        if found is None:
            found = self._ea_problems[key] = tuple(rel.check_authenticator(
                h, ems, sender, request, self.parsed_authenticator(value), spki))
        return found

    def certificate_spki(self, cert_der: bytes) -> Optional[bytes]:
        """The certificate's SubjectPublicKeyInfo (None if it does not parse), parsed once per trace."""
        if cert_der not in self._spki_of:
            self._spki_of[cert_der] = rel.certificate_spki(cert_der)
        return self._spki_of[cert_der]

    def certificate_spki_hex(self, cert_hex: str) -> Optional[bytes]:
        """``certificate_spki(bytes.fromhex(cert_hex))``, remembered by the hex string: the certificate an
        authenticator's events repeat is neither decoded nor hashed as bytes again."""
        found = self._spki_of_hex.get(cert_hex, _UNSEEN)
        if found is _UNSEEN:
            found = self._spki_of_hex[cert_hex] = self.certificate_spki(bytes.fromhex(cert_hex))
        return found

    # -- reference values (used by relations and monitors) -------------------------------------

    def verifier_nonce_for(self, ctx: str) -> bytes:
        """binding formula "01": the Verifier nonce when the context is one (our reading), else empty."""
        return bytes.fromhex(ctx) if self.keyed("NonceIssued", "nonce", ctx) else b""

    def exported(self, conn: str, ctx: str, label: str | None = None) -> Optional[bytes]:
        ems = self.exporter_secret(conn)
        if ems is None:
            return None
        h = self.hash_for_conn(conn)
        if len(ems) != h.length:
            return None
        return rel.exported_value(h, ems, self.profile, bytes.fromhex(ctx), label)

    def reference_binding(self, conn: str, ctx: str, aik: bytes, label: str | None = None) -> Optional[bytes]:
        """The profile's binding for (conn, ctx, aik), recomputed from the exporter secret."""
        ev = self.exported(conn, ctx, label)
        if ev is None:
            return None
        return rel.binding(self.hash_for_conn(conn), self.profile, aik, ev, self.verifier_nonce_for(ctx))


RECORDERS = _recorders()
