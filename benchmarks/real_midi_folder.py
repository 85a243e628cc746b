"""A folder of real MIDI for measuring: ~90 pieces from music21's corpus, written as MIDI.

    .venv/bin/python benchmarks/real_midi_folder.py [--out FOLDER] [--pieces 90]
        [--max-notes 1200]

The repository ships no MIDI, and the MIDI benchmarks need real music of the size the issue
names (~90 piano files, ~85,000 notes). music21 ships scores, not MIDI; this script writes the
common-practice works of its corpus (Joplin, Chopin, Beethoven, Mozart, Haydn, the Schumanns,
Schubert, Bach's C major prelude, Handel, Corelli, C. P. E. Bach, Schoenberg, Beach...: no Bach
chorales, which are `corpus:bach-chorales`, a second, differently shaped set) and then, to
reach --pieces, Monteverdi's madrigals, each through music21 (parse, write MIDI). A work of
more than --max-notes notes (counted in its MIDI) is cut after the bar where it passes them,
so the string quartets' long movements do not outweigh the rest. Four quartets
stored whole in one file (Beethoven op. 18 no. 3-5, op. 74, op. 132, op. 133) are left out:
music21 takes up to 11 minutes to read one. Repeats music21 cannot expand ("badly formed
repeats") are dropped and the music written once through, rather than losing the piece.
The files are kept as music21 writes them, faults included: in some string quartets it writes
notes of 50-250 beats (1,110 of the 88,796 notes are longer than 12 beats), which raise those
files' polyphony far above what was played; benchmarks/midi_quality.py compares generated
pieces against the held-out files both as written and as the model's encoding keeps them.

Each file is converted once and kept in the folder (default: the workbench cache folder's
`midi/music21-real`), so later runs read it in well under a second; the first run takes a
few minutes on 2 cores. The list of works is fixed and sorted, so anyone gets the same files.
Prints the folder, and `RESULT` with the pieces and notes it holds.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
import symusic

from workbench.midi_data import read_score
from workbench.midi_data.cache import cache_dir

#: music21's composer folders of common-practice works, in the order they are taken.
COMPOSERS = (
    "joplin",
    "chopin",
    "schumann_clara",
    "schumann_robert",
    "schubert",
    "mozart",
    "haydn",
    "beethoven",
    "handel",
    "corelli",
    "cpebach",
    "schoenberg",
    "beach",
    "weber",
    "verdi",
    "liliuokalani",
    "johnson_j_r",
)
#: Whole quartets in one file: minutes each for music21 to parse (op. 18 no. 4: 665 s).
SKIP = frozenset(
    f"beethoven/{name}.mxl"
    for name in ("opus18no3", "opus18no4", "opus18no5", "opus74", "opus132", "opus133")
)
#: Bach outside the chorales (the Well-Tempered Clavier's first prelude).
BACH_KEYBOARD = ("bach/bwv846.mxl",)
#: What fills the folder up to --pieces: five-part madrigals, in corpus order.
FILLER = "monteverdi"
SCORE_SUFFIXES = (".mxl", ".musicxml", ".xml", ".krn")
#: When a work is there both as MusicXML and as Humdrum, MusicXML is taken.
_PREFERENCE = {".mxl": 0, ".musicxml": 1, ".xml": 2, ".krn": 3}


def _corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def _works_of(folder: str) -> list[str]:
    """The scores under one composer folder, one per work (MusicXML over Humdrum), sorted."""
    root = _corpus_root()
    best: dict[str, Path] = {}
    for path in sorted((root / folder).rglob("*")):
        if path.suffix.lower() not in SCORE_SUFFIXES:
            continue
        key = str(path.with_suffix("").relative_to(root))
        old = best.get(key)
        if old is None or _PREFERENCE[path.suffix.lower()] < _PREFERENCE[old.suffix.lower()]:
            best[key] = path
    return [str(p.relative_to(root)) for _, p in sorted(best.items())]


def candidate_works() -> list[str]:
    """Every work the folder may hold, in the order they are taken."""
    works = [w for composer in COMPOSERS for w in _works_of(composer)]
    works += list(BACH_KEYBOARD)
    works += _works_of(FILLER)
    return [w for w in works if w not in SKIP]


def file_name(work: str) -> str:
    """`beethoven/opus18no1/movement1.mxl` -> `beethoven_opus18no1_movement1.mid`."""
    stem = str(Path(work).with_suffix(""))
    return re.sub(r"[^A-Za-z0-9.-]+", "_", stem) + ".mid"


def _convert(work: str, path: Path) -> None:
    """music21 score -> MIDI at `path`."""
    from music21 import corpus

    score = corpus.parse(work)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        score.write("midi", fp=str(tmp))
    except Exception as exc:  # music21's repeat expansion fails on some scores
        if "repeat" not in str(exc):
            raise
        _without_repeats(score).write("midi", fp=str(tmp))
    tmp.replace(path)  # a half-written file never passes for a converted one


def cut_after(path: Path, max_notes: int) -> None:
    """Cut a MIDI file after the bar in which its `max_notes`-th note starts (in place).

    Counted on the MIDI, as the measures count (music21 writes repeats out and chords as
    notes); cutting again at the same count cuts nothing more.
    """
    score = symusic.Score(str(path))
    onsets = sorted(n.time for t in score.tracks for n in t.notes)
    if not max_notes or len(onsets) <= max_notes:
        return
    last = onsets[max_notes - 1]
    end = _next_bar(score, last)
    if end > max(onsets):
        return
    score.clip(0, end, clip_end=True).dump_midi(str(path))


def _next_bar(score: symusic.Score, tick: int) -> int:
    """The first bar line after `tick`, from the score's time signatures (4/4 if none)."""
    signatures = sorted((ts.time, ts.numerator, ts.denominator) for ts in score.time_signatures)
    if not signatures or signatures[0][0] > 0:
        signatures.insert(0, (0, 4, 4))
    for i, (start, num, den) in enumerate(signatures):
        until = signatures[i + 1][0] if i + 1 < len(signatures) else None
        bar = score.ticks_per_quarter * 4 * num // den
        if until is None or tick < until:
            return start + (max(0, tick - start) // bar + 1) * bar
    raise AssertionError("unreachable")


def _without_repeats(score):
    """`score` with its repeat bar lines, endings and D.C./segno marks removed (in place)."""
    from music21 import bar, repeat, stream

    for measure in score.recurse().getElementsByClass(stream.Measure):
        for side in ("leftBarline", "rightBarline"):
            if isinstance(getattr(measure, side), bar.Repeat):
                setattr(measure, side, bar.Barline("regular"))
    for bracket in list(score.recurse().getElementsByClass("RepeatBracket")):
        score.remove(bracket, recurse=True)
    for mark in list(score.recurse().getElementsByClass(repeat.RepeatExpression)):
        mark.activeSite.remove(mark)
    return score


def write_folder(
    folder: Path, pieces: int = 90, max_notes: int = 1200, quiet: bool = False
) -> list[Path]:
    """Convert works into `folder` until it holds `pieces` MIDI files; returns them."""
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for work in candidate_works():
        if len(files) >= pieces:
            break
        path = folder / file_name(work)
        if not path.is_file():
            t0 = time.perf_counter()
            try:
                _convert(work, path)
            except Exception as exc:  # music21 fails in many ways, per work
                print(f"skipped {work}: music21 cannot convert it ({exc})", file=sys.stderr)
                continue
            if not quiet:
                print(f"converted {work} in {time.perf_counter() - t0:.1f} s", flush=True)
        cut_after(path, max_notes)
        files.append(path)
    return files


def default_folder() -> Path:
    return cache_dir("midi", "music21-real")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="default: the workbench cache's midi/music21-real")
    ap.add_argument("--pieces", type=int, default=90)
    ap.add_argument("--max-notes", type=int, default=1200)
    args = ap.parse_args()
    folder = args.out or default_folder()
    files = write_folder(folder, args.pieces, args.max_notes)
    notes = [read_score(p).note_num() for p in files]
    composers = sorted({p.name.split("_")[0] for p in files})
    print(f"folder: {folder}")
    median = sorted(notes)[len(notes) // 2]
    print(
        f"RESULT {len(files)} pieces, {sum(notes):,} notes (median {median:,}, min "
        f"{min(notes):,}, max {max(notes):,}); composers: {', '.join(composers)}"
    )


if __name__ == "__main__":
    main()
