"""How far the app's MIDI agrees with abc2midi's, tune by tune, and what the app plays wrongly.

    .venv/bin/python benchmarks/midi_agreement.py [--tunes 2000] [--seed 1234] [--workers 2]
        [--collections essenFolksong,oneills1850,...] [--generate 500 [--checkpoint CKPT]
        [--keep-generated DIR]] [--generated FILE|DIR] [--shard K/N] [--examples 3]
        [--out results.json]
    .venv/bin/python benchmarks/midi_agreement.py --report shard1.json shard2.json ...

Draws a seeded sample of --tunes (or --num) tunes spread evenly over music21's folk collections
(a collection smaller than its share gives all its tunes and the rest go to the others). With
--generate N it also samples N tunes from --checkpoint (default: the shipped model,
models/pretrained/default.pt) through `workbench generate` itself, at its default settings
(temperature 1, no top-k/top-p, meter-aware decoding ending on the tonic, provenance lines
dropped), seeded with --seed; --keep-generated DIR keeps them there as tune_NNN.abc. --generated
FILE adds every tune of a file (a tunebook, a ``<start>``/``<end>`` file or tunes separated by
blank lines, as `workbench.corpus.load` reads them) or of a folder of .abc files. --shard K/N
converts only every N-th tune of all these, from the K-th, so that a long run can be cut into
runs of a few minutes each, their --out files then reported together with --report.

Each tune is converted by the app (`workbench.notation.convert.abc_to_midi_bytes`, music21)
and by abc2midi (the written melody only: no chord-symbol accompaniment, ornaments, staccato,
fermatas, strummed chords or hornpipe swing; see `workbench.notation.midi_compare`), in a
process pool of --workers processes. For the corpus tunes and the generated ones apart, it prints:

- tunes tried, and those music21 or abc2midi could not convert, by reason;
- app MIDIs with hanging notes (a note-on no later note-off ends), orphan note-offs and
  zero-length notes: tunes and notes;
- per-tune agreement with abc2midi, as a share of the tunes both converted: same note count,
  same pitches, onsets and durations within 1/48 quarter note, note count and onsets (the
  issue's target), all of these; the last also per collection;
- how many tunes differ by each kind ("note count", "pitch", "onset", "duration"), and up to
  --examples tunes per kind: collection, title, the first difference.

--out writes one JSON record per tune (collection, index, title, status, reason, faults,
comparison). Needs abc2midi (apt install abcmidi). About 0.12 s of CPU per tune (300 tunes:
36 s on one worker); sampling 500 tunes, about 50 s of CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)

from workbench.corpus import load
from workbench.corpus.builtin import COLLECTIONS
from workbench.corpus.start_end import has_start_markers, split_start_end
from workbench.notation.abc2midi import abc2midi_path
from workbench.notation.convert import tune_title  # music21 itself loads in the workers only
from workbench.notation.midi_compare import (
    DURATION_TOLERANCE,
    ONSET_TOLERANCE,
    Abc2MidiFailed,
    abc2midi_bytes,
    compare,
    pairing_faults,
)

KINDS = ("note count", "pitch", "onset", "duration")


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f} %)" if whole else f"{part}/0"


def allocate(sizes: dict[str, int], num: int) -> dict[str, int]:
    """Split ``num`` evenly over collections, never more than a collection holds."""
    counts = dict.fromkeys(sizes, 0)
    left = min(num, sum(sizes.values()))
    while left > 0:
        open_ = [name for name in sizes if counts[name] < sizes[name]]
        each = max(1, left // len(open_))
        for name in open_:
            take = min(each, sizes[name] - counts[name], left)
            counts[name] += take
            left -= take
            if left == 0:
                break
    return counts


def sample_jobs(collections: list[str], num: int, seed: int) -> list[tuple[str, int, str, str]]:
    """(collection, index, title, text) of a seeded sample spread over the collections."""
    tunes = {name: load([f"corpus:{name}"]).tunes for name in collections}
    counts = allocate({name: len(t) for name, t in tunes.items()}, num)
    rng = random.Random(seed)
    jobs = []
    for name in collections:
        for i in sorted(rng.sample(range(len(tunes[name])), counts[name])):
            jobs.append((name, i, tunes[name][i].title, tunes[name][i].text))
    return jobs


def generated_tunes(text: str) -> list[str]:
    """The tunes of a file of generated tunes: blank-line separated paragraphs with a K: line.

    Sampled tunes often have no X: line, and the corpus loader passes over such paragraphs
    of a tunebook; a <start>/<end> file is left to the loader.
    """
    if has_start_markers(text):
        return [t.text for t in split_start_end(text, "generated")[0]]
    paragraphs = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n"))
    return [p.strip("\n") for p in paragraphs if re.search(r"^K:", p, re.MULTILINE)]


def generated_jobs(path: str) -> list[tuple[str, int, str, str]]:
    """The tunes of a file (see :func:`generated_tunes`) or of a folder of one tune a file
    (``tune_NNN.abc``, as `workbench generate` and --keep-generated write them)."""
    if Path(path).is_dir():
        files = sorted(Path(path).glob("*.abc"))
        tunes = [f.read_text(encoding="utf-8", errors="replace") for f in files]
    else:
        tunes = generated_tunes(Path(path).read_text(encoding="utf-8", errors="replace"))
    return [("generated", i, tune_title(t), t) for i, t in enumerate(tunes)]


def sampled_jobs(
    num: int, seed: int, checkpoint: str | None, keep: str | None
) -> list[tuple[str, int, str, str]]:
    """``num`` tunes sampled by `workbench generate` (the CLI, at its defaults) as jobs.

    Going through the CLI's own entry point keeps this measuring what a user of the app or the
    CLI gets: the same model loading, sampling defaults, meter-aware decoding and provenance
    clean-up. The CLI samples all ``num`` tunes as one batch on the CPU.
    """
    from workbench.cli import main as cli_main  # loads torch: only when sampling

    with contextlib.ExitStack() as stack:
        out = keep or stack.enter_context(tempfile.TemporaryDirectory(prefix="wb-midi-agree-"))
        argv = ["generate", *([checkpoint] if checkpoint else []), "--out", out]
        argv += ["--num", str(num), "--seed", str(seed), "--device", "cpu"]
        with contextlib.redirect_stdout(io.StringIO()):  # it prints each file's path
            if cli_main(argv) != 0:
                raise RuntimeError(f"workbench {' '.join(argv)} failed")
        paths = sorted(Path(out).glob("tune_*.abc"))[:num]
        tunes = [p.read_text(encoding="utf-8") for p in paths]
    return [("generated", i, tune_title(t), t) for i, t in enumerate(tunes)]


def _reason(exc: BaseException) -> str:
    """The kind of a conversion failure, without the tune-specific details after a colon."""
    return str(exc).split(":")[0].strip() or type(exc).__name__


def check(job: tuple[str, int, str, str]) -> dict:
    """Convert one tune both ways and compare; runs in a worker process."""
    from workbench.notation.convert import abc_to_midi_bytes

    warnings.simplefilter("ignore")  # music21 warns about many corpus tunes; not our subject
    collection, index, title, text = job
    record: dict = {"collection": collection, "index": index, "title": title, "status": "ok"}
    try:
        app = abc_to_midi_bytes(text)
    except Exception as exc:  # ConversionError mostly; any failure is a result here
        return record | {"status": "app failed", "reason": _reason(exc)}
    record["faults"] = asdict(pairing_faults(app))
    try:
        reference = abc2midi_bytes(text)
    except Abc2MidiFailed as exc:
        return record | {"status": "abc2midi failed", "reason": _reason(exc)}
    comparison = compare(app, reference)
    record["comparison"] = asdict(comparison)
    return record


def run(jobs: list, workers: int) -> list[dict]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(check, jobs, chunksize=4))


def report(records: list[dict], examples: int) -> None:
    """The figures for the corpus tunes and for the generated ones, each on their own."""
    groups = (
        ("corpus tunes", [r for r in records if r["collection"] != "generated"]),
        ("generated tunes", [r for r in records if r["collection"] == "generated"]),
    )
    for name, group in groups:
        if group:
            print(f"== {name} ==")
            _report_group(group, examples)


def _report_group(records: list[dict], examples: int) -> None:
    print(f"tunes tried: {len(records)} ({_by_collection(records)})")
    for status in ("app failed", "abc2midi failed"):
        failed = [r for r in records if r["status"] == status]
        reasons = Counter(r["reason"] for r in failed)
        detail = "; ".join(f"{reason}: {n}" for reason, n in reasons.most_common())
        print(f"{status}: {len(failed)}" + (f" ({detail})" if detail else ""))
    _report_faults([r for r in records if "faults" in r])
    compared = [r for r in records if "comparison" in r]
    _report_agreement(compared)
    _report_kinds(compared, examples)


def _by_collection(records: list[dict]) -> str:
    counts = Counter(r["collection"] for r in records)
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def _report_faults(converted: list[dict]) -> None:
    print(f"app MIDIs checked for note pairing: {len(converted)}")
    for name, label in (
        ("hanging", "hanging notes"),
        ("orphan_offs", "orphan note-offs"),
        ("zero_length", "zero-length notes"),
    ):
        tunes = sum(r["faults"][name] > 0 for r in converted)
        notes = sum(r["faults"][name] for r in converted)
        print(f"  {label}: {_share(tunes, len(converted))} tunes, {notes} notes")


def _report_agreement(compared: list[dict]) -> None:
    n = len(compared)
    print(
        f"agreement with abc2midi over {n} tunes both converted "
        f"(onsets within {ONSET_TOLERANCE:.4f} q, durations within {DURATION_TOLERANCE:.4f} q):"
    )
    checks = (
        ("same note count", lambda c: c["app_notes"] == c["reference_notes"]),
        ("same pitches", lambda c: c["same_pitches"]),
        ("onsets agree", lambda c: c["onsets_agree"]),
        ("durations agree", lambda c: c["durations_agree"]),
        ("note count and onsets", lambda c: c["onsets_agree"]),  # onsets imply the count
        ("all of these", lambda c: not c["kinds"]),
    )
    for label, test in checks:
        print(f"  {label}: {_share(sum(test(r['comparison']) for r in compared), n)}")
    by_collection: dict[str, list[dict]] = defaultdict(list)
    for r in compared:
        by_collection[r["collection"]].append(r)
    for name, rs in by_collection.items():
        agree = sum(not r["comparison"]["kinds"] for r in rs)
        print(f"  {name}: all agree in {_share(agree, len(rs))}")


def _report_kinds(compared: list[dict], examples: int) -> None:
    print("tunes that differ, by kind:")
    for kind in KINDS:
        hits = [r for r in compared if kind in r["comparison"]["kinds"]]
        print(f"  {kind}: {len(hits)}")
        for r in hits[:examples]:
            first = r["comparison"]["first_difference"]
            print(f"    {r['collection']} #{r['index']} {r['title']!r}: {first}")


def _shard(spec: str) -> tuple[int, int]:
    k, n = (int(x) for x in spec.split("/"))
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"--shard K/N needs 1 <= K <= N, not {spec}")
    return k, n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tunes", "--num", dest="num", type=int, default=2000, metavar="N")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--collections", default=",".join(COLLECTIONS))
    parser.add_argument("--generate", type=int, default=0, metavar="N")
    parser.add_argument("--checkpoint", metavar="CKPT", help="default: the shipped model")
    parser.add_argument("--keep-generated", metavar="DIR")
    parser.add_argument("--generated", metavar="FILE|DIR")
    parser.add_argument("--shard", type=_shard, metavar="K/N", help="only every N-th tune, from K")
    parser.add_argument("--report", nargs="+", metavar="FILE.json", help="report saved results")
    parser.add_argument("--examples", type=int, default=3)
    parser.add_argument("--out", metavar="FILE.json")
    args = parser.parse_args(argv)
    if args.report:  # shards run one by one (each under the machine's time limits), then this
        records = []
        for path in args.report:
            with open(path, encoding="utf-8") as f:
                records += json.load(f)
        report(records, args.examples)
        return 0
    if abc2midi_path() is None:
        print("abc2midi is not installed (apt install abcmidi)", file=sys.stderr)
        return 1
    jobs = sample_jobs([c for c in args.collections.split(",") if c], args.num, args.seed)
    if args.generated:
        jobs += generated_jobs(args.generated)
    if args.generate > 0:
        start = time.perf_counter()
        sampled = sampled_jobs(args.generate, args.seed, args.checkpoint, args.keep_generated)
        print(f"sampled {len(sampled)} tunes in {time.perf_counter() - start:.0f} s")
        jobs += sampled
    if args.shard:
        k, n = args.shard
        jobs = jobs[k - 1 :: n]
    start = time.perf_counter()
    records = run(jobs, args.workers)
    elapsed = time.perf_counter() - start
    report(records, args.examples)
    print(f"time: {elapsed:.0f} s with {args.workers} workers")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(records, f, indent=1)
        print(f"per-tune results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
