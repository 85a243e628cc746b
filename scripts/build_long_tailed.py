"""Write a long-tailed `<start>`/`<end>` collection for benchmarks (issue: training that holds
up on any collection).

    .venv/bin/python scripts/build_long_tailed.py OUT.txt [--seed 7] [--source ryans|unseen]

The tunes are ones the shipped model never trained on:
- `ryans` (the default): music21's Ryan's Mammoth Collection, left out of the shipped model's
  data, in a notation of its own (fingerings in quotes, `u`/`v` bowings, line continuations);
- `unseen`: tunes of the shipped model's own collections that it did not train on, its 558
  held-out tunes (the trainer's split, rebuilt here) and the 728 it left out for abc2midi
  errors: new tunes in notation like its training tunes'.

About 1,100 entries are shaped like a real hand-made collection with a long tail:

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
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.train import split_texts
from scripts.build_pretrained_corpus import sorted_tunes
from workbench.corpus import load
from workbench.corpus.loader import export_abc


def body(text: str) -> str:
    _, sep, rest = text.partition("\nK:")
    return rest.split("\n", 1)[1] if sep and "\n" in rest else ""


def unseen_tunes(rng: random.Random) -> list[str]:
    """The shipped model's held-out tunes and those it left out, in a seeded random order."""
    kept, dropped, _ = sorted_tunes()
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "pretrained.abc"
        export_abc(kept, book)
        # Read back as `workbench train` read it, and split as the trainer split it
        # (models/pretrained/recipe.json: val_fraction 0.05, seed 1234).
        texts = [t.text for t in load([str(book)]).tunes]
    _, held_out = split_texts(texts, 0.05, 1234)
    tunes = [t for t in held_out + dropped if "\nK:" in t]
    rng.shuffle(tunes)
    return tunes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, default=1100)
    ap.add_argument("--source", choices=["ryans", "unseen"], default="ryans")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    if args.source == "ryans":
        tunes = [t.text for t in load(["corpus:ryansMammoth"]).tunes if "\nK:" in t.text]
    else:
        tunes = unseen_tunes(rng)
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
