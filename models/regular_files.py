"""Reading the files of a run folder without ever blocking on one that is not a file (torch-free).

Run folders are listed, followed and checked for liveness from synced or shared disks, where
anything can sit under a run file's name: a FIFO named `metrics.jsonl` or `config.json` would
block a plain `open()` until some process writes to it (the GUI's run list, forever).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


def open_regular(path: str | Path) -> BinaryIO:
    """`open(path, "rb")` for a regular file only: IsADirectoryError for a folder, OSError
    (EINVAL) for a FIFO, socket or device, raised before anything is read. The open itself
    cannot block (O_NONBLOCK)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "a folder, not a file", str(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file (a pipe, socket or device)", str(path))
        os.set_blocking(fd, True)  # a regular file's reads never block; keep the usual mode
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_text_regular(path: str | Path) -> str:
    """The UTF-8 text of the regular file at `path`. OSError for what is not a regular file;
    UnicodeDecodeError (a ValueError) for bytes that are not UTF-8."""
    with open_regular(path) as fh:
        return fh.read().decode("utf-8")
