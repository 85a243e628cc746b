"""Fuzzing the user settings: the main window opens whatever its settings file holds.

The settings are a QSettings INI file (the platform's config folder); the main window and its
panes read them back at start-up (`MainWindow._restore`, the generation pane's sampling knobs,
the editor's last document and recent files, the MIDI prompt's choices, the export folder). A
settings file can be damaged (a crash mid-write, a sync conflict) or hand-edited; the promise
(main_window.py: "a hand-edited settings file: keep the defaults") is that the window still
opens, keeping the defaults for what it cannot read, and saves a readable file when it closes.

Each case writes every known key with a value drawn from: what the app writes, numbers out of
range or of the wrong kind (`99999999999999`, `inf`, `nan`, `-1`), text, lists, or nothing; or
damages a real settings file (one the window itself saved) byte by byte. The keys that make the
window start work on its own (`session/data_specs` reloads data, `session/run` opens a run) get
only paths that do not exist: a fuzzed spec of `/` would load the whole disk.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fuzzing import Material, fuzz_case, fuzz_settings, mutated_bytes
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings

from workbench.session import Session
from workbench.ui.main_window import MainWindow

#: Every key the app reads back (grep `settings.value` / `s.value` in workbench/ui).
KEYS = [
    "version", "window/geometry", "window/state", "runs/root", "session/midi_encoding",
    "session/midi_velocities", "generation/temperature", "generation/top_k", "generation/top_p",
    "generation/max_chars", "generation/max_events", "generation/variations", "generation/seed",
    "generation/random_seed", "generation/meter_aware", "generation/argmax", "generation/source",
    "generation/key", "generation/meter", "generation/prompt_events", "generation/event_source",
    "generation/prompt_file", "generation/prompt_dir", "editor/document/path",
    "editor/document/origin", "editor/document/text", "editor/document/modified",
    "editor/document/cursor", "editor/recent_files", "export/folder",
]  # fmt: skip
MISSING = "/nonexistent/fuzz/path"

value = st.one_of(
    st.sampled_from(["1", "0", "-1", "true", "false", "", "abc", "nan", "inf", "-inf", "1e308",
                     "99999999999999", str(2**31), "0.5", "X:1\nK:G\nABc|", "remi", "events"]),
    st.integers(-(2**40), 2**40).map(str),
    st.floats().map(str),
    st.text(max_size=12),
    st.lists(st.text(max_size=6), max_size=3),
    st.binary(max_size=12),
)  # fmt: skip


@pytest.fixture(scope="module")
def real_settings(qapp) -> bytes:
    """The settings file a window writes when it closes after a normal session."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "settings.ini")
        _open_and_close(QSettings(str(path), QSettings.Format.IniFormat), Path(folder))
        return path.read_bytes()


def _open_and_close(settings: QSettings, folder: Path) -> MainWindow:
    """Open the window on `settings`, then close it as the user would, without the questions
    that unsaved work asks (a modal box would wait for a click)."""
    window = MainWindow(Session(), settings=settings, runs_root=folder / "runs")
    window.show()
    window.editor_pane.confirm_close = lambda: True
    window.generation_pane.confirm_close = lambda: True
    assert window.close()
    window.deleteLater()
    return window


def _check_round_trip(path: Path, folder: Path) -> None:
    """What the window saved on closing opens a window again, and holds the version."""
    again = QSettings(str(path), QSettings.Format.IniFormat)
    assert again.status() == QSettings.Status.NoError
    assert str(again.value("version")) == "1"
    _open_and_close(again, folder)


@fuzz_settings(
    0.05,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    # Mostly the version the app writes, so that the window reads the rest.
    st.fixed_dictionaries(
        {"version": st.one_of(st.just("1"), st.just("1"), value)},
        optional={key: value for key in KEYS if key != "version"},
    ),
    st.sampled_from([[], [MISSING], MISSING]),
    st.sampled_from(["", MISSING]),
)
@fuzz_case
def test_any_setting_values(qapp, values: dict, specs, run) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "settings.ini")
        settings = QSettings(str(path), QSettings.Format.IniFormat)
        for key, item in values.items():
            settings.setValue(key, item)
        settings.setValue("session/data_specs", specs)
        settings.setValue("session/run", run)
        settings.sync()
        _open_and_close(settings, Path(folder))
        _check_round_trip(path, Path(folder))


@fuzz_settings(
    0.025, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(st.data())
@fuzz_case
def test_a_damaged_settings_file(qapp, real_settings: bytes, data) -> None:
    damaged = data.draw(mutated_bytes(Material("real settings files", [real_settings])))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "settings.ini")
        path.write_bytes(damaged)
        _open_and_close(QSettings(str(path), QSettings.Format.IniFormat), Path(folder))
        _check_round_trip(path, Path(folder))
