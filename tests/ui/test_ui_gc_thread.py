"""Reference cycles die on the GUI thread, never on a worker thread that happens to allocate.

Python's automatic cycle collection runs in whichever thread crosses its allocation threshold;
in the app that is usually a worker converting with music21. A widget caught in a cycle was
then destroyed off the GUI thread, and the test suite aborted in "Garbage-collecting" on the
MIDI loader's thread. The app collects from a GUI-thread timer instead
(`workbench.ui.lifetimes.collect_on_gui_thread`, installed by `workbench.app.main`).
"""

from __future__ import annotations

import gc
import threading

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QWidget

from workbench.ui.lifetimes import collect_on_gui_thread


class _Cycle:
    """A widget held in a reference cycle that records the thread its cycle dies on."""

    def __init__(self, died_on: list[str]) -> None:
        self.me = self
        self.widget = QWidget()
        self.died_on = died_on

    def __del__(self) -> None:
        self.died_on.append(threading.current_thread().name)


def _allocate_cycles(n: int) -> None:
    """What music21 does in a worker: many short-lived objects in cycles."""
    for _ in range(n):
        a: list = []
        a.append(a)


def test_a_cycle_holding_a_widget_dies_on_the_gui_thread(qapp, qtbot):
    collector = collect_on_gui_thread()
    assert collect_on_gui_thread() is collector  # one collector per process
    assert not gc.isenabled()
    died_on: list[str] = []
    _Cycle(died_on)  # unreachable at once, but only a collection can free it
    worker = threading.Thread(target=_allocate_cycles, args=(200_000,), name="worker")
    worker.start()
    worker.join()
    assert died_on == []  # the worker's allocations collected nothing
    # The GUI thread's timer does it (interval 1 s): wait for it, as the app's loop would.
    qtbot.waitUntil(lambda: died_on == ["MainThread"], timeout=10_000)


def test_automatic_collection_would_have_run_on_the_worker():
    """The hazard is real: with automatic collection (the default) the worker frees the cycle.
    (Not a Qt test: the suite's fixture leaves automatic collection on here.)"""
    assert gc.isenabled()
    died_on: list[str] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            died_on.append(threading.current_thread().name)

    gc.collect()
    Cycle()
    worker = threading.Thread(target=_allocate_cycles, args=(200_000,), name="worker")
    worker.start()
    worker.join()
    assert died_on == ["worker"]
