"""Follow-along cues point at the characters that wrote the sounding note, also where the text
music21 reads differs from the tune's: repeats written out, rests added, lengths spelled out."""

from __future__ import annotations

from workbench.playback.events import tune_from_abc


def _cued(abc: str) -> list[tuple[float, str]]:
    """(seconds, characters) of each cue; Q:1/4=120 makes a quarter note half a second."""
    return [(round(c.time, 3), abc[c.start : c.end]) for c in tune_from_abc(abc).cues]


def test_a_repeat_played_again_highlights_the_same_notes():
    abc = "X:1\nM:2/4\nL:1/8\nQ:1/4=120\nK:G\nGA Bc|d4:|e4|\n"
    first = [(0.0, "G"), (0.25, "A"), (0.5, "B"), (0.75, "c"), (1.0, "d4")]
    again = [(t + 2.0, chars) for t, chars in first]
    assert _cued(abc) == [*first, *again, (4.0, "e4")]
    starts = [c.start for c in tune_from_abc(abc).cues]
    assert starts[:5] == starts[5:10]  # the very same characters, not a copy's


def test_rests_a_rewrite_adds_point_at_the_rest_written():
    abc = "X:1\nM:2/4\nL:1/8\nQ:1/4=120\nK:G\nG4|Z2|x2 G2|\n"
    assert _cued(abc) == [(0.0, "G4"), (1.0, "Z2"), (2.0, "Z2"), (3.0, "x2"), (3.5, "G2")]


def test_notes_whose_lengths_are_spelled_out_keep_their_characters():
    abc = 'X:1\nM:2/4\nL:1/8\nQ:1/4=120\nK:G\n"G"B>(AG) HF|G4|\n'
    assert _cued(abc) == [(0.0, "B"), (0.375, "A"), (0.5, "G"), (0.75, "F"), (1.0, "G4")]


def test_parts_play_in_the_header_order_with_their_own_characters():
    abc = "X:1\nM:2/4\nL:1/8\nQ:1/4=120\nP:BA\nK:G\nP:A\nG4|]\nP:B\nB4|]\n"
    assert _cued(abc) == [(0.0, "B4"), (1.0, "G4")]


def test_several_voices_get_no_cues():
    abc = "X:1\nM:2/4\nL:1/8\nK:G\nV:1\nG4|B4:|\nV:2\nD4|G4:|\n"
    tune = tune_from_abc(abc)
    assert tune.notes and tune.cues == []
