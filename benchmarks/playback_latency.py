"""Playback numbers: Play -> first sound, note-on timing error under CPU load, WAV render speed.

    .venv/bin/python benchmarks/playback_latency.py [--seconds 10] [--no-load]

* first sound: Play pressed -> the first audio buffer holding the note, with the synth pulled
  in 256-frame blocks at real-time pace (as the sound device pulls it), plus the QAudioSink
  buffer (workbench.ui.audio_output.BUFFER_MS) that sits between that buffer and the speaker;
* note-on timing: the player's real clock and thread, note-ons recorded with perf_counter, while
  a training-like torch loop runs in another (niced) process; error = sent - scheduled;
* render: a ~60 s tune (ABC -> music21 -> MIDI -> synth -> WAV), FluidSynth and the fallback.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from workbench.playback.clock import MonotonicClock
from workbench.playback.events import NoteEvent, tune_from_abc, tune_from_notes
from workbench.playback.outputs import RecordingOutput
from workbench.playback.player import Player
from workbench.playback.synth import SynthOutput, ToneSynth, make_engine
from workbench.playback.wav import render_tune, write_wav

BUFFER_MS = 40  # workbench.ui.audio_output.BUFFER_MS (not imported: that module needs Qt)

BARS = "GAG GAB|ABA ABd|edd gdd|edB dBA|GAG GAB|ABA ABd|edd gdB|AGF G3|\n"
LONG_TUNE = "X:1\nT:The Kesh x6\nM:6/8\nL:1/8\nQ:3/8=100\nK:G\n" + BARS * 6


def busy_training_loop(stop) -> None:
    os.nice(10)  # the app runs training in a niced child process, like this
    import torch

    torch.set_num_threads(2)
    model = torch.nn.LSTM(128, 256, batch_first=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(32, 64, 128)
    while not stop.is_set():
        out, _ = model(x)
        out.sum().backward()
        opt.step()
        opt.zero_grad()


def first_sound_ms(engine_factory, trials: int = 20) -> list[float]:
    results = []
    for _ in range(trials):
        synth = SynthOutput(engine_factory())
        player = Player(synth)
        player.load(tune_from_notes([NoteEvent(0.0, 0.5, 69, 100)]))
        block = 256
        heard = threading.Event()
        stamp = []

        def pull(synth=synth, heard=heard, stamp=stamp, block=block):
            next_t = time.perf_counter()
            while not heard.is_set():
                if np.abs(synth.render(block)).max() > 1e-3:
                    stamp.append(time.perf_counter())
                    heard.set()
                next_t += block / synth.sample_rate
                time.sleep(max(0.0, next_t - time.perf_counter()))

        puller = threading.Thread(target=pull, daemon=True)
        puller.start()
        time.sleep(0.05)
        t0 = time.perf_counter()
        player.play()
        heard.wait(2)
        puller.join()
        results.append((stamp[0] - t0) * 1000 + BUFFER_MS)
        player.close()
        synth.engine.close()
    return results


def note_timing_ms(seconds: float) -> np.ndarray:
    notes = [NoteEvent(i * 0.125, i * 0.125 + 0.1, 60 + i % 12) for i in range(int(seconds * 8))]
    clock = MonotonicClock()
    out = RecordingOutput(time.perf_counter)
    player = Player(out, clock)
    player.load(tune_from_notes(notes))
    player.play()
    anchor = player._anchor_wall  # the clock time of tune time 0
    player.wait()
    player.close()
    sent = [t for t, m in out.sent if m.type == "note_on"]
    return (np.array(sent) - (anchor + np.array([n.start for n in notes]))) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-load", action="store_true", help="no CPU load process")
    args = parser.parse_args()

    fs = first_sound_ms(make_engine)
    tone = first_sound_ms(ToneSynth)
    print(f"first sound (incl. {BUFFER_MS} ms sink buffer): {make_engine().description}: "
          f"median {np.median(fs):.1f} ms, max {max(fs):.1f} ms; "
          f"built-in tone: median {np.median(tone):.1f} ms, max {max(tone):.1f} ms")  # fmt: skip

    stop = mp.get_context("spawn").Event()
    load = None
    if not args.no_load:
        load = mp.get_context("spawn").Process(target=busy_training_loop, args=(stop,))
        load.start()
        time.sleep(3)  # let torch start and warm up
    try:
        err = note_timing_ms(args.seconds)
    finally:
        stop.set()
        if load is not None:
            load.join(10)
    print(f"note-on timing error over {len(err)} notes "
          f"({'no load' if args.no_load else 'with a torch training loop running'}): "
          f"p50 {np.percentile(err, 50):.2f} ms, p99 {np.percentile(err, 99):.2f} ms, "
          f"max {err.max():.2f} ms")  # fmt: skip

    t0 = time.perf_counter()
    tune = tune_from_abc(LONG_TUNE)
    convert = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        for engine in (make_engine(), ToneSynth()):
            t0 = time.perf_counter()
            write_wav(render_tune(tune, engine), Path(tmp) / "x.wav", engine.sample_rate)
            took = time.perf_counter() - t0
            print(f"render {tune.duration:.1f} s tune to WAV with {engine.description}: "
                  f"{took:.2f} s (+ {convert:.2f} s ABC -> MIDI with music21)")  # fmt: skip
            engine.close()


if __name__ == "__main__":
    main()
