"""A hand-built MIDI piece whose beats, chords and rests are known, and a small event model.

The piece (4/4, written with mido, two tracks as two hands): bar 1 a single note, a C major
chord, two eighths (the second off the beat) and a quarter rest; bar 2 a D minor chord held two
beats, an eighth rest, an eighth off the beat and a quarter; bar 3 one whole note.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import mido
import torch

from models.checkpoint import Checkpoint, save_checkpoint
from models.config import ModelConfig, RunConfig
from models.networks import build_network
from models.tokenizer import EventTokenizer

TPQ = 480
F = Fraction
#: (pitch, onset in quarters, duration in quarters, hand)
PIECE = [
    (60, F(0), F(1), 0),  # C4 alone, beat 1
    (60, F(1), F(1), 0),  # C major chord, beat 2: two hands
    (64, F(1), F(1), 0),
    (67, F(1), F(1), 1),
    (64, F(2), F(1, 2), 0),  # E4 eighth on beat 3
    (65, F(5, 2), F(1, 2), 0),  # F4 eighth between beats 3 and 4
    # (quarter rest: beat 4)
    (62, F(4), F(2), 1),  # D minor chord, bar 2 beats 1-2
    (65, F(4), F(2), 0),
    (69, F(4), F(2), 0),
    # (eighth rest: beat 3)
    (67, F(13, 2), F(1, 2), 0),  # G4 eighth between beats 3 and 4
    (59, F(7), F(1), 1),  # B3 quarter on beat 4
    (72, F(8), F(4), 0),  # C5 whole note, bar 3
]
#: What the probes must find at each note's onset: (onset, pitch) -> (on a beat, in a chord).
EXPECTED = {
    (F(0), 60): (1, 0),
    (F(1), 60): (1, 1),
    (F(1), 64): (1, 1),
    (F(1), 67): (1, 1),
    (F(2), 64): (1, 0),
    (F(5, 2), 65): (0, 0),
    (F(4), 62): (1, 1),
    (F(4), 65): (1, 1),
    (F(4), 69): (1, 1),
    (F(13, 2), 67): (0, 0),
    (F(7), 59): (1, 0),
    (F(8), 72): (1, 0),
}
#: The silences of the piece, [start, end) in quarters.
RESTS = [(F(3), F(4)), (F(6), F(13, 2))]


def write_piece(path: Path, notes=PIECE, numerator: int = 4, denominator: int = 4) -> Path:
    """A type-1 file: tempo and time signature in a conductor track, then one track a hand."""
    mf = mido.MidiFile(type=1, ticks_per_beat=TPQ)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90), time=0))
    conductor.append(
        mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator, time=0)
    )
    mf.tracks.append(conductor)
    for hand in sorted({n[3] for n in notes}):
        timed = []
        for pitch, onset, duration, h in notes:
            if h != hand:
                continue
            on = int(onset * TPQ)
            timed.append((on, 1, mido.Message("note_on", note=pitch, velocity=80, channel=hand)))
            off = int((onset + duration) * TPQ)
            timed.append((off, 0, mido.Message("note_off", note=pitch, channel=hand)))
        timed.sort(key=lambda e: (e[0], e[1]))
        track = mido.MidiTrack()
        now = 0
        for tick, _, msg in timed:
            track.append(msg.copy(time=tick - now))
            now = tick
        mf.tracks.append(track)
    mf.save(path)
    return path


def write_event_checkpoint(
    path: Path, texts: list[str], settings: dict, arch: str = "lstm", hidden: int = 12, seed=1
) -> Path:
    """A small event model with random weights whose vocabulary covers `texts`."""
    tokenizer = EventTokenizer.fit(texts, settings)
    cfg = RunConfig(model=ModelConfig(arch=arch, hidden=hidden, layers=2, embedding=8, dropout=0.0))
    torch.manual_seed(seed)
    model = build_network(cfg.model, len(tokenizer))
    save_checkpoint(
        path, Checkpoint(config=cfg, tokenizer=tokenizer, state_dict=model.state_dict())
    )
    return path
