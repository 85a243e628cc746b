"""Audio export: a tune rendered by the built-in synth into a WAV file (stdlib ``wave``).

The tune is played by the ordinary :class:`~workbench.playback.player.Player` with a clock that
jumps ahead, into an output that renders the synth up to each message's time before applying
it: the file sounds exactly like playback, as fast as the synth can render. FLAC/Ogg would need
``soundfile`` (libsndfile), which is not a dependency; only WAV is written.
"""

from __future__ import annotations

import wave
from collections.abc import Iterable
from pathlib import Path

import mido
import numpy as np

from workbench.playback.clock import JumpClock
from workbench.playback.events import Tune, tune_from_abc, tune_from_midi
from workbench.playback.player import Player
from workbench.playback.synth import SAMPLE_RATE, SynthEngine, apply_message, make_engine

TAIL_S = 1.0  # the last notes' release and reverb


class _RenderingOutput:
    name = "render"

    def __init__(self, engine: SynthEngine, clock: JumpClock) -> None:
        self.engine = engine
        self._clock = clock
        self._chunks: list[np.ndarray] = []
        self.frames = 0

    def advance_to(self, seconds: float) -> None:
        target = round(seconds * self.engine.sample_rate)
        if target > self.frames:
            self._chunks.append(self.engine.render(target - self.frames))
            self.frames = target

    def send(self, message: mido.Message) -> None:
        self.advance_to(self._clock.now())
        apply_message(self.engine, message)

    def audio(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.zeros((0, 2), np.float32)

    def close(self) -> None:
        pass


def render_tune(
    tune: Tune, engine: SynthEngine | None = None, *, tempo: float = 1.0, program: int | None = None
) -> np.ndarray:
    """The tune's audio, float32 of shape (frames, 2)."""
    engine = engine if engine is not None else make_engine()
    clock = JumpClock()
    out = _RenderingOutput(engine, clock)
    player = Player(out, clock)
    try:
        player.load(tune)
        player.set_tempo(tempo)
        if program is not None:
            player.set_program(program)
        player.play()
        player.wait()
    finally:
        player.close()
    out.advance_to(tune.duration / tempo + TAIL_S)
    return out.audio()


def write_wav(audio: np.ndarray, path: Path, sample_rate: int) -> Path:
    """Stereo float samples -> 16-bit PCM WAV, peak-normalised when it would clip."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > 1.0:
        audio = audio / peak
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    path = Path(path)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.tobytes())
    return path


def render_wav(
    source: bytes | str | Tune,
    path: Path | str,
    soundfont: Path | None = None,
    sample_rate: int = SAMPLE_RATE,
) -> Path:
    """Render MIDI file bytes, ABC text or a Tune to a WAV file; returns the path.

    ``soundfont`` None uses the best General MIDI soundfont found, else the built-in tone.
    Raises :class:`~workbench.playback.events.PlaybackError` for input that cannot be played.
    """
    if isinstance(source, bytes):
        tune = tune_from_midi(source)
    elif isinstance(source, str):
        tune = tune_from_abc(source)
    else:
        tune = source
    engine = make_engine(soundfont, sample_rate)
    try:
        return write_wav(render_tune(tune, engine), Path(path), sample_rate)
    finally:
        engine.close()


def render_abc_to_wav(abc: str, path: Path | str, soundfont: Path | None = None) -> Path:
    """One ABC tune -> WAV (the CLI's ``workbench render FILE.abc --wav out.wav``)."""
    return render_wav(abc, path, soundfont)


def render_batch(
    sources: Iterable[tuple[str, bytes | str]],
    folder: Path | str,
    soundfont: Path | None = None,
) -> list[Path]:
    """Render (name, ABC or MIDI) pairs to ``folder/NAME.wav``; one engine for all of them."""
    from workbench.playback.events import PlaybackError

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in sources:
        engine = make_engine(soundfont)
        try:
            tune = tune_from_midi(source) if isinstance(source, bytes) else tune_from_abc(source)
            written.append(
                write_wav(render_tune(tune, engine), folder / f"{name}.wav", engine.sample_rate)
            )
        except PlaybackError:
            raise
        finally:
            engine.close()
    return written
