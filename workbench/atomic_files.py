"""Writing files atomically: a temporary file in the same folder, flushed, then renamed.

Readers see the old file or the new one, never half of one, and a failed write leaves the old
file as it was. Tunebooks, exports, saved ABC and rendered scores all go through here.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Readers see the old file or the new one, never half of one; on failure the temporary
    file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    return path


def write_text_atomically(path: str | os.PathLike[str], text: str) -> Path:
    """UTF-8 text, written as `write_bytes_atomically` does (newlines kept as given)."""
    return write_bytes_atomically(path, text.encode("utf-8"))
