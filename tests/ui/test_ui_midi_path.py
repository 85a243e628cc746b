"""The musician's MIDI path through the window's panes, driven with pytest-qt (offscreen).

A folder of real MIDI files (written with mido and music21, and one truncated file) is loaded in
the Dataset pane under REMI; the Training pane trains an event model on it in the real training
process for a few steps; the Generation pane loads the run's checkpoint, takes a prompt from
the opening of a loaded piece, streams variations onto its piano roll and lists them; the
Playback pane plays one to a recording output; the results export it as .mid (read back with
mido) and .musicxml (read back with music21).
"""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import mido
import pytest
from midi_files import MIDO_NOTES, write_mido_file
from PySide6.QtCore import QSettings, Qt
from tiny import tiny_run_config

from workbench.generation import GeneratedPiece
from workbench.midi_data import MidiLoadResult, midi_bytes, render
from workbench.midi_data.cache import CACHE_ENV
from workbench.playback.clock import JumpClock
from workbench.playback.outputs import RecordingOutput
from workbench.playback.player import State
from workbench.session import Session

pytestmark = pytest.mark.slow  # a real training process

PIECES = 6
FIRST_BAR = re.compile(r"^bar +1 \| Bar_None ", re.MULTILINE)  # a REMI preview's first line


def write_folder(folder: Path) -> Path:
    """Five mido files (two hands, transposed, four bars each repeated), one music21 file
    (a melody over chords) and one truncated file."""
    folder.mkdir()
    for k in range(PIECES - 1):
        notes = [
            (pitch + k, onset + 8 * rep, dur)
            for rep in range(3)
            for pitch, onset, dur in MIDO_NOTES
        ]
        write_mido_file(folder / f"hands_{k}.mid", notes)
    from music21 import chord, note, stream

    part = stream.Part()
    for step, (root, top) in enumerate([(48, 64), (53, 65), (55, 67), (48, 72)] * 3):
        part.append(chord.Chord([root, root + 4, root + 7], quarterLength=2))
        part.append(note.Note(top + step % 3, quarterLength=2))
    part.write("midi", fp=str(folder / "music21_chords.mid"))
    good = (folder / "hands_0.mid").read_bytes()
    (folder / "broken.mid").write_bytes(good[: len(good) // 3])
    return folder


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))


def midi_notes(data: bytes) -> list[tuple[int, int, int]]:
    """(pitch, start tick, end tick) of every note of a MIDI file, matched on/off by mido;
    fails on a note-off without its note-on or a note never released."""
    mf = mido.MidiFile(file=io.BytesIO(data))
    sounding: dict[tuple[int, int], list[int]] = {}
    notes = []
    for track in mf.tracks:
        now = 0
        for msg in track:
            now += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                sounding.setdefault((msg.channel, msg.note), []).append(now)
            elif msg.type in ("note_on", "note_off"):
                starts = sounding.get((msg.channel, msg.note))
                assert starts, f"note-off of {msg.note} at {now} without its note-on"
                notes.append((msg.note, starts.pop(0), now))
    assert not any(sounding.values()), f"notes never released: {sounding}"
    return sorted(notes)


def test_load_train_generate_play_and_export_midi(qtbot, tmp_path, settings) -> None:
    from workbench.ui.panes.dataset_pane import DatasetPane
    from workbench.ui.panes.generation_pane import GenerationPane
    from workbench.ui.panes.playback_pane import PlaybackPane
    from workbench.ui.panes.training_pane import TrainingPane

    folder = write_folder(tmp_path / "midi")
    session = Session()
    session.set_split(0.34, 3)

    # -- Dataset: a MIDI folder under REMI, in events and pieces, the broken file named
    dataset = DatasetPane(session)
    qtbot.addWidget(dataset)
    dataset.set_encoding("remi")
    dataset.add_sources([str(folder)])
    with qtbot.waitSignal(dataset.loader.finished, timeout=60_000):
        dataset.load()
    result = session.dataset
    assert isinstance(result, MidiLoadResult)
    assert len(result.pieces) == PIECES and result.settings["encoding"] == "remi"
    assert dataset.data_views.currentWidget() is dataset.midi_view
    view = dataset.midi_view
    assert view.pieces_label.text() == str(PIECES)
    assert view.events_label.text() == f"{result.events:,}"
    assert view.encoding_label.text() == "REMI"
    problems = dataset.problems_model.stringList()
    assert len(problems) == 1 and "broken.mid" in problems[0] and "truncated" in problems[0]
    assert view.pieces_shown() == PIECES
    view.filter_edit.setText("music21")
    assert view.pieces_shown() == 1
    view.select_row(0)
    assert view.shown_piece().name == "music21_chords"
    assert FIRST_BAR.search(view.preview.toPlainText())
    assert "Loaded 6 pieces" in dataset.status_label.text()

    # -- Training: an event model in the real training process, in events
    training = TrainingPane(session, runs_root=tmp_path / "runs")
    qtbot.addWidget(training)
    training.form.set_config(tiny_run_config(eval_every=5, sample_chars=30))
    training.show()
    from models.pretrained import default_checkpoint

    if default_checkpoint() is not None:  # the shipped model reads ABC: not these pieces
        assert not training.fine_tune()
        assert "reads ABC tunes, not MIDI" in training.error_label.text()
    presets = [
        training.form.preset_combo.itemText(i) for i in range(training.form.preset_combo.count())
    ]
    assert any(name.startswith("MIDI report 004") for name in presets)
    qtbot.mouseClick(training.start_button, Qt.MouseButton.LeftButton)
    run = session.run

    def trained() -> bool:
        return training.plots.evals.size >= 2

    qtbot.waitUntil(trained, timeout=120_000)
    assert training.plots.unit == "event"
    assert "nats/event" in training.plots.loss_plot.titleLabel.text
    assert "events/s" in training.status_label.text()
    assert "Pitch_" in training.sample_view.toPlainText()
    with qtbot.waitSignal(training.driver.finished, timeout=60_000):
        qtbot.mouseClick(training.stop_button, Qt.MouseButton.LeftButton)
    assert session.checkpoint == run / "best.pt"
    assert list((run / "samples").glob("*.events.txt"))

    # -- Generation: the run's event model, a prompt from a loaded piece, streamed to the roll
    generation = GenerationPane(
        session, runs_root=tmp_path / "runs", settings=settings, default_model=None
    )
    qtbot.addWidget(generation)
    generation.show()
    qtbot.waitUntil(lambda: generation.loaded is not None, timeout=60_000)
    assert generation.model_kind() == "events"
    assert "REMI events" in generation.model_label.text()
    assert not generation.meter_aware_check.isEnabled()
    assert "ABC models only" in generation.meter_aware_check.toolTip()
    assert not generation.abc_prompt_row.isVisible() and generation.event_prompt.isVisible()
    assert generation.length_spin.suffix() == " events"
    assert generation.live_stack.currentWidget() is generation.live_roll

    prompt = generation.event_prompt
    prompt.events_spin.setValue(12)
    prompt.set_source("piece")
    prompt.piece_combo.setCurrentIndex(prompt.piece_combo.findText("hands_2"))
    qtbot.waitUntil(lambda: prompt.prompt() is not None and prompt.prompt() != "", timeout=30_000)
    piece = next(p for p in result.pieces if p.name == "hands_2")
    assert prompt.prompt() == " ".join(piece.text.split()[:12]) + " "
    assert "the first 12 events of hands_2" in generation.prompt_note.text()
    assert FIRST_BAR.match(generation.prompt_preview.toPlainText())

    generation.random_seed_check.setChecked(False)
    generation.seed_spin.setValue(11)
    generation.num_spin.setValue(2)
    generation.length_spin.setValue(200)
    with qtbot.waitSignal(generation.generation_finished, timeout=60_000) as done:
        qtbot.mouseClick(generation.generate_button, Qt.MouseButton.LeftButton)
    outcome = done.args[0]
    results = generation.results
    pieces = results.tunes()
    assert len(pieces) == 2 and all(isinstance(p, GeneratedPiece) for p in pieces)
    for generated in pieces:
        assert generated.text.startswith(prompt.prompt())
        assert generated.midi and generated.notes > 0
    # The roll shows the watched variation's notes as the renderer makes them.
    first = render(pieces[0].settings, pieces[0].text)
    assert generation.live_roll.note_count == first.notes
    assert "events/s" in generation.status_label.text()
    assert outcome.prompt == prompt.prompt()

    # -- the list: MIDI piece rows, ABC-only actions disabled, MIDI formats offered
    results.select([0])
    assert not results.send_button.isEnabled()
    assert "ABC" in results.send_button.toolTip()
    assert results.play_button.isEnabled()
    formats = [results.format_combo.itemData(i) for i in range(results.format_combo.count())]
    assert "mid" in formats and "musicxml" in formats and "abc" not in formats
    assert FIRST_BAR.match(results.text_view.toPlainText())
    assert results.wait_checks(60_000)
    # The checker is idle once its last result is sent; the GUI thread applies it next.
    qtbot.waitUntil(lambda: pieces[0].parse_error is not None, timeout=10_000)
    assert pieces[0].parse_error == "" and pieces[0].key

    # -- Playback: Play plays the selected piece's MIDI to a recording output
    out = RecordingOutput()
    playback = PlaybackPane(session, clock=JumpClock(), output=out)
    qtbot.addWidget(playback)
    choice = session.play_choice
    assert choice is not None and choice.midi == pieces[0].midi
    playback.toggle_play()
    qtbot.waitUntil(
        lambda: playback.player.state is State.STOPPED and bool(out.messages), timeout=30_000
    )
    played = sorted(m.note for m in out.messages if m.type == "note_on" and m.velocity > 0)
    assert played == sorted(n[0] for n in midi_notes(pieces[0].midi))
    assert playback.piano_roll.note_count == pieces[0].notes
    playback.shutdown()

    # -- Export: .mid bytes checked with mido, .musicxml read back with music21
    out_dir = tmp_path / "export"
    with qtbot.waitSignal(results.export_finished, timeout=60_000) as exported:
        assert results.export([pieces[0]], out_dir, "mid", ["first.mid"])
    assert exported.args[0].problems == []
    written = (out_dir / "first.mid").read_bytes()
    notes = midi_notes(written)
    assert len(notes) == pieces[0].notes
    assert all(21 <= pitch <= 108 and start < end for pitch, start, end in notes)
    # The same notes the events render to (an oracle apart from the file: symusic's score).
    rendered = render(pieces[0].settings, pieces[0].text)
    expected = sorted(n.pitch for t in rendered.score.tracks for n in t.notes)
    assert sorted(n[0] for n in notes) == expected
    assert written == midi_bytes(rendered)
    assert pieces[0].saved_to.startswith("exported")

    with qtbot.waitSignal(results.export_finished, timeout=120_000) as exported:
        assert results.export(pieces, out_dir, "musicxml")
    summary = exported.args[0]
    assert summary.problems == [] and len(summary.written) == 2
    from music21 import converter

    score = converter.parse(str(summary.written[0]))
    xml_pitches = {p.midi for n in score.recurse().notes for p in n.pitches}
    assert xml_pitches == set(expected)
    assert score.metadata.bestTitle == pieces[0].title

    generation.shutdown()
    dataset.shutdown()
    training.stop_and_wait()


# -- the pane follows the model's kind; the roll follows the stream -------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """A runs folder with a tiny event model (REMI, on mido files) and a tiny char model."""
    from models.train import split_texts, train
    from workbench.corpus import load
    from workbench.training_data import load_training_data

    root = tmp_path_factory.mktemp("runs")
    data = load_training_data([str(write_folder(tmp_path_factory.mktemp("m") / "midi"))])
    tr, va = split_texts(data.texts, 0.34, 0)
    for _ in train(
        tiny_run_config(epochs=3, eval_every=0, sample_chars=0),
        tr,
        va,
        root / "events",
        tokenizer=data.tokenizer(tr),
    ):
        pass
    folk = [t.text for t in load(["corpus:miscFolk"]).tunes[:30]]
    tr, va = split_texts(folk, 0.1, 0)
    for _ in train(tiny_run_config(epochs=1, eval_every=0, sample_chars=0), tr, va, root / "chars"):
        pass
    return root


def test_controls_follow_the_models_kind_and_the_roll_follows_the_stream(
    qtbot, models, settings, monkeypatch
) -> None:
    from workbench.ui.panes.generation_pane import GenerationPane
    from workbench.ui.workers import generation_worker

    session = Session()
    pane = GenerationPane(session, runs_root=models, settings=settings, default_model=None)
    qtbot.addWidget(pane)
    pane.show()

    def load(run: str) -> None:
        session.checkpoint = models / run / "best.pt"
        qtbot.waitUntil(
            lambda: pane.loaded is not None and pane.loaded.path == session.checkpoint,
            timeout=60_000,
        )

    load("chars")
    assert pane.model_kind() == "chars" and pane.abc_prompt_row.isVisible()
    assert pane.meter_aware_check.isEnabled() and pane.length_spin.suffix() == " chars"
    assert pane.results.format_combo.findData("abc") >= 0
    pane.length_spin.setValue(700)
    # An ABC tune ends where the model ends it: the length caps it, and nothing else applies.
    assert pane.end_early_check.isHidden() and pane.sampling_params(1).min_chars == 0
    load("events")
    assert pane.model_kind() == "events" and not pane.abc_prompt_row.isVisible()
    assert not pane.meter_aware_check.isEnabled()
    assert pane.key_combo.toolTip().startswith("For ABC models only")
    assert pane.length_spin.suffix() == " events" and pane.length_spin.value() == 500
    # With nothing generated yet, Export offers what this model writes: MIDI, not ABC.
    combo = pane.results.format_combo
    offered = [combo.itemData(i) for i in range(combo.count())]
    assert "mid" in offered and "abc" not in offered and combo.currentData() == "mid"

    # Each streamed chunk may carry the watched variation's notes so far: drawn as they come.
    monkeypatch.setattr(generation_worker, "ROLL_INTERVAL_S", 0.0)
    drawn: list[int] = []
    pane.runner.streamed.connect(
        lambda chunk: chunk.roll is not None and drawn.append(len(chunk.roll[1].notes))
    )
    pane.event_prompt.set_source("empty")
    qtbot.waitUntil(lambda: pane.generate_button.isEnabled(), timeout=10_000)
    pane.argmax_check.setChecked(True)
    assert not pane.temp_slider.isEnabled() and pane.sampling_params(1).top_k == 1
    pane.argmax_check.setChecked(False)
    pane.num_spin.setValue(2)
    pane.length_spin.setValue(300)
    # An event piece runs to its length unless the model may end it sooner (remembered).
    assert not pane.end_early_check.isHidden() and not pane.end_early_check.isChecked()
    assert pane.sampling_params(1).min_chars == pane.sampling_params(1).max_chars == 300
    pane.end_early_check.setChecked(True)
    assert pane.sampling_params(1).min_chars == 0
    assert settings.value("generation/end_early") in (True, "true")
    pane.end_early_check.setChecked(False)
    pane.random_seed_check.setChecked(False)
    pane.seed_spin.setValue(3)
    with qtbot.waitSignal(pane.generation_finished, timeout=60_000) as done:
        pane.generate()
    batch = done.args[0].pieces  # every variation, rendered, whether listed or not
    assert len(batch) == 2 and all(isinstance(p, GeneratedPiece) for p in batch)
    assert [p.events for p in batch] == [300, 300]  # the length asked for, each
    assert len(drawn) >= 2 and drawn == sorted(drawn)  # grows as variation 1 streams
    assert pane.live_roll.note_count == batch[0].notes == drawn[-1]
    pane.watch_spin.setValue(2)  # a finished batch: the roll shows the other variation
    assert pane.live_roll.note_count == batch[1].notes
    assert pane.live_roll.getPlotItem().titleLabel.text.startswith("Variation 2:")

    load("chars")  # back to ABC: its controls and its length come back
    assert pane.abc_prompt_row.isVisible() and pane.meter_aware_check.isEnabled()
    assert pane.length_spin.suffix() == " chars" and pane.length_spin.value() == 700
    assert pane.live_stack.currentWidget() is pane.live_view
    pane.shutdown()


def test_the_first_chorales_load_shows_its_conversion_and_cancels(qtbot, monkeypatch) -> None:
    from workbench.midi_data import chorales
    from workbench.ui.panes.dataset_pane import DatasetPane

    # The first chorale converts for real; the second waits for the test (music21 takes
    # seconds each when cold, but after an earlier test its own parse cache made all 349 take
    # about a second: under random order seed 3 the load had ended before Cancel was looked at).
    gate, real_convert, converted = threading.Event(), chorales._convert, []

    def convert(name: str, path: Path) -> None:
        converted.append(name)
        if len(converted) > 1:
            gate.wait(60)
        real_convert(name, path)

    monkeypatch.setattr(chorales, "_convert", convert)
    session = Session()
    pane = DatasetPane(session)
    qtbot.addWidget(pane)
    pane.builtin_checks["bach-chorales"].setChecked(True)
    assert pane.sources() == ["corpus:bach-chorales"]
    # The cache is empty (a fresh folder): the first chorale is converted through music21.
    with qtbot.waitSignal(pane.loader.progressed, timeout=60_000) as progressed:
        pane.load()
    done, total, source = progressed.args
    assert done == 1 and total > 300 and source.startswith("converting bach/")
    # Under pytest-randomly seed 3 (whole suite) the button was once disabled here: say why.
    assert pane.cancel_button.isEnabled(), (pane.loader.is_running(), pane.status_label.text())
    assert pane.status_label.text().startswith("Converting bach/")
    with qtbot.waitSignal(pane.loader.cancelled, timeout=60_000):
        qtbot.mouseClick(pane.cancel_button, Qt.MouseButton.LeftButton)
        gate.set()  # a second conversion already started may end; no other starts
    assert session.dataset is None
    # The loader asks before each conversion: Cancel lands either before the second began
    # (seen under random order seeds 1 and 2) or while it waits at the gate, never later.
    assert converted[:1] and len(converted) <= 2, converted
    assert "cancelled" in pane.status_label.text()
    qtbot.waitUntil(lambda: pane.load_button.isEnabled())
    pane.shutdown()
