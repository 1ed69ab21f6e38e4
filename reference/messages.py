"""TLS 1.3 handshake messages used by Exported Authenticators (RFC 8446 §4, RFC 9261 §4, §5.2).

Every message is a full handshake message: ``uint8 msg_type || uint24 length || body``
(RFC 8446 §4; RFC 9261 §4 and §5.2 keep the header, no record layer). Decoders are strict
(see :mod:`expat.reference.wire`) and keep the exact bytes received in ``.raw``, because
the authenticator transcript hashes the bytes as sent (DIGEST A-RFC-2). Messages built
locally get ``.raw`` = their encoding.

Extensions are kept as ``(type, data)`` pairs; the request-side extensions RFC 9261 §5.2.1
names for certificate selection have typed views (:meth:`Extension.view`). Unknown types
stay raw bytes (they must be ignored by a request's recipient, RFC 9261 §5.2.1).
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import ClassVar, Iterable, Sequence, Union

from expat.checks import check
from expat.errors import Alert
from expat.reference.wire import Reader, Writer, encode_uint, encode_vector

# --- code points ----------------------------------------------------------------------------------


class HandshakeType(enum.IntEnum):
    """RFC 8446 §4 and RFC 9261 §8.3."""

    certificate = 11
    certificate_request = 13
    certificate_verify = 15
    client_certificate_request = 17
    finished = 20


class ExtensionType(enum.IntEnum):
    """The ExtensionType values expat names (RFC 8446 §4.2, RFC 6066, RFC 6962)."""

    server_name = 0
    status_request = 5
    signature_algorithms = 13
    signed_certificate_timestamp = 18
    certificate_authorities = 47
    oid_filters = 48
    signature_algorithms_cert = 50


class SignatureScheme(enum.IntEnum):
    """SignatureScheme (RFC 8446 §4.2.3), names exactly as in the RFC."""

    rsa_pkcs1_sha256 = 0x0401
    rsa_pkcs1_sha384 = 0x0501
    rsa_pkcs1_sha512 = 0x0601
    ecdsa_secp256r1_sha256 = 0x0403
    ecdsa_secp384r1_sha384 = 0x0503
    ecdsa_secp521r1_sha512 = 0x0603
    rsa_pss_rsae_sha256 = 0x0804
    rsa_pss_rsae_sha384 = 0x0805
    rsa_pss_rsae_sha512 = 0x0806
    ed25519 = 0x0807
    ed448 = 0x0808
    rsa_pss_pss_sha256 = 0x0809
    rsa_pss_pss_sha384 = 0x080A
    rsa_pss_pss_sha512 = 0x080B
    rsa_pkcs1_sha1 = 0x0201
    ecdsa_sha1 = 0x0203


# Schemes a TLS 1.3 CertificateVerify may use (RFC 8446 §4.2.3, §4.4.3; RFC 9261 §5.2.2):
# no RSASSA-PKCS1-v1_5, no SHA-1, ECDSA only with its curve's hash.
TLS13_CERTIFICATE_VERIFY_SCHEMES = frozenset({
    SignatureScheme.ecdsa_secp256r1_sha256, SignatureScheme.ecdsa_secp384r1_sha384,
    SignatureScheme.ecdsa_secp521r1_sha512,
    SignatureScheme.rsa_pss_rsae_sha256, SignatureScheme.rsa_pss_rsae_sha384, SignatureScheme.rsa_pss_rsae_sha512,
    SignatureScheme.ed25519, SignatureScheme.ed448,
    SignatureScheme.rsa_pss_pss_sha256, SignatureScheme.rsa_pss_pss_sha384, SignatureScheme.rsa_pss_pss_sha512,
})


def scheme_name(code: int) -> str:
    """RFC 8446 name of a SignatureScheme, or ``unknown_0xNNNN``."""
    try:
        return SignatureScheme(code).name
    except ValueError:
        return f"unknown_0x{code:04x}"


_HANDSHAKE_TYPE_NAMES = {int(t): t.name for t in HandshakeType}


def handshake_type_name(code: int) -> str:
    name = _HANDSHAKE_TYPE_NAMES.get(code)
    return name if name is not None else f"handshake_type_{code}"


class _BodyField:
    """Field name "<msg_type name> body", rendered only for an error message."""

    __slots__ = ("msg_type",)

    def __init__(self, msg_type: int):
        self.msg_type = msg_type

    def __str__(self) -> str:
        return f"{handshake_type_name(self.msg_type)} body"


# --- checks ---------------------------------------------------------------------------------------

MESSAGE_TYPE = check("rfc8446-4-handshake-type", "RFC 8446 §4, §6", Alert.unexpected_message,
                     "a handshake message has the type expected at that point")
DUPLICATE_EXTENSION = check("rfc8446-4.2-duplicate-extension", "RFC 8446 §4.2", Alert.illegal_parameter,
                            "an extension block holds at most one extension of each type")
FINISHED_LENGTH = check("rfc8446-4.4.4-finished-length", "RFC 8446 §4.4.4", Alert.decode_error,
                        "Finished.verify_data is exactly Hash.length bytes")
SERVER_NAME_TYPE = check("rfc6066-3-name-type", "RFC 6066 §3", Alert.decode_error,
                         "a ServerName entry has a name type expat can parse (host_name)")


# --- extensions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Extension:
    """``struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; }`` (RFC 8446 §4.2)."""

    type: int
    data: bytes = b""

    @property
    def name(self) -> str:
        try:
            return ExtensionType(self.type).name
        except ValueError:
            return f"extension_{self.type}"

    def encode(self) -> bytes:
        return encode_uint(2, self.type, "extension_type") + encode_vector(2, bytes(self.data), 0, 0xFFFF,
                                                                           "extension_data")

    @classmethod
    def read(cls, r: Reader) -> "Extension":
        ext_type = r.uint16("extension_type")
        return cls(ext_type, r.opaque16(field="extension_data"))

    def view(self) -> "ExtensionView | None":
        """Typed view of a request-side extension (None for types without one); strict parse."""
        view_cls = _VIEWS.get(self.type)
        return view_cls.from_data(self.data) if view_cls else None


def encode_extensions(extensions: Sequence[Extension], floor: int = 0, ceiling: int = 0xFFFF) -> bytes:
    """``Extension extensions<floor..ceiling>``; duplicate types are refused (RFC 8446 §4.2)."""
    _require_distinct(extensions)
    return encode_vector(2, b"".join([e.encode() for e in extensions]), floor, ceiling, "extensions")


def read_extensions(r: Reader, floor: int = 0, ceiling: int = 0xFFFF) -> tuple[Extension, ...]:
    block = r.sub(2, floor, ceiling, "extensions")
    out = []
    while not block.at_end():
        out.append(Extension.read(block))
    _require_distinct(out)
    return tuple(out)


def _require_distinct(extensions: Sequence[Extension]) -> None:
    seen: set[int] = set()
    for e in extensions:
        if e.type in seen:
            DUPLICATE_EXTENSION.fail("extension type {} appears more than once", e.type)
        seen.add(e.type)


def find_extension(extensions: Iterable[Extension], ext_type: int) -> Extension | None:
    for e in extensions:
        if e.type == ext_type:
            return e
    return None


@dataclass(frozen=True)
class SignatureSchemeList:
    """signature_algorithms / signature_algorithms_cert: ``SignatureScheme list<2..2^16-2>`` (RFC 8446 §4.2.3)."""

    schemes: tuple[int, ...]

    def encode(self) -> bytes:
        body = b"".join(s.to_bytes(2, "big") for s in self.schemes)
        return Writer().vector(2, body, 2, 0xFFFE, "supported_signature_algorithms", 2).getvalue()

    @classmethod
    def from_data(cls, data: bytes) -> "SignatureSchemeList":
        r = Reader(data, "SignatureSchemeList")
        body = r.sub(2, 2, 0xFFFE, "supported_signature_algorithms", element_size=2)
        r.finish()
        schemes = []
        while not body.at_end():
            schemes.append(body.uint16("SignatureScheme"))
        return cls(tuple(schemes))

    def extension(self, ext_type: int = ExtensionType.signature_algorithms) -> Extension:
        return Extension(int(ext_type), self.encode())


@dataclass(frozen=True)
class CertificateAuthorities:
    """``DistinguishedName authorities<3..2^16-1>``, each ``opaque DistinguishedName<1..2^16-1>`` (RFC 8446 §4.2.4)."""

    authorities: tuple[bytes, ...]  # DER-encoded X.501 Names

    def encode(self) -> bytes:
        body = b"".join(Writer().opaque16(a, 1, 0xFFFF, "DistinguishedName").getvalue() for a in self.authorities)
        return Writer().opaque16(body, 3, 0xFFFF, "authorities").getvalue()

    @classmethod
    def from_data(cls, data: bytes) -> "CertificateAuthorities":
        r = Reader(data, "CertificateAuthoritiesExtension")
        body = r.sub(2, 3, 0xFFFF, "authorities")
        r.finish()
        names = []
        while not body.at_end():
            names.append(body.opaque16(1, 0xFFFF, "DistinguishedName"))
        return cls(tuple(names))

    def extension(self) -> Extension:
        return Extension(ExtensionType.certificate_authorities, self.encode())


@dataclass(frozen=True)
class OIDFilters:
    """``OIDFilter filters<0..2^16-1>`` of (oid<1..2^8-1>, values<0..2^16-1>) (RFC 8446 §4.2.5)."""

    filters: tuple[tuple[bytes, bytes], ...]  # (DER OID contents, DER extension values)

    def encode(self) -> bytes:
        body = b"".join(Writer().opaque8(oid, 1, 0xFF, "certificate_extension_oid")
                        .opaque16(values, 0, 0xFFFF, "certificate_extension_values").getvalue()
                        for oid, values in self.filters)
        return Writer().opaque16(body, 0, 0xFFFF, "filters").getvalue()

    @classmethod
    def from_data(cls, data: bytes) -> "OIDFilters":
        r = Reader(data, "OIDFilterExtension")
        body = r.sub(2, 0, 0xFFFF, "filters")
        r.finish()
        out = []
        while not body.at_end():
            oid = body.opaque8(1, 0xFF, "certificate_extension_oid")
            out.append((oid, body.opaque16(0, 0xFFFF, "certificate_extension_values")))
        return cls(tuple(out))

    def extension(self) -> Extension:
        return Extension(ExtensionType.oid_filters, self.encode())


@dataclass(frozen=True)
class ServerNameList:
    """``ServerName server_name_list<1..2^16-1>``, host_name(0) entries with ``HostName<1..2^16-1>`` (RFC 6066 §3)."""

    HOST_NAME: ClassVar[int] = 0
    host_names: tuple[bytes, ...]

    def encode(self) -> bytes:
        body = b"".join(Writer().uint8(self.HOST_NAME).opaque16(h, 1, 0xFFFF, "HostName").getvalue()
                        for h in self.host_names)
        return Writer().opaque16(body, 1, 0xFFFF, "server_name_list").getvalue()

    @classmethod
    def from_data(cls, data: bytes) -> "ServerNameList":
        r = Reader(data, "ServerNameList")
        body = r.sub(2, 1, 0xFFFF, "server_name_list")
        r.finish()
        names = []
        while not body.at_end():
            name_type = body.uint8("NameType")
            SERVER_NAME_TYPE.require(name_type == cls.HOST_NAME, "unknown NameType {}", name_type)
            names.append(body.opaque16(1, 0xFFFF, "HostName"))
        return cls(tuple(names))

    def extension(self) -> Extension:
        return Extension(ExtensionType.server_name, self.encode())


ExtensionView = Union[SignatureSchemeList, CertificateAuthorities, OIDFilters, ServerNameList]
_VIEWS: dict[int, type] = {
    ExtensionType.server_name: ServerNameList,
    ExtensionType.signature_algorithms: SignatureSchemeList,
    ExtensionType.certificate_authorities: CertificateAuthorities,
    ExtensionType.oid_filters: OIDFilters,
    ExtensionType.signature_algorithms_cert: SignatureSchemeList,
}


def signature_algorithms(schemes: Iterable[int]) -> Extension:
    """A signature_algorithms extension (RFC 8446 §4.2.3)."""
    return SignatureSchemeList(tuple(int(s) for s in schemes)).extension(ExtensionType.signature_algorithms)


def signature_algorithms_cert(schemes: Iterable[int]) -> Extension:
    return SignatureSchemeList(tuple(int(s) for s in schemes)).extension(ExtensionType.signature_algorithms_cert)


# --- handshake framing ----------------------------------------------------------------------------


def frame(msg_type: int, body: bytes) -> bytes:
    """``uint8 msg_type || uint24 length || body`` (RFC 8446 §4)."""
    return encode_uint(1, msg_type, "msg_type") + encode_vector(3, bytes(body), 0, 0xFFFFFF, "handshake body")


@dataclass(frozen=True)
class Handshake:
    """One handshake message as received: type, body and the exact bytes (header included)."""

    msg_type: int
    body: bytes
    raw: bytes

    @classmethod
    def read(cls, r: Reader) -> "Handshake":
        start = r.position
        msg_type = r.uint8("msg_type")
        body = r.opaque24(field=_BodyField(msg_type))
        return cls(msg_type, body, r.since(start))


def split_handshakes(data: bytes, what: str = "handshake messages") -> list[Handshake]:
    """Cut ``data`` into consecutive complete handshake messages (no partial message at the end)."""
    r = Reader(data, what)
    out = []
    while not r.at_end():
        out.append(Handshake.read(r))
    return out


def _require_type(msg_type: int, expected: Sequence[int]) -> None:
    if msg_type not in expected:
        MESSAGE_TYPE.fail("expected {}, got {}", "/".join(handshake_type_name(t) for t in expected),
                          handshake_type_name(msg_type))


def _single(data: bytes, expected: Sequence[int], what: str) -> Handshake:
    r = Reader(data, what)
    hs = Handshake.read(r)
    _require_type(hs.msg_type, expected)
    r.finish()
    return hs


class _Message:
    """Shared behaviour: ``raw`` defaults to the encoding of a locally built message."""

    def __post_init__(self) -> None:
        if not self.raw:  # type: ignore[attr-defined]
            object.__setattr__(self, "raw", self.encode())  # type: ignore[attr-defined]

    def __bytes__(self) -> bytes:
        return self.raw  # type: ignore[attr-defined]


# --- CertificateRequest / ClientCertificateRequest (RFC 8446 §4.3.2, RFC 9261 §4) -------------------


@dataclass(frozen=True)
class CertificateRequest(_Message):
    """``opaque certificate_request_context<0..2^8-1>; Extension extensions<2..2^16-1>``."""

    MSG_TYPE: ClassVar[int] = HandshakeType.certificate_request
    context: bytes
    extensions: tuple[Extension, ...]
    raw: bytes = field(default=b"", compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensions", tuple(self.extensions))
        super().__post_init__()

    @property
    def msg_type(self) -> int:
        return self.MSG_TYPE

    def encode_body(self) -> bytes:
        return (Writer().opaque8(self.context, field="certificate_request_context")
                .raw(encode_extensions(self.extensions, 2, 0xFFFF)).getvalue())

    def encode(self) -> bytes:
        return frame(self.MSG_TYPE, self.encode_body())

    @classmethod
    def from_handshake(cls, hs: Handshake) -> "CertificateRequest":
        r = Reader(hs.body, _HANDSHAKE_TYPE_NAMES.get(hs.msg_type, "authenticator request"))
        ctx = r.opaque8(field="certificate_request_context")
        exts = read_extensions(r, 2, 0xFFFF)
        r.finish()
        req_cls = ClientCertificateRequest if hs.msg_type == HandshakeType.client_certificate_request \
            else CertificateRequest
        return req_cls(ctx, exts, raw=hs.raw)

    @classmethod
    def decode(cls, data: bytes) -> "CertificateRequest":
        """Decode exactly one message of this class's type."""
        return cls.from_handshake(_single(data, [cls.MSG_TYPE], cls.__name__))

    def extension(self, ext_type: int) -> Extension | None:
        return find_extension(self.extensions, ext_type)

    @functools.cached_property
    def extension_types(self) -> tuple[int, ...]:
        return tuple(e.type for e in self.extensions)

    @functools.cached_property
    def signature_algorithms(self) -> tuple[int, ...] | None:
        ext = self.extension(ExtensionType.signature_algorithms)
        return SignatureSchemeList.from_data(ext.data).schemes if ext else None


@dataclass(frozen=True)
class ClientCertificateRequest(CertificateRequest):
    """Client-generated authenticator request: CertificateRequest's body under type 17 (RFC 9261 §4)."""

    MSG_TYPE: ClassVar[int] = HandshakeType.client_certificate_request


AuthenticatorRequest = CertificateRequest  # either class


def decode_request(data: bytes) -> CertificateRequest:
    """Decode a CertificateRequest (13) or ClientCertificateRequest (17)."""
    return _decode_request(data if type(data) is bytes else bytes(data))


@functools.lru_cache(maxsize=256)
def _decode_request(data: bytes) -> CertificateRequest:
    # A pure function of the exact bytes returning a frozen value, so memoised: an endpoint decodes
    # the same request when it issues, answers and validates. Failures raise and are not cached.
    hs = _single(data, [HandshakeType.certificate_request, HandshakeType.client_certificate_request],
                 "authenticator request")
    return CertificateRequest.from_handshake(hs)


# --- Certificate (RFC 8446 §4.4.2) -----------------------------------------------------------------


@dataclass(frozen=True)
class CertificateEntry:
    """``opaque cert_data<1..2^24-1>; Extension extensions<0..2^16-1>`` (X.509 only, RFC 9261 §5.2.1)."""

    cert_data: bytes
    extensions: tuple[Extension, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensions", tuple(self.extensions))

    def encode(self) -> bytes:
        return (encode_vector(3, bytes(self.cert_data), 1, 0xFFFFFF, "cert_data")
                + encode_extensions(self.extensions, 0, 0xFFFF))

    @classmethod
    def read(cls, r: Reader) -> "CertificateEntry":
        cert = r.opaque24(1, 0xFFFFFF, "cert_data")
        return cls(cert, read_extensions(r, 0, 0xFFFF))


@dataclass(frozen=True)
class Certificate(_Message):
    """``opaque certificate_request_context<0..2^8-1>; CertificateEntry certificate_list<0..2^24-1>``."""

    MSG_TYPE: ClassVar[int] = HandshakeType.certificate
    context: bytes
    entries: tuple[CertificateEntry, ...]
    raw: bytes = field(default=b"", compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(self.entries))
        super().__post_init__()

    def encode(self) -> bytes:
        body = (encode_vector(1, bytes(self.context), 0, 0xFF, "certificate_request_context")
                + encode_vector(3, b"".join([e.encode() for e in self.entries]), 0, 0xFFFFFF, "certificate_list"))
        return frame(self.MSG_TYPE, body)

    @classmethod
    def from_handshake(cls, hs: Handshake) -> "Certificate":
        _require_type(hs.msg_type, (cls.MSG_TYPE,))
        r = Reader(hs.body, "Certificate")
        ctx = r.opaque8(field="certificate_request_context")
        lst = r.sub(3, 0, 0xFFFFFF, "certificate_list")
        r.finish()
        entries = []
        while not lst.at_end():
            entries.append(CertificateEntry.read(lst))
        return cls(ctx, tuple(entries), raw=hs.raw)

    @classmethod
    def decode(cls, data: bytes) -> "Certificate":
        return cls.from_handshake(_single(data, [cls.MSG_TYPE], "Certificate"))

    @property
    def chain_der(self) -> list[bytes]:
        return [e.cert_data for e in self.entries]


# --- CertificateVerify (RFC 8446 §4.4.3) ------------------------------------------------------------


@dataclass(frozen=True)
class CertificateVerify(_Message):
    """``SignatureScheme algorithm; opaque signature<0..2^16-1>``."""

    MSG_TYPE: ClassVar[int] = HandshakeType.certificate_verify
    algorithm: int
    signature: bytes
    raw: bytes = field(default=b"", compare=False, repr=False)

    def encode(self) -> bytes:
        body = encode_uint(2, self.algorithm, "algorithm") + encode_vector(2, bytes(self.signature), 0, 0xFFFF,
                                                                           "signature")
        return frame(self.MSG_TYPE, body)

    @classmethod
    def from_handshake(cls, hs: Handshake) -> "CertificateVerify":
        _require_type(hs.msg_type, (cls.MSG_TYPE,))
        r = Reader(hs.body, "CertificateVerify")
        algorithm = r.uint16("algorithm")
        signature = r.opaque16(field="signature")
        r.finish()
        return cls(algorithm, signature, raw=hs.raw)

    @classmethod
    def decode(cls, data: bytes) -> "CertificateVerify":
        return cls.from_handshake(_single(data, [cls.MSG_TYPE], "CertificateVerify"))

    @property
    def algorithm_name(self) -> str:
        return scheme_name(self.algorithm)


# --- Finished (RFC 8446 §4.4.4) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Finished(_Message):
    """``opaque verify_data[Hash.length]``; pass ``hash_length`` to check the length when decoding."""

    MSG_TYPE: ClassVar[int] = HandshakeType.finished
    verify_data: bytes
    raw: bytes = field(default=b"", compare=False, repr=False)

    def encode(self) -> bytes:
        return frame(self.MSG_TYPE, self.verify_data)

    @classmethod
    def from_handshake(cls, hs: Handshake, hash_length: int | None = None) -> "Finished":
        _require_type(hs.msg_type, (cls.MSG_TYPE,))
        if hash_length is not None:
            FINISHED_LENGTH.require(len(hs.body) == hash_length,
                                    "verify_data is {} bytes, expected {}", len(hs.body), hash_length)
        return cls(hs.body, raw=hs.raw)

    @classmethod
    def decode(cls, data: bytes, hash_length: int | None = None) -> "Finished":
        return cls.from_handshake(_single(data, [cls.MSG_TYPE], "Finished"), hash_length)
