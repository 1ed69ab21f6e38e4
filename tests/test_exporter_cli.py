"""`expat exporter` against an independent HKDF computation and a live connection's OpenSSL exporter."""

import expat  # noqa: F401  (before anything imports OpenSSL)

import hashlib
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from expat.cli import main
from expat.reference import tls
from peers import mutual_configs

ALGS = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384()}


def independent_exporter(hash_name: str, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """RFC 8446 §7.5 in two HKDF-Expand steps with hand-built HkdfLabel structures."""
    alg, hlen = ALGS[hash_name], hashlib.new(hash_name).digest_size
    full = b"tls13 " + label
    info1 = hlen.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([hlen]) + hashlib.new(hash_name, b"").digest()
    per_label = HKDFExpand(alg, hlen, info1).derive(secret)
    info2 = (length.to_bytes(2, "big") + b"\x0etls13 exporter" + bytes([hlen])
             + hashlib.new(hash_name, context).digest())
    return HKDFExpand(alg, length, info2).derive(per_label)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["exporter", *argv])
    out = capsys.readouterr()
    return rc, out.out.strip(), out.err


@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
@pytest.mark.parametrize("context", [None, "", "00ff10"])
@pytest.mark.parametrize("length", [16, 32, 48])
def test_matches_independent_computation(capsys, hash_name, context, length):
    secret = bytes(range(hashlib.new(hash_name).digest_size))
    argv = ["--secret", secret.hex(), "--hash", hash_name, "--label", "Attestation", "--length", str(length)]
    if context is not None:
        argv += ["--context", context]
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 0, err
    assert out == independent_exporter(hash_name, secret, b"Attestation", bytes.fromhex(context or ""), length).hex()
    assert out == out.lower() and len(out) == 2 * length


@pytest.mark.parametrize("suite", ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"])
def test_matches_live_connection(capsys, suite):
    client, server = tls.loopback_pair(*mutual_configs("p256", suite))
    try:
        ems = client.exporter_master_secret
        for label, ctx in ((b"Attestation", bytes(range(8))), (b"EXPORTER-server authenticator finished key", b"")):
            rc, out, _ = run_cli(capsys, "--secret", ems.hex(), "--hash", client.hash.name, "--label",
                                 label.decode(), "--context", ctx.hex(), "--length", "32")
            assert rc == 0
            assert bytes.fromhex(out) == server.export_keying_material(label, 32, ctx)
    finally:
        client.close()
        server.close()


@pytest.mark.parametrize("argv,message", [
    (["--secret", "zz", "--hash", "sha256", "--label", "x", "--length", "32"], "not valid hex"),
    (["--secret", "00" * 31, "--hash", "sha256", "--label", "x", "--length", "32"], "must be 32 bytes"),
    (["--secret", "00" * 32, "--hash", "sha384", "--label", "x", "--length", "32"], "must be 48 bytes"),
    (["--secret", "00" * 32, "--hash", "sha256", "--label", "x", "--context", "0g", "--length", "32"], "--context"),
    (["--secret", "00" * 32, "--hash", "sha256", "--label", "x", "--length", "0"], "--length"),
    (["--secret", "00" * 32, "--hash", "sha256", "--label", "", "--length", "32"], "--label"),
])
def test_bad_input_exits_2_with_message(capsys, argv, message):
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 2 and out == ""
    assert message in err


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["exporter", "--secret", "00" * 32, "--hash", "md5", "--label", "x", "--length", "32"])
    assert e.value.code == 2


def test_command_line_entry_point():
    secret = bytes(32)
    out = subprocess.run([sys.executable, "-m", "expat", "exporter", "--secret", secret.hex(), "--hash", "sha256",
                          "--label", "EXPORTER-client authenticator handshake context", "--length", "32"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip() == independent_exporter(
        "sha256", secret, b"EXPORTER-client authenticator handshake context", b"", 32).hex()
    bad = subprocess.run([sys.executable, "-m", "expat", "exporter", "--secret", "abc", "--hash", "sha256",
                          "--label", "x", "--length", "32"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "error" in bad.stderr
