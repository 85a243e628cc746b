"""Starting `workbench train` under torchrun from a test: two CPU processes (gloo), one thread
each, and reading back where each process ended."""

from __future__ import annotations

import os
import subprocess
import sys


def torchrun_command(*train_args: str, processes: int = 2) -> list[str]:
    """`torchrun --standalone --nproc-per-node N -m workbench train ...` with this Python."""
    return [
        *(sys.executable, "-m", "torch.distributed.run", "--standalone"),
        *("--nproc-per-node", str(processes), "-m", "workbench", "train", *train_args),
    ]


def torchrun_env() -> dict[str, str]:
    # torchrun sets OMP_NUM_THREADS=1 only when unset; say it, whatever the caller's.
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def torchrun(*train_args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        torchrun_command(*train_args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=torchrun_env(),
    )


def rank_one_end(stderr: str) -> tuple[str, int, float]:
    """Why and at which step process 1 says it ended, and its best validation loss
    (`process 1 of 2: ended (reason) at step N; best validation loss X`)."""
    line = next(x for x in stderr.splitlines() if x.startswith("process 1 of 2: ended"))
    reason = line.split("(")[1].split(")")[0]
    step = int(line.split(" at step ")[1].split(";")[0])
    return reason, step, float(line.rsplit(" ", 1)[1])
