"""Meter-aware decoding against real tunes: where would its rules have stopped a real tune?

    .venv/bin/python benchmarks/decoder_vs_real.py [DATA ...] [--limit N]

DATA is what `workbench train` takes (default `corpus:ryansMammoth`, a collection the shipped
model never saw, written with endings, bowings, fingerings and line continuations). Each tune
is fed to a fresh `MeterAwareConstraint` one character at a time, as if a model had written it,
and the logit the constraint gives the character the tune really writes next (and <end> where
it ends) is read, from model logits all 0:

- fought: a bias of -8 or less (a section of under 4 bars, an end right after a repeat): the
  real tune does what the shape bias all but forbids;
- masked: -inf, a character the decoder's rules never let a model write there (printed by
  character, with an example).

An independent check of the rules on data not shaped like the training tunes: a tune the rules
fight is one the decoder would not let a model write. With abc2midi installed, the tunes it reads
with no error are counted apart: a character masked there is the decoder being stricter than
the reference reader (by design where a bar overfills, a pickup is over half a bar, or a tune ends
away from its tonic or before 8 bars); one masked in a tune abc2midi refuses may be the error.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

import _common  # noqa: F401  (puts the repo on sys.path)
import torch

from models.tokenizer import SPECIALS, CharTokenizer
from workbench.corpus import load
from workbench.notation.abc2midi import abc2midi_path, check_tunes
from workbench.notation.meter_aware import MeterAwareConstraint

FOUGHT = -8.0
ENDINGS = re.compile(r"\|1|\[1")


def check(text: str, tokenizer: CharTokenizer) -> tuple[list[int], list[int]]:
    """(positions fought, positions masked) of `text`; position len(text) is its end."""
    ids = {c: i for i, c in enumerate(tokenizer.vocab)}
    con = MeterAwareConstraint(tokenizer, max_chars=10**9)
    zeros = torch.zeros(1, len(tokenizer.vocab))
    fought, masked = [], []
    for i in range(len(text) + 1):
        target = ids.get(text[i]) if i < len(text) else tokenizer.end_id
        if target is None:
            continue
        value = float(con(zeros, [text[:i]])[0, target])
        if value == float("-inf"):
            masked.append(i)
        elif value <= FOUGHT:
            fought.append(i)
    return fought, masked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="*", default=["corpus:ryansMammoth"])
    ap.add_argument("--limit", type=int, default=None, help="the first N tunes only")
    args = ap.parse_args()
    tunes = [t.text for t in load(args.data).tunes][: args.limit]
    # Every character the tunes use, as a model trained on them would have.
    tokenizer = CharTokenizer([*SPECIALS, *sorted(set("".join(tunes)))])
    clean = [r.ok for r in check_tunes(tunes)] if abc2midi_path() else [None] * len(tunes)
    groups: dict[str, list[tuple[bool, int, bool]]] = {
        "all": [],
        "with endings": [],
        "abc2midi-clean": [],
        "abc2midi errors": [],
    }
    masked_chars: dict[str, Counter[str]] = {"abc2midi-clean": Counter(), "other": Counter()}
    examples: dict[tuple[str, str], str] = {}
    for text, ok in zip(tunes, clean, strict=True):
        fought, masked = check(text, tokenizer)
        row = (bool(fought), len(fought), bool(masked))
        groups["all"].append(row)
        if ENDINGS.search(text):
            groups["with endings"].append(row)
        if ok is not None:
            groups["abc2midi-clean" if ok else "abc2midi errors"].append(row)
        for i in masked:
            ch = text[i] if i < len(text) else "<end>"
            group = "abc2midi-clean" if ok else "other"
            masked_chars[group][ch] += 1
            examples.setdefault((group, ch), text[max(0, i - 30) : i + 3])
    for name, rows in groups.items():
        if not rows:
            continue
        n = len(rows)
        print(
            f"{name:15s} {n} tunes: fought in {sum(r[0] for r in rows)} "
            f"({sum(r[0] for r in rows) / n:.1%}; {sum(r[1] for r in rows)} places), "
            f"a character masked in {sum(r[2] for r in rows)} ({sum(r[2] for r in rows) / n:.1%})"
        )
    for name, counts in masked_chars.items():
        if counts:
            print(f"masked characters in {name} tunes (count, an example ending just after it):")
        for ch, count in counts.most_common(10):
            print(f"  {ch!r:8} {count:6d}  {examples[name, ch]!r}")


if __name__ == "__main__":
    main()
