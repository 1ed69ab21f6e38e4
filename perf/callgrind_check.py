"""Instruction count of the trace check, for ``docs/performance.md`` (issue 16).

Runs ``check_trace(parse_lines(lines))`` over the bench traces (``perf.bench.bench_traces``) for
ROUNDS rounds after two warm-up rounds, with the garbage collector frozen after the warm-up. Run it
under callgrind twice and take one round = (instructions at 4 rounds - at 1 round) / 3:

    for n in 1 4; do valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \\
        .venv/bin/python perf/callgrind_check.py $n 2>&1 | grep 'Collected'; done

``json`` as a second argument runs ``json.loads`` on the same lines instead (the denominator).
"""

from __future__ import annotations

import gc
import json
import sys

from expat.model.checker import check_trace
from expat.model.trace import parse_lines
from expat.perf.bench import bench_traces


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    what = sys.argv[2] if len(sys.argv) > 2 else "check"
    traces = bench_traces()
    loads = json.loads

    def check_round() -> None:
        for lines in traces:
            check_trace(parse_lines(lines))

    def json_round() -> None:
        for lines in traces:
            for line in lines:
                loads(line)

    body = check_round if what == "check" else json_round
    for _ in range(2):
        body()
    gc.collect()
    gc.freeze()
    for _ in range(rounds):
        body()


if __name__ == "__main__":
    main()
