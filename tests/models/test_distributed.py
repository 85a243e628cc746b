"""Distributed training's pieces that need no second process: the world of one outside torchrun,
each rank's share of the training lanes and of the validation tunes (real folk tunes).

The runs under torchrun itself (two real processes) are in tests/cli/test_cli_distributed.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.data import IGNORE, LaneBatches, WalkBatches
from models.distributed import World, init_world, launched_by_torchrun
from models.errors import DataError
from models.evaluate import evaluate


def shares(world_size: int) -> list[World]:
    return [World(size=world_size, rank=r) for r in range(world_size)]


def test_outside_torchrun_the_world_is_one_process_that_writes() -> None:
    assert not launched_by_torchrun({})
    world = init_world("cpu", env={})
    assert (world.size, world.rank, world.writer, world.backend) == (1, 0, True, None)
    # torchrun with one process needs no process group either.
    one = init_world("cpu", env={"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"})
    assert launched_by_torchrun({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"})
    assert one.size == 1 and one.backend is None
    assert world.rows(8) == range(8)
    agreed = world.agree(True, False, 12.5, [3.0, 4.0])
    assert (agreed.stop, agreed.save, agreed.elapsed, agreed.totals) == (True, False, 12.5, [3, 4])
    assert world.gather({"a": 1}) == [{"a": 1}]
    model = torch.nn.Linear(2, 2)
    assert world.wrap(model, torch.device("cpu")) is model


def test_ranks_share_the_lanes_contiguously_and_completely() -> None:
    for size, batch in ((2, 8), (3, 8), (4, 4), (2, 5)):
        rows = [w.rows(batch) for w in shares(size)]
        assert [i for r in rows for i in r] == list(range(batch))
        assert max(map(len, rows)) - min(map(len, rows)) <= 1
    with pytest.raises(DataError, match="batch of 2 cannot be shared by 4 processes"):
        World(size=4, rank=0).rows(2)


@pytest.mark.parametrize(("size", "batch"), [(2, 8), (3, 7)])
def test_the_ranks_lanes_together_are_the_single_process_batch(
    folk_ids: list, size: int, batch: int
) -> None:
    """Step by step over three epochs, rank 0's lanes, then rank 1's... are exactly the batch
    one process trains on: the same tunes at the same places, the same resets, the same epoch
    ends. So the global batch, and a resumed run's position, do not depend on the processes."""
    tunes = folk_ids[:40]
    whole = LaneBatches(tunes, batch, 32, seed=3)
    parts = [LaneBatches(tunes, batch, 32, seed=3, rows=w.rows(batch)) for w in shares(size)]
    assert {p.steps_per_epoch for p in parts} == {whole.steps_per_epoch}
    for epoch in range(3):
        for one, *split in zip(whole.epoch(epoch), *(p.epoch(epoch) for p in parts), strict=True):
            assert torch.equal(one.inputs, torch.cat([b.inputs for b in split]))
            assert torch.equal(one.targets, torch.cat([b.targets for b in split]))
            assert torch.equal(one.reset, torch.cat([b.reset for b in split]))
            assert all(b.last == one.last for b in split)


def test_a_rank_resumes_its_share_mid_epoch(folk_ids: list) -> None:
    share = LaneBatches(folk_ids[:30], 6, 32, seed=2, rows=World(size=2, rank=1).rows(6))
    full = list(share.epoch(1))
    tail = list(LaneBatches(folk_ids[:30], 6, 32, seed=2, rows=range(3, 6)).epoch(1, 5))
    assert len(tail) == len(full) - 5
    for a, b in zip(tail, full[5:], strict=True):
        assert torch.equal(a.inputs, b.inputs) and torch.equal(a.reset, b.reset)


def _deals(batches: list, rows: range, tunes: list) -> list[tuple[int, int, int]]:
    """(step, global lane, tune index) of every tune a share began, read back from its batches:
    a lane's targets between two resets are one whole tune (the last one may be cut short)."""
    deals = []
    for row, lane in enumerate(rows):
        start, ys = None, []
        for k, batch in enumerate([*batches, None]):
            if batch is None or bool(batch.reset[row]):
                if start is not None:
                    real = [y for y in ys if y != IGNORE]
                    found = [i for i, t in enumerate(tunes) if list(t[1 : len(real) + 1]) == real]
                    assert len(found) == 1, "a lane's reading is not one tune"
                    deals.append((start, lane, found[0]))
                if batch is None:
                    break
                start, ys = k, []
                assert int(batch.inputs[row, 0]) == 0, "a reset that is not a tune's <start>"
            assert start is not None
            # No starved lane: every lane holds a tune, with real targets, at every step.
            assert bool((batch.targets[row] != IGNORE).any())
            ys.extend(batch.targets[row].tolist())
    return deals


def test_each_rank_reads_its_own_tunes_and_together_they_read_every_tune(folk_ids: list) -> None:
    """Over an epoch, the first reading of each tune falls to exactly one rank: the two ranks'
    tunes are disjoint, both get a fair part, and together they read the whole collection."""
    tunes = folk_ids[:40]
    assert len({tuple(t.tolist()) for t in tunes}) == len(tunes)
    batch = 8
    deals = []
    for world in shares(2):
        rows = world.rows(batch)
        lanes = LaneBatches(tunes, batch, 32, seed=9, rows=rows)
        deals += [(*d, world.rank) for d in _deals(list(lanes.epoch(0)), rows, tunes)]
    first_pass = sorted(deals)[: len(tunes)]
    assert sorted(i for _, _, i, _ in first_pass) == list(range(len(tunes)))
    mine = [{i for _, _, i, r in first_pass if r == rank} for rank in (0, 1)]
    assert not mine[0] & mine[1]
    assert min(len(m) for m in mine) >= len(tunes) // 4


def test_walk_batches_share_their_windows(folk_ids: list) -> None:
    whole = WalkBatches(folk_ids[:30], 6, 32, seed=0)
    parts = [WalkBatches(folk_ids[:30], 6, 32, seed=0, rows=w.rows(6)) for w in shares(2)]
    for one, a, b in zip(whole.epoch(0), parts[0].epoch(0), parts[1].epoch(0), strict=True):
        assert torch.equal(one.inputs, torch.cat([a.inputs, b.inputs]))
        assert torch.equal(one.targets, torch.cat([a.targets, b.targets]))
        assert a.reset.shape == (3,) and bool(a.reset.all())


def test_validation_shares_cover_the_tunes_and_combine_to_the_whole(
    folk_ids: list, tiny_model
) -> None:
    """Each rank's validation share is disjoint from the others', about as many characters,
    and their results weighted by characters are the single process's evaluation (what the
    all-reduce of sums gives every rank)."""
    tunes = folk_ids[40:63]
    split = [w.eval_share(tunes) for w in shares(2)]
    ids = [{id(t) for t in s} for s in split]
    assert not ids[0] & ids[1] and len(ids[0] | ids[1]) == len(tunes)
    chars = [sum(len(t) for t in s) for s in split]
    assert abs(chars[0] - chars[1]) <= max(len(t) for t in tunes)

    model = tiny_model(seed=4)
    whole = evaluate(model, tunes)
    parts = [evaluate(model, s) for s in split]
    count = sum(p.chars for p in parts)
    assert count == whole.chars
    loss = sum(p.loss_nats_per_char * p.chars for p in parts) / count
    hits = round(sum(p.accuracy * p.chars for p in parts))
    assert loss == pytest.approx(whole.loss_nats_per_char, rel=1e-9)
    assert hits == round(whole.accuracy * whole.chars)
    # A world of one combines nothing.
    assert World().combine(whole) is whole


def test_rank_random_streams_differ_and_rank_zero_keeps_the_single_process_one() -> None:
    torch.manual_seed(5)
    single = torch.rand(4)
    streams = []
    for world in shares(3):
        torch.manual_seed(5)
        world.seed(5)
        streams.append(torch.rand(4))
    assert torch.equal(streams[0], single)
    assert not torch.equal(streams[1], streams[2]) and not torch.equal(streams[1], single)
    # Resuming at another step gives another stream, the same one each time.
    World(size=2, rank=1).seed(5, step=40)
    a = torch.rand(4)
    World(size=2, rank=1).seed(5, step=40)
    assert torch.equal(a, torch.rand(4)) and not torch.equal(a, streams[1])


def test_a_saved_global_state_gives_each_rank_its_lanes() -> None:
    state = [torch.arange(2 * 8 * 3, dtype=torch.float32).view(2, 8, 3)]
    mine = [w.my_lanes(state, 8) for w in shares(2)]
    assert torch.equal(torch.cat([m[0] for m in mine], dim=1), state[0])
    assert mine[1][0].shape == (2, 4, 3)
    assert World().my_lanes(state, 8) is state
    assert np.array_equal(mine[0][0].numpy(), state[0][:, :4].numpy())
