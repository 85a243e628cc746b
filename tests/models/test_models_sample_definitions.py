"""The sampler checked against the definitions of what it does, not against itself (issue 16).

* Temperature, top-k and top-p are re-implemented here from their definitions, in float64 and
  plain Python (divide the logits by T; keep the k largest; keep the smallest set of most likely
  tokens whose probability reaches p, Holtzman et al. 2020), and compared with
  `filter_logits` over a grid of all three, including the issue's case where applying the
  temperature after top-p keeps the wrong number of tokens.
* `_draw` must pick token i with probability softmax(logits)_i: checked by frequency.
* The batch loop: a constraint reads the text sampled so far, a tune the constraint leaves
  nothing to say ends, no network step is taken once every tune has ended, and a batch stopped
  before its first character is the prompt alone.

Written to kill the mutants that survived `benchmarks/mutation.py models/sample.py`; the ones
that cannot change behaviour are listed with a reason in benchmarks/mutation_equivalents.txt.
"""

from __future__ import annotations

import math
import random

import pytest
import torch

from models.sample import SamplingParams, _draw, _Texts, filter_logits, sample

# -- filters against their definitions -----------------------------------------------------------


def reference_kept(logits: list[float], temperature: float, top_k: int, top_p: float):
    """{token: logit / T} of the tokens the definitions keep, in float64."""
    scaled = {i: x / temperature for i, x in enumerate(logits)}
    if 0 < top_k < len(logits):
        # The k largest; a token tied with the k-th largest stays too.
        kth = sorted(scaled.values(), reverse=True)[top_k - 1]
        scaled = {i: x for i, x in scaled.items() if x >= kth}
    if top_p < 1.0:
        top = max(scaled.values())
        weights = {i: math.exp(x - top) for i, x in scaled.items()}
        total = sum(weights.values())
        kept, mass = {}, 0.0
        for i in sorted(weights, key=lambda i: -weights[i]):
            if mass >= top_p:
                break  # the set already reaches p: the smallest such set is complete
            kept[i] = scaled[i]
            mass += weights[i] / total
        scaled = kept
    return scaled


def mass_margin(logits: list[float], temperature: float, top_k: int, top_p: float) -> float:
    """How far any cumulative probability lies from p (float32 rounding near 0 could flip a
    boundary token, so such draws are not compared)."""
    scaled = sorted((x / temperature for x in logits), reverse=True)
    if 0 < top_k < len(scaled):
        scaled = [x for x in scaled if x >= scaled[top_k - 1]]
    weights = [math.exp(x - scaled[0]) for x in scaled]
    total, mass, margin = sum(weights), 0.0, math.inf
    for w in weights:
        mass += w / total
        margin = min(margin, abs(mass - top_p))
    return margin


def kept(row: torch.Tensor) -> dict[int, float]:
    return {i: float(x) for i, x in enumerate(row.tolist()) if x != -math.inf}


@pytest.mark.parametrize("temperature", [0.5, 1.0, 1.7])
@pytest.mark.parametrize("top_k", [0, 1, 3, 9, 12])
@pytest.mark.parametrize("top_p", [0.3, 0.8, 0.95, 1.0])
def test_filters_match_their_definitions(temperature, top_k, top_p) -> None:
    rng = random.Random(f"{temperature}-{top_k}-{top_p}")
    rows = []
    while len(rows) < 6:
        row = [rng.gauss(0.0, 2.0) for _ in range(9)]
        if top_p == 1.0 or mass_margin(row, temperature, top_k, top_p) > 1e-4:
            rows.append(row)
    logits = torch.tensor(rows, dtype=torch.float32)
    out = filter_logits(logits, temperature, top_k, top_p)
    assert out.shape == logits.shape
    for row, got in zip(logits.tolist(), out, strict=True):
        want = reference_kept(row, temperature, top_k, top_p)
        assert kept(got).keys() == want.keys()
        assert kept(got) == pytest.approx(want, rel=1e-6)


def test_the_temperature_applies_before_top_p() -> None:
    logits = torch.tensor([[2.0, 1.0, 0.0]])
    # At T = 0.5 the first token alone holds 0.867 >= 0.8; at T = 1 it holds 0.665 < 0.8.
    assert kept(filter_logits(logits, 0.5, 0, 0.8)[0]) == {0: 4.0}
    assert kept(filter_logits(logits, 1.0, 0, 0.8)[0]) == {0: 2.0, 1: 1.0}
    assert kept(filter_logits(logits, 0.5, 2, 0.8)[0]) == {0: 4.0}


def test_a_set_that_reaches_p_exactly_is_the_smallest() -> None:
    # 0.5, 0.25, 0.25 are exact in float32, so are their sums.
    logits = torch.tensor([[0.5, 0.25, 0.25]]).log()
    assert kept(filter_logits(logits, 1.0, 0, 0.5)[0]).keys() == {0}
    assert kept(filter_logits(logits, 1.0, 0, 0.75)[0]).keys() == {0, 1}
    assert kept(filter_logits(logits, 1.0, 0, 0.76)[0]).keys() == {0, 1, 2}


# -- drawing ------------------------------------------------------------------------------------


def test_draws_follow_the_softmax_probabilities() -> None:
    probs = torch.tensor([0.55, 0.25, 0.15, 0.05, 0.0])
    n = 40_000
    logits = probs.log().expand(n, -1)  # the last token is -inf: never drawn
    gen = torch.Generator().manual_seed(11)
    drawn = _draw(logits, gen)
    counts = torch.bincount(drawn, minlength=5).double()
    assert counts[4] == 0
    sigma = (probs.double() * (1 - probs.double()) / n).sqrt()
    assert torch.all((counts / n - probs.double()).abs() <= 5 * sigma + 1e-12), counts / n


# -- the batch loop -----------------------------------------------------------------------------


def ending_after(lengths: list[int], end_id: int, seen: list[list[str]]):
    """A constraint that forces tune b to end after lengths[b] characters, recording the texts
    it was shown."""

    def constraint(logits: torch.Tensor, texts) -> torch.Tensor:
        seen.append(list(texts))
        logits = logits.clone()
        for b, text in enumerate(texts):
            if len(text) - len(PROMPT) >= lengths[b]:
                logits[b] = -math.inf
                logits[b, end_id] = 0.0
        return logits

    return constraint


PROMPT = "X:1\n"


def test_the_constraint_reads_the_text_so_far_and_steps_stop_when_all_ended(
    tiny_model, folk_tokenizer
) -> None:
    model = tiny_model()
    seen: list[list[str]] = []
    lengths = [3, 11, 7]
    asked = []
    out = sample(
        model,
        folk_tokenizer,
        PROMPT,
        num=3,
        params=SamplingParams(max_chars=500, seed=5),
        constraint=ending_after(lengths, folk_tokenizer.end_id, seen),
        should_stop=lambda: asked.append(1) and False,
    )
    assert [len(t) - len(PROMPT) for t in out] == lengths
    # The constraint saw each tune grow by its last character, step by step.
    assert seen[0] == [PROMPT] * 3
    for step, texts in enumerate(seen):
        for b, text in enumerate(texts):
            assert text == out[b][: len(PROMPT) + min(step, lengths[b])]
    # 11 characters and the <end> of the longest: 12 steps, then nothing more.
    assert len(seen) == len(asked) == max(lengths) + 1


def test_a_tune_the_constraint_leaves_nothing_ends_and_the_others_go_on(
    tiny_model, folk_tokenizer
) -> None:
    end_id = folk_tokenizer.end_id

    def silence_first_after_4(logits, texts):
        logits = logits.clone()
        logits[:, end_id] = -math.inf  # no tune ends by itself
        if len(texts[0]) - len(PROMPT) >= 4:
            logits[0] = -math.inf  # nothing at all is allowed: tune 0 must end
        return logits

    streamed = ["", ""]

    def on_token(b: int, piece: str) -> None:
        streamed[b] += piece

    out = sample(
        tiny_model(),
        folk_tokenizer,
        PROMPT,
        num=2,
        params=SamplingParams(max_chars=20, seed=3),
        constraint=silence_first_after_4,
        on_token=on_token,
    )
    assert [len(t) - len(PROMPT) for t in out] == [4, 20]
    # Tune 0 ended: nothing more was streamed for it (not even a special token, which the
    # final text would hide).
    assert streamed == [t[len(PROMPT) :] for t in out]


def test_a_batch_stopped_before_its_first_character_is_the_prompt(
    tiny_model, folk_tokenizer
) -> None:
    out = sample(
        tiny_model(), folk_tokenizer, PROMPT, num=3, params=SamplingParams(seed=1),
        should_stop=lambda: True,
    )  # fmt: skip
    assert out == [PROMPT] * 3


def test_texts_shown_to_a_constraint_slice_like_a_list() -> None:
    texts = _Texts("K:G\n", [["A"], ["B", "c"], []], "".join)
    assert len(texts) == 3
    assert texts[1] == "K:G\nBc"
    assert texts[0:2] == ["K:G\nA", "K:G\nBc"]
    assert texts[::2] == ["K:G\nA", "K:G\n"]
    assert list(texts) == ["K:G\nA", "K:G\nBc", "K:G\n"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("temperature", 0.0, "temperature must be > 0, not 0.0"),
        ("top_k", -1, "top-k must be >= 0, not -1"),
        ("top_p", 0.0, r"top-p must be in \(0, 1\], not 0.0"),
        ("top_p", 1.5, r"top-p must be in \(0, 1\], not 1.5"),
        ("max_chars", 0, "the length cap must be >= 1, not 0"),
    ],
)
def test_bad_parameters_say_which_and_why(field, value, message) -> None:
    with pytest.raises(ValueError, match=message):
        SamplingParams(**{field: value}).validate()
