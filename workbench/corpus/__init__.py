"""Training corpora: tunes read from files, folders and music21's folk collections.

Reads ABC tunebooks, ``<start>``/``<end>`` files, folders of both and music21's bundled
folk collections, reports what could not be read, and writes tunes back out.

This package has no Qt dependency; the GUI runs :func:`load` in a worker thread and
uses its ``progress``/``should_stop`` callbacks. Typical use::

    from workbench.corpus import load

    result = load(["corpus:folk", "my_tunes/"])
    for problem in result.problems:
        print(problem)
    texts = [tune.text for tune in result.tunes]
"""

from workbench.corpus.abc_split import split_abc
from workbench.corpus.builtin import (
    ALL_FOLK,
    CORPUS_PREFIX,
    BuiltinInfo,
    builtin_names,
    list_builtin,
    source_path,
)
from workbench.corpus.loader import export_abc, export_start_end, load
from workbench.corpus.start_end import split_start_end
from workbench.corpus.stats import DatasetStats, dataset_stats
from workbench.corpus.text import MAX_FILE_BYTES, normalise_text, read_text
from workbench.corpus.tune import CorpusError, LoadCancelled, LoadResult, Problem, Tune

__all__ = [
    "ALL_FOLK",
    "CORPUS_PREFIX",
    "MAX_FILE_BYTES",
    "BuiltinInfo",
    "CorpusError",
    "DatasetStats",
    "LoadCancelled",
    "LoadResult",
    "Problem",
    "Tune",
    "builtin_names",
    "dataset_stats",
    "export_abc",
    "export_start_end",
    "list_builtin",
    "load",
    "normalise_text",
    "read_text",
    "source_path",
    "split_abc",
    "split_start_end",
]
