"""Fixtures for the MIDI tests: small MIDI files written by mido and music21, broken files, and
a few Bach chorales converted once into a cache kept between test sessions.

The cache (`WORKBENCH_CACHE_DIR`) lives in pytest's own cache folder, never the user's: the
first session converts the chorales (about 0.4 s each), later ones read them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from midi_files import write_mido_file

from workbench.midi_data.cache import CACHE_ENV

CHORALES_IN_TESTS = 10


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Path]:
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    path = Path(cache.mkdir("workbench-cache")) if cache else tmp_path_factory.mktemp("cache")
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(path)
    yield path
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


@pytest.fixture(scope="session")
def mido_file(tmp_path_factory) -> Path:
    return write_mido_file(tmp_path_factory.mktemp("mido") / "two_hands.mid")


@pytest.fixture(scope="session")
def chorale_files() -> list[Path]:
    from workbench.midi_data import chorale_midi_files

    files, failed = chorale_midi_files(limit=CHORALES_IN_TESTS)
    assert not failed
    assert len(files) == CHORALES_IN_TESTS
    return files


@pytest.fixture(scope="session")
def chorale_folder(tmp_path_factory, chorale_files) -> Path:
    """The test chorales copied into a folder of their own (the cache may hold more)."""
    folder = tmp_path_factory.mktemp("chorales")
    for path in chorale_files:
        (folder / path.name).write_bytes(path.read_bytes())
    return folder
