"""A literal TLS 1.3 record-layer reader for tests and tooling (RFC 8446 §5.1-§5.4, §7.2, §7.3).

Given raw records seen on the wire and the traffic secrets from a keylog, this
decrypts one direction of a connection and splits the handshake messages out of
it. expat uses it to count the NewSessionTicket messages a server really sent
(editor's copy §7.2) rather than trusting a configuration flag.

Nothing here talks to OpenSSL; the AEADs come from ``cryptography``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from expat.checks import check
from expat.errors import Alert
from expat.reference.keyschedule import CIPHER_SUITE_HASH, HashAlg, hkdf_expand_label

# RFC 8446 §5.1: a record carries at most 2^14 plaintext bytes; §5.2: ciphertext may add 256.
MAX_PLAINTEXT = 2**14
MAX_CIPHERTEXT = 2**14 + 256
HEADER_LEN = 5

RECORD_SYNTAX = check("rfc8446-5.1-record-syntax", "RFC 8446 §5.1", Alert.decode_error,
                      "a record is type(1) || legacy_version(2) || length(2) || fragment, "
                      "with a known content type and a length within the protocol limit")
RECORD_AEAD = check("rfc8446-5.2-record-aead", "RFC 8446 §5.2", Alert.bad_record_mac,
                    "a protected record authenticates under the expected key and sequence number")
RECORD_INNER = check("rfc8446-5.4-inner-plaintext", "RFC 8446 §5.4", Alert.unexpected_message,
                     "after removing the zero padding a protected record has a non-zero inner content type")
HANDSHAKE_SYNTAX = check("rfc8446-4-handshake-syntax", "RFC 8446 §4", Alert.decode_error,
                         "handshake messages are type(1) || length(3) || body and end on a record-key boundary")


class ContentType(enum.IntEnum):
    """RFC 8446 §5.1."""

    invalid = 0
    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23


class HandshakeType(enum.IntEnum):
    """RFC 8446 §4 (the values expat meets)."""

    client_hello = 1
    server_hello = 2
    new_session_ticket = 4
    end_of_early_data = 5
    encrypted_extensions = 8
    certificate = 11
    certificate_request = 13
    certificate_verify = 15
    finished = 20
    key_update = 24
    message_hash = 254


# --- record framing (§5.1) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Record:
    content_type: int
    legacy_version: int
    fragment: bytes

    @property
    def header(self) -> bytes:
        return bytes([self.content_type]) + self.legacy_version.to_bytes(2, "big") + len(self.fragment).to_bytes(2, "big")

    def encode(self) -> bytes:
        return self.header + self.fragment


def parse_record(raw: bytes) -> Record:
    """One complete record (header included)."""
    RECORD_SYNTAX.require(len(raw) >= HEADER_LEN, "record shorter than its 5-byte header")
    ctype = raw[0]
    length = int.from_bytes(raw[3:5], "big")
    RECORD_SYNTAX.require(ctype in (20, 21, 22, 23), f"unknown record content type {ctype}")
    RECORD_SYNTAX.require(length <= MAX_CIPHERTEXT, f"record length {length} exceeds 2^14+256")
    RECORD_SYNTAX.require(len(raw) == HEADER_LEN + length,
                          f"record length field says {length}, {len(raw) - HEADER_LEN} bytes present")
    return Record(ctype, int.from_bytes(raw[1:3], "big"), bytes(raw[5:]))


class RecordSplitter:
    """Cut a byte stream into complete raw records (header included), in order."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        while len(self._buf) >= HEADER_LEN:
            length = int.from_bytes(self._buf[3:5], "big")
            RECORD_SYNTAX.require(length <= MAX_CIPHERTEXT, f"record length {length} exceeds 2^14+256")
            RECORD_SYNTAX.require(self._buf[0] in (20, 21, 22, 23), f"unknown record content type {self._buf[0]}")
            if len(self._buf) < HEADER_LEN + length:
                break
            out.append(bytes(self._buf[:HEADER_LEN + length]))
            del self._buf[:HEADER_LEN + length]
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)


def split_records(data: bytes) -> list[bytes]:
    """All records of a complete byte stream; a trailing partial record is a decode error."""
    s = RecordSplitter()
    out = s.feed(data)
    RECORD_SYNTAX.require(s.pending == 0, f"{s.pending} trailing bytes do not form a whole record")
    return out


# --- record protection (§5.2, §5.3, §7.3) -----------------------------------------------------------

@dataclass(frozen=True)
class AeadSpec:
    key_length: int
    make: type
    tag_length: int = 16

    def cipher(self, key: bytes):
        if self.make is AESCCM:
            return AESCCM(key, tag_length=self.tag_length)
        return self.make(key)


# RFC 8446 §B.4: the AEAD of each suite.
SUITE_AEAD = {
    "TLS_AES_128_GCM_SHA256": AeadSpec(16, AESGCM),
    "TLS_AES_256_GCM_SHA384": AeadSpec(32, AESGCM),
    "TLS_CHACHA20_POLY1305_SHA256": AeadSpec(32, ChaCha20Poly1305),
    "TLS_AES_128_CCM_SHA256": AeadSpec(16, AESCCM),
    "TLS_AES_128_CCM_8_SHA256": AeadSpec(16, AESCCM, tag_length=8),
}
IV_LENGTH = 12  # every TLS 1.3 AEAD has a 12-byte nonce (§5.3: iv_length = max(8, N_MIN))


def _suite(name: str) -> tuple[HashAlg, AeadSpec]:
    try:
        return CIPHER_SUITE_HASH[name], SUITE_AEAD[name]
    except KeyError:
        raise ValueError(f"unsupported TLS 1.3 cipher suite {name!r}") from None


def traffic_keys(suite: str, secret: bytes) -> tuple[bytes, bytes]:
    """[sender]_write_key / _iv from a traffic secret (RFC 8446 §7.3)."""
    h, aead = _suite(suite)
    key = hkdf_expand_label(h, secret, b"key", b"", aead.key_length)
    iv = hkdf_expand_label(h, secret, b"iv", b"", IV_LENGTH)
    return key, iv


def next_traffic_secret(suite: str, secret: bytes) -> bytes:
    """application_traffic_secret_N+1 after a KeyUpdate (RFC 8446 §7.2)."""
    h, _ = _suite(suite)
    return hkdf_expand_label(h, secret, b"traffic upd", b"", h.length)


def record_nonce(iv: bytes, seq: int) -> bytes:
    """§5.3: the 64-bit sequence number, left-padded to iv_length, XORed with the static iv."""
    padded = seq.to_bytes(len(iv), "big")
    return bytes(a ^ b for a, b in zip(iv, padded))


def strip_inner_plaintext(plaintext: bytes) -> tuple[int, bytes]:
    """TLSInnerPlaintext = content || type || zeros (§5.4): drop the zeros, return (type, content)."""
    end = len(plaintext)
    while end > 0 and plaintext[end - 1] == 0:
        end -= 1
    RECORD_INNER.require(end > 0, "protected record holds only zero bytes (no inner content type)")
    return plaintext[end - 1], plaintext[:end - 1]


class RecordProtection:
    """One direction, one traffic secret: seal/open records with a running sequence number."""

    def __init__(self, suite: str, secret: bytes) -> None:
        self.suite = suite
        self.secret = secret
        key, self.iv = traffic_keys(suite, secret)
        _, spec = _suite(suite)
        self._aead = spec.cipher(key)
        self._tag = spec.tag_length
        self.seq = 0

    def open(self, raw: bytes) -> tuple[int, bytes]:
        """Decrypt one protected record; returns (inner content type, content)."""
        rec = parse_record(raw)
        RECORD_SYNTAX.require(rec.content_type == ContentType.application_data,
                              f"protected records have outer type application_data(23), not {rec.content_type}")
        RECORD_AEAD.require(len(rec.fragment) >= self._tag + 1, "protected record shorter than its tag")
        try:
            # §5.2: additional_data is the record header.
            plaintext = self._aead.decrypt(record_nonce(self.iv, self.seq), rec.fragment, rec.header)
        except InvalidTag:
            RECORD_AEAD.fail(f"record {self.seq} does not authenticate")
        self.seq += 1
        RECORD_SYNTAX.require(len(plaintext) <= MAX_PLAINTEXT + 1, "inner plaintext exceeds 2^14+1 bytes")
        return strip_inner_plaintext(plaintext)

    def seal(self, content_type: int, content: bytes, padding: int = 0) -> bytes:
        """Encrypt one record (used by tests against published vectors)."""
        inner = content + bytes([content_type]) + bytes(padding)
        if len(inner) > MAX_PLAINTEXT + 1:
            raise ValueError("content too long for one record")
        length = len(inner) + self._tag
        header = bytes([ContentType.application_data]) + b"\x03\x03" + length.to_bytes(2, "big")
        out = header + self._aead.encrypt(record_nonce(self.iv, self.seq), inner, header)
        self.seq += 1
        return out


# --- handshake messages (§4) ------------------------------------------------------------------------

@dataclass(frozen=True)
class HandshakeMessage:
    msg_type: int
    body: bytes

    def encode(self) -> bytes:
        return bytes([self.msg_type]) + len(self.body).to_bytes(3, "big") + self.body


class HandshakeReassembler:
    """Handshake messages may span records; feed record contents, get whole messages."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[HandshakeMessage]:
        self._buf += data
        out: list[HandshakeMessage] = []
        while len(self._buf) >= 4:
            length = int.from_bytes(self._buf[1:4], "big")
            if len(self._buf) < 4 + length:
                break
            out.append(HandshakeMessage(self._buf[0], bytes(self._buf[4:4 + length])))
            del self._buf[:4 + length]
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)


def split_handshake_messages(data: bytes) -> list[HandshakeMessage]:
    """Whole handshake messages in ``data``; leftover bytes are a decode error."""
    r = HandshakeReassembler()
    out = r.feed(data)
    HANDSHAKE_SYNTAX.require(r.pending == 0, f"{r.pending} bytes do not form a whole handshake message")
    return out


# --- one direction of a connection --------------------------------------------------------------------

@dataclass
class Plaintext:
    content_type: int
    content: bytes
    epoch: str  # "plaintext", "handshake", "application" (with KeyUpdate generation suffix: "application.1")


@dataclass
class DirectionReader:
    """Decrypt one direction of a TLS 1.3 connection from its raw records.

    Records before the first protected one are plaintext (ClientHello / ServerHello);
    change_cipher_spec records (middlebox compatibility, RFC 8446 §D.4) are skipped.
    Protected records use the handshake traffic secret until this sender's Finished,
    then application traffic secret 0, rotated on KeyUpdate (§7.2).
    """

    suite: str
    handshake_secret: bytes
    application_secret: bytes
    plaintexts: list[Plaintext] = field(default_factory=list)
    handshake_messages: list[tuple[str, HandshakeMessage]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._prot: RecordProtection | None = None
        self._epoch = "plaintext"
        self._generation = 0
        self._hs = HandshakeReassembler()

    def feed(self, raw_records: Iterable[bytes]) -> None:
        for raw in raw_records:
            rec = parse_record(raw)
            if rec.content_type == ContentType.change_cipher_spec:
                continue
            if rec.content_type != ContentType.application_data:
                RECORD_SYNTAX.require(self._prot is None, "plaintext record after protection started")
                self._deliver(rec.content_type, rec.fragment)
                continue
            if self._prot is None:
                self._prot = RecordProtection(self.suite, self.handshake_secret)
                self._epoch = "handshake"
            ctype, content = self._prot.open(raw)
            self._deliver(ctype, content)

    def _deliver(self, ctype: int, content: bytes) -> None:
        self.plaintexts.append(Plaintext(ctype, content, self._epoch))
        if ctype != ContentType.handshake:
            HANDSHAKE_SYNTAX.require(self._hs.pending == 0, "handshake message interleaved with other records")
            return
        for msg in self._hs.feed(content):
            self.handshake_messages.append((self._epoch, msg))
            if msg.msg_type == HandshakeType.finished and self._epoch == "handshake":
                # §5.1/§7.3: keys change at the Finished boundary, which must be a record boundary.
                HANDSHAKE_SYNTAX.require(self._hs.pending == 0, "data after Finished in the same record")
                self._prot = RecordProtection(self.suite, self.application_secret)
                self._epoch = "application"
            elif msg.msg_type == HandshakeType.key_update and self._epoch.startswith("application"):
                HANDSHAKE_SYNTAX.require(self._hs.pending == 0, "data after KeyUpdate in the same record")
                assert self._prot is not None
                self._prot = RecordProtection(self.suite, next_traffic_secret(self.suite, self._prot.secret))
                self._generation += 1
                self._epoch = f"application.{self._generation}"

    def count(self, msg_type: int) -> int:
        return sum(1 for _, m in self.handshake_messages if m.msg_type == msg_type)

    @property
    def application_data(self) -> bytes:
        return b"".join(p.content for p in self.plaintexts if p.content_type == ContentType.application_data)


def count_new_session_tickets(suite: str, server_records: Iterable[bytes], server_handshake_secret: bytes,
                              server_application_secret: bytes) -> int:
    """How many NewSessionTicket messages the server sent (decrypting every server record)."""
    r = DirectionReader(suite, server_handshake_secret, server_application_secret)
    r.feed(server_records)
    return r.count(HandshakeType.new_session_ticket)
