"""The model's own TLS 1.3 key-schedule pieces and the attestation binder, over ``cryptography``.

The checker must not share a bug with the code it judges, so nothing here comes from
:mod:`expat.reference`: HKDF-Expand is ``cryptography``'s ``HKDFExpand``, hashes and HMAC are
``cryptography``'s, and the labels are written from the RFCs:

* HKDF-Expand-Label and Derive-Secret: RFC 8446 §7.1 (struct HkdfLabel, "tls13 " prefix);
* TLS-Exporter(label, context, length): RFC 8446 §7.5;
* binding: draft §5.1 ("02" H(public_key || exported_value), "01" H(nonce || public_key ||
  exported_value), or the exported value itself); AIK_pub_hash: draft §5.2.

tests/test_model_tlskdf.py checks these against the reference's key schedule and against OpenSSL's
``export_keying_material`` on a live connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

_ALGORITHMS = {"sha256": hashes.SHA256, "sha384": hashes.SHA384}
_ALGORITHM_OBJECTS = {name: cls() for name, cls in _ALGORITHMS.items()}  # stateless: one of each serves


@dataclass(frozen=True)
class SuiteHash:
    """The hash of a TLS 1.3 cipher suite (RFC 8446 §B.4), as the model computes with it."""

    name: str  # "sha256" | "sha384"

    def algorithm(self) -> hashes.HashAlgorithm:
        return _ALGORITHM_OBJECTS[self.name]

    @property
    def length(self) -> int:  # Hlen
        return self.algorithm().digest_size

    def digest(self, data: bytes) -> bytes:
        h = hashes.Hash(self.algorithm())
        h.update(data)
        return h.finalize()

    def hmac(self, key: bytes, data: bytes) -> bytes:
        m = _hmac.HMAC(key, self.algorithm())
        m.update(data)
        return m.finalize()


SHA256 = SuiteHash("sha256")
SHA384 = SuiteHash("sha384")
_OWN = {"sha256": SHA256, "sha384": SHA384}


def own(h: SuiteHash) -> SuiteHash:
    """This module's SuiteHash of ``h``'s name (``h`` may be any hash object with a name: only the name is
    read); the module's instances are frozen, so one per name serves."""
    return _OWN.get(h.name) or SuiteHash(h.name)

# RFC 8446 §B.4: the suite names the hash of HKDF and of the transcript.
SUITE_HASH: dict[str, SuiteHash] = {
    "TLS_AES_128_GCM_SHA256": SHA256,
    "TLS_CHACHA20_POLY1305_SHA256": SHA256,
    "TLS_AES_128_CCM_SHA256": SHA256,
    "TLS_AES_128_CCM_8_SHA256": SHA256,
    "TLS_AES_256_GCM_SHA384": SHA384,
}


def hkdf_expand(h: SuiteHash, prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand(PRK, info, L) (RFC 5869 §2.3). ``h`` is read by name only, so any hash object
    named "sha256" or "sha384" will do; the computation is always this module's."""
    return HKDFExpand(_ALGORITHMS[h.name](), length, info).derive(prk)


def hkdf_expand_label(h: SuiteHash, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """HKDF-Expand-Label (RFC 8446 §7.1): info is struct HkdfLabel {uint16 length; opaque
    label<7..255> = "tls13 " + Label; opaque context<0..255>}."""
    full = b"tls13 " + label
    if not 7 <= len(full) <= 255 or len(context) > 255 or not 0 <= length <= 0xFFFF:
        raise ValueError("HkdfLabel field out of range (RFC 8446 §7.1)")
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return hkdf_expand(h, secret, info, length)


def derive_secret(h: SuiteHash, secret: bytes, label: bytes, messages: bytes) -> bytes:
    """Derive-Secret(Secret, Label, Messages) (RFC 8446 §7.1)."""
    mine = own(h)
    return hkdf_expand_label(mine, secret, label, mine.digest(messages), mine.length)


def tls_exporter(h: SuiteHash, exporter_master_secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """TLS-Exporter(label, context_value, key_length) (RFC 8446 §7.5):
    HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter", Hash(context_value), key_length)."""
    mine = own(h)
    if len(exporter_master_secret) != mine.length:
        raise ValueError(f"exporter_master_secret must be {mine.length} bytes for {mine.name}")
    return hkdf_expand_label(mine, derive_secret(mine, exporter_master_secret, label, b""), b"exporter",
                             mine.digest(context), length)


def binding(h: SuiteHash, formula: str, public_key: bytes, exported_value: bytes, nonce: bytes = b"") -> bytes:
    """The binding by formula (draft §5.1; "01" is the -01 form with the Verifier nonce in front)."""
    mine = own(h)
    if formula == "02":
        return mine.digest(public_key + exported_value)
    if formula == "01":
        return mine.digest(nonce + public_key + exported_value)
    if formula == "exporter":
        return exported_value
    raise ValueError(f"unknown binding formula {formula!r}")
