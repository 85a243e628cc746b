"""Batching's smaller promises, on small hand-made tunes whose batches are worked out by hand:
which kind `make_batches` builds, every input of a lane chunk (not only its first), the
shortest tune, int64/bool dtypes, the walk's window count at its edges, and evaluation batches
that take as many tunes as the token budget allows. Found by mutation testing
(benchmarks/mutation.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.data import (
    IGNORE,
    LaneBatches,
    WalkBatches,
    make_batches,
    split_tunes,
    tune_batches,
)
from models.errors import DataError


def tune(*middle: int) -> np.ndarray:
    """<start> middle <end>."""
    return np.array([0, *middle, 1], dtype=np.int64)


def test_make_batches_builds_the_kind_asked_for_with_its_settings() -> None:
    tunes = [tune(*range(3, 40)), tune(*range(5, 30))]
    walk = make_batches("walk", tunes, 2, 8, 7, range(1, 2))
    assert isinstance(walk, WalkBatches)
    assert (walk.batch, walk.seq_len, walk.rows) == (2, 8, range(1, 2))
    assert torch.equal(walk.stream, torch.from_numpy(np.concatenate(tunes)))
    lanes = make_batches("lanes", tunes, 3, 16, 5, range(0, 2))
    assert isinstance(lanes, LaneBatches)
    assert (lanes.batch, lanes.seq_len, lanes.seed, lanes.rows) == (3, 16, 5, range(0, 2))
    assert len(lanes.tunes) == 2
    assert make_batches("lanes", tunes, 2, 8, 0).rows == range(2)
    assert make_batches("walk", tunes, 2, 8, 0).rows == range(2)
    # Anything but "walk" is lanes.
    assert isinstance(make_batches("WALK", tunes, 2, 8, 0), LaneBatches)


def test_every_input_of_a_lane_chunk_is_the_tune_shifted_by_one() -> None:
    t = tune(*range(3, 13))  # 12 ids: 11 predictions, chunks of 4: 4 + 4 + 3
    lanes = LaneBatches([t], batch=1, seq_len=4, seed=0)
    batches = list(lanes.epoch(0))
    assert lanes.steps_per_epoch == 3 and len(batches) == 3
    assert [b.inputs[0].tolist() for b in batches] == [
        [0, 3, 4, 5],
        [6, 7, 8, 9],
        [10, 11, 12, 0],
    ]
    assert [b.targets[0].tolist() for b in batches] == [
        [3, 4, 5, 6],
        [7, 8, 9, 10],
        [11, 12, 1, IGNORE],
    ]
    assert [bool(b.reset[0]) for b in batches] == [True, False, False]
    for b in batches:
        assert b.inputs.dtype == b.targets.dtype == torch.int64
        assert b.reset.dtype == torch.bool


def test_the_shortest_tune_has_one_prediction() -> None:
    lanes = LaneBatches([np.array([0, 1])], batch=1, seq_len=3, seed=0)
    [batch] = list(lanes.epoch(0))
    assert batch.inputs.tolist() == [[0, 0, 0]]
    assert batch.targets.tolist() == [[1, IGNORE, IGNORE]]
    assert lanes.padding == pytest.approx(2 / 3)
    with pytest.raises(DataError) as info:
        LaneBatches([np.array([0])], batch=1, seq_len=3, seed=0)
    assert str(info.value) == "training data has no tunes"


def test_walk_window_count_at_its_edges() -> None:
    # 20 ids give 19 targets: 3 windows of 5, so one step of 2 windows (the 4th does not fit).
    stream = [np.arange(20) % 7]
    walk = WalkBatches(stream, batch=2, seq_len=5, seed=0)
    assert walk.steps_per_epoch == 1
    [batch] = list(walk.epoch(0))
    assert batch.last and batch.inputs.tolist() == [[0, 1, 2, 3, 4], [5, 6, 0, 1, 2]]
    # 21 ids: 20 targets, 4 windows of 5.
    assert WalkBatches([np.arange(21)], batch=1, seq_len=5, seed=0).steps_per_epoch == 4
    with pytest.raises(DataError, match="21 tokens cannot fill one batch of 5 x 5"):
        WalkBatches([np.arange(21)], batch=5, seq_len=5, seed=0)


def test_walk_resets_every_lane_of_its_share() -> None:
    walk = WalkBatches([np.arange(41)], batch=4, seq_len=5, seed=0, rows=range(2, 4))
    [first, second] = list(walk.epoch(0))
    assert first.reset.tolist() == [True, True] and first.reset.dtype == torch.bool
    assert first.inputs.tolist() == [[10, 11, 12, 13, 14], [15, 16, 17, 18, 19]]
    assert second.targets.tolist() == [[31, 32, 33, 34, 35], [36, 37, 38, 39, 40]]


def test_evaluation_batches_take_as_many_tunes_as_the_budget_allows() -> None:
    five = [tune(*range(3, 11)) for _ in range(5)]  # 10 ids each
    sizes = [b.inputs.shape[0] for b in tune_batches(five, max_tokens=30)]
    assert sizes == [3, 2]  # 3 x 10 = 30 fits exactly; the remaining two
    # The default budget is 32768 tokens: two tunes of 16384 fit, three of 10923 do not.
    assert [b.inputs.shape[0] for b in tune_batches([np.zeros(16384, np.int64)] * 2)] == [2]
    assert [b.inputs.shape[0] for b in tune_batches([np.zeros(10923, np.int64)] * 3)] == [2, 1]
    for batch in tune_batches(five, max_tokens=30):
        assert batch.inputs.dtype == batch.targets.dtype == torch.int64
        assert batch.mask.dtype == torch.bool


def test_split_of_two_tunes_puts_one_on_each_side() -> None:
    for seed in range(4):
        train, val = split_tunes(2, 0.9, seed)
        assert len(train) == len(val) == 1 and sorted(train + val) == [0, 1]


@pytest.mark.parametrize("rows", [range(0, 5), range(3, 3), range(-1, 2), range(0, 4, 2)])
def test_a_share_must_be_contiguous_lanes_of_the_batch(rows: range) -> None:
    tunes = [tune(*range(3, 40))]
    for kind in (LaneBatches, WalkBatches):
        with pytest.raises(ValueError) as info:
            kind(tunes, 4, 8, 0, rows)
        assert str(info.value) == f"rows {rows} are not a contiguous share of a batch of 4"
