"""Where FluidSynth and a system soundfont are installed, they are what plays (issue 16).

The fallback tone synth also plays the right pitches, so pitch tests cannot tell the engines
apart: a broken soundfont search would go unnoticed while users heard an organ tone. These tests
find the installation without our search (tests/installed_synth.py), then ask the defaults
users get (`make_engine()`, `render_wav` without a soundfont) for an engine and audio that only
a sampled General MIDI piano produces: overtones above the fifth harmonic, a decay while the
key is held, and a timbre that changes with the instrument. The tone synth has
five harmonics, a flat sustain and one timbre for every program (checked below too, so the
measures are known to separate the two).
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from installed_synth import require_system_synth

from workbench.playback.events import NoteEvent, tune_from_notes
from workbench.playback.synth import FluidSynthEngine, SynthEngine, ToneSynth, make_engine
from workbench.playback.wav import render_tune, render_wav

A3 = 57  # 220 Hz: twelve harmonics stay well under the Nyquist frequency


@pytest.fixture
def installed(monkeypatch, tmp_path) -> set[Path]:
    return require_system_synth(monkeypatch, tmp_path)


def harmonics(mono: np.ndarray, sr: int, f0: float, count: int = 12) -> np.ndarray:
    """Peak magnitude near each of the first `count` harmonics, relative to the largest."""
    n = 1 << 18
    spec = np.abs(np.fft.rfft(mono * np.hanning(len(mono)), n=n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    peaks = np.array(
        [spec[(freqs > f0 * k * 0.97) & (freqs < f0 * k * 1.03)].max() for k in range(1, count + 1)]
    )
    return peaks / peaks.max()


def held_note(engine: SynthEngine, program: int) -> np.ndarray:
    """A3 held 1.5 s at velocity 100 on `program`: the left channel."""
    tune = tune_from_notes([NoteEvent(0.0, 1.5, A3, 100)])
    return render_tune(tune, engine, program=program)[:, 0]


def piano_measures(mono: np.ndarray, sr: int) -> tuple[float, float]:
    """(largest overtone above the 5th harmonic, level at 1.1-1.4 s / level at 0.05-0.3 s)."""
    overtones = harmonics(mono[int(0.05 * sr) : int(0.6 * sr)], sr, 220.0)[5:].max()
    early = np.abs(mono[int(0.05 * sr) : int(0.3 * sr)]).max()
    late = np.abs(mono[int(1.1 * sr) : int(1.4 * sr)]).max()
    return float(overtones), float(late / early)


def test_the_default_engine_is_fluidsynth_with_a_system_soundfont(installed) -> None:
    engine = make_engine()
    try:
        assert isinstance(engine, FluidSynthEngine), engine.description
        assert engine.soundfont.resolve() in installed
        assert engine.description == f"FluidSynth: {engine.soundfont.name}"
    finally:
        engine.close()


def test_a_wav_rendered_with_the_defaults_is_a_sampled_piano(installed, tmp_path) -> None:
    # What `workbench render --wav` and the export do when no soundfont is named.
    path = render_wav(tune_from_notes([NoteEvent(0.0, 1.5, A3, 100)]), tmp_path / "a3.wav")
    with wave.open(str(path)) as f:
        sr, channels = f.getframerate(), f.getnchannels()
        pcm = np.frombuffer(f.readframes(f.getnframes()), "<i2").reshape(-1, channels)
    mono = pcm[:, 0] / 32768.0
    overtones, sustain = piano_measures(mono, sr)
    # TimGM6mb's piano: up to 0.23 of the fundamental at the 7th harmonic, 0.14 left at 1.1 s.
    assert overtones > 0.05
    assert sustain < 0.35


def test_the_default_engine_changes_timbre_with_the_instrument(installed) -> None:
    engine = make_engine()
    try:
        sr = engine.sample_rate
        piano = harmonics(held_note(engine, 0)[int(0.05 * sr) : int(0.6 * sr)], sr, 220.0)
        flute = harmonics(held_note(engine, 73)[int(0.05 * sr) : int(0.6 * sr)], sr, 220.0)
    finally:
        engine.close()
    # Measured with TimGM6mb: 2.1 (the flute's second harmonic leads, the piano's upper ones
    # are strong).
    assert np.abs(piano - flute).sum() > 0.3


def test_the_measures_tell_the_fallback_from_a_soundfont() -> None:
    """The tone synth fails each measure above, so a fallback cannot pass them."""
    tone = ToneSynth(44100)
    sr = tone.sample_rate
    overtones, sustain = piano_measures(held_note(tone, 0), sr)
    assert overtones < 0.01 and sustain > 0.5
    piano = harmonics(held_note(tone, 0)[int(0.05 * sr) : int(0.6 * sr)], sr, 220.0)
    flute = harmonics(held_note(tone, 73)[int(0.05 * sr) : int(0.6 * sr)], sr, 220.0)
    assert np.abs(piano - flute).sum() < 1e-6
