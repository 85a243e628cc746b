"""Speed of the editor's notation checks: lexing one line, validating a 40-bar tune.

    .venv/bin/python benchmarks/notation_speed.py [--repeats 5]

The syntax highlighter lexes a line per keystroke and the validator runs on every pause in
typing, so both must stay far below a frame. Targets (the limits the unit tests once
asserted, moved here because a busy machine made them flaky): a 60-character music line
under 100 µs (measured ~40 µs on a busy 2-core machine); O'Neill's "Planxty Lady Blaney"
(40 bars) validated under 20 ms (measured 3-5 ms, half of it the bar-length scan). Times
are this thread's CPU time, the best of `--repeats`, so other processes' load counts less.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LINE = '|:"D"A2 ^f2 (3efg a2g2 fedc|"G"d2fa [df]3e|"A"g2 {a}gf e/d/c :|'


def best_cpu_time(fn, repeats: int, inner: int) -> float:
    """The best of `repeats` CPU-time measurements of `inner` calls, per call, in seconds."""
    fn()  # warm caches and imports
    runs = []
    for _ in range(repeats):
        start = time.thread_time()
        for _ in range(inner):
            fn()
        runs.append((time.thread_time() - start) / inner)
    return min(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from workbench.corpus import load
    from workbench.notation.abc_lexer import lex_line
    from workbench.notation.meter import bar_lengths
    from workbench.notation.validate import validate_abc

    per_line = best_cpu_time(lambda: lex_line(LINE, True), args.repeats, 200)
    print(f"RESULT lex_line, {len(LINE)}-char line: {per_line * 1e6:.1f} µs (target < 100 µs)")

    tunes = load(["corpus:oneills1850"]).tunes
    tune = next(t.text for t in tunes if t.title == "Planxty Lady Blaney")
    bars = len(bar_lengths(tune))
    per_tune = best_cpu_time(lambda: validate_abc(tune), args.repeats, 1)
    print(f"RESULT validate_abc, {bars}-bar tune: {per_tune * 1e3:.1f} ms (target < 20 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
