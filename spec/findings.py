"""`expat spec findings`: answers to the questions the draft's editors and reviewers ask.

Each question names the protocol variants (model/expectations.py) that answer it and the draft
sections concerned. For every variant the page shows, per property, the expected verdict with its
reason (model/expectations.py), the bounded z3 verdict (proofs/verdicts.json), the Tamarin verdict
(tamarin/results/*.json) and the runtime monitors on the golden attack traces of that variant,
with the attack trace and counterexample files. Inputs are read through
:mod:`expat.perf.report_inputs`, defensively: a missing input reads "not recorded", a variant
this checkout does not define reads "not defined". The question texts are ours and only frame
the data: new variants, verdicts and traces appear without code changes.

The last question compares two revisions of the draft text with :mod:`expat.spec.ambiguities`.
The same blocks are a section of ``expat report`` (perf/report.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from expat.model.expectations import REASONS, VARIANTS
from expat.model.properties import PROPERTY_IDS

NOT_DEFINED = "not defined in model/expectations.py on this checkout"


@dataclass(frozen=True)
class Question:
    key: str
    question: str
    context: str                 # what the draft says, in our words, with section citations
    variants: tuple[str, ...]
    focus: tuple[str, ...]       # properties shown even when the variant keeps them
    sections: tuple[str, ...]    # draft sections concerned (numbering of -02 and -04, which agree)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "key-in-binder", "Why hash the public key into the binder?",
        "§5.1 makes the binder a hash over the end-entity public key followed by the exporter output; §5.2 "
        "separately has the Evidence carry a hash of that key (AIK_pub_hash). The variants drop the key from "
        "the binder alone, and together with the other two defences against reflection (unique contexts, "
        "RFC 9261 §4; the AIK_pub_hash comparison, §5.2).",
        ("no-key-in-binding", "reflection"), ("no_reflection", "no_diversion", "aik_in_tee"), ("5.1", "5.2")),
    Question(
        "aik-pub-hash", "What does AIK_pub_hash buy in a split deployment?",
        "§5.2 describes a TLS stack outside the TEE that could sign the authenticator with a key the TEE never "
        "held; the Evidence therefore carries a hash of the AIK public key and the Relying Party compares it "
        "with its own hash of the key in the end-entity certificate. The variant skips that comparison.",
        ("no-aik-hash-check",), ("aik_in_tee",), ("5.2",)),
    Question(
        "delegated-comparison", "What does the delegated comparison require of the Verifier?",
        "§5.1 lets the receiving endpoint either compare the binder itself or pass the value it computed to "
        "the Verifier, which then compares during appraisal (the text is the same in -01, -02, the July 2026 "
        "editor's copy and -04). The variants run the delegated mode with the Verifier comparing, and with the "
        "Verifier skipping the comparison.",
        ("delegated", "delegated-no-verifier-compare", "no-binding-check"),
        ("channel_binding", "request_binding"), ("5.1", "4")),
    Question(
        "resumption", "What would resumption and 0-RTT break?",
        "-02 §7.2 only suggests discarding tickets; from the July 2026 editor's copy (-03) on, §7.2 forbids "
        "the server to send NewSessionTicket and the client to offer early data on attested connections, and "
        "has the client drop any ticket it still gets. §7.4 then rests freshness on that prohibition. The "
        "variant issues and keeps tickets.",
        ("resumption",), ("no_resumption", "attest_before_data"), ("7.2", "7.3", "7.4")),
)


# ---------------------------------------------------------------- the drafts

def find_specs(start: Optional[Path] = None) -> Optional[Path]:
    """``$EXPAT_SPECS``, else ``shared/specs`` beside the checkout or a folder above it."""
    env = os.environ.get("EXPAT_SPECS")
    if env:
        return Path(env) if Path(env).is_dir() else None
    here = (start or Path(__file__)).resolve()
    for up in here.parents:
        if (up / "shared" / "specs").is_dir():
            return up / "shared" / "specs"
    return None


def _revision(p: Path) -> tuple[int, str]:
    m = re.search(r"draft-fossati-seat-expat-(\d+)", p.name)
    return (int(m.group(1)) if m else -1, p.name)


def default_revisions(specs: Optional[Path]) -> tuple[Optional[Path], Optional[Path]]:
    """-02 (the revision the ambiguity list was made for) and the newest numbered revision."""
    if specs is None:
        return None, None
    drafts = sorted((p for p in specs.glob("draft-fossati-seat-expat-*") if p.suffix in (".md", ".txt")),
                    key=_revision)
    old = next((p for p in drafts if _revision(p)[0] == 2), None)
    return old, (drafts[-1] if drafts and _revision(drafts[-1])[0] > 2 else None)


# ---------------------------------------------------------------- verdicts per variant

@dataclass
class Row:
    prop: str
    expected: str
    z3: str
    tamarin: str
    monitors: str


@dataclass
class VariantAnswer:
    name: str
    defined: bool
    off: tuple[str, ...] = ()
    reason: str = ""
    rows: tuple[Row, ...] = ()
    traces: tuple[str, ...] = ()           # golden attack traces of this variant
    counterexamples: tuple[str, ...] = ()  # z3 counterexamples recorded for it


def _tool_verdicts(proofs, tam, mon, variant: str, prop: str) -> tuple[str, str, str]:
    r = proofs.by_key.get((prop, variant))
    z3 = "not recorded" if r is None else str(r.get("verdict"))
    t = tam.by_key.get((prop, variant))
    tamarin = "not recorded" if t is None else str(t[0].get("verdict", "not recorded"))
    runs = [x for x in mon.runs if x.kind == "attack" and x.variant == variant and not x.error]
    if not runs:
        monitors = "no trace"
    else:
        hit = [x for x in runs if prop in x.flagged]
        monitors = f"violated on {len(hit)}/{len(runs)} trace(s)" if hit else f"not flagged ({len(runs)} trace(s))"
    return z3, tamarin, monitors


def answer_variant(name: str, focus: tuple[str, ...], proofs, tam, mon) -> VariantAnswer:
    v = VARIANTS.get(name)
    if v is None:
        return VariantAnswer(name, False)
    props = [p for p in PROPERTY_IDS if p in v.violated or p in focus]
    rows = []
    for p in props:
        rows.append(Row(p, "holds" if v.holds(p) else "violated", *_tool_verdicts(proofs, tam, mon, name, p)))
    others = [p for p in PROPERTY_IDS if p not in props]
    if others:
        z3 = [proofs.by_key.get((p, name), {}).get("verdict") for p in others]
        tam_v = [tam.by_key[(p, name)][0].get("verdict") if (p, name) in tam.by_key else None for p in others]
        rows.append(Row(f"the other {len(others)}", "holds",
                        f"{z3.count('holds')}/{len(others)} hold" if any(z3) else "not recorded",
                        f"{tam_v.count('verified')}/{len(others)} verified" if any(tam_v) else "not recorded",
                        "—"))
    traces = tuple(x.file for x in mon.runs if x.kind == "attack" and x.variant == name)
    cex = tuple(sorted({str(r["counterexample"]) for (p, vn), r in proofs.by_key.items()
                        if vn == name and r.get("counterexample")}))
    return VariantAnswer(name, True, v.off, REASONS.get(name, ""), tuple(rows), traces, cex)


# ---------------------------------------------------------------- the page

@dataclass
class Findings:
    questions: list[tuple[Question, list[VariantAnswer], list]]   # (question, variants, catalogue entries)
    old: str
    new: str
    ambiguities: list               # ambiguities.Status, empty when the drafts are absent
    ambiguity_status: str

    def as_dict(self) -> dict:
        return {
            "questions": [{
                "key": q.key, "question": q.question, "context": q.context, "sections": list(q.sections),
                "catalogue": [e.id for e in entries],
                "variants": [{"name": a.name, "defined": a.defined, "off": list(a.off), "reason": a.reason,
                              "verdicts": [r.__dict__ for r in a.rows], "attack_traces": list(a.traces),
                              "counterexamples": list(a.counterexamples)} for a in answers]}
                for q, answers, entries in self.questions],
            "ambiguities": {"old": self.old, "new": self.new, "status": self.ambiguity_status,
                            "items": [s.as_dict() for s in self.ambiguities]},
        }


def build(root: Optional[Path] = None, old: Optional[Path] = None, new: Optional[Path] = None,
          inputs: Optional[tuple] = None) -> Findings:
    """Read the inputs (or take ``inputs`` = (proofs, tamarin, monitors) already read by the report)."""
    from expat.perf.report_inputs import read_proofs, read_tamarin, run_monitors
    from expat.spec.catalogue import load_catalogue

    proofs, tam, mon = inputs or (read_proofs(root), read_tamarin(root), run_monitors(root))
    try:
        entries = [e for e in load_catalogue().entries if e.family == "expat"]
    except (OSError, ValueError, TypeError, KeyError):
        entries = []
    qs = []
    for q in QUESTIONS:
        answers = [answer_variant(v, q.focus, proofs, tam, mon) for v in q.variants]
        qs.append((q, answers, [e for e in entries if e.section in q.sections]))
    if old is None or new is None:
        d_old, d_new = default_revisions(find_specs())
        old, new = old or d_old, new or d_new
    statuses, status = [], "drafts not found (set EXPAT_SPECS or pass --old/--new)"
    if old is not None and new is not None:
        from expat.spec.ambiguities import compare
        from expat.spec.document import SpecInputError, load
        try:
            statuses, status = compare(load(old), load(new)), "found"
        except SpecInputError as exc:
            status = f"unreadable: {exc}"
    return Findings(qs, old.name if old else "", new.name if new else "", statuses, status)


def blocks(f: Findings) -> list:
    """The findings as report blocks (perf/page.py)."""
    from expat.perf.page import BAD, NEUTRAL, OK, Bullets, Cell, Heading, Para, Table

    def tool(text: str, expected: str) -> Cell:
        """A tool's verdict, marked against the expectation; a monitor that saw no violation on the
        traces it was given has not been exercised, which is no disagreement."""
        if text in ("not recorded", "no trace", "—") or text.startswith("not flagged") and expected == "violated":
            return Cell.of(text, state=NEUTRAL)
        if expected == "violated":
            good = text in ("violated", "falsified") or text.startswith("violated on")
        else:
            good = text in ("holds", "verified") or text.startswith("not flagged") or \
                bool(re.fullmatch(r"(\d+)/\1 (?:hold|verified)", text))
        return Cell.of(text, state=OK if good else BAD)

    out: list = [Heading(2, "Findings for the editors", "findings"),
                 Para("Questions the draft's tracker and reviewers raise, answered by the model's variants. For "
                      "each variant: the expectation and its reason (model/expectations.py), the bounded proof "
                      "(z3), Tamarin, and the runtime monitors on the golden attack traces of the variant.")]
    for q, answers, entries in f.questions:
        out += [Heading(3, q.question, f"findings-{q.key}"),
                Para(f"Draft sections: §{', §'.join(q.sections)}. {q.context}")]
        for a in answers:
            if not a.defined:
                out.append(Para(f"Variant {a.name}: {NOT_DEFINED}."))
                continue
            out.append(Para(f"Variant {a.name} (mitigations off: {', '.join(a.off) or 'none'}). {a.reason}"))
            rows = tuple((r.prop, r.expected, tool(r.z3, r.expected), tool(r.tamarin, r.expected),
                          tool(r.monitors, r.expected)) for r in a.rows)
            out.append(Table(f"Verdicts for {a.name}", ("property", "expected", "z3", "Tamarin", "monitors"), rows))
            files = [f"attack trace {t}" for t in a.traces] + [f"z3 counterexample {c}" for c in a.counterexamples]
            out.append(Bullets(tuple(files)) if files else Para("No attack trace: nothing is violated."))
        if entries:
            out.append(Table("Catalogue entries of these sections", ("id", "source", "keyword", "checks"),
                             tuple((e.id, f"{e.document} §{e.section}", e.keyword, ", ".join(e.checks) or "—")
                                   for e in entries)))
    out.append(Heading(3, "Which -02 ambiguities does the newest revision resolve?", "findings-ambiguities"))
    if not f.ambiguities:
        return out + [Para(f"Draft texts: {f.ambiguity_status}.")]
    out.append(Para(f"Computed from the texts ({f.old} against {f.new}) by the spec tooling: each point of the "
                    "implementation digest's list (DIGEST.md §3.8, our wording) has a detector over lint "
                    "findings, extracted parameters and section text (spec/ambiguities.py)."))
    word = {True: "present", False: "gone", None: "cannot tell"}
    rows = tuple((str(s.ambiguity.number), s.ambiguity.topic, s.ambiguity.sections, s.ambiguity.paraphrase,
                  word[s.old], word[s.new],
                  Cell.of(s.verdict, state=OK if s.verdict == "resolved" else NEUTRAL)) for s in f.ambiguities)
    out.append(Table("Ambiguities of -02 and their state", ("#", "topic", "sections", "point", f.old or "old",
                                                             f.new or "new", "verdict"), rows))
    return out


def cmd_findings(args: argparse.Namespace) -> int:
    from expat.perf.page import render_markdown

    f = build(Path(args.root) if args.root else None,
              Path(args.old) if args.old else None, Path(args.new) if args.new else None)
    if args.json:
        print(json.dumps(f.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(render_markdown("expat spec findings", blocks(f), "Generated by expat spec findings."))
    return 0


def register(ssub: argparse._SubParsersAction) -> None:
    p = ssub.add_parser("findings", help="answers to the editors' questions, with every tool's verdict")
    p.add_argument("--old", help="older revision for the ambiguity comparison (default: -02 from shared/specs)")
    p.add_argument("--new", help="newer revision (default: the newest numbered revision in shared/specs)")
    p.add_argument("--root", help="read proofs, Tamarin results and traces under this checkout")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_findings)
