"""Neuron viewer on an event model: capture, reading the events as music, probes, and a click.

    .venv/bin/python benchmarks/neuron_viewer_events.py [--events 2000] [--encoding remi]
                                                         [--repeats 5] [--checkpoint CKPT]

The input is Bach chorales (music21's, converted to MIDI once and cached) encoded with the
encoding's settings and joined until `--events` events, run through a 2x512 LSTM (random weights
unless --checkpoint: then its own encoding is used). Printed, median of the repeats:
capture (torch, one thread); reading (timeline, labels, line breaks: `reading_for`); each music
probe's ranking over both layers' hidden states (1,024 units); and, offscreen, the pane showing
the capture (`set_activations`) and one heatmap click (neuron + event, with the repaint).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from models.activations import capture  # noqa: E402
from models.config import ModelConfig  # noqa: E402
from models.networks import build_network  # noqa: E402
from models.tokenizer import EventTokenizer  # noqa: E402
from workbench.midi_data import chorale_midi_files, codec_for, make_settings  # noqa: E402
from workbench.midi_data.encodings import text_of  # noqa: E402
from workbench.neurons.reading import reading_for  # noqa: E402


def _median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=2000)
    p.add_argument("--encoding", default="remi")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--checkpoint", help="use this event checkpoint and its encoding")
    args = p.parse_args()
    torch.set_num_threads(1)

    if args.checkpoint:
        from models.checkpoint import load_checkpoint

        ckpt = load_checkpoint(args.checkpoint)
        model, tokenizer = ckpt.build_model("cpu"), ckpt.tokenizer
        settings, what = tokenizer.settings, ckpt.describe()
    else:
        settings, model, tokenizer, what = make_settings(args.encoding), None, None, ""
    codec = codec_for(settings)
    events: list[str] = []
    files, _ = chorale_midi_files(limit=60)
    for path in files:
        events += codec.encode_file(path)
        if len(events) >= args.events:
            break
    text = text_of(events[: args.events])
    if model is None:
        tokenizer = EventTokenizer.fit([text], settings)
        torch.manual_seed(0)
        cfg = ModelConfig(arch="lstm", hidden=512, layers=2, embedding=64, dropout=0.0)
        model = build_network(cfg, len(tokenizer)).eval()
        what = "LSTM 2x512 (random weights)"
    n = len(text.split())
    print(f"{n} {settings['encoding']} events of Bach chorales through {what}")

    capture(model, tokenizer, text_of(events[:100]))  # warm-up
    acts = capture(model, tokenizer, text)
    seconds = _median_s(lambda: capture(model, tokenizer, text), args.repeats)
    print(f"capture:          {seconds:.3f} s")
    print(f"reading (labels): {_median_s(lambda: reading_for(acts), args.repeats) * 1e3:.1f} ms")
    reading = reading_for(acts)
    matrix = np.concatenate([acts["layer0.hidden"], acts["layer1.hidden"]], axis=1)
    from workbench.neurons.probes import ProbeError

    for name, probe in reading.probes.items():
        try:
            seconds = _median_s(lambda name=name: reading.rank(name, matrix), args.repeats)
        except ProbeError as exc:
            print(f"probe {probe.label:<36} cannot rank: {exc}")
        else:
            print(f"probe {probe.label:<36} {seconds * 1e3:6.1f} ms")

    from PySide6.QtWidgets import QApplication

    from workbench.session import Session
    from workbench.ui.panes.neurons_pane import NeuronsPane

    app = QApplication.instance() or QApplication([])
    pane = NeuronsPane(Session())
    pane.resize(1400, 900)
    pane.show()
    app.processEvents()
    shown = _median_s(lambda: (pane.set_activations(acts), app.processEvents()), args.repeats)
    print(f"pane shows it:    {shown * 1e3:.1f} ms")
    rng = np.random.default_rng(0)
    clicks = []
    for _ in range(20):
        col, row = int(rng.integers(n)), int(rng.integers(512))
        t0 = time.perf_counter()
        pane._on_heatmap_clicked(col, row)
        app.processEvents()
        clicks.append(time.perf_counter() - t0)
    print(f"click (median):   {statistics.median(clicks) * 1e3:.1f} ms")
    pane.shutdown()


if __name__ == "__main__":
    main()
