"""Sub-commands of `expat` for expat.reference.attestation: `profiles`, `verifier serve`."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

from expat.profile import BINDING_CHECKS, DEFAULT, PROFILES, REVISIONS


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands; each sets `handler=callable(args) -> int`."""
    p = sub.add_parser("profiles", help="list the draft-reading profiles and their parameters")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("name", nargs="?", help="show only this profile")
    p.set_defaults(handler=cmd_profiles)

    r = sub.add_parser("run", help="one attested TLS 1.3 connection on loopback, with the Verifier",
                       description="Runs the draft end to end over a real loopback TLS 1.3 connection and prints "
                                   "who attested to whom, the binding, the verdict and where the trace went.")
    r.add_argument("--attester", choices=("client", "server", "mutual"), default="client",
                   help="which side attests (default: client)")
    r.add_argument("--model", choices=("background-check", "passport"), default="background-check",
                   help="RATS model (default: background-check)")
    r.add_argument("--revision", choices=REVISIONS, default=None,
                   help="draft revision whose rules apply (default: 02, or the profile's)")
    r.add_argument("--profile", default=None, choices=sorted(PROFILES),
                   help="named profile (see `expat profiles`; default: the revision's profile)")
    r.add_argument("--binding-check", choices=BINDING_CHECKS, default=None,
                   help="who compares the binding (-04 §5.1): local (the Relying Party) or delegated (the "
                        "Verifier, background check only); default: the profile's")
    r.add_argument("--suite", default="TLS_AES_128_GCM_SHA256",
                   choices=("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"))
    r.add_argument("--tls-key", default="p256", choices=("p256", "p384", "ed25519"),
                   help="key type of the server's TLS certificate")
    r.add_argument("--verifier", choices=("in-process", "http"), default="in-process",
                   help="reach the Verifier in-process or over its HTTP service on loopback")
    r.add_argument("--evidence", choices=("software", "tpm"), default="software",
                   help="Attesting Environment: software (EAT Evidence) or tpm (TPM 2.0 quote on a private swtpm, "
                        "docs/tpm.md)")
    r.add_argument("--reattest", type=int, default=0, help="extra attestations on the same connection")
    r.add_argument("--seed", default=None, help="seed for keys and certificates (default: random)")
    r.add_argument("--trace", metavar="FILE", help="write the trace (JSON Lines) to FILE")
    r.add_argument("--with-secrets", action="store_true",
                   help="include exporter secrets in the trace (do not share such traces)")
    r.add_argument("--json", action="store_true", help="print the account as JSON")
    r.set_defaults(handler=cmd_run)

    v = sub.add_parser("verifier", help="the RATS Verifier")
    vsub = v.add_subparsers(dest="verifier_command", metavar="ACTION")
    s = vsub.add_parser("serve", help="serve the Verifier over HTTP/JSON on 127.0.0.1 (foreground)")
    s.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    s.add_argument("--seed", default="expat",
                   help="seed of the Attesting Environment(s) whose trust anchor and reference values the "
                        "Verifier trusts, and of the Verifier's EAR key (default: expat)")
    s.add_argument("--profile", default="default", choices=sorted(PROFILES), help="profile (default: default)")
    s.add_argument("--evidence", choices=("software", "tpm", "any"), default="software",
                   help="which Attesting Environments of the seed to trust: software (EAT Evidence), tpm (the "
                        "TPM AK CA root; no TPM needed, docs/tpm.md) or any (both); default: software")
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


def serve_verifier(seed: str, profile_name: str = "default", evidence: str = "software"):
    """The Verifier `expat verifier serve` runs: trust anchors of the seed's Attesting Environments
    (the software AE's manufacturer root and/or the TPM AK CA root) and the reference values of the
    honest build (the TPM appraisal turns them into expected PCRs). Needs no TPM."""
    from expat.profile import get_profile
    from expat.reference import pki
    from expat.reference.attestation.environment import SoftwareAttestingEnvironment, default_measurements
    from expat.reference.attestation.tpm.ak_ca import ak_ca_root
    from expat.reference.attestation.verifier import Verifier

    if evidence not in ("software", "tpm", "any"):
        raise ValueError(f"evidence must be software, tpm or any, not {evidence!r}")
    profile = get_profile(profile_name)
    anchors = []
    if evidence in ("software", "any"):
        anchors.append(SoftwareAttestingEnvironment(seed=seed, profile=profile).manufacturer_root)
    if evidence in ("tpm", "any"):
        anchors.append(ak_ca_root(seed))
    return Verifier(anchors, default_measurements(), pki.derive_key("p256", seed.encode() + b"|verifier"),
                    profile=profile)


def cmd_verifier_serve(args: argparse.Namespace) -> int:
    from expat.reference.attestation.verifier_service import VerifierService

    verifier = serve_verifier(args.seed, args.profile, args.evidence)
    service = VerifierService(verifier, port=args.port)
    print(json.dumps({"url": service.url, "profile": verifier.profile.variant_name(),
                      "evidence": args.evidence}), flush=True)
    try:
        service.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from expat.model.checker import check_trace
    from expat.model.trace import TraceRecorder
    from expat.reference.attestation import scenario as sc

    try:
        s = sc.scenario_from_options(attester=args.attester, model=args.model, revision=args.revision,
                                     profile=args.profile, suite=args.suite, tls_key=args.tls_key,
                                     verifier_transport=args.verifier, reattest=max(0, args.reattest),
                                     evidence=args.evidence, binding_check=args.binding_check,
                                     seed=args.seed.encode() if args.seed is not None else None)
    except ValueError as e:
        print(f"expat run: {e}", file=sys.stderr)
        return 2
    recorder = TraceRecorder(profile=s.profile.to_dict(), seed=args.seed or "", cipher_suite=s.suite,
                             with_secrets=args.with_secrets, scenario={"attester": s.attester, "model": s.model,
                                                                       "verifier": s.verifier_transport,
                                                                       "evidence": s.evidence})
    try:
        result = sc.run(s, recorder)
    except (FileNotFoundError, ImportError) as e:   # --evidence tpm without swtpm / tpm2-pytss
        print(f"expat run: {e}", file=sys.stderr)
        return 2
    verdict = check_trace(recorder.trace())
    account = {
        "ok": result.ok,
        "attester": s.attester, "model": s.model, "revision": s.profile.revision,
        "profile": s.profile.variant_name(), "cipher_suite": result.cipher_suite,
        "attestations": [{"attester": o.direction, "relying_party": "server" if o.direction == "client" else "client",
                          "context": o.ctx.hex(), "binding": o.binding.hex(), "aik_spki_sha256":
                          hashlib.sha256(o.aik_spki).hexdigest(), "status": o.status}
                         for o in result.outcomes],
        "application_data": {k: len(v) for k, v in result.received.items()},
        "model_check": "conformant" if verdict.conformant else verdict.to_json()["violations"],
    }
    if result.error is not None:
        account["error"] = result.error.as_dict()
    if args.trace:
        recorder.write(args.trace)
        account["trace"] = args.trace
    if args.json:
        print(json.dumps(account, indent=2))
    else:
        print(f"expat run: {s.attester} as Attester, {s.model}, draft -{s.profile.revision} "
              f"(profile {s.profile.variant_name()})")
        print(f"  TLS 1.3 on loopback, {result.cipher_suite}, no tickets, Verifier {s.verifier_transport}")
        for a in account["attestations"]:
            print(f"  {a['attester']} attested to {a['relying_party']}: context {a['context'][:16]}..., "
                  f"binding {a['binding'][:16]}..., AIK {a['aik_spki_sha256'][:16]}..., verdict {a['status']}")
        if result.ok:
            print(f"  application data after attestation: {account['application_data']}")
        else:
            e = result.error
            print(f"  FAILED: {e.alert.name}: {e.reason} [{e.check}]")
        print(f"  model check of the trace: {'conformant' if verdict.conformant else 'VIOLATIONS'}")
        print(f"  trace: {args.trace if args.trace else '(not written; use --trace FILE)'}")
    if not result.ok:
        return 1
    return 0 if verdict.conformant else 3
