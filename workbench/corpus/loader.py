"""Loading training data from files, folders and built-in corpora, and exporting tunes.

:func:`load` takes the DATA arguments of the CLI (or the GUI's list of sources):

* a file: read as a ``<start>``/``<end>`` file when it holds a ``<start>`` line, else as
  an ABC tunebook, whatever its extension;
* a folder: every ``*.abc`` file below it, and every ``*.txt`` file that holds
  ``<start>`` lines (other ``.txt`` files, such as a README, are passed over); hidden
  files and folders are skipped, and files are read in sorted path order so the same
  folder always gives the same corpus;
* ``corpus:NAME``: one of music21's bundled collections (see :mod:`.builtin`).

All specs are checked before any file is read, so a typo fails fast with a
:class:`CorpusError`. After that nothing raises: a bad file or tune becomes a
:class:`Problem` and the rest loads. A file named twice (directly or through a folder)
is read once.

:func:`export_abc` and :func:`export_start_end` write tunes back out atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from workbench.atomic_files import write_text_atomically
from workbench.corpus.abc_split import clean_tune_lines, split_abc
from workbench.corpus.builtin import builtin_files, is_builtin_spec
from workbench.corpus.start_end import (
    END_MARKER,
    START_MARKER,
    has_start_markers,
    split_start_end,
)
from workbench.corpus.text import UnreadableFile, normalise_text, read_text
from workbench.corpus.tune import CorpusError, LoadCancelled, LoadResult, Problem, Tune

Spec = str | os.PathLike[str]
ProgressCallback = Callable[[int, int, str], None]
StopCallback = Callable[[], bool]

# Suffixes (lower case) of files picked up from folders.
ABC_SUFFIX = ".abc"
TEXT_SUFFIX = ".txt"

# Failures that just mean "this .txt in a folder is not tune data", not worth a report.
_QUIET_TXT_REASONS = frozenset({"empty", "binary"})


@dataclass(frozen=True, slots=True)
class _FileJob:
    """One file to read.

    ``optional`` files (.txt found in folders) only count as data when they hold
    ``<start>`` markers.
    """

    source: str
    path: Path
    optional: bool = False


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _folder_jobs(folder: Path, problems: list[Problem]) -> list[_FileJob]:
    """List the data files below ``folder`` in sorted relative-path order."""
    found: list[tuple[str, _FileJob]] = []

    def report(error: OSError) -> None:
        where = str(error.filename or folder)
        problems.append(Problem(where, f"cannot read folder ({error.strerror or error})"))

    for directory, subdirs, files in os.walk(folder, onerror=report):
        subdirs[:] = [name for name in subdirs if not _is_hidden(name)]
        for name in files:
            suffix = Path(name).suffix.lower()
            if _is_hidden(name) or suffix not in (ABC_SUFFIX, TEXT_SUFFIX):
                continue
            path = Path(directory, name)
            relative = path.relative_to(folder).as_posix()
            found.append((relative, _FileJob(str(path), path, optional=suffix == TEXT_SUFFIX)))
    found.sort(key=lambda item: item[0])
    return [job for _, job in found]


def _spec_jobs(spec: Spec, problems: list[Problem]) -> list[_FileJob]:
    """Resolve one DATA argument to the files it stands for; raise CorpusError if unusable."""
    if is_builtin_spec(spec):
        return [_FileJob(source, path) for source, path in builtin_files(str(spec))]
    path = Path(spec).expanduser()
    if not path.exists():
        if path.is_symlink():  # exists() follows the link: it dangles or loops
            raise CorpusError(f"data path '{spec}' is a symbolic link that leads nowhere")
        raise CorpusError(f"data path '{spec}' does not exist")
    if path.is_file():
        return [_FileJob(str(path), path)]
    if not path.is_dir():
        raise CorpusError(f"data path '{spec}' is not a file or folder")
    jobs = _folder_jobs(path, problems)
    if not jobs:
        raise CorpusError(f"folder '{spec}' holds no .abc or .txt files")
    return jobs


def _identity(path: Path) -> Path:
    """The path that tells whether two mentions are one file.

    A symbolic link that loops makes ``resolve()`` raise (RuntimeError before Python 3.13,
    OSError after); such a file is kept under its own absolute path and reading it reports
    the loop as a problem.
    """
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _plan(specs: Iterable[Spec], problems: list[Problem]) -> list[_FileJob]:
    """All files to read, each once (the first mention wins)."""
    jobs: list[_FileJob] = []
    seen: set[Path] = set()
    for spec in specs:
        for job in _spec_jobs(spec, problems):
            key = _identity(job.path)
            if key not in seen:
                seen.add(key)
                jobs.append(job)
    return jobs


def _load_file(job: _FileJob, result: LoadResult) -> None:
    """Read one file into ``result``: its tunes, or problems saying what went wrong."""
    try:
        text = read_text(job.path)
    except UnreadableFile as error:
        if not (job.optional and error.reason in _QUIET_TXT_REASONS):
            result.files.append(job.source)
            result.problems.append(Problem(job.source, str(error)))
        return
    if has_start_markers(text):
        tunes, problems = split_start_end(text, job.source)
    elif job.optional:
        return  # a README or similar found in a folder
    else:
        tunes, problems = split_abc(text, job.source)
    result.files.append(job.source)
    result.tunes.extend(tunes)
    result.problems.extend(problems)


def load(
    specs: Iterable[Spec] | Spec,
    progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
) -> LoadResult:
    """Load the tunes of all ``specs`` (files, folders, ``corpus:NAME``), in order.

    ``progress(done, total, source)`` is called after each file with the number of
    files done, the number of files in all, and the source just read. ``should_stop()``
    is asked before each file; when it returns True, :class:`LoadCancelled` is raised
    carrying what was loaded so far. Raises :class:`CorpusError` (before reading
    anything) when a spec is unusable; problems with single files or tunes are listed
    in the result instead.
    """
    if isinstance(specs, (str, os.PathLike)):
        specs = [specs]  # one spec, not an iterable of characters
    result = LoadResult()
    jobs = _plan(specs, result.problems)
    for done, job in enumerate(jobs):
        if should_stop is not None and should_stop():
            raise LoadCancelled(result)
        _load_file(job, result)
        if progress is not None:
            progress(done + 1, len(jobs), job.source)
    return result


def _tune_lines(tune: Tune | str) -> list[str]:
    """Return the lines of a tune cleaned exactly as loading would clean them.

    Raises ValueError when a line is a ``<start>``/``<end>`` marker: in either export
    format such a tune would not read back as itself.
    """
    text = tune.text if isinstance(tune, Tune) else tune
    lines = clean_tune_lines(normalise_text(text).split("\n"))
    if any(line.strip() in (START_MARKER, END_MARKER) for line in lines):
        raise ValueError(f"tune {lines[0]!r} holds a {START_MARKER} or {END_MARKER} line")
    return lines


def export_abc(tunes: Iterable[Tune | str], path: str | os.PathLike[str]) -> int:
    """Write ``tunes`` (Tune objects or ABC strings) to ``path`` as an ABC tunebook.

    Tunes are cleaned as :func:`load` would clean them and separated by one blank line,
    so loading the file gives the same tune texts back. A tune without an ``X:`` line
    gets ``X:<its position>``, because in a tunebook only ``X:`` starts a tune; empty
    tunes are left out. Returns the number of tunes written. Raises ValueError when a
    tune holds a marker line (see :func:`export_start_end`), OSError when the file
    cannot be written; either way the file at ``path`` is left as it was.
    """
    blocks = []
    for position, tune in enumerate(tunes, start=1):
        lines = _tune_lines(tune)
        if not lines:
            continue
        if not lines[0].startswith("X:"):
            lines.insert(0, f"X:{position}")
        blocks.append("\n".join(lines) + "\n")
    write_text_atomically(path, "\n".join(blocks))
    return len(blocks)


def export_start_end(tunes: Iterable[Tune | str], path: str | os.PathLike[str]) -> int:
    """Write ``tunes`` to ``path`` in the ``<start>``/``<end>`` format, one block each.

    Tunes are cleaned as :func:`load` would clean them; empty ones are left out. Returns
    the number of tunes written. Raises ValueError when a tune holds a ``<start>`` or
    ``<end>`` line (it could not be read back), OSError when the file cannot be written;
    either way the file at ``path`` is left as it was.
    """
    blocks = []
    for tune in tunes:
        lines = _tune_lines(tune)
        if lines:
            blocks.append("\n".join([START_MARKER, *lines, END_MARKER]) + "\n")
    write_text_atomically(path, "".join(blocks))
    return len(blocks)
