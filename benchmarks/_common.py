"""Shared set-up for the benchmark scripts: loading a collection and splitting it."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.train import split_texts
from workbench.corpus import load


def load_split(spec: str, val_fraction: float = 0.1, seed: int = 1234):
    result = load([spec])
    texts = [t.text for t in result.tunes]
    train, val = split_texts(texts, val_fraction, seed)
    print(
        f"data: {spec}: {len(texts)} tunes, {sum(map(len, texts)):,} chars; "
        f"{len(train)} train / {len(val)} held-out tunes",
        flush=True,
    )
    return train, val


def summary_ms(name: str, values_ms: list[float]) -> str:
    """`name: median, p90, min, max (n)` of timings in milliseconds."""
    v = sorted(values_ms)
    p90 = v[min(len(v) - 1, round(0.9 * (len(v) - 1)))]
    return (
        f"{name}: median {statistics.median(v):.0f} ms, p90 {p90:.0f} ms, "
        f"min {v[0]:.0f} ms, max {v[-1]:.0f} ms (n={len(v)})"
    )
