"""`workbench generate --meter-aware/--no-meter-aware` (on by default)."""

from __future__ import annotations

import models.sample
from workbench.cli import build_parser, main
from workbench.notation.meter import bar_lengths
from workbench.notation.meter_aware import MeterAwareConstraint

PROMPT = "M:6/8\nL:1/8\nK:G"


def _generate(out, trained_run, *extra: str) -> list[str]:
    args = ["generate", str(trained_run / "best.pt"), "--num", "6", "--seed", "3"]
    args += ["--max-chars", "300", "--prompt", PROMPT, "--out", str(out), *extra]
    assert main(args) == 0
    return [f.read_text() for f in sorted(out.glob("*.abc"))]


def test_flag_defaults_to_on():
    parse = build_parser().parse_args
    assert parse(["generate", "--out", "x"]).meter_aware is True
    assert parse(["generate", "--out", "x", "--no-meter-aware"]).meter_aware is False
    assert parse(["generate", "--out", "x", "--meter-aware"]).meter_aware is True


def test_generate_passes_the_constraint_only_when_on(tmp_path, trained_run, monkeypatch):
    seen = []
    real = models.sample.sample

    def spy(*args, **kwargs):
        seen.append(kwargs.get("constraint"))
        return real(*args, **kwargs)

    monkeypatch.setattr(models.sample, "sample", spy)
    _generate(tmp_path / "on", trained_run)
    _generate(tmp_path / "off", trained_run, "--no-meter-aware")
    assert isinstance(seen[0], MeterAwareConstraint)
    assert seen[1] is None


def test_meter_aware_tunes_have_bars_that_fit(tmp_path, trained_run):
    tunes = _generate(tmp_path / "on", trained_run)
    assert len(tunes) == 6
    for text in tunes:
        bars = bar_lengths(text)
        # A tune cut off by --max-chars may stop mid-bar: its last bar is exempt (the file
        # loses trailing newlines, hence the slack).
        capped = len(text) + 20 >= len("X:1\n" + PROMPT + "\n") + 300
        checked = bars[:-1] if capped else bars
        assert all(bar.fits for bar in checked), text
