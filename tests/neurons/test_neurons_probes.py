"""Probes over ABC text and neuron rankings, down to a network with a neuron planted by hand.

The planted network is a real CharRNN (LSTM, one-hot input) whose unit 3 is wired as a
flip-flop on the `"` character: its cell is rewritten only when a quote is read, to +1 when the
unit was low and -1 when it was high. Captured on a real Ryan's Mammoth tune full of `"…"`
symbols, the chord probe must rank that unit first among all the network's random units.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.activations import capture
from models.config import ModelConfig
from models.networks import CharRNN
from models.tokenizer import CharTokenizer
from workbench.corpus import load
from workbench.neurons.probes import (
    PROBES,
    ProbeError,
    after_bar_mask,
    bar_position,
    body_start,
    chord_mask,
    header_mask,
    line_start_mask,
    rank_neurons,
    repeat_mask,
    run_probe,
    sort_units,
    span_mask,
)

TUNE = 'X:1\nT:Test\nM:6/8\nK:G\nAB|:"G"GAB "D7"cde|fga bag:|\nabc|def||\n'


def _marks(target: np.ndarray) -> str:
    return "".join("#" if v > 0.5 else "." for v in target)


def test_header_and_body_split_at_the_k_line():
    assert body_start(TUNE) == TUNE.index("AB|")
    assert _marks(header_mask(TUNE)) == "#" * body_start(TUNE) + "." * (
        len(TUNE) - body_start(TUNE)
    )


def test_chord_mask_covers_opening_quote_to_before_the_closing_one():
    marks = _marks(chord_mask(TUNE))
    i = TUNE.index('"G"')
    assert marks[i : i + 3] == "##."
    j = TUNE.index('"D7"')
    assert marks[j : j + 4] == "###."
    assert marks.count("#") == 5
    # Quotes in the header (a title in quotes) are not chord symbols.
    assert chord_mask('T:"Quoted"\nK:G\nAB|\n').sum() == 0


def test_after_bar_marks_the_last_character_of_each_bar_line():
    marks = _marks(after_bar_mask(TUNE))
    hits = [i for i, m in enumerate(marks) if m == "#"]
    assert [TUNE[i] for i in hits] == [":", "|", "|", "|", "|"]
    assert TUNE[hits[0] - 1 : hits[0] + 1] == "|:" and TUNE[hits[-1] - 1 : hits[-1] + 1] == "||"
    # A bar line inside a chord symbol's text is not a bar line.
    assert after_bar_mask('K:G\n"A|B"cd|\n').sum() == 1


def test_line_start_marks_newlines():
    assert np.flatnonzero(line_start_mask(TUNE)).tolist() == [
        i for i, ch in enumerate(TUNE) if ch == "\n"
    ]


def test_repeat_from_open_to_close_and_implicit_start():
    marks = _marks(repeat_mask(TUNE))
    start, end = TUNE.index("|:"), TUNE.index(":|") + 2
    assert marks == "." * start + "#" * (end - start) + "." * (len(TUNE) - end)
    implicit = "K:D\nAB|cd:|ef|\n"
    assert _marks(repeat_mask(implicit)) == "....#######...."


def test_bar_position_runs_from_zero_within_each_bar():
    pos = bar_position(TUNE)
    assert np.isnan(pos[: body_start(TUNE)]).all()
    first = TUNE.index("fga")
    bar = "fga bag"
    np.testing.assert_allclose(pos[first : first + len(bar)], np.arange(len(bar)) / len(bar))
    # A bar after a line break starts at the line's first character.
    abc = TUNE.index("abc|")
    np.testing.assert_allclose(pos[abc : abc + 3], [0, 1 / 3, 2 / 3])


def test_ranking_finds_planted_activations_with_signed_scores():
    rng = np.random.default_rng(0)
    target = chord_mask(TUNE)
    acts = rng.normal(size=(len(TUNE), 40)).astype(np.float32)
    acts[:, 17] += 3 * target  # high inside chords
    acts[:, 5] -= 2 * target  # low inside chords: ranked by |d| too
    ranking = rank_neurons(acts, target)
    assert ranking.method == "cohen_d"
    assert set(ranking.order[:2].tolist()) == {17, 5}
    assert ranking.scores[17] > 0 > ranking.scores[5]
    # A continuous target ranks by correlation.
    pos = bar_position(TUNE)
    acts[:, 30] = np.nan_to_num(pos) * 5
    by_pos = rank_neurons(acts, pos)
    assert by_pos.method == "pearson_r" and by_pos.order[0] == 30
    assert by_pos.scores[30] == pytest.approx(1.0)


def test_span_search_and_sorting():
    rng = np.random.default_rng(1)
    acts = rng.normal(size=(len(TUNE), 20))
    span = span_mask(len(TUNE), 30, 40)
    acts[30:40, 9] += 4
    assert rank_neurons(acts, span).order[0] == 9
    acts[:, 2] *= 10
    assert sort_units(acts, "variance")[0] == 2
    assert sort_units(acts, "correlation", reference=acts[:, 9])[0] == 9
    assert sort_units(acts, "index").tolist() == list(range(20))
    with pytest.raises(ProbeError):
        sort_units(acts, "correlation")
    with pytest.raises(ProbeError):
        rank_neurons(acts, np.ones(len(TUNE)))  # nothing outside the span


@pytest.fixture(scope="module")
def chord_tune() -> str:
    tunes = load(["corpus:ryansMammoth"]).tunes
    tune = next(t.text for t in tunes if t.source.endswith("7thRegimentReel.abc"))
    assert tune.count('"') >= 40
    return tune


def _planted_lstm(tokenizer: CharTokenizer, unit: int, hidden: int = 24) -> CharRNN:
    torch.manual_seed(0)
    model = CharRNN(
        ModelConfig(arch="lstm", hidden=hidden, layers=1, embedding=0, dropout=0), len(tokenizer)
    )
    q = tokenizer.vocab.index('"')
    rows = {gate: gate * hidden + unit for gate in range(4)}  # torch's gate order: i, f, g, o
    with torch.no_grad():
        w_ih, w_hh = model.rnn.weight_ih_l0, model.rnn.weight_hh_l0
        b_ih, b_hh = model.rnn.bias_ih_l0, model.rnn.bias_hh_l0
        for row in rows.values():
            w_ih[row] = 0.0
            w_hh[row] = 0.0
            b_hh[row] = 0.0
        # Input gate shut and forget gate open, except on a quote, which swaps the cell.
        b_ih[rows[0]], w_ih[rows[0], q] = -10.0, 20.0
        b_ih[rows[1]], w_ih[rows[1], q] = 10.0, -20.0
        # The candidate is +1 when the unit was low, -1 when it was high: a toggle.
        b_ih[rows[2]] = 5.0
        w_hh[rows[2], unit] = -13.0
        b_ih[rows[3]] = 10.0  # output gate open
    return model.eval()


def test_chord_probe_ranks_a_planted_quote_neuron_first(chord_tune):
    tokenizer = CharTokenizer.fit([chord_tune])
    model = _planted_lstm(tokenizer, unit=3)
    acts = capture(model, tokenizer, chord_tune)
    hidden = acts["layer0.hidden"]
    inside = chord_mask(chord_tune) > 0.5
    # The planted unit really fires inside quotes and nowhere else in the body.
    body = np.zeros(len(chord_tune), dtype=bool)
    body[body_start(chord_tune) :] = True
    assert (hidden[inside, 3] > 0.5).all()
    assert (hidden[body & ~inside, 3] < 0.1).all()
    for kind in ("hidden", "cell"):
        ranking = run_probe("chord", chord_tune, acts[f"layer0.{kind}"])
        assert ranking.order[0] == 3
        assert ranking.scores[3] > 2 * abs(ranking.scores[ranking.order[1]])


def test_every_builtin_probe_runs_on_a_real_tune(chord_tune):
    rng = np.random.default_rng(2)
    acts = rng.normal(size=(len(chord_tune), 8))
    for name, probe in PROBES.items():
        target = probe.target(chord_tune)
        assert target.shape == (len(chord_tune),)
        ranking = run_probe(name, chord_tune, acts)
        assert sorted(ranking.order.tolist()) == list(range(8)), name
