"""Score rendering and conversion speed: verovio in its worker process, music21 conversions.

    .venv/bin/python benchmarks/score_render.py [--repeats 20] [--bars 40]

Prints, for a real corpus tune of about --bars bars: the first render (cold worker: process
start and verovio import included), warm renders as while typing (each one a slightly
different text, like a keystroke), the QtSvg repair's share, a render that crashes verovio
and the render after it (served by the standby worker); then music21 parse/MIDI/MusicXML times
per tune. The score-refresh target is <= 300 ms after typing stops for a 40-bar tune.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

# Not benchmarks/_common.py: it imports torch, and a spawned worker process re-imports the main
# script's top-level imports (multiprocessing's spawn does), which would add seconds to every
# worker start. The same holds for any program using ScoreRenderer: keep the main module light.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CRASHER = "X:1\nT:Stray\nM:4/4\nL:1/8\nK:G\nABcd ] efga|\n"


def bars(text: str) -> int:
    body = text.split("\nK:", 1)[-1].split("\n", 1)[-1]
    return len(re.findall(r"\|+|:\||\|:", body))


def pick_tune(target: int) -> str:
    from workbench.corpus import load

    tunes = load(["corpus:oneills1850"]).tunes[:300]
    return min(tunes, key=lambda t: (abs(bars(t.text) - target), len(t.text))).text


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def summary(label: str, times: list[float]) -> None:
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(f"{label:<44} median {ms(statistics.median(times))}  p95 {ms(p95)}  (n={len(times)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--bars", type=int, default=40)
    ap.add_argument(
        "--pause", type=float, default=0.3, help="seconds between a crash and the next render"
    )
    args = ap.parse_args()
    from workbench.corpus import load
    from workbench.notation.convert import (
        abc_to_score,
        score_to_midi_bytes,
        score_to_musicxml_bytes,
    )
    from workbench.notation.render import ScoreRenderer, qtsvg_compatible

    tune = pick_tune(args.bars)
    title = re.search(r"^T:\s*(.*)$", tune, re.M)
    print(f"tune: {title.group(1) if title else '?'}, {bars(tune)} bars, {len(tune)} characters")

    t0 = time.perf_counter()
    renderer = ScoreRenderer()
    result = renderer.render(tune)
    cold = time.perf_counter() - t0
    assert result.ok, result.error
    label = "first render (cold worker, incl. start-up)"
    print(f"{label:<44} {ms(cold)}  {len(result.pages)} page(s)")

    # Typing: each render gets a slightly different text (a note changed in the last bar).
    warm = []
    for i in range(args.repeats):
        edited = tune.rstrip() + ("" if i % 2 else " ")
        t0 = time.perf_counter()
        result = renderer.render(edited)
        warm.append(time.perf_counter() - t0)
        assert result.ok, result.error
    summary("warm render (render() call to SVG pages)", warm)

    raw_repair = []
    import verovio  # the repair alone, on this tune's raw SVG (safe tune: in-process)

    toolkit = verovio.toolkit()
    toolkit.loadData(tune)
    raw = toolkit.renderToSVG(1)
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        qtsvg_compatible(raw)
        raw_repair.append(time.perf_counter() - t0)
    summary("  of which QtSvg repair (in the worker)", raw_repair)

    crash, after = [], []
    for _ in range(max(3, args.repeats // 5)):
        time.sleep(1.0)  # a typing pace: the standby worker has booted
        t0 = time.perf_counter()
        bad = renderer.render(CRASHER)
        crash.append(time.perf_counter() - t0)
        assert "crashed" in (bad.error or "")
        time.sleep(args.pause)  # the next debounced keystroke
        t0 = time.perf_counter()
        assert renderer.render(tune).ok
        after.append(time.perf_counter() - t0)
    summary("crashing render (error result back)", crash)
    summary(f"next render, {args.pause:g} s after a crash", after)
    renderer.close()

    texts = [t.text for t in load(["corpus:oneills1850"]).tunes[:20]]
    parse, to_midi, to_xml = [], [], []
    for text in texts:
        t0 = time.perf_counter()
        score = abc_to_score(text)
        parse.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        score_to_midi_bytes(score)
        to_midi.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        score_to_musicxml_bytes(score)
        to_xml.append(time.perf_counter() - t0)
    summary("music21 ABC parse + repair, per tune", parse)
    summary("music21 score -> MIDI bytes", to_midi)
    summary("music21 score -> MusicXML bytes", to_xml)


if __name__ == "__main__":
    main()
