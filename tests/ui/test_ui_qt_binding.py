"""Guards against a Qt binding that corrupts reference counts (the app emits signals from
Python tens of times a second while training, so a one-reference leak kills it in minutes).

The counts are read in a fresh interpreter with no other thread: in the suite's process, a
daemon thread left by an earlier test (a playback conversion, a feeder thread) takes and drops
references to None and True while the loop runs, and the check failed under a random order.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("PySide6")

_CHECK = r"""
import json, sys, threading
from PySide6.QtCore import QObject, QTimer, Signal

class Emitter(QObject):
    events = Signal(object)

emitter = Emitter()
timer = QTimer()
received = []
emitter.events.connect(received.append)
timer.timeout.connect(lambda: None)
assert threading.active_count() == 1, threading.enumerate()
before = {name: sys.getrefcount(obj) for name, obj in (("True", True), ("None", None))}
for _ in range(500):
    emitter.events.emit([{"loss": None}])
    timer.timeout.emit()
after = {name: sys.getrefcount(obj) for name, obj in (("True", True), ("None", None))}
print(json.dumps({"received": len(received), "before": before, "after": after}))
"""


def test_python_side_emit_keeps_reference_counts():
    done = subprocess.run(
        [sys.executable, "-c", _CHECK], capture_output=True, text=True, timeout=120, check=True
    )
    counts = json.loads(done.stdout.splitlines()[-1])
    assert counts["received"] == 500
    # PySide6 6.12.0 lost one reference to True per emit (-1000 here). The list `received`
    # holds 500 dicts, each with a reference to None: +500 for None is the expected change.
    for name, expected in (("True", 0), ("None", 500)):
        change = counts["after"][name] - counts["before"][name]
        assert abs(change - expected) < 50, (name, counts)
