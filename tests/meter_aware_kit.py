"""What the meter-aware decoding tests share: a tokenizer of every printable character (as a
model trained on any ABC collection would have) and a bar scanner fed a text.

The fixture that empties the module's mask caches lives in `tests/notation/conftest.py`.
"""

from __future__ import annotations

import string

from models.tokenizer import SPECIALS, CharTokenizer
from workbench.notation.meter import BarScanner

# A carriage return, vertical tab or form feed never reaches a tokenizer: the corpus readers'
# `normalise_text` turns the first into a line feed and drops the others.
TOKENIZER = CharTokenizer([*SPECIALS, *sorted(set(string.printable) - set("\r\x0b\x0c"))])


def scanner(text: str) -> BarScanner:
    """A bar scanner that has read `text`."""
    sc = BarScanner()
    sc.feed_text(text)
    return sc
