"""Rendered audio checked by frequency: an A4 at 440 Hz, and a real tune's notes by chroma."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.playback.events import NoteEvent, tune_from_abc, tune_from_notes
from workbench.playback.soundfonts import default_soundfont, find_soundfonts
from workbench.playback.synth import FluidSynthEngine, SynthUnavailable, ToneSynth, make_engine
from workbench.playback.wav import render_tune

SR = 44100


def fluid_engine():
    path = default_soundfont()
    if path is None:
        pytest.skip("no General MIDI soundfont installed (apt timgm6mb-soundfont)")
    try:
        return FluidSynthEngine(path, SR)
    except SynthUnavailable as error:
        pytest.skip(str(error))


def peak_hz(samples: np.ndarray) -> float:
    n = 1 << 19
    spec = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), n=n))
    return float(np.fft.rfftfreq(n, 1 / SR)[spec.argmax()])


def chroma(samples: np.ndarray) -> np.ndarray:
    """Energy per pitch class (0 = C) from 60 Hz to 2 kHz."""
    spec = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), n=1 << 16)) ** 2
    freqs = np.fft.rfftfreq(1 << 16, 1 / SR)
    band = (freqs > 60) & (freqs < 2000)
    classes = np.round(12 * np.log2(freqs[band] / 440.0) + 69).astype(int) % 12
    return np.bincount(classes, weights=spec[band], minlength=12)


@pytest.mark.parametrize(
    "engine_factory", [fluid_engine, lambda: ToneSynth(SR)], ids=["fluidsynth", "tone"]
)
def test_an_a4_peaks_at_440_hz(engine_factory):
    engine = engine_factory()
    audio = render_tune(tune_from_notes([NoteEvent(0.0, 1.5, 69, 100)]), engine)[:, 0]
    assert audio.shape[0] == pytest.approx(2.5 * SR, abs=2)
    sustained = audio[int(0.1 * SR) : int(1.4 * SR)]
    assert peak_hz(sustained) == pytest.approx(440.0, abs=3.0)
    assert 0.02 < np.abs(sustained).max() <= 1.0  # audible after the gain, not clipped
    assert np.abs(audio[int(2.3 * SR) :]).max() < 0.01  # released: nothing hangs


REAL_TUNE = """X:1
T:The Kesh
R:jig
M:6/8
L:1/8
Q:3/8=100
K:G
GAG GAB|ABA ABd|edd gdd|edB dBA|GAG GAB|ABA ABd|edd gdB|AGF G3|]
"""


@pytest.mark.parametrize(
    "engine_factory", [fluid_engine, lambda: ToneSynth(SR)], ids=["fluidsynth", "tone"]
)
def test_a_real_tunes_notes_are_heard_in_order(engine_factory):
    engine = engine_factory()
    tune = tune_from_abc(REAL_TUNE, "The Kesh")
    audio = render_tune(tune, engine, program=73)[:, 0]  # flute: a clear fundamental
    right = 0
    for note in tune.notes:
        window = audio[int((note.start + 0.04) * SR) : int((note.end - 0.01) * SR)]
        right += int(np.argmax(chroma(window))) == note.pitch % 12
    assert len(tune.notes) == 46
    assert right / len(tune.notes) >= 0.85


def test_make_engine_falls_back_to_the_tone_synth_and_says_why(tmp_path):
    missing = make_engine(tmp_path / "none.sf2")
    assert isinstance(missing, ToneSynth)
    assert "no soundfont file" in missing.description
    broken = tmp_path / "broken.sf2"
    broken.write_bytes(b"RIFF....not a soundfont")
    engine = make_engine(broken)
    assert isinstance(engine, ToneSynth)
    assert isinstance(make_engine(search=False), ToneSynth)
    assert make_engine(search=False).description == "Built-in tone (no soundfont found)"


def test_soundfonts_are_found_in_a_folder_best_first(tmp_path, monkeypatch):
    for name in ("zzz.sf2", "TimGM6mb.sf2", "FluidR3_GM.sf2", "notes.txt", "other.SF3"):
        (tmp_path / name).write_bytes(b"x")
    found = [p.name for p in find_soundfonts([tmp_path, tmp_path / "missing"])]
    assert found == ["FluidR3_GM.sf2", "TimGM6mb.sf2", "other.SF3", "zzz.sf2"]
    monkeypatch.setenv("WORKBENCH_SOUNDFONT", str(tmp_path / "zzz.sf2"))
    assert default_soundfont([tmp_path]) == tmp_path / "zzz.sf2"
