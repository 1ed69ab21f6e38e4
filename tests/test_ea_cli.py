"""`expat ea validate` (success, failure, empty authenticator, usage errors)."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from expat.cli import main
from expat.reference import cli_ea
from expat.reference.ea import EASession, authenticator_keys
from expat.reference.keyschedule import SHA256, SHA384, SecretExporter
from expat.reference.messages import Extension, signature_algorithms
from expat.reference.pki import make_identity, spki_der

P256 = make_identity("p256", seed=b"cli", name="cli-p256")
ED = make_identity("ed25519", seed=b"cli", name="cli-ed")
OTHER = make_identity("p256", seed=b"cli-other", name="cli-other")


@pytest.fixture
def trust(tmp_path):
    path = tmp_path / "root.pem"
    path.write_bytes(P256.root_pem())
    return str(path)


def run(capsys, *argv):
    code = main(["ea", "validate", *argv])
    out = capsys.readouterr().out.strip()
    return code, (json.loads(out) if out else None)


def setup(h=SHA256):
    secret = os.urandom(h.length)
    ex = SecretExporter(h, secret)
    server = EASession(ex, True, client_hello_sigalgs=[0x0403, 0x0807], extra_request_extensions=[0xFFFF])
    client = EASession(ex, False, client_hello_sigalgs=[0x0403, 0x0807])
    return secret, server, client


def test_valid_client_authenticator_with_trust(capsys, trust):
    secret, server, client = setup()
    req = server.request([signature_algorithms([0x0403]), Extension(0xFFFF)])
    auth = client.authenticate(P256.key, P256.chain_der(), req, entry_extensions=[[Extension(0xFFFF, b"\x00\x01a")]])
    code, out = run(capsys, "--hash", "sha256", "--role", "client", "--exporter-secret", secret.hex(),
                    "--request", req.hex(), "--authenticator", auth.hex(), "--trust", trust)
    assert code == 0
    assert out["valid"] is True and out["empty"] is False
    assert out["context"] == req[5:5 + req[4]].hex()
    assert out["signature_scheme"] == "ecdsa_secp256r1_sha256"
    assert out["leaf_spki_sha256"] == hashlib.sha256(spki_der(P256.leaf)).hexdigest()
    assert out["extensions"] == [0xFFFF]
    assert out["chain_validated"] is True


def test_valid_with_precomputed_keys_sha384(capsys):
    secret, server, client = setup(SHA384)
    req = client.request([signature_algorithms([0x0807])])
    auth = server.authenticate(ED.key, ED.chain_der(), req)
    keys = authenticator_keys(SecretExporter(SHA384, secret), "server")
    code, out = run(capsys, "--hash", "sha384", "--role", "server", "--handshake-context",
                    keys.handshake_context.hex(), "--finished-key", keys.finished_key.hex(),
                    "--request", req.hex(), "--authenticator", auth.hex(), "--no-chain-validation")
    assert code == 0 and out["valid"] is True and out["signature_scheme"] == "ed25519"
    assert out["chain_validated"] is False and out["extensions"] == []


def test_spontaneous_server_authenticator(capsys, trust):
    secret, server, _ = setup()
    auth = server.authenticate(P256.key, P256.chain_der(), None)
    code, out = run(capsys, "--hash", "sha256", "--role", "server", "--exporter-secret", secret.hex(),
                    "--authenticator", auth.hex(), "--trust", trust)
    assert code == 0 and out["valid"] is True
    code, out = run(capsys, "--hash", "sha256", "--role", "server", "--exporter-secret", secret.hex(),
                    "--authenticator", auth.hex(), "--client-hello-sigalgs", "0x0807")
    assert code == 1 and out["valid"] is False and out["alert"] == "illegal_parameter"
    assert out["check"] == "rfc9261-5.2.2-scheme-offered"


def test_empty_authenticator_is_reported_invalid(capsys):
    secret, server, client = setup()
    req = server.request([signature_algorithms([0x0403])])
    empty = client.empty_authenticator(req)
    code, out = run(capsys, "--hash", "sha256", "--role", "client", "--exporter-secret", secret.hex(),
                    "--request", req.hex(), "--authenticator", empty.hex())
    assert code == 1
    assert out["valid"] is False and out["empty"] is True and out["refusal_authenticated"] is True
    assert out["alert"] == "certificate_required" and out["reason"]
    assert out["context"] == req[5:5 + req[4]].hex() and out["extensions"] == []
    assert "leaf_spki_sha256" not in out


@pytest.mark.parametrize("fault,alert,check", [
    ("finished", "decrypt_error", "rfc9261-5.2.3-finished"),
    ("truncate", "decode_error", "rfc8446-3.4-truncated"),
    ("role", "decrypt_error", "rfc9261-5.2.2-signature"),
])
def test_failures(capsys, fault, alert, check):
    secret, server, client = setup()
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    role = "client"
    if fault == "finished":
        auth = auth[:-1] + bytes([auth[-1] ^ 0x80])
    elif fault == "truncate":
        auth = auth[:-5]
    # "role": the right request kind but another connection's secret
    s = os.urandom(32) if fault == "role" else secret
    code, out = run(capsys, "--hash", "sha256", "--role", role, "--exporter-secret", s.hex(),
                    "--request", req.hex(), "--authenticator", auth.hex(), "--no-chain-validation")
    assert code == 1
    assert out["valid"] is False and out["alert"] == alert and out["check"] == check and out["reason"]


def test_bad_chain(capsys, tmp_path):
    secret, server, client = setup()
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    other = tmp_path / "other.pem"
    other.write_bytes(OTHER.root_pem())
    code, out = run(capsys, "--hash", "sha256", "--role", "client", "--exporter-secret", secret.hex(),
                    "--request", req.hex(), "--authenticator", auth.hex(), "--trust", str(other))
    assert code == 1 and out["alert"] == "bad_certificate" and out["check"] == "pkix-trust-anchor"


def test_client_without_request(capsys):
    secret, server, client = setup()
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    code, out = run(capsys, "--hash", "sha256", "--role", "client", "--exporter-secret", secret.hex(),
                    "--authenticator", auth.hex())
    assert code == 1 and out["alert"] == "unexpected_message" and out["check"] == "rfc9261-5-unsolicited-client"


def test_usage_errors(capsys, tmp_path):
    base = ["--hash", "sha256", "--role", "client", "--authenticator", "14000000"]
    assert main(["ea", "validate", *base, "--exporter-secret", "zz"]) == 2
    assert main(["ea", "validate", *base, "--exporter-secret", "00" * 48]) == 2  # wrong length for sha256
    assert main(["ea", "validate", *base]) == 2  # no key material
    assert main(["ea", "validate", *base, "--handshake-context", "00" * 32]) == 2  # half the pair
    assert main(["ea", "validate", *base, "--exporter-secret", "00" * 32, "--trust", str(tmp_path / "missing")]) == 2
    for argv in (["ea", "validate", "--hash", "md5", "--role", "client", "--authenticator", "00"],
                 ["ea", "validate", "--hash", "sha256", "--role", "client"],
                 ["ea", "validate", *base, "--exporter-secret", "00" * 32, "--trust", "x", "--no-chain-validation"]):
        with pytest.raises(SystemExit) as ei:
            main(argv)
        assert ei.value.code == 2
    assert capsys.readouterr().out == ""  # usage errors print no JSON result


def test_ea_subparsers_are_exposed_for_more_commands():
    from expat.cli import build_parser

    build_parser()
    assert cli_ea.EA_SUBPARSERS is not None and "validate" in cli_ea.EA_SUBPARSERS.choices


def test_console_script(tmp_path):
    secret, server, client = setup()
    req = server.request([signature_algorithms([0x0403])])
    auth = client.authenticate(P256.key, P256.chain_der(), req)
    exe = Path(sys.executable).with_name("expat")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "expat"]
    proc = subprocess.run([*cmd, "ea", "validate", "--hash", "sha256", "--role", "client", "--exporter-secret",
                           secret.hex(), "--request", req.hex(), "--authenticator", auth.hex()],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["valid"] is True
