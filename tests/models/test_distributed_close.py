"""How a rank leaves the process group at the end of a run (`World.close(together=True)`):
it waits for the others, so none tears its connections down while another still writes, and
the wait is bounded, so a rank that never comes holds no one for long.

Two real processes join a gloo world over loopback TCP (`tests/close_rank.py`); the order of
their events, by the system clock they share, says whether rank 0 waited.
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


def at(out: str, what: str) -> float:
    """When a rank said `what` (its system clock, seconds)."""
    return float(next(x for x in out.splitlines() if x.startswith(what + " ")).split()[-1])


def test_a_rank_waits_for_a_late_one_before_it_leaves() -> None:
    first, late = two_ranks("late", 3.0)
    # Rank 0 began its close at once and ended it only once rank 1, three seconds on, came
    # to its own: an order of events, not a duration.
    assert at(first, "started") < at(late, "arrived") < at(first, "ended")
    assert "initialised False" in first and "initialised False" in late


def test_a_rank_that_never_comes_holds_the_others_only_for_the_bounded_wait() -> None:
    first, absent = two_ranks("absent", 8.0)
    assert "left" in absent and "ended" not in absent
    # CLOSE_WAIT is 2 s here: rank 0 gave up on the barrier and left the group cleanly
    # before rank 1, eight seconds on, went away (an unbounded wait would end only then).
    assert at(first, "ended") < at(absent, "left")
    assert "initialised False" in first
