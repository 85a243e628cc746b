"""Clocks for the player: the real one, and two for tests that run in zero time.

The player asks a clock for ``now()`` and to ``sleep_until(t, wake)``; ``wake`` is a
``threading.Event`` the player sets to cut a sleep short (pause, seek, tempo change).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep_until(self, t: float, wake: threading.Event) -> None: ...


class MonotonicClock:
    """``time.perf_counter`` with an accurate sleep.

    A plain timed wait can wake late by the kernel's timer slack plus scheduling; the last
    ``spin_s`` are waited with ``time.sleep(0)`` (which gives up the GIL and the CPU each
    turn), so a note goes out within a fraction of a millisecond of its time.
    """

    def __init__(self, spin_s: float = 0.0015) -> None:
        self.spin_s = spin_s

    def now(self) -> float:
        return time.perf_counter()

    def sleep_until(self, t: float, wake: threading.Event) -> None:
        remaining = t - time.perf_counter()
        if remaining > self.spin_s and wake.wait(remaining - self.spin_s):
            return
        while time.perf_counter() < t and not wake.is_set():
            time.sleep(0)


class JumpClock:
    """A clock that jumps ahead to whatever time is slept to: a whole tune plays at once.

    ``at(t, fn)`` runs ``fn`` (on the sleeping thread) when the clock passes ``t``: a test's
    way to press pause or stop at an exact moment of the tune.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._actions: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def at(self, t: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._actions, (t, next(self._order), fn))

    def sleep_until(self, t: float, wake: threading.Event) -> None:
        while self._actions and self._actions[0][0] <= t and not wake.is_set():
            at, _, fn = heapq.heappop(self._actions)
            self._now = max(self._now, at)
            fn()
        if not wake.is_set():
            self._now = max(self._now, t)


class ManualClock:
    """A clock that moves only when a test calls ``advance(seconds)``."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._cond = threading.Condition()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        with self._cond:
            self._now += seconds
            self._cond.notify_all()

    def sleep_until(self, t: float, wake: threading.Event) -> None:
        with self._cond:
            while self._now < t and not wake.is_set():
                self._cond.wait(0.01)
