"""The neuron viewer on a MIDI event model, driven through its widgets: a MIDI file captured on
the worker thread, event labels on the heatmap's columns and in the text view, a click on a
neuron and on an event, the music probes' table, a piece of the session's loaded MIDI data,
and the messages for input an event model cannot read.

A small REMI LSTM checkpoint (random weights) over the hand-built piece of tests/event_pieces.py;
assertions read the displayed data (image arrays, axis tick strings, list items).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from event_pieces import write_event_checkpoint, write_piece
from PySide6.QtCore import Qt

from workbench.midi_data import codec_for, load_midi, make_settings
from workbench.midi_data.encodings import text_of
from workbench.midi_data.labels import event_labels, label_event
from workbench.midi_data.timeline import read_timeline
from workbench.neurons.event_probes import EVENT_PROBES, rank_event_probe
from workbench.session import Session
from workbench.ui.panes.neurons_pane import NeuronsPane

TIMEOUT_MS = 20_000
HIDDEN = 12


@pytest.fixture(scope="module")
def piece(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("midi")
    return write_piece(folder / "known.mid")


@pytest.fixture(scope="module")
def remi(piece):
    settings = make_settings("remi")
    return settings, codec_for(settings).encode_file(piece)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, remi) -> Path:
    settings, events = remi
    path = tmp_path_factory.mktemp("ckpt") / "events.pt"
    return write_event_checkpoint(path, [text_of(events)], settings, hidden=HIDDEN)


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
def shown(qtbot, pane, piece) -> NeuronsPane:
    with qtbot.waitSignal(pane.captured, timeout=TIMEOUT_MS):
        pane.inspect_midi(piece)
    return pane


def _click_cell(qtbot, pane: NeuronsPane, col: int, row: int) -> None:
    pos = pane.heatmap.mapFromScene(pane.heatmap.scene_pos_of(col, row))
    qtbot.mouseClick(pane.heatmap.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_columns_are_the_pieces_events_labelled(shown, remi):
    settings, events = remi
    acts = shown.acts
    assert acts.kind == "events" and acts.tokens == events
    np.testing.assert_array_equal(shown.heatmap.image.image, acts["layer0.hidden"])
    assert shown.heatmap.image.image.shape == (len(events), HIDDEN)
    labels = event_labels(events, settings)
    axis = shown.heatmap.char_axis
    ticks = axis.tickValues(0, 20, 800)
    assert ticks[0][0] == 1.0 and len(ticks[0][1]) == 20
    shown_labels = axis.tickStrings(ticks[0][1], 1.0, 1.0)
    assert shown_labels == labels[:20]
    assert shown_labels[:10] == ["Bar", "4/4", "@1", "C4", "♩", "@2", "C4", "♩", "E4", "♩"]
    assert shown.heatmap.plot.getAxis("bottom").labelText == "event"
    # Labels of two letters on average take two letters' room: up to 60 columns are labelled
    # (120 one-letter characters), wider views get numbered ticks.
    assert axis.max_labelled == 60
    assert len(axis.tickValues(0, len(events), 800)[0][1]) == len(events)
    assert all(spacing != 1.0 for spacing, _ in axis.tickValues(0, 61, 800))
    # The text view shows the same labels, one bar a line.
    view = shown.text_view
    assert view.tokens == labels
    assert view.text.split("\n")[0] == " ".join(labels[: events.index("Bar_None", 1)])
    assert "38 events through events.pt" in shown.status_label.text()


def test_clicking_a_neuron_colours_the_events_and_lists_next_events(qtbot, shown, remi):
    settings, events = remi
    col = events.index("Position_20") + 1  # F4, the eighth off the beat in bar 1
    _click_cell(qtbot, shown, col, 4)
    assert shown.selected_unit == 4 and shown.selected_char == col
    values = shown.acts["layer0.hidden"][:, 4]
    np.testing.assert_array_equal(shown.text_view.values, values)
    assert "'F4' (position 16)" in shown.top_label.text()
    assert shown.top_label.toolTip() == "F4 (Pitch_65), bar 1 beat 3½"
    probs = shown.acts["probs"][col]
    best = np.argsort(-probs, kind="stable")[:10]
    items = [shown.next_list.item(i).text() for i in range(shown.next_list.count())]
    vocab = shown.acts.vocab
    assert items == [f"{label_event(vocab[i], settings)}  {probs[i]:.1%}" for i in best]
    assert shown.next_label.text().startswith("Next event after 'F4'")
    # A click on an event's label in the text view selects that event.
    view = shown.text_view
    target = events.index("Pitch_72")
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.cell_rect(target).center())
    assert shown.selected_char == target
    assert shown.curve_marker.value() == target


@pytest.mark.parametrize(("probe", "symbol"), [("chord", "d"), ("pitch", "r"), ("on_beat", "d")])
def test_music_probes_rank_the_layer(shown, remi, probe, symbol):
    settings, events = remi
    names = [shown.probe_combo.itemData(i) for i in range(shown.probe_combo.count())]
    assert names == list(EVENT_PROBES)
    shown.probe_combo.setCurrentIndex(names.index(probe))
    shown.probe_button.click()
    expected = rank_event_probe(probe, read_timeline(events, settings), shown.acts["layer0.hidden"])
    rows = [shown.results_list.item(i) for i in range(shown.results_list.count())]
    assert len(rows) == 10
    assert [r.data(Qt.ItemDataRole.UserRole) for r in rows] == expected.order[:10].tolist()
    unit, score = expected.top(1)[0]
    assert rows[0].text() == f"layer0.hidden #{unit}: {symbol} = {score:+.2f}"
    assert shown.results_label.text().startswith(EVENT_PROBES[probe].label)
    assert shown.selected_unit == unit


def test_a_piece_of_the_loaded_midi_data_is_read_with_the_models_encoding(
    qtbot, pane, session, piece, remi
):
    # The data was loaded as TSD; the model reads REMI: the piece is encoded again from its file.
    loaded = load_midi([piece.parent], make_settings("tsd"))
    session.set_dataset(loaded, [str(piece.parent)])
    assert pane.piece_combo.isVisibleTo(pane) and pane.piece_combo.count() == 1
    assert pane.piece_combo.itemText(0) == "known.mid"
    with qtbot.waitSignal(pane.captured, timeout=TIMEOUT_MS):
        pane.piece_button.click()
    assert pane.acts.tokens == remi[1]
    session.set_dataset(None, [])
    assert not pane.piece_combo.isVisibleTo(pane)


def test_input_an_event_model_cannot_read_is_a_message(qtbot, pane, session, tmp_path, piece):
    session.editor_tune = "X:1\nT:Reel\nK:D\nDFA dAF|\n"
    with qtbot.waitSignal(pane.worker.finished, timeout=TIMEOUT_MS):
        pane.editor_button.click()
    assert "events.pt reads MIDI events" in pane.status_label.text()
    assert pane.acts is None
    broken = tmp_path / "broken.mid"
    broken.write_bytes(piece.read_bytes()[:60])
    with qtbot.waitSignal(pane.worker.finished, timeout=TIMEOUT_MS):
        pane.inspect_midi(broken)
    assert "broken.mid: truncated or damaged MIDI file" in pane.status_label.text()


def test_event_text_exports(tmp_path, shown, remi):
    settings, events = remi
    shown.select_neuron(3)
    shown.export_text_html(tmp_path / "n.html")
    page = (tmp_path / "n.html").read_text(encoding="utf-8")
    labels = event_labels(events, settings)
    # Every character of every label is coloured; the gaps between labels are not.
    assert page.count("<span") == sum(map(len, labels))
    assert "layer0.hidden #3" in page
