"""The player: plays a :class:`~workbench.playback.events.Tune` to an output on its own thread.

Play, pause, stop, seek, loop a range, tempo scale, transpose, volume and a General MIDI program
per channel. Time comes from an injectable clock and messages go to an injectable output, so
tests run a whole tune in zero time (:class:`~workbench.playback.clock.JumpClock`).

Messages, in order: on play, a program change and a channel-volume (CC 7) per channel; then note
on/off as the tune goes. Stop and pause send a note-off for every sounding note and then
all-notes-off (CC 123) on each channel, so nothing hangs on a port or a synth. Looping back
sends the sounding notes' note-offs. At the end of the tune every note has had its note-off; the
player stops and rewinds.

Callbacks (``on_cue``, ``on_state``) run on the player's thread: a GUI turns them into queued
signals. The GUI reads :attr:`Player.position` on a timer.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from enum import Enum

import mido

from workbench.playback.clock import Clock, MonotonicClock
from workbench.playback.events import Cue, Tune
from workbench.playback.outputs import Output

ALL_NOTES_OFF = 123
CHANNEL_VOLUME = 7
MIN_TEMPO, MAX_TEMPO = 0.1, 4.0

# Timeline entries at the same time go note-offs first (a repeated pitch is released before it
# is struck again), then cues, then note-ons.
_OFF, _CUE, _ON = 0, 1, 2


class State(Enum):
    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"


class Player:
    """Plays one tune at a time. All methods are thread-safe."""

    def __init__(
        self,
        output: Output,
        clock: Clock | None = None,
        *,
        on_cue: Callable[[Cue | None], None] | None = None,
        on_state: Callable[[State], None] | None = None,
    ) -> None:
        self._output = output
        self._clock = clock or MonotonicClock()
        self.on_cue = on_cue
        self.on_state = on_state
        self._cond = threading.Condition(threading.RLock())
        self._wake = threading.Event()
        self._generation = 0
        self._tune = Tune([])
        self._timeline: list[tuple[float, int, int]] = []
        self._times: list[float] = []
        self._state = State.STOPPED
        self._position = 0.0  # seconds of the tune (at its own tempo) when not playing
        self._anchor_pos = 0.0  # while playing: the tune position at clock time _anchor_wall
        self._anchor_wall = 0.0
        self._next = 0  # index in _timeline of the next entry to dispatch
        self._sounding: dict[int, tuple[int, int]] = {}  # note index -> (channel, pitch sent)
        self._tempo = 1.0
        self._transpose = 0
        self._volume = 1.0
        self._programs: dict[int, int] = {}  # the user's choice, over the tune's own
        self._loop: tuple[float, float] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="player", daemon=True)
        self._thread.start()

    # --- properties --------------------------------------------------------------------------
    @property
    def tune(self) -> Tune:
        return self._tune

    @property
    def state(self) -> State:
        return self._state

    @property
    def output(self) -> Output:
        return self._output

    @property
    def duration(self) -> float:
        return self._tune.duration

    @property
    def position(self) -> float:
        with self._cond:
            if self._state is not State.PLAYING:
                return self._position
            pos = self._anchor_pos + (self._clock.now() - self._anchor_wall) * self._tempo
            end = self._loop[1] if self._loop else self.duration
            return max(0.0, min(pos, end))

    @property
    def tempo(self) -> float:
        return self._tempo

    @property
    def transpose(self) -> int:
        return self._transpose

    @property
    def volume(self) -> float:
        return self._volume

    @property
    def loop(self) -> tuple[float, float] | None:
        return self._loop

    # --- commands ----------------------------------------------------------------------------
    def load(self, tune: Tune) -> None:
        """Stop whatever plays and take ``tune`` (position 0, loop cleared)."""
        with self._cond:
            self.stop()
            self._tune = tune
            timeline = []
            for i, note in enumerate(tune.notes):
                timeline.append((note.start, _ON, i))
                timeline.append((max(note.end, note.start), _OFF, i))
            timeline.extend((cue.time, _CUE, i) for i, cue in enumerate(tune.cues))
            timeline.sort(key=lambda e: (e[0], e[1]))
            self._timeline = timeline
            self._times = [e[0] for e in timeline]
            self._loop = None
            self._seek_index(0.0)

    def set_output(self, output: Output) -> None:
        """Send to ``output`` from now on (the old one's notes are silenced first)."""
        with self._cond:
            if self._state is State.PLAYING:
                self._silence()
                self._output = output
                self._send_setup()
                self._bump()
            else:
                self._output = output

    def play(self) -> None:
        with self._cond:
            if self._state is State.PLAYING or not self._timeline:
                return
            self._send_setup()
            self._anchor_pos = self._position
            self._anchor_wall = self._clock.now()
            self._set_state(State.PLAYING)
            self._bump()

    def pause(self) -> None:
        with self._cond:
            if self._state is not State.PLAYING:
                return
            self._position = self.position
            self._silence()
            self._set_state(State.PAUSED)
            self._bump()

    def toggle(self) -> None:
        with self._cond:
            if self._state is State.PLAYING:
                self.pause()
            else:
                self.play()

    def stop(self) -> None:
        """Silence everything and rewind (to the loop's start when a loop is set)."""
        with self._cond:
            if self._state is State.STOPPED:
                self._seek_index(self._loop[0] if self._loop else 0.0)
                return
            self._silence()
            self._seek_index(self._loop[0] if self._loop else 0.0)
            self._set_state(State.STOPPED)
            self._bump()
            self._emit_cue(None)

    def seek(self, seconds: float) -> None:
        with self._cond:
            seconds = max(0.0, min(seconds, self.duration))
            if self._state is State.PLAYING:
                self._release_sounding()
                self._anchor_pos, self._anchor_wall = seconds, self._clock.now()
            self._seek_index(seconds)
            self._bump()

    def set_loop(self, start: float | None = None, end: float | None = None) -> None:
        """Loop [start, end) seconds (None: the tune's start / end)."""
        with self._cond:
            lo = 0.0 if start is None else max(0.0, start)
            hi = self.duration if end is None else min(end, self.duration)
            if hi <= lo:
                raise ValueError(f"a loop needs start < end, not {lo:.3f} >= {hi:.3f}")
            self._loop = (lo, hi)
            pos = self.position
            if not lo <= pos < hi:
                self.seek(lo)
            self._bump()

    def clear_loop(self) -> None:
        with self._cond:
            self._loop = None
            self._bump()

    def set_tempo(self, scale: float) -> None:
        """Play at ``scale`` times the tune's tempo (1.0 = as written)."""
        with self._cond:
            scale = min(MAX_TEMPO, max(MIN_TEMPO, float(scale)))
            if self._state is State.PLAYING:
                self._anchor_pos, self._anchor_wall = self.position, self._clock.now()
            self._tempo = scale
            self._bump()

    def set_transpose(self, semitones: int) -> None:
        """Shift notes struck from now on (sounding notes are released at the pitch sent)."""
        with self._cond:
            self._transpose = int(semitones)

    def set_volume(self, volume: float) -> None:
        with self._cond:
            self._volume = min(1.0, max(0.0, float(volume)))
            if self._state is State.PLAYING:
                for channel in self._channels():
                    self._send_cc(channel, CHANNEL_VOLUME, self._cc_volume())

    def set_program(self, program: int, channel: int | None = None) -> None:
        """General MIDI program (0-127) for one channel, or every channel when None."""
        with self._cond:
            if channel is None:
                self._programs = {c: program for c in range(16)}
            else:
                self._programs[channel] = program
            if self._state is State.PLAYING:
                for c in self._channels():
                    if channel is None or c == channel:
                        self._send(mido.Message("program_change", channel=c, program=program))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the player is not playing; False on timeout (tests, the CLI)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._state is not State.PLAYING, timeout)

    def close(self) -> None:
        with self._cond:
            self.stop()
            self._closed = True
            self._bump()
        self._thread.join(timeout=2.0)

    # --- internals ---------------------------------------------------------------------------
    def _channels(self) -> list[int]:
        return self._tune.channels or [0]

    def _cc_volume(self) -> int:
        return round(self._volume * 127)

    def _send(self, message: mido.Message) -> None:
        self._output.send(message)

    def _send_cc(self, channel: int, control: int, value: int) -> None:
        self._send(mido.Message("control_change", channel=channel, control=control, value=value))

    def _send_setup(self) -> None:
        for channel in self._channels():
            program = self._programs.get(channel, self._tune.programs.get(channel, 0))
            self._send(mido.Message("program_change", channel=channel, program=program))
            self._send_cc(channel, CHANNEL_VOLUME, self._cc_volume())

    def _release_sounding(self) -> None:
        for channel, pitch in self._sounding.values():
            self._send(mido.Message("note_off", channel=channel, note=pitch, velocity=0))
        self._sounding.clear()

    def _silence(self) -> None:
        self._release_sounding()
        for channel in self._channels():
            self._send_cc(channel, ALL_NOTES_OFF, 0)

    def _seek_index(self, seconds: float) -> None:
        self._position = seconds
        # Entries at exactly `seconds` are still to come (a note starting there is played).
        self._next = bisect.bisect_left(self._times, seconds)

    def _bump(self) -> None:
        """Something changed: the scheduler re-plans its next wait."""
        self._generation += 1
        self._wake.set()
        self._cond.notify_all()

    def _set_state(self, state: State) -> None:
        self._state = state
        self._cond.notify_all()
        if self.on_state:
            self.on_state(state)

    def _emit_cue(self, cue: Cue | None) -> None:
        if self.on_cue:
            self.on_cue(cue)

    def _dispatch(self, kind: int, index: int) -> None:
        if kind == _CUE:
            self._emit_cue(self._tune.cues[index])
            return
        note = self._tune.notes[index]
        if kind == _OFF:
            sent = self._sounding.pop(index, None)
            if sent is not None:
                self._send(mido.Message("note_off", channel=sent[0], note=sent[1], velocity=0))
            return
        pitch = note.pitch + self._transpose
        if 0 <= pitch <= 127 and note.end > note.start:
            self._sounding[index] = (note.channel, pitch)
            self._send(
                mido.Message("note_on", channel=note.channel, note=pitch, velocity=note.velocity)
            )

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or self._state is State.PLAYING)
                if self._closed:
                    return
                generation = self._generation
                self._wake.clear()
                end = self._loop[1] if self._loop else self.duration
                if self._next < len(self._timeline) and self._times[self._next] < end:
                    target = self._times[self._next]
                else:
                    target = end  # the loop's end or the tune's end
                wall = self._anchor_wall + (target - self._anchor_pos) / self._tempo
            self._clock.sleep_until(wall, self._wake)
            with self._cond:
                if generation != self._generation or self._state is not State.PLAYING:
                    continue
                if self._clock.now() < wall:
                    continue
                if target >= end and (
                    self._next >= len(self._timeline) or self._times[self._next] >= end
                ):
                    self._reach_end(wall)
                    continue
                while self._next < len(self._timeline) and self._times[self._next] <= target:
                    _, kind, index = self._timeline[self._next]
                    self._next += 1
                    self._dispatch(kind, index)

    def _reach_end(self, wall: float) -> None:
        if self._loop:
            self._release_sounding()
            start = self._loop[0]
            self._seek_index(start)
            # Anchored at the loop end's planned time, so loops do not drift.
            self._anchor_pos, self._anchor_wall = start, wall
            return
        self._release_sounding()
        self._seek_index(0.0)
        self._set_state(State.STOPPED)
        self._emit_cue(None)
