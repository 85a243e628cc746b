"""The shipped default model: `workbench generate` uses it when no checkpoint is named."""

from __future__ import annotations

import pytest

from models.checkpoint import load_checkpoint
from models.pretrained import default_checkpoint
from workbench.cli import main
from workbench.notation.meter import bar_lengths

pytestmark = pytest.mark.skipif(default_checkpoint() is None, reason="no shipped model")


def test_the_shipped_model_is_small_and_self_describing():
    path = default_checkpoint()
    assert path.stat().st_size < 25 * 1024 * 1024
    ckpt = load_checkpoint(path)
    assert ckpt.config.model.arch == "lstm"
    # It knows ABC's notation characters.
    assert set("ABCDEFGabcdefgz|:[]()\"^_=/,'XTMLK0123456789\n") <= set(ckpt.tokenizer.vocab)


def test_generate_without_a_checkpoint_writes_tunes_whose_bars_fit(tmp_path, capsys):
    out = tmp_path / "gen"
    args = ["generate", "--out", str(out), "--num", "3", "--max-chars", "600", "--seed", "5"]
    assert main([*args, "--prompt", "M:6/8\nL:1/8\nK:G\n"]) == 0
    files = sorted(out.glob("tune_*.abc"))
    assert [str(f) for f in files] == capsys.readouterr().out.split()
    assert len(files) == 3
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert text.startswith("X:1\nM:6/8\nL:1/8\nK:G\n")
        bars = bar_lengths(text)
        assert len(bars) >= 2 and all(b.fits for b in bars[:-1]), text


def test_generated_headers_claim_no_provenance_unless_asked(tmp_path, capsys):
    from workbench.notation.provenance import drop_provenance

    args = ["generate", "--num", "6", "--max-chars", "400", "--seed", "3"]
    assert main([*args, "--out", str(tmp_path / "raw"), "--keep-provenance"]) == 0
    assert main([*args, "--out", str(tmp_path / "clean")]) == 0
    capsys.readouterr()
    raw = [f.read_text(encoding="utf-8") for f in sorted((tmp_path / "raw").glob("*.abc"))]
    clean = [f.read_text(encoding="utf-8") for f in sorted((tmp_path / "clean").glob("*.abc"))]

    def header(text: str) -> list[str]:
        return text.partition("\nK:")[0].split("\n")

    # The model writes them (three quarters of its training tunes have an origin line)...
    assert any(line[:2] in ("O:", "N:", "Z:", "S:", "B:") for t in raw for line in header(t))
    # ...and by default they are gone, the rest of each tune as sampled.
    assert clean == [drop_provenance(t) for t in raw]
    assert not any(line[:2] in ("O:", "N:", "Z:", "S:", "B:") for t in clean for line in header(t))
