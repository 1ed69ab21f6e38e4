"""The TLS 1.3 key-schedule pieces expat needs, written literally (RFC 8446 §7.1, §7.5).

Nothing here talks to OpenSSL: these functions are checked against OpenSSL's
``export_keying_material`` on live connections and against RFC 8448 vectors.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class HashAlg:
    """The hash of a TLS 1.3 cipher suite (RFC 8446 §B.4)."""

    name: str  # "sha256" | "sha384"

    @property
    def length(self) -> int:  # Hlen
        return hashlib.new(self.name).digest_size

    def digest(self, data: bytes) -> bytes:
        return hashlib.new(self.name, data).digest()

    def hmac(self, key: bytes, data: bytes) -> bytes:
        return hmac.new(key, data, self.name).digest()


SHA256 = HashAlg("sha256")
SHA384 = HashAlg("sha384")
HASHES = {"sha256": SHA256, "sha384": SHA384}

# RFC 8446 §B.4: the suite names the hash used by HKDF and the transcript.
CIPHER_SUITE_HASH = {
    "TLS_AES_128_GCM_SHA256": SHA256,
    "TLS_CHACHA20_POLY1305_SHA256": SHA256,
    "TLS_AES_128_CCM_SHA256": SHA256,
    "TLS_AES_128_CCM_8_SHA256": SHA256,
    "TLS_AES_256_GCM_SHA384": SHA384,
}


def hash_for(name: str) -> HashAlg:
    try:
        return HASHES[name.lower()]
    except KeyError:
        raise ValueError(f"unsupported hash {name!r} (sha256 or sha384)") from None


def hkdf_extract(h: HashAlg, salt: bytes, ikm: bytes) -> bytes:
    """RFC 5869 §2.2 (used by the RFC 8448 known-answer tests, not by exporters)."""
    return h.hmac(salt or bytes(h.length), ikm)


def hkdf_expand(h: HashAlg, prk: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) | info | i)."""
    if length > 255 * h.length:
        raise ValueError("HKDF-Expand length too large")
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = h.hmac(prk, t + info + bytes([i]))
        out += t
        i += 1
    return out[:length]


def hkdf_label(label: bytes, context: bytes, length: int) -> bytes:
    """struct HkdfLabel (RFC 8446 §7.1): uint16 length, opaque label<7..255>, opaque context<0..255>."""
    full = b"tls13 " + label
    if not 7 <= len(full) <= 255:
        raise ValueError("HkdfLabel.label must be 7..255 bytes including 'tls13 '")
    if len(context) > 255:
        raise ValueError("HkdfLabel.context must be at most 255 bytes")
    if not 0 <= length <= 0xFFFF:
        raise ValueError("HkdfLabel.length must fit uint16")
    return length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context


def hkdf_expand_label(h: HashAlg, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 §7.1)."""
    return hkdf_expand(h, secret, hkdf_label(label, context, length), length)


def derive_secret(h: HashAlg, secret: bytes, label: bytes, messages: bytes) -> bytes:
    """Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hlen)."""
    return hkdf_expand_label(h, secret, label, h.digest(messages), h.length)


def tls_exporter(h: HashAlg, exporter_master_secret: bytes, label: bytes, context: bytes,
                 length: int) -> bytes:
    """TLS-Exporter(label, context_value, key_length) (RFC 8446 §7.5).

    = HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter", Hash(context_value), key_length).
    In TLS 1.3 an absent context and an empty one are the same (both hash "").
    """
    if len(exporter_master_secret) != h.length:
        raise ValueError(f"exporter_master_secret must be {h.length} bytes for {h.name}")
    per_label = derive_secret(h, exporter_master_secret, label, b"")
    return hkdf_expand_label(h, per_label, b"exporter", h.digest(context), length)


class Exporter(Protocol):
    """What the EA and attestation layers need from a TLS connection.

    ``hash`` is the negotiated suite's hash; ``export`` is TLS-Exporter computed by
    whatever has the secret (OpenSSL on a live connection, or :class:`SecretExporter`).
    """

    hash: HashAlg

    def export(self, label: bytes, context: bytes, length: int) -> bytes: ...


@dataclass(frozen=True)
class SecretExporter:
    """TLS-Exporter from a known exporter_master_secret (keylog EXPORTER_SECRET)."""

    hash: HashAlg
    exporter_master_secret: bytes

    def export(self, label: bytes, context: bytes, length: int) -> bytes:
        return tls_exporter(self.hash, self.exporter_master_secret, label, context, length)
