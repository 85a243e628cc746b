"""Drives a `TrainingJob` (the spawned trainer process) from the Qt event loop.

A QTimer polls the job every ~40 ms and hands what arrived to the view in one `events_received`
batch, so a fast trainer costs one slot call per tick, not one per step. The end of a run comes
as `finished(reason)`; a trainer error, or a child that died without a word, as `failed(message)`.
The job itself is Qt-free (`workbench.training_job`); tests may pass a fake `job_factory`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from workbench.training_job import JobSpec, TrainingJob

POLL_MS = 40


class TrainingDriver(QObject):
    """One run at a time: start, pause/resume, save, stop, and the events in between."""

    started = Signal(str)  # the run directory
    # object, not list: PySide converts a `list` argument through QVariant, and lists of dicts
    # holding None crashed the GUI with a refcount error ("deallocating None") mid-run.
    events_received = Signal(object)  # list of event dicts, in order
    paused_changed = Signal(bool)  # confirmed by the trainer
    finished = Signal(str)  # the trainer's end reason: epochs, time, early_stop, stopped
    failed = Signal(str)  # an error message; the run's last.pt (if any) is kept

    def __init__(
        self,
        parent: QObject | None = None,
        job_factory: Callable[[JobSpec], Any] = TrainingJob,
    ) -> None:
        super().__init__(parent)
        self.job_factory = job_factory
        self.job: Any = None
        self.spec: JobSpec | None = None
        self.traceback: str | None = None  # of the last failure, when it was unexpected
        self._active = False
        self._paused = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    # -- state -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True from `start` until the run's end or failure has been delivered."""
        return self._active

    @property
    def paused(self) -> bool:
        return self._active and self._paused

    @property
    def run_dir(self) -> Path | None:
        return Path(self.spec.run_dir) if self.spec is not None else None

    # -- commands --------------------------------------------------------------------------

    def start(self, spec: JobSpec) -> None:
        if self._active:
            raise RuntimeError("a training run is already in progress")
        self.spec = spec
        self.traceback = None
        self._paused = False
        self.job = self.job_factory(spec)
        self.job.start()
        self._active = True
        self._timer.start()
        self.started.emit(spec.run_dir)

    def pause(self) -> None:
        if self._active and not self._paused:
            self._paused = True
            self.job.pause()

    def resume(self) -> None:
        if self._active and self._paused:
            self._paused = False
            self.job.resume()

    def save_now(self) -> None:
        if self._active:
            self.job.save_now()

    def stop(self) -> None:
        """Ask the trainer to stop; it evaluates, writes last.pt, then reports its end."""
        if self._active:
            self.job.stop()

    def stop_and_wait(self, timeout: float = 30.0) -> bool:
        """Stop and block until the run has ended and its process exited (closing the app).

        Events keep flowing to the view meanwhile. Returns False if the trainer had to be
        killed after `timeout` seconds (its last.pt is then the one of its last evaluation).
        """
        deadline = time.monotonic() + timeout
        self.stop()
        while self._active and time.monotonic() < deadline:
            time.sleep(0.05)
            self._on_timer_timeout()
        clean = not self._active
        if self.job is not None:
            self.job.wait(max(0.0, deadline - time.monotonic()))
            if self.job.running or self._active:
                clean = False
                self.job.kill()
                self._fail("the training process did not stop in time and was ended")
        return clean

    # -- polling ---------------------------------------------------------------------------

    def _on_timer_timeout(self) -> None:
        if not self._active:
            self._timer.stop()
            return
        events = self.job.poll()
        if not events:
            return
        self.events_received.emit(events)
        for event in events:
            kind = event.get("event")
            if kind in ("paused", "resumed"):
                self._paused = kind == "paused"
                self.paused_changed.emit(self._paused)
            elif kind == "end":
                self._end()
                self.finished.emit(str(event.get("reason", "finished")))
                return
            elif kind == "error":
                self.traceback = event.get("traceback")
                self._fail(str(event.get("message") or "the trainer failed"))
                return

    def _end(self) -> None:
        # State is final before the signal goes out: a slot may start the next run at once.
        self._active = False
        self._paused = False
        self._timer.stop()

    def _fail(self, message: str) -> None:
        if self._active:
            self._end()
            self.failed.emit(message)
