"""`workbench render` (MIDI, MusicXML, SVG of one tune of a file) and `generate --midi`, on real
tunes, with the outputs read back by mido, music21 and the SVG text; one-line errors."""

from __future__ import annotations

import io
import re
from pathlib import Path

import mido
import pytest
from music21 import converter

from workbench.cli import main
from workbench.corpus import export_abc, load


def _note_ons(path: Path) -> list[int]:
    song = mido.MidiFile(file=io.BytesIO(path.read_bytes()))
    return [m.note for t in song.tracks for m in t if m.type == "note_on" and m.velocity]


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """Three real tunes: X:1 Olde Saybrooke, X:5 Baker's Buck, X:6 British Grenadiers."""
    path = tmp_path_factory.mktemp("abc") / "book.abc"
    export_abc(load(["corpus:miscFolk"]).tunes[:3], path)
    return path


def test_render_all_outputs_of_a_tune_chosen_by_x_number(tmp_path, book, capsys):
    mid, xml, svg = tmp_path / "t.mid", tmp_path / "t.musicxml", tmp_path / "t.svg"
    args = ["render", str(book), "--tune", "5", "--midi", str(mid), "--musicxml", str(xml)]
    assert main([*args, "--svg", str(svg)]) == 0
    assert capsys.readouterr().out.split() == [str(mid), str(xml), str(svg)]
    # Baker's Buck (X:5) starts "G>B dd|c/B/A d2|" in G.
    assert _note_ons(mid)[:8] == [67, 71, 74, 74, 72, 71, 69, 74]
    score = converter.parse(xml)
    assert score.metadata.bestTitle == "Baker's Buck"
    assert len(list(score.recurse().notes)) == 75
    page = svg.read_text(encoding="utf-8")
    assert page.count('class="note"') == 75 and ">Baker's Buck</text>" in page


def test_render_picks_by_position_and_defaults_to_the_first(tmp_path, book):
    assert main(["render", str(book), "--tune", "3", "--midi", str(tmp_path / "3.mid")]) == 0
    assert _note_ons(tmp_path / "3.mid")[0] == 69  # British Grenadiers (X:6) starts on A
    assert main(["render", str(book), "--musicxml", str(tmp_path / "1.musicxml")]) == 0
    assert converter.parse(tmp_path / "1.musicxml").metadata.bestTitle == "Olde Saybrooke"


def test_render_writes_one_svg_per_page(tmp_path, book, capsys):
    tune = load([str(book)]).tunes[1].text
    body = tune.split("K:G\n", 1)[1]
    long_file = tmp_path / "long.abc"
    long_file.write_text(tune + ("\n" + body) * 15 + "\n", encoding="utf-8")
    assert main(["render", str(long_file), "--svg", str(tmp_path / "long.svg")]) == 0
    written = capsys.readouterr().out.split()
    count = len(written)
    assert count >= 2
    names = ["long.svg"] + [f"long-{n}.svg" for n in range(2, count + 1)]
    assert written == [str(tmp_path / name) for name in names]
    assert sorted(p.name for p in tmp_path.glob("long*.svg")) == sorted(names)
    assert all('class="note"' in (tmp_path / name).read_text() for name in names)


def test_render_needs_an_output(book, capsys):
    assert main(["render", str(book)]) == 2
    assert "give at least one output (--midi, --musicxml, --svg, --wav)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("tune", "message"),
    [
        (
            "X:1\nT:Stray\nM:4/4\nL:1/8\nK:G\nABcd ] efga|\n",
            r"no svg written: the engraver crashed",
        ),
        ("X:1\nT:Header only\nK:G\nw: words\n", r"no tune to render"),
    ],
)
def test_render_errors_name_the_file(tmp_path, capsys, tune, message):
    path = tmp_path / "bad.abc"
    path.write_text(tune, encoding="utf-8")
    assert main(["render", str(path), "--svg", str(tmp_path / "bad.svg")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(message, err), err
    assert str(path) in err
    assert not (tmp_path / "bad.svg").exists()


def test_render_one_failing_output_does_not_stop_the_others(tmp_path, capsys):
    path = tmp_path / "bare.abc"
    path.write_text("X:1\nT:No notes\nM:4/4\nL:1/8\nK:G\nz4 z4|\n", encoding="utf-8")
    mid, svg = tmp_path / "x.mid", tmp_path / "x.svg"
    assert main(["render", str(path), "--midi", str(mid), "--svg", str(svg)]) == 1
    assert f"{path}: no midi written: the tune has no notes" in capsys.readouterr().err
    assert not mid.exists() and svg.exists()


def test_render_missing_file_and_bad_tune_number(tmp_path, book, capsys):
    assert main(["render", str(tmp_path / "nope.abc"), "--midi", str(tmp_path / "x.mid")]) == 1
    assert "nope.abc" in capsys.readouterr().err
    assert main(["render", str(book), "--tune", "9", "--midi", str(tmp_path / "x.mid")]) == 1
    err = capsys.readouterr().err
    assert f"{book}: no tune X:9, and only 3 tune(s) to count" in err


def test_generate_midi_writes_beside_each_tune_or_warns(tmp_path, trained_run, capsys):
    args = ["generate", str(trained_run / "best.pt"), "--num", "4", "--seed", "3", "--midi"]
    prompt = "T:Prompt\nM:4/4\nL:1/8\nK:G\nGABc dedB|"
    assert main([*args, "--max-chars", "60", "--prompt", prompt, "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    tunes = sorted(tmp_path.glob("tune_*.abc"))
    assert len(tunes) == 4
    converted = 0
    for tune in tunes:
        mid = tune.with_suffix(".mid")
        if mid.exists():
            converted += 1
            assert _note_ons(mid)[:4] == [67, 69, 71, 72]  # the prompt's G A B c
            assert str(mid) in captured.out
        else:
            assert f"{tune}: no MIDI written" in captured.err
    assert converted >= 1

    # A tune with no notes at all: a warning naming it, not a crash. The one sampled
    # character goes into (or closes) the chord name, so no note can appear.
    prompt = 'T:Empty\nK:G\n"Am'
    empty = ["--max-chars", "1", "--prompt", prompt, "--out", str(tmp_path / "e")]
    assert main([*args[:3], "1", "--seed", "1", "--midi", *empty]) == 0
    err = capsys.readouterr().err
    assert not list((tmp_path / "e").glob("*.mid"))
    assert f"{tmp_path / 'e' / 'tune_001.abc'}: no MIDI written" in err


def test_render_wav_sounds_the_tune(tmp_path, capsys):
    import wave

    import numpy as np

    tune = tmp_path / "a.abc"
    tune.write_text("X:1\nT:A4\nM:4/4\nL:1/4\nQ:1/4=120\nK:C\nA4|\n", encoding="utf-8")
    out = tmp_path / "a.wav"
    assert main(["render", str(tune), "--wav", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out)]
    with wave.open(str(out)) as w:
        rate, frames, channels = w.getframerate(), w.getnframes(), w.getnchannels()
        data = np.frombuffer(w.readframes(frames), dtype=np.int16).reshape(-1, channels)
    assert 1.8 < frames / rate < 4.0  # one whole note at 120 crotchets a minute, plus release
    mono = data.mean(axis=1)[: rate * 2]
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    peak = np.fft.rfftfreq(len(mono), 1 / rate)[spectrum.argmax()]
    assert abs(peak - 440) < 5, peak


def test_render_wav_with_a_missing_soundfont_is_a_usage_error(tmp_path, book, capsys):
    out = tmp_path / "a.wav"
    code = main(["render", str(book), "--wav", str(out), "--soundfont", str(tmp_path / "no.sf2")])
    assert code == 2
    assert "no.sf2" in capsys.readouterr().err and not out.exists()
