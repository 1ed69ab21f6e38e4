"""Findings in a single draft: things an editor should fix before publishing.

Finding kinds:

``parameter-conflict``
    one parameter (same name, e.g. the exporter label for a given exporter context)
    is given different values in different sections.
``undefined-term``
    a formula in a figure uses a function or term the draft never defines.
``iana-usage-conflict``
    an IANA registration disagrees with how the text uses the item (e.g. an extension
    registered for "CT" only but sent in a CertificateRequest, "CR"), or a registered
    item is never described outside the IANA section.
``exporter-label-unregistered``
    an exporter label is used but the draft does not register it (and it is not a
    label already registered by another document we know of).
``exporter-label-convention``
    an exporter label does not follow the RFC 5705 §4 naming convention (labels begin
    with "EXPORTER", or "EXPERIMENTAL" for unregistered experiments).
``length-hash-mismatch``
    a sentence gives a length that is not the output length of the hash it names, or a
    fixed length for the cipher-suite hash (which is 32 or 48 bytes).
``no-actor``
    a BCP 14 statement whose subject names neither an actor nor a protocol element.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from expat.spec import parameters as P
from expat.spec.document import Document
from expat.spec.statements import has_actor, split_sentences, statements

FINDING_KINDS = ("parameter-conflict", "undefined-term", "iana-usage-conflict",
                 "exporter-label-unregistered", "exporter-label-convention",
                 "length-hash-mismatch", "no-actor")

# Exporter labels registered by other documents (IANA "TLS Exporter Labels"): RFC 9261 §8.2,
# RFC 9266 (tls-exporter channel binding), RFC 5764 (DTLS-SRTP). A parameter: callers may
# pass their own registry snapshot.
KNOWN_REGISTERED_LABELS = frozenset({
    "EXPORTER-client authenticator handshake context",
    "EXPORTER-server authenticator handshake context",
    "EXPORTER-client authenticator finished key",
    "EXPORTER-server authenticator finished key",
    "EXPORTER-Channel-Binding",
    "EXTRACTOR-dtls_srtp",
})
# RFC 5705 §4: labels begin with "EXPORTER" (registered) or "EXPERIMENTAL" (private use).
LABEL_PREFIXES = ("EXPORTER", "EXPERIMENTAL")
# The suite hash of TLS 1.3 is SHA-256 or SHA-384 (RFC 8446 §B.4).
SUITE_HASH_LENGTHS = (32, 48)


@dataclass
class Finding:
    kind: str
    sections: list[str]
    detail: str
    subject: str = ""     # the parameter / term / statement fingerprint concerned

    def as_dict(self) -> dict:
        return {"kind": self.kind, "sections": self.sections, "detail": self.detail,
                "subject": self.subject}


@dataclass
class LintOptions:
    registered_labels: frozenset[str] = KNOWN_REGISTERED_LABELS
    label_prefixes: tuple[str, ...] = LABEL_PREFIXES
    known_functions: frozenset[str] = frozenset(P.KNOWN_FUNCTIONS)
    known_terms: frozenset[str] = frozenset(P.KNOWN_TERMS)
    kinds: tuple[str, ...] = FINDING_KINDS


@dataclass
class LintReport:
    path: str
    findings: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"path": self.path, "findings": [f.as_dict() for f in self.findings]}


def lint(doc: Document, options: LintOptions | None = None) -> LintReport:
    opts = options or LintOptions()
    occ = P.extract(doc)
    report = LintReport(doc.path)
    checks = {
        "parameter-conflict": _conflicts,
        "undefined-term": _undefined_terms,
        "iana-usage-conflict": _iana_usage,
        "exporter-label-unregistered": _labels_unregistered,
        "exporter-label-convention": _labels_convention,
        "length-hash-mismatch": _length_hash,
        "no-actor": _no_actor,
    }
    for kind in opts.kinds:
        report.findings.extend(checks[kind](doc, occ, opts))
    return report


def _conflicts(doc: Document, occ: list[P.Occurrence], opts: LintOptions) -> list[Finding]:
    out = []
    for name, group in P.by_name(occ).items():
        if group[0].kind in P.MENTION_KINDS or group[0].kind == "registered-label":
            continue
        per_section: dict[str, set[str]] = {}
        for o in group:
            per_section.setdefault(o.section, set()).add(o.value)
        if len(per_section) > 1 and len({frozenset(v) for v in per_section.values()}) > 1:
            where = "; ".join(f"§{s}: {', '.join(repr(v) for v in sorted(vals))}"
                              for s, vals in per_section.items())
            out.append(Finding("parameter-conflict", list(per_section), f"{name} differs: {where}", name))
        elif name.endswith(".label"):
            out.extend(_label_conflict_in_section(name, group))
    return out


def _label_conflict_in_section(name: str, group: list[P.Occurrence]) -> list[Finding]:
    """Two passages of one section each naming a single, different label for the same exporter
    (a passage naming several labels lists several exporters, as RFC 9261 §5.1 does)."""
    per_line: dict[tuple[str, int], set[str]] = {}
    for o in group:
        per_line.setdefault((o.section, o.line), set()).add(o.value)
    single: dict[str, set[str]] = {}
    for (sec, _), vals in per_line.items():
        if len(vals) == 1:
            single.setdefault(sec, set()).update(vals)
    return [Finding("parameter-conflict", [sec],
                    f"{name} differs within §{sec}: {', '.join(repr(v) for v in sorted(vals))}", name)
            for sec, vals in single.items() if len(vals) > 1]


def _definitions(doc: Document) -> str:
    """All prose and figures of the draft, whitespace-collapsed (for definition patterns)."""
    texts = []
    for s in doc.sections:
        for b in s.blocks:
            texts.append(re.sub(r"\s+", " ", b.text.replace("`", "")))
    return "\n".join(texts)


def is_defined(term: str, corpus: str) -> bool:
    t = re.escape(term).replace(r"\ ", r"[\s_]+")
    patterns = [
        rf"\bwhere\b[^.\n]*?\b{t}\s+(?:is|are|denotes|means)\b",
        rf"(?:^|[.;:]\s+|\band\s+|\n)(?:the\s+|an?\s+)?{t}\s+(?:function\s+|value\s+)?(?:is|are)\s+(?:defined|the|an?|computed|given)\b",
        rf"(?:^|\n){t}\s*:",
        rf"\b(?:called|referred to as|named|denoted(?: by)?)\s+(?:the\s+)?[\"\u201c]?{t}\b",
        rf"\b{t}\s*\((?:defined|see)\b",
        rf"(?:^|\n)\s*{t}\s*=",
    ]
    # only the blocks (lines of the corpus) that mention the term's first word can define it
    first = re.split(r"[\s_]+", term.strip())[0].lower()
    near = "\n".join(line for line in corpus.split("\n") if first in line.lower())
    return any(re.search(p, near, re.I) for p in patterns)


def _undefined_terms(doc: Document, occ: list[P.Occurrence], opts: LintOptions) -> list[Finding]:
    corpus = _definitions(doc)
    formula_names = {o.name.split(":", 1)[1].lower() for o in occ if o.kind == "formula"}
    missing: dict[str, list[str]] = {}
    for o in occ:
        if o.kind != "formula":
            continue
        functions, terms = P.formula_terms(o.value)
        for f in sorted(functions):  # sets: sorted, so the findings come out in a stable order
            if f.lower() not in opts.known_functions and not is_defined(f, corpus):
                missing.setdefault(f, []).append(o.section)
        for t in sorted(terms):
            if (t.lower() in opts.known_terms or t.lower() in formula_names
                    or is_defined(t, corpus)):
                continue
            missing.setdefault(t, []).append(o.section)
    return [Finding("undefined-term", sorted(set(secs)),
                    f"{term!r} is used in a formula but never defined", term)
            for term, secs in missing.items()]


def _usage_codes(doc: Document, name: str) -> dict[str, set[str]]:
    """TLS 1.3 column codes of the messages the text places extension ``name`` in, per section."""
    usage: dict[str, set[str]] = {}
    for section in doc.sections:
        if doc.is_iana(section) or section.part == "back":
            continue
        for _, s in P._sentences(section):
            if not re.search(rf"\b{re.escape(name)}\b", s):
                continue
            for msg, code in P.MESSAGE_CODES.items():
                pat = rf"`?\b{msg}`?\s+message" if msg == "Certificate" else rf"`?\b{msg}\b"
                if re.search(pat, s):
                    usage.setdefault(section.label, set()).add(code)
    return usage


def _iana_usage(doc: Document, occ: list[P.Occurrence], opts: LintOptions) -> list[Finding]:
    out = []
    outside = "\n".join(b.text for s in doc.sections if not doc.is_iana(s) and s.part != "back"
                        for b in s.blocks)
    for o in occ:
        if o.kind != "iana":
            continue
        registry, name = o.name.split(":", 2)[1:]
        fields = dict(kv.split("=", 1) for kv in o.value.split("; ") if "=" in kv)
        column = fields.get("TLS 1.3")
        if column is not None:
            registered = {c.strip() for c in column.split(",") if c.strip()}
            usage = _usage_codes(doc, name)
            used = set().union(*usage.values()) if usage else set()
            extra = sorted(used - registered)
            if extra:
                secs = [s for s, codes in usage.items() if codes & set(extra)]
                out.append(Finding(
                    "iana-usage-conflict", secs + [o.section],
                    f"{name} is registered with TLS 1.3 column {column!r} but the text places it in "
                    f"{', '.join(extra)} messages (§{', §'.join(secs)})", o.name))
        if not re.search(rf"\b{re.escape(name)}\b", outside):
            out.append(Finding(
                "iana-usage-conflict", [o.section],
                f"{registry} entry {name!r} is registered but never described or used in the text",
                o.name))
    return out


def _labels(occ: list[P.Occurrence]) -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {}
    for o in occ:
        if o.kind == "exporter" and o.name.endswith(".label"):
            secs = labels.setdefault(o.value, [])
            if o.section not in secs:
                secs.append(o.section)
    return labels


def _labels_unregistered(doc: Document, occ: list[P.Occurrence], opts: LintOptions) -> list[Finding]:
    registered = {o.name.split(":", 2)[2] for o in occ if o.kind == "registered-label"}
    iana_secs = [s.label for s in doc.sections if doc.is_iana(s) and s.level == 1]
    out = []
    for label, secs in _labels(occ).items():
        if label in registered or label in opts.registered_labels or label.startswith("EXPERIMENTAL"):
            continue
        out.append(Finding("exporter-label-unregistered", secs + iana_secs,
                           f"exporter label {label!r} is used but not registered in the "
                           f"TLS Exporter Labels registry", label))
    return out


def _labels_convention(doc: Document, occ: list[P.Occurrence], opts: LintOptions) -> list[Finding]:
    return [Finding("exporter-label-convention", secs,
                    f"exporter label {label!r} does not begin with "
                    f"{' or '.join(repr(p) for p in opts.label_prefixes)} (RFC 5705 §4)", label)
            for label, secs in _labels(occ).items() if not label.startswith(opts.label_prefixes)]


_LEN = re.compile(r"\b(\d+)[- ]?(bytes?|octets?|bits?)\b")


def _length_hash(doc: Document, occ: list[P.Occurrence], opts: LintOptions) -> list[Finding]:
    out = []
    for section in doc.sections:
        if not section.is_content:
            continue
        for _, s in P._sentences(section):
            lengths = {int(n) // 8 if u.startswith("bit") else int(n) for n, u in _LEN.findall(s)}
            if not lengths:
                continue
            named = {f"SHA-{m}" for m in P._HASH_NAME.findall(s)}
            hash_lengths = {P.HASH_LENGTHS[h] for h in named if h in P.HASH_LENGTHS}
            if hash_lengths and not lengths & hash_lengths:
                out.append(Finding("length-hash-mismatch", [section.label],
                                   f"{sorted(named)} output is {sorted(hash_lengths)} bytes but the "
                                   f"text gives {sorted(lengths)}: {_short(s)}"))
            elif (not named and re.search(r"hash", s, re.I)
                  and re.search(r"cipher\s*suite|HKDF hash", s, re.I)
                  and re.search(r"\b(?:output|digest|hash value|length)\b", s, re.I)
                  and len(lengths) == 1):
                out.append(Finding("length-hash-mismatch", [section.label],
                                   f"the cipher-suite hash is {' or '.join(map(str, SUITE_HASH_LENGTHS))} "
                                   f"bytes, not a fixed {lengths.pop()}: {_short(s)}"))
    return out


def _no_actor(doc: Document, occ: list[P.Occurrence], opts: LintOptions) -> list[Finding]:
    return [Finding("no-actor", [s.section],
                    f"{'/'.join(s.keywords)} statement names no actor: {_short(s.text)}", s.fingerprint)
            for s in statements(doc) if not has_actor(s.text)]


def _short(text: str, n: int = 100) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= n else text[: n - 1] + "\u2026"


__all__ = ["Finding", "LintOptions", "LintReport", "lint", "is_defined", "FINDING_KINDS",
           "split_sentences"]
