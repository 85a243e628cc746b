"""MIDI loading speed: a folder of ~90 piano files (~85,000 notes) read and encoded, cold.

    .venv/bin/python benchmarks/midi_load_speed.py [FOLDER] [--encoding remi]

Target (issue 13): <= 5 s on 2 CPU cores. Without FOLDER it writes 90 two-hand piano files of
~950 notes each with mido (random walks in a key, mixed durations, a tempo and a time signature)
into a temporary folder. Each encoding's load runs in a fresh process, so MidiTok's import and
tokenizer construction count, as they do the first time `workbench train` reads a folder.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
import mido

CHILD = """
import sys, time
t0 = time.perf_counter()
from workbench.midi_data import load_midi, make_settings
settings = make_settings(sys.argv[2])
t1 = time.perf_counter()
result = load_midi([sys.argv[1]], settings)
t2 = time.perf_counter()
notes = sum(p.text.count("Pitch_") + p.text.count("NoteOn_") for p in result.pieces)
print(f"RESULT {sys.argv[2]}: {len(result.pieces)} pieces, {notes:,} notes, "
      f"{result.events:,} events, {len(result.problems)} problems: load {t2 - t1:.2f} s "
      f"(+ {t1 - t0:.2f} s imports and tokenizer), {t2 - t0:.2f} s in all")
"""


def write_piano_folder(folder: Path, files: int = 90, notes: int = 950, seed: int = 0) -> None:
    rng = random.Random(seed)
    scale = [0, 2, 4, 5, 7, 9, 11]
    for i in range(files):
        mf = mido.MidiFile(type=1, ticks_per_beat=480)
        meta = mido.MidiTrack()
        meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(rng.randint(60, 140))))
        meta.append(mido.MetaMessage("time_signature", numerator=rng.choice([2, 3, 4])))
        mf.tracks.append(meta)
        for hand, (low, high) in enumerate(((60, 88), (36, 60))):
            events, now, pitch = [], 0, (low + high) // 2
            for _ in range(notes // 2):
                pitch = min(high, max(low, pitch + rng.randint(-4, 4)))
                while pitch % 12 not in scale:
                    pitch += 1
                dur = rng.choice([120, 240, 240, 480, 480, 720, 960])
                events.append(
                    (
                        now,
                        1,
                        mido.Message(
                            "note_on", note=pitch, velocity=rng.randint(50, 100), channel=hand
                        ),
                    )
                )
                events.append((now + dur, 0, mido.Message("note_off", note=pitch, channel=hand)))
                now += rng.choice([120, 240, 240, 480, dur])
            events.sort(key=lambda e: (e[0], e[1]))
            track, last = mido.MidiTrack(), 0
            for tick, _, msg in events:
                track.append(msg.copy(time=tick - last))
                last = tick
            mf.tracks.append(track)
        mf.save(folder / f"piece_{i:03d}.mid")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?")
    ap.add_argument("--encoding", action="append", help="default: remi, tsd, midilike")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.folder) if args.folder else Path(tmp)
        if not args.folder:
            write_piano_folder(folder)
        for encoding in args.encoding or ["remi", "tsd", "midilike"]:
            cmd = [sys.executable, "-c", CHILD, str(folder), encoding]
            subprocess.run(cmd, check=True, cwd=Path(__file__).resolve().parents[1])


if __name__ == "__main__":
    main()
