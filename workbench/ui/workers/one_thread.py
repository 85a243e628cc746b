"""The launcher side shared by workers that run one background QThread at a time.

A subclass declares its own result signals, and its ``start(...)`` calls :meth:`_begin`, builds
its thread with ``self._stop`` (a threading.Event the thread polls), connects the thread's
signals to its own, and hands the thread to :meth:`_launch`. ``finished`` follows the result
signal of every run (both are queued, in emission order).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal

from workbench.ui.lifetimes import keep_thread_alive


class OneThreadWorker(QObject):
    """Runs one QThread at a time; ``cancel()`` sets the stop event, ``shutdown()`` waits."""

    finished = Signal()

    #: How long :meth:`wait` blocks by default.
    wait_ms = 10_000

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        # One event for every run: _begin() refuses while a run is going, so no two share it.
        self._stop = threading.Event()
        # If this object dies with its parent mid-run, the thread still stops at its next check.
        self.destroyed.connect(self._stop.set)

    def is_running(self) -> bool:
        return self._thread is not None

    def _begin(self, what: str) -> None:
        """Refuse while a run is going (RuntimeError naming ``what``); else clear the stop."""
        if self._thread is not None:
            raise RuntimeError(f"{what} is already running")
        self._stop.clear()

    def _launch(self, thread: QThread) -> None:
        thread.finished.connect(self._on_thread_finished)
        # Destroying a running QThread aborts the process, so the thread keeps itself alive
        # (even if this worker is deleted first) until it has finished and Qt deletes it.
        keep_thread_alive(thread)
        self._thread = thread
        thread.start()

    def cancel(self) -> None:
        """Ask the running thread (if any) to stop at its next check."""
        self._stop.set()

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Block until the running thread ends; True when no thread is left running."""
        thread = self._thread
        return thread is None or thread.wait(self.wait_ms if timeout_ms is None else timeout_ms)

    def shutdown(self) -> None:
        """Cancel any running thread and wait for it to end."""
        if self._thread is not None:
            self.cancel()
            self._thread.wait()

    def _on_thread_finished(self) -> None:
        self._thread = None
        self.finished.emit()
