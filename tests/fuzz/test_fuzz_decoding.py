"""Fuzzing meter-aware decoding: random logits, real prompts, the shipped model's vocabulary.

The constraint (`workbench.notation.meter_aware`) is driven as the sampler drives it: a batch of
rows that share a prompt, random logits each step (any scale, so sometimes one token dominates
and sometimes none does), the token chosen among those it leaves. It must never raise and never
leave a row nothing to choose: the sampler would end such a tune at once, cut off mid-bar.
Prompts are real tunes from music21's collections cut at any point and prepared as the app
prepares them; mutated ones (which may put the scanner anywhere) must not crash it either. The
real sampler runs it too, with a random network over the same vocabulary.
"""

from __future__ import annotations

import functools

import torch
from fuzzing import Material, fuzz_case, fuzz_settings, mutated_text, real_tunes
from hypothesis import given
from hypothesis import strategies as st

from models.checkpoint import load_checkpoint
from models.config import ModelConfig
from models.networks import CharRNN
from models.sample import SamplingParams, sample
from models.tokenizer import CharTokenizer
from workbench.notation.meter_aware import MeterAwareConstraint
from workbench.notation.prompt import prepare_prompt

REAL = Material("real tunes", real_tunes())


@functools.cache
def shipped_tokenizer() -> CharTokenizer:
    """The shipped default model's vocabulary (109 characters, accents included)."""
    from models.pretrained import DEFAULT_CHECKPOINT

    return load_checkpoint(DEFAULT_CHECKPOINT).tokenizer


@st.composite
def real_prompt(draw) -> str:
    """A real tune's first lines (the header alone, or a few lines of music), as the app sends
    the editor's tune."""
    lines = draw(st.sampled_from(REAL.items)).split("\n")
    return prepare_prompt("\n".join(lines[: draw(st.integers(0, len(lines)))]))


@st.composite
def cut_prompt(draw) -> str:
    """A real tune cut anywhere: mid-note, inside a chord symbol, a field, a grace group."""
    text = draw(st.sampled_from(REAL.items))
    return prepare_prompt(text[: draw(st.integers(0, len(text)))])


mutated_prompt = st.builds(
    lambda t, n: prepare_prompt(t[:n]), mutated_text(REAL), st.integers(0, 400)
)


def _decode(con, tokenizer, prompt: str, batch: int, steps: int, seed: int, scale: float) -> int:
    """Drive `con` for `steps` steps (choosing the best token it leaves); return how many
    (row, step) choices found nothing left."""
    gen = torch.Generator().manual_seed(seed)
    texts = [prompt] * batch
    live = [True] * batch
    empty = 0
    for _ in range(steps):
        logits = torch.randn(batch, len(tokenizer), generator=gen) * scale
        logits[:, tokenizer.start_id] = float("-inf")  # as the sampler does before the constraint
        logits[:, tokenizer.unk_id] = float("-inf")
        out = con(logits, list(texts))
        assert out.shape == logits.shape and not torch.isnan(out).any()
        for b in range(batch):
            if not live[b]:
                continue
            finite = torch.isfinite(out[b])
            if not finite.any():
                empty += 1
                live[b] = False
                continue
            choice = int(torch.where(finite, out[b], float("-inf")).argmax())
            if choice == tokenizer.end_id:
                live[b] = False
            else:
                texts[b] += tokenizer.vocab[choice]
        if not any(live):
            break
    return empty


decode_args = {
    "batch": st.integers(1, 3),
    "seed": st.integers(0, 2**31),
    "scale": st.sampled_from([0.1, 1.0, 3.0, 10.0, 50.0]),
    "max_chars": st.sampled_from([None, 30, 120, 400]),
    "end_on_tonic": st.booleans(),
}


@fuzz_settings(0.4)
@given(prompt=st.one_of(st.just(""), real_prompt()), **decode_args)
@fuzz_case
def test_random_logits_after_real_prompts(prompt, batch, seed, scale, max_chars, end_on_tonic):
    """After a real tune's lines the rules themselves always leave something to write: they
    never fall back to leaving a row unmasked."""
    tokenizer = shipped_tokenizer()
    con = MeterAwareConstraint(tokenizer, max_chars=max_chars, end_on_tonic=end_on_tonic)
    assert _decode(con, tokenizer, prompt, batch, 120, seed, scale) == 0
    assert con.unmasked_rows == 0


@fuzz_settings(0.4)
@given(prompt=st.one_of(cut_prompt(), mutated_prompt), **decode_args)
@fuzz_case
def test_random_logits_after_any_prompt(prompt, batch, seed, scale, max_chars, end_on_tonic):
    """Any prompt, even one that leaves the scanner where the rules allow nothing: the
    constraint never raises and always leaves each row a token."""
    tokenizer = shipped_tokenizer()
    con = MeterAwareConstraint(tokenizer, max_chars=max_chars, end_on_tonic=end_on_tonic)
    assert _decode(con, tokenizer, prompt, batch, 60, seed, scale) == 0


@functools.cache
def _random_network(seed: int) -> CharRNN:
    torch.manual_seed(seed)
    cfg = ModelConfig(arch="gru", hidden=16, layers=1, embedding=8, dropout=0.0)
    return CharRNN(cfg, len(shipped_tokenizer())).eval()


@fuzz_settings(0.1)
@given(
    prompt=st.one_of(real_prompt(), cut_prompt(), mutated_prompt),
    seed=st.integers(0, 2**31),
    net=st.integers(0, 2),
    temperature=st.sampled_from([0.1, 1.0, 2.0]),
)
@fuzz_case
def test_the_sampler_with_the_constraint(prompt, seed, net, temperature):
    """Through `models.sample.sample`: tunes come back, one per row, each continuing its
    prompt, whatever the constraint did."""
    tokenizer = shipped_tokenizer()
    params = SamplingParams(temperature=temperature, max_chars=80, seed=seed)
    con = MeterAwareConstraint(tokenizer, max_chars=params.max_chars)
    tunes = sample(_random_network(net), tokenizer, prompt, 2, params, constraint=con)
    assert len(tunes) == 2
    assert all(t.startswith(prompt) and len(t) <= len(prompt) + 80 for t in tunes)


# -- regressions: prompts the fuzzing found that left nothing to write ---------------------------

H = "X:1\nM:2/4\nL:1/8\nK:G\n"


def _allowed(prompt: str) -> set[str]:
    """What the constraint lets the sampler write first after `prompt` (one row, all logits
    equal)."""
    tokenizer = shipped_tokenizer()
    con = MeterAwareConstraint(tokenizer, min_bars=0)
    out = con(torch.zeros(1, len(tokenizer)), [prompt])[0]
    return {tokenizer.vocab[i] for i in torch.isfinite(out).nonzero().flatten().tolist()}


def test_an_overfull_bar_in_the_prompt_may_end():
    """Found by fuzzing: after a prompt whose last bar is too long (`ABcde` in 2/4) nothing
    was allowed once the note's octave marks ran out, so the tune ended with the prompt. The
    bar may now end, and the next bar is measured as usual."""
    assert "|" in _allowed(H + "ABcde")
    assert "|" in _allowed(H + "A4 B")
    assert {"A", "z", "["} <= _allowed(H + "ABcde |")  # `|` closed it: the next bar begins


def test_a_prompt_the_rules_cannot_read_is_continued_unmasked():
    """Found by fuzzing: inside a chord symbol the rules do not know (`"S`), an inline field
    they cannot read (`[M:A`) or a body line starting with `N`, nothing was allowed. The row is
    left unmasked for that step instead (and counted)."""
    tokenizer = shipped_tokenizer()
    for tail in ('"S', "[M:A", "AB|\nN"):
        con = MeterAwareConstraint(tokenizer, min_bars=0)
        out = con(torch.zeros(1, len(tokenizer)), [H + tail])[0]
        assert torch.isfinite(out).sum() >= len(tokenizer) - 3, tail  # all but the specials
        assert con.unmasked_rows == 1
