"""DATA specs -> the texts a run trains on, for either kind of data (Qt-free).

The command line (`workbench train`, `evaluate`) and the GUI's training process read data the
same way, here: ABC files, folders and collections become tune texts; MIDI files, folders and
`corpus:bach-chorales` become event texts under an encoding. An event model keeps its encoding:
continuing or fine-tuning one reads the MIDI with the checkpoint's own settings, whatever the
caller would otherwise use. A fresh run on MIDI gets an `EventTokenizer` fitted on its training
pieces (a char run's tokenizer is the trainer's default), and a model only reads its own kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.corpus.tune import Problem


class DataKindError(ValueError):
    """A model and data of different kinds, or an encoding other than a model's own."""


@dataclass
class TrainingData:
    """The texts of DATA and how they were read: `settings` is the MIDI encoding (None: ABC)."""

    texts: list[str]
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    settings: dict[str, Any] | None = None
    chars: int = 0  # characters (ABC) or events (MIDI) in all

    @property
    def midi(self) -> bool:
        return self.settings is not None

    @property
    def unit(self) -> str:
        """What one token is: "char" or "event" (as the tokenizers name it)."""
        return "event" if self.midi else "char"

    @property
    def noun(self) -> str:
        """What one text is: "pieces" or "tunes"."""
        return "pieces" if self.midi else "tunes"

    def summary(self) -> str:
        """`8 pieces (6,043 REMI events) from 8 file(s)` or `40 tunes (12,345 characters) ...`."""
        if self.midi:
            from workbench.midi_data import describe

            size = f"{self.chars:,} {describe(self.settings or {})} events"
        else:
            size = f"{self.chars:,} characters"
        return f"{len(self.texts)} {self.noun} ({size}) from {self.files} file(s)"

    def tokenizer(self, train_texts: Sequence[str]) -> Any:
        """The tokenizer of a fresh run on these texts: an EventTokenizer fitted on the training
        pieces for MIDI; None for ABC (the trainer fits its CharTokenizer itself)."""
        if not self.midi:
            return None
        from models.tokenizer import EventTokenizer

        return EventTokenizer.fit(train_texts, self.settings)


def checkpoint_settings(tokenizer: Any) -> dict[str, Any] | None:
    """The MIDI encoding a checkpoint's tokenizer was trained on (None: a char model)."""
    if tokenizer is None or getattr(tokenizer, "kind", "chars") != "events":
        return None
    return getattr(tokenizer, "settings", None)


def check_data_kind(tokenizer: Any, midi: bool, what: str = "the checkpoint") -> None:
    """A char model reads ABC, an event model MIDI: DataKindError naming both otherwise."""
    if tokenizer is None:
        return
    events = tokenizer.kind == "events"
    if events != midi:
        model = "a MIDI event model" if events else "a character (ABC) model"
        data = "MIDI" if midi else "ABC text"
        raise DataKindError(f"{what} is {model}; it cannot read {data}")


def midi_settings(
    encoding: str | None = None,
    velocities: bool = False,
    tokenizer: Any = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The encoding to read MIDI with: a checkpoint `tokenizer`'s own when there is one, else
    `settings` (made already), else `encoding` (default REMI) with `velocities`.

    An `encoding` named explicitly that is not the checkpoint's is refused (DataKindError): a
    model keeps its encoding. Settings made elsewhere (a dataset loaded under another encoding)
    give way to the checkpoint's without a word: the data is read again as the model needs it.
    """
    from workbench.midi_data import DEFAULT_ENCODING, make_settings

    stored = checkpoint_settings(tokenizer)
    if stored is not None:
        if encoding is not None and encoding != stored.get("encoding"):
            raise DataKindError(
                f"the checkpoint's events are {stored.get('encoding')}, not {encoding}: "
                "a model keeps its encoding"
            )
        return stored
    if settings is not None:
        return settings
    return make_settings(encoding or DEFAULT_ENCODING, velocities=velocities)


def load_training_data(
    specs: Sequence[str],
    *,
    tokenizer: Any = None,
    encoding: str | None = None,
    velocities: bool = False,
    settings: dict[str, Any] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainingData:
    """Read DATA `specs` as a model of `tokenizer`'s kind reads them (None: any fresh model).

    MIDI is read with :func:`midi_settings`' encoding; DataKindError when the data is not of
    the model's kind (checked before anything is read), CorpusError for unusable specs or
    data that mixes MIDI and ABC. Per-file problems are listed, not raised; `texts` may be
    empty (the caller says what that means).
    """
    from workbench.midi_data import data_is_midi

    specs = [str(s) for s in specs]
    midi = data_is_midi(specs)
    check_data_kind(tokenizer, midi)
    if midi:
        from workbench.midi_data import load_midi

        chosen = midi_settings(encoding, velocities, tokenizer, settings)
        result = load_midi(specs, chosen, progress=progress, should_stop=should_stop)
        return TrainingData(
            texts=result.texts,
            problems=list(result.problems),
            files=len(result.files),
            settings=result.settings,
            chars=result.events,
        )
    if encoding is not None or velocities:
        raise DataKindError("an encoding and velocities are for MIDI data, not ABC text")
    from workbench.corpus import load

    loaded = load(specs, progress=progress, should_stop=should_stop)
    return TrainingData(
        texts=[t.text for t in loaded.tunes],
        problems=list(loaded.problems),
        files=loaded.sources,
        chars=loaded.chars,
    )
