"""Fuzzing the corpus readers: ABC tunebooks and `<start>`/`<end>` files, as text and as files.

Inputs are real tunebooks from music21's folk collections (raw bytes, comments and free text
included), mutated: bytes flipped, spans dropped or repeated, ABC snippets and markers spliced
in, re-encoded as Latin-1 or UTF-16; and arbitrary bytes. The loader's promise (loader.py):
after the specs are checked nothing raises; a bad file or tune becomes a `Problem` naming it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fuzzing import (
    Material,
    fuzz_case,
    fuzz_settings,
    mutated_bytes,
    mutated_text,
    real_abc_chunks,
)
from hypothesis import given
from hypothesis import strategies as st

from workbench.corpus import load, normalise_text, split_abc, split_start_end
from workbench.corpus.text import UnreadableFile, decode_bytes

REAL = real_abc_chunks()
REAL_TEXT = [normalise_text(decode_bytes(chunk)) for chunk in REAL]


def _wrapped(text: str) -> str:
    """A real tunebook in the reports' format: each tune between `<start>` and `<end>`."""
    tunes = text.split("\nX:")
    return "".join(f"<start>\n{t if i == 0 else 'X:' + t}\n<end>\n" for i, t in enumerate(tunes))


START_END_TEXT = [_wrapped(text) for text in REAL_TEXT]


def _check_tunes(tunes, problems, source: str, lines: int) -> None:
    """What every split promises: clean tunes numbered in order, problems that name the file
    and a line of it."""
    for index, tune in enumerate(tunes):
        assert tune.index == index and tune.source == source
        assert 1 <= tune.line <= lines
        assert tune.text and all(line and line == line.rstrip() for line in tune.text.split("\n"))
    for problem in problems:
        assert problem.source == source and problem.message
        assert problem.line is None or 1 <= problem.line <= lines
        assert str(problem).startswith(source)


@fuzz_settings()
@given(mutated_text(Material("real tunebooks", REAL_TEXT)))
@fuzz_case
def test_abc_tunebooks(text: str) -> None:
    text = normalise_text(text)
    tunes, problems = split_abc(text, "book.abc")
    assert tunes or problems
    _check_tunes(tunes, problems, "book.abc", text.count("\n") + 1)
    for tune in tunes:
        assert tune.text.startswith("X:") and "\nK:" in tune.text


@fuzz_settings()
@given(mutated_text(Material("real <start>/<end> files", START_END_TEXT)))
@fuzz_case
def test_start_end_files(text: str) -> None:
    text = normalise_text(text)
    tunes, problems = split_start_end(text, "tunes.txt")
    assert tunes or problems
    _check_tunes(tunes, problems, "tunes.txt", text.count("\n") + 1)
    for tune in tunes:
        assert not {"<start>", "<end>"} & {line.strip() for line in tune.text.split("\n")}


def _encoded(data: bytes, encoding: str) -> bytes:
    """Real bytes as another encoding would have written them (the text they stand for)."""
    if encoding == "as-is":
        return data
    text = data.decode("utf-8", errors="replace")
    if encoding == "utf-8-sig":
        return text.encode("utf-8-sig")
    if encoding == "utf-16":
        return text.encode("utf-16")  # with its BOM
    return text.encode("latin-1", errors="replace")


file_bytes = st.one_of(
    st.builds(
        _encoded,
        mutated_bytes(
            Material("real files", REAL + [_wrapped(t).encode() for t in REAL_TEXT[:10]])
        ),
        st.sampled_from(["as-is", "as-is", "utf-8-sig", "utf-16", "latin-1"]),
    ),
    st.binary(max_size=2048),
    st.sampled_from([b"", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff\x00", b"<start>"]),
)


@fuzz_settings(0.5)
@given(file_bytes, st.sampled_from(["tunes.abc", "tunes.txt", "TUNES.ABC", "no_suffix"]))
@fuzz_case
def test_load_any_file(data: bytes, name: str) -> None:
    """A file given by name: whatever it holds, one LoadResult, with the file listed as read and
    a problem naming it when it gives no tune."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, name)
        path.write_bytes(data)
        result = load([path])
    source = str(path)
    assert result.files == [source]
    assert result.tunes or result.problems
    assert all(p.source == source and p.message for p in result.problems)
    assert all(t.source == source for t in result.tunes)
    try:
        decode_bytes(data)
    except UnreadableFile as error:  # unreadable as text: exactly that one problem
        assert [p.message for p in result.problems] == [str(error)]


@fuzz_settings(0.25)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a.abc", "b.txt", "c/d.abc", "e/f.txt"]), file_bytes),
        min_size=1,
        max_size=4,
        unique_by=lambda item: item[0],
    )
)
@fuzz_case
def test_load_any_folder(files: list[tuple[str, bytes]]) -> None:
    """A folder of such files: every problem names a file of the folder; `.txt` files without
    `<start>` lines are passed over, so they are never reported."""
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files:
            Path(folder, name).parent.mkdir(exist_ok=True)
            Path(folder, name).write_bytes(data)
        result = load([folder])
        sources = {str(Path(folder, name)) for name, _ in files}
    assert set(result.files) <= sources
    assert all(p.source in result.files for p in result.problems)
    abc_files = {str(Path(folder, name)) for name, _ in files if name.endswith(".abc")}
    assert abc_files <= set(result.files)
