"""The -02 ambiguities, each with a detector that looks for it in any revision's text.

The list follows the numbering of the shared implementation digest (DIGEST.md §3.8, "inconsistencies,
ambiguities, underspecified points"); the wording here is ours. A detector reads one parsed draft
(:class:`~expat.spec.document.Document`) through the spec tooling (lint findings, extracted
parameters, sentences of the section that a title names) and answers True (the point is still in
the text), False (it is gone) or None (the text alone cannot tell). :func:`compare` runs every
detector on an old and a new revision: *resolved* when present before and gone after, *remains*
when present in both.

Detectors look sections up by title words, not numbers, so a renumbered revision is read the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional

from expat.spec import parameters as P
from expat.spec.document import Document
from expat.spec.lint import lint
from expat.spec.statements import extract


class Reading:
    """One draft as the detectors see it (computed once)."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.findings = lint(doc).findings
        self.params = P.extract(doc)
        self.sentences = extract(doc).sentences

    def kinds(self, kind: str, subject: str = "") -> list:
        return [f for f in self.findings if f.kind == kind and subject in f.subject + f.detail]

    def text(self, *title_words: str) -> str:
        """Prose of the sections whose title contains every word (all prose when none is given)."""
        secs = [s for s in self.doc.sections if s.is_content
                and all(w.lower() in s.title.lower() for w in title_words)]
        return " ".join(b.text for s in secs for b in s.blocks if b.kind in ("para", "item"))

    def has(self, pattern: str, *title_words: str) -> bool:
        return bool(re.search(pattern, re.sub(r"\s+", " ", self.text(*title_words)), re.I))

    def values(self, name: str) -> set[str]:
        return {o.value for o in self.params if o.name == name}


@dataclass(frozen=True)
class Ambiguity:
    number: int                 # item of DIGEST.md §3.8
    topic: str
    paraphrase: str             # our words
    sections: str               # where to look (as in -02)
    detect: Callable[[Reading], Optional[bool]]


def _label_conflict(r: Reading) -> bool:
    return bool([f for f in r.kinds("parameter-conflict") if f.subject.endswith(".label")])


def _label_registration(r: Reading) -> bool:
    return bool(r.kinds("exporter-label-unregistered") or r.kinds("exporter-label-convention"))


def _server_context(r: Reading) -> bool:
    # §5.1 names only the CertificateRequest as the context source (server-as-attester uses the CCR)
    return r.has(r"certificate_request_context from the CertificateRequest", "binder") \
        and not r.has(r"ClientCertificateRequest", "binder")


def _resumption(r: Reading) -> bool:
    # the server is obliged to suppress tickets "for which it requires" attestation: it may not know yet
    return not any(s.normative and "NewSessionTicket" in s.text for s in r.sentences) \
        or r.has(r"requires remote attestation", "TLS connection")


AMBIGUITIES: tuple[Ambiguity, ...] = (
    Ambiguity(1, "exporter label", "Two different exporter labels for the one binding exporter.",
              "§4, §5.1", _label_conflict),
    Ambiguity(2, "what is compared",
              "The architecture steps compare an exporter value found in the Evidence, the binder section a hash "
              "over the key and that value.", "§4, §5.1",
              lambda r: r.has(r"exporter value in the Evidence", "architecture")),
    Ambiguity(3, "binding formula", "The binding formula uses names the draft never defines.", "§5.1",
              lambda r: bool(r.kinds("undefined-term"))),
    Ambiguity(4, "public key encoding",
              "Which byte encoding of the public key is hashed (binder and AIK_pub_hash) is not said.",
              "§5.1, §5.2",
              lambda r: not r.has(r"SubjectPublicKeyInfo|DER[- ]encod|encoded as", "bind")),
    Ambiguity(5, "exporter length vs hash",
              "The exporter output is fixed at 32 bytes while the hash follows the cipher suite; TLS 1.3-only "
              "is never stated.", "§5.1",
              lambda r: "32" in r.values("exporter[certificate_request_context].length")
              and not r.has(r"TLS 1\.2 (?:MUST|is) not|only (?:with|over) TLS 1\.3")),
    Ambiguity(6, "place in the Evidence",
              "No claim or field is named for the binding and AIK_pub_hash inside the Evidence.", "§5.1, §5.2",
              lambda r: not r.has(r"eat_nonce|claim key|REPORTDATA|report data", "bind")),
    Ambiguity(7, "label registration and format",
              "The exporter label is not registered with IANA, or does not start with EXPORTER.", "§4, §5.1, §9",
              _label_registration),
    Ambiguity(8, "context source for server as Attester",
              "The binder names the CertificateRequest's context only; the client's request (and spontaneous "
              "authenticators) are left out.", "§5.1", _server_context),
    Ambiguity(9, "Verifier nonce in the context",
              "The request context is said to contain the Verifier's nonce, without saying how it gets there "
              "or whether it equals it.", "§5.1",
              lambda r: r.has(r"contains the Verifier-provided nonce", "binder")),
    Ambiguity(10, "passport binding",
              "The passport check covers signature and policy only; nothing ties the Attestation Result to the "
              "connection.", "§4",
              lambda r: not re.search(r"Passport Model: .*\b(?:bind|binding|exporter)\b",
                                      r.text("architecture"))),
    Ambiguity(11, "who appraises",
              "The receiving endpoint is told to verify Evidence against a trust anchor and evaluate policy, "
              "which is the Verifier's role in RATS.", "§4",
              lambda r: r.has(r"an endpoint MUST take the following steps", "architecture")),
    Ambiguity(12, "TLS 1.3 column of the registration",
              "The extension is registered for Certificate only although requests carry it.", "§9.1",
              lambda r: bool(r.kinds("iana-usage-conflict", "cmw_attestation"))),
    Ambiguity(13, "TLS Flags entry", "A flag is registered that the text never describes.", "§9.2",
              lambda r: bool([f for f in r.kinds("iana-usage-conflict") if "Flags" in f.subject])),
    Ambiguity(14, "CBOR or JSON", "Either serialization may be sent and nothing signals or negotiates which.",
              "§3, §4",
              lambda r: r.has(r"CBOR or JSON") and not r.has(r"media type|content format|indicat\w+ the serial")),
    Ambiguity(15, "which extensions field",
              "The text once places the data in the end-entity certificate's extensions (an X.509 reading).",
              "§3", lambda r: r.has(r"extensions field of the end-entity certificate")),
    Ambiguity(16, "receiver rule for a misplaced extension",
              "No receiver rule (or alert) for the extension outside the first entry, duplicated, or missing "
              "after being requested.", "§3, §3.1",
              lambda r: not any(s.normative and re.search(r"\b(abort|reject)", s.text)
                                and re.search(r"first|intermediate|duplicat", s.text) for s in r.sentences)),
    Ambiguity(17, "PKIX and no CA",
              "Real-time CA issuance is said to be unnecessary while full PKIX validation stays mandatory; "
              "self-signed AIK certificates are not addressed.", "§1, §3, §3.3",
              lambda r: r.has(r"real-time certificate issuance") and r.has(r"PKIX")
              and not r.has(r"self-signed")),
    Ambiguity(18, "before any application data",
              "Attestation must finish before application data, yet the authenticators travel as application "
              "data; no exemption is given.", "§7.3",
              lambda r: r.has(r"before sending any application data", "timing")
              and not r.has(r"except|other than", "timing")),
    Ambiguity(19, "handshake wording", "Post-handshake attestation is described as happening within the handshake.",
              "§7.2", lambda r: r.has(r"within the context of a TLS handshake")),
    Ambiguity(20, "resumption rules",
              "Resumption is handled by a non-normative recipe (-02), or by a server MUST that depends on the "
              "server knowing, at ticket time, that attestation will be required.", "§7.2", _resumption),
    Ambiguity(21, "AIK name", "\"Authenticator Identity Key\" shares its acronym with the TPM's attestation key.",
              "§5.2", lambda r: r.has(r"Authenticator Identity Key")),
    Ambiguity(23, "size limit",
              "The extension holds at most 64 KiB with no fragmentation, which large Evidence can exceed.", "§3",
              lambda r: any(v.endswith("..65535>") for v in r.values("struct:CMWAttestation.cmw_data"))),
)


@dataclass
class Status:
    ambiguity: Ambiguity
    old: Optional[bool]
    new: Optional[bool]

    @property
    def verdict(self) -> str:
        if self.old is None or self.new is None:
            return "not decidable from the text"
        if self.old and not self.new:
            return "resolved"
        if self.old and self.new:
            return "remains"
        return "new" if self.new else "absent in both"

    def as_dict(self) -> dict:
        a = self.ambiguity
        return {"number": a.number, "topic": a.topic, "paraphrase": a.paraphrase, "sections": a.sections,
                "old": self.old, "new": self.new, "verdict": self.verdict}


def compare(old: Document, new: Document) -> list[Status]:
    ro, rn = Reading(old), Reading(new)
    return [Status(a, a.detect(ro), a.detect(rn)) for a in AMBIGUITIES]
