"""Meter-aware decoding's shape bias: sections of 8 or 16 bars, tunes that end at 8, 16... bars.

The bias is read off the logits the constraint returns for all-zero logits: 0 where it adds
nothing, -inf where a token is masked, and the bias itself elsewhere.
"""

from __future__ import annotations

import torch
from meter_aware_kit import BAR, LAST, TOKENIZER, H

from workbench.notation.meter_aware import (
    HOME_BONUS,
    LATE_FROM,
    TONIC_PULL,
    MeterAwareConstraint,
)

END = "<end>"


def biased(text: str | list[str], **kwargs) -> list[dict[str, float]]:
    """The constraint's logits (from zeros) for each text, by token."""
    texts = [text] if isinstance(text, str) else text
    con = MeterAwareConstraint(TOKENIZER, **kwargs)
    out = con(torch.zeros(len(texts), len(TOKENIZER)), texts)
    return [dict(zip(TOKENIZER.vocab, row.tolist(), strict=True)) for row in out]


def end_after(bars: int, last: str = LAST) -> float:
    """<end>'s logit after `bars` full bars, the last one unclosed and ending on `last`."""
    return biased(H + BAR * (bars - 1) + last)[0][END]


def test_end_is_all_but_taken_at_16_bars_at_home():
    ends = {n: end_after(n) for n in range(8, 34)}
    # At 16 bars the bonus is nearly a rule (the model's own p(<end>) there is ~0.001).
    assert ends[16] >= 8
    # Whole 8-bar and 4-bar phrases are favoured over other even lengths, odd ones discouraged.
    assert ends[16] > ends[8] >= ends[12] > ends[10] > 0 > ends[9]
    assert all(ends[n] < 0 for n in (9, 11, 13, 15, 17, 19)), ends
    # Past LATE_FROM bars the pressure to end grows with every bar, odd or not.
    late = [ends[n] for n in range(LATE_FROM + 1, 34, 2)]
    assert late == sorted(late) and late[-1] > ends[12]
    # Away from home the tune cannot end at all, however many bars it has.
    assert end_after(16, "GABc dBAB") == float("-inf")
    # A plain bar line is left as the model has it.
    assert biased(H + BAR * 15 + LAST)[0]["|"] == 0.0


def test_a_section_closes_after_8_bars_not_after_7():
    # Inside a repeat: the `:` of `:|` at the end of the 8th bar, not the 7th.
    repeat = H + "|:" + BAR * 7 + LAST
    assert biased(repeat)[0][":"] > 0
    assert biased(H + "|:" + BAR * 6 + LAST)[0][":"] < 0
    # 4 bars: discouraged less than 7 (real dance tunes close a 4-bar section a third as often
    # as an 8-bar one, and a 7-bar one hardly ever).
    four = biased(H + "|:" + BAR * 3 + LAST)[0][":"]
    assert biased(H + "|:" + BAR * 6 + LAST)[0][":"] < four < 0
    # After a plain `|`: it may grow into `||`, `|]` or (at the start of a line) `|:`, a
    # section's end.
    after8, after7 = biased([H + BAR * 8, H + BAR * 7])
    for token in "|]":
        assert after8[token] > 0 and after7[token] < 0, token
    line8, line7 = biased([H + BAR * 7 + LAST + "\n|", H + BAR * 6 + LAST + "\n|"])
    assert line8[":"] > 0 and line7[":"] < 0


def test_a_repeated_first_section_is_not_the_whole_tune():
    # `|: A :|` at home after 8 bars: the B part comes (2 of 1,200 training tunes are one
    # repeated section), while the same 8 bars closed by `||` or `|]` may end the tune.
    a_part = H + "|:" + BAR * 7 + LAST + ":|"
    repeated, double, final = biased([a_part, H + BAR * 8 + "|", H + BAR * 8 + "]"])
    assert repeated[END] < 0 < double[END]
    assert final[END] > 0
    # Just after it, on a new line or inside the first bar of the B part, still no end.
    assert biased(a_part + "\n")[0][END] < 0
    # Once the B part is played, the tune ends at 16 bars as usual, repeated or not.
    whole = a_part + "\n|:" + BAR * 7 + LAST + ":|\n"
    assert biased(whole)[0][END] >= 8
    # Without the ending rules, no shape: <end> is left as the model has it.
    assert biased(a_part, end_on_tonic=False)[0][END] == 0.0


def test_bars_are_counted_per_section():
    # A 4-bar section, then 8 more bars: the second section closes at 12 bars in all.
    text = H + BAR * 3 + LAST + "||" + BAR * 8
    assert biased(text)[0]["|"] > 0
    assert biased(H + BAR * 3 + LAST + "||" + BAR * 7)[0]["|"] < 0
    # The same counted step by step, as the sampler calls the constraint.
    con = MeterAwareConstraint(TOKENIZER)
    logits = torch.zeros(1, len(TOKENIZER))
    for n in range(len(H), len(text) + 1):
        out = con(logits, [text[:n]])
    assert out[0, TOKENIZER.vocab.index("|")] == biased(text)[0]["|"]


def test_a_pickup_complement_closes_no_section_of_two_bars():
    # After the pickup `D2`, a bar of 6/8 may only end with a section bar line (`|` must grow
    # into `||`): after 2 bars that would be a section of 2, after 8 bars one of 8.
    short = biased(H + "D2|" + BAR + "GABc dB")[0]
    assert short["|"] < 0 and short[":"] < 0
    whole = biased(H + "D2|" + BAR * 7 + "GABc dB")[0]
    assert whole["|"] > 0
    # The pickup itself is no section: after it, `|` is left alone.
    assert biased(H + "D2")[0]["|"] == 0.0


def test_the_tonic_is_pulled_for_where_16_bars_end():
    second_half = biased(H + BAR * 15 + "GABc ")[0]
    assert second_half["G"] == second_half["g"] == TONIC_PULL
    assert second_half["A"] == 0.0 and second_half["d"] == 0.0
    assert biased(H + BAR * 15 + "GA")[0]["G"] == 0.0  # the first half of the bar
    assert biased(H + BAR * 13 + "GABc ")[0]["G"] == 0.0  # bar 14
    # In D the pull is for D; past LATE_FROM bars, in every bar.
    in_d = "X:1\nM:4/4\nL:1/8\nK:D\n"
    late = biased(in_d + "DEFA dAFD|" * (LATE_FROM + 2) + "DEFA ")[0]
    assert late["D"] == late["d"] == TONIC_PULL and late["G"] == 0.0


def test_rows_are_biased_each_by_its_own_tune():
    texts = [H + BAR * 15 + LAST, H + BAR * 14 + LAST, H + "|:" + BAR * 7 + LAST]
    rows = biased(texts)
    for text, row in zip(texts, rows, strict=True):
        alone = biased(text)[0]
        assert row == alone
    assert rows[0][END] > rows[1][END]


def test_the_bias_goes_with_the_ending_rules():
    text = H + BAR * 15 + LAST
    # --no-end-on-tonic (the GUI's switch): masks only, every allowed token as the model has it.
    off = biased(text, end_on_tonic=False)[0]
    assert {v for v in off.values() if v != float("-inf")} == {0.0}
    assert biased(H + "|:" + BAR * 7 + LAST, end_on_tonic=False)[0][":"] == 0.0
    # shape=False keeps the flat <end> bonus at home and drops the rest.
    flat = biased(text, shape=False)[0]
    assert flat[END] == HOME_BONUS
    assert biased(H + "|:" + BAR * 7 + LAST, shape=False)[0][":"] == 0.0
    assert biased(H + BAR * 15 + "GABc ", shape=False)[0]["G"] == 0.0
