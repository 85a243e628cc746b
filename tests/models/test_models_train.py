"""The trainer on real tunes: run directory, stopping rules, determinism, exact resume, init."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch
from ddp_launch import torchrun_env

from models.checkpoint import load_checkpoint
from models.config import TrainConfig as TrainerDefaults
from models.distributed import World
from models.errors import CheckpointError, DataError
from models.train import Control, Trainer, read_metrics, split_texts, train


@pytest.fixture(scope="module")
def data(folk_texts: list[str]) -> tuple[list[str], list[str]]:
    """30 training tunes and 3 short validation tunes (evaluation stays cheap)."""
    return folk_texts[:30], sorted(folk_texts[30:60], key=len)[:3]


def run(cfg, train_texts, val_texts, run_dir=None, stop_after=None, **kwargs) -> list[dict]:
    """All events of a run; `stop_after=N` asks it to stop once N steps were seen."""
    seen = []
    control = Control(stop=lambda: stop_after is not None and len(seen) >= stop_after)
    events = []
    for event in train(cfg, train_texts, val_texts, run_dir, control=control, **kwargs):
        events.append(event)
        if event["event"] == "step":
            seen.append(event["step"])
    return events


def steps(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event"] == "step"]


def end(events: list[dict]) -> dict:
    assert events[-1]["event"] == "end"
    return events[-1]


def test_short_run_writes_its_run_directory(tmp_path: Path, tiny_cfg, data) -> None:
    cfg = tiny_cfg(eval_every=4, sample_chars=15)
    run_dir = tmp_path / "run"
    events = run(cfg, *data, run_dir, stop_after=10)
    assert events[0]["event"] == "start" and events[0]["resumed"] is False
    assert [e["step"] for e in steps(events)] == list(range(1, 11))
    assert end(events)["reason"] == "stopped" and end(events)["step"] == 10
    assert [e["step"] for e in events if e["event"] == "eval"] == [4, 8, 10]

    info = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    assert info["model"] == cfg.to_dict()["model"] and info["train"] == cfg.to_dict()["train"]
    assert info["data"]["train_tunes"] == 30 and info["data"]["val_tunes"] == 3
    assert info["data"]["train_chars"] == sum(len(t) + 2 for t in data[0])
    assert info["vocab"][:3] == ["<start>", "<end>", "<unk>"]
    assert info["parameters"] == events[0]["parameters"]

    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    logged = [json.loads(line) for line in lines]  # every line is valid JSON
    kinds = Counter(e["event"] for e in logged)
    assert kinds["start"] == 1 and kinds["end"] == 1 and kinds["step"] == 10
    assert kinds["eval"] == 3
    assert logged == read_metrics(run_dir / "metrics.jsonl")
    assert [e["event"] for e in logged] == [e["event"] for e in events]
    first_step = next(e for e in logged if e["event"] == "step")
    assert set(first_step) >= {"step", "epoch", "loss", "accuracy", "lr", "elapsed"}
    evals = [e for e in logged if e["event"] == "eval"]
    assert all(e["val_chars"] == sum(len(t) + 1 for t in data[1]) for e in evals)
    assert logged[0]["event"] == "start"
    assert logged[0]["steps_per_epoch"] == events[0]["steps_per_epoch"] > 10

    best, last = load_checkpoint(run_dir / "best.pt"), load_checkpoint(run_dir / "last.pt")
    assert best.trainer is None and last.trainer is not None
    assert last.step == 10 and best.step in (4, 8, 10)
    assert last.config == cfg and last.tokenizer.vocab == info["vocab"]
    assert best.metrics["best_val_loss"] == min(e["val_loss"] for e in evals)
    last.build_model()
    samples = sorted(p.name for p in (run_dir / "samples").iterdir())
    assert samples == ["step0000004.abc", "step0000008.abc", "step0000010.abc"]
    assert all(
        0 < len((run_dir / "samples" / s).read_text(encoding="utf-8")) <= 15 for s in samples
    )
    leftovers = [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_loss_decreases_on_real_tunes(tiny_cfg, data) -> None:
    events = run(tiny_cfg(), *data, stop_after=60)
    losses = [e["loss"] for e in steps(events)]
    assert len(losses) == 60
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert first > 3.5  # about ln(vocabulary) to start with
    assert last < first - 0.7, (first, last)


def test_early_stop_when_validation_stops_improving(tmp_path: Path, tiny_cfg, data) -> None:
    # A learning rate so small the weights cannot move: the second evaluation is no better.
    cfg = tiny_cfg(
        optimizer="sgd",
        lr=1e-30,
        momentum=0.0,
        schedule="constant",
        warmup_steps=0,
        grad_clip=0.0,
        patience=1,
        smooth_evals=1,
        eval_every=2,
    )
    events = run(cfg, *data, tmp_path / "run", stop_after=50)
    evals = [e for e in events if e["event"] == "eval"]
    assert [e["improved"] for e in evals] == [True, False]
    assert end(events)["reason"] == "early_stop"
    assert end(events)["step"] == 4
    assert load_checkpoint(tmp_path / "run" / "last.pt").step == 4


def _scripted_evals(monkeypatch, losses: list[float]) -> None:
    """Make the trainer's evaluations return `losses`, one after another."""
    import models.train as train_module
    from models.evaluate import EvalResult

    script = iter(losses)

    def fake(model, tunes, device, **kwargs):
        loss = next(script)
        return EvalResult(loss_nats_per_char=loss, accuracy=0.5, chars=100)

    monkeypatch.setattr(train_module, "evaluate", fake)


# An improving curve with noise: every third evaluation is good, the two after it worse than it.
NOISY = [3.0 - 0.05 * k + (0.3 if k % 3 else 0.0) for k in range(15)]


@pytest.mark.parametrize(("smooth", "stops_at"), [(1, 3), (3, None)])
def test_early_stopping_judges_the_smoothed_curve(
    monkeypatch, tiny_cfg, data, smooth: int, stops_at
) -> None:
    """Judged evaluation by evaluation, the noisy improving curve stops after its first two
    bad evaluations; judged on the mean of the last three, it runs to the end."""
    _scripted_evals(monkeypatch, NOISY)
    cfg = tiny_cfg(eval_every=1, epochs=50, patience=2, smooth_evals=smooth, min_delta=0.0)
    events = run(cfg, *data, stop_after=14)
    evals = [e for e in events if e["event"] == "eval"]
    if stops_at is None:
        assert end(events)["reason"] == "stopped" and len(evals) == 14
    else:
        assert end(events)["reason"] == "early_stop" and len(evals) == stops_at
    assert evals[-1]["best_val_loss"] == min(NOISY[: len(evals)])


def test_smoothed_early_stopping_still_ends_an_overfitting_run(monkeypatch, tiny_cfg, data):
    rising = [2.0, 1.9, 1.85, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 2.7]
    _scripted_evals(monkeypatch, rising)
    cfg = tiny_cfg(eval_every=1, epochs=50, patience=3, smooth_evals=3)
    events = run(cfg, *data, stop_after=12)
    evals = [e for e in events if e["event"] == "eval"]
    # Means of three: 1.917 (best), 1.883 (best), 1.917, 2.0, 2.1 -> three without a new best.
    assert end(events)["reason"] == "early_stop" and len(evals) == 7
    assert evals[-1]["smoothed_val_loss"] == pytest.approx((2.0 + 2.1 + 2.2) / 3)


def test_a_time_budget_without_an_epoch_limit_runs_on_the_clock(
    tiny_cfg, data, monkeypatch
) -> None:
    """epochs=0 (the default) with a time budget: no epoch limit, the cosine schedule follows
    the clock, and the budget ends the run after several epochs of this tiny data.

    The trainer's clock advances 2 ms at each reading, so the run lasts the same number of steps
    on any machine (on the real clock a loaded machine finished one epoch in the 3 s)."""
    import types

    import models.train as train_module

    ticks = iter(range(10**9))
    fake = types.SimpleNamespace(perf_counter=lambda: next(ticks) * 0.002)
    monkeypatch.setattr(train_module, "time", fake)
    cfg = tiny_cfg(epochs=0, time_budget=3.0, schedule="cosine", warmup_steps=0, eval_every=0)
    trainer = Trainer(cfg, *data)
    assert trainer.epoch_limit is None and trainer.total_steps == 0
    events = list(trainer.run())
    assert end(events)["reason"] == "time"
    assert trainer.epoch >= 2
    lrs = [e["lr"] for e in steps(events)]
    # Decayed towards the floor as the budget ran out (min_lr_ratio 0.05 of lr 1e-2).
    assert lrs[0] == pytest.approx(1e-2, rel=0.05) and lrs[-1] < 0.15 * 1e-2
    # Evaluations spread over the budget (EVALS_PER_BUDGET), not every few steps.
    n_evals = sum(e["event"] == "eval" for e in events)
    assert 10 <= n_evals <= 45
    assert TrainerDefaults.epochs == 0 and TrainerDefaults().epoch_limit() == 30


def test_time_budget(tiny_cfg, data) -> None:
    events = run(tiny_cfg(time_budget=1e-6), *data, stop_after=50)
    assert end(events)["reason"] == "time"
    assert len(steps(events)) == 1
    assert [e["event"] for e in events].count("eval") == 1


def test_stop_request_leaves_a_loadable_last_checkpoint(tmp_path: Path, tiny_cfg, data) -> None:
    run_dir = tmp_path / "run"
    events = run(tiny_cfg(), *data, run_dir, stop_after=3)
    assert end(events)["reason"] == "stopped"
    assert len(steps(events)) == 3
    last = load_checkpoint(run_dir / "last.pt")
    assert last.step == 3 and last.trainer["epoch_step"] == 3
    model = last.build_model()
    assert not model.training


def test_save_now_writes_last_checkpoint_without_evaluating(tmp_path: Path, tiny_cfg, data):
    run_dir = tmp_path / "run"
    trainer = Trainer(cfg := tiny_cfg(), *data, run_dir)
    trainer.control = Control(stop=lambda: trainer.step >= 5, save_now=lambda: trainer.step == 3)
    events = list(trainer.run())
    kinds = [(e["event"], e["step"]) for e in events if e["event"] in ("checkpoint", "eval")]
    assert kinds[0] == ("checkpoint", 3)
    assert [k for k in kinds if k[0] == "eval"] == [("eval", 5)]
    assert load_checkpoint(run_dir / "last.pt").step == 5
    assert cfg.train.eval_every > 5


def test_same_seed_same_losses(tiny_cfg, data) -> None:
    cfg = tiny_cfg(dropout=0.3)
    a = [e["loss"] for e in steps(run(cfg, *data, stop_after=12))]
    b = [e["loss"] for e in steps(run(cfg, *data, stop_after=12))]
    assert a == b
    c = [e["loss"] for e in steps(run(tiny_cfg(dropout=0.3, seed=8), *data, stop_after=12))]
    assert c != a


@pytest.mark.parametrize(
    ("overrides", "m", "n"),
    [
        # Lanes with LSTM state carried between steps, dropout drawing on the torch RNG.
        ({"arch": "lstm", "dropout": 0.3, "epochs": 3}, 5, 12),
        # Lanes resumed mid epoch 1, then through epoch 2 into epoch 3 (the lanes run on
        # across each epoch's end).
        ({"arch": "lstm", "dropout": 0.2, "seq_len": 128, "epochs": 5}, 50, 90),
        # The reports' walk with a one-hot GRU and SGD momentum, across epoch boundaries.
        (
            {
                "arch": "gru",
                "embedding": 0,
                "hidden": 16,
                "batching": "walk",
                "batch_size": 16,
                "seq_len": 64,
                "optimizer": "sgd",
                "lr": 0.05,
                "epochs": 4,
            },
            "epoch end",  # stop exactly where the first epoch ends
            "two epochs and 3",
        ),
    ],
)
def test_resume_continues_exactly(tmp_path: Path, tiny_cfg, data, overrides, m, n) -> None:
    cfg = tiny_cfg(**overrides)
    if m == "epoch end":
        per_epoch = Trainer(cfg, *data).steps_per_epoch
        m, n = per_epoch, 2 * per_epoch + 3
    uninterrupted = steps(run(cfg, *data, tmp_path / "a", stop_after=n))
    assert len(uninterrupted) == n

    first = steps(run(cfg, *data, tmp_path / "b", stop_after=m))
    assert [e["step"] for e in first] == list(range(1, m + 1))
    ckpt = load_checkpoint(tmp_path / "b" / "last.pt")
    assert ckpt.step == m
    resumed_events = run(cfg, *data, tmp_path / "b", stop_after=n - m, resume=ckpt)
    assert resumed_events[0]["resumed"] is True and resumed_events[0]["step"] == m
    second = steps(resumed_events)
    assert [e["step"] for e in second] == list(range(m + 1, n + 1))

    combined = first + second
    for a, b in zip(uninterrupted, combined, strict=True):
        assert a["step"] == b["step"]
        assert a["lr"] == pytest.approx(b["lr"], rel=1e-12), a["step"]
        assert a["epoch"] == pytest.approx(b["epoch"]), a["step"]
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6), a["step"]
    if cfg.train.batching == "walk":
        # The walk case resumes at an epoch boundary and crosses another one after it.
        assert (ckpt.epoch, ckpt.trainer["epoch"], ckpt.trainer["epoch_step"]) == (1, 1, 0)
        assert combined[-1]["epoch"] > 2
    if cfg.train.seq_len == 128:
        spe = Trainer(cfg, *data).steps_per_epoch
        last = combined[-1]["step"]
        assert combined[-1]["epoch"] == pytest.approx(last // spe + (last % spe) / spe)
    # The run directory holds both parts of the log.
    logged = read_metrics(tmp_path / "b" / "metrics.jsonl")
    assert [e["step"] for e in logged if e["event"] == "step"] == list(range(1, n + 1))


def test_resume_refuses_other_model_other_data_and_best(tmp_path: Path, tiny_cfg, data) -> None:
    cfg = tiny_cfg()
    run(cfg, *data, tmp_path / "run", stop_after=2)
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    with pytest.raises(CheckpointError, match="LSTM 1x16"):
        Trainer(tiny_cfg(hidden=16), *data, resume=last)
    with pytest.raises(CheckpointError, match="data differs"):
        Trainer(cfg, data[0][1:], data[1], resume=last)
    with pytest.raises(CheckpointError, match="no trainer state"):
        Trainer(cfg, *data, resume=load_checkpoint(tmp_path / "run" / "best.pt"))
    # The same model and data resume fine.
    Trainer(cfg, *data, resume=last)


@pytest.mark.parametrize(
    "change", [{"batch_size": 5}, {"seq_len": 16}, {"batching": "walk"}, {"seed": 8}]
)
def test_resume_refuses_a_different_data_position(tmp_path: Path, tiny_cfg, data, change) -> None:
    run(tiny_cfg(), *data, tmp_path / "run", stop_after=2)
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    (key,) = change
    with pytest.raises(CheckpointError, match=key):
        Trainer(tiny_cfg(**change), *data, resume=last)
    # Limits that do not move the data position may change on resume.
    Trainer(tiny_cfg(epochs=3, time_budget=60.0, patience=2), *data, resume=last)


def test_fine_tune_with_init_grows_the_vocabulary(tmp_path: Path, tiny_cfg, data) -> None:
    cfg = tiny_cfg()
    run(cfg, *data, tmp_path / "base", stop_after=5)
    base = load_checkpoint(tmp_path / "base" / "best.pt")
    assert "Ω" not in base.tokenizer.vocab and "€" not in base.tokenizer.vocab
    new_texts = [t.replace("|", "Ω|", 2) + "€" for t in data[0][:12]]

    trainer = Trainer(cfg, new_texts, data[1], tmp_path / "tuned", init=base)
    old_v = len(base.tokenizer)
    vocab = trainer.tokenizer.vocab
    assert vocab[:old_v] == base.tokenizer.vocab
    assert vocab[old_v:] == sorted("Ω€")
    assert trainer.model.vocab_size == old_v + 2
    # Before any training, old characters get the base model's predictions.
    x = torch.as_tensor(base.tokenizer.encode_tune(data[0][0])[:60])[None]
    base_model = base.build_model()
    trainer.model.eval()
    with torch.no_grad():
        assert torch.allclose(trainer.model(x)[0][..., :old_v], base_model(x)[0], atol=1e-6)
    trainer.model.train()

    trainer.control = Control(stop=lambda: trainer.step >= 6)
    events = list(trainer.run())
    assert end(events)["reason"] == "stopped" and len(steps(events)) == 6
    assert all(e["loss"] == e["loss"] for e in steps(events))  # finite, not NaN
    tuned = load_checkpoint(tmp_path / "tuned" / "last.pt")
    assert tuned.tokenizer.vocab == vocab
    assert tuned.tokenizer.encode("Ω€").tolist() == [old_v, old_v + 1]
    # Fine-tuning keeps the architecture.
    with pytest.raises(CheckpointError, match="fine-tuning keeps the architecture"):
        Trainer(tiny_cfg(arch="gru"), new_texts, data[1], init=base)


def test_no_tunes_is_a_data_error(tiny_cfg, data) -> None:
    with pytest.raises(DataError):
        Trainer(tiny_cfg(), [], data[1])
    with pytest.raises(DataError):
        Trainer(tiny_cfg(), data[0], [])


def test_split_texts(folk_texts: list[str]) -> None:
    tr, va = split_texts(folk_texts, 0.1, seed=3)
    assert len(tr) + len(va) == 185 and len(va) == 18
    assert sorted(tr + va) == sorted(folk_texts)


def test_epochs_are_their_nominal_length_and_log_their_padding(tiny_cfg, data) -> None:
    """Every epoch is `steps_per_epoch` steps (the lanes stream on across its end); the trainer
    never spins asking for an empty epoch, and logs each epoch's padding share."""
    cfg = tiny_cfg(batch_size=8, seq_len=64, epochs=2, hidden=16, embedding=8)
    trainer = Trainer(cfg, *data)
    real_epoch = trainer.batches.epoch
    calls = []

    def guarded_epoch(epoch: int, start_step: int = 0):
        calls.append((epoch, start_step))
        if len(calls) > 2 * cfg.train.epochs:
            raise AssertionError(f"the training loop spins without progress: calls {calls[:6]}")
        return real_epoch(epoch, start_step)

    trainer.batches.epoch = guarded_epoch
    events = list(trainer.run())
    assert end(events)["reason"] == "epochs"
    assert len(steps(events)) == 2 * trainer.steps_per_epoch
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert [e["step"] for e in epochs] == [trainer.steps_per_epoch, 2 * trainer.steps_per_epoch]
    for e in epochs:
        # Only each tune's last chunk is padded: about what the batcher predicts.
        assert e["padding"] == pytest.approx(trainer.batches.padding, abs=0.05)
        assert 0.3 < e["min_real_share"] <= 1.0


def test_a_long_tailed_collection_trains_without_starved_steps(tiny_cfg, folk_texts) -> None:
    """One tune 20 times the others' length (a medley): no step of three epochs trains on less
    than 45 % real characters (fixed per-epoch lanes left one lane of 8 running on alone, 12 %;
    what remains is the padded last chunk of these short tunes)."""
    tunes = sorted(folk_texts[:80], key=len)
    short = tunes[:30]
    medley = tunes[30] + "".join(t.split("K:", 1)[1] for t in tunes[31:70])
    cfg = tiny_cfg(batch_size=8, seq_len=32, epochs=3, hidden=16, embedding=8)
    trainer = Trainer(cfg, [medley, *short[2:]], short[:2])
    assert len(medley) > 20 * sorted(map(len, short))[15]
    events = list(trainer.run())
    epochs = [e for e in events if e["event"] == "epoch"]
    assert len(epochs) == 3
    assert min(e["min_real_share"] for e in epochs) >= 0.45


def _gradient(cfg, texts, lanes_real: int) -> dict:
    """Gradients of one training step on a batch whose first `lanes_real` lanes hold the same
    tune chunk and whose other lanes are padding."""
    from models.data import IGNORE, Batch

    trainer = Trainer(cfg, texts, texts[:1])
    ids = torch.tensor(trainer.train_ids[0][: cfg.train.seq_len + 1])
    b = cfg.train.batch_size
    inputs = ids[:-1].repeat(b, 1)
    targets = ids[1:].repeat(b, 1)
    targets[lanes_real:] = IGNORE
    trainer._train_step(Batch(inputs, targets, torch.ones(b, dtype=torch.bool)))
    return {n: p.grad.clone() for n, p in trainer.model.named_parameters()}


def test_a_mostly_padded_batch_moves_the_weights_less(tiny_cfg, data) -> None:
    """8 lanes of the same chunk give 8 times the gradient of 1 lane of it and 7 of padding:
    each real character weighs the same whatever the batch holds (a mean over real targets
    would make the lone lane weigh as much as the full batch)."""
    cfg = tiny_cfg(batch_size=8, dropout=0.0, grad_clip=0.0)
    full = _gradient(cfg, data[0], 8)
    one = _gradient(cfg, data[0], 1)
    for name in full:
        assert torch.allclose(full[name], 8 * one[name], rtol=1e-4, atol=1e-7), name


def test_each_tune_starts_from_a_zero_state_inside_the_trainer(tiny_cfg, data) -> None:
    """Through the trainer: the recurrent state a lane starts a tune with is zero, and a lane in
    the middle of a tune carries the state it ended the previous step with."""
    cfg = tiny_cfg(batch_size=4, seq_len=16, epochs=1, dropout=0.0)
    trainer = Trainer(cfg, *data)
    seen = []
    forward = trainer.model.forward

    def spy(x, state=None):
        seen.append((x[:, 0].clone(), None if state is None else [s.clone() for s in state]))
        logits, new_state = forward(x, state)
        seen[-1] += ([s.detach().clone() for s in new_state],)
        return logits, new_state

    trainer.model.forward = spy
    n_steps = 0
    for event in trainer.run():
        n_steps += event["event"] == "step"
        if n_steps >= 150:
            break
    carried = zeroed = 0
    for k in range(1, len(seen)):
        first_ids, state, _ = seen[k]
        previous_end = seen[k - 1][2]
        for lane in range(4):
            starts_tune = int(first_ids[lane]) == 0  # <start>
            if state is None:
                assert starts_tune
                zeroed += 1
                continue
            for s, prev in zip(state, previous_end, strict=True):
                if starts_tune:
                    assert torch.count_nonzero(s[:, lane]) == 0
                else:
                    assert torch.equal(s[:, lane], prev[:, lane])
            carried += not starts_tune
            zeroed += starts_tune
    assert carried > 100 and zeroed > 8


def test_a_stop_during_an_evaluation_ends_without_another_step(tiny_cfg, data) -> None:
    requested = []
    trainer = Trainer(
        tiny_cfg(eval_every=5, epochs=50), *data, control=Control(stop=lambda: bool(requested))
    )
    events = []
    for event in trainer.run():
        events.append(event)
        if event["event"] == "eval":
            requested.append(True)  # asked while the evaluation is being reported
    assert [e["step"] for e in events if e["event"] == "eval"] == [5]
    assert max(e["step"] for e in events if e["event"] == "step") == 5
    assert events[-1]["reason"] == "stopped"


_SAVE_SCRIPT = """
import json, os, sys
from models.config import RunConfig
from models.distributed import init_world
from models.train import Control, Trainer

cfg = RunConfig.from_dict(json.loads(sys.argv[1]))
train_texts, val_texts = json.loads(open(sys.argv[2], encoding="utf-8").read())
world = init_world("cpu")
trainer = Trainer(
    cfg, train_texts, val_texts, sys.argv[3], world=world,
    control=Control(stop=lambda: trainer.step >= 3),
)
for _ in trainer.run():
    pass
world.barrier()  # both ranks done before either tears the process group down
world.close()
sys.stdout.flush()
os._exit(0)  # gloo's threads at interpreter exit sometimes abort a rank (see log_interval)
"""


@pytest.mark.slow
def test_two_ranks_save_their_own_random_streams_and_resume_them(
    tmp_path: Path, tiny_cfg, data
) -> None:
    """Under torchrun (two CPU processes, gloo) with dropout on, last.pt keeps each rank's
    random stream (rank 0's is the checkpoint's own) and the whole batch's lanes; rank 1 of a
    resumed pair takes its saved stream and its half of the lanes back."""
    cfg = tiny_cfg(dropout=0.3, batch_size=4, hidden=32)
    (tmp_path / "texts.json").write_text(json.dumps(data), encoding="utf-8")
    script = tmp_path / "save.py"
    script.write_text(_SAVE_SCRIPT, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    done = subprocess.run(
        [
            *(*launch, "--nproc-per-node", "2", str(script)),
            *(json.dumps(cfg.to_dict()), str(tmp_path / "texts.json"), str(tmp_path / "run")),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=root,
        env={**torchrun_env(), "PYTHONPATH": str(root)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    assert ckpt.step == 3
    ranks = ckpt.trainer["ranks"]
    assert [sorted(r) for r in ranks] == [["cuda_rng", "torch_rng"]] * 2
    assert [r["cuda_rng"] for r in ranks] == [None, None]
    assert torch.equal(ranks[0]["torch_rng"], ckpt.trainer["torch_rng"])
    assert not torch.equal(ranks[1]["torch_rng"], ranks[0]["torch_rng"])
    lanes = ckpt.trainer["state"]
    assert [tuple(s.shape) for s in lanes] == [(1, 4, 32), (1, 4, 32)]

    trainer = Trainer(cfg, *data)
    trainer.world = World(size=2, rank=1)  # its place only: restoring uses no process group
    trainer._restore(ckpt)
    assert torch.equal(torch.get_rng_state(), ranks[1]["torch_rng"])
    for mine, saved in zip(trainer.state, lanes, strict=True):
        assert torch.equal(mine, saved[:, 2:4])
    # A single process saves no per-rank streams: its own is the checkpoint's. (Also what lets
    # benchmarks/mutation.py see that this test reaches Trainer.checkpoint: the two ranks above
    # call it in processes of their own, which mutmut's per-test coverage does not follow.)
    trainer.world = World()
    assert "ranks" not in trainer.checkpoint(with_trainer=True).trainer
