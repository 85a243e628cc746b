"""Worker threads of the generation pane: loading a model, sampling, checking tunes, exporting.

- :class:`ModelLoader` reads a checkpoint and builds its network off the GUI thread (the first
  torch import and a large state dict take seconds); the latest request wins.
- :class:`GenerationRunner` samples on a QThread and streams the characters to the GUI in
  batches: a signal per character would queue thousands of events a second and starve the
  window, so pieces are gathered and sent at most every :data:`STREAM_INTERVAL_S`, except the
  very first piece, which goes at once so the first character shows without delay. For a MIDI
  event model the events stream the same way, and the watched variation is decoded to notes
  (a few ms) at most every :data:`ROLL_INTERVAL_S` on the same thread, for the piano roll; the
  finished pieces are rendered to MIDI there too, at the prompt's tempo when the prompt came
  from a piece or a MIDI file (:func:`piece_settings`), as ``workbench generate`` does.
- :class:`TaskRunner` runs one-off jobs (music21 parse checks, exports) one at a time in order.

Signals are emitted from the worker threads; their receivers live on the GUI thread, so Qt
queues them and the slots run there, in order. A running QThread must never be destroyed, so
each keeps itself alive (``workbench.ui.lifetimes.keep_thread_alive``) until it has finished.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from workbench.generation import describe_checkpoint
from workbench.ui.lifetimes import keep_thread_alive

log = logging.getLogger(__name__)

#: Least time between two batches of streamed characters.
STREAM_INTERVAL_S = 0.03
#: Least time between two piano-roll drawings of a streaming event piece.
ROLL_INTERVAL_S = 0.2


def _user_message(error: Exception) -> str:
    """A one-line message: the engine's own errors say what is wrong already."""
    from models.errors import EngineError

    if isinstance(error, EngineError | OSError | ValueError):
        return str(error)
    if type(error).__name__ == "ConversionError":
        return str(error)
    log.error("unexpected error in a generation worker", exc_info=error)
    return f"unexpected error: {error}"


@dataclass
class LoadedModel:
    """A checkpoint ready to sample from."""

    path: Path
    model: Any  # models.networks.CharRNN
    tokenizer: Any  # models.tokenizer.CharTokenizer
    checkpoint: Any  # models.checkpoint.Checkpoint
    description: str
    device: Any  # torch.device
    mtime: float = 0.0
    _constraint: Any = None

    @property
    def kind(self) -> str:
        """What the model writes: "chars" (ABC text) or "events" (a MIDI encoding)."""
        return self.tokenizer.kind

    def meter_constraint(self, max_chars: int | None = None) -> Any:
        """The meter-aware constraint for this vocabulary, reset for a new batch (closing
        tunes before `max_chars`, the batch's length cap).

        One instance per model: its mask caches then carry over from one Generate to the next.
        Only one generation runs at a time, so it is never shared between two batches.
        """
        from workbench.notation.meter_aware import meter_aware_constraint

        if self._constraint is None:
            self._constraint = meter_aware_constraint(self.tokenizer)
        self._constraint.reset()
        self._constraint.max_chars = max_chars
        return self._constraint


@dataclass
class StreamChunk:
    """Characters sampled since the last chunk, per variation, and the steps taken so far;
    for an event model, maybe the watched variation's notes so far: (index, playback Tune)."""

    pieces: dict[int, str]
    steps: int
    roll: tuple[int, Any] | None = None


@dataclass
class GenerationOutcome:
    texts: list[str]
    prompt: str
    params: Any  # models.sample.SamplingParams
    meter_aware: bool
    stopped: bool
    elapsed: float
    model_path: Path
    first_piece_s: float | None = None  # from start() to the first character sampled
    stats: dict[str, float] = field(default_factory=dict)
    # An event model's variations rendered to MIDI (GeneratedPiece), in order; [] for ABC.
    pieces: list[Any] = field(default_factory=list)


class _CallThread(QThread):
    """Runs one callable; emits exactly one of succeeded or failed."""

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], object]) -> None:
        super().__init__()
        self._fn = fn

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as error:
            self.failed.emit(_user_message(error))
        else:
            self.succeeded.emit(result)


def piece_settings(loaded: LoadedModel, tempo: float | None = None) -> dict[str, Any]:
    """The settings an event model's pieces are rendered with: its own, at `tempo` (quarter
    notes per minute; None: the checkpoint's tempo, see ``workbench.midi_data.render``)."""
    settings = loaded.tokenizer.settings
    if tempo is None:
        return settings
    from workbench.midi_data import TEMPO_KEY

    return {**settings, TEMPO_KEY: float(tempo)}


def load_model(path: Path) -> LoadedModel:
    """Read `path` and build its network (worker thread: imports torch)."""
    from models.checkpoint import load_checkpoint
    from models.device import resolve_device

    mtime = path.stat().st_mtime if path.is_file() else 0.0
    ckpt = load_checkpoint(path)
    device = resolve_device("auto")
    model = ckpt.build_model(device)
    loaded = LoadedModel(
        path, model, ckpt.tokenizer, ckpt, describe_checkpoint(ckpt), device, mtime=mtime
    )
    if loaded.kind == "events":
        from workbench.midi_data import codec_for

        # The encoding's decoder (MidiTok: ~0.2 s to build), before the first piece needs it.
        codec_for(loaded.tokenizer.settings)
    else:
        # Built here, off the GUI thread, so the first Generate does not pay for the import.
        loaded.meter_constraint()
    return loaded


class ModelLoader(QObject):
    """Loads checkpoints off the GUI thread; a request made while one loads replaces the
    queued one, and only the latest request's result is reported."""

    loading = Signal(object)  # Path
    loaded = Signal(object)  # LoadedModel
    failed = Signal(object, str)  # Path, one-line message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: _CallThread | None = None
        self._pending: Path | None = None
        self._wanted: Path | None = None
        self._cache: LoadedModel | None = None
        self._current: Path | None = None  # the path the running thread loads

    def is_loading(self) -> bool:
        return self._thread is not None

    def load(self, path: Path) -> None:
        path = Path(path)
        self._wanted = path
        cached = self._cache
        if cached is not None and cached.path == path and _mtime(path) == cached.mtime:
            self.loaded.emit(cached)
            return
        if self._thread is not None:
            self._pending = path
            return
        self._start(path)

    def _start(self, path: Path) -> None:
        self.loading.emit(path)
        thread = _CallThread(functools.partial(load_model, path))
        # Bound methods of this GUI-thread object: Qt queues the calls onto the GUI thread.
        thread.succeeded.connect(self._on_loaded)
        thread.failed.connect(self._on_failed)
        self._current = path
        thread.finished.connect(self._on_thread_finished)
        keep_thread_alive(thread)
        self._thread = thread
        thread.start()

    def _on_loaded(self, loaded: LoadedModel) -> None:
        self._cache = loaded
        if self._pending is None and loaded.path == self._wanted:
            self.loaded.emit(loaded)

    def _on_failed(self, message: str) -> None:
        path = self._current
        if self._pending is None and path == self._wanted:
            self.failed.emit(path, message)

    def _on_thread_finished(self) -> None:
        self._thread = None
        if self._pending is not None:
            path, self._pending = self._pending, None
            self.load(path)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        return self._thread is None or self._thread.wait(timeout_ms)

    def shutdown(self) -> None:
        self._pending = None
        if self._thread is not None:
            self._thread.wait()


def _ignore(_: object) -> None:
    pass


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


class _SampleThread(QThread):
    streamed = Signal(object)  # StreamChunk
    completed = Signal(object)  # GenerationOutcome
    failed = Signal(str)

    def __init__(
        self,
        loaded: LoadedModel,
        prompt: str,
        num: int,
        params: Any,
        meter_aware: bool,
        stop: threading.Event,
        t0: float,
        tempo: float | None = None,
    ) -> None:
        super().__init__()
        self._loaded = loaded
        self._prompt = prompt
        self._num = num
        self._params = params
        self._meter_aware = meter_aware
        self._stop = stop
        self._t0 = t0
        self._pending: dict[int, list[str]] = {}
        self._counts = [0] * num
        self._last_emit = float("-inf")
        self._first: float | None = None
        self._events = loaded.kind == "events"
        # What the roll and the finished pieces are rendered with (the prompt's tempo, if any):
        # the pieces keep it, so listing, playback and every export play at that tempo.
        self._settings = piece_settings(loaded, tempo) if self._events else {}
        # An event is a token followed by one space (the event tokenizer's text).
        self._sep = " " if self._events else ""
        # Event models: each variation's events so far, and when the roll was last drawn.
        self._texts: list[list[str]] = [[] for _ in range(num)]
        self._last_roll = float("-inf")
        self._rolled: tuple[int, int] | None = None  # (index, events) drawn last
        self.watched = 0  # the variation the view shows (set from the GUI thread)

    def _on_token(self, index: int, piece: str) -> None:
        # Called once per character per variation on this thread: keep it cheap.
        piece += self._sep
        self._pending.setdefault(index, []).append(piece)
        self._counts[index] += 1
        if self._events:
            self._texts[index].append(piece)
        now = time.perf_counter()
        if now - self._last_emit >= STREAM_INTERVAL_S:
            if self._first is None:
                self._first = now - self._t0
            self._flush(now)

    def _roll(self, now: float, final: bool = False) -> tuple[int, Any] | None:
        """The watched variation's notes so far, when they are due and changed."""
        if not self._events or (not final and now - self._last_roll < ROLL_INTERVAL_S):
            return None
        index = min(max(self.watched, 0), len(self._texts) - 1)
        drawn = (index, len(self._texts[index]))
        if drawn == self._rolled:
            return None
        from workbench.generation import piece_tune

        self._last_roll, self._rolled = now, drawn
        text = self._prompt + "".join(self._texts[index])
        return index, piece_tune(self._settings, text)

    def _flush(self, now: float, final: bool = False) -> None:
        roll = self._roll(now, final)
        if self._pending or roll is not None:
            pieces = {i: "".join(p) for i, p in self._pending.items()}
            self._pending = {}
            self.streamed.emit(StreamChunk(pieces, max(self._counts), roll))
        self._last_emit = now

    def run(self) -> None:
        from models.sample import sample

        loaded = self._loaded
        try:
            # Meter-aware decoding reads ABC: an event model is never constrained by it.
            meter_aware = self._meter_aware and not self._events
            constraint = loaded.meter_constraint(self._params.max_chars) if meter_aware else None
            texts = sample(
                loaded.model,
                loaded.tokenizer,
                self._prompt,
                self._num,
                self._params,
                constraint=constraint,
                on_token=self._on_token,
                should_stop=self._stop.is_set,
                device=loaded.device,
            )
        except Exception as error:
            self.failed.emit(_user_message(error))
            return
        self._flush(time.perf_counter(), final=True)
        elapsed = time.perf_counter() - self._t0
        generated = sum(self._counts)
        pieces: list[Any] = []
        if self._events:
            from workbench.generation import GeneratedPiece

            # Rendered here (a few ms each), not on the GUI thread; the piece's text is the
            # prompt and what was sampled, as the CLI writes it beside its .mid.
            pieces = [
                GeneratedPiece.make(
                    text,
                    self._settings,
                    prompt=self._prompt,
                    seed=self._params.seed,
                    index=i,
                    temperature=self._params.temperature,
                    model=loaded.path.name,
                )
                for i, text in enumerate(texts)
            ]
        else:
            from workbench.notation.provenance import drop_provenance

            # A generated tune claims no origin, source or transcriber (see the module).
            texts = [drop_provenance(text, self._prompt) for text in texts]
        self.completed.emit(
            GenerationOutcome(
                texts=texts,
                prompt=self._prompt,
                params=self._params,
                meter_aware=self._meter_aware,
                stopped=self._stop.is_set(),
                elapsed=elapsed,
                model_path=loaded.path,
                first_piece_s=self._first,
                stats={"chars": generated, "chars_per_s": generated / max(elapsed, 1e-9)},
                pieces=pieces,
            )
        )


class GenerationRunner(QObject):
    """Samples one batch of variations at a time on a worker thread.

    ``start(...)`` begins; ``streamed`` chunks follow, then exactly one of ``completed`` or
    ``failed``, then ``finished``. ``stop()`` ends sampling before its next step; what was
    sampled so far comes back in ``completed`` with ``stopped`` set.
    """

    streamed = Signal(object)  # StreamChunk
    completed = Signal(object)  # GenerationOutcome
    failed = Signal(str)
    finished = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: _SampleThread | None = None
        # One event for every run (start() refuses while one runs); if this object dies with
        # its parent mid-run, the sampler still stops at its next step.
        self._stop = threading.Event()
        self.destroyed.connect(self._stop.set)

    def is_running(self) -> bool:
        return self._thread is not None

    def start(
        self,
        loaded: LoadedModel,
        prompt: str,
        num: int,
        params: Any,
        meter_aware: bool = True,
        t0: float | None = None,
        tempo: float | None = None,
    ) -> None:
        """Sample `num` continuations of `prompt`; `t0` (perf_counter) is when the user asked,
        for the first-character latency reported in the outcome; an event model's pieces play
        at `tempo` (the prompt's; None: the checkpoint's)."""
        if self._thread is not None:
            raise RuntimeError("a generation is already running")
        self._stop.clear()
        t0 = time.perf_counter() if t0 is None else t0
        thread = _SampleThread(loaded, prompt, num, params, meter_aware, self._stop, t0, tempo)
        thread.streamed.connect(self.streamed)
        thread.completed.connect(self.completed)
        thread.failed.connect(self.failed)
        thread.finished.connect(self._on_thread_finished)
        keep_thread_alive(thread)
        self._thread = thread
        thread.start()

    def stop(self) -> None:
        self._stop.set()

    def watch(self, index: int) -> None:
        """Draw variation `index` (from 0) on the piano roll while an event model streams."""
        if self._thread is not None:
            self._thread.watched = index

    def wait(self, timeout_ms: int = 60_000) -> bool:
        return self._thread is None or self._thread.wait(timeout_ms)

    def shutdown(self) -> None:
        if self._thread is not None:
            self.stop()
            self._thread.wait()

    def _on_thread_finished(self) -> None:
        self._thread = None
        self.finished.emit()


class TaskRunner(QObject):
    """Runs queued jobs one after another on worker threads (music21 checks, exports).

    ``submit(fn, on_done, on_failed)``: `fn()` runs off the GUI thread; `on_done(result)` or
    `on_failed(message)` then runs on the GUI thread.
    """

    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: list[tuple[Callable[[], object], Callable, Callable]] = []
        self._thread: _CallThread | None = None
        self._closed = False
        self._paused = False
        self._on_done: Callable[[Any], None] = _ignore
        self._on_failed: Callable[[str], None] = _ignore

    def is_busy(self) -> bool:
        return self._thread is not None or bool(self._queue)

    def set_paused(self, paused: bool) -> None:
        """While paused, queued jobs wait (the running one finishes)."""
        self._paused = paused
        if not paused and self._thread is None:
            self._next()

    def submit(
        self,
        fn: Callable[[], object],
        on_done: Callable[[Any], None],
        on_failed: Callable[[str], None],
    ) -> None:
        if self._closed:
            return
        self._queue.append((fn, on_done, on_failed))
        if self._thread is None:
            self._next()

    def _next(self) -> None:
        if not self._queue or self._closed or self._paused:
            self._thread = None
            if not self._queue or self._closed:
                self.idle.emit()
            return
        fn, self._on_done, self._on_failed = self._queue.pop(0)
        thread = _CallThread(fn)
        # Bound methods of this GUI-thread object, so the callbacks run on the GUI thread.
        thread.succeeded.connect(self._done)
        thread.failed.connect(self._failed)
        thread.finished.connect(self._next)
        keep_thread_alive(thread)
        self._thread = thread
        thread.start()

    def _done(self, result: object) -> None:
        if not self._closed:
            self._on_done(result)

    def _failed(self, message: str) -> None:
        if not self._closed:
            self._on_failed(message)

    def clear(self) -> None:
        """Drop the jobs not started yet."""
        self._queue.clear()

    def wait_idle(self, timeout_ms: int = 60_000) -> bool:
        deadline = time.monotonic() + timeout_ms / 1000
        while self._thread is not None:
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0 or not self._thread.wait(left):
                return False
            # The thread's finished signal starts the next job from the event loop.
            from PySide6.QtCore import QCoreApplication

            QCoreApplication.processEvents()
        return True

    def shutdown(self) -> None:
        self._closed = True
        self._queue.clear()
        if self._thread is not None:
            self._thread.wait()
