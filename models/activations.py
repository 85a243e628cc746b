"""Recording what a network computes over a text: every layer's hidden (and LSTM cell) state
per token, and the next-token distribution at each position.

The text is read as the model reads it when sampling: `<start>` first, then the tokens (the
characters of ABC text, or the events of an event text). Row `i` of every array belongs to token
`i`: the state just after reading it, and `probs[i]` the model's distribution over the token
that follows it. The reports' MIDI networks (`ReportNet`) are LSTMs after an input stage (a
causal Conv1D for conv-lstm) and before a head (BatchNorm and Dense for lstm-dense): their
LSTM layers are recorded the same way, and `probs` come from the network's own forward pass.

Speed. torch's fused nn.RNN/LSTM/GRU return only the top layer's output sequence, and a per-step
Python loop over `torch.lstm_cell` costs ~0.3 ms a step. So each layer runs as its own one-layer
fused module (its output sequence is the next layer's input), which gives every layer's hidden
sequence at fused speed. An LSTM's cell sequence is then recovered without another recurrent
matmul: with all hidden states known, the input, forget and candidate gates of every step come
from one batched GEMM, and c_t = f_t * c_{t-1} + i_t * g_t is an element-wise linear
recurrence, a cheap loop over steps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from models.activation_store import PROBS, Activations, ActivationsError, CaptureCancelled
from models.config import REPORT_ARCHS
from models.errors import EngineError
from models.networks import CharRNN
from models.tokenizer import EventTokenizer, Tokenizer

__all__ = ["PROBS", "Activations", "ActivationsError", "CaptureCancelled", "capture"]

_LAYER_MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

# progress(fraction done in [0, 1], what is running now)
ProgressCallback = Callable[[float, str], None]


def _recurrent_arch(model: nn.Module) -> str:
    """rnn, lstm or gru: what the model's `rnn` module is (the reports' networks are LSTMs)."""
    return "lstm" if model.cfg.arch in REPORT_ARCHS else model.cfg.arch


def _rnn_inputs(model: nn.Module, ids: Tensor) -> Tensor:
    """(1, T) ids -> (1, T, E): what the first recurrent layer reads."""
    x = model.inputs(ids)
    conv = getattr(model, "conv", None)
    if conv is not None:  # conv-lstm: a causal convolution, zeros before the first input
        pad = torch.zeros(1, conv.kernel_size[0] - 1, x.shape[-1], dtype=x.dtype, device=x.device)
        x = conv(torch.cat([pad, x], dim=1).transpose(1, 2)).transpose(1, 2)
    return x


def _layer_module(model: CharRNN, layer: int, in_size: int) -> nn.Module:
    """A one-layer fused module holding layer `layer`'s weights (views, no copies)."""
    arch, hidden = _recurrent_arch(model), model.cfg.hidden
    kwargs = {"nonlinearity": "tanh"} if arch == "rnn" else {}
    device = model.head.weight.device
    # Built on the meta device (no random init), then pointed at the model's own tensors.
    module = _LAYER_MODULES[arch](in_size, hidden, 1, batch_first=True, device="meta", **kwargs)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        source = getattr(model.rnn, f"{name}_l{layer}")
        # nn.RNNBase.__setattr__ keeps the module's flat weight list in step with this.
        setattr(module, f"{name}_l0", nn.Parameter(source.detach(), requires_grad=False))
    module = module.to(device)
    if device.type == "cuda":
        module.flatten_parameters()  # cuDNN wants one contiguous weight buffer (a copy)
    return module


def _cell_sequence(
    x: Tensor, h: Tensor, model: CharRNN, layer: int, should_stop: Callable[[], bool] | None
) -> np.ndarray:
    """LSTM cell states (T, H) from the layer's inputs x (T, E) and hidden outputs h (T, H)."""
    hidden = model.cfg.hidden
    rnn = model.rnn
    w_ih = getattr(rnn, f"weight_ih_l{layer}")[: 3 * hidden]  # i, f, g rows; o is not needed
    w_hh = getattr(rnn, f"weight_hh_l{layer}")[: 3 * hidden]
    bias = (getattr(rnn, f"bias_ih_l{layer}") + getattr(rnn, f"bias_hh_l{layer}"))[: 3 * hidden]
    h_prev = torch.cat([torch.zeros_like(h[:1]), h[:-1]])  # (T, H): the state each step reads
    gates = torch.addmm(bias, x, w_ih.t())
    gates.addmm_(h_prev, w_hh.t())  # (T, 3H)
    i, f, g = gates.chunk(3, dim=1)
    f = torch.sigmoid(f).float().cpu().numpy()
    ig = (torch.sigmoid(i) * torch.tanh(g)).float().cpu().numpy()
    # The element-wise recurrence: numpy's per-call cost on a (H,) vector is ~1 us, a fifth of
    # torch's, and this loop runs once per character.
    c = ig  # c[0] = i0 * g0 since c_{-1} = 0; later rows are overwritten in place
    for t in range(1, c.shape[0]):
        row = c[t]
        np.multiply(f[t], c[t - 1], out=f[t])
        row += f[t]
        if should_stop is not None and t % 512 == 0 and should_stop():
            raise CaptureCancelled("capture cancelled")
    return c


@torch.no_grad()
def capture(
    model: CharRNN,
    tokenizer: Tokenizer,
    text: str,
    device: torch.device | str | None = None,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    threads: int | None = 1,
) -> Activations:
    """Run `text` through `model` (after `<start>`) and record its states and predictions.

    `device` defaults to (and must be) the model's own device. Tokens the vocabulary lacks
    are read as `<unk>` (or skipped, per the tokenizer's policy: then rows follow the kept
    tokens, and the returned text holds only those). Raises CaptureCancelled when
    `should_stop()` turns True (checked between layers and during the cell recurrence).

    `threads`: torch CPU threads during the capture (None leaves torch's setting). One by
    default, as for sampling: the recurrence is 2,000 tiny matrix-vector products, and on the
    2-core target machine two threads took 4x longer (8.3 s vs 2.1 s for 2,000 characters on a
    2x512 LSTM, next to a training run).
    """
    if len(tokenizer) != model.vocab_size:
        raise EngineError(
            f"the tokenizer has {len(tokenizer)} ids but the model expects {model.vocab_size}"
        )
    if tokenizer.unknown == "skip":
        known = set(tokenizer.vocab)
        text = tokenizer.join(tok for tok in tokenizer.tokens(text) if tok in known)
    elif isinstance(tokenizer, EventTokenizer):
        text = tokenizer.join(tokenizer.tokens(text))  # one space after each event, always
    model_device = model.head.weight.device
    device = torch.device(device) if device is not None else model_device
    if device.type != model_device.type or device.index not in (None, model_device.index):
        raise EngineError(f"the model is on {model_device}, not on {device}: move it first")
    was_training = model.training
    model.eval()
    cfg = model.cfg
    steps = 2 * cfg.layers + 1
    arrays: dict[str, np.ndarray] = {}

    def report(done: int, what: str) -> None:
        if progress is not None:
            progress(done / steps, what)
        if should_stop is not None and should_stop():
            raise CaptureCancelled("capture cancelled")

    threads_before = torch.get_num_threads()
    if threads is not None and device.type == "cpu":
        torch.set_num_threads(threads)
    try:
        ids = torch.as_tensor(tokenizer.encode(text, start=True), device=device)  # (T+1,)
        x = _rnn_inputs(model, ids.unsqueeze(0))  # (1, T+1, E)
        for layer in range(cfg.layers):
            report(2 * layer, f"layer {layer}")
            module = _layer_module(model, layer, x.shape[-1])
            out, _ = module(x)  # (1, T+1, H); row 0 is the state after <start>
            arrays[f"layer{layer}.hidden"] = out[0, 1:].float().cpu().numpy()
            if _recurrent_arch(model) == "lstm":
                report(2 * layer + 1, f"layer {layer} cells")
                cells = _cell_sequence(x[0], out[0], model, layer, should_stop)
                arrays[f"layer{layer}.cell"] = cells[1:]
            x = out
        report(steps - 1, "predictions")
        if isinstance(model, CharRNN):
            logits = model.head(x[0, 1:])  # (T, V)
        else:  # the reports' heads (BatchNorm, Dense) run as the network runs them
            logits = model(ids.unsqueeze(0))[0][0, 1:]
        arrays[PROBS] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        if progress is not None:
            progress(1.0, "done")
    finally:
        model.train(was_training)
        torch.set_num_threads(threads_before)
    return Activations(
        text=text,
        vocab=list(tokenizer.vocab),
        arrays=arrays,
        arch=cfg.arch,
        kind=tokenizer.kind,
        settings=dict(getattr(tokenizer, "settings", {})),
    )
