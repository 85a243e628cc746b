"""GUI responsiveness while training, plot redraw cost, and start-up time.

    .venv/bin/python benchmarks/ui_latency.py [--seconds 30] [--data corpus:ryansMammoth]

1. Start-up: wall time from launching a Python process to the main window shown and painted
   (offscreen platform; a real display adds its own compositor time).
2. While the default model trains in the GUI's child process: the lateness of a 10 ms
   PreciseTimer in the GUI thread (p50/p99/max), and the trainer's chars/s as the GUI receives it.
3. The same run from the CLI for the same time: its chars/s, and the GUI/CLI ratio.
4. Plot redraw with 100,000 points per curve (six curves, downsampling and clip-to-view on).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_STARTUP_PROBE = """
import sys, time
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from workbench.app import apply_theme
app = QApplication([])
apply_theme(app)
from workbench.ui.main_window import MainWindow
w = MainWindow(settings=QSettings(sys.argv[1], QSettings.Format.IniFormat), runs_root=sys.argv[2])
w.show()
app.processEvents()
w.grab()
print("torch imported:", "torch" in sys.modules)
w.close()
w.deleteLater()
del w
app.processEvents()
"""


def startup_seconds(tmp: Path, repeats: int = 3) -> list[float]:
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _STARTUP_PROBE, str(tmp / f"s{i}.ini"), str(tmp / "runs")],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - t0)
    print(f"  {out.stdout.strip()}")
    return times


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def gui_training(
    data: str, seconds: float, tmp: Path, threads: int
) -> tuple[list[float], list[float]]:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from workbench.corpus import load
    from workbench.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])  # noqa: F841 - must exist while we run
    window = MainWindow(
        settings=QSettings(str(tmp / "gui.ini"), QSettings.Format.IniFormat),
        runs_root=tmp / "gui-runs",
    )
    window.show()
    window.session.set_dataset(load([data]), [data])
    pane = window.training_pane
    pane.form.apply_preset("default")
    if threads:
        cfg = pane.form.current_config()
        cfg.train.threads = threads
        pane.form.set_config(cfg)
    speeds: list[float] = []
    pane.driver.events_received.connect(
        lambda evs: speeds.extend(e["chars_per_sec"] for e in evs if e["event"] == "step")
    )
    pane.start_button.click()
    # The GUI idles in its event loop as in real use (a busy processEvents() loop here would
    # itself take a core from the trainer).
    pane.driver.events_received.connect(lambda _evs: speeds and loop.quit())
    loop = QEventLoop()
    QTimer.singleShot(120_000, loop.quit)
    loop.exec()
    if not speeds:
        raise SystemExit("the GUI's training run produced no steps")

    lateness: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        lateness.append(max(0.0, (now - last[0]) / 1e6 - 10.0))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(tick)
    speeds.clear()
    timer.start()
    measure = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), measure.quit)
    measure.exec()
    timer.stop()
    pane.stop_and_wait(60)
    window.close()
    return lateness, speeds


def cli_training(data: str, seconds: float, tmp: Path, threads: int) -> list[float]:
    extra = ["--threads", str(threads)] if threads else []
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "train",
            data,
            "--out",
            str(tmp / "cli-run"),
            "--time-budget",
            str(seconds + 10),
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    events = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    steps = [e for e in events if e["event"] == "step"]
    # Same window as the GUI measurement: after the first step.
    return [e["chars_per_sec"] for e in steps[1:]]


def plot_redraw_ms(points: int = 100_000) -> float:
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from workbench.ui.widgets.training_plots import TrainingPlotsWidget

    app = QApplication.instance() or QApplication([])
    plots = TrainingPlotsWidget()
    plots.resize(900, 700)
    plots.show()
    rng = np.random.default_rng(0)
    events = [
        {
            "event": "step",
            "step": i + 1,
            "epoch": i / 500,
            "loss": 3 * np.exp(-i / 2e4) + rng.random() * 0.1,
            "accuracy": 0.7,
            "chars_per_sec": 1e4,
            "lr": 1e-3,
        }
        for i in range(points)
    ]
    plots.append(events)
    plots.redraw()
    app.processEvents()
    times = []
    for i in range(10):
        plots.append([{**events[-1], "step": points + i + 1}])
        t0 = time.perf_counter()
        plots.redraw()
        plots.grab()  # forces the paint
        times.append((time.perf_counter() - t0) * 1000)
    plots.close()
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="corpus:ryansMammoth")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument(
        "--threads", type=int, default=0, help="torch threads of both runs (0: the default)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        starts = startup_seconds(tmp)
        print(
            f"RESULT launch to painted window: median {statistics.median(starts):.2f} s "
            f"(runs: {', '.join(f'{s:.2f}' for s in starts)})",
            flush=True,
        )
        print(
            f"RESULT plot redraw, 6 curves x 100,000 points: {plot_redraw_ms():.1f} ms", flush=True
        )
        lateness, gui_speeds = gui_training(args.data, args.seconds, tmp, args.threads)
        print(
            f"RESULT 10 ms timer while training: {len(lateness)} ticks, lateness p50 "
            f"{percentile(lateness, 50):.1f} ms, p99 {percentile(lateness, 99):.1f} ms, "
            f"max {max(lateness):.1f} ms",
            flush=True,
        )
        cli_speeds = cli_training(args.data, args.seconds, tmp, args.threads)
        gui, cli = statistics.median(gui_speeds), statistics.median(cli_speeds)
        print(
            f"RESULT chars/s: GUI {gui:,.0f} (median of {len(gui_speeds)} steps), CLI "
            f"{cli:,.0f} ({len(cli_speeds)} steps): GUI/CLI = {gui / cli:.0%}",
            flush=True,
        )


if __name__ == "__main__":
    main()
