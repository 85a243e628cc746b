"""Meter-aware decoding in detail: how the constraint's call masks and biases a batch (rows the
rules cannot read, the prompt, the length cap, dtypes), how the shape bias counts sections and
bars, and the rules for where a bar or the tune may end, the header and the start of a note.

Expectations are worked by hand from the module's documented rules and constants (HOME_BONUS,
END_AT, SHAPE_CLOSE...) on small tunes in 4/4 and 6/8, or come from abc2midi and music21 where a
rule is about what they read. Found by mutation testing (benchmarks/mutation.py).
"""

from __future__ import annotations

import pytest
import torch
from meter_aware_kit import BAR, LAST, TOKENIZER, H, scanner

from models.tokenizer import SPECIALS, CharTokenizer
from workbench.notation.meter_aware import (
    CLOSING_MARGIN,
    END_AFTER_REPEAT,
    END_AT,
    HOME_BONUS,
    HOME_MARGIN,
    SECTION_END,
    SHAPE_CLOSE,
    SHAPE_END,
    SHORT_SECTION,
    TONIC_PULL,
    MeterAwareConstraint,
    _next_chars,
    meter_aware_constraint,
)

pytestmark = pytest.mark.usefixtures("cold_meter_caches")

VOCAB = TOKENIZER.vocab
END = "<end>"
INF = float("inf")
BEST, FOUR, EVEN, OTHER = SHAPE_CLOSE


def allowed(text: str, **kwargs) -> set[str] | None:
    """The tokens the constraint allows after `text` (None: it masks nothing)."""
    found = MeterAwareConstraint(TOKENIZER, min_bars=0, **kwargs).allowed(scanner(text))
    return None if found is None else set(found)


CHARS = set(VOCAB) - set(SPECIALS)  # every character of the vocabulary


def logits_for(
    texts: list[str], con: MeterAwareConstraint | None = None, base: float = 0.0, **kwargs
) -> list[dict[str, float]]:
    """The constraint's logits for each text, from logits all equal to `base`, by token."""
    con = con or MeterAwareConstraint(TOKENIZER, **kwargs)
    out = con(torch.full((len(texts), len(VOCAB)), base), texts)
    return [dict(zip(VOCAB, row.tolist(), strict=True)) for row in out]


def one(text: str, **kwargs) -> dict[str, float]:
    """`logits_for` one text (`con` or `base` may be given, as there)."""
    return logits_for([text], **kwargs)[0]


# -- the call: rows, prompt, cap, dtypes -------------------------------------------------------


def test_rows_the_rules_cannot_read_are_left_free_and_unbiased():
    # A body line starting with `N` (no field abc2midi takes in a body, no note), a broken
    # rhythm `>` with no room left for its second note, a multi-bar rest `Z` (which the rules
    # do not write): the rules allow nothing, so the row is left as the model has it (no mask,
    # and no bias either: the last two would close 16 and 8 bars), while the others are masked.
    con = MeterAwareConstraint(TOKENIZER)
    dead = [H + BAR + "\nN", H + BAR * 15 + LAST + ">", H + BAR * 7 + "Z"]
    rows = logits_for([dead[0], H + LAST, dead[1], dead[2]], con=con)
    for i in (0, 2, 3):
        assert set(rows[i].values()) == {0.0}, dead[i - (i > 1)]
    assert rows[1] == one(H + LAST)
    assert rows[1]["A"] == -INF and rows[1]["|"] == 0.0
    assert con.unmasked_rows == 3
    logits_for([dead[0]], con=con)
    assert con.unmasked_rows == 4


def test_an_empty_batch_is_returned_as_it_is():
    con = MeterAwareConstraint(TOKENIZER)
    logits = torch.zeros(0, len(VOCAB))
    assert con(logits, []).shape == (0, len(VOCAB))
    # ...and the next call starts afresh.
    assert one("X", con=con) == logits_for(["X"])[0]


def test_the_first_call_reads_the_whole_text():
    # A new row reads its text from the first character: after `X` only `:` may follow.
    allowed = {t for t, v in one("X").items() if v > -INF}
    assert allowed == {":"}


def test_a_row_with_no_rules_is_returned_unbiased():
    # Free meter: nothing is masked and nothing biased, whatever the ending rules.
    text = "X:1\nM:none\nK:G\nGABc dBAG GABc"
    assert set(one(text).values()) == {0.0}


def test_biases_add_to_the_models_logits_and_keep_masked_tokens_masked():
    # After a pickup `D2` on its own line, `|`: a section of no bars (SHAPE_CLOSE's last);
    # `]` would end the tune away from home (D in G): masked, and it stays masked.
    text = H + "D2\n|"
    zero, ones = one(text), one(text, base=1.0)
    assert zero["|"] == OTHER and ones["|"] == 1.0 + OTHER
    assert zero["]"] == ones["]"] == -INF
    # A pickup alone may open a repeat (`|:`): `:` is not biased as a section's close.
    assert zero[":"] == 0.0 and ones[":"] == 1.0


def test_masks_and_biases_follow_the_logits_to_their_device():
    # Masks are cached per device, and the biases are put on the logits' device: on a GPU the
    # result is the CPU's, on the GPU (skipped where there is none).
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    texts = [H + BAR * 7 + LAST, H + "D2\n|", H + BAR + "\nN"]
    con = MeterAwareConstraint(TOKENIZER)
    on_cpu = con(torch.zeros(len(texts), len(VOCAB)), texts)
    for _ in range(2):  # cold and warm mask cache
        con.reset()
        out = con(torch.zeros(len(texts), len(VOCAB), device="cuda"), texts)
        assert out.device.type == "cuda"
        assert torch.equal(out.cpu(), on_cpu)


def test_biases_keep_the_logits_dtype():
    text = H + BAR * 7 + LAST
    for dtype in (torch.float64, torch.bfloat16):
        con = MeterAwareConstraint(TOKENIZER)
        out = con(torch.zeros(1, len(VOCAB), dtype=dtype), [text])
        assert out.dtype == dtype
        assert out[0, VOCAB.index(END)].item() == HOME_BONUS + END_AT[8]


def test_the_tune_closes_from_closing_margin_characters_of_its_own():
    # The prompt's characters do not count towards the cap: the tune closes once it has
    # written max_chars - CLOSING_MARGIN characters of its own (here 3: "BAG").
    prompt = H + BAR * 9 + "GABc d"
    for extra, closing in ((3, True), (4, False)):
        con = MeterAwareConstraint(TOKENIZER, max_chars=CLOSING_MARGIN + extra)
        logits_for([prompt], con=con)
        row = logits_for([prompt + "BAG"], con=con)[0]
        allowed = {t for t, v in row.items() if v > -INF}
        # Closing: a full bar at home with ten bars of music ends the tune at once.
        assert (allowed == {END}) is closing, (extra, allowed)
        if not closing:
            assert {"|", ":", END} <= allowed


def test_the_tonic_rule_comes_back_after_a_row_near_the_cap():
    # In its last HOME_MARGIN characters a tune may end away from home; the next tune, not yet
    # there, may not. Each tune: a prompt of nine bars, then what the model wrote.
    con = MeterAwareConstraint(TOKENIZER, max_chars=HOME_MARGIN + 10)
    prompt = H + BAR * 9
    for written, may_end in (("GABc dBAB|GABc dBAB", True), ("GABc dBAB", False)):
        con.reset()
        logits_for([prompt], con=con)
        row = logits_for([prompt + written], con=con)[0]  # ends on B, not on the tonic G
        assert (row[END] > -INF) is may_end, written


# -- the shape bias: sections and bars --------------------------------------------------------


def test_a_section_needs_a_whole_bar():
    # `|: A :|` at home, then a pickup-length fragment closed by `||`: no section of its own,
    # so on the next line the tune is still just after its repeated first part (8 bars and a
    # quarter, counted as 8) and <end> is held back.
    in_d = "X:1\nM:4/4\nL:1/8\nK:D\n"
    a_part = in_d + "|:" + "DEFA dAFD|" * 7 + "DEFA dAFD:|"
    fragment = one(a_part + "D2||\n")
    assert fragment[END] == HOME_BONUS + END_AFTER_REPEAT + END_AT[8]
    # One whole bar after it is a section (a second one): <end> after 9 bars as usual, less
    # the bias for a last section under 4 bars.
    bar = one(a_part + "DEFA dAFD||\n")
    assert bar[END] == HOME_BONUS + SHAPE_END[3] + SECTION_END[3]


def test_the_end_bias_counts_the_bars_the_tune_would_have():
    # Just after the 8th bar line; after a space that ends the 8th bar; in the 16th bar's
    # only note (a whole-bar G8, before any other note of the bar).
    assert one(H + BAR * 8)[END] == HOME_BONUS + END_AT[8]
    spaced = one(H + BAR * 7 + LAST + " ")
    assert spaced[END] == HOME_BONUS + END_AT[8] and spaced[":"] == BEST
    assert one(H + BAR * 15 + "G8")[END] == HOME_BONUS + END_AT[16]
    # Just after a repeated first part, on a new line: END_AFTER_REPEAT on top.
    a_part = H + "|:" + BAR * 7 + LAST + ":|\n"
    assert one(a_part)[END] == HOME_BONUS + END_AFTER_REPEAT + END_AT[8]
    # In 2/4 a bar is half a whole note: 8 bars of it are 8 bars, not 7.25.
    polka = one("X:1\nM:2/4\nL:1/8\nK:G\n" + "GABG|" * 7 + "GABG")
    assert polka[END] == HOME_BONUS + END_AT[8] and polka[":"] == BEST


def test_inside_a_body_field_line_only_the_home_bonus():
    # A `T:` line in the body: no bars are written there, so no shape bias.
    assert one(H + BAR * 8 + "\nT:x")[END] == HOME_BONUS


def test_sections_are_counted_from_their_own_start():
    # A 3-bar first section, then 8 bars: the second closes at 8 bars (not at 11 or 14).
    three = H + BAR * 2 + LAST + "||"
    after = one(three + BAR * 8)
    assert after["|"] == after["]"] == BEST
    full = one(three + BAR * 7 + LAST)
    assert full[":"] == BEST
    assert one(three + BAR * 6 + LAST)[":"] == OTHER


def test_the_pickups_complement_closes_a_section_only_where_it_is_no_pickup_itself():
    # A half-bar pickup `ABcd|`: a later half bar is its complement, where any bar line closes
    # a section: after 8 bars in all (the pickup and its complement make one) that is good.
    half = H + "ABcd|"
    eight = one(half + BAR * 7 + "ABcd")
    assert eight["|"] == eight[":"] == BEST
    # In the second bar (a section of one bar): discouraged, as every section under 4 bars.
    second = one(half + "ABcd")
    assert second["|"] == second[":"] == SHORT_SECTION
    # After a section bar line a half bar is a new pickup, not a complement: left alone.
    again = one(half + BAR * 7 + "ABcd||ABcd")
    assert again["|"] == again[":"] == 0.0
    # A quarter-bar pickup `D2|`: after a section bar line, a first bar of 3/4 is its
    # complement (one bar of a new section: discouraged), while `D2` there is a new pickup.
    quarter = H + "D2|" + BAR * 3 + "GABc dB||"
    complement = one(quarter + "GABc dB")
    assert complement["|"] == complement[":"] == SHORT_SECTION
    pickup = one(quarter + "D2")
    assert pickup["|"] == pickup[":"] == 0.0


def test_a_prompts_overfull_bar_ends_without_a_shape_bias():
    # Nine eighths in a 4/4 bar (only a prompt writes that): a bar line may end it, unbiased.
    over = one(H + BAR + "ABcd efga b")
    assert over["|"] == over[":"] == 0.0
    assert over["A"] == -INF


def test_the_tonic_pull_waits_for_the_second_half_of_the_bar():
    # Three eighths of bar 16 are less than half of it: no pull yet; four are half.
    assert one(H + BAR * 15 + "GAB")["G"] == 0.0
    assert one(H + BAR * 15 + "GABc")["G"] == TONIC_PULL


def test_the_home_bonus_is_the_callers():
    text = H + BAR * 7 + LAST
    assert one(text, home_bonus=2.5, shape=False)[END] == 2.5
    assert one(text, shape=False)[END] == HOME_BONUS


def test_the_factory_passes_the_cap_and_the_ending_rules_on():
    prompt = H + BAR * 9 + "GABc d"
    con = meter_aware_constraint(TOKENIZER, max_chars=CLOSING_MARGIN + 3)
    logits_for([prompt], con=con)
    row = logits_for([prompt + "BAG"], con=con)[0]
    assert {t for t, v in row.items() if v > -INF} == {END}  # closing: ends at once
    away = H + BAR * 9 + "GABc dBAB"  # ends on B, not on the tonic G
    assert one(away, con=meter_aware_constraint(TOKENIZER))[END] == -INF
    assert one(away, con=meter_aware_constraint(TOKENIZER, end_on_tonic=False))[END] == 0.0


def test_an_empty_batch_after_a_reset():
    con = MeterAwareConstraint(TOKENIZER)
    logits_for([H + LAST], con=con)
    con.reset()
    assert con(torch.zeros(0, len(VOCAB)), []).shape == (0, len(VOCAB))


def test_masks_are_kept_apart_by_vocabulary():
    # Two vocabularies in one process (two models): each constraint masks its own tokens.
    other = CharTokenizer([*SPECIALS, *sorted(CHARS, reverse=True)])
    for tokenizer in (TOKENIZER, other, TOKENIZER):
        con = MeterAwareConstraint(tokenizer, min_bars=0)
        assert set(con.allowed(scanner("X:1\nT"))) == {":"}
        assert set(con.allowed(scanner(H + "^^"))) == set("ABCDEFGabcdefg")


def test_next_chars_maps_each_prefix_to_what_may_follow():
    assert _next_chars({"ab", "ac", "b"}) == {"": "ab", "a": "bc"}
    assert _next_chars({"C|", "C"}) == {"": "C", "C": "|"}
    assert _next_chars(set()) == {}


# -- the header ---------------------------------------------------------------------------


def test_a_prompts_header_line_that_is_no_field_is_left_free():
    # `U` (a definition the grammar leaves out) and `Tx` (no `:`): nothing to add to them.
    assert allowed("X:1\nU") is None
    assert allowed("X:1\nTx") is None
    assert allowed("X:1\nT") == {":"}


def test_a_reference_number_after_a_space():
    assert allowed("X: 1") == set("0123456789\n")
    assert allowed("X: 123456") == {"\n"}


def test_only_an_r_field_naming_a_hornpipe_limits_the_meter():
    # abc2midi: "Hornpipe must be in 2/4 or 4/4 time" -- about the rhythm (R:), not a title.
    for header in ("X:1\nR:reel\nM:", "X:1\nT:The Hornpipe\nM:"):
        assert {"6", "3", "9"} <= allowed(header), header
    assert allowed("X:1\nR:hornpipe\nM:") == {" ", "2", "4", "C"}


def test_a_hornpipe_rhythm_in_another_meter_cannot_be_spelt_out():
    # After `R:Hornpip` under M:6/8 anything but the `e` (or `E`) that would make it one.
    assert allowed("X:1\nM:6/8\nR:Hornpip") == CHARS - {"e", "E"}


# -- accidentals, annotations, chord symbols --------------------------------------------------


def test_accidentals_double_only_alike():
    notes = set("ABCDEFGabcdefg")
    assert allowed(H + "^") == notes | {"^"}
    assert allowed(H + "_") == notes | {"_"}
    assert allowed(H + "^^") == allowed(H + "__") == allowed(H + "=") == notes
    # A tie's second note repeats the first one's accidentals: `^^A-|^` goes on with `^`.
    assert allowed(H + "^^A2-|^") == {"^"}
    assert allowed(H + "^^A2-|^^") == {"A"}


def test_annotations_are_short_text_on_one_line():
    # Not `%` (a comment to abc2midi, even here), `\\` (an escape), `;` (a new chord symbol)
    # or `,` (music21 fails on `"_a b,"`).
    text = CHARS - {"\n", "|", "%", "\\", ";", ","}
    assert allowed(H + '"^ab') == text
    assert allowed(H + '"^' + "a" * 28) == text  # 29 characters so far
    assert allowed(H + '"^' + "a" * 29) == {'"'}  # ANNOTATION_MAX (30): it closes


def test_chord_symbols_are_spelt_as_abc2midi_knows_them():
    assert allowed(H + '"Am7b') == {"5"}  # only m7b5
    assert allowed(H + '"C/G#') == {'"'}  # a complete name that nothing extends
    assert allowed(H + '"A') >= {'"', "m", "7", "/"}


# -- just after a bar line ----------------------------------------------------------------


def test_a_short_bar_closed_where_no_short_bar_may_end_must_grow():
    # A prompt's short bar that is neither a pickup nor its complement: its `|` may only grow
    # into a section bar line (`||`), after which a bar of any length may begin.
    assert allowed(H + BAR + "ABcd|") == {"|"}  # half a bar, not the first
    assert allowed(H + "GABc dB|") == {"|"}  # the first bar, but over half a bar
    assert "A" in allowed(H + "ABcd|")  # the first bar, half full: a pickup
    # After `||` and an empty bar `|` the next bar begins freely.
    assert {"A", "z", "["} <= allowed(H + BAR + "GABc dB|| |")


def test_first_and_second_endings_after_a_bar_line():
    # `|1` only inside a repeat, and not where the bar line must grow.
    assert "1" not in allowed(H + BAR)
    assert {"1", "|", "]", "A"} <= allowed(H + "|:" + BAR)
    assert allowed(H + "|:" + BAR + "ABcd|") == {"|"}
    # `:|` inside a repeat may grow into `:|:`, and after a first ending into `:|2`.
    assert ":" in allowed(H + "|:" + BAR + LAST + ":|")
    assert {":", "2"} <= allowed(H + "|:" + LAST + "|1 " + LAST + ":|")


# -- where a bar and the tune may end -----------------------------------------------------


def test_an_empty_bar_may_always_end_but_no_line_is_blank():
    after_line = allowed(H + BAR + "\n")
    assert "|" in after_line and "\n" not in after_line


def test_at_home_the_last_bar_may_stop_from_half_full():
    # Phrase lines complete each bar with the next line's pickup: a tune may end on the tonic
    # in a bar half full or more, not less.
    assert END in allowed(H + BAR + "ABcG")  # exactly half
    assert END in allowed(H + BAR + "ABcdG")
    assert END not in allowed(H + BAR + "ABG")


def test_no_end_while_a_repeat_opens():
    assert END not in allowed(H + BAR * 7 + LAST + "|:")
    assert END in allowed(H + BAR * 7 + LAST + "||")


# -- what follows a note, a tie, a decoration -----------------------------------------------


def test_a_tie_in_an_unfinished_bar_goes_on_to_its_note():
    assert allowed(H + "GABc dBA-") == {" ", "\n", "A"}  # (no `: see _normal_key)


def test_nothing_fits_after_a_full_bar_in_a_broken_pair_a_decoration_or_a_grace_group():
    # Only a prompt writes these: the bar is full and a note must follow.
    assert allowed(H + LAST + ">") == set()
    assert allowed(H + LAST + ".") == set()
    assert allowed(H + LAST + "{g}") == set()
    # A multi-bar rest, which the rules never write, leaves nothing to allow either.
    assert allowed(H + "Z") == set()


def test_chord_symbols_and_decorations_one_at_a_time():
    after_note = allowed(H + "G ")
    assert {'"', "!"} <= after_note
    assert not {'"', "!"} & allowed(H + '"G"')


def test_octave_marks_at_most_three():
    assert "'" in allowed(H + "c''")
    assert "'" not in allowed(H + "c'''")


def test_a_note_in_a_prompts_full_bar_stays_as_written_and_the_bar_may_end():
    after = allowed(H + LAST + "A")  # a ninth eighth in 4/4
    assert {"|", ","} <= after
    assert not after & set("0123456789/")


def test_decoration_names_as_abc2midi_knows_them():
    assert allowed(H + "!tri") == {"l"}
    assert allowed(H + "!trill(") == {"!"}
    assert allowed(H + "!trill") == {"!", "(", ")"}


def test_a_batch_mixing_free_and_masked_rows():
    # A free-meter row (nothing masked) beside a 4/4 row: each is treated as alone.
    free = "X:1\nM:none\nK:G\nGABc"
    rows = logits_for([free, H + LAST])
    assert set(rows[0].values()) == {0.0}
    assert rows[1] == one(H + LAST)
    assert rows[1]["A"] == -INF


# -- inside fields, comments, chords, brackets, `:` and `(` -----------------------------------


def test_a_body_field_line_or_comment_is_free_text_and_the_tune_may_end_after_it():
    # After a bar ending on the tonic: any character, and <end>; away from home no <end>.
    assert allowed(H + BAR + "\nT:x") == CHARS | {END}
    assert allowed(H + BAR + "% hi") == CHARS | {END}
    assert allowed(H + "GABc dBAB|\nT:x") == CHARS
    # An inline field whose value the rules do not spell: free, on one line, up to `]`.
    assert allowed(H + "[T:ab") == CHARS - {"\n", "|"}


def test_octave_marks_in_a_chord_at_most_three():
    assert "'" in allowed(H + "[c''")
    assert "'" not in allowed(H + "[c'''")


def test_a_colon_in_a_bar_makes_a_repeat_bar_line():
    assert allowed(H + "|:" + LAST + ":") == {"|", ":"}
    assert allowed(H + LAST + ":") == {"|", ":"}  # `::`: the repeat from the tune's start
    # After a repeat has closed, `::` would need a `|:` before it (abc2midi: an error).
    assert allowed(H + "|:" + LAST + ":|" + LAST + ":") == {"|"}


def test_variant_endings_and_inline_fields_after_a_bracket():
    # `[1` only inside a repeat, `[2` only after the `:|` of a first ending.
    assert {"1", "K", "M", "A"} <= allowed(H + "|:" + BAR + "[")
    assert "2" not in allowed(H + "|:" + BAR + "[")
    assert not {"1", "2"} & allowed(H + BAR + "[")
    second = allowed(H + "|:" + LAST + "|[1 " + LAST + ":|[")
    assert "2" in second and "1" not in second


def test_after_an_open_paren_a_slur_or_a_tuplet_that_fits():
    after = allowed(H + "(")
    # `((3abc)`: a slur around a tuplet; no third `(`, and none inside an open slur.
    assert {"2", "3", "4", "6", "A", "z", "("} <= after
    assert {"3", "A"} <= allowed(H + "((") and "(" not in allowed(H + "((")
    assert "(" not in allowed(H + "(A(")
