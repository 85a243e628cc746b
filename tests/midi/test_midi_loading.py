"""Loading MIDI data: broken files give one problem each, naming the file and what is wrong,
and the rest loads; folders, duplicates, chorales by name, and telling MIDI from ABC."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest
from midi_files import write_mido_file

from workbench.corpus import CorpusError
from workbench.midi_data import data_is_midi, is_midi_spec, load_midi, make_settings
from workbench.midi_data.chorales import CHORALES_SPEC


def _broken_files(folder: Path, good: Path) -> dict[str, str]:
    """Write broken MIDI files into `folder`; name -> the words their problem must hold."""
    data = good.read_bytes()
    (folder / "truncated.mid").write_bytes(data[: len(data) // 2])
    (folder / "empty.mid").write_bytes(b"")
    (folder / "not_midi.mid").write_bytes(b"RIFF this is a wave file, not MIDI" * 4)

    drums = mido.MidiFile(type=1)
    track = mido.MidiTrack()
    track.append(mido.Message("note_on", channel=9, note=38, velocity=90, time=0))
    track.append(mido.Message("note_off", channel=9, note=38, time=240))
    drums.tracks.append(track)
    drums.save(folder / "drums_only.mid")

    silent = mido.MidiFile(type=0)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    silent.tracks.append(track)
    silent.save(folder / "no_notes.mid")

    patterns = mido.MidiFile(type=2)
    track = mido.MidiTrack()
    track.append(mido.Message("note_on", note=60, velocity=90, time=0))
    track.append(mido.Message("note_off", note=60, time=240))
    patterns.tracks.append(track)
    patterns.save(folder / "type2.mid")
    return {
        "truncated.mid": "truncated",
        "empty.mid": "empty",
        "not_midi.mid": "not a readable MIDI file",
        "drums_only.mid": "drum",
        "no_notes.mid": "no notes",
        "type2.mid": "type 2",
    }


@pytest.mark.parametrize("encoding", ["remi", "notes-chords"])
def test_broken_files_give_per_file_problems_and_the_rest_loads(tmp_path, encoding) -> None:
    folder = tmp_path / "midi"
    folder.mkdir()
    good = write_mido_file(folder / "good.mid")
    (folder / "sub").mkdir()
    write_mido_file(folder / "sub" / "one_hand.MID", tracks=1)
    expected = _broken_files(folder, good)
    (folder / "notes.txt").write_text("not data")  # other files are passed over silently

    result = load_midi([folder, good], make_settings(encoding))  # good.mid named twice
    assert [Path(p.source).name for p in result.pieces] == ["good.mid", "one_hand.MID"]
    assert all(p.events >= 8 and p.text.endswith(" ") for p in result.pieces)
    problems = {Path(p.source).name: p.message for p in result.problems}
    assert set(problems) == set(expected)
    for name, words in expected.items():
        assert words in problems[name], (name, problems[name])
        assert name in str(next(p for p in result.problems if p.source.endswith(name)))
    assert len(result.files) == 8


def test_unusable_specs_fail_before_reading(tmp_path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_midi([tmp_path / "nope"], make_settings())
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no MIDI files"):
        load_midi([tmp_path / "empty"], make_settings())


def test_midi_or_abc(tmp_path, mido_file) -> None:
    abc = tmp_path / "tunes.abc"
    abc.write_text("X:1\nT:t\nK:C\nCDEF|\n")
    midi_folder = tmp_path / "m"
    midi_folder.mkdir()
    (midi_folder / "a.mid").write_bytes(mido_file.read_bytes())
    assert data_is_midi([mido_file, midi_folder, CHORALES_SPEC])
    assert not data_is_midi([abc, "corpus:miscFolk"])
    assert not is_midi_spec(tmp_path)  # holds ABC as well as MIDI (below m/)
    with pytest.raises(CorpusError, match="mixes MIDI"):
        data_is_midi([abc, mido_file])


def test_chorales_by_name_load_from_the_cache(chorale_files, monkeypatch) -> None:
    import workbench.midi_data.chorales as chorales

    names = chorales.chorale_names()
    assert len(names) == 371
    # Only the chorales the session converted, so the test stays fast.
    monkeypatch.setattr(chorales, "chorale_names", lambda: names[: len(chorale_files)])
    result = load_midi([CHORALES_SPEC], make_settings())
    assert not result.problems
    assert len(result.pieces) == len(chorale_files)
    assert result.pieces[0].source.startswith(f"{CHORALES_SPEC}/")
    # Four voices merged into one stream: chords appear as several pitches at one position.
    first = result.pieces[0].text.split()
    assert first[0] == "Bar_None"
    assert sum(e.startswith("Pitch_") for e in first) > 150
