"""CharRNN: shapes, state carried across chunks, learning, and growing the vocabulary."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from models.config import ModelConfig
from models.networks import CharRNN, count_parameters

ARCHS = ("rnn", "lstm", "gru")
V = 20


def make(arch: str, embedding: int, layers: int, hidden: int = 32, dropout: float = 0.0):
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, hidden=hidden, layers=layers, embedding=embedding, dropout=dropout)
    return CharRNN(cfg, V)


def ids(batch: int, length: int, high: int = V, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, high, (batch, length), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    ("arch", "embedding", "layers"), list(itertools.product(ARCHS, (0, 8), (1, 2)))
)
def test_forward_shapes(arch: str, embedding: int, layers: int) -> None:
    model = make(arch, embedding, layers, dropout=0.1)
    x = ids(3, 11)
    logits, state = model(x)
    assert logits.shape == (3, 11, V)
    states = state if isinstance(state, tuple) else (state,)
    assert len(states) == (2 if arch == "lstm" else 1)
    assert all(s.shape == (layers, 3, 32) for s in states)
    model.eval()
    logits2, _, hidden = model(x, None, return_hidden=True)
    assert hidden.shape == (3, 11, 32)
    # The hidden outputs are what the head reads (dropout is off in eval mode).
    assert torch.allclose(model.head(hidden), logits2, atol=1e-6)
    model.train()
    init = model.init_state(3)
    inits = init if isinstance(init, tuple) else (init,)
    assert all(torch.equal(s, torch.zeros(layers, 3, 32)) for s in inits)
    # A zero initial state is the same as none.
    model.eval()
    assert torch.allclose(model(x, init)[0], model(x)[0], atol=1e-6)
    # Input layer: an embedding table, or one column per character of the first layer.
    if embedding:
        assert model.embed.weight.shape == (V, embedding)
    else:
        assert model.embed is None
        assert model.rnn.weight_ih_l0.shape[1] == V
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("embedding", [0, 8])
def test_state_carried_in_chunks_equals_full_sequence(arch: str, embedding: int) -> None:
    model = make(arch, embedding, layers=2, dropout=0.3).eval()
    x = ids(2, 50)
    with torch.no_grad():
        full, full_state = model(x)
        pieces, state = [], None
        for a, b in ((0, 7), (7, 8), (8, 33), (33, 50)):
            out, state = model(x[:, a:b], state)
            pieces.append(out)
    assert torch.allclose(torch.cat(pieces, 1), full, atol=1e-5)
    for s, f in zip(
        state if isinstance(state, tuple) else (state,),
        full_state if isinstance(full_state, tuple) else (full_state,),
        strict=True,
    ):
        assert torch.allclose(s, f, atol=1e-5)


@pytest.mark.parametrize(
    ("arch", "embedding", "layers"), list(itertools.product(ARCHS, (0, 8), (1, 3)))
)
def test_stepper_matches_the_fused_forward(arch: str, embedding: int, layers: int) -> None:
    """The hand-written single-step runner used for sampling computes the same network."""
    model = make(arch, embedding, layers, dropout=0.4).eval()
    with torch.no_grad():
        # Non-zero biases everywhere, so each bias term is checked (they start at zero).
        for name, p in model.rnn.named_parameters():
            if "bias" in name:
                p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(len(name))))
        x = ids(3, 25)
        full, full_state = model(x)
        step = model.stepper()
        state = None
        outs = []
        for t in range(x.shape[1]):
            logits, state = step(x[:, t], state)
            assert logits.shape == (3, V)
            outs.append(logits)
        # Starting from a given state, too.
        _, half_state = model(x[:, :10])
        tail, _ = model(x[:, 10:], half_state)
        s2 = half_state
        tail_steps = []
        for t in range(10, 25):
            out, s2 = step(x[:, t], s2)
            tail_steps.append(out)
    assert torch.allclose(torch.stack(outs, 1), full, atol=1e-5)
    assert torch.allclose(torch.stack(tail_steps, 1), tail, atol=1e-5)
    for a, b in zip(
        state if isinstance(state, tuple) else (state,),
        full_state if isinstance(full_state, tuple) else (full_state,),
        strict=True,
    ):
        assert a.shape == b.shape
        assert torch.allclose(a, b, atol=1e-5)


def test_lstm_forget_gate_bias_starts_at_one() -> None:
    model = make("lstm", 8, layers=2)
    for layer in range(2):
        b_ih = getattr(model.rnn, f"bias_ih_l{layer}")
        assert torch.all(b_ih[32:64] == 1.0)
        assert torch.all(b_ih[:32] == 0.0) and torch.all(b_ih[64:] == 0.0)
        assert torch.all(getattr(model.rnn, f"bias_hh_l{layer}") == 0.0)


@pytest.mark.parametrize(("arch", "embedding"), [("lstm", 16), ("rnn", 0)])
def test_overfits_one_batch_of_a_real_tune(
    arch: str, embedding: int, folk_texts: list[str], folk_tokenizer
) -> None:
    tune = folk_tokenizer.encode_tune(folk_texts[0])[:81]
    x = torch.as_tensor(tune[:-1]).view(2, 40)
    y = torch.as_tensor(tune[1:]).view(2, 40)
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, hidden=32, layers=1, embedding=embedding, dropout=0.0)
    model = CharRNN(cfg, len(folk_tokenizer))
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    first = None
    for _ in range(150):
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        logits, _ = model(x)
        final = float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)))
        acc = float((logits.argmax(-1) == y).float().mean())
    assert first > 4.0  # about ln(94) at the start
    assert final < 0.1
    assert acc == 1.0


@pytest.mark.parametrize(
    ("arch", "embedding", "layers"),
    [("gru", 0, 1), ("lstm", 0, 2), ("rnn", 0, 1), ("gru", 8, 1), ("lstm", 8, 2)],
)
def test_grow_vocab_keeps_old_outputs(arch: str, embedding: int, layers: int) -> None:
    model = make(arch, embedding, layers, dropout=0.2).eval()
    # Give the head a distinctive bias so the copy is checked, not a fresh zero init.
    with torch.no_grad():
        model.head.bias.copy_(torch.linspace(-2, 3, V))
    x = ids(3, 30)
    with torch.no_grad():
        before, state_before = model(x)
    old_head = model.head.weight.detach().clone()
    model.grow_vocab(V + 5)
    assert model.vocab_size == V + 5
    assert model.head.out_features == V + 5
    if embedding:
        assert model.embed.weight.shape == (V + 5, embedding)
    else:
        assert model.rnn.weight_ih_l0.shape[1] == V + 5
    model.eval()
    with torch.no_grad():
        after, state_after = model(x)
    assert after.shape == (3, 30, V + 5)
    assert torch.allclose(after[..., :V], before, atol=1e-6)
    assert torch.equal(model.head.weight[:V], old_head)
    # New characters start unlikely: their bias is the smallest old bias.
    assert torch.all(model.head.bias[V:] == -2.0)
    for a, b in zip(
        state_after if isinstance(state_after, tuple) else (state_after,),
        state_before if isinstance(state_before, tuple) else (state_before,),
        strict=True,
    ):
        assert torch.allclose(a, b, atol=1e-6)
    # The grown model trains: all its parameters are registered and receive gradients.
    model.train()
    logits, _ = model(ids(2, 10, high=V + 5))
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    # Growing to the same size changes nothing; shrinking is refused.
    model.grow_vocab(V + 5)
    assert model.vocab_size == V + 5
    with pytest.raises(ValueError):
        model.grow_vocab(V)


def test_weights_per_char_counts_recurrent_and_head_weights() -> None:
    emb = make("gru", 8, 1)
    assert emb.weights_per_char() == 3 * 32 * 8 + 3 * 32 * 32 + V * 32
    onehot = make("lstm", 0, 1)
    assert onehot.weights_per_char() == 4 * 32 * 1 + 4 * 32 * 32 + V * 32
