"""The MIDI reports' networks, rebuilt for comparison with the char models' LSTM on events.

- `"lstm-dense"` (report 004): input -> LSTM x layers -> BatchNorm -> Dropout -> Dense-256 with
  ReLU -> Dropout -> Dense over the vocabulary (the softmax is in the loss).
- `"conv-lstm"` (report 002's best, "Model 1"): input -> Conv1D (256 filters, kernel 3) ->
  LSTM x layers -> Dropout -> Dense over the vocabulary.

The input is the reports' own when `cfg.scalar_input` (the id divided by the vocabulary size,
one number per step), else an embedding or one-hot as for the char models.

Both predict the next event at every position, as the trainer asks of every network; the reports
predicted only the 101st event of each 100-event window (the same windows, fewer targets). The
convolution is causal (position t reads inputs t-2..t), so no prediction sees the event it
predicts, and its state keeps the last k-1 inputs: a sequence read in chunks (truncated BPTT,
evaluation in time chunks, sampling one event at a time) gives what it gives read whole.

State: `(h, c)` for lstm-dense, `(h, c, previous inputs)` for conv-lstm, each tensor with the
batch on dim 1 as torch's RNN states have it, so the trainer's per-lane resets apply unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.config import ModelConfig

# As the reports describe them.
DENSE_UNITS = 256  # report 004's first Dense layer
CONV_FILTERS = 256  # report 002's Conv1D
CONV_KERNEL = 3

State = tuple[Tensor, ...]


class ReportNet(nn.Module):
    """Report 004's LSTM-Dense or report 002's Conv1D-LSTM (see the module docstring)."""

    def __init__(self, cfg: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        cfg.validate()
        if cfg.arch not in ("lstm-dense", "conv-lstm"):
            raise ValueError(f"ReportNet builds lstm-dense or conv-lstm, not {cfg.arch!r}")
        self.cfg = cfg
        self.vocab_size = vocab_size
        self.embed = (
            nn.Embedding(vocab_size, cfg.embedding)
            if cfg.embedding and not cfg.scalar_input
            else None
        )
        in_size = 1 if cfg.scalar_input else (cfg.embedding or vocab_size)
        self.in_size = in_size
        self.conv: nn.Conv1d | None = None
        if cfg.arch == "conv-lstm":
            # Keras' Conv1D default: no activation.
            self.conv = nn.Conv1d(in_size, CONV_FILTERS, CONV_KERNEL)
            in_size = CONV_FILTERS
        # Report 004 puts its two Dropouts in the head, none between the LSTMs.
        between = cfg.dropout if cfg.arch == "conv-lstm" and cfg.layers > 1 else 0.0
        self.rnn = nn.LSTM(in_size, cfg.hidden, cfg.layers, batch_first=True, dropout=between)
        if cfg.arch == "lstm-dense":
            self.norm: nn.BatchNorm1d | None = nn.BatchNorm1d(cfg.hidden)
            self.dense: nn.Linear | None = nn.Linear(cfg.hidden, DENSE_UNITS)
            out_in = DENSE_UNITS
        else:
            self.norm = None
            self.dense = None
            out_in = cfg.hidden
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(out_in, vocab_size)
        self._init_weights()

    def _init_weights(self) -> None:
        # Keras' LSTM defaults: orthogonal recurrent weights, zero biases, forget-gate bias 1.
        h = self.cfg.hidden
        for name, p in self.rnn.named_parameters():
            if "weight_hh" in name:
                for block in p.data.chunk(4, dim=0):
                    nn.init.orthogonal_(block)
            elif "bias" in name:
                nn.init.zeros_(p.data)
                if "bias_ih" in name:
                    p.data[h : 2 * h] = 1.0

    def inputs(self, ids: Tensor) -> Tensor:
        """(B, T) ids -> (B, T, E) input vectors."""
        if self.cfg.scalar_input:
            return (ids.to(self.head.weight.dtype) / self.vocab_size).unsqueeze(-1)
        if self.embed is not None:
            return self.embed(ids)
        return F.one_hot(ids, self.vocab_size).to(self.head.weight.dtype)

    def init_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        h = torch.zeros(self.cfg.layers, batch, self.cfg.hidden, device=device)
        if self.conv is None:
            return (h, torch.zeros_like(h))
        previous = torch.zeros(CONV_KERNEL - 1, batch, self.in_size, device=device)
        return (h, torch.zeros_like(h), previous)

    def forward(
        self, ids: Tensor, state: State | None = None, return_hidden: bool = False
    ) -> tuple[Tensor, State] | tuple[Tensor, State, Tensor]:
        """(B, T) ids -> logits (B, T, V), final state and optionally the top LSTM's outputs."""
        if state is None:
            state = self.init_state(ids.shape[0], ids.device)
        x = self.inputs(ids)  # (B, T, E)
        if self.conv is not None:
            previous = state[2].transpose(0, 1)  # (B, k-1, E)
            window = torch.cat([previous.to(x.dtype), x], dim=1)  # (B, k-1+T, E)
            new_previous = window[:, -(CONV_KERNEL - 1) :].transpose(0, 1)  # (k-1, B, E)
            x = self.conv(window.transpose(1, 2)).transpose(1, 2)  # (B, T, F)
        out, (h, c) = self.rnn(x, (state[0], state[1]))  # (B, T, H)
        y = out
        if self.norm is not None:
            b, t, hidden = y.shape
            y = self.norm(y.reshape(b * t, hidden)).reshape(b, t, hidden)
        y = self.drop(y)
        if self.dense is not None:
            y = self.drop(torch.relu(self.dense(y)))
        logits = self.head(y)  # (B, T, V)
        new_state: State = (h, c) if self.conv is None else (h, c, new_previous)
        if return_hidden:
            return logits, new_state, out
        return logits, new_state

    def stepper(self) -> _Stepper:
        return _Stepper(self)

    def weights_per_char(self) -> int:
        """Weights touched per token (for FLOP counts), as CharRNN counts them."""
        # An embedding is a row lookup, not a matmul: left out, as CharRNN leaves it.
        return sum(
            p.numel()
            for n, p in self.named_parameters()
            if "weight" in n and not n.startswith("embed.")
        )

    def grow_vocab(self, new_size: int) -> None:
        """Extend the input and output layers to `new_size` ids, keeping the learned weights."""
        old = self.vocab_size
        if new_size < old:
            raise ValueError("a vocabulary can only grow")
        if new_size == old:
            return
        fresh = ReportNet(self.cfg, new_size).to(self.head.weight.device)
        fresh.train(self.training)  # BatchNorm's mode travels with the modules swapped in
        with torch.no_grad():
            mine = self.state_dict()
            for name, target in fresh.state_dict().items():
                source = mine[name]
                if source.shape == target.shape:
                    target.copy_(source)
                else:
                    # The one dimension that is the vocabulary: rows (embedding, output layer)
                    # or input columns (one-hot into the first LSTM or the convolution).
                    target[tuple(slice(0, n) for n in source.shape)] = source
            # New events start as unlikely outputs rather than random ones.
            fresh.head.bias[old:] = self.head.bias.min()
        self.vocab_size = new_size
        self.in_size = fresh.in_size  # one-hot input grows with the vocabulary
        for name in ("embed", "conv", "rnn", "norm", "dense", "head"):
            setattr(self, name, getattr(fresh, name))


class _Stepper:
    """One event at a time through `ReportNet.forward`: (B,) ids -> (B, V) logits.

    No hand-written fast path as CharRNN has: these are comparison models, and a step of the
    fused LSTM on one event costs about a millisecond.
    """

    def __init__(self, model: ReportNet) -> None:
        self.model = model

    def __call__(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        logits, state = self.model(ids[:, None], state)
        return logits[:, 0], state
