"""Fixtures of the notation tests."""

from __future__ import annotations

import pytest

from workbench.notation import meter_aware


@pytest.fixture
def cold_meter_caches(monkeypatch):
    """Masks and length options are built afresh from the rules in each test.

    The meter-aware module caches them per vocabulary for every constraint in the process, so a
    mask built by an earlier test (or an earlier run of this one) would otherwise stand in for
    the code under test.
    """
    monkeypatch.setattr(meter_aware, "_MASK_CACHES", {})
    monkeypatch.setattr(meter_aware, "_OPTION_CACHE", {})
