"""Write a long-tailed `<start>`/`<end>` collection for benchmarks (issue: training that holds
up on any collection).

    .venv/bin/python scripts/build_long_tailed.py OUT.txt [--seed 7]

The tunes are music21's Ryan's Mammoth Collection (not in the shipped model's data), about
1,100 entries shaped like a real hand-made collection with a long tail:

- most entries are single tunes as written;
- 1 in 25 is a medley: 4-14 consecutive tunes' bodies after one header (1,500-5,000 chars);
- 1 in 40 is a fragment: the header and the first line of music only (15-120 chars).

Lengths then run from tens of characters to about 5,000 (median ~350), like the collection on
which fixed per-epoch lanes starved their last steps.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workbench.corpus import load


def body(text: str) -> str:
    _, sep, rest = text.partition("\nK:")
    return rest.split("\n", 1)[1] if sep and "\n" in rest else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, default=1100)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tunes = [t.text for t in load(["corpus:ryansMammoth"]).tunes if "\nK:" in t.text]
    out, i = [], 0
    while len(out) < args.count and i < len(tunes):
        r = rng.random()
        if r < 1 / 25:
            n = rng.randint(4, 14)
            group = tunes[i : i + n]
            text = group[0].rstrip("\n") + "\n" + "".join(body(t) for t in group[1:])
            i += n
            if len(text) > 5000:
                text = text[: text.rfind("\n", 0, 5000)]
        elif r < 1 / 25 + 1 / 40:
            head, _, rest = tunes[i].partition("\nK:")
            key_line, _, music = rest.partition("\n")
            text = f"{head}\nK:{key_line}\n{music.split(chr(10), 1)[0]}"
            i += 1
        else:
            text = tunes[i]
            i += 1
        out.append(text.strip("\n"))
    Path(args.out).write_text("".join(f"<start>\n{t}\n<end>\n" for t in out), encoding="utf-8")
    lengths = sorted(len(t) for t in out)
    print(
        f"{args.out}: {len(out)} tunes, lengths {lengths[0]}-{lengths[-1]}, "
        f"median {statistics.median(lengths):.0f}, p99 {lengths[int(0.99 * len(lengths))]}"
    )


if __name__ == "__main__":
    main()
