"""Object lifetimes the Qt side must manage by hand: threads, session connections, garbage.

- A QThread destroyed while it runs aborts the process, so every worker thread is kept alive
  (here, not by its launcher, which may be deleted first) until it has finished.
- Python's cycle collector runs in whichever thread happens to allocate when a threshold is
  crossed: with music21 converting in a worker thread, that is usually the worker. Widgets and
  other QObjects caught in reference cycles (a slot that captures its owner) were then destroyed
  off the GUI thread, which Qt does not allow: the test suite aborted ("Fatal Python error:
  Aborted", in "Garbage-collecting" on the MIDI loader's thread). `collect_on_gui_thread`
  turns automatic collection off and collects from a GUI-thread timer instead (pyqtgraph's
  GarbageCollector, the usual remedy).
- A psygnal connection to the session outlives the C++ widget behind its slot; once Qt has
  deleted a pane, the session must stop calling into it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QObject, QThread

_live_threads: set[QThread] = set()
_collector: GarbageCollector | None = None


def collect_on_gui_thread(interval_s: float = 1.0) -> GarbageCollector:
    """Collect Python's reference cycles on the GUI thread only (call it once the QApplication
    exists; later calls return the same collector). Automatic collection stays off for the
    process: `check()` is also what a caller without an event loop (a test's teardown) runs."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=interval_s)
    return _collector


def keep_thread_alive(thread: QThread) -> None:
    """Hold `thread` until it finishes, then let Qt delete it."""
    _live_threads.add(thread)
    thread.finished.connect(functools.partial(_live_threads.discard, thread))
    thread.finished.connect(thread.deleteLater)


def connect_session(owner: QObject, connections: Sequence[tuple[object, Callable]]) -> None:
    """Connect each (psygnal signal, slot) now and disconnect them when `owner` is destroyed."""
    pairs = list(connections)
    for signal, slot in pairs:
        signal.connect(slot)  # type: ignore[attr-defined]
    owner.destroyed.connect(functools.partial(_disconnect, pairs))


def _disconnect(connections: list[tuple[object, Callable]], *_args: object) -> None:
    for signal, slot in connections:
        signal.disconnect(slot)  # type: ignore[attr-defined]
