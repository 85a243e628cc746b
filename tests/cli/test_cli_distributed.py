"""`torchrun --nproc-per-node 2 -m workbench train` on real tunes: two CPU processes (gloo).

The oracle is the single process. With dropout off nothing random remains in training, and two
ranks that each train half of the global batch must take the very steps one process takes with
the whole batch: same losses step by step, same validation, same checkpoint. So a rank reading
the wrong lanes, a gradient not averaged or scaled as one batch's, a validation computed on one
rank's share, a state or RNG not carried across a resume all show as diverging losses.

Each torchrun start costs both processes a torch import on a 2-core machine (~10 s a run); the
first group of tests shares one run, the rest are marked slow.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from ddp_launch import rank_one_end, torchrun, torchrun_command, torchrun_env
from pytest import approx
from tiny import TINY_CLI_ARGS as TINY

from models.checkpoint import load_checkpoint
from models.evaluate import evaluate
from models.networks import build_network
from models.train import read_metrics, split_texts
from workbench.cli import main
from workbench.corpus import load

# No dropout and a constant rate after warm-up: a run's steps do not depend on the processes,
# nor on how many epochs it was planned for (so a resumed run can go on to a second epoch).
SETTINGS = [*TINY, "--dropout", "0", "--schedule", "constant", "--eval-every", "20"]
SETTINGS += ["--device", "cpu", "--print-every", "0"]


def steps(run: Path) -> dict[int, float]:
    events = read_metrics(run / "metrics.jsonl")
    return {e["step"]: e["loss"] for e in events if e["event"] == "step"}


def evals(run: Path) -> dict[int, float]:
    events = read_metrics(run / "metrics.jsonl")
    return {e["step"]: e["val_loss"] for e in events if e["event"] == "eval"}


def end_event(run: Path) -> dict:
    events = read_metrics(run / "metrics.jsonl")
    assert events[-1]["event"] == "end"
    return events[-1]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory, start_end_file) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("ddp") / "run"
    done = torchrun(str(start_end_file), "--out", str(out), *SETTINGS, "--epochs", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


@pytest.fixture(scope="module")
def single_run(tmp_path_factory, start_end_file) -> Path:
    """The same training in one process, for two epochs."""
    out = tmp_path_factory.mktemp("single") / "run"
    assert main(["train", str(start_end_file), "--out", str(out), *SETTINGS, "--epochs", "2"]) == 0
    return out


def test_two_ranks_write_one_normal_run_directory(ddp_run, single_run) -> None:
    run, done = ddp_run
    names = {p.name for p in run.iterdir()}
    assert {"config.json", "metrics.jsonl", "best.pt", "last.pt", "samples"} <= names
    assert list((run / "samples").glob("step*.abc"))
    # Rank 0 alone writes: one start and one end, each step once.
    events = read_metrics(run / "metrics.jsonl")
    kinds = [e["event"] for e in events]
    assert kinds.count("start") == 1 and kinds.count("end") == 1
    step_numbers = [e["step"] for e in events if e["event"] == "step"]
    assert step_numbers == list(range(1, len(step_numbers) + 1))
    start = events[0]
    assert start["world_size"] == 2
    single_start = read_metrics(single_run / "metrics.jsonl")[0]
    # The global batch is --batch-size, as in one process: the same steps per epoch.
    for key in ("steps_per_epoch", "chars_per_step", "train_tunes", "val_tunes", "vocab_size"):
        assert start[key] == single_start[key], key
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    single_config = json.loads((single_run / "config.json").read_text(encoding="utf-8"))
    assert set(config) == set(single_config) and config["data"] == single_config["data"]
    # Both ranks ended at the epoch limit at the same step, holding the same validation.
    end = end_event(run)
    assert end["reason"] == "epochs" and end["step"] == start["steps_per_epoch"]
    assert rank_one_end(done.stderr) == ("epochs", end["step"], approx(end["best_val_loss"]))


def test_the_checkpoint_loads_and_evaluates_like_any_other(ddp_run, start_end_file, capsys) -> None:
    run, _ = ddp_run
    ckpt = load_checkpoint(run / "last.pt")
    fresh = build_network(ckpt.config.model, len(ckpt.tokenizer)).state_dict()
    assert list(ckpt.state_dict) == list(fresh)  # no DDP "module." prefix
    assert not any(k.startswith("module.") for k in load_checkpoint(run / "best.pt").state_dict)
    assert main(["evaluate", str(run / "best.pt"), str(start_end_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0.5 < result["loss_nats_per_char"] < 4.0

    # The validation the ranks agreed on is that of all the held-out tunes: one process
    # evaluating the saved weights on the whole validation split finds the same number.
    texts = [t.text for t in load([str(start_end_file)]).tunes]
    _, val_texts = split_texts(texts, ckpt.config.train.val_fraction, ckpt.config.train.seed)
    alone = evaluate(ckpt.build_model(), [ckpt.tokenizer.encode_tune(t) for t in val_texts])
    assert evals(run)[ckpt.step] == pytest.approx(alone.loss_nats_per_char, abs=1e-6)


def test_two_ranks_train_as_one_process_with_the_same_global_batch(ddp_run, single_run) -> None:
    run, _ = ddp_run
    two, one = steps(run), steps(single_run)
    assert len(two) > 30
    for step, loss in two.items():
        assert loss == pytest.approx(one[step], abs=1e-4), step
    # The evaluations both made (the epoch limit adds one at its end).
    common = evals(run).keys() & evals(single_run).keys()
    assert len(common) >= 2
    for step in common:
        assert evals(run)[step] == pytest.approx(evals(single_run)[step], abs=1e-4), step


@pytest.mark.slow
def test_a_single_process_run_resumes_on_two_ranks(tmp_path, start_end_file, single_run) -> None:
    """One epoch in one process, the second on two ranks: the second epoch's losses are the
    uninterrupted single run's (the lanes' state and data position carried across)."""
    run = tmp_path / "run"
    data = str(start_end_file)
    assert main(["train", data, "--out", str(run), *SETTINGS, "--epochs", "1", "--quiet"]) == 0
    first = load_checkpoint(run / "last.pt").step
    done = torchrun(data, "--out", str(run), "--resume", "--epochs", "2", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    printed = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    assert printed[0]["event"] == "start" and printed[0]["resumed"] and printed[0]["step"] == first
    assert printed[0]["world_size"] == 2
    resumed, reference = steps(run), steps(single_run)
    assert max(resumed) == max(reference) > first
    for step in range(first + 1, max(reference) + 1):
        assert resumed[step] == pytest.approx(reference[step], abs=1e-4), step


@pytest.mark.slow
def test_a_two_rank_run_resumes_in_one_process(tmp_path, ddp_run, start_end_file, single_run):
    run = tmp_path / "run"
    shutil.copytree(ddp_run[0], run)
    first = load_checkpoint(run / "last.pt").step
    args = ["train", str(start_end_file), "--out", str(run), "--resume", "--epochs", "2"]
    assert main([*args, "--quiet"]) == 0
    resumed, reference = steps(run), steps(single_run)
    for step in range(first + 1, max(reference) + 1):
        assert resumed[step] == pytest.approx(reference[step], abs=1e-4), step


@pytest.mark.slow
def test_a_time_budget_ends_both_ranks_at_the_same_step(tmp_path, start_end_file) -> None:
    run = tmp_path / "run"
    done = torchrun(str(start_end_file), "--out", str(run), *SETTINGS, "--time-budget", "4")
    assert done.returncode == 0, done.stderr[-3000:]
    end = end_event(run)
    assert end["reason"] == "time" and end["elapsed"] >= 4
    assert rank_one_end(done.stderr) == ("time", end["step"], approx(end["best_val_loss"]))
    assert load_checkpoint(run / "last.pt").step == end["step"]


@pytest.mark.slow
def test_sigterm_to_torchrun_stops_both_ranks_at_the_same_step(tmp_path, start_end_file) -> None:
    """A cluster's scheduler (or `kill`) sends SIGTERM to torchrun, which passes it on: both
    ranks stop at one step, and rank 0 leaves a resumable checkpoint of that step."""
    run = tmp_path / "run"
    args = [str(start_end_file), "--out", str(run), *SETTINGS, "--epochs", "100", "--json"]
    proc = subprocess.Popen(
        torchrun_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=torchrun_env(),
    )
    try:
        # Rank 0 prints one JSON line per event: wait for the 30th step, then signal.
        for line in proc.stdout:
            event = json.loads(line) if line.startswith("{") else {}
            if event.get("event") == "step" and event["step"] >= 30:
                break
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    end = end_event(run)
    assert end["reason"] == "stopped" and end["step"] >= 30
    assert rank_one_end(err) == ("stopped", end["step"], approx(end["best_val_loss"]))
    last = load_checkpoint(run / "last.pt")
    assert last.step == end["step"] and last.trainer is not None
    assert len(last.trainer["ranks"]) == 2
