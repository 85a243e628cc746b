"""Loading crafted (and often broken) files, folders and exports through ``load``."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.corpus import (
    CorpusError,
    LoadCancelled,
    LoadResult,
    Tune,
    export_abc,
    export_start_end,
    load,
)

WriteFile = Callable[[str, str | bytes], Path]  # the ``write`` fixture of conftest.py

GOOD_ABC = "X:1\nT:Good One\nK:D\n|:DFA dAF:|\n\nX:2\nT:Good Two\nK:G\nGAB c2d|\n"
START_END = "<start>\nX:1\nT:Generated\nK:D\nabc|\n<end>\n"


def texts(result: LoadResult) -> list[str]:
    return [tune.text for tune in result.tunes]


def only_problem(result: LoadResult) -> str:
    assert len(result.problems) == 1, result.problems
    return str(result.problems[0])


def test_empty_file(write: WriteFile) -> None:
    path = write("empty.abc", "")
    result = load([path])
    assert result.tunes == []
    assert only_problem(result) == f"{path}: empty file"
    assert result.sources == 1


def test_binary_file(write: WriteFile) -> None:
    noise = bytes(random.Random(7).randrange(256) for _ in range(4096)) + b"\0\0"
    path = write("noise.abc", noise)
    result = load([path])
    assert result.tunes == []
    assert only_problem(result) == f"{path}: binary file, not text"


def test_too_large_file(write: WriteFile) -> None:
    path = write("huge.abc", b"")
    with path.open("wb") as stream:
        stream.truncate(100 * 1024 * 1024)
    assert only_problem(load([path])) == f"{path}: file too large (100 MiB > 64 MiB)"


def test_latin1_title(write: WriteFile) -> None:
    path = write("latin.abc", "X:1\nT:Café de la Paix\nK:D\nabc|\n".encode("latin-1"))
    result = load([path])
    assert result.problems == []
    assert result.tunes[0].title == "Café de la Paix"


def test_crlf_file(write: WriteFile) -> None:
    path = write("dos.abc", GOOD_ABC.replace("\n", "\r\n"))
    result = load([path])
    assert result.problems == []
    assert texts(result) == texts(load([write("unix.abc", GOOD_ABC)]))
    assert all("\r" not in text for text in texts(result))


def test_start_end_crlf_latin1(write: WriteFile) -> None:
    data = START_END.replace("Generated", "Généré").replace("\n", "\r\n").encode("latin-1")
    result = load([write("gen.txt", data)])
    assert texts(result) == ["X:1\nT:Généré\nK:D\nabc|"]


def test_start_without_end(write: WriteFile) -> None:
    content = START_END + "<start>\nX:2\nT:Cut off\nK:D\n<start>\nX:3\nK:A\na|\n<end>\n"
    path = write("gen.txt", content)
    result = load([path])
    assert [tune.reference for tune in result.tunes] == ["1", "3"]
    assert only_problem(result).startswith(f"{path}:7: <start> has no matching <end>")


def test_abc_file_with_no_tunes(write: WriteFile) -> None:
    path = write("notes.abc", "Some notes about fiddling.\n% and a comment\n")
    assert only_problem(load([path])) == f"{path}: no tunes found (no X: or K: field)"


def test_tune_missing_key(write: WriteFile) -> None:
    path = write("book.abc", GOOD_ABC + "\nX:3\nT:Keyless\nabc|\n")
    result = load([path])
    assert len(result.tunes) == 2
    assert only_problem(result) == f'{path}:11: tune X:3 "Keyless" has no K: field; skipped'


def test_file_format_is_chosen_by_content(write: WriteFile) -> None:
    assert texts(load([write("gen.abc", START_END)])) == ["X:1\nT:Generated\nK:D\nabc|"]
    assert len(load([write("book.txt", GOOD_ABC)]).tunes) == 2


def test_folder_with_good_and_bad_files(write: WriteFile, tmp_path: Path) -> None:
    write("data/b.abc", GOOD_ABC)
    write("data/a.ABC", "X:5\nT:First by name\nK:D\na|\n")
    write("data/sub/gen.txt", START_END)
    write("data/sub/empty.abc", "")
    write("data/sub/noise.abc", b"\0\1\2\3" * 100)
    write("data/README.txt", "Tunes collected in 2024.\n")  # no markers: passed over
    write("data/notes.txt", "")  # empty .txt: passed over quietly
    write("data/tunes.mid", b"MThd\0\0")  # not a data suffix
    write("data/.hidden/secret.abc", GOOD_ABC)
    write("data/.hidden.abc", GOOD_ABC)
    folder = tmp_path / "data"

    result = load([folder])

    assert [Path(tune.source).name for tune in result.tunes] == [
        "a.ABC",
        "b.abc",
        "b.abc",
        "gen.txt",
    ]
    assert [tune.title for tune in result.tunes] == [
        "First by name",
        "Good One",
        "Good Two",
        "Generated",
    ]
    assert sorted(str(problem) for problem in result.problems) == [
        f"{folder / 'sub' / 'empty.abc'}: empty file",
        f"{folder / 'sub' / 'noise.abc'}: binary file, not text",
    ]
    assert result.sources == 5


def test_folder_with_no_data_files(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=r"folder '.*empty' holds no \.abc or \.txt files"):
        load([tmp_path / "empty"])


def test_nonexistent_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.abc"
    with pytest.raises(CorpusError) as caught:
        load([missing])
    assert str(caught.value) == f"data path '{missing}' does not exist"


def test_bad_spec_fails_before_anything_is_read(write: WriteFile, tmp_path: Path) -> None:
    seen: list[str] = []
    good = write("good.abc", GOOD_ABC)
    with pytest.raises(CorpusError, match="unknown corpus 'nope'"):
        load([good, "corpus:nope"], progress=lambda done, total, source: seen.append(source))
    assert seen == []


def test_single_spec_and_duplicates(write: WriteFile, tmp_path: Path) -> None:
    path = write("d/book.abc", GOOD_ABC)
    assert len(load(str(path)).tunes) == 2
    result = load([path, tmp_path / "d", str(path)])
    assert len(result.tunes) == 2
    assert result.sources == 1


def test_progress_and_cancel(write: WriteFile, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        write(f"d/{name}.abc", GOOD_ABC)
    calls: list[tuple[int, int, str]] = []
    load([tmp_path / "d"], progress=lambda *args: calls.append(args))
    assert [(done, total, Path(source).name) for done, total, source in calls] == [
        (1, 3, "a.abc"),
        (2, 3, "b.abc"),
        (3, 3, "c.abc"),
    ]

    asked = iter([False, True])
    with pytest.raises(LoadCancelled) as caught:
        load([tmp_path / "d"], should_stop=lambda: next(asked))
    assert caught.value.partial.sources == 1
    assert len(caught.value.partial.tunes) == 2


def test_export_abc_round_trip(ryans: LoadResult, tmp_path: Path) -> None:
    tunes = ryans.tunes[:200]
    path = tmp_path / "out.abc"
    assert export_abc(tunes, path) == 200
    text = path.read_text(encoding="utf-8")
    assert text.count("\n\n") == 199 and text.endswith("\n") and not text.endswith("\n\n")
    back = load([path])
    assert back.problems == []
    assert texts(back) == [tune.text for tune in tunes]
    assert [tune.line for tune in back.tunes][:2] == [1, tunes[0].text.count("\n") + 3]


def test_export_start_end_round_trip(essen: LoadResult, tmp_path: Path) -> None:
    generated = Tune("T:No reference\nK:D\nabc|", "generated", 0, 1)
    tunes = [*essen.tunes[:300], generated]
    path = tmp_path / "out.txt"
    assert export_start_end(tunes, path) == 301
    back = load([path])
    assert back.problems == []
    assert texts(back) == [tune.text for tune in tunes]


def test_export_abc_of_plain_strings(tmp_path: Path) -> None:
    path = tmp_path / "gen.abc"
    count = export_abc(["T:Made up\r\nK:D\n\nabc|  \n", "", "X:9\nK:G\ng|"], path)
    assert count == 2
    assert path.read_text(encoding="utf-8") == "X:1\nT:Made up\nK:D\nabc|\n\nX:9\nK:G\ng|\n"


def test_export_is_atomic_and_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "out.abc"
    path.write_text("old")
    path.chmod(0o600)
    export_abc([Tune("X:1\nK:D\na|", "s", 0, 1)], path)
    assert path.read_text(encoding="utf-8") == "X:1\nK:D\na|\n"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["out.abc"]  # no temporary file left behind

    with pytest.raises(ValueError, match="<end>"):
        export_start_end([Tune("X:1\nK:D\n<end>\na|", "s", 0, 1)], path)
    assert path.read_text(encoding="utf-8") == "X:1\nK:D\na|\n"

    with pytest.raises(OSError):
        export_abc([], tmp_path / "no" / "such" / "dir.abc")


def test_unreadable_subfolder_is_reported_and_the_rest_loads(
    write: WriteFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = write("data/good.abc", GOOD_ABC)
    locked = tmp_path / "data" / "locked"
    write("data/locked/hidden.abc", GOOD_ABC)
    locked.chmod(0)
    if os.geteuid() == 0 and os.access(locked, os.R_OK):
        # root reads through file modes: make the listing fail as it would for a user.
        real_scandir = os.scandir

        def scandir(path: object = ".") -> object:
            if Path(os.fspath(path)) == locked:
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
    try:
        result = load([tmp_path / "data"])
    finally:
        locked.chmod(0o755)
    assert [str(problem) for problem in result.problems] == [
        f"{locked}: cannot read folder (Permission denied)"
    ]
    assert result.files == [str(good)]
    assert texts(result) == texts(load([good]))


def test_symlink_loop_in_a_folder_is_a_problem_not_a_crash(
    write: WriteFile, tmp_path: Path
) -> None:
    good = write("data/good.abc", GOOD_ABC)
    (tmp_path / "data" / "a.abc").symlink_to("b.abc")
    (tmp_path / "data" / "b.abc").symlink_to("a.abc")
    result = load([tmp_path / "data"])
    loops = [tmp_path / "data" / name for name in ("a.abc", "b.abc")]
    assert result.files == [str(loops[0]), str(loops[1]), str(good)]
    assert [str(problem) for problem in result.problems] == [
        f"{path}: cannot read file (Too many levels of symbolic links)" for path in loops
    ]
    assert len(result.tunes) == 2


def test_odd_specs_fail_with_their_reason(tmp_path: Path) -> None:
    dangling = tmp_path / "gone.abc"
    dangling.symlink_to(tmp_path / "nothing-here.abc")
    with pytest.raises(CorpusError) as caught:
        load([dangling])
    assert str(caught.value) == f"data path '{dangling}' is a symbolic link that leads nowhere"
    fifo = tmp_path / "pipe.abc"
    os.mkfifo(fifo)
    with pytest.raises(CorpusError) as caught:
        load([fifo])
    assert str(caught.value) == f"data path '{fifo}' is not a file or folder"


def test_files_lists_every_source_read(write: WriteFile) -> None:
    good, empty = write("good.abc", GOOD_ABC), write("empty.abc", "")
    result = load([good, empty, "corpus:ryansMammoth/LanigansBallJig.abc"])
    assert result.files == [str(good), str(empty), "corpus:ryansMammoth/LanigansBallJig.abc"]
    assert result.tunes[-1].source == "corpus:ryansMammoth/LanigansBallJig.abc"


def test_export_refuses_a_marker_line_naming_the_tune(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as caught:
        export_abc(["X:7\nT:Bad\nK:D\n<start>\na|"], tmp_path / "out.abc")
    assert str(caught.value) == "tune 'X:7' holds a <start> or <end> line"
    assert not (tmp_path / "out.abc").exists()
