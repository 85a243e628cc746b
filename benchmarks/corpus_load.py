"""Corpus loading speed: music21's built-in folk collections read into tunes.

    .venv/bin/python benchmarks/corpus_load.py [--spec corpus:folk] [--repeats 3]

Target: corpus:folk (the five collections, 12,947 tunes, ~4.3 M characters) in under 5 s, so
the Dataset pane's "Built-in corpus" is ready in moments. Prints each repeat's wall time in a
fresh process (nothing cached in memory between repeats), tunes and characters per second.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_PROBE = """
import sys, time
sys.path.insert(0, sys.argv[2])
from workbench.corpus import load
started = time.perf_counter()
result = load([sys.argv[1]])
elapsed = time.perf_counter() - started
print(elapsed, len(result.tunes), result.chars)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="corpus:folk", help="what to load (a DATA spec)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    times = []
    for i in range(args.repeats):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE, args.spec, str(ROOT)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        elapsed, tunes, chars = float(out[0]), int(out[1]), int(out[2])
        times.append(elapsed)
        print(
            f"run {i + 1}: {elapsed:.2f} s for {tunes:,} tunes, {chars:,} chars "
            f"({tunes / elapsed:,.0f} tunes/s)"
        )
    print(f"{args.spec}: best {min(times):.2f} s, worst {max(times):.2f} s (target < 5 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
