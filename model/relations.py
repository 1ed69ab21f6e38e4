"""Data relations the checker recomputes literally from what a trace carries.

Independent of the reference implementation on purpose: the binding (draft §5.1), AIK_pub_hash
(§5.2) and the Exported Authenticator's CertificateVerify and Finished (RFC 9261 §5.1, §5.2.2,
§5.2.3) are recomputed here from ``cryptography`` and the model's own key schedule
(:mod:`expat.model.tlskdf`), so a trace is checked against the spec rather than against the code that
produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from expat.model import tlskdf
from expat.model.roles import flag
from expat.model.tlskdf import SHA256, SHA384, SUITE_HASH, SuiteHash, tls_exporter

DEFAULT_EXPORTER_LABEL = "Attestation"  # draft -02 §5.1 (the §4 text says "Attestation Binding")
EXPORTER_LABELS = ("Attestation", "Attestation Binding")


def suite_hash(suite: str) -> SuiteHash:
    return SUITE_HASH[suite]


def exporter_label(profile: dict) -> str:
    return str(profile.get("exporter_label", DEFAULT_EXPORTER_LABEL))


def exporter_length(profile: dict, h: SuiteHash) -> int:
    """draft §5.1 says 32; profile "hash" = Hlen, "64" = the Rust implementation."""
    return {"32": 32, "hash": h.length, "64": 64}[str(profile.get("exporter_length", "32"))]


def public_key_bytes(spki_der: bytes, profile: dict) -> Optional[bytes]:
    """"public_key" of §5.1/§5.2 in the profile's encoding: "spki" (DER SPKI) or "raw"."""
    if profile.get("public_key_encoding", "spki") == "spki":
        return spki_der
    try:
        key = serialization.load_der_public_key(spki_der)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return None


def aik_hash(h: SuiteHash, spki_der: bytes, profile: dict) -> Optional[bytes]:
    """AIK_pub_hash = H(AIK public key) with the connection's suite hash (§5.2)."""
    pk = public_key_bytes(spki_der, profile)
    return None if pk is None else tlskdf.own(h).digest(pk)


def exported_value(h: SuiteHash, exporter_master_secret: bytes, profile: dict, ctx: bytes,
                   label: str | None = None) -> bytes:
    """TLS-Exporter(label, certificate_request_context, length) (§5.1; RFC 8446 §7.5)."""
    label = exporter_label(profile) if label is None else label
    return tls_exporter(h, exporter_master_secret, label.encode("ascii"), ctx, exporter_length(profile, h))


def binding(h: SuiteHash, profile: dict, spki_der: bytes, exported: bytes, nonce: bytes = b"") -> Optional[bytes]:
    """The binding per the profile's formula: "02" H(pk || ev), "01" H(nonce || pk || ev),
    "exporter" ev; the public key is left out when include_public_key_in_binding is off."""
    pk = public_key_bytes(spki_der, profile)
    if pk is None:
        return None
    if not flag(profile, "include_public_key_in_binding"):
        pk = b""
    return tlskdf.binding(h, str(profile.get("binding_formula", "02")), pk, exported, nonce)


def certificate_spki(cert_der: bytes) -> Optional[bytes]:
    """The end-entity certificate's key as DER SubjectPublicKeyInfo, as ``cryptography`` encodes it; None when
    the certificate or its key does not parse.

    ``cryptography`` parses the certificate; a key in one of the encodings it writes itself (an uncompressed
    point on P-256/384/521 with the named curve, or Ed25519) is then read from the certificate's own bytes,
    with the point on its curve checked here (:func:`canonical_spki`): the same answer, without decoding the
    point into a key object and encoding it back (about 5 % of ``expat check``, docs/performance.md, ninth
    pass). Any other key goes through ``public_key()`` and ``public_bytes``."""
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except Exception:  # any parse failure: not a certificate
        return None
    spki = _spki_field(cert_der)
    known = None if spki is None else canonical_spki(spki)
    if known is not None:
        return spki if known else None
    try:
        return cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    except Exception:  # the key does not parse
        return None


def _tlv(buf: bytes, off: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER element at ``off`` (definite lengths only)."""
    tag, n = buf[off], buf[off + 1]
    off += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[off:off + k], "big")
        off += k
    if off + n > len(buf):
        raise IndexError("element runs past its container")
    return tag, off, off + n


# _spki_field's walk from the certificate's start: into Certificate and TBSCertificate, past the optional
# [0] version, past serialNumber, signature, issuer, validity and subject; then the element there is taken
_SPKI_WALK = ("in", "in", "version", "past", "past", "past", "past", "past", "take")


def _spki_field(cert_der: bytes) -> Optional[bytes]:
    """The subjectPublicKeyInfo element of a certificate ``cryptography`` has parsed (RFC 5280 §4.1: the
    seventh field of TBSCertificate, after the optional [0] version, serialNumber, signature, issuer,
    validity and subject); None if the walk does not find a SEQUENCE there. :func:`_tlv` read in line,
    element by element along ``_SPKI_WALK`` (one call instead of nine; tests/test_certificate_spki.py
    compares it with :func:`_spki_field_by_tlv`)."""
    size = len(cert_der)
    off = 0
    try:
        for step in _SPKI_WALK:
            tag, n = cert_der[off], cert_der[off + 1]
            start = off + 2
            if n & 0x80:
                k = n & 0x7F
                n = int.from_bytes(cert_der[start:start + k], "big")
                start += k
            end = start + n
            if end > size:  # the element runs past its container
                return None
            if step == "in":
                off = start
            elif step == "past" or tag == 0xA0:  # (a version is passed; anything else is the serialNumber)
                off = end
            elif step == "take":
                return cert_der[off:end] if tag == 0x30 else None
    except IndexError:
        return None
    return None  # pragma: no cover - the walk ends with "take"


def _spki_field_by_tlv(cert_der: bytes) -> Optional[bytes]:
    """:func:`_spki_field` as a walk of :func:`_tlv` calls (the reference its tests compare with)."""
    try:
        _, off, _ = _tlv(cert_der, 0)           # Certificate
        _, off, _ = _tlv(cert_der, off)         # TBSCertificate
        if cert_der[off] == 0xA0:               # version
            off = _tlv(cert_der, off)[2]
        for _ in range(5):                      # serialNumber, signature, issuer, validity, subject
            off = _tlv(cert_der, off)[2]
        tag, _, end = _tlv(cert_der, off)
    except IndexError:
        return None
    return cert_der[off:end] if tag == 0x30 else None


# The SubjectPublicKeyInfo prefixes ``cryptography`` writes (RFC 5480 §2 with the named curve, RFC 8410 §4)
# up to the key, and for each prime curve its coordinate length, p and b (SEC 2 §2.4; a = -3 on all three).
_ED25519_SPKI = bytes.fromhex("302a300506032b6570032100")
_EC_SPKI: dict[bytes, tuple[int, int, int]] = {
    bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200"): (
        32, 2**256 - 2**224 + 2**192 + 2**96 - 1,
        0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B),
    bytes.fromhex("3076301006072a8648ce3d020106052b81040022036200"): (
        48, 2**384 - 2**128 - 2**96 + 2**32 - 1,
        0xB3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF),
    bytes.fromhex("30819b301006072a8648ce3d020106052b8104002303818600"): (
        66, 2**521 - 1,
        0x0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF109E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B503F00),
}


def canonical_spki(spki: bytes) -> Optional[bool]:
    """For a key in an encoding ``cryptography`` writes itself: True if it loads (``public_bytes`` then gives
    these very bytes back), False if it does not (a point off its curve, or a coordinate not below p); None
    for any other encoding, which only ``cryptography`` decides. Ed25519 keys are 32 bytes, loaded without
    a check of the point."""
    if len(spki) == 44 and spki.startswith(_ED25519_SPKI):
        return True
    for prefix, (n, p, b) in _EC_SPKI.items():
        if len(spki) == len(prefix) + 1 + 2 * n and spki.startswith(prefix):
            if spki[len(prefix)] != 4:          # not an uncompressed point: cryptography decides
                return None
            x = int.from_bytes(spki[len(prefix) + 1:len(prefix) + 1 + n], "big")
            y = int.from_bytes(spki[len(prefix) + 1 + n:], "big")
            return x < p and y < p and (y * y - (x * x * x - 3 * x + b)) % p == 0
    return None


# --- Exported Authenticator (RFC 9261 §5) -------------------------------------------------------

class Malformed(ValueError):
    pass


def _take(buf: bytes, off: int, n: int) -> tuple[bytes, int]:
    if off + n > len(buf):
        raise Malformed("truncated")
    return buf[off:off + n], off + n


def split_handshake(buf: bytes) -> list[tuple[int, bytes, bytes]]:
    """Handshake messages (type, body, full encoding) of a concatenation (RFC 8446 §4)."""
    out, off, end = [], 0, len(buf)
    while off < end:
        if off + 4 > end:  # (the bounds of _take, checked in line: one request per trace is split)
            raise Malformed("truncated")
        stop = off + 4 + int.from_bytes(buf[off + 1:off + 4], "big")
        if stop > end:
            raise Malformed("truncated")
        out.append((buf[off], buf[off + 4:stop], buf[off:stop]))
        off = stop
    return out


def parse_request(msg: bytes) -> tuple[int, bytes, list[tuple[int, bytes]]]:
    """(msg_type, certificate_request_context, extensions) of a CertificateRequest (13) or
    ClientCertificateRequest (17) (RFC 9261 §4)."""
    if len(msg) >= 4 and 4 + int.from_bytes(msg[1:4], "big") == len(msg) and msg[0] in (13, 17):
        msg_type, body = msg[0], msg[4:]  # the recorded request: one message, exactly the bytes given
    else:  # split_handshake decides (and words) every other case, as before
        msgs = split_handshake(msg)
        if len(msgs) != 1 or msgs[0][0] not in (13, 17):
            raise Malformed("not a single (Client)CertificateRequest")
        msg_type, body = msgs[0][0], msgs[0][1]
    end = len(body)
    if end < 1 or 1 + body[0] + 2 > end:  # context<0..255>, then the extensions' length
        raise Malformed("truncated")
    off = 1 + body[0]
    ctx = body[1:off]
    stop = off + 2 + int.from_bytes(body[off:off + 2], "big")
    if stop > end:
        raise Malformed("truncated")
    if stop != end:
        raise Malformed("trailing bytes")
    block = body[off + 2:stop]
    exts, p, end = [], 0, len(block)
    while p < end:
        if p + 4 > end:  # extension_type, then extension_data's length
            raise Malformed("truncated")
        stop = p + 4 + int.from_bytes(block[p + 2:p + 4], "big")
        if stop > end:
            raise Malformed("truncated")
        exts.append((int.from_bytes(block[p:p + 2], "big"), block[p + 4:stop]))
        p = stop
    return msg_type, ctx, exts


@dataclass
class Authenticator:
    ctx: bytes
    leaf: bytes
    certificate: bytes  # full Certificate message
    certificate_verify: bytes  # full CertificateVerify message
    scheme: int
    signature: bytes
    finished: bytes  # verify_data


def parse_authenticator(data: bytes) -> Authenticator:
    """Certificate || CertificateVerify || Finished (RFC 9261 §5.2.4)."""
    msgs = split_handshake(data)
    if [m[0] for m in msgs] != [11, 15, 20]:
        raise Malformed("expected Certificate, CertificateVerify, Finished")
    body = msgs[0][1]
    n, off = _take(body, 0, 1)
    ctx, off = _take(body, off, n[0])
    ln, off = _take(body, off, 3)
    entries, off = _take(body, off, int.from_bytes(ln, "big"))
    if off != len(body):
        raise Malformed("trailing bytes in Certificate")
    cl, p = _take(entries, 0, 3)
    leaf, p = _take(entries, p, int.from_bytes(cl, "big"))
    if not leaf:
        raise Malformed("empty certificate")
    cv = msgs[1][1]
    scheme, q = _take(cv, 0, 2)
    sl, q = _take(cv, q, 2)
    sig, q = _take(cv, q, int.from_bytes(sl, "big"))
    if q != len(cv):
        raise Malformed("trailing bytes in CertificateVerify")
    return Authenticator(ctx, leaf, msgs[0][2], msgs[1][2], int.from_bytes(scheme, "big"), sig, msgs[2][1])


def ea_keys(h: SuiteHash, ems: bytes, sender_side: str) -> tuple[bytes, bytes]:
    """(Handshake Context, Finished MAC Key) for the authenticator's sender (RFC 9261 §5.1)."""
    hc = tls_exporter(h, ems, f"EXPORTER-{sender_side} authenticator handshake context".encode(), b"", h.length)
    fk = tls_exporter(h, ems, f"EXPORTER-{sender_side} authenticator finished key".encode(), b"", h.length)
    return hc, fk


_SCHEME_HASH = {0x0403: hashes.SHA256(), 0x0503: hashes.SHA384(), 0x0603: hashes.SHA512(),
                0x0804: hashes.SHA256(), 0x0805: hashes.SHA384(), 0x0806: hashes.SHA512()}


def verify_signature(spki_der: bytes, scheme: int, signature: bytes, content: bytes) -> bool:
    """A TLS 1.3 SignatureScheme signature (RFC 8446 §4.2.3); PKCS#1 v1.5 is not allowed in EAs."""
    try:
        key = serialization.load_der_public_key(spki_der)
        if scheme == 0x0807 and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, content)
        elif scheme in (0x0403, 0x0503, 0x0603) and isinstance(key, ec.EllipticCurvePublicKey):
            curve = {0x0403: "secp256r1", 0x0503: "secp384r1", 0x0603: "secp521r1"}[scheme]
            if key.curve.name != curve:
                return False
            key.verify(signature, content, ec.ECDSA(_SCHEME_HASH[scheme]))
        elif scheme in (0x0804, 0x0805, 0x0806) and isinstance(key, rsa.RSAPublicKey):
            algo = _SCHEME_HASH[scheme]
            key.verify(signature, content, padding.PSS(padding.MGF1(algo), algo.digest_size), algo)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def check_authenticator(h: SuiteHash, ems: bytes, sender_side: str, request: bytes, auth: Authenticator,
                        spki_der: bytes) -> list[tuple[str, str]]:
    """Recompute CertificateVerify and Finished (RFC 9261 §5.2.2, §5.2.3); (rule, detail) failures."""
    import hmac as _hmac

    problems = []
    h = tlskdf.own(h)
    hc, fk = ea_keys(h, ems, sender_side)
    content = b"\x20" * 64 + b"Exported Authenticator" + b"\x00" + h.digest(hc + request + auth.certificate)
    if not verify_signature(spki_der, auth.scheme, auth.signature, content):
        problems.append(("ea-signature", "CertificateVerify does not verify under the AIK (RFC 9261 §5.2.2)"))
    want = h.hmac(fk, h.digest(hc + request + auth.certificate + auth.certificate_verify))
    if not _hmac.compare_digest(want, auth.finished):
        problems.append(("ea-finished", "Finished is not HMAC(FinishedMACKey, H(HC||request||Certificate||CV)) "
                                        "(RFC 9261 §5.2.3)"))
    return problems


HASHES_FOR_AE = (SHA256, SHA384)
