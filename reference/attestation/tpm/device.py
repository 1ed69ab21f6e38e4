"""A TPM 2.0 device driven through tpm2-pytss (ESAPI) over the swtpm TCTI.

There is no resource manager on the raw swtpm interface (and libtpms holds only three transient
objects), so a key is kept as a saved context (TPM2_ContextSave, Part 3 §28.2) and loaded only for
one command: :meth:`TpmDevice.loaded` loads it and always flushes it again (TPM2_FlushContext,
Part 3 §28.4). One ESAPI connection per swtpm (it serves one client at a time), guarded by a lock.

Keys are primary keys of the owner hierarchy (TPM2_CreatePrimary, Part 3 §24.1), made distinct per
Attesting Environment by a label in the template's unique field; all have fixedTPM, fixedParent and
sensitiveDataOrigin, so the private keys are generated in and never leave the TPM.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Iterator

os.environ.setdefault("TSS2_LOG", "all+NONE")   # the TSS logs to stderr by default; errors are raised anyway

from tpm2_pytss import ESAPI, TCTILdr  # noqa: E402
from tpm2_pytss.constants import ESYS_TR, TPM2_ALG, TPM2_CAP, TPM2_HT, TPM2_RH, TPM2_ST, TPMA_OBJECT  # noqa: E402
from tpm2_pytss.types import (TPM2B_DATA, TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE, TPML_DIGEST_VALUES,  # noqa: E402
                              TPML_PCR_SELECTION, TPMS_CONTEXT, TPMT_HA, TPMT_SIG_SCHEME, TPMT_TK_HASHCHECK)

from expat.reference.attestation.tpm import evidence as ev  # noqa: E402
from expat.reference.attestation.tpm.swtpm import Swtpm  # noqa: E402

_BASE = (TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT | TPMA_OBJECT.SENSITIVEDATAORIGIN
         | TPMA_OBJECT.USERWITHAUTH | TPMA_OBJECT.SIGN_ENCRYPT)
AK_ATTRIBUTES = _BASE | TPMA_OBJECT.RESTRICTED    # restricted: signs only TPM-generated structures
AIK_ATTRIBUTES = _BASE                            # unrestricted: signs the EA CertificateVerify digest


def _sha256_values(digest: bytes) -> TPML_DIGEST_VALUES:
    if not (isinstance(digest, bytes) and len(digest) == 32):
        raise ValueError("a SHA-256 PCR extend takes a 32-byte digest")
    ha = TPMT_HA(hashAlg=TPM2_ALG.SHA256)
    ha.digest.sha256 = digest
    return TPML_DIGEST_VALUES([ha])


def _sha256_selection(indices: list[int]) -> TPML_PCR_SELECTION:
    """TPML_PCR_SELECTION of ``indices`` in the SHA-256 bank (Part 2 §10.9.7)."""
    return TPML_PCR_SELECTION.parse("sha256:" + ",".join(map(str, sorted(indices))))


@dataclass(frozen=True)
class TpmKey:
    """A key created in the TPM: its saved context and its marshalled TPMT_PUBLIC."""

    label: str
    context: bytes
    public: bytes


class TpmDevice:
    """One TPM (normally a private swtpm this object started and stops)."""

    def __init__(self, swtpm: Swtpm | None = None, *, tcti_config: str | None = None):
        self._owned = swtpm is None and tcti_config is None
        self.swtpm = Swtpm() if self._owned else swtpm
        config = tcti_config or self.swtpm.tcti_config
        self._lock = threading.RLock()
        try:
            self._tcti = TCTILdr("swtpm", config)
            self._esapi = ESAPI(self._tcti)
        except Exception:
            self.close()
            raise
        self.event_log: list[tuple[int, str, bytes]] | None = None
        self.counts: collections.Counter[str] = collections.Counter()   # TPM commands issued, by name

    # --- lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection and, if we started the swtpm, stop it by PID."""
        with self._lock:
            esapi, self._esapi = getattr(self, "_esapi", None), None
            if esapi is not None:
                with contextlib.suppress(Exception):
                    esapi.close()
            tcti, self._tcti = getattr(self, "_tcti", None), None
            if tcti is not None:
                with contextlib.suppress(Exception):
                    tcti.close()
            if self._owned and self.swtpm is not None:
                self.swtpm.stop()

    def __enter__(self) -> "TpmDevice":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def esapi(self) -> ESAPI:
        if self._esapi is None:
            raise RuntimeError("TPM device is closed")
        return self._esapi

    # --- measured boot (PCR extend, Part 3 §22.2) ---------------------------------------------------

    def boot(self, measurements: dict[str, bytes]) -> None:
        """Extend each measurement into its PCR once per device and keep the event log.

        A device is booted once; booting it again with other measurements is an error (the PCRs
        already hold the first boot)."""
        log = ev.measurement_log(measurements)
        with self._lock:
            if self.event_log is not None:
                if self.event_log != log:
                    raise ValueError("this TPM was already booted with other measurements")
                return
            for pcr, _name, digest in log:
                self.esapi.pcr_extend(ESYS_TR.PCR0 + pcr, _sha256_values(digest))
            self.event_log = log

    def extend(self, pcr: int, digest: bytes) -> None:
        """Extend ``pcr`` outside the event log (a tampered boot; tests and attack demos)."""
        with self._lock:
            self.esapi.pcr_extend(ESYS_TR.PCR0 + pcr, _sha256_values(digest))

    def read_pcrs(self, indices: list[int]) -> dict[int, bytes]:
        with self._lock:
            _, _, digests = self.esapi.pcr_read(_sha256_selection(indices))
        return {i: bytes(d) for i, d in zip(sorted(indices), digests)}

    # --- keys ----------------------------------------------------------------------------------------

    def create_key(self, label: str, *, restricted: bool) -> TpmKey:
        """A P-256 ECDSA-SHA256 signing key, primary in the owner hierarchy, unique per ``label``."""
        template = TPM2B_PUBLIC.parse("ecc256:ecdsa-sha256:null",
                                      objectAttributes=AK_ATTRIBUTES if restricted else AIK_ATTRIBUTES)
        template.publicArea.unique.ecc.x = hashlib.sha256(b"expat tpm key|" + label.encode()).digest()
        with self._lock:
            handle, public, *_ = self.esapi.create_primary(TPM2B_SENSITIVE_CREATE(), template, ESYS_TR.OWNER)
            try:
                saved = self.esapi.context_save(handle)
            finally:
                self.esapi.flush_context(handle)
        return TpmKey(label=label, context=saved.marshal(), public=public.publicArea.marshal())

    @contextlib.contextmanager
    def loaded(self, *keys: TpmKey) -> Iterator[list[ESYS_TR]]:
        """Load saved keys for one operation; they are flushed afterwards, whatever happens."""
        with self._lock:
            handles: list[ESYS_TR] = []
            try:
                for key in keys:
                    ctx, _ = TPMS_CONTEXT.unmarshal(key.context)
                    handles.append(self.esapi.context_load(ctx))
                yield handles
            finally:
                for h in handles:
                    with contextlib.suppress(Exception):
                        self.esapi.flush_context(h)

    def transient_handles(self) -> list[int]:
        """Transient objects currently loaded (should be none between operations)."""
        with self._lock:
            _, data = self.esapi.get_capability(TPM2_CAP.HANDLES, TPM2_HT.TRANSIENT << 24, 64)
        return [int(h) for h in data.data.handles]

    # --- operations ------------------------------------------------------------------------------------

    def sign_digest(self, key: TpmKey, digest: bytes) -> bytes:
        """TPM2_Sign (Part 3 §20.2) of a SHA-256 digest computed outside the TPM (allowed for an
        unrestricted key, with a NULL hash-check ticket). Returns the marshalled TPMT_SIGNATURE."""
        scheme = TPMT_SIG_SCHEME(scheme=TPM2_ALG.ECDSA)
        scheme.details.any.hashAlg = TPM2_ALG.SHA256
        ticket = TPMT_TK_HASHCHECK(tag=TPM2_ST.HASHCHECK, hierarchy=TPM2_RH.NULL)
        with self.loaded(key) as (handle,):
            self.counts["sign"] += 1
            return self.esapi.sign(handle, digest, scheme, ticket).marshal()

    def quote(self, ak: TpmKey, pcrs: list[int], qualifying_data: bytes) -> tuple[bytes, bytes]:
        """TPM2_Quote (Part 3 §18.4) over SHA-256 PCRs ``pcrs``: (TPMS_ATTEST, TPMT_SIGNATURE)."""
        with self.loaded(ak) as (handle,):
            self.counts["quote"] += 1
            attest, sig = self.esapi.quote(handle, _sha256_selection(pcrs), TPM2B_DATA(qualifying_data),
                                           TPMT_SIG_SCHEME(scheme=TPM2_ALG.NULL))
        return attest.marshal()[2:], sig.marshal()

    def certify(self, obj: TpmKey, ak: TpmKey, qualifying_data: bytes) -> tuple[bytes, bytes]:
        """TPM2_Certify (Part 3 §18.2) of ``obj`` by ``ak``: (TPMS_ATTEST, TPMT_SIGNATURE)."""
        with self.loaded(obj, ak) as (obj_handle, ak_handle):
            self.counts["certify"] += 1
            attest, sig = self.esapi.certify(obj_handle, ak_handle, TPM2B_DATA(qualifying_data),
                                             TPMT_SIG_SCHEME(scheme=TPM2_ALG.NULL))
        return attest.marshal()[2:], sig.marshal()
