"""RATS Conceptual Message Wrappers (draft-ietf-rats-msg-wrap-23 §3 = RFC 9999 §3).

A CMW is a tree: leaves are records ``[type, value, ? ind]`` (§3.1) or tags ``#6.TN(cf)(bstr)``
(§3.2); inner nodes are collections (§3.3), a CBOR map / JSON object with an optional "__cmwc_t"
type. Both serializations are encoded and decoded here; :func:`decode` demultiplexes on the first
byte (§3.4). Decoding is strict: anything outside the CDDL of §6 is a DecodeError from a named check.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Union

import cbor2

from expat.checks import check
from expat.errors import Alert
from expat.reference.attestation import cbor

# --- constants -------------------------------------------------------------------------------------

# cmw_data<1..2^16-1> inside an extension_data<0..2^16-1> that also holds the uint16 length (DIGEST §3.2, §3.8 #23).
MAX_CMW_SIZE = 65533
MAX_DEPTH = 4  # collection nesting cap (§3.3 allows implementations to limit it)
MAX_JSON_DEPTH = MAX_DEPTH + 2  # collections, then a record array (RFC 8259 §9 lets parsers cap nesting)

# ind bits (§3.1.1; RFC 9999 §9.4)
IND_REFERENCE_VALUES = 1 << 0
IND_ENDORSEMENTS = 1 << 1
IND_EVIDENCE = 1 << 2
IND_ATTESTATION_RESULTS = 1 << 3
IND_APPRAISAL_POLICY = 1 << 4
IND_NAMES = {IND_REFERENCE_VALUES: "reference-values", IND_ENDORSEMENTS: "endorsements",
             IND_EVIDENCE: "evidence", IND_ATTESTATION_RESULTS: "attestation-results",
             IND_APPRAISAL_POLICY: "appraisal-policy"}

COLLECTION_TYPE_KEY = "__cmwc_t"

# Media types (RFC 9999 §9.5/§9.6 C-Fs)
CMW_CBOR, CMW_JSON, CMW_COSE, CMW_JWS = ("application/cmw+cbor", "application/cmw+json",
                                         "application/cmw+cose", "application/cmw+jws")
CF_CMW_CBOR, CF_CMW_JSON, CF_CMW_COSE, CF_CMW_JWS = 273, 274, 275, 276

# Evidence: an EAT in CWT form (RFC 9782 registered application/eat+cwt) with expat's EAT profile.
EVIDENCE_EAT_PROFILE = "tag:expat.example,2026:evidence#1"
EVIDENCE_MEDIA_TYPE = f'application/eat+cwt; eat_profile="{EVIDENCE_EAT_PROFILE}"'
# EAR (draft-ietf-rats-ear-03 §5). -03 spells the base type "application/eat-cwt"; the type registered
# by RFC 9782 is "application/eat+cwt". Profile.ear_media_type picks which one we emit; both are accepted.
EAR_PROFILE = "tag:ietf.org,2026:rats/ear#03"
EAR_MEDIA_TYPE_EAR03 = f'application/eat-cwt; eat_profile="{EAR_PROFILE}"'
EAR_MEDIA_TYPE_RFC9782 = f'application/eat+cwt; eat_profile="{EAR_PROFILE}"'
EAR_MEDIA_TYPES = {"ear-03": EAR_MEDIA_TYPE_EAR03, "rfc9782": EAR_MEDIA_TYPE_RFC9782}

# TN() range (§3.2, RFC 9277 App. B)
TN_MIN, TN_MAX = 1668546817, 1668612095
MAX_TN_CF = 65024

# --- checks ----------------------------------------------------------------------------------------

CMW_SIZE = check("cmw-size", "draft-fossati-seat-expat-02 §3", Alert.decode_error,
                 "a CMW fits cmw_data<1..2^16-1> within its extension (at most 65533 bytes, not empty)")
CMW_DEMUX = check("cmw-3.4-demux", "RFC 9999 §3.4", Alert.decode_error,
                  "the first byte identifies a CBOR record, tag or collection, or a JSON record or collection")
CMW_RECORD = check("cmw-3.1-record", "RFC 9999 §3.1", Alert.decode_error,
                   "a record is [type, value, ? ind]: media-type text or 2-byte C-F (CBOR only), bytes / "
                   "base64url without padding (JSON), ind a non-zero uint of at most 32 bits")
CMW_TAG = check("cmw-3.2-tag", "RFC 9999 §3.2", Alert.decode_error,
                "a tag CMW has a TN-range tag number wrapping a byte string")
CMW_COLLECTION = check("cmw-3.3-collection", "RFC 9999 §3.3", Alert.decode_error,
                       "a collection has >= 1 entry, int/text labels (text only in JSON), __cmwc_t an "
                       "absolute URI or OID used only as the type, nesting within the depth cap")
CMW_JSON_SYNTAX = check("cmw-json-syntax", "RFC 8259 §2", Alert.decode_error,
                        "a JSON CMW is valid UTF-8 JSON without duplicate member names")
CMW_JSON_DEPTH = check("expat-limit-json-depth", "RFC 8259 §9; RFC 9999 §3.3", Alert.decode_error,
                       "a JSON CMW nests arrays and objects at most MAX_JSON_DEPTH deep (checked before parsing)")

# --- data model ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """cbor-record / json-record (§3.1). ``type`` is a media type (str) or a CoAP C-F (int, CBOR only)."""

    type: Union[int, str]
    value: bytes
    ind: int | None = None

    @property
    def cm_types(self) -> list[str]:
        return [n for bit, n in IND_NAMES.items() if self.ind and self.ind & bit]


@dataclass(frozen=True)
class Tag:
    """Tag CMW (§3.2): CBOR tag ``number`` = TN(cf) over a byte string (CBOR only)."""

    number: int
    value: bytes

    @property
    def content_format(self) -> int:
        return cf_from_tn(self.number)


@dataclass(frozen=True)
class Collection:
    """Collection CMW (§3.3): labelled CMWs plus an optional collection type."""

    entries: dict = field(default_factory=dict)  # label (int | str) -> CMW
    ctype: str | None = None


CMW = Union[Record, Tag, Collection]


def tn(cf: int) -> int:
    """TN(cf) = 0x63740101 + (cf // 255) * 256 + cf % 255 (RFC 9277 App. B; DIGEST §4.2).

    Defined for C-F 0..65024, which maps onto the tag range [TN_MIN, TN_MAX]; the C-Fs above 65024
    (experimental use) have no TN tag."""
    if not 0 <= cf <= MAX_TN_CF:
        raise ValueError(f"C-F {cf} has no TN() tag (0..{MAX_TN_CF})")
    return 0x63740101 + (cf // 255) * 256 + cf % 255


def cf_from_tn(number: int) -> int:
    """Inverse of :func:`tn`; DecodeError if ``number`` is not a TN() output."""
    CMW_TAG.require(TN_MIN <= number <= TN_MAX, f"tag {number} outside the TN range")
    off = number - 0x63740101
    hi, lo = divmod(off, 256)
    CMW_TAG.require(lo < 255, f"tag {number} is not a TN() value")
    cf = hi * 255 + lo
    CMW_TAG.require(cf <= MAX_TN_CF and tn(cf) == number, f"tag {number} is not a TN() value")
    return cf


# --- media type syntax (§6 Content-Type ABNF) --------------------------------------------------------

_RESTRICTED = r"[A-Za-z0-9][A-Za-z0-9!#$&\-^_.+]{0,126}"
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[ \x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"'
_MEDIA_TYPE = re.compile(rf"{_RESTRICTED}/{_RESTRICTED}(?: *; *{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))*")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_OID = re.compile(r"([0-2])((\.0)|(\.[1-9][0-9]*))*")
_ABS_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s#]*(?:#[^\s]*)?")


def is_media_type(s: str) -> bool:
    return isinstance(s, str) and _MEDIA_TYPE.fullmatch(s) is not None


def base_media_type(s: str) -> str:
    """"application/eat+cwt; eat_profile=..." -> "application/eat+cwt" (lower-cased)."""
    return s.split(";", 1)[0].strip().lower()


def media_type_param(s: str, name: str) -> str | None:
    """Value of parameter ``name`` (unquoted), or None."""
    for part in s.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.strip().lower() == name.lower():
            v = v.strip()
            return v[1:-1].replace('\\"', '"') if v.startswith('"') else v
    return None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s: str) -> bytes:
    CMW_RECORD.require(isinstance(s, str) and _B64URL.fullmatch(s) is not None,
                       "JSON record value is not base64url without padding")
    CMW_RECORD.require(len(s) % 4 != 1, "JSON record value has an impossible base64url length")
    try:
        out = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        CMW_RECORD.fail("JSON record value is not base64url")
    CMW_RECORD.require(b64url(out) == s, "JSON record value is not canonical base64url")
    return out


# --- validation shared by both serializations ---------------------------------------------------------

def _check_record(r: Record, *, json_form: bool) -> None:
    if json_form:
        CMW_RECORD.require(isinstance(r.type, str), "JSON record type must be a media-type string")
    CMW_RECORD.require(isinstance(r.type, (int, str)) and not isinstance(r.type, bool),
                       "record type must be a uint C-F or a media type")
    if isinstance(r.type, int):
        CMW_RECORD.require(0 <= r.type <= 0xFFFF, f"C-F {r.type} is not a 2-byte uint")
    else:
        CMW_RECORD.require(is_media_type(r.type), f"record type {r.type!r} is not a media type")
    CMW_RECORD.require(isinstance(r.value, bytes), "record value must be a byte string")
    if r.ind is not None:
        CMW_RECORD.require(isinstance(r.ind, int) and not isinstance(r.ind, bool) and 1 <= r.ind <= 0xFFFFFFFF,
                           f"ind {r.ind!r} must be a non-zero uint of at most 32 bits")


def _check_ctype(ctype: object) -> None:
    CMW_COLLECTION.require(isinstance(ctype, str) and (_OID.fullmatch(ctype) is not None
                                                       or _ABS_URI.fullmatch(ctype) is not None),
                           f"__cmwc_t {ctype!r} is neither an absolute URI nor an OID")


# --- CBOR ------------------------------------------------------------------------------------------

def _collection_header(c: "Collection", depth: int) -> dict:
    """Checks shared by both serializations of a collection (§3.3); returns the map with its type."""
    CMW_COLLECTION.require(depth < MAX_DEPTH, "collection nested too deeply")
    CMW_COLLECTION.require(len(c.entries) >= 1, "collection without entries")
    out: dict = {}
    if c.ctype is not None:
        _check_ctype(c.ctype)
        out[COLLECTION_TYPE_KEY] = c.ctype
    return out


def _to_cbor_obj(c: CMW, depth: int = 0):
    if isinstance(c, Record):
        _check_record(c, json_form=False)
        return [c.type, c.value] + ([c.ind] if c.ind is not None else [])
    if isinstance(c, Tag):
        cf_from_tn(c.number)
        CMW_TAG.require(isinstance(c.value, bytes), "tag CMW content must be bytes")
        return cbor2.CBORTag(c.number, c.value)
    if isinstance(c, Collection):
        out: dict = _collection_header(c, depth)
        for label, item in c.entries.items():
            CMW_COLLECTION.require(isinstance(label, (int, str)) and not isinstance(label, bool)
                                   and label != COLLECTION_TYPE_KEY, f"bad collection label {label!r}")
            out[label] = _to_cbor_obj(item, depth + 1)
        return out
    raise TypeError(f"not a CMW: {type(c).__name__}")


def encode_cbor(c: CMW) -> bytes:
    data = cbor2.dumps(_to_cbor_obj(c))
    CMW_SIZE.require(len(data) <= MAX_CMW_SIZE, f"CMW of {len(data)} bytes exceeds {MAX_CMW_SIZE}")
    return data


def _from_cbor_obj(obj, depth: int = 0) -> CMW:
    if isinstance(obj, list):
        CMW_RECORD.require(len(obj) in (2, 3), f"record with {len(obj)} elements")
        r = Record(obj[0], obj[1], obj[2] if len(obj) == 3 else None)
        _check_record(r, json_form=False)
        return r
    if isinstance(obj, cbor2.CBORTag):
        cf_from_tn(obj.tag)
        CMW_TAG.require(isinstance(obj.value, bytes), "tag CMW content must be a byte string")
        return Tag(obj.tag, obj.value)
    if isinstance(obj, dict):
        CMW_COLLECTION.require(depth < MAX_DEPTH, f"collection nesting deeper than {MAX_DEPTH}")
        ctype = obj.get(COLLECTION_TYPE_KEY)
        if COLLECTION_TYPE_KEY in obj:
            _check_ctype(ctype)
        entries = {}
        for label, item in obj.items():
            if label == COLLECTION_TYPE_KEY:
                continue
            CMW_COLLECTION.require(isinstance(label, (int, str)), f"bad collection label {label!r}")
            entries[label] = _from_cbor_obj(item, depth + 1)
        CMW_COLLECTION.require(len(entries) >= 1, "collection without entries")
        return Collection(entries, ctype)
    CMW_DEMUX.fail(f"CBOR item of type {type(obj).__name__} is not a CMW")


def decode_cbor(data: bytes) -> CMW:
    _check_size(data)
    first = data[0]
    CMW_DEMUX.require(first in (0x82, 0x83, 0x9F, 0xDA, 0xBF) or 0xA0 <= first <= 0xBB,
                      f"first byte 0x{first:02x} does not start a CBOR CMW")
    return _from_cbor_obj(cbor.loads(data, max_depth=2 * MAX_DEPTH + 2))


# --- JSON ------------------------------------------------------------------------------------------

def _to_json_obj(c: CMW, depth: int = 0):
    if isinstance(c, Record):
        _check_record(c, json_form=True)
        CMW_RECORD.require(len(c.value) > 0, "a JSON record value is a non-empty base64url string (§6)")
        return [c.type, b64url(c.value)] + ([c.ind] if c.ind is not None else [])
    if isinstance(c, Tag):
        CMW_TAG.fail("tag CMWs exist only in CBOR")
    if isinstance(c, Collection):
        out: dict = _collection_header(c, depth)
        for label, item in c.entries.items():
            CMW_COLLECTION.require(isinstance(label, str) and label != COLLECTION_TYPE_KEY,
                                   f"JSON collection label {label!r} must be text")
            out[label] = _to_json_obj(item, depth + 1)
        return out
    raise TypeError(f"not a CMW: {type(c).__name__}")


def encode_json(c: CMW) -> bytes:
    data = json.dumps(_to_json_obj(c), separators=(",", ":"), ensure_ascii=True).encode()
    CMW_SIZE.require(len(data) <= MAX_CMW_SIZE, f"CMW of {len(data)} bytes exceeds {MAX_CMW_SIZE}")
    return data


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        CMW_JSON_SYNTAX.require(k not in out, f"duplicate JSON member {k!r}")
        out[k] = v
    return out


def _no_constants(name: str):
    CMW_JSON_SYNTAX.fail(f"non-JSON constant {name}")


def _from_json_obj(obj, depth: int = 0) -> CMW:
    if isinstance(obj, list):
        CMW_RECORD.require(len(obj) in (2, 3), f"record with {len(obj)} elements")
        CMW_RECORD.require(isinstance(obj[1], str), "JSON record value must be a string")
        r = Record(obj[0], b64url_decode(obj[1]), obj[2] if len(obj) == 3 else None)
        _check_record(r, json_form=True)
        return r
    if isinstance(obj, dict):
        CMW_COLLECTION.require(depth < MAX_DEPTH, f"collection nesting deeper than {MAX_DEPTH}")
        ctype = obj.get(COLLECTION_TYPE_KEY)
        if COLLECTION_TYPE_KEY in obj:
            _check_ctype(ctype)
        entries = {k: _from_json_obj(v, depth + 1) for k, v in obj.items() if k != COLLECTION_TYPE_KEY}
        CMW_COLLECTION.require(len(entries) >= 1, "collection without entries")
        return Collection(entries, ctype)
    CMW_DEMUX.fail(f"JSON value of type {type(obj).__name__} is not a CMW")


_JSON_STRUCTURE = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def json_depth(data: bytes, limit: int) -> int:
    """Deepest array/object nesting in ``data`` (strings skipped), stopping once ``limit`` is passed.

    Linear in the input; run before ``json.loads`` so a deeply nested text costs no recursion."""
    depth = deepest = 0
    for m in _JSON_STRUCTURE.finditer(data):
        c = m.group()
        if c in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif c in (b"]", b"}"):
            depth -= 1
    return deepest


def decode_json(data: bytes) -> CMW:
    _check_size(data)
    CMW_DEMUX.require(data[:1] in (b"[", b"{"), "a JSON CMW starts with '[' or '{' (no leading whitespace)")
    deepest = json_depth(bytes(data), MAX_JSON_DEPTH)
    CMW_JSON_DEPTH.require(deepest <= MAX_JSON_DEPTH, "JSON nesting deeper than {}", MAX_JSON_DEPTH)
    try:
        text = data.decode("utf-8")
        obj = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        CMW_JSON_SYNTAX.fail(f"not valid JSON: {e}")
    return _from_json_obj(obj)


# --- demux (§3.4) ----------------------------------------------------------------------------------

def sniff(data: bytes) -> str:
    """"cbor-record" | "cbor-tag" | "cbor-collection" | "json-record" | "json-collection" (§3.4)."""
    _check_size(data)
    b = data[0]
    if b in (0x82, 0x83, 0x9F):
        return "cbor-record"
    if b == 0xDA:
        return "cbor-tag"
    if b == 0x5B:
        return "json-record"
    if b == 0x7B:
        return "json-collection"
    if 0xA0 <= b <= 0xBB or b == 0xBF:
        return "cbor-collection"
    CMW_DEMUX.fail(f"first byte 0x{b:02x} does not start a CMW")


def decode(data: bytes) -> tuple[CMW, str]:
    """Decode a CMW of either serialization; returns (cmw, "cbor" | "json")."""
    kind = sniff(data)
    if kind.startswith("json"):
        return decode_json(data), "json"
    return decode_cbor(data), "cbor"


def encode(c: CMW, serialization: str = "cbor") -> bytes:
    if serialization == "cbor":
        return encode_cbor(c)
    if serialization == "json":
        return encode_json(c)
    raise ValueError(f"unknown CMW serialization {serialization!r}")


def _check_size(data: bytes) -> None:
    CMW_SIZE.require(isinstance(data, (bytes, bytearray)) and len(data) >= 1, "empty CMW")
    CMW_SIZE.require(len(data) <= MAX_CMW_SIZE, f"CMW of {len(data)} bytes exceeds {MAX_CMW_SIZE}")


def single_record(c: CMW, *, ind: int | None = None) -> Record:
    """The one record a cmw_attestation carries (a record, or a one-entry collection holding one)."""
    if isinstance(c, Collection) and len(c.entries) == 1:
        c = next(iter(c.entries.values()))
    CMW_RECORD.require(isinstance(c, Record), "expected a single CMW record")
    if ind is not None and c.ind is not None:
        CMW_RECORD.require(c.ind & ind, f"record ind {c.ind} does not indicate {IND_NAMES.get(ind, ind)}")
    return c
