"""Activation capture on a worker thread: load a checkpoint, run a text (or, for an event model,
a MIDI file encoded with the checkpoint's own settings) through it.

Loading a 2x512 checkpoint and capturing a long tune takes around a second on a small CPU, so
it runs on a QThread with progress and a cancel honoured between layers (and every few hundred
steps of the LSTM cell recurrence). The last model loaded is kept (keyed by path and mtime) so
running another text through the same checkpoint skips the load.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from models.activation_store import CaptureCancelled
from models.errors import EngineError
from workbench.ui.workers.one_thread import OneThreadWorker

log = logging.getLogger(__name__)


class _ModelCache:
    """The last (path, mtime) loaded and its network; touched by one worker thread at a time."""

    def __init__(self) -> None:
        self.key: tuple[str, float] | None = None
        self.model = None
        self.tokenizer = None
        self.description = ""

    def get(self, path: Path):
        from models.checkpoint import load_checkpoint

        key = (str(path), path.stat().st_mtime if path.exists() else 0.0)
        if key != self.key:
            ckpt = load_checkpoint(path)
            self.model = ckpt.build_model("cpu")
            self.tokenizer = ckpt.tokenizer
            self.description = f"{path.name}: {ckpt.describe()}"
            self.key = key
        return self.model, self.tokenizer, self.description


class _CaptureThread(QThread):
    progressed = Signal(float, str)
    captured = Signal(object, str)  # Activations, model description
    cancelled = Signal()
    failed = Signal(str)

    def __init__(
        self,
        path: Path,
        text: str,
        cache: _ModelCache,
        stop: threading.Event,
        midi: Path | None = None,
    ) -> None:
        super().__init__()
        self._path, self._text, self._cache, self._stop = path, text, cache, stop
        self._midi = midi

    def run(self) -> None:
        # Imported here, on the worker thread: torch must stay off the app's start-up path.
        from models.activations import capture

        try:
            self.progressed.emit(0.0, f"loading {self._path.name}")
            model, tokenizer, description = self._cache.get(self._path)
            if self._stop.is_set():
                raise CaptureCancelled("cancelled")
            text = self._input(tokenizer)
            acts = capture(
                model,
                tokenizer,
                text,
                progress=lambda f, what: self.progressed.emit(f, what),
                should_stop=self._stop.is_set,
            )
        except CaptureCancelled:
            self.cancelled.emit()
        except EngineError as error:  # a bad checkpoint: the message names the file
            self.failed.emit(str(error))
        except OSError as error:
            name = getattr(error, "filename", None) or self._path
            self.failed.emit(f"{name}: {error.strerror or error}")
        except Exception as error:  # a bug: report it instead of losing it in the thread
            log.exception("capture with %s failed", self._path)
            self.failed.emit(f"unexpected error: {error}")
        else:
            self.captured.emit(acts, description)

    def _input(self, tokenizer) -> str:
        """The text to run: the given one, or the MIDI file's events (event models only)."""
        from models.errors import DataError
        from workbench.neurons.piece_input import check_events, events_from_file

        events = tokenizer.kind == "events"
        if self._midi is not None:
            if not events:
                raise DataError(
                    f"{self._path.name} is a character (ABC) model; it cannot read MIDI"
                )
            self.progressed.emit(0.0, f"encoding {self._midi.name}")
            return events_from_file(self._midi, tokenizer.settings)
        if events:
            check_events(self._text, tokenizer.vocab, self._path.name)
        return self._text


class ActivationWorker(OneThreadWorker):
    """Runs one capture at a time off the GUI thread.

    ``start(path, text)`` (or ``start(path, midi=FILE)`` for an event model) begins; exactly
    one of ``captured``, ``cancelled`` or ``failed`` follows, then ``finished``. ``cancel()``
    asks the running capture to stop.
    """

    progressed = Signal(float, str)  # fraction done, what runs now
    captured = Signal(object, str)  # Activations, model description
    cancelled = Signal()
    failed = Signal(str)
    wait_ms = 30_000

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache = _ModelCache()

    def start(self, path: Path, text: str = "", midi: Path | None = None) -> None:
        self._begin("a capture")
        midi = Path(midi) if midi is not None else None
        thread = _CaptureThread(Path(path), text, self._cache, self._stop, midi)
        thread.progressed.connect(self.progressed)
        thread.captured.connect(self.captured)
        thread.cancelled.connect(self.cancelled)
        thread.failed.connect(self.failed)
        self._launch(thread)
