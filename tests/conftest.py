"""Test-wide set-up: Qt runs offscreen, and torch uses one CPU thread.

One thread because the suite runs beside other processes (pytest-qt's app, child processes of
the CLI tests): OpenMP threads that outnumber the free cores turn each small matmul of a tiny
test model into a scheduler wait (measured: 0.2 ms -> 6 ms on a 2-core machine).
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

torch.set_num_threads(1)


import gc  # noqa: E402

import pytest  # noqa: E402

_QT_FIXTURES = {"qapp", "qtbot"}


@pytest.fixture(autouse=True)
def _collect_cycles_as_the_app_does(request):
    """Reference cycles die on the GUI thread in Qt tests, as in the app.

    The app turns Python's automatic cycle collection off and collects from a GUI-thread timer
    (`workbench.ui.lifetimes.collect_on_gui_thread`): left automatic, a collection triggered by
    a worker thread's allocations (music21 converting) destroyed widgets of earlier tests off
    the GUI thread and aborted the suite. Qt tests run the same way, with one check of the
    collector's thresholds at teardown (a test may never spin the event loop). Other tests
    keep automatic collection: none of them creates widgets.
    """
    if _QT_FIXTURES.isdisjoint(request.fixturenames):
        gc.enable()
        yield
        return
    from workbench.ui.lifetimes import collect_on_gui_thread

    request.getfixturevalue("qapp")
    collector = collect_on_gui_thread()
    gc.disable()
    yield
    collector.check()
