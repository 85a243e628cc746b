"""Training speed: chars/s of training steps per model, on the CPU or a GPU, and FLOP use.

    .venv/bin/python benchmarks/train_speed.py [--seconds 60] [--data corpus:ryansMammoth]
        [--device auto] [--models default,reports-gru,lstm-3x512] [--batch-size N]
        [--amp auto] [--steps-only]

1. Times a large matmul (2048 x 2048; float32, or the autocast type on a GPU) on the device:
   its reachable FLOP rate.
2. Times training steps of each model (no evaluation, no event reads): chars/s of real
   characters, and model FLOP/s counted as 6 FLOPs per weight per character (forward 2 +
   backward 4) over the recurrent and output layers; utilisation = model FLOP/s / matmul
   FLOP/s. `lstm-3x512` is the default recipe with a 3-layer LSTM of 512 units. On a GPU the
   steps run as the trainer runs them (cuDNN's RNN kernels, autocast per --amp, a fused
   optimizer, no host sync per step); the clock stops after the device has finished.
3. Unless --steps-only: trains the default and the reports' recipe (GRU-100, one-hot,
   SGD-Nesterov, batch 15 x 25) for the same wall-clock time and prints the held-out loss each
   reached.
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import load_split

from models.config import recipe
from models.device import describe_device, resolve_device
from models.train import Trainer

#: Step-speed models beyond the named recipes: (recipe, model overrides).
EXTRA_MODELS = {"lstm-3x512": ("default", {"arch": "lstm", "layers": 3, "hidden": 512})}


def model_config(name: str, device: str, batch_size: int, amp: str):
    base, overrides = EXTRA_MODELS.get(name, (name, {}))
    cfg = recipe(base)
    for key, value in overrides.items():
        setattr(cfg.model, key, value)
    cfg.train.sample_chars = 0
    cfg.train.device = device
    cfg.train.amp = amp
    if batch_size:
        cfg.train.batch_size = batch_size
    return cfg


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_flops(device: torch.device, dtype: torch.dtype, n: int = 2048, seconds: float = 3.0):
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    sync(device)
    count, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(10 if device.type == "cuda" else 1):
            a @ b
            count += 1
        sync(device)
    return 2 * n**3 * count / (time.perf_counter() - t0)


def step_speed(cfg, train_texts, val_texts, seconds: float) -> tuple[float, Trainer]:
    """Chars/s of training steps alone (after warm-up steps)."""
    trainer = Trainer(cfg, train_texts, val_texts)
    epoch = 0
    batches = trainer.batches.epoch(epoch)

    def next_batch():
        nonlocal batches, epoch
        try:
            return next(batches)
        except StopIteration:
            epoch += 1
            batches = trainer.batches.epoch(epoch)
            return next(batches)

    for _ in range(5):
        trainer._train_step(next_batch())
    sync(trainer.device)
    chars, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        # Steps are queued without waiting for the device: check the clock every few of them.
        for _ in range(trainer.log_every):
            chars += trainer._train_step(next_batch())
    sync(trainer.device)
    return chars / (time.perf_counter() - t0), trainer


def equal_time(name: str, train_texts, val_texts, seconds: float, device: str) -> dict:
    cfg = recipe(name)
    cfg.train.device = device
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
    ap.add_argument("--seconds", type=float, default=60.0, help="of each equal-time run")
    ap.add_argument("--step-seconds", type=float, default=0.0, help="of each step timing")
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    ap.add_argument("--models", default="default,reports-gru,lstm-3x512")
    ap.add_argument("--batch-size", type=int, default=0, help="0: each recipe's own")
    ap.add_argument("--amp", default="auto", help="on a GPU: auto (float16), fp16, bf16, off")
    ap.add_argument("--steps-only", action="store_true", help="skip the equal-time runs")
    args = ap.parse_args()
    train_texts, val_texts = load_split(args.data)
    device = resolve_device(args.device)
    print(
        f"torch {torch.__version__}, {describe_device(device)}, "
        f"cuDNN {torch.backends.cudnn.version() if device.type == 'cuda' else '-'}",
        flush=True,
    )
    step_seconds = args.step_seconds or min(20.0, args.seconds)
    peaks: dict[torch.dtype, float] = {}
    for name in args.models.split(","):
        cfg = model_config(name, args.device, args.batch_size, args.amp)
        cps, trainer = step_speed(cfg, train_texts, val_texts, step_seconds)
        dtype = trainer.amp_dtype or torch.float32
        if dtype not in peaks:
            peaks[dtype] = matmul_flops(device, dtype)
        peak = peaks[dtype]
        flops = 6 * trainer.model.weights_per_char() * cps
        m, t = cfg.model, cfg.train
        print(
            f"RESULT {name} ({m.arch.upper()} {m.layers}x{m.hidden}, batch {t.batch_size} x "
            f"{t.seq_len}, {str(dtype).removeprefix('torch.')}): {cps:,.0f} chars/s, "
            f"{trainer.model.weights_per_char():,} weights/char, {flops / 1e9:.1f} GFLOP/s = "
            f"{flops / peak:.0%} of a {peak / 1e9:.0f} GFLOP/s matmul",
            flush=True,
        )
    if args.steps_only:
        return
    for name in ("default", "reports-gru"):
        best = equal_time(name, train_texts, val_texts, args.seconds, args.device)
        print(
            f"RESULT {name} after {args.seconds:.0f} s: best held-out loss "
            f"{best['val_loss']:.4f} nats/char, accuracy {best['val_accuracy']:.2%} "
            f"({best['steps']} steps)",
            flush=True,
        )


if __name__ == "__main__":
    main()
