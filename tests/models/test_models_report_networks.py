"""The MIDI reports' networks (lstm-dense, conv-lstm): their layers as the reports describe them,
the same interface as CharRNN, chunked reading equal to whole reading (the causal convolution
carries its inputs in the state), one-event steps equal to the sequence, growth, the recipes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from models.config import ModelConfig, recipe
from models.networks import CharRNN, build_network
from models.report_networks import CONV_FILTERS, CONV_KERNEL, DENSE_UNITS, ReportNet

V = 23


def make(arch: str, scalar: bool = False, embedding: int = 0, seed: int = 0) -> ReportNet:
    torch.manual_seed(seed)
    cfg = ModelConfig(
        arch=arch, hidden=16, layers=2, embedding=embedding, dropout=0.3, scalar_input=scalar
    )
    model = build_network(cfg, V)
    assert isinstance(model, ReportNet)
    return model.eval()


def test_report_004_layers() -> None:
    cfg = recipe("reports-004-midi")
    model = build_network(cfg.model, V)
    assert isinstance(model, ReportNet)
    assert (model.rnn.num_layers, model.rnn.hidden_size, model.rnn.input_size) == (3, 512, 1)
    assert model.rnn.dropout == 0.0  # report 004's Dropouts are in the head
    assert isinstance(model.norm, nn.BatchNorm1d)
    assert model.dense.out_features == DENSE_UNITS == 256
    assert model.head.in_features == 256 and model.head.out_features == V
    assert model.conv is None
    t = cfg.train
    assert (t.optimizer, t.batch_size, t.seq_len, t.batching) == ("rmsprop", 128, 100, "walk")


def test_report_002_layers() -> None:
    cfg = recipe("reports-002-midi")
    model = build_network(cfg.model, V)
    assert isinstance(model.conv, nn.Conv1d)
    assert (model.conv.out_channels, model.conv.kernel_size) == (CONV_FILTERS, (CONV_KERNEL,))
    assert (CONV_FILTERS, CONV_KERNEL) == (256, 3)
    assert (model.rnn.num_layers, model.rnn.hidden_size, model.rnn.input_size) == (2, 256, 256)
    assert model.norm is None and model.dense is None
    assert cfg.train.seq_len == 100 and cfg.train.batching == "walk"


def test_char_archs_still_build_char_rnns() -> None:
    assert type(build_network(ModelConfig(hidden=8, embedding=4), V)) is CharRNN


def test_scalar_input_is_only_for_the_report_archs() -> None:
    with pytest.raises(ValueError, match="scalar input"):
        ModelConfig(arch="lstm", scalar_input=True).validate()


@pytest.mark.parametrize("arch", ["lstm-dense", "conv-lstm"])
@pytest.mark.parametrize("scalar,embedding", [(True, 0), (False, 0), (False, 8)])
def test_chunks_and_steps_equal_the_whole_sequence(arch, scalar, embedding) -> None:
    model = make(arch, scalar, embedding)
    ids = torch.randint(0, V, (3, 20))
    whole, _ = model(ids)  # (3, 20, V)
    assert whole.shape == (3, 20, V)
    first, state = model(ids[:, :7])
    second, _ = model(ids[:, 7:], state)
    assert torch.allclose(torch.cat([first, second], dim=1), whole, atol=1e-5)
    # One event at a time, as the sampler reads them.
    step = model.stepper()
    state = None
    for t in range(20):
        logits, state = step(ids[:, t], state)
        assert torch.allclose(logits, whole[:, t], atol=1e-5)


def test_the_convolution_is_causal() -> None:
    model = make("conv-lstm")
    ids = torch.randint(0, V, (1, 12))
    changed = ids.clone()
    changed[0, 8] = (ids[0, 8] + 1) % V
    a, _ = model(ids)
    b, _ = model(changed)
    assert torch.allclose(a[:, :8], b[:, :8])  # nothing before position 8 sees it
    assert not torch.allclose(a[:, 8], b[:, 8])


@pytest.mark.parametrize("arch", ["lstm-dense", "conv-lstm"])
@pytest.mark.parametrize("embedding", [0, 8])
def test_grow_vocab_keeps_what_was_learned(arch, embedding) -> None:
    model = make(arch, embedding=embedding)
    ids = torch.randint(0, V, (2, 10))
    before, _ = model(ids)
    model.grow_vocab(V + 4)
    after, _ = model(ids)
    assert after.shape[-1] == V + 4
    assert torch.allclose(after[..., :V], before, atol=1e-5)
    assert (after[..., V:] < after[..., :V].max(dim=-1, keepdim=True).values).all()


def test_trains_with_carried_state(tiny_cfg, folk_texts) -> None:
    """The trainer carries (h, c, previous inputs) across lanes and resets them per tune."""
    from models.train import Trainer

    cfg = tiny_cfg(arch="conv-lstm", hidden=16, embedding=8, epochs=1)
    trainer = Trainer(cfg, folk_texts[:12], folk_texts[12:14])
    events = list(trainer.run())
    assert events[-1]["event"] == "end"
    assert isinstance(trainer.state, tuple) and len(trainer.state) == 3
