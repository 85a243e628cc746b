"""The dataset pane, driven through its real widgets: load, stats, filter, preview, problems.

Loads go through the real worker thread; each test waits for the loader's ``finished`` signal.
miscFolk (185 tunes in 2 files) keeps the loads small.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from workbench.corpus import Tune, load
from workbench.session import Session
from workbench.ui import lifetimes
from workbench.ui.panes.dataset_pane import DatasetPane
from workbench.ui.widgets.tune_table import LENGTH, TuneTableModel

LOAD_TIMEOUT_MS = 15_000
GOOD_ABC = "X:1\nT:First Reel\nM:C|\nK:G\nGABc dedB|\n\nX:2\nT:Second Jig\nM:6/8\nK:Em\nEFG B2e|\n"


@pytest.fixture
def session() -> Session:
    return Session()


@pytest.fixture
def pane(qtbot, session):
    widget = DatasetPane(session)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def _click_load(qtbot, pane: DatasetPane) -> None:
    with qtbot.waitSignal(pane.loader.finished, timeout=LOAD_TIMEOUT_MS):
        qtbot.mouseClick(pane.load_button, Qt.MouseButton.LeftButton)


@pytest.fixture
def loaded(qtbot, pane, session) -> DatasetPane:
    """The pane after ticking miscFolk and clicking Load."""
    pane.builtin_checks["miscFolk"].setChecked(True)
    _click_load(qtbot, pane)
    assert session.dataset is not None
    return pane


def test_load_builtin_collection_shows_its_statistics(qtbot, pane, session):
    assert set(pane.builtin_checks) == {
        "oneills1850",
        "ryansMammoth",
        "airdsAirs",
        "essenFolksong",
        "miscFolk",
        "bach-chorales",  # MIDI
    }
    assert "185 tunes" in pane.builtin_checks["miscFolk"].text()
    assert not pane.load_button.isEnabled()  # nothing chosen yet

    qtbot.mouseClick(pane.builtin_checks["miscFolk"], Qt.MouseButton.LeftButton)
    assert pane.sources() == ["corpus:miscFolk"]
    assert pane.sources_list.count() == 1
    reports: list[str] = []
    pane.status_reported.connect(reports.append)
    qtbot.mouseClick(pane.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.dataset is not None and len(session.dataset.tunes) == 185)
    qtbot.waitUntil(lambda: pane.load_button.isEnabled())  # the loader has finished

    assert session.data_specs == ["corpus:miscFolk"]
    assert reports == ["Loading…", "Loaded 185 tunes (64,289 chars) from 2 files, 0 problems."]
    assert pane.status_label.text() == reports[-1]
    assert (pane.progress_bar.value(), pane.progress_bar.maximum()) == (2, 2)
    assert pane.stats_view.tunes_label.text() == "185"
    assert pane.stats_view.chars_label.text() == "64,289"
    assert pane.stats_view.files_label.text() == "2"
    assert pane.stats_view.vocab_size_label.text() == "91 characters"
    assert len(pane.stats_view.vocab_label.text()) == 91
    assert "␣" in pane.stats_view.vocab_label.text()  # the space, made visible

    histogram = pane.stats_view.length_histogram
    assert histogram.counts.sum() == 185
    assert len(histogram.edges) == len(histogram.counts) + 1
    assert histogram.edges[0] == 193 and histogram.edges[-1] == 929  # shortest, longest tune
    assert np.array_equal(histogram._curve.yData, histogram.counts)

    assert pane.stats_view.meter_chart.labels == [
        "2/4",
        "6/8",
        "4/4",
        "3/4",
        "9/8",
        "2/2",
        "6/4",
        "3/2",
        "9/4",
    ]
    assert pane.stats_view.meter_chart.heights.tolist() == [48, 45, 39, 24, 17, 6, 3, 2, 1]
    # 17 keys: the top 12 and the 5 tunes in the other keys.
    assert len(pane.stats_view.key_chart.labels) == 13
    assert pane.stats_view.key_chart.labels[:4] == ["G", "D", "C", "Gm"]
    assert (pane.stats_view.key_chart.labels[-1], pane.stats_view.key_chart.heights[-1]) == (
        "other",
        5,
    )
    assert pane.stats_view.key_chart.heights.sum() == 185

    assert pane.problems_group.title() == "Problems (0)"
    assert pane.tune_model.rowCount() == 185
    assert pane.shown_label.text() == "185 of 185"
    assert pane.load_button.isEnabled() and not pane.cancel_button.isEnabled()


def test_filter_matches_title_key_meter_and_source(qtbot, loaded):
    model = loaded.tune_model
    assert model.columnCount() == 5
    expected = {"march": 4, "FIFE": 56, "6/8": 45, "Gdor": 1, "zzz": 0}
    for text, count in expected.items():
        loaded.filter_edit.clear()
        qtbot.keyClicks(loaded.filter_edit, text)
        assert model.rowCount() == count, text
        assert loaded.shown_label.text() == f"{count} of 185"
    loaded.filter_edit.clear()
    qtbot.keyClicks(loaded.filter_edit, "march")
    titles = [model.tune_at(row).title for row in range(model.rowCount())]
    assert all("march" in title.lower() for title in titles)
    loaded.filter_edit.clear()
    assert model.rowCount() == 185


def test_select_previews_and_double_click_sends_to_editor(qtbot, loaded, session):
    table, model = loaded.tune_table, loaded.tune_model
    index = model.index(2, 0)
    table.scrollTo(index)
    center = table.visualRect(index).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    tune = session.dataset.tunes[2]
    assert loaded.preview.toPlainText() == tune.text
    assert loaded.preview.isReadOnly()
    assert loaded.send_button.isEnabled()

    with qtbot.waitSignal(session.prompt_changed, check_params_cb=lambda t: t == tune.text):
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    assert session.prompt == tune.text

    # Filtering keeps the previewed tune selected while it is listed.
    qtbot.keyClicks(loaded.filter_edit, tune.title)
    assert model.tune_at(table.currentIndex().row()) is tune


def test_sorting_keeps_the_selected_tune(qtbot, loaded, session):
    table, model = loaded.tune_table, loaded.tune_model
    table.selectRow(10)
    tune = model.tune_at(10)
    table.sortByColumn(LENGTH, Qt.SortOrder.AscendingOrder)
    lengths = [len(model.tune_at(row).text) for row in range(model.rowCount())]
    assert lengths == sorted(lengths)
    assert model.tune_at(table.currentIndex().row()) is tune
    table.sortByColumn(LENGTH, Qt.SortOrder.DescendingOrder)
    assert len(model.tune_at(0).text) == 929
    # A new dataset is shown in the order the header says.
    session.set_dataset(load(["corpus:miscFolk"]), ["corpus:miscFolk"])
    lengths = [len(model.tune_at(row).text) for row in range(model.rowCount())]
    assert lengths == sorted(lengths, reverse=True)


def test_folder_with_a_binary_file_reports_it_and_loads_the_rest(
    qtbot, pane, session, tmp_path, monkeypatch
):
    folder = tmp_path / "tunes"
    folder.mkdir()
    (folder / "good.abc").write_text(GOOD_ABC, encoding="utf-8")
    (folder / "broken.abc").write_bytes(bytes(range(256)) * 8)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(folder))
    qtbot.mouseClick(pane.add_folder_button, Qt.MouseButton.LeftButton)
    assert pane.sources() == [str(folder)]

    _click_load(qtbot, pane)
    assert [tune.title for tune in session.dataset.tunes] == ["First Reel", "Second Jig"]
    problems = pane.problems_model.stringList()
    assert problems == [f"{folder / 'broken.abc'}: binary file, not text"]
    assert pane.problems_group.title() == "Problems (1)"
    assert pane.stats_view.meter_chart.labels == ["2/2", "6/8"]
    assert pane.stats_view.key_chart.labels == ["Em", "G"]


def test_add_files_and_remove(qtbot, pane, tmp_path, monkeypatch):
    first, second = tmp_path / "a.abc", tmp_path / "b.txt"
    first.write_text(GOOD_ABC, encoding="utf-8")
    second.write_text("<start>\nX:1\nK:D\nDEF|\n<end>\n", encoding="utf-8")
    chosen = ([str(first), str(second)], "")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *args: chosen)
    qtbot.mouseClick(pane.add_files_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(pane.add_files_button, Qt.MouseButton.LeftButton)  # no duplicates
    assert pane.sources() == [str(first), str(second)]

    pane.sources_list.item(0).setSelected(True)
    qtbot.mouseClick(pane.remove_button, Qt.MouseButton.LeftButton)
    assert pane.sources() == [str(second)]
    pane.builtin_checks["miscFolk"].setChecked(True)
    pane.sources_list.item(1).setSelected(True)
    qtbot.mouseClick(pane.remove_button, Qt.MouseButton.LeftButton)
    assert not pane.builtin_checks["miscFolk"].isChecked()


def test_cancel_keeps_the_previous_dataset(qtbot, loaded, session):
    before = session.dataset
    loaded.builtin_checks["miscFolk"].setChecked(False)
    loaded.builtin_checks["essenFolksong"].setChecked(True)
    assert loaded.sources() == ["corpus:essenFolksong"]
    with qtbot.waitSignal(loaded.loader.finished, timeout=LOAD_TIMEOUT_MS):
        qtbot.mouseClick(loaded.load_button, Qt.MouseButton.LeftButton)
        assert loaded.cancel_button.isEnabled() and not loaded.load_button.isEnabled()
        qtbot.mouseClick(loaded.cancel_button, Qt.MouseButton.LeftButton)
    assert session.dataset is before
    assert session.data_specs == ["corpus:miscFolk"]
    assert loaded.status_label.text() == "Loading cancelled; the previous dataset is kept."
    assert loaded.stats_view.tunes_label.text() == "185"
    assert loaded.load_button.isEnabled() and not loaded.cancel_button.isEnabled()


def test_cancel_with_no_dataset(qtbot, pane, session):
    pane.add_sources(["corpus:essenFolksong"])
    with qtbot.waitSignal(pane.loader.finished, timeout=LOAD_TIMEOUT_MS):
        pane.load()
        pane.cancel()
    assert session.dataset is None
    assert pane.status_label.text() == "Loading cancelled; nothing was loaded."


def test_deleting_the_pane_mid_load_stops_the_thread(qtbot, session):
    parent = QWidget()
    pane = DatasetPane(session, parent)
    pane.add_sources(["corpus:essenFolksong"])
    pane.load()
    assert lifetimes._live_threads
    parent.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    # The thread sees the stop at its next file and is deleted once finished, not before.
    qtbot.waitUntil(lambda: not lifetimes._live_threads, timeout=LOAD_TIMEOUT_MS)
    assert session.dataset is None


def test_unusable_source_is_reported(qtbot, pane, session, tmp_path):
    missing = str(tmp_path / "missing.abc")
    pane.add_sources([missing])
    _click_load(qtbot, pane)
    assert session.dataset is None
    assert pane.status_label.text() == f"Cannot load: data path '{missing}' does not exist"


def _send_drag_and_drop(pane: DatasetPane, mime: QMimeData) -> tuple[bool, bool]:
    actions = Qt.DropAction.CopyAction
    # QDragEnterEvent takes a QPoint (Qt's C++ signature); QDropEvent a QPointF.
    enter = QDragEnterEvent(
        QPoint(10, 10), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(pane, enter)
    drop = QDropEvent(
        QPointF(10, 10), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(pane, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_dropping_files_and_folders_adds_them(pane, tmp_path):
    file = tmp_path / "dropped.abc"
    file.write_text(GOOD_ABC, encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(file)), QUrl.fromLocalFile(str(tmp_path))])
    assert _send_drag_and_drop(pane, mime) == (True, True)
    assert [Path(spec) for spec in pane.sources()] == [file, tmp_path]

    text_only = QMimeData()
    text_only.setText("not a file")
    assert _send_drag_and_drop(pane, text_only) == (False, False)
    assert len(pane.sources()) == 2


def test_split_settings_write_and_follow_the_session(pane, session):
    assert pane.val_spin.value() == pytest.approx(session.val_fraction)
    assert pane.seed_spin.value() == session.seed
    assert (pane.val_spin.minimum(), pane.val_spin.maximum()) == (0.01, 0.5)
    pane.val_spin.setValue(0.25)
    pane.seed_spin.setValue(7)
    assert (session.val_fraction, session.seed) == (0.25, 7)
    session.set_split(0.05, 99)
    assert (pane.val_spin.value(), pane.seed_spin.value()) == (0.05, 99)


def test_dataset_set_elsewhere_is_shown_and_cleared(pane, session):
    session.set_dataset(load(["corpus:miscFolk"]), ["corpus:miscFolk"])
    assert pane.stats_view.tunes_label.text() == "185"
    assert pane.builtin_checks["miscFolk"].isChecked()
    assert pane.sources() == ["corpus:miscFolk"]
    image = pane.grab().toImage()
    assert image.width() > 0 and image.height() > 0

    session.set_dataset(None, [])
    assert pane.stats_view.tunes_label.text() == "0"
    assert pane.tune_model.rowCount() == 0
    assert pane.stats_view.length_histogram.counts.size == 0
    assert pane.stats_view.key_chart.labels == []
    assert pane.preview.toPlainText() == ""


def test_tune_model_filters_without_matching_across_fields():
    tunes = [Tune(f"X:{i}\nT:Tune {i}\nK:G\nabc|", f"book{i % 3}.abc", i, 1) for i in range(300)]
    model = TuneTableModel()
    model.set_tunes(tunes, ["G"] * 300, ["6/8"] * 300)
    model.set_filter("tune 1")
    assert model.rowCount() == sum(1 for i in range(300) if str(i).startswith("1"))
    model.set_filter("BOOK2")
    assert model.rowCount() == 100
    model.set_filter("g6/8")  # key "G" then meter "6/8" are separate fields
    assert model.rowCount() == 0
    with pytest.raises(ValueError):
        model.set_tunes(tunes, ["G"], ["6/8"])
