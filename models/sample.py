"""Sampling tunes from a trained network, many at once, one character per step.

The recurrent state is carried from step to step (the prompt is read once, never re-fed), so a
600-character tune costs 600 small forward steps. All tunes of a call run as one batch.

The sampler knows no music: a `constraint` can mask the next-token logits given the text so far
(the ABC meter-aware decoder lives on the notation side and is passed in).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor

from models.networks import CharRNN
from models.tokenizer import CharTokenizer

# constraint(logits (B, V), texts so far) -> logits (B, V) with forbidden tokens at -inf.
Constraint = Callable[[Tensor, Sequence[str]], Tensor]
# on_token(tune index, text piece) is called as each character is chosen, to stream it to a view.
TokenCallback = Callable[[int, str], None]


@dataclass
class SamplingParams:
    temperature: float = 1.0
    # 0 disables top-k; 1.0 disables top-p.
    top_k: int = 0
    top_p: float = 1.0
    max_chars: int = 2000
    seed: int | None = None
    # No <end> before this many generated tokens: an event model's piece runs to the length
    # asked for (max_chars) when this equals it; 0 lets the model end whenever it will.
    min_chars: int = 0

    def validate(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, not {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"top-k must be >= 0, not {self.top_k}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top-p must be in (0, 1], not {self.top_p}")
        if self.max_chars < 1:
            raise ValueError(f"the length cap must be >= 1, not {self.max_chars}")
        if self.min_chars < 0:
            raise ValueError(f"the least length must be >= 0, not {self.min_chars}")


def filter_logits(logits: Tensor, temperature: float, top_k: int, top_p: float) -> Tensor:
    """Temperature, then top-k, then nucleus (top-p) filtering of (B, V) logits."""
    logits = logits.float() / temperature
    if top_k and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        # Drop a token when the tokens before it already hold top_p of the mass (>=: a set
        # that reaches p exactly is the smallest); the most likely token always stays (p > 0).
        drop = probs.cumsum(-1) - probs >= top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    return logits


def _draw(logits: Tensor, gen: torch.Generator) -> Tensor:
    """One token per row, with probability softmax(logits): (B, V) -> (B,).

    argmax(p / E) with E ~ Exp(1) picks token i with probability p_i (the "exponential race",
    equivalent to the Gumbel-max trick); it costs a quarter of torch.multinomial per step.
    """
    probs = torch.softmax(logits, dim=-1)
    race = probs / torch.empty_like(probs).exponential_(generator=gen)
    return race.argmax(dim=-1)


class _Texts(Sequence[str]):
    """The texts so far, joined only when a constraint reads one (most steps need none).

    Joined as the tokenizer joins its tokens: characters run together, events are each
    followed by a space (so a constraint on an event model reads the same text it decodes).
    """

    def __init__(
        self, prompt: str, pieces: list[list[str]], join: Callable[[list[str]], str]
    ) -> None:
        self._prompt = prompt
        self._pieces = pieces
        self._join = join

    def __len__(self) -> int:
        return len(self._pieces)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self._prompt + self._join(self._pieces[i])


@contextmanager
def _single_cpu_thread(device: torch.device) -> Iterator[None]:
    """Run torch on one CPU thread for the duration.

    A sampling step is a handful of tiny matmuls; splitting them across OpenMP threads costs
    more in synchronisation than it gains. Measured on a 2-core machine: a (1, 512) x (512, 2048)
    matmul took 3.7 ms on 2 threads and 0.21 ms on 1; a 600-character tune 10.7 s vs ~1 s.
    """
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def sample(
    model: CharRNN,
    tokenizer: CharTokenizer,
    prompt: str = "",
    num: int = 1,
    params: SamplingParams | None = None,
    constraint: Constraint | None = None,
    on_token: TokenCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    device: torch.device | str | None = None,
) -> list[str]:
    """Sample `num` tunes that continue `prompt`; each result is prompt + generated text.

    A tune ends at `<end>` (never before `min_chars` generated characters) or after
    `max_chars`. The same seed and parameters give the same tunes on the same device.
    """
    params = params or SamplingParams()
    params.validate()
    device = torch.device(device) if device is not None else next(model.parameters()).device
    gen = torch.Generator(device=device)
    if params.seed is not None:
        gen.manual_seed(params.seed)
    else:
        # Seeds only this generator: the global RNG (a training run's dropout) stays untouched.
        gen.seed()
    was_training = model.training
    model.eval()
    try:
        # A `with` rather than the @torch.no_grad() decorator: mutmut skips decorated
        # functions, and this one is mutation-tested (benchmarks/mutation.py).
        with torch.no_grad(), _single_cpu_thread(device):
            return _sample_batch(
                model,
                tokenizer,
                prompt,
                num,
                params,
                gen,
                constraint,
                on_token,
                should_stop,
                device,
            )
    finally:
        model.train(was_training)


def _sample_batch(
    model: CharRNN,
    tokenizer: CharTokenizer,
    prompt: str,
    num: int,
    params: SamplingParams,
    gen: torch.Generator,
    constraint: Constraint | None,
    on_token: TokenCallback | None,
    should_stop: Callable[[], bool] | None,
    device: torch.device,
) -> list[str]:
    # Read the prompt once for the whole batch: (num, P).
    prompt_ids = torch.as_tensor(tokenizer.encode(prompt, start=True), device=device)
    logits, state = model(prompt_ids.unsqueeze(0).expand(num, -1))
    logits = logits[:, -1]  # (num, V)
    step = model.stepper()
    # Chosen ids per step, decoded at the end; pieces (per-tune characters) are kept as we go
    # only when someone reads them mid-way (a constraint or a streaming view).
    chosen: list[Tensor] = []
    track = constraint is not None or on_token is not None
    pieces: list[list[str]] = [[] for _ in range(num)]
    done = torch.zeros(num, dtype=torch.bool, device=device)
    vocab = tokenizer.vocab
    for made in range(params.max_chars):
        if should_stop is not None and should_stop():
            break
        # What may come next is decided first (never <start> or <unk> mid-tune; then the
        # constraint), and only then top-k/top-p choose among what is allowed: filtering first
        # could keep only tokens that are then forbidden.
        allowed = logits.float().clone()
        allowed[:, tokenizer.start_id] = float("-inf")
        allowed[:, tokenizer.unk_id] = float("-inf")
        if made < params.min_chars:
            allowed[:, tokenizer.end_id] = float("-inf")
        if constraint is not None:
            allowed = constraint(allowed, _Texts(prompt, pieces, tokenizer.join))
            # A row the constraint masked entirely has nothing left to say: end that tune.
            dead = torch.isinf(allowed).all(dim=-1)
            if bool(dead.any()):
                allowed[dead, tokenizer.end_id] = 0.0
        filtered = filter_logits(allowed, params.temperature, params.top_k, params.top_p)
        nxt = _draw(filtered, gen)  # (num,)
        # Finished tunes keep running in the batch; what they draw is discarded.
        nxt = nxt.masked_fill(done, tokenizer.end_id)
        chosen.append(nxt)
        if track:
            for b, i in enumerate(nxt.tolist()):
                if i != tokenizer.end_id:
                    pieces[b].append(vocab[i])
                    if on_token is not None:
                        on_token(b, vocab[i])
        done |= nxt == tokenizer.end_id
        if bool(done.all()):
            break
        logits, state = step(nxt, state)
    if not chosen:
        return [prompt] * num
    ids = torch.stack(chosen, dim=1).tolist()  # (num, steps)
    return [prompt + tokenizer.decode(row[: _end_index(row, tokenizer.end_id)]) for row in ids]


def _end_index(row: list[int], end_id: int) -> int:
    try:
        return row.index(end_id)
    except ValueError:
        return len(row)
