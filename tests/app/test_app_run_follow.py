"""Following a run directory another process writes (Qt-free): the follower and running.json.

The writer is a real second Python process driven in lock step (tests/run_writer.py): it does
one thing (append a line, half a line, garbage, truncate, replace the file) and answers, and only
then does the test poll. So every assertion is about what the follower read from a file another
process wrote, with no sleeps and no timing. The writer appends through the trainer's own
`MetricsLog`, so it also holds running.json exactly as a training run does.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from run_writer import Writer, step
from tiny import tiny_run_config

from models.metrics_log import MetricsLog, read_metrics
from models.run_marker import MARKER_NAME, STALE_S, RunMarker, run_liveness
from models.train import Trainer, split_texts
from workbench.corpus import load
from workbench.run_follow import RunFollower
from workbench.runs import read_run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    config = tiny_run_config().to_dict()
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return run


@pytest.fixture
def writer(run_dir: Path):
    w = Writer(run_dir)
    yield w
    w.finish()


def steps_of(events: list[dict]) -> list[int]:
    return [e["step"] for e in events if e.get("event") == "step"]


def test_follower_reads_lines_another_process_appends(run_dir, writer):
    follower = RunFollower(run_dir)
    first = follower.poll()
    assert first.config == json.loads((run_dir / "config.json").read_text())
    assert first.events == []
    writer.event({"event": "start", "step": 0, "total_steps": 100})
    writer.event(step(1))
    update = follower.poll()
    assert [e["event"] for e in update.events] == ["start", "step"]
    assert update.config is None  # unchanged: not sent again
    assert follower.poll().events == []  # nothing new: nothing returned twice
    for n in (2, 3, 4):
        writer.event(step(n))
    assert steps_of(follower.poll().events) == [2, 3, 4]
    # What the follower built incrementally is what a full read of the file gives.
    assert follower.offset == (run_dir / "metrics.jsonl").stat().st_size


def test_partial_last_line_is_held_until_completed(run_dir, writer):
    follower = RunFollower(run_dir)
    writer.event(step(1))
    line = json.dumps(step(2)) + "\n"
    writer.raw(line[:17])  # the writer is mid-line
    assert steps_of(follower.poll().events) == [1]
    writer.raw(line[17:-1])  # all but the newline
    assert follower.poll().events == []
    writer.raw("\n")
    assert steps_of(follower.poll().events) == [2]
    assert follower.skipped == 0


def test_garbage_lines_are_skipped_and_counted(run_dir, writer, caplog):
    follower = RunFollower(run_dir)
    writer.event(step(1))
    writer.raw("this is not json\n")
    writer.raw('[1, 2, 3]\n{"no_event_key": 1}\n{"event": "step", "step": "x"}\n')
    writer.raw('{"event": "step", "step": 9, "epoch": 0.9}\n')  # no loss: nothing to plot
    writer.raw(json.dumps(step(2))[:20])  # torn by a crash...
    writer.event(step(3))  # ...and the resumed writer appends to the same line
    writer.event(step(4))
    update = follower.poll()
    assert steps_of(update.events) == [1, 4]
    assert update.skipped == follower.skipped == 6
    assert "line 2: not a metrics event" in caplog.text
    # The trainer's own reader (a whole-file read) agrees on which lines are JSON; of those,
    # the steps with a number and a loss are the ones kept.
    oracle = read_metrics(run_dir / "metrics.jsonl")
    kept = [e for e in oracle if isinstance(e, dict) and isinstance(e.get("step"), int)]
    assert steps_of(update.events) == [e["step"] for e in kept if "loss" in e]


def test_truncated_or_replaced_file_restarts_cleanly(run_dir, writer):
    follower = RunFollower(run_dir)
    for n in (1, 2, 3):
        writer.event(step(n))
    assert steps_of(follower.poll().events) == [1, 2, 3]
    writer.do("truncate")
    writer.event(step(1))
    update = follower.poll()
    assert update.restarted
    assert steps_of(update.events) == [1]
    # Replaced by a longer file at once (a sync tool renames a fresh copy over it).
    writer.do("replace " + json.dumps(step(7)))
    update = follower.poll()
    assert update.restarted and steps_of(update.events) == [7]
    assert not follower.poll().restarted


def test_rewrite_in_place_longer_than_before_is_noticed(run_dir):
    """The same inode rewritten with other content that is already longer than what was
    read: neither the size nor the inode tells; the file's first bytes do."""
    path = run_dir / "metrics.jsonl"
    path.write_text(json.dumps(step(1)) + "\n", encoding="utf-8")
    follower = RunFollower(run_dir)
    assert steps_of(follower.poll().events) == [1]
    with open(path, "r+", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(step(n)) + "\n" for n in (5, 6, 7)))
    update = follower.poll()
    assert update.restarted and steps_of(update.events) == [5, 6, 7]


def test_long_file_is_read_in_bounded_chunks(run_dir):
    events = [step(n) for n in range(1, 2001)]
    events.insert(
        1000,
        {
            "event": "eval",
            "step": 1000,
            "val_loss": 2.0,
            "best_val_loss": 2.0,
            "sample": "X" * 5000,
        },
    )  # a long line
    text = "".join(json.dumps(e) + "\n" for e in events)
    (run_dir / "metrics.jsonl").write_text(text, encoding="utf-8")
    follower = RunFollower(run_dir, max_bytes=4096)
    got, polls = [], 0
    while True:
        update = follower.poll()
        polls += 1
        got.extend(update.events)
        if not update.more:
            break
    assert got == events
    assert polls > len(text) // 4096 // 2  # really chunked, not one read


def test_latest_sample_is_read_from_samples(run_dir):
    follower = RunFollower(run_dir)
    assert follower.poll().sample is None
    samples = run_dir / "samples"
    samples.mkdir()
    (samples / "step0000010.abc").write_text("X:1\nK:G\nGABc|", encoding="utf-8")
    (samples / "step0000100.abc").write_text("X:1\nK:D\ndefg|", encoding="utf-8")
    (samples / "step0000020.abc").write_text("X:1\nK:A\nABcd|", encoding="utf-8")
    assert follower.poll().sample == ("step0000100.abc", "X:1\nK:D\ndefg|")
    assert follower.poll().sample is None


def test_marker_says_who_writes_and_goes_at_close(run_dir, writer):
    writer.event(step(1))  # the log is open in the writer process
    marker = json.loads((run_dir / MARKER_NAME).read_text())
    assert marker["pid"] == writer.proc.pid
    assert marker["host"] == socket.gethostname()
    live = run_liveness(run_dir)
    assert live.running and live.pid == writer.proc.pid
    info = read_run(run_dir)
    assert info is not None and info.status == "incomplete" and info.running
    writer.do("close")
    assert not (run_dir / MARKER_NAME).exists()
    assert not run_liveness(run_dir).running


def test_a_crashed_writer_is_not_running(run_dir, writer):
    writer.event(step(1))
    writer.proc.send_signal(signal.SIGKILL)
    writer.proc.wait()
    assert (run_dir / MARKER_NAME).exists()  # left behind by the crash...
    live = run_liveness(run_dir)
    assert not live.running and "has ended" in live.why  # ...but its process is gone
    info = read_run(run_dir)
    assert info is not None and info.status == "incomplete" and not info.running


def _write_marker(run_dir: Path, **fields) -> None:
    info = {"pid": 1, "host": "cluster-node-17", "heartbeat": time.time(), "heartbeat_s": 10.0}
    info.update(fields)
    (run_dir / MARKER_NAME).write_text(json.dumps(info), encoding="utf-8")


def test_a_synced_run_is_running_while_its_heartbeat_is_fresh(run_dir):
    _write_marker(run_dir)
    assert run_liveness(run_dir).running
    old = time.time() - STALE_S - 60
    _write_marker(run_dir, heartbeat=old)
    os.utime(run_dir / MARKER_NAME, (old, old))
    live = run_liveness(run_dir)
    assert not live.running and "stale" in live.why
    # A copy that stamps the time of copying counts as a beat even if the clock in the file
    # is behind (a cluster clock a little slow).
    _write_marker(run_dir, heartbeat=old)
    assert run_liveness(run_dir).running


def test_a_recycled_pid_is_not_taken_for_the_writer(run_dir):
    marker = RunMarker(run_dir)
    try:
        assert run_liveness(run_dir).running
        if marker._info["proc_start"] is None:
            pytest.skip("no /proc: the start-time check does not apply")
        # This process's pid, but a different process start time: a later process got the pid.
        info = json.loads((run_dir / MARKER_NAME).read_text())
        info["proc_start"] += 1
        (run_dir / MARKER_NAME).write_text(json.dumps(info), encoding="utf-8")
        assert not run_liveness(run_dir).running
    finally:
        marker.close()
    assert not (run_dir / MARKER_NAME).exists()
    assert not list(run_dir.glob("*.tmp")) and not list(run_dir.glob(".*.tmp"))


def test_a_training_run_marks_itself_running_until_it_ends(tmp_path):
    """The real trainer: running.json appears with the run and goes when it ends."""
    texts = [t.text for t in load(["corpus:miscFolk"]).tunes][:30]
    train_texts, val_texts = split_texts(texts, 0.2, 0)
    run = tmp_path / "trained"
    cfg = tiny_run_config(epochs=1, eval_every=0, sample_chars=0)
    seen = []
    for event in Trainer(cfg, train_texts, val_texts, run).run():
        if event["event"] in ("start", "end"):
            live = run_liveness(run)
            seen.append((event["event"], live.running, live.pid))
    assert seen == [("start", True, os.getpid()), ("end", True, os.getpid())]
    assert not (run / MARKER_NAME).exists()
    info = read_run(run)
    assert info is not None and info.status == "epochs" and not info.running


def test_metrics_log_without_a_run_dir_writes_no_marker(tmp_path):
    log = MetricsLog(None)
    log.write(step(1))
    log.close()
    assert list(tmp_path.iterdir()) == []
