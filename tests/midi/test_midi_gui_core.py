"""The Qt-free pieces of the GUI's MIDI path: dataset statistics and previews, reading training
data of either kind (the CLI's and the training process's one way), prompts from loaded pieces,
generated pieces rendered, checked, drawn and exported, and the chorales' cancellable
conversion. Oracles: the notes the mido file was written with, mido's own reading of the MIDI
bytes, MidiTok's encoding of the file, music21's reading of the exports."""

from __future__ import annotations

import io
import queue
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import mido
import pytest
from midi_files import MIDO_NOTES, sounding_spans, write_mido_file

from models.errors import DataError
from models.tokenizer import CharTokenizer, EventTokenizer
from workbench.generation import (
    GeneratedPiece,
    GeneratedTune,
    check_piece,
    event_prompt,
    export_choices,
    export_results,
    piece_tune,
    result_export_names,
)
from workbench.midi_data import (
    MidiLoadCancelled,
    load_midi,
    make_settings,
    prompt_from_midi,
    prompt_from_piece,
)
from workbench.midi_data.chorales import CHORALES_SPEC, ConversionCancelled, chorale_midi_files
from workbench.midi_data.stats import PITCH_CLASS_NAMES, event_kind, midi_stats, preview_text
from workbench.playback.events import tune_from_midi
from workbench.training_data import DataKindError, load_training_data, midi_settings

REMI = make_settings("remi")
TSD = make_settings("tsd")

TUNE = "X:1\nT:Kesh\nM:6/8\nL:1/8\nK:G\nGAG GAB|ABA ABd|]\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Three mido files: the test notes and two transpositions."""
    path = tmp_path_factory.mktemp("pieces")
    for k in (0, 2, 5):
        notes = [(p + k, onset, dur) for p, onset, dur in MIDO_NOTES]
        write_mido_file(path / f"piece_{k}.mid", notes)
    return path


# -- statistics and previews ---------------------------------------------------------------


def test_stats_count_the_pitch_classes_the_files_were_written_with(folder) -> None:
    result = load_midi([folder], REMI)
    stats = midi_stats(result)
    assert stats.pieces == 3 and stats.files == 3 and stats.encoding == "REMI"
    assert stats.events == sum(len(p.text.split()) for p in result.pieces)
    assert sorted(stats.lengths.tolist()) == sorted(p.events for p in result.pieces)
    written = Counter((p + k) % 12 for k in (0, 2, 5) for p, _, _ in MIDO_NOTES)
    assert stats.pitch_classes == {PITCH_CLASS_NAMES[pc]: written[pc] for pc in range(12)}
    # One Pitch and one Duration event per note, and a Bar event per bar.
    assert stats.kinds["Pitch"] == stats.kinds["Duration"] == 3 * len(MIDO_NOTES)
    assert stats.kinds["Bar"] == 3 * 2  # eight beats of 4/4 in each file
    assert set(stats.vocabulary) == {e for p in result.pieces for e in p.text.split()}


def test_event_kinds_of_the_reports_encoding() -> None:
    assert event_kind("E-4") == "note" and event_kind("0.4.7") == "chord"
    assert event_kind("Pitch_60") == "Pitch" and event_kind("TimeShift_1.0.8") == "TimeShift"


def test_preview_has_a_line_per_bar_and_loses_no_event(folder) -> None:
    piece = load_midi([folder / "piece_0.mid"], REMI).pieces[0]
    lines = preview_text(piece.text).splitlines()
    assert len(lines) == piece.text.split().count("Bar_None") == 2
    assert lines[0].startswith("bar 1 | Bar_None ") and lines[1].startswith("bar 2 | Bar_None ")
    assert [e for line in lines for e in line.split("| ", 1)[1].split()] == piece.text.split()
    tsd = load_midi([folder / "piece_0.mid"], TSD).pieces[0]
    rows = preview_text(tsd.text, per_line=5).splitlines()
    assert len(rows) == -(-tsd.events // 5) and rows[1].startswith(f"{6:>{len(str(tsd.events))}} |")


# -- training data of either kind ----------------------------------------------------------


def test_midi_training_data_is_read_as_load_midi_reads_it(folder) -> None:
    data = load_training_data([str(folder)])
    assert data.midi and data.unit == "event" and data.noun == "pieces"
    assert data.settings == {**REMI, "tempo": 100.0}  # the default encoding, the files' tempo
    assert data.texts == load_midi([folder], REMI).texts
    assert data.summary().startswith(f"3 pieces ({data.chars:,} REMI events)")
    tokenizer = data.tokenizer(data.texts[:2])
    assert isinstance(tokenizer, EventTokenizer)
    assert tokenizer.settings == {**REMI, "tempo": 100.0}
    assert set(tokenizer.vocab[3:]) == {e for t in data.texts[:2] for e in t.split()}


def test_abc_training_data_needs_no_tokenizer(tmp_path) -> None:
    (tmp_path / "t.abc").write_text(TUNE * 2, encoding="utf-8")
    data = load_training_data([str(tmp_path / "t.abc")])
    assert not data.midi and data.unit == "char" and len(data.texts) == 2
    assert data.tokenizer(data.texts) is None
    with pytest.raises(DataKindError, match="for MIDI data"):
        load_training_data([str(tmp_path / "t.abc")], encoding="tsd")


def test_a_checkpoint_keeps_its_encoding(folder) -> None:
    model = EventTokenizer(["<start>", "<end>", "<unk>", "Pitch_60"], TSD)
    # Settings made elsewhere (a dataset loaded as REMI) give way to the model's own.
    data = load_training_data([str(folder)], tokenizer=model, settings=REMI)
    # ...with the files' tempo (write_mido_file writes 100 bpm) recorded in a copy.
    assert data.settings == {**TSD, "tempo": 100.0} and TSD["tempo"] is None
    assert data.texts == load_midi([folder], TSD).texts
    with pytest.raises(DataKindError, match="events are tsd, not remi"):
        midi_settings("remi", tokenizer=model)
    assert midi_settings(settings=REMI) is REMI
    assert midi_settings("tsd", velocities=True)["miditok"]["config"]["use_velocities"]


def test_a_model_reads_only_its_own_kind(folder, tmp_path) -> None:
    chars = CharTokenizer.fit([TUNE])
    with pytest.raises(DataKindError, match="character \\(ABC\\) model; it cannot read MIDI"):
        load_training_data([str(folder)], tokenizer=chars)
    (tmp_path / "t.abc").write_text(TUNE, encoding="utf-8")
    events = EventTokenizer(["<start>", "<end>", "<unk>"], REMI)
    with pytest.raises(DataKindError, match="MIDI event model; it cannot read ABC"):
        load_training_data([str(tmp_path / "t.abc")], tokenizer=events)


def test_the_training_process_trains_an_event_model_on_midi(folder, tmp_path) -> None:
    from tiny import tiny_run_config

    from models.checkpoint import load_checkpoint
    from workbench.training_job import JobSpec, run_job

    cfg = tiny_run_config(epochs=1, eval_every=0, sample_chars=20)
    cfg.train.val_fraction = 0.34
    spec = JobSpec(
        data=[str(folder)], run_dir=str(tmp_path / "run"), config=cfg.to_dict(), midi_settings=TSD
    )
    events: queue.Queue = queue.Queue()
    run_job(asdict(spec), events, queue.Queue())
    got = []
    while not events.empty():
        got.append(events.get())
    kinds = [e["event"] for e in got]
    assert "error" not in kinds, got[-1]
    loaded = got[kinds.index("loaded")]
    assert loaded["tunes"] == 3 and loaded["noun"] == "pieces" and loaded["encoding"] == "TSD"
    assert got[kinds.index("start")]["unit"] == "event" and kinds[-1] == "end"
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    assert ckpt.tokenizer.kind == "events" and ckpt.tokenizer.settings == {**TSD, "tempo": 100.0}


def test_run_curves_say_their_unit(folder, tmp_path) -> None:
    from workbench.runs import read_curves

    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text(
        '{"event": "start", "step": 0, "unit": "event"}\n'
        '{"event": "step", "step": 1, "epoch": 0.1, "loss": 2.0}\n',
        encoding="utf-8",
    )
    assert read_curves(run).unit == "event"
    (run / "metrics.jsonl").write_text('{"event": "step", "step": 1}\n', encoding="utf-8")
    assert read_curves(run).unit == "char"


# -- prompts -------------------------------------------------------------------------------


def test_a_prompt_from_a_loaded_piece(folder) -> None:
    piece = load_midi([folder / "piece_2.mid"], REMI).pieces[0]
    assert piece.name == "piece_2" and Path(piece.path).is_file()
    same = prompt_from_piece(REMI, piece, REMI, 10)
    assert same.split() == piece.text.split()[:10]
    # Under another encoding the file is read again as the model reads it.
    other = prompt_from_piece(TSD, piece, REMI, 10)
    assert other == prompt_from_midi(TSD, piece.path, 10) and other != same
    text, what = event_prompt(TSD, 10, piece=piece, data_settings=REMI)
    assert text == other and what == "the first 10 events of piece_2"
    assert event_prompt(REMI, 10) == ("", "no prompt: the model begins a piece of its own")


def test_a_prompt_from_a_broken_file_names_it(tmp_path) -> None:
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd not really")
    with pytest.raises(DataError, match=r"bad\.mid: .*MIDI"):
        event_prompt(REMI, 8, path=bad)


# -- generated pieces ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def piece(folder) -> GeneratedPiece:
    loaded = load_midi([folder / "piece_0.mid"], REMI)
    return GeneratedPiece.make(loaded.pieces[0].text, loaded.settings, seed=7, index=1)


def mido_notes(data: bytes) -> list[tuple[int, int]]:
    mf = mido.MidiFile(file=io.BytesIO(data))
    now, notes = 0, []
    for msg in mido.merge_tracks(mf.tracks):
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            notes.append((msg.note, now))
    return sorted(notes)


def test_a_generated_piece_renders_to_the_notes_of_its_events(piece) -> None:
    assert piece.kind == "events" and not piece.decode_error
    assert piece.title == "Piece (seed 7, #2)"
    # mido reads back the notes the file was written with (as pitches at beat onsets).
    tpq = mido.MidiFile(file=io.BytesIO(piece.midi)).ticks_per_beat
    expected = sorted((p, round(onset * tpq)) for p, onset, _ in MIDO_NOTES)
    got = mido_notes(piece.midi)
    assert [p for p, _ in got] == [p for p, _ in expected]
    assert all(abs(a - b) <= tpq // 8 for (_, a), (_, b) in zip(got, expected, strict=True))
    assert piece.notes == len(MIDO_NOTES) and piece.meter == "4/4" and piece.bars == 2
    # The encoding keeps no tempo, but the settings keep the data's (load_midi records the
    # files' 100 bpm): 8 beats at 100 bpm, not at MIDI's default 120.
    assert piece.seconds == pytest.approx(8 * 60 / 100, abs=0.1)


def test_the_roll_of_a_piece_is_what_the_player_reads_from_its_midi(piece) -> None:
    roll = piece_tune(piece.settings, piece.text)
    played = tune_from_midi(piece.midi)
    assert len(roll.notes) == len(played.notes) == piece.notes
    for a, b in zip(roll.notes, played.notes, strict=True):
        assert a.pitch == b.pitch
        assert a.start == pytest.approx(b.start, abs=0.01)
        assert a.end == pytest.approx(b.end, abs=0.01)
    # A prefix still streaming draws what it has; events that are not music draw nothing.
    half = " ".join(piece.text.split()[: piece.events // 2]) + " "
    assert 0 < len(piece_tune(piece.settings, half).notes) < piece.notes
    assert piece_tune(piece.settings, "<unk> ").notes == []


def test_events_without_notes_make_a_piece_without_midi() -> None:
    empty = GeneratedPiece.make("Bar_None Bar_None ", REMI)
    assert empty.midi == b"" and empty.decode_error and empty.notes == 0
    assert check_piece(empty.midi).error.startswith("no MIDI")


def test_music21_reads_a_piece_and_hears_its_key(piece) -> None:
    check = check_piece(piece.midi)
    assert check.error == ""
    tonic, mode = check.key.split()
    assert mode in ("major", "minor") and tonic[0] in "ABCDEFG"


def test_export_of_pieces_and_tunes_together(piece, tmp_path) -> None:
    from music21 import converter

    tune = GeneratedTune.make(TUNE, seed=1)
    assert export_choices({"events"}) and all(
        c.fmt in ("mid", "musicxml", "wav") for c in export_choices({"events"})
    )
    assert {"abc", "tunebook"} <= {c.fmt for c in export_choices({"chars", "events"})}
    names = result_export_names([tune, piece, piece], "mid")
    assert names == ["Kesh.mid", "Piece_seed_7_2.mid", "Piece_seed_7_2-2.mid"]

    summary = export_results([tune, piece], tmp_path / "mid", "mid")
    assert summary.problems == [] and summary.noun == "tunes and pieces"
    assert (tmp_path / "mid" / "Piece_seed_7_2.mid").read_bytes() == piece.midi
    assert mido_notes((tmp_path / "mid" / "Kesh.mid").read_bytes())  # the tune's own MIDI

    xml = export_results([piece], tmp_path / "xml", "musicxml")
    assert xml.problems == [] and xml.noun == "pieces"
    score = converter.parse(str(xml.written[0]))
    # Every pitch sounds when and as long as music21 reads it from the piece's MIDI (the file
    # ties a note held past another onset, so notes are not counted).
    spans = sounding_spans(score)
    assert spans == sounding_spans(converter.parseData(piece.midi, format="midi"))
    assert set(spans) == {p for p, _, _ in MIDO_NOTES}

    book = export_results([tune, piece], tmp_path / "book.abc", "tunebook")
    assert book.per_tune[0] == tmp_path / "book.abc" and book.per_tune[1] is None
    assert book.problems == [f"{piece.title}: a MIDI piece has no ABC to put in a tunebook"]
    empty = GeneratedPiece.make("Bar_None ", REMI)
    failed = export_results([empty], tmp_path / "none", "mid")
    assert failed.written == [] and failed.problems[0].startswith(empty.title)


# -- the chorales' conversion stops when asked ---------------------------------------------


def test_converting_the_chorales_stops_when_asked(chorale_files) -> None:
    cached = len(chorale_files)  # the test cache holds the first few, converted
    files, failed = chorale_midi_files(limit=cached, should_stop=lambda: True)
    assert len(files) == cached and not failed  # nothing left to convert: nothing to stop
    with pytest.raises(ConversionCancelled):
        chorale_midi_files(limit=cached + 1, should_stop=lambda: True)
    with pytest.raises(MidiLoadCancelled):
        load_midi([CHORALES_SPEC], REMI, should_stop=lambda: True)


def test_a_piece_exports_as_audio(piece, tmp_path) -> None:
    import wave

    summary = export_results([piece], tmp_path, "wav")
    assert summary.problems == [] and summary.written == [tmp_path / "Piece_seed_7_2.wav"]
    with wave.open(str(summary.written[0])) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    assert seconds >= piece.seconds  # the whole piece, and the synth's release tail
    assert not list(tmp_path.glob(".*.part"))


def test_a_piece_of_the_reports_encoding_renders_a_half_beat_apart() -> None:
    chords = make_settings("notes-chords")
    piece = GeneratedPiece.make("E-4 0.4.7 G5 ", chords)
    pitches = sorted((note, tick) for note, tick in mido_notes(piece.midi))
    tpq = mido.MidiFile(file=io.BytesIO(piece.midi)).ticks_per_beat
    half = tpq // 2
    assert pitches == sorted([(63, 0), (60, half), (64, half), (67, half), (79, 2 * half)])
    assert piece_tune(chords, piece.text).duration == pytest.approx(0.75)  # 3 x 1/2 beat, 120 bpm
