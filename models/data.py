"""Turning encoded tunes into training and evaluation batches.

- `split_tunes`: a seeded tune-level train/validation split (no tune is cut in two).
- `LaneBatches`: truncated BPTT. Each epoch shuffles the tunes and deals them to `batch` lanes;
  step k reads columns [k*T, (k+1)*T) of every lane, so lane b of step k+1 continues lane b of
  step k and the recurrent state is carried, except where a new tune begins.
- `WalkBatches`: the student reports' recipe: the training text in one fixed order, each batch
  `batch` consecutive windows of `seq_len` characters, the state starting from zero every batch.
- `tune_batches`: whole tunes, length-sorted and padded, for evaluation from each tune's start.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from models.errors import DataError


def split_tunes(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices of the training and validation tunes; at least one tune on each side."""
    if n < 2:
        raise DataError(f"need at least 2 tunes to split into training and validation, got {n}")
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(n - 1, max(1, round(n * val_fraction)))
    return sorted(order[n_val:].tolist()), sorted(order[:n_val].tolist())


def _epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    # One generator per (seed, epoch) so a resumed run rebuilds the same epoch without replaying
    # the ones before it.
    return np.random.default_rng([seed, epoch])


# Target id of padding positions; cross-entropy ignores it (torch's default ignore_index).
IGNORE = -100


@dataclass
class Batch:
    inputs: Tensor  # (B, T) int64
    targets: Tensor  # (B, T) int64, IGNORE where there is nothing to predict
    # (B,) bool: True where a lane's recurrent state must start from zero at this batch.
    reset: Tensor
    # The epoch's last batch. Epochs of shuffled tunes differ slightly in length, so the
    # trainer ends an epoch on this flag, not on a step count.
    last: bool = False


class LaneBatches:
    """Tune-aligned lanes for truncated BPTT: state carried within a tune, reset between tunes.

    Evaluation and sampling read every tune from a zero state, so training must too: a model
    that only ever sees state carried over from the previous tune is lost at a tune's start
    (measured: 6.5 nats/char from zero state vs 2.2 carried). Each tune therefore starts on a
    chunk boundary of its lane, its last chunk padded (targets ignored), and the lane's state is
    zeroed where a new tune begins. Tunes are dealt to the least-filled lane to keep lanes even.
    """

    carries_state = True

    def __init__(self, tunes: Sequence[np.ndarray], batch: int, seq_len: int, seed: int) -> None:
        self.tunes = [t for t in tunes if len(t) >= 2]
        if not self.tunes:
            raise DataError("training data has no tunes")
        self.batch = batch
        self.seq_len = seq_len
        self.seed = seed
        self._chunks = [-(-(len(t) - 1) // seq_len) for t in self.tunes]
        # The deal depends on the tune order, its length barely: epoch 0's is the nominal one
        # (progress display, evaluation spacing); each epoch runs its own full length.
        self.steps_per_epoch = self._layout(0)[1]

    def _layout(self, epoch: int) -> tuple[list[list[int]], int]:
        order = _epoch_rng(self.seed, epoch).permutation(len(self.tunes))
        lanes: list[list[int]] = [[] for _ in range(self.batch)]
        fill = [0] * self.batch
        for i in order:
            b = min(range(self.batch), key=fill.__getitem__)
            lanes[b].append(int(i))
            fill[b] += self._chunks[i]
        return lanes, max(fill)

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[Batch]:
        lanes, steps = self._layout(epoch)
        t = self.seq_len
        inputs = np.zeros((self.batch, steps * t), dtype=np.int64)
        targets = np.full((self.batch, steps * t), IGNORE, dtype=np.int64)
        resets = np.ones((self.batch, steps), dtype=bool)
        for b, lane in enumerate(lanes):
            pos = 0
            for i in lane:
                tune = self.tunes[i]
                n = len(tune) - 1
                inputs[b, pos : pos + n] = tune[:-1]
                targets[b, pos : pos + n] = tune[1:]
                chunks = self._chunks[i]
                resets[b, pos // t + 1 : pos // t + chunks] = False
                pos += chunks * t
        inputs_t, targets_t = torch.from_numpy(inputs), torch.from_numpy(targets)
        resets_t = torch.from_numpy(resets)
        for k in range(start_step, steps):
            cols = slice(k * t, (k + 1) * t)
            yield Batch(inputs_t[:, cols], targets_t[:, cols], resets_t[:, k], k == steps - 1)


class WalkBatches:
    """The reports' in-order walk: fixed order, `batch` consecutive windows, state reset."""

    carries_state = False

    def __init__(self, tunes: Sequence[np.ndarray], batch: int, seq_len: int, seed: int) -> None:
        # The reports shuffled once, at the split; the caller's tune order already is that.
        self.stream = torch.from_numpy(np.concatenate(list(tunes)))
        self.batch = batch
        self.seq_len = seq_len
        windows = (len(self.stream) - 1) // seq_len
        self.steps_per_epoch = windows // batch
        if self.steps_per_epoch < 1:
            raise DataError(
                f"training data too short: {len(self.stream)} tokens cannot fill one batch of "
                f"{batch} x {seq_len}"
            )

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[Batch]:
        t, b = self.seq_len, self.batch
        for k in range(start_step, self.steps_per_epoch):
            base = k * b * t
            inputs = self.stream[base : base + b * t].view(b, t)
            targets = self.stream[base + 1 : base + b * t + 1].view(b, t)
            last = k == self.steps_per_epoch - 1
            yield Batch(inputs, targets, torch.ones(b, dtype=torch.bool), last)


def make_batches(kind: str, tunes: Sequence[np.ndarray], batch: int, seq_len: int, seed: int):
    if kind == "walk":
        return WalkBatches(tunes, batch, seq_len, seed)
    return LaneBatches(tunes, batch, seq_len, seed)


@dataclass
class TuneBatch:
    inputs: Tensor  # (B, T) int64, padded with 0
    targets: Tensor  # (B, T) int64, padded with 0
    mask: Tensor  # (B, T) bool, True where a target is real


def tune_batches(tunes: Sequence[np.ndarray], max_tokens: int = 32768) -> Iterator[TuneBatch]:
    """Whole tunes (each framed by <start>/<end>) in length-sorted padded batches.

    Every tune yields len-1 predictions: each token after `<start>` given everything before it.
    """
    order = sorted(range(len(tunes)), key=lambda i: len(tunes[i]))
    i = 0
    while i < len(order):
        longest = len(tunes[order[i]])
        j = i
        # Grow the batch while (count x longest) stays within the token budget; sorted order
        # means the last tune added is the longest.
        while j < len(order) and (j - i + 1) * max(longest, len(tunes[order[j]])) <= max_tokens:
            longest = max(longest, len(tunes[order[j]]))
            j += 1
        j = max(j, i + 1)
        group = [tunes[k] for k in order[i:j]]
        width = max(len(t) for t in group) - 1
        inputs = np.zeros((len(group), width), dtype=np.int64)
        targets = np.zeros((len(group), width), dtype=np.int64)
        mask = np.zeros((len(group), width), dtype=bool)
        for row, t in enumerate(group):
            n = len(t) - 1
            inputs[row, :n] = t[:-1]
            targets[row, :n] = t[1:]
            mask[row, :n] = True
        yield TuneBatch(torch.from_numpy(inputs), torch.from_numpy(targets), torch.from_numpy(mask))
        i = j
