#!/usr/bin/env python3
"""Exported Authenticator cost against the raw signature it is built around (not a test).

For each key type, in one run:
  * authenticate/s and validate/s through expat.reference.ea (session API, chain validation off,
    exporter keys precomputed as a TLS stack would cache them),
  * raw sign/s and verify/s with the same key over a message of the same size (the CertificateVerify
    content),
  * ratio = (authenticate + validate) / (raw sign + raw verify) per operation. Aim: < 1.5.

Usage: .venv/bin/python benchmarks/bench_ea.py [--seconds S] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import expat  # noqa: F401  (configures OpenSSL first)
from expat.reference import ea, messages, pki
from expat.reference.keyschedule import SHA256, SecretExporter

AIM = 1.5


def _rate(fn, seconds: float) -> float:
    """Operations per second of fn(), measured for about ``seconds`` after a warm-up."""
    for _ in range(20):
        fn()
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            fn()
        n += 20
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def bench(kind: str, seconds: float) -> dict:
    ident = pki.make_identity(kind, seed="bench")
    exporter = SecretExporter(SHA256, os.urandom(32))
    server = ea.EASession(exporter, is_server=True)
    client = ea.EASession(exporter, is_server=False)
    signer = ea.as_signer(ident.key)
    chain = ident.chain_der()
    scheme = ea.schemes_for_key(ident.key.public_key())[0]
    sigalgs = [messages.signature_algorithms([scheme])]

    # one request per authenticate (contexts must be unique on a session)
    def one_auth():
        request = server.request(sigalgs)
        return request, client.authenticate(signer, chain, request)

    pairs = []

    def auth():
        pairs.append(one_auth())

    auth_rate = _rate(auth, seconds)
    it = iter(pairs)

    def validate():
        request, authenticator = next(it)
        server.validate(request, authenticator, None)

    # validate as many as were made (each context validates once)
    count = min(len(pairs), max(50, int(auth_rate * seconds)))
    start = time.perf_counter()
    for _ in range(count):
        validate()
    validate_rate = count / (time.perf_counter() - start)

    keys = ea.authenticator_keys(exporter, "client")
    request, authenticator = pairs[0]
    cert = messages.split_handshakes(authenticator)[0].raw if hasattr(messages, "split_handshakes") else b""
    content = ea.certificate_verify_content(keys, request, cert) if cert else os.urandom(119)
    signature = signer.sign(scheme, content)
    sign_rate = _rate(lambda: signer.sign(scheme, content), seconds)
    verify_rate = _rate(lambda: ea.verify_signature(ident.key.public_key(), scheme, signature, content), seconds)
    ratio = (1 / auth_rate + 1 / validate_rate) / (1 / sign_rate + 1 / verify_rate)
    return {"key": kind, "authenticate_per_s": round(auth_rate, 1), "validate_per_s": round(validate_rate, 1),
            "raw_sign_per_s": round(sign_rate, 1), "raw_verify_per_s": round(verify_rate, 1),
            "ratio": round(ratio, 3), "aim": AIM, "within_aim": ratio < AIM}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=1.0, help="measuring time per figure (default 1)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
               "platform": platform.platform()}
    results = []
    for kind in ("p256", "ed25519"):
        print(f"measuring {kind} ...", file=sys.stderr, flush=True)
        results.append(bench(kind, args.seconds))
    if args.json:
        print(json.dumps({"machine": machine, "results": results}, indent=2))
        return 0
    print(f"machine: {machine['platform']}, {machine['cpus']} cpus, Python {machine['python']}")
    print(f"{'key':8} {'auth/s':>9} {'valid/s':>9} {'sign/s':>9} {'verify/s':>9} {'ratio':>7}  (aim < {AIM})")
    for r in results:
        print(f"{r['key']:8} {r['authenticate_per_s']:>9} {r['validate_per_s']:>9} {r['raw_sign_per_s']:>9} "
              f"{r['raw_verify_per_s']:>9} {r['ratio']:>7}  {'ok' if r['within_aim'] else 'ABOVE AIM'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
