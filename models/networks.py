"""Character-level recurrent networks: vanilla RNN (tanh), LSTM and GRU.

One class covers all three; torch's fused `nn.RNN/LSTM/GRU` run the recurrence (cuDNN on CUDA,
oneDNN on the CPU), which is what makes training fast. The forward pass takes and returns the
recurrent state so training can carry it across chunks (truncated BPTT) and sampling can feed one
character at a time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.config import ModelConfig

# nn.LSTM's state is (h, c); RNN/GRU have h only. Both are (layers, B, hidden).
State = Tensor | tuple[Tensor, Tensor]

_CELL_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_RNN_CLASSES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class CharRNN(nn.Module):
    """Embedding (or one-hot) -> stacked RNN/LSTM/GRU -> dropout -> linear over the vocabulary."""

    def __init__(self, cfg: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.vocab_size = vocab_size
        in_size = cfg.embedding or vocab_size
        self.embed = nn.Embedding(vocab_size, cfg.embedding) if cfg.embedding else None
        kwargs = {"nonlinearity": "tanh"} if cfg.arch == "rnn" else {}
        self.rnn = _RNN_CLASSES[cfg.arch](
            in_size,
            cfg.hidden,
            num_layers=cfg.layers,
            batch_first=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
            **kwargs,
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, vocab_size)
        self._init_weights()

    def _init_weights(self) -> None:
        # Orthogonal recurrent weights and a forget-gate bias of 1 help the first minutes of
        # training on long tunes; torch's uniform default learns the same, only more slowly.
        for name, p in self.rnn.named_parameters():
            if "weight_hh" in name:
                for block in p.data.chunk(self._gates(), dim=0):
                    nn.init.orthogonal_(block)
            elif "bias" in name:
                nn.init.zeros_(p.data)
                if self.cfg.arch == "lstm" and "bias_ih" in name:
                    p.data[self.cfg.hidden : 2 * self.cfg.hidden] = 1.0

    def _gates(self) -> int:
        return {"rnn": 1, "lstm": 4, "gru": 3}[self.cfg.arch]

    def inputs(self, ids: Tensor) -> Tensor:
        """(B, T) ids -> (B, T, E) input vectors."""
        if self.embed is not None:
            return self.embed(ids)
        return F.one_hot(ids, self.vocab_size).to(self.head.weight.dtype)

    def forward(
        self, ids: Tensor, state: State | None = None, return_hidden: bool = False
    ) -> tuple[Tensor, State] | tuple[Tensor, State, Tensor]:
        """(B, T) ids -> logits (B, T, V), final state and optionally the top layer's outputs."""
        out, state = self.rnn(self.inputs(ids), state)  # (B, T, H)
        logits = self.head(self.drop(out))  # (B, T, V)
        if return_hidden:
            return logits, state, out
        return logits, state

    def stepper(self) -> Stepper:
        """A fast one-character-at-a-time runner for inference (see `Stepper`)."""
        return Stepper(self)

    def init_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        h = torch.zeros(self.cfg.layers, batch, self.cfg.hidden, device=device)
        if self.cfg.arch == "lstm":
            return (h, torch.zeros_like(h))
        return h

    def weights_per_char(self) -> int:
        """Weights touched per character in the recurrent and output layers (for FLOP counts)."""
        n = sum(p.numel() for n, p in self.rnn.named_parameters() if "weight" in n)
        if self.embed is None:
            # One-hot input costs one column per character, not a matmul; count it as such.
            n -= self._gates() * self.cfg.hidden * (self.vocab_size - 1)
        return n + self.head.weight.numel()

    def grow_vocab(self, new_size: int) -> None:
        """Extend the input and output layers to `new_size` ids, keeping the learned rows."""
        old = self.vocab_size
        if new_size < old:
            raise ValueError("a vocabulary can only grow")
        if new_size == old:
            return
        fresh = CharRNN(self.cfg, new_size).to(self.head.weight.device)
        with torch.no_grad():
            if self.embed is not None:
                fresh.embed.weight[:old] = self.embed.weight
            else:
                # One-hot input: old characters keep their input columns in layer 0.
                w = fresh.rnn.weight_ih_l0
                w[:, :old] = self.rnn.weight_ih_l0
                for name, p in self.rnn.named_parameters():
                    if name != "weight_ih_l0":
                        getattr(fresh.rnn, name).copy_(p)
            if self.embed is not None:
                fresh.rnn.load_state_dict(self.rnn.state_dict())
            fresh.head.weight[:old] = self.head.weight
            fresh.head.bias[:old] = self.head.bias
            # New characters start as unlikely outputs rather than random ones.
            fresh.head.bias[old:] = self.head.bias.min()
        self.vocab_size = new_size
        self.embed, self.rnn, self.head = fresh.embed, fresh.rnn, fresh.head


def _stack_state(hs: list[Tensor], cs: list[Tensor]) -> State:
    """Per-layer (B, H) tensors -> the (layers, B, H) state nn.RNN/LSTM/GRU use."""

    def stack(items: list[Tensor]) -> Tensor:
        return items[0].unsqueeze(0) if len(items) == 1 else torch.stack(items)

    return (stack(hs), stack(cs)) if cs else stack(hs)


class Stepper:
    """Runs a CharRNN one time step at a time, for sampling: (B,) ids -> (B, V) logits.

    Written by hand because torch has no fast single-step path for its fused layers: for one
    character `nn.LSTM` spends most of its time setting up its sequence kernel (measured on the
    CPU, 512-unit LSTM: 1.1 ms per step, vs 0.31 ms for `torch.lstm_cell`). Layer 0's input
    projection depends only on the token, so it is precomputed once as a (V, gates x H) table and
    each step does a single matmul with the recurrent weights (0.2 ms). Upper layers use torch's
    cell kernels. Build a new Stepper after the weights change; inference only (no dropout).
    """

    @torch.no_grad()
    def __init__(self, model: CharRNN) -> None:
        self.model = model
        self.arch = model.cfg.arch
        rnn = model.rnn
        ids = torch.arange(model.vocab_size, device=model.head.weight.device)
        table = torch.addmm(rnn.bias_ih_l0, model.inputs(ids), rnn.weight_ih_l0.t())
        if self.arch != "gru":
            # LSTM and tanh-RNN simply add the two biases; GRU's b_hh sits inside r * (...).
            table += rnn.bias_hh_l0
        self.table = table  # (V, G*H)
        self.w_hh0 = rnn.weight_hh_l0.t()  # (H, G*H), a view: addmm reads it transposed
        self.upper = [
            [getattr(rnn, f"{n}_l{layer}") for n in _CELL_WEIGHTS]
            for layer in range(1, model.cfg.layers)
        ]

    def __call__(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Call under `torch.no_grad()` (the sampler does; a per-call guard costs ~5 %)."""
        if state is None:
            state = self.model.init_state(ids.shape[0], ids.device)
        if self.arch == "lstm":
            h0, c0 = state[0][0], state[1][0]
            gates = torch.addmm(self.table[ids], h0, self.w_hh0)  # (B, 4H): i, f, g, o
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * c0 + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            hs, cs = [h], [c]
        elif self.arch == "gru":
            h0 = state[0]
            gi = self.table[ids]  # (B, 3H): r, z, n
            gh = torch.addmm(self.model.rnn.bias_hh_l0, h0, self.w_hh0)
            i_r, i_z, i_n = gi.chunk(3, dim=1)
            h_r, h_z, h_n = gh.chunk(3, dim=1)
            r = torch.sigmoid(i_r + h_r)
            z = torch.sigmoid(i_z + h_z)
            n = torch.tanh(i_n + r * h_n)
            h = (1 - z) * n + z * h0
            hs, cs = [h], []
        else:
            h = torch.tanh(torch.addmm(self.table[ids], state[0], self.w_hh0))
            hs, cs = [h], []
        x = h
        for layer, weights in enumerate(self.upper, start=1):
            if self.arch == "lstm":
                x, c = torch.lstm_cell(x, (state[0][layer], state[1][layer]), *weights)
                cs.append(c)
            elif self.arch == "gru":
                x = torch.gru_cell(x, state[layer], *weights)
            else:
                x = torch.rnn_tanh_cell(x, state[layer], *weights)
            hs.append(x)
        return self.model.head(x), _stack_state(hs, cs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build_network(cfg: ModelConfig, vocab_size: int) -> nn.Module:
    """The network `cfg.arch` names: CharRNN for rnn/lstm/gru, the reports' MIDI networks
    (models/report_networks.py) for lstm-dense and conv-lstm. All share CharRNN's interface
    (forward with state, stepper, init_state, grow_vocab), so the trainer and sampler take any."""
    from models.config import REPORT_ARCHS

    if cfg.arch in REPORT_ARCHS:
        # Imported here: report_networks imports nothing of this module, but keeping the
        # dependency one-way leaves CharRNN's module free of the comparison models.
        from models.report_networks import ReportNet

        return ReportNet(cfg, vocab_size)
    return CharRNN(cfg, vocab_size)
