"""Fuzzing the run-directory readers: `metrics.jsonl`, `config.json` and `running.json`.

The material is a real run directory written by the real trainer (`fuzzing.real_run`). Its files
are damaged the ways crashes, sync tools, disks and hands damage them: a torn last line, garbage
or invalid UTF-8 in a line, a line that is JSON but not an event (`3`, `[]`, `null`), an event
whose fields have the wrong types (`"step": "x"`, `"val_loss": []`), a `config.json` that is not
JSON or not an object, bytes flipped anywhere. The readers' promises (runs.py, metrics_log.py):
`read_metrics` skips what it cannot read and gives events (dicts); `read_run` gives a `RunInfo`
or None ("not a run"), whose `summary()` is one line; `list_runs` lists what it can;
`read_curves` gives arrays of matching lengths; `RunFollower.poll` (workbench/run_follow.py) gives
the events it can read. None of them raises on a damaged file.
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
from pathlib import Path

import numpy as np
from fuzzing import Material, fuzz_case, fuzz_settings, mutated_bytes, real_run
from hypothesis import given
from hypothesis import strategies as st

from models.metrics_log import read_metrics
from workbench.run_follow import RunFollower
from workbench.runs import list_runs, read_curves, read_run

RUN = real_run()
LINES = (RUN / "metrics.jsonl").read_bytes().splitlines(keepends=True)
CONFIG = (RUN / "config.json").read_bytes()
MARKER = json.dumps(
    {"pid": 1, "host": "node7", "started": 1.0, "heartbeat": 2.0, "heartbeat_s": 10.0}
).encode()

json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def damaged_json(draw, raw: bytes) -> bytes:
    """A JSON object with a field set to any JSON value (or removed), or a non-object."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        data = None  # a line damaged before: replace it whole
    if not isinstance(data, dict) or draw(st.integers(0, 5)) == 0:
        return json.dumps(draw(json_value)).encode()
    keys = [*data, "step", "event", "val_loss", "model", "train"]
    key = draw(st.sampled_from(keys))
    if draw(st.booleans()) and key in data:
        del data[key]
    else:
        data[key] = draw(json_value)
    return json.dumps(data).encode()


garbage_line = st.sampled_from([
    b"3\n", b"[]\n", b"null\n", b'"step"\n', b"{\n", b"\xff\xfe garbage\n", b"\x00\x00\x00\n",
    b'{"event": "step", "step": NaN}\n', b'{"event": "eval", "val_loss": Infinity}\n',
    b"[" * 5000 + b"\n", b'{"event": "step", "step": 1e400}\n', b"\n",
])  # fmt: skip


@st.composite
def metrics_file(draw) -> bytes:
    """The real metrics.jsonl with some lines damaged, replaced or added, maybe torn at the end."""
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["field", "field", "garbage", "garbage", "bytes", "drop"]))
        if kind == "field":
            lines[at] = draw(damaged_json(lines[at])) + b"\n"
        elif kind == "garbage":
            lines.insert(at, draw(garbage_line))
        elif kind == "bytes":
            lines[at] = draw(mutated_bytes(Material("line", [lines[at]]), max_edits=3))
        else:
            del lines[at]
    data = b"".join(lines)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # torn by a crash
    return data


config_file = st.one_of(
    damaged_json(CONFIG),
    mutated_bytes(Material("config.json", [CONFIG])),
    st.sampled_from([b"", b"{", b"[]", b"null", b"\xff\xfe{}", CONFIG[: len(CONFIG) // 2]]),
    st.just(CONFIG),
)
marker_file = st.one_of(
    st.none(), damaged_json(MARKER), mutated_bytes(Material("running.json", [MARKER]))
)


def _copy_run(folder: Path, metrics: bytes, config: bytes, marker: bytes | None) -> Path:
    run = folder / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_bytes(metrics)
    (run / "config.json").write_bytes(config)
    if marker is not None:
        (run / "running.json").write_bytes(marker)
    shutil.copy(RUN / "best.pt", run / "best.pt")
    return run


@fuzz_settings()
@given(metrics_file())
@fuzz_case
def test_metrics_log(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "metrics.jsonl")
        path.write_bytes(data)
        events = read_metrics(path)
    assert all(isinstance(event, dict) for event in events)
    assert len(events) <= data.count(b"\n") + 1


@fuzz_settings(0.5)
@given(metrics_file(), config_file, marker_file)
@fuzz_case
def test_run_directory(metrics: bytes, config: bytes, marker: bytes | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        run = _copy_run(Path(folder), metrics, config, marker)
        info = read_run(run)
        listed = list_runs(folder)
        curves = read_curves(run)
        followed = RunFollower(run, max_bytes=1024)
        updates = [followed.poll() for _ in range(4)]
    if info is None:  # not a run: its config.json is no JSON object
        assert listed == []
    else:
        assert [r.path for r in listed] == [run]
        line = info.summary()
        assert isinstance(line, str)
        assert isinstance(info.steps, int) and info.steps >= 0
        assert info.best_val_loss is None or isinstance(info.best_val_loss, float)
        assert isinstance(info.status, str) and isinstance(info.running, bool)
    assert len(curves.step) == len(curves.loss) == len(curves.lr) == len(curves.accuracy)
    assert len(curves.eval_step) == len(curves.val_loss) == len(curves.val_accuracy)
    for series in (curves.step, curves.loss, curves.eval_step, curves.val_loss):
        assert series.dtype == np.float64
    for update in updates:
        assert all(isinstance(event, dict) for event in update.events)
        assert update.config is None or isinstance(update.config, dict)


# -- regressions: the smallest damaged files the fuzzing found, each once raising ----------------


def _run_with(folder: Path, metrics: bytes, config: bytes = CONFIG, marker=None) -> Path:
    return _copy_run(folder, metrics, config, marker)


def test_lines_that_are_no_events_are_skipped(tmp_path: Path) -> None:
    """Found by fuzzing: a line `null` (or `3`, `[]`) reached callers as an event and broke
    `event.get` (AttributeError); a line of bytes that are not UTF-8 made the whole file
    unreadable (UnicodeDecodeError); `[[[[...` raised RecursionError."""
    good = LINES[1]
    for bad in (b"null\n", b"3\n", b"\xff\xfe\n", b"[" * 5000 + b"\n"):
        path = tmp_path / "metrics.jsonl"
        path.write_bytes(LINES[0] + bad + good)
        assert read_metrics(path) == [json.loads(LINES[0]), json.loads(good)], bad
        follower = RunFollower(tmp_path)
        assert len(follower.poll().events) == 2 and follower.skipped == 1, bad


def test_events_with_fields_of_the_wrong_type(tmp_path: Path) -> None:
    """Found by fuzzing: `"step": null` (TypeError in int()), `"val_loss": "x"` (TypeError in
    `<`), an eval without its step (KeyError in read_curves), `"loss": []` (numpy ValueError)."""
    lines = [
        b'{"event": "step", "step": null, "loss": 1.0}\n',
        b'{"event": "step", "step": 3, "loss": []}\n',
        b'{"event": "eval", "step": 3, "val_loss": "x"}\n',
        b'{"event": "eval", "val_loss": 2.0}\n',
        b'{"event": "eval", "step": 4, "val_loss": 2.5, "val_accuracy": {}}\n',
    ]
    run = _run_with(tmp_path, b"".join(lines))
    info = read_run(run)
    assert info is not None
    assert (info.steps, info.best_val_loss, info.best_val_accuracy) == (3, 2.0, None)
    curves = read_curves(run)
    assert curves.step.tolist() == [3.0] and np.isnan(curves.loss).all()
    assert curves.eval_step.tolist() == [3.0, 4.0]  # "x" is no loss: plotted as a gap
    assert np.isnan(curves.val_loss[0]) and curves.val_loss[1] == 2.5


def test_a_config_that_is_not_an_object_is_no_run(tmp_path: Path) -> None:
    """Found by fuzzing: `config.json` holding `[]` or `null` was listed as a run whose
    `summary()` raised AttributeError; `{"model": "x"}` broke `summary()` too."""
    run = _run_with(tmp_path, b"".join(LINES), config=b"[]")
    assert read_run(run) is None and list_runs(tmp_path) == []
    (run / "config.json").write_text('{"model": "x", "train": {"lr": 0.1}}', encoding="utf-8")
    assert read_run(run).summary().startswith("? ?x?, ? lr 0.1")


def test_a_marker_with_fields_of_the_wrong_type(tmp_path: Path) -> None:
    """Found by fuzzing: running.json with `"pid": []` raised TypeError, and an absurd pid
    OverflowError, out of `run_liveness` (so out of `read_run` and the run history)."""
    here = socket.gethostname()
    markers = [
        {"pid": [], "host": "x"},
        {"pid": 10**30, "host": here},
        {"heartbeat": "soon"},
        {"heartbeat_s": {}},
    ]
    unfinished = b"".join(LINES[:-1])  # no end event: liveness is asked
    for i, marker in enumerate(markers):
        (tmp_path / str(i)).mkdir()
        run = _run_with(tmp_path / str(i), unfinished, marker=json.dumps(marker).encode())
        info = read_run(run)
        assert info.status == "incomplete"
        # Unreadable markers are judged by their age (fresh: running); the absurd pid is dead.
        assert info.running is (i != 1), marker
