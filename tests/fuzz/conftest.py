"""The fuzz suite's Hypothesis profiles and its end-of-session count of cases tried.

Profiles, registered here (defined in `fuzzing.register_profiles`, so a script can use them
too); pick one with `HYPOTHESIS_PROFILE=NAME`. The tests apply it through
`fuzzing.fuzz_settings` rather than loading it, so the rest of the suite is untouched:

* `fuzz` (default, CI): a fixed seed (`derandomize=True`: the same cases every run, on every
  machine), no example database (no failing case saved to `.hypothesis/` and replayed), no deadline
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
from fuzzing import CASES, profile_name, register_profiles

register_profiles()

_FAILED: set[str] = set()
_XFAILED: set[str] = set()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A failing case of real files can be large: Hypothesis warns that printing it is costly,
    # and under "warnings are errors" that warning would replace the failure it reports.
    quiet = pytest.mark.filterwarnings("ignore:Generating overly large repr")
    for item in items:
        if "tests/fuzz/" in item.nodeid.replace(os.sep, "/"):
            item.add_marker(quiet)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/fuzz/" not in report.nodeid.replace(os.sep, "/"):
        return
    if report.failed:
        _FAILED.add(report.nodeid)
    elif hasattr(report, "wasxfail") and report.when == "call":
        _XFAILED.add(report.nodeid)


def pytest_terminal_summary(terminalreporter) -> None:
    if not CASES:
        return
    total = sum(CASES.values())
    failed = sorted(_FAILED)
    terminalreporter.section(f"fuzz cases (profile {profile_name()})")
    width = max(len(name) for name in CASES)
    for name, count in sorted(CASES.items()):
        mark = "FAILED" if name in _FAILED else "xfail (known bug)" if name in _XFAILED else "ok"
        terminalreporter.write_line(f"{name:<{width}}  {count:>7,}  {mark}")
    xfailed = f", {len(_XFAILED)} known bugs (xfail)" if _XFAILED else ""
    terminalreporter.write_line(
        f"{total:,} cases tried in {len(CASES)} fuzz tests, {len(failed)} failed{xfailed}"
    )
    out = os.environ.get("FUZZ_SUMMARY")
    if out:
        summary = {
            "profile": profile_name(),
            "cases": dict(sorted(CASES.items())),
            "total": total,
            "failed": failed,
            "xfailed": sorted(_XFAILED),
        }
        Path(out).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
