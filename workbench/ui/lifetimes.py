"""Object lifetimes the Qt side must manage by hand: running threads and session connections.

- A QThread destroyed while it runs aborts the process, so every worker thread is kept alive
  (here, not by its launcher, which may be deleted first) until it has finished.
- A psygnal connection to the session outlives the C++ widget behind its slot; once Qt has
  deleted a pane, the session must stop calling into it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QThread

_live_threads: set[QThread] = set()


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
