"""Batching: the tune split, tune-aligned lanes (TBPTT), the reports' walk, evaluation batches."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from models.data import IGNORE, LaneBatches, WalkBatches, split_tunes, tune_batches
from models.errors import DataError

# -- split_tunes ---------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "fraction"), [(185, 0.1), (30, 0.2), (2, 0.5), (7, 0.01)])
def test_split_is_a_deterministic_disjoint_cover(n: int, fraction: float) -> None:
    train, val = split_tunes(n, fraction, seed=3)
    assert (train, val) == split_tunes(n, fraction, seed=3)
    assert not set(train) & set(val)
    assert sorted(train + val) == list(range(n))
    assert train == sorted(train) and val == sorted(val)
    assert len(val) == min(n - 1, max(1, round(n * fraction)))
    assert train and val


def test_split_ratio() -> None:
    train, val = split_tunes(185, 0.1, seed=0)
    assert (len(train), len(val)) == (167, 18)  # round(18.5) == 18
    train, val = split_tunes(1000, 0.25, seed=0)
    assert (len(train), len(val)) == (750, 250)
    # Never everything on one side.
    assert [len(s) for s in split_tunes(3, 0.99, seed=0)] == [1, 2]


def test_different_seeds_split_differently() -> None:
    splits = {tuple(split_tunes(185, 0.1, seed=s)[1]) for s in range(5)}
    assert len(splits) == 5


@pytest.mark.parametrize("n", [0, 1])
def test_split_needs_two_tunes(n: int) -> None:
    with pytest.raises(DataError, match="at least 2"):
        split_tunes(n, 0.1, seed=0)


# -- LaneBatches ---------------------------------------------------------------------------


def lane_segments(batches: list, seq_len: int) -> list[tuple[list[int], list[int]]]:
    """Read an epoch lane by lane: (inputs, targets) of each run of chunks that starts at a
    reset and continues through non-reset chunks, with the trailing padding cut off."""
    n_lanes = batches[0].inputs.shape[0]
    segments = []
    for b in range(n_lanes):
        current = None
        for batch in batches:
            assert batch.inputs.shape == batch.targets.shape == (n_lanes, seq_len)
            assert batch.reset.shape == (n_lanes,) and batch.reset.dtype == torch.bool
            x, y = batch.inputs[b].tolist(), batch.targets[b].tolist()
            if bool(batch.reset[b]):
                if current is not None:
                    segments.append(current)
                current = ([], [])
            assert current is not None, "a lane starts with a chunk that does not reset"
            current[0].extend(x)
            current[1].extend(y)
        segments.append(current)
    out = []
    for x, y in segments:
        n = len(y)
        while n and y[n - 1] == IGNORE:
            n -= 1
        if n == 0:
            continue  # padding at the end of a lane
        assert IGNORE not in y[:n], "padding inside a tune"
        # A segment is one tune padded to whole chunks: never a whole padding chunk after it.
        assert len(y) - n < seq_len
        out.append((x[:n], y[:n]))
    return out


def stream(lanes: LaneBatches, epochs: int) -> list:
    return [b for e in range(epochs) for b in lanes.epoch(e)]


@pytest.mark.parametrize(("n_tunes", "batch", "seq_len"), [(30, 4, 32), (25, 3, 64), (5, 8, 16)])
def test_lanes_deal_whole_tunes_in_shuffled_order(
    folk_ids: list, n_tunes: int, batch: int, seq_len: int
) -> None:
    """Read lane by lane, the stream is whole tunes; taken in the order the lanes began them,
    they are the seeded permutation of epoch 0, then epoch 1's... (every tune once per round,
    even with fewer tunes than lanes)."""
    tunes = folk_ids[:n_tunes]
    lanes = LaneBatches(tunes, batch=batch, seq_len=seq_len, seed=11)
    batches = stream(lanes, 4)
    assert len(batches) == 4 * lanes.steps_per_epoch
    # The trainer ends an epoch on the `last` flag: every steps_per_epoch-th batch has it.
    assert [b.last for b in batches] == [
        (k + 1) % lanes.steps_per_epoch == 0 for k in range(len(batches))
    ]
    by_target = {tuple(t[1:].tolist()): i for i, t in enumerate(tunes)}
    assert len(by_target) == n_tunes  # the test needs distinct tunes
    began = []  # (step, lane, tune index)
    for b in range(batch):
        start, ys = None, []
        for k, bt in enumerate([*batches, None]):
            if bt is None or bool(bt.reset[b]):
                if start is not None:
                    n = len(ys)
                    while n and ys[n - 1] == IGNORE:
                        n -= 1
                    assert IGNORE not in ys[:n], "padding inside a tune"
                    assert len(ys) - n < seq_len, "a whole chunk of padding"
                    if bt is not None:
                        began.append((start, b, by_target[tuple(ys[:n])]))
                    else:  # the lane's last tune may be cut by the end of the test
                        cut = [i for t, i in by_target.items() if list(t[:n]) == ys[:n]]
                        assert len(cut) == 1
                        began.append((start, b, cut[0]))
                if bt is None:
                    break
                start, ys = k, []
                assert int(bt.inputs[b, 0]) == 0, "a tune starts with <start>"
            assert start is not None, "a lane starts with a chunk that does not reset"
            ys.extend(bt.targets[b].tolist())
    order = [i for _, _, i in sorted(began)]
    rounds = [np.random.default_rng([11, e]).permutation(n_tunes).tolist() for e in range(20)]
    expected = [i for r in rounds for i in r]
    assert order == expected[: len(order)]
    assert len(order) >= 3 * n_tunes


def test_long_tailed_tunes_never_starve_a_step() -> None:
    """One tune 20 times as long as the others: every step of several epochs keeps at least
    60 % of its positions real (fixed per-epoch lanes gave steps with one lane in 8 real)."""
    rng = np.random.default_rng(3)
    tunes = [np.arange(int(rng.integers(120, 260))) % 40 for _ in range(60)]
    tunes.append(np.arange(20 * 190) % 40)
    lanes = LaneBatches(tunes, batch=8, seq_len=32, seed=4)
    shares = [float((b.targets != IGNORE).float().mean()) for b in stream(lanes, 5)]
    assert min(shares) >= 0.6, min(shares)
    # What the trainer logs as the epoch's padding is what the batches hold.
    assert 1 - np.mean(shares) == pytest.approx(lanes.padding, abs=0.02)
    # Every lane holds a tune at every step: no chunk is padding alone.
    for b in stream(lanes, 2):
        assert bool((b.targets != IGNORE).any(dim=1).all())


def test_lane_resets_are_true_only_where_a_tune_begins(folk_ids: list) -> None:
    tunes = folk_ids[:12]
    seq_len = 40
    lanes = LaneBatches(tunes, batch=3, seq_len=seq_len, seed=5)
    batches = stream(lanes, 3)
    for b in range(3):
        for k, batch in enumerate(batches):
            x0 = int(batch.inputs[b, 0])
            assert bool((batch.targets[b] != IGNORE).any()), (b, k)
            # A chunk resets exactly when it is the first chunk of a tune.
            assert bool(batch.reset[b]) == (x0 == 0), (b, k)


def test_lane_order_is_deterministic_per_seed_and_epoch(folk_ids: list) -> None:
    tunes = folk_ids[:20]

    def inputs(seed: int, epoch: int) -> list[list[int]]:
        lanes = LaneBatches(tunes, batch=4, seq_len=32, seed=seed)
        return [b.inputs.tolist() for b in lanes.epoch(epoch)]

    assert inputs(1, 0) == inputs(1, 0)
    assert inputs(1, 3) == inputs(1, 3)
    assert inputs(1, 0) != inputs(1, 1)
    assert inputs(1, 0) != inputs(2, 0)


def test_lane_epoch_start_step_is_the_tail_of_the_epoch(folk_ids: list) -> None:
    lanes = LaneBatches(folk_ids[:20], batch=4, seq_len=32, seed=1)
    full = list(lanes.epoch(2))
    for k in (0, 1, 7, len(full) - 1, len(full)):
        tail = list(lanes.epoch(2, start_step=k))
        assert len(tail) == len(full) - k
        for a, b in zip(tail, full[k:], strict=True):
            assert a.last == b.last
            assert torch.equal(a.inputs, b.inputs)
            assert torch.equal(a.targets, b.targets)
            assert torch.equal(a.reset, b.reset)


def test_lane_steps_per_epoch_is_the_chunks_over_the_lanes(folk_ids: list) -> None:
    lanes = LaneBatches(folk_ids[:20], batch=4, seq_len=32, seed=1)
    chunks = [-(-(len(t) - 1) // 32) for t in folk_ids[:20]]
    assert lanes.steps_per_epoch == -(-sum(chunks) // 4)
    for e in range(3):
        assert len(list(lanes.epoch(e))) == lanes.steps_per_epoch


def test_lanes_need_tunes() -> None:
    with pytest.raises(DataError):
        LaneBatches([], batch=2, seq_len=8, seed=0)
    with pytest.raises(DataError):
        LaneBatches([np.array([0])], batch=2, seq_len=8, seed=0)


# -- WalkBatches ---------------------------------------------------------------------------


def test_walk_windows_in_fixed_order(folk_ids: list) -> None:
    tunes = folk_ids[:10]
    stream = np.concatenate(tunes)
    b, t = 15, 25
    walk = WalkBatches(tunes, batch=b, seq_len=t, seed=0)
    assert walk.steps_per_epoch == ((len(stream) - 1) // t) // b
    batches = list(walk.epoch(0))
    assert len(batches) == walk.steps_per_epoch
    assert [x.last for x in batches] == [False] * (len(batches) - 1) + [True]
    for k, batch in enumerate(batches):
        assert batch.inputs.shape == batch.targets.shape == (b, t)
        assert bool(batch.reset.all())
        for r in range(b):
            start = (k * b + r) * t
            assert batch.inputs[r].tolist() == stream[start : start + t].tolist()
            assert batch.targets[r].tolist() == stream[start + 1 : start + t + 1].tolist()
    # The same order every epoch, whatever the seed; start_step gives the tail.
    other = list(WalkBatches(tunes, batch=b, seq_len=t, seed=99).epoch(5))
    assert all(torch.equal(x.inputs, y.inputs) for x, y in zip(batches, other, strict=True))
    tail = list(walk.epoch(1, start_step=3))
    assert [x.inputs.tolist() for x in tail] == [x.inputs.tolist() for x in batches[3:]]


def test_walk_too_short_is_a_data_error(folk_ids: list) -> None:
    with pytest.raises(DataError, match="too short"):
        WalkBatches(folk_ids[:1], batch=64, seq_len=128, seed=0)


# -- tune_batches --------------------------------------------------------------------------


@pytest.mark.parametrize("max_tokens", [32768, 3000, 1000, 10])
def test_tune_batches_budget_masks_and_cover(folk_ids: list, max_tokens: int) -> None:
    tunes = folk_ids[:40]
    seen = []
    for batch in tune_batches(tunes, max_tokens=max_tokens):
        rows, width = batch.inputs.shape
        assert batch.targets.shape == batch.mask.shape == (rows, width)
        # Budget: rows x (longest tune length) within max_tokens, unless one tune exceeds it.
        assert rows == 1 or rows * (width + 1) <= max_tokens
        for r in range(rows):
            n = int(batch.mask[r].sum())
            assert batch.mask[r].tolist() == [True] * n + [False] * (width - n)
            x, y = batch.inputs[r], batch.targets[r]
            assert x[1:n].tolist() == y[: n - 1].tolist()
            assert int(x[0]) == 0 and int(y[n - 1]) == 1
            seen.append(tuple([*x[:n].tolist(), int(y[n - 1])]))
        assert int(batch.mask.sum(1).max()) == width  # no all-padding columns
    assert Counter(seen) == Counter(tuple(t.tolist()) for t in tunes)


def test_tune_batches_are_length_sorted(folk_ids: list) -> None:
    widths = [b.inputs.shape[1] for b in tune_batches(folk_ids[:40], max_tokens=2000)]
    assert widths == sorted(widths)
    assert len(widths) > 1
