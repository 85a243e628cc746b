"""Streams the built-in synth to the sound device through QtMultimedia (QAudioSink, pull mode).

The sink pulls 16-bit stereo frames from a QIODevice whose ``readData`` renders the synth just
in time, so a note the player sends is heard one audio buffer later (``BUFFER_MS``). No sound
device (no outputs listed, or the sink fails to open) is a normal state: :attr:`status` says so
and everything else keeps working.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QIODevice, QObject, Signal
from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices, QtAudio

from workbench.playback.synth import SynthOutput

log = logging.getLogger(__name__)

BUFFER_MS = 40  # the sink's buffer: latency from a note-on to its sound, and underrun margin


class _SynthDevice(QIODevice):
    """A read-only, endless stream of the synth's samples."""

    def __init__(self, synth: SynthOutput, on_read: Callable[[bytes], None] | None) -> None:
        super().__init__()
        self._synth = synth
        self._on_read = on_read

    def isSequential(self) -> bool:
        return True

    def size(self) -> int:
        return 1 << 40  # endless: tells Qt's pull loop there is always more

    def bytesAvailable(self) -> int:
        return (1 << 16) + super().bytesAvailable()

    def readData(self, maxlen: int) -> bytes:
        frames = max(0, maxlen // 4)
        data = self._synth.render_int16(frames)
        if self._on_read:
            self._on_read(data)
        return data

    def writeData(self, data: bytes) -> int:
        return -1


class AudioOutput(QObject):
    """Plays a :class:`SynthOutput` on the default sound device while started."""

    status_changed = Signal(str)

    def __init__(
        self,
        synth: SynthOutput,
        parent: QObject | None = None,
        *,
        on_read: Callable[[bytes], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._synth = synth
        self._on_read = on_read
        self._sink: QAudioSink | None = None
        self._device: _SynthDevice | None = None
        self.status = "Sound device ready" if QMediaDevices.audioOutputs() else "No sound device"
        self.started_at = 0.0

    @property
    def active(self) -> bool:
        return self._sink is not None

    def start(self) -> bool:
        """Open the default device; False (with :attr:`status` saying why) when there is none."""
        if self._sink is not None:
            return True
        if not QMediaDevices.audioOutputs():
            return self._set_status("No sound device: playback is silent (export still works)")
        device = QMediaDevices.defaultAudioOutput()
        fmt = QAudioFormat()
        fmt.setSampleRate(self._synth.sample_rate)
        fmt.setChannelCount(2)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if not device.isFormatSupported(fmt):
            return self._set_status(
                f"The sound device {device.description()} cannot play 16-bit stereo"
            )
        sink = QAudioSink(device, fmt, self)
        sink.setBufferSize(int(self._synth.sample_rate * 4 * BUFFER_MS / 1000))
        stream = _SynthDevice(self._synth, self._on_read)
        stream.open(QIODevice.OpenModeFlag.ReadOnly)
        self.started_at = time.perf_counter()
        sink.start(stream)
        if sink.error() != QtAudio.Error.NoError:
            error = sink.error()
            sink.stop()
            stream.close()
            return self._set_status(
                f"Cannot open the sound device {device.description()} ({error.name})"
            )
        self._sink, self._device = sink, stream
        self._set_status(f"Sound: {device.description()}")
        return True

    def stop(self) -> None:
        if self._sink is not None:
            self._sink.stop()
            self._sink.deleteLater()
            self._sink = None
        if self._device is not None:
            self._device.close()
            self._device = None

    def _set_status(self, text: str) -> bool:
        self.status = text
        self.status_changed.emit(text)
        return False
