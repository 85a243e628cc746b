"""Loading music21's bundled folk corpora for real: counts, cleanliness, positions."""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import pytest
from music21.common.pathTools import getCorpusFilePath

from workbench.corpus import CorpusError, LoadResult, builtin_names, list_builtin, load, source_path
from workbench.corpus.builtin import (
    COLLECTIONS,
    _abc_files,
    _bundled_corpus_dir,
    _collection_dir,
    corpus_root,
    is_builtin_spec,
)

# Characters that normalisation must have removed (TAB becomes a space).
CONTROL_CHARS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ufeff]")
KNOWN = "airdsAirs, essenFolksong, folk, miscFolk, oneills1850, ryansMammoth"


@cache
def file_lines(source: str) -> list[str]:
    return Path(source_path(source)).read_text(encoding="utf-8").split("\n")


def assert_clean(result: LoadResult) -> None:
    for tune in result.tunes:
        assert tune.text.startswith("X:"), tune.location
        assert re.search(r"^K:", tune.text, flags=re.MULTILINE), tune.location
        assert "\r" not in tune.text, tune.location
        assert not CONTROL_CHARS.search(tune.text), tune.location
        assert "\n\n" not in tune.text and tune.text == tune.text.rstrip(), tune.location
        assert not any(line.lstrip().startswith("%") for line in tune.text.split("\n"))


def assert_positions(result: LoadResult) -> None:
    """Each tune's source and line point at its X: line; indexes count up per file."""
    expected_index: dict[str, int] = {}
    for tune in result.tunes:
        line = file_lines(tune.source)[tune.line - 1]
        assert line.startswith("X:"), tune.location
        assert line.rstrip() == tune.text.split("\n", 1)[0], tune.location
        assert tune.index == expected_index.get(tune.source, 0), tune.location
        expected_index[tune.source] = tune.index + 1


def test_ryans_mammoth(ryans: LoadResult) -> None:
    assert len(ryans.tunes) == 1059
    assert ryans.problems == []
    assert ryans.sources == 1059
    assert all(tune.source.startswith("corpus:ryansMammoth/") for tune in ryans.tunes)
    assert_clean(ryans)
    assert_positions(ryans)


def test_oneills(oneills: LoadResult) -> None:
    assert len(oneills.tunes) == 2009
    assert oneills.problems == []
    assert oneills.sources == 39
    assert_clean(oneills)
    assert_positions(oneills)
    titles = {tune.title for tune in oneills.tunes}
    assert "Lamentation of Owen Roe O'Neill, The" in titles


def test_essen_keeps_german_letters(essen: LoadResult) -> None:
    assert len(essen.tunes) == 8514
    assert essen.problems == []
    assert_clean(essen)
    assert_positions(essen)
    text = "\n".join(tune.text for tune in essen.tunes)
    for word in ("religiöse", "Vorschläge"):
        assert word in text
    assert set("äöüß") <= set(text)
    # No mojibake from decoding UTF-8 as Latin-1.
    assert "Ã" not in text


def test_sources_name_files_inside_music21(ryans: LoadResult) -> None:
    tune = next(t for t in ryans.tunes if t.source.endswith("/LanigansBallJig.abc"))
    assert tune.source == "corpus:ryansMammoth/LanigansBallJig.abc"
    assert tune.line == 1 and tune.index == 0
    assert tune.reference == "1"
    assert tune.title == "LANIGAN'S BALL -- JIG"
    path = source_path(tune.source)
    assert path.parts[-3:] == ("corpus", "ryansMammoth", "LanigansBallJig.abc")


def test_folk_is_all_five_collections() -> None:
    # Its speed (target < 5 s) is measured by benchmarks/corpus_load.py, not here.
    folk = load(["corpus:folk"])
    assert len(folk.tunes) == 12947
    assert 4_000_000 < folk.chars < 4_600_000
    collections = {tune.source.split("/")[0] for tune in folk.tunes}
    assert collections == {
        "corpus:oneills1850",
        "corpus:ryansMammoth",
        "corpus:airdsAirs",
        "corpus:essenFolksong",
        "corpus:miscFolk",
    }


def test_list_builtin() -> None:
    infos = {info.name: info for info in list_builtin()}
    assert list(infos) == KNOWN.split(", ")
    assert infos["ryansMammoth"].files == 1059
    assert infos["ryansMammoth"].tunes == 1059
    assert infos["oneills1850"].tunes == 2009
    parts = [info for name, info in infos.items() if name != "folk"]
    assert infos["folk"].tunes == sum(info.tunes for info in parts)
    assert infos["folk"].files == sum(info.files for info in parts)
    assert all(info.description for info in infos.values())
    assert infos["folk"].description == (
        "All of oneills1850, ryansMammoth, airdsAirs, essenFolksong, miscFolk"
    )
    assert infos["miscFolk"].description == "Northumbrian minstrelsy and American fife music"
    assert builtin_names() == list(infos)


def test_names_match_case_insensitively() -> None:
    result = load(["corpus:MISCFOLK"])
    assert len(result.tunes) == 185
    assert result.tunes[0].source.startswith("corpus:miscFolk/")


def test_one_file_of_a_corpus() -> None:
    result = load(["corpus:ryansMammoth/LanigansBallJig.abc"])
    assert [tune.title for tune in result.tunes] == ["LANIGAN'S BALL -- JIG"]


@pytest.mark.parametrize("spec", ["corpus:xyz", "corpus:"])
def test_unknown_corpus(spec: str) -> None:
    name = spec.removeprefix("corpus:")
    with pytest.raises(CorpusError) as caught:
        load([spec])
    assert str(caught.value) == f"unknown corpus '{name}' (known: {KNOWN})"


def test_missing_file_in_corpus() -> None:
    with pytest.raises(CorpusError, match=re.escape("corpus:miscFolk/nope.abc")):
        load(["corpus:miscFolk/nope.abc"])


def test_corpus_folder_is_the_one_music21_uses() -> None:
    # Oracle: music21's own idea of where its corpus lives.
    music21_corpus = Path(getCorpusFilePath())
    assert _bundled_corpus_dir() == music21_corpus
    assert corpus_root() == music21_corpus
    assert _collection_dir("miscFolk") == music21_corpus / "miscFolk"


def test_corpus_folder_found_through_music21_when_not_bundled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A package folder without the collections is passed over ...
    fake = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: fake)
    assert _bundled_corpus_dir() is None
    # ... and one that holds all of them is taken.
    for collection in COLLECTIONS:
        (tmp_path / "corpus" / collection).mkdir(parents=True)
    assert _bundled_corpus_dir() == tmp_path / "corpus"
    # With no music21 package to inspect, music21's configured path is asked instead.
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert _bundled_corpus_dir() is None
    assert corpus_root.__wrapped__() == Path(getCorpusFilePath())


def test_missing_collection_folder() -> None:
    with pytest.raises(CorpusError) as caught:
        _collection_dir("lostTunes")
    folder = Path(getCorpusFilePath()) / "lostTunes"
    assert str(caught.value) == f"corpus 'lostTunes' is not installed (no folder {folder})"


def test_abc_files_of_a_folder(tmp_path: Path) -> None:
    # Created in reverse of the expected order; "a-b/" sorts before "a/" as text ("-" < "/").
    for name in ("b.ABC", "a/z.abc", "a-b/y.abc", "notes.txt", "a/readme"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("X:1\n")
    (tmp_path / "folder.abc").mkdir()  # a folder named like a tunebook is not one
    found = [path.relative_to(tmp_path).as_posix() for path in _abc_files(tmp_path)]
    assert found == ["a-b/y.abc", "a/z.abc", "b.ABC"]


def test_is_builtin_spec() -> None:
    assert is_builtin_spec("corpus:folk")
    assert is_builtin_spec("CORPUS:miscFolk/x.abc")
    assert not is_builtin_spec("tunes/corpus:folk")
    assert not is_builtin_spec(Path("corpus:folk"))  # a path object is always a path


def test_one_file_spec_with_stray_slashes_or_letters() -> None:
    result = load(["corpus:ryansMammoth//LanigansBallJig.abc/"])
    assert [tune.source for tune in result.tunes] == ["corpus:ryansMammoth/LanigansBallJig.abc"]
    with pytest.raises(CorpusError, match="does not exist"):
        load(["corpus:ryansMammoth/LanigansBallJig.abcX"])
