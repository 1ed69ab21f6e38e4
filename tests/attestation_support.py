"""Helpers for the attestation-layer tests: drive real attested connections step by step.

Everything runs over real TLS 1.3 on loopback (scenario.run sets up the AEs, the Verifier, the
certificates and the connection). ``drive`` lends a test the two live endpoints so that it can play
the protocol itself; ``forge_authenticator`` builds a cryptographically valid authenticator that
skips the creation-side checks (what a non-conforming peer could send); ``independent_binding``
recomputes the draft's binding from the keylog's exporter_master_secret with hashlib/hmac only.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import pytest

import expat  # noqa: F401  (before OpenSSL: sets OPENSSL_CONF)
from expat.errors import Alert, ProtocolError
from expat.reference import ea, messages
from expat.reference.attestation.endpoint import OFFERED_SCHEMES, PEER_REFUSED, AttestedEndpoint
from expat.reference.attestation.scenario import RunResult, Scenario, run, scenario_from_options
from expat.reference.framing import FrameType
from expat.reference.messages import Certificate, CertificateEntry, CertificateVerify, Extension, Finished

SEED = b"attestation-tests"
CMW_CODEPOINT = 0xFFFF          # the default profile's cmw_attestation codepoint (Private Use, DIGEST §3.8 #12)


def scenario(**kw: Any) -> Scenario:
    """scenario_from_options with a fixed seed (deterministic keys and certificates)."""
    kw.setdefault("seed", SEED)
    return scenario_from_options(**kw)


# --- driving endpoints by hand ---------------------------------------------------------------------

class _Done(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Driver:
    def __init__(self, fn: Callable[[dict[str, AttestedEndpoint]], Any]) -> None:
        self.fn = fn

    def prepare(self, eps: dict[str, AttestedEndpoint]) -> None:
        raise _Done(self.fn(eps))      # a ProtocolError from fn ends up in RunResult.error

    def before_accept(self, rp: AttestedEndpoint, att: AttestedEndpoint, request: bytes) -> None:
        raise AssertionError("not reached")


@dataclass
class Driven:
    value: Any = None
    error: ProtocolError | None = None


def drive(s: Scenario, fn: Callable[[dict[str, AttestedEndpoint]], Any]) -> Driven:
    """Set up ``s`` for real (TLS on loopback, AEs, Verifier) and hand its endpoints to ``fn``
    instead of the default flow. Returns fn's value or the ProtocolError it raised."""
    try:
        result = run(s, attack=_Driver(fn))
    except _Done as done:
        return Driven(value=done.value)
    assert result.error is not None, "the driver always stops the scenario"
    return Driven(error=result.error)


@dataclass
class Hooks:
    """An ``attack`` object for scenario.run from two optional callables."""

    on_prepare: Callable[[dict[str, AttestedEndpoint]], None] | None = None
    on_before_accept: Callable[[AttestedEndpoint, AttestedEndpoint, bytes], None] | None = None

    def prepare(self, eps: dict[str, AttestedEndpoint]) -> None:
        if self.on_prepare is not None:
            self.on_prepare(eps)

    def before_accept(self, rp: AttestedEndpoint, att: AttestedEndpoint, request: bytes) -> None:
        if self.on_before_accept is not None:
            self.on_before_accept(rp, att, request)


def run_with(s: Scenario, **hooks: Any) -> RunResult:
    return run(s, attack=Hooks(**hooks))


def assert_rejected(result: RunResult | Driven, check_id: str, alert: Alert) -> ProtocolError:
    """The run failed with exactly this check and alert (and did not exchange application data)."""
    err = result.error
    assert err is not None, "expected a rejection, the run succeeded"
    assert isinstance(err, ProtocolError)
    assert (err.check, err.alert) == (check_id, alert), f"got {err.check} / {err.alert.name}: {err}"
    if isinstance(result, RunResult):
        assert not result.ok and result.received == {}
    return err


def assert_accepted(result: RunResult) -> None:
    assert result.error is None, f"unexpected rejection: {result.error!r}"
    assert result.ok
    n = len(result.scenario.attesting_sides) * (1 + result.scenario.reattest)
    assert len(result.outcomes) == n
    assert all(o.accepted and o.status == "affirming" for o in result.outcomes)
    assert result.received["server"] == result.scenario.app_data
    assert result.received["client"] == result.scenario.app_data[::-1]


def plain_request(rp: AttestedEndpoint, extra: Sequence[Extension] = (), allow: tuple[int, ...] = ()) -> bytes:
    """Send a request without the cmw_attestation offer (unless ``extra`` adds it), its context from the
    Verifier as the profile wants."""
    request = rp.session.request([messages.signature_algorithms(OFFERED_SCHEMES), *extra],
                                 context=rp.verifier.service.challenge(), allow=allow)
    rp.channel.send(FrameType.ea_request, request)
    return request


def rejected_and_peer_told(rp: AttestedEndpoint, att: AttestedEndpoint, request: bytes, alert: Alert) -> None:
    """accept_authenticator raises; the attester learns the same alert from an ea_alert frame."""
    try:
        rp.accept_authenticator(request)
    finally:
        with pytest.raises(ProtocolError) as told:
            att.await_outcome()
        assert (told.value.check, told.value.alert) == (PEER_REFUSED.id, alert)


# --- a non-conforming peer ---------------------------------------------------------------------------

def forge_authenticator(session: ea.EASession, signer: Any, chain_der: Sequence[bytes], request: bytes | None,
                        entry_extensions: Sequence[Sequence[Extension]], *, context: bytes | None = None) -> bytes:
    """Certificate || CertificateVerify || Finished (RFC 9261 §5.2) signed and MACed correctly for
    ``session``'s role, with whatever extensions the caller puts in each entry: none of the
    creation-side checks (extension subset, context freshness) run."""
    keys = session.keys(session.role)
    if request is not None:
        context = ea.decode_request(request).context
    assert context is not None
    req_raw = request or b""
    entries = [CertificateEntry(c, tuple(e)) for c, e in zip(chain_der, entry_extensions)]
    entries += [CertificateEntry(c) for c in chain_der[len(entries):]]
    cert = Certificate(context, tuple(entries)).raw
    scheme = ea.schemes_for_key(signer.public_key())[0]
    cv = CertificateVerify(scheme, signer.sign(scheme, ea.certificate_verify_content(keys, req_raw, cert))).raw
    return cert + cv + Finished(ea.finished_verify_data(keys, req_raw, cert, cv)).raw


def cmw_extension(cmw_data: bytes) -> Extension:
    """cmw_attestation with CMWAttestation = uint16 length || cmw_data (draft §3), encoded here."""
    return Extension(CMW_CODEPOINT, len(cmw_data).to_bytes(2, "big") + cmw_data)


# --- independent binding (RFC 8446 §7.1, §7.5; draft -02 §5.1) ---------------------------------------

def _hkdf_expand_label(h: str, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([i]), h).digest()
        out, i = out + block, i + 1
    return out[:length]


def independent_exporter(h: str, exporter_master_secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """TLS-Exporter(label, context, length) = HKDF-Expand-Label(Derive-Secret(EMS, label, ""),
    "exporter", Hash(context), length)."""
    derived = _hkdf_expand_label(h, exporter_master_secret, label, hashlib.new(h, b"").digest(),
                                 hashlib.new(h).digest_size)
    return _hkdf_expand_label(h, derived, b"exporter", hashlib.new(h, context).digest(), length)


def independent_binding(h: str, exporter_master_secret: bytes, ctx: bytes, aik_spki: bytes, *,
                        label: bytes = b"Attestation", nonce: bytes = b"") -> bytes:
    """-02: H(SPKI || TLS-Exporter(label, ctx, 32)); -01 (nonce given): H(nonce || SPKI || exported)."""
    exported = independent_exporter(h, exporter_master_secret, label, ctx, 32)
    return hashlib.new(h, nonce + aik_spki + exported).digest()


def suite_hash(cipher_suite: str) -> str:
    return "sha384" if cipher_suite.endswith("SHA384") else "sha256"
