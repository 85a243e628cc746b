"""The real audio path once: Qt's QAudioSink pulls the synth into a PulseAudio null sink.

PulseAudio runs in a fixture with its own XDG_RUNTIME_DIR; the Qt side runs in a child process
so its multimedia backend connects to that server (Qt picks its sound server once per process).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

PROBE = textwrap.dedent(
    """
    import json, time
    import mido, numpy as np
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from PySide6.QtMultimedia import QMediaDevices
    app = QApplication([])
    from workbench.playback.synth import SynthOutput, ToneSynth
    from workbench.ui.audio_output import AudioOutput
    synth = SynthOutput(ToneSynth())
    chunks = []
    out = AudioOutput(synth, on_read=chunks.append)
    started = out.start()
    synth.send(mido.Message("note_on", note=69, velocity=100))
    def check():
        audio = np.frombuffer(b"".join(chunks), "<i2")
        heard = len(audio) - np.flatnonzero(audio)[0] if audio.any() else 0
        if heard > 2 * 16384 or time.monotonic() > deadline:
            app.quit()
    deadline = time.monotonic() + 8
    timer = QTimer(); timer.timeout.connect(check); timer.start(20)
    app.exec()
    audio = np.frombuffer(b"".join(chunks), "<i2").reshape(-1, 2)[:, 0].astype(float)
    sound = audio[np.flatnonzero(audio)[0]:] if audio.any() else audio
    peak = 0.0
    if len(sound) > 4096:
        spec = np.abs(np.fft.rfft(sound * np.hanning(len(sound)), n=1 << 18))
        peak = float(np.fft.rfftfreq(1 << 18, 1 / 44100)[spec.argmax()])
    print(json.dumps({"devices": [d.description() for d in QMediaDevices.audioOutputs()],
        "started": started, "status": out.status, "bytes": len(audio) * 4, "peak": peak}))
    """
)


@pytest.fixture
def pulse_server():
    exe = shutil.which("pulseaudio")
    if exe is None:
        pytest.skip("pulseaudio is not installed (apt pulseaudio)")
    runtime = Path(tempfile.mkdtemp(prefix="wbpa"))  # short: socket paths have a length limit
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    proc = subprocess.Popen(
        [exe, "-n", "--daemonize=no", "--exit-idle-time=-1", "--disable-shm=yes",
         "-L", "module-null-sink sink_name=nullsink",
         "-L", "module-native-protocol-unix auth-anonymous=1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not (runtime / "pulse" / "native").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.skip("pulseaudio did not start here")
        time.sleep(0.05)
    yield env
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(runtime, ignore_errors=True)


def test_the_synth_plays_an_a4_through_qaudiosink_into_a_null_sink(pulse_server):
    env = {**pulse_server, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["devices"] == ["Null Output"]
    assert report["started"] is True
    assert report["status"] == "Sound: Null Output"
    assert report["bytes"] > 0
    assert report["peak"] == pytest.approx(440.0, abs=3.0)
