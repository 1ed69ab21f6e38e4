"""One attested connection, end to end, over real TLS 1.3 on loopback (``expat run``).

The TLS handshake runs with the server side in a thread (tls.loopback_pair); after that one thread
drives both endpoints in protocol order, each step sending real frames over the TLS connection
and the peer reading them from its socket. That keeps event order deterministic for traces.

Flows (draft §3.4, §4.1, §4.2): the Relying Party requests, the Attester answers; background check
(the RP forwards Evidence to the Verifier) or passport (the Attester brings an EAR). ``mutual``
runs the server-requests-client direction first, then the client-requests-server one.
"""

from __future__ import annotations

import contextlib
import datetime
import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from expat.errors import ProtocolError
from expat.profile import Profile, get_profile
from expat.reference import pki, tls
from expat.reference.attestation.endpoint import (BACKGROUND_CHECK, MODELS, AttestationOutcome, AttestedEndpoint,
                                                  VerifierHandle)
from expat.reference.attestation import resumption
from expat.reference.attestation.environment import SoftwareAttestingEnvironment
from expat.reference.attestation.verifier import Verifier, counter_appraisal_ids
from expat.reference.attestation.verifier_service import VerifierClient, VerifierService

ATTESTERS = ("client", "server", "mutual")
EVIDENCE_KINDS = ("software", "tpm")
REVISION_PROFILES = {"01": "rev01", "02": "default", "editors": "editors", "04": "rev04"}


@dataclass
class Scenario:
    attester: str = "client"
    model: str = BACKGROUND_CHECK
    profile: Profile = field(default_factory=lambda: get_profile("default"))
    suite: str = "TLS_AES_128_GCM_SHA256"
    tls_key: str = "p256"
    seed: bytes | None = None
    verifier_transport: str = "in-process"      # or "http"
    reattest: int = 0                           # extra attestations on the same connection
    app_data: bytes = b"hello over an attested channel"
    # per-appraisal EAR identifiers; None = a counter seeded from ``seed`` (attacks spanning two runs
    # share one generator: they stand for one Verifier)
    appraisal_ids: Callable[[], bytes] | None = None
    # server as Attester without a request: a spontaneous authenticator (RFC 9261 §3); attack demos only
    spontaneous: bool = False
    # resume with this resumption.Ticket (a PSK handshake; only with mitigation reject_resumption off)
    resume: Any = None
    # Attesting Environment: "software" (EAT Evidence) or "tpm" (a TPM 2.0 on swtpm, docs/tpm.md)
    evidence: str = "software"
    # "tpm": a TpmDevice shared by the attesting sides (tests); None = each side starts its own swtpm
    tpm_device: Any = None
    # certificate chain validation time (RFC 5280 §6.1.3); None = now. Golden traces fix it.
    validation_time: datetime.datetime | None = None

    def __post_init__(self) -> None:
        if self.attester not in ATTESTERS:
            raise ValueError(f"attester must be one of {ATTESTERS}")
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}")
        if self.verifier_transport not in ("in-process", "http"):
            raise ValueError("verifier_transport must be in-process or http")
        if self.evidence not in EVIDENCE_KINDS:
            raise ValueError(f"evidence must be one of {EVIDENCE_KINDS}")
        if self.spontaneous and self.attester != "server":
            raise ValueError("only a server attests spontaneously (RFC 9261 §3)")
        if self.profile.delegated and self.model != BACKGROUND_CHECK:
            raise ValueError("binding_check=delegated applies to the background-check model only (-04 §5.1: "
                             "the Relying Party conveys its binding when it forwards Evidence; a passport "
                             "Relying Party calls no Verifier)")

    @property
    def attesting_sides(self) -> tuple[str, ...]:
        return ("server", "client") if self.attester == "mutual" else (self.attester,)


@dataclass
class RunResult:
    scenario: Scenario
    ok: bool
    outcomes: list[AttestationOutcome] = field(default_factory=list)
    error: ProtocolError | None = None
    cipher_suite: str = ""
    received: dict[str, bytes] = field(default_factory=dict)
    endpoints: dict[str, AttestedEndpoint] = field(default_factory=dict)


def _seed(s: Scenario, label: str) -> bytes:
    base = s.seed if s.seed is not None else os.urandom(16)
    return base + b"|" + label.encode()


@contextlib.contextmanager
def _verifier(s: Scenario, anchors: list, reference_values: dict) -> Iterator[VerifierHandle]:
    key = pki.derive_key("p256", _seed(s, "verifier"))
    verifier = Verifier(anchors, reference_values, key, profile=s.profile,
                        appraisal_ids=s.appraisal_ids or counter_appraisal_ids(_seed(s, "verifier-appraisals")))
    if s.verifier_transport == "http":
        with VerifierService(verifier) as service:
            yield VerifierHandle(VerifierClient(service.url), public_key=key.public_key())
    else:
        yield VerifierHandle(verifier, public_key=key.public_key())


def _attesting_environments(s: Scenario) -> dict[str, Any]:
    """One AE per attesting side; "tpm" AEs own their swtpm unless ``s.tpm_device`` is shared."""
    if s.evidence == "software":
        return {side: SoftwareAttestingEnvironment(seed=_seed(s, f"{side}-ae"), profile=s.profile,
                                                   device=f"expat {side} device") for side in s.attesting_sides}
    from expat.reference.attestation.tpm.environment import TpmAttestingEnvironment

    aes: dict[str, Any] = {}
    try:
        for side in s.attesting_sides:
            aes[side] = TpmAttestingEnvironment(device=s.tpm_device, seed=_seed(s, f"{side}-ae"), profile=s.profile,
                                                device_name=f"expat {side} TPM device")
    except Exception:
        _close(aes)
        raise
    return aes


def _close(aes: dict[str, Any]) -> None:
    for ae in aes.values():
        if hasattr(ae, "close"):
            ae.close()   # a TPM AE stops the swtpm it started


def run(s: Scenario, recorder: Any = None, *, attack: Any = None) -> RunResult:
    """Run ``s``; never raises a ProtocolError (it ends up in ``RunResult.error``)."""
    aes = _attesting_environments(s)
    try:
        return _run(s, aes, recorder, attack)
    finally:
        _close(aes)


def _run(s: Scenario, aes: dict[str, Any], recorder: Any, attack: Any) -> RunResult:
    sides = s.attesting_sides
    anchors = [ae.manufacturer_root for ae in aes.values()]
    reference_values = next(iter(aes.values())).reference_values()
    server_id = pki.make_identity(s.tls_key, seed=_seed(s, "tls-server"), name="server")
    client_cfg = tls.TlsConfig(cipher_suites=(s.suite,), trust_anchors=server_id.root_pem(), verify_peer=True)
    server_cfg = tls.TlsConfig(identity=server_id, cipher_suites=(s.suite,))
    result = RunResult(scenario=s, ok=False)
    if s.resume is not None:
        try:
            resumption.check_resumable(s.profile, s.resume)    # -04 §7.2: the client refuses to resume
        except ProtocolError as e:
            result.error = e
            return result
        client_cfg.psk = (s.resume.identity, s.resume.psk)
        server_cfg.psk_store = {s.resume.identity: s.resume.psk}
    with _verifier(s, anchors, reference_values) as vh:
        client_conn, server_conn = tls.loopback_pair(server_cfg, client_cfg)
        result.cipher_suite = client_conn.cipher_suite
        eps: dict[str, AttestedEndpoint] = {}
        try:
            aik_anchors = [a.aik_identity().root if s.profile.aik_certificate == "device-ca" else a.aik_identity().leaf
                           for a in aes.values()]
            for side, conn in (("client", client_conn), ("server", server_conn)):
                ae = aes.get(side)
                resumed = s.resume is not None and conn.resumed
                eps[side] = AttestedEndpoint.create(
                    side, conn, s.profile, s.model, conn_id="conn1", recorder=recorder, ae=ae, verifier=vh,
                    aik_anchors=aik_anchors, must_attest=sides, resumed_from=s.resume.ticket if resumed else "-",
                    inherited=s.resume.inherited if resumed else None, validation_time=s.validation_time)
                if ae is not None:
                    recorder and recorder.emit("AikGenerated", f"{side}-ae", aik=pki.spki_der(ae.aik_public_key()),
                                               owner=side)
            result.endpoints = eps
            if attack is not None:
                attack.prepare(eps)
            driven = attack is not None and hasattr(attack, "drive")
            if driven:          # the adversary drives the exchange itself (e.g. reflection)
                result.outcomes += attack.drive(eps)
            elif s.spontaneous:   # the server attests unasked; the client judges it (draft §3.1, §3.2)
                result.outcomes.append(_spontaneous(eps["server"], eps["client"]))
            for _ in range(0 if s.spontaneous or driven else 1 + s.reattest):
                for attester in sides:
                    rp = eps["server" if attester == "client" else "client"]
                    att = eps[attester]
                    request = rp.request_attestation()
                    att.answer_request()
                    if attack is not None:
                        attack.before_accept(rp, att, request)
                    result.outcomes.append(rp.accept_authenticator(request))
                    att.await_outcome()
            # application data both ways, each gated on attestation (§7.3)
            eps["client"].send_application_data(s.app_data)
            result.received["server"] = eps["server"].receive_application_data()
            eps["server"].send_application_data(s.app_data[::-1])
            result.received["client"] = eps["client"].receive_application_data()
            if attack is not None and hasattr(attack, "finish"):
                attack.finish(eps)
            result.ok = True
        except ProtocolError as e:
            result.error = e
        finally:
            for conn in (client_conn, server_conn):
                with contextlib.suppress(Exception):
                    conn.close()
    return result


def _spontaneous(att: AttestedEndpoint, rp: AttestedEndpoint) -> AttestationOutcome:
    att.attest_spontaneously()
    outcome = rp.accept_spontaneous()
    att.await_outcome()
    return outcome


def scenario_from_options(*, attester: str = "client", model: str = BACKGROUND_CHECK, revision: str | None = None,
                          profile: str | None = None, binding_check: str | None = None, **kw: Any) -> Scenario:
    """Build a Scenario from CLI-style options; ``--revision`` picks the revision's profile unless
    ``--profile`` names one, in which case the revision (if given) overrides that profile's;
    ``--binding-check`` (if given) overrides the profile's binding_check (-04 §5.1)."""
    if profile is not None:
        prof = get_profile(profile)
        if revision is not None:
            prof = dataclasses.replace(prof, revision=revision)
    else:
        prof = get_profile(REVISION_PROFILES[revision or "02"])
    if binding_check is not None:
        prof = dataclasses.replace(prof, binding_check=binding_check)
    return Scenario(attester=attester, model=model, profile=prof, **kw)
