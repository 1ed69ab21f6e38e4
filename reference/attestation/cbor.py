"""A small strict CBOR decoder (RFC 8949) for everything the attestation layer parses.

cbor2 is used for encoding; decoding goes through :func:`loads` so that untrusted input gets the
same treatment everywhere: well-formedness (§3), no trailing bytes, a nesting cap, no duplicate map
keys (§5.6), map keys limited to int / text / bytes, and tags returned as raw ``cbor2.CBORTag``
without interpretation (no bignum or date conversion, so no type confusion). Every failure is a
DecodeError from a named check.

Resource limits (RFC 8949 §10 leaves them to the decoder; docs/performance.md lists them): at most
:data:`MAX_SIZE` input bytes, :data:`MAX_DEPTH` nesting levels and :data:`MAX_ITEMS` data items per
call, and no container may announce more entries than bytes remain. Each is checked before the work
it bounds, so an oversized or hostile input is refused in time linear in the bytes actually read.
"""

from __future__ import annotations

import struct
from typing import Any

from cbor2 import CBORTag, undefined

from expat.checks import check
from expat.errors import Alert

WELL_FORMED = check("rfc8949-3-well-formed", "RFC 8949 §3", Alert.decode_error,
                    "attestation CBOR items are well formed, complete and without trailing bytes")
UNIQUE_KEYS = check("rfc8949-5.6-unique-keys", "RFC 8949 §5.6", Alert.decode_error,
                    "CBOR maps we parse have no duplicate keys and only int, text or byte-string keys")

LIMITS = check("expat-limit-cbor", "RFC 8949 §10", Alert.decode_error,
               "a CBOR input stays within the decoder's documented limits (size, nesting depth, item count)")

MAX_DEPTH = 16
MAX_SIZE = 1 << 18    # 256 KiB: everything expat parses travels in cmw_data<1..2^16-1> or an EAR
MAX_ITEMS = 8192      # data items (including map keys, tag contents, string chunks) per input


class _Reader:
    def __init__(self, data: bytes, max_depth: int, max_items: int):
        self.data = data
        self.pos = 0
        self.max_depth = max_depth
        self.items_left = max_items

    def take(self, n: int) -> bytes:
        pos = self.pos
        end = pos + n
        if end > len(self.data):
            WELL_FORMED.fail("truncated at offset {}", pos)
        self.pos = end
        return self.data[pos:end]

    def head(self) -> tuple[int, int, int | None]:
        """(major type, additional info, argument or None for indefinite)."""
        pos = self.pos
        data = self.data
        if pos >= len(data):
            WELL_FORMED.fail("truncated at offset {}", pos)
        ib = data[pos]
        self.pos = pos + 1
        major, ai = ib >> 5, ib & 0x1F
        if ai < 24:
            return major, ai, ai
        if ai <= 27:
            return major, ai, int.from_bytes(self.take(1 << (ai - 24)), "big")
        if ai == 31 and major in (2, 3, 4, 5, 7):
            return major, ai, None
        WELL_FORMED.fail("reserved additional information {} for major type {}", ai, major)

    def item(self, depth: int) -> Any:
        if depth > self.max_depth:
            LIMITS.fail("nesting deeper than {}", self.max_depth)
        self.items_left -= 1
        if self.items_left < 0:
            LIMITS.fail("more than the allowed number of data items")
        major, ai, arg = self.head()
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major in (2, 3):
            if arg is None:
                chunks = []
                while True:
                    WELL_FORMED.require(self.pos < len(self.data), "unterminated indefinite string")
                    if self.data[self.pos] == 0xFF:
                        self.pos += 1
                        break
                    m, _, n = self.head()
                    WELL_FORMED.require(m == major and n is not None,
                                        "indefinite string chunk of the wrong type")
                    self.items_left -= 1
                    if self.items_left < 0:
                        LIMITS.fail("more than the allowed number of data items")
                    chunks.append(self.take(n))
                raw = b"".join(chunks)
            else:
                raw = self.take(arg)
            if major == 2:
                return raw
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                WELL_FORMED.fail("text string is not valid UTF-8")
        if major == 4:
            out = []
            if arg is None:
                while not self._break():
                    out.append(self.item(depth + 1))
            else:
                WELL_FORMED.require(arg <= len(self.data) - self.pos, "array longer than the input")
                for _ in range(arg):
                    out.append(self.item(depth + 1))
            return out
        if major == 5:
            out: dict = {}
            count = 0
            if arg is not None:
                WELL_FORMED.require(2 * arg <= len(self.data) - self.pos, "map longer than the input")
            while True:
                if arg is None:
                    if self._break():
                        break
                elif count == arg:
                    break
                key = self.item(depth + 1)
                UNIQUE_KEYS.require(isinstance(key, (int, str, bytes)) and not isinstance(key, bool),
                                    lambda: f"map key of type {type(key).__name__}")
                if key in out:
                    UNIQUE_KEYS.fail("duplicate map key {!r}", key)
                out[key] = self.item(depth + 1)
                count += 1
            return out
        if major == 6:
            WELL_FORMED.require(arg is not None, "indefinite tag")
            return CBORTag(arg, self.item(depth + 1))
        # major 7
        if 20 <= ai <= 23:
            return {20: False, 21: True, 22: None, 23: undefined}[ai]
        if ai <= 24:
            WELL_FORMED.fail(f"unassigned simple value {arg}")
        if ai == 25:
            return struct.unpack(">e", arg.to_bytes(2, "big"))[0]
        if ai == 26:
            return struct.unpack(">f", arg.to_bytes(4, "big"))[0]
        if ai == 27:
            return struct.unpack(">d", arg.to_bytes(8, "big"))[0]
        WELL_FORMED.fail("unexpected break")

    def _break(self) -> bool:
        WELL_FORMED.require(self.pos < len(self.data), "unterminated indefinite container")
        if self.data[self.pos] == 0xFF:
            self.pos += 1
            return True
        return False


def loads(data: bytes, *, max_depth: int = MAX_DEPTH, max_size: int = MAX_SIZE, max_items: int = MAX_ITEMS) -> Any:
    """Decode exactly one CBOR data item from ``data`` (strict; DecodeError on any problem)."""
    WELL_FORMED.require(isinstance(data, (bytes, bytearray)), "CBOR input must be bytes")
    WELL_FORMED.require(len(data) > 0, "empty CBOR input")
    LIMITS.require(len(data) <= max_size, "CBOR input of {} bytes exceeds the {}-byte limit", len(data), max_size)
    r = _Reader(bytes(data), max_depth, max_items)
    value = r.item(0)
    if r.pos != len(r.data):
        WELL_FORMED.fail("{} trailing bytes after the CBOR item", len(r.data) - r.pos)
    return value
