"""Character tokenizer with `<start>`/`<end>` as single special tokens.

The vocabulary is a plain list of strings so it travels inside every checkpoint and can be
extended (fine-tuning on data with new characters appends ids, never renumbers old ones).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

START = "<start>"
END = "<end>"
UNK = "<unk>"
SPECIALS = (START, END, UNK)

# What happens to a character the vocabulary lacks when encoding.
UNKNOWN_POLICIES = ("unk", "skip", "error")


class CharTokenizer:
    """Maps characters to ids. Ids 0, 1, 2 are `<start>`, `<end>`, `<unk>`."""

    def __init__(self, vocab: Sequence[str], unknown: str = "unk") -> None:
        if list(vocab[:3]) != list(SPECIALS):
            raise ValueError(f"vocabulary must begin with {SPECIALS}")
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocabulary has duplicate entries")
        if unknown not in UNKNOWN_POLICIES:
            raise ValueError(f"unknown-character policy must be one of {UNKNOWN_POLICIES}")
        self.vocab: list[str] = list(vocab)
        self.unknown = unknown
        self._ids = {tok: i for i, tok in enumerate(self.vocab)}

    start_id = 0
    end_id = 1
    unk_id = 2

    @classmethod
    def fit(cls, texts: Iterable[str], min_count: int = 1, unknown: str = "unk") -> CharTokenizer:
        """Build a vocabulary of the characters seen at least `min_count` times, sorted."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text)
        chars = sorted(c for c, n in counts.items() if n >= min_count)
        return cls([*SPECIALS, *chars], unknown=unknown)

    def __len__(self) -> int:
        return len(self.vocab)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and self.vocab == other.vocab

    def __hash__(self) -> int:
        return hash(tuple(self.vocab))

    def extended(self, texts: Iterable[str]) -> CharTokenizer:
        """A tokenizer whose vocabulary appends the characters of `texts` that this one lacks."""
        new = sorted({c for text in texts for c in text} - set(self.vocab))
        return CharTokenizer([*self.vocab, *new], unknown=self.unknown)

    def encode(self, text: str, start: bool = False, end: bool = False) -> np.ndarray:
        """Ids of `text` (int64), optionally framed by `<start>`/`<end>`."""
        ids: list[int] = [self.start_id] if start else []
        get = self._ids.get
        for ch in text:
            i = get(ch)
            if i is None:
                if self.unknown == "skip":
                    continue
                if self.unknown == "error":
                    raise KeyError(f"character {ch!r} is not in the vocabulary")
                i = self.unk_id
            ids.append(i)
        if end:
            ids.append(self.end_id)
        return np.asarray(ids, dtype=np.int64)

    def encode_tune(self, text: str) -> np.ndarray:
        """A whole tune as the model sees it: `<start>` text `<end>`."""
        return self.encode(text, start=True, end=True)

    def decode(self, ids: Iterable[int], specials: bool = False) -> str:
        """Text of `ids`; special tokens are dropped unless `specials` (then written as names)."""
        out = []
        for i in ids:
            tok = self.vocab[int(i)]
            if int(i) < len(SPECIALS) and not specials:
                continue
            out.append(tok)
        return "".join(out)

    def unknown_chars(self, texts: Iterable[str]) -> set[str]:
        """Characters of `texts` the vocabulary lacks (for warnings before evaluation)."""
        return {c for text in texts for c in text} - set(self.vocab)
