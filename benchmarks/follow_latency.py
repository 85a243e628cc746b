"""Append-to-shown latency of following a run that another process writes (Qt offscreen).

    .venv/bin/python benchmarks/follow_latency.py [--lines 60] [--history 20000]

A writer process appends step lines to a run directory's metrics.jsonl through the trainer's
own `MetricsLog` (so it also holds running.json), at random intervals of 50-400 ms so that each
line lands at a random phase of the pane's poll and redraw timers, and stamps each line with the
wall-clock time it was written. The Training pane follows the run (`follow_run`); for each line
the script records when the follower delivered it (`events_received`) and when the loss plot's
curve first held it (the plots redraw on their own timer): the append-to-shown latency the
target asks to keep under 1 s. `--history` lines are in the file before following starts, to
include catching up on a long run and to time that catch-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import summary_ms  # noqa: E402

_WRITER = r"""
import json, random, sys, time
from pathlib import Path
from models.metrics_log import MetricsLog
run, first, lines = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
log = MetricsLog(run)
sys.stdin.readline()  # go
rng = random.Random(7)
for n in range(first, first + lines):
    time.sleep(rng.uniform(0.05, 0.4))
    log.write({"event": "step", "step": n, "epoch": n / 100, "loss": 2.0, "accuracy": 0.5,
               "lr": 1e-3, "chars_per_sec": 1e4, "elapsed": float(n), "written_at": time.time()})
log.close()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=60, help="lines appended while following")
    parser.add_argument("--history", type=int, default=20000, help="lines there beforehand")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from workbench.session import Session
    from workbench.ui.panes.training_pane import TrainingPane
    from workbench.ui.widgets.training_plots import REDRAW_MS
    from workbench.ui.workers.follow_driver import POLL_MS

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        run.mkdir()
        (run / "config.json").write_text('{"train": {"time_budget": 0}}', encoding="utf-8")
        history = "".join(
            json.dumps({"event": "step", "step": n, "epoch": n / 100, "loss": 2.0, "elapsed": n})
            + "\n"
            for n in range(1, args.history + 1)
        )
        (run / "metrics.jsonl").write_text(history, encoding="utf-8")
        size_mb = len(history) / 1e6
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(run), str(args.history + 1), str(args.lines)],
            stdin=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        pane = TrainingPane(Session(), runs_root=Path(tmp))
        pane.resize(1200, 800)
        pane.show()
        app.processEvents()

        written: dict[int, float] = {}
        delivered: dict[int, float] = {}
        shown: dict[int, float] = {}
        last_step = args.history + args.lines

        def on_events(events: list[dict]) -> None:
            now = time.time()
            for e in events:
                if "written_at" in e:
                    written[e["step"]] = e["written_at"]
                    delivered[e["step"]] = now

        def on_plot_changed(*_: object) -> None:
            now = time.time()
            x = pane.plots.loss_curve.getOriginalDataset()[0]
            top = int(x[-1]) if x is not None and len(x) else 0
            for n in written:
                if n <= top and n not in shown:
                    shown[n] = now

        pane.follow_driver.events_received.connect(on_events)
        pane.plots.loss_curve.sigPlotChanged.connect(on_plot_changed)

        t0 = time.perf_counter()
        pane.follow_run(run)
        while len(pane.plots.steps["step"]) < args.history:
            app.processEvents()
            time.sleep(0.001)
        catch_up = time.perf_counter() - t0

        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
        deadline = time.monotonic() + args.lines * 0.4 + 10
        while (last_step not in shown) and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.002)
        writer.wait(10)
        pane.stop_following()

    read_ms = [1000 * (delivered[n] - written[n]) for n in written]
    shown_ms = [1000 * (shown[n] - written[n]) for n in written if n in shown]
    print(f"poll {POLL_MS} ms, plot redraw timer {REDRAW_MS} ms, Qt offscreen")
    print(f"catch-up: {args.history:,} lines ({size_mb:.1f} MB) plotted in {catch_up:.2f} s")
    print(summary_ms("append -> follower delivered", read_ms))
    print(summary_ms("append -> shown in the plot", shown_ms))
    missing = len(written) - len(shown_ms)
    over = sum(v > 1000 for v in shown_ms)
    print(f"lines shown: {len(shown_ms)}/{args.lines} ({missing} never shown); over 1 s: {over}")


if __name__ == "__main__":
    main()
