"""SIGKILL of `workbench train`: the run resumes where its last checkpoint left it and draws the
curve an uninterrupted run draws; a short chain of kills through benchmarks/kill_resume.py (the
100-kill benchmark's own loop) leaves every checkpoint loadable and no temp file behind.

The trainer is a real child process killed with SIGKILL (no handler, no cleanup): what it
leaves on disk is what a crash or the kernel's OOM killer leaves. (A power cut, which can also
lose writes still in the page cache, is not tried here.)
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tiny import tiny_run_config

from models.checkpoint import load_checkpoint
from models.metrics_log import read_metrics
from models.train import Trainer
from workbench.cli import main

ROOT = Path(__file__).resolve().parents[2]
# An LSTM with dropout (the torch RNG) whose state runs on between steps: all of it must be
# restored for the resumed losses to be the same numbers.
ARGS = [
    "--arch", "lstm", "--hidden", "32", "--embedding", "16", "--dropout", "0.2",
    "--batch-size", "4", "--seq-len", "32", "--eval-every", "5", "--epochs", "1",
    "--patience", "0", "--val-fraction", "0.1", "--seed", "3", "--device", "cpu",
    "--threads", "1",
]  # fmt: skip


@pytest.fixture(scope="module")
def tunes_file(tmp_path_factory, folk_tunes) -> Path:
    path = tmp_path_factory.mktemp("data") / "folk.abc"
    path.write_text("\n\n".join(folk_tunes[:30]) + "\n", encoding="utf-8")
    return path


def _by_step(events: list[dict], kind: str) -> dict[int, dict]:
    return {e["step"]: e for e in events if e.get("event") == kind}


def _without_clock(event: dict) -> dict:
    return {k: v for k, v in event.items() if k not in ("elapsed", "chars_per_sec")}


def test_a_run_killed_after_a_checkpoint_resumes_to_the_uninterrupted_runs_metrics(
    tmp_path: Path, tunes_file: Path
) -> None:
    reference_dir, run_dir = tmp_path / "uninterrupted", tmp_path / "killed"
    assert main(["train", str(tunes_file), "--out", str(reference_dir), *ARGS, "--quiet"]) == 0
    reference = read_metrics(reference_dir / "metrics.jsonl")
    total = max(_by_step(reference, "step"))

    # The same run in a child process, SIGKILLed two steps after its second last.pt.
    command = [sys.executable, "-m", "workbench", "train", str(tunes_file), "--out", str(run_dir)]
    proc = subprocess.Popen(
        [*command, *ARGS, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"},
    )
    assert proc.stdout is not None
    # A one-page pipe: the child blocks a dozen events ahead of what this test has read, so
    # on a loaded machine it cannot race to the end of the run before the kill lands.
    fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    saved = []
    try:
        for line in proc.stdout:
            event = json.loads(line)
            if event["event"] == "checkpoint" and event["path"].endswith("last.pt"):
                saved.append(event["step"])
            if len(saved) >= 2 and event["event"] == "step" and event["step"] >= saved[1] + 2:
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    killed_log = read_metrics(run_dir / "metrics.jsonl")
    lost = max(_by_step(killed_log, "step"))
    ckpt = load_checkpoint(run_dir / "last.pt")
    # Steps after the checkpoint were (almost always) trained and logged, then lost with the
    # process; the kill can land just after a checkpoint too.
    assert ckpt.step >= 10 and ckpt.step <= lost < total

    assert (
        main(["train", str(tunes_file), "--out", str(run_dir), *ARGS, "--resume", "--quiet"]) == 0
    )
    logged = read_metrics(run_dir / "metrics.jsonl")
    starts = [i for i, e in enumerate(logged) if e["event"] == "start"]
    assert (
        len(starts) == 2 and logged[starts[1]]["resumed"] and logged[starts[1]]["step"] == ckpt.step
    )
    resumed = logged[starts[1] :]
    resumed_steps = _by_step(resumed, "step")
    assert sorted(resumed_steps) == list(range(ckpt.step + 1, total + 1))
    # One thread on the CPU is deterministic: the same numbers, not merely close ones.
    ref_steps, ref_evals = _by_step(reference, "step"), _by_step(reference, "eval")
    for step, event in resumed_steps.items():
        assert _without_clock(event) == _without_clock(ref_steps[step]), step
    resumed_evals = _by_step(resumed, "eval")
    assert resumed_evals and set(resumed_evals) == {s for s in ref_evals if s > ckpt.step}
    for step, event in resumed_evals.items():
        assert _without_clock(event) == _without_clock(ref_evals[step]), step
    # The steps replayed after the kill are the ones the killed process had logged.
    before = _by_step(killed_log, "step")
    for step in range(ckpt.step + 1, lost + 1):
        assert before[step]["loss"] == resumed_steps[step]["loss"]
    # And the weights it ends with are the uninterrupted run's.
    a = load_checkpoint(reference_dir / "last.pt").state_dict
    b = load_checkpoint(run_dir / "last.pt").state_dict
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _benchmark():
    spec = importlib.util.spec_from_file_location(
        "kill_resume", ROOT / "benchmarks" / "kill_resume.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered first: its dataclasses look their module up while they are built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_kill_benchmarks_loop_on_three_kills(tmp_path: Path, tunes_file: Path) -> None:
    """benchmarks/kill_resume.py's own loop, short: 3 SIGKILLs (two watching for a checkpoint
    write, one at a random moment), each followed by the checks and a resume."""
    bench = _benchmark()
    report = bench.kill_resume_loop(
        tunes_file,
        tmp_path,
        kills=3,
        seed=2,
        modes={"write": 2, "random": 1},
        log=lambda *a, **k: None,
    )
    assert report.kills == 3, report.problems
    assert report.problems == []
    assert report.unloadable == 0 and report.failed_resumes == 0
    # No kill here lands before the start event: every resume launch is seen to resume.
    assert report.resume_launches >= 2 and report.resumes_verified == report.resume_launches
    assert report.torn_lines == 0 and report.metrics_reads >= 3
    assert report.replay_mismatches == 0
    assert report.temp_files_left == 0
    assert report.missed() == []


def test_a_starting_run_removes_the_temp_files_a_killed_writer_left(
    tmp_path: Path, folk_tunes: list[str]
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # What a SIGKILL inside save_checkpoint and inside the run marker's rewrite leaves...
    stale = [
        run_dir / ".last.pt.k1ll3d.tmp",
        run_dir / ".best.pt.x7f2q9.tmp",
        run_dir / ".running.json.4711.tmp",
    ]
    for path in stale:
        path.write_bytes(b"half a file")
    # ...and files that are not the trainer's, which only look similar.
    others = [run_dir / ".notes.txt.abc.tmp", run_dir / "last.pt.tmp.keep"]
    for path in others:
        path.write_bytes(b"someone else's")
    trainer = Trainer(tiny_run_config(), folk_tunes[:8], folk_tunes[8:10], run_dir)
    events = trainer.run()
    assert next(events)["event"] == "start"
    events.close()
    assert [p.name for p in stale if p.exists()] == []
    assert all(p.exists() for p in others)
