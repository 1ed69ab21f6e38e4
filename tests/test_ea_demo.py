"""``expat ea demo``: authenticators both ways over one live loopback TLS 1.3 connection.

Expected values are computed independently of expat: scheme names from RFC 8446 §4.2.3 for the
key type, SPKI hashes straight from ``cryptography``, message sizes from the RFC 8446 §4 / §4.3.2
/ §4.4.4 layouts.
"""

import expat  # noqa: F401  (before anything imports OpenSSL)

import dataclasses
import hashlib
import re
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from expat.reference import pki
from expat.reference.demo import DEMO_SEED, STEPS_PER_ROUND, format_demo, run_demo

EXPAT = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "expat"

SCHEME_FOR_KEY = {"p256": "ecdsa_secp256r1_sha256", "p384": "ecdsa_secp384r1_sha384", "ed25519": "ed25519"}
HASH_LEN = {"sha256": 32, "sha384": 48}
# handshake header (4) + context<0..255> (1 + 32) + extensions<2..> (2 + signature_algorithms:
# type 2 + length 2 + list length 2 + 4 schemes * 2)
REQUEST_SIZE = 4 + 1 + 32 + 2 + (2 + 2 + 2 + 4 * 2)
EXPECTED_ROUND = [  # (sender, message, validated by)
    ("server", "CertificateRequest (13)", None),
    ("client", "authenticator", "server"),
    ("client", "ClientCertificateRequest (17)", None),
    ("server", "authenticator", "client"),
    ("server", "spontaneous authenticator", "client"),
    ("server", "CertificateRequest (13)", None),
    ("client", "empty authenticator", "server"),
]


def spki_sha256(kind: str, name: str) -> bytes:
    leaf = pki.make_identity(kind, seed=DEMO_SEED, name=name).leaf
    return hashlib.sha256(leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()


@pytest.mark.parametrize("suite,key,hash_name", [
    ("TLS_AES_128_GCM_SHA256", "p256", "sha256"),
    ("TLS_AES_256_GCM_SHA384", "p384", "sha384"),
    ("TLS_CHACHA20_POLY1305_SHA256", "ed25519", "sha256"),
])
def test_demo_runs_every_step(suite, key, hash_name):
    rounds = 2
    result = run_demo(suite=suite, key=key, rounds=rounds)
    assert result.error is None, result.error
    assert result.ok
    assert (result.suite, result.hash_name, result.key_kind) == (suite, hash_name, key)
    assert len(result.steps) == rounds * STEPS_PER_ROUND == rounds * len(EXPECTED_ROUND)
    client_spki, server_spki = spki_sha256(key, "ea-client"), spki_sha256(key, "ea-server")
    assert client_spki != server_spki
    for i, step in enumerate(result.steps):
        sender, message, validated_by = EXPECTED_ROUND[i % STEPS_PER_ROUND]
        assert (step.round, step.index) == (i // STEPS_PER_ROUND + 1, i % STEPS_PER_ROUND + 1)
        assert (step.sender, step.message, step.validated_by) == (sender, message, validated_by)
        assert step.expected and step.error is None
        assert len(step.context) == 32
        if validated_by is None:  # a request
            assert step.size == REQUEST_SIZE
            assert step.valid is None
        elif message == "empty authenticator":  # RFC 9261 §6: a lone Finished, authenticated but not valid
            assert step.size == 4 + HASH_LEN[hash_name]
            assert (step.valid, step.empty, step.signature_scheme, step.leaf_spki_sha256) == (False, True, None, None)
        else:
            assert (step.valid, step.empty, step.chain_validated) == (True, False, True)
            assert step.signature_scheme == SCHEME_FOR_KEY[key]
            assert step.leaf_spki_sha256 == (client_spki if sender == "client" else server_spki)
    # An answer carries its request's context; every exchange has its own (RFC 9261 §4, §5.2.1).
    for r in range(rounds):
        s = result.steps[r * STEPS_PER_ROUND:(r + 1) * STEPS_PER_ROUND]
        assert s[0].context == s[1].context and s[2].context == s[3].context and s[5].context == s[6].context
    contexts = [s.context for s in result.steps]
    assert len(set(contexts)) == rounds * 4
    # The spontaneous scheme was one the ClientHello offered (RFC 9261 §5.2.2).
    assert {"p256": 0x0403, "p384": 0x0503, "ed25519": 0x0807}[key] in result.client_hello_sigalgs


def test_demo_account_and_failure_reporting():
    result = run_demo(rounds=1)
    text = format_demo(result)
    assert "TLS_AES_128_GCM_SHA256 (hash sha256)" in text
    assert text.count("server: valid") == 1 and text.count("client: valid") == 2
    assert "authenticated refusal" in text and text.rstrip().endswith("7/7 steps as expected, 4 distinct contexts")
    # One step that did not come out as expected makes the whole run a failure.
    bad = dataclasses.replace(result.steps[1], valid=False, expected=False, error="decrypt_error [x]: y")
    failed = dataclasses.replace(result, steps=[result.steps[0], bad, *result.steps[2:]])
    assert not failed.ok and "REJECTED (decrypt_error" in format_demo(failed)
    assert not dataclasses.replace(result, steps=result.steps[:-1]).ok
    reused = dataclasses.replace(result.steps[2], context=result.steps[0].context)
    assert not dataclasses.replace(result, steps=[*result.steps[:2], reused, *result.steps[3:]]).ok


def test_demo_rejects_bad_arguments():
    for kw in ({"suite": "TLS_AES_128_CCM_SHA256"}, {"key": "rsa"}, {"rounds": 0}):
        with pytest.raises(ValueError):
            run_demo(**kw)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXPAT), "ea", "demo", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("suite,hash_name", [("TLS_AES_128_GCM_SHA256", "sha256"),
                                             ("TLS_AES_256_GCM_SHA384", "sha384")])
def test_cli_demo(suite, hash_name):
    proc = run_cli("--suite", suite, "--key", "ed25519", "--rounds", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert f"{suite} (hash {hash_name})" in out
    assert re.findall(r"^round (\d+)$", out, re.M) == ["1", "2"]
    steps = re.findall(r"^  (\d)\. +(server|client) -> (server|client) ", out, re.M)
    assert len(steps) == 14
    assert out.count("scheme ed25519") == 6
    assert out.count(": valid") == 6 and out.count("authenticated refusal") == 2
    assert f"{4 + HASH_LEN[hash_name]} bytes" in out  # the empty authenticators
    assert out.rstrip().endswith("result: OK: 14/14 steps as expected, 8 distinct contexts")
    # The leaf SPKI prefixes printed are the EA identities' (computed here from the certificates).
    assert out.count(spki_sha256("ed25519", "ea-client")[:8].hex()) == 2
    assert out.count(spki_sha256("ed25519", "ea-server")[:8].hex()) == 4


def test_cli_demo_usage_errors():
    assert run_cli("--rounds", "0").returncode == 2
    proc = run_cli("--suite", "TLS_AES_128_CCM_SHA256")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
