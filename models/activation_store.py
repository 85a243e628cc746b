"""Captured activations as data: the `Activations` container and its `.npz` file format.

Torch-free, so the GUI can hold, show and save activations without importing torch at start-up
(torch alone costs ~2 s of the app's launch); `models.activations` does the capturing.

A capture is per token: a character of ABC text (`kind` "chars"), or an event of a MIDI
encoding (`kind` "events": `text` is the event text, `tokens` its events, and `settings` the
encoding's plain-data settings, so a saved file can still be labelled and probed as music).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.errors import EngineError

PROBS = "probs"
_TEXT_KEY = "__text__"
_VOCAB_KEY = "__vocab__"
_ARCH_KEY = "__arch__"
_KIND_KEY = "__kind__"
_SETTINGS_KEY = "__settings__"


class CaptureCancelled(EngineError):
    """The caller's should_stop() returned True during a capture."""


class ActivationsError(EngineError):
    """An activations file that cannot be read."""


@dataclass
class Activations:
    """Per-token states of one text. Arrays are float32, one row per token of `text` (per
    character, or per event of an event text: see `tokens`).

    Names: `layer{k}.hidden` (T, H) for every layer k, `layer{k}.cell` (T, H) for LSTMs, and
    `probs` (T, V): the distribution over `vocab` of the token after each position.
    """

    text: str
    vocab: list[str]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    arch: str = ""
    kind: str = "chars"  # "chars" or "events", as the tokenizer that read the text
    settings: dict = field(default_factory=dict)  # an event encoding's settings (plain data)

    @property
    def tokens(self) -> list[str]:
        """The tokens the rows belong to: the characters, or the events (split at spaces)."""
        return self.text.split() if self.kind == "events" else list(self.text)

    def __len__(self) -> int:
        return len(self.text.split()) if self.kind == "events" else len(self.text)

    @property
    def layers(self) -> int:
        return sum(1 for k in self.arrays if k.endswith(".hidden"))

    def state_keys(self) -> list[str]:
        """The state arrays' names in layer order (`layer0.hidden`, `layer0.cell`, ...)."""
        return [k for k in self.arrays if k != PROBS]

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def save_npz(self, path: str | Path) -> None:
        """Arrays by name, plus the text, vocabulary, architecture, kind and settings (JSON)
        as unicode arrays."""
        extra = {
            _TEXT_KEY: np.array(self.text),
            _VOCAB_KEY: np.array(self.vocab),
            _ARCH_KEY: np.array(self.arch),
            _KIND_KEY: np.array(self.kind),
            _SETTINGS_KEY: np.array(json.dumps(self.settings)),
        }
        np.savez_compressed(path, **self.arrays, **extra)

    @classmethod
    def load_npz(cls, path: str | Path) -> Activations:
        """Read a file written by `save_npz` (never unpickles: allow_pickle=False)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise ActivationsError(f"{path}: not a readable activations file ({exc})") from None
        if _TEXT_KEY not in arrays or _VOCAB_KEY not in arrays:
            raise ActivationsError(f"{path}: not an activations file (no text or vocabulary)")
        text = str(arrays.pop(_TEXT_KEY))
        vocab = [str(v) for v in arrays.pop(_VOCAB_KEY)]
        arch = str(arrays.pop(_ARCH_KEY, np.array("")))
        kind = str(arrays.pop(_KIND_KEY, np.array("chars")))  # files from before events
        try:
            settings = json.loads(str(arrays.pop(_SETTINGS_KEY, np.array("{}"))))
        except ValueError:
            raise ActivationsError(f"{path}: the encoding settings are not JSON") from None
        if kind not in ("chars", "events") or not isinstance(settings, dict):
            raise ActivationsError(f"{path}: unknown kind of activations ({kind!r})")
        acts = cls(text=text, vocab=vocab, arrays=arrays, arch=arch, kind=kind, settings=settings)
        for key, arr in arrays.items():
            if arr.ndim != 2 or arr.shape[0] != len(acts):
                raise ActivationsError(f"{path}: array {key!r} does not match the text length")
        return acts
