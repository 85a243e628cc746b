"""Hostile files and folders given to the GUI (issue 15, item 2).

The Dataset pane (Load), the Editor's Open, the model choosers (the Generation pane's Browse…
and the Neurons pane's Model…) and Run history (a run's row, "Open run directory…") are each
given files made by the real operating system: unreadable, 100 MB, NUL bytes, UTF-8 and UTF-16
BOMs, Latin-1, a symbolic link to itself, a folder named like a file, empty, random bytes, a FIFO
(which blocks whoever opens it for reading), a zip that is no checkpoint, garbage run files.
For each, one clear message names the file, the widget is still up, and what the user had
loaded before (tunes, the editor's text, the chosen model, the listed runs) is still there.

As root (CI containers), ``chmod 000`` does not stop a read, so the "unreadable" cases are
skipped there; the symbolic-link loop, the folder and the FIFO make a read fail for root too.
Message boxes are recorded, not shown; the file dialogs are answered by the tests.
"""

from __future__ import annotations

import json
import os
import random
import stat
import zipfile
from pathlib import Path
from unittest import mock

import pytest
import torch
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from tiny import tiny_run_config

from models.checkpoint import Checkpoint, save_checkpoint
from models.config import ModelConfig, RunConfig
from models.networks import CharRNN
from models.tokenizer import CharTokenizer
from workbench.session import Session
from workbench.ui.panes.dataset_pane import DatasetPane
from workbench.ui.panes.editor_pane import EditorPane
from workbench.ui.panes.generation_pane import GenerationPane
from workbench.ui.panes.neurons_pane import NeuronsPane
from workbench.ui.panes.training_pane import TrainingPane
from workbench.ui.widgets.run_history import COL_RUN, RunHistoryWidget

TIMEOUT_MS = 20_000
GOOD_ABC = "X:1\nT:First Reel\nM:C|\nK:G\nGABc dedB|\n\nX:2\nT:Second Jig\nM:6/8\nK:Em\nEFG B2e|\n"
CAFE = "X:1\nT:Café Reel\nM:C|\nL:1/8\nK:G\nGABc dedB|dedB dedB|\n"
BIG = 100 * 2**20
# chmod 000 stops everyone but root (euid 0 reads anything).
CAN_BE_UNREADABLE = hasattr(os, "geteuid") and os.geteuid() != 0


def _unreadable(path: Path, data: bytes) -> Path:
    if not CAN_BE_UNREADABLE:
        pytest.skip("running as root (or not on POSIX): chmod 000 does not stop the read")
    path.write_bytes(data)
    path.chmod(0)
    assert not os.access(path, os.R_OK)
    return path


def hostile_file(kind: str, folder: Path, suffix: str) -> Path:
    """A hostile file named ``<kind><suffix>`` in ``folder``, made by the real OS."""
    path = folder / f"{kind}{suffix}"
    rng = random.Random(kind)
    if kind == "unreadable":
        return _unreadable(path, CAFE.encode())
    if kind == "100MB":
        with open(path, "wb") as fh:
            fh.truncate(BIG)  # sparse: made in a millisecond, reads as 100 MB of NULs
    elif kind == "nul-bytes":
        path.write_bytes(CAFE.replace("Reel", "Re\0el").encode())
    elif kind == "utf8-bom":
        path.write_bytes(b"\xef\xbb\xbf" + CAFE.encode("utf-8"))
    elif kind == "utf16-bom":
        path.write_bytes(CAFE.encode("utf-16"))  # BOM first
    elif kind == "latin1":
        path.write_bytes(CAFE.encode("latin-1"))
    elif kind == "symlink-loop":
        path.symlink_to(path.name)  # a link to itself: ELOOP, root or not
    elif kind == "folder":
        path.mkdir()
        (path / "notes.md").write_text("not a tune\n", encoding="utf-8")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "fifo":
        os.mkfifo(path)  # opening it for reading blocks until someone writes
    elif kind == "random":
        path.write_bytes(rng.randbytes(20_000))
    elif kind == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", b"not a pickle")
            archive.writestr("archive/version", "3\n")
    else:
        raise ValueError(kind)
    return path


# Hostile text files that are tunes all the same: they load, with "é" right.
LOADS = {"utf8-bom", "utf16-bom", "latin1"}
TEXT_CASES = [
    "unreadable",
    "100MB",
    "nul-bytes",
    "utf8-bom",
    "utf16-bom",
    "latin1",
    "symlink-loop",
    "folder",
    "empty",
    "fifo",
    "random",
]
CHECKPOINT_CASES = [
    "unreadable",
    "100MB",
    "nul-bytes",
    "symlink-loop",
    "folder",
    "empty",
    "fifo",
    "random",
    "zip",
]


def naming(messages: list[str], path: Path) -> list[str]:
    return [m for m in messages if path.name in m]


# -- the Dataset pane ---------------------------------------------------------------------------


@pytest.fixture
def dataset_pane(qtbot):
    pane = DatasetPane(Session())
    qtbot.addWidget(pane)
    pane.show()
    yield pane
    pane.shutdown()


def _load(qtbot, pane: DatasetPane, sources: list[str]) -> None:
    """Empty the source list, add ``sources`` with Add files… / Add folder…, click Load."""
    pane.remove_sources(pane.sources())
    for source in sources:
        # A folder named x.abc is still a folder: the user picks it with Add folder….
        if Path(source).is_dir():
            dialog, button, answer = "getExistingDirectory", pane.add_folder_button, source
        else:
            dialog, button, answer = "getOpenFileNames", pane.add_files_button, ([source], "")
        with mock.patch.object(QFileDialog, dialog, return_value=answer):
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert pane.sources() == sources
    with qtbot.waitSignal(pane.loader.finished, timeout=TIMEOUT_MS):
        qtbot.mouseClick(pane.load_button, Qt.MouseButton.LeftButton)


def _titles(pane: DatasetPane) -> list[str]:
    return [tune.title for tune in pane.session.dataset.tunes]


def _pane_messages(pane: DatasetPane) -> list[str]:
    return [*pane.problems_model.stringList(), pane.status_label.text()]


@pytest.mark.parametrize("kind", [*TEXT_CASES, "random.mid"])
def test_dataset_pane_reports_a_hostile_file_and_keeps_the_tunes(
    qtbot, dataset_pane, tmp_path, kind
):
    pane = dataset_pane
    good = tmp_path / "good.abc"
    good.write_text(GOOD_ABC, encoding="utf-8")
    _load(qtbot, pane, [str(good)])
    assert _titles(pane) == ["First Reel", "Second Jig"]
    name, suffix = (kind.split(".")[0], ".mid") if kind.endswith(".mid") else (kind, ".abc")
    bad = hostile_file(name, tmp_path, suffix)

    # Added to the tunes already listed, then Load.
    _load(qtbot, pane, [str(good), str(bad)])
    assert pane.isVisible()
    if kind in LOADS:
        assert _titles(pane) == ["First Reel", "Second Jig", "Café Reel"]
        assert naming(_pane_messages(pane), bad) == []
    else:
        assert _titles(pane) == ["First Reel", "Second Jig"]
        assert len(naming(_pane_messages(pane), bad)) == 1, _pane_messages(pane)

    # Loaded on its own: a file that gives nothing keeps the dataset the user had (and its
    # problem list); the status line says why, naming the file.
    kept_problems = pane.problems_model.stringList()
    _load(qtbot, pane, [str(bad)])
    assert pane.isVisible()
    if kind in LOADS:
        assert _titles(pane) == ["Café Reel"]
    else:
        assert _titles(pane) == ["First Reel", "Second Jig"]
        assert pane.tune_model.rowCount() == 2
        assert pane.problems_model.stringList() == kept_problems
        assert str(bad) in pane.status_label.text()
        assert "dataset is kept" in pane.status_label.text()


def test_dataset_pane_loads_a_hostile_folder_naming_each_bad_file_once(
    qtbot, dataset_pane, tmp_path
):
    """Every hostile kind in one folder, with links to itself and to its parent: the good
    tunes load, each bad file is one problem, and the walk does not loop."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "good.abc").write_text(GOOD_ABC, encoding="utf-8")
    (folder / "self").symlink_to(".")
    (folder / "up").symlink_to("..")
    bad = []
    for kind in TEXT_CASES:
        if kind == "unreadable" and not CAN_BE_UNREADABLE:
            continue
        bad.append(hostile_file(kind, folder, ".abc"))
    _load(qtbot, dataset_pane, [str(folder)])
    titles = _titles(dataset_pane)
    assert sorted(titles) == sorted(["First Reel", "Second Jig"] + ["Café Reel"] * len(LOADS))
    problems = dataset_pane.problems_model.stringList()
    for path in bad:
        # A folder named x.abc is walked into: there is nothing in it to complain about.
        if path.stem in LOADS or path.stem == "folder":
            assert naming(problems, path) == []
        else:
            assert len(naming(problems, path)) == 1, (path, problems)
    assert dataset_pane.isVisible()


# -- the Editor's Open --------------------------------------------------------------------------


@pytest.fixture
def boxes(monkeypatch) -> list[str]:
    """Message boxes recorded instead of shown (none may block a test)."""
    shown: list[str] = []

    def record(_parent, _title, text, *_args, **_kwargs):
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    for name in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, record)
    return shown


@pytest.fixture
def editor(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    pane = EditorPane(Session(), settings=settings)
    qtbot.addWidget(pane)
    pane.show()
    yield pane
    pane.shutdown()


@pytest.mark.parametrize("kind", TEXT_CASES)
def test_editor_open_reports_a_hostile_file_and_keeps_the_text(
    qtbot, editor, boxes, tmp_path, monkeypatch, kind
):
    mine = "X:1\nT:My Unsaved Tune\nK:D\nDEF|\n"
    editor.set_text(mine)
    bad = hostile_file(kind, tmp_path, ".abc")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    editor.open_action.trigger()
    assert editor.isVisible()
    if kind in LOADS:
        assert boxes == []
        assert editor.text().startswith("X:1\nT:Café Reel\n")
    else:
        assert len(boxes) == 1 and bad.name in boxes[0], boxes
        assert editor.text() == mine


# -- the model choosers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory) -> Path:
    """An untrained tiny char-RNN: a real checkpoint, made in milliseconds."""
    tokenizer = CharTokenizer.fit([GOOD_ABC])
    cfg = RunConfig(model=ModelConfig(arch="lstm", hidden=8, layers=1, embedding=4, dropout=0))
    torch.manual_seed(0)
    model = CharRNN(cfg.model, len(tokenizer))
    path = tmp_path_factory.mktemp("model") / "good.pt"
    save_checkpoint(
        path, Checkpoint(config=cfg, tokenizer=tokenizer, state_dict=model.state_dict())
    )
    return path


@pytest.mark.parametrize("kind", CHECKPOINT_CASES)
def test_generation_model_chooser_refuses_a_hostile_checkpoint_and_keeps_the_model(
    qtbot, tmp_path, monkeypatch, good_checkpoint, kind
):
    bad = hostile_file(kind, tmp_path, ".pt")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    session = Session()
    pane = GenerationPane(
        session, runs_root=tmp_path / "runs", settings=settings, default_model=None
    )
    qtbot.addWidget(pane)
    pane.show()
    try:
        session.checkpoint = good_checkpoint
        qtbot.waitUntil(lambda: pane.loaded is not None, timeout=TIMEOUT_MS)
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
        qtbot.mouseClick(pane.chooser.browse_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Cannot use" in pane.model_label.text(), timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda: not pane.loader.is_loading(), timeout=TIMEOUT_MS)
        assert pane.model_label.text().count(bad.name) == 1, pane.model_label.text()
        assert session.checkpoint == good_checkpoint
        assert pane.chooser.current_path() == good_checkpoint
        assert pane.chooser.combo.currentData() == str(good_checkpoint)
        assert pane.loaded is not None and pane.loaded.path == good_checkpoint
        assert pane.generate_button.isEnabled() and pane.isVisible()
    finally:
        pane.shutdown()


@pytest.mark.parametrize("kind", CHECKPOINT_CASES)
def test_neurons_model_button_refuses_a_hostile_checkpoint_and_keeps_the_model(
    qtbot, tmp_path, monkeypatch, good_checkpoint, kind
):
    bad = hostile_file(kind, tmp_path, ".pt")
    session = Session()
    session.checkpoint = good_checkpoint
    pane = NeuronsPane(session)
    qtbot.addWidget(pane)
    pane.show()
    try:
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
        reports: list[str] = []
        pane.status_reported.connect(reports.append)
        # The file is read on a worker thread; the answer follows.
        with qtbot.waitSignal(pane.checkpoint_checked, timeout=20_000) as taken:
            qtbot.mouseClick(pane.model_button, Qt.MouseButton.LeftButton)
        assert taken.args == [False]
        assert reports[0] == f"Reading {bad.name}…"
        assert len(naming(reports[1:], bad)) == 1, reports
        assert reports[1:] == [pane.status_label.text()], reports
        assert "good.pt" in reports[1]  # the model still in use, said so
        assert pane.checkpoint_path() == good_checkpoint
        assert pane.model_label.text() == "Model: good.pt"
        assert pane.isVisible()
    finally:
        pane.shutdown()


# -- Run history --------------------------------------------------------------------------------


def _write_good_run(root: Path) -> Path:
    run = root / "good-run"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(tiny_run_config().to_dict()), encoding="utf-8")
    events = [{"event": "start", "step": 0, "total_steps": 20, "steps_per_epoch": 10}]
    events += [
        {"event": "step", "step": s, "epoch": s / 10, "loss": 3.0 - s / 10, "elapsed": s / 100}
        for s in range(1, 21)
    ]
    events.append({"event": "end", "reason": "epochs", "step": 20})
    (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return run


GARBAGE_LINES = (
    b'{"event": "step", "step": 1, "loss": 2.5\n'  # torn
    b"\x00\x00\x00\x00\n"
    b"\xff\xfe not utf-8 \x80\x81\n"
    b"[1, 2, 3]\n"
    b'{"event": "step", "step": "NaN", "loss": {"deep": []}}\n' + b"[" * 100_000 + b"\n"
)


def hostile_run(kind: str, root: Path) -> tuple[Path, str]:
    """A hostile run directory, and the file in it a message should name."""
    run = root / f"run-{kind}"
    run.mkdir(parents=True)
    config = run / "config.json"
    metrics = run / "metrics.jsonl"
    good_config = json.dumps(tiny_run_config().to_dict())
    if kind == "garbage-metrics":
        config.write_text(good_config, encoding="utf-8")
        metrics.write_bytes(GARBAGE_LINES)
        return run, metrics.name
    if kind == "config-not-json":
        config.write_bytes(b'{"model": {"arch": "lstm", ')
        metrics.write_bytes(GARBAGE_LINES)
        return run, config.name
    if kind == "100MB-metrics":
        config.write_text(good_config, encoding="utf-8")
        with open(metrics, "wb") as fh:
            fh.truncate(BIG)
        return run, metrics.name
    if kind == "metrics-is-a-folder":
        config.write_text(good_config, encoding="utf-8")
        metrics.mkdir()
        return run, metrics.name
    if kind == "fifo-config":  # opening it would block until someone writes to it
        os.mkfifo(config)
        metrics.write_bytes(GARBAGE_LINES)
        return run, config.name
    if kind == "fifo-metrics":
        config.write_text(good_config, encoding="utf-8")
        os.mkfifo(metrics)
        return run, metrics.name
    if kind == "symlink-loops":
        config.symlink_to(config.name)
        metrics.symlink_to(metrics.name)
        (run / "self").symlink_to(".")
        return run, config.name
    if kind == "bad-samples":
        config.write_text(good_config, encoding="utf-8")
        metrics.write_text(json.dumps({"event": "step", "step": 1, "loss": 2.0}) + "\n")
        samples = run / "samples"
        samples.mkdir()
        (samples / "step000001.abc").write_bytes(CAFE.encode("latin-1"))
        (samples / "step000002.abc").mkdir()  # the newest "sample" is a folder
        return run, "step000002.abc"
    if kind == "not-a-run":
        (run / "notes.txt").write_text("hello\n", encoding="utf-8")
        return run, run.name
    raise ValueError(kind)


RUN_CASES = [
    "garbage-metrics",
    "config-not-json",
    "100MB-metrics",
    "metrics-is-a-folder",
    "fifo-config",
    "fifo-metrics",
    "symlink-loops",
    "bad-samples",
    "not-a-run",
]


@pytest.fixture
def history_and_pane(qtbot, tmp_path):
    """Run history and the training pane, wired as the main window wires them."""
    root = tmp_path / "runs"
    root.mkdir()
    pane = TrainingPane(Session(), runs_root=root)
    history = RunHistoryWidget(root)
    history.run_activated.connect(pane.show_run)
    history.follow_requested.connect(pane.follow_run)
    for widget in (pane, history):
        qtbot.addWidget(widget)
        widget.show()
    yield root, history, pane
    pane.stop_following()


def _row_of(history: RunHistoryWidget, name: str) -> int | None:
    for row in range(history.table.rowCount()):
        if history.table.item(row, COL_RUN).text() == name:
            return row
    return None


@pytest.mark.parametrize("kind", RUN_CASES)
def test_run_history_reports_a_hostile_run_directory_and_keeps_the_runs(
    qtbot, history_and_pane, monkeypatch, kind
):
    root, history, pane = history_and_pane
    good = _write_good_run(root)
    bad, culprit = hostile_run(kind, root)
    history.refresh()
    good_row = _row_of(history, good.name)
    assert good_row is not None
    history.set_checked([good])
    assert list(history.plotted_curves()) == [good]

    # Open run directory… -> follow it; a few polls of what is there.
    messages: list[str] = []
    pane.status_changed.connect(messages.append)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(bad))
    qtbot.mouseClick(history.open_dir_button, Qt.MouseButton.LeftButton)
    for _ in range(3):
        pane.follow_driver.poll()

    # Its row, if it has one, double-clicked: replayed in the training pane.
    row = _row_of(history, bad.name)
    if row is not None:
        pane.stop_following()
        messages.clear()
        history.table.cellDoubleClicked.emit(row, COL_RUN)
    # The message the user reads last names the culprit file, once.
    assert messages and messages[-1].count(culprit) == 1, messages
    assert history.isVisible() and pane.isVisible()
    # The runs the user had are still listed and plotted.
    history.refresh()
    assert _row_of(history, good.name) is not None
    assert list(history.plotted_curves()) == [good]


def test_run_history_scan_survives_unreadable_run_files(qtbot, history_and_pane):
    root, history, _pane = history_and_pane
    good = _write_good_run(root)
    run = root / "locked"
    run.mkdir()
    _unreadable(run / "config.json", b"{}")
    history.refresh()
    assert _row_of(history, good.name) is not None and _row_of(history, "locked") is None


def test_a_fifo_is_not_opened_by_the_dataset_reader(tmp_path):
    """The FIFO cases above would hang the test, not fail it, if a reader opened one: say so
    plainly here (the same check as the GUI's, without Qt)."""
    from workbench.corpus.text import UnreadableFile, read_text

    fifo = hostile_file("fifo", tmp_path, ".abc")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    with pytest.raises(UnreadableFile, match="not a regular file"):
        read_text(fifo)
