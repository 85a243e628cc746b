"""The fuzz suite's Hypothesis profiles and its end-of-session count of cases tried.

Profiles (pick one with `HYPOTHESIS_PROFILE=NAME`; the tests apply it through
`fuzzing.fuzz_settings`, so the rest of the suite is untouched):

* `fuzz` (default, CI): a fixed seed (`derandomize=True`: the same cases every run, on every
  machine), no example database (nothing read from or written to `.hypothesis/`), no deadline
  (a loaded two-core machine would make it flaky; `fuzzing.fuzz_case` stops a hung case
  instead), and `max_examples` sized so the whole folder runs in about a minute on two cores;
* `thorough`: 20x the cases, still derandomized, for a longer hunt before a release
  (`HYPOTHESIS_PROFILE=thorough .venv/bin/pytest tests/fuzz -q`).

At the end of the session the number of cases each fuzz test ran is printed, with the failures,
and written as JSON to `$FUZZ_SUMMARY` when that is set (for RELIABILITY.md's figures).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fuzzing import CASES, profile_name
from hypothesis import HealthCheck, settings

_COMMON = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    # Real corpora and real files make large inputs on purpose; generation is not the problem.
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("fuzz", max_examples=200, **_COMMON)
settings.register_profile("thorough", max_examples=4000, **_COMMON)

_FAILED: set[str] = set()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and "tests/fuzz/" in report.nodeid.replace(os.sep, "/"):
        _FAILED.add(report.nodeid)


def pytest_terminal_summary(terminalreporter) -> None:
    if not CASES:
        return
    total = sum(CASES.values())
    failed = sorted(_FAILED)
    terminalreporter.section(f"fuzz cases (profile {profile_name()})")
    width = max(len(name) for name in CASES)
    for name, count in sorted(CASES.items()):
        mark = "FAILED" if name in _FAILED else "ok"
        terminalreporter.write_line(f"{name:<{width}}  {count:>7,}  {mark}")
    terminalreporter.write_line(
        f"{total:,} cases tried in {len(CASES)} fuzz tests, {len(failed)} failed"
    )
    out = os.environ.get("FUZZ_SUMMARY")
    if out:
        summary = {
            "profile": profile_name(),
            "cases": dict(sorted(CASES.items())),
            "total": total,
            "failed": failed,
        }
        Path(out).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
