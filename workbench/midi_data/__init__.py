"""MIDI as training data: the second data kind, beside ABC text (Qt-free).

A data kind is three pieces (ARCHITECTURE.md): a reader (files, folders, `corpus:bach-chorales`
-> pieces, with per-file problems: :mod:`.reader`), an encoding whose settings travel in the
checkpoint's event tokenizer (:mod:`.encodings`: MidiTok's REMI/TSD/MIDI-like through symusic,
or the reports' notes-and-chords through music21), and a renderer (events -> MIDI:
:mod:`.render`). The engine (`models`) sees only event texts and ids. Typical use::

    from models.tokenizer import EventTokenizer
    from workbench.midi_data import load_midi, make_settings

    settings = make_settings("remi")
    result = load_midi(["my_midi_folder/"], settings)
    tokenizer = EventTokenizer.fit(result.texts, result.settings)  # with the data's tempo
"""

from workbench.midi_data.chorales import CHORALES_SPEC, chorale_midi_files
from workbench.midi_data.encodings import (
    DEFAULT_ENCODING,
    DEFAULT_TEMPO,
    ENCODINGS,
    MIDI_SUFFIXES,
    TEMPO_KEY,
    DecodeError,
    MidiFileProblem,
    codec_for,
    describe,
    main_tempo,
    make_settings,
    read_score,
)
from workbench.midi_data.reader import (
    MidiLoadCancelled,
    MidiLoadResult,
    Piece,
    data_is_midi,
    is_midi_spec,
    load_midi,
)
from workbench.midi_data.render import (
    Rendered,
    midi_bytes,
    prompt_from_midi,
    prompt_from_piece,
    prompt_tempo,
    render,
    tempo_of,
    write_midi,
)

__all__ = [
    "CHORALES_SPEC",
    "DEFAULT_ENCODING",
    "DEFAULT_TEMPO",
    "ENCODINGS",
    "MIDI_SUFFIXES",
    "TEMPO_KEY",
    "DecodeError",
    "MidiFileProblem",
    "MidiLoadCancelled",
    "MidiLoadResult",
    "Piece",
    "Rendered",
    "chorale_midi_files",
    "codec_for",
    "data_is_midi",
    "describe",
    "is_midi_spec",
    "load_midi",
    "main_tempo",
    "make_settings",
    "midi_bytes",
    "prompt_from_midi",
    "prompt_from_piece",
    "prompt_tempo",
    "read_score",
    "render",
    "tempo_of",
    "write_midi",
]
