"""Run history reads a growing metrics.jsonl incrementally and agrees with a full read.

`read_run(path, tail)` and `read_curves(path, tail)` read only what the log gained since the
last call for that run (Run history rescans a training run every few seconds, and redraws its
curves when it is checked). The oracle is the whole file read again
from scratch with `read_metrics` and summarised here from the definitions of the fields (the
last step, the lowest validation loss and its accuracy, how the run ended), after every change
a writer can make: whole lines, a line in two halves, garbage, a truncation, a replacement.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny import tiny_run_config

import workbench.runs as runs
from models.metrics_log import read_metrics
from workbench.runs import CurvesTail, MetricsTail, read_curves, read_run


def expected(run: Path) -> tuple[int, float | None, float | None, str]:
    """(steps, best loss, its accuracy, status) from a full read, by the fields' definitions."""
    events = read_metrics(run / "metrics.jsonl")

    def number(v):
        ok = isinstance(v, int | float) and not isinstance(v, bool) and v == v
        return float(v) if ok and abs(v) != float("inf") else None

    steps = max(
        [int(number(e.get("step")) or 0) for e in events if e.get("event") == "step"] or [0]
    )
    evals = [
        (number(e.get("val_loss")), number(e.get("val_accuracy")))
        for e in events
        if e.get("event") == "eval" and number(e.get("val_loss")) is not None
    ]
    best = min(evals, key=lambda pair: pair[0], default=(None, None))  # the first of equals
    status = "incomplete"
    for e in events:
        if e.get("event") == "start":
            status = "incomplete"
        elif e.get("event") == "end":
            status = str(e.get("reason", "finished"))
    return steps, best[0], best[1], status


def expected_curves(run: Path) -> tuple[list, list, list, list]:
    """(steps, losses, eval steps, validation losses) from a full read, by definition: one
    point per step number, the latest event's for a step logged twice (a resumed run), in
    step order; NaN where the number is missing."""
    steps: dict[int, float] = {}
    evals: dict[int, float] = {}

    def number(v):
        ok = isinstance(v, int | float) and not isinstance(v, bool) and v == v
        return float(v) if ok and abs(v) != float("inf") else None

    for e in read_metrics(run / "metrics.jsonl"):
        step = number(e.get("step"))
        if step is None:
            continue
        loss = number(e.get("loss"))
        if e.get("event") == "step":
            steps[int(step)] = float("nan") if loss is None else loss
        elif e.get("event") == "eval" and e.get("val_loss") is not None:
            evals[int(step)] = number(e.get("val_loss"))
    s, e = sorted(steps), sorted(evals)
    return s, [steps[k] for k in s], e, [evals[k] for k in e]


def line(event: dict) -> bytes:
    return (json.dumps(event) + "\n").encode()


step_line = st.builds(lambda s, loss: line({"event": "step", "step": s, "loss": loss}),
                      st.integers(0, 10_000), st.floats(0, 5))  # fmt: skip
eval_line = st.builds(
    lambda s, loss, acc: line({"event": "eval", "step": s, "val_loss": loss, "val_accuracy": acc}),
    st.integers(0, 10_000),
    st.sampled_from([1.5, 1.2, 1.2, 2.0, 0.9]),
    st.floats(0, 1),
)
other_line = st.sampled_from([
    line({"event": "start", "step": 0}), line({"event": "end", "reason": "budget"}),
    line({"event": "end"}), b"garbage\n", b"\xff\xfe\n", b"[1, 2]\n", b"\n",
    line({"event": "eval", "step": 3, "val_loss": None}),
])  # fmt: skip
appended = st.lists(st.one_of(step_line, eval_line, other_line), min_size=1, max_size=5).map(
    b"".join
)
operation = st.one_of(
    appended.map(lambda b: ("append", b)),
    appended.map(lambda b: ("append", b.rstrip(b"\n"))),  # a file that ends without a newline
    st.tuples(appended, st.integers(1, 40)).map(lambda t: ("split", t)),  # a line in halves
    st.integers(0, 200).map(lambda n: ("truncate", n)),
    appended.map(lambda b: ("replace", b)),
)


@settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(operation, min_size=1, max_size=12))
def test_an_incremental_read_agrees_with_a_full_read(tmp_path, operations) -> None:
    run = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(tiny_run_config().to_dict()), encoding="utf-8")
    metrics = run / "metrics.jsonl"
    metrics.write_bytes(b"")
    tail = MetricsTail()
    curves = CurvesTail()
    for kind, arg in operations:
        if kind == "append":
            with open(metrics, "ab") as fh:
                fh.write(arg)
        elif kind == "split":
            data, cut = arg
            with open(metrics, "ab") as fh:
                fh.write(data[:cut])
            check(run, tail, curves)  # read while the line is half written
            with open(metrics, "ab") as fh:
                fh.write(data[cut:])
        elif kind == "truncate":
            os.truncate(metrics, min(arg, metrics.stat().st_size))
        else:  # another run started in the folder: a new file under the same name
            fresh = run / "metrics.new"
            fresh.write_bytes(arg)
            os.replace(fresh, metrics)
        check(run, tail, curves)


def check(run: Path, tail: MetricsTail, curves: CurvesTail) -> None:
    info = read_run(run, tail)
    assert (info.steps, info.best_val_loss, info.best_val_accuracy, info.status) == expected(run)
    got = read_curves(run, curves)
    steps, losses, eval_steps, val_losses = expected_curves(run)
    assert got.step.tolist() == steps and got.eval_step.tolist() == eval_steps
    assert got.val_loss.tolist() == val_losses
    np.testing.assert_array_equal(got.loss, np.array(losses, dtype=float))  # NaN == NaN here


def test_a_rescan_reads_only_the_new_lines(tmp_path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(tiny_run_config().to_dict()), encoding="utf-8")
    metrics = run / "metrics.jsonl"
    metrics.write_bytes(b"".join(line({"event": "step", "step": s}) for s in range(1, 1001)))
    tail = MetricsTail()
    assert read_run(run, tail).steps == 1000
    size = metrics.stat().st_size
    assert tail.offset == size
    with open(metrics, "ab") as fh:
        fh.write(line({"event": "step", "step": 1001}) + b'{"event": "eval", "st')
    assert read_run(run, tail).steps == 1001
    assert tail.offset == size + len(line({"event": "step", "step": 1001}))  # not the half line


def test_a_rescan_parses_only_what_the_log_gained(tmp_path, monkeypatch) -> None:
    """Each line is parsed once: a rescan with nothing new parses nothing, one with a line
    parses that line; a log rewritten in place (same file, new content at least as long) is
    parsed again from its start. Run history leans on this for a 400,000-step log."""
    parsed: list[bytes] = []
    real = runs.parse_event_line

    def counting(data: bytes):
        if data.strip():
            parsed.append(bytes(data).strip())
        return real(data)

    monkeypatch.setattr(runs, "parse_event_line", counting)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(tiny_run_config().to_dict()), encoding="utf-8")
    metrics = run / "metrics.jsonl"
    first = [line({"event": "step", "step": s}) for s in range(1, 101)]
    metrics.write_bytes(b"".join(first))
    tail = MetricsTail()
    assert read_run(run, tail).steps == 100 and len(parsed) == 100
    parsed.clear()
    assert read_run(run, tail).steps == 100 and parsed == []
    new = line({"event": "step", "step": 101})
    with open(metrics, "ab") as fh:
        fh.write(new)
    assert read_run(run, tail).steps == 101 and parsed == [new.strip()]
    parsed.clear()
    assert read_run(run, tail).steps == 101 and parsed == []
    # Another run started in the same file (not a new file: its inode is the same), longer.
    inode = metrics.stat().st_ino
    again = [line({"event": "step", "step": s, "loss": 1.0}) for s in range(1, 151)]
    with open(metrics, "wb") as fh:
        fh.write(b"".join(again) + line({"event": "end", "reason": "time"}))
    assert metrics.stat().st_ino == inode and metrics.stat().st_size >= tail.offset
    parsed.clear()
    info = read_run(run, tail)
    assert (info.steps, info.status) == (150, "time") and len(parsed) == 151
    # A new file in its place (a run started again in the folder) that begins with the same
    # lines and is longer still: its inode tells, and it is read from its start.
    fresh = run / "metrics.new"
    fresh.write_bytes(b"".join(again[:140]) + b"".join(first))
    os.replace(fresh, metrics)
    parsed.clear()
    info = read_run(run, tail)
    assert (info.steps, info.status) == (140, "incomplete") and len(parsed) == 240


def test_a_rescan_of_the_curves_reads_only_the_new_lines(tmp_path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    metrics = run / "metrics.jsonl"
    metrics.write_bytes(b"".join(line({"event": "step", "step": s}) for s in range(1, 1001)))
    tail = CurvesTail()
    assert len(read_curves(run, tail).step) == 1000
    size = metrics.stat().st_size
    with open(metrics, "ab") as fh:
        fh.write(line({"event": "eval", "step": 1000, "val_loss": 1.5}) + b'{"event": "st')
    got = read_curves(run, tail)
    assert got.val_loss.tolist() == [1.5] and len(got.step) == 1000
    assert tail.offset == size + len(line({"event": "eval", "step": 1000, "val_loss": 1.5}))


def test_a_resumed_run_read_in_pieces_keeps_the_latest_points(tmp_path) -> None:
    # In step order, as a trainer writes (the random logs above are mostly out of order): a
    # run that stops at step 40 and resumes from its step-25 checkpoint logs 26-40 again.
    run = tmp_path / "run"
    run.mkdir()
    metrics = run / "metrics.jsonl"
    metrics.write_bytes(b"")
    tail = CurvesTail()
    first = [line({"event": "step", "step": s, "loss": 3 - s / 100}) for s in range(1, 41)]
    again = [line({"event": "step", "step": s, "loss": 2 - s / 100}) for s in range(26, 61)]
    evals = [line({"event": "eval", "step": s, "val_loss": 4 - s / 50}) for s in (20, 40, 40)]
    pieces = [first[:10], first[10:], [evals[0], evals[1]], [line({"event": "start"})]]
    pieces += [again[:5], again[5:20], [evals[2]], again[20:], []]
    for piece in pieces:
        with open(metrics, "ab") as fh:
            fh.write(b"".join(piece))
        got = read_curves(run, tail)
        steps, losses, eval_steps, val_losses = expected_curves(run)
        assert got.step.tolist() == steps and got.loss.tolist() == losses
        assert got.eval_step.tolist() == eval_steps and got.val_loss.tolist() == val_losses
    assert got.loss[29] == 2 - 30 / 100 and len(got.step) == 60  # step 30: the resumed value
