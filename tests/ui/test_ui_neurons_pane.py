"""The neuron viewer driven through its widgets: capture on the worker, hover, click, search,
layer and sort selectors, exports, a bad checkpoint and cancel.

A tiny 2-layer LSTM checkpoint (random weights) is written per module; captures go through the
real worker thread. Assertions read the displayed data: the heatmap's image array, the readout
label, the text view's colours, the lists.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from models.activations import Activations
from models.checkpoint import Checkpoint, save_checkpoint
from models.config import ModelConfig, RunConfig
from models.networks import CharRNN
from models.tokenizer import CharTokenizer
from workbench.corpus import load
from workbench.neurons.export import diverging_rgb
from workbench.neurons.probes import chord_mask, rank_neurons, span_mask
from workbench.session import Session
from workbench.ui.panes.neurons_pane import NeuronsPane
from workbench.ui.widgets.heatmap_view import shown_char

TIMEOUT_MS = 20_000
HIDDEN = 12


@pytest.fixture(scope="module")
def tune() -> str:
    tunes = load(["corpus:ryansMammoth"]).tunes
    return next(t.text for t in tunes if t.source.endswith("7thRegimentReel.abc"))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, tune) -> Path:
    tokenizer = CharTokenizer.fit([tune])
    cfg = RunConfig(model=ModelConfig(arch="lstm", hidden=HIDDEN, layers=2, embedding=8, dropout=0))
    torch.manual_seed(1)
    model = CharRNN(cfg.model, len(tokenizer))
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(
        path, Checkpoint(config=cfg, tokenizer=tokenizer, state_dict=model.state_dict())
    )
    return path


@pytest.fixture
def session(checkpoint) -> Session:
    s = Session()
    s.checkpoint = checkpoint
    return s


@pytest.fixture
def pane(qtbot, session):
    widget = NeuronsPane(session)
    qtbot.addWidget(widget)
    widget.resize(1200, 900)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


@pytest.fixture
def shown(qtbot, pane, session, tune) -> NeuronsPane:
    with qtbot.waitSignal(pane.captured, timeout=TIMEOUT_MS):
        session.request_inspect(tune)
    return pane


def _viewport_point(pane: NeuronsPane, col: int, row: int) -> QPoint:
    return pane.heatmap.mapFromScene(pane.heatmap.scene_pos_of(col, row))


def _hover(pane: NeuronsPane, col: int, row: int) -> None:
    vp = pane.heatmap.viewport()
    local = QPointF(_viewport_point(pane, col, row))
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        local,
        QPointF(vp.mapToGlobal(local)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(vp, event)


def test_inspect_request_shows_the_layer_as_an_image(shown, tune):
    acts = shown.acts
    assert acts.text == tune
    image = shown.heatmap.image.image
    assert image.shape == (len(tune), HIDDEN)  # x = characters, y = neurons
    np.testing.assert_array_equal(image, acts["layer0.hidden"])
    labels = [shown.layer_combo.itemText(i) for i in range(shown.layer_combo.count())]
    assert labels == [
        "layer 0 hidden",
        "layer 0 cell",
        "layer 1 hidden",
        "layer 1 cell",
        "all layers hidden",
    ]
    # The colour scale is centred on 0.
    low, high = shown.heatmap.image.getLevels()
    assert low == pytest.approx(-high) and high == pytest.approx(np.abs(image).max())


def test_hover_readout_names_character_position_neuron_and_value(qtbot, shown, tune):
    col = tune.index("K:A") + 2  # the 'A' of the key line
    row = 5
    _hover(shown, col, row)
    value = shown.acts["layer0.hidden"][col, 5]
    assert shown.readout.text() == f"'A' at {col} · neuron layer0.hidden #5 · {value:+.4f}"


def test_clicking_a_cell_colours_the_text_and_lists_the_top_10(qtbot, shown, tune):
    col, row = tune.index("|") + 1, 7
    qtbot.mouseClick(
        shown.heatmap.viewport(), Qt.MouseButton.LeftButton, pos=_viewport_point(shown, col, row)
    )
    assert shown.selected_unit == 7 and shown.selected_char == col
    values = shown.acts["layer0.hidden"][:, 7]
    np.testing.assert_array_equal(shown.text_view.values, values)
    np.testing.assert_array_equal(
        shown.text_view.backgrounds, diverging_rgb(values.astype(np.float64))
    )
    _, y = shown.curve.getData()
    np.testing.assert_array_equal(y, values)
    # Top 10 next characters, most likely first, as the model's probabilities say.
    probs = shown.acts["probs"][col]
    best = np.argsort(-probs)[:10]
    items = [shown.next_list.item(i).text() for i in range(shown.next_list.count())]
    assert len(items) == 10
    assert items == [f"{shown_char(shown.acts.vocab[i])}  {probs[i]:.1%}" for i in best]
    top_units = np.argsort(-np.abs(shown.acts["layer0.hidden"][col]))[:10]
    assert shown.top_list.item(0).text().startswith(f"layer0.hidden #{top_units[0]}:")
    assert shown.top_list.count() == 10


def test_layer_and_sort_selectors_change_the_image(shown):
    shown.layer_combo.setCurrentIndex(3)  # layer 1 cell
    np.testing.assert_array_equal(shown.heatmap.image.image, shown.acts["layer1.cell"])
    shown.sort_combo.setCurrentIndex(1)  # variance
    cells = shown.acts["layer1.cell"]
    order = np.argsort(-cells.var(axis=0), kind="stable")
    np.testing.assert_array_equal(shown.heatmap.image.image, cells[:, order])
    assert shown.heatmap.unit_axis.units.tolist() == order.tolist()
    shown.layer_combo.setCurrentIndex(4)  # all layers' hidden states side by side
    assert shown.heatmap.image.image.shape == (len(shown.acts.text), 2 * HIDDEN)
    # Correlation with the selected neuron: the neuron itself comes first.
    shown.select_neuron(17)
    shown.sort_combo.setCurrentIndex(2)
    assert shown.order[0] == 17


def test_dragging_a_span_ranks_neurons_that_separate_it(qtbot, shown, tune):
    view = shown.text_view
    start = tune.index('"4"')
    end = start + 3
    a = view.cell_rect(start).center()
    b = view.cell_rect(end - 1).center()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(view, b)
    with qtbot.waitSignal(view.span_selected) as blocker:
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=b)
    assert blocker.args == [start, end]
    expected = rank_neurons(
        shown.acts["layer0.hidden"], span_mask(len(tune), start, end), binary=True
    )
    assert shown.results_list.item(0).text().startswith(f"layer0.hidden #{expected.order[0]}:")
    assert "Cohen's d" in shown.results_label.text()
    assert shown.selected_unit == expected.order[0]


def test_chord_probe_ranks_the_layer(shown, tune):
    shown.probe_combo.setCurrentIndex(shown.probe_combo.findData("chord"))
    shown.probe_button.click()
    expected = rank_neurons(shown.acts["layer0.hidden"], chord_mask(tune))
    assert shown.results_list.count() == 10
    assert shown.results_list.item(0).data(Qt.ItemDataRole.UserRole) == expected.order[0]
    # Clicking a result colours the text by that neuron.
    item = shown.results_list.item(3)
    shown.results_list.itemClicked.emit(item)
    assert shown.selected_unit == item.data(Qt.ItemDataRole.UserRole)


def test_exports_write_files_that_read_back(tmp_path, shown, tune):
    shown.select_neuron(2)
    shown.export_npz(tmp_path / "a.npz")
    back = Activations.load_npz(tmp_path / "a.npz")
    assert back.text == tune and back["layer1.cell"].shape == (len(tune), HIDDEN)
    shown.export_csv(tmp_path / "a.csv")
    with open(tmp_path / "a.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == len(tune) + 1 and len(rows[0]) == 2 + 4 * HIDDEN
    shown.export_text_html(tmp_path / "n.html")
    page = (tmp_path / "n.html").read_text(encoding="utf-8")
    assert page.count("<span") == len(tune) and "layer0.hidden #2" in page
    for name, method in (("h.png", shown.export_heatmap_png), ("t.png", shown.export_text_png)):
        method(tmp_path / name)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shown.export_heatmap_svg(tmp_path / "h.svg")
    svg = (tmp_path / "h.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "<image" in svg


def test_a_bad_checkpoint_is_a_message_naming_it(qtbot, pane, session, tmp_path, tune):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    session.checkpoint = broken
    with qtbot.waitSignal(pane.worker.finished, timeout=TIMEOUT_MS):
        pane.inspect(tune)
    assert "broken.pt" in pane.status_label.text()
    assert pane.acts is None


def test_cancel_stops_a_capture(qtbot, pane, tune):
    with qtbot.waitSignal(pane.worker.cancelled, timeout=TIMEOUT_MS):
        pane.inspect(tune * 40)
        assert pane.cancel_button.isEnabled()
        pane.cancel_button.click()
    qtbot.waitUntil(lambda: not pane.worker.is_running())
    assert pane.acts is None and "cancelled" in pane.status_label.text()
    assert not pane.progress.isVisible()


def test_no_model_is_a_message(qtbot, pane, session, monkeypatch):
    import models.pretrained

    monkeypatch.setattr(models.pretrained, "default_checkpoint", lambda: None)
    session.checkpoint = None
    pane.inspect("X:1\nK:G\nABc|\n")
    assert "no model" in pane.status_label.text()
    assert not pane.worker.is_running()


def test_editor_tune_and_paste_box_are_text_sources(qtbot, pane, session, tune):
    session.editor_tune = tune[:120]
    with qtbot.waitSignal(pane.captured, timeout=TIMEOUT_MS):
        qtbot.mouseClick(pane.editor_button, Qt.MouseButton.LeftButton)
    assert pane.acts.text == tune[:120]
    pane.paste_button.click()
    assert pane.paste_box.isVisible()
    pane.paste_edit.setPlainText('X:2\nK:D\n"D"dAF|\n')
    with qtbot.waitSignal(pane.captured, timeout=TIMEOUT_MS):
        qtbot.mouseClick(pane.run_paste_button, Qt.MouseButton.LeftButton)
    assert pane.acts.text == 'X:2\nK:D\n"D"dAF|\n'
    assert pane.heatmap.image.image.shape == (len(pane.acts.text), HIDDEN)


def test_character_labels_appear_when_zoomed_in(shown, tune):
    axis = shown.heatmap.char_axis
    ticks = axis.tickValues(10, 40, 800)
    assert ticks[0][0] == 1.0 and ticks[0][1][0] == 10.5 and len(ticks[0][1]) == 30
    labels = axis.tickStrings(ticks[0][1], 1.0, 1.0)
    expected = [{"\n": "\u21b5", " ": "\u2423"}.get(ch, ch) for ch in tune[10:40]]
    assert labels == expected
    # Zoomed out: ordinary numeric ticks, no per-character labels.
    assert all(spacing != 1.0 for spacing, _ in axis.tickValues(0, len(tune), 800))


def test_a_new_text_replaces_a_capture_still_running(qtbot, pane, tune):
    pane.inspect(tune * 40)
    with qtbot.waitSignal(pane.captured, timeout=TIMEOUT_MS):
        pane.inspect(tune[:50])
    assert pane.acts.text == tune[:50]
    qtbot.waitUntil(lambda: not pane.worker.is_running())
    assert not pane.cancel_button.isEnabled()


def _second_checkpoint(directory: Path, tune: str, hidden: int) -> Path:
    tokenizer = CharTokenizer.fit([tune])
    cfg = RunConfig(model=ModelConfig(arch="lstm", hidden=hidden, layers=1, embedding=8, dropout=0))
    path = directory / "other.pt"
    model = CharRNN(cfg.model, len(tokenizer))
    save_checkpoint(
        path, Checkpoint(config=cfg, tokenizer=tokenizer, state_dict=model.state_dict())
    )
    return path


def test_model_button_reads_the_checkpoint_off_the_gui_thread(
    qtbot, shown, checkpoint, tmp_path, tune, monkeypatch
):
    import threading

    import models.checkpoint

    other = _second_checkpoint(tmp_path, tune, hidden=HIDDEN * 2)
    readers: list[str] = []
    real_load = models.checkpoint.load_checkpoint

    def spy(path, *args, **kwargs):  # the real reader, noting the thread it runs on
        readers.append(threading.current_thread().name)
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(models.checkpoint, "load_checkpoint", spy)
    with qtbot.waitSignal(shown.checkpoint_checked, timeout=TIMEOUT_MS) as taken:
        shown.use_checkpoint(other)
        # Nothing has changed yet: the file is read on a worker, not here.
        assert shown.model_label.text() == f"Model: {checkpoint.name}"
        assert "Reading other.pt" in shown.status_label.text()
    assert taken.args == [True]
    assert readers and threading.main_thread().name not in readers
    assert shown.model_label.text() == "Model: other.pt"
    # The text on display is run again through the new model: twice the neurons.
    with qtbot.waitSignal(shown.captured, timeout=TIMEOUT_MS):
        pass
    assert shown.matrix.shape[1] == HIDDEN * 2


def test_a_file_that_is_no_checkpoint_is_refused_and_the_model_kept(
    qtbot, pane, checkpoint, tmp_path, tune
):
    broken = tmp_path / "notes.pt"
    broken.write_bytes(b"\x00garbage" * 1000)
    with qtbot.waitSignal(pane.checkpoint_checked, timeout=TIMEOUT_MS) as taken:
        pane.use_checkpoint(broken)
    assert taken.args == [False]
    assert "notes.pt" in pane.status_label.text()
    assert f"still using {checkpoint.name}" in pane.status_label.text()
    assert pane.model_label.text() == f"Model: {checkpoint.name}"
    assert pane.checkpoint_override is None
    # The user's last choice wins: a bad file picked and at once replaced by a good one is
    # neither reported nor used.
    other = _second_checkpoint(tmp_path, tune, hidden=HIDDEN)
    answers: list[bool] = []
    pane.checkpoint_checked.connect(answers.append)
    pane.use_checkpoint(broken)
    pane.use_checkpoint(other)
    qtbot.waitUntil(lambda: answers == [True] and not pane.checker.is_running(), timeout=TIMEOUT_MS)
    assert pane.checkpoint_override == other
    assert pane.model_label.text() == "Model: other.pt"
