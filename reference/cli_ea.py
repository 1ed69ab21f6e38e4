"""``expat ea ...``: Exported Authenticator tools (RFC 9261).

``expat ea demo`` exchanges authenticators both ways over a live loopback TLS 1.3 connection
(:mod:`expat.reference.demo`; exit 0 when every step came out as expected, 1 otherwise).

``expat ea validate`` checks one authenticator offline, from the connection's exporter secret
or from the two RFC 9261 §5.1 values directly. ``--role`` names the authenticator's SENDER.

Output: one JSON object on stdout.
* exit 0: ``valid: true`` with context, empty (false), signature_scheme, leaf_spki_sha256, extensions.
* exit 1: ``valid: false`` with alert, reason (and check, section for a failed check).
  A well-formed empty authenticator (RFC 9261 §6) also exits 1: RFC 9261 §7.4 returns it as
  invalid. It is told apart from a fault by ``empty: true``, ``refusal_authenticated: true`` and
  alert ``certificate_required`` (the alert RFC 8446 §4.4.2.4 uses for an empty Certificate).
* exit 2: usage errors (bad hex, wrong lengths, unreadable trust file).

The modules other areas add sub-commands to: :data:`EA_SUBPARSERS` (``ea_sub.add_parser(...)``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from expat.errors import ProtocolError
from expat.reference.ea import EAKeys, authenticator_keys, validate_authenticator
from expat.reference.keyschedule import SecretExporter, hash_for

EA_SUBPARSERS: argparse._SubParsersAction | None = None


class UsageError(Exception):
    pass


def _hex(value: str, what: str) -> bytes:
    try:
        return bytes.fromhex("".join(value.split()))
    except ValueError:
        raise UsageError(f"{what}: not valid hex") from None


def _int_list(value: str) -> list[int]:
    try:
        return [int(x, 0) for x in value.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {value!r}") from None


def _keys(args: argparse.Namespace) -> EAKeys:
    h = hash_for(args.hash)
    if args.exporter_secret is not None:
        if args.handshake_context is not None or args.finished_key is not None:
            raise UsageError("give --exporter-secret or --handshake-context/--finished-key, not both")
        secret = _hex(args.exporter_secret, "--exporter-secret")
        if len(secret) != h.length:
            raise UsageError(f"--exporter-secret must be {h.length} bytes for {h.name}")
        return authenticator_keys(SecretExporter(h, secret), args.role)
    if args.handshake_context is None or args.finished_key is None:
        raise UsageError("need --exporter-secret, or both --handshake-context and --finished-key")
    hc, fk = _hex(args.handshake_context, "--handshake-context"), _hex(args.finished_key, "--finished-key")
    if len(hc) != h.length or len(fk) != h.length:
        raise UsageError(f"--handshake-context and --finished-key must be {h.length} bytes for {h.name}")
    return EAKeys(hash=h, handshake_context=hc, finished_key=fk, role=args.role)


def _chain_validator(args: argparse.Namespace):
    if args.trust is None:
        return None
    from expat.reference.pki import ChainValidator

    try:
        with open(args.trust, "rb") as f:
            pem = f.read()
        at = dt.datetime.fromisoformat(args.at) if args.at else dt.datetime.now(dt.timezone.utc)
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.timezone.utc)
        validator = ChainValidator.from_pem(pem, at=at)
    except (OSError, ValueError) as e:
        raise UsageError(f"--trust/--at: {e}") from None
    if not validator.trust_anchors:
        raise UsageError("--trust: no certificates in file")
    return validator


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        keys = _keys(args)
        request = _hex(args.request, "--request") if args.request is not None else None
        authenticator = _hex(args.authenticator, "--authenticator")
        validator = _chain_validator(args)
    except UsageError as e:
        print(f"expat ea validate: {e}", file=sys.stderr)
        return 2
    try:
        result = validate_authenticator(keys, args.role, request, authenticator, validator,
                                        client_hello_sigalgs=args.client_hello_sigalgs,
                                        client_hello_extensions=args.client_hello_extensions)
    except ProtocolError as e:
        print(json.dumps({"valid": False, **e.as_dict()}))
        return 1
    print(json.dumps(result.summary()))
    return 0 if result.valid else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from expat.reference.demo import format_demo, run_demo

    if args.rounds < 1:
        print("expat ea demo: --rounds must be at least 1", file=sys.stderr)
        return 2
    result = run_demo(suite=args.suite, key=args.key, rounds=args.rounds)
    print(format_demo(result))
    return 0 if result.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    global EA_SUBPARSERS
    ea = sub.add_parser("ea", help="Exported Authenticators (RFC 9261)",
                        description="Exported Authenticator tools (RFC 9261).")
    EA_SUBPARSERS = ea.add_subparsers(dest="ea_command", metavar="EA_COMMAND")
    ea.set_defaults(handler=lambda args: (ea.print_help(), 2)[1])

    v = EA_SUBPARSERS.add_parser(
        "validate", help="validate one authenticator offline",
        description="Validate an Exported Authenticator (RFC 9261 §5.2.4, §7.4) offline. --role names the "
                    "authenticator's sender. Exit 0 valid, 1 invalid (JSON says why; an authenticated empty "
                    "authenticator is invalid per §7.4 and reported with empty: true), 2 usage error.")
    v.add_argument("--hash", required=True, choices=["sha256", "sha384"], help="the cipher suite's hash")
    v.add_argument("--role", required=True, choices=["client", "server"], help="who SENT the authenticator")
    v.add_argument("--exporter-secret", metavar="HEX", help="the connection's exporter_master_secret")
    v.add_argument("--handshake-context", metavar="HEX", help="RFC 9261 §5.1 Handshake Context of the sender")
    v.add_argument("--finished-key", metavar="HEX", help="RFC 9261 §5.1 Finished MAC Key of the sender")
    v.add_argument("--request", metavar="HEX", help="the request answered (omit for a spontaneous server authenticator)")
    v.add_argument("--authenticator", metavar="HEX", required=True, help="Certificate||CertificateVerify||Finished")
    trust = v.add_mutually_exclusive_group()
    trust.add_argument("--trust", metavar="PEMFILE", help="trust anchors for chain validation")
    trust.add_argument("--no-chain-validation", action="store_true",
                       help="skip chain validation (the default without --trust; reported as chain_validated: false)")
    v.add_argument("--at", metavar="ISO8601", help="validation time for --trust (default: now)")
    v.add_argument("--client-hello-sigalgs", type=_int_list, metavar="LIST",
                   help="spontaneous only: the ClientHello's signature_algorithms (default: not checked)")
    v.add_argument("--client-hello-extensions", type=_int_list, metavar="LIST",
                   help="spontaneous only: the ClientHello's extension types (default: not checked)")
    v.set_defaults(handler=cmd_validate)

    from expat.reference.demo import DEMO_KEYS, DEMO_SUITES

    d = EA_SUBPARSERS.add_parser(
        "demo", help="exchange authenticators both ways over a live loopback TLS 1.3 connection",
        description="Run a loopback TLS 1.3 connection and exchange Exported Authenticators over it in both "
                    "directions: server request and client authenticator, client request and server "
                    "authenticator, a spontaneous server authenticator, and an empty authenticator (refusal), "
                    "N rounds with fresh contexts. Exit 0 when every step came out as expected, 1 otherwise.")
    d.add_argument("--suite", choices=DEMO_SUITES, default=DEMO_SUITES[0], help="TLS 1.3 cipher suite")
    d.add_argument("--key", choices=DEMO_KEYS, default="p256", help="key type of the TLS and EA identities")
    d.add_argument("--rounds", type=int, default=1, metavar="N", help="rounds of the exchange (default 1)")
    d.set_defaults(handler=cmd_demo)
