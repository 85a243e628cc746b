"""The run history table and curve overlay, and the sweep builder dialog (pytest-qt, offscreen).

Most runs are written by hand in the trainer's exact metrics.jsonl format (fast); one is a real
tiny training run, so the table is also checked against what `models.train` writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

import workbench.ui.widgets.run_history as run_history
from models.config import ModelConfig, RunConfig, TrainConfig
from workbench.runs import read_curves, read_run
from workbench.ui.widgets.run_history import COL_LOSS, COL_RUN, RunHistoryWidget
from workbench.ui.widgets.sweep_builder import SweepBuilderDialog


def tiny_config(hidden: int = 16, lr: float = 3e-3) -> RunConfig:
    model = ModelConfig(arch="lstm", hidden=hidden, embedding=8, dropout=0.0)
    train = TrainConfig(
        lr=lr, batch_size=4, seq_len=16, eval_every=5, sample_chars=0, device="cpu", threads=1
    )
    return RunConfig(model=model, train=train, recipe="test")


def write_run(root: Path, name: str, val_losses: list[float], hidden: int = 16) -> Path:
    """A finished run directory as the trainer writes it: steps, an eval every 5 steps, end."""
    run = root / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(tiny_config(hidden).to_dict()), encoding="utf-8")
    steps = 5 * len(val_losses)
    events: list[dict] = [{"event": "start", "step": 0, "resumed": False, "steps_per_epoch": 10}]
    for step in range(1, steps + 1):
        events.append(
            {
                "event": "step",
                "step": step,
                "epoch": step / 10,
                "loss": 3.0 - 0.01 * step + 0.001 * hidden,
                "accuracy": 0.1 + 0.005 * step,
                "lr": 3e-3,
                "chars_per_sec": 1000.0,
                "elapsed": 0.01 * step,
            }
        )
        if step % 5 == 0:
            loss = val_losses[step // 5 - 1]
            events.append(
                {
                    "event": "eval",
                    "step": step,
                    "epoch": step / 10,
                    "val_loss": loss,
                    "val_bits": loss / np.log(2),
                    "val_accuracy": 1.0 - loss / 4,
                    "val_chars": 500,
                    "best_val_loss": None,
                    "improved": True,
                    "elapsed": 0.01 * step,
                }
            )
    events.append({"event": "end", "reason": "epochs", "step": steps, "best_val_loss": None})
    lines = "".join(json.dumps(e) + "\n" for e in events)
    (run / "metrics.jsonl").write_text(lines, encoding="utf-8")
    return run


RUNS = {
    "run-a": ([2.5, 2.0, 2.2], 16),
    "run-b": ([2.4, 1.8, 1.9, 1.7], 32),
    "run-c": ([2.6, 2.3], 64),
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name, (losses, hidden) in RUNS.items():
        write_run(tmp_path, name, losses, hidden)
    return tmp_path


@pytest.fixture
def widget(qtbot, root: Path) -> RunHistoryWidget:
    w = RunHistoryWidget(root)
    qtbot.addWidget(w)
    return w


def row_of(w: RunHistoryWidget, name: str) -> int:
    names = [w.table.item(r, COL_RUN).text() for r in range(w.table.rowCount())]
    return names.index(name)


def check(qtbot, w: RunHistoryWidget, *names: str) -> None:
    for name in names:
        with qtbot.waitSignal(w.runs_checked):
            w.table.item(row_of(w, name), COL_RUN).setCheckState(Qt.CheckState.Checked)


def test_table_lists_every_run_with_its_best_validation_loss(widget, root):
    assert widget.objectName() == "RunHistoryWidget"
    assert widget.table.rowCount() == 3
    for name, (losses, hidden) in RUNS.items():
        row = row_of(widget, name)
        assert widget.table.item(row, COL_LOSS).text() == f"{min(losses):.4f}"
        assert f"1x{hidden}" in widget.table.item(row, 1).text()
        assert widget.table.item(row, 8).text() == "finished"
    assert {r.best_val_loss for r in widget.runs()} == {min(v[0]) for v in RUNS.values()}


def test_checking_two_runs_overlays_their_validation_curves(qtbot, widget, root):
    check(qtbot, widget, "run-a", "run-b")
    assert widget.checked_runs() == [root / "run-a", root / "run-b"]
    curves = widget.plotted_curves()
    assert set(curves) == {root / "run-a", root / "run-b"}
    assert len(widget.plot_item.listDataItems()) == 2
    for path, item in curves.items():
        x, y = item.getOriginalDataset()
        np.testing.assert_array_equal(y, read_curves(path).val_loss)
        np.testing.assert_array_equal(x, read_curves(path).eval_step)
        # 100k-point training curves stay smooth: peak downsampling, clipped to the view.
        assert item.opts["autoDownsample"] and item.opts["downsampleMethod"] == "peak"
        assert item.opts["clipToView"]
    pens = {item.opts["pen"].color().name() for item in curves.values()}
    assert len(pens) == 2
    # The legend names each run and the knob in which the checked runs differ.
    labels = {item.name() for item in curves.values()}
    assert labels == {"run-a (hidden 16)", "run-b (hidden 32)"}

    with qtbot.waitSignal(widget.runs_checked) as blocker:
        widget.table.item(row_of(widget, "run-a"), COL_RUN).setCheckState(Qt.CheckState.Unchecked)
    assert blocker.args == [[root / "run-b"]]
    assert list(widget.plotted_curves()) == [root / "run-b"]
    assert widget.plotted_curves()[root / "run-b"].name() == "run-b"

    # The training pane can check a finished sweep's runs for the user.
    with qtbot.waitSignal(widget.runs_checked) as blocker:
        widget.set_checked([root / "run-c", root / "run-a", root / "missing"])
    assert blocker.args == [[root / "run-c", root / "run-a"]]
    assert set(widget.plotted_curves()) == {root / "run-c", root / "run-a"}
    assert (
        widget.table.item(row_of(widget, "run-b"), COL_RUN).checkState() == Qt.CheckState.Unchecked
    )


def test_switching_metric_and_axis_changes_the_data_without_rereading(
    qtbot, widget, root, monkeypatch
):
    reads: list[Path] = []

    def counting(path, tail=None):
        reads.append(Path(path))
        return read_curves(path, tail)

    monkeypatch.setattr(run_history, "read_curves", counting)
    check(qtbot, widget, "run-b", "run-c")
    expected = read_curves(root / "run-b")
    for key, attr in [("loss", "loss"), ("accuracy", "accuracy"), ("val_accuracy", None)]:
        widget.set_metric(key)
        x, y = widget.plotted_curves()[root / "run-b"].getOriginalDataset()
        np.testing.assert_array_equal(y, getattr(expected, attr or key))
    widget.set_metric("loss")
    widget.set_x_axis("epochs")
    x, _ = widget.plotted_curves()[root / "run-b"].getOriginalDataset()
    np.testing.assert_array_equal(x, expected.epoch)
    assert sorted(reads) == [root / "run-b", root / "run-c"]  # each read once, then cached
    assert widget.plot_item.getAxis("left").labelText == "Training loss"


def test_refresh_picks_up_new_and_deleted_runs(qtbot, widget, root):
    check(qtbot, widget, "run-c")
    write_run(root, "run-d", [1.2, 1.1])
    (root / "not-a-run").mkdir()
    widget.refresh_button.click()
    assert widget.table.rowCount() == 4
    assert widget.table.item(row_of(widget, "run-d"), COL_LOSS).text() == "1.1000"
    widget.set_active_run(root / "run-d")  # the training pane marks the run it is writing
    assert widget.table.item(row_of(widget, "run-d"), 8).text() == "training"

    for f in (root / "run-c").iterdir():
        f.unlink()
    (root / "run-c").rmdir()
    with qtbot.waitSignal(widget.runs_checked) as blocker:
        widget.refresh()
    assert blocker.args == [[]] and widget.plotted_curves() == {}
    assert widget.table.rowCount() == 3


def test_new_runs_appear_without_a_click(qtbot, widget, root):
    widget.show()
    qtbot.waitExposed(widget)
    write_run(root, "run-e", [1.5])
    # The directory watcher (or, failing it, the visible-widget poll) rescans on its own.
    qtbot.waitUntil(lambda: widget.table.rowCount() == 4, timeout=5000)


def test_set_runs_root_and_double_click(qtbot, widget, root, tmp_path_factory):
    other = tmp_path_factory.mktemp("other")
    write_run(other, "elsewhere", [2.0])
    widget.set_runs_root(other)
    assert widget.runs_root == other and widget.table.rowCount() == 1
    widget.set_runs_root(root / "missing")
    assert widget.table.rowCount() == 0
    widget.set_runs_root(root)

    widget.show()
    qtbot.waitExposed(widget)
    row = row_of(widget, "run-b")
    rect = widget.table.visualItemRect(widget.table.item(row, 2))
    with qtbot.waitSignal(widget.run_activated) as blocker:
        # QTest's double-click alone misses the first press an item view needs: click first.
        qtbot.mouseClick(widget.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(widget.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [root / "run-b"]
    # The double-click selected the row: its full config is in the details panel.
    assert '"hidden": 32' in widget.details.toPlainText()
    assert widget.grab().width() > 0


def test_a_real_training_run_is_listed_and_plotted(qtbot, tmp_path):
    from models.train import Control, split_texts, train
    from workbench.corpus import load

    texts = [t.text for t in load(["corpus:miscFolk"]).tunes][:20]
    cfg = tiny_config()
    train_texts, val_texts = split_texts(texts, cfg.train.val_fraction, cfg.train.seed)
    steps = 0

    def stop() -> bool:
        return steps >= 20

    for event in train(cfg, train_texts, val_texts, tmp_path / "real", control=Control(stop)):
        if event["event"] == "step":
            steps = event["step"]

    w = RunHistoryWidget(tmp_path)
    qtbot.addWidget(w)
    info = read_run(tmp_path / "real")
    assert info is not None and info.best_val_loss is not None and info.steps == 20
    assert w.table.item(0, COL_LOSS).text() == f"{info.best_val_loss:.4f}"
    assert w.table.item(0, 5).text() == "20"
    check(qtbot, w, "real")
    _, y = w.plotted_curves()[tmp_path / "real"].getOriginalDataset()
    np.testing.assert_array_equal(y, read_curves(tmp_path / "real").val_loss)
    assert len(y) == 4  # evaluations at steps 5, 10, 15, 20


def cell(w: RunHistoryWidget, name: str, col: int) -> str:
    return w.table.item(row_of(w, name), col).text()


def test_long_logs_are_read_off_the_gui_thread(qtbot, root, monkeypatch):
    """A log longer than BACKGROUND_BYTES is read on the worker: the table lists its run at
    once as "reading…" (the constructor does not wait for it), and the numbers follow."""
    monkeypatch.setattr(run_history, "BACKGROUND_BYTES", 1000)  # every run here is longer
    sizes = {name: (root / name / "metrics.jsonl").stat().st_size for name in RUNS}
    assert min(sizes.values()) > 1000
    gui_reads: list[Path] = []
    real_read_run = run_history.read_run
    monkeypatch.setattr(
        run_history, "read_run", lambda p, t=None: gui_reads.append(p) or real_read_run(p, t)
    )
    w = RunHistoryWidget(root)
    qtbot.addWidget(w)
    assert w.table.rowCount() == 3 and w.is_reading()
    for name in RUNS:
        assert cell(w, name, 8) == "reading…" and cell(w, name, COL_LOSS) == ""
        assert f"1x{RUNS[name][1]}" in cell(w, name, 1)  # config.json is read at once
    qtbot.waitUntil(lambda: not w.is_reading(), timeout=10_000)
    assert gui_reads == []  # no log was read on the GUI thread
    for name, (losses, _hidden) in RUNS.items():
        assert cell(w, name, COL_LOSS) == f"{min(losses):.4f}"
        assert cell(w, name, 5) == str(5 * len(losses))
        assert cell(w, name, 8) == "finished"

    # Ticking a run with a long log: an empty curve now, the evaluations when they are read.
    check(qtbot, w, "run-b")
    _, y = w.plotted_curves()[root / "run-b"].getOriginalDataset()
    assert y is None or len(y) == 0
    assert w.is_reading()
    qtbot.waitUntil(lambda: not w.is_reading(), timeout=10_000)
    _, y = w.plotted_curves()[root / "run-b"].getOriginalDataset()
    np.testing.assert_array_equal(y, RUNS["run-b"][0])

    # A log that then grows by a few lines is read on from its tail, on the GUI thread.
    with (root / "run-a" / "metrics.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"event": "eval", "step": 16, "val_loss": 0.5}) + "\n")
    w.refresh()
    assert not w.is_reading() and cell(w, "run-a", COL_LOSS) == "0.5000"
    assert gui_reads == [root / "run-a"]


def test_a_log_the_worker_cannot_read_is_marked_and_not_read_again(qtbot, root, monkeypatch):
    """A read that fails (a log that runs the worker out of memory, say) is answered: the row
    says so, and the log is not read again until it changes."""
    import workbench.ui.workers.run_reader as run_reader

    monkeypatch.setattr(run_history, "BACKGROUND_BYTES", 1000)
    tries: list[Path] = []
    real = run_reader.read_run

    def failing(path, tail=None):
        tries.append(Path(path))
        if Path(path).name == "run-b":
            raise MemoryError("a log too large to read")
        return real(path, tail)

    monkeypatch.setattr(run_reader, "read_run", failing)
    w = RunHistoryWidget(root)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: not w.is_reading(), timeout=10_000)
    assert cell(w, "run-b", 8) == "log unreadable" and cell(w, "run-b", COL_LOSS) == ""
    assert cell(w, "run-a", COL_LOSS) == f"{min(RUNS['run-a'][0]):.4f}"
    w.refresh()
    w.refresh()
    assert not w.is_reading() and tries.count(root / "run-b") == 1
    # Once the log changes it is read again (from its start), and now it reads.
    monkeypatch.setattr(run_reader, "read_run", real)
    with (root / "run-b" / "metrics.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"event": "eval", "step": 21, "val_loss": 0.25}) + "\n")
    w.refresh()
    qtbot.waitUntil(lambda: not w.is_reading(), timeout=10_000)
    assert cell(w, "run-b", COL_LOSS) == "0.2500" and cell(w, "run-b", 8) == "finished"


def test_an_answer_for_a_folder_left_behind_is_dropped(qtbot, root, tmp_path_factory, monkeypatch):
    monkeypatch.setattr(run_history, "BACKGROUND_BYTES", 1000)
    other = tmp_path_factory.mktemp("other")
    write_run(other, "elsewhere", [2.0])  # short: read at once
    w = RunHistoryWidget(root)
    qtbot.addWidget(w)
    assert w.is_reading()
    w.set_runs_root(other)
    qtbot.waitUntil(lambda: not w.is_reading(), timeout=10_000)
    assert [r.name for r in w.runs()] == ["elsewhere"]
    assert w.table.rowCount() == 1 and cell(w, "elsewhere", COL_LOSS) == "2.0000"
    w.shutdown()  # nothing reading: returns at once


def test_closing_while_a_log_is_read_stops_the_reader(qtbot, root, monkeypatch):
    """shutdown() returns once the log being read is done, and reads none of the logs still
    waiting (the window is closing)."""
    import threading

    import workbench.ui.workers.run_reader as run_reader

    monkeypatch.setattr(run_history, "BACKGROUND_BYTES", 1000)
    release = threading.Event()
    started = threading.Event()
    reads: list[Path] = []
    real = run_reader.read_run

    def slow(path, tail=None):
        reads.append(Path(path))
        started.set()
        release.wait(10)
        return real(path, tail)

    monkeypatch.setattr(run_reader, "read_run", slow)
    w = RunHistoryWidget(root)
    qtbot.addWidget(w)
    assert w.is_reading() and started.wait(10)
    thread = w._reader._thread
    assert thread is not None and thread.isRunning()
    threading.Timer(0.2, release.set).start()
    w.shutdown()
    assert thread.isFinished()  # waited for the read in progress
    qtbot.wait(50)  # the answers and the thread's end reach the GUI thread
    assert len(reads) == 1  # the other two runs' logs were never read
    assert not w._reader.is_running()


def ok_button(dialog: SweepBuilderDialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_sweep_dialog_plans_one_run_per_value(qtbot):
    base = tiny_config(hidden=16, lr=0.01)
    dialog = SweepBuilderDialog(base)
    qtbot.addWidget(dialog)
    assert not ok_button(dialog).isEnabled()  # nothing typed yet
    dialog.set_knob("hidden")
    assert dialog.base_label.text() == "16"
    qtbot.keyClicks(dialog.values_edit, "64, 128")
    assert dialog.plan_list.count() == 2
    assert dialog.plan_list.item(0).text().split() == ["sweep-hidden-64", "hidden", "=", "64"]
    assert ok_button(dialog).isEnabled() and dialog.error_label.isHidden()
    ok_button(dialog).click()
    assert dialog.result() == dialog.DialogCode.Accepted
    runs = dialog.runs()
    assert [name for name, _ in runs] == ["sweep-hidden-64", "sweep-hidden-128"]
    for (_, cfg), hidden in zip(runs, [64, 128], strict=True):
        assert cfg.model.hidden == hidden
        cfg.model.hidden = base.model.hidden
        assert cfg == base


def test_sweep_dialog_shows_errors_inline(qtbot):
    dialog = SweepBuilderDialog(tiny_config())
    qtbot.addWidget(dialog)
    dialog.set_knob("hidden")
    qtbot.keyClicks(dialog.values_edit, "64, 12x")
    assert not ok_button(dialog).isEnabled()
    assert dialog.error_label.text() == "hidden: '12x' is not an integer"
    assert not dialog.error_label.isHidden()
    assert dialog.plan_list.count() == 0 and dialog.runs() == []

    dialog.values_edit.setText("sgd, adamw")
    dialog.set_knob("optimizer")  # switching the knob re-checks the same text
    assert ok_button(dialog).isEnabled() and dialog.plan_list.count() == 2
    dialog.prefix_edit.setText("bad name")
    assert not ok_button(dialog).isEnabled()
    assert "name prefix" in dialog.error_label.text()
