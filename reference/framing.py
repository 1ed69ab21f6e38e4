"""Application framing of expat messages inside the TLS connection they attest (docs/framing.md).

RFC 9261 §4/§5 leave the transport of authenticator requests and authenticators to the
application and allow the same TLS connection; the draft adds nothing. expat uses one
frame per message:

    uint8 frame_type || uint24 length || payload[length]

The 4-byte header mirrors the TLS handshake header (RFC 8446 §4). Decoding is strict:
unknown types, over-long payloads and malformed alert payloads are DecodeError.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass
from typing import Protocol

from expat.checks import check
from expat.errors import Alert

HEADER_LEN = 4
# Largest payload expat accepts (framing.md §2); an authenticator with a CMW is far smaller.
MAX_PAYLOAD = 1 << 20  # 1 MiB

# 16..31: reserved for the attestation layer (e.g. relaying Evidence to a Verifier).
ATTESTATION_RANGE = range(16, 32)


class FrameType(enum.IntEnum):
    ea_request = 1        # CertificateRequest / ClientCertificateRequest message (RFC 9261 §4)
    ea_authenticator = 2  # Certificate || CertificateVerify || Finished, or Finished alone (§5.2.4, §6)
    ea_alert = 3          # uint8 alert code || utf8 reason (RFC 9261 defines no error channel)
    application_data = 4
    close = 5             # empty payload: the sender will send no more frames


FRAME_HEADER = check("expat-framing-header", "docs/framing.md §2", Alert.decode_error,
                     "a frame is a 4-byte header and exactly the payload length it announces, "
                     "at most MAX_PAYLOAD bytes")
FRAME_TYPE = check("expat-framing-type", "docs/framing.md §3", Alert.decode_error,
                   "the frame type is one of the defined types or in the attestation range 16..31")
FRAME_ALERT = check("expat-framing-alert", "docs/framing.md §4", Alert.decode_error,
                    "an ea_alert payload is one known alert code followed by a UTF-8 reason")
FRAME_CLOSE = check("expat-framing-close", "docs/framing.md §3", Alert.decode_error,
                    "a close frame has an empty payload")


def is_known_type(t: int) -> bool:
    return t in FrameType._value2member_map_ or t in ATTESTATION_RANGE


def encode_frame(frame_type: int, payload: bytes) -> bytes:
    if not is_known_type(frame_type):
        raise ValueError(f"frame type {frame_type} is not defined")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds MAX_PAYLOAD ({MAX_PAYLOAD})")
    if frame_type == FrameType.close and payload:
        raise ValueError("close frames carry no payload")
    return bytes([frame_type]) + len(payload).to_bytes(3, "big") + payload


def parse_header(header: bytes) -> tuple[int, int]:
    FRAME_HEADER.require(len(header) == HEADER_LEN, f"frame header needs 4 bytes, got {len(header)}")
    frame_type, length = header[0], int.from_bytes(header[1:4], "big")
    FRAME_TYPE.require(is_known_type(frame_type), f"unknown frame type {frame_type}")
    FRAME_HEADER.require(length <= MAX_PAYLOAD, f"frame length {length} exceeds MAX_PAYLOAD ({MAX_PAYLOAD})")
    FRAME_CLOSE.require(frame_type != FrameType.close or length == 0, "close frame with a payload")
    return frame_type, length


def decode_frame(data: bytes) -> tuple[int, bytes]:
    """Exactly one frame, nothing after it."""
    frame_type, length = parse_header(bytes(data[:HEADER_LEN]))
    FRAME_HEADER.require(len(data) == HEADER_LEN + length,
                         f"frame announces {length} payload bytes, {len(data) - HEADER_LEN} present")
    return _typed(frame_type), bytes(data[HEADER_LEN:])


def _typed(t: int) -> int:
    return FrameType(t) if t in FrameType._value2member_map_ else t


@dataclass(frozen=True)
class EaAlert:
    """Payload of an ea_alert frame: which TLS alert the sender's check maps to, and why."""

    alert: Alert
    reason: str = ""

    def encode(self) -> bytes:
        return bytes([self.alert]) + self.reason.encode("utf-8")

    @classmethod
    def decode(cls, payload: bytes) -> "EaAlert":
        FRAME_ALERT.require(len(payload) >= 1, "empty ea_alert payload")
        FRAME_ALERT.require(payload[0] in Alert._value2member_map_, f"unknown alert code {payload[0]}")
        try:
            reason = payload[1:].decode("utf-8")
        except UnicodeDecodeError:
            FRAME_ALERT.fail("ea_alert reason is not UTF-8")
        return cls(Alert(payload[0]), reason)


class Stream(Protocol):
    def send(self, data: bytes) -> None: ...

    def recv_exact(self, n: int) -> bytes: ...


class FramedChannel:
    """Frames over a byte stream (a :class:`expat.reference.tls.TlsConnection`).

    ``recv`` raises EOFError if the stream ends before a frame starts, DecodeError if it
    ends inside one. One thread may send while another receives.
    """

    def __init__(self, conn: Stream) -> None:
        self.conn = conn
        self._send_lock = threading.Lock()
        self._recv_lock = threading.Lock()

    def send(self, frame_type: int, payload: bytes = b"") -> None:
        frame = encode_frame(frame_type, payload)
        with self._send_lock:
            self.conn.send(frame)

    def send_alert(self, alert: Alert, reason: str = "") -> None:
        self.send(FrameType.ea_alert, EaAlert(alert, reason).encode())

    def recv(self) -> tuple[int, bytes]:
        with self._recv_lock:
            first = self.conn.recv_exact(1)  # EOFError here: the stream closed between frames
            try:
                frame_type, length = parse_header(first + self.conn.recv_exact(HEADER_LEN - 1))
                payload = self.conn.recv_exact(length) if length else b""
            except EOFError:
                FRAME_HEADER.fail("stream ended inside a frame")
            return _typed(frame_type), payload
