"""Neuron viewer speed: activation capture, and the viewer's hover/click redraw.

    .venv/bin/python benchmarks/neuron_viewer.py [--chars 2000] [--repeats 5] [--threads N]
                                                  [--checkpoint CKPT] [--no-ui]

1. Capture (target <= 0.3 s): 2,000 characters of a real tune (ryansMammoth tunes joined and
   cut) through a 2x512 LSTM (random weights unless --checkpoint) on the CPU; median and min of
   the repeats, with torch's thread count, and the split between the fused recurrence and the
   rest. The recurrence is 2,000 sequential (1, 512) x (512, 2048) products per layer: memory-
   bound, so the number depends heavily on the CPU and on what else runs.
2. Viewer (target <= 16 ms): the neurons pane showing 1,024 units (both layers' hidden states)
   x 2,000 characters, offscreen. Hover = the mouse-move handler plus the event loop's repaint
   of what it dirtied (the readout); click = selecting a cell (neuron + character: text
   colouring, curve, top-10 lists, crosshair) plus the event loop's repaint; and a worst case
   that forces the whole heatmap viewport, visible text and curve to repaint synchronously.
   Median and p95 over 50 cells (20 for the worst case).
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
from models.networks import CharRNN  # noqa: E402
from models.tokenizer import CharTokenizer  # noqa: E402
from workbench.corpus import load  # noqa: E402


def _text(chars: int) -> str:
    tunes = [t.text for t in load(["corpus:ryansMammoth"]).tunes]
    return "\n\n".join(tunes)[:chars]


def _model(checkpoint: str | None, text: str) -> tuple[CharRNN, CharTokenizer, str]:
    if checkpoint:
        from models.checkpoint import load_checkpoint

        ckpt = load_checkpoint(checkpoint)
        return ckpt.build_model("cpu"), ckpt.tokenizer, ckpt.describe()
    tokenizer = CharTokenizer.fit([text])
    torch.manual_seed(0)
    cfg = ModelConfig(arch="lstm", hidden=512, layers=2, embedding=64, dropout=0.0)
    return CharRNN(cfg, len(tokenizer)).eval(), tokenizer, "LSTM 2x512 (random weights)"


def bench_capture(model: CharRNN, tokenizer: CharTokenizer, text: str, repeats: int):
    capture(model, tokenizer, text[:200])  # warm-up: kernels, allocator
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        acts = capture(model, tokenizer, text, threads=None)  # the thread count set in main()
        times.append(time.perf_counter() - t0)
    # The fused recurrence alone (what any capture must pay), for the split.
    with torch.no_grad():
        ids = torch.as_tensor(tokenizer.encode(text, start=True)).unsqueeze(0)
        t0 = time.perf_counter()
        model(ids)
        forward = time.perf_counter() - t0
    return acts, times, forward


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def bench_viewer(acts) -> tuple[list[float], list[float], list[float], tuple[int, int]]:
    from PySide6.QtWidgets import QApplication

    from workbench.session import Session
    from workbench.ui.panes.neurons_pane import NeuronsPane

    app = QApplication.instance() or QApplication([])
    pane = NeuronsPane(Session())
    pane.resize(1400, 1000)
    pane.show()
    pane.set_activations(acts)
    pane.layer_combo.setCurrentIndex(pane.layer_combo.count() - 1)  # all layers hidden
    app.processEvents()
    shape = pane.heatmap.image.image.shape
    rng = np.random.default_rng(0)
    cells = [(int(rng.integers(shape[0])), int(rng.integers(shape[1]))) for _ in range(50)]
    hover, click, full = [], [], []
    for col, row in cells:
        scene = pane.heatmap.scene_pos_of(col, row)
        t0 = time.perf_counter()
        pane.heatmap._on_scene_mouse_moved(scene)
        app.processEvents()
        hover.append(time.perf_counter() - t0)
    for col, row in cells:
        t0 = time.perf_counter()
        pane._on_heatmap_clicked(col, row)
        # Qt paints what the click dirtied (crosshair strips, the visible text, the curve, the
        # lists) when the event loop runs: that is the redraw the user waits for.
        app.processEvents()
        click.append(time.perf_counter() - t0)
    for col, row in cells[:20]:
        t0 = time.perf_counter()
        pane._on_heatmap_clicked(col, row)
        pane.heatmap.viewport().repaint()  # worst case: the whole heatmap, not only the strips
        pane.text_view.repaint(pane.text_view.visibleRegion())
        pane.curve_plot.viewport().repaint()
        full.append(time.perf_counter() - t0)
    pane.shutdown()
    pane.close()
    return hover, click, full, shape


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chars", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (capture's default: 1)"
    )
    p.add_argument("--checkpoint", help="use this checkpoint instead of a random 2x512 LSTM")
    p.add_argument("--no-ui", action="store_true", help="capture only")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    text = _text(args.chars)
    model, tokenizer, what = _model(args.checkpoint, text)
    print(
        f"cpu: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}), "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    acts, times, forward = bench_capture(model, tokenizer, text, args.repeats)
    med = statistics.median(times)
    print(
        f"capture {len(text):,} chars, {what}: median {med:.3f} s, min {min(times):.3f} s "
        f"(target <= 0.3 s: {'met' if med <= 0.3 else 'NOT met'}); the model's own fused "
        f"forward pass over the same text takes {forward:.3f} s"
    )
    if args.no_ui:
        return
    hover, click, full, shape = bench_viewer(acts)
    for name, values in (
        ("hover", hover),
        ("click", click),
        ("click, whole heatmap repainted", full),
    ):
        ms = [v * 1000 for v in values]
        p95 = _percentile(ms, 95)
        print(
            f"{name} redraw, {shape[1]:,} units x {shape[0]:,} chars: min {min(ms):.1f} ms, "
            f"median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms "
            f"(target <= 16 ms: {'met' if p95 <= 16 else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
