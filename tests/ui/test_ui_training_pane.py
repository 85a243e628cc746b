"""The Training pane: form and presets, live plots, run control, errors, queue and replay.

Most tests drive the pane with a fake job (no process); two spawn the real trainer: a tiny run
that is started and stopped from the buttons, and a run whose data file does not exist.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from tiny import tiny_run_config

from models.config import RECIPES, ModelConfig, RunConfig, TrainConfig, recipe
from workbench.runs import read_curves
from workbench.session import Session
from workbench.ui.panes.training_pane import TrainingPane
from workbench.ui.widgets.config_form import MACHINE_FIELDS, SESSION_FIELDS, ConfigForm
from workbench.ui.widgets.training_plots import TrainingPlotsWidget

tiny_config = tiny_run_config


def step_events(n: int, start: int = 1, steps_per_epoch: int = 100) -> list[dict]:
    return [
        {
            "event": "step",
            "step": s,
            "epoch": s / steps_per_epoch,
            "loss": 3.0 / (1 + s / 1000),
            "accuracy": min(0.9, s / 1e5),
            "lr": 1e-3,
            "chars_per_sec": 20_000.0,
            "elapsed": s * 0.01,
        }
        for s in range(start, start + n)
    ]


def eval_event(step: int, loss: float = 2.0, steps_per_epoch: int = 100) -> dict:
    return {
        "event": "eval",
        "step": step,
        "epoch": step / steps_per_epoch,
        "val_loss": loss,
        "val_accuracy": 0.4,
        "best_val_loss": loss,
        "improved": True,
        "sample": "X:1\nK:D\nABcd|",
    }


def curve_x(curve) -> np.ndarray:
    x = curve.getOriginalDataset()[0]
    return np.zeros(0) if x is None else x


# -- the form -----------------------------------------------------------------------------


@pytest.fixture
def form(qtbot):
    widget = ConfigForm()
    qtbot.addWidget(widget)
    return widget


@pytest.mark.parametrize("key", list(RECIPES))
def test_each_preset_fills_the_form(form, key):
    form.apply_preset("reports-rnn" if key == "default" else "default")
    form.preset_combo.setCurrentIndex(form.preset_combo.findData(key))
    cfg = form.current_config()
    expected = recipe(key)
    assert cfg.recipe == key
    assert cfg.model == expected.model
    shown = {f.name for f in dataclasses.fields(TrainConfig)} - set(SESSION_FIELDS)
    for name in shown - set(MACHINE_FIELDS):
        assert getattr(cfg.train, name) == getattr(expected.train, name), name


def test_report_gru_preset_sets_the_editors(form):
    form.preset_combo.setCurrentIndex(form.preset_combo.findData("reports-gru"))
    assert form.preset_combo.currentText() == "Report: GRU-100, SGD-Nesterov, batch 15×25"
    e = form.editors
    assert e["model.arch"].currentData() == "gru"
    assert e["model.hidden"].value() == 100
    assert e["model.embedding"].text() == "One-hot"
    assert e["train.batch_size"].value() == 15
    assert e["train.seq_len"].value() == 25
    assert e["train.optimizer"].currentText() == "SGD"
    assert e["train.nesterov"].isChecked()


def test_presets_have_friendly_names(form):
    names = [form.preset_combo.itemText(i) for i in range(form.preset_combo.count())]
    assert names[:2] == ["Recommended default", "Report: GRU-100, SGD-Nesterov, batch 15×25"]
    assert {"Report: SimpleRNN-100, RMSprop", "Report: LSTM-100, Adam"} <= set(names)


def test_every_engine_field_has_an_editor(form):
    for section, cls in (("model", ModelConfig), ("train", TrainConfig)):
        for f in dataclasses.fields(cls):
            if f.name not in SESSION_FIELDS:
                assert f"{section}.{f.name}" in form.editors


def test_current_config_round_trips_set_config(form):
    cfg = RunConfig(
        model=ModelConfig(arch="gru", hidden=77, layers=3, embedding=0, dropout=0.35),
        train=TrainConfig(
            optimizer="rmsprop",
            lr=2.5e-4,
            momentum=0.8,
            nesterov=False,
            weight_decay=1e-5,
            schedule="plateau",
            warmup_steps=7,
            min_lr_ratio=0.1,
            lr_decay=0.3,
            grad_clip=0.0,
            batch_size=9,
            seq_len=33,
            batching="walk",
            epochs=4,
            time_budget=90.0,
            patience=0,
            eval_every=2,
            eval_unit="epochs",
            val_fraction=0.2,
            seed=7,
            device="cuda:3",  # not on this machine: kept, marked unavailable
            amp="off",
            sample_chars=0,
            threads=2,
        ),
        recipe="sweep-7",
    )
    form.set_config(cfg)
    assert form.current_config() == cfg
    assert "not available" in form.editors["train.device"].currentText()


def test_editing_a_field_makes_the_preset_custom(form):
    form.preset_combo.setCurrentIndex(form.preset_combo.findData("reports-lstm"))
    form.editors["train.device"].setCurrentIndex(1)  # the machine, not the recipe
    assert form.current_config().recipe == "reports-lstm"
    form.editors["model.hidden"].setValue(128)
    assert form.current_config().recipe == "custom"
    assert form.preset_combo.currentText() == "Custom"


def test_learning_rate_accepts_scientific_text_and_steps_by_factors(form):
    lr = form.editors["train.lr"]
    lr.lineEdit().setText("2.5e-4")
    lr.interpretText()
    assert lr.value() == pytest.approx(2.5e-4)
    lr.stepBy(1)
    assert lr.value() == pytest.approx(5e-4)


def test_device_selector_lists_each_gpu(form):
    form.set_gpus(["NVIDIA H100 80GB HBM3", "NVIDIA A10"])
    combo = form.editors["train.device"]
    items = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
    assert items[:2] == [("Auto (GPU if present)", "auto"), ("CPU", "cpu")]
    assert items[2:] == [
        ("GPU 0: NVIDIA H100 80GB HBM3", "cuda:0"),
        ("GPU 1: NVIDIA A10", "cuda:1"),
    ]
    combo.setCurrentIndex(3)
    assert form.current_config().train.device == "cuda:1"


# -- the plots ----------------------------------------------------------------------------


@pytest.fixture
def plots(qtbot):
    widget = TrainingPlotsWidget()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    return widget


def test_plots_keep_100k_points_and_downsample(plots, qtbot):
    events = step_events(100_000)
    for i in range(0, len(events), 5000):  # as the 40 ms drain delivers them
        plots.append([*events[i : i + 5000], eval_event(i + 5000)])
    qtbot.waitUntil(lambda: len(curve_x(plots.loss_curve)) == 100_000, timeout=3000)
    for curve in (plots.loss_curve, plots.accuracy_curve, plots.speed_curve, plots.lr_curve):
        assert len(curve_x(curve)) == 100_000
        assert curve.opts["autoDownsample"] and curve.opts["downsampleMethod"] == "peak"
        assert curve.opts["clipToView"]
    assert len(curve_x(plots.val_loss_curve)) == 20
    plots.show()
    qtbot.waitExposed(plots)
    # What is drawn is a few points per pixel, not the 100,000.
    qtbot.waitUntil(lambda: len(plots.loss_curve.getData()[0]) < 10_000, timeout=3000)
    assert not plots.grab().isNull()


def test_log_loss_toggle_sets_the_view_log_mode(plots):
    plots.append(step_events(10))
    view = plots.loss_plot.getViewBox()
    assert view.state["logMode"][1] is False
    plots.log_check.setChecked(True)
    assert view.state["logMode"][1] is True
    assert plots.loss_curve.opts["logMode"][1]
    plots.log_check.setChecked(False)
    assert view.state["logMode"][1] is False


def test_x_axis_switches_to_epochs(plots):
    plots.append([*step_events(250), eval_event(200)])
    plots.redraw()
    assert curve_x(plots.loss_curve)[-1] == 250
    plots.x_combo.setCurrentIndex(plots.x_combo.findData("epochs"))
    assert plots.x_axis() == "epochs"
    np.testing.assert_allclose(curve_x(plots.loss_curve), np.arange(1, 251) / 100)
    np.testing.assert_allclose(curve_x(plots.val_loss_curve), [2.0])


def test_resumed_steps_replace_the_tail(plots):
    plots.append(step_events(10))
    plots.append(step_events(3, start=6))  # resumed from the checkpoint at step 5
    plots.redraw()
    np.testing.assert_array_equal(curve_x(plots.loss_curve), np.arange(1, 9))


# -- the pane, with a fake trainer ---------------------------------------------------------


class FakeJob:
    """TrainingJob's interface without a process: events are queued by the commands."""

    def __init__(self, spec) -> None:
        self.spec = spec
        self.pending: list[dict] = []
        self.commands: list[str] = []
        self.ended = False
        self.error = None
        self.alive = False

    def start(self) -> None:
        self.alive = True
        self.pending += [
            {"event": "loaded", "tunes": 10, "problems": []},
            {"event": "start", "step": 0, "steps_per_epoch": 100, "total_steps": 1000},
        ]

    @property
    def running(self) -> bool:
        return self.alive and not self.ended

    def poll(self) -> list[dict]:
        out, self.pending = self.pending, []
        return out

    def pause(self) -> None:
        self.commands.append("pause")
        self.pending.append({"event": "paused"})

    def resume(self) -> None:
        self.commands.append("resume")
        self.pending.append({"event": "resumed"})

    def save_now(self) -> None:
        self.commands.append("save")

    def stop(self) -> None:
        self.commands.append("stop")
        run = Path(self.spec.run_dir)
        (run / "best.pt").write_bytes(b"")
        (run / "last.pt").write_bytes(b"")
        self.pending.append({"event": "end", "reason": "stopped", "step": 0})

    def wait(self, timeout: float = 30.0) -> None:
        self.alive = False

    def kill(self) -> None:
        self.alive = False


@pytest.fixture
def session() -> Session:
    return Session()


@pytest.fixture
def pane(qtbot, session, tmp_path):
    widget = TrainingPane(session, runs_root=tmp_path / "runs")
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def fake_pane(pane, session):
    jobs: list[FakeJob] = []

    def factory(spec):
        jobs.append(FakeJob(spec))
        return jobs[-1]

    pane.driver.job_factory = factory
    pane.jobs = jobs
    session.data_specs = ["corpus:miscFolk"]
    pane.form.set_config(tiny_config())
    return pane


def idle(pane: TrainingPane) -> bool:
    return (
        pane.start_button.isEnabled()
        and not pane.pause_button.isEnabled()
        and not pane.stop_button.isEnabled()
        and not pane.save_button.isEnabled()
        and not pane.is_training()
    )


def test_start_without_data_says_so(pane, qtbot):
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    assert not pane.error_label.isHidden()
    assert "Load a dataset" in pane.error_label.text()
    assert idle(pane)


def test_buttons_follow_the_run(fake_pane, session, qtbot, tmp_path):
    pane = fake_pane
    pane.form.set_run_name("my run")
    assert idle(pane) and not pane.resume_run_button.isEnabled()
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    assert pane.is_training()
    job = pane.jobs[-1]
    assert session.run == tmp_path / "runs" / "my-run"
    assert job.spec.run_dir == str(session.run)
    assert job.spec.data == ["corpus:miscFolk"]
    assert job.spec.config["train"]["val_fraction"] == session.val_fraction
    assert RunConfig.from_dict(job.spec.config).model.hidden == 32
    assert not pane.start_button.isEnabled() and pane.stop_button.isEnabled()
    assert not pane.form.isEnabled()

    job.pending += [*step_events(50, steps_per_epoch=100), eval_event(50)]
    qtbot.waitUntil(lambda: pane.plots.steps.size == 50)
    assert pane.progress_bar.value() == 50  # 50 of 1,000 steps, per mille
    assert "ETA" in pane.progress_bar.format()
    assert pane.sample_view.toPlainText() == "X:1\nK:D\nABcd|"

    qtbot.mouseClick(pane.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.pause_button.text() == "Resume")
    qtbot.mouseClick(pane.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.pause_button.text() == "Pause")
    qtbot.mouseClick(pane.save_button, Qt.MouseButton.LeftButton)
    assert job.commands == ["pause", "resume", "save"]

    with qtbot.waitSignal(pane.driver.finished) as finished:
        qtbot.mouseClick(pane.stop_button, Qt.MouseButton.LeftButton)
        assert not pane.stop_button.isEnabled()  # stopping
    assert finished.args == ["stopped"]
    assert idle(pane)
    assert session.checkpoint == session.run / "best.pt"
    assert pane.resume_run_button.isEnabled()
    assert "stopped" in pane.status_label.text()


def test_the_progress_bar_says_how_a_run_ended(fake_pane, qtbot):
    pane = fake_pane
    # Stopped: no stale "ETA" once it is over, but how far it got.
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    pane.jobs[-1].pending += step_events(300)
    qtbot.waitUntil(lambda: pane.plots.steps.size == 300)
    assert "ETA" in pane.progress_bar.text()
    with qtbot.waitSignal(pane.driver.finished):
        qtbot.mouseClick(pane.stop_button, Qt.MouseButton.LeftButton)
    assert pane.progress_bar.text() == "Stopped after 300 of 1,000 steps in 3 s"
    # Done: every step, the bar full.
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    assert pane.progress_bar.format() == "%p%"  # a new run counts again
    job = pane.jobs[-1]
    job.pending += [*step_events(1000), {"event": "end", "reason": "epochs", "step": 1000}]
    with qtbot.waitSignal(pane.driver.finished, timeout=10_000):
        pass
    assert pane.progress_bar.text() == "Done: 1,000 steps in 10 s"
    assert pane.progress_bar.value() == pane.progress_bar.maximum()
    # Failed: says at which step.
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    pane.jobs[-1].pending += [*step_events(5), {"event": "error", "message": "out of memory"}]
    qtbot.waitUntil(lambda: not pane.is_training())
    assert pane.progress_bar.text() == "Failed at step 5"


def test_resume_selected_run_continues_it(fake_pane, session, qtbot):
    pane = fake_pane
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    run = session.run
    pane.stop_and_wait(5)
    assert idle(pane)
    qtbot.mouseClick(pane.resume_run_button, Qt.MouseButton.LeftButton)
    job = pane.jobs[-1]
    assert job.spec.resume and job.spec.config == {} and job.spec.run_dir == str(run)
    assert pane.is_training()
    assert pane.stop_and_wait(5)
    assert idle(pane)


def test_a_failure_is_shown_and_the_pane_returns_to_idle(fake_pane, qtbot):
    pane = fake_pane
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    pane.jobs[-1].pending.append(
        {"event": "error", "message": "the training process died (killed by signal 9)"}
    )
    with qtbot.waitSignal(pane.status_changed):
        qtbot.waitUntil(lambda: not pane.is_training())
    assert "killed by signal 9" in pane.error_label.text()
    assert not pane.error_label.isHidden()
    assert idle(pane)


def test_queued_runs_start_one_after_another(fake_pane, session, qtbot):
    pane = fake_pane
    pane.enqueue([("a", tiny_config()), ("b", tiny_config(lr=0.01)), ("c", tiny_config())])
    assert [Path(j.spec.run_dir).name for j in pane.jobs] == ["a"]
    assert pane.queue_label.text() == "Queue: 2 waiting" and not pane.queue_label.isHidden()
    pane.jobs[-1].pending.append({"event": "end", "reason": "epochs"})
    qtbot.waitUntil(lambda: len(pane.jobs) == 2)
    assert pane.jobs[-1].spec.config["train"]["lr"] == 0.01
    assert pane.queue_label.text() == "Queue: 1 waiting"
    # Stop ends the sweep: the last queued run is dropped.
    qtbot.mouseClick(pane.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(pane))
    assert len(pane.jobs) == 2 and pane.queue_label.isHidden()


def write_run(run: Path, steps: int, evals: list[int]) -> None:
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(tiny_config().to_dict()), encoding="utf-8")
    events = [{"event": "start", "step": 0, "total_steps": steps}, *step_events(steps)]
    events += [eval_event(s) for s in evals] + [{"event": "end", "reason": "epochs"}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))


def test_show_run_replays_its_curves(pane, tmp_path):
    run = tmp_path / "runs" / "old"
    write_run(run, 120, [40, 80, 120])
    pane.show_run(run)
    assert len(curve_x(pane.plots.loss_curve)) == 120
    assert len(curve_x(pane.plots.val_loss_curve)) == 3


def test_selecting_a_run_in_the_session_replays_it(pane, session, qtbot, tmp_path):
    run = tmp_path / "runs" / "old"
    write_run(run, 30, [30])
    session.run = run
    assert len(curve_x(pane.plots.loss_curve)) == 30
    shown = TrainingPane(session, runs_root=tmp_path / "runs")  # reopening the app
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitUntil(lambda: len(curve_x(shown.plots.loss_curve)) == 30)


# -- the real trainer process -------------------------------------------------------------


@pytest.mark.slow
def test_real_run_trains_stops_and_replays(pane, session, qtbot):
    from workbench.corpus import load

    session.set_dataset(load(["corpus:miscFolk"]), ["corpus:miscFolk"])
    pane.form.set_config(tiny_config())
    pane.show()
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    assert pane.is_training()
    run = session.run

    def trained() -> bool:
        return (
            len(curve_x(pane.plots.loss_curve)) >= 10
            and len(curve_x(pane.plots.val_loss_curve)) >= 1
        )

    qtbot.waitUntil(trained, timeout=90_000)
    assert pane.sample_view.toPlainText()
    assert not pane.grab().isNull()
    with qtbot.waitSignal(pane.driver.finished, timeout=60_000) as finished:
        qtbot.mouseClick(pane.stop_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["stopped"]
    assert (run / "last.pt").exists() and (run / "best.pt").exists()
    assert session.checkpoint == run / "best.pt"
    assert idle(pane) and pane.resume_run_button.isEnabled()

    lines = (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    steps = [e for e in map(json.loads, lines) if e["event"] == "step"]
    pane.plots.clear()
    pane.show_run(run)
    assert len(curve_x(pane.plots.loss_curve)) == len(steps) == len(read_curves(run).step)


@pytest.mark.slow
def test_real_run_with_missing_data_reports_the_error(pane, session, qtbot, tmp_path):
    missing = tmp_path / "nowhere" / "tunes.abc"
    session.data_specs = [str(missing)]
    pane.form.set_config(tiny_config())
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not pane.is_training(), timeout=60_000)
    assert not pane.error_label.isHidden()
    assert "nowhere" in pane.error_label.text()
    assert idle(pane)


def test_a_deleted_pane_no_longer_listens_to_the_session(qtbot, session, tmp_path):
    from shiboken6 import delete

    listening = len(session.run_changed)
    pane = TrainingPane(session, runs_root=tmp_path / "runs")
    assert len(session.run_changed) == listening + 1
    delete(pane)  # Qt deletes the widget while its Python wrapper lives on
    assert len(session.run_changed) == listening
    run = tmp_path / "runs" / "old"
    write_run(run, 5, [5])
    session.run = run  # reaching the deleted widget would raise (its C++ object is gone)
    assert session.run == run


def test_fine_tune_starts_a_run_from_the_checkpoint(fake_pane, session, qtbot, tmp_path):
    pane = fake_pane
    ckpt = tmp_path / "model.pt"
    ckpt.write_bytes(b"weights")  # the fake job never reads it
    assert pane.fine_tune(ckpt)
    job = pane.jobs[-1]
    assert job.spec.init == str(ckpt)
    assert job.spec.data == ["corpus:miscFolk"]
    assert Path(job.spec.run_dir).name.startswith("finetune-")
    assert "Fine-tuning" in pane.status_label.text()
    assert not pane.fine_tune_button.isEnabled()
    assert pane.stop_and_wait(5)
    assert pane.fine_tune_button.isEnabled()


def test_fine_tune_default_without_a_shipped_model_says_so(fake_pane, monkeypatch):
    import workbench.ui.panes.training_pane as training_pane

    monkeypatch.setattr(training_pane, "default_checkpoint", lambda: None)
    fake_pane.fine_tune_default_action.trigger()
    assert not fake_pane.jobs
    assert "no shipped default model" in fake_pane.error_label.text()


def test_fine_tune_a_missing_checkpoint_says_so(fake_pane, tmp_path):
    assert not fake_pane.fine_tune(tmp_path / "gone.pt")
    assert "does not exist" in fake_pane.error_label.text() and not fake_pane.jobs
