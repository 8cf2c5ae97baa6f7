"""`python -m bench [NAME ...]`: run the named benchmarks, or all of them, in order.

A benchmark is a module with `run(duration_s: int) -> bool` (True when its
goals are met), listed in BENCHMARKS. Exit status: 0 when every goal is met,
1 when one is missed, 2 when a benchmark could not measure at all.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from bench import BenchError, analysis, exports, ingest, load, status, triage, wrk

BENCHMARKS: dict[str, Callable[[int], bool]] = {
    "status": status.run,
    "triage": triage.run,
    "ingest": ingest.run,
    "exports": exports.run,
    "load": load.run,
    "analysis": analysis.run,
}
DEFAULT_DURATION_S = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run the named benchmarks, or all of them, in order.")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--duration", type=int, default=DEFAULT_DURATION_S, metavar="SECONDS",
                        help=f"length of each measured wrk run (default: {DEFAULT_DURATION_S})")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if args.duration < 1:
        parser.error("--duration must be at least 1 second")

    wrk.ensure_installed()
    started = time.monotonic()
    goals_met = True
    for name in args.names or BENCHMARKS:
        print(f"== benchmark {name} ==", flush=True)
        try:
            goals_met = BENCHMARKS[name](args.duration) and goals_met
        except BenchError as error:
            print(f"bench: {name} could not measure: {error}", file=sys.stderr)
            return 2
    print(f"\nbench: done in {time.monotonic() - started:.0f} s")
    return 0 if goals_met else 1


if __name__ == "__main__":
    sys.exit(main())
