"""``expat exporter``: TLS-Exporter (RFC 8446 §7.5) from an exporter_master_secret.

    expat exporter --secret HEX --hash sha256|sha384 --label TEXT [--context HEX] --length N

Prints the output as lowercase hex. In TLS 1.3 an absent context equals an empty one,
so ``--context`` defaults to empty. Bad input exits with status 2 and a message.
"""

from __future__ import annotations

import argparse
import sys

from expat.reference.keyschedule import hash_for, tls_exporter


def _hex(value: str, what: str) -> bytes:
    text = value.strip()
    if text.lower().startswith("0x"):
        text = text[2:]
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{what} is not valid hex: {value!r}") from None


def run(args: argparse.Namespace) -> int:
    try:
        h = hash_for(args.hash)
        secret = _hex(args.secret, "--secret")
        if len(secret) != h.length:
            raise ValueError(f"--secret must be {h.length} bytes for {h.name}, got {len(secret)}")
        context = _hex(args.context, "--context") if args.context is not None else b""
        label = args.label.encode("utf-8")
        # RFC 8446 §7.1: "tls13 " + label must fit the 255-byte label vector.
        if not 1 <= len(label) <= 249:
            raise ValueError("--label must be 1..249 bytes")
        if not 1 <= args.length <= 255 * h.length:
            raise ValueError(f"--length must be 1..{255 * h.length} for {h.name}")
        out = tls_exporter(h, secret, label, context, args.length)
    except ValueError as e:
        print(f"expat exporter: error: {e}", file=sys.stderr)
        return 2
    print(out.hex())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("exporter", help="compute TLS-Exporter from an exporter_master_secret (RFC 8446 §7.5)",
                       description="TLS-Exporter(label, context, length) from a keylog EXPORTER_SECRET; "
                                   "prints lowercase hex.")
    p.add_argument("--secret", required=True, help="exporter_master_secret as hex (keylog EXPORTER_SECRET)")
    p.add_argument("--hash", required=True, choices=("sha256", "sha384"), type=str.lower,
                   help="hash of the negotiated cipher suite")
    p.add_argument("--label", required=True, help="exporter label (UTF-8 text)")
    p.add_argument("--context", default=None, help="context value as hex (default: empty, same as none in TLS 1.3)")
    p.add_argument("--length", required=True, type=int, help="output length in bytes")
    p.set_defaults(handler=run)
