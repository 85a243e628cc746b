"""Quality: validation loss and accuracy after N minutes of training with a recipe.

    .venv/bin/python benchmarks/quality.py [--data corpus:ryansMammoth] [--minutes 15]
        [--recipe default] [--out runs/bench-quality]

Trains on the collection's training tunes (tune-level split, seed 1234, 10 % held out) and
prints, at each evaluation, the held-out loss (nats/char) and accuracy; then the time at which
the held-out loss first passed 1.8 nats/char (the reports' best), and the best checkpoint's
loss and accuracy re-measured with `evaluate` on the held-out tunes.
"""

from __future__ import annotations

import argparse
import time

from _common import load_split

from models.checkpoint import load_checkpoint
from models.config import recipe
from models.evaluate import evaluate
from models.train import train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="corpus:ryansMammoth")
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--recipe", default="default")
    ap.add_argument("--out", default="runs/bench-quality")
    ap.add_argument("--threshold", type=float, default=1.8)
    args = ap.parse_args()

    train_texts, val_texts = load_split(args.data)
    cfg = recipe(args.recipe)
    cfg.train.time_budget = args.minutes * 60
    cfg.train.patience = 0 if args.recipe == "default" else cfg.train.patience
    print(f"recipe {args.recipe}: {cfg.to_dict()}", flush=True)
    passed_at = None
    t0 = time.perf_counter()
    for ev in train(cfg, train_texts, val_texts, args.out):
        if ev["event"] == "eval":
            if passed_at is None and ev["val_loss"] <= args.threshold:
                passed_at = ev["elapsed"]
            print(
                f"{ev['elapsed']:7.1f}s  step {ev['step']:6d}  epoch {ev['epoch']:6.2f}  "
                f"held-out loss {ev['val_loss']:.4f} nats/char  accuracy {ev['val_accuracy']:.2%}",
                flush=True,
            )
        elif ev["event"] == "end":
            print(f"end: {ev['reason']} after {time.perf_counter() - t0:.0f}s wall", flush=True)
    ckpt = load_checkpoint(f"{args.out}/best.pt")
    model = ckpt.build_model()
    result = evaluate(model, [ckpt.tokenizer.encode_tune(t) for t in val_texts])
    print(
        f"RESULT passed {args.threshold} nats/char at: "
        f"{'never' if passed_at is None else f'{passed_at:.1f} s'}"
    )
    print(
        f"RESULT best checkpoint (step {ckpt.step}) on {len(val_texts)} held-out tunes: "
        f"{result.loss_nats_per_char:.4f} nats/char ({result.bits_per_char:.4f} bits), "
        f"accuracy {result.accuracy:.2%}, {result.chars:,} chars"
    )


if __name__ == "__main__":
    main()
