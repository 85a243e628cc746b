"""Evaluation: exact values on a uniform model, agreement with a by-hand computation, batching."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from models.evaluate import EvalResult, evaluate


def test_uniform_model_costs_ln_v_per_char(tiny_model, folk_texts, folk_tokenizer) -> None:
    model = tiny_model("lstm")
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    texts = folk_texts[:12]
    tunes = [folk_tokenizer.encode_tune(t) for t in texts]
    result = evaluate(model, tunes)
    v = len(folk_tokenizer)
    assert result.chars == sum(len(t) + 1 for t in texts)
    # ln(V) up to float32 rounding of the per-token losses and their sum (~1e-6 measured).
    assert result.loss_nats_per_char == pytest.approx(math.log(v), abs=1e-5)
    assert result.bits_per_char == pytest.approx(math.log2(v), abs=1e-5)
    # Ties go to id 0 (<start>), which is never a target.
    assert result.accuracy == 0.0
    d = result.to_dict()
    assert d["chars"] == result.chars and d["bits_per_char"] == result.bits_per_char


def by_hand(model, tunes) -> tuple[float, float, int]:
    """Each tune alone, from a zero state, in one forward pass."""
    loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for t in tunes:
            x = torch.as_tensor(t[:-1])[None]
            y = torch.as_tensor(t[1:])
            logits, _ = model(x)
            loss += float(F.cross_entropy(logits[0], y, reduction="sum"))
            correct += int((logits[0].argmax(-1) == y).sum())
            count += len(y)
    return loss / count, correct / count, count


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_matches_by_hand_and_ignores_batching(arch, tiny_model, folk_ids) -> None:
    model = tiny_model(arch, seed=3)
    tunes = folk_ids[20:30]
    loss, acc, count = by_hand(model, tunes)
    settings = [(32768, 1024), (1500, 7), (1, 100), (4000, 333)]
    for max_tokens, time_chunk in settings:
        r = evaluate(model, tunes, max_tokens=max_tokens, time_chunk=time_chunk)
        assert r.chars == count
        assert r.loss_nats_per_char == pytest.approx(loss, abs=1e-5), (max_tokens, time_chunk)
        assert r.accuracy == pytest.approx(acc, abs=1e-9), (max_tokens, time_chunk)


def test_restores_training_mode_and_handles_no_tunes(tiny_model, folk_ids) -> None:
    model = tiny_model("lstm").train()
    evaluate(model, folk_ids[:2])
    assert model.training
    empty = evaluate(model, [])
    assert empty.chars == 0 and math.isnan(empty.loss_nats_per_char)
    assert math.isnan(empty.accuracy)  # no predictions: no accuracy either, not 0 or None
    assert isinstance(empty, EvalResult)


def test_result_as_plain_data() -> None:
    # 2 ln 2 nats a character is exactly 2 bits.
    result = EvalResult(loss_nats_per_char=2 * math.log(2), accuracy=0.25, chars=8)
    assert result.to_dict() == {
        "loss_nats_per_char": 2 * math.log(2),
        "bits_per_char": pytest.approx(2.0),
        "accuracy": 0.25,
        "chars": 8,
    }
