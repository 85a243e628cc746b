"""Reading a chosen checkpoint on a worker thread before a pane switches to it.

A pane that lets the user pick a model file (the Neurons pane's Model…) must refuse a file that
is no checkpoint, naming it, and keep the model in use. Reading the file is what tells, and a
file picked by hand may be anything: a checkpoint of a few MiB reads in milliseconds, but a
multi-GiB file, a slow network share or a file a program is still writing would freeze the
window if it were read on the GUI thread. So it is read here, and the answer comes back as a
signal.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from models.errors import EngineError
from workbench.ui.workers.one_thread import OneThreadWorker


class _CheckThread(QThread):
    accepted = Signal(object, str)  # path, the checkpoint's description
    refused = Signal(object, str)  # path, why

    def __init__(self, path: Path, stop: threading.Event) -> None:
        super().__init__()
        self.path = path
        self.stop = stop

    def run(self) -> None:
        from models.checkpoint import load_checkpoint

        try:
            ckpt = load_checkpoint(self.path)
        except (EngineError, OSError) as error:
            self.refused.emit(self.path, str(error))
            return
        except Exception as error:  # anything else a hostile file provokes: refused, named
            self.refused.emit(self.path, f"{self.path.name}: {error}")
            return
        self.accepted.emit(self.path, ckpt.describe())


class CheckpointCheck(OneThreadWorker):
    """``check(path)`` reads the file on a thread; ``accepted(path, description)`` or
    ``refused(path, message)`` follows. A check asked for while one runs replaces any other
    waiting one and starts when the running one ends: the user's last choice wins."""

    accepted = Signal(object, str)
    refused = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._waiting: Path | None = None
        self.finished.connect(self._start_waiting)

    def check(self, path: Path) -> None:
        if self.is_running():
            self._waiting = Path(path)
            return
        self._begin("a checkpoint check")
        thread = _CheckThread(Path(path), self._stop)
        thread.accepted.connect(self._on_accepted)
        thread.refused.connect(self._on_refused)
        self._launch(thread)

    # An answer about a file the user has since replaced by another choice is dropped.
    def _on_accepted(self, path: Path, description: str) -> None:
        if self._waiting is None:
            self.accepted.emit(path, description)

    def _on_refused(self, path: Path, message: str) -> None:
        if self._waiting is None:
            self.refused.emit(path, message)

    def _start_waiting(self) -> None:
        path, self._waiting = self._waiting, None
        if path is not None:
            self.check(path)
