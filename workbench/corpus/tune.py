"""Data types of the corpus package: tunes, load problems, load results and errors.

Everything here is plain data with no I/O, so the GUI, the CLI and the training code can
pass these objects around (and across threads) freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _field_value(text: str, key: str) -> str:
    """Return the value of the first ``key:`` information field in ``text``, or ""."""
    prefix = key + ":"
    for line in text.split("\n"):
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    return ""


@dataclass(frozen=True, slots=True)
class Tune:
    """One normalised tune.

    ``text`` is the ABC of the tune: it starts with its ``X:`` line (tunes from
    ``<start>``/``<end>`` files that have none are kept as written), uses ``\\n`` line
    endings, holds no comment lines, no blank lines and no trailing whitespace.
    ``source`` names the file it came from (``corpus:<name>/<path>`` for music21's
    corpora), ``index`` is its 0-based position among the tunes of that file and
    ``line`` the 1-based line of the file where it starts.
    """

    text: str
    source: str
    index: int
    line: int

    @property
    def title(self) -> str:
        """The first ``T:`` field, or "" when the tune has none."""
        return _field_value(self.text, "T")

    @property
    def reference(self) -> str:
        """The ``X:`` reference number as written, or "" when the tune has none."""
        return _field_value(self.text, "X")

    @property
    def location(self) -> str:
        """``source:line``, the form editors and terminals understand."""
        return f"{self.source}:{self.line}"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that could not be loaded: a whole file or one tune in it."""

    source: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.source}: {self.message}"
        return f"{self.source}:{self.line}: {self.message}"


@dataclass(slots=True)
class LoadResult:
    """What :func:`workbench.corpus.load` found.

    ``files`` lists the sources of every file that was read (whether or not it held
    tunes), in the order they were read.
    """

    tunes: list[Tune] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def chars(self) -> int:
        """Total number of characters in all tune texts."""
        return sum(len(tune.text) for tune in self.tunes)

    @property
    def sources(self) -> int:
        """Number of files read."""
        return len(self.files)

    def extend(self, other: LoadResult) -> None:
        """Append the tunes, problems and files of ``other`` to this result."""
        self.tunes.extend(other.tunes)
        self.problems.extend(other.problems)
        self.files.extend(other.files)

    def summary(self) -> str:
        """One line such as ``"1,059 tunes (412,345 chars) from 1,059 files, 0 problems"``."""
        tunes, problems = len(self.tunes), len(self.problems)
        return (
            f"{tunes:,} tune{'s' if tunes != 1 else ''} ({self.chars:,} chars) "
            f"from {self.sources:,} "
            f"file{'s' if self.sources != 1 else ''}, {problems:,} "
            f"problem{'s' if problems != 1 else ''}"
        )


class CorpusError(Exception):
    """A whole data argument is unusable (missing path, unknown corpus, empty folder).

    The message is one line that names the path or corpus and what is wrong with it.
    Problems with single files or tunes are not errors: they are reported as
    :class:`Problem` entries of the :class:`LoadResult` and the rest still loads.
    """


class LoadCancelled(Exception):
    """Raised by :func:`workbench.corpus.load` when its ``should_stop`` callback says so.

    ``partial`` holds what had been loaded before the cancel, in case the caller wants it.
    """

    def __init__(self, partial: LoadResult) -> None:
        super().__init__("loading cancelled")
        self.partial = partial
