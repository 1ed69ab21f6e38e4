"""The lemmas of the Tamarin theory: one per property id (agreement, Running/Commit style), one sanity
exists-trace lemma per property, and the lemmas beyond the property table.

The formulas themselves are model data (:mod:`expat.model.formulas`), written once; this module only
prints them as lemmas and says which verdict each variant expects. Properties the abstraction does not
model are listed in :data:`NOT_MODELLED` with the reason.
"""

from __future__ import annotations

from typing import Iterable, Optional

from expat.model.expectations import VARIANTS, Variant
from expat.model.formulas import ACC_EV, NO_REVEAL, PROPERTY_LEMMAS, SANITY, V_EV, rev_ak
from expat.model.properties import PROPERTY_IDS

REACHABLE_SUFFIX = "_reachable"

# Lemmas that are not property ids: what the theory can say beyond the table. (name, text, expected)
SPLIT_RELAY = "relay_split_deployment"
EXTRA_LEMMAS: dict[str, tuple[str, str]] = {
    # no_diversion with only the TEE's own attestation key excluded, not its host: a compromised host M
    # lends its TEE to a connection whose TLS endpoint is not M (draft -04 Sec. 5.2 split deployment: the
    # binder comes from the TLS stack outside the TEE; Sec. 7.1 assumes Evidence generation is started only
    # by measured code). Expected falsified in every variant: no check of the requester can tell.
    SPLIT_RELAY: (
        f"lemma {SPLIT_RELAY}:\n  \"All {V_EV}.\n     {ACC_EV}\n"
        f"   ==> (Ex s #e. ChannelEstablished(R, k, s, P) @ e & #e < #i) | {rev_ak('P')}\"\n",
        "falsified"),
}

NOT_MODELLED: dict[str, str] = {
    "no_resumption": "the abstract channel has no session tickets or resumption (RFC 8446 Sec. 4.6.1); the "
                     "runtime monitor and the bounded search cover it",
}

# mitigation flags of roles.FLAGS that the theory does not model (the flag has no effect on it)
FLAGS_NOT_MODELLED: dict[str, str] = {
    "reject_resumption": "no resumption in the abstract channel",
    "check_exporter_label": "the exporter is one symbolic function of the connection secret; a binding under "
                            "another label is still a function of this connection and context",
    "reject_spontaneous_attestation": "every authenticator answers a request in this theory",
}

assert set(PROPERTY_LEMMAS) | set(NOT_MODELLED) == set(PROPERTY_IDS)


def lemma_text(pid: str) -> str:
    parts = []
    for _branch, vs, prem, concl, unless in PROPERTY_LEMMAS[pid]:
        rhs = f"({concl})" if unless == "F" else f"({concl}) | {unless}"
        parts.append(f"  (All {vs}.\n     {prem}\n   ==> {rhs})")
    return f"lemma {pid}:\n  \"" + "\n  &\n".join(parts).lstrip() + "\"\n"


def sanity_text(pid: str) -> str:
    return f"lemma {pid}{REACHABLE_SUFFIX}: exists-trace\n  \"{SANITY[pid]} & {NO_REVEAL}\"\n"


def lemma_names() -> list[str]:
    from expat.tamarin.executability import lemmas as executability
    return ([p + REACHABLE_SUFFIX for p in SANITY] + list(executability()) + list(PROPERTY_LEMMAS)
            + list(EXTRA_LEMMAS))


def lemmas_section() -> str:
    from expat.tamarin.executability import lemmas as executability
    return "\n".join([sanity_text(p) for p in SANITY] + list(executability().values())
                     + [lemma_text(p) for p in PROPERTY_LEMMAS] + [text for text, _ in EXTRA_LEMMAS.values()])


def variant_for(off: Iterable[str]) -> Optional[Variant]:
    off = frozenset(off)
    for v in VARIANTS.values():
        if frozenset(v.off) == off:
            return v
    return None


def violated_under(off: Iterable[str]) -> frozenset[str]:
    """Properties expected falsified with ``off`` switched off (model/expectations.py); for a combination
    no variant names, the union over the variants it contains."""
    off = frozenset(off)
    exact = variant_for(off)
    if exact is not None:
        return frozenset(exact.violated)
    return frozenset(p for v in VARIANTS.values() if v.off and set(v.off) <= off for p in v.violated)


def expected_verdict(lemma: str, off: Iterable[str]) -> str:
    if lemma in PROPERTY_LEMMAS:
        return "falsified" if lemma in violated_under(off) else "verified"
    if lemma in EXTRA_LEMMAS:
        return EXTRA_LEMMAS[lemma][1]
    from expat.tamarin import attacks  # the attack theory's lemmas (tamarin/attacks.spthy)
    if lemma.startswith(attacks.PREFIX):
        return attacks.expected(lemma)
    return "verified"
