"""The bigram baseline: what a network must beat to have learned more than "what follows what".

An add-one-smoothed next-token model fitted on the training sequences and scored the way
`models.evaluate.evaluate` scores a network: each sequence framed as `<start>` ... `<end>`, every
token after `<start>` predicted once, loss in nats per token. Fitted and scored on the same
split as the network, its loss is the yardstick of the MIDI issue's quality targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BigramResult:
    loss_nats: float
    accuracy: float
    tokens: int


def bigram_counts(sequences: Sequence[np.ndarray], vocab_size: int) -> np.ndarray:
    """(V, V) counts of each (token, next token) pair in `sequences`."""
    counts = np.zeros((vocab_size, vocab_size), dtype=np.float64)
    for seq in sequences:
        seq = np.asarray(seq, dtype=np.int64)
        if len(seq) > 1:
            np.add.at(counts, (seq[:-1], seq[1:]), 1.0)
    return counts


def bigram_baseline(
    train: Sequence[np.ndarray], held_out: Sequence[np.ndarray], vocab_size: int
) -> BigramResult:
    """Loss (nats per token) and accuracy on `held_out` of the add-one bigram of `train`."""
    counts = bigram_counts(train, vocab_size) + 1.0  # add-one: nothing is impossible
    log_probs = np.log(counts / counts.sum(axis=1, keepdims=True))  # (V, V)
    best = counts.argmax(axis=1)  # (V,)
    loss = 0.0
    correct = 0
    n = 0
    for seq in held_out:
        seq = np.asarray(seq, dtype=np.int64)
        if len(seq) < 2:
            continue
        prev, nxt = seq[:-1], seq[1:]
        loss -= float(log_probs[prev, nxt].sum())
        correct += int((best[prev] == nxt).sum())
        n += len(nxt)
    if n == 0:
        return BigramResult(float("nan"), float("nan"), 0)
    return BigramResult(loss / n, correct / n, n)
