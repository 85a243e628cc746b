"""What an event model reads in the neuron viewer and `workbench activations` (Qt-free): a MIDI
file encoded with the checkpoint's own settings, an event text file (`workbench generate`
writes one beside each `.mid`), or a piece of the loaded MIDI data, read again from its file.

Encoding with the *checkpoint's* settings matters: the loaded data may have been read with
another encoding than the model's, and an event text of another encoding is mostly `<unk>`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from models.errors import DataError
from workbench.midi_data.cache import cache_dir
from workbench.midi_data.chorales import CHORALES, CHORALES_SPEC
from workbench.midi_data.encodings import MIDI_SUFFIXES, MidiFileProblem, codec_for, text_of

#: File suffixes the viewer's open dialog offers for event models.
EVENT_FILE_PATTERNS = ("*.mid", "*.midi", "*.kar", "*.events.txt", "*.txt")


def events_from_file(path: str | os.PathLike[str], settings: dict[str, Any]) -> str:
    """The event text of a MIDI file (encoded per `settings`) or of an event text file.

    DataError naming the file when it cannot be read or holds no events.
    """
    path = Path(path)
    if path.suffix.lower() in MIDI_SUFFIXES:
        try:
            events = codec_for(settings).encode_file(path)
        except MidiFileProblem as exc:
            raise DataError(f"{path}: {exc}") from None
    else:
        try:
            events = path.read_text(encoding="utf-8").split()
        except OSError as exc:
            raise DataError(f"{path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise DataError(f"{path}: not a MIDI file nor a text of events") from None
    if not events:
        raise DataError(f"{path}: no events")
    return text_of(events)


def piece_file(piece: Any) -> Path | None:
    """The MIDI file a loaded piece (`midi_data.Piece`) was read from, if it is still there:
    its `path`, else its source (a file, or a Bach chorale's converted file in the cache)."""
    source = str(piece.source)
    if getattr(piece, "path", ""):
        path = Path(piece.path)
    elif source.lower().startswith(CHORALES_SPEC + "/"):
        path = cache_dir("midi", CHORALES) / f"{source.split('/', 1)[1]}.mid"
    else:
        path = Path(source)
    return path if path.is_file() else None


def check_events(text: str, vocab: list[str], what: str) -> None:
    """DataError when `text` is not events the model knows (ABC text given to an event model,
    or events of another encoding): nothing but `<unk>` would be read."""
    known = set(vocab)
    tokens = text.split()
    if not tokens or not any(tok in known for tok in tokens):
        raise DataError(
            f"{what} reads MIDI events, and none of this text's are in its vocabulary: "
            "open a MIDI file or pick a piece"
        )
