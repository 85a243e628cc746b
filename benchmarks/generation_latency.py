"""Generation pane latency and streaming speed, with the real pane offscreen.

    .venv/bin/python benchmarks/generation_latency.py [--checkpoint PATH] [--trials 10]

1. First character: the time from clicking Generate (model already loaded) to the first
   sampled character inserted in the live view and the view repainted. Target: <= 100 ms.
2. Streaming: characters sampled per second with 1 and 16 variations (meter-aware on and off),
   the number of batches sent to the GUI, and how late a 10 ms GUI timer ran meanwhile (how
   responsive the window stays while sampling).

Without --checkpoint it uses the shipped model, else the in-progress /tmp/pretrained_run/best.pt
(copied first: training rewrites it in place).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import summary_ms  # noqa: E402  (benchmarks/ is on sys.path as the script folder)

IN_PROGRESS = Path("/tmp/pretrained_run/best.pt")


def pick_checkpoint(arg: str | None, tmp: Path) -> Path:
    if arg:
        return Path(arg)
    from models.pretrained import default_checkpoint

    shipped = default_checkpoint()
    if shipped is not None:
        return shipped
    if IN_PROGRESS.is_file():
        copy = tmp / "best.pt"
        shutil.copyfile(IN_PROGRESS, copy)
        return copy
    raise SystemExit("no checkpoint: pass --checkpoint PATH")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--chars", type=int, default=600, help="length cap for the speed runs")
    args = parser.parse_args()

    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from workbench.session import Session
    from workbench.ui.panes.generation_pane import GenerationPane

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="wb-genbench-"))
    checkpoint = pick_checkpoint(args.checkpoint, tmp)
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    session = Session()
    pane = GenerationPane(session, runs_root=tmp / "runs", settings=settings, default_model=None)
    pane.resize(900, 1000)
    pane.show()

    def wait(cond, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise SystemExit("timed out")
            # Block until events arrive, as the app's event loop does: a busy processEvents()
            # loop would hold the GIL and starve the sampling thread (5x slower streaming).
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)

    t = time.perf_counter()
    session.checkpoint = checkpoint
    wait(lambda: pane.loaded is not None or "Cannot" in pane.model_label.text())
    if pane.loaded is None:
        raise SystemExit(pane.model_label.text())
    print(f"model: {pane.loaded.description} ({checkpoint})")
    print(f"load (worker thread, incl. torch import): {time.perf_counter() - t:.2f} s")

    shown: list[float] = []
    clicked = [0.0]

    def on_first_char(_latency: float) -> None:
        # "On screen": paint the live view now, then take the time.
        pane.live_view.viewport().repaint()
        shown.append((time.perf_counter() - clicked[0]) * 1000)

    pane.first_char_shown.connect(on_first_char)

    def generate(num: int, chars: int, meter_aware: bool):
        pane.num_spin.setValue(num)
        pane.length_spin.setValue(chars)
        pane.meter_aware_check.setChecked(meter_aware)
        pane.results.discard(pane.results.tunes())
        clicked[0] = time.perf_counter()
        pane.generate_button.click()
        wait(lambda: not pane.is_running())
        return pane.last_outcome

    # 1. First character, meter-aware on (the default) and off.
    for meter_aware in (True, False):
        shown.clear()
        for _ in range(args.trials):
            generate(1, 40, meter_aware)
            pane.results.wait_checks()
        label = "on" if meter_aware else "off"
        name = f"first char on screen (1 variation, meter-aware {label})"
        print("RESULT", summary_ms(name, shown))
    shown.clear()
    for _ in range(max(3, args.trials // 2)):
        generate(16, 40, True)
    print("RESULT", summary_ms("first char on screen (16 variations, meter-aware on)", shown))

    # 2. Streaming speed and GUI responsiveness.
    lateness: list[float] = []
    last = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        if last[0]:
            lateness.append((now - last[0]) * 1000 - 10)
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    for num in (1, 16):
        for meter_aware in (False, True):
            chunks: list[object] = []
            pane.runner.streamed.connect(chunks.append)
            lateness.clear()
            last[0] = 0.0
            timer.start()
            outcome = generate(num, args.chars, meter_aware)
            timer.stop()
            pane.runner.streamed.disconnect(chunks.append)
            pane.results.wait_checks()
            s = outcome.stats
            late = sorted(lateness) or [0.0]
            p95 = late[min(len(late) - 1, round(0.95 * (len(late) - 1)))]
            # Steps: the batch runs until its longest tune ends (finished ones add no chars).
            steps = max(len(t) for t in outcome.texts) - len(outcome.prompt)
            print(
                f"RESULT stream {num:2d} variation(s), "
                f"meter-aware {'on ' if meter_aware else 'off'}: "
                f"{s['chars']:,.0f} chars in {outcome.elapsed:.2f} s = "
                f"{s['chars_per_s']:,.0f} chars/s ({s['chars_per_s'] / num:,.0f} per tune, "
                f"{steps / outcome.elapsed:,.0f} steps/s), "
                f"{len(chunks)} GUI batches; 10 ms timer late p95 {p95:.1f} ms"
            )
    pane.shutdown()


if __name__ == "__main__":
    main()
