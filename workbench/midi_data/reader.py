"""Reading MIDI training data: files, folders and `corpus:bach-chorales` -> event pieces.

:func:`load_midi` takes DATA arguments as the ABC loader does (`workbench.corpus.load`) and gives
one :class:`Piece` per usable file, its events as the text the event tokenizer reads. All specs
are checked before any file is read (a typo fails at once with `CorpusError`); after that a
broken file (truncated, empty, drums only, no notes, type 2) becomes a `Problem` naming the
file and the rest loads. A file named twice is read once.

Each piece keeps its file's main tempo, and `load_midi` records the median of them in the
settings it returns when the settings it was given had none (`settings["tempo"]` None): the
settings travel in the checkpoint, so a model's pieces play at the tempo of the music it learnt
from (render.py).

A piece is one file, and it stays whole: the trainer splits training from validation by piece
(`split_texts` splits its list of texts), never by window.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.corpus.tune import CorpusError, Problem
from workbench.midi_data.chorales import (
    CHORALES_SPEC,
    ConversionCancelled,
    chorale_midi_files,
    is_chorales_spec,
)
from workbench.midi_data.encodings import (
    MIDI_SUFFIXES,
    TEMPO_KEY,
    MidiFileProblem,
    MidiTokCodec,
    codec_for,
    main_tempo,
    read_score,
    text_of,
)

Spec = str | os.PathLike[str]
ProgressCallback = Callable[[int, int, str], None]
StopCallback = Callable[[], bool]

_ABC_SUFFIXES = (".abc",)


@dataclass(frozen=True, slots=True)
class Piece:
    """One MIDI file's events, as the text the event tokenizer reads."""

    source: str
    text: str
    events: int
    #: The MIDI file read (for a chorale, its converted file in the cache): a prompt taken
    #: from this piece under another encoding reads it again.
    path: str = ""
    #: The file's main tempo in quarter notes per minute (None: the file sets none).
    tempo: float | None = None

    @property
    def name(self) -> str:
        """The piece's file name without its folder and suffix (`bwv269`, `sonata_1`)."""
        return Path(self.source).stem or self.source


@dataclass(slots=True)
class MidiLoadResult:
    """What :func:`load_midi` found; `files` lists every file read, usable or not."""

    pieces: list[Piece] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: The encoding's settings the pieces were read with (`encodings.make_settings`).
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return sum(p.events for p in self.pieces)

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.pieces]

    def summary(self) -> str:
        """One line such as `"8 pieces (6,043 REMI events) from 9 files, 1 problem"`."""
        from workbench.midi_data.encodings import describe

        files, problems = len(self.files), len(self.problems)
        return (
            f"{len(self.pieces):,} piece{'s' if len(self.pieces) != 1 else ''} "
            f"({self.events:,} {describe(self.settings)} events) from {files:,} "
            f"file{'s' if files != 1 else ''}, {problems:,} problem{'s' if problems != 1 else ''}"
        )


class MidiLoadCancelled(Exception):
    """`should_stop` said so; `partial` holds what was loaded before."""

    def __init__(self, partial: MidiLoadResult) -> None:
        super().__init__("loading cancelled")
        self.partial = partial


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _walk(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files below `folder` with one of `suffixes` (case-insensitive), sorted, hidden skipped."""
    found = []
    for directory, subdirs, files in os.walk(folder):
        subdirs[:] = [d for d in subdirs if not _is_hidden(d)]
        found.extend(
            Path(directory, name)
            for name in files
            if not _is_hidden(name) and Path(name).suffix.lower() in suffixes
        )
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def is_midi_spec(spec: Spec) -> bool:
    """Whether a DATA argument stands for MIDI: a MIDI file, `corpus:bach-chorales`, or a
    folder that holds MIDI files and no ABC files."""
    if is_chorales_spec(spec):
        return True
    path = Path(spec).expanduser()
    if path.is_file():
        return path.suffix.lower() in MIDI_SUFFIXES
    if path.is_dir():
        return bool(_walk(path, MIDI_SUFFIXES)) and not _walk(path, _ABC_SUFFIXES)
    return False


def data_is_midi(specs: Iterable[Spec]) -> bool:
    """Whether DATA is MIDI (True) or ABC text (False); CorpusError when it mixes the two."""
    specs = list(specs)
    kinds = {is_midi_spec(s) for s in specs}
    if len(kinds) > 1:
        midi = [str(s) for s in specs if is_midi_spec(s)]
        raise CorpusError(
            f"the data mixes MIDI ({', '.join(midi[:3])}) with ABC text: a model reads one kind"
        )
    return kinds == {True}


def _spec_files(
    spec: Spec,
    problems: list[Problem],
    progress: ProgressCallback | None,
    should_stop: StopCallback | None,
) -> list:
    if is_chorales_spec(spec):
        # The first load converts the chorales (minutes): it reports progress and stops
        # when asked, like the reading of files below.
        files, failed = chorale_midi_files(progress=progress, should_stop=should_stop)
        problems.extend(Problem(f"{CHORALES_SPEC}/{name}", reason) for name, reason in failed)
        return [(f"{CHORALES_SPEC}/{p.stem}", p) for p in files]
    path = Path(spec).expanduser()
    if not path.exists():
        raise CorpusError(f"data path '{spec}' does not exist")
    if path.is_file():
        return [(str(path), path)]
    if not path.is_dir():
        raise CorpusError(f"data path '{spec}' is not a file or folder")
    files = _walk(path, MIDI_SUFFIXES)
    if not files:
        raise CorpusError(f"folder '{spec}' holds no MIDI files (.mid, .midi, .kar)")
    return [(str(p), p) for p in files]


def load_midi(
    specs: Iterable[Spec] | Spec,
    settings: dict[str, Any],
    progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
) -> MidiLoadResult:
    """Encode every MIDI file of `specs` with the encoding `settings` (see encodings.py).

    The result's `settings` are a copy of `settings` that records the pieces' median tempo when
    its "tempo" is None (new settings; left None when no file sets one), so that a tokenizer
    fitted with them carries it into the checkpoint. `settings` itself is never changed: a
    dict shared between loads (a checkpoint's, a caller's constant) kept the first data's tempo.

    `progress(done, total, source)` after each file (and, on the first load of
    `corpus:bach-chorales`, after each chorale converted, as "converting NAME ...");
    `should_stop()` before each, raising MidiLoadCancelled with what was loaded so far.
    """
    if isinstance(specs, (str, os.PathLike)):
        specs = [specs]
    settings = dict(settings)
    codec = codec_for(settings)
    result = MidiLoadResult(settings=settings)
    jobs: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    converting = None
    if progress is not None:

        def converting(done: int, total: int, name: str) -> None:
            progress(done, total, f"converting {name} (music21, once)")

    for spec in specs:
        try:
            found = _spec_files(spec, result.problems, converting, should_stop)
        except ConversionCancelled:
            raise MidiLoadCancelled(result) from None
        for source, path in found:
            try:
                key = path.resolve()
            except (OSError, RuntimeError):  # a looping symbolic link: reading it says so
                key = Path(os.path.abspath(path))
            if key not in seen:
                seen.add(key)
                jobs.append((source, path))
    for done, (source, path) in enumerate(jobs, 1):
        if should_stop is not None and should_stop():
            raise MidiLoadCancelled(result)
        result.files.append(source)
        try:
            if isinstance(codec, MidiTokCodec):
                # One read gives both the events and the tempo (a read is most of the time).
                score = read_score(path)
                events = codec.encode_score(score)
                tempo = main_tempo(score)
            else:
                events = codec.encode_file(path)  # music21's own read, cached
                tempo = _tempo_or_none(path)
        except MidiFileProblem as exc:
            result.problems.append(Problem(source, str(exc)))
        else:
            result.pieces.append(Piece(source, text_of(events), len(events), str(path), tempo))
        if progress is not None:
            progress(done, len(jobs), source)
    tempos = [p.tempo for p in result.pieces if p.tempo is not None]
    # Only settings made for new data (`make_settings`: tempo None) take the data's tempo: a
    # checkpoint's settings keep theirs (or their lack of one), so that resuming or
    # fine-tuning on other files still finds the data encoded as the model's was.
    if tempos and TEMPO_KEY in settings and settings[TEMPO_KEY] is None:
        settings[TEMPO_KEY] = round(statistics.median(tempos), 3)
    return result


def _tempo_or_none(path: Path) -> float | None:
    """The main tempo of a MIDI file that has just been encoded (None: it sets none)."""
    try:
        return main_tempo(read_score(path))
    except MidiFileProblem:
        return None
