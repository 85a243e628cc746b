"""The training child process, run history and session events (Qt-free, real processes)."""

from __future__ import annotations

import time

import pytest
from tiny import tiny_run_config

from models.checkpoint import load_checkpoint
from workbench.runs import list_runs, read_curves, read_run
from workbench.session import Session
from workbench.training_job import JobSpec, TrainingJob


def tiny_config(**train) -> dict:
    return tiny_run_config(**train).to_dict()


def collect(job: TrainingJob, until, timeout: float = 90.0) -> list[dict]:
    events: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events += job.poll()
        if until(events):
            return events
        time.sleep(0.05)
    raise AssertionError(f"timed out; got {[e['event'] for e in events][-20:]}")


def kinds(events: list[dict]) -> list[str]:
    return [e["event"] for e in events]


@pytest.mark.slow
def test_child_trains_pauses_saves_and_stops(tmp_path):
    run = tmp_path / "run"
    job = TrainingJob(JobSpec(data=["corpus:miscFolk"], run_dir=str(run), config=tiny_config()))
    job.start()
    events = collect(job, lambda ev: kinds(ev).count("step") >= 5)
    assert kinds(events)[:2] == ["loaded", "start"]
    assert events[0]["tunes"] == 185

    job.pause()
    events += collect(job, lambda ev: "paused" in kinds(ev))
    job.save_now()  # asked while paused: saved where the trainer stopped
    job.resume()
    events += collect(job, lambda ev: "checkpoint" in kinds(ev) and "resumed" in kinds(ev))
    # Nothing trained while paused: no step between "paused" and "resumed" (one producer, in
    # order), and the checkpoint holds the last step before the pause.
    order = kinds(events)
    paused, resumed = order.index("paused"), order.index("resumed")
    assert "step" not in order[paused:resumed]
    last_step = [e["step"] for e in events[:paused] if e["event"] == "step"][-1]
    # The save asked while paused (a slow machine may pass a scheduled save before the pause).
    # It holds the step the trainer stopped at, or the next one when the pause came at an
    # evaluation's step (the evaluation runs first; the request is served after one more step).
    checkpoint = next(e for e in events[paused:] if e["event"] == "checkpoint")
    assert checkpoint["step"] in (last_step, last_step + 1)

    job.stop()
    events += collect(job, lambda ev: "end" in kinds(ev))
    job.wait()
    assert events[-1]["reason"] == "stopped"
    assert not job.running and job.error is None
    last = load_checkpoint(run / "last.pt")
    assert last.step == max(e["step"] for e in events if e["event"] == "step")

    info = read_run(run)
    assert info is not None and info.status == "stopped" and info.steps == last.step
    curves = read_curves(run)
    assert len(curves.loss) == last.step and len(curves.val_loss) >= 1
    assert [r.path for r in list_runs(tmp_path)] == [run]


def test_child_reports_bad_data_as_an_error(tmp_path):
    missing = tmp_path / "nope.abc"
    job = TrainingJob(
        JobSpec(data=[str(missing)], run_dir=str(tmp_path / "r"), config=tiny_config())
    )
    job.start()
    events = collect(job, lambda ev: "error" in kinds(ev))
    job.wait()
    assert str(missing) in events[-1]["message"]
    assert events[-1]["traceback"] is None
    assert job.error and not job.running


def test_a_killed_child_becomes_an_error(tmp_path):
    job = TrainingJob(
        JobSpec(data=["corpus:miscFolk"], run_dir=str(tmp_path / "r"), config=tiny_config())
    )
    job.start()
    collect(job, lambda ev: "step" in kinds(ev))
    job.kill()
    events = collect(job, lambda ev: "error" in kinds(ev), timeout=10)
    assert "died" in events[-1]["message"]


def test_session_emits_changes():
    session = Session()
    seen = []
    session.prompt_changed.connect(seen.append)
    session.split_changed.connect(lambda f, s: seen.append((f, s)))
    session.prompt = "X:1\nK:G\n"
    session.prompt = "X:1\nK:G\n"  # unchanged: no event
    session.set_split(0.2, 7)
    assert seen == ["X:1\nK:G\n", (0.2, 7)]
    with pytest.raises(ValueError):
        session.set_split(1.5, 7)


def test_list_runs_skips_folders_that_are_not_runs(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    assert list_runs(tmp_path) == []
    assert list_runs(tmp_path / "missing") == []


_ORPHAN_PARENT = r"""
import sys, time
from workbench.training_job import JobSpec, TrainingJob
spec = JobSpec(data=["corpus:miscFolk"], run_dir=sys.argv[1], config=eval(sys.argv[2]))
job = TrainingJob(spec)
job.start()
while not any(e["event"] == "step" for e in job.poll()):
    time.sleep(0.05)
print(job._process.pid, flush=True)
import os
os._exit(0)  # die without cleaning up, as a crashed GUI would
"""


@pytest.mark.slow
def test_trainer_stops_when_the_gui_dies(tmp_path):
    import os
    import subprocess
    import sys

    run = tmp_path / "run"
    out = subprocess.run(
        [sys.executable, "-c", _ORPHAN_PARENT, str(run), repr(tiny_config(epochs=10_000))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    child = int(out.stdout.split()[0])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, 9)
        raise AssertionError("the orphaned trainer kept running")
    # It stopped cleanly: an end event and a loadable last.pt.
    assert load_checkpoint(run / "last.pt").step >= 1
    assert '"reason": "stopped"' in (run / "metrics.jsonl").read_text()


@pytest.mark.slow
def test_child_fine_tunes_keeping_the_initial_architecture(tmp_path):
    """A fine-tune job starts from the checkpoint's weights and shape, whatever the form says."""
    first = tmp_path / "first"
    job = TrainingJob(
        JobSpec(data=["corpus:miscFolk"], run_dir=str(first), config=tiny_config(epochs=1))
    )
    job.start()
    # Generous limits: two training processes on a loaded 2-core machine (the limits only
    # end a hung test; the assertions are below).
    collect(job, lambda ev: "end" in kinds(ev), timeout=240)
    job.wait()
    base = load_checkpoint(first / "best.pt")

    # The form asks for a different network; the job must keep the initial one's 32 units.
    other = tiny_run_config(epochs=1, time_budget=8)
    other.model.hidden = 64
    tuned = tmp_path / "tuned"
    job = TrainingJob(
        JobSpec(
            data=["corpus:ryansMammoth"],
            run_dir=str(tuned),
            config=other.to_dict(),
            init=str(first / "best.pt"),
        )
    )
    job.start()
    events = collect(job, lambda ev: "end" in kinds(ev), timeout=240)
    job.wait()
    assert job.error is None, job.error
    start = next(e for e in events if e["event"] == "start")
    first_eval = next(e for e in events if e["event"] == "eval")
    result = load_checkpoint(tuned / "best.pt")
    assert result.config.model.hidden == 32
    # ryansMammoth has characters miscFolk lacks: the vocabulary grew, keeping the old ids.
    assert len(result.tokenizer) > len(base.tokenizer)
    assert result.tokenizer.vocab[: len(base.tokenizer)] == base.tokenizer.vocab
    assert start["step"] == 0 and first_eval["val_loss"] < 4.0
