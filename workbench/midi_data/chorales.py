"""music21's Bach chorales as MIDI files: `corpus:bach-chorales`.

music21 ships the 371 four-part chorales as MusicXML. Each is converted once through music21
(parse, then write MIDI: about 0.3 s a chorale) and kept in the user's cache folder, so every
later load reads 371 small MIDI files in well under a second. A chorale music21 cannot convert
becomes a per-file problem; the rest load.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from workbench.midi_data.cache import cache_dir

CHORALES = "bach-chorales"
CHORALES_SPEC = f"corpus:{CHORALES}"

# progress(done, total, name)
ProgressCallback = Callable[[int, int, str], None]


class ConversionCancelled(Exception):
    """`should_stop` said so; the chorales converted so far stay in the cache."""


def is_chorales_spec(spec: object) -> bool:
    return isinstance(spec, str) and spec.strip().lower() == CHORALES_SPEC


def chorale_names() -> list[str]:
    """music21's names of the chorales (`bach/bwv269`, ...), in Riemenschneider order."""
    from music21 import corpus

    return list(corpus.chorales.Iterator(returnType="filename"))


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name.split("/")[-1]) + ".mid"


def chorale_midi_files(
    limit: int | None = None,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[list[Path], list[tuple[str, str]]]:
    """The cached MIDI file of each chorale (the first `limit`), converting those not cached.

    Returns the files and the (name, reason) of chorales that could not be converted.
    `progress(done, total, name)` after each conversion; `should_stop()` is asked before
    each (ConversionCancelled when it says so).
    """
    names = chorale_names()[:limit]
    folder = cache_dir("midi", CHORALES)
    files: list[Path] = []
    failed: list[tuple[str, str]] = []
    for done, name in enumerate(names, 1):
        path = folder / _file_name(name)
        if not path.is_file():
            if should_stop is not None and should_stop():
                raise ConversionCancelled
            try:
                _convert(name, path)
            except Exception as exc:  # music21's failures are many and per chorale
                failed.append((name, f"music21 cannot convert it ({exc})"))
                continue
            finally:
                # Only conversions are reported: reading cached files takes no time to show.
                if progress is not None:
                    progress(done, len(names), name)
        files.append(path)
    return files, failed


def _convert(name: str, path: Path) -> None:
    from music21 import corpus

    score = corpus.parse(name)
    tmp = path.with_name(f".{path.name}.tmp")
    score.write("midi", fp=str(tmp))
    tmp.replace(path)  # a half-written file never passes for a converted one
