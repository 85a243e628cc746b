"""Validation and score rendering off the GUI thread, where only the latest request matters.

While the user types, every pause asks for a fresh validation and a fresh score; an answer to
an older text is worthless once a newer one is asked for. :class:`LatestOnlyWorker` keeps one
thread and a single pending slot: a request replaces any request still waiting, and an answer
whose job id is no longer the latest is dropped before it reaches the GUI (``dropped`` counts
them). The GUI never waits on the thread except in :meth:`LatestOnlyWorker.shutdown`.

* :class:`ValidationWorker` runs :func:`workbench.notation.validate.validate_abc` on each tune
  of the document and shifts the problems' line numbers to document lines.
* :class:`RenderWorker` sends the ABC to a :class:`workbench.notation.render.ScoreRenderer`,
  which engraves it with verovio in a child process (verovio can kill the process on some
  malformed ABC, so it never runs in ours); this thread only waits for its answer.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from workbench.ui.lifetimes import keep_thread_alive

log = logging.getLogger(__name__)

# Threads still running, whether or not their worker object still exists: destroying a running
# QThread aborts the process, so a thread keeps itself referenced until it has finished.


class _LoopThread(QThread):
    """Takes the pending job, runs it, emits the answer; repeats until stopped."""

    answered = Signal(int, object, str)  # job id, result (None on failure), error message

    def __init__(self, owner: LatestOnlyWorker) -> None:
        super().__init__()
        self._setup = owner._setup
        self._run_job = owner._run
        self._teardown = owner._teardown
        self._condition = owner._condition
        self._state = owner._state

    def run(self) -> None:
        context = None
        try:
            context = self._setup()
        except Exception as error:  # keep the thread alive: each job reports the failure
            log.exception("worker set-up failed")
            setup_error = f"cannot start: {error}"
        else:
            setup_error = ""
        try:
            while True:
                with self._condition:
                    while self._state["pending"] is None and not self._state["stop"]:
                        self._condition.wait()
                    if self._state["stop"]:
                        return
                    job_id, payload = self._state["pending"]
                    self._state["pending"] = None
                if setup_error:
                    self.answered.emit(job_id, None, setup_error)
                    continue
                try:
                    result = self._run_job(context, payload)
                except Exception as error:  # a bug or a dead child process: show, don't lose
                    log.exception("worker job failed")
                    self.answered.emit(job_id, None, str(error) or type(error).__name__)
                else:
                    self.answered.emit(job_id, result, "")
        finally:
            if context is not None:
                try:
                    self._teardown(context)
                except Exception:
                    log.exception("worker teardown failed")


class LatestOnlyWorker(QObject):
    """One background thread that answers only the newest request.

    ``submit(payload)`` returns a job id; ``finished_job(job_id, result)`` or
    ``failed_job(job_id, message)`` follows for that id unless a newer one was submitted first.
    Subclasses override :meth:`_setup` (runs once on the thread), :meth:`_run` and
    :meth:`_teardown`. Call :meth:`shutdown` before the application quits.
    """

    finished_job = Signal(int, object)
    failed_job = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._condition = threading.Condition()
        self._state: dict[str, Any] = {"pending": None, "stop": False}
        self._latest = 0
        self.dropped = 0
        self._thread: _LoopThread | None = None

    # -- to override (these run on the worker thread) ----------------------------------------

    def _setup(self) -> Any:
        return None

    def _run(self, context: Any, payload: Any) -> Any:
        raise NotImplementedError

    def _teardown(self, context: Any) -> None:
        pass

    # -- GUI side ----------------------------------------------------------------------------

    @property
    def latest_job(self) -> int:
        return self._latest

    def start(self) -> None:
        """Start the thread now (``submit`` starts it too); useful to warm up early."""
        if self._thread is not None:
            return
        thread = _LoopThread(self)
        thread.answered.connect(self._on_answered)
        keep_thread_alive(thread)
        thread.finished.connect(self._on_thread_finished)
        # If this object is deleted with its parent, the thread still stops.
        self.destroyed.connect(functools.partial(_request_stop, self._condition, self._state))
        self._thread = thread
        thread.start()

    def submit(self, payload: Any) -> int:
        """Ask for ``payload`` to be processed, replacing any request not yet started."""
        if self._state["stop"]:
            raise RuntimeError("worker was shut down")
        self.start()
        with self._condition:
            self._latest += 1
            if self._state["pending"] is not None:
                self.dropped += 1
            self._state["pending"] = (self._latest, payload)
            self._condition.notify()
        return self._latest

    def cancel(self) -> None:
        """Forget the pending request and ignore the answer of the running one."""
        with self._condition:
            self._state["pending"] = None
            self._latest += 1

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop the thread after its current job; True when it has ended. Safe to repeat."""
        _request_stop(self._condition, self._state)
        thread = self._thread
        if thread is None:
            return True
        try:
            ended = thread.wait(timeout_ms)
        except RuntimeError:  # its C++ object is gone: it finished and was deleted
            ended = True
        if ended:
            self._thread = None
        return ended

    def _on_thread_finished(self) -> None:
        self._thread = None

    def _on_answered(self, job_id: int, result: object, error: str) -> None:
        if job_id != self._latest:
            self.dropped += 1
            return
        if error:
            self.failed_job.emit(job_id, error)
        else:
            self.finished_job.emit(job_id, result)


def _request_stop(condition: threading.Condition, state: dict[str, Any], *_args: object) -> None:
    with condition:
        state["stop"] = True
        state["pending"] = None
        condition.notify_all()


class ValidationWorker(LatestOnlyWorker):
    """Validates tunes: payload = [(first line of the tune in the document, tune text), ...].

    The result is the list of all problems, with ``line`` counted in the whole document.
    """

    def _run(self, context: Any, payload: Sequence[tuple[int, str]]) -> list[Any]:
        from workbench.notation.validate import validate_abc

        problems: list[Any] = []
        for first_line, text in payload:
            for problem in validate_abc(text):
                problems.append(_shifted(problem, first_line - 1))
        return problems


def _shifted(problem: Any, lines: int) -> Any:
    """``problem`` moved down by ``lines`` lines (the tune's offset in the document)."""
    if lines == 0:
        return problem
    if dataclasses.is_dataclass(problem):
        return dataclasses.replace(problem, line=problem.line + lines)
    return problem._replace(line=problem.line + lines)  # a NamedTuple


class RenderWorker(LatestOnlyWorker):
    """Engraves ABC: payload = ABC text (one tune); result = a ``RenderResult``."""

    def __init__(self, parent: QObject | None = None, *, scale: int = 40) -> None:
        super().__init__(parent)
        self.scale = scale

    def _setup(self) -> Any:
        from workbench.notation.render import ScoreRenderer

        return ScoreRenderer()

    def _run(self, context: Any, payload: str) -> Any:
        return context.render(payload, scale=self.scale)

    def _teardown(self, context: Any) -> None:
        context.close()
