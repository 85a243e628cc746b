"""Property tests: normalisation and splitting hold their promises for any input."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.corpus import export_abc, export_start_end, load, normalise_text, split_abc
from workbench.corpus.start_end import split_start_end
from workbench.corpus.text import decode_bytes

CONTROL_CHARS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ufeff\r]")

# Lines that look like ABC often enough to produce tunes, problems and markers.
abc_line = st.one_of(
    st.sampled_from(["X:1", "X: 2", "T:Title", "K:D", "K:", "abc|", "", "  ", "%c", "%%x"]),
    st.sampled_from(["<start>", "<end>", " <start> ", "W:words", "M:6/8", "|:d2e:|\t"]),
    st.text(max_size=12),
)
abc_text = st.lists(abc_line, max_size=30).map("\n".join)
SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
MARKERS = ("<start>", "<end>")


@SETTINGS
@given(st.binary(max_size=300))
def test_decode_then_normalise_never_fails(data: bytes) -> None:
    try:
        text = decode_bytes(data)
    except Exception as error:  # only "binary" or bad UTF-16 may be refused
        assert "binary" in str(error) or "UTF-16" in str(error)
        return
    clean = normalise_text(text)
    assert not CONTROL_CHARS.search(clean)
    assert normalise_text(clean) == clean


@SETTINGS
@given(abc_text)
def test_split_tunes_are_clean(text: str) -> None:
    text = normalise_text(text)
    for split in (split_abc, split_start_end):
        tunes, problems = split(text, "f")
        assert tunes or problems
        for index, tune in enumerate(tunes):
            assert tune.index == index
            assert tune.text and "\n\n" not in tune.text
            assert all(line == line.rstrip() and line for line in tune.text.split("\n"))
            assert not any(line.lstrip().startswith("%") for line in tune.text.split("\n"))
        if split is split_abc:
            assert all(tune.text.startswith("X:") for tune in tunes)


@settings(SETTINGS, max_examples=40)
@given(abc_text)
def test_exports_read_back_the_same(text: str) -> None:
    tunes, _ = split_abc(normalise_text(text), "f")
    if any(line.strip() in MARKERS for tune in tunes for line in tune.text.split("\n")):
        with pytest.raises(ValueError, match="<start> or <end> line"):
            export_abc(tunes, "never-written.abc")
        return
    with tempfile.TemporaryDirectory() as folder:
        abc_path = Path(folder, "out.abc")
        export_abc(tunes, abc_path)
        back = load([abc_path]).tunes if tunes else []
        assert [tune.text for tune in back] == [tune.text for tune in tunes]
        text_path = Path(folder, "out.txt")
        export_start_end(tunes, text_path)
        back = load([text_path]).tunes if tunes else []
        assert [tune.text for tune in back] == [tune.text for tune in tunes]
