"""RUN_DIR/running.json: which process is writing a run now, so that others can tell it lives.

Whoever writes a run's metrics.jsonl (`models.metrics_log.MetricsLog`: the CLI, the GUI's trainer
process, rank 0 of a distributed run) holds a `RunMarker` while the log is open. It writes

    {"pid": 4711, "host": "node7", "started": 1718000000.0, "heartbeat": 1718000042.0,
     "heartbeat_s": 10.0, "proc_start": 123456}

and a daemon thread rewrites it every `heartbeat_s` seconds, so a long evaluation that logs
nothing for minutes still beats; closing the log removes the file. A crash leaves it behind,
which is why readers never trust its mere presence: `run_liveness(run_dir)` calls a run written
on this host running while its process lives (its pid, and on Linux the process's start time, so
a recycled pid does not count), and a run written elsewhere (a folder synced from a cluster)
while its heartbeat is younger than `STALE_S` seconds.

No torch and no Qt: the GUI's run history reads this for every run it lists.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.regular_files import read_text_regular

MARKER_NAME = "running.json"
HEARTBEAT_S = 10.0
# A synced folder lags its source by the sync interval: a heartbeat this old (or twelve missed
# beats, whichever is longer) means the writer is gone or the sync has stopped.
STALE_S = 120.0


def _proc_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux /proc), or None elsewhere."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2 (the command name) may hold spaces and parentheses: split after its last ")".
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[19])  # field 22 of the whole line


def _proc_zombie(pid: int) -> bool:
    """True for a process that has exited but is not reaped yet (it still answers kill 0)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2 :].split()[0] in ("Z", "X")


def _pid_alive(pid: int, proc_start: int | None) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    except (OSError, OverflowError):  # OverflowError: a damaged marker's absurd pid
        return False
    if _proc_zombie(pid):
        return False
    if proc_start is not None:
        now = _proc_start(pid)
        if now is not None and now != proc_start:
            return False  # the pid was recycled by a later process
    return True


class RunMarker:
    """Holds RUN_DIR/running.json for this process until `close()`."""

    def __init__(self, run_dir: str | Path, heartbeat_s: float = HEARTBEAT_S) -> None:
        self.path = Path(run_dir) / MARKER_NAME
        self.heartbeat_s = heartbeat_s
        self._info: dict[str, Any] = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.time(),
            "heartbeat": time.time(),
            "heartbeat_s": heartbeat_s,
            "proc_start": _proc_start(os.getpid()),
        }
        # The lock keeps a late beat from re-creating the file after close() removed it.
        self._lock = threading.Lock()
        self._closed = False
        self._write()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="run-heartbeat", daemon=True)
        self._thread.start()

    def _write(self) -> None:
        self._info["heartbeat"] = time.time()
        # Written beside and renamed: a reader (or a sync tool) never sees half a file.
        tmp = self.path.with_name(f".{MARKER_NAME}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._info) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            with self._lock:
                if self._closed:
                    return
                # A full disk or a vanished folder must not kill the trainer: skip a beat.
                with contextlib.suppress(OSError):
                    self._write()

    def close(self) -> None:
        """Stop beating and remove the marker (the run is no longer being written)."""
        self._stop.set()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Liveness:
    """Whether a run is being written now, and the reason in words (for a tooltip)."""

    running: bool
    why: str = ""
    host: str | None = None
    pid: int | None = None
    heartbeat_age: float | None = None  # seconds since the last beat, as far as can be told


def run_liveness(run_dir: str | Path, now: float | None = None) -> Liveness:
    """Is some process writing this run now? (See the module docstring for the rules.)"""
    path = Path(run_dir) / MARKER_NAME
    now = time.time() if now is None else now
    try:
        stat = path.stat()
    except OSError:
        return Liveness(False, "")
    try:
        info = json.loads(read_text_regular(path))
        if not isinstance(info, dict):
            raise ValueError("not an object")
        host = str(info.get("host", ""))
        pid = int(info.get("pid", 0) or 0)
        # The later of the writer's own clock and the file's time: a copy that sets the time
        # of copying, or a cluster clock a little behind, still counts as a beat.
        beat = max(float(info.get("heartbeat", 0.0) or 0.0), stat.st_mtime)
        heartbeat_s = float(info.get("heartbeat_s", HEARTBEAT_S) or HEARTBEAT_S)
    except FileNotFoundError:
        return Liveness(False, "")  # removed between the two calls: the run just ended
    except (OSError, ValueError, TypeError, OverflowError, RecursionError):
        # Half-copied by a sync tool (or fields of the wrong type: `"pid": []`): judge by the
        # file's age alone until it is whole.
        age = max(0.0, now - stat.st_mtime)
        return Liveness(age < STALE_S, f"{MARKER_NAME} unreadable", heartbeat_age=age)
    age = max(0.0, now - beat)
    if host == socket.gethostname() and os.name == "posix":
        alive = _pid_alive(pid, info.get("proc_start"))
        why = f"process {pid} on this machine " + ("is running" if alive else "has ended")
        return Liveness(alive, why, host, pid, age)
    stale = max(STALE_S, 12 * heartbeat_s)
    fresh = age < stale
    why = f"heartbeat from {host or 'another machine'} {age:.0f} s ago"
    if not fresh:
        why += " (stale: the writer stopped, or the folder is no longer synced)"
    return Liveness(fresh, why, host, pid, age)
