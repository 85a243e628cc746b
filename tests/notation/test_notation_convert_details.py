"""The details of convert.py's repairs, each pinned to an independent expectation: ties on and
into chords (abc2midi's playing, music21's own ties on notes), the tempo override (music21's
reading of the same ``Q:``), grace-note time (abc2midi, hand-worked lengths), the held copy
for MIDI, repeats music21 cannot expand, follow-along spans in tunes of several voices, shared
objects (counted independently), the messages of failures, and the slowest tempo MIDI holds.

Lengths and onsets are in quarter notes; with ``L:1/8`` one unit is half a quarter.
"""

from __future__ import annotations

import copy
import re
from collections import Counter

import pytest
from abc2midi_marks import needs_abc2midi
from midi_files import tempi_of
from music21 import bar, chord, converter, defaults, meter, midi, note, spanner, stream, tie

from workbench.corpus import load
from workbench.notation.convert import (
    SLOWEST_MIDI_TEMPO,
    ConversionError,
    _copy_shared_objects,
    abc_to_midi_bytes,
    abc_to_musicxml_bytes,
    abc_to_score,
    parse_abc,
    realize_grace_notes,
    score_to_midi_bytes,
    score_to_musicxml_bytes,
    with_chord_ties_held,
    write_midi,
)
from workbench.notation.midi_compare import abc2midi_bytes, played_notes
from workbench.notation.music21_text import music21_text

HEADER = "X:1\nT:t\nM:4/4\nL:1/8\nK:C\n"
D4, E4, F4 = 62, 64, 65


def _tune(body: str) -> str:
    return f"{HEADER}{body}\n"


def _ties(element) -> list[tuple[str, str | None]]:
    """(pitch, tie type) of each note of a note or chord."""
    members = element.notes if element.isChord else [element]
    return [(m.pitch.nameWithOctave, m.tie.type if m.tie else None) for m in members]


def _sounding(data: bytes) -> list[tuple[float, float, int]]:
    """(onset, length, pitch) of each note a MIDI file plays, rounded to 1/1000 of a quarter."""
    return [(round(n.onset, 3), round(n.duration, 3), n.pitch) for n in played_notes(data)]


def _near(ours: list[tuple[float, float, int]], theirs: list[tuple[float, float, int]]) -> bool:
    """abc2midi starts each note 1 tick (of 480) late and ends it 1 tick early."""
    return len(ours) == len(theirs) and all(
        p == q and abs(a - c) < 0.01 and abs(b - d) < 0.01
        for (a, b, p), (c, d, q) in zip(ours, theirs, strict=True)
    )


# -- ties on and into chords: on the score as abc2midi plays them --------------------------------


def test_a_note_a_chord_note_is_tied_into_carries_the_stop():
    """``[D2-F2]D2``: the chord's D is tied into the note D. music21 put no stop on that note,
    so the MusicXML held a tie that never ended (a bug, fixed)."""
    score = abc_to_score(_tune("[D2-F2]D2 z4|"))
    first, second, _ = score.recurse().notesAndRests
    assert _ties(first) == [("D4", "start"), ("F4", None)]
    assert _ties(second) == [("D4", "stop")]
    xml = abc_to_musicxml_bytes(_tune("[D2-F2]D2 z4|")).decode()
    assert re.findall(r'<tie type="(\w+)"', xml) == ["start", "stop"]


def test_a_chain_of_tied_chords_is_tied_as_music21_ties_a_chain_of_notes():
    """music21's own reading of ``D-D-D`` is the oracle for each pitch of ``[DF]-[DF]-[DF]``."""
    notes = abc_to_score(_tune("D-D-D z5|")).recurse().notes
    expected = [n.tie.type for n in notes]
    assert expected == ["start", "continue", "stop"]
    chords = abc_to_score(_tune("[DF]-[DF]-[DF] z5|")).recurse().notes
    assert [_ties(c) for c in chords] == [[("D4", t), ("F4", t)] for t in expected]


def test_a_tie_reaches_into_a_grace_chord():
    """abc2midi holds D and F of ``[D2F2]-`` into the grace chord ``{[DF]}`` and strikes the
    chord after it again, so the grace chord's notes end the ties and the last chord has none."""
    first, grace, last, _ = abc_to_score(_tune("[D2F2]-{[DF]}[DF] z5|")).recurse().notesAndRests
    assert grace.duration.isGrace
    assert _ties(first) == [("D4", "start"), ("F4", "start")]
    assert _ties(grace) == [("D4", "stop"), ("F4", "stop")]
    assert _ties(last) == [("D4", None), ("F4", None)]
    xml = abc_to_musicxml_bytes(_tune("[D2F2]-{[DF]}[DF] z5|")).decode()
    assert re.findall(r'<tie type="(\w+)"', xml) == ["start", "start", "stop", "stop"]


def test_a_grace_note_of_another_pitch_ends_a_chords_ties():
    """``[D2F2]-{E}[D2F2]``: abc2midi strikes D and F again after the grace note E."""
    *_, last, _ = abc_to_score(_tune("[D2F2]-{E}[D2F2] z4|")).recurse().notesAndRests
    assert _ties(last) == [("D4", None), ("F4", None)]


# (body, what plays: (onset, length, pitch)), worked out by hand from the standard's ties.
TIE_PLAYING = [
    ("[D2-F2]D2 z4|", [(0.0, 2.0, D4), (0.0, 1.0, F4)]),
    (
        "[D2F2]-{[DF]}[DF] z5|",
        [(0, 1.125, D4), (0, 1.125, F4), (1.125, 0.375, D4), (1.125, 0.375, F4)],
    ),
    (
        "[D2F2]-{E}[D2F2] z4|",
        [(0, 1, D4), (0, 1, F4), (1, 0.125, E4), (1.125, 0.875, D4), (1.125, 0.875, F4)],
    ),
]


@pytest.mark.parametrize(("body", "expected"), TIE_PLAYING)
def test_ties_around_chords_and_graces_play_as_worked_out(body, expected):
    assert _sounding(abc_to_midi_bytes(_tune(body))) == expected


@needs_abc2midi
@pytest.mark.parametrize(("body", "expected"), TIE_PLAYING)
def test_abc2midi_plays_the_ties_around_chords_and_graces_alike(body, expected):
    assert _near(_sounding(abc2midi_bytes(_tune(body))), expected)


# -- the tempo override: the same file as the tune's own Q: -------------------------------------

TEMPO_TUNES = [
    "X:1\nT:t\nM:4/4\nL:1/8\n{Q}K:C\nCDEF GABc|cBAG FEDC|\n",
    "X:1\nT:t\nM:4/4\nL:1/8\n{Q}K:C\nCDEF GABc|\n",  # one bar: music21 makes no measures
    "X:1\nT:t\nM:4/4\nL:1/8\n{Q}V:1\nV:2\nK:C\nV:1\nCDEF GABc|cBAG FEDC|\nV:2\nC,8|C,8|\n",
]


@pytest.mark.parametrize("tune", TEMPO_TUNES)
def test_tempo_override_writes_the_file_the_same_q_field_writes(tune):
    """music21's own reading of ``Q:1/4=90`` is the oracle: overriding another ``Q:`` (or none)
    with 90 must give the same bytes, one tempo at the start and no trace of the old one."""
    written = abc_to_midi_bytes(tune.format(Q="Q:1/4=90\n"))
    assert abc_to_midi_bytes(tune.format(Q="Q:1/4=200\n"), tempo_bpm=90) == written
    assert abc_to_midi_bytes(tune.format(Q=""), tempo_bpm=90) == written


def test_tempo_override_leaves_one_mark_on_the_score():
    score = abc_to_score(TEMPO_TUNES[0].format(Q="Q:1/4=200\n"), played=True)
    score_to_midi_bytes(score, tempo_bpm=90)
    boundaries = score.metronomeMarkBoundaries()
    assert [(start, end, mark.number) for start, end, mark in boundaries] == [(0.0, 8.0, 90)]


# -- grace notes: their time, as abc2midi plays them ---------------------------------------------

# (body, what plays), worked out by hand: each grace note sounds a quarter of its written length,
# from the start of the note it ornaments (shrunk like it when written inside a tuplet).
GRACE_PLAYING = [
    # a grace chord takes no time of its own in the bar: the notes before it stay put
    (
        "A B {[df]}c d z4|",
        [
            (0, 0.5, 69),
            (0.5, 0.5, 71),
            (1, 0.125, 74),
            (1, 0.125, 77),
            (1.125, 0.375, 72),
            (1.5, 0.5, 74),
        ],
    ),
    # a dotted grace note: 3 units are 3/4 of a quarter, a quarter of that is 3/16
    ("{A3}B4 z4|", [(0, 0.375, 69), (0.375, 1.625, 71)]),
    # inside a triplet of dotted notes the grace shrinks by 2/3 too: 1/2 * 1/4 * 2/3 = 1/12
    ("(3{B}A3 B3 c3 z5|", [(0, 0.083, 71), (0.083, 0.917, 69), (1, 1, 71), (2, 1, 72)]),
]


@pytest.mark.parametrize(("body", "expected"), GRACE_PLAYING)
def test_grace_notes_play_as_worked_out(body, expected):
    assert _sounding(abc_to_midi_bytes(_tune(body))) == expected


@needs_abc2midi
@pytest.mark.parametrize(("body", "expected"), GRACE_PLAYING)
def test_abc2midi_plays_the_grace_notes_alike(body, expected):
    assert _near(_sounding(abc2midi_bytes(_tune(body))), expected)


def test_a_grace_chord_leaves_the_written_offsets_of_the_bar():
    score = abc_to_score(_tune("A B {[df]}c d z4|"))
    found = [(float(e.offset), e.duration.isGrace) for e in score.recurse().notesAndRests]
    assert found == [(0, False), (0.5, False), (1, True), (1, False), (1.5, False), (2, False)]


def test_grace_notes_music21_read_on_its_own_are_taken_as_written_outside_a_tuplet():
    """Without the text's marks (music21's own reading, no ``in_tuplet``) a grace note before a
    triplet keeps a quarter of its written length, as abc2midi plays ``{g}(3ABc``."""
    score = converter.parse(_tune("{g}(3ABc z5|"), format="abc")
    assert realize_grace_notes(score) == 1
    grace, first, *_ = score.recurse().notes
    assert (float(grace.offset), float(grace.quarterLength)) == (0, 0.125)
    assert (float(first.offset), float(first.quarterLength)) == pytest.approx(
        (0.125, 1 / 3 - 0.125)
    )


def test_realize_grace_notes_counts_the_grace_notes_it_gives_time():
    score = abc_to_score(_tune("{cd}B2 {efg}A4 z2|"))
    assert realize_grace_notes(score) == 5
    assert all(n.quarterLength > 0 for n in score.recurse().notes)


def test_a_grace_group_as_long_as_its_note_is_left_out_and_not_counted():
    """``{AG}E/``: two grace eighths take a quarter of 1/4 each, all of E/'s 1/4: abc2midi
    drops them ("Grace sequence exceeds host note"); ``{c}B`` still counts."""
    score = abc_to_score(_tune("{AG}E/ {c}B z5z/|"))
    assert realize_grace_notes(score) == 1
    assert [n.pitch.name for n in score.recurse().notes] == ["E", "C", "B"]


def test_realize_grace_notes_works_on_one_bar():
    """A bar (a stream with no streams in it) is itself searched for grace notes."""
    score = abc_to_score(_tune("{c}B2 A2 G4|{d}c8|"))
    bar = score.parts[0].getElementsByClass("Measure")[0]
    assert realize_grace_notes(bar) == 1
    grace, main, *_ = bar.notes
    assert (float(grace.offset), float(grace.quarterLength)) == (0, 0.125)
    assert (float(main.offset), float(main.quarterLength)) == (0.125, 0.875)


# -- the held copy for MIDI ----------------------------------------------------------------------


def test_a_score_without_chord_ties_is_played_as_it_is():
    score = abc_to_score(_tune("D2-D2 [DF]2 z2|"))
    assert with_chord_ties_held(score) is score


def test_the_held_copy_has_no_empty_chords_and_no_ties_left():
    for body in ("[D2F2]-[D2F2] z4|", "[D2-F2]E2 z4|"):
        score = abc_to_score(_tune(body))
        held = with_chord_ties_held(score)
        assert held is not score
        assert all(len(c.notes) > 0 for c in held.recurse().getElementsByClass("Chord"))
        members = [m for e in held.recurse().notes for m in (e.notes if e.isChord else [e])]
        assert all(m.tie is None for m in members), body
    # ...while the written score keeps its chords and ties for the player's cues
    assert [len(c.notes) for c in score.recurse().getElementsByClass("Chord")] == [2]
    assert _ties(next(iter(score.recurse().notes))) == [("D4", "start"), ("F4", None)]


def _held_notes(score) -> list[tuple[float, float, str]]:
    return sorted(
        (float(e.getOffsetInHierarchy(score)), float(e.quarterLength), p.nameWithOctave)
        for e in score.recurse().notes
        if e.quarterLength > 0 and not e.isRest and "Harmony" not in e.classes
        for p in e.pitches
    )


def test_a_chord_symbol_neither_ends_a_tie_nor_is_held():
    """``[D2F2]-"Dm"[D2F2]``: a chord symbol is not melody (abc2midi plays it on another
    channel), so D and F are held through it and the symbol keeps its notes."""
    score = abc_to_score(_tune('[D2F2]-"Dm"[D2F2] z4|'))
    held = with_chord_ties_held(score)
    assert _held_notes(held) == [(0.0, 2.0, "D4"), (0.0, 2.0, "F4")]
    (symbol,) = [e for e in held.recurse() if "Harmony" in e.classes]
    assert sorted(p.name for p in symbol.pitches) == ["A", "D", "F"]


def test_a_grace_note_with_no_time_yet_does_not_break_the_hold():
    """Before :func:`realize_grace_notes` a grace note takes no time: nothing sounds between
    the two chords, so the tie holds across it (the grace note is left for later)."""
    score = abc_to_score(_tune("[D2F2]-{E}[D2F2] z4|"))
    held = with_chord_ties_held(score)
    assert _held_notes(held) == [(0.0, 2.0, "D4"), (0.0, 2.0, "F4")]
    assert [n.pitch.name for n in held.recurse().notes if n.duration.isGrace] == ["E"]


def _tied_chord_part(first: str, second: str) -> stream.Part:
    """A part of one 4/4 bar: a half-note chord of ``first`` tied into the same chord."""
    part, bar = stream.Part(), stream.Measure(number=1)
    a, b = chord.Chord(first.split(), quarterLength=2), chord.Chord(second.split(), quarterLength=2)
    for member in a.notes:
        member.tie = tie.Tie("start")
    for member in b.notes:
        member.tie = tie.Tie("stop")
    bar.append([a, b])
    part.append(bar)
    return part


def test_every_part_with_chord_ties_is_held_and_a_part_with_voices_is_left_alone():
    """A score of two parts (music21's own, not from ABC): the second one's tied chords are
    held; a part whose bar holds two voices is left to music21, ties and all."""
    plain = stream.Part([stream.Measure([note.Note("C5", quarterLength=4)], number=1)])
    score = stream.Score([plain, _tied_chord_part("D4 F4", "D4 F4")])
    held = with_chord_ties_held(score)
    assert _held_notes(held.parts[1]) == [(0.0, 4.0, "D4"), (0.0, 4.0, "F4")]

    voiced = _tied_chord_part("G4 B4", "G4 B4")
    bar = voiced.getElementsByClass("Measure")[0]
    upper, lower = stream.Voice(), stream.Voice()
    upper.append(list(bar.notes))
    bar.remove(list(bar.notes))
    lower.append(note.Note("C4", quarterLength=4))
    bar.insert(0, upper)
    bar.insert(0, lower)
    alone = stream.Score([copy.deepcopy(voiced)])
    assert with_chord_ties_held(alone) is alone
    both = stream.Score([voiced, _tied_chord_part("D4 F4", "D4 F4")])
    held = with_chord_ties_held(both)
    assert _held_notes(held.parts[1]) == [(0.0, 4.0, "D4"), (0.0, 4.0, "F4")]
    kept = list(held.parts[0].recurse().getElementsByClass("Chord"))
    assert [_ties(c) for c in kept] == [
        [("G4", "start"), ("B4", "start")],
        [("G4", "stop"), ("B4", "stop")],
    ]


# -- repeats music21 cannot expand ----------------------------------------------------------------


def test_badly_formed_repeats_with_endings_play_once_through():
    """O'Neill's "Banks of the Barrow" (its repeats are beyond music21's expansion) with first
    and second endings added: the written score plays once through, both endings in turn."""
    tune = load(["corpus:oneills1850"]).tunes[424].text
    assert "T: The Banks of the Barrow" in tune
    with_endings = tune.replace("(E2 G>E) | D2 D2 D6 :|", "(E2 G>E) |1 D2 D2 D6 :|2 D2 D2 D4 z2 |")
    assert with_endings != tune
    written = abc_to_score(with_endings)
    expected = [p.midi for n in written.recurse().notes for p in n.pitches]
    bars = list(written.parts[0].getElementsByClass("Measure"))
    repeats = {
        (i, side): line.type
        for i, m in enumerate(bars)
        for side, line in (("left", m.leftBarline), ("right", m.rightBarline))
        if isinstance(line, bar.Repeat)
    }
    assert len(repeats) >= 6
    assert len(written.recurse().getElementsByClass(spanner.RepeatBracket)) == 2
    assert [n.pitch for n in played_notes(score_to_midi_bytes(written))] == expected
    # The score (changed in place, as for its grace notes) keeps its bar lines, made plain in
    # their own style, and no endings that no repeat leads to.
    for (i, side), style in repeats.items():
        line = getattr(bars[i], f"{side}Barline")
        assert type(line) is bar.Barline and line.type == style, (i, side)
    assert not written.recurse().getElementsByClass(spanner.RepeatBracket)


# -- follow-along spans ---------------------------------------------------------------------------


def test_a_tune_of_two_voices_gets_no_follow_along_spans():
    """music21 orders the notes part by part, the text in written order; the cues follow one
    voice's notes, so a tune of several voices is not marked at all (as documented)."""
    abc = "X:1\nT:t\nM:2/4\nL:1/8\nV:1\nV:2\nK:D\nV:1\nFA dc|BA GF|\nV:2\nDF DF|G,B, A,D|\n"
    score = abc_to_score(abc)
    assert len(score.parts) == 2
    notes = list(score.recurse().notesAndRests)
    assert len(notes) == 16
    assert not any("source_span" in n.editorial for n in notes)
    # one voice, the same notes: every one is marked
    single = abc_to_score("X:1\nT:t\nM:2/4\nL:1/8\nK:D\nFA dc|BA GF|\n")
    assert all("source_span" in n.editorial for n in single.recurse().notesAndRests)


def test_a_voice_declared_but_never_written_changes_nothing():
    """``V:2`` declared with no music makes music21 add an empty part: the one voice with
    notes is still marked (follow-along spans, ties into chords) as the same tune without
    ``V:`` lines is. Before, the empty part made it a tune of two voices: nothing was marked."""
    music = "[D2F2]-[DF] dc|BA GF|\n"
    plain = abc_to_score(f"X:1\nT:t\nM:2/4\nL:1/8\nK:D\n{music}")
    declared = abc_to_score(f"X:1\nT:t\nM:2/4\nL:1/8\nV:1\nV:2\nK:D\nV:1\n{music}V:2\n")
    assert [len(list(p.recurse().notesAndRests)) for p in declared.parts] == [8, 0]
    assert [_ties(e) for e in declared.recurse().notes] == [_ties(e) for e in plain.recurse().notes]
    assert _ties(next(iter(declared.recurse().notes))) == [("D4", "start"), ("F#4", "start")]
    assert all("source_span" in e.editorial for e in declared.recurse().notesAndRests)


# -- reading: several tunes, shared objects, the messages of failures ---------------------------


def test_a_text_of_two_tunes_gives_the_first():
    """music21 reads two ``X:`` tunes as an Opus; the first one is the tune."""
    text = "X:1\nT:One\nM:4/4\nL:1/8\nK:C\nCDEF GABc|\n\nX:2\nT:Two\nK:G\nGABc d4|\n"
    assert isinstance(converter.parse(text, format="abc"), stream.Opus)
    score = abc_to_score(text)
    assert score.metadata.title == "One"
    names = [p.nameWithOctave for p in score.pitches]
    assert names == ["C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5"]


def test_parse_abc_reads_the_written_form_unless_asked_for_the_played_one():
    tune = "X:1\nT:t\nM:4/4\nL:1/4\nK:C\n|:CDEF:|\n"
    assert len(list(parse_abc(tune).recurse().notes)) == 4
    assert len(list(parse_abc(tune, played=True).recurse().notes)) == 8


def _shared_placements(score) -> int:
    """How many placements repeat an object already placed elsewhere (music21's recurse
    yields each placement once)."""
    counts = Counter(id(e) for e in score.recurse() if not isinstance(e, stream.Stream))
    return sum(n - 1 for n in counts.values())


@pytest.mark.parametrize("index", [0, 5])  # O'Neill's tunes 1 and 6: one and two shared objects
def test_each_shared_object_is_copied_once(index):
    score = parse_abc(load(["corpus:oneills1850"]).tunes[index].text)
    shared = _shared_placements(score)
    assert shared == index // 5 + 1
    assert _copy_shared_objects(score) == shared
    assert _shared_placements(score) == 0
    assert _copy_shared_objects(score) == 0


def test_a_shared_object_anywhere_in_the_score_is_copied():
    """One TimeSignature object in the score itself, in two bars and in the part after them:
    music21's MIDI writer refuses it until each place holds its own copy."""
    ts = meter.TimeSignature("3/4")
    bars = [stream.Measure(number=1), stream.Measure(number=2)]
    for i, measure in enumerate(bars):
        measure.insert(0, ts)
        measure.insert(0, note.Note(60 + i, quarterLength=3))
    part = stream.Part()
    part.append(bars)
    part.insert(6, ts)
    score = stream.Score([part])
    score.insert(0, ts)
    assert _shared_placements(score) == 3
    with pytest.raises(Exception, match="already found"):
        midi.translate.streamToMidiFile(score).writestr()
    assert _copy_shared_objects(score) == 3
    assert _shared_placements(score) == 0
    assert midi.translate.streamToMidiFile(score).writestr()[:4] == b"MThd"


@pytest.mark.parametrize(
    ("abc", "message"),
    [
        ("  \n", "the tune is empty"),
        ("X:1\nT:Only a header\nM:4/4\nL:1/8\nK:G\n", "the tune has no notes"),
    ],
)
def test_failures_say_exactly_what_is_wrong(abc, message):
    with pytest.raises(ConversionError) as info:
        abc_to_score(abc)
    assert str(info.value) == message


def test_a_text_music21_cannot_read_says_what_music21_said():
    text = "hello world, no music here"
    try:
        converter.parse(music21_text(text).text, format="abc")
    except Exception as exc:  # music21's own words are the oracle
        said = " ".join(str(exc).split())
    else:
        pytest.fail("music21 read it")
    with pytest.raises(ConversionError) as info:
        abc_to_score(text)
    assert 0 < len(said) <= 200  # short enough to be kept whole
    assert str(info.value) == f"music21 could not read the ABC: {said}"


def test_a_score_music21_cannot_write_says_why():
    """music21's own reading of O'Neill's first tune shares a TimeSignature (see above)."""
    score = parse_abc(load(["corpus:oneills1850"]).tunes[0].text)
    with pytest.raises(ConversionError, match=r"could not write MIDI: the object .* already found"):
        score_to_midi_bytes(score)
    with pytest.raises(ConversionError, match=r"could not write MusicXML: .*has no attribute"):
        score_to_musicxml_bytes(object())  # type: ignore[arg-type]


def test_musicxml_export_leaves_music21s_default_author_as_it_was():
    saved = defaults.author
    abc_to_musicxml_bytes(_tune("CDEF GABc|"))
    assert defaults.author == saved == "Music21"


def test_write_midi_writes_the_tempo_asked_for(tmp_path):
    path = write_midi(_tune("CDEF GABc|"), tmp_path / "t.mid", tempo_bpm=90)
    assert tempi_of(path) == [90.0]


def test_the_slowest_tempo_a_midi_file_holds_and_no_slower():
    """A MIDI tempo is 24 bits of microseconds per quarter note: 3.6 quarters a minute fits;
    3.5 does not, and music21 wrote it wrapped round (3 came out as 18.6): refused instead."""
    assert tempi_of(abc_to_midi_bytes(_tune("CDEF|"), tempo_bpm=3.6)) == [3.6]
    slowest = abc_to_midi_bytes(_tune("CDEF|"), tempo_bpm=SLOWEST_MIDI_TEMPO)
    assert tempi_of(slowest) == [round(60_000_000 / 0xFFFFFF, 3)]
    for too_slow in (3.5, 0.5):
        with pytest.raises(ConversionError, match="slower than a MIDI file can hold"):
            abc_to_midi_bytes(_tune("CDEF|"), tempo_bpm=too_slow)
    for nonsense in (0, -90, float("nan")):
        with pytest.raises(ConversionError) as info:
            abc_to_midi_bytes(_tune("CDEF|"), tempo_bpm=nonsense)
        assert str(info.value) == f"tempo must be positive, not {nonsense}"
