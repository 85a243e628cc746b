"""Cross-entropy (nats and bits per character) and next-character accuracy on whole tunes.

Each tune is read from its start with a fresh state, framed as `<start>` text `<end>`; every
token after `<start>` is predicted once, `<end>` included, so a tune of n characters counts
n + 1 predictions. Long tunes run in time chunks with the state carried, to bound memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from models.data import tune_batches
from models.networks import CharRNN


@dataclass
class EvalResult:
    loss_nats_per_char: float
    accuracy: float
    chars: int

    @property
    def bits_per_char(self) -> float:
        return self.loss_nats_per_char / math.log(2)

    def to_dict(self) -> dict[str, float | int]:
        return {
            "loss_nats_per_char": self.loss_nats_per_char,
            "bits_per_char": self.bits_per_char,
            "accuracy": self.accuracy,
            "chars": self.chars,
        }


def evaluate(
    model: CharRNN,
    tunes: Sequence[np.ndarray],
    device: torch.device | str = "cpu",
    max_tokens: int = 32768,
    time_chunk: int = 1024,
) -> EvalResult:
    """Evaluate `model` on encoded tunes (each `<start>` ... `<end>`)."""
    # A `with` rather than the @torch.no_grad() decorator: mutmut skips decorated functions,
    # and this one is mutation-tested (benchmarks/mutation.py).
    with torch.no_grad():
        was_training = model.training
        model.eval()
        loss_sum = 0.0
        correct = 0
        count = 0
        try:
            for batch in tune_batches(tunes, max_tokens=max_tokens):
                x = batch.inputs.to(device)
                y = batch.targets.to(device)
                m = batch.mask.to(device)
                state = None
                for t0 in range(0, x.shape[1], time_chunk):
                    xs, ys, ms = (a[:, t0 : t0 + time_chunk] for a in (x, y, m))
                    logits, state = model(xs, state)  # (B, t, V)
                    flat = logits.float().reshape(-1, logits.shape[-1])
                    losses = F.cross_entropy(flat, ys.reshape(-1), reduction="none")
                    flat_mask = ms.reshape(-1)
                    loss_sum += float(losses[flat_mask].sum())
                    correct += int((logits.argmax(-1) == ys)[ms].sum())
                    count += int(ms.sum())
        finally:
            model.train(was_training)
        if count == 0:
            return EvalResult(float("nan"), float("nan"), 0)
        return EvalResult(loss_sum / count, correct / count, count)
