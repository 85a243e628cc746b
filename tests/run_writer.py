"""A second process that writes a run directory in lock step with a test (see `Writer`).

The writer is a real Python process driven over its stdin/stdout: it does one thing (append an
event through the trainer's own `MetricsLog`, write raw characters, truncate, replace the file,
close the log, exit without closing) and answers "ok"; only then does the test look. So tests of
following a run read files another process really wrote, with no sleeps and no timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Commands, one per stdin line: "event <json>" appends it through MetricsLog (newline and
# all); "raw <json string>" writes exactly those characters; "truncate" empties the file in
# place; "replace <json>" swaps in a new file holding that one event (a sync tool's rename);
# "close" closes the log (the run ended); "exit" leaves without closing (a crash).
WRITER = r"""
import json, os, sys
from pathlib import Path
from models.metrics_log import MetricsLog
run = Path(sys.argv[1])
log = MetricsLog(run)
for line in sys.stdin:
    cmd, _, arg = line.rstrip("\n").partition(" ")
    if cmd == "event":
        log.write(json.loads(arg))
    elif cmd == "raw":
        log.fh.write(json.loads(arg))
        log.fh.flush()
    elif cmd == "truncate":
        log.fh.truncate(0)
        log.fh.seek(0)
    elif cmd == "replace":
        tmp = run / "metrics.jsonl.sync"
        tmp.write_text(arg + "\n", encoding="utf-8")
        os.replace(tmp, run / "metrics.jsonl")
    elif cmd == "close":
        log.close()
    elif cmd == "exit":
        os._exit(0)
    print("ok", flush=True)
"""


class Writer:
    """The other process, one command at a time."""

    def __init__(self, run_dir: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(run_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def do(self, command: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "ok\n"  # blocks until the write is done

    def event(self, event: dict) -> None:
        self.do("event " + json.dumps(event))

    def raw(self, text: str) -> None:
        self.do("raw " + json.dumps(text))

    def finish(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


def step(n: int) -> dict:
    """A step event as the trainer writes it (the fields the views read)."""
    return {
        "event": "step",
        "step": n,
        "epoch": n / 10,
        "loss": 3.0 - n / 100,
        "accuracy": 0.1 + n / 1000,
        "lr": 1e-3,
        "chars_per_sec": 1000.0,
        "elapsed": float(n),
    }
