"""No surprises (issue 15, item 6): the app opens no network connection, and nothing a user
opens is executed.

The network test runs a whole GUI session in the real main window: load a corpus, train a
tiny model for a few steps in the trainer's child process, generate a tune, engrave its score
in verovio's child process, play it (to the built-in synth; offscreen there is no sound
device), and capture its neurons. Three watchers, because a monkeypatch reaches only this
process's Python code:

* in this process, ``socket.socket.connect``/``connect_ex``, ``socket.create_connection`` and
  ``socket.getaddrinfo`` are replaced by functions that record the attempt and raise;
* child processes (spawned: a fresh interpreter) get the same guard from a ``sitecustomize``
  on their PYTHONPATH, which logs each child's start (so the test knows the guard reached the
  trainer and the engraver) and every attempt to a file;
* C and C++ code (Qt, verovio, FluidSynth) is not seen by either, so a timer looks every
  100 ms at the sockets that this process and its children hold (``/proc/PID/fd`` against
  ``/proc/net/tcp``, ``tcp6``, ``udp``, ``udp6``, ``raw``, ``raw6``): any internet socket, even
  one only created, counts. A socket opened and closed between two looks would be missed, and
  a child that is not Python would be seen only by the looks (none is started today: every
  child the looks saw must have logged the guard's start). Linux only (/proc).

Local sockets (AF_UNIX: multiprocessing's pipes, PulseAudio) are not network connections and
are let through.

"Nothing a user opens is executed": a checkpoint whose pickle would run code is refused by
`models.checkpoint.load_checkpoint` (tests/models/test_models_checkpoint.py::
test_pickled_code_is_refused_and_never_runs, and ..._details.py for TORCH_FORCE_WEIGHTS_ONLY_LOAD);
here the same file goes through the Generation pane's Browse…, a run directory full of code
through Run history and the Training pane, and a settings file through the app's settings
reader.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox
from tiny import tiny_run_config

from workbench.playback.player import State
from workbench.session import PlayRequest, Session
from workbench.ui.main_window import MainWindow
from workbench.ui.panes.generation_pane import GenerationPane
from workbench.ui.panes.training_pane import TrainingPane
from workbench.ui.settings_values import drop_stored_objects, read_int
from workbench.ui.widgets.run_history import RunHistoryWidget

TIMEOUT_MS = 90_000
LOG_ENV = "WORKBENCH_TEST_NETWORK_LOG"

# Installed in every child process through PYTHONPATH: the same guard as in this process.
SITECUSTOMIZE = r'''
"""Test guard (tests/ui/test_ui_no_network.py): block and log network use in this process."""
import os
import socket

_LOG = os.environ.get("WORKBENCH_TEST_NETWORK_LOG")


def _note(what):
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()} {what}\n")


if _LOG:
    _note(f"started ppid={os.getppid()}")
    _INET = (socket.AF_INET, socket.AF_INET6)
    _connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self, address):
        if self.family in _INET:
            _note(f"connect {address!r}")
            raise OSError("network blocked by the test")
        return _connect(self, address)

    def connect_ex(self, address):
        if self.family in _INET:
            _note(f"connect_ex {address!r}")
            raise OSError("network blocked by the test")
        return _connect_ex(self, address)

    def create_connection(address, *args, **kwargs):
        _note(f"create_connection {address!r}")
        raise OSError("network blocked by the test")

    def getaddrinfo(host, *args, **kwargs):
        _note(f"getaddrinfo {host!r}")
        raise socket.gaierror("name lookup blocked by the test")

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.create_connection = create_connection
    socket.getaddrinfo = getaddrinfo
'''

ABC = "X:1\nT:Test Reel\nM:4/4\nL:1/8\nQ:1/4=240\nK:D\nDEFG ABcd|dcBA GFED|]\n"


def _inet_inodes() -> set[str]:
    """The inode of every internet socket in this network namespace."""
    inodes: set[str] = set()
    for table in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
        try:
            lines = Path("/proc/net", table).read_text().splitlines()[1:]
        except OSError:
            continue
        inodes.update(fields[9] for line in lines if len(fields := line.split()) > 9)
    return inodes


def _process_tree(root: int) -> set[int]:
    """``root`` and its descendants, from /proc/PID/stat."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


class SocketWatch:
    """Records internet sockets held by this process and its children, and every Python
    connection attempt in this process."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self.held: set[tuple[int, str]] = set()
        self.pids: set[int] = set()  # every process looked at
        self.looks = 0
        self.log: Path | None = None  # the children's log
        # Children an earlier test left (multiprocessing's resource tracker lives as long as
        # this process) were started without the guard: watched, but not counted as ours.
        self.before = _process_tree(os.getpid())
        self.baseline = self._held_now()

    def _held_now(self) -> set[tuple[int, str]]:
        inet = _inet_inodes()
        held = set()
        for pid in _process_tree(os.getpid()):
            self.pids.add(pid)
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if link.startswith("socket:[") and link[8:-1] in inet:
                    held.add((pid, link))
        return held

    def look(self) -> None:
        self.looks += 1
        self.held |= self._held_now() - self.baseline

    def blocker(self, name: str):
        def blocked(*args, **_kwargs):
            self.attempts.append(f"{name}{args!r}")
            raise OSError(f"network blocked by the test ({name})")

        return blocked


@pytest.fixture
def watch(monkeypatch, tmp_path) -> SocketWatch:
    watch = SocketWatch()
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
    inet = (socket.AF_INET, socket.AF_INET6)

    def guarded(original, name):
        def call(sock, address):
            if sock.family in inet:
                watch.attempts.append(f"{name} {address!r}")
                raise OSError(f"network blocked by the test ({name})")
            return original(sock, address)

        return call

    monkeypatch.setattr(socket.socket, "connect", guarded(connect, "connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(connect_ex, "connect_ex"))
    monkeypatch.setattr(socket, "create_connection", watch.blocker("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", watch.blocker("getaddrinfo"))
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "children.log"
    log.touch()
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(guard), path) if p))
    monkeypatch.setenv(LOG_ENV, str(log))
    watch.log = log
    return watch


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="watches sockets in /proc (Linux)")
def test_a_whole_gui_session_opens_no_network_connection(qtbot, watch, tmp_path, monkeypatch):
    def answer(_parent, _title, _text, buttons, *_args):
        # Quit without saving: discard the editor's text and the generated tunes.
        discard = QMessageBox.StandardButton.Discard
        return discard if buttons & discard else QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Session(), settings=settings, runs_root=tmp_path / "runs")
    qtbot.addWidget(window)
    timer = QTimer()
    timer.timeout.connect(watch.look)
    timer.start(100)
    window.show()
    qtbot.waitExposed(window)
    session = window.session

    # The Dataset pane: a real corpus.
    window.dataset_pane.add_sources(["corpus:miscFolk"])
    with qtbot.waitSignal(window.dataset_pane.loader.finished, timeout=TIMEOUT_MS):
        window.dataset_pane.load()
    assert len(session.dataset.tunes) == 185

    # The Training pane: a few steps in the trainer's child process, then Stop.
    training: TrainingPane = window.training_pane
    training.form.set_config(tiny_run_config(eval_every=2, sample_chars=0))
    training.start_button.click()
    assert training.is_training()
    qtbot.waitUntil(lambda: training.plots.steps.size >= 3, timeout=TIMEOUT_MS)
    watch.look()  # while the trainer runs
    with qtbot.waitSignal(training.driver.finished, timeout=TIMEOUT_MS):
        training.stop_button.click()

    # The Generation pane: one short tune from the model the run left.
    generation: GenerationPane = window.generation_pane
    qtbot.waitUntil(
        lambda: generation.loaded is not None and not generation.loader.is_loading(),
        timeout=TIMEOUT_MS,
    )
    generation.num_spin.setValue(1)
    generation.length_spin.setValue(120)
    with qtbot.waitSignal(generation.generation_finished, timeout=TIMEOUT_MS) as done:
        generation.generate_button.click()
    assert done.args[0].texts

    # The Editor's score (verovio's child process), playback, and the Neurons pane.
    with qtbot.waitSignal(window.editor_pane.score_view.rendered, timeout=TIMEOUT_MS):
        session.prompt = ABC
    assert "Test Reel" in window.editor_pane.score_view.pages[0]
    session.request_play(PlayRequest("Test Reel", abc=ABC))
    player = window.playback_pane.player
    qtbot.waitUntil(lambda: player.state is State.PLAYING, timeout=TIMEOUT_MS)
    watch.look()  # while it plays
    window.playback_pane.stop()
    with qtbot.waitSignal(window.neurons_pane.captured, timeout=TIMEOUT_MS):
        window.neurons_pane.inspect(ABC)
    watch.look()
    timer.stop()
    assert window.close()  # the panes shut their threads and child processes down

    assert watch.attempts == []
    assert watch.held == set(), watch.held
    children = watch.log.read_text(encoding="utf-8").splitlines()
    assert not [line for line in children if "started" not in line], children
    # Every child process the watcher saw (the trainer, the engraver and its standby,
    # multiprocessing's resource tracker) ran the guard: none escaped it.
    seen = watch.pids - watch.before
    guarded = {int(line.split()[0]) for line in children}
    assert len(seen) >= 2 and seen <= guarded, (seen, children)
    assert watch.looks >= 10


# -- nothing a user opens is executed -------------------------------------------------------


class RunsCode:
    """Pickles to a call of os.system: unpickling it creates ``target``."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch '{self.target}'",))


def test_a_checkpoint_that_would_run_code_is_refused_in_the_generation_pane(
    qtbot, tmp_path, monkeypatch
):
    target = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"format": "x", "note": RunsCode(target)}, evil)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    pane = GenerationPane(
        Session(), runs_root=tmp_path / "runs", settings=settings, default_model=None
    )
    qtbot.addWidget(pane)
    try:
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(evil), ""))
        pane.chooser.browse_button.click()
        qtbot.waitUntil(lambda: "Cannot use" in pane.model_label.text(), timeout=TIMEOUT_MS)
        assert "evil.pt" in pane.model_label.text() and "code" in pane.model_label.text()
        assert pane.loaded is None and not target.exists()
    finally:
        pane.shutdown()


def test_a_run_directory_full_of_code_runs_none_of_it(qtbot, tmp_path, monkeypatch):
    """config.json, metrics.jsonl and a sample that hold Python code and pickles: the run
    history and the training pane read them as data."""
    target = tmp_path / "pwned"
    code = f"__import__('os').system(\"touch '{target}'\")"
    root = tmp_path / "runs"
    run = root / "evil-run"
    (run / "samples").mkdir(parents=True)
    config = tiny_run_config().to_dict()
    config["recipe"] = code
    config["model"]["arch"] = code
    config["__reduce__"] = code
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    events = [
        {"event": "start", "step": 0, "unit": code},
        {"event": "step", "step": 1, "loss": 2.0, "lr": code},
        {"event": "eval", "step": 1, "val_loss": 2.0, "sample": code},
    ]
    lines = [json.dumps(e).encode() for e in events] + [pickle.dumps(RunsCode(target))]
    (run / "metrics.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (run / "samples" / "step000001.abc").write_text(code, encoding="utf-8")
    (run / "best.pt").write_bytes(pickle.dumps(RunsCode(target)))

    pane = TrainingPane(Session(), runs_root=root)
    history = RunHistoryWidget(root)
    for widget in (pane, history):
        qtbot.addWidget(widget)
    history.refresh()
    assert [history.table.item(r, 0).text() for r in range(history.table.rowCount())] == [
        "evil-run"
    ]
    history.set_checked([run])
    pane.show_run(run)
    assert code in pane.sample_view.toPlainText()  # shown as text
    assert pane.follow_run(run)
    pane.follow_driver.poll()
    pane.stop_following()
    assert not target.exists()


def test_a_settings_file_runs_no_code(qtbot, tmp_path):
    target = tmp_path / "pwned"
    written = tmp_path / "written.ini"
    writer = QSettings(str(written), QSettings.Format.IniFormat)
    writer.setValue("generation/seed", RunsCode(target))  # pickled by PySide6 as it writes
    writer.sync()
    assert b"PyObjectWrapper" in written.read_bytes() and not target.exists()
    # Another file with those bytes: QSettings caches what this process wrote per file name.
    path = tmp_path / "settings.ini"
    path.write_bytes(written.read_bytes())
    # PySide6 would unpickle that value on QSettings.value(): the window drops it before it
    # reads anything, and keeps the other values.
    with path.open("a", encoding="utf-8") as fh:
        fh.write("[generation]\ntop_k=7\n")
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    window = MainWindow(Session(), settings=settings, runs_root=tmp_path / "runs")
    qtbot.addWidget(window)
    assert b"PyObjectWrapper" not in path.read_bytes()
    assert read_int(settings, "generation/seed", 1234) == 1234
    assert window.generation_pane.top_k_spin.value() == 7
    assert not target.exists()


def test_a_settings_value_spelled_with_escapes_is_dropped_too(tmp_path):
    # Qt undoes \x and octal escapes before it reads a value: `@Variant(` spelled with them.
    path = tmp_path / "settings.ini"
    path.write_text(
        "[generation]\nseed=\\x40Variant(\\0\\0\\0\\x7f)\ntop_k=\\1007\ntemperature=0.5\n",
        encoding="utf-8",
    )
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    assert drop_stored_objects(settings) == 1
    text = path.read_text(encoding="utf-8")
    assert "seed" not in text and "temperature=0.5" in text and "top_k" in text
