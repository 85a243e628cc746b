"""The score view, driven for real: verovio engraves in its child process, QtSvg draws the pages.

Each test's view starts its own engraver process (about a second); a crashing input kills that
process, never the test's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QMessageBox

from workbench.corpus import load
from workbench.ui.widgets.score_view import ScoreView

RENDER_TIMEOUT_MS = 20_000
# verovio aborts the process on a stray "]" in the body (PLATFORM.md).
CRASHING_ABC = "X:1\nT:Crash\nM:4/4\nL:1/8\nK:D\n]]]] abc ]] d2 |]\n"


@pytest.fixture(scope="module")
def real_tune() -> str:
    tunes = load(["corpus:miscFolk"]).tunes
    return next(t.text for t in tunes if t.title == "Chester")


@pytest.fixture
def view(qtbot):
    widget = ScoreView(debounce_ms=10)
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def _render(qtbot, view: ScoreView, abc: str) -> None:
    with qtbot.waitSignal(view.rendered, timeout=RENDER_TIMEOUT_MS):
        view.set_abc(abc)


def _ink(image: QImage) -> tuple[int, int]:
    """(dark pixels, distinct grey levels) on a 4-pixel grid of ``image``."""
    dark = 0
    levels: set[int] = set()
    for y in range(0, image.height(), 4):
        for x in range(0, image.width(), 4):
            grey = QColor(image.pixel(x, y)).lightness()
            levels.add(grey // 8)
            dark += grey < 128
    return dark, len(levels)


def test_renders_a_real_tune_as_visible_ink(qtbot, view, real_tune):
    assert view.placeholder.isVisible()
    _render(qtbot, view, real_tune)
    assert len(view.pages) == 1 and "<svg" in view.pages[0]
    assert view.error_message() == "" and not view.message_label.isVisible()
    assert view.page_label.text() == "page 1 of 1"
    # Fit width: the page fills the scroll area's width.
    assert abs(view.canvas.width() - view.scroll.viewport().width()) < 10
    image = view.canvas.grab().toImage()
    dark, levels = _ink(image)
    assert dark > 200, "the score is blank"
    assert levels > 5  # staff lines, note heads, anti-aliased edges, white paper


def test_crashing_input_shows_a_message_and_the_next_tune_renders(qtbot, view, real_tune):
    _render(qtbot, view, real_tune)
    with qtbot.waitSignal(view.render_failed, timeout=RENDER_TIMEOUT_MS) as failed:
        view.set_abc(CRASHING_ABC)
    assert failed.args[0]
    assert view.message_label.isVisible()
    assert failed.args[0] in view.message_label.text()
    assert view.canvas.stale  # the last good score stays, greyed
    assert len(view.pages) == 1
    # The engraver was restarted: a good tune renders again.
    _render(qtbot, view, real_tune.replace("Chester", "Chester again"))
    assert not view.message_label.isVisible() and not view.canvas.stale
    assert "Chester again" in view.pages[0].replace("\n", " ")


def test_a_tune_without_key_is_reported_without_a_score(qtbot, view):
    with qtbot.waitSignal(view.render_failed, timeout=RENDER_TIMEOUT_MS) as failed:
        view.set_abc("X:1\nT:No key\nabc|\n")
    assert "K:" in failed.args[0]
    assert view.pages == []
    assert view.message_label.isVisible() and not view.scroll.isVisible()
    assert not view.placeholder.isVisible()  # the message says what is wrong, not "no tune"


def test_only_the_latest_request_is_shown(qtbot, view, real_tune):
    view.warm_up()
    first = real_tune.replace("Chester", "Older Title")
    latest = real_tune.replace("Chester", "Newest Title")
    with qtbot.waitSignal(view.rendered, timeout=RENDER_TIMEOUT_MS):
        view.set_abc(first)
        view.render_now()
        view.set_abc(latest)
        view.render_now()
    # One worker thread answers in order: the older request was dropped (replaced while
    # pending, or its answer ignored) before the newest answer could arrive.
    assert "Newest Title" in view.pages[0]
    assert "Older Title" not in view.pages[0]
    assert view.worker.dropped >= 1


def test_zoom_pages_and_export(qtbot, view, real_tune, tmp_path: Path, monkeypatch):
    head, body = real_tune.split("K:G\n")
    long_tune = f"{head}K:G\n" + body * 10  # 160 bars: two pages
    _render(qtbot, view, long_tune)
    count = len(view.pages)
    assert count >= 2
    assert view.page_label.text() == f"page 1 of {count}"
    assert not view.previous_button.isEnabled() and view.next_button.isEnabled()
    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert view.page_index == 1 and view.page_label.text() == f"page 2 of {count}"
    assert view.canvas.renderer is not None

    fitted = view.zoom
    width = view.canvas.width()
    qtbot.mouseClick(view.zoom_in_button, Qt.MouseButton.LeftButton)
    assert view.zoom == pytest.approx(fitted * 1.25)
    assert view.canvas.width() > width * 1.2
    qtbot.mouseClick(view.zoom_out_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.zoom_out_button, Qt.MouseButton.LeftButton)
    assert view.zoom == pytest.approx(fitted / 1.25)
    qtbot.mouseClick(view.fit_button, Qt.MouseButton.LeftButton)
    assert view.zoom == pytest.approx(fitted)

    view.export(tmp_path / "page.svg")
    svg = (tmp_path / "page.svg").read_text(encoding="utf-8")
    assert svg == view.pages[1]
    assert QSvgRenderer(str(tmp_path / "page.svg")).isValid()

    view.export(tmp_path / "page.png")
    image = QImage(str(tmp_path / "page.png"))
    assert image.width() == 2000 and image.height() > 2000
    assert _ink(image)[0] > 500

    view.export(tmp_path / "score.pdf")
    pdf = (tmp_path / "score.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)) == count

    with pytest.raises(ValueError, match=r"\.txt"):
        view.export(tmp_path / "score.txt")
    # The dialog path reports a failure instead of raising.
    warnings: list[str] = []
    monkeypatch.setattr(
        "workbench.ui.widgets.score_view.QFileDialog.getSaveFileName",
        lambda *args, **kwargs: (str(tmp_path / "missing" / "x.png"), ""),
    )
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text, *a: warnings.append(text)
    )
    view.export_dialog(".png")
    assert warnings and "x.png" in warnings[0]


def test_shutdown_can_be_repeated(qtbot, view, real_tune):
    # The window shuts panes down on close, and aboutToQuit does it again.
    _render(qtbot, view, real_tune)
    thread = view.worker._thread
    view.shutdown()
    qtbot.waitUntil(lambda: not shiboken6.isValid(thread))  # Qt deleted the finished thread
    view.shutdown()
    assert view.worker.shutdown()


def _amber(image: QImage, box) -> int:
    """Pixels inside ``box`` tinted by the playback mark (more red than blue, not grey)."""
    count = 0
    for y in range(max(0, int(box.top())), min(image.height(), int(box.bottom()))):
        for x in range(max(0, int(box.left())), min(image.width(), int(box.right()))):
            colour = QColor(image.pixel(x, y))
            count += colour.red() - colour.blue() > 60
    return count


def test_follow_marks_the_playing_note_without_rendering_again(qtbot, view):
    from workbench.notation.written_notes import written_notes

    abc = "X:1\nT:Scale\nM:4/4\nL:1/8\nK:C\nC D E F G A B c|[CEG]2 z2 x4|\n"
    _render(qtbot, view, abc)
    written = written_notes(abc)
    boxes = []
    for _kind, start, end in written[:8]:
        assert view.show_playback_note(abc, start, end)
        boxes.append(view.canvas.widget_box())
    # Left to right, and a rising scale climbs the staff.
    assert [b.center().x() for b in boxes] == sorted(b.center().x() for b in boxes)
    assert boxes[-1].center().y() < boxes[0].center().y()
    assert all(view.canvas.rect().contains(b.toRect()) for b in boxes)
    image = view.canvas.grab().toImage()
    assert _amber(image, boxes[-1]) > 20  # the mark is drawn where the note is
    assert _amber(image, boxes[0]) == 0  # and only there
    # An invisible rest is paired but has nothing to mark; other text marks nothing.
    _kind, start, end = written[-1]
    assert view.show_playback_note(abc, start, end) and view.canvas.widget_box() is None
    assert not view.show_playback_note("X:2\nK:C\nC|\n", 7, 8)
    assert view.playback_note() is None
    assert view.show_playback_note(abc, written[0][1], written[0][2])
    view.show_playback_note(None)
    assert view.playback_note() is None and view.canvas.widget_box() is None


def test_follow_turns_the_page_to_the_playing_note(qtbot, view, real_tune):
    from workbench.notation.written_notes import written_notes

    head, body = real_tune.split("K:G\n")
    long_tune = f"{head}K:G\n" + body * 10  # 160 bars: two pages
    _render(qtbot, view, long_tune)
    assert len(view.pages) >= 2 and view.page_index == 0
    _kind, start, end = written_notes(long_tune)[-3]
    assert view.show_playback_note(long_tune, start, end)
    page, element = view.playback_note()
    assert page == view.page_index == len(view.pages) - 1
    assert f'id="{element}"' in view.pages[page]
    box = view.canvas.widget_box()
    assert box is not None
    # Scrolled so the note is in sight.
    top = view.scroll.verticalScrollBar().value()
    assert top <= box.center().y() <= top + view.scroll.viewport().height()
