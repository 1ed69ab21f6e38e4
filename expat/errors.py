"""Typed protocol errors, each carrying the TLS alert it maps to (RFC 8446 §6).

RFC 9261 defines no error channel (DIGEST A-RFC-3); expat reports every failed
check as a :class:`ProtocolError` whose ``alert`` is the TLS alert an
implementation inside the TLS stack would send.
"""

from __future__ import annotations

import enum


class Alert(enum.IntEnum):
    """TLS 1.3 AlertDescription values used by expat (RFC 8446 §6)."""

    unexpected_message = 10
    bad_record_mac = 20
    handshake_failure = 40
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    decode_error = 50
    decrypt_error = 51
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    missing_extension = 109
    unsupported_extension = 110
    certificate_required = 116


class ProtocolError(Exception):
    """A check failed. ``alert`` names the TLS alert; ``check`` the named check id."""

    alert: Alert = Alert.internal_error

    def __init__(self, reason: str, *, alert: Alert | None = None, check: str | None = None,
                 section: str | None = None):
        if alert is not None:
            self.alert = alert
        self.reason = reason
        self.check = check
        self.section = section
        where = f" [{check}, {section}]" if check else ""
        super().__init__(f"{self.alert.name}: {reason}{where}")

    def as_dict(self) -> dict:
        return {"alert": self.alert.name, "reason": self.reason, "check": self.check,
                "section": self.section}


class DecodeError(ProtocolError):
    alert = Alert.decode_error


class IllegalParameter(ProtocolError):
    alert = Alert.illegal_parameter


class UnsupportedExtension(ProtocolError):
    alert = Alert.unsupported_extension


class MissingExtension(ProtocolError):
    alert = Alert.missing_extension


class DecryptError(ProtocolError):
    alert = Alert.decrypt_error


class BadCertificate(ProtocolError):
    alert = Alert.bad_certificate


class UnexpectedMessage(ProtocolError):
    alert = Alert.unexpected_message


class InternalError(ProtocolError):
    alert = Alert.internal_error


_BY_ALERT = {cls.alert: cls for cls in (DecodeError, IllegalParameter, UnsupportedExtension,
                                        MissingExtension, DecryptError, BadCertificate,
                                        UnexpectedMessage, InternalError)}


def error_class(alert: Alert) -> type[ProtocolError]:
    """The most specific ProtocolError subclass for ``alert``."""
    return _BY_ALERT.get(alert, ProtocolError)
