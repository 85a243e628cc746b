"""Fuzzing the MIDI reader: damaged real MIDI files give per-file problems, never an exception.

`load_midi` (workbench/midi_data/reader.py) promises: once the specs are checked, a broken file
becomes a `Problem` naming it (its reason from `MidiFileProblem`) and the rest loads. The
material is real MIDI bytes (`fuzzing.real_midi_files`: music21's MIDI test files, a two-hand
file written by mido, a folk tune written by music21), damaged as files get damaged: bits
flipped, bytes dropped or inserted, the file cut short, and the structure attacked directly: a
chunk's length field set to 0, to past the end or to 4 GiB, the header's format, track count and
division (ticks per quarter 0, SMPTE) rewritten. Each case loads the damaged file beside an
intact one, so it also checks that one bad file never costs the others.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzzing import Material, fuzz_case, fuzz_settings, mutated_bytes, real_midi_files
from hypothesis import given
from hypothesis import strategies as st

from workbench.midi_data import load_midi, make_settings
from workbench.midi_data.cache import CACHE_ENV

FILES = real_midi_files()
INTACT = "two_hands.mid"
SETTINGS = {name: make_settings(name) for name in ("remi", "tsd", "midilike")}


@pytest.fixture(scope="module", autouse=True)
def _private_cache() -> Iterator[None]:
    """The notes-and-chords encoding caches per file: never in the user's cache folder."""
    before = os.environ.get(CACHE_ENV)
    with tempfile.TemporaryDirectory() as folder:
        os.environ[CACHE_ENV] = folder
        yield
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


def _chunks(data: bytes) -> list[int]:
    """Offsets of the chunk ids (`MThd`, `MTrk`) in `data`."""
    return [i for i in range(len(data) - 3) if data[i : i + 4] in (b"MThd", b"MTrk")]


@st.composite
def structure_damage(draw) -> bytes:
    """A real file with its chunk structure attacked: a length field or a header field."""
    data = bytearray(FILES[draw(st.sampled_from(sorted(FILES)))])
    for _ in range(draw(st.integers(1, 3))):
        chunks = _chunks(bytes(data))
        if not chunks:
            break
        at = draw(st.sampled_from(chunks))
        kind = draw(st.sampled_from(["length", "length", "format", "tracks", "division", "id"]))
        if kind == "length":
            size = int.from_bytes(data[at + 4 : at + 8], "big")
            new = draw(st.sampled_from([0, 1, size - 1, size + 1, size * 2, 2**31, 2**32 - 1]))
            data[at + 4 : at + 8] = min(max(0, new), 2**32 - 1).to_bytes(4, "big")
        elif kind == "id":
            data[at : at + 4] = draw(st.sampled_from([b"MTrk", b"MThd", b"RIFF", b"\0\0\0\0"]))
        elif data[at : at + 4] == b"MThd" and len(data) >= at + 14:
            field = {"format": 8, "tracks": 10, "division": 12}[kind]
            value = draw(st.sampled_from([0, 1, 2, 3, 0x7FFF, 0x8000, 0xE728, 0xFFFF]))
            data[at + field : at + field + 2] = value.to_bytes(2, "big")
    return bytes(data)


damaged_midi = st.one_of(
    mutated_bytes(Material("real MIDI files", FILES.values())),
    structure_damage(),
    st.builds(lambda data, n: data[:n], st.sampled_from(list(FILES.values())), st.integers(0, 64)),
    st.binary(max_size=64).map(lambda tail: b"MThd\0\0\0\x06\0\x01\0\x01\x01\xe0MTrk" + tail),
)


@fuzz_settings(0.5)
@given(damaged_midi, st.sampled_from(sorted(SETTINGS)), st.sampled_from([".mid", ".midi", ".kar"]))
@fuzz_case
def test_damaged_midi_files(data: bytes, encoding: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        bad = Path(folder, "damaged" + suffix)
        bad.write_bytes(data)
        Path(folder, INTACT).write_bytes(FILES[INTACT])
        result = load_midi([folder], SETTINGS[encoding])
    assert sorted(result.files) == sorted([str(bad), str(Path(folder, INTACT))])
    assert str(Path(folder, INTACT)) in [p.source for p in result.pieces]  # never lost
    for problem in result.problems:
        assert problem.source == str(bad) and problem.message and "\n" not in problem.message
    if str(bad) not in [p.source for p in result.pieces]:
        assert [p.source for p in result.problems] == [str(bad)]
    for piece in result.pieces:
        assert piece.events == len(piece.text.split()) > 0


@fuzz_settings(0.01)
@given(damaged_midi)
@fuzz_case
def test_damaged_midi_files_in_the_reports_encoding(data: bytes) -> None:
    """The notes-and-chords encoding reads the file through music21 (seconds a file): a few
    cases, for the same promise."""
    with tempfile.TemporaryDirectory() as folder:
        bad = Path(folder, "damaged.mid")
        bad.write_bytes(data)
        result = load_midi([bad], make_settings("notes-chords"))
    assert result.files == [str(bad)]
    assert len(result.pieces) + len(result.problems) == 1
