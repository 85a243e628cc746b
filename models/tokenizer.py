"""Tokenizers: characters of ABC text, or the events of a MIDI encoding.

Both map a text to ids with `<start>`/`<end>`/`<unk>` as ids 0, 1, 2, and share one interface
(vocab, start/end/unk ids, encode/decode, extended, to_dict), so the trainer, sampler and
evaluator never ask which kind they hold.

- `CharTokenizer`: one token per character of ABC text.
- `EventTokenizer`: one token per event of a MIDI encoding (`Pitch_60`, `Duration_1.0.8`, or the
  reports' `E-4`, `0.4.7`). Its text is the events, each followed by one space, so texts still
  concatenate (a prompt plus what the sampler adds) and the trainer's text-level tools (split,
  fingerprint) work unchanged. It also carries the encoding's settings as plain data (which
  MidiTok tokenizer and its configuration): the music side rebuilds its MIDI decoder from them,
  never from the training data, because MidiTok's own vocabulary differs between its versions.

The vocabulary is a plain list of strings so it travels inside every checkpoint and can be
extended (fine-tuning on data with new tokens appends ids, never renumbers old ones).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

START = "<start>"
END = "<end>"
UNK = "<unk>"
SPECIALS = (START, END, UNK)

# What happens to a token the vocabulary lacks when encoding.
UNKNOWN_POLICIES = ("unk", "skip", "error")


class _VocabTokenizer:
    """What both tokenizers share; a subclass says how a text splits into tokens and joins."""

    kind = ""
    #: What one token is called in metrics ("nats per char", "nats per event") and messages.
    unit = ""
    noun = ""
    #: The suffix of the training samples written to a run's samples/ folder.
    sample_suffix = ""

    def __init__(self, vocab: Sequence[str], unknown: str = "unk") -> None:
        if list(vocab[:3]) != list(SPECIALS):
            raise ValueError(f"vocabulary must begin with {SPECIALS}")
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocabulary has duplicate entries")
        if unknown not in UNKNOWN_POLICIES:
            raise ValueError(f"unknown-{self.noun} policy must be one of {UNKNOWN_POLICIES}")
        self.vocab: list[str] = list(vocab)
        self.unknown = unknown
        self._ids = {tok: i for i, tok in enumerate(self.vocab)}

    start_id = 0
    end_id = 1
    unk_id = 2

    # -- what a subclass defines --------------------------------------------------------

    @staticmethod
    def tokens(text: str) -> Iterable[str]:
        """The tokens of `text`, in order."""
        raise NotImplementedError

    @staticmethod
    def join(tokens: Iterable[str]) -> str:
        """The text of `tokens` (the inverse of `tokens`)."""
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.vocab)

    def _new_tokens(self, texts: Iterable[str]) -> set[str]:
        return {tok for text in texts for tok in self.tokens(text)} - set(self.vocab)

    def encode(self, text: str, start: bool = False, end: bool = False) -> np.ndarray:
        """Ids of `text` (int64), optionally framed by `<start>`/`<end>`."""
        ids: list[int] = [self.start_id] if start else []
        get = self._ids.get
        for tok in self.tokens(text):
            i = get(tok)
            if i is None:
                if self.unknown == "skip":
                    continue
                if self.unknown == "error":
                    raise KeyError(f"{self.noun} {tok!r} is not in the vocabulary")
                i = self.unk_id
            ids.append(i)
        if end:
            ids.append(self.end_id)
        return np.asarray(ids, dtype=np.int64)

    def encode_tune(self, text: str) -> np.ndarray:
        """A whole tune (or piece) as the model sees it: `<start>` text `<end>`."""
        return self.encode(text, start=True, end=True)

    def decode(self, ids: Iterable[int], specials: bool = False) -> str:
        """Text of `ids`; special tokens are dropped unless `specials` (then written as names)."""
        out = []
        for i in ids:
            if int(i) < len(SPECIALS) and not specials:
                continue
            out.append(self.vocab[int(i)])
        return self.join(out)

    def unknown_chars(self, texts: Iterable[str]) -> set[str]:
        """Tokens of `texts` the vocabulary lacks (for warnings before evaluation)."""
        return self._new_tokens(texts)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a checkpoint; `tokenizer_from_dict` rebuilds the tokenizer."""
        return {"kind": self.kind, "vocab": list(self.vocab), "unknown": self.unknown}


class CharTokenizer(_VocabTokenizer):
    """Maps characters to ids. Ids 0, 1, 2 are `<start>`, `<end>`, `<unk>`."""

    kind = "chars"
    unit = "char"
    noun = "character"
    sample_suffix = ".abc"

    @staticmethod
    def tokens(text: str) -> Iterable[str]:
        return text

    @staticmethod
    def join(tokens: Iterable[str]) -> str:
        return "".join(tokens)

    @classmethod
    def fit(cls, texts: Iterable[str], min_count: int = 1, unknown: str = "unk") -> CharTokenizer:
        """Build a vocabulary of the characters seen at least `min_count` times, sorted."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text)
        chars = sorted(c for c, n in counts.items() if n >= min_count)
        return cls([*SPECIALS, *chars], unknown=unknown)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and self.vocab == other.vocab

    def __hash__(self) -> int:
        return hash(tuple(self.vocab))

    def extended(self, texts: Iterable[str]) -> CharTokenizer:
        """A tokenizer whose vocabulary appends the characters of `texts` that this one lacks."""
        return CharTokenizer([*self.vocab, *sorted(self._new_tokens(texts))], self.unknown)


def _natural_key(token: str) -> list[Any]:
    """`Pitch_9` before `Pitch_10`: numbers inside a token sort as numbers."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", token)]


class EventTokenizer(_VocabTokenizer):
    """Maps the events of a MIDI encoding to ids; `settings` say which encoding they are.

    The text of a piece is its events, each followed by one space: `"Bar_None Pitch_60 "`.
    `settings` is plain data (JSON-able), opaque here: the music side writes and reads it.
    """

    kind = "events"
    unit = "event"
    noun = "event"
    sample_suffix = ".events.txt"

    def __init__(
        self, vocab: Sequence[str], settings: dict[str, Any] | None = None, unknown: str = "unk"
    ) -> None:
        super().__init__(vocab, unknown)
        bad = [tok for tok in self.vocab if not tok or any(c.isspace() for c in tok)]
        if bad:
            raise ValueError(f"an event name cannot be empty or hold spaces: {bad[0]!r}")
        self.settings: dict[str, Any] = copy.deepcopy(dict(settings or {}))

    @staticmethod
    def tokens(text: str) -> Iterator[str]:
        return iter(text.split())

    @staticmethod
    def join(tokens: Iterable[str]) -> str:
        return "".join(f"{tok} " for tok in tokens)

    @classmethod
    def fit(
        cls,
        texts: Iterable[str],
        settings: dict[str, Any] | None = None,
        min_count: int = 1,
        unknown: str = "unk",
    ) -> EventTokenizer:
        """A vocabulary of the events seen at least `min_count` times, in natural order."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text.split())
        events = sorted((e for e, n in counts.items() if n >= min_count), key=_natural_key)
        return cls([*SPECIALS, *events], settings, unknown=unknown)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, EventTokenizer)
            and self.vocab == other.vocab
            and self.settings == other.settings
        )

    def __hash__(self) -> int:
        return hash(tuple(self.vocab))

    def extended(self, texts: Iterable[str]) -> EventTokenizer:
        """A tokenizer whose vocabulary appends the events of `texts` that this one lacks."""
        new = sorted(self._new_tokens(texts), key=_natural_key)
        return EventTokenizer([*self.vocab, *new], self.settings, self.unknown)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "settings": copy.deepcopy(self.settings)}


Tokenizer = CharTokenizer | EventTokenizer

_KINDS: dict[str, type[CharTokenizer] | type[EventTokenizer]] = {
    CharTokenizer.kind: CharTokenizer,
    EventTokenizer.kind: EventTokenizer,
}


def tokenizer_from_dict(data: dict[str, Any]) -> Tokenizer:
    """Rebuild a tokenizer from `to_dict()`'s plain data; ValueError if it is not one."""
    kind = data.get("kind", CharTokenizer.kind)
    if kind not in _KINDS:
        raise ValueError(f"unknown tokenizer kind {kind!r} (known: {', '.join(_KINDS)})")
    vocab = data.get("vocab")
    if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
        raise ValueError("the tokenizer's vocabulary is missing or not a list of strings")
    unknown = str(data.get("unknown", "unk"))
    if kind == EventTokenizer.kind:
        settings = data.get("settings", {})
        if not isinstance(settings, dict):
            raise ValueError("the event tokenizer's settings are not a dict")
        return EventTokenizer(vocab, settings, unknown=unknown)
    return CharTokenizer(vocab, unknown=unknown)
