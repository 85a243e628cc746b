"""Guards against a Qt binding that corrupts reference counts (the app emits signals from
Python tens of times a second while training, so a one-reference leak kills it in minutes)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QTimer, Signal


class _Emitter(QObject):
    events = Signal(object)


def test_python_side_emit_keeps_reference_counts():
    emitter = _Emitter()
    timer = QTimer()
    received: list[object] = []
    emitter.events.connect(received.append)
    timer.timeout.connect(lambda: None)
    before = {name: sys.getrefcount(obj) for name, obj in (("True", True), ("None", None))}
    for _ in range(500):
        emitter.events.emit([{"loss": None}])
        timer.timeout.emit()
    after = {name: sys.getrefcount(obj) for name, obj in (("True", True), ("None", None))}
    assert len(received) == 500
    # PySide6 6.12.0 lost one reference to True per emit (-1000 here).
    for name in before:
        assert after[name] - before[name] > -50, (name, before[name], after[name])
