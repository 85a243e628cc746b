"""Editor latency: how soon the score and the problem list catch up with typing.

    .venv/bin/python benchmarks/editor_latency.py [--edits 12] [--bars 40]

Runs the real editor pane offscreen on a real folk tune of about 40 bars (ryansMammoth):

1. Score refresh: a burst of three keystrokes (60 ms apart) at the end of a music line, then the
   time from the last keystroke to the new score painted in the score view (debounce 100 ms +
   verovio in its child process + QtSvg parsing and painting). Target: <= 300 ms.
2. Validation: the time from the last keystroke to the problem list updated (debounce 250 ms +
   the validator on the worker thread), and the validator alone on the same tune.
3. The engraver alone (``ScoreRenderer.render``, warm child process) on the same tune.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import summary_ms  # noqa: E402  (benchmarks/ is on sys.path as the script folder)

KEY_GAP_MS = 60


def pick_tune(bars: int) -> str:
    """The first ryansMammoth tune with ``bars`` +- 3 bar lines in its body."""
    from workbench.corpus import load

    for tune in load(["corpus:ryansMammoth"]).tunes:
        body = tune.text.split("\nK:", 1)[-1].split("\n", 1)[-1]
        count = len(re.findall(r"\|+|::|:\|", body))
        if abs(count - bars) <= 3:
            return tune.text
    raise SystemExit(f"no tune with about {bars} bars")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=12)
    parser.add_argument("--bars", type=int, default=40)
    args = parser.parse_args()

    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtGui import QTextCursor
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from workbench.app import apply_theme
    from workbench.notation.render import ScoreRenderer
    from workbench.notation.validate import validate_abc
    from workbench.session import Session
    from workbench.ui.panes.editor_pane import EditorPane

    app = QApplication([])
    apply_theme(app)
    tune = pick_tune(args.bars)
    print(f"tune: {tune.splitlines()[1]!r}, {len(tune)} chars, {len(tune.splitlines())} lines")

    def wait_for(signal, timeout_ms: int = 20_000) -> float:
        """Run the event loop until ``signal`` fires; returns the time it fired."""
        fired: list[float] = []
        loop = QEventLoop()

        def on_fire(*_args) -> None:
            fired.append(time.perf_counter())
            loop.quit()

        signal.connect(on_fire)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        signal.disconnect(on_fire)
        if not fired:
            raise SystemExit(f"timed out waiting for {signal}")
        return fired[0]

    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        pane = EditorPane(Session(), settings=settings)
        pane.resize(1400, 900)
        pane.show()
        view = pane.score_view
        # Time the engraving inside the render thread too, to split the latency.
        engrave_spans: list[tuple[float, float]] = []
        plain_run = view.worker._run

        def timed_run(context, payload):
            started = time.perf_counter()
            try:
                return plain_run(context, payload)
            finally:
                engrave_spans.append((started, time.perf_counter()))

        view.worker._run = timed_run
        pane.session.prompt = tune
        wait_for(view.rendered)
        # The last music line: typing happens at its end.
        line = len(tune.rstrip("\n").split("\n"))

        score_ms: list[float] = []
        wait_ms: list[float] = []  # last keystroke -> engraving starts (the debounce)
        engrave_ms: list[float] = []  # verovio in its process, and the pipe
        show_ms: list[float] = []  # result -> GUI thread -> QSvgRenderer parse -> painted
        validate_ms: list[float] = []
        painted: list[float] = []
        for edit in range(args.edits):
            cursor = pane.editor.textCursor()
            cursor.setPosition(pane.editor.position_of(line, 10**6))
            pane.editor.setTextCursor(cursor)
            typing = edit % 2 == 0  # type three notes, then delete them on the next edit
            for key in range(3):
                if key:
                    QTest.qWait(KEY_GAP_MS)
                if typing:
                    QTest.keyClicks(pane.editor, "abc"[key])
                else:
                    QTest.keyClick(pane.editor, Qt.Key.Key_Backspace)
                last_key = time.perf_counter()

            def on_rendered() -> None:
                view.canvas.repaint()  # paint now, so the time includes drawing the SVG
                painted.append(time.perf_counter())

            view.rendered.connect(on_rendered)
            validated_at = [0.0]

            def on_validated(_problems, box=validated_at) -> None:
                box[0] = time.perf_counter()

            pane.problems_updated.connect(on_validated)
            wait_for(view.rendered)
            if not validated_at[0]:
                wait_for(pane.problems_updated)
                validated_at[0] = validated_at[0] or time.perf_counter()
            view.rendered.disconnect(on_rendered)
            pane.problems_updated.disconnect(on_validated)
            score_ms.append((painted[-1] - last_key) * 1000)
            started, ended = engrave_spans[-1]
            wait_ms.append((started - last_key) * 1000)
            engrave_ms.append((ended - started) * 1000)
            show_ms.append((painted[-1] - ended) * 1000)
            validate_ms.append((validated_at[0] - last_key) * 1000)
            QTest.qWait(200)
        pane.editor.moveCursor(QTextCursor.MoveOperation.Start)
        pane.shutdown()

    print(summary_ms("score refresh after the last keystroke (target <= 300 ms)", score_ms))
    print(summary_ms("  of which last keystroke -> engraving starts", wait_ms))
    print(summary_ms("  of which engraving (child process)", engrave_ms))
    print(summary_ms("  of which result -> SVG parsed and painted (GUI thread)", show_ms))
    print(summary_ms("problem list after the last keystroke (250 ms debounce)", validate_ms))

    runs = []
    for _ in range(50):
        t0 = time.perf_counter()
        problems = validate_abc(tune)
        runs.append((time.perf_counter() - t0) * 1000)
    print(summary_ms(f"validate_abc alone ({len(problems)} problems)", runs))

    renderer = ScoreRenderer()
    try:
        renderer.render(tune)
        runs = []
        for _ in range(10):
            t0 = time.perf_counter()
            result = renderer.render(tune)
            runs.append((time.perf_counter() - t0) * 1000)
        print(summary_ms(f"ScoreRenderer.render alone ({len(result.pages)} page(s))", runs))
    finally:
        renderer.close()


if __name__ == "__main__":
    main()
