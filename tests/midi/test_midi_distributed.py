"""An event model on real Bach chorales under `torchrun --nproc-per-node 2`: the same trainer,
so the same guarantees as a char model (tests/cli/test_cli_distributed.py), checked against
the same training in one process."""

from __future__ import annotations

import json

import pytest
from ddp_launch import rank_one_end, torchrun
from pytest import approx

from models.checkpoint import load_checkpoint
from models.train import read_metrics
from workbench.cli import main

pytestmark = pytest.mark.slow  # a torchrun start: two torch imports on two cores

SETTINGS = ["--hidden", "32", "--embedding", "16", "--batch-size", "8", "--seq-len", "32"]
SETTINGS += ["--dropout", "0", "--schedule", "constant", "--eval-every", "10", "--epochs", "1"]
SETTINGS += ["--device", "cpu", "--quiet"]


def losses(run) -> dict[tuple[str, int], float]:
    """Training loss of each step and validation loss of each evaluation."""
    events = read_metrics(run / "metrics.jsonl")
    out = {("step", e["step"]): e["loss"] for e in events if e["event"] == "step"}
    out.update({("eval", e["step"]): e["val_loss"] for e in events if e["event"] == "eval"})
    return out


def test_an_event_model_trains_on_two_ranks_as_in_one_process(
    tmp_path, chorale_folder, capsys
) -> None:
    two, one = tmp_path / "two", tmp_path / "one"
    done = torchrun(str(chorale_folder), "--out", str(two), *SETTINGS)
    assert done.returncode == 0, done.stderr[-3000:]
    assert main(["train", str(chorale_folder), "--out", str(one), *SETTINGS]) == 0

    ckpt = load_checkpoint(two / "best.pt")
    assert ckpt.tokenizer.unit == "event"
    assert not any(k.startswith("module.") for k in ckpt.state_dict)
    assert list((two / "samples").glob("*.events.txt"))
    end = read_metrics(two / "metrics.jsonl")[-1]
    assert end["event"] == "end"
    assert rank_one_end(done.stderr) == ("epochs", end["step"], approx(end["best_val_loss"]))

    steps_two, steps_one = losses(two), losses(one)
    assert steps_two.keys() == steps_one.keys() and len(steps_two) > 10
    for key, loss in steps_two.items():
        assert loss == pytest.approx(steps_one[key], abs=1e-4), key

    capsys.readouterr()
    assert main(["evaluate", str(two / "best.pt"), str(chorale_folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["loss_nats_per_char"] > 0
