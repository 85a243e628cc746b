"""Loading corpora on a worker thread, with progress and a cancel that is honoured between files.

Reading all of music21's folk tunes takes ~0.6 s and a user's folder can take much longer, so
:func:`workbench.corpus.load` runs on a QThread. The statistics of the result are computed on
the same thread (another ~0.2 s for 13,000 tunes) so the GUI only has to draw them.

MIDI sources (files, folders, `corpus:bach-chorales`) are read the same way with
:func:`workbench.midi_data.load_midi` under the encoding chosen in the pane; their statistics
are :func:`workbench.midi_data.stats.midi_stats`. Data that mixes MIDI and ABC fails with a
message saying so.

The thread's signals are emitted from the worker thread and received by objects living in the
GUI thread, so Qt queues them: the receivers run on the GUI thread, in order.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QThread, Signal

from workbench.corpus import CorpusError, LoadCancelled, dataset_stats, load
from workbench.midi_data import DEFAULT_ENCODING, MidiLoadCancelled, data_is_midi
from workbench.ui.workers.one_thread import OneThreadWorker

log = logging.getLogger(__name__)

# Threads that are running, whether or not their CorpusLoader still exists.

#: Least time between two progress signals: a folder of 13,000 one-tune files would otherwise
#: queue 13,000 signals for a progress bar that can show a few dozen steps a second.
PROGRESS_INTERVAL_S = 0.05


class _LoadThread(QThread):
    """Runs one :func:`load` call; emits exactly one of loaded, cancelled or failed."""

    progressed = Signal(int, int, str)  # files done, files in all, source just read
    # LoadResult and DatasetStats, or MidiLoadResult and MidiStats; list of specs
    loaded = Signal(object, object, object)
    cancelled = Signal(object)  # list of specs (object: no QVariant conversion)
    failed = Signal(str, object)  # message, list of specs

    def __init__(
        self, specs: list[str], stop: threading.Event, encoding: str, velocities: bool
    ) -> None:
        super().__init__()
        self._specs = specs
        self._stop = stop
        self._encoding = encoding
        self._velocities = velocities
        self._last_progress = 0.0

    def _on_load_progress(self, done: int, total: int, source: str) -> None:
        now = time.monotonic()
        if done == total or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self.progressed.emit(done, total, source)

    def run(self) -> None:
        specs = self._specs
        try:
            if data_is_midi(specs):
                result, stats = self._load_midi(specs)
            else:
                result = load(specs, progress=self._on_load_progress, should_stop=self._stop.is_set)
                stats = dataset_stats(result.tunes)
        except (LoadCancelled, MidiLoadCancelled):
            self.cancelled.emit(specs)
        except CorpusError as error:
            self.failed.emit(str(error), specs)
        except Exception as error:  # a bug: report it instead of losing it in the thread
            log.exception("loading %s failed", specs)
            self.failed.emit(f"unexpected error: {error}", specs)
        else:
            self.loaded.emit(result, stats, specs)

    def _load_midi(self, specs: list[str]) -> tuple[object, object]:
        from workbench.midi_data import load_midi, make_settings
        from workbench.midi_data.stats import midi_stats

        settings = make_settings(self._encoding, velocities=self._velocities)
        result = load_midi(
            specs, settings, progress=self._on_load_progress, should_stop=self._stop.is_set
        )
        return result, midi_stats(result)


class CorpusLoader(OneThreadWorker):
    """Loads DATA specs off the GUI thread, one load at a time.

    ``start(specs)`` begins a load; exactly one of ``loaded``, ``cancelled`` or ``failed``
    follows, then ``finished``. ``cancel()`` asks the load to stop before its next file.
    Call ``shutdown()`` before the application quits so no thread outlives it.
    """

    progressed = Signal(int, int, str)  # files done, files in all, source just read
    # LoadResult and DatasetStats, or MidiLoadResult and MidiStats; list of specs
    loaded = Signal(object, object, object)
    cancelled = Signal(object)  # list of specs (object: no QVariant conversion)
    failed = Signal(str, object)  # one-line message, list of specs

    def start(
        self, specs: list[str], encoding: str = DEFAULT_ENCODING, velocities: bool = False
    ) -> None:
        """Load ``specs`` (MIDI with ``encoding``); raises RuntimeError while another load is
        running."""
        self._begin("a corpus load")
        thread = _LoadThread(list(specs), self._stop, encoding, velocities)
        thread.progressed.connect(self.progressed)
        thread.loaded.connect(self.loaded)
        thread.cancelled.connect(self.cancelled)
        thread.failed.connect(self.failed)
        self._launch(thread)
