"""Generated MIDI plays at a real tempo: the training files' median (kept in the checkpoint), or
the prompt file's; before, every generated piece played at MIDI's default 120.

The files are written with mido at known tempi and the generated `.mid` files are read back with
mido, so the tempo checked is the one a player or a DAW would see.
"""

from __future__ import annotations

from pathlib import Path

import mido
import pytest
from midi_files import tempi_of
from tiny import TINY_CLI_ARGS as TINY

from models.checkpoint import load_checkpoint
from workbench.cli import main
from workbench.generation import GeneratedPiece
from workbench.midi_data import (
    TEMPO_KEY,
    Piece,
    load_midi,
    main_tempo,
    make_settings,
    prompt_from_piece,
    read_score,
    render,
)

TPQ = 480
#: A rising and falling two-octave C major line over a held bass: 8 bars of 4/4.
MELODY = [60, 62, 64, 65, 67, 69, 71, 72, 74, 76, 77, 79, 77, 76, 74, 72]


def write_at_tempi(path: Path, tempi: list[tuple[float, float]], transpose: int = 0) -> Path:
    """A type-1 file whose conductor track sets each (beat, bpm) of `tempi`, and 32 beats of
    music (eighth notes over whole-note bass notes)."""
    mf = mido.MidiFile(type=1, ticks_per_beat=TPQ)
    conductor = mido.MidiTrack()
    now = 0
    for beat, bpm in tempi:
        tick = round(beat * TPQ)
        conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=tick - now))
        now = tick
    mf.tracks.append(conductor)
    notes = [(MELODY[i % len(MELODY)] + transpose, i * 0.5, 0.5) for i in range(64)]
    notes += [(48 + transpose + (i % 2) * 7, i * 4.0, 4.0) for i in range(8)]
    messages = []
    for pitch, onset, duration in notes:
        messages.append((round(onset * TPQ), 1, mido.Message("note_on", note=pitch, velocity=80)))
        end = round((onset + duration) * TPQ)
        messages.append((end, 0, mido.Message("note_off", note=pitch)))
    track = mido.MidiTrack()
    now = 0
    for tick, _, msg in sorted(messages, key=lambda m: (m[0], m[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    mf.tracks.append(track)
    mf.save(str(path))
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Three files at 90, 90 and 140 bpm (median 90), and one 140-bpm prompt outside it."""
    root = tmp_path_factory.mktemp("tempi")
    data = root / "data"
    data.mkdir()
    write_at_tempi(data / "a.mid", [(0, 90)])
    write_at_tempi(data / "b.mid", [(0, 90)], transpose=2)
    write_at_tempi(data / "c.mid", [(0, 140)], transpose=-3)
    write_at_tempi(root / "prompt.mid", [(0, 140)], transpose=5)
    return data


def test_a_files_main_tempo_is_the_one_that_holds_longest(tmp_path) -> None:
    # 100 bpm for the first bar, then 72 for the remaining seven, then 150 for the last beat.
    path = write_at_tempi(tmp_path / "changes.mid", [(0, 100), (4, 72), (31, 150)])
    assert main_tempo(read_score(path)) == pytest.approx(72, abs=0.01)
    # A file without a tempo sets none (it plays at 120, MIDI's default).
    bare = mido.MidiFile(str(path))
    bare.tracks[0] = mido.MidiTrack([m for m in bare.tracks[0] if m.type != "set_tempo"])
    bare.save(str(tmp_path / "bare.mid"))
    assert main_tempo(read_score(tmp_path / "bare.mid")) is None


def test_loading_records_the_median_tempo_in_new_settings_only(folder) -> None:
    settings = make_settings("remi")
    assert settings[TEMPO_KEY] is None
    result = load_midi([folder], settings)
    assert sorted(p.tempo for p in result.pieces) == pytest.approx([90, 90, 140], abs=0.01)
    assert result.settings[TEMPO_KEY] == pytest.approx(90, abs=0.01)
    # The caller's dict is not changed: shared between loads, it kept the first data's tempo.
    assert settings[TEMPO_KEY] is None
    assert {k: v for k, v in result.settings.items() if k != TEMPO_KEY} == {
        k: v for k, v in settings.items() if k != TEMPO_KEY
    }
    # A checkpoint's settings keep their tempo, or their lack of one (older checkpoints), so
    # that resuming or fine-tuning finds the data encoded exactly as before.
    trained = {**make_settings("remi"), TEMPO_KEY: 77.0}
    assert load_midi([folder], trained).settings[TEMPO_KEY] == 77.0
    older = {k: v for k, v in make_settings("remi").items() if k != TEMPO_KEY}
    assert TEMPO_KEY not in load_midi([folder], older).settings


def test_a_tempo_does_not_make_another_encoding(folder) -> None:
    # A prompt from a loaded piece is its events as they are when the model's settings differ
    # from the data's only in tempo (a piece with no file to read again shows it).
    data = make_settings("remi")
    piece = load_midi([folder], data).pieces[0]
    model = {**data, TEMPO_KEY: 77.0}
    bare = Piece(piece.source, piece.text, piece.events)
    assert prompt_from_piece(model, bare, data, 12).split() == piece.text.split()[:12]


def test_render_plays_at_the_asked_tempo_else_the_settings_else_120(folder) -> None:
    loaded = load_midi([folder], make_settings("remi"))
    settings, text = loaded.settings, loaded.pieces[0].text
    assert tempi_of(bytes(render(settings, text).score.dumps_midi())) == [90.0]
    assert tempi_of(bytes(render(settings, text, tempo=63.5).score.dumps_midi())) == [63.5]
    older = {k: v for k, v in settings.items() if k != TEMPO_KEY}
    assert tempi_of(bytes(render(older, text).score.dumps_midi())) == [120.0]
    # 32 beats at 90 bpm last 32 * 60 / 90 s (at 120 they would last 16 s).
    assert render(settings, text).seconds == pytest.approx(32 * 60 / 90, abs=0.05)


def test_generated_midi_carries_the_training_tempo_and_a_prompts_tempo(
    folder, tmp_path, capsys
) -> None:
    out = tmp_path / "run"
    args = ["train", str(folder), "--out", str(out), *TINY, "--epochs", "2", "--eval-every", "5"]
    assert main([*args, "--quiet", "--threads", "1"]) == 0
    ckpt = load_checkpoint(out / "best.pt")
    # The median tempo travels in the checkpoint's settings as plain data.
    assert ckpt.tokenizer.settings[TEMPO_KEY] == pytest.approx(90, abs=0.01)

    gen = ["generate", str(out / "best.pt"), "--events", "80", "--num", "2", "--seed", "3"]
    assert main([*gen, "--out", str(tmp_path / "plain")]) == 0
    written = sorted((tmp_path / "plain").glob("*.mid"))
    assert len(written) == 2
    assert all(tempi_of(path) == [90.0] for path in written)

    prompt = folder.parent / "prompt.mid"
    assert main([*gen, "--out", str(tmp_path / "prompted"), "--prompt-midi", str(prompt)]) == 0
    written = sorted((tmp_path / "prompted").glob("*.mid"))
    assert written and all(tempi_of(path) == [140.0] for path in written)

    # The GUI's path (listing, playback, export read the piece's MIDI bytes): the same core.
    # (A piece that begins with the prompt's notes: a two-step model may write none of its own.)
    text = (tmp_path / "prompted" / "piece_001.events.txt").read_text()
    piece = GeneratedPiece.make(text, ckpt.tokenizer.settings)
    assert piece.midi and tempi_of(piece.midi) == [90.0]
