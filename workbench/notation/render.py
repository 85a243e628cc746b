"""Engraving ABC tunes as SVG pages with verovio, in a child process that may crash safely.

verovio kills its process (SIGSEGV/SIGABRT) on some malformed ABC: a stray ``]`` in the body,
a tune without ``K:``, certain garbage. So it never runs in the application's process.
:class:`ScoreRenderer` keeps one long-lived worker process (start-up, i.e. a new interpreter
importing verovio, costs ~0.5-1 s; a warm render of a 40-bar tune costs tens of ms), restarts
it after a crash or a timeout, and turns either into a :class:`RenderResult` with an error.

Why ``multiprocessing`` (spawn context) and a ``Pipe`` rather than ``subprocess`` with a
hand-made protocol: the pipe frames and pickles messages for us; spawn behaves the same on
every platform and is what the training process already uses; and it works in a frozen
(PyInstaller) build through ``multiprocessing.freeze_support()``, where ``sys.executable -m``
would start the application again. The child holds only its own end of the pipe, so when this
process dies, however it dies, the child's ``recv()`` hits end-of-file and it exits: no
orphans. It is also a daemon process, which multiprocessing ends at a normal exit. One cost
of spawn: the child re-imports the main script's top-level imports (not ``python -m pkg`` or
console-script mains), so a script that imports torch at the top adds seconds to each worker
start; keep such imports inside functions.

The pages are verovio's SVG repaired for QtSvg (see
:func:`workbench.notation._render_worker.qtsvg_compatible`). Nothing here imports Qt.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from workbench.notation._render_worker import qtsvg_compatible, serve

__all__ = ["RenderResult", "ScoreRenderer", "qtsvg_compatible", "render_svg_once"]

_KEY_LINE = re.compile(r"^K:", re.MULTILINE)


@dataclass
class RenderResult:
    """SVG pages of one tune (empty on failure) and what went wrong, if anything.

    ``pages`` are whole SVG documents, one per page, drawable by QtSvg. ``timemap`` (only
    when asked for) is verovio's timemap: a list of dicts ordered by time, with ``tstamp``
    (ms, at the tune's tempo, 120 quarters/min without ``Q:``), ``qstamp`` (quarter notes),
    ``on``/``off`` (lists of SVG element ids of the notes starting/ending then) and
    ``measureOn`` (a measure's element id), for highlighting notes in the score; notes
    played again in a repeat carry a ``-rend2`` (``-rend3``...) suffix on the drawn id. It stays
    None when verovio fails to compute it: verovio 6.4 crashes on the timemap of many tunes
    with repeats (the pages still come back, and the worker is restarted).

    ``notes`` lists ``(kind, page index, SVG element id)`` of every drawn note, chord and rest
    in written order (kind "note", "chord" or "rest"); with
    :func:`workbench.notation.score_notes.note_elements` it finds the drawn element of a note
    written in the ABC, which is how the score follows playback without the timemap.
    """

    pages: list[str]
    error: str | None = None
    timemap: list[dict[str, Any]] | None = None
    notes: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.pages)


def precheck(abc: str) -> str | None:
    """Why ``abc`` cannot be engraved, for problems found without verovio (or None).

    Cheaper and clearer than letting verovio crash on them and restarting it.
    """
    if not abc.strip():
        return "the tune is empty"
    if not _KEY_LINE.search(abc):
        return "the tune has no K: (key) field; verovio needs one to engrave it"
    return None


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "it stopped answering"
    if code < 0:
        try:
            return f"signal {-code}, {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


class _Worker:
    """One spawned engraver process and this side's end of its pipe."""

    def __init__(self, ctx: Any) -> None:
        self.conn, child_end = ctx.Pipe(duplex=True)
        self.process = ctx.Process(
            target=serve, args=(child_end,), name="workbench-engraver", daemon=True
        )
        self.process.start()  # returns at once; the child boots (imports verovio) meanwhile
        # Only the child may hold its end: then the child's recv() sees end-of-file as soon
        # as this process closes its own end or dies.
        child_end.close()

    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self, *, kill: bool) -> int | None:
        """End the process (politely unless ``kill``) and return its exit code."""
        if not kill and self.process.is_alive():
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(2.0)
        self.conn.close()
        code = self.process.exitcode
        if code is not None:
            self.process.close()
        return code


class ScoreRenderer:
    """Renders tunes to SVG in one persistent verovio worker process.

    :meth:`render` blocks: call it from a worker thread. Calls are serialised by a lock (the
    worker handles one tune at a time). The worker starts in the constructor, so it is
    usually warm by the first render. After the first render a standby worker is started
    too: a crash or timeout swaps it in, so the render after a crash does not wait ~0.5 s
    for a new process (half-typed ABC crashes verovio often), and a new standby starts.
    :meth:`close` (or leaving a ``with`` block) ends both; a closed renderer answers with an
    error result.
    """

    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._request_id = 0
        self._closed = False
        self.restarts = 0  # workers replaced after a crash or timeout
        self._standby: _Worker | None = None
        self._worker: _Worker | None = _Worker(self._ctx)

    # -- worker processes ----------------------------------------------------------------

    def _replace_worker(self) -> int | None:
        """Stop the current worker, put the standby (or a new one) in; returns the exit code."""
        code = self._worker.stop(kill=True) if self._worker is not None else None
        standby, self._standby = self._standby, None
        if standby is not None and not standby.alive():
            standby.stop(kill=True)
            standby = None
        self._worker = standby or _Worker(self._ctx)
        self.restarts += 1
        return code

    def _ensure_standby(self) -> None:
        if self._standby is None and not self._closed:
            self._standby = _Worker(self._ctx)

    def _stop_all(self, *, kill: bool) -> None:
        for worker in (self._worker, self._standby):
            if worker is not None:
                worker.stop(kill=kill)
        self._worker = self._standby = None

    @property
    def pids(self) -> list[int]:
        """The process ids of the worker and the standby worker, if started (diagnostics)."""
        return [w.process.pid for w in (self._worker, self._standby) if w is not None]

    @property
    def worker_pid(self) -> int | None:
        """The process id of the current worker (tests and diagnostics)."""
        worker = self._worker
        return worker.process.pid if worker is not None else None

    # -- rendering -----------------------------------------------------------------------

    def render(
        self,
        abc: str,
        *,
        scale: int = 40,
        page_width: int = 2100,
        page_height: int = 2970,
        timeout: float = 10.0,
        timemap: bool = False,
    ) -> RenderResult:
        """Engrave one ABC tune; returns its pages, or no pages and an error message.

        ``scale`` is verovio's zoom in percent; ``page_width``/``page_height`` are in
        verovio units (tenths of a millimetre at scale 100: 2100 x 2970 is A4). A tune
        that crashes the engraver or takes over ``timeout`` seconds gives an error result
        and a fresh worker for the next call. Never raises for bad ABC.
        """
        problem = precheck(abc)
        if problem is not None:
            return RenderResult([], problem)
        options = {
            "scale": int(scale),
            "pageWidth": int(page_width),
            "pageHeight": int(page_height),
            "footer": "none",  # no verovio logo under every page
        }
        with self._lock:
            if self._closed:
                return RenderResult([], "the score renderer is closed")
            if self._worker is None or not self._worker.alive():
                self._replace_worker()
            self._request_id += 1
            request = (self._request_id, abc, options, timemap)
            try:
                self._worker.conn.send(request)
            except OSError:  # the worker died since the last call: one fresh try
                self._replace_worker()
                self._worker.conn.send(request)
            result = self._wait(self._request_id, timeout, timemap)
            self._ensure_standby()
            return result

    def _wait(self, request_id: int, timeout: float, timemap: bool) -> RenderResult:
        deadline = time.monotonic() + timeout
        conn = self._worker.conn
        result: RenderResult | None = None
        while True:
            remaining = deadline - time.monotonic()
            try:
                ready = remaining > 0 and conn.poll(remaining)
                reply = conn.recv() if ready else None
            except (EOFError, OSError):
                if self._closed:
                    return RenderResult([], "the score renderer is closed")
                code = self._replace_worker()
                if result is not None:  # it died computing the timemap: keep the pages
                    return result
                return RenderResult(
                    [],
                    f"the engraver crashed on this tune ({_describe_exit(code)}); "
                    "the ABC probably has a syntax error verovio cannot handle",
                )
            if not ready:
                if self._closed:
                    return RenderResult([], "the score renderer is closed")
                self._replace_worker()
                if result is not None:
                    return result
                return RenderResult([], f"engraving took longer than {timeout:g} s and was stopped")
            if reply[0] != request_id:  # cannot happen: each worker gets one request at a time
                continue
            if result is not None:  # the timemap that follows the pages
                result.timemap = reply[1]
                return result
            result = RenderResult(reply[1], reply[2], notes=reply[3])
            if not (timemap and result.pages):
                return result

    def close(self) -> None:
        """End the worker processes. Safe to call twice, and from another thread mid-render."""
        self._closed = True
        if self._lock.acquire(timeout=0.1):
            try:
                self._stop_all(kill=False)
            finally:
                self._lock.release()
        else:  # a render is in flight: kill its worker, which ends that render ("closed")
            for worker in (self._worker, self._standby):
                if worker is not None and worker.alive():
                    worker.process.kill()
            with self._lock:
                self._stop_all(kill=True)

    def __enter__(self) -> ScoreRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_svg_once(abc: str, **options: Any) -> RenderResult:
    """Engrave one tune in a worker process started for it (for the CLI and scripts).

    Takes the keyword arguments of :meth:`ScoreRenderer.render`.
    """
    problem = precheck(abc)
    if problem is not None:
        return RenderResult([], problem)
    with ScoreRenderer() as renderer:
        return renderer.render(abc, **options)
