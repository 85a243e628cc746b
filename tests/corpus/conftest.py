"""Fixtures for the corpus tests.

The real music21 corpora are loaded once a session; ``write`` creates crafted files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.corpus import LoadResult, load


@pytest.fixture(scope="session")
def ryans() -> LoadResult:
    return load(["corpus:ryansMammoth"])


@pytest.fixture(scope="session")
def oneills() -> LoadResult:
    return load(["corpus:oneills1850"])


@pytest.fixture(scope="session")
def essen() -> LoadResult:
    return load(["corpus:essenFolksong"])


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """``write(relative_name, content)`` creates a file under tmp_path and returns its path.

    ``str`` content is written as UTF-8 with no newline translation; ``bytes`` as is.
    """

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        return path

    return _write
