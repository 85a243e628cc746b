"""How a rank leaves the process group at the end of a run (`World.close(together=True)`):
it waits for the others, so none tears its connections down while another still writes, and
the wait is bounded, so a rank that never comes holds no one for long.

Two real processes join a gloo world over loopback TCP (`tests/close_rank.py`); the clock on
each side says whether rank 0 waited.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

RANK_SCRIPT = Path(__file__).parents[1] / "close_rank.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_ranks(mode: str, wait: float) -> list[str]:
    """Each rank's output, rank 0 first; both must exit 0 within the time limit."""
    port = str(free_port())
    procs = []
    for rank in (0, 1):
        env = {
            **os.environ,
            **{"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2"},
            **{"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "OMP_NUM_THREADS": "1"},
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, str(RANK_SCRIPT), mode, str(wait)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    results = []
    try:
        for proc in procs:
            results.append(proc.communicate(timeout=90))
    except subprocess.TimeoutExpired:
        for proc in procs:
            proc.kill()
            proc.communicate()
        pytest.fail(f"a rank did not finish ({mode})")
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    outs = [out for out, _err in results]
    return outs


def closed_after(out: str) -> float:
    return float(next(x for x in out.splitlines() if x.startswith("closed after")).split()[-1])


def test_a_rank_waits_for_a_late_one_before_it_leaves() -> None:
    first, late = two_ranks("late", 3.0)
    # Rank 0 reached its close at once and stayed until rank 1 came, three seconds on.
    assert closed_after(first) > 2.5
    assert closed_after(late) < 2.0
    assert "initialised False" in first and "initialised False" in late


def test_a_rank_that_never_comes_holds_the_others_only_for_the_bounded_wait() -> None:
    first, absent = two_ranks("absent", 8.0)
    assert "left" in absent and "closed after" not in absent
    # CLOSE_WAIT is 2 s here: rank 0 gave up on the barrier and left the group cleanly, long
    # before rank 1 went away.
    assert 1.5 < closed_after(first) < 6.0
    assert "initialised False" in first
