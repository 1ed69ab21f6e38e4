"""Documented expectations: which property holds under which variant of the protocol.

One table serves every analysis: the Tamarin lemmas (expected verified / falsified per preprocessor
flag set), the bounded z3 proofs (``expat proofs run`` exits 0 only if its verdicts equal these), the
attack demonstrations, and the report. A *variant* is the default profile with a set of flags of
:data:`expat.model.roles.FLAGS` switched off.

Owner: the bounded-proofs work (issue 5). Any change here must come with the reason in
``REASONS`` and keep tests green for both the Tamarin exporter and the z3 proofs.
"""

from __future__ import annotations

from dataclasses import dataclass

from expat.model.properties import PROPERTY_IDS
from expat.model.roles import FLAGS


@dataclass(frozen=True)
class Variant:
    name: str
    off: tuple[str, ...]          # flags of roles.FLAGS switched off
    violated: tuple[str, ...]     # properties expected to be falsified; every other one holds

    def holds(self, prop: str) -> bool:
        return prop not in self.violated


def _v(name: str, off: tuple[str, ...], violated: tuple[str, ...]) -> Variant:
    assert set(off) <= set(FLAGS), off
    assert set(violated) <= set(PROPERTY_IDS), violated
    return Variant(name, off, tuple(sorted(violated)))


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    _v("default", (), ()),
    _v("no-binding-check", ("check_binding",),
       ("channel_binding", "request_binding", "evidence_freshness", "reattestation_fresh", "no_diversion")),
    _v("no-aik-hash-check", ("check_aik_pub_hash",), ("aik_in_tee",)),
    _v("no-key-in-binding", ("include_public_key_in_binding",), ("no_reflection",)),
    _v("spontaneous-attestation", ("reject_spontaneous_attestation",), ("request_binding",)),
    _v("resumption", ("reject_resumption",), ("no_resumption", "attest_before_data")),
    _v("any-exporter-label", ("check_exporter_label",), ("channel_binding", "request_binding")),
    _v("verifier-nonce-unchecked", ("check_verifier_nonce",), ("verifier_nonce_fresh",)),
    _v("evidence-signature-unchecked", ("check_evidence_signature",), ("evidence_integrity", "aik_in_tee")),
    _v("passport-literal", ("passport_binding_echo",),
       ("channel_binding", "request_binding", "evidence_freshness", "reattestation_fresh", "no_diversion")),
)}

REASONS: dict[str, str] = {
    # variant name -> one paragraph: why these properties fall (and why the others survive).
}


def expected(prop: str, variant: str) -> bool:
    """True when ``prop`` is expected to hold under ``variant``."""
    return VARIANTS[variant].holds(prop)
