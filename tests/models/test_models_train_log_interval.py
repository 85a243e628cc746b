"""The trainer's step events when a training step reads nothing back from the device.

A step keeps its loss and correct predictions in device-side sums; a "step" event reads them
back every `log_every` steps and before an epoch's end, an evaluation, a checkpoint or the end.
Its numbers must be those of its steps (checked here against each step's loss computed anew
from the model's own outputs by a hook), a divergence inside an interval must still stop the
run before a checkpoint, and the steps themselves must not read any number from the model.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from ddp_launch import torchrun_env
from tiny import PLAIN_SGD
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves

from models.checkpoint import load_checkpoint
from models.data import IGNORE
from models.metrics_log import read_metrics
from models.train import Control, Trainer


@pytest.fixture(scope="module")
def data(folk_texts: list[str]) -> tuple[list[str], list[str]]:
    return folk_texts[:30], sorted(folk_texts[30:60], key=len)[:3]


class _PerStep:
    """Each training step's summed loss, correct predictions and real targets, computed from
    the logits the model returned (a forward hook) and the batch's targets: independent of
    the trainer's own sums."""

    def __init__(self, trainer: Trainer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows: list[tuple[float, int, int, float]] = []  # loss sum, hits, real, lr
        self._targets: torch.Tensor | None = None
        trainer.model.register_forward_hook(self._hook)
        step = trainer._train_step

        def recording(batch):
            self._targets = batch.targets
            n = step(batch)
            loss, hits = self._pending
            self.rows.append((loss, hits, n, trainer.optimizer.param_groups[0]["lr"]))
            return n

        monkeypatch.setattr(trainer, "_train_step", recording)

    def _hook(self, module, args, output) -> None:
        if not module.training:  # evaluation and samples
            return
        logits, y = output[0].detach().float(), self._targets
        total = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            y.reshape(-1),
            ignore_index=IGNORE,
            reduction="sum",
        )
        hits = ((logits.argmax(-1) == y) & (y != IGNORE)).sum()
        self._pending = (float(total), int(hits))


@pytest.mark.parametrize("log_every", [1, 4])
def test_each_step_event_holds_the_mean_of_its_steps(
    tmp_path: Path, tiny_cfg, data, monkeypatch: pytest.MonkeyPatch, log_every: int
) -> None:
    cfg = tiny_cfg(eval_every=6, optimizer="adamw")
    trainer = Trainer(
        cfg,
        *data,
        tmp_path / "run",
        control=Control(stop=lambda: trainer.step >= 21),
        log_every=log_every,
    )
    per_step = _PerStep(trainer, monkeypatch)
    events = list(trainer.run())
    assert events[-1]["reason"] == "stopped" and len(per_step.rows) == 21
    steps = [e for e in events if e["event"] == "step"]
    # An event every `log_every` steps since the last one, and one before each evaluation.
    evals = {e["step"] for e in events if e["event"] == "eval"}
    assert evals == {6, 12, 18, 21}
    expected, last = [], 0
    for s in range(1, 22):
        if s - last == log_every or s in evals:
            expected.append(s)
            last = s
    assert [e["step"] for e in steps] == expected
    first = 0
    for event in steps:
        rows = per_step.rows[first : event["step"]]
        real = sum(r[2] for r in rows)
        assert event["loss"] == pytest.approx(sum(r[0] for r in rows) / real, rel=1e-12)
        assert event["accuracy"] == sum(r[1] for r in rows) / real
        assert event["lr"] == rows[-1][3]
        assert event["chars_per_sec"] > 0
        first = event["step"]
    # The file holds what was yielded.
    assert [e for e in read_metrics(tmp_path / "run" / "metrics.jsonl") if e["event"] == "step"]


def _train_and_keep(cfg, data, run_dir: Path, steps: int, log_every: int) -> list[dict]:
    trainer = Trainer(
        cfg,
        *data,
        run_dir,
        control=Control(stop=lambda: trainer.step >= steps),
        log_every=log_every,
    )
    return list(trainer.run())


def test_the_log_interval_does_not_change_the_training(tmp_path: Path, tiny_cfg, data) -> None:
    """Reading the sums back less often changes what is logged, never what is learned."""
    runs = {
        n: _train_and_keep(tiny_cfg(eval_every=8), data, tmp_path / f"e{n}", 16, n) for n in (1, 5)
    }
    evals = {
        n: [e["val_loss"] for e in events if e["event"] == "eval"] for n, events in runs.items()
    }
    assert evals[1] == evals[5] and len(evals[1]) == 2
    weights = {n: load_checkpoint(tmp_path / f"e{n}" / "last.pt").state_dict for n in runs}
    assert all(torch.equal(weights[1][k], weights[5][k]) for k in weights[1])
    # Fewer events: every 5 steps and at the evaluations (8 and 16).
    assert [e["step"] for e in runs[5] if e["event"] == "step"] == [5, 8, 13, 16]


def test_a_divergence_inside_an_interval_stops_the_run_before_any_checkpoint(
    tmp_path: Path, tiny_cfg, data
) -> None:
    """Plain SGD at lr 1e6 overflows within a few steps; the loss is read back every 3 steps
    and before each evaluation (every 4), so the run stops at the first read that is not
    finite, and the checkpoints are those of the last evaluation before it."""
    cfg = tiny_cfg(**PLAIN_SGD, lr=1e6, grad_clip=0.0)
    run_dir = tmp_path / "run"
    events = _train_and_keep(cfg, data, run_dir, 30, log_every=3)
    end = events[-1]
    assert end["reason"] == "diverged"
    steps = [e for e in events if e["event"] == "step"]
    assert not math.isfinite(steps[-1]["loss"]) and all(
        math.isfinite(e["loss"]) for e in steps[:-1]
    )
    assert end["step"] == steps[-1]["step"] < 30
    # The message names the steps the loss was summed over.
    first, last = steps[-2]["step"] + 1, end["step"]
    where = f"step {last}" if first == last else f"steps {first}-{last}"
    assert f"the training loss became {steps[-1]['loss']} at {where}:" in end["message"]
    # Nothing after the last finite read was evaluated or saved.
    evals = [e for e in events if e["event"] == "eval"]
    assert evals and all(math.isfinite(e["val_loss"]) for e in evals)
    saved = {e["step"] for e in events if e["event"] == "checkpoint"}
    assert max(saved) == max(e["step"] for e in evals) <= steps[-2]["step"]
    ckpt = load_checkpoint(run_dir / "last.pt")
    assert ckpt.step == max(saved)
    assert all(bool(torch.isfinite(t).all()) for t in ckpt.state_dict.values())


class _NumbersRead(TorchFunctionMode):
    """Records every Python number read from a tensor that was not computed from the batch's
    own CPU tensors alone (on a GPU, each such read waits for the device)."""

    READS = frozenset({"__bool__", "__float__", "__int__", "__index__", "item", "tolist"})

    def __init__(self, host: list[torch.Tensor]) -> None:
        super().__init__()
        # Held, not only their ids: a freed tensor's id may be reused by a model tensor.
        self.host = list(host)
        self.ids = {id(t) for t in host}
        self.reads: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tensors = [a for a in tree_leaves((args, kwargs)) if isinstance(a, torch.Tensor)]
        from_host = all(id(t) in self.ids for t in tensors)
        name = getattr(func, "__name__", str(func))
        if name in self.READS and not from_host:
            self.reads.append(name)
        out = func(*args, **kwargs)
        if tensors and from_host:
            for t in tree_leaves(out):
                if isinstance(t, torch.Tensor):
                    self.host.append(t)
                    self.ids.add(id(t))
        return out


def test_a_training_step_reads_no_number_from_the_model(tiny_cfg, data) -> None:
    """On the CPU no read stalls anything, so this checks the code path a GPU takes: a step
    may count the batch's real targets (CPU tensors) but reads nothing the model computed.
    SGD, because Adam's unfused CPU kernel reads its step counter (on CUDA the trainer uses
    the fused kernel, which keeps it on the GPU)."""
    trainer = Trainer(tiny_cfg(optimizer="sgd", grad_clip=1.0), *data)
    batches = trainer.batches.epoch(0)
    trainer._train_step(next(batches))  # state now carried from step to step
    for _ in range(3):
        batch = next(batches)
        with _NumbersRead([batch.inputs, batch.targets, batch.reset]) as mode:
            trainer._train_step(batch)
        assert mode.reads == []
    # The sums are there to read when an event is due.
    assert float(trainer._loss_sum) > 0 and int(trainer._hits) >= 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("amp", ["fp16", "bf16", "off"])
def test_cuda_training_steps_never_synchronize(tiny_cfg, data, amp: str) -> None:
    """torch's sync debug mode raises at any operation that waits for the GPU (a read, a
    pageable copy, GradScaler checking for infs on the host)."""
    cfg = tiny_cfg(device="cuda", amp=amp, optimizer="adamw", grad_clip=1.0)
    trainer = Trainer(cfg, *data)
    assert trainer.log_every > 1
    batches = trainer.batches.epoch(0)
    for _ in range(3):  # cuDNN's plans and the dropout state are set up once
        trainer._train_step(next(batches))
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(5):
            trainer._train_step(next(batches))
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert math.isfinite(float(trainer._loss_sum))


_RANK_SCRIPT = """
import json, os, sys
from models.config import RunConfig
from models.distributed import init_world
from models.train import Control, Trainer

cfg = RunConfig.from_dict(json.loads(sys.argv[1]))
train_texts, val_texts = json.loads(open(sys.argv[2], encoding="utf-8").read())
world = init_world("cpu")
trainer = Trainer(
    cfg, train_texts, val_texts, world=world, log_every=3,
    control=Control(stop=lambda: trainer.step >= 10),
)
events = [e for e in trainer.run() if e["event"] in ("step", "eval", "end")]
with open(f"{sys.argv[3]}/rank{world.rank}.json", "w", encoding="utf-8") as f:
    json.dump(events, f)
world.barrier()  # both ranks done before either tears the process group down
world.close()
sys.stdout.flush()
# Skip the interpreter's teardown: gloo's threads at exit aborted a rank ("terminate called
# without an active exception") about one run in six on this machine, after its work was done.
os._exit(0)
"""


@pytest.mark.slow
def test_two_ranks_read_their_sums_back_together(tmp_path: Path, tiny_cfg, data) -> None:
    """Under torchrun (two CPU processes, gloo) with a log interval of 3: both ranks write
    their events at the same steps with the same global numbers, those of one process
    training the whole batch (dropout off, so the two train alike)."""
    cfg = tiny_cfg(dropout=0.0, schedule="constant", eval_every=5)
    (tmp_path / "texts.json").write_text(json.dumps(data), encoding="utf-8")
    script = tmp_path / "rank.py"
    script.write_text(_RANK_SCRIPT, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    launch = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
    ]
    done = subprocess.run(
        [
            *launch,
            str(script),
            json.dumps(cfg.to_dict()),
            str(tmp_path / "texts.json"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=root,
        env={**torchrun_env(), "PYTHONPATH": str(root)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    single = [
        e
        for e in _train_and_keep(cfg, data, None, 10, log_every=3)
        if e["event"] in ("step", "eval", "end")
    ]
    # Every 3 steps since the last event, and at the evaluations (5 and the stop at 10).
    for events in (*ranks, single):
        assert [(e["event"], e["step"]) for e in events] == [
            ("step", 3),
            ("step", 5),
            ("eval", 5),
            ("step", 8),
            ("step", 10),
            ("eval", 10),
            ("end", 10),
        ]
    for a, b in zip(*ranks, strict=True):
        assert {k: v for k, v in a.items() if k != "elapsed"} == {
            k: v for k, v in b.items() if k != "elapsed"
        }
    for a, b in zip(ranks[0], single, strict=True):
        for key in ("loss", "accuracy", "val_loss"):
            if key in a:
                assert a[key] == pytest.approx(b[key], rel=1e-4), (a["step"], key)
