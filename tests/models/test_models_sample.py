"""Sampling: seeds, greedy decoding, logit filters, prompts, caps, constraints and callbacks."""

from __future__ import annotations

import math

import pytest
import torch

from models.sample import SamplingParams, filter_logits, sample
from models.tokenizer import CharTokenizer

PROMPT = "X:1\nT:"


@pytest.fixture
def model(tiny_model):
    """A random model that, like a trained one, never prefers <start> or <unk>."""
    m = tiny_model("lstm", seed=5)
    with torch.no_grad():
        m.head.weight.mul_(8)  # sharper distributions, so greedy decoding is well defined
        m.head.bias[0] = -20.0
        m.head.bias[2] = -20.0
    return m


def greedy(model, tok: CharTokenizer, prompt: str, max_chars: int) -> str:
    """Greedy decoding by hand, one character at a time, re-reading nothing."""
    ids = torch.as_tensor(tok.encode(prompt, start=True))[None]
    out = []
    with torch.no_grad():
        logits, state = model(ids)
        for _ in range(max_chars):
            nxt = int(logits[0, -1].argmax())
            if nxt == tok.end_id:
                break
            assert nxt not in (tok.start_id, tok.unk_id)
            out.append(tok.vocab[nxt])
            logits, state = model(torch.tensor([[nxt]]), state)
    return prompt + "".join(out)


def test_same_seed_same_tunes_other_seed_other_tunes(model, folk_tokenizer) -> None:
    def run(seed: int) -> list[str]:
        params = SamplingParams(max_chars=60, seed=seed)
        return sample(model, folk_tokenizer, PROMPT, num=3, params=params)

    a = run(1)
    assert a == run(1)
    assert a != run(2)
    assert len(set(a)) == 3  # the tunes of one batch differ from each other


@pytest.mark.parametrize("seed", [3, None])
def test_sampling_does_not_touch_the_global_rng(model, folk_tokenizer, seed) -> None:
    """The trainer samples at every evaluation and relies on it not disturbing the training
    RNG. Found bug: with seed=None, `sample` calls `torch.seed()`, which re-seeds torch's
    global generator with a random seed."""
    torch.manual_seed(0)
    before = torch.get_rng_state()
    out = sample(model, folk_tokenizer, "", num=2, params=SamplingParams(max_chars=20, seed=seed))
    assert len(out) == 2
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("prompt", ["", PROMPT, "X:1\nM:6/8\nK:G\n"])
def test_top_k_1_is_greedy_decoding(model, folk_tokenizer, prompt: str) -> None:
    expected = greedy(model, folk_tokenizer, prompt, 80)
    got = sample(
        model, folk_tokenizer, prompt, num=2, params=SamplingParams(top_k=1, max_chars=80, seed=9)
    )
    assert got == [expected, expected]
    # Very low temperature is greedy too, and so is a tiny nucleus.
    cold = SamplingParams(temperature=1e-4, max_chars=80, seed=4)
    assert sample(model, folk_tokenizer, prompt, params=cold) == [expected]
    tiny_p = SamplingParams(top_p=1e-6, max_chars=80, seed=4)
    assert sample(model, folk_tokenizer, prompt, params=tiny_p) == [expected]


def test_filter_top_k_and_temperature() -> None:
    logits = torch.tensor([[1.0, 4.0, 3.0, 2.0], [0.5, -1.0, 2.0, 1.5]])
    assert torch.equal(filter_logits(logits, 2.0, 0, 1.0), logits / 2)
    out = filter_logits(logits, 1.0, 2, 1.0)
    inf = -math.inf
    assert out.tolist() == [[inf, 4.0, 3.0, inf], [inf, inf, 2.0, 1.5]]
    # top_k at or above the vocabulary size keeps everything.
    assert torch.equal(filter_logits(logits, 1.0, 4, 1.0), logits)


def test_filter_top_p_keeps_smallest_set_reaching_p() -> None:
    probs = torch.tensor([0.15, 0.5, 0.05, 0.3])  # order: 1, 3, 0, 2
    logits = probs.log()[None]
    inf = -math.inf

    def kept(p: float) -> set[int]:
        out = filter_logits(logits, 1.0, 0, p)[0]
        assert torch.all(out[torch.isfinite(out)] == logits[0][torch.isfinite(out)])
        return {i for i in range(4) if out[i] != inf}

    assert kept(0.1) == {1}  # the top token always stays
    assert kept(0.5 - 1e-4) == {1}
    assert kept(0.6) == {1, 3}
    assert kept(0.75) == {1, 3}
    assert kept(0.85) == {1, 3, 0}
    assert kept(0.97) == {0, 1, 2, 3}
    assert kept(1.0) == {0, 1, 2, 3}
    # Rows are filtered independently.
    two = torch.stack([probs.log(), probs.flip(0).log()])
    out = filter_logits(two, 1.0, 0, 0.75)
    assert torch.isfinite(out).tolist() == [
        [False, True, False, True],
        [True, False, True, False],
    ]


def test_output_starts_with_prompt_and_respects_max_chars(model, folk_tokenizer) -> None:
    def no_end(logits, texts):
        logits = logits.clone()
        logits[:, folk_tokenizer.end_id] = -math.inf
        return logits

    for cap in (1, 17):
        params = SamplingParams(max_chars=cap, seed=1)
        out = sample(model, folk_tokenizer, PROMPT, num=3, params=params, constraint=no_end)
        assert all(t.startswith(PROMPT) for t in out)
        # <end> forbidden: exactly `cap` characters each.
        assert [len(t) - len(PROMPT) for t in out] == [cap] * 3
        capped = sample(model, folk_tokenizer, PROMPT, num=3, params=params)
        assert all(t.startswith(PROMPT) and len(t) - len(PROMPT) <= cap for t in capped)


def test_a_forbidden_character_never_appears(model, folk_tokenizer) -> None:
    params = SamplingParams(max_chars=150, seed=2, temperature=1.5)
    free = "".join(sample(model, folk_tokenizer, "", num=4, params=params))
    banned = max(set(free), key=free.count)  # the commonest character when unconstrained
    banned_id = folk_tokenizer.vocab.index(banned)
    seen_texts = []

    def forbid(logits, texts):
        assert logits.shape == (4, len(folk_tokenizer))
        seen_texts.append(list(texts))
        logits = logits.clone()
        logits[:, banned_id] = -math.inf
        return logits

    out = sample(model, folk_tokenizer, "", num=4, params=params, constraint=forbid)
    assert not any(banned in t for t in out)
    assert sum(len(t) for t in out) > 100
    # The constraint sees the text generated so far.
    assert seen_texts[0] == [""] * 4
    assert all(len(t) <= 150 for t in seen_texts[-1])


def test_should_stop_and_on_token(model, folk_tokenizer) -> None:
    calls = []
    pieces: dict[int, list[str]] = {0: [], 1: []}

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 12

    def on_token(index: int, piece: str) -> None:
        pieces[index].append(piece)

    def no_end(logits, texts):
        logits = logits.clone()
        logits[:, folk_tokenizer.end_id] = -math.inf
        return logits

    params = SamplingParams(max_chars=500, seed=6)
    out = sample(
        model,
        folk_tokenizer,
        PROMPT,
        num=2,
        params=params,
        constraint=no_end,
        should_stop=stop,
        on_token=on_token,
    )
    assert [len(t) - len(PROMPT) for t in out] == [12, 12]
    for i in (0, 1):
        assert PROMPT + "".join(pieces[i]) == out[i]


def test_on_token_streams_every_character_until_end(model, folk_tokenizer) -> None:
    order: list[tuple[int, str]] = []
    params = SamplingParams(max_chars=300, seed=8, temperature=1.2)
    out = sample(
        model, folk_tokenizer, "", num=3, params=params, on_token=lambda i, c: order.append((i, c))
    )
    for i in range(3):
        assert "".join(c for j, c in order if j == i) == out[i]
    assert all(len(c) == 1 for _, c in order)  # never <end> or another special


def test_bad_parameters_are_refused(model, folk_tokenizer) -> None:
    for params in (
        SamplingParams(temperature=0),
        SamplingParams(top_k=-1),
        SamplingParams(top_p=0.0),
        SamplingParams(top_p=1.5),
        SamplingParams(max_chars=0),
    ):
        with pytest.raises(ValueError):
            sample(model, folk_tokenizer, params=params)


def test_a_negative_least_length_is_refused_by_name(model, folk_tokenizer) -> None:
    with pytest.raises(ValueError, match="least length must be >= 0, not -1"):
        sample(model, folk_tokenizer, params=SamplingParams(min_chars=-1))
    # 0 is allowed (the model may end at once), and is the default.
    assert SamplingParams().min_chars == 0
    sample(model, folk_tokenizer, params=SamplingParams(min_chars=0, max_chars=3, seed=1))


@pytest.mark.parametrize("top_k", [0, 1])
def test_no_end_before_min_chars_even_where_the_model_wants_it_most(
    tiny_model, folk_tokenizer, top_k: int
) -> None:
    """A model whose every next token is most likely <end> (as a MIDI model's is, at times)
    writes exactly min_chars tokens when max_chars is the same, and ends at once without it."""
    m = tiny_model("lstm", seed=5)
    with torch.no_grad():
        m.head.bias[folk_tokenizer.end_id] = 8.0
    free = sample(m, folk_tokenizer, "", 8, SamplingParams(max_chars=40, seed=3, top_k=top_k))
    assert sum(len(t) for t in free) < 8  # nearly every tune ends at its first step
    held = SamplingParams(max_chars=40, min_chars=40, seed=3, top_k=top_k)
    assert [len(t) for t in sample(m, folk_tokenizer, "", 8, held)] == [40] * 8
    # After min_chars the model's own end comes back: at once, nearly always.
    early = SamplingParams(max_chars=40, min_chars=10, seed=3, top_k=top_k)
    lengths = [len(t) for t in sample(m, folk_tokenizer, "", 8, early)]
    assert min(lengths) == 10 and sum(lengths) < 8 * 10 + 8


def test_training_mode_is_restored(model, folk_tokenizer) -> None:
    model.train()
    sample(model, folk_tokenizer, params=SamplingParams(max_chars=5, seed=0))
    assert model.training


def test_sampling_restores_the_thread_count(model, folk_tokenizer) -> None:
    torch.set_num_threads(2)
    try:
        sample(model, folk_tokenizer, params=SamplingParams(max_chars=5, seed=0))
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError, match="stop"):

            def boom() -> bool:
                raise RuntimeError("stop")

            sample(model, folk_tokenizer, params=SamplingParams(max_chars=5), should_stop=boom)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


# -- found bugs: top-k/top-p run before the constraint and the <start>/<unk> masks ------------
# If every token the filter kept is then masked, the row is all -inf. For the <start>/<unk>
# masks, softmax gives NaN and `_draw`'s argmax picks id 0 (<start>) every step: it is fed back
# to the model and dropped by decode, so the tune comes out empty or silently corrupted (before
# the exponential-race sampler, torch.multinomial raised). For a constraint, the row is treated
# as "dead" and the tune is ended although the constraint forbade only one character.


def test_top_k_when_the_model_prefers_a_special_token(tiny_model, folk_tokenizer) -> None:
    """A model whose favourite next token is <unk> (e.g. fine-tuned on text with unknown
    characters): top-k keeps only <unk>, which the sampler then masks."""
    m = tiny_model("lstm", seed=5)
    with torch.no_grad():
        m.head.bias[folk_tokenizer.unk_id] = 50.0
    params = SamplingParams(top_k=1, max_chars=20, seed=0)
    out = sample(m, folk_tokenizer, PROMPT, params=params)
    # Expected: greedy among the tokens it may emit.
    with torch.no_grad():
        m.head.bias[folk_tokenizer.unk_id] = -50.0
    assert out == [greedy(m, folk_tokenizer, PROMPT, 20)]


def test_constraint_forbidding_the_top_k_choice(model, folk_tokenizer) -> None:
    """The meter-aware decoder forbids e.g. a bar line where it would break the bar; with
    top_k=1 (or a small nucleus) the only kept token may be the forbidden one."""
    first = greedy(model, folk_tokenizer, PROMPT, 1)[len(PROMPT)]
    banned_id = folk_tokenizer.vocab.index(first)

    def forbid(logits, texts):
        logits = logits.clone()
        logits[:, banned_id] = -math.inf
        return logits

    for params in (
        SamplingParams(top_k=1, max_chars=30, seed=0),
        SamplingParams(top_p=1e-6, max_chars=30, seed=0),
    ):
        out = sample(model, folk_tokenizer, PROMPT, params=params, constraint=forbid)
        assert first not in out[0][len(PROMPT) :]
        assert len(out[0]) > len(PROMPT)


def test_no_prompt_is_the_empty_prompt_and_a_named_device_is_used(model, folk_tokenizer) -> None:
    # The defaults a caller leaves out: no prompt is "" (the model writes the header too), and
    # a device named as a string is that device (here the model's own, the CPU).
    params = SamplingParams(seed=3, max_chars=40)
    default = sample(model, folk_tokenizer, num=2, params=params)
    explicit = sample(model, folk_tokenizer, "", 2, params, device="cpu")
    assert default == explicit
