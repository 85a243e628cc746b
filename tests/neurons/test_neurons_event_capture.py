"""Capturing an event model's activations (Qt-free): one row per event for the char models'
networks on events and for the reports' networks, the .npz and .csv files, the viewer's reading
of an event capture, and what an event model accepts as input."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from event_pieces import write_piece

from models.activations import Activations, capture
from models.config import ModelConfig
from models.errors import DataError
from models.networks import build_network
from models.tokenizer import EventTokenizer
from workbench.midi_data import codec_for, make_settings
from workbench.midi_data.encodings import text_of
from workbench.midi_data.labels import event_labels
from workbench.neurons.export import coloured_text_html, export_csv
from workbench.neurons.piece_input import check_events, events_from_file
from workbench.neurons.reading import reading_for


@pytest.fixture(scope="module")
def piece(tmp_path_factory):
    return write_piece(tmp_path_factory.mktemp("piece") / "known.mid")


@pytest.fixture(scope="module")
def remi(piece):
    settings = make_settings("remi")
    events = codec_for(settings).encode_file(piece)
    return events, settings, EventTokenizer.fit([text_of(events)], settings)


@pytest.mark.parametrize("arch", ["lstm", "gru", "lstm-dense", "conv-lstm"])
def test_one_row_per_event_equal_to_the_networks_forward_pass(remi, arch):
    events, settings, tokenizer = remi
    cfg = ModelConfig(arch=arch, hidden=16, layers=2, embedding=8, dropout=0.0)
    torch.manual_seed(3)
    model = build_network(cfg, len(tokenizer)).eval()
    acts = capture(model, tokenizer, text_of(events))
    assert acts.kind == "events" and acts.settings == settings
    assert acts.tokens == events and len(acts) == len(events)
    ids = torch.as_tensor(tokenizer.encode(text_of(events), start=True)).unsqueeze(0)
    with torch.no_grad():
        logits, state, top = model(ids, return_hidden=True)
    np.testing.assert_allclose(acts["layer1.hidden"], top[0, 1:].numpy(), atol=1e-5)
    np.testing.assert_allclose(acts["probs"], torch.softmax(logits[0, 1:], -1).numpy(), atol=1e-5)
    if arch != "gru":  # LSTMs: the recovered cell sequence ends on the network's own cell
        cells = state[1][:, 0].numpy()  # (layers, H)
        for layer in range(2):
            np.testing.assert_allclose(acts[f"layer{layer}.cell"][-1], cells[layer], atol=1e-5)


def test_npz_and_csv_keep_the_events_and_their_encoding(tmp_path, remi):
    events, settings, tokenizer = remi
    cfg = ModelConfig(arch="lstm", hidden=6, layers=1, embedding=4, dropout=0.0)
    acts = capture(build_network(cfg, len(tokenizer)), tokenizer, text_of(events))
    acts.save_npz(tmp_path / "a.npz")
    back = Activations.load_npz(tmp_path / "a.npz")
    assert (back.kind, back.settings, back.tokens) == ("events", settings, events)
    np.testing.assert_array_equal(back["layer0.cell"], acts["layer0.cell"])
    assert export_csv(tmp_path / "a.csv", back) == len(events)
    with open(tmp_path / "a.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["position", "event", "layer0.hidden[0]"]
    assert [r[1] for r in rows[1:]] == events


def test_the_viewer_reads_an_event_capture_as_music(remi):
    events, settings, tokenizer = remi
    cfg = ModelConfig(arch="lstm", hidden=6, layers=1, embedding=4, dropout=0.0)
    acts = capture(build_network(cfg, len(tokenizer)), tokenizer, text_of(events))
    reading = reading_for(acts)
    assert reading.kind == "events" and reading.unit_noun == "event"
    assert reading.labels == event_labels(events, settings)
    # One bar a line: the text view breaks before the second and third Bar.
    assert reading.line_breaks == [i for i, e in enumerate(events) if e == "Bar_None"][1:]
    assert reading.describe(3) == "C4 (Pitch_60), bar 1 beat 1"
    assert reading.span_text(2, 5) == "@1 C4 ♩"
    assert set(reading.probes) == {"on_beat", "bar_position", "chord", "pitch", "rest"}
    # The next-event list reads a Duration in the meter where it stands.
    assert reading.vocab_label("Duration_2.0.8", 3) == "2♩"


def test_html_of_event_labels_leaves_the_gaps_plain():
    page = coloured_text_html("C4 ♩", np.array([0.5, 0.5, np.nan, -1.0]))
    assert page.count("<span") == 3 and "C4</span>" not in page


def test_inputs_an_event_model_accepts(tmp_path, piece, remi):
    events, settings, tokenizer = remi
    assert events_from_file(piece, settings) == text_of(events)
    saved = tmp_path / "gen.events.txt"  # what `workbench generate` writes beside a .mid
    saved.write_text(" ".join(events[:10]) + "\n", encoding="utf-8")
    assert events_from_file(saved, settings) == text_of(events[:10])
    broken = tmp_path / "broken.mid"
    broken.write_bytes(piece.read_bytes()[:40])
    with pytest.raises(DataError, match=r"broken\.mid"):
        events_from_file(broken, settings)
    check_events(text_of(events), tokenizer.vocab, "m.pt")
    with pytest.raises(DataError, match=r"m\.pt reads MIDI events"):
        check_events("X:1\nK:C\nCDE|\n", tokenizer.vocab, "m.pt")


def test_a_loaded_piece_is_read_again_from_its_file(tmp_path, piece, monkeypatch):
    from workbench.midi_data import Piece, load_midi
    from workbench.midi_data.cache import CACHE_ENV
    from workbench.neurons.piece_input import piece_file

    loaded = load_midi([piece], make_settings("tsd"))
    assert piece_file(loaded.pieces[0]).resolve() == piece.resolve()
    assert piece_file(Piece(str(tmp_path / "gone.mid"), "", 0)) is None
    # A Bach chorale is named by the corpus; its file is the converted one in the cache.
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    cached = tmp_path / "cache" / "midi" / "bach-chorales" / "bwv269.mid"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(piece.read_bytes())
    assert piece_file(Piece("corpus:bach-chorales/bwv269", "", 0)) == cached
