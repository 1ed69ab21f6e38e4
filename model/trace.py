"""Traces: JSON Lines, one header then one event per line (docs/trace-format.md).

    {"type":"header","format":"expat-trace/1","expat_version":...,"profile":{...},"revision":"02",
     "seed":"...","cipher_suite":"TLS_AES_128_GCM_SHA256","with_secrets":false,"adversaries":[],...}
    {"type":"event","seq":0,"agent":"server","event":"ChannelEstablished","args":{...}}

Lines are deterministic: keys sorted, compact separators, bytes as lowercase hex. Secret
arguments appear only in traces recorded ``with_secrets``. ``traces/schema.json`` is
:func:`json_schema` written out; every trace the recorder emits validates against it.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

try:  # parse_lines decodes event lines with orjson when it is installed (docs/performance.md, seventh pass)
    from orjson import JSONDecodeError as _OrjsonDecodeError
    from orjson import loads as _ORJSON_LOADS
except ImportError:  # pragma: no cover - the stdlib path alone decides every line
    _ORJSON_LOADS = None
    _OrjsonDecodeError = json.JSONDecodeError

from expat.layout import locate
from expat.model.events import (AR_STATUSES, CIPHER_SUITES, CMW_KINDS, EVENTS, SIDES, TRACE_FORMAT,
                                normalize_args)

HEADER_FIELDS = ("expat_version", "profile", "revision", "seed", "cipher_suite")


def dumps(obj: Any) -> str:
    """Canonical JSON: sorted keys, compact, ASCII."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True)
class Event:
    seq: int
    agent: str
    name: str
    args: dict[str, Any]

    def get_bytes(self, name: str) -> bytes | None:
        v = self.args.get(name)
        return bytes.fromhex(v) if isinstance(v, str) else None

    def to_json(self) -> dict[str, Any]:
        return {"type": "event", "seq": self.seq, "agent": self.agent, "event": self.name, "args": self.args}


@dataclass
class Trace:
    header: dict[str, Any]
    events: list[Event]
    source: str = ""
    # the events parse_lines schema-validated, by identity: the checker does not check their vocabulary
    # again (an event put in later is not among them and is checked)
    validated: tuple[Event, ...] = field(default=(), repr=False, compare=False)

    @property
    def profile(self) -> dict[str, Any]:
        return self.header.get("profile") or {}

    @property
    def adversaries(self) -> frozenset[str]:
        return frozenset(self.header.get("adversaries") or ())

    def lines(self) -> list[str]:
        return [dumps(self.header)] + [dumps(e.to_json()) for e in self.events]

    def text(self) -> str:
        return "\n".join(self.lines()) + "\n"

    def write(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.text(), encoding="ascii")
        return p


class TraceRecorder:
    """Collects events as the reference implementation runs.

    ``TraceRecorder(expat_version=..., profile=profile.to_dict(), revision=..., seed=..., cipher_suite=...,
    with_secrets=False)``; extra keyword arguments go into the header too (e.g. ``adversaries``,
    ``description``). ``emit`` validates arguments against the vocabulary and drops secrets unless
    ``with_secrets``.
    """

    def __init__(self, *, expat_version: str | None = None, profile: dict[str, Any] | None = None,
                 revision: str | None = None, seed: str = "", cipher_suite: str = "TLS_AES_128_GCM_SHA256",
                 with_secrets: bool = False, **extra: Any):
        if expat_version is None:
            import expat
            expat_version = expat.__version__
        profile = dict(profile or {})
        if revision is None:
            revision = str(profile.get("revision", "02"))
        self.with_secrets = bool(with_secrets)
        self.header: dict[str, Any] = {"type": "header", "format": TRACE_FORMAT,
                                       "expat_version": expat_version, "profile": profile,
                                       "revision": revision, "seed": str(seed), "cipher_suite": cipher_suite,
                                       "with_secrets": self.with_secrets}
        for k, v in extra.items():
            if k in self.header:
                raise ValueError(f"header field {k!r} given twice")
            self.header[k] = v
        self.events: list[Event] = []

    def emit(self, event: str, agent: str, /, **args: Any) -> Event:
        """Record ``event`` by ``agent``; arguments are checked against :data:`EVENTS`."""
        if not isinstance(agent, str) or not agent:
            raise ValueError("agent must be a non-empty string")
        norm = normalize_args(event, args, with_secrets=self.with_secrets)
        ev = Event(len(self.events), agent, event, norm)
        self.events.append(ev)
        return ev

    def trace(self) -> Trace:
        return Trace(dict(self.header), list(self.events))

    def lines(self) -> list[str]:
        return self.trace().lines()

    def text(self) -> str:
        return self.trace().text()

    def write(self, path: str | Path) -> Path:
        return self.trace().write(path)


# parse_lines's compiled validators build each Event with object.__new__ and one ``ev.__dict__.update`` of
# a dict literal (no call to the frozen dataclass's __init__ and its four object.__setattr__ calls). Not
# by four item stores into ``ev.__dict__``: that leaves the materialised, key-sharing instance dictionary
# that takes every later ``ev.args`` / ``ev.name`` / ``ev.agent`` read off CPython's specialised attribute
# read, and guards, World queries and monitors read an event's attributes dozens of times
# (docs/performance.md, fifth pass).
_new_event = object.__new__


class TraceFormatError(ValueError):
    """The file is not a well-formed expat trace (checked against traces/schema.json)."""


_DECODER = json.JSONDecoder()
_SCAN = _DECODER.scan_once  # the C scanner json.loads runs; decode() adds only the whitespace checks


def parse_lines(lines: Iterable[str], source: str = "") -> Trace:
    """Parse and schema-validate JSON Lines into a :class:`Trace`.

    The common line (one JSON object from its first character to its last, an event line the compiled
    validator of its event type accepts) is decoded by the C scanner and becomes an :class:`Event`
    in one call; every other line takes the strict path (``json.JSONDecoder.decode``, then
    ``jsonschema``), which decides and words the error.

    With orjson installed, an event line after the header is first decoded by ``orjson.loads`` and given
    to the same compiled validator; a line orjson refuses or the validator does not accept goes on to the
    path above unchanged, which decodes it again. A value orjson reads differently from ``json`` (an
    integer beyond 64 bits becomes a float) fails every validator's type test, so the outcome is the
    same (tests/test_check_fast_paths.py)."""
    validate = _line_validator()
    header: dict[str, Any] | None = None
    events: list[Event] = []
    append = events.append
    decode = _DECODER.decode
    scan = _SCAN
    line_validators = _LINE_VALIDATORS
    fast = None  # orjson.loads once the header is read (the header always takes the stdlib path)
    ok_ids: set[str] = set()   # strings of this trace the fast path found valid
    ok_hex: set[str] = set()
    # each agent name of this trace -> the first str read for it, which every later event of that agent
    # gets: the World's tuple keys (agent, conn, ...) then compare agents by identity (tenth pass)
    agents: dict[str, str] = {}
    for n, line in enumerate(lines, 1):
        if fast is not None and type(line) is str:  # orjson also takes bytes, which the scanner refuses
            try:
                obj = fast(line)
                ev = line_validators[obj["event"]](obj, ok_ids, ok_hex, agents)
            except (_OrjsonDecodeError, KeyError, TypeError):  # not JSON to orjson, not an object, no known event
                ev = None
            if ev is not None:
                append(ev)
                continue
        try:
            obj, end = scan(line, 0)
        except (StopIteration, json.JSONDecodeError):
            end = -1
        if end != len(line):  # blank, padded or not JSON: decode() words the error as json.loads would
            if not line.strip():
                continue
            try:
                obj = decode(line)
            except json.JSONDecodeError as e:
                raise TraceFormatError(f"{source}:{n}: not JSON: {e}") from None
        if header is not None:  # the common line: an event its type's validator accepts
            try:
                ev = line_validators[obj["event"]](obj, ok_ids, ok_hex, agents)
            except (KeyError, TypeError):  # not an object, no or an unknown event name
                ev = None
            if ev is not None:
                append(ev)
                continue
        error = validate(obj)
        if error:
            raise TraceFormatError(f"{source}:{n}: {error}")
        if header is None:
            if obj.get("type") != "header":
                raise TraceFormatError(f"{source}:{n}: first line must be the header")
            header = obj
            fast = _ORJSON_LOADS
            continue
        if obj.get("type") != "event":
            raise TraceFormatError(f"{source}:{n}: only one header allowed")
        events.append(Event(obj["seq"], obj["agent"], obj["event"], obj["args"]))
    if header is None:
        raise TraceFormatError(f"{source}: empty trace")
    return Trace(header, events, source, tuple(events))


@functools.lru_cache(maxsize=1)
def _line_validator() -> Callable[[Any], str | None]:
    """A validator of one trace line against :func:`json_schema`, built once.

    The schema is ``oneOf: [header, event]`` and an event line is ``oneOf`` the 25 event shapes, each
    fixed by its ``event`` constant; so a line whose ``type``/``event`` names one branch is valid iff
    it is valid against that branch alone. Validating just that branch gives the same verdict as the
    whole schema, without trying the other branches (``expat check`` throughput, docs/performance.md).
    Anything else goes to the whole schema, which also words the error.
    """
    import jsonschema

    schema = json_schema()
    defs = schema["$defs"]
    whole = jsonschema.Draft202012Validator(schema)

    def branch(sub: dict[str, Any]) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator({"$schema": schema["$schema"], "$defs": defs, **sub})

    header = branch({"$ref": "#/$defs/header"})
    base = {k: v for k, v in defs["event"].items() if k != "oneOf"}
    events = {d["title"]: branch({**base, "allOf": [d]}) for d in defs["event"]["oneOf"]}

    def first_error(v: jsonschema.Draft202012Validator, obj: Any) -> str | None:
        errors = sorted(v.iter_errors(obj), key=lambda e: list(e.path))
        return errors[0].message if errors else None

    def validate(obj: Any) -> str | None:
        v = None
        if isinstance(obj, dict):
            kind = obj.get("type")
            if kind == "header":
                if _plainly_valid_header(obj):
                    return None
                v = header
            elif kind == "event" and isinstance(obj.get("event"), str):
                v = events.get(obj["event"])
                if v is not None and _plainly_valid_event(obj):
                    return None
        if v is not None and v.is_valid(obj):
            return None
        return first_error(whole, obj) or "not a valid trace line"  # pragma: no branch

    return validate


_ID_RE = re.compile(r"-|[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}")
_LABEL_RE = re.compile(r"[\x20-\x7e]{1,249}")


def _nat(v: Any, top: int | None = None) -> bool:
    return type(v) is int and v >= 0 and (top is None or v <= top)


_HEX_BYTES = b"0123456789abcdef"


def _plain_hex(v: Any) -> bool:
    """Lowercase hex of whole bytes. ``bytes.translate`` deletes the hex digits in C through a 256-entry
    table; a regular expression or ``str.strip`` over a long authenticator is several times slower."""
    return type(v) is str and v.isascii() and not len(v) & 1 and not v.encode("ascii").translate(None, _HEX_BYTES)


_PLAIN_TYPES: dict[str, Callable[[Any], bool]] = {
    "bytes": _plain_hex,
    "id": lambda v: type(v) is str and _ID_RE.fullmatch(v) is not None,
    "label": lambda v: type(v) is str and _LABEL_RE.fullmatch(v) is not None,
    "int": _nat,
    "bool": lambda v: type(v) is bool,
    "side": lambda v: v in SIDES,
    "suite": lambda v: v in CIPHER_SUITES,
    "kind": lambda v: v in CMW_KINDS,
    "status": lambda v: v in AR_STATUSES,
    "sides": lambda v: type(v) is list and all(x in SIDES for x in v) and len(set(v)) == len(v),
    "ints": lambda v: type(v) is list and all(_nat(x, 0xFFFF) for x in v),
}

# The same tests as Python statements over a value ``$V`` (an argument read into a local), inlined into
# each event type's compiled line validator (one function call per line); each returns None (not plainly
# valid) when its test fails. Types not listed call their _PLAIN_TYPES entry. ``ok_hex`` / ``ok_ids``:
# strings of one trace already found valid (connection ids, contexts, agents recur on most lines); a
# string is added only after passing the full test, so membership alone proves a value valid, and it is
# asked first (an unhashable value raises TypeError there, which the validator answers with None). Hex
# longer than 256 characters (authenticators, certificates) is tested each time: hashing it for the set
# costs as much. Hex is tested with ``bytes.translate`` (C, a 256-entry table deletes the digits).
_HEX_TEST = "type($V) is not str or not $V.isascii() or len($V) & 1 or $V.encode('ascii').translate(None, _HEX_BYTES)"
_INLINE_TESTS = {
    "bytes": ["if len($V) > 256:", f"    if {_HEX_TEST}:", "        return None",
              "elif $V not in ok_hex:", f"    if {_HEX_TEST}:", "        return None", "    ok_hex.add($V)"],
    "id": ["if $V not in ok_ids:", "    if type($V) is not str or _ID_FULL($V) is None:", "        return None",
           "    ok_ids.add($V)"],
    "label": ["if type($V) is not str or _LABEL_FULL($V) is None:", "    return None"],
    "int": ["if type($V) is not int or $V < 0:", "    return None"],
    "bool": ["if type($V) is not bool:", "    return None"],
    "side": ["if $V not in _SIDES:", "    return None"],
    "suite": ["if $V not in _SUITES:", "    return None"],
    "kind": ["if $V not in _KINDS:", "    return None"],
    "status": ["if $V not in _STATUSES:", "    return None"],
    "sides": ["if type($V) is not list or not _SIDE_SET.issuperset($V) or len(set($V)) != len($V):", "    return None"],
    "ints": ["if type($V) is not list or not _INT_ONLY.issuperset(map(type, $V)) or ($V and (min($V) < 0 "
             "or max($V) > 0xFFFF)):", "    return None"],
}


def _validator_source(spec: Any) -> str:
    """Source of the compiled line validator of one event type (see :func:`_compile_line_validators`).

    The line has exactly the keys type, seq, agent, event, args (five keys, four of them looked up; the
    event's name selected this validator); ``args`` has every required argument and, counting the
    optional ones present, no other key."""
    required = [a for a in spec.args if not a.optional]
    body = ["def valid(obj, ok_ids, ok_hex, agents):",
            "    try:",
            "        if len(obj) != 5:",
            "            return None",
            "        seq, agent, args, kind = obj['seq'], obj['agent'], obj['args'], obj['type']",
            "        if kind != 'event' or type(seq) is not int or seq < 0 or type(args) is not dict:",
            "            return None"]
    body += ["        known = agents.get(agent)",
             "        if known is None:",
             "            if type(agent) is not str or _ID_FULL(agent) is None:",
             "                return None",
             "            agents[agent] = agent",
             "            ok_ids.add(agent)",
             "        else:",
             "            agent = known"]
    if required:
        body.append(f"        {', '.join(f'a_{a.name}' for a in required)}, = "
                    f"{', '.join(f'args[{a.name!r}]' for a in required)},")
    if len(required) < len(spec.args):
        body.append(f"        present = {len(required)}")
    for a in spec.args:
        test = _INLINE_TESTS.get(a.type, ["if not _PLAIN_TYPES[%r]($V):" % a.type, "    return None"])
        if a.optional:
            body += [f"        a_{a.name} = args.get({a.name!r}, _ABSENT)",
                     f"        if a_{a.name} is not _ABSENT:",
                     "            present += 1"]
            body += ["            " + line.replace("$V", f"a_{a.name}") for line in test]
        else:
            body += ["        " + line.replace("$V", f"a_{a.name}") for line in test]
    body += ["    except (KeyError, TypeError):  # a key missing, an unhashable value",
             "        return None",
             f"    if len(args) != {'present' if len(required) < len(spec.args) else len(required)}:",
             "        return None",
             "    ev = _new_event(_Event)",
             f"    ev.__dict__.update({{'seq': seq, 'agent': agent, 'name': {spec.name!r}, 'args': args}})",
             "    return ev"]
    return "\n".join(body) + "\n"


LineValidator = Callable[[dict[str, Any], set[str], set[str]], "Event | None"]


def _compile_line_validators() -> dict[str, LineValidator]:
    """One validator per event type, compiled once from :data:`EVENTS`: given a decoded line whose
    ``event`` names that type, the :class:`Event` it records if the event branch of the schema certainly
    accepts the line (every argument of the right literal type, the required ones present, no others),
    else None."""
    out: dict[str, LineValidator] = {}
    absent = object()
    for spec in EVENTS.values():
        ns: dict[str, Any] = {
            "_ABSENT": absent, "_HEX_BYTES": _HEX_BYTES, "_ID_FULL": _ID_RE.fullmatch,
            "_LABEL_FULL": _LABEL_RE.fullmatch, "_PLAIN_TYPES": _PLAIN_TYPES, "_SIDES": SIDES,
            "_SUITES": CIPHER_SUITES, "_KINDS": CMW_KINDS, "_STATUSES": AR_STATUSES, "_SIDE_SET": frozenset(SIDES), "_INT_ONLY": frozenset((int,)),
            "_new_event": _new_event,
            "_Event": Event}
        exec(compile(_validator_source(spec), f"<line validator of {spec.name}>", "exec"), ns)
        out[spec.name] = ns["valid"]
    return out


_LINE_VALIDATORS = _compile_line_validators()


def _plainly_valid_event(obj: dict[str, Any], ok_ids: set[str] | None = None, ok_hex: set[str] | None = None) -> bool:
    """A conservative, literal reading of the event branch of the schema, from the same vocabulary: the
    compiled line validator parse_lines runs.

    True only for lines the schema certainly accepts (plain ints, no odd strings); anything else
    returns False and goes to jsonschema, which decides. tests/test_trace_validation.py checks that
    this never says True where jsonschema says no. ``ok_ids`` / ``ok_hex``: ids and hex strings of the
    same trace already found valid (parse_lines keeps them per trace).
    """
    try:
        valid = _LINE_VALIDATORS[obj["event"]]
    except (KeyError, TypeError):
        return False
    return valid(obj, set() if ok_ids is None else ok_ids, set() if ok_hex is None else ok_hex, {}) is not None


_STR_ONLY = frozenset((str,))  # _STR_ONLY.issuperset(map(type, xs)): every x is exactly a str (in C)
_BOOL_ONLY = frozenset((bool,))
BINDING_CHECKS = ("local", "delegated")  # profile binding_check (draft -04 Sec. 5.1)


def _profile_typed(profile: dict) -> bool:
    """The profile parameters the checker reads (model.roles.flag) have the types the schema gives them."""
    m = profile.get("mitigations", {})
    return (type(m) is dict and _BOOL_ONLY.issuperset(map(type, m.values()))
            and type(profile.get("passport_binding_echo", True)) is bool
            and profile.get("binding_check", "local") in BINDING_CHECKS)
_HEADER_PLAIN: dict[str, Callable[[Any], bool]] = {
    "type": lambda v: v == "header",
    "format": lambda v: v == TRACE_FORMAT,
    "expat_version": lambda v: type(v) is str,
    "profile": lambda v: type(v) is dict and _profile_typed(v),
    "revision": lambda v: type(v) is str,
    "seed": lambda v: type(v) is str,
    "cipher_suite": lambda v: v in CIPHER_SUITES,
    "with_secrets": lambda v: type(v) is bool,
    "adversaries": lambda v: type(v) is list and all(_PLAIN_TYPES["id"](x) for x in v),
    "description": lambda v: type(v) is str,
    "expect": lambda v: type(v) is dict,
    "attack": lambda v: type(v) is str,
    "synthetic": lambda v: type(v) is dict and {"mutation", "expect", "base"} <= v.keys()
    and all(type(v[k]) is str for k in ("mutation", "expect", "base")),
    "mitigations_off": lambda v: type(v) is list and _STR_ONLY.issuperset(map(type, v)),
    "normalised": lambda v: type(v) is dict and v.keys() == {"scheme", "renamed", "rewritten", "dropped"}
    and v["scheme"] == "expat-golden/1"
    and all(type(v[k]) is list and _STR_ONLY.issuperset(map(type, v[k])) for k in ("renamed", "rewritten", "dropped")),
}
_HEADER_REQUIRED = frozenset(("type", "format", "expat_version", "profile", "revision", "seed", "cipher_suite",
                              "with_secrets"))


_NOT_GIVEN = object()
_NORMALISED_KEYS = frozenset(("scheme", "renamed", "rewritten", "dropped"))


def _plainly_valid_header(obj: dict[str, Any]) -> bool:
    """The header branch of the schema read literally, like :func:`_plainly_valid_event`: True only for
    headers the schema certainly accepts; keys the schema does not name are allowed (as there).

    :data:`_HEADER_PLAIN` written out in line, once per trace (:func:`_plainly_valid_header_table` is the
    table read key by key; tests/test_check_fast_paths.py compares the two)."""
    if not _HEADER_REQUIRED <= obj.keys():
        return False
    profile = obj["profile"]
    if (obj["type"] != "header" or obj["format"] != TRACE_FORMAT or type(obj["expat_version"]) is not str
            or type(profile) is not dict or type(obj["revision"]) is not str or type(obj["seed"]) is not str
            or obj["cipher_suite"] not in CIPHER_SUITES or type(obj["with_secrets"]) is not bool):
        return False
    m = profile.get("mitigations", _NOT_GIVEN)  # _profile_typed in line
    if m is not _NOT_GIVEN and (type(m) is not dict or not _BOOL_ONLY.issuperset(map(type, m.values()))):
        return False
    if (type(profile.get("passport_binding_echo", True)) is not bool
            or profile.get("binding_check", "local") not in BINDING_CHECKS):
        return False
    if len(obj) == len(_HEADER_REQUIRED):
        return True
    get = obj.get
    v = get("adversaries", _NOT_GIVEN)
    if v is not _NOT_GIVEN and not (type(v) is list and _STR_ONLY.issuperset(map(type, v))
                                    and all(_ID_RE.fullmatch(x) is not None for x in v)):
        return False
    for k in ("description", "attack"):
        v = get(k, _NOT_GIVEN)
        if v is not _NOT_GIVEN and type(v) is not str:
            return False
    v = get("expect", _NOT_GIVEN)
    if v is not _NOT_GIVEN and type(v) is not dict:
        return False
    v = get("synthetic", _NOT_GIVEN)
    if v is not _NOT_GIVEN and not (type(v) is dict and {"mutation", "expect", "base"} <= v.keys()
                                    and all(type(v[k]) is str for k in ("mutation", "expect", "base"))):
        return False
    v = get("mitigations_off", _NOT_GIVEN)
    if v is not _NOT_GIVEN and not (type(v) is list and _STR_ONLY.issuperset(map(type, v))):
        return False
    v = get("normalised", _NOT_GIVEN)  # _HEADER_PLAIN["normalised"] in line (golden traces have it)
    if v is _NOT_GIVEN:
        return True
    if type(v) is not dict or v.keys() != _NORMALISED_KEYS or v["scheme"] != "expat-golden/1":
        return False
    renamed, rewritten, dropped = v["renamed"], v["rewritten"], v["dropped"]
    return (type(renamed) is list and _STR_ONLY.issuperset(map(type, renamed)) and type(rewritten) is list
            and _STR_ONLY.issuperset(map(type, rewritten)) and type(dropped) is list
            and _STR_ONLY.issuperset(map(type, dropped)))


def _plainly_valid_header_table(obj: dict[str, Any]) -> bool:
    """:func:`_plainly_valid_header` read from the table, key by key."""
    if not _HEADER_REQUIRED <= obj.keys():
        return False
    plain = _HEADER_PLAIN
    for k, v in obj.items():
        check = plain.get(k)
        if check is not None and not check(v):
            return False
    return True


def load_trace(path: str | Path) -> Trace:
    p = Path(path)
    return parse_lines(p.read_text(encoding="utf-8").splitlines(), str(p))


# --- JSON Schema ------------------------------------------------------------------------------

def _arg_schema(t: str) -> dict[str, Any]:
    return {
        "bytes": {"$ref": "#/$defs/hex"},
        "id": {"$ref": "#/$defs/id"},
        "int": {"type": "integer", "minimum": 0},
        "bool": {"type": "boolean"},
        "side": {"enum": list(SIDES)},
        "suite": {"enum": list(CIPHER_SUITES)},
        "kind": {"enum": list(CMW_KINDS)},
        "status": {"enum": list(AR_STATUSES)},
        "sides": {"type": "array", "items": {"enum": list(SIDES)}, "uniqueItems": True},
        "label": {"type": "string", "pattern": "^[\\x20-\\x7e]{1,249}$"},
        "ints": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65535}},
    }[t]


def json_schema() -> dict[str, Any]:
    """The schema of one trace line (header or event), generated from the vocabulary."""
    event_defs = []
    for spec in EVENTS.values():
        props = {a.name: dict(_arg_schema(a.type), description=a.doc + (" (secret: only with --with-secrets)"
                                                                        if a.secret else ""))
                 for a in spec.args}
        event_defs.append({
            "title": spec.name,
            "description": f"{spec.summary} [{', '.join(spec.roles)}; {spec.section}]",
            "properties": {"event": {"const": spec.name},
                           "args": {"type": "object", "properties": props,
                                    "required": [a.name for a in spec.args if not a.optional],
                                    "additionalProperties": False}},
        })
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/expat/expat/traces/schema.json",
        "title": "expat trace line",
        "description": "An expat trace is JSON Lines: one header line, then one event line per protocol step. "
                       "Generated from model/events.py; see docs/trace-format.md.",
        "oneOf": [{"$ref": "#/$defs/header"}, {"$ref": "#/$defs/event"}],
        "$defs": {
            "hex": {"type": "string", "pattern": "^([0-9a-f]{2})*$"},
            "id": {"type": "string", "pattern": "^(-|[A-Za-z0-9][A-Za-z0-9_.:\\-]{0,127})$"},
            "header": {
                "type": "object",
                "required": ["type", "format", "expat_version", "profile", "revision", "seed",
                             "cipher_suite", "with_secrets"],
                "properties": {
                    "type": {"const": "header"},
                    "format": {"const": TRACE_FORMAT},
                    "expat_version": {"type": "string"},
                    "profile": {"type": "object", "description": "every parameter of the profile "
                                                                 "(expat.profile.Profile.to_dict()); the "
                                                                 "ones the checker reads are typed",
                                "properties": {
                                    "mitigations": {"type": "object", "additionalProperties": {"type": "boolean"},
                                                    "description": "mitigation flags (model.roles.FLAGS)"},
                                    "passport_binding_echo": {"type": "boolean"},
                                    "binding_check": {"enum": list(BINDING_CHECKS)},
                                }},
                    "revision": {"type": "string"},
                    "seed": {"type": "string"},
                    "cipher_suite": {"enum": list(CIPHER_SUITES)},
                    "with_secrets": {"type": "boolean"},
                    "adversaries": {"type": "array", "items": {"$ref": "#/$defs/id"},
                                    "description": "agents controlled by the adversary (not held to the "
                                                   "honest role tables)"},
                    "description": {"type": "string"},
                    "expect": {"type": "object", "description": "synthetic examples only: the outcome "
                                                                "tests expect"},
                    "attack": {"type": "string", "description": "attack runs: the attack's name"},
                    "synthetic": {"type": "object", "description": "synthetic corpora (expat traces synth): the "
                                                                   "mutation, the property it breaks (expect, "
                                                                   "\"\" = benign) and the base trace",
                                  "required": ["mutation", "expect", "base"],
                                  "properties": {"mutation": {"type": "string"}, "expect": {"type": "string"},
                                                 "base": {"type": "string"}}},
                    "mitigations_off": {"type": "array", "items": {"type": "string"},
                                        "description": "attack runs: mitigations switched off through the "
                                                       "profile (empty in the mitigated run)"},
                    "normalised": {
                        "type": "object",
                        "description": "golden traces (traces/golden.py): values that depend on TLS "
                                       "randomness were replaced consistently by deterministic stand-ins",
                        "required": ["scheme", "renamed", "rewritten", "dropped"],
                        "properties": {
                            "scheme": {"const": "expat-golden/1"},
                            "renamed": {"type": "array", "items": {"type": "string"},
                                        "description": "argument names whose values are stand-ins"},
                            "rewritten": {"type": "array", "items": {"type": "string"},
                                          "description": "encoded messages with stand-in values spliced in"},
                            "dropped": {"type": "array", "items": {"type": "string"},
                                        "description": "optional arguments left out"},
                        },
                        "additionalProperties": False,
                    },
                },
                "additionalProperties": True,
            },
            "event": {
                "type": "object",
                "required": ["type", "seq", "agent", "event", "args"],
                "properties": {"type": {"const": "event"}, "seq": {"type": "integer", "minimum": 0},
                               "agent": {"$ref": "#/$defs/id"}, "event": {"enum": list(EVENTS)},
                               "args": {"type": "object"}},
                "additionalProperties": False,
                "oneOf": event_defs,
            },
        },
    }


SCHEMA_PATH = locate("traces/schema.json")


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
