"""The window's first screen and its layout on a 1366 x 768 and a 1920 x 1080 screen (offscreen).

The window opens on the musician's workspace: Generation, the Editor with its score and
Playback visible together, the researcher's panes one click away as tabs beside Generation.
`layout_problems` lists what a musician would find wrong at a size (a dock hidden or scrolled
sideways, a cramped editor, the score or piano roll too small, an action button out of sight, a
clipped label); the old Training-first arrangement is checked to fail it, so these checks can
fail. Saved layouts of the old version are ignored while the other settings restore.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QLabel,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from workbench.session import Session
from workbench.ui.main_window import LAYOUT_VERSION, RESEARCH_PANES, MainWindow
from workbench.ui.widgets.scrolling import AdaptiveSplitter

SIZES = [(1366, 768), (1920, 1080)]
MUSICIAN_PANES = ("generation", "editor", "playback")
MIN_EDITOR_TEXT = (300, 150)
MIN_SCORE = (250, 150)
MIN_PIANO_ROLL = (400, 100)


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def make_window(qtbot, settings, tmp_path, size=(1366, 768)) -> MainWindow:
    window = MainWindow(Session(), settings=settings, runs_root=tmp_path / "runs")
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    # The shipped model loads on a thread and its two-line description changes the layout:
    # measure once it is shown (and the posted layout requests are done).
    label = window.generation_pane.model_label
    qtbot.waitUntil(lambda: not label.text().startswith("Loading"), timeout=60_000)
    qtbot.wait(50)
    return window


def arrange_old_default(window: MainWindow) -> None:
    """The arrangement the window opened on before: Dataset and Training in front."""
    d = window.docks
    left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    window.addDockWidget(left, d["dataset"])
    window.addDockWidget(left, d["editor"])
    window.tabifyDockWidget(d["dataset"], d["editor"])
    window.addDockWidget(right, d["training"])
    for key in ("runs", "generation", "neurons"):
        window.addDockWidget(right, d[key])
        window.tabifyDockWidget(d["training"], d[key])
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, d["playback"])
    window.resizeDocks([d["dataset"], d["training"]], [520, 880], Qt.Orientation.Horizontal)
    d["dataset"].raise_()
    d["training"].raise_()


def shown(dock) -> bool:
    return dock.isVisible() and not dock.isFloating() and not dock.visibleRegion().isEmpty()


def on_screen(widget: QWidget) -> bool:
    """Shown and not hidden behind another tab."""
    # A scroll area (text edit, plot) is covered by its viewport: ask the viewport.
    shown = widget.viewport() if isinstance(widget, QAbstractScrollArea) else widget
    return widget.isVisible() and not shown.visibleRegion().isEmpty()


def in_view(widget: QWidget, area) -> bool:
    """Whether `widget` is on screen wholly inside scroll area `area`'s viewport (no scrolling)."""
    viewport = area.viewport()
    rect = QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size())
    return on_screen(widget) and viewport.rect().contains(rect)


def start_problems(window: MainWindow) -> list[str]:
    """What differs from the musician's first screen."""
    problems = [f"{key} is not in view" for key in MUSICIAN_PANES if not shown(window.docks[key])]
    generation = window.docks["generation"]
    tabbed = set(window.tabifiedDockWidgets(generation))
    for key in RESEARCH_PANES:
        dock = window.docks[key]
        if dock not in tabbed:
            problems.append(f"{key} is not a tab beside Generation")
        if shown(dock):
            problems.append(f"{key} is in front")
    return problems


def layout_problems(window: MainWindow) -> list[str]:
    """What is cramped, hidden or clipped in the musician's docks at the window's size."""
    problems = start_problems(window)
    areas = {key: window.docks[key].widget() for key in MUSICIAN_PANES}
    for key, area in areas.items():
        if area.horizontalScrollBar().isVisible():
            problems.append(f"{key} scrolls sideways")

    def at_least(name: str, widget: QWidget, size: tuple[int, int]) -> None:
        if not on_screen(widget) or widget.width() < size[0] or widget.height() < size[1]:
            problems.append(f"{name} is {widget.width()} x {widget.height()}, not {size}")

    at_least("the editor's text", window.editor_pane.editor, MIN_EDITOR_TEXT)
    at_least("the score", window.editor_pane.score_view, MIN_SCORE)
    at_least("the piano roll", window.playback_pane.piano_roll, MIN_PIANO_ROLL)
    results = window.generation_pane.results
    for name, widget, key in (
        ("Send to editor", results.send_button, "generation"),
        ("Play (results)", results.play_button, "generation"),
        ("Export", results.export_button, "generation"),
        ("Generate", window.generation_pane.generate_button, "generation"),
        ("Play (transport)", window.playback_pane.play_button, "playback"),
        ("the piano roll", window.playback_pane.piano_roll, "playback"),
        ("the editor's text", window.editor_pane.editor, "editor"),
    ):
        if not in_view(widget, areas[key]):
            problems.append(f"{name} is out of sight in {key}")
    # No clipped labels or buttons: each is at least as wide as its text needs.
    for key in MUSICIAN_PANES:
        pane = areas[key].widget()
        for widget in pane.findChildren(QLabel) + pane.findChildren(QAbstractButton):
            if not widget.isVisibleTo(pane) or not widget.text():
                continue
            if isinstance(widget, QLabel) and widget.wordWrap():
                need = widget.heightForWidth(widget.width())
                if need > widget.height():
                    problems.append(f"{key}: label {widget.text()[:30]!r} cut at the bottom")
            elif widget.width() < widget.minimumSizeHint().width():
                problems.append(f"{key}: {widget.text()[:30]!r} clipped ({widget.width()} px)")
    return problems


def test_the_window_opens_on_the_musicians_workspace(qtbot, settings, tmp_path):
    window = make_window(qtbot, settings, tmp_path)
    assert start_problems(window) == []
    assert window.docks["training"].visibleRegion().isEmpty()
    # The researcher's panes are one click away: a tab each.
    bars = [b for b in window.findChildren(QTabBar) if b.isVisible() and b.count() == 5]
    assert len(bars) == 1
    bar = bars[0]
    titles = [bar.tabText(i) for i in range(bar.count())]
    assert titles == ["Generation", "Dataset", "Training", "Run history", "Neurons"]
    assert bar.currentIndex() == 0
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(2).center())
    assert shown(window.docks["training"])
    assert not shown(window.docks["generation"])
    assert shown(window.docks["editor"]) and shown(window.docks["playback"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_musicians_docks_are_usable_at(qtbot, settings, tmp_path, size):
    window = make_window(qtbot, settings, tmp_path, size)
    assert window.size().width() == size[0]
    assert layout_problems(window) == []
    # The generation settings column keeps its minimum width (no squeezed fields).
    column = window.generation_pane.settings_scroll
    assert column.width() >= column.minimumSizeHint().width()
    assert not column.horizontalScrollBar().isVisible()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_old_arrangement_fails_these_checks(qtbot, settings, tmp_path, size):
    window = make_window(qtbot, settings, tmp_path, size)
    arrange_old_default(window)
    qtbot.wait(50)
    problems = layout_problems(window)
    assert "generation is not in view" in problems
    assert "training is in front" in problems
    assert "Send to editor is out of sight in generation" in problems
    assert any(p.startswith("the editor's text is") for p in problems)
    assert any(p.startswith("the score is") for p in problems)


def test_a_layout_saved_by_the_old_version_is_ignored_but_other_settings_restore(
    qtbot, settings, tmp_path
):
    old = make_window(qtbot, settings, tmp_path)
    arrange_old_default(old)
    runs = Path(tmp_path / "my-runs")
    runs.mkdir()
    settings.setValue("version", 1)
    settings.setValue("window/state", old.saveState(1))  # what the old version saved
    settings.setValue("runs/root", str(runs))
    settings.sync()
    assert LAYOUT_VERSION != 1

    window = make_window(qtbot, settings, tmp_path)
    assert start_problems(window) == []
    assert window.runs_root == runs  # the other settings still restore
    assert window.run_history.runs_root == runs


def test_reset_layout_gives_the_new_default(qtbot, settings, tmp_path):
    window = make_window(qtbot, settings, tmp_path)
    arrange_old_default(window)
    window.docks["neurons"].setFloating(True)
    window.docks["playback"].hide()
    assert start_problems(window) != []
    window.reset_layout()
    qtbot.wait(50)
    assert layout_problems(window) == []
    assert not window.docks["neurons"].isFloating()


def research_problems(window: MainWindow, qtbot) -> list[str]:
    """Each research pane raised in turn: what scrolls sideways or is squeezed."""
    problems = []
    for key in RESEARCH_PANES:
        window.docks[key].raise_()
        qtbot.waitUntil(lambda key=key: shown(window.docks[key]), timeout=2000)
        qtbot.wait(20)  # the posted layout requests of the newly shown pane
        area = window.docks[key].widget()
        if area.horizontalScrollBar().isVisible():
            problems.append(f"{key} scrolls sideways")
        pane = area.widget()
        for widget in pane.findChildren(QAbstractButton):
            shown_text = widget.isVisibleTo(pane) and widget.text()
            if shown_text and widget.width() < widget.minimumSizeHint().width():
                problems.append(f"{key}: {widget.text()[:30]!r} clipped")
    return problems


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_research_pane_fits_its_tab_without_scrolling_sideways(
    qtbot, settings, tmp_path, size
):
    window = make_window(qtbot, settings, tmp_path, size)
    assert research_problems(window, qtbot) == []
    # The training settings sit beside the plots where the column is wide enough and stack
    # above them where it is not: on the laptop's column, which is what makes them fit.
    window.docks["training"].raise_()
    qtbot.wait(20)
    splitter = window.training_pane.findChild(AdaptiveSplitter)
    wide = splitter.width() >= splitter.side_by_side_width()
    expected = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
    assert splitter.orientation() == expected
    if size == (1366, 768):
        assert not wide


def test_an_adaptive_splitter_stacks_its_parts_when_narrow_and_not_otherwise(qtbot):
    holder = QWidget()  # as in a pane: the splitter inside a layout
    qtbot.addWidget(holder)
    splitter = AdaptiveSplitter()
    QVBoxLayout(holder).addWidget(splitter)
    for _ in range(2):
        part = QLabel("x")
        part.setMinimumSize(300, 100)
        splitter.addWidget(part)
    assert splitter.minimumSizeHint().width() == 300  # as narrow as one part: stacked
    holder.resize(700, 400)
    holder.show()
    qtbot.waitExposed(holder)
    assert splitter.orientation() == Qt.Orientation.Horizontal
    assert splitter.minimumSizeHint().height() == 100
    holder.resize(500, 400)
    qtbot.waitUntil(lambda: splitter.orientation() == Qt.Orientation.Vertical, timeout=1000)
    assert splitter.minimumSizeHint().height() >= 200
    assert all(splitter.widget(i).width() == splitter.width() for i in range(2))
    holder.resize(800, 400)
    qtbot.waitUntil(lambda: splitter.orientation() == Qt.Orientation.Horizontal, timeout=1000)
