"""Turning encoded tunes into training and evaluation batches.

- `split_tunes`: a seeded tune-level train/validation split (no tune is cut in two).
- `LaneBatches`: truncated BPTT. `batch` lanes each read one tune at a time, T characters a step,
  taking the next tune from an endless seeded shuffle when theirs ends, so lane b of step k+1
  continues lane b of step k and the recurrent state is carried, except where a new tune begins.
  Under torchrun each process builds its share of the lanes (`rows`) of the same global batch.
- `WalkBatches`: the student reports' recipe: the training text in one fixed order, each batch
  `batch` consecutive windows of `seq_len` characters, the state starting from zero every batch.
- `tune_batches`: whole tunes, length-sorted and padded, for evaluation from each tune's start.
"""

from __future__ import annotations

import heapq
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
    # The epoch's last batch: the trainer ends an epoch on this flag.
    last: bool = False


class LaneBatches:
    """Tune-aligned lanes for truncated BPTT, streamed: no lane ever runs dry.

    Evaluation and sampling read every tune from a zero state, so training must too: a model
    that only ever sees state carried over from the previous tune is lost at a tune's start
    (measured: 6.5 nats/char from zero state vs 2.2 carried). Each tune therefore starts on a
    chunk boundary of its lane, its last chunk padded (targets ignored), and the lane's state is
    zeroed where a new tune begins (`Batch.reset`); within a tune the state is carried.

    Tunes come from one endless queue, the seeded permutation of epoch 0, then of epoch 1, and so
    on; whenever a lane finishes its tune it takes the next one from the queue. Dealing a whole
    epoch to fixed lanes instead leaves the lane that drew a long tune late running on alone: on
    a collection with a few tunes of 5,000 characters, each epoch ended with 15-35 steps in which
    at most 4 of 32 lanes held real characters, and those steps' gradients came from one or two
    tunes (the validation curve alternated and early stopping fired at a third of the budget).
    Streamed, every lane holds a tune at every step; only each tune's last, padded chunk is
    short of real targets. An "epoch" is the nominal `ceil(chunks / batch)` steps, which deal
    about every tune once; the lanes run on across its end, state and all.

    `rows` (training on several processes, models/distributed.py): build only these lanes of
    the `batch`. Tunes are still dealt to all `batch` lanes exactly as above, so each process's
    share is its lanes of the single process's batch: the shares hold disjoint tunes, together
    cover every tune each epoch, keep every lane fed and reset where a tune starts, and resume
    from a step like the whole does.
    """

    carries_state = True

    def __init__(
        self,
        tunes: Sequence[np.ndarray],
        batch: int,
        seq_len: int,
        seed: int,
        rows: range | None = None,
    ) -> None:
        self.tunes = [t for t in tunes if len(t) >= 2]
        if not self.tunes:
            raise DataError("training data has no tunes")
        self.batch = batch
        self.rows = _check_rows(rows, batch)
        self.seq_len = seq_len
        self.seed = seed
        self._chunks = [-(-(len(t) - 1) // seq_len) for t in self.tunes]
        total = sum(self._chunks)
        self.steps_per_epoch = max(1, -(-total // batch))
        #: Share of the positions of the tunes' chunks that are padding (each tune's last chunk).
        self.padding = 1.0 - sum(len(t) - 1 for t in self.tunes) / (total * seq_len)
        self._cursor: _LaneCursor | None = None

    def _queue(self) -> Iterator[int]:
        epoch = 0
        while True:
            yield from _epoch_rng(self.seed, epoch).permutation(len(self.tunes)).tolist()
            epoch += 1

    def _cursor_at(self, step: int) -> _LaneCursor:
        cursor = self._cursor
        if cursor is None or cursor.step > step:
            # A resumed run (or a test) asks for an earlier step: deal again from the start.
            # Only tune boundaries are replayed, so this costs one heap operation per tune.
            cursor = _LaneCursor(self.batch, self._chunks, self._queue())
        cursor.advance(step)
        self._cursor = cursor
        return cursor

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[Batch]:
        spe, t = self.steps_per_epoch, self.seq_len
        first = epoch * spe + start_step
        cursor = self._cursor_at(first)
        for step in range(first, (epoch + 1) * spe):
            cursor.advance(step)
            lanes = len(self.rows)
            inputs = np.zeros((lanes, t), dtype=np.int64)
            targets = np.full((lanes, t), IGNORE, dtype=np.int64)
            reset = np.zeros(lanes, dtype=bool)
            for row, b in enumerate(self.rows):
                i, chunk = cursor.tune[b], step - cursor.began[b]
                piece = self.tunes[i][chunk * t : chunk * t + t + 1]
                n = len(piece) - 1
                inputs[row, :n] = piece[:-1]
                targets[row, :n] = piece[1:]
                reset[row] = chunk == 0
            yield Batch(
                torch.from_numpy(inputs),
                torch.from_numpy(targets),
                torch.from_numpy(reset),
                step == (epoch + 1) * spe - 1,
            )


class _LaneCursor:
    """Which tune each lane holds at a step, and the step it began it (see `LaneBatches`)."""

    def __init__(self, batch: int, chunks: Sequence[int], queue: Iterator[int]) -> None:
        self.chunks = chunks
        self.queue = queue
        self.step = 0
        self.tune = [0] * batch
        self.began = [0] * batch
        # (step at which the lane needs its next tune, lane): lanes that free up at the same
        # step take tunes from the queue in lane order.
        self.free = [(0, b) for b in range(batch)]

    def advance(self, step: int) -> None:
        """Deal tunes to every lane that finishes its tune at or before `step`."""
        free = self.free
        while free[0][0] <= step:
            at, b = heapq.heappop(free)
            i = next(self.queue)
            self.tune[b], self.began[b] = i, at
            heapq.heappush(free, (at + self.chunks[i], b))
        self.step = step


class WalkBatches:
    """The reports' in-order walk: fixed order, `batch` consecutive windows, state reset."""

    carries_state = False
    padding = 0.0  # every window is full

    def __init__(
        self,
        tunes: Sequence[np.ndarray],
        batch: int,
        seq_len: int,
        seed: int,
        rows: range | None = None,
    ) -> None:
        # The reports shuffled once, at the split; the caller's tune order already is that.
        self.stream = torch.from_numpy(np.concatenate(list(tunes)))
        self.batch = batch
        # Several processes: each takes these windows of every batch (see LaneBatches).
        self.rows = _check_rows(rows, batch)
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
            lo, hi = self.rows.start, self.rows.stop
            inputs = self.stream[base : base + b * t].view(b, t)[lo:hi]
            targets = self.stream[base + 1 : base + b * t + 1].view(b, t)[lo:hi]
            last = k == self.steps_per_epoch - 1
            yield Batch(inputs, targets, torch.ones(hi - lo, dtype=torch.bool), last)


def _check_rows(rows: range | None, batch: int) -> range:
    if rows is None:
        return range(batch)
    if rows.step != 1 or not 0 <= rows.start < rows.stop <= batch:
        raise ValueError(f"rows {rows} are not a contiguous share of a batch of {batch}")
    return rows


def make_batches(
    kind: str,
    tunes: Sequence[np.ndarray],
    batch: int,
    seq_len: int,
    seed: int,
    rows: range | None = None,
):
    """The training batches of `kind` ("lanes" or "walk"); `rows`: this process's share."""
    if kind == "walk":
        return WalkBatches(tunes, batch, seq_len, seed, rows)
    return LaneBatches(tunes, batch, seq_len, seed, rows)


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
