"""Run history reads a growing metrics.jsonl incrementally and agrees with a full read.

`read_run(path, tail)` reads only what the log gained since the last call for that run (Run
history rescans a training run every few seconds). The oracle is the whole file read again
from scratch with `read_metrics` and summarised here from the definitions of the fields (the
last step, the lowest validation loss and its accuracy, how the run ended), after every change
a writer can make: whole lines, a line in two halves, garbage, a truncation, a replacement.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny import tiny_run_config

from models.metrics_log import read_metrics
from workbench.runs import MetricsTail, read_run


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
    for kind, arg in operations:
        if kind == "append":
            with open(metrics, "ab") as fh:
                fh.write(arg)
        elif kind == "split":
            data, cut = arg
            with open(metrics, "ab") as fh:
                fh.write(data[:cut])
            check(run, tail)  # read while the line is half written
            with open(metrics, "ab") as fh:
                fh.write(data[cut:])
        elif kind == "truncate":
            os.truncate(metrics, min(arg, metrics.stat().st_size))
        else:  # another run started in the folder: a new file under the same name
            fresh = run / "metrics.new"
            fresh.write_bytes(arg)
            os.replace(fresh, metrics)
        check(run, tail)


def check(run: Path, tail: MetricsTail) -> None:
    info = read_run(run, tail)
    assert (info.steps, info.best_val_loss, info.best_val_accuracy, info.status) == expected(run)


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
