"""Profiles: every point the draft leaves open, as a named parameter with a documented default.

draft-fossati-seat-expat-02 leaves several things ambiguous or unspecified (DIGEST §3.8). expat
never picks a reading silently: each one is a field of :class:`Profile`, the ``default`` profile is
our -02-conformant reading, and the other entries of :data:`PROFILES` each switch one reading (or a
draft revision). A profile is recorded in every trace header (:meth:`Profile.to_dict`).

:class:`Mitigations` groups the defensive checks. All are on by default; attack demos turn one off
on purpose, and the trace says which (:meth:`Profile.variant_name`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any, Literal

Revision = Literal["01", "02", "editors", "04"]

# Value sets of the string-valued parameters (validated in __post_init__).
REVISIONS = ("01", "02", "editors", "04")
# -02 §5.1 "Attestation", -02 §4 (and Rust) "Attestation Binding", -04 §5.1 and §9.2 "EXPORTER-cmw-attestation"
EXPORTER_LABELS = ("Attestation", "Attestation Binding", "EXPORTER-cmw-attestation")
BINDING_CHECKS = ("local", "delegated")
PUBLIC_KEY_ENCODINGS = ("spki", "raw")
EXPORTER_LENGTHS = ("32", "hash", "64")
BINDING_FORMULAS = ("02", "01", "exporter")
EVIDENCE_CLAIMS = ("nonce+private-claim", "nonce-array")
MISSING_ATTESTATION_POLICIES = ("reject", "accept-unattested")
CONTEXT_SOURCES = ("verifier-nonce", "random")
CMW_SERIALIZATIONS = ("cbor", "json")
AIK_CERTIFICATES = ("device-ca", "self-signed")
EAR_MEDIA_TYPES = ("ear-03", "rfc9782")


@dataclass(frozen=True)
class Mitigations:
    """Defensive checks; each can be switched off by an attack demo (never by a real deployment).

    check_binding
        The receiver (or the Verifier it delegates to) compares the Evidence's binding with the one it
        computes from its own side of the connection (draft §5.1 last paragraph).
    check_aik_pub_hash
        The receiver compares AIK_pub_hash in the Evidence with the hash of the EA end-entity key
        (draft §5.2). Off = the relay/split-deployment attack of draft §5.2 and §7 goes unnoticed.
    include_public_key_in_binding
        The binding hashes the AIK public key with the exporter output (draft -02 §5.1; enforced in
        attestation/binding.py). Off = binding = H(exported_value), the same in both directions of a
        connection: the reflection attack (attack ``reflection-without-public-key``).
    check_context_unique
        certificate_request_context values are never reused on a connection (RFC 9261 §4, §5.2.1):
        the EA session (ea.EASession ``check_context_unique``) refuses a peer request or authenticator
        reusing one of its own contexts. Off only as the reflection attack's baseline.
    reject_spontaneous_attestation
        cmw_attestation is accepted only in an authenticator that answers a request offering it
        (draft §3.1, §3.2; DIGEST §3.8 #8): a spontaneous server authenticator carrying it fails
        check ``expat02-3.1-spontaneous-attestation`` (unsupported_extension). Off = the client treats
        it as if requested, and its EA session lists cmw_attestation among the ClientHello's
        extensions (RFC 9261 §5.2.1) (attack ``spontaneous-attestation``).
    reject_resumption
        No session tickets / PSK resumption / early data on connections that need attestation
        (-02 §7.2 recipe; MUSTs in the editor's copy, DIGEST §3.7): the server issues no ticket, the
        client discards one (attestation/resumption.py). Off = tickets are issued and kept, and a
        connection resumed with one (a real TLS 1.3 PSK handshake) inherits the attestation state
        (attack ``resumption-inherits-attestation``).
    check_exporter_label
        The receiver recomputes the binding with the profile's exporter label only. Off = it also
        accepts a binding computed with the other label (§4 vs §5.1, DIGEST §3.8 #1).
    check_verifier_nonce
        The Verifier accepts a nonce only if it issued it and it was not used before (§5.1).
    check_evidence_signature
        The Verifier verifies the Evidence signature and its chain to the manufacturer anchor (§7).
    verifier_compares_binding
        With ``binding_check="delegated"`` (-04 §5.1) the Verifier compares the binding the Relying
        Party conveyed with the one in the Evidence before it confirms it in the Attestation Result.
        Off = the Verifier confirms the conveyed binding without comparing: Evidence made for another
        connection is accepted (attack ``delegated-verifier-skips-comparison``).
    require_trust_anchors
        The Relying Party validates the AIK certificate chain (RFC 9261 §7.4; X.509 validation stays a
        MUST, draft -02 §3.3) and refuses when it has no trust anchor configured (check
        ``expat-pkix-anchors-configured``). Off = with no anchors the chain is not validated and an AIK
        certificate from any CA is accepted (the gap a reviewer found, issue 15).
    """

    check_binding: bool = True
    check_aik_pub_hash: bool = True
    include_public_key_in_binding: bool = True
    check_context_unique: bool = True
    reject_spontaneous_attestation: bool = True
    reject_resumption: bool = True
    check_exporter_label: bool = True
    check_verifier_nonce: bool = True
    check_evidence_signature: bool = True
    verifier_compares_binding: bool = True
    require_trust_anchors: bool = True

    def disabled(self) -> list[str]:
        return [f.name for f in fields(self) if not getattr(self, f.name)]


@dataclass(frozen=True)
class Profile:
    """One reading of the draft. Field defaults are the ``default`` profile (draft -02)."""

    name: str = "default"
    """Registry name (informative; not part of the semantics)."""

    revision: Revision = "02"
    """Draft revision whose rules apply: "01", "02" (default), "editors" (editor's copy after -02) or
    "04" (editor's copy of 2026-09-19). The editor's copy and -04 turn -02's informative §7.2 recipe
    into MUSTs: no NewSessionTicket from a server that requires attestation, no early data, a received
    ticket is discarded and never used (DIGEST §3.7, §3.8 #20)."""

    cmw_attestation_codepoint: int = 0xFFFF
    """TLS ExtensionType of cmw_attestation. The draft leaves it TBD (§9.1); 0xFFFF lies in the
    Private Use range (first byte 255, RFC 8446 §11) and is what the existing Rust implementation
    uses (DIGEST §6 R18, §3.8 #12)."""

    exporter_label: str = "Attestation"
    """Exporter label of the binding: "Attestation" (§5.1, default) or "Attestation Binding" (§4, and
    the Rust implementation). DIGEST §3.8 #1, #7."""

    public_key_encoding: str = "spki"
    """How "public_key" is serialized for the binding and for AIK_pub_hash (the draft does not say,
    DIGEST §3.8 #4): "spki" = DER SubjectPublicKeyInfo (default, unambiguous across key types) or
    "raw" = the subjectPublicKey BIT STRING contents (0x04||X||Y for EC, 32 bytes for Ed25519).
    Both hashes use the same encoding."""

    exporter_length: str = "32"
    """Exporter output length: "32" as §5.1 says (default), "hash" = Hlen of the suite hash (as RFC
    9261 does for its own exporters), or "64" (the Rust implementation). DIGEST §3.8 #5, §6 R21."""

    binding_formula: str = "02"
    """"02": binding = H(public_key || exported_value) (-02 §5.1, default).
    "01": binding = H(nonce || public_key || exported_value) (-01 §5). -01 never defines the nonce; our
    reading is: the Verifier-provided nonce in the background-check model, the empty string otherwise.
    "exporter": the raw exporter output is the binding (-01's sentence that the exporter value is
    included as produced; the Rust implementation). DIGEST §3.4, §3.8 #2, #3."""

    evidence_claims: str = "nonce+private-claim"
    """Where binding and AIK_pub_hash travel in EAT Evidence (draft §5.1/§5.2 give no mapping, DIGEST
    §3.8 #6, §5.1): "nonce+private-claim" (default) = eat_nonce (key 10) is the binding and
    AIK_pub_hash is a profile-defined private claim; "nonce-array" = eat_nonce is the array
    [binding, AIK_pub_hash] (borrows EAT's multi-nonce form)."""

    passport_binding_echo: bool = True
    """Passport model: True (default) = the Attestation Result must echo the binding (EAR per-appraisal
    eat_nonce) and the Relying Party compares it; False = the draft's literal §4 passport check
    (signature and policy only), which lets an AR be replayed into another connection (DIGEST §3.8 #10)."""

    missing_attestation_policy: str = "reject"
    """What the requester does when the authenticator answers an attestation request without
    cmw_attestation: "reject" (default) or "accept-unattested" (§3.3 only says MAY reject; DIGEST §3.8 #16)."""

    context_source: str = "verifier-nonce"
    """Background check: where the certificate_request_context comes from. "verifier-nonce" (default):
    the Relying Party obtains a nonce from the Verifier and uses it as the context (§5.1 says the
    context "contains" the Verifier nonce; we read it as "equals"); "random": the RP picks a fresh
    random context and the Verifier nonce is not used (DIGEST §3.8 #9)."""

    cmw_serialization: str = "cbor"
    """CMW serialization put into cmw_attestation: "cbor" (default) or "json" (§3 allows either with no
    signalling; receivers sniff the first byte, DIGEST §3.8 #14, §4.5)."""

    aik_certificate: str = "device-ca"
    """How the AIK certificate in the EA is issued: "device-ca" (default; by a device CA, validated by
    PKIX as §3.3 demands) or "self-signed" (trusted only through AIK_pub_hash in the Evidence; DIGEST
    §3.8 #17)."""

    binding_check: str = "local"
    """Who compares the binding (-04 §5.1 lets the receiving endpoint choose): "local" (default) = the
    Relying Party compares it itself (and still hands it to the Verifier, which compares it again);
    "delegated" = the Relying Party does not compare, it conveys the binding it computed with the
    Evidence, the Verifier compares and confirms it in the Attestation Result (EAR claim
    ``expat_binding_confirmed``), and the Relying Party refuses a result that does not confirm it.
    Background-check model only: in the passport model there is no Relying Party-to-Verifier call
    to delegate to, so "delegated" is refused there (docs/profiles.md)."""

    ear_media_type: str = "ear-03"
    """Media type put on EAR CMW records: "ear-03" = application/eat-cwt with the EAR profile parameter
    as EAR -03 §5 spells it (default), or "rfc9782" = the registered application/eat+cwt."""

    mitigations: Mitigations = field(default_factory=Mitigations)
    """Defensive checks, all on by default (see :class:`Mitigations`)."""

    def __post_init__(self) -> None:
        allowed = {"revision": REVISIONS, "exporter_label": EXPORTER_LABELS,
                   "public_key_encoding": PUBLIC_KEY_ENCODINGS, "exporter_length": EXPORTER_LENGTHS,
                   "binding_formula": BINDING_FORMULAS, "evidence_claims": EVIDENCE_CLAIMS,
                   "missing_attestation_policy": MISSING_ATTESTATION_POLICIES,
                   "context_source": CONTEXT_SOURCES, "cmw_serialization": CMW_SERIALIZATIONS,
                   "aik_certificate": AIK_CERTIFICATES, "ear_media_type": EAR_MEDIA_TYPES,
                   "binding_check": BINDING_CHECKS}
        for name, values in allowed.items():
            if getattr(self, name) not in values:
                raise ValueError(f"profile {name}={getattr(self, name)!r}: expected one of {values}")
        if not isinstance(self.passport_binding_echo, bool):
            raise ValueError("passport_binding_echo must be a bool")
        if not (isinstance(self.cmw_attestation_codepoint, int) and 0 <= self.cmw_attestation_codepoint <= 0xFFFF):
            raise ValueError("cmw_attestation_codepoint must be a uint16")

    # --- derived facts -----------------------------------------------------------------------

    @property
    def forbids_resumption(self) -> bool:
        """Editor's copy and -04 §7.2 make no-NST / no-early-data MUSTs; -01/-02 only suggest it."""
        return self.revision in ("editors", "04")

    @property
    def delegated(self) -> bool:
        """-04 §5.1: the Relying Party delegates the binding comparison to the Verifier."""
        return self.binding_check == "delegated"

    def with_mitigations(self, **off: bool) -> "Profile":
        return dataclasses.replace(self, mitigations=dataclasses.replace(self.mitigations, **off))

    def variant_name(self) -> str:
        """``name`` plus every setting that differs from the default profile (for trace headers)."""
        base, diffs = Profile(), []
        for f in fields(self):
            if f.name in ("name", "mitigations"):
                continue
            value = getattr(self, f.name)
            if value != getattr(base, f.name):
                diffs.append(f"{f.name}={_show(value)}")
        diffs += [f"-{m}" for m in self.mitigations.disabled()]
        return self.name + (f"[{', '.join(diffs)}]" if diffs else "")

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "mitigations"}
        d["mitigations"] = dataclasses.asdict(self.mitigations)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Profile":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown profile parameters: {sorted(unknown)}")
        kw = dict(d)
        if "mitigations" in kw:
            m = kw["mitigations"]
            m_known = {f.name for f in fields(Mitigations)}
            if not isinstance(m, dict) or set(m) - m_known:
                raise ValueError(f"bad mitigations: {m!r}")
            kw["mitigations"] = Mitigations(**m)
        return cls(**kw)


def _show(value: Any) -> str:
    return f"0x{value:04x}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _p(name: str, **kw: Any) -> Profile:
    return Profile(name=name, **kw)


PROFILES: dict[str, Profile] = {p.name: p for p in (
    _p("default"),
    # draft revisions
    _p("rev01", revision="01", binding_formula="01"),
    _p("editors", revision="editors"),
    _p("rev04", revision="04", exporter_label="EXPORTER-cmw-attestation"),
    _p("rev04-delegated", revision="04", exporter_label="EXPORTER-cmw-attestation", binding_check="delegated"),
    # one alternative reading each
    _p("label-attestation-binding", exporter_label="Attestation Binding"),
    _p("raw-public-key", public_key_encoding="raw"),
    _p("exporter-hlen", exporter_length="hash"),
    _p("binding-01", binding_formula="01"),
    _p("binding-raw-exporter", binding_formula="exporter"),
    _p("nonce-array", evidence_claims="nonce-array"),
    _p("passport-literal", passport_binding_echo=False),
    _p("accept-unattested", missing_attestation_policy="accept-unattested"),
    _p("random-context", context_source="random"),
    _p("json-cmw", cmw_serialization="json"),
    _p("self-signed-aik", aik_certificate="self-signed"),
    _p("ear-rfc9782", ear_media_type="rfc9782"),
    # the attestation-layer choices of the Rust implementation (DIGEST §6 R18, R21-R23)
    Profile(name="rust-compat", exporter_label="Attestation Binding", exporter_length="64",
            binding_formula="exporter", mitigations=Mitigations(check_aik_pub_hash=False)),
)}

DEFAULT = PROFILES["default"]


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
