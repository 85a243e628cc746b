"""The built-in synth: MIDI messages in, stereo float samples out, rendered in-process.

Two engines behind one interface (:class:`SynthEngine`):

* :class:`FluidSynthEngine`: a General MIDI SoundFont (.sf2/.sf3) through FluidSynth
  (pyfluidsynth + the system's libfluidsynth), used offline: we pull samples with
  ``get_samples`` and hand them to Qt's audio output or a WAV file, so FluidSynth needs no audio
  driver of its own.
* :class:`ToneSynth`: a small additive synth of our own in numpy, the fallback when no soundfont
  or no libfluidsynth is found. We write it rather than bundle a soundfont because none is both
  small enough to ship in the wheel and under a licence that lets an MIT project bundle it
  (TimGM6mb is GPL; FluidR3_GM is 145 MB), and a new user should hear the tune anyway.

:class:`SynthOutput` is the player's output: ``send`` (player thread) and ``render`` (audio
thread) share the engine under a lock.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from pathlib import Path
from typing import Protocol

import mido
import numpy as np

from workbench.playback.soundfonts import default_soundfont

log = logging.getLogger(__name__)

SAMPLE_RATE = 44100
# FluidSynth's default gain (0.2) peaks around -30 dBFS on a single melody (PLATFORM.md);
# 1.2 leaves headroom for chords before its 16-bit output clips.
FLUID_GAIN = 1.2
PERCUSSION_CHANNEL = 9


class SynthEngine(Protocol):
    sample_rate: int
    description: str

    def noteon(self, channel: int, key: int, velocity: int) -> None: ...

    def noteoff(self, channel: int, key: int) -> None: ...

    def program_change(self, channel: int, program: int) -> None: ...

    def cc(self, channel: int, control: int, value: int) -> None: ...

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` samples, float32 of shape (frames, 2) in [-1, 1]."""
        ...

    def close(self) -> None: ...


class SynthUnavailable(Exception):
    """FluidSynth or the soundfont cannot be used; the message says why."""


def _import_fluidsynth():
    """Import pyfluidsynth without letting it write to our stdout.

    pyfluidsynth 1.4 prints "'fluidsynth' was found at ..." on import whenever the
    environment variable CI is set; `workbench render --wav` prints the written path on
    stdout for scripts to read, so that line must not get in.
    """
    with contextlib.redirect_stdout(io.StringIO()):
        import fluidsynth
    return fluidsynth


class FluidSynthEngine:
    def __init__(self, soundfont: Path, sample_rate: int = SAMPLE_RATE) -> None:
        try:
            fluidsynth = _import_fluidsynth()
        except (ImportError, OSError) as error:  # no pyfluidsynth, or no libfluidsynth
            raise SynthUnavailable(f"FluidSynth is not available ({error})") from error
        if not Path(soundfont).is_file():
            raise SynthUnavailable(f"no soundfont file at {soundfont}")
        self.sample_rate = sample_rate
        self._synth = fluidsynth.Synth(gain=FLUID_GAIN, samplerate=float(sample_rate))
        self._sfid = self._synth.sfload(str(soundfont))
        if self._sfid < 0:
            self._synth.delete()
            raise SynthUnavailable(f"FluidSynth cannot read the soundfont {soundfont}")
        for channel in range(16):
            bank = 128 if channel == PERCUSSION_CHANNEL else 0
            self._synth.program_select(channel, self._sfid, bank, 0)
        self.soundfont = Path(soundfont)
        self.description = f"FluidSynth: {self.soundfont.name}"

    def noteon(self, channel: int, key: int, velocity: int) -> None:
        self._synth.noteon(channel, key, velocity)

    def noteoff(self, channel: int, key: int) -> None:
        self._synth.noteoff(channel, key)

    def program_change(self, channel: int, program: int) -> None:
        self._synth.program_change(channel, program)

    def cc(self, channel: int, control: int, value: int) -> None:
        self._synth.cc(channel, control, value)

    def render(self, frames: int) -> np.ndarray:
        if frames <= 0:
            return np.zeros((0, 2), np.float32)
        samples = self._synth.get_samples(frames)  # int16, interleaved L R
        return (np.asarray(samples, np.float32) / 32768.0).reshape(frames, 2)

    def close(self) -> None:
        self._synth.delete()


class _Voice:
    __slots__ = ("amp", "freq", "pos", "release_at", "release_level")

    def __init__(self, freq: float, amp: float) -> None:
        self.freq = freq
        self.amp = amp
        self.pos = 0  # samples since note-on
        self.release_at: int | None = None  # sample of the note-off
        self.release_level = 0.0


class ToneSynth:
    """Additive organ-like tones with an ADSR envelope per note (see the module docstring).

    Each note is a few harmonics of its pitch (equal temperament, A4 = 440 Hz); channel volume
    (CC 7) and velocity scale it; the percussion channel is silent.
    """

    HARMONICS = np.array([1.0, 0.45, 0.25, 0.12, 0.06], np.float32)
    ATTACK_S, DECAY_S, SUSTAIN, RELEASE_S = 0.008, 0.15, 0.55, 0.08
    LEVEL = 0.18  # one full-velocity note's peak; leaves headroom for a few voices

    def __init__(self, sample_rate: int = SAMPLE_RATE, reason: str = "") -> None:
        self.sample_rate = sample_rate
        self.description = "Built-in tone" + (f" ({reason})" if reason else "")
        self._voices: dict[tuple[int, int], list[_Voice]] = {}
        self._volume = [1.0] * 16
        self._norm = float(self.HARMONICS.sum())

    def noteon(self, channel: int, key: int, velocity: int) -> None:
        if channel == PERCUSSION_CHANNEL:
            return
        if velocity == 0:
            self.noteoff(channel, key)
            return
        freq = 440.0 * 2.0 ** ((key - 69) / 12)
        amp = self.LEVEL * (velocity / 127) * self._volume[channel]
        self._voices.setdefault((channel, key), []).append(_Voice(freq, amp))

    def noteoff(self, channel: int, key: int) -> None:
        for voice in self._voices.get((channel, key), []):
            if voice.release_at is None:
                voice.release_at = voice.pos
                voice.release_level = self._level(np.array([voice.pos]))[0]
                return

    def program_change(self, channel: int, program: int) -> None:
        pass  # one timbre for every program

    def cc(self, channel: int, control: int, value: int) -> None:
        if control == 7:
            self._volume[channel] = value / 127
        elif control in (120, 123):  # all sound off / all notes off
            for (ch, _), voices in self._voices.items():
                if ch == channel:
                    for voice in voices:
                        if voice.release_at is None:
                            voice.release_at = voice.pos
                            voice.release_level = self._level(np.array([voice.pos]))[0]

    def _level(self, n: np.ndarray) -> np.ndarray:
        """Attack-decay-sustain level at sample counts ``n`` since note-on."""
        t = n / self.sample_rate
        attack = np.minimum(t / self.ATTACK_S, 1.0)
        decay = np.clip((t - self.ATTACK_S) / self.DECAY_S, 0.0, 1.0)
        return np.where(t < self.ATTACK_S, attack, 1.0 - (1.0 - self.SUSTAIN) * decay)

    def render(self, frames: int) -> np.ndarray:
        out = np.zeros(frames, np.float64)
        n = np.arange(frames)
        release_len = self.RELEASE_S * self.sample_rate
        for key in list(self._voices):
            alive = []
            for voice in self._voices[key]:
                pos = voice.pos + n
                env = self._level(pos)
                if voice.release_at is not None:
                    since = np.maximum(pos - voice.release_at, 0)
                    fade = voice.release_level * np.maximum(1.0 - since / release_len, 0.0)
                    env = np.where(pos >= voice.release_at, fade, env)
                phase = (2 * np.pi * voice.freq / self.sample_rate) * pos
                tone = np.zeros(frames)
                for k, weight in enumerate(self.HARMONICS, start=1):
                    if voice.freq * k < self.sample_rate / 2:
                        tone += weight * np.sin(k * phase)
                out += voice.amp / self._norm * env * tone
                voice.pos += frames
                if voice.release_at is None or voice.pos - voice.release_at < release_len:
                    alive.append(voice)
            if alive:
                self._voices[key] = alive
            else:
                del self._voices[key]
        mono = np.clip(out, -1.0, 1.0).astype(np.float32)
        return np.repeat(mono[:, None], 2, axis=1)

    def close(self) -> None:
        self._voices.clear()


def make_engine(
    soundfont: Path | None = None, sample_rate: int = SAMPLE_RATE, *, search: bool = True
) -> SynthEngine:
    """FluidSynth with ``soundfont`` (or the best one found when ``search``), else the fallback.

    Never raises: whatever stops FluidSynth becomes the fallback's description.
    """
    path = soundfont if soundfont is not None else (default_soundfont() if search else None)
    if path is None:
        return ToneSynth(sample_rate, "no soundfont found")
    try:
        return FluidSynthEngine(Path(path), sample_rate)
    except SynthUnavailable as error:
        log.warning("%s; using the built-in tone", error)
        return ToneSynth(sample_rate, str(error))


class SynthOutput:
    """The player's output into a synth engine; :meth:`render` pulls the audio."""

    def __init__(self, engine: SynthEngine | None = None) -> None:
        self.engine = engine if engine is not None else make_engine()
        self.name = "Built-in synth"
        self._lock = threading.Lock()

    @property
    def sample_rate(self) -> int:
        return self.engine.sample_rate

    @property
    def description(self) -> str:
        return self.engine.description

    def set_engine(self, engine: SynthEngine) -> None:
        with self._lock:
            old, self.engine = self.engine, engine
        old.close()

    def send(self, message: mido.Message) -> None:
        with self._lock:
            apply_message(self.engine, message)

    def render(self, frames: int) -> np.ndarray:
        with self._lock:
            return self.engine.render(frames)

    def render_int16(self, frames: int) -> bytes:
        """``frames`` stereo frames as signed 16-bit little-endian bytes (what Qt plays)."""
        samples = self.render(frames)
        return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()

    def close(self) -> None:
        with self._lock:
            for channel in range(16):
                self.engine.cc(channel, 123, 0)


def apply_message(engine: SynthEngine, message: mido.Message) -> None:
    if message.type == "note_on":
        if message.velocity:
            engine.noteon(message.channel, message.note, message.velocity)
        else:
            engine.noteoff(message.channel, message.note)
    elif message.type == "note_off":
        engine.noteoff(message.channel, message.note)
    elif message.type == "program_change":
        engine.program_change(message.channel, message.program)
    elif message.type == "control_change":
        engine.cc(message.channel, message.control, message.value)
