"""A whole training run in a spawned, lower-priority child process (Qt-free).

The GUI must stay responsive while a run trains: measured on 2 cores, a trainer thread in the GUI
process kept only ~69% of a 10 ms timer's ticks (the model's Python glue holds the GIL), a niced
child process 99.9%, and a crash of the child (out of memory, a CUDA error) cannot take the app
down. The child loads the data itself (nothing large crosses the process boundary), trains with
`models.train`, and puts small event dicts on a bounded queue; step events are dropped when the
queue is full (the GUI redraws from what it gets, metrics.jsonl keeps them all), while evaluations,
checkpoints and the end are never dropped. Commands (stop, pause, resume, save) go the other way.

The parent side, `TrainingJob`, is polled by the GUI on a timer and by tests in a loop.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any

# Events the GUI must see even when it falls behind.
_KEEP = {"start", "eval", "checkpoint", "end", "error", "loaded", "paused", "resumed"}
QUEUE_SIZE = 1000


@dataclass
class JobSpec:
    """What to train: DATA specs, the run directory and a RunConfig as a dict."""

    data: list[str]
    run_dir: str
    config: dict[str, Any] = field(default_factory=dict)
    init: str | None = None  # checkpoint to fine-tune from
    resume: bool = False  # continue run_dir/last.pt
    nice: int = 10
    # The encoding MIDI data is read with (the dataset pane's; None: the default, REMI). A
    # checkpoint that is continued or fine-tuned reads it with its own instead.
    midi_settings: dict[str, Any] | None = None


class _Commands:
    """The child's view of the command queue: stop/save/pause, checked between steps."""

    def __init__(self, commands: Any, events: Any) -> None:
        self.commands = commands
        self.events = events
        self.stopping = False
        self.saving = False
        # A GUI that crashed or was killed cannot stop us: notice it (we get re-parented)
        # and stop cleanly, saving last.pt, instead of training on unseen for hours.
        self.parent_pid = os.getppid()

    def _drain(self, block: bool = False) -> None:
        while True:
            try:
                cmd = self.commands.get(timeout=0.2) if block else self.commands.get_nowait()
            except queue.Empty:
                return
            if cmd == "stop":
                self.stopping = True
            elif cmd == "save":
                self.saving = True
            elif cmd == "pause":
                self._pause()
            if block:
                return

    def _pause(self) -> None:
        _put(self.events, {"event": "paused"})
        while not self.stopping:
            try:
                cmd = self.commands.get(timeout=0.2)
            except queue.Empty:
                continue
            if cmd == "resume":
                break
            if cmd == "stop":
                self.stopping = True
            elif cmd == "save":
                self.saving = True
        _put(self.events, {"event": "resumed"})

    def stop(self) -> bool:
        self._drain()
        if os.getppid() != self.parent_pid:
            self.stopping = True
        return self.stopping

    def save_now(self) -> bool:
        saving, self.saving = self.saving, False
        return saving


def _put(events: Any, event: dict[str, Any]) -> None:
    if event.get("event") in _KEEP:
        with contextlib.suppress(queue.Full):
            events.put(event, timeout=30)
    else:
        with contextlib.suppress(queue.Full):
            events.put_nowait(event)


def run_job(spec_dict: dict[str, Any], events: Any, commands: Any) -> None:
    """The child process's entry point."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(int(spec_dict.get("nice", 10)))
    try:
        _run(JobSpec(**spec_dict), events, commands)
    except Exception as exc:
        from models.errors import EngineError
        from workbench.corpus import CorpusError

        expected = isinstance(exc, EngineError | CorpusError | OSError | ValueError)
        _put(
            events,
            {
                "event": "error",
                "message": str(exc) if expected else f"{type(exc).__name__}: {exc}",
                "traceback": None if expected else traceback.format_exc(),
            },
        )


def _run(spec: JobSpec, events: Any, commands: Any) -> None:
    from pathlib import Path

    from models.checkpoint import load_checkpoint
    from models.config import RunConfig, fine_tune_model
    from models.errors import DataError
    from models.train import Control, Trainer, split_texts
    from workbench.training_data import load_training_data

    run_dir = Path(spec.run_dir)
    resume = load_checkpoint(run_dir / "last.pt") if spec.resume else None
    cfg = RunConfig.from_dict(spec.config) if spec.config else resume.config
    init = load_checkpoint(spec.init) if spec.init else None
    if init is not None:
        # Fine-tuning continues the initial network, so it keeps that network's shape (the
        # vocabulary may still grow); the training settings and dropout come from the config.
        cfg.model = fine_tune_model(init.config.model, cfg.model.dropout)
    model = resume or init
    data = load_training_data(
        spec.data,
        tokenizer=model.tokenizer if model is not None else None,
        settings=spec.midi_settings,
    )
    texts = data.texts
    if len(texts) < 2:
        raise DataError(
            f"need at least 2 {data.noun} to train, {', '.join(spec.data)} gave {len(texts)}"
        )
    loaded: dict[str, Any] = {
        "event": "loaded",
        "tunes": len(texts),
        "noun": data.noun,
        "unit": data.unit,
        "problems": [str(p) for p in data.problems[:100]],
    }
    if data.settings is not None:
        from workbench.midi_data import describe

        loaded["encoding"] = describe(data.settings)
    _put(events, loaded)
    # Split by item: a tune, or a whole MIDI piece (never a window of one).
    train_texts, val_texts = split_texts(texts, cfg.train.val_fraction, cfg.train.seed)
    cmds = _Commands(commands, events)
    trainer = Trainer(
        cfg,
        train_texts,
        val_texts,
        run_dir,
        init=init,
        resume=resume,
        control=Control(stop=cmds.stop, save_now=cmds.save_now),
        tokenizer=data.tokenizer(train_texts),
    )
    for event in trainer.run():
        _put(events, event)


class TrainingJob:
    """Parent side: start the child, send commands, collect events with `poll()`."""

    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec
        # spawn: CUDA cannot be used in a forked child, and spawn behaves the same everywhere.
        ctx = mp.get_context("spawn")
        self._events = ctx.Queue(QUEUE_SIZE)
        self._commands = ctx.Queue()
        self._process = ctx.Process(
            target=run_job,
            args=(asdict(spec), self._events, self._commands),
            name="workbench-trainer",
            daemon=True,
        )
        self.ended = False
        self.error: str | None = None

    def start(self) -> None:
        self._process.start()

    @property
    def running(self) -> bool:
        return self._process.is_alive() and not self.ended

    def stop(self) -> None:
        self._send("stop")

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def save_now(self) -> None:
        self._send("save")

    def _send(self, cmd: str) -> None:
        if self._process.is_alive():
            self._commands.put(cmd)

    def poll(self, max_events: int = 10_000) -> list[dict[str, Any]]:
        """Events that arrived since the last call; a dead child becomes an error event."""
        out: list[dict[str, Any]] = []
        while len(out) < max_events:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            except (EOFError, OSError):
                break
            out.append(event)
            if event.get("event") in ("end", "error"):
                self.ended = True
                if event["event"] == "error":
                    self.error = event.get("message")
        if not out and not self.ended and self._process.exitcode is not None:
            # Gone without a word: killed (out of memory) or crashed in native code.
            code = self._process.exitcode
            why = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            self.ended = True
            self.error = f"the training process died ({why}); the run's last.pt is kept"
            out.append({"event": "error", "message": self.error, "traceback": None})
        return out

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for the child to exit (after an end/error event, or a stop)."""
        deadline = time.monotonic() + timeout
        while self._process.is_alive() and time.monotonic() < deadline:
            self.poll()
            time.sleep(0.05)

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)
