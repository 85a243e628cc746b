"""The fuzz suite's own guard: a case that hangs is stopped and reported, and cases are counted.

Each test counts into a fresh counter, so these two stay out of the session's summary.
"""

from __future__ import annotations

from collections import Counter

import fuzzing
import pytest
from fuzzing import CaseTimeout, fuzz_case


def test_a_hung_case_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fuzzing, "CASES", Counter())
    monkeypatch.setattr(fuzzing, "CASE_SECONDS", 0.2)

    @fuzz_case
    def hangs() -> None:
        while True:
            pass

    with pytest.raises(CaseTimeout, match=r"longer than 0\.2 s"):
        hangs()


def test_cases_are_counted_per_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fuzzing, "CASES", Counter())

    @fuzz_case
    def case(x: int) -> int:
        return x

    assert [case(i) for i in range(3)] == [0, 1, 2]
    name = "tests/fuzz/test_fuzz_guard.py::test_cases_are_counted_per_test"
    assert {name: 3} == fuzzing.CASES
