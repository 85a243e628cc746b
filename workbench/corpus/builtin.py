"""The folk-tune collections that ship with music21, addressed as ``corpus:NAME``.

music21 bundles several ABC tunebooks in its package folder. We read those ``.abc``
files directly as text with our own splitter rather than through ``music21.corpus``:
parsing every tune into a score costs 70-105 ms a tune, and even importing music21
takes about a second, while the files themselves are only ~4 MiB of text.

Sources of these tunes are named ``corpus:<collection>/<path inside the collection>``
(for example ``corpus:oneills1850/0626-0635.abc``); :func:`source_path` maps such a
name back to the file. A spec may also name one file: ``corpus:ryansMammoth/X.abc``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from workbench.corpus.abc_split import count_tunes
from workbench.corpus.text import UnreadableFile, read_text
from workbench.corpus.tune import CorpusError

CORPUS_PREFIX = "corpus:"

#: The ABC collections in music21's corpus folder, with a line about each.
COLLECTIONS: dict[str, str] = {
    "oneills1850": "O'Neill's Music of Ireland: 1850 Irish melodies (1903)",
    "ryansMammoth": "Ryan's Mammoth Collection of fiddle tunes (1883)",
    "airdsAirs": "Aird's Selection of Scotch, English, Irish and Foreign Airs (1782-1803)",
    "essenFolksong": "Essen Folksong Collection: mostly German and other European songs",
    "miscFolk": "Northumbrian minstrelsy and American fife music",
}

#: The name that stands for all of :data:`COLLECTIONS` at once.
ALL_FOLK = "folk"


@dataclass(frozen=True, slots=True)
class BuiltinInfo:
    """One built-in corpus: its name, a description, its number of files and tunes.

    ``tunes`` counts ``X:`` lines, so it can be a few higher than what loads when some
    tunes turn out to be unusable.
    """

    name: str
    description: str
    files: int
    tunes: int


def builtin_names() -> list[str]:
    """All names accepted after ``corpus:``, sorted case-insensitively."""
    return sorted([*COLLECTIONS, ALL_FOLK], key=str.lower)


def canonical_name(name: str) -> str:
    """Return the properly spelt name of a built-in corpus, matching case-insensitively.

    Raises :class:`CorpusError` for an unknown name.
    """
    for known in builtin_names():
        if known.lower() == name.strip().lower():
            return known
    known_list = ", ".join(builtin_names())
    raise CorpusError(f"unknown corpus '{name}' (known: {known_list})")


def _collections_of(name: str) -> list[str]:
    """The collection folders a canonical corpus name stands for."""
    return list(COLLECTIONS) if name == ALL_FOLK else [name]


def _bundled_corpus_dir() -> Path | None:
    """music21's corpus folder found without importing music21 (which takes ~1 s)."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "corpus"
        if all((candidate / collection).is_dir() for collection in COLLECTIONS):
            return candidate
    return None


@functools.lru_cache(maxsize=1)
def corpus_root() -> Path:
    """The folder holding music21's corpus collections.

    Raises :class:`CorpusError` when music21 is not installed.
    """
    bundled = _bundled_corpus_dir()
    if bundled is not None:
        return bundled
    # Not in the package folder: music21 may be configured to keep its corpus elsewhere.
    try:
        from music21.common.pathTools import getCorpusFilePath
    except ImportError:
        raise CorpusError("music21 is not installed, so corpus: data is unavailable") from None
    return Path(getCorpusFilePath())


def _collection_dir(collection: str) -> Path:
    folder = corpus_root() / collection
    if not folder.is_dir():
        raise CorpusError(f"corpus '{collection}' is not installed (no folder {folder})")
    return folder


def _abc_files(folder: Path) -> list[Path]:
    return sorted(
        (path for path in folder.rglob("*") if path.suffix.lower() == ".abc" and path.is_file()),
        key=lambda path: path.relative_to(folder).as_posix(),
    )


@functools.cache
def _collection_files(collection: str) -> tuple[tuple[str, Path], ...]:
    folder = _collection_dir(collection)
    return tuple(
        (f"{CORPUS_PREFIX}{collection}/{path.relative_to(folder).as_posix()}", path)
        for path in _abc_files(folder)
    )


def is_builtin_spec(spec: object) -> bool:
    """Tell whether a data argument names a built-in corpus (``corpus:...``)."""
    return isinstance(spec, str) and spec[: len(CORPUS_PREFIX)].lower() == CORPUS_PREFIX


def builtin_files(spec: str) -> list[tuple[str, Path]]:
    """Resolve ``corpus:NAME`` or ``corpus:NAME/relative/path`` to ``(source, path)`` pairs.

    Raises :class:`CorpusError` for an unknown name or a file not in the collection.
    """
    name, _, relative = spec[len(CORPUS_PREFIX) :].partition("/")
    name = canonical_name(name)
    files = [
        entry for collection in _collections_of(name) for entry in _collection_files(collection)
    ]
    if not relative:
        return files
    wanted = f"{CORPUS_PREFIX}{name}/{relative.strip('/')}"
    chosen = [entry for entry in files if entry[0] == wanted]
    if not chosen:
        raise CorpusError(f"corpus file '{spec}' does not exist")
    return chosen


def source_path(source: str) -> Path:
    """Map a ``corpus:<collection>/<path>`` source back to the file it names."""
    return builtin_files(source)[0][1]


@functools.cache
def _count_collection_tunes(collection: str) -> int:
    total = 0
    for _, path in _collection_files(collection):
        # An unreadable file is reported by the loader; a count just leaves it out.
        with contextlib.suppress(UnreadableFile):
            total += count_tunes(read_text(path))
    return total


def list_builtin() -> list[BuiltinInfo]:
    """Describe every built-in corpus, ``folk`` included (reads the files once, ~0.1 s)."""
    infos = []
    for name in builtin_names():
        collections = _collections_of(name)
        description = "All of " + ", ".join(COLLECTIONS) if name == ALL_FOLK else COLLECTIONS[name]
        files = sum(len(_collection_files(collection)) for collection in collections)
        tunes = sum(_count_collection_tunes(collection) for collection in collections)
        infos.append(BuiltinInfo(name, description, files, tunes))
    return infos
