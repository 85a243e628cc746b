"""ABC -> music21 score, MIDI and MusicXML on real corpus tunes, re-read by mido and music21;
the shared-TimeSignature workaround; batch export to files and tunebooks."""

from __future__ import annotations

import io
from pathlib import Path

import mido
import pytest
from abc2midi_marks import needs_abc2midi
from music21 import converter, midi, stream

from workbench.corpus import load
from workbench.notation.convert import (
    ConversionError,
    ExportProblem,
    abc_to_midi_bytes,
    abc_to_score,
    export_file_names,
    export_tunes,
    free_names,
    parse_abc,
    safe_stem,
    score_to_midi_bytes,
    write_midi,
    write_musicxml,
)
from workbench.notation.midi_compare import abc2midi_bytes


@pytest.fixture(scope="module")
def misc() -> list[str]:
    return [t.text for t in load(["corpus:miscFolk"]).tunes]


@pytest.fixture(scope="module")
def bakers_buck(misc) -> str:
    text = misc[1]
    assert "T:Baker's Buck" in text
    return text


@pytest.fixture(scope="module")
def oneill() -> list[str]:
    return [t.text for t in load(["corpus:oneills1850"]).tunes]


def _note_ons(data: bytes) -> list[int]:
    song = mido.MidiFile(file=io.BytesIO(data))
    return [m.note for track in song.tracks for m in track if m.type == "note_on" and m.velocity]


def test_midi_bytes_hold_the_tunes_notes(bakers_buck):
    data = abc_to_midi_bytes(bakers_buck)
    assert data[:4] == b"MThd"
    notes = _note_ons(data)
    # "G>B dd|c/B/A d2|" in G major: G4 B4 D5 D5 C5 B4 A4 D5.
    assert notes[:8] == [67, 71, 74, 74, 72, 71, 69, 74]
    # The repeats play AABB, as abc2midi and folk players take them: the second `:|` goes back
    # to the first, not to the top of the tune (music21's own expansion played 218 notes).
    played = abc_to_score(bakers_buck, played=True)
    assert len(notes) == len(list(played.recurse().notes)) == 150


def test_tempo_override_sets_the_midi_tempo(bakers_buck):
    song = mido.MidiFile(file=io.BytesIO(abc_to_midi_bytes(bakers_buck, tempo_bpm=90)))
    tempos = [m.tempo for t in song.tracks for m in t if m.type == "set_tempo"]
    assert tempos and all(t == mido.bpm2tempo(90) for t in tempos)
    with pytest.raises(ConversionError, match="tempo"):
        abc_to_midi_bytes(bakers_buck, tempo_bpm=0)


def test_musicxml_reads_back_with_the_same_measures_and_notes(tmp_path, bakers_buck):
    path = write_musicxml(bakers_buck, tmp_path / "buck.musicxml")
    again = converter.parse(path)
    original = abc_to_score(bakers_buck)
    assert len(again.parts[0].getElementsByClass("Measure")) == len(
        original.parts[0].getElementsByClass("Measure")
    )
    assert [p.midi for n in again.recurse().notes for p in n.pitches] == [
        p.midi for n in original.recurse().notes for p in n.pitches
    ]
    assert again.metadata.bestTitle == "Baker's Buck"
    assert not again.metadata.composers  # not music21's "Music21" placeholder


def test_shared_time_signature_workaround(oneill):
    """O'Neill's first tune: music21's own reading cannot be written as MIDI; ours can."""
    tune = oneill[0]
    assert "T: The Enchanted Valley" in tune
    with pytest.raises(Exception, match="already found in this Stream"):
        midi.translate.streamToMidiFile(parse_abc(tune)).writestr()
    notes = _note_ons(abc_to_midi_bytes(tune))
    # "G3-A (Bcd=e)" in G minor: a tie between two pitches (a slur) plays both, G4 A4 Bb4 C5 D5.
    assert notes[:5] == [67, 69, 70, 72, 74]


def test_oneill_tunes_that_failed_now_export(oneill):
    """Tunes 6, 9 and 17 of O'Neill's (1-based) hit the bug too; with the copies they export."""
    for tune in (oneill[5], oneill[8], oneill[16]):
        with pytest.raises(Exception, match="already found in this Stream"):
            midi.translate.streamToMidiFile(parse_abc(tune)).writestr()
        assert _note_ons(abc_to_midi_bytes(tune))


def test_badly_formed_repeats_play_once_through(oneill):
    """A written score whose repeats music21 cannot expand plays once through; the app's own
    MIDI writes the repeats out itself (as abc2midi plays them) and never meets the problem."""
    tune = oneill[424]
    assert "T: The Banks of the Barrow" in tune
    with pytest.raises(Exception, match="badly formed repeats"):
        midi.translate.streamToMidiFile(abc_to_score(tune)).writestr()
    written = abc_to_score(tune)
    notes = _note_ons(score_to_midi_bytes(written))
    assert len(notes) == len(list(written.recurse().notes))
    assert notes[:3] == [62, 64, 65]  # "(D>E) | (FEFG)": D4 E4 F4
    played = _note_ons(abc_to_midi_bytes(tune))
    assert len(played) == len(list(abc_to_score(tune, played=True).recurse().notes)) > len(notes)


def test_tune_without_unit_length_or_meter_uses_eighths():
    notes = _note_ons(abc_to_midi_bytes("X:1\nT:Bare\nK:D\nDEFG A2B2|\n"))
    assert notes == [62, 64, 66, 67, 69, 71]


@pytest.mark.parametrize(
    ("abc", "message"),
    [
        ("", "empty"),
        ("hello world, no music here", "could not read the ABC"),
        ("X:1\nT:Only a header\nM:4/4\nL:1/8\nK:G\n", "no notes"),
        # Denominators that are not powers of two: music21 took minutes over these.
        ("X:1\nM:2/8\nL:16/14\nK:G\nABcd|", "L:16/14 is not a note length"),
        ("X:1\nM:3/14\nL:1/8\nK:G\nABc|", "M:3/14 is not a meter"),
        ("X:1\nM:4/4\nL:1/8\nK:G\nABcd|[M:5/12]ABcde|", "M:5/12 is not a meter"),
    ],
)
def test_bad_tunes_raise_a_conversion_error(abc, message):
    # (a power-of-two meter or length next to these, e.g. M:6/8 or L:1/16, converts: the
    # other tests of this file)
    with pytest.raises(ConversionError, match=message) as info:
        abc_to_midi_bytes(abc)
    assert "\n" not in str(info.value)


def test_failed_write_leaves_no_file_behind(tmp_path):
    target = tmp_path / "bad.mid"
    target.write_bytes(b"old")
    with pytest.raises(ConversionError):
        write_midi("X:1\nK:G\n", target)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mid"]


def test_safe_stem():
    assert safe_stem("Sí Bheag, Sí Mhór", "x") == "Si_Bheag_Si_Mhor"
    assert safe_stem("../../etc/passwd", "x") == "etc_passwd"
    assert safe_stem("CON", "x") == "CON_"
    assert safe_stem("???", "tune_007") == "tune_007"


def test_export_one_midi_per_tune_with_failures_reported(tmp_path, misc):
    texts = [misc[1], misc[1], "X:9\nT:Broken\nK:G\n", misc[2], "X:3\nK:D\nDEFG|\n"]
    results = export_tunes(texts, tmp_path / "out", "mid")
    assert len(results) == 5
    paths = [r for r in results if isinstance(r, Path)]
    assert [p.name for p in paths] == [
        "Baker_s_Buck.mid",
        "Baker_s_Buck-2.mid",
        "British_Grenadiers.mid",
        "tune_005.mid",
    ]
    problem = results[2]
    assert isinstance(problem, ExportProblem)
    assert problem.index == 2 and '"Broken"' in str(problem) and "no notes" in str(problem)
    for path in paths:
        assert _note_ons(path.read_bytes())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)


def test_export_musicxml_and_abc_files(tmp_path, misc):
    xml = export_tunes(misc[:2], tmp_path, "musicxml")
    assert all(isinstance(p, Path) for p in xml)
    assert isinstance(converter.parse(xml[1]), stream.Score)
    abc = export_tunes(misc[:2], tmp_path / "abc", "abc")
    assert [p.read_text(encoding="utf-8") for p in abc] == [t + "\n" for t in misc[:2]]


def test_tunebook_renumbers_and_reloads(tmp_path, misc):
    texts = [misc[3], "", misc[0], "T:No number\nK:G\nGABc|\n"]
    book = tmp_path / "book.abc"
    results = export_tunes(texts, book, "tunebook")
    assert results[0] == results[2] == results[3] == book
    assert isinstance(results[1], ExportProblem) and "empty" in results[1].reason
    loaded = load([str(book)])
    assert not loaded.problems
    assert [t.reference for t in loaded.tunes] == ["1", "2", "3"]
    assert [t.title for t in loaded.tunes] == [
        load_title(misc[3]),
        "Olde Saybrooke",
        "No number",
    ]
    # Into a folder: tunes.abc there.
    assert export_tunes(misc[:1], tmp_path, "tunebook") == [tmp_path / "tunes.abc"]


def load_title(text: str) -> str:
    return next(line[2:].strip() for line in text.split("\n") if line.startswith("T:"))


def test_free_names_step_around_existing_files(tmp_path, misc):
    names = export_file_names([misc[1], misc[1], misc[2]], ".abc")
    assert names == ["Baker_s_Buck.abc", "Baker_s_Buck-2.abc", "British_Grenadiers.abc"]
    assert free_names(tmp_path, names) == names  # nothing in the way
    (tmp_path / "Baker_s_Buck.abc").write_text("old", encoding="utf-8")
    (tmp_path / "British_Grenadiers.abc").write_text("old", encoding="utf-8")
    free = free_names(tmp_path, names)
    # -2 is the batch's own second Baker's Buck: the first takes -3.
    assert free == ["Baker_s_Buck-3.abc", "Baker_s_Buck-2.abc", "British_Grenadiers-2.abc"]
    written = export_tunes([misc[1], misc[1], misc[2]], tmp_path, "abc", free)
    assert [p.name for p in written] == free
    assert (tmp_path / "Baker_s_Buck.abc").read_text(encoding="utf-8") == "old"
    with pytest.raises(ValueError, match="2 file names for 3 tunes"):
        export_tunes([misc[1], misc[1], misc[2]], tmp_path, "abc", free[:2])


def test_unknown_format_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="unknown export format"):
        export_tunes(["X:1\nK:G\nG|\n"], tmp_path, "wav")  # type: ignore[arg-type]


# -- grace notes: every note ends, timed as abc2midi plays them ------------------------------

GRACE_TUNE = "X:1\nM:4/4\nL:1/8\nK:D\ndae {c}BAF|d2 {e}dc B4|]\n"


def _timed_notes(data: bytes) -> tuple[list[tuple[float, float, int]], int]:
    """(onset, length, pitch) in quarter notes, paired strictly in file order, and the count
    of note-ons never ended by a later note-off (written independently of the app's code)."""
    song = mido.MidiFile(file=io.BytesIO(data))
    tick, sounding, notes = 0, {}, []
    for msg in mido.merge_tracks(song.tracks):
        tick += msg.time
        if msg.type == "note_on" and msg.velocity:
            sounding.setdefault((msg.channel, msg.note), []).append(tick)
        elif msg.type in ("note_on", "note_off") and sounding.get((msg.channel, msg.note)):
            start = sounding[(msg.channel, msg.note)].pop(0)
            beat = song.ticks_per_beat
            notes.append((start / beat, (tick - start) / beat, msg.note))
    hanging = sum(len(v) for v in sounding.values())
    return sorted(notes), hanging


def test_grace_notes_end_and_take_their_time_from_the_next_note():
    notes, hanging = _timed_notes(abc_to_midi_bytes(GRACE_TUNE))
    assert hanging == 0
    # The tune: {c} before B (an eighth) sounds C#5 for a 32nd, B4 for the rest.
    assert (1.5, 0.125, 73) in notes and (1.625, 0.375, 71) in notes
    assert (4.0, 0.125, 76) in notes and (4.125, 0.375, 74) in notes
    assert all(length > 0 for _, length, _ in notes)


@needs_abc2midi
@pytest.mark.parametrize(
    "body",
    [
        "dae {c}BAF|d2 {e}dc B4|]",
        "{cd}B2 {efg}A4 z2|{c}[DF]4 (3{g}ABc z|]",  # several graces, a chord, a triplet
        "{/g}A2 {ag}f2 {A}d4|]",  # acciaccatura slash, two graces before a long note
    ],
)
def test_grace_note_timing_agrees_with_abc2midi(body):
    abc = f"X:1\nM:4/4\nL:1/8\nK:D\n{body}\n"
    ours, hanging = _timed_notes(abc_to_midi_bytes(abc))
    theirs, _ = _timed_notes(abc2midi_bytes(abc))
    assert hanging == 0
    assert [p for _, _, p in ours] == [p for _, _, p in theirs]
    # abc2midi starts each note 1 tick (of 480) late and ends it 1 tick early: 12 ticks of
    # tolerance, a fifth of a grace note's 60.
    for (on_a, len_a, _), (on_b, len_b, _) in zip(ours, theirs, strict=True):
        assert on_a == pytest.approx(on_b, abs=12 / 480)
        assert len_a == pytest.approx(len_b, abs=12 / 480)


def test_grace_notes_in_real_tunes_never_hang(oneill):
    with_graces = [t for t in oneill if "{" in t.split("K:", 1)[-1]][:12]
    assert len(with_graces) == 12
    for tune in with_graces:
        notes, hanging = _timed_notes(abc_to_midi_bytes(tune))
        assert hanging == 0, tune.split("\n")[1]
        assert all(length > 0 for _, length, _ in notes)
