"""Packaging (packaging/): the desktop file, AppStream metainfo, icons, PyInstaller spec and the
bundle's entry script agree on one application id and on the executables' names, and the app
declares the same id to Qt.

The PyInstaller build itself (minutes) is packaging/build.sh; `pip install .` into a clean venv
is scripts/check_install.sh. The two slow tests at the end run them when
WORKBENCH_PACKAGING_CHECKS=1 (they need a built bundle, and the package index).
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import workbench
from workbench.app import APP_ID, ICON_PATH, identify_app
from workbench.corpus.builtin import builtin_files, corpus_root

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
ICONS = PACKAGING / "icons" / "hicolor"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (read by hand: an oracle apart from Qt)."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path}: not a PNG"
    return struct.unpack(">II", data[16:24])


# -- the id ---------------------------------------------------------------------------------


def test_app_id_is_reverse_dns_and_names_every_file():
    assert APP_ID.count(".") >= 2 and " " not in APP_ID
    assert DESKTOP.is_file() and METAINFO.is_file()
    assert ICON_PATH.name == f"{APP_ID}.svg" and ICON_PATH.is_file()


def test_qt_is_told_the_same_desktop_file_and_gets_the_icon(qapp):
    saved = (
        qapp.applicationName(),
        qapp.organizationName(),
        qapp.applicationVersion(),
        qapp.desktopFileName(),
        qapp.windowIcon(),
    )
    try:
        identify_app(qapp)
        # Qt's own check: what Wayland/X11 are told is the desktop file's name, without .desktop.
        assert qapp.desktopFileName() == DESKTOP.stem
        assert qapp.applicationVersion() == workbench.__version__
        assert not qapp.windowIcon().isNull()
        assert qapp.windowIcon().pixmap(64, 64).width() == 64
    finally:
        qapp.setApplicationName(saved[0])
        qapp.setOrganizationName(saved[1])
        qapp.setApplicationVersion(saved[2])
        qapp.setDesktopFileName(saved[3])
        qapp.setWindowIcon(saved[4])


# -- desktop file ---------------------------------------------------------------------------


def test_desktop_file_launches_the_gui_entry_point_with_the_apps_icon():
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Composition Workbench"
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    program = entry["Exec"].split()[0]
    # The same name starts the pip-installed app and the bundle's GUI executable.
    assert program in pyproject()["project"]["gui-scripts"]
    assert entry["Categories"].endswith(";")
    assert {"AudioVideo", "Audio", "Music"} <= set(entry["Categories"].split(";"))


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="no desktop-file-utils")
def test_desktop_file_validates():
    done = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert done.returncode == 0 and "error" not in done.stdout.lower(), done.stdout


# -- AppStream ------------------------------------------------------------------------------


def test_metainfo_names_the_same_id_desktop_file_icon_and_binaries():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    launchable = root.find("launchable")
    assert launchable.get("type") == "desktop-id" and launchable.text == DESKTOP.name
    assert root.find("icon").text == APP_ID
    project = pyproject()["project"]
    entry_points = {*project["scripts"], *project["gui-scripts"]}
    binaries = {b.text for b in root.iter("binary")}
    assert binaries == entry_points == {"workbench", "workbench-gui"}
    assert root.find("releases/release").get("version") == workbench.__version__
    assert root.findtext("project_license") == project["license"]


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli is not installed")
def test_metainfo_passes_appstreamcli_validate():
    done = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


# -- icons ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_png_icon_at_each_standard_size(size):
    png = ICONS / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    assert png_size(png) == (size, size)


def test_scalable_icon_is_the_apps_svg_and_renders():
    from PySide6.QtSvg import QSvgRenderer

    scalable = ICONS / "scalable" / "apps" / f"{APP_ID}.svg"
    assert scalable.read_bytes() == ICON_PATH.read_bytes(), "rerun packaging/make_icons.py"
    renderer = QSvgRenderer(str(scalable))
    assert renderer.isValid() and renderer.defaultSize().width() == 512


def test_icon_sizes_are_the_ones_make_icons_renders():
    pytest.importorskip("PySide6.QtSvg")
    make_icons = load_module(PACKAGING / "make_icons.py", "make_icons")
    assert tuple(make_icons.SIZES) == SIZES
    rendered = {p.parent.parent.name for p in ICONS.glob(f"*/apps/{APP_ID}.png")}
    assert rendered == {f"{s}x{s}" for s in SIZES}


# -- the PyInstaller spec -------------------------------------------------------------------


class _Recorder:
    """Stands in for PyInstaller's Analysis/PYZ/EXE/COLLECT: keeps what the spec passes."""

    made: list[_Recorder]

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.made.append(self)
        # The spec filters these lists; give it entries to keep and entries to drop.
        self.scripts = [("entry", "entry.py", "PYSOURCE")]
        self.pure = []
        self.datas = [
            *kwargs.get("datas", []),
            ("torch/test/Dict_test", "/x/Dict_test", "DATA"),
            ("torch/bin/protoc", "/x/protoc", "DATA"),
        ]
        self.binaries = [
            ("torch/lib/libtorch_cpu.so", "/x/libtorch_cpu.so", "BINARY"),
            ("torch/bin/torch_shm_manager", "/x/torch_shm_manager", "BINARY"),
        ]


def run_spec() -> dict[str, list[_Recorder]]:
    pytest.importorskip("PyInstaller", reason="PyInstaller is installed by packaging/build.sh")
    made: dict[str, list[_Recorder]] = {}
    namespace = {"SPECPATH": str(PACKAGING)}
    for kind in ("Analysis", "PYZ", "EXE", "COLLECT"):
        made[kind] = []
        namespace[kind] = type(kind, (_Recorder,), {"made": made[kind]})
    spec = PACKAGING / "workbench.spec"
    exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)
    return made


def test_spec_builds_one_folder_with_the_gui_and_cli_executables():
    made = run_spec()
    (collect,) = made["COLLECT"]
    assert collect.kwargs["name"] == "Composition Workbench"
    exes = {exe.kwargs["name"]: exe for exe in made["EXE"]}
    project = pyproject()["project"]
    assert set(exes) == {*project["scripts"], *project["gui-scripts"]}
    assert exes[desktop_entry()["Exec"].split()[0]].kwargs["console"] is False
    assert exes["workbench"].kwargs["console"] is True
    # One folder: the executables hold no libraries, COLLECT puts them beside them.
    assert all(exe.kwargs["exclude_binaries"] for exe in exes.values())
    assert {id(exe) for exe in exes.values()} <= {id(arg) for arg in collect.args}
    (analysis,) = made["Analysis"]
    assert [Path(s) for s in analysis.args[0]] == [PACKAGING / "entry.py"]
    assert PACKAGING / "hooks" in [Path(p) for p in analysis.kwargs["hookspath"]]


def test_spec_collects_the_model_icon_and_verovio_data_and_drops_torch_tests():
    (analysis,) = run_spec()["Analysis"]
    dests = {(Path(src).name, dest) for src, dest in analysis.kwargs["datas"]}
    assert ("default.pt", "models/pretrained") in dests
    assert (ICON_PATH.name, "workbench/resources") in dests
    assert any(dest.startswith("verovio/data") for _, dest in dests)
    assert not any(name.endswith((".py", ".pyc")) for name, _ in dests)
    kept = [entry[0] for entry in (*analysis.datas, *analysis.binaries)]
    assert "torch/test/Dict_test" not in kept and "torch/bin/protoc" not in kept
    assert "torch/bin/torch_shm_manager" in kept and "torch/lib/libtorch_cpu.so" in kept


def test_music21_hook_bundles_every_corpus_file_the_app_reads():
    pytest.importorskip("PyInstaller", reason="PyInstaller is installed by packaging/build.sh")
    hook = load_module(PACKAGING / "hooks" / "hook-music21.py", "hook_music21")
    bundled = {(Path(src).name, dest) for src, dest in hook.datas}
    for source, path in builtin_files("corpus:folk"):
        dest = Path("music21", "corpus", path.parent.relative_to(corpus_root()))
        assert (path.name, dest.as_posix()) in bundled, source
    # corpus:bach-chorales parses music21's bach/*.mxl.
    assert ("bwv269.mxl", "music21/corpus/bach") in bundled
    assert hook.module_collection_mode["music21.common.pathTools"] == "py"


# -- the bundle's entry script --------------------------------------------------------------


@pytest.mark.parametrize("exe", ["workbench", "workbench-gui"])
def test_entry_picks_cli_or_gui_by_executable_name(exe, monkeypatch, capsys):
    entry = load_module(PACKAGING / "entry.py", "bundle_entry")
    monkeypatch.setattr(sys, "executable", f"/opt/Composition Workbench/{exe}")
    monkeypatch.setattr(sys, "argv", [exe, "--version"])
    with pytest.raises(SystemExit) as exit_info:
        entry.main()
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"{exe} {workbench.__version__}"


# -- slow: the real build and install -------------------------------------------------------

needs_opt_in = pytest.mark.skipif(
    os.environ.get("WORKBENCH_PACKAGING_CHECKS") != "1",
    reason="set WORKBENCH_PACKAGING_CHECKS=1 (minutes; a built bundle; the package index)",
)


@pytest.mark.slow
@needs_opt_in
def test_built_bundle_passes_its_checks():
    if not (ROOT / "dist" / "Composition Workbench" / "workbench").exists():
        pytest.skip("no bundle: run packaging/build.sh")
    done = subprocess.run(
        ["bash", str(PACKAGING / "build.sh"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "all checks passed" in done.stdout


@pytest.mark.slow
@needs_opt_in
def test_pip_install_into_a_clean_venv_gives_working_entry_points():
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "check_install.sh")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "all checks passed" in done.stdout
