"""Drives a `RunFollower` (a run directory another process writes) from the Qt event loop.

A QTimer polls the follower every `POLL_MS`: an idle poll is one stat of metrics.jsonl, so
polling, rather than a QFileSystemWatcher, also serves synced and network folders, which often
send no change notifications. What a poll finds goes to the view in one `events_received` batch,
the same shape `TrainingDriver` emits, so the training pane shows a followed run with the code
that shows its own. Catching up on a long run reads `run_follow.MAX_BYTES` per tick and polls
again at once, so the GUI thread is never held for more than a few milliseconds. Whether a
process still writes the run is checked every `LIVENESS_MS` (it reads running.json).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from models.run_marker import Liveness
from workbench.run_follow import RunFollower

POLL_MS = 100
LIVENESS_MS = 2000


class FollowDriver(QObject):
    """Follows one run directory at a time: `start(path)`, `stop()`."""

    # object, not list: see TrainingDriver (PySide converts lists through QVariant).
    events_received = Signal(object)  # list of event dicts, in file order
    restarted = Signal()  # metrics.jsonl was replaced or truncated: events start over
    config_changed = Signal(object)  # config.json as a dict
    sample_changed = Signal(str, str)  # file name, text of the newest sample
    liveness_changed = Signal(object)  # models.run_marker.Liveness
    lines_skipped = Signal(int)  # garbage lines skipped so far, in all

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.follower: RunFollower | None = None
        self.liveness: Liveness | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._liveness_timer = QTimer(self)
        self._liveness_timer.setInterval(LIVENESS_MS)
        self._liveness_timer.timeout.connect(self._on_liveness_timer_timeout)

    @property
    def following(self) -> bool:
        return self.follower is not None

    @property
    def run_dir(self) -> Path | None:
        return self.follower.run_dir if self.follower is not None else None

    def start(self, run_dir: str | Path) -> None:
        """Follow `run_dir` from its first line (what is there now arrives at once)."""
        self.stop()
        self.follower = RunFollower(run_dir)
        self.liveness = None
        self._liveness_timer.start()
        self._on_liveness_timer_timeout()
        self.poll()

    def stop(self) -> None:
        """Stop following; what was shown stays shown."""
        self._timer.stop()
        self._liveness_timer.stop()
        self.follower = None

    def poll(self) -> None:
        """Read what is new now and schedule the next poll."""
        follower = self.follower
        if follower is None:
            return
        update = follower.poll()
        # Each emit may reach a slot that stops following: check before the next one.
        if update.config is not None:
            self.config_changed.emit(update.config)
        if update.restarted and self.follower is follower:
            self.restarted.emit()
        if update.events and self.follower is follower:
            self.events_received.emit(update.events)
        if update.sample is not None and self.follower is follower:
            self.sample_changed.emit(*update.sample)
        if update.skipped and self.follower is follower:
            self.lines_skipped.emit(follower.skipped)
        if self.follower is follower:
            self._timer.start(0 if update.more else POLL_MS)

    def _on_timer_timeout(self) -> None:
        self.poll()

    def _on_liveness_timer_timeout(self) -> None:
        if self.follower is None:
            return
        liveness = self.follower.liveness()
        # Only a change of state is news (the heartbeat's age changes at every check).
        changed = self.liveness is None or liveness.running != self.liveness.running
        self.liveness = liveness
        if changed:
            self.liveness_changed.emit(liveness)
