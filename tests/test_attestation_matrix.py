"""Positive matrix: every attester x model x draft revision runs green over a real TLS 1.3 connection.

Each cell checks: attestation accepted with an affirming result in every required direction,
application data delivered both ways (draft §7.3), and the binding the Relying Party accepted equals
one recomputed here from the keylog's exporter_master_secret with hashlib/hmac (draft -02 §5.1;
-01 §5 formula with the Verifier nonce in the background-check model, profile "rev01"; -04 §5.1 label
"EXPORTER-cmw-attestation", profile "rev04", also with the comparison delegated to the Verifier).
"""

from __future__ import annotations

import expat  # noqa: F401  (before OpenSSL)

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from attestation_support import assert_accepted, independent_binding, scenario, suite_hash
from expat.reference.attestation.endpoint import BACKGROUND_CHECK, PASSPORT
from expat.reference.attestation.scenario import RunResult, run
from expat.reference.attestation.verifier_service import VerifierClient


def _check_bindings(result: RunResult) -> None:
    """Each outcome's binding recomputed independently (and of the suite hash's length)."""
    s = result.scenario
    h = suite_hash(result.cipher_suite)
    rev01 = s.profile.binding_formula == "01"
    for outcome in result.outcomes:
        rp = result.endpoints["client" if outcome.direction == "server" else "server"]
        nonce = outcome.ctx if (rev01 and s.model == BACKGROUND_CHECK) else b""
        expected = independent_binding(h, rp.conn.exporter_master_secret, outcome.ctx, outcome.aik_spki,
                                       nonce=nonce, label=s.profile.exporter_label.encode("ascii"))
        assert outcome.binding == expected
        assert len(outcome.binding) == (48 if h == "sha384" else 32)


@pytest.mark.parametrize("revision", ["01", "02", "editors", "04"])
@pytest.mark.parametrize("model", [BACKGROUND_CHECK, PASSPORT])
@pytest.mark.parametrize("attester", ["client", "server", "mutual"])
def test_matrix_cell(attester: str, model: str, revision: str) -> None:
    result = run(scenario(attester=attester, model=model, revision=revision))
    assert_accepted(result)
    assert result.scenario.profile.revision == revision
    assert sorted(o.direction for o in result.outcomes) == sorted(result.scenario.attesting_sides)
    # both endpoints agree that every required side attested
    for ep in result.endpoints.values():
        assert set(ep.completed) == set(result.scenario.attesting_sides)
    _check_bindings(result)


@pytest.mark.parametrize("transport", ["in-process", "http"])
@pytest.mark.parametrize("attester", ["client", "server", "mutual"])
def test_matrix_cell_04_delegated(attester: str, transport: str) -> None:
    """-04 §5.1 delegated comparison (background check): the Verifier confirms the Relying Party's binding."""
    result = run(scenario(attester=attester, revision="04", binding_check="delegated", verifier_transport=transport))
    assert_accepted(result)
    assert result.scenario.profile.delegated
    _check_bindings(result)


@pytest.mark.parametrize("attester,model", [("client", BACKGROUND_CHECK), ("mutual", PASSPORT)])
def test_sha384_suite(attester: str, model: str) -> None:
    result = run(scenario(attester=attester, model=model, suite="TLS_AES_256_GCM_SHA384"))
    assert_accepted(result)
    assert result.cipher_suite == "TLS_AES_256_GCM_SHA384"
    _check_bindings(result)          # 48-byte bindings: H is the suite hash (§5.1)


@pytest.mark.parametrize("tls_key,key_type,attester,model", [
    ("p384", ec.EllipticCurvePublicKey, "server", BACKGROUND_CHECK),
    ("ed25519", ed25519.Ed25519PublicKey, "mutual", PASSPORT),
])
def test_tls_server_key_types(tls_key: str, key_type: type, attester: str, model: str) -> None:
    result = run(scenario(attester=attester, model=model, tls_key=tls_key))
    assert_accepted(result)
    leaf = x509.load_der_x509_certificate(result.endpoints["client"].conn.peer_chain_der[0])
    assert isinstance(leaf.public_key(), key_type)
    if tls_key == "p384":
        assert leaf.public_key().curve.name == "secp384r1"
    _check_bindings(result)


@pytest.mark.parametrize("attester,model", [("client", BACKGROUND_CHECK), ("server", PASSPORT)])
def test_verifier_over_http(attester: str, model: str) -> None:
    result = run(scenario(attester=attester, model=model, verifier_transport="http"))
    assert_accepted(result)
    assert all(isinstance(ep.verifier.service, VerifierClient) for ep in result.endpoints.values())
    _check_bindings(result)


@pytest.mark.parametrize("attester,model", [("client", BACKGROUND_CHECK), ("mutual", PASSPORT)])
def test_reattest_on_one_connection(attester: str, model: str) -> None:
    """§7.4: re-attestation is a new EA exchange with a new certificate_request_context."""
    result = run(scenario(attester=attester, model=model, reattest=1))
    assert_accepted(result)
    for side in result.scenario.attesting_sides:
        mine = [o for o in result.outcomes if o.direction == side]
        assert len(mine) == 2
        assert mine[0].ctx != mine[1].ctx
        assert mine[0].binding != mine[1].binding
        assert mine[0].aik_spki == mine[1].aik_spki
    _check_bindings(result)
