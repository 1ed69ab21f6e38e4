"""The lemmas: one per property id, an exists-trace sanity lemma each, sources lemmas, and one
exists-trace lemma per golden honest trace (executability).

Style of Tamarin's examples and TLS13Tamarin: acceptance is the ``Commit`` action of an honest
requester, the attester's side is ``Running``; every guarantee names the reveals that void it.
Expected verdicts come from :data:`expat.model.expectations.VARIANTS` (flags switched off ->
falsified properties); sanity, sources and executability lemmas are expected verified everywhere.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Iterable, Optional

from expat.model.events import EVENTS
from expat.model.expectations import VARIANTS, Variant
from expat.model.properties import PROPERTY_IDS, STATEMENTS
from expat.model.roles import FLAGS, flag
from expat.tamarin.semantics import FLAG_PREFIX, LABEL

from expat.layout import display, locate

# The traces whose events become executability lemmas. One constant, so the lead can switch it;
# when it matches nothing the synthetic honest examples are used instead.
GOLDEN_GLOB = "traces/golden/honest-*.jsonl"
FALLBACK_GLOB = "traces/examples/synthetic-honest-*.jsonl"

REACHABLE_SUFFIX = "_reachable"
EXECUTABLE_PREFIX = "executable_"

# --- exceptions: the reveals that void a guarantee ---------------------------------------------------
# A revealed AIK, a revealed connection secret or a compromised host (split deployment) are inside the
# threat model of the binding properties: the binding exists to stop exactly those replays (draft
# Sec. 5.1, 5.2; the synthetic attacks in traces/examples use them). Only a revealed attestation key
# (forged Evidence) voids everything; a compromised host also voids what depends on the TEE's host.

REV_AK = "(Ex rae #r. AttestationKeyRevealed(rae)@r)"
REV_HOST = "(Ex rh #r. HostRevealed(rh)@r)"
NO_REVEAL = "not (Ex ry #r. Reveal(ry)@r)"


COMMIT = "Commit(rp, c, x, m, b, k)@i"
COMMIT_VARS = "rp c x m b k #i"
_CHECKED_HERE = f"(Ex eah cah ev #j. BindingChecked(rp, c, x, b, b, eah, cah, {LABEL}, ev)@j & #j < #i)"


def _done(side: str) -> str:
    return f"(Ex y mm #q. AttestationCompleted(a, c, y, {side}, mm)@q & #q < #i)"


_CLIENT_DONE, _SERVER_DONE = _done("'client'"), _done("'server'")
_REQUIRED_DONE = ("(Ex s su at r e #hh. ChannelEstablished(a, c, s, su, at, r, e)@hh & #hh < #i "
                  f"& ((at = 'client' | at = 'both') ==> {_CLIENT_DONE}) "
                  f"& ((at = 'server' | at = 'both') ==> {_SERVER_DONE}))")
_PLAIN_CONN = "(Ex s su r e #hh. ChannelEstablished(a, c, s, su, 'none', r, e)@hh)"

PROPERTY_LEMMAS: dict[str, str] = {
    "evidence_integrity":
        f"All {COMMIT_VARS}. {COMMIT} ==> "
        "(Ex ae te ah ak #j. EvidenceProduced(ae, m, te, b, ah, ak)@j & #j < #i) "
        "| (Ex v ev st n to #j. EvidenceAppraised(v, ev, m, st, b, n, to)@j & #j < #i "
        "& (Ex ae te b2 ah ak #p. EvidenceProduced(ae, ev, te, b2, ah, ak)@p & #p < #j)) "
        f"| {REV_AK}",
    "evidence_freshness":
        "All rp rp2 c c2 x x2 m b b2 k k2 #i #j. Commit(rp, c, x, m, b, k)@i & Commit(rp2, c2, x2, m, b2, k2)@j "
        f"==> #i = #j | {REV_AK}",
    "channel_binding":
        f"All {COMMIT_VARS}. {COMMIT} ==> {_CHECKED_HERE} "
        "| (Ex te x2 ae k2 sp ev #j. EvidenceRequested(te, c, x2, ae, b, k2, sp, ev)@j & #j < #i) "
        f"| {REV_AK}",
    "request_binding":
        f"All {COMMIT_VARS}. {COMMIT} ==> "
        "((Ex mt e o r #s. RequestSent(rp, c, x, mt, e, o, r)@s & #s < #i) "
        f"& ({_CHECKED_HERE} "
        "| (Ex te ae k2 sp ev #j. EvidenceRequested(te, c, x, ae, b, k2, sp, ev)@j & #j < #i))) "
        f"| {REV_AK}",
    "aik_ownership":
        f"All {COMMIT_VARS}. {COMMIT} ==> "
        "(Ex ae o s kd m2 sp au #g #j. AikGenerated(ae, k, o, s)@g "
        "& AuthenticatorSent(o, c, x, k, kd, m2, sp, au)@j & #j < #i) "
        "| not (Ex ae o s #g. AikGenerated(ae, k, o, s)@g) "
        f"| (Ex #r. KeyRevealed('adversary', k)@r & #r < #i) | {REV_HOST}",
    "aik_in_tee":
        f"All {COMMIT_VARS}. {COMMIT} ==> "
        "(Ex ae te ah ak o s #j #g. EvidenceProduced(ae, m, te, b, ah, ak)@j & AikGenerated(ae, k, o, s)@g) "
        "| (Ex v ev st n to ae te b2 ah ak o s #j #p #g. EvidenceAppraised(v, ev, m, st, b, n, to)@j "
        "& EvidenceProduced(ae, ev, te, b2, ah, ak)@p & AikGenerated(ae, k, o, s)@g) "
        f"| {REV_AK}",
    "no_diversion":
        f"All {COMMIT_VARS}. {COMMIT} ==> "
        "(Ex ae te ah ak s su at r e #j #l. EvidenceProduced(ae, m, te, b, ah, ak)@j "
        "& ChannelEstablished(te, c, s, su, at, r, e)@l & not (te = rp)) "
        "| (Ex v ev st n to ae te b2 ah ak s su at r e #j #p #l. EvidenceAppraised(v, ev, m, st, b, n, to)@j "
        "& EvidenceProduced(ae, ev, te, b2, ah, ak)@p & ChannelEstablished(te, c, s, su, at, r, e)@l "
        f"& not (te = rp)) | {REV_AK} | {REV_HOST}",
    "no_reflection":
        f"All {COMMIT_VARS}. {COMMIT} ==> "
        "(not (Ex ae ah ak #j. EvidenceProduced(ae, m, rp, b, ah, ak)@j) "
        "& not (Ex ae s #g. AikGenerated(ae, k, rp, s)@g)) "
        f"| {REV_AK} | {REV_HOST}",
    "attest_before_data":
        f"(All a c n #i. ApplicationDataSent(a, c, n)@i ==> {_REQUIRED_DONE}) "
        f"& (All a c n #i. ApplicationDataReceived(a, c, n)@i ==> {_REQUIRED_DONE})",
    "reattestation_fresh":
        "All rp c x m b k mt e o r ae te ah ak #i #s #p. Commit(rp, c, x, m, b, k)@i "
        "& RequestSent(rp, c, x, mt, e, o, r)@s & EvidenceProduced(ae, m, te, b, ah, ak)@p "
        f"==> #s < #p | {REV_AK} | {REV_HOST}",
    "verifier_nonce_fresh":
        "All v m r st e n to #i. EvidenceAppraised(v, m, r, st, e, n, to)@i ==> n = 'empty' "
        "| ((Ex t #j. NonceIssued(v, n, t)@j & #j < #i) "
        "& not (Ex m2 r2 st2 e2 to2 #k. EvidenceAppraised(v, m2, r2, st2, e2, n, to2)@k & #k < #i))",
    "no_resumption":
        f"(All a c t #i. NewSessionTicketSent(a, c, t)@i ==> {_PLAIN_CONN}) "
        f"& (All a c t #i. NewSessionTicketReceived(a, c, t, 'true')@i ==> {_PLAIN_CONN}) "
        "& (All a c s su at t e d c2 #i #j. ChannelEstablished(a, c, s, su, at, t, e)@i "
        "& NewSessionTicketSent(d, c2, t)@j ==> "
        "(Ex s2 su2 r2 e2 #hh. ChannelEstablished(d, c2, s2, su2, 'none', r2, e2)@hh))",
}

_ACCEPTED = f"Ex {COMMIT_VARS}. {COMMIT} & {NO_REVEAL}"
SANITY_LEMMAS: dict[str, str] = {
    "evidence_integrity": _ACCEPTED,
    "evidence_freshness": "Ex rp rp2 c c2 x x2 m m2 b b2 k k2 #i #j. Commit(rp, c, x, m, b, k)@i "
                          f"& Commit(rp2, c2, x2, m2, b2, k2)@j & not (#i = #j) & {NO_REVEAL}",
    "channel_binding": _ACCEPTED,
    "request_binding": f"Ex {COMMIT_VARS} mt e o r #s. {COMMIT} & RequestSent(rp, c, x, mt, e, o, r)@s "
                       f"& {NO_REVEAL}",
    "aik_ownership": _ACCEPTED,
    "aik_in_tee": _ACCEPTED,
    "no_diversion": _ACCEPTED,
    "no_reflection": _ACCEPTED,
    "attest_before_data": "Ex a c n s su at r e #i #hh. ApplicationDataSent(a, c, n)@i "
                          f"& ChannelEstablished(a, c, s, su, at, r, e)@hh & not (at = 'none') & {NO_REVEAL}",
    "reattestation_fresh": "Ex rp c x m b k mt e o r ae te ah ak #i #s #p. Commit(rp, c, x, m, b, k)@i "
                           "& RequestSent(rp, c, x, mt, e, o, r)@s & EvidenceProduced(ae, m, te, b, ah, ak)@p "
                           f"& #s < #p & {NO_REVEAL}",
    "verifier_nonce_fresh": "Ex v m r st e n to #i. EvidenceAppraised(v, m, r, st, e, n, to)@i "
                            f"& not (n = 'empty') & {NO_REVEAL}",
    "no_resumption": "Ex a c s su r e t #i #j. ChannelEstablished(a, c, s, su, 'none', r, e)@i "
                     f"& NewSessionTicketSent(a, c, t)@j & {NO_REVEAL}",
}

# Sources lemmas: values the attester or requester received and later sends on (partial deconstructions).
SOURCES_LEMMAS: dict[str, str] = {
    "request_context_sources":
        "All te c x mt e o r #i. RequestReceived(te, c, x, mt, e, o, r)@i ==> (Ex #j. KU(x)@j & #j < #i) "
        "| (Ex a #j. ContextChosen(a, x)@j & #j < #i) | (Ex v t #j. NonceIssued(v, x, t)@j & #j < #i)",
    "accepted_cmw_sources":
        "All rp c x k kd m sp ce au #i. AuthenticatorAccepted(rp, c, x, k, kd, m, sp, ce, au)@i "
        "==> (Ex #j. KU(m)@j & #j < #i) | (Ex te #j. Running(te, c, x, m)@j & #j < #i)",
}

assert tuple(PROPERTY_LEMMAS) == PROPERTY_IDS and tuple(SANITY_LEMMAS) == PROPERTY_IDS


# --- expectations -----------------------------------------------------------------------------------

def variants() -> list[Variant]:
    return list(VARIANTS.values())


def variant_for(off: Iterable[str]) -> Optional[Variant]:
    off = frozenset(off)
    for v in VARIANTS.values():
        if frozenset(v.off) == off:
            return v
    return None


def violated_under(off: Iterable[str]) -> frozenset[str]:
    """Properties expected falsified with ``off`` switched off: the variant's table entry, or for a
    combination no variant names, the union over the variants it contains (a documented
    monotonicity assumption)."""
    off = frozenset(off)
    exact = variant_for(off)
    if exact is not None:
        return frozenset(exact.violated)
    return frozenset(p for v in VARIANTS.values() if v.off and set(v.off) <= off for p in v.violated)


def expected_verdict(lemma: str, off: Iterable[str]) -> str:
    if lemma in PROPERTY_LEMMAS:
        return "falsified" if lemma in violated_under(off) else "verified"
    return "verified"


# --- golden traces ------------------------------------------------------------------------------------

def _glob(pattern: str, root: Optional[Path]) -> list[Path]:
    where, _, files = pattern.rpartition("/")
    base = locate(where, root)
    return sorted(base.glob(files)) if base.is_dir() else []


def golden_traces(root: Optional[Path] = None) -> list[Path]:
    return _glob(GOLDEN_GLOB, root) or _glob(FALLBACK_GLOB, root)


def executable_name(path: Path) -> str:
    return EXECUTABLE_PREFIX + re.sub(r"\W", "_", path.stem)


_ATTEST = {(): "'none'", ("client",): "'client'", ("server",): "'server'", ("client", "server"): "'both'"}


class _Vars:
    def __init__(self) -> None:
        self.names: dict[tuple[str, str], str] = {}
        self.order: list[str] = []

    def of(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self.names:
            self.names[key] = f"v{len(self.order)}"
            self.order.append(self.names[key])
        return self.names[key]

    def anonymous(self) -> str:
        return self.of("anonymous", str(len(self.order)))


def _term(vars_: _Vars, arg_type: str, name: str, value, own_label: str = "Attestation") -> str:
    """A trace value as a term: categorical values are public constants, data are variables (equal
    values -> the same variable), absent optional/secret values are unconstrained. The trace profile's
    own exporter label is the theory's LABEL (e.g. -04's "EXPORTER-cmw-attestation")."""
    if value is None:
        return vars_.anonymous()
    if arg_type == "label" and value == own_label:
        return LABEL
    if arg_type in ("side", "kind", "status"):
        return f"'{value}'"
    if arg_type == "bool":
        return "'true'" if value else "'false'"
    if arg_type == "sides":
        return _ATTEST[tuple(sorted(value))]
    if arg_type == "label":
        return f"'{re.sub(r'[^A-Za-z0-9_]', '_', value)}'"
    if arg_type == "int":
        return f"'{value}'" if name == "msg_type" else vars_.of("int", str(value))
    if arg_type in ("ints", "suite"):
        return vars_.of(arg_type, json.dumps(value))
    if name == "resumed_from" and value == "-":
        return "'none'"
    if arg_type == "bytes" and value == "":
        return "'empty'"
    return vars_.of("value", str(value))


def trace_lemma(path: Path) -> tuple[str, str, tuple[str, ...]]:
    """(name, formula, flags that must be off) of the executability lemma of one trace."""
    path = Path(path)
    return _trace_lemma(str(path.resolve()), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _trace_lemma(path_text: str, _mtime: int) -> tuple[str, str, tuple[str, ...]]:
    from expat.model.trace import load_trace

    path = Path(path_text)
    trace = load_trace(path)
    vars_ = _Vars()
    atoms = []
    for k, ev in enumerate(trace.events):
        spec = EVENTS[ev.name]
        terms = [vars_.of("value", ev.agent)]
        for a in spec.args:
            terms.append(_term(vars_, a.type, a.name, ev.args.get(a.name),
                               str(trace.profile.get("exporter_label", "Attestation"))))
        atoms.append(f"{ev.name}({', '.join(terms)})@t{k}")
    times = [f"#t{k}" for k in range(len(atoms))]
    order = [f"#t{k} < #t{k + 1}" for k in range(len(atoms) - 1)]
    formula = f"Ex {' '.join(vars_.order + times)}. " + " & ".join(atoms + order + [NO_REVEAL])
    off = tuple(f for f in FLAGS if not flag(trace.profile, f))
    return executable_name(path), formula, off


# --- rendering ---------------------------------------------------------------------------------------

def _wrap(text: str, off: Iterable[str]) -> str:
    off = list(off)
    if not off:
        return text
    return f"#ifdef {' & '.join(FLAG_PREFIX + f for f in off)}\n{text}#endif\n"


def _expected_comment(prop: str) -> str:
    falls = [v for v in VARIANTS.values() if prop in v.violated]
    if not falls:
        return "// expected: verified under every variant"
    return "// expected: verified by default; falsified with " + "; ".join(
        f"{v.name} ({' '.join('-D=' + FLAG_PREFIX + f for f in v.off)})" for v in falls)


def lemma_names(traces: list[Path]) -> list[str]:
    names = list(SOURCES_LEMMAS)
    for p in PROPERTY_IDS:
        names += [p, p + REACHABLE_SUFFIX]
    names += [executable_name(t) for t in traces]
    return names


def lemmas_section(traces: list[Path]) -> str:
    out = ["// --- sources lemmas (received values that are sent on) ---", ""]
    for name, formula in SOURCES_LEMMAS.items():
        out.append(f'lemma {name} [sources]:\n  "{formula}"\n')
    out += ["// --- one lemma per property id (model/properties.py), with its sanity lemma ---", ""]
    for p in PROPERTY_IDS:
        out.append(f"// {p}: {STATEMENTS[p]}")
        out.append(_expected_comment(p))
        out.append(f'lemma {p}:\n  "{PROPERTY_LEMMAS[p]}"\n')
        out.append(f'lemma {p}{REACHABLE_SUFFIX}: exists-trace\n  "{SANITY_LEMMAS[p]}"\n')
    out += ["// --- executability: the events of each golden honest trace, in order ---", ""]
    for t in traces:
        name, formula, off = trace_lemma(t)
        out.append(f"// {display(t)}")
        out.append(_wrap(f'lemma {name}: exists-trace\n  "{formula}"\n', off))
    return "\n".join(out)
