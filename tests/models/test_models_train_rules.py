"""The trainer's rules, each checked against its definition worked out by hand.

The learning-rate schedule (warm-up, cosine, step, plateau, on steps and on the clock), which
steps an evaluation falls on, when a run stops, how the padding of an epoch is counted and how a
lane's recurrent state is reset: the expectations are computed here from what the rule says, not
by calling the trainer's own code, so a changed constant or operator shows. Written while
raising train.py's mutation score (benchmarks/mutation.py); tiny models, a second or two.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import models.train as train_module
from models.checkpoint import Checkpoint, load_checkpoint
from models.config import RunConfig
from models.data import IGNORE
from models.distributed import Agreement, World
from models.errors import CheckpointError, DataError, DeviceError
from models.metrics_log import MetricsLog
from models.tokenizer import SPECIALS, CharTokenizer, EventTokenizer
from models.train import (
    Control,
    LearningRate,
    Trainer,
    _amp_dtype,
    _check_same_kind,
    _detach,
    _reset_lanes,
    data_fingerprint,
    make_optimizer,
    split_texts,
)


@pytest.fixture(scope="module")
def data(folk_texts: list[str]) -> tuple[list[str], list[str]]:
    """12 training tunes and 2 short validation tunes."""
    return folk_texts[:12], sorted(folk_texts[30:60], key=len)[:2]


# -- the learning-rate schedule ----------------------------------------------------------------


def _cosine(lr: float, floor: float, progress: float) -> float:
    """Cosine decay from lr to floor * lr as progress goes 0 -> 1 (the textbook formula)."""
    return lr * (floor + (1 - floor) * (1 + math.cos(math.pi * progress)) / 2)


def test_warm_up_rises_linearly_to_the_peak_and_stays(tiny_cfg) -> None:
    schedule = LearningRate(tiny_cfg(lr=0.01, warmup_steps=4, schedule="constant"), 100)
    # Step s (0-based) trains at (s + 1) / 4 of the peak until the fourth step reaches it.
    assert [schedule.at(s, 0.0) for s in range(6)] == pytest.approx(
        [0.0025, 0.005, 0.0075, 0.01, 0.01, 0.01]
    )
    no_warm_up = LearningRate(tiny_cfg(lr=0.01, warmup_steps=0, schedule="constant"), 100)
    assert [no_warm_up.at(s, 0.0) for s in (0, 1, 50)] == pytest.approx([0.01] * 3)


def test_cosine_falls_from_the_peak_to_its_floor_over_the_planned_steps(tiny_cfg) -> None:
    cfg = tiny_cfg(lr=0.02, warmup_steps=0, schedule="cosine", min_lr_ratio=0.1)
    schedule = LearningRate(cfg, 200)
    expected = {0: 0.02, 50: 0.02 * (0.1 + 0.9 * (1 + math.sqrt(0.5)) / 2), 100: 0.011}
    expected |= {150: 0.02 * (0.1 + 0.9 * (1 - math.sqrt(0.5)) / 2), 200: 0.002, 300: 0.002}
    for step, lr in expected.items():
        assert schedule.at(step, 0.0) == pytest.approx(lr, rel=1e-9), step


def test_cosine_follows_the_clock_when_the_budget_runs_out_first(tiny_cfg) -> None:
    cfg = tiny_cfg(lr=0.01, warmup_steps=0, schedule="cosine", min_lr_ratio=0.0, time_budget=60.0)
    schedule = LearningRate(cfg, 100)
    # 10 of 100 steps but 30 of 60 seconds: half way, the clock says.
    assert schedule.at(10, 30.0) == pytest.approx(_cosine(0.01, 0.0, 0.5))
    # 60 of 100 steps and 6 of 60 seconds: the steps say.
    assert schedule.at(60, 6.0) == pytest.approx(_cosine(0.01, 0.0, 0.6))
    assert schedule.at(10, 90.0) == pytest.approx(0.0, abs=1e-15)
    # No epoch limit (0 steps planned): the clock alone says, from the peak at its start.
    budget_only = LearningRate(cfg, 0)
    assert budget_only.at(0, 0.0) == pytest.approx(0.01)
    assert budget_only.at(500, 15.0) == pytest.approx(_cosine(0.01, 0.0, 0.25))
    # A budget under a second is a budget too.
    short = LearningRate(tiny_cfg(lr=0.01, warmup_steps=0, min_lr_ratio=0.0, time_budget=0.5), 100)
    assert short.at(0, 0.25) == pytest.approx(_cosine(0.01, 0.0, 0.5))
    # Without a budget the clock is ignored.
    no_budget = LearningRate(tiny_cfg(lr=0.01, warmup_steps=0, min_lr_ratio=0.0), 100)
    assert no_budget.at(25, 1e6) == pytest.approx(_cosine(0.01, 0.0, 0.25))


def test_step_decay_halves_the_rate_every_tenth_of_the_run(tiny_cfg) -> None:
    cfg = tiny_cfg(lr=0.08, warmup_steps=0, schedule="step", lr_decay=0.5)
    schedule = LearningRate(cfg, 200)
    # Decays done = whole tenths of the 200 planned steps (20 steps each).
    for step, decays in {
        0: 0,
        19: 0,
        20: 1,
        39: 1,
        41: 2,
        100: 5,
        199: 9,
        200: 10,
        400: 10,
    }.items():
        assert schedule.at(step, 0.0) == pytest.approx(0.08 * 0.5**decays, rel=1e-12), step
    # On a budget the clock counts too: 30 of 200 steps, but 75 of 100 seconds.
    timed = LearningRate(tiny_cfg(lr=0.08, warmup_steps=0, schedule="step", time_budget=100.0), 200)
    assert timed.at(30, 75.0) == pytest.approx(0.08 * 0.5**7, rel=1e-12)


def test_plateau_decays_only_after_an_evaluation_that_did_not_improve(tiny_cfg) -> None:
    cfg = tiny_cfg(lr=0.01, warmup_steps=0, schedule="plateau", lr_decay=0.5)
    schedule = LearningRate(cfg, 100)
    rates = [schedule.at(0, 0.0)]
    for improved in (True, False, False, True, False):
        schedule.on_eval(improved)
        rates.append(schedule.at(50, 0.0))
    assert rates == pytest.approx([0.01, 0.01, 0.005, 0.0025, 0.0025, 0.00125])
    # Other schedules ignore the evaluations.
    cosine = LearningRate(tiny_cfg(lr=0.01, warmup_steps=0, min_lr_ratio=0.0), 100)
    cosine.on_eval(False)
    assert cosine.at(0, 0.0) == pytest.approx(0.01)


def test_each_step_trains_at_the_scheduled_rate_and_counts_its_padding(tiny_cfg, data) -> None:
    """Through the trainer: the rate of step s is warm-up x cosine of s / steps planned, and the
    epoch's padding share and smallest real share are those of its batches."""
    cfg = tiny_cfg(lr=0.01, warmup_steps=3, schedule="cosine", min_lr_ratio=0.1, dropout=0.0)
    trainer = Trainer(cfg, data[0][:6], data[1])
    real = positions = 0
    min_share = 1.0
    for batch in trainer.batches.epoch(0):
        n, total = int((batch.targets != IGNORE).sum()), batch.targets.numel()
        real, positions, min_share = real + n, positions + total, min(min_share, n / total)
    events = list(trainer.run())
    start = events[0]
    planned = start["total_steps"]
    assert planned == start["steps_per_epoch"] > 10
    rates = [e["lr"] for e in events if e["event"] == "step"]
    assert len(rates) == planned
    for done, lr in enumerate(rates, 1):
        step = done - 1  # the rate set before the step was taken
        warm = min(1.0, done / 3)
        assert lr == pytest.approx(warm * _cosine(0.01, 0.1, step / planned), rel=1e-9), done
    (epoch,) = [e for e in events if e["event"] == "epoch"]
    assert epoch["padding"] == pytest.approx(1 - real / positions)
    assert epoch["min_real_share"] == pytest.approx(min_share)
    assert 0 < min_share < 1  # the check above would pass on a collection without padding


def test_positions_are_counted_per_step_and_summed_over_the_epoch(tiny_cfg, data) -> None:
    trainer = Trainer(tiny_cfg(), *data)
    trainer._count_positions(3, 8)
    trainer._count_positions(8, 8)
    trainer._count_positions(1, 1)
    assert (trainer.epoch_real, trainer.epoch_positions) == (12, 17)
    assert trainer.epoch_min_real == pytest.approx(3 / 8)
    one = Trainer(tiny_cfg(), *data)
    one._count_positions(1, 1)  # a batch of one lane of one position, all real
    assert one.epoch_min_real == 1.0


# -- when evaluations fall -----------------------------------------------------------------------


def _eval_steps(trainer: Trainer, last: int) -> list[int]:
    """The steps 1..last at which the trainer (clock stopped at 0) would evaluate."""
    due = []
    for step in range(1, last + 1):
        trainer.step = step
        if trainer._eval_due(False):
            due.append(step)
    return due


def test_evaluations_fall_every_eval_every_steps(tiny_cfg, data) -> None:
    assert _eval_steps(Trainer(tiny_cfg(eval_every=7), *data), 30) == [7, 14, 21, 28]
    evals = []
    for event in Trainer(tiny_cfg(eval_every=7, epochs=50), *data, log_every=50).run():
        if event["event"] == "eval":
            evals.append(event["step"])
            if len(evals) == 3:
                break
    assert evals == [7, 14, 21]


@pytest.mark.parametrize(
    ("steps_per_epoch", "every"),
    [(15, 10), (21, 10), (23, 11), (41, 20), (600, 300), (1001, 500), (2000, 500)],
)
def test_automatic_evaluations_fall_twice_an_epoch_10_to_500_steps_apart(
    tiny_cfg, data, steps_per_epoch: int, every: int
) -> None:
    trainer = Trainer(tiny_cfg(eval_every=0), *data)
    trainer.steps_per_epoch = steps_per_epoch
    assert _eval_steps(trainer, 3 * every + 1) == [every, 2 * every, 3 * every]


def test_evaluations_in_epochs_fall_at_the_ends_of_every_nth_epoch(tiny_cfg, data) -> None:
    trainer = Trainer(tiny_cfg(eval_unit="epochs", eval_every=2), *data)
    due = {}
    for epoch in range(1, 7):
        trainer.epoch = epoch  # epochs complete, as the loop has it when an epoch ends
        due[epoch] = (trainer._eval_due(True), trainer._eval_due(False))
    assert due == {e: (e % 2 == 0, False) for e in range(1, 7)}
    every_epoch = Trainer(tiny_cfg(eval_unit="epochs", eval_every=0), *data)
    for epoch in (1, 2, 3):
        every_epoch.epoch = epoch
        assert every_epoch._eval_due(True)


@pytest.mark.parametrize("budget", [100.0, 0.625])
def test_evaluations_on_a_budget_fall_every_fortieth_of_it(tiny_cfg, data, budget) -> None:
    """With a time budget and no eval_every: once 10 steps are done, whenever a fortieth of the
    budget has passed since the last evaluation (both budgets give gaps exact in binary)."""
    trainer = Trainer(tiny_cfg(eval_every=0, time_budget=budget, epochs=0), *data)
    gap = budget / 40
    due = []
    # (step, elapsed): not before step 10, then at the first step a full gap after the last.
    for step, elapsed in [(5, 0.0), (9, 3 * gap), (10, 3 * gap), (11, 3.9 * gap), (12, 4 * gap)]:
        trainer.step, trainer.elapsed = step, elapsed
        if trainer._eval_due(False):
            due.append(step)
    trainer.step, trainer.elapsed = 13, 4.5 * gap
    assert not trainer._eval_due(False)
    assert due == [10, 12]
    assert trainer.next_eval_time == 5 * gap


# -- when a run stops ----------------------------------------------------------------------------


def test_the_run_stops_on_request_or_once_the_budget_is_spent(tiny_cfg, data) -> None:
    asked = []
    trainer = Trainer(tiny_cfg(time_budget=30.0), *data)
    trainer.control.stop = lambda: bool(asked)
    trainer.elapsed = 29.9
    assert trainer._stop_reason() is None
    trainer.elapsed = 30.0
    assert trainer._stop_reason() == "time"
    asked.append(True)
    assert trainer._stop_reason() == "stopped"
    short = Trainer(tiny_cfg(time_budget=0.5), *data)
    short.elapsed = 0.6
    assert short._stop_reason() == "time"
    unlimited = Trainer(tiny_cfg(time_budget=0.0), *data)
    unlimited.elapsed = 1e6
    assert unlimited._stop_reason() is None


def test_under_torchrun_the_stop_every_rank_agreed_on_decides(tiny_cfg, data) -> None:
    """A request that reached this rank alone waits for the step at which all ranks agree on
    it (models/distributed.py): the agreement decides, not the rank's own control."""
    asked = []
    trainer = Trainer(tiny_cfg(), *data, control=Control(stop=lambda: bool(asked)))
    trainer.world = World(size=2)  # what a rank of two sees; nothing here talks to the other
    asked.append(True)
    assert trainer._stop_reason() is None
    trainer.agreed = Agreement(stop=True)
    assert trainer._stop_reason() == "stopped"


# -- the recurrent state between steps -------------------------------------------------------


def _lstm_state(lanes: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    h = torch.randn(2, lanes, 3, requires_grad=True)
    c = torch.randn(2, lanes, 3, requires_grad=True)
    # Results of a computation, as a step's state is: they carry its graph.
    return h * 1.0, c * 1.0


def test_reset_lanes_zeroes_the_lanes_that_start_a_tune_and_keeps_the_rest() -> None:
    h, c = _lstm_state()
    reset = torch.tensor([True, False, False, True])
    out = _reset_lanes((h, c), reset)
    assert isinstance(out, tuple) and len(out) == 2
    for before, after in zip((h, c), out, strict=True):
        assert torch.count_nonzero(after[:, [0, 3]]) == 0
        assert torch.equal(after[:, [1, 2]], before[:, [1, 2]].detach())
        assert after.grad_fn is None  # cut from the last step's graph
    gru = _reset_lanes(h, reset)  # a GRU's state: one tensor
    assert isinstance(gru, torch.Tensor)
    assert torch.count_nonzero(gru[:, [0, 3]]) == 0
    assert torch.equal(gru[:, [1, 2]], h[:, [1, 2]].detach())
    assert gru.grad_fn is None


def test_reset_lanes_builds_its_mask_on_the_state_s_device() -> None:
    """A state on the GPU is masked there: the mask follows the state, not the batch (the
    `meta` device stands in for one here: it holds shapes, and refuses a CPU operand)."""
    state = torch.ones(2, 4, 3, device="meta")
    out = _reset_lanes((state, state), torch.tensor([True, False, False, True]))
    assert [s.device.type for s in out] == ["meta", "meta"]
    assert _reset_lanes(state, torch.tensor([False, True, False, False])).device.type == "meta"


def test_reset_lanes_with_all_or_no_lanes_starting() -> None:
    h, c = _lstm_state()
    assert _reset_lanes((h, c), torch.ones(4, dtype=torch.bool)) is None
    assert _reset_lanes(None, torch.zeros(4, dtype=torch.bool)) is None
    assert _reset_lanes(None, torch.tensor([True, False, False, False])) is None
    kept = _reset_lanes((h, c), torch.zeros(4, dtype=torch.bool))
    assert all(
        torch.equal(a, b.detach()) and a.grad_fn is None for a, b in zip(kept, (h, c), strict=True)
    )
    kept_gru = _reset_lanes(h, torch.zeros(4, dtype=torch.bool))
    assert torch.equal(kept_gru, h.detach()) and kept_gru.grad_fn is None


def test_detach_keeps_the_values_and_drops_the_graph() -> None:
    h, c = _lstm_state()
    assert _detach(None) is None
    pair = _detach((h, c))
    assert isinstance(pair, tuple)
    assert all(torch.equal(a, b) and a.grad_fn is None for a, b in zip(pair, (h, c), strict=True))
    one = _detach(h)
    assert torch.equal(one, h) and one.grad_fn is None


# -- the "step" event of the steps since the last one ------------------------------------------


def _flush(trainer: Trainer, monkeypatch, read_seconds: float) -> tuple[list[dict], bool]:
    """Trainer._flush's events and result, with reading the sums back taking `read_seconds`
    on a stand-in clock (the only clock it reads)."""
    ticks = iter([1000.0, 1000.0 + read_seconds])
    gen = trainer._flush(MetricsLog(None))
    events = []
    with monkeypatch.context() as patch:
        patch.setattr(time, "perf_counter", lambda: next(ticks))
        try:
            while True:
                events.append(next(gen))
        except StopIteration as done:
            return events, done.value


def _add_steps(trainer: Trainer, steps: int, chars: int, seconds: float, loss: float, hits: int):
    """What the loop adds for `steps` steps: sums on the device, counts and time on the host."""
    trainer._pending += steps
    trainer._pending_chars += chars
    trainer._my_chars += chars
    trainer._my_seconds += seconds
    trainer._loss_sum += loss
    trainer._hits += hits


def test_a_step_event_reports_the_means_of_its_steps_and_starts_afresh(
    tiny_cfg, data, monkeypatch
) -> None:
    trainer = Trainer(tiny_cfg(), *data)
    assert _flush(trainer, monkeypatch, 0.0) == ([], True)  # nothing pending: no event
    _add_steps(trainer, steps=2, chars=10, seconds=0.25, loss=5.0, hits=4)
    trainer.step, trainer.elapsed, trainer._pending_lr, trainer._pending_epoch = 7, 3.0, 0.003, 0.5
    events, finite = _flush(trainer, monkeypatch, read_seconds=0.25)
    assert finite
    # 5 nats over 10 real targets; 4 of 10 right; 10 targets in 0.25 s of steps + 0.25 s read.
    assert events == [
        {
            "event": "step",
            "step": 7,
            "epoch": 0.5,
            "loss": 0.5,
            "accuracy": 0.4,
            "lr": 0.003,
            "chars_per_sec": 20.0,
            "elapsed": 3.0,
        }
    ]
    # The next event counts only its own step: sums, counts and time start from zero.
    _add_steps(trainer, steps=1, chars=1, seconds=0.5, loss=0.75, hits=1)
    trainer.step = 8
    (event,), finite = _flush(trainer, monkeypatch, read_seconds=0.5)
    assert finite
    assert (event["loss"], event["accuracy"], event["chars_per_sec"]) == (0.75, 1.0, 1.0)


@pytest.mark.parametrize(("steps", "where"), [(1, "step 9"), (3, "steps 7-9")])
def test_a_loss_gone_infinite_is_reported_with_the_steps_it_covers(
    tiny_cfg, data, monkeypatch, steps: int, where: str
) -> None:
    trainer = Trainer(tiny_cfg(), *data)
    _add_steps(trainer, steps=steps, chars=12, seconds=0.1, loss=math.inf, hits=0)
    trainer.step = 9
    (event,), finite = _flush(trainer, monkeypatch, 0.0)
    assert not finite and event["loss"] == math.inf
    assert trainer.diverged == f"the training loss became inf at {where}"


# -- data, devices and checkpoints ---------------------------------------------------------------


def test_split_texts_shares_the_items_out_whole_in_their_order() -> None:
    texts = [f"X:{i}\nK:C\nCDE|\n" for i in range(20)]
    train_texts, val_texts = split_texts(texts, 0.25, seed=3)
    assert len(val_texts) == 5  # a quarter of 20
    assert sorted(train_texts + val_texts) == sorted(texts)
    # Each side keeps the collection's order.
    assert train_texts == [t for t in texts if t in train_texts]
    assert val_texts == [t for t in texts if t in val_texts]
    assert split_texts(texts, 0.25, seed=3) == (train_texts, val_texts)
    assert split_texts(texts, 0.25, seed=4) != (train_texts, val_texts)


def test_the_data_fingerprint_is_the_sha256_of_the_nul_ended_tunes() -> None:
    """The first 16 hex digits of SHA-256 over each tune's UTF-8 bytes and a NUL: a stable
    definition, since last.pt files written by earlier versions hold it."""
    tunes = ["X:1\nK:G\nGAB|\n", "X:2\nT:Émile\nK:D\n", "lone \ud800 surrogate"]
    data = b"".join(t.encode("utf-8", "surrogatepass") + b"\0" for t in tunes)
    assert data_fingerprint(tunes) == hashlib.sha256(data).hexdigest()[:16]
    assert data_fingerprint(["ab", "c"]) != data_fingerprint(["a", "bc"])
    assert data_fingerprint([]) == hashlib.sha256(b"").hexdigest()[:16]


def test_mixed_precision_is_float16_on_cuda_unless_off_or_bf16(monkeypatch) -> None:
    cuda, cpu = torch.device("cuda"), torch.device("cpu")  # no GPU is needed to name one
    for amp in ("auto", "on", "fp16", "off", "bf16"):
        assert _amp_dtype(cpu, amp) is None, amp
    for supported in (True, False):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda s=supported: s)
        assert {a: _amp_dtype(cuda, a) for a in ("auto", "on", "fp16", "off", "bf16")} == {
            "auto": torch.float16,
            "on": torch.float16,
            "fp16": torch.float16,
            "off": None,
            "bf16": torch.bfloat16 if supported else None,
        }


def _checkpoint(tokenizer, path=None) -> Checkpoint:
    return Checkpoint(config=RunConfig(), tokenizer=tokenizer, state_dict={}, path=path)


def test_a_model_continues_only_on_data_tokenized_its_way() -> None:
    chars = CharTokenizer.fit(["X:1\nK:C\nCDE|\n"])
    events = EventTokenizer([*SPECIALS, "note_60", "wait_4"], settings={"resolution": 4})
    _check_same_kind(_checkpoint(chars), None)  # characters on characters
    _check_same_kind(_checkpoint(chars), CharTokenizer.fit(["K:D\n"]))  # named explicitly
    _check_same_kind(
        _checkpoint(events), EventTokenizer([*SPECIALS, "x"], settings={"resolution": 4})
    )
    with pytest.raises(
        CheckpointError, match=r"^checkpoint: is a model of chars, but the data is events$"
    ):
        _check_same_kind(_checkpoint(chars), events)
    with pytest.raises(
        CheckpointError, match=r"^runs/a/last\.pt: is a model of events, but the data is chars$"
    ):
        _check_same_kind(_checkpoint(events, Path("runs/a/last.pt")), None)
    other = EventTokenizer([*SPECIALS, "note_60"], settings={"resolution": 8})
    with pytest.raises(
        CheckpointError,
        match=r"^checkpoint: its events were encoded with other settings than this data's; read",
    ):
        _check_same_kind(_checkpoint(events), other)


@pytest.mark.parametrize(
    ("name", "kind", "settings", "expected"),
    [
        ("sgd", torch.optim.SGD, {"momentum": 0.8}, {"momentum": 0.8, "nesterov": True}),
        # Nesterov needs momentum: without it the option is dropped, not an error.
        ("sgd", torch.optim.SGD, {"momentum": 0.0}, {"momentum": 0.0, "nesterov": False}),
        ("sgd", torch.optim.SGD, {"nesterov": False}, {"momentum": 0.9, "nesterov": False}),
        ("adam", torch.optim.Adam, {}, {}),
        ("adamw", torch.optim.AdamW, {}, {}),
        # AdamW without weight decay is Adam: it keeps a small one.
        ("adamw", torch.optim.AdamW, {"weight_decay": 0.0}, {"weight_decay": 0.01}),
        ("rmsprop", torch.optim.RMSprop, {}, {"momentum": 0.0}),
        ("adagrad", torch.optim.Adagrad, {}, {}),
    ],
)
def test_the_optimizer_is_the_one_configured_with_its_settings(
    tiny_cfg, name, kind, settings, expected
) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    cfg = tiny_cfg(**{"optimizer": name, "lr": 0.123, "weight_decay": 0.07, **settings})
    optimizer = make_optimizer(model, cfg)
    assert type(optimizer) is kind
    (group,) = optimizer.param_groups
    assert group["params"] == list(model.parameters())
    assert {k: group[k] for k in ("lr", "weight_decay", *expected)} == {
        "lr": 0.123,
        "weight_decay": 0.07,
        **expected,
    }
    # The CPU keeps torch's default kernels (fused ones are for CUDA).
    assert not group.get("fused")


# -- resuming ----------------------------------------------------------------------------------


def _stopped(cfg: RunConfig, data, run_dir: Path, steps: int) -> Trainer:
    """A trainer run to a stop request after `steps` steps; its last.pt is in `run_dir`."""
    seen = []
    trainer = Trainer(cfg, *data, run_dir, control=Control(stop=lambda: len(seen) >= steps))
    for event in trainer.run():
        if event["event"] == "step":
            seen.append(event["step"])
    return trainer


@pytest.mark.parametrize(
    "settings",
    [
        # Evaluations every 2 steps, judged on the mean of 2, never improving by 10 nats: the
        # smoothed best is the mean of the first two, the best is their minimum, and each later
        # evaluation counts one more without improvement.
        {"eval_every": 2, "smooth_evals": 2, "min_delta": 10.0, "patience": 50},
        # Evaluations spread over a time budget: the next one is due at a time on the clock.
        {"eval_every": 0, "time_budget": 3600.0, "epochs": 3},
    ],
    ids=["steps", "budget"],
)
def test_a_resumed_trainer_starts_where_the_saving_one_stopped(
    tmp_path: Path, tiny_cfg, data, settings
) -> None:
    """Everything early stopping and the evaluation clock depend on comes back on resume."""
    cfg = tiny_cfg(**settings)
    saver = _stopped(cfg, data, tmp_path, 13)
    ckpt = load_checkpoint(tmp_path / "last.pt")
    resumed = Trainer(cfg, *data, resume=ckpt)
    if settings["eval_every"]:
        assert len(saver.recent_vals) == 2 and saver.evals_since_best == 5  # evals at 2..12, 13
        assert saver.best_val < saver.best_smooth < math.inf
    else:
        assert saver.next_eval_time > 3600.0 / 40  # set by the evaluation at step 10
    for name in ("step", "epoch", "epoch_step", "best_val", "evals_since_best", "best_smooth"):
        assert getattr(resumed, name) == getattr(saver, name), name
    assert resumed.recent_vals == saver.recent_vals
    assert resumed.next_eval_time == saver.next_eval_time
    assert resumed.elapsed == ckpt.trainer["elapsed"] > 0
    assert resumed.schedule.scale == saver.schedule.scale


def test_a_checkpoint_from_before_smoothing_resumes_with_fresh_smoothing(
    tmp_path: Path, tiny_cfg, data
) -> None:
    """A last.pt written before the smoothed early stopping and the evaluation clock existed
    has no such fields: the run resumes as if they had just started (an empty window, the best
    so far as the smoothed best, an evaluation due now)."""
    cfg = tiny_cfg(eval_every=2, smooth_evals=2, patience=50)
    _stopped(cfg, data, tmp_path, 5)
    ckpt = load_checkpoint(tmp_path / "last.pt")
    for key in ("recent_vals", "best_smooth", "next_eval_time"):
        del ckpt.trainer[key]
    resumed = Trainer(cfg, *data, resume=ckpt)
    assert resumed.recent_vals == []
    assert resumed.best_smooth == resumed.best_val == ckpt.trainer["best_val"] < math.inf
    assert resumed.next_eval_time == 0.0
    assert [e["step"] for e in resumed.run() if e["event"] == "eval"][:1] == [6]


def test_a_resumed_optimizer_keeps_this_device_s_kernel(tmp_path: Path, tiny_cfg, data) -> None:
    """A run saved on CUDA (fused Adam) resumes on the CPU with the CPU's unfused kernel, and
    with the saved moments."""
    cfg = tiny_cfg()
    _stopped(cfg, data, tmp_path, 3)
    ckpt = load_checkpoint(tmp_path / "last.pt")
    for group in ckpt.trainer["optimizer"]["param_groups"]:
        group["fused"] = True  # as a CUDA run saves it
    resumed = Trainer(cfg, *data, resume=ckpt)
    own = make_optimizer(resumed.model, cfg)
    assert [g["fused"] for g in resumed.optimizer.param_groups] == [
        g["fused"] for g in own.param_groups
    ]
    assert not any(g["fused"] for g in resumed.optimizer.param_groups)
    saved = ckpt.trainer["optimizer"]["state"]
    mine = resumed.optimizer.state_dict()["state"]
    assert saved.keys() == mine.keys()
    for key in saved:
        assert torch.equal(saved[key]["exp_avg"], mine[key]["exp_avg"])


def _saved_state(ckpt: Checkpoint) -> list[torch.Tensor]:
    return [s.clone() for s in ckpt.trainer["state"]]


def test_a_rank_resumes_its_lanes_and_its_own_random_stream(tmp_path: Path, tiny_cfg, data):
    """Rank 1 of 2 restoring a checkpoint of two processes takes the second half of the saved
    lanes (ranks share a batch contiguously) and rank 1's saved random stream. The trainer is
    built as a single process and then told it is rank 1: restoring reads only the world's
    place, never a process group."""
    cfg = tiny_cfg(batch_size=4)
    _stopped(cfg, data, tmp_path, 3)
    ckpt = load_checkpoint(tmp_path / "last.pt")
    lanes = _saved_state(ckpt)
    assert lanes and all(s.shape[1] == 4 for s in lanes)
    streams = [torch.Generator().manual_seed(s).get_state() for s in (11, 12)]
    ckpt.trainer["ranks"] = [{"torch_rng": r, "cuda_rng": None} for r in streams]
    trainer = Trainer(cfg, *data)
    trainer.world = World(size=2, rank=1)
    trainer._restore(ckpt)
    state = trainer.state if isinstance(trainer.state, tuple) else (trainer.state,)
    assert [s.shape[1] for s in state] == [2] * len(lanes)
    for mine, saved in zip(state, lanes, strict=True):
        assert torch.equal(mine, saved[:, 2:4])
    assert torch.equal(torch.get_rng_state(), streams[1])


@pytest.mark.parametrize("rank", [0, 1])
def test_ranks_resuming_a_single_process_run_start_streams_of_their_own(
    tmp_path: Path, tiny_cfg, data, rank
) -> None:
    """A checkpoint of one process resumed by two: rank 0 continues the saved stream, rank 1
    starts the one derived from (seed, rank, step) with numpy's SeedSequence."""
    cfg = tiny_cfg(batch_size=4, seed=7)
    _stopped(cfg, data, tmp_path, 3)
    ckpt = load_checkpoint(tmp_path / "last.pt")
    assert "ranks" not in ckpt.trainer and ckpt.step == 3
    trainer = Trainer(cfg, *data)
    trainer.world = World(size=2, rank=rank)
    trainer._restore(ckpt)
    if rank == 0:
        expected = ckpt.trainer["torch_rng"]
    else:
        entropy = np.random.SeedSequence([7, 1, 3]).generate_state(1)[0]
        expected = torch.Generator().manual_seed(int(entropy)).get_state()
    assert torch.equal(torch.get_rng_state(), expected)


# -- one training step -------------------------------------------------------------------------


@pytest.mark.parametrize("clip", [0.0, 0.02, 100.0], ids=["off", "tight", "loose"])
def test_a_step_moves_the_weights_by_the_clipped_gradient(tiny_cfg, data, clip) -> None:
    """Plain SGD (no momentum, decay or dropout): a step moves each weight by -lr x its
    gradient, the whole gradient scaled down to norm `clip` when it is longer (torch's
    clip_grad_norm_ rule, clip / (norm + 1e-6)) and never when clipping is off (0). The gradient
    is computed here from a copy of the model, with the loss summed over the real targets and
    divided by the batch's positions."""
    cfg = tiny_cfg(
        optimizer="sgd",
        momentum=0.0,
        nesterov=False,
        weight_decay=0.0,
        lr=0.1,
        dropout=0.0,
        grad_clip=clip,
    )
    trainer = Trainer(cfg, *data)
    batch = next(iter(trainer.batches.epoch(0)))
    assert bool(batch.reset.all())  # the first batch starts every lane: no state comes in
    before = [p.detach().clone() for p in trainer.model.parameters()]
    logits, _ = trainer.model(batch.inputs, None)
    total = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), batch.targets.reshape(-1), reduction="sum"
    )  # -100 (IGNORE) is cross_entropy's own ignore_index
    loss = total / batch.targets.numel()
    grads = torch.autograd.grad(loss, list(trainer.model.parameters()))
    norm = float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])))
    # "tight" scales the step by under a tenth, "loose" not at all, and the largest element of
    # an unclipped step is far above the tolerance below: a wrong rule cannot pass.
    assert 0.2 < norm < 100.0
    assert 0.1 * max(float(g.abs().max()) for g in grads) > 1e-4
    scale = clip / (norm + 1e-6) if 0 < clip < norm else 1.0
    lr = trainer.optimizer.param_groups[0]["lr"]
    assert trainer._train_step(batch) == int((batch.targets != IGNORE).sum())
    for old, new, grad in zip(before, trainer.model.parameters(), grads, strict=True):
        # Absolute: the weights' own float32 rounding (|w| < 1) is far below 1e-6.
        torch.testing.assert_close(old - new.detach(), lr * scale * grad, rtol=0, atol=1e-6)


def test_a_walk_keeps_no_state_between_steps_or_in_its_checkpoint(
    tmp_path: Path, tiny_cfg, data
) -> None:
    """The walk resets every lane at every window: nothing is carried, so a checkpoint holds no
    lane state; lanes carry theirs (one (layers, batch, hidden) tensor each for h and c)."""
    walk = tiny_cfg(batching="walk", batch_size=4, seq_len=32)
    _stopped(walk, data, tmp_path / "walk", 3)
    assert load_checkpoint(tmp_path / "walk" / "last.pt").trainer["state"] is None
    lanes = tiny_cfg(batch_size=4, hidden=32)
    _stopped(lanes, data, tmp_path / "lanes", 3)
    state = load_checkpoint(tmp_path / "lanes" / "last.pt").trainer["state"]
    assert [tuple(s.shape) for s in state] == [(1, 4, 32), (1, 4, 32)]


def test_a_checkpoint_s_metrics_are_the_run_s_at_its_last_evaluation(
    tmp_path: Path, tiny_cfg, data
) -> None:
    """What the run history shows without opening the log: the best and the latest validation
    loss, the latest accuracy and the training time, as the evaluation events said."""
    cfg = tiny_cfg(eval_every=2)
    seen, evals = [], []
    trainer = Trainer(cfg, *data, tmp_path, control=Control(stop=lambda: len(seen) >= 5))
    for event in trainer.run():
        if event["event"] == "step":
            seen.append(event["step"])
        elif event["event"] == "eval":
            evals.append(event)
    assert [e["step"] for e in evals] == [2, 4, 5]
    last = load_checkpoint(tmp_path / "last.pt")
    assert last.metrics == {
        "best_val_loss": min(e["val_loss"] for e in evals),
        "elapsed": last.trainer["elapsed"],
        "val_loss": evals[-1]["val_loss"],
        "val_accuracy": evals[-1]["val_accuracy"],
    }
    assert 0 < last.metrics["elapsed"] <= trainer.elapsed


# -- what a trainer is built from --------------------------------------------------------------


def test_a_run_without_training_or_validation_tunes_is_refused_by_name(tiny_cfg, data) -> None:
    with pytest.raises(DataError, match=r"^no training tunes$"):
        Trainer(tiny_cfg(), [], data[1])
    with pytest.raises(DataError, match=r"^no validation tunes$"):
        Trainer(tiny_cfg(), data[0], [])


def test_a_gpu_asked_for_on_a_machine_without_one_is_refused(monkeypatch, tiny_cfg, data):
    """The configured device is the one used: "cuda" without a GPU is an error, not the CPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match=r"^device 'cuda' requested but no CUDA GPU"):
        Trainer(tiny_cfg(device="cuda"), *data)


_THREADS = """
import sys, torch
from models.config import ModelConfig, RunConfig, TrainConfig
from models.train import Trainer
tunes = ["X:1\\nK:G\\nGABc dedB|\\n", "X:2\\nK:D\\nDFAd fdAF|\\n"]
for threads in map(int, sys.argv[1:]):
    train = TrainConfig(batch_size=2, seq_len=8, device="cpu", threads=threads)
    model = ModelConfig(hidden=8, layers=1, embedding=4)
    Trainer(RunConfig(model=model, train=train), tunes, tunes)
    print(torch.get_num_threads())
"""


def test_the_configured_thread_count_is_the_one_torch_uses(tiny_cfg, data) -> None:
    """Two threads in a process of its own: a pool of two threads left in this one would hang
    the forked processes that other tools (mutmut) start from it."""
    before = torch.get_num_threads()
    Trainer(tiny_cfg(threads=0), *data)  # 0: torch's setting is left as it is
    assert torch.get_num_threads() == before
    out = subprocess.run(
        [sys.executable, "-c", _THREADS, "2", "0"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        cwd=Path(__file__).resolve().parents[2],
    ).stdout.split()
    assert out == ["2", "2"]


# Event texts (REMI, one space after each event) of a few bars of quarter notes.
_EVENT_SETTINGS = {"encoding": "remi", "version": 1}


def _event_texts(count: int) -> list[str]:
    return [
        "".join(
            f"Bar_None Position_{4 * (k % 4)} Pitch_{60 + (i + 3 * k) % 12} Duration_1.0.8 "
            for k in range(16 + i)
        )
        for i in range(count)
    ]


def test_an_event_model_resumes_on_the_events_it_was_trained_on(tiny_cfg) -> None:
    train_texts, val_texts = _event_texts(8), _event_texts(10)[8:]
    events = EventTokenizer.fit(train_texts, _EVENT_SETTINGS)
    first = Trainer(tiny_cfg(seq_len=16), train_texts, val_texts, tokenizer=events)
    saved = first.checkpoint(with_trainer=True)
    resumed = Trainer(tiny_cfg(seq_len=16), train_texts, val_texts, resume=saved, tokenizer=events)
    assert resumed.tokenizer == events and resumed.tokenizer.unit == "event"
    # Resumed as characters, the same checkpoint is refused: its tokens are events.
    with pytest.raises(CheckpointError, match=r"is a model of events, but the data is chars$"):
        Trainer(tiny_cfg(seq_len=16), train_texts, val_texts, resume=saved)


class _SecondProcessSays(World):
    """Rank 0 of two, where the other process's side of the one exchange `Trainer` makes while
    it is built (the data check) is `theirs`; nothing else here talks to another process."""

    def __init__(self, theirs: str) -> None:
        super().__init__(size=2, rank=0)
        self.theirs = theirs

    def gather(self, obj):
        return [obj, self.theirs]

    def wrap(self, model, device):
        return model


def _data_id(texts: list[str]) -> str:
    """What a process that read `texts` says it trains on: the tunes' fingerprint (SHA-256 of
    the NUL-ended tunes, see above) and the size of the vocabulary they give."""
    digest = hashlib.sha256(b"".join(t.encode("utf-8") + b"\0" for t in texts)).hexdigest()
    return f"{digest[:16]}/{len(CharTokenizer.fit(texts))}"


def test_every_process_must_train_on_the_same_data(tiny_cfg, data) -> None:
    train_texts, val_texts = data
    trainer = Trainer(
        tiny_cfg(), train_texts, val_texts, world=_SecondProcessSays(_data_id(train_texts))
    )
    assert trainer.world.size == 2
    other = _data_id(train_texts[1:])
    with pytest.raises(DataError, match=r"^process 1 of 2 has other data than process 0 \("):
        Trainer(tiny_cfg(), train_texts, val_texts, world=_SecondProcessSays(other))


def test_a_long_log_interval_keeps_its_sums_exact(tiny_cfg, data, monkeypatch) -> None:
    """A GPU run reads its sums back every few steps of a big batch: past 2**24 targets a
    float32 sum would round, so the loss and hit sums are float64 and int64."""
    trainer = Trainer(tiny_cfg(), *data)
    n = 2**24 + 1  # the first integer float32 cannot hold
    _add_steps(trainer, steps=1, chars=n, seconds=1.0, loss=float(n), hits=n)
    (event,), finite = _flush(trainer, monkeypatch, 0.0)
    assert finite and (event["loss"], event["accuracy"]) == (1.0, 1.0)


# -- the loop's clock ------------------------------------------------------------------------------


def test_the_clock_counts_the_steps_and_the_evaluations(tiny_cfg, data, monkeypatch) -> None:
    """On a stand-in clock where a step takes 1 s and an evaluation 0.25 s (nothing else takes
    time), each step event's elapsed time is the steps and evaluations before it, and its rate
    is the real targets of its steps per second of those steps (an event every 2 steps)."""
    cfg = tiny_cfg(eval_every=2)
    trainer = Trainer(cfg, *data, control=Control(stop=lambda: trainer.step >= 5), log_every=2)
    real = [int((b.targets != IGNORE).sum()) for b in trainer.batches.epoch(0)][:5]
    _stand_in_clock(monkeypatch, trainer, start=100.0)
    events = list(trainer.run())
    steps = [e for e in events if e["event"] == "step"]
    assert [e["step"] for e in events if e["event"] == "eval"] == [2, 4, 5]
    # Evaluations at steps 2 and 4 come after those steps' events; the stop at step 5 sends
    # its event early, with its one step.
    assert [e["step"] for e in steps] == [2, 4, 5]
    assert [e["elapsed"] for e in steps] == [2.0, 4.25, 5.5]
    rates = [(real[0] + real[1]) / 2.0, (real[2] + real[3]) / 2.0, float(real[4])]
    assert [e["chars_per_sec"] for e in steps] == rates
    assert events[-1]["event"] == "end" and events[-1]["elapsed"] == 5.75


def test_early_stopping_waits_for_a_full_window_of_evaluations(tiny_cfg, data) -> None:
    """Patience counts evaluations since the smoothed loss last improved, and the smoothed
    loss exists only once `smooth_evals` evaluations are in: a patience of 1 cannot stop the
    run at its first or second evaluation, and the third (the first full window) is a best."""
    cfg = tiny_cfg(eval_every=2, patience=1, smooth_evals=3)
    trainer = Trainer(cfg, *data, control=Control(stop=lambda: trainer.step >= 6))
    events = list(trainer.run())
    assert [e["step"] for e in events if e["event"] == "eval"] == [2, 4, 6]
    assert events[-1]["reason"] == "stopped" and trainer.evals_since_best == 0


def test_a_save_request_that_reads_once_is_honoured(
    tmp_path: Path, tiny_cfg, data, monkeypatch
) -> None:
    """The training job's save request clears when read (workbench/training_job.py): a single
    process must read it once per step, where it decides, and save last.pt then; asked while a
    step trains or while an evaluation runs, it is answered at the step after."""
    pending = []

    def save_now() -> bool:
        asked = bool(pending)
        pending.clear()
        return asked

    control = Control(stop=lambda: trainer.step >= 6, save_now=save_now)
    trainer = Trainer(tiny_cfg(eval_every=4), *data, tmp_path, control=control)
    step, evaluate = trainer._train_step, trainer._evaluate

    def train_step(batch):
        if trainer.step == 2:
            pending.append(True)  # the user asks while the third step trains
        return step(batch)

    def evaluation():
        pending.append(True)  # and again during the evaluation of step 4
        return evaluate()

    monkeypatch.setattr(trainer, "_train_step", train_step)
    monkeypatch.setattr(trainer, "_evaluate", evaluation)
    saves, resumable = [], []
    for event in trainer.run():
        if event["event"] == "checkpoint" and event["step"] not in (4, 6):  # the evaluations'
            saves.append((event["step"], Path(event["path"]).name))
            # What was asked for: a last.pt a run can resume from.
            resumable.append(load_checkpoint(event["path"]).trainer["epoch_step"])
    assert saves == [(3, "last.pt"), (5, "last.pt")]
    assert resumable == [3, 5]


def test_a_stop_that_comes_during_a_save_still_ends_on_an_evaluation(
    tmp_path: Path, tiny_cfg, data
) -> None:
    """Every stop evaluates the final weights: a stop asked while a requested last.pt is being
    written is seen at the next step, which is then evaluated and saved."""
    asked = []
    control = Control(stop=lambda: bool(asked), save_now=lambda: trainer.step == 3)
    trainer = Trainer(tiny_cfg(), *data, tmp_path, control=control)
    events = []
    for event in trainer.run():
        events.append(event)
        if event["event"] == "checkpoint" and event["step"] == 3:
            asked.append(True)
    assert [(e["event"], e["step"]) for e in events if e["event"] in ("eval", "end")] == [
        ("eval", 4),
        ("end", 4),
    ]
    assert events[-1]["reason"] == "stopped"


def test_a_budget_spent_during_an_evaluation_ends_the_run_there(
    tiny_cfg, data, monkeypatch
) -> None:
    """On a stand-in clock (a step 1 s, an evaluation 0.25 s) with a 3.6 s budget and an
    evaluation after every step: step 3 starts its evaluation at 3.5 s and ends it at 3.75 s,
    past the budget. That evaluation and its last.pt are final: no fourth step."""
    trainer = Trainer(tiny_cfg(time_budget=3.6, eval_every=1), *data)
    _stand_in_clock(monkeypatch, trainer, start=0.0)
    events = list(trainer.run())
    assert [e["step"] for e in events if e["event"] == "eval"] == [1, 2, 3]
    assert (events[-1]["reason"], events[-1]["step"], events[-1]["elapsed"]) == ("time", 3, 3.75)


def test_patience_stops_the_run_at_that_many_evaluations_without_a_best(tiny_cfg, data) -> None:
    """patience 1, no smoothing, and an improvement of 100 nats asked for: the first evaluation
    is a best (anything beats none), the second is not, and the run stops there."""
    cfg = tiny_cfg(eval_every=2, patience=1, smooth_evals=1, min_delta=100.0, epochs=3)
    events = list(Trainer(cfg, *data).run())
    assert [e["step"] for e in events if e["event"] == "eval"] == [2, 4]
    assert (events[-1]["reason"], events[-1]["step"]) == ("early_stop", 4)


def test_a_run_resumed_at_an_epoch_s_very_end_goes_on_with_the_next(tiny_cfg, data) -> None:
    """A checkpoint taken after an epoch's last batch, before the epoch counter moved on: the
    epoch has nothing left to give, so the run starts the next one instead of waiting."""
    trainer = Trainer(tiny_cfg(epochs=2), *data)
    trainer.epoch_step = sum(1 for _ in trainer.batches.epoch(0))
    events = list(trainer.run())
    first = next(e for e in events if e["event"] == "step")
    assert (first["step"], math.floor(first["epoch"])) == (1, 1)
    assert events[-1]["reason"] == "epochs"


def test_each_epoch_s_end_reports_its_steps_and_evaluates(tiny_cfg, data) -> None:
    """Evaluations every epoch and a step event at most every 1000 steps: the end of each
    epoch still sends the step event of its steps, then its epoch event and evaluation."""
    cfg = tiny_cfg(epochs=2, eval_unit="epochs", eval_every=1)
    events = list(Trainer(cfg, *data, log_every=1000).run())
    ends = [e["step"] for e in events if e["event"] == "epoch"]
    assert len(ends) == 2
    assert [e["step"] for e in events if e["event"] == "step"] == ends
    assert [e["step"] for e in events if e["event"] == "eval"] == ends


def _stand_in_clock(monkeypatch, trainer: Trainer, start: float) -> None:
    """Replace the trainer's clock (only its module's: pytest's own timing keeps the real one)
    by one that moves only when the trainer works: 1 s per step, 0.25 s per evaluation."""
    now = [start]
    monkeypatch.setattr(train_module, "time", SimpleNamespace(perf_counter=lambda: now[0]))

    def timed(took: float, work):
        def run(*args):
            now[0] += took
            return work(*args)

        return run

    monkeypatch.setattr(trainer, "_train_step", timed(1.0, trainer._train_step))
    monkeypatch.setattr(trainer, "_evaluate", timed(0.25, trainer._evaluate))
