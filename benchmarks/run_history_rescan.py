"""Time Run history takes to re-read a long training run at a rescan: its row and its curves.

    .venv/bin/python benchmarks/run_history_rescan.py [--steps 400000] [--new 100]

Writes a metrics.jsonl of STEPS step events (as the trainer writes them; 400,000 steps is a
30-minute soak's run at ~220 steps/s), then times, on the GUI's code path:
- a full read of the row (`read_run`) and of the curves (`read_curves`), as a first scan does;
- a rescan after NEW more lines, with the tails Run history keeps (`MetricsTail`, `CurvesTail`);
- the widget itself (offscreen): how long its constructor holds the GUI thread on a folder with
  that run, the longest the event loop then waits between two 10-ms timer ticks until the row
  is read (a first read of a long log runs on a worker, `workbench.ui.workers.run_reader`),
  and the same after ticking the run, until its curves are drawn.
Run history rescans every few seconds while a checked run trains, on the GUI thread, so the
rescan is what a user feels.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from pathlib import Path

from models.config import RunConfig
from workbench.runs import CurvesTail, MetricsTail, read_curves, read_run


def step_line(step: int) -> str:
    event = {
        "event": "step",
        "step": step,
        "epoch": step / 1000,
        "loss": 1.2345678,
        "accuracy": 0.61234,
        "chars_per_sec": 12345.6,
        "lr": 0.00123,
        "time": float(step),
    }
    return json.dumps(event) + "\n"


def timed(call) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def longest_stall(app, until) -> tuple[float, float]:
    """(seconds until `until()` holds, longest gap between two 10-ms timer ticks meanwhile)."""
    from PySide6.QtCore import QTimer

    ticks: list[float] = [time.perf_counter()]
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    while not until():
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    ticks.append(time.perf_counter())
    return ticks[-1] - ticks[0], max(b - a for a, b in itertools.pairwise(ticks))


def time_widget(root: Path) -> None:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from workbench.ui.widgets.run_history import COL_RUN, RunHistoryWidget

    app = QApplication.instance() or QApplication([])
    t0 = time.perf_counter()
    widget = RunHistoryWidget(root)
    built = time.perf_counter() - t0
    took, stall = longest_stall(app, lambda: not widget.is_reading())
    print(
        f"widget: constructor {built * 1e3:.0f} ms; row read {took:.2f} s later, "
        f"longest event-loop stall meanwhile {stall * 1e3:.0f} ms"
    )
    t0 = time.perf_counter()
    widget.table.item(0, COL_RUN).setCheckState(Qt.CheckState.Checked)
    ticked = time.perf_counter() - t0
    took, stall = longest_stall(app, lambda: not widget.is_reading())
    print(
        f"widget: ticking the run {ticked * 1e3:.0f} ms; curves drawn {took:.2f} s later, "
        f"longest event-loop stall meanwhile {stall * 1e3:.0f} ms"
    )
    widget.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400_000)
    ap.add_argument("--new", type=int, default=100, help="lines appended before the rescan")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "long-run"
        run.mkdir()
        (run / "config.json").write_text(json.dumps(RunConfig().to_dict()), encoding="utf-8")
        metrics = run / "metrics.jsonl"
        with open(metrics, "w", encoding="utf-8") as fh:
            fh.writelines(step_line(s) for s in range(1, args.steps + 1))
        size = metrics.stat().st_size / 1e6
        row, curves = MetricsTail(), CurvesTail()
        first_row = timed(lambda: read_run(run, row))
        first_curves = timed(lambda: read_curves(run, curves))
        full_curves = timed(lambda: read_curves(run))
        with open(metrics, "a", encoding="utf-8") as fh:
            fh.writelines(step_line(s) for s in range(args.steps + 1, args.steps + args.new + 1))
        again_row = timed(lambda: read_run(run, row))
        again_curves = timed(lambda: read_curves(run, curves))
        points = len(read_curves(run, curves).step)
        time_widget(run.parent)
    print(f"metrics.jsonl: {args.steps:,} steps, {size:.1f} MB")
    print(
        f"first scan: row {first_row:.2f} s, curves {first_curves:.2f} s "
        f"(read_curves without a tail: {full_curves:.2f} s)"
    )
    print(
        f"rescan after {args.new} new lines: row {again_row * 1e3:.1f} ms, "
        f"curves {again_curves * 1e3:.1f} ms ({points:,} points)"
    )


if __name__ == "__main__":
    main()
