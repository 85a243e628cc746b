"""Watching a run another process writes: Run history shows it running, the Training pane
follows it (pytest-qt, offscreen).

One test drives a writer process in lock step (tests/run_writer.py) so each appended line, torn
line and garbage line is checked as it lands; a slow one follows a real `workbench train` run
started as a separate process, as a user would from a terminal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from run_writer import REPO, Writer, step
from tiny import TINY_CLI_ARGS, tiny_run_config

import workbench.ui.widgets.run_history as run_history
from workbench.session import Session
from workbench.ui.panes.training_pane import TrainingPane
from workbench.ui.widgets.run_history import COL_RUN, COLUMNS, RunHistoryWidget

COL_STATUS = COLUMNS.index("Status")


def curve_x(curve) -> list[float]:
    x = curve.getOriginalDataset()[0]
    return [] if x is None else list(np.asarray(x))


def status_of(history: RunHistoryWidget, name: str) -> str | None:
    for row in range(history.table.rowCount()):
        if history.table.item(row, COL_RUN).text() == name:
            return history.table.item(row, COL_STATUS).text()
    return None


def finished_run(root: Path) -> Path:
    run = root / "old"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(tiny_run_config().to_dict()), encoding="utf-8")
    lines = [step(1), {"event": "end", "reason": "epochs", "step": 1}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines), "utf-8")
    return run


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def history(qtbot, root, monkeypatch):
    monkeypatch.setattr(run_history, "POLL_MS", 200)  # rescans while visible, faster here
    root.mkdir(parents=True, exist_ok=True)
    widget = RunHistoryWidget(root)
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.fixture
def pane(qtbot, root):
    widget = TrainingPane(Session(), runs_root=root)
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.fixture
def live_run(root: Path):
    run = root / "live"
    run.mkdir(parents=True)
    config = tiny_run_config(time_budget=0.0).to_dict()
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    writer = Writer(run)
    yield run, writer
    writer.finish()


def test_a_run_written_by_another_process_is_shown_running_and_followed(
    qtbot, history, pane, live_run, root
):
    run, writer = live_run
    finished_run(root)
    writer.event({"event": "start", "step": 0, "total_steps": 100, "steps_per_epoch": 10})
    for n in (1, 2, 3):
        writer.event(step(n))
    qtbot.waitUntil(lambda: status_of(history, "live") == "running", timeout=2000)
    assert status_of(history, "old") == "finished"

    # "Follow" on the selected row asks the training pane to follow it.
    names = [history.table.item(r, COL_RUN).text() for r in range(history.table.rowCount())]
    row = names.index("live")
    history.table.selectRow(row)
    with qtbot.waitSignal(history.follow_requested) as request:
        qtbot.mouseClick(history.follow_button, Qt.MouseButton.LeftButton)
    assert request.args == [run]
    assert pane.follow_run(request.args[0])
    assert pane.is_following() and pane.follow_button.text() == "Stop following"
    loss = pane.plots.loss_curve
    qtbot.waitUntil(lambda: curve_x(loss) == [1, 2, 3], timeout=2000)

    # A line appended now shows in the plot, the progress bar and the status line.
    writer.event(step(4))
    qtbot.waitUntil(lambda: curve_x(loss) == [1, 2, 3, 4], timeout=2000)
    assert list(loss.getOriginalDataset()[1]) == [step(n)["loss"] for n in (1, 2, 3, 4)]
    assert pane.progress_bar.value() == 40  # step 4 of 100, in thousandths
    qtbot.waitUntil(lambda: "(running)" in pane.status_label.text(), timeout=3000)
    assert "Step 4" in pane.status_label.text()

    # Half a line, then garbage, then the rest of the first: only whole valid lines show.
    line = json.dumps(step(5)) + "\n"
    writer.raw(line[:25])
    writer.raw(line[25:])
    writer.raw("#garbage from a broken sync\n")
    writer.event(
        {
            "event": "eval",
            "step": 5,
            "epoch": 0.5,
            "val_loss": 2.5,
            "best_val_loss": 2.5,
            "val_accuracy": 0.3,
            "sample": "X:1\nK:G\nGABc|",
        }
    )
    qtbot.waitUntil(lambda: curve_x(pane.plots.val_loss_curve) == [5], timeout=2000)
    assert curve_x(loss) == [1, 2, 3, 4, 5]
    assert pane.sample_view.toPlainText() == "X:1\nK:G\nGABc|"
    assert pane.follow_driver.follower.skipped == 1

    # The run ends: the pane says how, Run history stops calling it running.
    writer.event({"event": "end", "reason": "time", "step": 5, "elapsed": 5.0})
    writer.do("close")
    qtbot.waitUntil(lambda: "Done: 5 steps" in pane.progress_bar.format(), timeout=2000)
    qtbot.waitUntil(lambda: status_of(history, "live") == "time budget", timeout=3000)

    # Stopping following leaves the curves.
    qtbot.mouseClick(pane.follow_button, Qt.MouseButton.LeftButton)
    assert not pane.is_following() and pane.follow_button.text() == "Follow run directory…"
    assert curve_x(loss) == [1, 2, 3, 4, 5]


def test_a_replaced_metrics_file_starts_the_curves_over(qtbot, pane, live_run):
    run, writer = live_run
    for n in (1, 2, 3):
        writer.event(step(n))
    assert pane.follow_run(run)
    loss = pane.plots.loss_curve
    qtbot.waitUntil(lambda: curve_x(loss) == [1, 2, 3], timeout=2000)
    writer.do("replace " + json.dumps(step(1)))  # `train --force`, or a sync tool's rename
    qtbot.waitUntil(lambda: curve_x(loss) == [1], timeout=2000)


def test_a_killed_writer_is_not_running(qtbot, history, live_run):
    run, writer = live_run
    writer.event(step(1))
    qtbot.waitUntil(lambda: status_of(history, "live") == "running", timeout=2000)
    writer.proc.send_signal(signal.SIGKILL)
    writer.proc.wait()
    # Its running.json stays behind, but nothing writes the run: "incomplete" at the rescan.
    assert (run / "running.json").exists()
    qtbot.waitUntil(lambda: status_of(history, "live") == "incomplete", timeout=3000)


def test_open_run_directory_buttons_follow_the_chosen_folder(
    qtbot, history, pane, root, monkeypatch
):
    run = finished_run(root)  # any run directory: outside the runs folder works the same
    monkeypatch.setattr(run_history.QFileDialog, "getExistingDirectory", lambda *a, **k: str(run))
    with qtbot.waitSignal(history.follow_requested) as request:
        qtbot.mouseClick(history.open_dir_button, Qt.MouseButton.LeftButton)
    assert request.args == [run]
    # The pane's own button (the same dialog class, patched above).
    qtbot.mouseClick(pane.follow_button, Qt.MouseButton.LeftButton)
    assert pane.is_following() and pane.follow_driver.run_dir == run
    qtbot.waitUntil(lambda: curve_x(pane.plots.loss_curve) == [1], timeout=2000)
    assert "Done: 1 steps" in pane.progress_bar.format()


def test_a_followed_runs_end_stays_on_the_bar_when_its_writer_goes(qtbot, root, monkeypatch):
    # The order a CLI run's Ctrl-C gives: the "end" line lands while the trainer still holds
    # its marker, and the marker goes a moment later. The bar must keep saying how the run
    # ended, not fall back to a percentage and an ETA (it once did: under load the suite's
    # live-follow test then never saw "Stopped after").
    from models.run_marker import RunMarker
    from workbench.ui.workers import follow_driver

    monkeypatch.setattr(follow_driver, "LIVENESS_MS", 50)
    pane = TrainingPane(Session(), runs_root=root)
    qtbot.addWidget(pane)
    run = root / "stopped"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(tiny_run_config().to_dict()), encoding="utf-8")
    marker = RunMarker(run)
    try:
        lines = [
            {"event": "start", "total_steps": 100},
            *(step(n) for n in (1, 2, 3)),
            {"event": "end", "reason": "stopped", "step": 3},
        ]
        (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines), "utf-8")
        assert pane.follow_run(run)
        qtbot.waitUntil(lambda: pane.follow_driver.liveness is not None, timeout=2000)
        assert pane.follow_driver.liveness.running
        qtbot.waitUntil(lambda: "Stopped after 3 of 100 steps" in pane.progress_bar.format())
    finally:
        marker.close()
    qtbot.waitUntil(lambda: not pane.follow_driver.liveness.running, timeout=2000)
    assert pane.progress_bar.format().startswith("Stopped after 3 of 100 steps")
    assert "(ended)" in pane.status_label.text()


def test_main_window_follows_a_run_from_run_history(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from workbench.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Session(), settings=settings, runs_root=tmp_path / "runs")
    qtbot.addWidget(window)
    run = finished_run(tmp_path / "runs")
    window.run_history.refresh()
    window.run_history.table.selectRow(0)
    qtbot.mouseClick(window.run_history.follow_button, Qt.MouseButton.LeftButton)
    assert window.training_pane.is_following()
    assert window.training_pane.follow_driver.run_dir == run
    assert window.session.run is None  # following selects nothing: no resume of another's run


def test_following_a_folder_that_is_not_a_run_says_so(pane, tmp_path):
    assert not pane.follow_run(tmp_path)
    assert not pane.is_following()
    assert not pane.error_label.isHidden()
    assert str(tmp_path) in pane.error_label.text()


@pytest.mark.slow
def test_a_cli_training_run_is_followed_live(qtbot, history, pane, root, tmp_path):
    from workbench.corpus import load

    data = tmp_path / "tunes.abc"
    tunes = [t.text for t in load(["corpus:miscFolk"]).tunes][:40]
    data.write_text("\n\n".join(tunes) + "\n", encoding="utf-8")
    run = root / "cli-run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    args = ["train", str(data), "--out", str(run), *TINY_CLI_ARGS, "--threads", "1",
            "--time-budget", "300", "--eval-every", "20", "--quiet"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "workbench", *args], env=env)
    try:
        qtbot.waitUntil(lambda: status_of(history, "cli-run") == "running", timeout=60_000)
        assert pane.follow_run(run)
        loss = pane.plots.loss_curve
        qtbot.waitUntil(lambda: len(curve_x(loss)) > 0, timeout=10_000)
        shown = len(curve_x(loss))
        # The trainer goes on writing; its new steps reach the plot within the timeout.
        qtbot.waitUntil(lambda: len(curve_x(loss)) > shown, timeout=2000)
        assert curve_x(loss) == list(range(1, len(curve_x(loss)) + 1))
        proc.send_signal(signal.SIGINT)  # Ctrl-C: evaluate, save, log the end
        qtbot.waitUntil(lambda: "Stopped after" in pane.progress_bar.format(), timeout=60_000)
        assert proc.wait(timeout=60) == 0
        qtbot.waitUntil(lambda: status_of(history, "cli-run") == "stopped", timeout=3000)
        assert not (run / "running.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
