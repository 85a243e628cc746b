"""A FIFO under a run file's name never blocks the readers of run folders (Qt-free).

A plain `open()` of a FIFO blocks until another process opens it for writing: a FIFO named
`metrics.jsonl`, `config.json` or `running.json` in a run folder would freeze the GUI's run
list, the follower and the liveness check forever. Each reader must refuse it as an unreadable
file instead. A SIGALRM turns a blocked open into a failure of the test, not a hung suite.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from tiny import tiny_run_config

from models.metrics_log import read_metrics
from models.regular_files import open_regular, read_text_regular
from models.run_marker import MARKER_NAME, run_liveness
from workbench.run_follow import RunFollower
from workbench.runs import list_runs, read_curves, read_run

GOOD_LINE = json.dumps({"event": "step", "step": 1, "epoch": 0.1, "loss": 2.0}) + "\n"


class Blocked(Exception):
    pass


@pytest.fixture(autouse=True)
def no_blocking():
    """Fail, rather than hang, if any read blocks for 10 s (these are instant when right)."""

    def expire(signum, frame):
        raise Blocked("a read blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _run(tmp_path: Path, fifo: str) -> Path:
    """A good run folder, except that `fifo` is a FIFO nobody writes to."""
    run = tmp_path / f"run-{fifo}"
    run.mkdir()
    files = {"config.json": json.dumps(tiny_run_config().to_dict()), "metrics.jsonl": GOOD_LINE}
    for name, text in files.items():
        if name != fifo:
            (run / name).write_text(text, encoding="utf-8")
    os.mkfifo(run / fifo)
    return run


def test_open_regular_refuses_a_fifo_and_reads_a_file(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        open_regular(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        read_text_regular(fifo)
    with pytest.raises(IsADirectoryError):
        open_regular(tmp_path)  # a folder opens read-only on Linux: refused by its mode
    (tmp_path / "f.json").write_bytes('{"é": 1}'.encode())
    assert read_text_regular(tmp_path / "f.json") == '{"é": 1}'
    (tmp_path / "g").write_bytes(b"\xff\xfe")
    with pytest.raises(UnicodeDecodeError):
        read_text_regular(tmp_path / "g")
    # Nothing is left open by the refusals (no descriptor leak when a folder is rescanned often).
    # Counted by what each descriptor points at: the process's total also moves with other
    # threads (under a random test order, an earlier test's worker closed six during the loop).
    for _ in range(50):
        with pytest.raises(OSError):
            open_regular(fifo)
    assert _descriptors_on(fifo) == 0


def _descriptors_on(path: Path) -> int:
    """How many of this process's open file descriptors point at `path`."""
    found = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            found += os.readlink(f"/proc/self/fd/{fd}") == str(path)
        except OSError:  # closed since the listing (another thread)
            continue
    return found


def test_a_fifo_config_hides_the_run_but_not_the_others(tmp_path):
    _run(tmp_path, "config.json")
    good = tmp_path / "good"
    good.mkdir()
    (good / "config.json").write_text(json.dumps(tiny_run_config().to_dict()), encoding="utf-8")
    (good / "metrics.jsonl").write_text(GOOD_LINE, encoding="utf-8")
    assert [info.path.name for info in list_runs(tmp_path)] == ["good"]


def test_a_fifo_metrics_log_reads_as_no_metrics(tmp_path):
    run = _run(tmp_path, "metrics.jsonl")
    with pytest.raises(OSError, match="not a regular file"):
        read_metrics(run / "metrics.jsonl")
    info = read_run(run)
    assert info is not None and info.steps == 0
    with pytest.raises(OSError):
        read_curves(run)
    follower = RunFollower(run)
    update = follower.poll()
    assert update.events == [] and follower.offset == 0


def test_a_fifo_config_while_following_is_named(tmp_path):
    run = _run(tmp_path, "config.json")
    follower = RunFollower(run)
    update = follower.poll()
    assert [e["step"] for e in update.events] == [1]  # the metrics still come through
    assert follower.config_error is not None and "config.json" in follower.config_error


def test_a_fifo_running_marker_reads_as_unreadable(tmp_path):
    run = _run(tmp_path, MARKER_NAME)
    liveness = run_liveness(run)
    assert "unreadable" in liveness.why
