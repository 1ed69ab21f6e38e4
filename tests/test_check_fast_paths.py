"""The fast paths of ``expat check`` (docs/performance.md, issue 16) decide exactly as the strict ones.

* parse_lines (C scanner, one compiled validator per event type, per-trace sets of values already found
  valid) against a strict parse: ``json.loads`` and the whole ``traces/schema.json`` on every line; both
  with its orjson decoding of event lines (seventh pass) and with that switched off, compared by value and
  exact type;
* the compiled step functions of the checker (one per event type, a machine's rows inlined) against the
  general replay (:func:`expat.model.checker.machines_for` and :func:`expat.model.checker._advance` for
  every machine), on the committed traces and on mutated ones;
* the relations as ``check_trace`` dispatches them in line against ``_step`` + ``_relations`` per event
  (the general per-event path ``proofs/analysis.py`` replays with), adversary agents included;
* the compiled recorders (``world.RECORDERS``, one per event name) against ``World.record``;
* ``World.instance_before`` (all recorded before: a copy) against its filter by position;
* ``World.authenticator_problems`` (one recomputation per trace for the same inputs) against
  ``relations.check_authenticator`` called every time;
* the monitors' reveal look-up (``monitors._revealed``, gathered once per replay) against a scan;
* ``roles.flags_of`` against ``roles.flag``;
* (sixth pass) the per-event functions of ``check_trace`` (step, relation and record in one) against the
  loop of one call each (``_replay_calls``); the monitors' per-acceptance answers, reveal fields and
  ``attest_before_data``'s final facts against the scans; the header's check written out in line against
  its table; flags and dispatch table remembered per profile against ``flags_of`` and ``roles.dispatch``.
"""

from __future__ import annotations

import copy
import glob
import json
import re
from pathlib import Path

import expat  # noqa: F401
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expat.model import checker
from expat.model import trace as T
from expat.model.events import EVENTS
from expat.model.roles import FLAGS, flag, flags_of
from test_trace_validation import ODD as VALIDATION_ODD

try:
    import orjson
except ImportError:  # pragma: no cover - parse_lines then has the stdlib path only
    orjson = None

needs_orjson = pytest.mark.skipif(orjson is None, reason="orjson is not installed")

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(glob.glob(str(ROOT / "traces" / "*" / "*.jsonl")))
CORPUS = {Path(f).name: Path(f).read_text().splitlines() for f in FILES}
SCHEMA = jsonschema.Draft202012Validator(json.loads((ROOT / "traces" / "schema.json").read_text()))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# the edge values of test_trace_validation.py, and a long non-hex string (past the 256 characters the
# per-trace sets keep), non-ASCII and a quote
ODD = st.one_of(VALIDATION_ODD, st.sampled_from(["a" * 300, "é", "ab\"c"]))


def strict_parse(lines: list[str]) -> tuple:
    """What parse_lines must give: (header, events as tuples) or the error text, from json.loads and the
    whole schema alone."""
    header = None
    events = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            return ("error", f"src:{n}: not JSON: {e}")
        errors = sorted(SCHEMA.iter_errors(obj), key=lambda e: list(e.path))
        if errors:
            return ("error", f"src:{n}: {errors[0].message}")
        if header is None:
            if obj.get("type") != "header":
                return ("error", f"src:{n}: first line must be the header")
            header = obj
            continue
        if obj.get("type") != "event":
            return ("error", f"src:{n}: only one header allowed")
        events.append((obj["seq"], obj["agent"], obj["event"], obj["args"]))
    if header is None:
        return ("error", "src: empty trace")
    return ("trace", header, events)


def fast_parse(lines: list, with_orjson: bool = True) -> tuple:
    """parse_lines's outcome, with its orjson decoding of event lines on or off."""
    saved = T._ORJSON_LOADS
    T._ORJSON_LOADS = orjson.loads if with_orjson and orjson is not None else None
    try:
        t = T.parse_lines(lines, "src")
    except T.TraceFormatError as e:
        return ("error", str(e))
    finally:
        T._ORJSON_LOADS = saved
    assert t.validated == tuple(t.events)
    assert all(type(e) is T.Event and list(vars(e)) == ["seq", "agent", "name", "args"] for e in t.events)
    return ("trace", t.header, [(e.seq, e.agent, e.name, e.args) for e in t.events])


def typed(x):
    """``x`` with each value paired with its exact type and dictionaries as their items in order: 1, 1.0
    and True are equal in Python, a float's NaN is not equal to itself; neither may hide a difference."""
    if type(x) is dict:
        return ("dict", [(typed(k), typed(v)) for k, v in x.items()])
    if type(x) in (list, tuple):
        return (type(x).__name__, [typed(v) for v in x])
    return (type(x).__name__, repr(x) if type(x) is float else x)


def outcome(parse, lines: list, *flags) -> tuple:
    """``typed(parse(lines))``, or the exception it raises other than a TraceFormatError (json's
    RecursionError on deep nesting, the scanner's TypeError on bytes)."""
    try:
        return typed(parse(lines, *flags))
    except (RecursionError, TypeError) as e:
        return ("raises", type(e).__name__, str(e))


def assert_parses_as_strict(lines: list, strict: bool = True) -> None:
    """parse_lines with orjson and without gives the same trace or error, by value and exact type, and
    both give the strict parse's (``strict=False``: not compared with the strict parse; json.loads words
    a line starting with a byte order mark differently from the decoder parse_lines runs)."""
    stdlib = outcome(fast_parse, lines, False)
    assert outcome(fast_parse, lines, True) == stdlib
    if strict:
        assert stdlib == outcome(lambda ls: strict_parse(ls), lines)


def test_parse_lines_equals_the_strict_parse_on_the_committed_traces():
    assert len(CORPUS) > 40
    for name, lines in CORPUS.items():
        assert fast_parse(lines)[0] == "trace", name
        assert_parses_as_strict(lines)


@needs_orjson
def test_orjson_decodes_every_event_line_of_the_committed_traces(monkeypatch):
    """With orjson the stdlib scanner reads only the header of a plain trace; without it, every line."""
    calls = []

    def scan(line, i):
        calls.append(line)
        return T._DECODER.scan_once(line, i)

    monkeypatch.setattr(T, "_SCAN", scan)
    for name, lines in CORPUS.items():
        calls.clear()
        fast_parse(lines, True)
        assert calls == [lines[0]], name
        calls.clear()
        fast_parse(lines, False)
        assert calls == lines, name


@SETTINGS
@given(name=st.sampled_from(sorted(CORPUS)), data=st.data())
def test_parse_lines_equals_the_strict_parse_on_mutated_lines(name, data):
    lines = list(CORPUS[name])
    i = data.draw(st.integers(1, len(lines) - 1)) if len(lines) > 1 else 0
    obj = json.loads(lines[i])
    where = data.draw(st.sampled_from(["arg", "arg", "drop", "extra", "top", "text", "repeat"]))
    if i == 0 or where == "top":
        obj[data.draw(st.sampled_from(["seq", "agent", "event", "type", "args", "more", "profile", "format"]))] = \
            data.draw(st.one_of(ODD, st.sampled_from(sorted(EVENTS))))
    elif where == "arg" and obj["args"]:
        obj["args"][data.draw(st.sampled_from(sorted(obj["args"])))] = data.draw(ODD)
    elif where == "drop" and obj["args"]:
        del obj["args"][data.draw(st.sampled_from(sorted(obj["args"])))]
    elif where == "extra":
        obj["args"][data.draw(st.sampled_from(["x", "conn", "ctx", "aik", "nonce"]))] = data.draw(ODD)
    lines[i] = json.dumps(obj, sort_keys=data.draw(st.booleans()))
    if where == "text":  # padding, a blank line, a cut line
        lines[i] = data.draw(st.sampled_from([" " + lines[i], lines[i] + " ", lines[i][:-1], lines[i] + "x"]))
        lines.insert(i, data.draw(st.sampled_from(["", "  "])))
    elif where == "repeat":  # the same line twice
        lines.insert(i, lines[i])
    assert_parses_as_strict(lines)


# --- orjson's decoding of event lines (seventh pass) ------------------------------------------------
# A trace with an event of each argument type the edge cases touch: ints (seq, length, msg_type),
# an int list (extensions), ids, hex, a bool, a side list.
_TRACE = next(lines for lines in CORPUS.values()
              if any('"event":"RequestSent"' in x for x in lines) and any('"ApplicationDataSent"' in x for x in lines))
_HOLE = "\x00hole\x00"


def _line(name: str) -> tuple[int, dict]:
    i = next(i for i, x in enumerate(_TRACE) if f'"event":"{name}"' in x)
    return i, json.loads(_TRACE[i])


def _with_raw(name: str, path: tuple, raw: str) -> list[str]:
    """The trace with the value at ``path`` of its first ``name`` event replaced by the JSON text ``raw``
    (``path`` may name a key the line does not have)."""
    i, obj = _line(name)
    d = obj
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = _HOLE
    lines = list(_TRACE)
    lines[i] = json.dumps(obj, separators=(",", ":"), sort_keys=True).replace(json.dumps(_HOLE), raw)
    return lines


# JSON texts json and orjson read differently (a float for an integer beyond 64 bits), or one of them
# refuses (NaN, Infinity, 1e400, lone surrogates, leading zeros), or both read alike
ODD_TEXTS = ["18446744073709551615", "18446744073709551616", "9223372036854775807", "9223372036854775808",
             "-9223372036854775808", "-9223372036854775809", "1" + "0" * 40, "-0", "0.0", "1.0", "1E2", "1e400",
             "-1e400", "NaN", "Infinity", "-Infinity", "01", "true", "null", '"\\ud800"', '"\\udc00\\ud800"',
             '"\\ud83d\\ude00"', '"\ud800"', '"a\x01"', '"\x7f"', '"\\u0000"', '"\\x"', '"\\/"', '"conn\\u0031"',
             '"\\u0063lient"', '"a\u2028"', "[]", "{}", '["client","client"]', "[1,1]", "[18446744073709551616]",
             "[65535]", "[65536]"]
PLACES = [("ApplicationDataSent", ("seq",)), ("ApplicationDataSent", ("args", "length")),
          ("ApplicationDataSent", ("agent",)), ("ApplicationDataSent", ("args", "conn")),
          ("RequestSent", ("args", "msg_type")), ("RequestSent", ("args", "extensions")),
          ("RequestSent", ("args", "ctx")), ("RequestSent", ("args", "attestation_offered")),
          ("ChannelEstablished", ("args", "attest")), ("ChannelEstablished", ("args", "x")),
          ("ChannelEstablished", ("event",)), ("ChannelEstablished", ("type",)), ("ChannelEstablished", ("more",))]


@needs_orjson
def test_orjson_reads_these_texts_as_the_design_says():
    """The premises of the fast path: orjson refuses, or reads as json does, except integers beyond 64
    bits (floats), which no line validator accepts."""
    for text in ODD_TEXTS:
        try:
            fast = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if typed(fast) != typed(json.loads(text)):
            assert text in ("18446744073709551616", "-9223372036854775809", "1" + "0" * 40,
                            "[18446744073709551616]"), text
            assert "float" in repr(typed(fast)) and "float" not in repr(typed(json.loads(text))), text
    for text in ("NaN", "Infinity", "1e400", '"\\ud800"', '"\ud800"', '"a\x01"', "01", "\ufeff{}",
                 "[" * 1100 + "]" * 1100):
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(text)
    assert list(orjson.loads('{"a":1,"b":2,"a":3}').items()) == list(json.loads('{"a":1,"b":2,"a":3}').items())


@needs_orjson
@pytest.mark.parametrize("place", PLACES, ids=lambda p: f"{p[0]}.{'.'.join(p[1])}")
def test_odd_values_parse_alike_with_and_without_orjson(place):
    for text in ODD_TEXTS:
        assert_parses_as_strict(_with_raw(*place, text))


@needs_orjson
def test_an_integer_beyond_64_bits_is_still_an_int_in_the_event():
    """orjson reads 2**64 as a float: the line goes on to the stdlib path, which keeps the int."""
    i, _ = _line("ApplicationDataSent")
    for big in (2 ** 64, 2 ** 64 + 1, 10 ** 40):
        for where in ("seq", "length"):
            lines = _with_raw("ApplicationDataSent", ("seq",) if where == "seq" else ("args", "length"), str(big))
            read = orjson.loads(lines[i])
            assert type(read["seq"] if where == "seq" else read["args"]["length"]) is float
            out = fast_parse(lines)
            assert out[0] == "trace"
            seq, _agent, _name, args = out[2][i - 1]
            value = seq if where == "seq" else args["length"]
            assert type(value) is int and value == big
            assert_parses_as_strict(lines)


@needs_orjson
def test_duplicate_keys_keep_the_last_value_at_the_first_place():
    i, _ = _line("ApplicationDataSent")
    line = _TRACE[i]
    for extra in (',"seq":7', ',"seq":-1', ',"seq":1.5', ',"agent":"other"', ',"type":"header"', ',"args":{}',
                  ',"event":"ApplicationDataReceived"', ',"event":"Nope"'):
        lines = list(_TRACE)
        lines[i] = line[:-1] + extra + "}"
        assert_parses_as_strict(lines)
        lines[i] = line.replace('"args":{', '"args":{"length":-1,', 1)  # the first of two is refused
        assert_parses_as_strict(lines)
        lines[i] = line.replace('"args":{', '"args":{"length":5,', 1)
        assert_parses_as_strict(lines)


@needs_orjson
@pytest.mark.parametrize("pad", ["", " ", "\t", "\r", "\n", " \t\r\n ", "\ufeff", "\u00a0", "\u2028", "\x00", "x", "}"])
def test_padding_blank_lines_and_a_byte_order_mark_parse_alike(pad):
    i, _ = _line("ApplicationDataSent")
    for lines in (_TRACE[:i] + [pad + _TRACE[i]] + _TRACE[i + 1:], _TRACE[:i] + [_TRACE[i] + pad] + _TRACE[i + 1:],
                  _TRACE[:i] + [pad] + _TRACE[i:], _TRACE[:i] + [pad + pad] + _TRACE[i:],
                  [pad + _TRACE[0]] + _TRACE[1:]):
        assert_parses_as_strict(lines, strict=not any(x.startswith("\ufeff") for x in lines))


@needs_orjson
@pytest.mark.parametrize("depth", [10, 500, 995, 996, 1000, 1023, 1024, 1025, 5000])
def test_deep_nesting_parses_or_fails_alike(depth):
    """json's scanner raises RecursionError near Python's limit; orjson refuses past 1,024 levels. Between
    the two orjson decodes, but no validator takes a nested value, so the stdlib path decides."""
    nested = "[" * depth + "]" * depth
    for place in (("ApplicationDataSent", ("args", "length")), ("ChannelEstablished", ("args", "attest")),
                  ("ApplicationDataSent", ("more",))):
        assert_parses_as_strict(_with_raw(*place, nested))
    lines = list(_TRACE)
    lines.insert(1, nested)
    assert_parses_as_strict(lines)


@needs_orjson
def test_lines_that_are_not_str_are_refused_as_before():
    """orjson takes bytes, the stdlib scanner does not (TypeError); a str subclass takes the stdlib path."""
    class Line(str):
        pass

    i, _ = _line("ApplicationDataSent")
    for other in (_TRACE[i].encode(), bytearray(_TRACE[i].encode()), Line(_TRACE[i]), None, 5):
        lines = list(_TRACE)
        lines[i] = other
        assert_parses_as_strict(lines, strict=type(other) is Line)
    lines = list(_TRACE)
    lines[i] = Line(_TRACE[i])
    assert fast_parse(lines)[0] == "trace"


def test_parse_lines_works_when_orjson_cannot_be_imported():
    """A process where ``import orjson`` fails: the stdlib path alone, the same events as here."""
    import subprocess
    import sys
    names = sorted(CORPUS)[:8]
    code = ("import json, sys; sys.modules['orjson'] = None\n"
            "from expat.model import trace as T\n"
            "assert T._ORJSON_LOADS is None\n"
            "print(json.dumps([[e.to_json() for e in T.load_trace(p).events] for p in sys.argv[1:]]))\n")
    paths = [next(f for f in FILES if Path(f).name == n) for n in names]
    out = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [[e.to_json() for e in T.parse_lines(CORPUS[n]).events] for n in names]


_RAW_PIECES = st.sampled_from(list('{}[],:"\\ 0123456789.eE+-') + ["true", "null", "NaN", "Infinity", '"seq"',
                              '"args"', '"event"', '"type"', '"agent"', '"event"', '"conn1"', "\ud800", "\ufeff",
                              "\x00", "\x01", "\\ud800", "\\u0000", "\n", "\t"] + sorted(EVENTS))
JSONISH = st.one_of(
    st.sampled_from(ODD_TEXTS),
    st.integers().map(str),
    st.floats().map(repr),
    st.text(max_size=8).map(lambda t: json.dumps(t, ensure_ascii=False)),
    st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
                           st.sampled_from(["client", "server", "conn1", "ab", "-"])),
                 lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=4), kids,
                                                                                    max_size=3)),
                 max_leaves=8).map(json.dumps),
    st.lists(_RAW_PIECES, max_size=12).map("".join))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), raw=JSONISH)
def test_jsonish_text_put_into_a_real_trace_parses_alike(data, raw):
    """Arbitrary JSON-ish text as a value of an event line, as a key added twice, as a whole line or
    spliced into a line: parse_lines with orjson and without agree with each other and the strict parse."""
    how = data.draw(st.sampled_from(["value", "value", "duplicate", "line", "splice", "pad"]))
    if how == "value":
        lines = _with_raw(*data.draw(st.sampled_from(PLACES)), raw)
    else:
        lines = list(_TRACE)
        i = data.draw(st.integers(1, len(lines) - 1))
        if how == "duplicate":
            key = data.draw(st.sampled_from(["seq", "agent", "event", "type", "args"]))
            lines[i] = lines[i][:-1] + f',"{key}":{raw}}}'
        elif how == "line":
            lines.insert(i, raw)
        elif how == "splice":
            at = data.draw(st.integers(0, len(lines[i])))
            cut = data.draw(st.integers(0, 3))
            lines[i] = lines[i][:at] + raw + lines[i][at + cut:]
        else:
            lines[i] = data.draw(st.sampled_from([" ", "\t", "\ufeff", "\r\n"])) + lines[i] + raw
    assert_parses_as_strict(lines, strict=not any(x.startswith("\ufeff") for x in lines))


def _general_step(w, i, ev):
    """The replay without the compiled step functions: every machine of ``ev`` by _advance."""
    rows = checker.compiled_rows(w)
    out = []
    for role, key in checker.machines_for(w, ev):
        bad = checker._advance(w, i, ev, rows, role, (role, *key))
        if bad is not None:
            out.append(bad)
    return out


class _GeneralSteps(dict):
    """Every event name's step function is _general_step."""

    def __missing__(self, name):
        return _general_step


def _both(trace: T.Trace) -> tuple[dict, dict]:
    """check_trace as it runs (the per-event functions of ``_check_source``) and the general replay: the
    loop of one call per event to the step, the relation and the recorder (``_replay_calls``), every
    machine moved by ``_advance``."""
    fast = checker.check_trace(copy.deepcopy(trace)).to_json()
    compiled, replay = checker._step_functions, checker._replay
    checker._step_functions = lambda w: _GeneralSteps()
    checker._replay = checker._replay_calls
    try:
        general = checker.check_trace(copy.deepcopy(trace)).to_json()
    finally:
        checker._step_functions, checker._replay = compiled, replay
    return fast, general


def _calls(trace: T.Trace) -> dict:
    """check_trace through ``_replay_calls`` with the compiled step functions (the loop the per-event
    functions replace, nothing else changed)."""
    replay, checker._replay = checker._replay, checker._replay_calls
    try:
        return checker.check_trace(copy.deepcopy(trace)).to_json()
    finally:
        checker._replay = replay


def test_compiled_steps_equal_the_general_replay_on_the_committed_traces():
    for name, lines in CORPUS.items():
        fast, general = _both(T.parse_lines(lines))
        assert fast == general, name


def _flip(value: str) -> str:
    """Another valid hex string of the same length (its last byte changed), or "00" for an empty one."""
    return value[:-2] + ("00" if value[-2:] != "00" else "01") if value else "00"


def _relation_mutants(trace: T.Trace):
    """Traces a relation of ``trace`` reports on or raises in: at the first event of each name with a
    relation, each hex argument changed to other valid hex and to "zz" (not hex: the relation raises), and
    an authenticator's context changed with its AIK made undecodable (the relation reports, then raises);
    each with the event's agent honest and the adversary's. The events count as validated (as if
    parse_lines had passed them), so the vocabulary rule does not stop "zz" before the relations meet it."""
    done = set()
    for k, ev in enumerate(trace.events):
        if ev.name not in checker._RELATIONS or ev.name in done:
            continue
        done.add(ev.name)
        hexes = [a.name for a in EVENTS[ev.name].args if a.type == "bytes" and isinstance(ev.args.get(a.name), str)]
        changes = [{h: v} for h in hexes for v in (_flip(ev.args[h]), "zz")]
        if ev.name == "AuthenticatorSent":
            changes.append({"ctx": _flip(ev.args["ctx"]), "aik": "zz"})
        for change in changes:
            events = list(trace.events)
            events[k] = T.Event(ev.seq, ev.agent, ev.name, {**ev.args, **change})
            yield T.Trace(trace.header, events, trace.source, tuple(events))
            adversaries = sorted({*trace.header.get("adversaries", ()), ev.agent})
            yield T.Trace({**trace.header, "adversaries": adversaries}, events, trace.source, tuple(events))


def test_per_event_functions_equal_one_call_each_on_the_committed_traces():
    """The per-event functions (step, relation and record in one) against the loop of three calls, on
    every committed trace, with every agent of it in turn the adversary's (the relations of honest agents
    only, the machines not moved), and on _relation_mutants (relations that report, that raise, that report
    and then raise: their failures dropped)."""
    seen = set()
    for name, lines in CORPUS.items():
        trace = T.parse_lines(lines)
        assert checker.check_trace(copy.deepcopy(trace)).to_json() == _calls(trace), name
        for agent in sorted({e.agent for e in trace.events}):
            t = T.Trace({**trace.header, "adversaries": [agent]}, trace.events, name, trace.validated)
            assert checker.check_trace(copy.deepcopy(t)).to_json() == _calls(t), (name, agent)
        for t in _relation_mutants(trace):
            got = checker.check_trace(copy.deepcopy(t)).to_json()
            assert got == _calls(t), name
            seen.update((v.get("rule"), v["detail"][:10]) for v in got["violations"])
    assert {("malformed-value", "ValueError"), ("binding-recompute", "binding is"), ("request-encoding", "request do"),
            ("ea-context", "Certificat")} <= seen, sorted(seen)


def test_a_step_that_raises_keeps_none_of_its_machines_violations():
    """An event of two machines, the first not enabled and the second's guard raising: as in the loop of
    three calls (where the step function raised before returning), only the malformed input is reported,
    and the event is still recorded."""
    trace = next(t for t in map(T.parse_lines, CORPUS.values()) if any(e.name == "AttestationCompleted"
                                                                       for e in t.events))
    ev = next(e for e in trace.events if e.name == "AttestationCompleted")

    def boom(w, e):
        raise ValueError("boom")

    got = {}
    for how in ("check", "calls"):
        w = checker.World(trace)
        rows = dict(checker.compiled_rows(w))
        for key in [k for k in rows if k[2] == "AttestationCompleted" and k[0] != "Endpoint"]:
            rows[key] = tuple((r, (boom,), d) for r, _g, d in rows[key])
        for role in ("RelyingParty", "TargetEnvironment"):  # past the rows' source state: a guard is asked
            src = next(k[1] for k in rows if k[0] == role and k[2] == "AttestationCompleted")
            w.state[(role, ev.agent, ev.args["conn"], ev.args["ctx"])] = checker._one(src)
        out, pending = [], []
        bad = lambda rule, detail: pending.append(checker.Violation("rule", rule, 0, detail))  # noqa: E731
        if how == "check":
            source, ns = checker._check_source("AttestationCompleted", rows)
            exec(compile(source, "<test>", "exec"), ns)
            ns["check"](w, 0, ev, out, bad, [0], pending)
        else:
            source, ns = checker._stepper_source("AttestationCompleted", rows)
            exec(compile(source, "<test>", "exec"), ns)
            try:
                out += ns["step"](w, 0, ev)
            except Exception as e:
                out.append(checker.Violation("rule", "malformed-value", 0, f"{type(e).__name__}: {e}"))
            checker.RECORDERS[ev.name](w, ev)
        got[how] = ([v.to_json() for v in out], w.done)
    assert got["check"] == got["calls"]
    assert [v["rule"] for v in got["check"][0]] == ["malformed-value"]
    assert got["check"][1] == [ev]


def _shuffled(events: list, i: int, how: str, data, agents: list[str]) -> bool:
    """The mutations the hypothesis tests share, made on ``events[i]`` in place: dropped, repeated
    elsewhere, moved, or its agent swapped for one of ``agents``; False (nothing done) for another ``how``."""
    if how == "drop":
        del events[i]
    elif how == "duplicate":
        events.insert(data.draw(st.integers(0, len(events))), events[i])
    elif how == "move":
        events.insert(data.draw(st.integers(0, len(events))), events.pop(i))
    elif how == "swap-agent":
        events[i] = T.Event(events[i].seq, data.draw(st.sampled_from(agents)), events[i].name, dict(events[i].args))
    else:
        return False
    return True


@SETTINGS
@given(name=st.sampled_from(sorted(CORPUS)), data=st.data())
def test_compiled_steps_equal_the_general_replay_on_mutated_traces(name, data):
    trace = T.parse_lines(CORPUS[name])
    events = list(trace.events)
    header = copy.deepcopy(trace.header)
    for _ in range(data.draw(st.integers(1, 3))):
        if not events:
            break
        i = data.draw(st.integers(0, len(events) - 1))
        how = data.draw(st.sampled_from(["drop", "duplicate", "move", "swap-agent", "flag", "adversary"]))
        if _shuffled(events, i, how, data, sorted({e.agent for e in events})):
            continue
        if how == "adversary":  # an agent of the trace becomes the adversary's
            header["adversaries"] = sorted({*header.get("adversaries", ()), events[i].agent})
        else:
            mitigations = header.setdefault("profile", {}).setdefault("mitigations", {})
            mitigations[data.draw(st.sampled_from(FLAGS))] = data.draw(st.booleans())
    renumbered = [T.Event(n, e.agent, e.name, dict(e.args)) for n, e in enumerate(events)]
    mutated = T.Trace(header, renumbered, trace.source)
    fast, general = _both(mutated)
    assert fast == general
    assert _replayed_rules(mutated) == _per_event_rules(mutated)
    assert _indexes(mutated, compiled=True) == _indexes(mutated, compiled=False)
    _instance_before_agrees(mutated)
    assert checker.check_trace(copy.deepcopy(mutated)).to_json() == _uncached(mutated)


def _uncached(trace: T.Trace) -> dict:
    """check_trace with every authenticator's CertificateVerify and Finished recomputed at each event."""
    from expat.model import relations
    from expat.model.world import World

    def fresh(w, h, ems, sender, request, value, spki):
        return relations.check_authenticator(h, ems, sender, request, w.parsed_authenticator(value), spki)

    cached, World.authenticator_problems = World.authenticator_problems, fresh
    try:
        return checker.check_trace(copy.deepcopy(trace)).to_json()
    finally:
        World.authenticator_problems = cached


def test_authenticators_recomputed_once_per_trace_decide_as_every_time():
    tried = 0
    for name, lines in CORPUS.items():
        trace = T.parse_lines(lines)
        if not trace.header.get("with_secrets"):
            continue
        assert checker.check_trace(copy.deepcopy(trace)).to_json() == _uncached(trace), name
        for bad in ("AuthenticatorAccepted", "AuthenticatorSent"):  # one side's Finished flipped
            events = list(trace.events)
            k = next((i for i, e in enumerate(events) if e.name == bad and "authenticator" in e.args), None)
            if k is None:
                continue
            auth = events[k].args["authenticator"]
            events[k] = T.Event(k, events[k].agent, bad, {**events[k].args, "authenticator": auth[:-2] + (
                "00" if auth[-2:] != "00" else "01")})
            flipped = T.Trace(trace.header, events, name)
            got = checker.check_trace(copy.deepcopy(flipped)).to_json()
            assert got == _uncached(flipped), name
            assert any(v.get("rule") == "ea-finished" and v["event_index"] == k for v in got["violations"]), name
            tried += 1
    assert tried


def _instance_before_agrees(trace: T.Trace) -> None:
    """instance_before at every position, for every instance, equals the events filtered by position."""
    w = checker.World(trace)
    for ev in trace.events:
        w.record(ev)
    for key, found in w._by_instance.items():
        edges = {0, len(trace.events)} | {w._index[id(e)] + d for e in found for d in (0, 1)}
        for index in sorted(edges):  # where the answer can change
            want = [e for e in found if w._index[id(e)] < index]
            assert w.instance_before(index, *key) == want, (index, key)


def _indexes(trace: T.Trace, compiled: bool) -> tuple:
    """Every index of a World that recorded ``trace`` through the compiled recorders or World.record."""
    from expat.model.world import RECORDERS
    w = checker.World(trace)
    for ev in trace.events:
        RECORDERS[ev.name](w, ev) if compiled else w.record(ev)
    return (w.done, w._index, dict(w._positions), dict(w._by_instance), dict(w._by_arg), w._ctx_used)


def test_compiled_recorders_equal_world_record_on_the_committed_traces():
    for name, lines in CORPUS.items():
        trace = T.parse_lines(lines)
        assert _indexes(trace, compiled=True) == _indexes(trace, compiled=False), name
        _instance_before_agrees(trace)


# what the per-event loop of check_trace reports (not the seq, vocabulary and end-of-trace rules)
_PER_EVENT = lambda v: v.kind == "rule" and v.id not in ("seq", "vocabulary", "connection-peers")  # noqa: E731


def _replayed_rules(trace: T.Trace) -> list:
    return [v.to_json() for v in checker.check_trace(copy.deepcopy(trace), monitors=False).violations
            if _PER_EVENT(v)]


def _per_event_rules(trace: T.Trace) -> list:
    """The same replay through ``_step`` and ``_relations``, one call each per event."""
    trace = copy.deepcopy(trace)
    w, out = checker.World(trace), []
    for i, ev in enumerate(trace.events):
        try:
            if w.honest(ev.agent):
                out += checker._step(w, i, ev)
            out += checker._relations(w, i, ev)
        except Exception as e:
            out.append(checker.Violation("rule", "malformed-value", i, f"{type(e).__name__}: {e}"))
        w.record(ev)
    return [v.to_json() for v in out if _PER_EVENT(v)]


def test_inline_relations_equal_the_per_event_path_on_the_committed_traces():
    for name, lines in CORPUS.items():
        trace = T.parse_lines(lines)
        assert _replayed_rules(trace) == _per_event_rules(trace), name


def test_an_adversarys_authenticator_is_not_recomputed_on_either_path():
    """An adversary's AuthenticatorSent with a foreign AIK: the relations of honest agents only skip it."""
    tried = 0
    for name, lines in CORPUS.items():
        trace = T.parse_lines(lines)
        sent = [i for i, e in enumerate(trace.events) if e.name == "AuthenticatorSent" and "authenticator" in e.args]
        if not sent:
            continue
        i = sent[0]
        ev = trace.events[i]
        trace.events[i] = T.Event(ev.seq, ev.agent, ev.name, {**ev.args, "aik": "00" * 32})
        trace.header = {**trace.header, "adversaries": sorted({*trace.header.get("adversaries", ()), ev.agent})}
        rules = _replayed_rules(trace)
        assert rules == _per_event_rules(trace), name
        assert not [v for v in rules if v["event_index"] == i and v["rule"].startswith("ea-")], name
        tried += 1
    assert tried


@given(reveals=st.lists(st.tuples(st.sampled_from(["HostCompromised", "AttestationKeyRevealed"]),
                                  st.sampled_from(["a", "b", "c"])), max_size=6),
       asked=st.sampled_from(["a", "b", "c", "d", None]))
def test_revealed_equals_a_scan_of_the_reveals(reveals, asked):
    from expat.model import monitors
    events = [T.Event(n, "adv", name, {"platform": p}) for n, (name, p) in enumerate(reveals)]
    w = checker.World(T.Trace({"profile": {}}, events))
    for ev in events:
        w.record(ev)
    for name in ("HostCompromised", "AttestationKeyRevealed"):
        want = asked is not None and any(e.name == name and e.args["platform"] == asked for e in events)
        assert monitors._revealed(w, name, asked) is want


@pytest.mark.parametrize("profile", [
    {}, {"mitigations": {}}, {"mitigations": None},
    {"mitigations": {"check_binding": False, "reject_resumption": 0, "passport_binding_echo": False}},
    {"binding_check": "delegated", "passport_binding_echo": False},
    {"binding_check": "local", "passport_binding_echo": 1, "mitigations": {f: False for f in FLAGS}},
])
def test_flags_of_reads_every_flag_as_flag_does(profile):
    got = flags_of(profile)
    assert list(got) == list(FLAGS)
    assert got == {f: flag(profile, f) for f in FLAGS}


def _certificates() -> list[str]:
    return sorted({e.args["certificate"] for lines in CORPUS.values() for e in T.parse_lines(lines).events
                   if "certificate" in e.args})


def _spki_decoded_every_time(trace: T.Trace) -> dict:
    """check_trace with each certificate's SPKI read from freshly decoded bytes at every event."""
    from expat.model import relations
    from expat.model.world import World

    cached, World.certificate_spki_hex = World.certificate_spki_hex, \
        lambda w, cert_hex: relations.certificate_spki(bytes.fromhex(cert_hex))
    try:
        return checker.check_trace(copy.deepcopy(trace)).to_json()
    finally:
        World.certificate_spki_hex = cached


def test_certificate_spki_by_hex_equals_decoding_every_time():
    from expat.model import relations
    certs = _certificates()
    assert len(certs) > 1
    w = checker.World(T.Trace({"profile": {}}, []))
    for _ in range(2):  # asked again: the remembered value
        for c in certs + ["00", "30" + "00" * 20]:  # and two that are no certificate (None)
            assert w.certificate_spki_hex(c) == relations.certificate_spki(bytes.fromhex(c))
    tried = 0
    for name, lines in CORPUS.items():
        trace = T.parse_lines(lines)
        assert checker.check_trace(copy.deepcopy(trace)).to_json() == _spki_decoded_every_time(trace), name
        ks = [i for i, e in enumerate(trace.events) if "certificate" in e.args]
        if not ks:
            continue
        k = ks[-1]  # the last certificate swapped for another: the AIK no longer its key
        ev = trace.events[k]
        other = next(c for c in certs if c != ev.args["certificate"])
        events = list(trace.events)
        events[k] = T.Event(ev.seq, ev.agent, ev.name, {**ev.args, "certificate": other})
        swapped = T.Trace(trace.header, events, name)
        got = checker.check_trace(copy.deepcopy(swapped)).to_json()
        assert got == _spki_decoded_every_time(swapped), name
        assert any(v["event_index"] == k and "end-entity certificate" in v.get("detail", "")
                   for v in got["violations"]), name
        tried += 1
    assert tried


def test_parsed_events_are_built_as_the_dataclass_builds_them():
    """parse_lines's Events are the dataclass's own (equal, frozen, the same attribute values), their
    fields put in by one ``ev.__dict__.update`` and not by item stores into ``ev.__dict__`` (which leave a
    dictionary CPython does not read attributes from the specialised way; docs/performance.md, fifth
    pass)."""
    import dataclasses
    for spec in EVENTS.values():
        src = T._validator_source(spec)
        assert src.count("__dict__") == 1 and "ev.__dict__.update({'seq': seq, " in src, spec.name
    for name, lines in list(CORPUS.items())[:5]:
        for ev in T.parse_lines(lines).events:
            plain = T.Event(ev.seq, ev.agent, ev.name, ev.args)
            assert type(ev) is T.Event and ev == plain, name
            assert (ev.seq, ev.agent, ev.name, ev.args) == (plain.seq, plain.agent, plain.name, plain.args)
            assert vars(ev) == vars(plain)
            with pytest.raises(dataclasses.FrozenInstanceError):
                ev.args = {}


# --- the monitors' shortcuts (sixth pass) ---------------------------------------------------------

def _attest_before_data_scan(w) -> list:
    """attest_before_data as it was: the facts before each data event filtered afresh."""
    from expat.model import monitors as M
    out = []
    for i, e in sorted(w.positions("ApplicationDataSent") + w.positions("ApplicationDataReceived"),
                       key=lambda p: p[0]):
        if e.agent in w.adversaries:
            continue
        conn = e.args["conn"]
        chans = [c.args["attest"] for j, c in w.keyed_before(i, "ChannelEstablished", "conn", conn, e.agent)] \
            or [c.args["attest"] for j, c in w.keyed_before(len(w.done), "ChannelEstablished", "conn", conn, e.agent)][:1]
        required = set(chans[-1]) if chans else set()
        done = {c.args["attester"] for j, c in w.keyed_before(i, "AttestationCompleted", "conn", conn)
                if M._accepted_by_requester(w, c, conn)}
        if required - done:
            out.append((i, f"{e.agent}: {e.name} on {e.args['conn']} before attestation of "
                           f"{sorted(required - done)} completed"))
    return out


def _no_resumption_scan(w) -> list:
    """no_resumption as it was: every ticket event and channel visited, tickets or none (tenth pass)."""
    from expat.model import monitors as M
    return M._ticket_findings(w, w.positions("NewSessionTicketSent") + w.positions("NewSessionTicketReceived"))


def _monitor_findings(trace: T.Trace, shortcuts: bool) -> tuple:
    """Every monitor's findings on ``trace`` (replayed once), with the monitors' shortcuts or without:
    the per-acceptance answers looked up at each question, attest_before_data by a scan per data event,
    and every acceptance's reveal fields checked against ``_revealed``."""
    from expat.model import monitors as M
    w = checker.World(trace)
    checker._replay(w, trace, [])
    saved = (M._checked, M._sent, M._origin, M.MONITORS["attest_before_data"], M.MONITORS["no_resumption"])
    if not shortcuts:
        M._checked, M._sent, M._origin = M._checked_scan, M._sent_scan, M._origin_scan
        M.MONITORS["attest_before_data"] = _attest_before_data_scan
        M.MONITORS["no_resumption"] = _no_resumption_scan
    try:
        found = tuple((pid, fn(w)) for pid, fn in M.MONITORS.items())
    finally:
        (M._checked, M._sent, M._origin, M.MONITORS["attest_before_data"],
         M.MONITORS["no_resumption"]) = saved
    for a in M.acceptances(w):
        p = M._platform(a)
        assert a.key_revealed is M._revealed(w, "AttestationKeyRevealed", p)
        assert a.tee_compromised is (M._revealed(w, "HostCompromised", p)
                                     or M._revealed(w, "AttestationKeyRevealed", p))
        assert a.rp_revealed is (M._revealed(w, "AttestationKeyRevealed", a.rp)
                                 or M._revealed(w, "HostCompromised", a.rp))
    return found


def test_monitor_shortcuts_equal_the_scans_on_the_committed_traces():
    for name, lines in CORPUS.items():
        trace = T.parse_lines(lines)
        assert _monitor_findings(trace, True) == _monitor_findings(trace, False), name


def test_attest_before_data_equals_the_scan_with_a_second_channel_of_an_endpoint():
    """Each committed trace with one endpoint's channel recorded again right after the first, requiring
    none, one or both sides (attest_before_data must read the last channel before each data event)."""
    for name, lines in CORPUS.items():
        trace = T.parse_lines(lines)
        firsts = [n for n, e in enumerate(trace.events) if e.name == "ChannelEstablished"][:2]
        for n in firsts:
            for attest in ([], ["client"], ["server"], ["client", "server"]):
                e = trace.events[n]
                events = [*trace.events[:n + 1], T.Event(0, e.agent, e.name, {**e.args, "attest": attest}),
                          *trace.events[n + 1:]]
                mutated = T.Trace(trace.header, [T.Event(k, x.agent, x.name, x.args) for k, x in enumerate(events)])
                assert _monitor_findings(mutated, True) == _monitor_findings(mutated, False), (name, n, attest)


def _ticket_put_in(events: list, i: int, data, agents: list[str]) -> None:
    """A NewSessionTicketSent or NewSessionTicketReceived (kept or not) put in at ``i`` on the connection
    of some event, or a ChannelEstablished made to resume ticket t1 (no_resumption's three findings)."""
    conns = sorted({e.args["conn"] for e in events if "conn" in e.args}) or ["c0"]
    chans = [n for n, e in enumerate(events) if e.name == "ChannelEstablished"]
    kind = data.draw(st.sampled_from(["NewSessionTicketSent", "NewSessionTicketReceived", "resume"]))
    if kind == "resume" and chans:
        n = data.draw(st.sampled_from(chans))
        events[n] = T.Event(0, events[n].agent, events[n].name, {**events[n].args, "resumed_from": "t1"})
        return
    if kind == "resume":  # no channel to resume with: a ticket issued instead
        kind = "NewSessionTicketSent"
    args = {"conn": data.draw(st.sampled_from(conns)), "ticket": "t1"}
    if kind == "NewSessionTicketReceived":
        args["kept"] = data.draw(st.booleans())
    events.insert(i, T.Event(0, data.draw(st.sampled_from(agents)), kind, args))


@SETTINGS
@given(name=st.sampled_from(sorted(CORPUS)), data=st.data())
def test_monitor_shortcuts_equal_the_scans_on_mutated_traces(name, data):
    """Events dropped, repeated, moved, their agent changed, reveals of the trace's agents put in (the
    committed traces have none), tickets put in; the findings of every monitor as without the shortcuts."""
    trace = T.parse_lines(CORPUS[name])
    events = list(trace.events)
    agents = sorted({e.agent for e in events} | {e.args.get("te") for e in events if e.args.get("te")})
    for _ in range(data.draw(st.integers(1, 4))):
        if not events:
            break
        i = data.draw(st.integers(0, len(events) - 1))
        how = data.draw(st.sampled_from(["drop", "duplicate", "move", "swap-agent", "reveal", "reveal", "ticket",
                                         "channel"]))
        chans = [e for e in events if e.name == "ChannelEstablished"]
        if how == "ticket":  # a ticket issued or kept on some event's connection, or a channel resuming one
            _ticket_put_in(events, i, data, agents)
        elif how == "channel" and chans:  # a second channel of one endpoint, requiring other sides
            e = data.draw(st.sampled_from(chans))
            attest = data.draw(st.sampled_from([[], ["client"], ["server"], ["client", "server"]]))
            events.insert(i, T.Event(0, e.agent, e.name, {**e.args, "attest": attest}))
        elif not _shuffled(events, i, how, data, agents):
            reveal = data.draw(st.sampled_from(["HostCompromised", "AttestationKeyRevealed"]))
            events.insert(i, T.Event(0, "adv", reveal, {"platform": data.draw(st.sampled_from(agents))}))
    header = {**trace.header, "adversaries": sorted({*trace.header.get("adversaries", ()), "adv"})}
    mutated = T.Trace(header, [T.Event(n, e.agent, e.name, dict(e.args)) for n, e in enumerate(events)], name)
    assert _monitor_findings(mutated, True) == _monitor_findings(mutated, False)


HEADERS = [json.loads(lines[0]) for lines in CORPUS.values()]


def test_the_header_check_in_line_equals_the_table_on_the_committed_headers():
    for obj in HEADERS:
        assert T._plainly_valid_header(obj) is T._plainly_valid_header_table(obj) is True


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(HEADERS), data=st.data())
def test_the_header_check_in_line_equals_the_table_on_mutated_headers(base, data):
    """Every key of _HEADER_PLAIN (and the profile parameters the checker reads, and keys inside the
    structured ones) dropped or set to odd values, one to three at a time."""
    obj = json.loads(json.dumps(base))
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from([*T._HEADER_PLAIN, "other", "profile.mitigations",
                                         "profile.passport_binding_echo", "profile.binding_check",
                                         "profile.mitigations.check_binding", "synthetic.base", "adversaries.0"]))
        value = data.draw(st.one_of(ODD, st.sampled_from([[], {}, ["a", 1], ["ok", "b"], [True], "local",
                                                          "delegated", T.TRACE_FORMAT, "header"])))
        where, _, rest = key.partition(".")
        if not rest:
            if data.draw(st.booleans()) and where in obj:
                del obj[where]
            else:
                obj[where] = value
            continue
        inner = obj.setdefault(where, {} if where != "adversaries" else [])
        if type(inner) is dict:
            inner_key, _, last = rest.partition(".")
            if last:
                inner = inner.setdefault(inner_key, {})
                if type(inner) is dict:
                    inner[last] = value
            else:
                inner[inner_key] = value
        elif type(inner) is list:
            inner.append(value)
    assert T._plainly_valid_header(obj) is T._plainly_valid_header_table(obj), obj


_FLAG_VALUES = st.one_of(st.booleans(), st.sampled_from([0, 1, 0.0, 2.5, "", "x", None, [], {}, [1]]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles=st.lists(st.fixed_dictionaries({}, optional={
    "mitigations": st.one_of(st.dictionaries(st.sampled_from(FLAGS), _FLAG_VALUES, max_size=5),
                             st.sampled_from([None, 0, False, ""])),
    "passport_binding_echo": _FLAG_VALUES, "binding_check": st.sampled_from(["local", "delegated", "x", None])}),
    min_size=1, max_size=6))
def test_flags_and_rows_remembered_per_profile_equal_reading_them(profiles):
    """World's flags and dispatch table, remembered by what flags_of reads, against flags_of and
    roles.dispatch of each profile, over profiles that repeat with equal values of other types."""
    from expat.model import world as W
    from expat.model.roles import dispatch
    for profile in profiles + profiles[::-1]:
        flags, rows = W._flags_and_rows(profile)
        assert flags == flags_of(profile)
        assert list(flags) == list(FLAGS)
        assert rows == dispatch(profile)


# -- World.arg_bytes: an argument's hex decoded once per trace (docs/performance.md, eighth pass) ----------

def _get_bytes_every_time(trace: T.Trace) -> dict:
    """check_trace with World.arg_bytes put back to ``ev.get_bytes`` (decoded at every ask)."""
    from expat.model.world import World

    kept, World.arg_bytes = World.arg_bytes, lambda w, ev, name: ev.get_bytes(name)
    try:
        return checker.check_trace(copy.deepcopy(trace)).to_json()
    finally:
        World.arg_bytes = kept


def _aiks() -> list[str]:
    return sorted({e.args["aik"] for lines in CORPUS.values() for e in T.parse_lines(lines).events
                   if isinstance(e.args.get("aik"), str)})


class _Str(str):
    pass


def test_arg_bytes_equals_get_bytes_asked_twice():
    w = checker.World(T.Trace({"profile": {}}, []))
    values = [*_aiks()[:3], "", "00", "ABcd", "ab cd", "abc", "zz", "é", _Str("0a0b"), None, 7, ["ab"], b"ab"]
    for _ in range(2):  # asked again: the remembered value, or the same error again
        for v in values:
            ev = T.Event(0, "a", "AikGenerated", {"aik": v})
            try:
                want = ev.get_bytes("aik")
            except ValueError as e:
                with pytest.raises(ValueError, match=re.escape(str(e))):
                    w.arg_bytes(ev, "aik")
                continue
            got = w.arg_bytes(ev, "aik")
            assert got == want and type(got) is type(want), v
        assert w.arg_bytes(T.Event(0, "a", "AikGenerated", {}), "aik") is None


def test_arg_bytes_decides_as_get_bytes_on_the_committed_traces_and_with_aiks_swapped():
    aiks = _aiks()
    assert len(aiks) > 1
    swapped_some = 0
    for name, lines in CORPUS.items():
        trace = T.parse_lines(lines)
        assert checker.check_trace(copy.deepcopy(trace)).to_json() == _get_bytes_every_time(trace), name
        ks = [i for i, e in enumerate(trace.events) if isinstance(e.args.get("aik"), str)]
        for k in ks[-2:]:  # one event's AIK another (same length), upper case, or not hex
            ev = trace.events[k]
            other = next(a for a in aiks if a != ev.args["aik"] and len(a) == len(ev.args["aik"]))
            for aik in (other, ev.args["aik"].upper(), ev.args["aik"][:-1] + "g"):
                events = list(trace.events)
                events[k] = T.Event(ev.seq, ev.agent, ev.name, {**ev.args, "aik": aik})
                mutated = T.Trace(trace.header, events, name)
                assert checker.check_trace(copy.deepcopy(mutated)).to_json() == _get_bytes_every_time(mutated), \
                    (name, k, aik)
                swapped_some += 1
    assert swapped_some


@SETTINGS
@given(name=st.sampled_from(sorted(CORPUS)), data=st.data())
def test_arg_bytes_decides_as_get_bytes_on_mutated_traces(name, data):
    trace = T.parse_lines(CORPUS[name])
    events = list(trace.events)
    aiks = _aiks()
    for _ in range(data.draw(st.integers(1, 3))):
        if not events:
            break
        i = data.draw(st.integers(0, len(events) - 1))
        how = data.draw(st.sampled_from(["drop", "duplicate", "move", "swap-agent", "aik"]))
        if not _shuffled(events, i, how, data, sorted({e.agent for e in events})):
            if "aik" in events[i].args:
                events[i] = T.Event(events[i].seq, events[i].agent, events[i].name,
                                    {**events[i].args, "aik": data.draw(st.sampled_from(aiks))})
    renumbered = [T.Event(n, e.agent, e.name, dict(e.args)) for n, e in enumerate(events)]
    mutated = T.Trace(trace.header, renumbered, trace.source)
    assert checker.check_trace(copy.deepcopy(mutated)).to_json() == _get_bytes_every_time(mutated)


# --- tenth pass: the recorded request read without splitting, the default judges ------------------

def _parse_request_by_split(msg: bytes) -> tuple:
    """relations.parse_request as it was: the message always split by split_handshake first."""
    from expat.model import relations as R
    msgs = R.split_handshake(msg)
    if len(msgs) != 1 or msgs[0][0] not in (13, 17):
        raise R.Malformed("not a single (Client)CertificateRequest")
    body = msgs[0][1]
    end = len(body)
    if end < 1 or 1 + body[0] + 2 > end:
        raise R.Malformed("truncated")
    off = 1 + body[0]
    ctx = body[1:off]
    stop = off + 2 + int.from_bytes(body[off:off + 2], "big")
    if stop > end:
        raise R.Malformed("truncated")
    if stop != end:
        raise R.Malformed("trailing bytes")
    block = body[off + 2:stop]
    exts, p, end = [], 0, len(block)
    while p < end:
        if p + 4 > end:
            raise R.Malformed("truncated")
        stop = p + 4 + int.from_bytes(block[p + 2:p + 4], "big")
        if stop > end:
            raise R.Malformed("truncated")
        exts.append((int.from_bytes(block[p:p + 2], "big"), block[p + 4:stop]))
        p = stop
    return msgs[0][0], ctx, exts


def _request_outcome(parse, msg: bytes) -> tuple:
    try:
        return ("ok", parse(msg))
    except Exception as e:  # the type and the wording must agree too
        return (type(e).__name__, str(e))


def test_parse_request_equals_splitting_first():
    """parse_request (one message spanning the bytes read without split_handshake) against the split it
    replaced: every committed request, and 30,000 mangled ones (lengths, types, bytes cut, put in,
    appended, a second message after the first)."""
    import random
    from expat.model import relations as R
    requests = sorted({json.loads(line)["args"]["request"] for lines in CORPUS.values() for line in lines[1:]
                       if '"request"' in line and isinstance(json.loads(line).get("args", {}).get("request"), str)})
    assert requests
    msgs = [bytes.fromhex(r) for r in requests]
    msgs += [b"", b"\x0d", b"\x0d\x00\x00", b"\x0d\x00\x00\x00", b"\x11\x00\x00\x03\x00\x00\x00",
             b"\x0d\x00\x00\x03\x00\x00\x00\x0d\x00\x00\x00", b"\x0c\x00\x00\x03\x00\x00\x00"]
    rng = random.Random(16)
    for _ in range(30_000):
        m = bytearray(rng.choice(msgs))
        how = rng.randrange(6)
        at = rng.randrange(len(m) + 1)
        if how == 0:
            del m[at:]
        elif how == 1 and m:
            m[min(at, len(m) - 1)] = rng.randrange(256)
        elif how == 2 and len(m) > 3:
            m[rng.randrange(1, 4)] = rng.randrange(256)  # the handshake length
        elif how == 3:
            m[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4)))
        elif how == 4:
            m += rng.choice(msgs)
        elif m:
            m[0] = rng.choice((13, 17, 12, 0, 255))
        msgs.append(bytes(m)) if len(msgs) < 400 else None
        m = bytes(m)
        assert _request_outcome(R.parse_request, m) == _request_outcome(_parse_request_by_split, m), m.hex()
    for m in msgs:
        assert _request_outcome(R.parse_request, m) == _request_outcome(_parse_request_by_split, m), m.hex()


def test_the_default_judges_equal_the_general_selection():
    """select_judges() (check_trace's default, answered without the sets) as select_judges([], []) (the
    general path), also with judges registered on and off by default and one replaced."""
    saved = dict(checker.JUDGES)
    try:
        for extra in ({}, {"zz": True}, {"zz": False}, {"aa": True, "zz": False}, {"monitors": False}):
            checker.JUDGES.clear()
            checker.JUDGES.update(saved)
            for name, default in extra.items():
                checker.register_judge(name, lambda w: [], default=default)
            assert checker.select_judges() == checker.select_judges([], []) == checker.select_judges((), [])
            assert type(checker.select_judges()) is tuple
    finally:
        checker.JUDGES.clear()
        checker.JUDGES.update(saved)


def test_the_normalised_header_check_in_line_equals_the_table():
    """The golden headers' ``normalised`` check written out in line (tenth pass) against the table's lambda:
    each of its lists replaced by odd values, a key dropped or added, the scheme changed."""
    golden = [h for h in HEADERS if "normalised" in h]
    assert golden
    odd = [[], ["a"], [1], ["a", 2], [None], [["a"]], "x", {}, None, True, ("a",)]
    for h in golden:
        n = h["normalised"]
        variants = [{**n, k: v} for k in ("renamed", "rewritten", "dropped", "scheme") for v in odd]
        variants += [{k: v for k, v in n.items() if k != drop} for drop in n]
        variants += [{**n, "extra": []}, {**n, "scheme": "expat-golden/2"}, [], "x", None, {}]
        for v in variants:
            header = {**h, "normalised": v}
            assert T._plainly_valid_header(header) == T._plainly_valid_header_table(header), v


def test_events_of_one_agent_share_the_agents_first_string():
    """parse_lines gives every event of an agent the first str read for that name (tenth pass: the World's
    tuple keys compare agents by identity); equal values, exact str, as the strict parse has them."""
    for name, lines in CORPUS.items():
        trace = T.parse_lines(lines)
        first: dict = {}
        for ev in trace.events:
            assert type(ev.agent) is str and first.setdefault(ev.agent, ev.agent) is ev.agent, name
        assert [e.agent for e in trace.events] == [e[1] for e in strict_parse(lines)[2]], name
