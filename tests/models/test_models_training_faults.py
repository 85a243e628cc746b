"""Training faults: a loss that is no longer finite, and a disk that fills up mid-checkpoint.

Both must end the run with a message and leave the last good checkpoint loadable: a diverged
run stops before its broken weights reach last.pt or best.pt; a checkpoint that cannot be
written leaves the one before it whole (written beside, then renamed) and says so.
"""

from __future__ import annotations

import errno
import math
from pathlib import Path

import pytest
import torch
from tiny import PLAIN_SGD

from models import checkpoint as checkpoint_module
from models.checkpoint import load_checkpoint
from models.metrics_log import read_metrics
from models.train import Control, Trainer, train


@pytest.fixture(scope="module")
def data(folk_texts: list[str]) -> tuple[list[str], list[str]]:
    return folk_texts[:30], sorted(folk_texts[30:60], key=len)[:3]


def _run(cfg, data, run_dir: Path, steps: int = 30) -> list[dict]:
    seen: list[int] = []
    events = []
    control = Control(stop=lambda: len(seen) >= steps)
    for event in train(cfg, *data, run_dir, control=control):
        events.append(event)
        if event["event"] == "step":
            seen.append(event["step"])
    return events


def _finite_weights(path: Path) -> bool:
    ckpt = load_checkpoint(path)
    ckpt.build_model()
    return all(
        bool(torch.isfinite(t).all()) for t in ckpt.state_dict.values() if t.is_floating_point()
    )


def test_a_learning_rate_that_blows_up_stops_the_run_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, tiny_cfg, data
) -> None:
    """A real divergence: plain SGD at lr 1e6 without clipping overflows within a few steps."""
    cfg = tiny_cfg(**PLAIN_SGD, lr=1e6, grad_clip=0.0)
    events = _run(cfg, data, tmp_path / "run")
    end = events[-1]
    assert end["event"] == "end" and end["reason"] == "diverged"
    losses = [e["loss"] for e in events if e["event"] == "step"]
    assert not math.isfinite(losses[-1]) and all(map(math.isfinite, losses[:-1]))
    assert end["step"] == len(losses) < 30  # stopped at the first loss that is not finite
    assert f"the training loss became {losses[-1]} at step {end['step']}" in end["message"]
    assert "last.pt and best.pt keep the last good weights" in end["message"]
    # The checkpoints are those of the last evaluation before the divergence, and load.
    last_eval = max(e["step"] for e in events if e["event"] == "eval")
    assert last_eval < end["step"]
    for name in ("last.pt", "best.pt"):
        assert _finite_weights(tmp_path / "run" / name)
    assert load_checkpoint(tmp_path / "run" / "last.pt").step == last_eval
    # The log says so too (a non-finite loss is written as null).
    logged = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert logged[-1]["reason"] == "diverged" and logged[-2]["loss"] is None
    # ...and the run resumes from what was kept (at a sane learning rate).
    resumed = load_checkpoint(tmp_path / "run" / "last.pt")
    calm = tiny_cfg(**PLAIN_SGD, lr=0.1, grad_clip=1.0)
    trainer = Trainer(
        calm,
        *data,
        tmp_path / "run",
        resume=resumed,
        control=Control(stop=lambda: trainer.step >= last_eval + 2),
    )
    tail = list(trainer.run())
    assert tail[-1]["reason"] == "stopped"
    assert all(math.isfinite(e["loss"]) for e in tail if e["event"] == "step")


def test_weights_gone_bad_before_an_evaluation_are_never_saved(
    tmp_path: Path, tiny_cfg, data, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validation loss is the first to see it (weights poisoned just before the
    evaluation at step 8): that evaluation is logged, nothing is saved, the run stops."""
    evaluate = Trainer._evaluate

    def poisoned(self):
        if self.step == 8:
            with torch.no_grad():
                for p in self.model.parameters():
                    p.fill_(float("nan"))
        return evaluate(self)

    monkeypatch.setattr(Trainer, "_evaluate", poisoned)
    events = _run(tiny_cfg(eval_every=4, dropout=0.0), data, tmp_path / "run")
    end = events[-1]
    assert (end["reason"], end["step"]) == ("diverged", 8)
    assert "the validation loss became nan at step 8" in end["message"]
    saved = [e["step"] for e in events if e["event"] == "checkpoint"]
    assert saved == [4, 4]  # best.pt and last.pt at step 4, nothing at step 8
    assert load_checkpoint(tmp_path / "run" / "last.pt").step == 4
    assert _finite_weights(tmp_path / "run" / "last.pt")


def test_a_full_disk_while_writing_a_checkpoint_keeps_the_previous_one(
    tmp_path: Path, tiny_cfg, data, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second write of last.pt runs out of space half-way (ENOSPC): the run ends with an
    OSError that names the file and says the previous checkpoint is unchanged; that one loads
    and the run resumes from it; no temporary file is left behind."""
    save = torch.save
    last_writes: list[int] = []

    def full_disk(obj, fh, *args, **kwargs):
        if "trainer" in obj:  # a last.pt (best.pt carries no trainer state)
            last_writes.append(obj["step"])
            if len(last_writes) == 2:
                fh.write(b"PK\x03\x04 half a checkpoint")
                raise OSError(errno.ENOSPC, "No space left on device")
        return save(obj, fh, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module.torch, "save", full_disk)
    run_dir = tmp_path / "run"
    with pytest.raises(OSError) as info:
        _run(tiny_cfg(eval_every=4, dropout=0.0), data, run_dir)
    error = info.value
    assert error.errno == errno.ENOSPC and error.filename == str(run_dir / "last.pt")
    assert "the previous last.pt is unchanged" in error.strerror
    monkeypatch.undo()
    assert sorted(p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")) == []
    kept = load_checkpoint(run_dir / "last.pt")
    assert kept.step == 4 and _finite_weights(run_dir / "last.pt")
    trainer = Trainer(
        tiny_cfg(eval_every=4, dropout=0.0),
        *data,
        run_dir,
        resume=kept,
        control=Control(stop=lambda: trainer.step >= 6),
    )
    assert list(trainer.run())[-1]["reason"] == "stopped"
    assert load_checkpoint(run_dir / "last.pt").step == 6
