"""Training speed: the default recipe vs the reports' recipe, and FLOP utilisation.

    .venv/bin/python benchmarks/train_speed.py [--seconds 60] [--data corpus:ryansMammoth]

1. Times a large float32 matmul (2048 x 2048) with the same threads: the machine's reachable
   FLOP rate.
2. Times training steps of the default model (no evaluation): chars/s, and model FLOP/s counted
   as 6 FLOPs per weight per character (forward 2 + backward 4) over the recurrent and output
   layers; utilisation = model FLOP/s / matmul FLOP/s.
3. Trains the default and the reports' recipe (GRU-100, one-hot, SGD-Nesterov, batch 15 x 25)
   for the same wall-clock time and prints the held-out loss each reached.
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import load_split

from models.config import recipe
from models.train import Trainer


def matmul_flops(n: int = 2048, seconds: float = 3.0) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    count, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        count += 1
    return 2 * n**3 * count / (time.perf_counter() - t0)


def step_speed(name: str, train_texts, val_texts, seconds: float) -> tuple[float, int]:
    """Chars/s of training steps alone (after warm-up steps) and the weights per char."""
    cfg = recipe(name)
    cfg.train.sample_chars = 0
    trainer = Trainer(cfg, train_texts, val_texts)
    batches = trainer.batches.epoch(0)
    for _ in range(5):
        trainer._train_step(next(batches))
    chars, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        try:
            batch = next(batches)
        except StopIteration:
            batches = trainer.batches.epoch(1)
            batch = next(batches)
        chars += trainer._train_step(batch)[2]
    return chars / (time.perf_counter() - t0), trainer.model.weights_per_char()


def equal_time(name: str, train_texts, val_texts, seconds: float) -> dict:
    cfg = recipe(name)
    cfg.train.time_budget = seconds
    cfg.train.patience = 0
    cfg.train.sample_chars = 0
    if cfg.train.eval_unit == "epochs":
        # Evaluate on the same clock as the default (every ~10 s of training), not per epoch.
        cfg.train.eval_unit, cfg.train.eval_every = "steps", 300
    best = {}
    for ev in Trainer(cfg, train_texts, val_texts).run():
        if ev["event"] == "eval" and ev["val_loss"] <= best.get("val_loss", 99):
            best = ev
        if ev["event"] == "end":
            best["steps"] = ev["step"]
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="corpus:ryansMammoth")
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    train_texts, val_texts = load_split(args.data)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    peak = matmul_flops()
    print(f"RESULT float32 2048^2 matmul: {peak / 1e9:.1f} GFLOP/s", flush=True)
    for name in ("default", "reports-gru"):
        cps, weights = step_speed(name, train_texts, val_texts, min(20.0, args.seconds))
        flops = 6 * weights * cps
        print(
            f"RESULT {name}: {cps:,.0f} chars/s, {weights:,} weights/char, "
            f"{flops / 1e9:.1f} GFLOP/s = {flops / peak:.0%} of matmul",
            flush=True,
        )
    peak_after = matmul_flops()
    print(f"RESULT matmul again after training: {peak_after / 1e9:.1f} GFLOP/s", flush=True)
    for name in ("default", "reports-gru"):
        best = equal_time(name, train_texts, val_texts, args.seconds)
        print(
            f"RESULT {name} after {args.seconds:.0f} s: best held-out loss "
            f"{best['val_loss']:.4f} nats/char, accuracy {best['val_accuracy']:.2%} "
            f"({best['steps']} steps)",
            flush=True,
        )


if __name__ == "__main__":
    main()
