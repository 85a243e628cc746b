"""The tolerant settings readers: each bad value keeps its own default, numbers are clamped."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings

from workbench.ui.settings_values import INT_MAX, read_bool, read_float, read_int, read_string


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    path = tmp_path / "settings.ini"
    # Written by hand as a user (or a crash) might leave it, then read back through QSettings.
    path.write_text(
        "[g]\n"
        "int=42\nneg=-7\nhuge=99999999999999\nfloat_int=3.0\nfrac=2.5\nword=abc\n"
        "inf=inf\nnan=nan\ntemp=0.75\nlist=a, b\nyes=true\nno=false\nzero=0\nmaybe=perhaps\n"
        "text=hello\n",
        encoding="utf-8",
    )
    return QSettings(str(path), QSettings.Format.IniFormat)


def test_integers_parse_clamp_and_fall_back(settings: QSettings) -> None:
    assert read_int(settings, "g/int", 1) == 42
    assert read_int(settings, "g/neg", 1) == -7
    assert read_int(settings, "g/neg", 1, low=0) == 0
    assert read_int(settings, "g/huge", 1) == INT_MAX  # fits a QSpinBox instead of overflowing
    assert read_int(settings, "g/huge", 1, high=64) == 64
    assert read_int(settings, "g/float_int", 1) == 3
    assert read_int(settings, "g/frac", 1) == 1  # not an integer: the default, not a rounding
    for key in ("g/word", "g/inf", "g/nan", "g/list", "g/absent"):
        assert read_int(settings, key, 9) == 9, key


def test_floats_must_be_finite(settings: QSettings) -> None:
    assert read_float(settings, "g/temp", 1.0) == 0.75
    assert read_float(settings, "g/temp", 1.0, low=0.8) == 0.8
    assert read_float(settings, "g/huge", 1.0, high=2.0) == 2.0
    for key in ("g/inf", "g/nan", "g/word", "g/list", "g/absent"):
        assert read_float(settings, key, 1.5) == 1.5, key


def test_booleans_and_text(settings: QSettings) -> None:
    assert read_bool(settings, "g/yes", False) is True
    assert read_bool(settings, "g/no", True) is False
    assert read_bool(settings, "g/zero", True) is False
    assert read_bool(settings, "g/maybe", True) is True
    assert read_bool(settings, "g/maybe", False) is False
    assert read_string(settings, "g/text", "") == "hello"
    assert read_string(settings, "g/list", "dflt") == "dflt"  # a list is no text
    assert read_string(settings, "g/absent", "dflt") == "dflt"
