"""Exports re-read: the .npz arrays, the .csv rows and columns, the coloured HTML."""

from __future__ import annotations

import csv
import html.parser

import numpy as np
import pytest
import torch

from models.activations import Activations, capture
from models.config import ModelConfig
from models.networks import CharRNN
from models.tokenizer import CharTokenizer
from workbench.corpus import load
from workbench.neurons.export import (
    coloured_text_html,
    diverging_rgb,
    export_csv,
    export_html,
    export_npz,
)


@pytest.fixture(scope="module")
def acts() -> Activations:
    text = load(["corpus:miscFolk"]).tunes[0].text
    tokenizer = CharTokenizer.fit([text])
    torch.manual_seed(0)
    model = CharRNN(
        ModelConfig(arch="lstm", hidden=8, layers=2, embedding=4, dropout=0), len(tokenizer)
    )
    return capture(model.eval(), tokenizer, text)


def test_npz_export_reloads_keys_and_shapes(tmp_path, acts):
    path = tmp_path / "a.npz"
    export_npz(path, acts)
    with np.load(path, allow_pickle=False) as raw:
        for key in ("layer0.hidden", "layer0.cell", "layer1.hidden", "layer1.cell", "probs"):
            assert raw[key].shape == acts[key].shape
        assert str(raw["__text__"]) == acts.text


def test_csv_has_one_row_per_character_and_a_column_per_unit(tmp_path, acts):
    path = tmp_path / "a.csv"
    assert export_csv(path, acts) == len(acts.text)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["position", "char", "layer0.hidden[0]", "layer0.hidden[1]"]
    assert len(header) == 2 + 4 * 8
    assert len(body) == len(acts.text)
    # Characters survive the round trip, newlines and commas included.
    assert "".join(row[1] for row in body) == acts.text
    col = header.index("layer1.cell[5]")
    np.testing.assert_allclose(
        [float(r[col]) for r in body], acts["layer1.cell"][:, 5], rtol=1e-5, atol=1e-6
    )
    only = tmp_path / "h.csv"
    export_csv(only, acts, keys=["layer1.hidden"])
    with open(only, newline="", encoding="utf-8") as fh:
        assert len(next(csv.reader(fh))) == 2 + 8


class _Spans(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.spans: list[tuple[str, str]] = []
        self._style: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "span":
            self._style = dict(attrs)["style"]

    def handle_data(self, data):
        if self._style is not None:
            self.spans.append((self._style, data))
            self._style = None


def test_coloured_html_has_a_span_per_character_coloured_by_sign(tmp_path, acts):
    values = acts["layer0.hidden"][:, 2]
    path = tmp_path / "n.html"
    export_html(path, acts.text, values, title="layer0.hidden unit 2")
    parser = _Spans()
    parser.feed(path.read_text(encoding="utf-8"))
    assert len(parser.spans) == len(acts.text)
    text = "".join(d.replace("\u21b5", "") for _, d in parser.spans)
    assert text == acts.text
    extreme = int(np.argmax(np.abs(values)))  # the scale's end: full red or full blue
    end = "#b2182b" if values[extreme] > 0 else "#2166ac"
    assert parser.spans[extreme][0].startswith(f"background:{end}")
    for i in (int(np.argmax(values)), int(np.argmin(values))):
        r, _, b = (int(parser.spans[i][0][12 + 2 * k : 14 + 2 * k], 16) for k in range(3))
        assert (r > b) == (values[i] > 0)
    with pytest.raises(ValueError):
        coloured_text_html("abc", np.zeros(2))


def test_diverging_scale_is_white_at_zero_and_symmetric():
    rgb = diverging_rgb(np.array([-2.0, 0.0, 2.0, 1.0]))
    assert rgb[1].tolist() == [247, 247, 247]
    assert rgb[0].tolist() == [33, 102, 172] and rgb[2].tolist() == [178, 24, 43]
    assert rgb[3, 0] > rgb[3, 2]  # half-way to red
