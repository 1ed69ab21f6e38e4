#!/usr/bin/env python3
"""Coverage-guided fuzzing of expat's decoders and validators with atheris (libFuzzer).

    pip install -e '.[fuzz]'
    .venv/bin/python fuzz/run.py TARGET [libFuzzer options, e.g. -runs=20000 -max_total_time=60]
    .venv/bin/python fuzz/run.py --list

TARGET is one of fuzz/targets.py's TARGETS (cbor, cmw, cose-evidence, eat-claims, ear, ear-claims,
evidence-validator, ea-authenticator, tls-messages). The valid seeds of the target are written to a
fresh corpus directory first, so mutation starts from real messages. A property violation (an
exception other than ProtocolError, or an accepted mutated message) raises AssertionError and
libFuzzer stops with a crash file. With -runs=N the harness prints, after the last input, how many
inputs it ran and how many were accepted (libFuzzer's own "Done N runs" line counts them too).
"""

from __future__ import annotations

import atexit
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import atheris  # noqa: E402  (test-only extra: `fuzz`)

with atheris.instrument_imports(include=["expat"]):
    import expat  # noqa: F401,E402  (before OpenSSL)
    import targets  # noqa: E402


def main() -> int:
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help", "--list"):
        print(__doc__ if not args or args[0] != "--list" else "\n".join(targets.TARGETS))
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in targets.TARGETS:
        print(f"unknown target {name!r}; one of {', '.join(targets.TARGETS)}", file=sys.stderr)
        return 2
    corpus = tempfile.mkdtemp(prefix=f"expat-fuzz-{name}-")
    for i, seed in enumerate(targets.seeds(name)):
        with open(os.path.join(corpus, f"seed{i}"), "wb") as f:
            f.write(seed)
    counts = {"inputs": 0, "accepted": 0}
    runs = next((int(a.split("=", 1)[1]) for a in rest if a.startswith("-runs=")), -1)

    def report() -> None:
        print(f"\nexpat fuzz {name}: {counts['inputs']} inputs, {counts['accepted']} accepted, "
              f"no property violation", file=sys.stderr, flush=True)

    def one(data: bytes) -> None:
        counts["inputs"] += 1
        if targets.run_one(name, data) == "accepted":
            counts["accepted"] += 1
        if counts["inputs"] == runs:
            report()

    atexit.register(report)  # when the interpreter exits normally (libFuzzer may _exit instead)
    atheris.Setup([sys.argv[0], *rest, corpus], one)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
