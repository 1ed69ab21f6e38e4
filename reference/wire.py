"""The TLS presentation language (RFC 8446 §3): big-endian integers and length-prefixed vectors.

:class:`Reader` decodes strictly: a field running past the end of its enclosing vector,
a vector length outside its declared ``<floor..ceiling>``, a vector of fixed-size elements
whose byte length is not a multiple of the element size, and bytes left over after a
structure all fail with ``decode_error`` (RFC 8446 §6: unparseable messages). Every
failure is a named check, so callers see the check id of the exact fault.

:class:`Writer` encodes and refuses values that do not fit their declared ranges; that is
a bug of the local caller, reported as ``internal_error``.
"""

from __future__ import annotations

from expat.checks import check
from expat.errors import Alert

# RFC 8446 §3.3-3.4, §6 (a message that cannot be parsed per the syntax -> decode_error).
TRUNCATED = check("rfc8446-3.4-truncated", "RFC 8446 §3.4, §6", Alert.decode_error,
                  "a field or vector does not extend past the end of the bytes that enclose it")
VECTOR_BOUNDS = check("rfc8446-3.4-vector-bounds", "RFC 8446 §3.4, §6", Alert.decode_error,
                      "a variable-length vector's length lies within its declared floor..ceiling")
VECTOR_MULTIPLE = check("rfc8446-3.4-vector-multiple", "RFC 8446 §3.4", Alert.decode_error,
                        "a vector of fixed-size elements has a byte length that is a multiple of the element size")
TRAILING = check("rfc8446-6-trailing-bytes", "RFC 8446 §6", Alert.decode_error,
                 "no bytes are left over after a structure (its length matches its contents)")
ENCODE_BOUNDS = check("rfc8446-3.4-encode-bounds", "RFC 8446 §3.3-3.4", Alert.internal_error,
                      "a value being encoded fits its integer width or declared vector range")

_WIDTH_MAX = {1: 0xFF, 2: 0xFFFF, 3: 0xFFFFFF, 4: 0xFFFFFFFF}


class Reader:
    """Consume a byte string field by field. ``what`` names the structure in error messages.

    A Reader from :meth:`sub` shares its parent's buffer (no copy) and is bounded to the vector's
    contents; positions are relative to the reader's own start. Error details are rendered only
    when a check fails (see :mod:`expat.checks`), so passing checks stay cheap.
    """

    __slots__ = ("_data", "_pos", "_base", "_end", "_what")

    def __init__(self, data: bytes, what: str = "structure", *, _bounds: tuple[int, int] | None = None):
        self._data = data if type(data) is bytes else bytes(data)
        if _bounds is None:
            self._base, self._end = 0, len(self._data)
        else:
            self._base, self._end = _bounds
        self._pos = self._base
        self._what = what  # str, or (parent what, field) rendered on demand

    @property
    def what(self) -> str:
        w = self._what
        return w if isinstance(w, str) else f"{w[0]}.{w[1]}"

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    @property
    def position(self) -> int:
        return self._pos - self._base

    def since(self, start: int) -> bytes:
        """The bytes consumed from position ``start`` up to now (exact bytes as received)."""
        return self._data[self._base + start:self._pos]

    def at_end(self) -> bool:
        return self._pos == self._end

    def _truncated(self, n: int, field: object) -> None:
        TRUNCATED.fail("{}: {} needs {} bytes, only {} left", self.what, field, n, self._end - self._pos)

    def take(self, n: int, field: object = "field") -> bytes:
        """Exactly ``n`` bytes (a fixed-length vector, RFC 8446 §3.4)."""
        pos = self._pos
        end = pos + n
        if n < 0 or end > self._end:
            self._truncated(n, field)
        self._pos = end
        return self._data[pos:end]

    def uint(self, width: int, field: object = "integer") -> int:
        pos = self._pos
        end = pos + width
        if end > self._end:
            self._truncated(width, field)
        self._pos = end
        return int.from_bytes(self._data[pos:end], "big")

    def uint8(self, field: str = "uint8") -> int:
        pos = self._pos
        if pos >= self._end:
            self._truncated(1, field)
        self._pos = pos + 1
        return self._data[pos]

    def uint16(self, field: str = "uint16") -> int:
        return self.uint(2, field)

    def uint24(self, field: str = "uint24") -> int:
        return self.uint(3, field)

    def uint32(self, field: str = "uint32") -> int:
        return self.uint(4, field)

    def _vector_bounds(self, prefix: int, floor: int, ceiling: int, field: object, element_size: int) -> int:
        """Read the length prefix and check it (RFC 8446 §3.4); returns the content length."""
        pos = self._pos
        end = pos + prefix
        if end > self._end:
            self._truncated(prefix, _Field(field, " length"))
        length = int.from_bytes(self._data[pos:end], "big")
        self._pos = end
        if not floor <= length <= ceiling:
            VECTOR_BOUNDS.fail("{}: {} length {} outside <{}..{}>", self.what, field, length, floor, ceiling)
        if element_size != 1 and length % element_size:
            VECTOR_MULTIPLE.fail("{}: {} length {} is not a multiple of {}", self.what, field, length, element_size)
        if end + length > self._end:
            self._truncated(length, field)
        return length

    def vector(self, prefix: int, floor: int, ceiling: int, field: object = "vector",
               element_size: int = 1) -> bytes:
        """``T field<floor..ceiling>`` with a ``prefix``-byte length (RFC 8446 §3.4); returns the contents."""
        length = self._vector_bounds(prefix, floor, ceiling, field, element_size)
        pos = self._pos
        self._pos = pos + length
        return self._data[pos:pos + length]

    def opaque8(self, floor: int = 0, ceiling: int = 0xFF, field: object = "opaque<..2^8-1>") -> bytes:
        return self.vector(1, floor, ceiling, field)

    def opaque16(self, floor: int = 0, ceiling: int = 0xFFFF, field: object = "opaque<..2^16-1>") -> bytes:
        return self.vector(2, floor, ceiling, field)

    def opaque24(self, floor: int = 0, ceiling: int = 0xFFFFFF, field: object = "opaque<..2^24-1>") -> bytes:
        return self.vector(3, floor, ceiling, field)

    def sub(self, prefix: int, floor: int, ceiling: int, field: str = "vector",
            element_size: int = 1) -> "Reader":
        """A Reader over the contents of a length-prefixed vector (for vectors of structures)."""
        length = self._vector_bounds(prefix, floor, ceiling, field, element_size)
        pos = self._pos
        self._pos = pos + length
        return Reader(self._data, (self._what if isinstance(self._what, str) else self.what, field),
                      _bounds=(pos, pos + length))

    def rest(self) -> bytes:
        out = self._data[self._pos:self._end]
        self._pos = self._end
        return out

    def finish(self) -> None:
        """The structure is complete: nothing may follow it."""
        if self._pos != self._end:
            TRAILING.fail("{}: {} trailing bytes", self.what, self._end - self._pos)


class _Field:
    """A field name with a suffix, joined only when an error message needs it."""

    __slots__ = ("name", "suffix")

    def __init__(self, name: object, suffix: str):
        self.name, self.suffix = name, suffix

    def __str__(self) -> str:
        return f"{self.name}{self.suffix}"


def encode_vector(prefix: int, data: bytes, floor: int, ceiling: int, field: str = "vector") -> bytes:
    """Length prefix || contents of ``opaque field<floor..ceiling>`` in one step (RFC 8446 §3.4);
    the same checks as :meth:`Writer.vector`, for hot encoding paths."""
    n = len(data)
    if not (floor <= n <= ceiling and ceiling <= _WIDTH_MAX[prefix]):
        ENCODE_BOUNDS.fail("{} length {} outside <{}..{}>", field, n, floor, ceiling)
    return n.to_bytes(prefix, "big") + data


def encode_uint(width: int, value: int, field: str = "integer") -> bytes:
    """``value`` as a ``width``-byte big-endian integer (RFC 8446 §3.3), range-checked."""
    if not (isinstance(value, int) and 0 <= value <= _WIDTH_MAX[width]):
        ENCODE_BOUNDS.fail("{} value {!r} does not fit uint{}", field, value, 8 * width)
    return value.to_bytes(width, "big")


class Writer:
    """Build a byte string field by field."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def getvalue(self) -> bytes:
        return b"".join(self._parts)

    def raw(self, data: bytes) -> "Writer":
        self._parts.append(data if type(data) is bytes else bytes(data))
        return self

    def uint(self, width: int, value: int, field: str = "integer") -> "Writer":
        self._parts.append(encode_uint(width, value, field))
        return self

    def uint8(self, value: int, field: str = "uint8") -> "Writer":
        return self.uint(1, value, field)

    def uint16(self, value: int, field: str = "uint16") -> "Writer":
        return self.uint(2, value, field)

    def uint24(self, value: int, field: str = "uint24") -> "Writer":
        return self.uint(3, value, field)

    def uint32(self, value: int, field: str = "uint32") -> "Writer":
        return self.uint(4, value, field)

    def vector(self, prefix: int, data: bytes, floor: int, ceiling: int, field: str = "vector",
               element_size: int = 1) -> "Writer":
        """Length prefix then contents of ``T field<floor..ceiling>`` (RFC 8446 §3.4)."""
        n = len(data)
        if not (floor <= n <= ceiling and ceiling <= _WIDTH_MAX[prefix]):
            ENCODE_BOUNDS.fail("{} length {} outside <{}..{}>", field, n, floor, ceiling)
        if element_size != 1 and n % element_size:
            ENCODE_BOUNDS.fail("{} length {} not a multiple of {}", field, n, element_size)
        self._parts.append(n.to_bytes(prefix, "big"))  # fits: n <= ceiling <= _WIDTH_MAX[prefix]
        self._parts.append(data if type(data) is bytes else bytes(data))
        return self

    def opaque8(self, data: bytes, floor: int = 0, ceiling: int = 0xFF, field: str = "opaque8") -> "Writer":
        return self.vector(1, data, floor, ceiling, field)

    def opaque16(self, data: bytes, floor: int = 0, ceiling: int = 0xFFFF, field: str = "opaque16") -> "Writer":
        return self.vector(2, data, floor, ceiling, field)

    def opaque24(self, data: bytes, floor: int = 0, ceiling: int = 0xFFFFFF, field: str = "opaque24") -> "Writer":
        return self.vector(3, data, floor, ceiling, field)
