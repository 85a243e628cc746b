"""Following a run directory that another process writes: its metrics.jsonl as it grows (Qt-free).

The GUI's own runs arrive through the trainer process's queue; a run written by the CLI, by a
cluster job into a synced folder, or by another copy of the app has only its directory.
`RunFollower.poll()` returns what is new since the last call:

- the complete lines appended to metrics.jsonl, read from the byte offset where the last poll
  stopped (never the whole file again), at most `max_bytes` per call so catching up on a long run
  never holds the caller for long (`more` says to call again soon);
- a last line without its newline is held back until the writer completes it;
- a line that is not a JSON object (garbage, a line torn by a crash and then appended to), or a
  step or evaluation without its numbers, is skipped, logged and counted;
- a file replaced (a sync tool's rename, `workbench train --force`) or truncated is read again
  from its start, with `restarted` set so the caller drops what it showed;
- config.json when it appears or changes, and the newest sample in samples/;

and `liveness()` says whether a process is writing the run now (`models.run_marker`).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.metrics_log import Event
from models.regular_files import open_regular, read_text_regular
from models.run_marker import Liveness, run_liveness

log = logging.getLogger(__name__)

METRICS_NAME = "metrics.jsonl"
MAX_BYTES = 256 * 1024  # per poll: ~1,500 step lines, a few ms of parsing
# Bytes of the file's start remembered to tell a rewrite in place (same inode) from growth.
HEAD_BYTES = 64


@dataclass
class FollowUpdate:
    """What one poll found."""

    events: list[Event] = field(default_factory=list)
    restarted: bool = False  # the file was replaced or truncated: `events` start from line 1
    skipped: int = 0  # lines that were not JSON objects, skipped in this poll
    more: bool = False  # more complete lines are waiting (the read limit stopped this poll)
    config: dict[str, Any] | None = None  # config.json, when it appeared or changed
    sample: tuple[str, str] | None = None  # (file name, text) of a newer latest sample

    def __bool__(self) -> bool:
        return bool(self.events or self.restarted or self.skipped or self.config or self.sample)


# The fields every trainer version writes in these events and the views index without a
# default (the plots, the progress line): a line without them is treated as garbage.
_REQUIRED = {"step": ("step", "epoch", "loss"), "eval": ("step", "val_loss", "best_val_loss")}


def _well_formed(event: dict[str, Any]) -> bool:
    """An event names its kind, and the plotted kinds carry their numbers."""
    kind = event.get("event")
    if not isinstance(kind, str):
        return False
    return all(_is_number(event.get(key)) for key in _REQUIRED.get(kind, ()))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


class RunFollower:
    """Tails one run directory; call `poll()` as often as you like (an idle poll is a stat)."""

    def __init__(self, run_dir: str | Path, max_bytes: int = MAX_BYTES) -> None:
        self.run_dir = Path(run_dir)
        self.max_bytes = max_bytes
        self.config: dict[str, Any] | None = None
        self.config_error: str | None = None
        self.sample: tuple[str, str] | None = None
        self.lines = 0  # events read since the file's (last) start
        self.skipped = 0  # garbage lines skipped, in all
        self._offset = 0  # bytes of the file consumed: always just after a newline
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file read
        self._seen: tuple[int, int] | None = None  # (size, mtime_ns) at the last poll
        self._head = b""
        self._config_stamp: tuple[int, int] | None = None
        self._sample_stamp: tuple[str, int, int] | None = None
        self._samples_mtime: int | None = None
        self._sample_name: str | None = None

    @property
    def metrics_path(self) -> Path:
        return self.run_dir / METRICS_NAME

    @property
    def offset(self) -> int:
        return self._offset

    def liveness(self) -> Liveness:
        return run_liveness(self.run_dir)

    def poll(self) -> FollowUpdate:
        update = FollowUpdate()
        self._poll_config(update)
        self._poll_metrics(update)
        self._poll_sample(update)
        return update

    # -- metrics.jsonl ---------------------------------------------------------------------

    def _poll_metrics(self, update: FollowUpdate) -> None:
        st = _stat(self.metrics_path)
        if st is None:
            if self._identity is not None:  # deleted: whatever comes next starts afresh
                self._restart(update)
                self._identity = self._seen = None
            return
        if (st.st_dev, st.st_ino) == self._identity and (st.st_size, st.st_mtime_ns) == self._seen:
            return  # nothing changed since the last poll: no read at all
        try:
            with open_regular(self.metrics_path) as fh:
                st = os.fstat(fh.fileno())  # of the file opened, should it have been replaced
                identity = (st.st_dev, st.st_ino)
                if self._identity is not None and (
                    identity != self._identity
                    or st.st_size < self._offset
                    or not self._same_head(fh)
                ):
                    self._restart(update)
                self._identity, self._seen = identity, (st.st_size, st.st_mtime_ns)
                fh.seek(self._offset)
                data = fh.read(self.max_bytes)
                end = data.rfind(b"\n")
                if end < 0 and len(data) >= self.max_bytes:
                    # One line longer than the limit (a long sample): read on to its end.
                    # Gathered in a bytearray and searched chunk by chunk: a 100 MB line
                    # without a newline takes a tenth of a second, not a minute of copying.
                    buffer = bytearray(data)
                    while end < 0:
                        chunk = fh.read(self.max_bytes)
                        if not chunk:
                            break
                        found = chunk.rfind(b"\n")
                        if found >= 0:
                            end = len(buffer) + found
                        buffer += chunk
                    data = bytes(buffer)
        except OSError as exc:
            log.warning("%s: cannot read (%s); trying again", self.metrics_path, exc)
            self._seen = None
            return
        if self._offset == 0:
            self._head = data[:HEAD_BYTES]
        if end < 0:
            return  # no complete line yet: the partial one waits for its newline
        complete = data[: end + 1]
        for number, raw in enumerate(complete.split(b"\n")[:-1], start=self.lines + 1):
            if not raw.strip():
                continue
            event = self._parse(raw, number)
            if event is None:
                update.skipped += 1
            else:
                update.events.append(event)
        self.lines += complete.count(b"\n")
        self._offset += len(complete)
        # The read stopped at the limit with bytes beyond it: poll again without waiting.
        update.more = len(data) >= self.max_bytes and self._offset < st.st_size
        if update.more:
            self._seen = None  # the next poll reads on even if the file has not changed

    def _parse(self, raw: bytes, number: int) -> Event | None:
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError):  # JSONDecodeError, not UTF-8, absurdly nested
            event = None
        if isinstance(event, dict) and _well_formed(event):
            return event
        self.skipped += 1
        log.warning(
            "%s line %d: not a metrics event, skipped (%d skipped so far): %.80r",
            self.metrics_path,
            number,
            self.skipped,
            raw,
        )
        return None

    def _same_head(self, fh: Any) -> bool:
        """Whether the file still starts as it did (a rewrite in place keeps the inode and
        may already be longer than what was read)."""
        if not self._head:
            return True
        fh.seek(0)
        return fh.read(len(self._head)) == self._head

    def _restart(self, update: FollowUpdate) -> None:
        log.info("%s was replaced or truncated: reading it again from the start", self.metrics_path)
        update.restarted = True
        update.events.clear()
        self._offset = 0
        self.lines = 0
        self._head = b""

    # -- config.json and samples/ ----------------------------------------------------------

    def _poll_config(self, update: FollowUpdate) -> None:
        st = _stat(self.run_dir / "config.json")
        stamp = None if st is None else (st.st_size, st.st_mtime_ns)
        if stamp is None or stamp == self._config_stamp:
            return
        try:
            config = json.loads(read_text_regular(self.run_dir / "config.json"))
            if not isinstance(config, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            # Half-synced: keep the last good one and try again when it changes.
            # An OSError names the file itself: say the path once.
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.config_error = f"{self.run_dir / 'config.json'}: {why}"
            self._config_stamp = stamp
            return
        self._config_stamp = stamp
        self.config_error = None
        self.config = update.config = config

    def _poll_sample(self, update: FollowUpdate) -> None:
        samples = self.run_dir / "samples"
        st = _stat(samples)
        if st is None:
            return
        if st.st_mtime_ns != self._samples_mtime:
            # A new file changes the folder's time; only then list it.
            self._samples_mtime = st.st_mtime_ns
            try:
                names = [e.name for e in os.scandir(samples) if e.name.startswith("step")]
            except OSError:
                names = []
            # step0001230.abc: zero-padded, so the newest sorts last.
            self._sample_name = max(names, default=None)
        if self._sample_name is None:
            return
        path = samples / self._sample_name
        fst = _stat(path)
        if fst is None:
            self._samples_mtime = None  # gone: list the folder again next time
            return
        stamp = (self._sample_name, fst.st_size, fst.st_mtime_ns)
        if stamp == self._sample_stamp:
            return
        try:
            with open_regular(path) as fh:
                text = fh.read().decode("utf-8", errors="replace")
        except OSError:
            return
        self._sample_stamp = stamp
        self.sample = update.sample = (self._sample_name, text)
