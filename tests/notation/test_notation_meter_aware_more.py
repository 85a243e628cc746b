"""Meter-aware decoding: the corners the other test files leave (a prompt's odd bars, the mask
caches a vocabulary's constraints share, bars with no notes in the shape bias, lengths in a
broken-rhythm pair). Worked by hand from the module's rules and constants; found by mutation
testing (benchmarks/mutation.py), each test failing for at least one mutant of the module.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest
import torch
from meter_aware_kit import BAR, TOKENIZER, H, scanner
from meter_aware_kit import logits_after as one

import workbench.notation.meter_aware as meter_aware
from workbench.notation.meter_aware import MeterAwareConstraint

pytestmark = pytest.mark.usefixtures("cold_meter_caches")

VOCAB = TOKENIZER.vocab


def allowed(text: str, **kwargs) -> set[str]:
    """What may follow `text` (by default with no shortest-tune rule)."""
    con = MeterAwareConstraint(TOKENIZER, **{"min_bars": 0, **kwargs})
    return set(con.allowed(scanner(text)))


# -- the mask caches ------------------------------------------------------------------------


def test_constraints_of_one_vocabulary_share_their_masks():
    # "A new constraint per Generate starts warm": the mask one constraint built, before or
    # after its first call, is the very tensor the next one uses on the same device.
    text = H + "GABc"
    key = MeterAwareConstraint(TOKENIZER).key(scanner(text))
    early = MeterAwareConstraint(TOKENIZER)
    before_a_call = early._forbid(key)
    called = MeterAwareConstraint(TOKENIZER)
    called(torch.zeros(1, len(VOCAB)), [text])
    assert called._forbid(key) is before_a_call
    later = MeterAwareConstraint(TOKENIZER)
    assert later._forbid(key) is before_a_call


def test_length_options_are_worked_out_once():
    # The options for a length being written are cached by (prefix, room, base, unit...): the
    # second asking gets the first answer itself.
    con = MeterAwareConstraint(TOKENIZER)
    ask = ("", F(1, 8), F(3, 8), F(1, 8), F(1), 0)  # an eighth note, 3/8 left
    first = con._options(*ask)
    two_three_slash = meter_aware.SLASH_B | meter_aware.DIGIT_B[2] | meter_aware.DIGIT_B[3]
    assert first == (two_three_slash, True, True)
    assert con._options(*ask) is first


# -- bars with no notes in the shape bias ----------------------------------------------------


def test_an_empty_bars_bar_line_closes_no_section():
    # After eight bars, an empty bar ` |`: its `|` closes nothing, so neither `||`/`|]` nor
    # <end> get the 8-bar section's bias (a full 8th bar's `|` would: SHAPE_CLOSE[0]).
    after = one(H + BAR * 8 + " |")
    assert after["|"] == after["]"] == 0.0
    assert after["<end>"] == meter_aware.HOME_BONUS
    assert one(H + BAR * 8)["|"] == meter_aware.SHAPE_CLOSE[0]


def test_an_empty_bar_is_no_pickups_complement():
    # A first bar of 3/4 under 4/4 is the pickup; the meter then changes to 3/4, so an empty
    # bar has `expected - pickup` = 0 left, the pickup's complement's length: but with no
    # notes it closes no section, and its bar lines are unbiased.
    after = one(H + "GABc dB|\nM:3/4\n")
    assert after["|"] == after[":"] == 0.0


# -- elements --------------------------------------------------------------------------------


def test_a_chord_of_no_length_leaves_nothing_to_allow():
    # A prompt's `[C0E]` (a zero-length first note makes the chord's length 0): no length
    # can be given to it, so the rules allow nothing and the row goes unmasked.
    assert allowed(H + "[C0E]") == set()
    assert one(H + "[C0E]")["A"] == 0.0


def test_the_second_note_of_a_broken_pair_keeps_the_first_ones_length():
    # `A>B`: B is written as long as A (no length), so no length character may follow it...
    after = allowed(H + "A>B")
    assert not after & set("0123456789/") and "|" in after
    # ...while a prompt's `A2>B3`, already longer, may still be made good (`B3/`).
    assert "/" in allowed(H + "A2>B3")


def test_a_numerator_too_long_alone_is_allowed_where_nothing_else_completes_the_bar():
    # The last note of a triplet (2/3 of L:1/8 each) with 1/64 of the bar left: only `g3/16`
    # (3/16 of 2/3 of an eighth) fills it, and its numerator 3 alone would overfill the bar.
    # The rules mask such numerators only while some other length would do.
    assert allowed(H + "AB/c/4d/8(3e4f5g") == {"'", "3"}


def test_a_tie_goes_on_to_its_note_with_the_first_accidental_alone():
    # A prompt's `^_A-` (two different accidentals): the tied note is `A` (the accidental
    # holds through the bar) or begins with the first accidental, never the second.
    after = allowed(H + "^_A-")
    assert {"A", "^"} <= after and "_" not in after


def test_no_bar_line_between_the_notes_of_a_broken_pair():
    # A prompt's `A>[`: the bracket can only open the pair's second element (a chord), not
    # make a `[|` bar line, which would leave the pair without its second note.
    assert allowed(H + "A>[") == set("ABCDEFGabcdefg^_=")


def test_a_note_starts_in_a_tuplet_only_if_the_tuplets_other_notes_still_fit():
    # A triplet under L:1/8: each note 2/3 of its written length. `A2B/c/8` is 21/64 of the
    # bar, `(3c4c4` two more notes of 4 * 2/3 eighths: 1/192 of a whole note is left, which
    # the triplet's last note fills as `c/16` (1/16 * 2/3 of an eighth): it may start.
    assert {"c", "G", "z"} <= allowed(H + "A2B/c/8(3c4c4")
    # After one note `c8` the same 1/192 is left for two: no note may start, the line may end.
    assert allowed(H + "A2B/c/8(3c8 ") == {"\n", " ", "`", "\\"}  # (and what takes no time)


# -- a prompt's `+...+` decoration ------------------------------------------------------------


def test_a_plus_decoration_has_a_name_of_at_most_twelve_characters():
    # The rules write no `+trill+`, but a prompt may open one: a name must come first (no
    # empty `++`), then it may close, and after DECO_MAX characters it must.
    name = set(meter_aware.DECO_NAME_CHARS)
    assert allowed(H + "+") == name
    assert allowed(H + "+tr") == name | {"+"}
    assert allowed(H + "+" + "a" * meter_aware.DECO_MAX) == {"+"}


# -- body field lines and comments ----------------------------------------------------------


def test_a_body_field_line_or_comment_ends_no_tune_before_its_eighth_bar():
    # After one bar on the tonic, a `T:` line or a comment: free text, but no <end> while the
    # tune is shorter than MIN_BARS (the shortest-tune rule holds there too).
    for text in (H + BAR + "\nT:x", H + BAR + "% hi", H + "GABc dBAG %"):
        assert "<end>" not in allowed(text, min_bars=None), text
        assert "<end>" in allowed(text), text
    # A comment after a bar that ends away from home (on B in G): no <end> either.
    assert "<end>" not in allowed(H + "GABc dBAB|% hi")


# -- chords and brackets -------------------------------------------------------------------


def test_inside_a_chord_only_notes_marks_and_lengths():
    notes = set("ABCDEFGabcdefg")
    assert allowed(H + "[^") == notes  # an accidental's note
    # After three octave marks no more: another note, an accidental, the chord's end, or the
    # chord's length after its first note (`[c2e2]`: see test_notation_meter_aware_collections).
    after = allowed(H + "[c'''")
    assert after - set("0123456789/") == notes | set("^_=]") and {"2", "/"} <= after


def test_a_bracket_after_a_full_bar_can_only_be_a_bar_line():
    assert allowed(H + "GABc dBAG[") == {"|"}
    # At a pickup's complement (5/8 after a 1/8 pickup in 6/8), `[|` may close the bar.
    jig = "X:1\nM:6/8\nL:1/8\nK:G\nD|GAB BAB|gdB G2["
    assert "|" in allowed(jig) and "A" in allowed(jig)


def test_a_second_ending_bracket_only_after_the_first_endings_repeat():
    # `[2` needs both: the `:|` just written and a first ending `[1`/`|1` before it.
    last = "GABc dBAG"
    no_first = allowed(H + "|:" + last + "|" + last + ":|[")
    assert "2" not in no_first and "|" in no_first
    no_repeat = allowed(H + "|:" + last + "|[1 " + last + "|[")
    assert "2" not in no_repeat and "|" in no_repeat
    # Where it may come, the bar may still begin otherwise, or the bracket be a bar line.
    assert {"2", "A", "^", "|", "K"} <= allowed(H + "|:" + last + "|[1 " + last + ":|[")


def test_after_a_first_ending_bracket_the_bar_begins():
    # `[1` (VARIANT while its numbers are read): what may begin a bar, or end the empty one.
    after = allowed(H + "|:" + BAR + "[1")
    assert {" ", "\n", "A", "z", "^", "|", ":"} <= after and "]" not in after
    # A tie across it goes on to its note.
    assert allowed(H + "|:GABc dBA-|[1") == {" ", "\n", "A"}  # (no empty bar between)


# -- tuplets and grace groups --------------------------------------------------------------


def test_a_tuplet_opens_only_outside_another_and_where_its_shortest_notes_fit():
    music = set('ABCDEFGabcdefgz^_=[{!".~HLMOPSTuv')
    # Inside a triplet a prompt's `(` is a slur: no tuplet within it, though `A3` (a quarter
    # in the triplet) leaves a room the shortest notes could fill.
    assert allowed(H + "(3A3(") == music
    # With 1/8 of the unit left (2 of its sixteenths), only (3 and (6 fit: their shortest
    # notes (sixteenths) take the time of 2 sixteenths all together, (2 and (4's of 3.
    # (or a second `(`: this one is a slur, the next may open the tuplet.)
    assert allowed(H + "ABcd efga7/8(") == music | {"3", "6", "("}
    # Just after `(3` its first note begins: no slur `(` (and no grace group after one).
    assert allowed(H + "(3") == music
    assert allowed(H + "{g}(3") == music - {"{", "~"}  # (no roll after a grace group)


def test_a_grace_group_holds_at_most_eight_notes():
    notes = set("ABCDEFGabcdefg^_=")
    assert allowed(H + "{") == notes | {"/"}  # `{/g}`: an acciaccatura
    assert allowed(H + "{/") == notes
    # A prompt's stray `X` is no grace note: a note must come before the group may close.
    assert allowed(H + "{gX") == notes
    # Octave marks on a grace note, at most three.
    assert allowed(H + "{g''") == notes | {"'", "}"}
    assert allowed(H + "{g'''") == allowed(H + "{G,,,") == notes | {"}"}
    assert {"A", "^", "}"} <= allowed(H + "{gagagag")
    assert allowed(H + "{gagagaga") == {"}", "'"}


# -- the last section's bars (SECTION_END) ---------------------------------------------------


def test_the_last_section_counts_its_bars_with_the_one_being_written():
    home, (eight, _, _, short) = meter_aware.HOME_BONUS, meter_aware.SECTION_END
    end_at, other = meter_aware.END_AT, meter_aware.SHAPE_END[3]
    first = H + BAR * 8 + "||"  # an 8-bar first section
    # In the last bar of an 8-bar second section (its bar line not written yet): 8 bars, in
    # 4/4 and in 2/4 (where a full bar's duration is half a whole note).
    last = "GABc dBAG"
    assert one(first + BAR * 7 + last)["<end>"] == home + end_at[16] + eight
    polka = "X:1\nM:2/4\nL:1/8\nK:G\n" + "GABG|" * 7 + "GABG||" + "GABG|" * 7 + "GABG"
    assert one(polka)["<end>"] == home + end_at[16] + eight
    # One bar after the section bar line: a last section of one bar.
    assert one(first + BAR)["<end>"] == home + other + short
    # A quarter-bar pickup after it: no bar yet (rounded to 0), so no SECTION_END term.
    assert one(first + "G2|")["<end>"] == home + end_at[8]
    # A section of one whole bar closed by `||` is a section (the tune's last): the bias for a
    # last section under 4 bars (its first section was not repeated: no END_AFTER_REPEAT).
    assert one(first + BAR + "||\n")["<end>"] == home + other + short
