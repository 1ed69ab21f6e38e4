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
    """Consume a byte string field by field. ``what`` names the structure in error messages."""

    def __init__(self, data: bytes, what: str = "structure"):
        self._data = bytes(data)
        self._pos = 0
        self.what = what

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    @property
    def position(self) -> int:
        return self._pos

    def since(self, start: int) -> bytes:
        """The bytes consumed from position ``start`` up to now (exact bytes as received)."""
        return self._data[start:self._pos]

    def at_end(self) -> bool:
        return self._pos == len(self._data)

    def take(self, n: int, field: str = "field") -> bytes:
        """Exactly ``n`` bytes (a fixed-length vector, RFC 8446 §3.4)."""
        TRUNCATED.require(n <= self.remaining,
                          f"{self.what}: {field} needs {n} bytes, only {self.remaining} left")
        out = self._data[self._pos:self._pos + n]
        self._pos += n
        return out

    def uint(self, width: int, field: str = "integer") -> int:
        return int.from_bytes(self.take(width, field), "big")

    def uint8(self, field: str = "uint8") -> int:
        return self.uint(1, field)

    def uint16(self, field: str = "uint16") -> int:
        return self.uint(2, field)

    def uint24(self, field: str = "uint24") -> int:
        return self.uint(3, field)

    def uint32(self, field: str = "uint32") -> int:
        return self.uint(4, field)

    def vector(self, prefix: int, floor: int, ceiling: int, field: str = "vector",
               element_size: int = 1) -> bytes:
        """``T field<floor..ceiling>`` with a ``prefix``-byte length (RFC 8446 §3.4); returns the contents."""
        length = self.uint(prefix, f"{field} length")
        VECTOR_BOUNDS.require(floor <= length <= ceiling,
                              f"{self.what}: {field} length {length} outside <{floor}..{ceiling}>")
        VECTOR_MULTIPLE.require(length % element_size == 0,
                                f"{self.what}: {field} length {length} is not a multiple of {element_size}")
        return self.take(length, field)

    def opaque8(self, floor: int = 0, ceiling: int = 0xFF, field: str = "opaque<..2^8-1>") -> bytes:
        return self.vector(1, floor, ceiling, field)

    def opaque16(self, floor: int = 0, ceiling: int = 0xFFFF, field: str = "opaque<..2^16-1>") -> bytes:
        return self.vector(2, floor, ceiling, field)

    def opaque24(self, floor: int = 0, ceiling: int = 0xFFFFFF, field: str = "opaque<..2^24-1>") -> bytes:
        return self.vector(3, floor, ceiling, field)

    def sub(self, prefix: int, floor: int, ceiling: int, field: str = "vector",
            element_size: int = 1) -> "Reader":
        """A Reader over the contents of a length-prefixed vector (for vectors of structures)."""
        return Reader(self.vector(prefix, floor, ceiling, field, element_size), f"{self.what}.{field}")

    def rest(self) -> bytes:
        out = self._data[self._pos:]
        self._pos = len(self._data)
        return out

    def finish(self) -> None:
        """The structure is complete: nothing may follow it."""
        TRAILING.require(self.at_end(), f"{self.what}: {self.remaining} trailing bytes")


class Writer:
    """Build a byte string field by field."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def getvalue(self) -> bytes:
        return b"".join(self._parts)

    def raw(self, data: bytes) -> "Writer":
        self._parts.append(bytes(data))
        return self

    def uint(self, width: int, value: int, field: str = "integer") -> "Writer":
        ENCODE_BOUNDS.require(isinstance(value, int) and 0 <= value <= _WIDTH_MAX[width],
                              f"{field} value {value!r} does not fit uint{8 * width}")
        self._parts.append(value.to_bytes(width, "big"))
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
        ENCODE_BOUNDS.require(floor <= n <= ceiling and ceiling <= _WIDTH_MAX[prefix],
                              f"{field} length {n} outside <{floor}..{ceiling}>")
        ENCODE_BOUNDS.require(n % element_size == 0, f"{field} length {n} not a multiple of {element_size}")
        self.uint(prefix, n, f"{field} length")
        self._parts.append(bytes(data))
        return self

    def opaque8(self, data: bytes, floor: int = 0, ceiling: int = 0xFF, field: str = "opaque8") -> "Writer":
        return self.vector(1, data, floor, ceiling, field)

    def opaque16(self, data: bytes, floor: int = 0, ceiling: int = 0xFFFF, field: str = "opaque16") -> "Writer":
        return self.vector(2, data, floor, ceiling, field)

    def opaque24(self, data: bytes, floor: int = 0, ceiling: int = 0xFFFFFF, field: str = "opaque24") -> "Writer":
        return self.vector(3, data, floor, ceiling, field)
