"""Writing activations and coloured text to files (Qt-free): .npz, .csv and HTML.

Images of the heatmap and of the coloured text are the views' job (pyqtgraph exporters and
widget grabs); this module holds the formats a headless script needs too, and the diverging
colour scale the text view and the HTML share so the two always agree.
"""

from __future__ import annotations

import csv
import html
from pathlib import Path

import numpy as np

from models.activation_store import Activations

# Diverging scale: blue (negative) - white (0) - red (positive), as (R, G, B) 0..255.
NEGATIVE = np.array([33, 102, 172], dtype=np.float64)
ZERO = np.array([247, 247, 247], dtype=np.float64)
POSITIVE = np.array([178, 24, 43], dtype=np.float64)


def symmetric_limit(values: np.ndarray) -> float:
    """The colour scale's half-range: the largest |value| (1.0 for an all-zero array)."""
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 0.0
    return top if top > 0 else 1.0


def diverging_rgb(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """(N,) values -> (N, 3) uint8 colours, 0 white, -limit blue, +limit red."""
    limit = symmetric_limit(values) if limit is None else limit
    t = np.clip(np.nan_to_num(values / limit), -1.0, 1.0)[:, None]
    rgb = np.where(t >= 0, ZERO + (POSITIVE - ZERO) * t, ZERO + (NEGATIVE - ZERO) * -t)
    return np.round(rgb).astype(np.uint8)


def text_colour_for(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) backgrounds -> (N,) bool: True where the character should be drawn white."""
    luminance = rgb @ np.array([0.299, 0.587, 0.114])
    return luminance < 140


def coloured_text_html(
    text: str, values: np.ndarray, title: str = "", limit: float | None = None
) -> str:
    """A standalone HTML page: `text` in a monospace block, each character's background
    coloured by `values` (one per character), its value in a tooltip. A NaN value leaves its
    character plain (the spaces and line breaks between events, which have no state)."""
    if len(values) != len(text):
        raise ValueError(f"{len(values)} values for {len(text)} characters")
    rgb = diverging_rgb(np.asarray(values, dtype=np.float64), limit)
    light = text_colour_for(rgb)
    parts = []
    for ch, (r, g, b), white, v in zip(text, rgb, light, values, strict=True):
        if np.isnan(v):
            parts.append(html.escape(ch))
            continue
        # The newline's own state gets a visible cell (a return sign) before the break.
        shown = "\u21b5\n" if ch == "\n" else html.escape(ch)
        fg = "#fff" if white else "#000"
        parts.append(
            f'<span style="background:#{r:02x}{g:02x}{b:02x};color:{fg}" '
            f'title="{float(v):.4f}">{shown}</span>'
        )
    heading = f"<h3>{html.escape(title)}</h3>\n" if title else ""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title or 'neuron')}</title></head><body>\n{heading}"
        '<pre style="font-family:monospace;line-height:1.4">' + "".join(parts) + "</pre>\n"
        "</body></html>\n"
    )


def export_html(path: str | Path, text: str, values: np.ndarray, title: str = "") -> None:
    Path(path).write_text(coloured_text_html(text, values, title), encoding="utf-8")


def export_npz(path: str | Path, acts: Activations) -> None:
    acts.save_npz(path)


def export_csv(path: str | Path, acts: Activations, keys: list[str] | None = None) -> int:
    """One row per token: position, the character (or event), then one column per unit of
    each array in `keys` (default: every state array, no probabilities) named `KEY[UNIT]`.
    Returns rows."""
    keys = acts.state_keys() if keys is None else keys
    blocks = [acts[k] for k in keys]
    header = ["position", "event" if acts.kind == "events" else "char"]
    for key, block in zip(keys, blocks, strict=True):
        header += [f"{key}[{u}]" for u in range(block.shape[1])]
    table = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(acts), 0))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i, (token, row) in enumerate(zip(acts.tokens, table, strict=True)):
            writer.writerow([i, token, *(f"{v:.6g}" for v in row)])
    return len(acts)
