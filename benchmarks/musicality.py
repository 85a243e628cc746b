"""Musical quality: how valid, how corpus-like and how original sampled tunes are.

    .venv/bin/python benchmarks/musicality.py [--checkpoint CKPT] [--num 200]
        [--temperatures 0.8,1.0] [--meter-aware | --no-meter-aware] [--data training]
        [--max-chars 1000] [--seed 1234] [--json OUT] [--overhead] [--no-music21]
        [--no-end-on-tonic] [--no-shape-bias]

Samples --num tunes per temperature from the checkpoint (default: the shipped model,
`models.pretrained.default_checkpoint()`), in batches, from the empty prompt (the model writes
the header too), with meter-aware decoding on and off (both unless --meter-aware or
--no-meter-aware is given), top-k/top-p off and the app's length cap of 1000 characters.
For each set it prints:

- abc2midi: the share of tunes on which `abc2midi` prints no `Error` line;
- music21: the share music21's ABC reader turns into a score with notes (process pool);
- bars fit: the share of bars that fit the meter (`workbench.notation.meter.bar_lengths`) and of
  tunes all of whose bars fit; `ended`: the share that wrote `<end>` before the length cap;
- shape (music21's reading, `workbench.notation.tune_shape`): the share of tunes whose last
  note is the tonic of their `K:`; full bars per tune (median, p10, p90, the share under 8,
  and the total variation distance of the bar-count bins from the real tunes'); sections (the
  stretches between repeat/section bar lines) per tune, the share 8 or 16 bars long, the share
  of tunes that are two 8-bar parts and of tunes with a section under 4 bars; and the same by
  style (`style_of`: Essen's songs, one section each, and the rest, mostly dances);
- length in characters: mean, median, p10, p90;
- meter and key: the most common ones with their shares next to the corpus's, and the total
  variation distance between the tunes' and the corpus's distributions (0 = the same mix);
- copying: for each tune, the share of its 32-character spans found verbatim in the training
  tunes; mean and max over tunes and how many tunes copy over half their spans. `whole` counts
  the whole tune, `body` only what follows the `K:` line (header lines such as
  `O: Europa, Mitteleuropa, Deutschland` are shared by thousands of real tunes).

Generated tunes are measured as the app delivers them: the provenance header lines the model
wrote (`O:`, `Z:`, `N:`...; `workbench.notation.provenance`) are dropped first. Their copying
as sampled, before that, is printed too (`whole, as sampled`).

The same figures for --num tunes drawn from --data are the ceiling. Their copying is measured
held-out style: against the other tunes of --data, never against themselves (the corpus has
its own duplicates and shared phrases, so even this is not zero).

--data is the training tunes to compare with. The default, `training`, is the shipped model's
own training tunebook, which is not in the repository: scripts/build_pretrained_corpus.py writes
it (music21's folk collections without ryansMammoth and without tunes abc2midi rejects) to
build/pretrained_corpus.abc the first time (about 20 s). For another checkpoint pass its own
data. corpus:folk, all of music21's folk collections, is not the same mix: Ryan's 1,100 reels
and jigs, which the shipped model never saw, are nearly all two 8-bar parts, so it puts real
tunes' two-part share at 19-20 % where the training tunes' is 10-13 %.

--no-end-on-tonic drops meter-aware decoding's ending rules (the tonic, the shortest tune, the
<end> bonus and the shape bias); --no-shape-bias drops only the shape bias (section lengths,
<end> by bar count, the pull to the tonic: `workbench.notation.meter_aware.SHAPE_CLOSE`...), to
compare with and without it on the same seeds.

--overhead measures what meter-aware decoding adds to each sampling step for batches of 1 and
32 (per row and step), with the model's own step time for comparison.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
import numpy as np
import torch

from models.checkpoint import load_checkpoint
from models.pretrained import default_checkpoint
from models.sample import SamplingParams, sample
from workbench.corpus import load
from workbench.corpus.stats import tune_key, tune_meter
from workbench.notation.meter import bar_lengths
from workbench.notation.meter_aware import MeterAwareConstraint
from workbench.notation.provenance import drop_provenance
from workbench.notation.tune_info import parses_in_music21

SPAN = 32
TOP = 5


# -- copying: 32-character spans as 64-bit rolling hashes -------------------------------------

_MULT = np.uint64(0x9E3779B97F4A7C15)


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def span_hashes(text: str) -> np.ndarray:
    """A 64-bit hash of every `SPAN`-character window of `text` ((len - SPAN + 1,) uint64)."""
    codes = _codes(text)
    n = len(codes) - SPAN + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(SPAN):
            # Polynomial hash mod 2**64 (uint64 arithmetic wraps); +1 keeps code 0 visible.
            h = h * _MULT + codes[i : i + n] + np.uint64(1)
    return h


class SpanIndex:
    """The set of `SPAN`-character windows of many tunes (sorted hashes, ~8 bytes a window)."""

    def __init__(self, texts: Sequence[str]) -> None:
        parts = [span_hashes(t) for t in texts]
        self.hashes = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.uint64)

    def copied_share(self, text: str) -> float | None:
        """The share of `text`'s windows found in the index (None if it has none)."""
        h = span_hashes(text)
        if not len(h):
            return None
        pos = np.searchsorted(self.hashes, h)
        pos[pos == len(self.hashes)] = 0
        return float(np.mean(self.hashes[pos] == h))


def body_of(text: str) -> str:
    """What follows the first `K:` line (the whole text if there is none)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("K:"):
            return "\n".join(lines[i + 1 :])
    return text


def copying(texts: Sequence[str], index: SpanIndex, part=lambda t: t) -> dict:
    shares = [s for s in (index.copied_share(part(t)) for t in texts) if s is not None]
    if not shares:
        return {"tunes": 0}
    return {
        "tunes": len(shares),
        "mean": statistics.fmean(shares),
        "max": max(shares),
        "over_half": sum(s > 0.5 for s in shares),
    }


# -- the other figures ------------------------------------------------------------------------


def distribution(labels: Sequence[str]) -> dict[str, float]:
    counts = Counter(labels)
    total = sum(counts.values()) or 1
    return {k: v / total for k, v in counts.most_common()}


def tv_distance(p: dict[str, float], q: dict[str, float]) -> float:
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in set(p) | set(q))


def lengths(texts: Sequence[str]) -> dict:
    n = np.array([len(t) for t in texts])
    return {
        "mean": float(n.mean()),
        "median": float(np.median(n)),
        "p10": float(np.percentile(n, 10)),
        "p90": float(np.percentile(n, 90)),
    }


def abc2midi_share(texts: Sequence[str]) -> float | None:
    from workbench.notation.abc2midi import Abc2MidiMissing, check_tunes

    try:
        reports = check_tunes(texts)
    except Abc2MidiMissing:
        return None
    return sum(r.ok for r in reports) / len(texts)


def music21_share(texts: Sequence[str], pool) -> float | None:
    if pool is None:
        return None
    results = pool.map(parses_in_music21, texts, chunksize=4)
    return sum(r is None for r in results) / len(texts)


def converts_in_app(text: str) -> bool:
    """Does the app's converter (music21 plus the ABC standard's default L:1/8 for a tune
    with neither M: nor L:, and the TimeSignature repair) make a score with notes?"""
    from workbench.notation.convert import abc_to_score

    try:
        abc_to_score(text)
    except Exception:  # ConversionError, or anything music21 raises on its way
        return False
    return True


def app_share(texts: Sequence[str], pool) -> float | None:
    if pool is None:
        return None
    return sum(pool.map(converts_in_app, texts, chunksize=4)) / len(texts)


def shape_of(text: str) -> dict | None:
    """music21's reading of a tune's ending and form (`workbench.notation.tune_shape`)."""
    from workbench.notation.tune_shape import tune_shape

    try:
        shape = tune_shape(text)
    except Exception:  # ConversionError, or anything music21 raises on its way
        return None
    return {"tonic": shape.ends_on_tonic, "bars": shape.bars, "sections": list(shape.sections)}


# Bar-count bins for comparing the form of generated tunes with real ones.
BAR_BINS = ((0, 7), (8, 8), (9, 15), (16, 16), (17, 31), (32, 32), (33, 10**6))


def _bar_bin(bars: int) -> str:
    lo, hi = next((lo, hi) for lo, hi in BAR_BINS if lo <= bars <= hi)
    return f"{lo}" if lo == hi else (f"{lo}+" if hi > 10**5 else f"{lo}-{hi}")


def style_of(text: str) -> str:
    """ "essen" for a tune whose header (as written, provenance and all) has an `O:` line naming
    a place other than Ireland, as the Essen collection's songs do; "other" (Irish and Scottish
    dances, mostly) for the rest. The two write their form differently: Essen's songs are one
    section each, the dances mostly two repeated 8-bar parts."""
    for line in text.splitlines():
        if line.startswith("K:"):
            break
        if line.startswith("O:") and "Irland" not in line and "Ireland" not in line:
            return "essen"
    return "other"


def _has_short(sections: Sequence[int]) -> bool:
    """A tune of several sections, one of them under 4 bars (0.2 % of real tunes, seed 101)."""
    return len(sections) > 1 and min(sections) < 4


def _form_by_style(read: list[dict], styles: Sequence[str]) -> dict:
    out = {}
    for style in sorted(set(styles)):
        mine = [r["sections"] for r, s in zip(read, styles, strict=True) if s == style]
        out[style] = {
            "tunes": len(mine),
            "sections_mean": sum(map(len, mine)) / len(mine),
            "several_sections": sum(len(x) > 1 for x in mine) / len(mine),
            "two_parts_of_8": sum(x == [8, 8] for x in mine) / len(mine),
            "short_section": sum(map(_has_short, mine)) / len(mine),
        }
    return out


def shapes(texts: Sequence[str], pool, styles: Sequence[str] | None = None) -> dict | None:
    """Ending on the tonic, bar counts and sections of the tunes music21 reads; with `styles`
    (one per text, `style_of`), the form by style too."""
    if pool is None:
        return None
    results = pool.map(shape_of, texts, chunksize=4)
    kept = [i for i, r in enumerate(results) if r is not None]
    read = [results[i] for i in kept]
    if not read:
        return None
    bars = np.array([r["bars"] for r in read])
    sections = [n for r in read for n in r["sections"]]
    return {
        "read": len(read),
        "ends_on_tonic": sum(r["tonic"] for r in read) / len(read),
        "bars_median": float(np.median(bars)),
        "bars_p10": float(np.percentile(bars, 10)),
        "bars_p90": float(np.percentile(bars, 90)),
        "under_8_bars": float((bars < 8).mean()),
        "bar_bins": distribution([_bar_bin(int(b)) for b in bars]),
        "sections_mean": len(sections) / len(read),
        "eight_bar_sections": sum(n in (8, 16) for n in sections) / max(1, len(sections)),
        "two_parts_of_8": sum(r["sections"] == [8, 8] for r in read) / len(read),
        "short_section": sum(_has_short(r["sections"]) for r in read) / len(read),
        "by_style": _form_by_style(read, [styles[i] for i in kept]) if styles else {},
    }


def bar_fit(texts: Sequence[str]) -> dict:
    bars = fitting = tunes_ok = 0
    for t in texts:
        bl = bar_lengths(t)
        ok = sum(b.fits for b in bl)
        bars += len(bl)
        fitting += ok
        tunes_ok += ok == len(bl)
    return {
        "bars": bars,
        "bar_share": fitting / bars if bars else None,
        "tune_share": tunes_ok / len(texts),
    }


def evaluate(
    texts: Sequence[str],
    corpus_meters: dict,
    corpus_keys: dict,
    index: SpanIndex,
    pool,
    styles: Sequence[str] | None = None,
) -> dict:
    meters = distribution([tune_meter(t) for t in texts])
    keys = distribution([tune_key(t) for t in texts])
    return {
        "tunes": len(texts),
        "abc2midi_ok": abc2midi_share(texts),
        "music21_ok": music21_share(texts, pool),
        "app_converts": app_share(texts, pool),
        "bars_fit": bar_fit(texts),
        "shape": shapes(texts, pool, styles),
        "length": lengths(texts),
        "meters": dict(list(meters.items())[:TOP]),
        "meter_tv": tv_distance(meters, corpus_meters),
        "keys": dict(list(keys.items())[:TOP]),
        "key_tv": tv_distance(keys, corpus_keys),
        "copy_whole": copying(texts, index),
        "copy_body": copying(texts, index, body_of),
    }


# -- printing ---------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _mix(shares: dict[str, float], corpus: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.0%} ({corpus.get(k, 0.0):.0%})" for k, v in shares.items())


def _copy(c: dict) -> str:
    if not c.get("tunes"):
        return "n/a"
    return f"mean {c['mean']:.1%}, max {c['max']:.1%}, {c['over_half']} over 50%"


def report(
    name: str, r: dict, corpus_meters: dict, corpus_keys: dict, ceiling: dict | None = None
) -> None:
    b, n = r["bars_fit"], r["length"]
    extra = f"; ended {r['ended']:.1%}" if "ended" in r else ""
    print(f"\n== {name}: {r['tunes']} tunes{extra}")
    print(f"  abc2midi no Error   {_pct(r['abc2midi_ok'])}")
    print(f"  music21 parses      {_pct(r['music21_ok'])}")
    print(f"  app converter reads {_pct(r.get('app_converts'))}")
    print(
        f"  bars fit            {_pct(b['bar_share'])} of {b['bars']} bars; "
        f"all bars fit in {_pct(b['tune_share'])} of tunes"
    )
    print(
        f"  length (chars)      mean {n['mean']:.0f}, median {n['median']:.0f}, "
        f"p10 {n['p10']:.0f}, p90 {n['p90']:.0f}"
    )
    if sh := r.get("shape"):
        ref = (ceiling or {}).get("shape") or {}
        bins_tv = f"; TV {tv_distance(sh['bar_bins'], ref['bar_bins']):.3f}" if ref else ""
        print(f"  ends on the tonic   {sh['ends_on_tonic']:.1%} of {sh['read']} music21 reads")
        print(
            f"  bars                median {sh['bars_median']:.0f}, p10 {sh['bars_p10']:.0f}, "
            f"p90 {sh['bars_p90']:.0f}; under 8 bars {sh['under_8_bars']:.1%}{bins_tv}"
        )
        print(
            f"  sections            {sh['sections_mean']:.2f} a tune; 8 or 16 bars long "
            f"{sh['eight_bar_sections']:.1%}; two 8-bar parts {sh['two_parts_of_8']:.1%}; "
            f"a section under 4 bars {sh['short_section']:.1%}"
        )
        for style, f in sh.get("by_style", {}).items():
            print(
                f"  form, {style:6s}      {f['tunes']} tunes: {f['sections_mean']:.2f} sections a "
                f"tune, several {f['several_sections']:.1%}, two 8-bar parts "
                f"{f['two_parts_of_8']:.1%}, a section under 4 bars {f['short_section']:.1%}"
            )
    print(f"  meters (corpus)     {_mix(r['meters'], corpus_meters)}; TV {r['meter_tv']:.3f}")
    print(f"  keys (corpus)       {_mix(r['keys'], corpus_keys)}; TV {r['key_tv']:.3f}")
    print(f"  copying, whole      {_copy(r['copy_whole'])}")
    if "copy_whole_raw" in r:
        print(f"  ..whole, as sampled {_copy(r['copy_whole_raw'])}")
    print(f"  copying, body       {_copy(r['copy_body'])}")
    if "seconds" in r:
        print(f"  sampling            {r['seconds']:.1f} s, {r['steps']} steps")


# -- sampling ---------------------------------------------------------------------------------


def generate(
    model,
    tok,
    num,
    temperature,
    meter_aware,
    max_chars,
    seed,
    batch,
    end_on_tonic=True,
    home_bonus=None,
    shape=None,
) -> dict:
    texts: list[str] = []
    steps = 0
    t0 = time.perf_counter()
    for start in range(0, num, batch):
        n = min(batch, num - start)
        params = SamplingParams(temperature=temperature, max_chars=max_chars, seed=seed + start)
        constraint = (
            MeterAwareConstraint(
                tok,
                max_chars=max_chars,
                end_on_tonic=end_on_tonic,
                home_bonus=home_bonus,
                shape=shape,
            )
            if meter_aware
            else None
        )
        counter = _StepCounter()
        texts += sample(model, tok, "", n, params, constraint=constraint, should_stop=counter)
        steps += counter.steps
    seconds = time.perf_counter() - t0
    # A tune that used the whole length cap did not end by itself.
    ended = sum(len(t) < max_chars for t in texts) / len(texts)
    # As the app and `workbench generate` do: the provenance header lines the model wrote go.
    clean = [drop_provenance(t) for t in texts]
    return {"texts": clean, "raw": texts, "seconds": seconds, "steps": steps, "ended": ended}


class _StepCounter:
    def __init__(self) -> None:
        self.steps = 0

    def __call__(self) -> bool:
        self.steps += 1
        return False


class _TimedConstraint:
    """Wraps a constraint and adds up the time spent in it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, logits, texts):
        t0 = time.perf_counter()
        out = self.inner(logits, texts)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        return out


def overhead(model, tok, steps: int = 400) -> dict:
    """Time per sampling step without the constraint, and the time spent in the constraint, for
    B = 1 and 32 (the best of three runs: the constraint's caches warm up in the first)."""
    out = {}
    for batch in (1, 32):
        params = SamplingParams(temperature=1.0, max_chars=steps, seed=7)
        plain = inside = with_constraint = float("inf")
        for _ in range(3):
            counter = _StepCounter()
            t0 = time.perf_counter()
            sample(model, tok, "", batch, params, should_stop=counter)
            plain = min(plain, (time.perf_counter() - t0) / counter.steps)
            timed = _TimedConstraint(MeterAwareConstraint(tok))
            t0 = time.perf_counter()
            sample(model, tok, "", batch, params, constraint=timed)
            with_constraint = min(with_constraint, (time.perf_counter() - t0) / timed.calls)
            inside = min(inside, timed.seconds / timed.calls)
        out[batch] = {
            "step_ms": plain * 1e3,
            "step_ms_meter_aware": with_constraint * 1e3,
            "constraint_ms_per_step": inside * 1e3,
            "constraint_ms_per_row_step": inside * 1e3 / batch,
        }
        print(
            f"overhead B={batch:2d}: a step takes {plain * 1e3:.2f} ms without the constraint, "
            f"{with_constraint * 1e3:.2f} ms with it; in the constraint {inside * 1e3:.3f} ms "
            f"a step = {inside * 1e3 / batch:.3f} ms per row and step",
            flush=True,
        )
    return out


# -- main -------------------------------------------------------------------------------------

#: --data's default: the shipped model's training tunes.
TRAINING = "training"
ROOT = Path(__file__).resolve().parent.parent


def training_tunebook() -> Path:
    """The shipped model's training tunebook, written by its build script the first time."""
    out = ROOT / "build" / "pretrained_corpus.abc"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        print(f"writing the shipped model's training tunes to {out} (once)", flush=True)
        script = ROOT / "scripts" / "build_pretrained_corpus.py"
        subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="default: the shipped model")
    ap.add_argument("--num", type=int, default=200, help="tunes per temperature and setting")
    ap.add_argument("--temperatures", default="0.8,1.0")
    ap.add_argument(
        "--meter-aware",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="only with (or only without) meter-aware decoding; default: both",
    )
    ap.add_argument(
        "--end-on-tonic",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="meter-aware decoding ends tunes only on their key's tonic (the app's default)",
    )
    ap.add_argument("--home-bonus", type=float, default=None, help="logit added to <end> at home")
    ap.add_argument(
        "--shape-bias",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="meter-aware decoding's bias to real tunes' section and tune lengths (default: "
        "with the ending rules)",
    )
    ap.add_argument(
        "--data",
        default=TRAINING,
        help="the training tunes (DATA spec); default: the shipped model's (built once)",
    )
    ap.add_argument("--max-chars", type=int, default=1000, help="length cap (the app's default)")
    ap.add_argument("--batch", type=int, default=100, help="tunes sampled at once")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="music21 processes")
    ap.add_argument("--no-music21", action="store_true", help="skip the (slow) music21 check")
    ap.add_argument("--overhead", action="store_true", help="also time the constraint per step")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", metavar="OUT", help="write every figure to this JSON file")
    args = ap.parse_args()

    ckpt_path = args.checkpoint or default_checkpoint()
    if ckpt_path is None:
        sys.exit("no --checkpoint given and no shipped model in models/pretrained/")
    ckpt = load_checkpoint(ckpt_path)
    model = ckpt.build_model(args.device)
    tok = ckpt.tokenizer
    print(f"checkpoint: {ckpt_path}: {ckpt.describe()}", flush=True)

    t0 = time.perf_counter()
    data = str(training_tunebook()) if args.data == TRAINING else args.data
    corpus = [t.text for t in load([data]).tunes]
    corpus_meters = distribution([tune_meter(t) for t in corpus])
    corpus_keys = distribution([tune_key(t) for t in corpus])
    # The ceiling: a sample of the corpus, its copying measured against the rest.
    rng = random.Random(args.seed)
    held = set(rng.sample(range(len(corpus)), min(args.num, len(corpus) // 2)))
    ceiling = [corpus[i] for i in sorted(held)]
    rest_index = SpanIndex([t for i, t in enumerate(corpus) if i not in held])
    index = SpanIndex(corpus)
    print(
        f"data: {args.data}: {len(corpus)} tunes, {sum(map(len, corpus)):,} chars, "
        f"{len(index.hashes):,} distinct {SPAN}-char spans ({time.perf_counter() - t0:.1f} s)",
        flush=True,
    )

    results: dict = {"checkpoint": str(ckpt_path), "data": args.data, "num": args.num}
    if args.overhead:
        results["overhead"] = overhead(model, tok)

    settings = [True, False] if args.meter_aware is None else [args.meter_aware]
    temperatures = [float(t) for t in args.temperatures.split(",") if t.strip()]
    ctx = multiprocessing.get_context("spawn")
    pool = None if args.no_music21 else ctx.Pool(args.workers)
    try:
        styles = [style_of(t) for t in ceiling]
        r = evaluate(ceiling, corpus_meters, corpus_keys, rest_index, pool, styles)
        report(f"training tunes ({args.data}, held out)", r, corpus_meters, corpus_keys)
        results["ceiling"] = r
        results["generated"] = []
        for temperature in temperatures:
            for aware in settings:
                g = generate(
                    model,
                    tok,
                    args.num,
                    temperature,
                    aware,
                    args.max_chars,
                    args.seed,
                    args.batch,
                    args.end_on_tonic,
                    args.home_bonus,
                    args.shape_bias,
                )
                styles = [style_of(t) for t in g["raw"]]
                r = evaluate(g["texts"], corpus_meters, corpus_keys, index, pool, styles)
                r["copy_whole_raw"] = copying(g["raw"], index)
                r.update(seconds=g["seconds"], steps=g["steps"], ended=g["ended"])
                r.update(temperature=temperature, meter_aware=aware, texts=g["texts"])
                name = f"T={temperature:g}, meter-aware {'on' if aware else 'off'}"
                report(name, r, corpus_meters, corpus_keys, results["ceiling"])
                results["generated"].append(r)
                sys.stdout.flush()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
