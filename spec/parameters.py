"""Protocol parameters a draft defines, wherever they appear.

Targeted patterns, not a grammar: TLS-Exporter(...) invocations and ``label "..."``
mentions (with the exporter context and length given nearby), formulas in figures,
TLS presentation-language ``struct`` definitions with their length bounds, IANA
table rows and ``Key: Value`` registration lists, exporter-label registrations,
extension and handshake-message names, and hash choices.

Each hit is an :class:`Occurrence` (name, value, section). Parameters with the same
name are the same parameter: the linter reports one name with different values in
different sections, the differ reports names whose values changed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from expat.spec.document import Document, Section
from expat.spec.statements import split_sentences

# TLS 1.3 handshake message names (RFC 8446 §4) plus RFC 9261's ClientCertificateRequest.
MESSAGES = ("ClientHello", "ServerHello", "HelloRetryRequest", "EncryptedExtensions",
            "CertificateRequest", "ClientCertificateRequest", "Certificate", "CertificateVerify",
            "Finished", "NewSessionTicket", "EndOfEarlyData", "KeyUpdate")
# The codes used in the "TLS 1.3" column of the TLS ExtensionType Values registry (RFC 8446 §4.2).
MESSAGE_CODES = {"ClientHello": "CH", "ServerHello": "SH", "HelloRetryRequest": "HRR",
                 "EncryptedExtensions": "EE", "CertificateRequest": "CR",
                 "ClientCertificateRequest": "CR", "Certificate": "CT", "NewSessionTicket": "NST"}
# Output lengths (bytes) of the hash functions a draft may name.
HASH_LENGTHS = {"SHA-1": 20, "SHA-224": 28, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64,
                "SHA3-256": 32, "SHA3-384": 48, "SHA3-512": 64}
# Names a formula may use without defining them: functions and terms from RFC 8446 / RFC 9261.
KNOWN_FUNCTIONS = {"tls-exporter", "hkdf-expand-label", "hkdf-expand", "hkdf-extract", "hmac",
                   "derive-secret", "transcript-hash"}
KNOWN_TERMS = {"certificate_request_context", "context_value", "key_length", "label",
               "exporter_master_secret", "early_exporter_master_secret", "secret", "messages",
               "handshake context", "finished mac key", "transcript"}

_QUOTED = r"[\"\u201c]([^\"\u201d]+)[\"\u201d]"
_LABELS = re.compile(r"\blabels?\s+((?:" + _QUOTED + r"(?:\s*,?\s*(?:or|and)?\s*))+)")
_EXPORTER_CALL = re.compile(r"TLS-Exporter\(\s*" + _QUOTED + r"\s*,\s*([^,()]*?)\s*,\s*([^()]*?)\s*\)")
_CONTEXT = re.compile(r"\b(?:the\s+)?([A-Za-z][\w]*_[\w]+|empty(?: string)?)\b[^.;]*?\bas the\s+[\"\u201c]?"
                      r"(?:exporter\s+context|context_value|context value)\b")
_EMPTY_CONTEXT = re.compile(r"\b(?:context_value|exporter context)\b[^.]*?\bis\s+empty\b")
_LENGTH = re.compile(r"\bkey_length\b[^.;]*?(\d+)\s*(bytes?|octets?|bits?)\b(?:\s*\((\d+)\s*bytes?\))?")
_DEFINED_AS = re.compile(r"\b(?:the\s+)?([A-Za-z][\w\s-]{0,40}?)\s+(?:is|are)\s+(?:then\s+)?"
                         r"(?:defined|computed|calculated|given)\s+as\b", re.I)
_STRUCT = re.compile(r"struct\s*\{(.*?)\}\s*(\w+)\s*;", re.S)
_FIELD = re.compile(r"^\s*([\w]+)\s+(\w+)\s*(<[^>]+>|\[[^\]]+\])?\s*;", re.M)
_EXTENSION = re.compile(r"`?\b([a-z][a-z0-9]*_[a-z0-9_]+)`?\s+extensions?\b")
_HASH_NAME = re.compile(r"\bSHA3?-?(1|224|256|384|512)\b")
_HASHED = re.compile(r"(?:^|[,;:]\s*)(?:the\s+)?([A-Z]?[\w\s]{2,40}?)\s+(?:MUST\s+|SHOULD\s+|is\s+|are\s+)?be\s+hashed\b"
                     r"|\bThe\s+(\w+)\s+function\s+is\b", re.I)
_DIAGRAM = re.compile(r"-->|<--|\+--|--\+|^\s*\|.*\|\s*$", re.M)


@dataclass(frozen=True)
class Occurrence:
    name: str
    value: str
    section: str
    kind: str          # exporter | formula | struct | iana | registered-label | extension | message | hash
    line: int = 0

    def as_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "section": self.section,
                "kind": self.kind, "line": self.line}


# Kinds that are mere mentions: no value to conflict on.
MENTION_KINDS = {"extension", "message"}


def _sentences(section: Section):
    for block in section.prose():
        for s in split_sentences(block.text):
            yield block, s


def _clean(expr: str) -> str:
    return re.sub(r"\s+", " ", expr).strip()


def bound(text: str) -> str:
    """Evaluate a presentation-language bound like ``2^16-1`` to ``65535``."""
    def ev(x: str) -> str:
        x = x.strip()
        m = re.fullmatch(r"(\d+)\^(\d+)(?:\s*-\s*(\d+))?", x)
        if m:
            return str(int(m.group(1)) ** int(m.group(2)) - int(m.group(3) or 0))
        return x
    inner = text.strip("<>[]")
    if ".." in inner:
        lo, hi = inner.split("..", 1)
        return f"<{ev(lo)}..{ev(hi)}>"
    return f"[{ev(inner)}]"


def _context_name(m: re.Match) -> str:
    return "empty" if m.group(1).startswith("empty") else m.group(1)


def section_context(section: Section) -> str:
    """The exporter context a section's prose names, if any."""
    for _, s in _sentences(section):
        m = _CONTEXT.search(s)
        if m:
            return _context_name(m)
        if _EMPTY_CONTEXT.search(s):
            return "empty"
    return ""


def formula_terms(expr: str) -> tuple[set[str], set[str]]:
    """(function names, argument terms) of a formula; literals and numbers dropped."""
    functions = set(re.findall(r"([A-Za-z][\w-]*)\s*\(", expr))
    body = re.sub(r"[\"\u201c][^\"\u201d]*[\"\u201d]", " ", expr)
    for f in functions:
        body = re.sub(re.escape(f) + r"\s*\(", " ( ", body)
    terms = set()
    for piece in re.split(r"\|\||[(),=+]", body):
        t = _clean(piece)
        if t and not re.fullmatch(r"[\d\s*x^-]+", t):
            terms.add(t)
    return functions, terms


def _is_formula(text: str) -> bool:
    if _DIAGRAM.search(text) or "struct" in text:
        return False
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return 0 < len(lines) <= 6 and bool(re.search(r"\|\||\w\s*\(.*\)", text))


def extract(doc: Document) -> list[Occurrence]:
    out: list[Occurrence] = []
    for section in doc.sections:
        if not section.is_content:
            continue
        sec = section.label
        iana = doc.is_iana(section)
        ctx = section_context(section)
        last_prose = ""
        for block in section.blocks:
            if block.kind in ("para", "item"):
                last_prose = block.text
                for s in split_sentences(block.text):
                    out.extend(_from_sentence(s, sec, block.line, iana, ctx))
            elif block.kind == "figure":
                out.extend(_from_figure(block.text, sec, block.line, last_prose))
            elif block.kind == "table" and iana:
                out.extend(_from_table(block.text, sec, block.line, last_prose))
        if iana:
            out.extend(_from_kv_list(section))
    return out


def _from_sentence(s: str, sec: str, line: int, iana: bool, section_ctx: str) -> list[Occurrence]:
    out: list[Occurrence] = []
    m = _CONTEXT.search(s)
    ctx = _context_name(m) if m else section_ctx
    for lm in _LABELS.finditer(s):
        for label in re.findall(_QUOTED, lm.group(1)):
            if iana:
                out.append(Occurrence(f"iana:TLS Exporter Labels:{label}", "registered", sec,
                                      "registered-label", line))
            else:
                out.append(Occurrence(f"exporter[{ctx or '?'}].label", label, sec, "exporter", line))
    if iana and re.search(r"exporter label", s, re.I) and not _LABELS.search(s):
        # quoted names that are not registry names ("TLS Exporter Labels" registry)
        for qm in re.finditer(_QUOTED, s):
            label = qm.group(1)
            if re.match(r"\s+registry", s[qm.end():]):
                continue
            if label.upper().startswith(("EXPORTER", "EXPERIMENTAL")) or " " in label and "Label" not in label:
                out.append(Occurrence(f"iana:TLS Exporter Labels:{label}", "registered", sec,
                                      "registered-label", line))
    for cm in _EXPORTER_CALL.finditer(s):
        out.extend(_exporter_call(cm, sec, line))
    lm2 = _LENGTH.search(s)
    if lm2 and not iana:
        n, unit, paren = int(lm2.group(1)), lm2.group(2), lm2.group(3)
        nbytes = int(paren) if paren else (n // 8 if unit.startswith("bit") else n)
        out.append(Occurrence(f"exporter[{ctx or '?'}].length", str(nbytes), sec, "exporter", line))
    for em in _EXTENSION.finditer(s):
        out.append(Occurrence(f"extension:{em.group(1)}", "mentioned", sec, "extension", line))
    for msg in MESSAGES:
        if re.search(rf"`?\b{msg}\b`?(?!\s*(?:Signing|Authority|validation|chain))", s):
            if msg == "Certificate" and not re.search(r"\bCertificate`?\s+message", s):
                continue
            out.append(Occurrence(f"message:{msg}", "mentioned", sec, "message", line))
    if re.search(r"\bhash", s, re.I):
        hm = _HASH_NAME.search(s)
        value = f"SHA-{hm.group(1)}" if hm else (
            "cipher-suite hash" if re.search(r"cipher\s*suite|HKDF hash", s, re.I) else "")
        if value:
            sm = _HASHED.search(s)
            subject = _clean((sm.group(1) or sm.group(2))) if sm else ""
            subject = re.sub(r"^(?:the|a|an)\s+", "", subject, flags=re.I)
            if subject:
                out.append(Occurrence(f"hash:{subject}", value, sec, "hash", line))
    return out


def _exporter_call(cm: re.Match, sec: str, line: int) -> list[Occurrence]:
    label, ctx, length = cm.group(1), _clean(cm.group(2)) or "empty", _clean(cm.group(3))
    if ctx in ('""', "''"):
        ctx = "empty"
    out = [Occurrence(f"exporter[{ctx}].label", label, sec, "exporter", line)]
    if re.fullmatch(r"\d+", length):
        out.append(Occurrence(f"exporter[{ctx}].length", length, sec, "exporter", line))
    return out


def _from_figure(text: str, sec: str, line: int, before: str) -> list[Occurrence]:
    out: list[Occurrence] = []
    for sm in _STRUCT.finditer(text):
        for fm in _FIELD.finditer(sm.group(1)):
            value = fm.group(1) + (bound(fm.group(3)) if fm.group(3) else "")
            out.append(Occurrence(f"struct:{sm.group(2)}.{fm.group(2)}", value, sec, "struct", line))
    if not _is_formula(text):
        return out
    calls = list(_EXPORTER_CALL.finditer(text))
    for cm in calls:
        out.extend(_exporter_call(cm, sec, line))
    expr = _clean(text)
    name = ""
    eq = re.match(r"^([A-Za-z][\w\s-]*?)\s*=\s*(.+)$", expr)
    if eq:
        name, expr = eq.group(1), eq.group(2)
    else:
        dm = None
        for dm in _DEFINED_AS.finditer(before):
            pass
        if dm:
            name = re.sub(r"^(?:the|a|an)\s+", "", dm.group(1).strip(), flags=re.I).lower()
    if calls and not name:
        return out
    out.append(Occurrence(f"formula:{name or '@' + sec}", expr, sec, "formula", line))
    return out


def _registry(before: str) -> str:
    m = re.search(r"[\"\u201c]([^\"\u201d]+)[\"\u201d]\s+(?:extension\s+)?registry", before)
    return m.group(1) if m else "registry"


def _from_table(text: str, sec: str, line: int, before: str) -> list[Occurrence]:
    rows = [[c.strip() for c in r.strip().strip("|").split("|")] for r in text.splitlines()]
    rows = [r for r in rows if not all(re.fullmatch(r":?-+:?", c) for c in r if c)]
    if len(rows) < 2:
        return []
    header, data = rows[0], rows[1:]
    # the registered name: a "... Name" column, else the first ("Value" in the exporter-label registry)
    name_col = next((i for i, h in enumerate(header) if "name" in h.lower()), 0)
    registry = _registry(before)
    out = []
    for r in data:
        cells = dict(zip(header, r))
        value = "; ".join(f"{h}={v}" for h, v in cells.items() if h.lower() != "reference")
        rname = r[name_col] if name_col < len(r) else r[0]
        if re.search(r"exporter label", registry, re.I):
            out.append(Occurrence(f"iana:TLS Exporter Labels:{rname}", "registered", sec,
                                  "registered-label", line))
            continue
        out.append(Occurrence(f"iana:{registry}:{rname}", value, sec, "iana", line))
        if "extension" in registry.lower():
            val = cells.get("Value", r[0])
            out.append(Occurrence(f"extension:{rname}", val, sec, "codepoint", line))
    return out


def _from_kv_list(section: Section) -> list[Occurrence]:
    out = []
    before = ""
    fields: dict[str, str] = {}
    line = 0

    def emit() -> None:
        if fields:
            key = next((k for k in fields if "name" in k.lower() or k.lower() == "label"), next(iter(fields)))
            value = "; ".join(f"{k}={v}" for k, v in fields.items() if k.lower() != "reference")
            registry = _registry(before)
            if re.search(r"exporter label", registry, re.I):
                out.append(Occurrence(f"iana:TLS Exporter Labels:{fields[key]}", "registered", section.label,
                                      "registered-label", line))
            else:
                out.append(Occurrence(f"iana:{registry}:{fields[key]}", value, section.label, "iana", line))
            fields.clear()

    for block in section.blocks:
        m = re.fullmatch(r"([A-Z][\w -]{0,30}):\s*(.+)", block.text) if block.kind == "item" else None
        if m:
            if not fields:
                line = block.line
            fields[m.group(1).strip()] = m.group(2).strip()
        else:
            emit()
            if block.kind == "para":
                before = block.text
    emit()
    return out


def by_name(occurrences: list[Occurrence]) -> dict[str, list[Occurrence]]:
    groups: dict[str, list[Occurrence]] = defaultdict(list)
    for o in occurrences:
        groups[o.name].append(o)
    return dict(groups)


def values(occurrences: list[Occurrence]) -> list[str]:
    return sorted({o.value for o in occurrences})


def sections_of(occurrences: list[Occurrence]) -> list[str]:
    seen: list[str] = []
    for o in occurrences:
        if o.section not in seen:
            seen.append(o.section)
    return seen
