"""The trainer's details, each checked against what it should be worked out by hand.

What a run writes (config.json, the start, evaluation and end events, the samples), the
messages that refuse a resume or a fine-tune, the bookkeeping helpers, and the loop's rarer
paths (a divergence found at an epoch's end or by the run's last read, a stop asked during an
evaluation under torchrun, a rank that is not the writer). Written while raising train.py's
mutation score (benchmarks/mutation.py); tiny models, a second or two.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import locale
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from tiny import PLAIN_SGD

import models.train as train_module
from models.checkpoint import load_checkpoint
from models.device import describe_device
from models.distributed import Agreement, World
from models.errors import CheckpointError
from models.evaluate import EvalResult, evaluate
from models.sample import SamplingParams, sample
from models.tokenizer import CharTokenizer, EventTokenizer
from models.train import (
    Control,
    Trainer,
    _state_from_list,
    _state_to_list,
    make_optimizer,
    train,
)

DIVERGING = {**PLAIN_SGD, "eval_every": 1000, "lr": 1e6, "grad_clip": 0.0}


@pytest.fixture(scope="module")
def data(folk_texts: list[str]) -> tuple[list[str], list[str]]:
    """12 training tunes and 2 short validation tunes."""
    return folk_texts[:12], sorted(folk_texts[30:60], key=len)[:2]


@pytest.fixture
def ascii_locale():
    """A locale whose default text encoding is ASCII: a file written without naming its
    encoding cannot hold a non-ASCII character (as on Windows, where it would be cp1252)."""
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, before)


@dataclasses.dataclass
class _RankOfTwo(World):
    """A rank of two whose partner asks for nothing and whose clock reads `theirs`: the
    agreements, sums and gathers are made here, with no process group behind them."""

    size: int = 2
    theirs: float = 0.0

    def agree(self, stop, save, elapsed, totals=()) -> Agreement:
        return Agreement(stop, save, max(elapsed, self.theirs), [float(v) for v in totals])

    def sum(self, values) -> list[float]:
        return [float(v) for v in values]

    def gather(self, obj) -> list:
        return [obj] * self.size


class _Unflagged:
    """The trainer's batches with no batch flagged as its epoch's last."""

    def __init__(self, batches) -> None:
        self.batches = batches

    def __getattr__(self, name: str):
        return getattr(self.batches, name)

    def epoch(self, epoch: int, start_step: int = 0):
        for batch in self.batches.epoch(epoch, start_step):
            yield dataclasses.replace(batch, last=False)


def _trainer(cfg, data, run_dir=None, steps: int | None = None, **kwargs) -> Trainer:
    """A trainer that stops on request once `steps` steps are done (None: never asks)."""
    control = Control(stop=lambda: steps is not None and trainer.step >= steps)
    trainer = Trainer(cfg, *data, run_dir, control=control, **kwargs)
    return trainer


def _sequence(events: list[dict]) -> list[tuple[str, int]]:
    return [(e["event"], e["step"]) for e in events]


def _diverged_at_the_epoch_s_end(trainer: Trainer) -> list[dict]:
    """The run's events, checked to be its start, the step event of its first epoch (a loss
    gone NaN) and its end there, as diverged."""
    events = list(trainer.run())
    last = trainer.steps_per_epoch
    assert _sequence(events) == [("start", 0), ("step", last), ("end", last)]
    assert math.isnan(events[1]["loss"]) and events[-1]["reason"] == "diverged"
    return events


def _parameters(trainer: Trainer) -> int:
    return sum(p.numel() for p in trainer.model.parameters())


# -- the loop's rarer paths ------------------------------------------------------------------------


def test_a_divergence_found_at_an_epoch_s_end_stops_the_run_there(
    tmp_path: Path, tiny_cfg, data
) -> None:
    """Plain SGD at lr 1e6 overflows within a few steps, but with a step event every 1000 steps
    the loss is first read back at the epoch's end: the run ends there, as diverged, with no
    epoch event, evaluation or checkpoint, and says that none was kept."""
    trainer = Trainer(tiny_cfg(**DIVERGING, epochs=2), *data, tmp_path, log_every=1000)
    events = _diverged_at_the_epoch_s_end(trainer)
    last = trainer.steps_per_epoch
    assert events[-1]["message"] == (
        f"the training loss became nan at steps 1-{last}: training stopped; no checkpoint kept"
        " (lower the learning rate, or clip gradients)"
    )
    assert not (tmp_path / "last.pt").exists() and not (tmp_path / "best.pt").exists()


def test_the_run_s_last_read_still_finds_a_divergence(tmp_path: Path, tiny_cfg, data) -> None:
    """Batches that never flag their epoch's end: the loop moves on to the next epoch without
    reading the sums back, and the run's own last read reports the steps and the divergence."""
    trainer = Trainer(tiny_cfg(**DIVERGING, epochs=1), *data, tmp_path, log_every=1000)
    trainer.batches = _Unflagged(trainer.batches)
    _diverged_at_the_epoch_s_end(trainer)


def test_under_torchrun_a_stop_asked_during_an_evaluation_ends_the_run_there(
    tiny_cfg, data
) -> None:
    """The ranks agree once more after an evaluation: a stop that came while it ran ends the
    run at it, rather than a step later (where the next agreement would see it)."""
    asked = []
    trainer = Trainer(tiny_cfg(eval_every=3, epochs=5), *data, control=Control(lambda: bool(asked)))
    trainer.world = _RankOfTwo()
    events = []
    for event in trainer.run():
        events.append((event["event"], event["step"]))
        if event["event"] == "eval":
            asked.append(True)
    assert events[-3:] == [("step", 3), ("eval", 3), ("end", 3)]


def test_a_rank_that_is_not_the_writer_writes_nothing(tmp_path: Path, tiny_cfg, data) -> None:
    """Rank 1 of two trains and evaluates like rank 0 but writes no run directory, no
    checkpoint and no sample (rank 0 does)."""
    trainer = _trainer(tiny_cfg(eval_every=2, sample_chars=10), data, tmp_path / "run", steps=2)
    trainer.world = _RankOfTwo(rank=1)
    events = list(trainer.run())
    assert _sequence(events) == [
        ("start", 0),
        ("step", 1),
        ("step", 2),
        ("eval", 2),
        ("end", 2),
    ]
    assert "sample" not in events[3]
    assert not (tmp_path / "run").exists()


def test_a_run_that_ends_its_epochs_between_evaluations_evaluates_at_the_end(
    tmp_path: Path, tiny_cfg, data
) -> None:
    """Evaluations every 1000 steps, one epoch: the run still evaluates and saves the weights it
    ends with (once: an end that falls on an evaluation is not evaluated twice)."""
    trainer = Trainer(tiny_cfg(epochs=1, eval_every=1000), *data, tmp_path)
    events = list(trainer.run())
    last = trainer.steps_per_epoch
    assert _sequence(events)[-6:] == [
        ("step", last),
        ("epoch", last),
        ("eval", last),
        ("checkpoint", last),
        ("checkpoint", last),
        ("end", last),
    ]
    assert events[-1]["reason"] == "epochs"
    assert load_checkpoint(tmp_path / "last.pt").step == last


# -- what a run reports --------------------------------------------------------------------------


def test_the_start_and_end_events_describe_the_run(tiny_cfg, data) -> None:
    train_texts, val_texts = data
    trainer = _trainer(tiny_cfg(epochs=2, eval_every=2), data, steps=3)
    per_epoch = sum(1 for _ in trainer.batches.epoch(0))
    events = list(trainer.run())
    assert events[0] == {
        "event": "start",
        "step": 0,
        "resumed": False,
        "device": describe_device(torch.device("cpu")),
        "parameters": _parameters(trainer),
        "vocab_size": len(CharTokenizer.fit(train_texts)),
        "unit": "char",
        "steps_per_epoch": per_epoch,
        "total_steps": 2 * per_epoch,
        "train_tunes": len(train_texts),
        "val_tunes": len(val_texts),
        "chars_per_step": 4 * 32,
        "world_size": 1,
        "padding": pytest.approx(trainer.batches.padding),
    }
    evals = [e["val_loss"] for e in events if e["event"] == "eval"]
    assert len(evals) == 2  # at step 2, and at the stop at step 3
    assert events[-1] == {
        "event": "end",
        "reason": "stopped",
        "step": 3,
        "epoch": 3 / per_epoch,
        "best_val_loss": min(evals),
        "elapsed": trainer.elapsed,
    }


def test_each_evaluation_reports_its_loss_the_smoothed_loss_and_the_best(tiny_cfg, data) -> None:
    """An evaluation after every step, smoothed over 2, with the plateau schedule: each event
    holds the loss (in nats and bits), the mean of the last two, the best so far, and the
    learning rate halves after each evaluation that did not improve on the best."""
    cfg = tiny_cfg(eval_every=1, smooth_evals=2, schedule="plateau", lr_decay=0.5, warmup_steps=0)
    trainer = _trainer(cfg, data, steps=4)
    events = list(trainer.run())
    evals = [e for e in events if e["event"] == "eval"]
    steps = {e["step"]: e for e in events if e["event"] == "step"}
    losses = [e["val_loss"] for e in evals]
    best, scale = math.inf, 1.0
    for k, event in enumerate(evals):
        step = k + 1
        assert steps[step]["lr"] == pytest.approx(0.01 * scale)
        improved = losses[k] < best
        best = min(best, losses[k])
        window = losses[max(0, k - 1) : k + 1]
        assert {key: v for key, v in event.items() if key != "val_accuracy"} == {
            "event": "eval",
            "step": step,
            "epoch": step / trainer.steps_per_epoch,
            "val_loss": losses[k],
            "val_bits": pytest.approx(losses[k] / math.log(2)),
            "val_chars": sum(len(t) + 1 for t in data[1]),
            "best_val_loss": best,
            "smoothed_val_loss": pytest.approx(sum(window) / len(window)),
            "improved": improved,
            "elapsed": steps[step]["elapsed"],
        }
        scale *= 1.0 if improved else 0.5
    # The last evaluation is of the weights the run ended with.
    result = evaluate(trainer.model, trainer.val_ids, "cpu")
    assert (losses[-1], evals[-1]["val_accuracy"]) == (result.loss_nats_per_char, result.accuracy)


def test_an_evaluation_is_a_best_only_by_more_than_min_delta(monkeypatch, tiny_cfg, data) -> None:
    """min_delta 0.5 and patience 1: 1.5 after 2.0 is not better by more than 0.5, so the run
    stops at that second evaluation (1.0 would have been a best)."""
    script = iter([2.0, 1.5, 1.0])
    monkeypatch.setattr(
        train_module, "evaluate", lambda *args, **kw: EvalResult(next(script), 0.5, 100)
    )
    cfg = tiny_cfg(eval_every=1, patience=1, smooth_evals=1, min_delta=0.5, epochs=5)
    events = list(Trainer(cfg, *data).run())
    assert [e["val_loss"] for e in events if e["event"] == "eval"] == [2.0, 1.5]
    assert (events[-1]["reason"], events[-1]["step"]) == ("early_stop", 2)


# -- samples ---------------------------------------------------------------------------------------


def test_a_sample_is_drawn_at_temperature_0_8_seeded_by_the_step(tiny_cfg, data) -> None:
    """One sample with no prompt, of sample_chars at the most, at temperature 0.8 from a
    generator seeded by the step. Weights scaled up make the network's predictions sharp
    enough for the temperature to show (a fresh network's are almost uniform)."""
    trainer = Trainer(tiny_cfg(sample_chars=40), *data)
    with torch.no_grad():
        for p in trainer.model.parameters():
            p.mul_(6)
    for step in (3, 4):
        trainer.step = step
        drawn = {
            t: sample(trainer.model, trainer.tokenizer, "", 1, SamplingParams(t, seed=step))[0][:40]
            for t in (0.8, 1.0)
        }
        assert drawn[0.8] != drawn[1.0]  # the temperature shows
        assert trainer._sample() == drawn[0.8]


def test_without_sample_chars_an_evaluation_draws_no_sample(tiny_cfg, data) -> None:
    events = list(_trainer(tiny_cfg(eval_every=1, sample_chars=0), data, steps=1).run())
    (event,) = [e for e in events if e["event"] == "eval"]
    assert "sample" not in event


def test_samples_are_written_in_utf_8_whatever_the_locale(
    tmp_path: Path, tiny_cfg, data, monkeypatch, ascii_locale
) -> None:
    trainer = _trainer(tiny_cfg(eval_every=1, sample_chars=10), data, tmp_path, steps=1)
    monkeypatch.setattr(trainer, "_sample", lambda: "X:1\nT:Ωmega\n")
    events = list(trainer.run())
    assert [e["sample"] for e in events if e["event"] == "eval"] == ["X:1\nT:Ωmega\n"]
    assert (tmp_path / "samples" / "step0000001.abc").read_bytes() == "X:1\nT:Ωmega\n".encode()


def test_a_run_without_a_directory_still_samples(tiny_cfg, data) -> None:
    events = list(_trainer(tiny_cfg(eval_every=1, sample_chars=10), data, steps=1).run())
    (event,) = [e for e in events if e["event"] == "eval"]
    assert 0 < len(event["sample"]) <= 10


# -- config.json -----------------------------------------------------------------------------------


def test_config_json_holds_the_run_s_settings_data_and_vocabulary(
    tmp_path: Path, tiny_cfg, data, ascii_locale
) -> None:
    """Written as indented UTF-8 JSON (a vocabulary may hold any character, whatever the
    locale) into a folder made with its parents, and written again over the first."""
    train_texts = [t.replace("|", "Ω|", 1) for t in data[0]]
    cfg = tiny_cfg()
    run_dir = tmp_path / "runs" / "first"
    trainer = Trainer(cfg, train_texts, data[1], run_dir)
    chars = CharTokenizer.fit(train_texts)
    digest = hashlib.sha256(b"".join(t.encode() + b"\0" for t in train_texts)).hexdigest()
    expected = {
        **cfg.to_dict(),
        "data": {
            "train_tunes": 12,
            "val_tunes": 2,
            "train_chars": sum(len(t) + 2 for t in train_texts),
            "val_chars": sum(len(t) + 2 for t in data[1]),
            "fingerprint": digest[:16],
        },
        "vocab": chars.vocab,
        "tokenizer": {"kind": "chars", "unknown": chars.unknown},
        "parameters": _parameters(trainer),
    }
    assert "Ω" in expected["vocab"]
    for _ in range(2):
        trainer._write_config()
        text = (run_dir / "config.json").read_bytes().decode("utf-8")
        assert text == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.json"]


# -- messages --------------------------------------------------------------------------------------


def _refusal(cfg, data, **kwargs) -> str:
    with pytest.raises(CheckpointError) as refused:
        Trainer(cfg, *data, **kwargs)
    return str(refused.value)


def test_a_resume_is_refused_with_what_differs(tiny_cfg, data) -> None:
    saved = Trainer(tiny_cfg(), *data).checkpoint(with_trainer=True)
    named = dataclasses.replace(saved, path=Path("runs/a/last.pt"))
    assert _refusal(tiny_cfg(hidden=16), data, resume=saved) == (
        "checkpoint: was trained as LSTM 1x32 (embedding 16), this run asks for LSTM 1x16 "
        "(embedding 16); drop the model options to resume, or use --init"
    )
    assert _refusal(tiny_cfg(embedding=0), data, resume=named) == (
        "runs/a/last.pt: was trained as LSTM 1x32 (embedding 16), this run asks for LSTM 1x32 "
        "(one-hot); drop the model options to resume, or use --init"
    )
    assert _refusal(tiny_cfg(batch_size=5, seed=8), data, resume=named) == (
        "runs/a/last.pt: the run's position in its data depends on batch_size, seed, which "
        "differ now; resume with the run's own values, or fine-tune with --init"
    )
    assert _refusal(tiny_cfg(), (data[0][1:], data[1]), resume=saved) == (
        "checkpoint: the training data differs from the run's; resume with the same data and "
        "split, or fine-tune with --init"
    )
    best = dataclasses.replace(named, trainer=None, path=Path("runs/a/best.pt"))
    assert _refusal(tiny_cfg(), data, resume=best) == (
        "runs/a/best.pt: has no trainer state to resume from (use last.pt)"
    )
    assert _refusal(tiny_cfg(), data, resume=dataclasses.replace(best, path=None)) == (
        "checkpoint: has no trainer state to resume from (use last.pt)"
    )


def test_a_fine_tune_of_another_architecture_is_refused(tiny_cfg, data) -> None:
    base = Trainer(tiny_cfg(arch="gru"), *data).checkpoint(with_trainer=False)
    message = (
        "{}: is GRU 1x32 (embedding 16) but this run asks for LSTM 1x32 (embedding 16); "
        "fine-tuning keeps the architecture (drop the model options)"
    )
    assert _refusal(tiny_cfg(), data, init=base) == message.format("checkpoint")
    named = dataclasses.replace(base, path=Path("runs/g/best.pt"))
    assert _refusal(tiny_cfg(), data, init=named) == message.format("runs/g/best.pt")


def test_the_divergence_message_says_whether_a_checkpoint_was_kept(
    tmp_path: Path, tiny_cfg, data
) -> None:
    advice = " (lower the learning rate, or clip gradients)"
    for run_dir in (None, tmp_path):
        trainer = Trainer(tiny_cfg(), *data, run_dir)
        trainer.diverged = "it broke"
        assert trainer._diverged_message() == (
            "it broke: training stopped; no checkpoint kept" + advice
        )
    (tmp_path / "last.pt").write_bytes(b"")
    assert trainer._diverged_message() == (
        "it broke: training stopped; last.pt and best.pt keep the last good weights" + advice
    )


# -- bookkeeping -----------------------------------------------------------------------------------


def test_an_epoch_event_holds_the_padding_share_of_its_positions(tiny_cfg, data) -> None:
    trainer = Trainer(tiny_cfg(), *data)
    trainer.epoch, trainer.step = 2, 17
    trainer.epoch_real, trainer.epoch_positions, trainer.epoch_min_real = 30, 40, 0.25
    assert trainer._epoch_event() == {
        "event": "epoch",
        "epoch": 3,
        "step": 17,
        "padding": 0.25,
        "min_real_share": 0.25,
    }
    trainer.epoch_real = trainer.epoch_positions = 1  # one position, real
    assert trainer._epoch_event()["padding"] == 0.0
    trainer.epoch_real = trainer.epoch_positions = 0  # nothing counted: all padding, no error
    assert trainer._epoch_event()["padding"] == 1.0


def test_the_next_epoch_starts_its_counts_afresh(tiny_cfg, data) -> None:
    trainer = Trainer(tiny_cfg(), *data)
    trainer.epoch, trainer.epoch_step = 2, 9
    trainer.epoch_real, trainer.epoch_positions, trainer.epoch_min_real = 30, 40, 0.25
    trainer._next_epoch()
    counts = (trainer.epoch_real, trainer.epoch_positions, trainer.epoch_min_real)
    assert (trainer.epoch, trainer.epoch_step, counts) == (3, 0, (0, 0, 1.0))


def test_the_ranks_agree_on_requests_the_slowest_clock_and_totals(tiny_cfg, data) -> None:
    trainer = Trainer(tiny_cfg(), *data, control=Control(stop=lambda: True))
    trainer.world = _RankOfTwo(theirs=7.5)
    trainer.elapsed = 3.0
    assert trainer._agree(5, 8) == [5.0, 8.0]
    assert trainer.agreed == Agreement(True, False, 7.5, [5.0, 8.0])
    assert trainer.elapsed == 7.5
    trainer.control = Control(save_now=lambda: True)
    trainer._agree()
    assert trainer.agreed == Agreement(False, True, 7.5, [])


def test_a_save_request_is_the_agreed_one_under_torchrun(tiny_cfg, data) -> None:
    trainer = Trainer(tiny_cfg(), *data, control=Control(save_now=lambda: True))
    trainer.agreed = Agreement(save=False)
    assert trainer._save_requested()  # one process: its own request
    trainer.world = _RankOfTwo()
    assert not trainer._save_requested()  # two: what they agreed on at this step
    trainer.agreed = Agreement(save=True)
    trainer.control = Control()
    assert trainer._save_requested()


def test_a_recurrent_state_travels_as_a_list_of_cpu_tensors() -> None:
    h = torch.randn(1, 2, 3, requires_grad=True) * 2
    c = torch.randn(1, 2, 3)
    assert _state_to_list(None) is None
    (only,) = _state_to_list(h)
    assert torch.equal(only, h) and not only.requires_grad
    pair = _state_to_list((h, c))
    assert len(pair) == 2 and torch.equal(pair[0], h) and torch.equal(pair[1], c)
    assert _state_from_list(None, torch.device("cpu")) is None
    assert _state_from_list([], torch.device("cpu")) is None
    alone = _state_from_list([c], torch.device("cpu"))
    assert isinstance(alone, torch.Tensor) and torch.equal(alone, c)
    back = _state_from_list([c, h.detach()], torch.device("cpu"))
    assert isinstance(back, tuple) and torch.equal(back[0], c) and torch.equal(back[1], h)


# -- train() ---------------------------------------------------------------------------------------


def test_train_passes_on_resume_init_and_tokenizer(tmp_path: Path, tiny_cfg, data) -> None:
    """train() is Trainer(...).run(): a resume starts at the checkpoint's step, a fine-tune
    grows the initial model's vocabulary, and a tokenizer decides what a token is."""
    cfg = tiny_cfg(eval_every=1)
    list(_trainer(cfg, data, tmp_path, steps=1).run())
    last = load_checkpoint(tmp_path / "last.pt")
    start = next(train(cfg, *data, resume=last))
    assert (start["resumed"], start["step"]) == (True, 1)
    grown = [t + "Ω" for t in data[0][:2]]  # fewer characters than the initial model knows
    start = next(train(cfg, grown, data[1], init=last))
    assert start["vocab_size"] == len(last.tokenizer) + 1 > len(CharTokenizer.fit(grown))
    texts = ["Bar_None Pitch_60 Duration_1.0.8 " * (8 + i) for i in range(4)]
    events = EventTokenizer.fit(texts, {"encoding": "remi", "version": 1})
    start = next(train(tiny_cfg(seq_len=8), texts[:3], texts[3:], tokenizer=events))
    assert (start["unit"], start["vocab_size"]) == ("event", len(events))


# -- the optimizer on a GPU ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "fused"),
    [
        ("sgd", "SGD", True),
        ("adam", "Adam", True),
        ("adamw", "AdamW", True),
        ("rmsprop", "RMSprop", None),
    ],
)
def test_on_cuda_the_optimizer_asks_for_its_fused_kernel(
    monkeypatch, tiny_cfg, name: str, kind: str, fused
) -> None:
    """Parameters on a CUDA device (stand-ins: no GPU is needed to name one) get the fused
    kernels of SGD, Adam and AdamW; RMSprop has none and is asked for none."""
    asked = {}
    monkeypatch.setattr(torch.optim, kind, lambda params, **kw: asked.update(kw))
    on_cuda = SimpleNamespace(device=torch.device("cuda"))
    model = SimpleNamespace(parameters=lambda: iter([on_cuda, on_cuda]))
    make_optimizer(model, tiny_cfg(optimizer=name))
    assert asked.get("fused") is fused
