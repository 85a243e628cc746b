"""What the meter-aware decoding tests share: a tokenizer of every printable character (as a
model trained on any ABC collection would have), a bar scanner fed a text, the constraint's
logits after a text, a tune in 4/4 built of one bar ending on the tonic, and an untrained network
whose spiky logits favour chosen characters.

The fixture that empties the module's mask caches lives in `tests/notation/conftest.py`.
"""

from __future__ import annotations

import string

import torch

from models.config import ModelConfig
from models.networks import CharRNN
from models.tokenizer import SPECIALS, CharTokenizer
from workbench.notation.meter import BarScanner
from workbench.notation.meter_aware import MeterAwareConstraint

# A carriage return, vertical tab or form feed never reaches a tokenizer: the corpus readers'
# `normalise_text` turns the first into a line feed and drops the others.
TOKENIZER = CharTokenizer([*SPECIALS, *sorted(set(string.printable) - set("\r\x0b\x0c"))])

H = "X:1\nM:4/4\nL:1/8\nK:G\n"  # a header: 4/4 in G
BAR = "GABc dBAG|"  # a full 4/4 bar ending on the tonic G
LAST = "GABc dBAG"  # the same, before its bar line


def scanner(text: str) -> BarScanner:
    """A bar scanner that has read `text`."""
    sc = BarScanner()
    sc.feed_text(text)
    return sc


def logits_after(text: str, **kwargs) -> dict[str, float]:
    """The logits a new `MeterAwareConstraint(TOKENIZER, **kwargs)` gives after `text`, from
    logits all 0, by token (masked tokens -inf)."""
    out = MeterAwareConstraint(TOKENIZER, **kwargs)(torch.zeros(1, len(TOKENIZER.vocab)), [text])
    return dict(zip(TOKENIZER.vocab, out[0].tolist(), strict=True))


def random_model(
    seed: int, favoured: str = "ABCDEFGabcdefg|2/ ", boost: float = 3.0, end_boost: float = 0.0
) -> CharRNN:
    """An untrained network with spiky random logits (the hardest case for the constraint),
    nudged towards the `favoured` characters (by default notes, lengths and bar lines, so that
    its tunes have many bars) and, by `end_boost`, towards `<end>`."""
    torch.manual_seed(seed)
    model = CharRNN(ModelConfig(hidden=16, embedding=8, dropout=0.0), len(TOKENIZER))
    with torch.no_grad():
        model.head.weight.mul_(4.0)
        for ch in favoured:
            model.head.bias[TOKENIZER.vocab.index(ch)] += boost
        model.head.bias[TOKENIZER.end_id] += end_boost
    return model
