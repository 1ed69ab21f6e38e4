"""Sub-commands of `expat` for expat.reference.attestation: `profiles`, `verifier serve`."""

from __future__ import annotations

import argparse
import json
import sys

from expat.profile import DEFAULT, PROFILES


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands; each sets `handler=callable(args) -> int`."""
    p = sub.add_parser("profiles", help="list the draft-reading profiles and their parameters")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("name", nargs="?", help="show only this profile")
    p.set_defaults(handler=cmd_profiles)

    v = sub.add_parser("verifier", help="the RATS Verifier")
    vsub = v.add_subparsers(dest="verifier_command", metavar="ACTION")
    s = vsub.add_parser("serve", help="serve the Verifier over HTTP/JSON on 127.0.0.1 (foreground)")
    s.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    s.add_argument("--seed", default="expat",
                   help="seed of the software Attesting Environment whose manufacturer root and reference "
                        "values the Verifier trusts, and of the Verifier's EAR key (default: expat)")
    s.add_argument("--profile", default="default", choices=sorted(PROFILES), help="profile (default: default)")
    s.set_defaults(handler=cmd_verifier_serve)
    v.set_defaults(handler=lambda args: (v.print_help(), 2)[1])


def cmd_profiles(args: argparse.Namespace) -> int:
    if args.name and args.name not in PROFILES:
        print(f"unknown profile {args.name!r}; known: {', '.join(PROFILES)}", file=sys.stderr)
        return 2
    profiles = [PROFILES[args.name]] if args.name else list(PROFILES.values())
    if args.json:
        print(json.dumps({p.name: {"variant": p.variant_name(), **p.to_dict()} for p in profiles}, indent=2))
        return 0
    base = DEFAULT.to_dict()
    for p in profiles:
        print(p.variant_name())
        d = p.to_dict()
        for key, value in d.items():
            if key in ("name", "mitigations"):
                continue
            mark = "*" if value != base[key] else " "
            shown = f"0x{value:04x}" if key == "cmw_attestation_codepoint" else value
            print(f"  {mark} {key:28} {shown}")
        off = [k for k, on in d["mitigations"].items() if not on]
        print(f"  {'*' if off else ' '} {'mitigations off':28} {', '.join(off) or '(none)'}")
    return 0


def cmd_verifier_serve(args: argparse.Namespace) -> int:
    from expat.profile import get_profile
    from expat.reference import pki
    from expat.reference.attestation.environment import SoftwareAttestingEnvironment
    from expat.reference.attestation.verifier import Verifier
    from expat.reference.attestation.verifier_service import VerifierService

    profile = get_profile(args.profile)
    ae = SoftwareAttestingEnvironment(seed=args.seed, profile=profile)
    verifier = Verifier([ae.manufacturer_root], ae.reference_values(),
                        pki.derive_key("p256", args.seed.encode() + b"|verifier"), profile=profile)
    service = VerifierService(verifier, port=args.port)
    print(json.dumps({"url": service.url, "profile": profile.variant_name()}), flush=True)
    try:
        service.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
    return 0
