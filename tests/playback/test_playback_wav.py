"""Audio export: WAV files from ABC, MIDI bytes and batches, checked by reading them back."""

from __future__ import annotations

import io
import wave

import mido
import numpy as np
import pytest

from workbench.playback.events import PlaybackError
from workbench.playback.wav import render_abc_to_wav, render_batch, render_wav

ABC = """X:1
T:Two bars
M:4/4
L:1/4
Q:1/4=120
K:A
A4|a4|]
"""


def read_wav(path):
    with wave.open(str(path)) as f:
        assert (f.getnchannels(), f.getsampwidth(), f.getframerate()) == (2, 2, 44100)
        frames = f.readframes(f.getnframes())
    return np.frombuffer(frames, "<i2").reshape(-1, 2)[:, 0].astype(float) / 32768


def peak_hz(x):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=1 << 19))
    return float(np.fft.rfftfreq(1 << 19, 1 / 44100)[spec.argmax()])


def test_abc_to_wav_has_the_tunes_length_and_pitches(tmp_path):
    path = render_abc_to_wav(ABC, tmp_path / "a.wav")
    audio = read_wav(path)
    assert len(audio) / 44100 == pytest.approx(4.0 + 1.0, abs=0.01)  # two 2 s notes + tail
    assert peak_hz(audio[int(0.2 * 44100) : int(1.8 * 44100)]) == pytest.approx(440, abs=3)
    assert peak_hz(audio[int(2.2 * 44100) : int(3.8 * 44100)]) == pytest.approx(880, abs=5)


def test_midi_bytes_render_with_the_fallback_when_the_soundfont_is_missing(tmp_path):
    mid = mido.MidiFile()
    mid.tracks.append(
        mido.MidiTrack(
            [
                mido.Message("note_on", note=57, velocity=100),
                mido.Message("note_off", note=57, time=480),
            ]
        )
    )
    buf = io.BytesIO()
    mid.save(file=buf)
    path = render_wav(buf.getvalue(), tmp_path / "m.wav", soundfont=tmp_path / "missing.sf2")
    audio = read_wav(path)
    assert len(audio) == pytest.approx(1.5 * 44100, abs=2)
    assert peak_hz(audio[2000:20000]) == pytest.approx(220, abs=2)


def test_a_batch_writes_one_file_per_tune_and_bad_input_is_a_clear_error(tmp_path):
    paths = render_batch([("one", ABC), ("two", ABC.replace("A4|a4", "E4|e4"))], tmp_path / "out")
    assert [p.name for p in paths] == ["one.wav", "two.wav"]
    assert all(len(read_wav(p)) > 44100 for p in paths)
    with pytest.raises(PlaybackError, match="MIDI"):
        render_wav(b"garbage", tmp_path / "bad.wav")
    with pytest.raises(PlaybackError, match="no notes"):
        render_abc_to_wav("X:1\nT:Empty\nK:C\n", tmp_path / "empty.wav")
    assert not (tmp_path / "bad.wav").exists()
