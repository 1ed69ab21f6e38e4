"""The expat test CA that certifies TPM attestation keys (AKs), derivable without a TPM.

A :class:`~expat.reference.attestation.tpm.environment.TpmAttestingEnvironment` gets its AK certificate
chain ``[AK, intermediate, root]`` from the AE seed and the manufacturer name (the same
``environment._chain`` the software AE uses). The root depends on nothing else, so a Verifier can be
provisioned with it without starting a TPM (``expat verifier serve --evidence tpm``). It stands in for
the enrolment a privacy CA performs after credential activation, which expat does not model
(docs/tpm.md). Pure Python: the Verifier side never imports tpm2-pytss.
"""

from __future__ import annotations

from cryptography import x509

from expat.reference import pki
from expat.reference.attestation.environment import _chain

DEFAULT_MANUFACTURER = "expat TPM attestation"


def ak_ca_root(seed: bytes | str, manufacturer: str = DEFAULT_MANUFACTURER) -> x509.Certificate:
    """The trust anchor of the AK certificates of TPM AEs created with ``seed`` and ``manufacturer``."""
    seed = seed.encode() if isinstance(seed, str) else bytes(seed)
    placeholder = pki.derive_key("p256", seed + b"|ak-ca-root placeholder leaf")   # only the root is kept
    return _chain(seed, "p256", manufacturer, placeholder, "placeholder")[-1]
