"""Where the player's MIDI messages go: a recording (tests), a system MIDI port, or the synth.

MIDI ports go through mido's python-rtmidi backend. A machine without a sound system (no ALSA
sequencer, as in containers) makes rtmidi raise ``SystemError``/``OSError`` on listing and
opening ports; that is the normal "no MIDI ports" state, reported as a message, never raised.
The built-in synth output lives in :mod:`workbench.playback.synth`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import mido

VIRTUAL_PORT_NAME = "Composition Workbench"


class Output(Protocol):
    """Something that sounds MIDI messages. ``send`` is called from the player's thread."""

    name: str

    def send(self, message: mido.Message) -> None: ...

    def close(self) -> None: ...


class RecordingOutput:
    """Keeps every message with the clock time it was sent at (tests, benchmarks)."""

    name = "Recording"

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.sent: list[tuple[float, mido.Message]] = []
        self.closed = False

    def send(self, message: mido.Message) -> None:
        t = self._clock() if self._clock else 0.0
        with self._lock:
            self.sent.append((t, message))

    @property
    def messages(self) -> list[mido.Message]:
        with self._lock:
            return [m for _, m in self.sent]

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()

    def close(self) -> None:
        self.closed = True


class PortError(Exception):
    """A MIDI port that cannot be opened; the message says which and why."""


@dataclass(frozen=True)
class PortList:
    """The system's MIDI output ports, or why there are none (``error``)."""

    names: tuple[str, ...]
    error: str | None = None

    @property
    def status(self) -> str:
        if self.error:
            return f"No MIDI ports: {self.error}"
        if not self.names:
            return "No MIDI ports"
        return f"{len(self.names)} MIDI port(s)"


def list_output_ports() -> PortList:
    """The MIDI output port names; an OS without MIDI support gives an empty list with a reason."""
    try:
        return PortList(tuple(mido.get_output_names()))
    # rtmidi's SystemError is an OSError; ImportError: python-rtmidi (optional) not installed.
    except (OSError, RuntimeError, ImportError) as error:
        return PortList((), _describe(error))


def _describe(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return f"the MIDI system is not available ({text})"


class PortOutput:
    """A system MIDI output port (hardware synth, DAW, or our own virtual port)."""

    def __init__(self, port: mido.ports.BaseOutput, name: str) -> None:
        self._port = port
        self.name = name

    @classmethod
    def open(cls, name: str) -> PortOutput:
        try:
            return cls(mido.open_output(name), name)
        except (OSError, RuntimeError, ImportError) as error:
            raise PortError(f"cannot open MIDI port {name!r}: {error}") from error

    @classmethod
    def open_virtual(cls, name: str = VIRTUAL_PORT_NAME) -> PortOutput:
        """A port other programs can connect to (ALSA/JACK/CoreMIDI; not Windows)."""
        try:
            return cls(mido.open_output(name, virtual=True), f"{name} (virtual)")
        except (OSError, RuntimeError, ImportError, NotImplementedError) as error:
            raise PortError(f"cannot create a virtual MIDI port here: {error}") from error

    def send(self, message: mido.Message) -> None:
        self._port.send(message)

    def close(self) -> None:
        if not self._port.closed:
            # mido's reset() sends all-notes-off and reset-controllers on every channel.
            self._port.reset()
            self._port.close()
