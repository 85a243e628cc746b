"""Sampling speed: one 600-character tune, and 32 tunes in one batch.

    .venv/bin/python benchmarks/sampling_speed.py [--checkpoint runs/x/best.pt] [--chars 600]

Without a checkpoint it samples from a freshly initialised default model (speed does not depend
on the weights). `<end>`'s output bias is set to -1e9 so every tune is exactly --chars long.
"""

from __future__ import annotations

import argparse
import statistics
import time

import _common  # noqa: F401  (puts the repo on sys.path)
import torch

from models.checkpoint import load_checkpoint
from models.config import recipe
from models.networks import CharRNN
from models.sample import SamplingParams, sample
from models.tokenizer import CharTokenizer
from workbench.corpus import load


def timed(model, tok, num: int, chars: int, repeats: int) -> float:
    params = SamplingParams(temperature=1.0, max_chars=chars, seed=1)
    sample(model, tok, "", num, SamplingParams(max_chars=20, seed=0))  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = sample(model, tok, "", num, params)
        times.append(time.perf_counter() - t0)
        assert all(len(t) == chars for t in out)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint")
    ap.add_argument("--chars", type=int, default=600)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    if args.checkpoint:
        ckpt = load_checkpoint(args.checkpoint)
        model, tok = ckpt.build_model(), ckpt.tokenizer
    else:
        tok = CharTokenizer.fit(t.text for t in load(["corpus:ryansMammoth"]).tunes)
        model = CharRNN(recipe("default").model, len(tok)).eval()
    with torch.no_grad():
        model.head.bias[CharTokenizer.end_id] = -1e9
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, model "
        f"{model.cfg.arch} {model.cfg.layers}x{model.cfg.hidden}"
    )
    one = timed(model, tok, 1, args.chars, 5)
    many = timed(model, tok, args.batch, args.chars, 3)
    print(f"RESULT one {args.chars}-char tune: {one:.3f} s ({args.chars / one:,.0f} chars/s)")
    print(
        f"RESULT {args.batch} tunes in one batch: {many:.3f} s = {many / args.batch:.4f} s per "
        f"tune, {one / (many / args.batch):.1f}x cheaper per tune than one at a time"
    )


if __name__ == "__main__":
    main()
