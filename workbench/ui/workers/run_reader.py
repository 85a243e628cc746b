"""Reading long training logs for Run history on a worker thread.

A run's metrics.jsonl gains a line per step: a long GPU run's log holds hundreds of thousands
(400,000 steps: 60 MB, 1.2-2.0 s to summarise and 2.6-4.0 s to read as curves on the 2-core
machine, quiet or loaded: `benchmarks/run_history_rescan.py`). Run history read every run's log
on the GUI thread at its first scan, so opening the app on a folder of long runs, or ticking
one, froze the window for seconds. The widget now hands any read of more than `BACKGROUND_BYTES`
new bytes to this worker and shows the run as "reading…" meanwhile; reads that size or smaller
(every rescan of a run that grows, thanks to the tails in `workbench.runs`) stay on the GUI
thread, where they take milliseconds.

A job carries the tail object the widget keeps for that run; the widget does not touch that
tail until the job's answer has come back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from workbench.runs import CurvesTail, MetricsTail, read_run
from workbench.ui.workers.one_thread import OneThreadWorker

#: New bytes of a log above which it is read on the worker: 2 MB parse in about 60 ms.
BACKGROUND_BYTES = 2 << 20


@dataclass
class ReadJob:
    """One log to read: a run's summary ("run") or its curves ("curves")."""

    kind: str
    path: Path  # the run directory
    tail: MetricsTail | CurvesTail
    stamp: object  # the metrics.jsonl stamp seen when the job was queued


class _ReadThread(QThread):
    read = Signal(object, object)  # ReadJob, RunInfo | Curves | None

    def __init__(self, jobs: list[ReadJob], stop: threading.Event) -> None:
        super().__init__()
        self.jobs = jobs
        self.stop = stop

    def run(self) -> None:
        for job in self.jobs:
            if self.stop.is_set():
                return
            result: object = None
            try:
                if job.kind == "run":
                    result = read_run(job.path, job.tail)  # type: ignore[arg-type]
                else:
                    result = job.tail.read(job.path / "metrics.jsonl")  # type: ignore[union-attr]
            except Exception:  # anything: every job is answered, or its row stays "reading…"
                result = None  # gone or unreadable since it was queued: the next scan says so
            self.read.emit(job, result)


class RunReader(OneThreadWorker):
    """Reads queued logs one after another; `read(job, result)` answers each on the GUI
    thread (result None: the log could not be read)."""

    read = Signal(object, object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._queue: list[ReadJob] = []
        self.finished.connect(self._start_queued)

    def submit(self, job: ReadJob) -> None:
        """Read `job` after what is queued (at once when nothing is being read)."""
        self._queue.append(job)
        self._start_queued()

    def _start_queued(self) -> None:
        if self.is_running() or not self._queue:
            return
        jobs, self._queue = self._queue, []
        self._begin("reading run logs")
        thread = _ReadThread(jobs, self._stop)
        thread.read.connect(self.read)
        self._launch(thread)

    def shutdown(self) -> None:
        self._queue.clear()
        super().shutdown()


def unread_bytes(stamp: tuple[int, int] | None, tail: MetricsTail | CurvesTail) -> int:
    """How many bytes of a log whose (mtime_ns, size) `stamp` the caller has taken reading on
    with `tail` would parse (all of a shorter, replaced file's; none of a missing one's)."""
    if stamp is None:
        return 0
    size = stamp[1]
    return size - tail.offset if size >= tail.offset else size
