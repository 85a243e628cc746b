"""The Training pane: configure a run, start/pause/stop it, watch its curves and samples.

A run trains in a spawned child process (`TrainingDriver` around `workbench.training_job`), so
the GUI stays responsive and a trainer crash leaves the app alive. Each run is a directory under
the runs root; when the pane is shown with a run selected in the session, or `show_run(path)` is
called, the stored curves are replayed. `enqueue` runs several configurations one after another
(the sweep builder's entry point). While a run trains the progress bar shows its share and ETA;
once it ends, how it ended ("Done: 1,000 steps in 2 min 10 s", "Stopped after 300 of 1,000
steps") instead of a stale ETA. `follow_run(path)` ("Follow run directory…") shows a run that
another process writes (the CLI, a cluster job in a synced folder) the same way, fed by a
`FollowDriver` that tails its metrics.jsonl; stopping following leaves the curves.
"""

from __future__ import annotations

import json
import re
import time
import weakref
from collections import deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from models.config import RunConfig, TrainConfig, fine_tune_defaults
from models.pretrained import default_checkpoint
from models.regular_files import read_text_regular
from workbench.corpus.text import UnreadableFile, read_text
from workbench.runs import default_runs_root, read_curves
from workbench.session import Session
from workbench.training_job import JobSpec
from workbench.ui.widgets.config_form import ConfigForm
from workbench.ui.widgets.scrolling import AdaptiveSplitter, VerticalScrollArea
from workbench.ui.widgets.training_plots import TrainingPlotsWidget
from workbench.ui.workers.follow_driver import FollowDriver
from workbench.ui.workers.training_driver import TrainingDriver

END_REASONS = {
    "epochs": "all epochs done",
    "time": "time budget used",
    "early_stop": "stopped early (validation loss no longer improving)",
    "stopped": "stopped",
}
NO_DATA = "Load a dataset first (Dataset pane): training needs tunes to learn from."
PROGRESS_STEPS = 1000
MAX_SAMPLE_BYTES = 1024 * 1024  # a sample is a tune or two: a bigger file is not one


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s" if m else f"{s} s"


def _disconnector(pane: TrainingPane, session: Session):
    """A slot for `destroyed` that unhooks the pane from the session.

    psygnal drops a slot when its Python object dies, but Qt may delete the widget while its
    Python wrapper lives on; the session must then stop calling it. Only a weak reference is
    held, so the connection does not keep the pane alive.
    """
    ref = weakref.ref(pane)

    def disconnect(*_: object) -> None:
        if (alive := ref()) is not None:
            session.run_changed.disconnect(alive._on_session_run_changed)

    return disconnect


class TrainingPane(QWidget):
    """Form, controls, progress, live plots and the latest sample of the current run."""

    status_changed = Signal(str)  # one line for the main window's status bar
    running_changed = Signal(bool)

    def __init__(self, session: Session, runs_root: Path | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingPane")
        self.session = session
        self.runs_root = Path(runs_root) if runs_root is not None else None
        self.queue: deque[tuple[str, RunConfig]] = deque()
        self._progress: dict[str, Any] = {}
        self._stop_requested = False
        self._replayed = False

        self.form = ConfigForm()
        # As wide as the form needs (a plain scroll area let the splitter squeeze it to 70 px,
        # cutting every field); it scrolls vertically.
        scroll = VerticalScrollArea(self.form)

        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.save_button = QPushButton("Save checkpoint now")
        self.resume_run_button = QPushButton("Resume selected run")
        self.resume_run_button.setToolTip("Continue the selected run from its last.pt")
        self.fine_tune_button = QPushButton("Fine-tune")
        self.fine_tune_button.setObjectName("fine_tune_button")
        self.fine_tune_button.setToolTip(
            "Train on the loaded dataset starting from a trained model: the shipped default "
            "model or any checkpoint (its architecture is kept; new characters are added)"
        )
        fine_tune_menu = QMenu(self.fine_tune_button)
        self.fine_tune_default_action = fine_tune_menu.addAction(
            "Fine-tune the default model on this dataset", lambda: self.fine_tune()
        )
        fine_tune_menu.addAction("Fine-tune a checkpoint…", self._on_fine_tune_file)
        self.fine_tune_button.setMenu(fine_tune_menu)
        # Two rows: in one they needed 635 px beside the form.
        buttons = QVBoxLayout()
        run_buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button, self.save_button):
            run_buttons.addWidget(button)
        run_buttons.addStretch(1)
        other_buttons = QHBoxLayout()
        other_buttons.addWidget(self.fine_tune_button)
        other_buttons.addWidget(self.resume_run_button)
        self.follow_button = QPushButton("Follow run directory…")
        self.follow_button.setObjectName("follow_button")
        self.follow_button.setToolTip(
            "Watch a run that another process writes (the command line, a cluster job in a "
            "synced folder): its curves, progress and latest sample, live"
        )
        other_buttons.addWidget(self.follow_button)
        other_buttons.addStretch(1)
        buttons.addLayout(run_buttons)
        buttons.addLayout(other_buttons)

        self.error_label = QLabel()
        self.error_label.setObjectName("training_error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(
            "background: #fde2e1; color: #8a1c13; border: 1px solid #e0a09a; padding: 4px;"
        )
        self.error_label.hide()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setValue(0)
        self.status_label = QLabel("Idle")
        self.status_label.setObjectName("training_status")
        self.queue_label = QLabel()
        self.queue_label.hide()
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.queue_label)

        self.plots = TrainingPlotsWidget()
        self.sample_box = QGroupBox("Latest sample")
        self.sample_view = QPlainTextEdit()
        self.sample_view.setObjectName("sample_view")
        self.sample_view.setReadOnly(True)
        self.sample_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        QVBoxLayout(self.sample_box).addWidget(self.sample_view)
        output = QSplitter(Qt.Orientation.Vertical)
        output.addWidget(self.plots)
        output.addWidget(self.sample_box)
        output.setStretchFactor(0, 3)
        output.setStretchFactor(1, 1)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.error_label)
        right_layout.addWidget(self.progress_bar)
        right_layout.addLayout(status_row)
        right_layout.addWidget(output, 1)
        splitter = AdaptiveSplitter()
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(splitter)

        self.driver = TrainingDriver(self)
        self.driver.events_received.connect(self._on_driver_events_received)
        self.driver.paused_changed.connect(self._on_driver_paused_changed)
        self.driver.finished.connect(self._on_driver_finished)
        self.driver.failed.connect(self._on_driver_failed)
        self.follow_driver = FollowDriver(self)
        self.follow_driver.events_received.connect(self._on_follow_events_received)
        self.follow_driver.restarted.connect(self._on_follow_restarted)
        self.follow_driver.sample_changed.connect(self._on_follow_sample_changed)
        self.follow_driver.liveness_changed.connect(self._on_follow_liveness_changed)
        self.follow_driver.lines_skipped.connect(self._on_follow_liveness_changed)
        self.follow_button.clicked.connect(self._on_follow_clicked)
        self.start_button.clicked.connect(self._on_start_clicked)
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.stop_button.clicked.connect(self._on_stop_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.resume_run_button.clicked.connect(self._on_resume_run_clicked)
        session.run_changed.connect(self._on_session_run_changed)
        self.destroyed.connect(_disconnector(self, session))
        self._update_buttons()

    # -- public API ------------------------------------------------------------------------

    def is_training(self) -> bool:
        return self.driver.running

    def stop_and_wait(self, timeout: float = 30.0) -> bool:
        """Stop the current run (and drop the queue), waiting until its last.pt is written."""
        self._stop_requested = True
        self._set_queue([])
        return self.driver.stop_and_wait(timeout)

    def enqueue(self, runs: list[tuple[str, RunConfig]]) -> None:
        """Train these (name, config) runs one after another, starting now if idle."""
        self._set_queue([*self.queue, *runs])
        if not self.driver.running:
            self._start_next()

    def show_run(self, path: Path) -> None:
        """Replay a stored run's curves (and its last sample) in the plots."""
        path = Path(path)
        self.stop_following()
        try:
            curves = read_curves(path)
        except (OSError, ValueError, KeyError) as exc:
            self._show_error(f"Cannot read the run {path.name}: {exc}")
            return
        self.plots.load(curves)
        # A char model's samples are .abc, an event model's .events.txt.
        samples = sorted([*(path / "samples").glob("*.abc"), *(path / "samples").glob("*.txt")])
        note = ""
        if samples:
            self.sample_box.setTitle(f"Latest sample ({samples[-1].stem})")
            try:
                # A sample is a tune or two: anything far bigger is not one.
                text = read_text(samples[-1], max_bytes=MAX_SAMPLE_BYTES)
            except UnreadableFile as error:
                text, note = "", f" · cannot show the sample {samples[-1]}: {error}"
            self.sample_view.setPlainText(text)
        if not len(curves.step) and not len(curves.eval_step):
            metrics = path / "metrics.jsonl"
            note = f" · {metrics} holds no readable step or evaluation" + note
        self._set_status(f"Showing run {path.name}: {len(curves.step)} steps{note}")

    # -- starting runs ---------------------------------------------------------------------

    def _start_next(self) -> None:
        while self.queue:
            name, cfg = self.queue.popleft()
            self._set_queue(list(self.queue))
            if self._start_run(name, cfg):
                return
            if not self.session.data_specs:
                self._set_queue([])  # every queued run would fail the same way

    def fine_tune(self, checkpoint: Path | None = None) -> bool:
        """Start a run of the form's training settings from `checkpoint` (default: the shipped
        model) on the loaded dataset. Returns False (with a message shown) when it cannot."""
        checkpoint = checkpoint or default_checkpoint()
        if checkpoint is None:
            self._show_error("This installation has no shipped default model to fine-tune.")
            return False
        if checkpoint == default_checkpoint() and self.session.data_settings is not None:
            self._show_error(
                "The shipped model reads ABC tunes, not MIDI: fine-tune a MIDI model's "
                "checkpoint (Fine-tune a checkpoint…) or Start a new run on the MIDI pieces."
            )
            return False
        if not Path(checkpoint).is_file():
            self._show_error(f"Cannot fine-tune: {checkpoint} does not exist.")
            return False
        cfg = self.form.current_config()
        # The same fine-tuning defaults as `workbench train --init`, unless the form's learning
        # rate or warm-up was changed from the from-scratch default.
        scratch = TrainConfig()
        fine_tune_defaults(
            cfg.train,
            lr_given=cfg.train.lr != scratch.lr,
            warmup_given=cfg.train.warmup_steps != scratch.warmup_steps,
        )
        base = "default" if checkpoint == default_checkpoint() else Path(checkpoint).parent.name
        name = f"finetune-{base}-{time.strftime('%Y%m%d-%H%M%S')}"
        return self._start_run(name, cfg, init=Path(checkpoint))

    def _on_fine_tune_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Fine-tune a checkpoint", str(self.runs_root or ""), "Checkpoints (*.pt)"
        )
        if path:
            self.fine_tune(Path(path))

    def _start_run(self, name: str, cfg: RunConfig, init: Path | None = None) -> bool:
        if not self.session.data_specs:
            self._show_error(NO_DATA)
            return False
        cfg = RunConfig.from_dict(cfg.to_dict())  # a copy: the split comes from the session
        cfg.train.val_fraction = self.session.val_fraction
        cfg.train.seed = self.session.seed
        try:
            cfg.validate()
            run_dir = self._new_run_dir(name, cfg)
        except (ValueError, OSError) as exc:
            self._show_error(f"Cannot start: {exc}")
            return False
        self.plots.clear()
        spec = JobSpec(
            data=list(self.session.data_specs),
            run_dir=str(run_dir),
            config=cfg.to_dict(),
            init=str(init) if init is not None else None,
            # MIDI is read as the dataset pane read it (a checkpoint keeps its own encoding).
            midi_settings=self.session.data_settings,
        )
        verb = "Fine-tuning" if init is not None else "Starting"
        self._begin(spec, f"{verb} {run_dir.name}…")
        return True

    def _new_run_dir(self, name: str, cfg: RunConfig) -> Path:
        root = self.runs_root or default_runs_root()
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
        base = base or f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.model.arch}"
        root.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):
            path = root / (base if n == 1 else f"{base}-{n}")
            try:
                path.mkdir()  # reserves the name: queued runs may start within one second
                return path
            except FileExistsError:
                continue
        raise OSError(f"too many runs named {base} in {root}")

    def _begin(self, spec: JobSpec, status: str) -> None:
        self.stop_following()
        self.error_label.hide()
        self._stop_requested = False
        self._progress = {}
        self.sample_view.clear()
        self.sample_box.setTitle("Latest sample")
        try:
            self.driver.start(spec)
        except (OSError, RuntimeError) as exc:  # no process could be started
            self._show_error(f"Cannot start the training process: {exc}")
            return
        self.progress_bar.setRange(0, 0)  # busy until the trainer reports its plan
        self.progress_bar.setFormat("%p%")
        self.session.run = Path(spec.run_dir)
        self._set_status(status)
        self._update_buttons()
        self.running_changed.emit(True)

    # -- buttons ---------------------------------------------------------------------------

    def _on_start_clicked(self) -> None:
        self._start_run(self.form.run_name(), self.form.current_config())

    def _on_pause_clicked(self) -> None:
        if self.driver.paused:
            self.driver.resume()
            self._set_status("Resuming…")
        else:
            self.driver.pause()
            self._set_status("Pausing…")
        self._update_buttons()

    def _on_stop_clicked(self) -> None:
        self._stop_requested = True
        if self.queue:
            self._set_queue([])
        self.driver.stop()
        self._set_status("Stopping: evaluating and saving last.pt…")
        self._update_buttons()

    def _on_save_clicked(self) -> None:
        self.driver.save_now()
        self._set_status("Saving last.pt at the next step…")

    def _on_resume_run_clicked(self) -> None:
        run = self.session.run
        if run is None or not (run / "last.pt").exists():
            self._show_error("Select a run with a last.pt to resume.")
            return
        if not self.session.data_specs:
            self._show_error(NO_DATA)
            return
        self.show_run(run)  # the resumed run's steps continue these curves
        spec = JobSpec(data=list(self.session.data_specs), run_dir=str(run), resume=True)
        self._begin(spec, f"Resuming {run.name}…")

    def _update_buttons(self) -> None:
        training = self.driver.running
        stopping = training and self._stop_requested
        run = self.session.run
        self.start_button.setEnabled(not training)
        self.fine_tune_button.setEnabled(not training)
        self.pause_button.setEnabled(training and not stopping)
        self.pause_button.setText("Resume" if self.driver.paused else "Pause")
        self.stop_button.setEnabled(training and not stopping)
        self.save_button.setEnabled(training and not stopping)
        self.resume_run_button.setEnabled(
            not training and run is not None and (run / "last.pt").exists()
        )
        self.form.setEnabled(not training)
        self.follow_button.setEnabled(not training)
        following = self.follow_driver.following
        self.follow_button.setText("Stop following" if following else "Follow run directory…")

    # -- the run's events ------------------------------------------------------------------

    def _on_driver_events_received(self, events: list[dict[str, Any]]) -> None:
        self.plots.append(events)
        p = self._progress
        for event in events:
            kind = event.get("event")
            if kind == "step":
                p["step"] = event
                if "first" not in p:
                    p["first"], p["t0"] = event, time.monotonic()
            elif kind == "eval":
                p["eval"] = event
                if event.get("sample"):
                    self.sample_box.setTitle(f"Latest sample (step {event['step']})")
                    self.sample_view.setPlainText(event["sample"])
            elif kind == "start":
                p["start"] = event
                p["budget"] = self._time_budget()
                self.progress_bar.setRange(0, PROGRESS_STEPS)
            elif kind == "loaded":
                problems = len(event.get("problems", []))
                extra = f" ({problems} with problems)" if problems else ""
                what = f"{event.get('tunes')} {event.get('noun', 'tunes')}"
                if event.get("encoding"):
                    what += f" ({event['encoding']} events)"
                self._set_status(f"Loaded {what}{extra}; building the model…")
            elif kind == "checkpoint":
                self._set_status(f"Saved {Path(event['path']).name} at step {event['step']}")
        if "step" in p:
            self._show_progress()

    def _time_budget(self) -> float:
        # config.json is written before the start event; a resumed run's spec has no config.
        try:
            path = (self.follow_driver.run_dir or self.driver.run_dir) / "config.json"
            return float(json.loads(read_text_regular(path))["train"]["time_budget"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0.0

    def _show_progress(self) -> None:
        p = self._progress
        step, first = p["step"], p["first"]
        total = p.get("start", {}).get("total_steps") or 0
        budget = p.get("budget", 0.0)
        done, etas = 0.0, []
        # Wall-clock rate: evaluations, samples and saving take their share of the time left.
        rate = (step["step"] - first["step"]) / max(time.monotonic() - p["t0"], 1e-9)
        if self.follow_driver.following:
            # Another process's run, caught up in one read: its own clock gives the rate.
            took = step.get("elapsed", 0.0) - first.get("elapsed", 0.0)
            rate = (step["step"] - first["step"]) / max(took, 1e-9)
        if total:
            done = step["step"] / total
            if rate > 0:
                etas.append((total - step["step"]) / rate)
        if budget:
            # The run ends at whichever limit comes first.
            done = max(done, step["elapsed"] / budget)
            etas.append(budget - step["elapsed"])
        if "end" in p:
            # A followed run that has ended (this may be its writer going away, just after):
            # the bar keeps saying how it ended, not a stale percentage and ETA.
            self._show_followed_end()
        else:
            self.progress_bar.setValue(int(min(done, 1.0) * PROGRESS_STEPS))
            eta = f" · ETA {_duration(min(etas))}" if etas and step is not first else ""
            self.progress_bar.setFormat(f"{done:.0%}{eta}")
        text = (
            f"Step {step['step']} · epoch {step['epoch']:.2f} · loss {step['loss']:.3f}"
            f" · {step.get('chars_per_sec', 0):,.0f} {p.get('start', {}).get('unit', 'char')}s/s"
        )
        if "eval" in p:
            e = p["eval"]
            text += f" · val {e['val_loss']:.3f} (best {e['best_val_loss']:.3f})"
        if self._stop_requested:
            text = f"Stopping · {text}"
        elif self.driver.paused:
            text = f"Paused · {text}"
        elif self.follow_driver.following:
            text = f"{self._follow_state()} · {text}{self._follow_damage()}"
        self._set_status(text)

    def _on_driver_paused_changed(self, paused: bool) -> None:
        self._update_buttons()
        if "step" in self._progress:
            self._show_progress()
        else:
            self._set_status("Paused" if paused else "Resumed")

    def _on_driver_finished(self, reason: str) -> None:
        step = self._progress.get("step", {}).get("step", 0)
        # Before _run_ended, which may start the next queued run (and reset the bar).
        if self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, PROGRESS_STEPS)
        if reason == "epochs":
            self.progress_bar.setValue(PROGRESS_STEPS)
        self.progress_bar.setFormat(self._ended_text(reason))
        self._run_ended(
            f"Run {self.driver.run_dir.name}: {END_REASONS.get(reason, reason)} at step {step}"
        )

    def _ended_text(self, reason: str) -> str:
        """What the progress bar says once a run is over (no stale ETA): how it ended, after
        how many steps (of how many) and in how long."""
        p = self._progress
        step = p.get("step", {})
        steps, total = step.get("step", 0), p.get("start", {}).get("total_steps") or 0
        took = f" in {_duration(step['elapsed'])}" if "elapsed" in step else ""
        if reason == "failed":
            return f"Failed at step {steps:,}"
        if reason == "stopped":
            of = f" of {total:,}" if total else ""
            return f"Stopped after {steps:,}{of} steps{took}"
        why = {"time": " (time budget)", "early_stop": " (stopped early)"}.get(reason, "")
        return f"Done: {steps:,} steps{took}{why}"

    def _on_driver_failed(self, message: str) -> None:
        self._show_error(f"Training failed: {message}", self.driver.traceback)
        self.progress_bar.setFormat(self._ended_text("failed"))
        self._run_ended(f"Training failed: {message}")

    def _run_ended(self, status: str) -> None:
        if self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.plots.redraw()  # the final points, without waiting for the redraw timer
        best = self.driver.run_dir / "best.pt"
        if best.exists():
            self.session.checkpoint = best
        self._set_status(status)
        self._update_buttons()
        self.running_changed.emit(False)
        if self.queue and not self._stop_requested:
            self._start_next()

    # -- following a run another process writes -------------------------------------------

    def is_following(self) -> bool:
        return self.follow_driver.following

    def follow_run(self, path: Path) -> bool:
        """Show the run in `path` live as another process writes it (the curves, progress and
        latest sample), without owning that process. Returns False (with a message) if not."""
        path = Path(path)
        if self.driver.running:
            self._show_error("A run is training here: stop it before following another.")
            return False
        if not ((path / "config.json").is_file() or (path / "metrics.jsonl").is_file()):
            self._show_error(
                f"Cannot follow {path}: it is not a run directory (no config.json or "
                "metrics.jsonl in it)"
            )
            return False
        self.stop_following()
        self.error_label.hide()
        self._progress = {}
        self.plots.clear()
        self.sample_view.clear()
        self.sample_box.setTitle("Latest sample")
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%p%")
        self._set_status(f"Following {path.name}: reading {path / 'metrics.jsonl'}…")
        self.follow_driver.start(path)
        if self.follow_driver.follower.config_error:  # read by the first poll, after the
            self._on_follow_liveness_changed(None)  # status was set: say it now
        self._update_buttons()
        return True

    def stop_following(self) -> None:
        """Stop following; the curves and sample shown stay."""
        if not self.follow_driver.following:
            return
        name = self.follow_driver.run_dir.name
        self.follow_driver.stop()
        self.plots.redraw()  # the points read last, without waiting for the redraw timer
        self._set_status(f"Stopped following {name} (its curves stay)")
        self._update_buttons()

    def _on_follow_clicked(self) -> None:
        if self.follow_driver.following:
            self.stop_following()
            return
        start = self.runs_root or default_runs_root()
        folder = QFileDialog.getExistingDirectory(self, "Follow a run directory", str(start))
        if folder:
            self.follow_run(Path(folder))

    def _follow_state(self) -> str:
        name = self.follow_driver.run_dir.name
        live = self.follow_driver.liveness
        if "end" in self._progress:
            return f"Following {name} (ended)"
        if live is None:
            return f"Following {name}"
        if live.running:
            return f"Following {name} (running)"
        return f"Following {name} (not running: {live.why or 'no process is writing it'})"

    def _follow_damage(self) -> str:
        """What is wrong with the followed run's files (a config.json that is not JSON,
        garbage lines in metrics.jsonl), for the status line; "" when nothing."""
        follower = self.follow_driver.follower
        if follower is None:
            return ""
        notes = [follower.config_error] if follower.config_error else []
        if follower.skipped:
            lines = "line" if follower.skipped == 1 else "lines"
            notes.append(f"{follower.skipped} damaged {lines} of {follower.metrics_path} skipped")
        return "".join(f" · {note}" for note in notes)

    def _on_follow_events_received(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event.get("event") == "start":  # a resumed run goes on
                self._progress.pop("end", None)
            elif event.get("event") == "end":
                self._progress["end"] = event
        self._on_driver_events_received(events)
        if "end" in self._progress:
            self._show_followed_end()
        if "step" not in self._progress:
            self._set_status(f"{self._follow_state()}: no steps yet{self._follow_damage()}")

    def _show_followed_end(self) -> None:
        """The progress bar of a followed run whose "end" event has been read."""
        reason = str(self._progress["end"].get("reason", ""))
        if reason == "epochs":
            self.progress_bar.setValue(PROGRESS_STEPS)
        self.progress_bar.setFormat(self._ended_text(reason))

    def _on_follow_restarted(self) -> None:
        # metrics.jsonl was replaced or truncated (a run started over): show it afresh.
        self._progress = {}
        self.plots.clear()

    def _on_follow_sample_changed(self, name: str, text: str) -> None:
        step = re.match(r"step0*(\d+)", name)
        self.sample_box.setTitle(f"Latest sample (step {step[1]})" if step else name)
        self.sample_view.setPlainText(text)

    def _on_follow_liveness_changed(self, _liveness: object) -> None:
        if "step" in self._progress:
            self._show_progress()
        else:
            self._set_status(f"{self._follow_state()}: no steps yet{self._follow_damage()}")

    # -- session and display ---------------------------------------------------------------

    def _on_session_run_changed(self, run: Path | None) -> None:
        self._update_buttons()
        # While training, the live curves stay; the run just started is the one selected.
        if run is not None and not self.driver.running and (run / "metrics.jsonl").exists():
            self.show_run(run)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        run = self.session.run
        if not self._replayed and run is not None and not self.driver.running:
            self._replayed = True
            if (run / "metrics.jsonl").exists():
                # After the first paint: reading a long metrics file takes a moment.
                QTimer.singleShot(0, self, lambda: self.show_run(run))

    def _set_queue(self, runs: list[tuple[str, RunConfig]]) -> None:
        self.queue = deque(runs)
        self.queue_label.setText(f"Queue: {len(self.queue)} waiting")
        self.queue_label.setVisible(bool(self.queue))

    def _show_error(self, text: str, details: str | None = None) -> None:
        self.error_label.setText(text)
        self.error_label.setToolTip(details or "")
        self.error_label.show()
        self.status_changed.emit(text)

    def _set_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_changed.emit(text)
