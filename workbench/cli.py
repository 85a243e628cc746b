"""The headless command line: `workbench train | evaluate | generate | render | corpus |
activations | gui`.

It uses the same engine as the GUI (`models`, `workbench.corpus`). Errors the user can fix are
one line naming the file and the problem, exit status 1 (argparse's usage errors exit 2); torch is
imported only by the subcommands that need it, so `workbench --help` answers at once.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import io
import json
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.generation_defaults import DEFAULT_EVENTS, DEFAULT_MAX_CHARS

MAX_PROBLEMS_SHOWN = 20


class UsageError(Exception):
    """Options that contradict each other (exit status 2, like argparse's own errors)."""


def _err(message: str) -> None:
    print(f"workbench: error: {message}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"workbench: warning: {message}", file=sys.stderr)


# -- data ----------------------------------------------------------------------------------


def _load_texts(specs: Sequence[str], quiet: bool = False) -> list[str]:
    """Load DATA arguments; report per-file problems as warnings; fail if nothing loads.

    Problems go to stderr even with `quiet`: a skipped file must never pass unnoticed.
    """
    from workbench.corpus import load

    result = load(list(specs))
    _report_problems(result.problems)
    if not result.tunes:
        from models.errors import DataError

        raise DataError(f"no usable tunes in {', '.join(map(str, specs))}")
    if not quiet:
        print(
            f"loaded {len(result.tunes)} tunes ({result.chars:,} characters) "
            f"from {result.sources} file(s)",
            file=sys.stderr,
        )
    return [t.text for t in result.tunes]


def _load_midi_texts(
    specs: Sequence[str], settings: dict, quiet: bool = False
) -> tuple[list[str], dict]:
    """Load MIDI DATA as event texts, one per piece, and the settings they were read with (the
    data's tempo recorded: `load_midi`); per-file problems warn, as for ABC."""
    from workbench.midi_data import describe, load_midi

    t0 = time.perf_counter()
    result = load_midi(list(specs), settings)
    _report_problems(result.problems)
    if not result.pieces:
        from models.errors import DataError

        raise DataError(f"no usable MIDI pieces in {', '.join(map(str, specs))}")
    if not quiet:
        print(
            f"loaded {len(result.pieces)} pieces ({result.events:,} {describe(settings)} events) "
            f"from {len(result.files)} file(s) in {time.perf_counter() - t0:.1f}s",
            file=sys.stderr,
        )
    return result.texts, result.settings


def _midi_settings(args: argparse.Namespace, ckpt: Any | None) -> dict:
    """The encoding of MIDI data: the checkpoint's own when continuing one, else the options'
    (the GUI's training process chooses the same way: workbench.training_data)."""
    from workbench.training_data import DataKindError, midi_settings

    tokenizer = ckpt.tokenizer if ckpt is not None else None
    try:
        return midi_settings(args.encoding, args.velocities, tokenizer)
    except DataKindError as exc:
        raise UsageError(f"{exc} (drop --encoding)") from None


def _check_data_kind(ckpt: Any | None, midi: bool, what: str) -> None:
    """A char model reads ABC, an event model MIDI: say so before loading anything."""
    from workbench.training_data import DataKindError, check_data_kind

    try:
        check_data_kind(ckpt.tokenizer if ckpt is not None else None, midi, what)
    except DataKindError as exc:
        raise UsageError(str(exc)) from None


def _report_problems(problems: Sequence[Any]) -> None:
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        _warn(f"skipped: {problem}")
    if len(problems) > MAX_PROBLEMS_SHOWN:
        _warn(f"... and {len(problems) - MAX_PROBLEMS_SHOWN} more problems")


# -- train ---------------------------------------------------------------------------------

# Options that set the config field of the same name, only when given.
_MODEL_FLAGS = ("arch", "hidden", "layers", "dropout", "embedding")
_TRAIN_FLAGS = (
    "optimizer",
    "lr",
    "momentum",
    "weight_decay",
    "schedule",
    "grad_clip",
    "batch_size",
    "seq_len",
    "batching",
    "epochs",
    "time_budget",
    "patience",
    "val_fraction",
    "seed",
    "device",
    "threads",
    "warmup_steps",
)


def _parse_eval_every(text: str) -> tuple[int, str]:
    """`500` (steps), `2e`/`2epochs` (epochs)."""
    t = text.strip().lower()
    for suffix in ("epochs", "epoch", "e"):
        if t.endswith(suffix):
            return int(t[: -len(suffix)] or 1), "epochs"
    for suffix in ("steps", "step", "s"):
        if t.endswith(suffix):
            t = t[: -len(suffix)]
            break
    return int(t), "steps"


def _build_config(args: argparse.Namespace, base: Any) -> Any:
    """Apply the options the user actually gave on top of `base` (a RunConfig)."""
    for section, flags in ((base.model, _MODEL_FLAGS), (base.train, _TRAIN_FLAGS)):
        for flag in flags:
            if (value := getattr(args, flag)) is not None:
                setattr(section, flag, value)
    if args.no_nesterov:
        base.train.nesterov = False
    if args.eval_every is not None:
        base.train.eval_every, base.train.eval_unit = args.eval_every
    try:
        base.validate()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return base


def cmd_train(args: argparse.Namespace) -> int:
    from models.checkpoint import load_checkpoint
    from models.config import fine_tune_defaults, fine_tune_model, recipe
    from models.train import Control, Trainer, split_texts

    out = Path(args.out)
    resume = None
    init = None
    if args.resume is not None:
        if args.init:
            raise UsageError("--resume and --init exclude each other")
        resume = load_checkpoint(Path(args.resume) if args.resume else out / "last.pt")
        # A copy: the trainer compares the options given with the checkpoint's own config.
        cfg = _build_config(args, copy.deepcopy(resume.config))
    else:
        try:
            cfg = recipe(args.recipe)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if args.init:
            init = load_checkpoint(args.init)
            # Fine-tuning keeps the initial model's architecture, with the default recipe's
            # dropout unless --dropout is given; a shape option that differs is refused by the
            # trainer with both shapes named.
            cfg.model = fine_tune_model(init.config.model, args.dropout)
            fine_tune_defaults(
                cfg.train, lr_given=args.lr is not None, warmup_given=args.warmup_steps is not None
            )
        cfg = _build_config(args, cfg)
        if (out / "last.pt").exists() and not args.force:
            raise UsageError(
                f"{out} already holds a run; add --resume to continue it or --force to start over"
            )
        if args.force:
            # Starting over: nothing of the old run may pass for the new one (an old best.pt
            # would stand until the new run's first evaluation).
            for name in ("metrics.jsonl", "best.pt", "last.pt", "config.json"):
                (out / name).unlink(missing_ok=True)
            shutil.rmtree(out / "samples", ignore_errors=True)

    from models.distributed import init_world
    from workbench.midi_data import data_is_midi

    midi = data_is_midi(args.data)
    _check_data_kind(resume or init, midi, "the checkpoint")
    # Under torchrun: join the other processes (a world of one otherwise). Rank 0 reads the
    # data first (and fills any cache) and alone reports on it.
    world = init_world(cfg.train.device)
    quiet = args.quiet or not world.writer
    hush = contextlib.nullcontext() if world.writer else contextlib.redirect_stderr(io.StringIO())
    tokenizer = None
    with world.writer_first(), hush:
        if midi:
            from models.tokenizer import EventTokenizer

            settings = _midi_settings(args, resume or init)
            texts, settings = _load_midi_texts(args.data, settings, quiet=quiet)
        else:
            if args.encoding is not None or args.velocities:
                raise UsageError("--encoding and --velocities are for MIDI data")
            texts = _load_texts(args.data, quiet=quiet)
    # Split by item: a tune, or a whole MIDI piece (never a window of one).
    train_texts, val_texts = split_texts(texts, cfg.train.val_fraction, cfg.train.seed)
    if midi:
        tokenizer = EventTokenizer.fit(train_texts, settings)

    stop_requested = False

    def on_stop_signal(signum: int, frame: Any) -> None:
        # Ctrl-C, or SIGTERM (torchrun passes on its own Ctrl-C, a cluster's scheduler sends it
        # before the time limit): stop after this step with a resumable checkpoint. Only a
        # second Ctrl-C aborts.
        nonlocal stop_requested
        if stop_requested:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        stop_requested = True
        if world.writer:
            print("\nstopping after this step (Ctrl-C again to abort)...", file=sys.stderr)

    previous = {sig: signal.signal(sig, on_stop_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    ended = False
    try:
        trainer = Trainer(
            cfg,
            train_texts,
            val_texts,
            out,
            init=init,
            resume=resume,
            control=Control(stop=lambda: stop_requested),
            tokenizer=tokenizer,
            world=world,
        )
        code = _drive(trainer, args)
        ended = True
        return code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        # After an exception a peer may be inside a collective: leave at once, as it will.
        world.close(together=ended)


def _drive(trainer: Any, args: argparse.Namespace) -> int:
    """Run the trainer, printing progress lines (or JSON events with --json)."""
    last_print = 0.0
    unit = trainer.tokenizer.unit
    world = trainer.world
    if not world.writer:
        # Under torchrun rank 0 prints the progress; the others say only where they ended and
        # the best validation loss they agreed on, which shows that all ranks went together.
        for event in trainer.run():
            if event["event"] == "end":
                print(
                    f"process {world.rank} of {world.size}: ended ({event['reason']}) at step "
                    f"{event['step']}; best validation loss {event['best_val_loss']:.6f}",
                    file=sys.stderr,
                    flush=True,
                )
        return 0
    for event in trainer.run():
        kind = event["event"]
        if args.json:
            print(json.dumps({k: v for k, v in event.items() if k != "sample"}), flush=True)
            continue
        if args.quiet and kind != "end":
            continue
        if kind == "start":
            what = "resuming at step {step}".format(**event) if event["resumed"] else "training"
            print(
                f"{what}: {trainer.cfg.model.arch.upper()} {trainer.cfg.model.layers}x"
                f"{trainer.cfg.model.hidden}, {event['parameters']:,} parameters, vocabulary "
                f"{event['vocab_size']}, {event['train_tunes']} training / {event['val_tunes']} "
                f"validation {'tunes' if unit == 'char' else 'pieces'}, "
                f"{event['steps_per_epoch']} steps/epoch on {event['device']}",
                flush=True,
            )
        elif kind == "step" and time.monotonic() - last_print >= args.print_every:
            last_print = time.monotonic()
            print(
                f"step {event['step']:6d}  epoch {event['epoch']:6.2f}  loss {event['loss']:.3f}"
                f"  acc {event['accuracy']:.1%}  {event['chars_per_sec'] / 1000:.1f}k {unit}s/s"
                f"  lr {event['lr']:.2e}  {event['elapsed']:.0f}s",
                flush=True,
            )
        elif kind == "epoch":
            print(
                f"epoch {event['epoch']} done at step {event['step']}: "
                f"{event['padding']:.1%} of positions padding, the emptiest step "
                f"{event['min_real_share']:.0%} real",
                flush=True,
            )
        elif kind == "eval":
            mark = "  *best*" if event["improved"] else ""
            print(
                f"eval at step {event['step']}: validation loss {event['val_loss']:.4f} "
                f"nats/{unit} "
                f"({event['val_bits']:.3f} bits), accuracy {event['val_accuracy']:.1%}{mark}",
                flush=True,
            )
        elif kind == "end":
            reasons = {
                "epochs": "reached the epoch limit",
                "time": "used the time budget",
                "early_stop": "stopped early (validation loss stopped improving)",
                "stopped": "stopped on request",
            }
            print(
                f"{reasons.get(event['reason'], event['reason'])} at step {event['step']}; best "
                f"validation loss {event['best_val_loss']:.4f} nats/{unit}; checkpoints in "
                f"{args.out}",
                flush=True,
            )
    return 0


# -- evaluate ------------------------------------------------------------------------------


def cmd_evaluate(args: argparse.Namespace) -> int:
    from models.checkpoint import load_checkpoint
    from models.device import resolve_device
    from models.evaluate import evaluate
    from workbench.midi_data import data_is_midi

    ckpt = load_checkpoint(_checkpoint_or_default(args.checkpoint))
    device = resolve_device(args.device)
    tok = ckpt.tokenizer
    midi = data_is_midi(args.data)
    _check_data_kind(ckpt, midi, str(args.checkpoint))
    if midi:
        # Read with the checkpoint's own encoding: the same events it was trained on.
        texts, _settings = _load_midi_texts(args.data, tok.settings, quiet=args.json)
    else:
        texts = _load_texts(args.data, quiet=args.json)
    unknown = tok.unknown_chars(texts)
    if unknown:
        _warn(
            f"{len(unknown)} {tok.unit}(s) the model never saw count as <unk>: "
            + " ".join(sorted(repr(c) for c in unknown)[:20])
        )
    model = ckpt.build_model(device)
    ids = [tok.encode_tune(t) for t in texts]
    result = evaluate(model, ids, device)
    if args.json:
        extra: dict[str, Any] = {"tunes": len(texts), "unit": tok.unit}
        if midi:
            # The same numbers under the names an event model's reader looks for.
            extra |= {
                "pieces": len(texts),
                "loss_nats_per_event": result.loss_nats_per_char,
                "events": result.chars,
            }
        print(json.dumps({**result.to_dict(), **extra}))
    elif midi:
        print(
            f"{len(texts)} pieces, {result.chars:,} events: loss "
            f"{result.loss_nats_per_char:.4f} nats/event ({result.bits_per_char:.4f} bits), "
            f"accuracy {result.accuracy:.2%}"
        )
    else:
        print(
            f"{len(texts)} tunes, {result.chars:,} characters: loss "
            f"{result.loss_nats_per_char:.4f} nats/char ({result.bits_per_char:.4f} bits), "
            f"accuracy {result.accuracy:.2%}"
        )
    return 0


# -- generate ------------------------------------------------------------------------------


def _checkpoint_or_default(path: str | None) -> Path:
    """The named checkpoint, or the shipped default model when none is named."""
    if path is not None:
        return Path(path)
    from models.pretrained import default_checkpoint

    default = default_checkpoint()
    if default is None:
        raise UsageError("name a checkpoint: this installation has no shipped default model")
    return default


def cmd_generate(args: argparse.Namespace) -> int:
    from models.checkpoint import load_checkpoint
    from models.device import resolve_device
    from models.sample import sample
    from workbench.notation.prompt import prepare_prompt

    if args.argmax:
        # The reports' mode: always the most likely event (top-k 1 is exactly that).
        args.top_k = 1
    ckpt_path = _checkpoint_or_default(args.checkpoint)
    ckpt = load_checkpoint(ckpt_path)
    if ckpt.tokenizer.kind == "events":
        return _generate_events(args, ckpt)
    if args.seconds is not None:
        raise UsageError(f"{ckpt_path} is a character (ABC) model: --seconds is for MIDI models")
    if args.prompt_midi is not None:
        raise UsageError(
            f"{ckpt_path} is a character (ABC) model: --prompt-midi is for MIDI models"
        )
    if args.end_early:
        raise UsageError(
            f"{ckpt_path} is a character (ABC) model: --end-early is for MIDI models (a tune "
            "always ends where the model ends it, or at --max-chars)"
        )
    if args.prompt is not None and args.prompt_file is not None:
        raise UsageError("give --prompt or --prompt-file, not both")
    prompt = args.prompt or ""
    if args.prompt_file is not None:
        from workbench.corpus import read_text

        prompt = read_text(args.prompt_file)
    prompt = prepare_prompt(prompt)
    max_chars = DEFAULT_MAX_CHARS if args.max_chars is None else args.max_chars
    params = _sampling_params(args, max_chars)
    device = resolve_device(args.device)
    unknown = ckpt.tokenizer.unknown_chars([prompt])
    if unknown:
        _warn("the prompt has characters the model never saw: " + " ".join(map(repr, unknown)))
    model = ckpt.build_model(device)
    constraint = None
    if args.meter_aware:
        from workbench.notation.meter_aware import meter_aware_constraint

        constraint = meter_aware_constraint(
            ckpt.tokenizer, max_chars=params.max_chars, end_on_tonic=args.end_on_tonic
        )
    tunes = sample(
        model, ckpt.tokenizer, prompt, args.num, params, constraint=constraint, device=device
    )
    if not args.keep_provenance:
        from workbench.notation.provenance import drop_provenance

        tunes = [drop_provenance(tune, prompt) for tune in tunes]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(args.num)))
    for i, tune in enumerate(tunes, 1):
        path = out / f"tune_{i:0{width}d}.abc"
        path.write_text(tune.rstrip("\n") + "\n", encoding="utf-8")
        print(path)
        if args.midi:
            _write_tune_midi(tune, path)
    return 0


def _sampling_params(args: argparse.Namespace, length: int) -> Any:
    """`generate`'s sampling options (for tunes or event pieces), checked; `length` caps each."""
    from models.sample import SamplingParams

    params = SamplingParams(
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        max_chars=length,
        seed=args.seed,
    )
    try:
        params.validate()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.num < 1:
        raise UsageError("--num must be at least 1")
    return params


def _generate_events(args: argparse.Namespace, ckpt: Any) -> int:
    """`generate` for a MIDI event model: piece_NNN.mid (and its events) per variation."""
    from models.device import resolve_device
    from models.sample import sample
    from workbench.midi_data import (
        TEMPO_KEY,
        DecodeError,
        MidiFileProblem,
        prompt_from_midi,
        prompt_tempo,
        write_midi,
    )

    tok = ckpt.tokenizer
    # The pieces play at the prompt file's tempo, else the training data's (in the settings).
    settings = tok.settings
    if args.prompt is not None or args.prompt_file is not None:
        raise UsageError("an event model takes its prompt from a MIDI file: --prompt-midi FILE")
    if args.midi:
        _warn("--midi is implied: an event model writes .mid files")
    prompt = ""
    if args.prompt_midi is not None:
        try:
            prompt = prompt_from_midi(tok.settings, args.prompt_midi, args.prompt_events)
            tempo = prompt_tempo(args.prompt_midi)
        except MidiFileProblem as exc:
            from models.errors import DataError

            raise DataError(f"{args.prompt_midi}: {exc}") from None
        if tempo is not None:
            settings = {**tok.settings, TEMPO_KEY: tempo}
        unknown = tok.unknown_chars([prompt])
        if unknown:
            _warn(
                f"the prompt has {len(unknown)} event(s) the model never saw (read as <unk>): "
                + " ".join(sorted(unknown)[:10])
            )
    # --max-chars, the older spelling, still sets an event model's length when --events is not.
    length = next((n for n in (args.events, args.max_chars) if n is not None), DEFAULT_EVENTS)
    limit = None
    if args.seconds is not None:
        from workbench.midi_data.length import SecondsLimit, events_cap

        try:
            limit = SecondsLimit(tok, args.seconds, settings)
        except ValueError as exc:
            raise UsageError(f"--seconds: {exc}") from None
        # The length decides; the event cap (--events, else a generous one) only guards.
        length = args.events if args.events is not None else events_cap(args.seconds)
    params = _sampling_params(args, length)
    if limit is None and not args.end_early:
        # A length in events is the piece's length, as one in seconds is: a musician asking
        # for 2,000 events should not get 40 because the model drew its end there.
        params.min_chars = length
    device = resolve_device(args.device)
    model = ckpt.build_model(device)
    t0 = time.perf_counter()
    pieces = sample(model, tok, prompt, args.num, params, constraint=limit, device=device)
    seconds = time.perf_counter() - t0
    if limit is not None:
        from workbench.midi_data.length import rendered_seconds, trim_to_seconds

        pieces = [trim_to_seconds(settings, text, args.seconds) for text in pieces]
        short = [
            i for i, text in enumerate(pieces, 1) if rendered_seconds(settings, text) < args.seconds
        ]
        if short:
            _warn(
                f"{len(short)} piece(s) stopped at the cap of {length:,} events before "
                f"{args.seconds:g} s (raise --events): " + ", ".join(map(str, short[:10]))
            )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(args.num)))
    status = 0
    for i, text in enumerate(pieces, 1):
        path = out / f"piece_{i:0{width}d}.mid"
        # The events beside the MIDI: what the model wrote, for reading and for evaluation.
        path.with_suffix(".events.txt").write_text(text.rstrip() + "\n", encoding="utf-8")
        try:
            rendered = write_midi(settings, text, path)
        except DecodeError as exc:
            _err(f"{path}: not written: {exc}")
            status = 1
            continue
        print(f"{path}\t{rendered.notes} notes, {rendered.seconds:.1f}s")
    generated = sum(len(t.split()) for t in pieces) - args.num * len(prompt.split())
    print(
        f"sampled {generated:,} events in {seconds:.2f}s ({generated / max(seconds, 1e-9):,.0f} "
        "events/s)",
        file=sys.stderr,
    )
    return status


def _write_tune_midi(tune: str, abc_path: Path) -> None:
    """`generate --midi`: tune_NNN.mid beside tune_NNN.abc; a tune music21 cannot read warns."""
    from workbench.notation.convert import ConversionError, write_midi

    try:
        print(write_midi(tune, abc_path.with_suffix(".mid")))
    except ConversionError as exc:
        _warn(f"{abc_path}: no MIDI written: {exc}")


# -- render --------------------------------------------------------------------------------


def _pick_tune(file: str, number: int | None) -> str:
    """The tune of FILE with `X:number`, else the number-th (from 1); the first by default."""
    from models.errors import DataError
    from workbench.corpus import load

    result = load([file])
    tunes = result.tunes
    if not tunes:
        reason = f" ({result.problems[0].message})" if result.problems else ""
        raise DataError(f"{file}: no tune to render{reason}")
    if number is None:
        return tunes[0].text
    by_reference = [t for t in tunes if t.reference == str(number)]
    if by_reference:
        return by_reference[0].text
    if 1 <= number <= len(tunes):
        return tunes[number - 1].text
    raise DataError(f"{file}: no tune X:{number}, and only {len(tunes)} tune(s) to count")


def _write_svg_pages(abc: str, out: Path) -> list[Path]:
    """OUT.svg for page 1, OUT-2.svg, OUT-3.svg, ... for the next pages."""
    from workbench.atomic_files import write_bytes_atomically
    from workbench.notation.convert import ConversionError
    from workbench.notation.render import render_svg_once

    result = render_svg_once(abc)
    if result.error is not None:
        raise ConversionError(result.error)
    paths = []
    for n, svg in enumerate(result.pages, 1):
        path = out if n == 1 else out.with_name(f"{out.stem}-{n}{out.suffix}")
        paths.append(write_bytes_atomically(path, svg.encode("utf-8")))
    return paths


def _render_writers(soundfont: Path | None = None) -> dict[str, Any]:
    """`render`'s outputs: option name -> writer(abc, path) returning the files it wrote.

    A new output format is one entry here and one option in the parser's output group.
    """
    from workbench.notation.convert import write_midi, write_musicxml

    return {
        "midi": lambda abc, path: [write_midi(abc, path)],
        "musicxml": lambda abc, path: [write_musicxml(abc, path)],
        "svg": _write_svg_pages,
        "wav": lambda abc, path: [_write_wav(abc, path, soundfont)],
    }


def _write_wav(abc: str, path: Path, soundfont: Path | None) -> Path:
    """Audio through the built-in synth (the best soundfont found, else its own tone)."""
    from workbench.notation.convert import ConversionError
    from workbench.playback.events import PlaybackError
    from workbench.playback.wav import render_abc_to_wav

    try:
        return render_abc_to_wav(abc, path, soundfont)
    except PlaybackError as exc:
        raise ConversionError(str(exc)) from None


def cmd_render(args: argparse.Namespace) -> int:
    from workbench.notation.convert import ConversionError

    soundfont = Path(args.soundfont) if args.soundfont else None
    if soundfont is not None and not soundfont.is_file():
        raise UsageError(f"{soundfont}: no such soundfont file")
    writers = _render_writers(soundfont)
    wanted = [(name, Path(getattr(args, name))) for name in writers if getattr(args, name)]
    if not wanted:
        options = ", ".join(f"--{name}" for name in writers)
        raise UsageError(f"give at least one output ({options})")
    abc = _pick_tune(args.file, args.tune)
    status = 0
    for name, path in wanted:  # one output failing does not stop the others
        try:
            for written in writers[name](abc, path):
                print(written)
        except ConversionError as exc:
            _err(f"{args.file}: no {name} written: {exc}")
            status = 1
        except OSError as exc:
            _err(f"{path}: {exc.strerror or exc}")
            status = 1
    return status


# -- corpus --------------------------------------------------------------------------------


def cmd_corpus_list(args: argparse.Namespace) -> int:
    from workbench.corpus import list_builtin

    infos = list_builtin()
    if args.json:
        print(json.dumps([dataclasses.asdict(info) for info in infos]))
        return 0
    for info in infos:
        print(
            f"corpus:{info.name:<15} {info.tunes:6d} tunes  {info.files:5d} files  "
            f"{info.description}"
        )
    return 0


def cmd_corpus_export(args: argparse.Namespace) -> int:
    from workbench.corpus import CORPUS_PREFIX, export_abc, export_start_end, load

    name = args.name
    spec = name if name.startswith(CORPUS_PREFIX) or Path(name).exists() else CORPUS_PREFIX + name
    result = load([spec])
    _report_problems(result.problems)
    fmt = args.format or ("start-end" if args.file.endswith(".txt") else "abc")
    writer = export_start_end if fmt == "start-end" else export_abc
    count = writer(result.tunes, args.file)
    print(f"wrote {count} tunes to {args.file}")
    return 0


def cmd_corpus_stats(args: argparse.Namespace) -> int:
    from workbench.corpus import load

    result = load(list(args.data))
    lengths = sorted(len(t.text) for t in result.tunes)
    chars = sorted({c for t in result.tunes for c in t.text})
    stats = {
        "tunes": len(lengths),
        "characters": sum(lengths),
        "files": result.sources,
        "vocabulary": len(chars),
        "median_tune_length": lengths[len(lengths) // 2] if lengths else 0,
        "problems": [str(p) for p in result.problems],
    }
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
    else:
        for key, value in stats.items():
            if key == "problems":
                print(f"problems: {len(value)}")
                for p in value[:MAX_PROBLEMS_SHOWN]:
                    print(f"  {p}")
            else:
                print(f"{key}: {value}")
    return 0


# -- activations ---------------------------------------------------------------------------


def cmd_activations(args: argparse.Namespace) -> int:
    from models.activations import capture
    from models.checkpoint import load_checkpoint
    from models.device import resolve_device
    from models.errors import DataError
    from workbench.corpus import load

    ckpt = load_checkpoint(args.checkpoint)
    events = ckpt.tokenizer.kind == "events"
    suffix = Path(args.file).suffix.lower()
    # An event model reads a MIDI file or an event text (.events.txt); a char model ABC text.
    midi = suffix in (".mid", ".midi", ".kar") or (events and suffix != ".abc")
    _check_data_kind(ckpt, midi, args.checkpoint)
    if events:
        from workbench.neurons.piece_input import events_from_file

        if args.tune != 1:
            raise UsageError("--tune picks a tune of an ABC file; an event model reads one piece")
        text = events_from_file(args.file, ckpt.tokenizer.settings)
    else:
        result = load([args.file])
        tunes = result.tunes
        if not tunes:
            reason = f" ({result.problems[0]})" if result.problems else ""
            raise DataError(f"{args.file}: no tune to read{reason}")
        if not 1 <= args.tune <= len(tunes):
            raise DataError(f"{args.file}: --tune {args.tune} is out of range (1 to {len(tunes)})")
        text = tunes[args.tune - 1].text
    device = resolve_device(args.device)
    unknown = ckpt.tokenizer.unknown_chars([text])
    if unknown:
        noun = ckpt.tokenizer.noun
        shown = " ".join(map(repr, sorted(unknown)))
        _warn(f"{noun}s the model never saw count as <unk>: {shown}")
    acts = capture(ckpt.build_model(device), ckpt.tokenizer, text, device=device)
    acts.save_npz(args.out)
    shapes = ", ".join(f"{k} {v.shape[0]}x{v.shape[1]}" for k, v in acts.arrays.items())
    print(f"wrote {args.out}: {len(acts)} {ckpt.tokenizer.unit}s; {shapes}")
    if args.probes:
        _print_probes(acts, args.probes)
    return 0


def _print_probes(acts: Any, top: int) -> None:
    """For each built-in probe of the capture's kind, the units that track it best."""
    import numpy as np

    from workbench.neurons.probes import ProbeError
    from workbench.neurons.reading import reading_for

    reading = reading_for(acts)
    keys = acts.state_keys()
    matrix = np.concatenate([acts[k] for k in keys], axis=1)
    names = [f"{k} #{u}" for k in keys for u in range(acts[k].shape[1])]
    for name, probe in reading.probes.items():
        try:
            ranking = reading.rank(name, matrix)
        except ProbeError as exc:
            print(f"{probe.label}: {exc}")
            continue
        symbol = "d" if ranking.method == "cohen_d" else "r"
        best = ", ".join(f"{names[u]} {symbol}={score:+.2f}" for u, score in ranking.top(top))
        print(f"{probe.label}: {best}")


def cmd_gui(args: argparse.Namespace) -> int:
    from workbench.app import main as gui_main

    return gui_main([])


# -- parser --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from models.config import ARCHS  # plain dataclasses: no torch import

    p = argparse.ArgumentParser(
        prog="workbench",
        description="Composition Workbench: train recurrent networks on tunes, evaluate them and "
        "generate new tunes. DATA is an .abc file, a <start>/<end> text file, a folder of them, "
        "or a built-in collection such as corpus:folk (see `workbench corpus list`).",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser(
        "train",
        help="train a model on tunes or MIDI",
        description="Train a character-level RNN/LSTM/GRU on ABC, or an event model on MIDI "
        "files, folders or corpus:bach-chorales. Writes RUN_DIR/config.json, "
        "metrics.jsonl, best.pt (best validation loss), last.pt (resumable) and samples/. "
        "With no model options it uses the recommended default recipe. Ctrl-C stops after the "
        "current step and leaves a resumable checkpoint.",
    )
    t.add_argument("data", nargs="+", metavar="DATA", help="files, folders or corpus:NAME")
    t.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory")
    t.add_argument(
        "--recipe",
        default="default",
        help="starting configuration: default, reports-gru, reports-lstm, reports-rnn, "
        "reports-004-midi, reports-002-midi, or a recipe file (.json, the shape of a run's "
        "config.json)",
    )
    g = t.add_argument_group("model")
    g.add_argument(
        "--arch",
        choices=list(ARCHS),
        help="lstm-dense and conv-lstm: the MIDI reports' 004 and 002 networks",
    )
    g.add_argument("--hidden", type=int, metavar="N", help="hidden units per layer")
    g.add_argument("--layers", type=int, metavar="N")
    g.add_argument("--dropout", type=float, metavar="P", help="between layers and before output")
    g.add_argument("--embedding", type=int, metavar="N", help="embedding size; 0 = one-hot input")
    g = t.add_argument_group("optimisation")
    g.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop", "adagrad"])
    g.add_argument(
        "--lr",
        type=float,
        metavar="X",
        help="peak learning rate (default 3e-3; with --init 1e-3, the fine-tuning default)",
    )
    g.add_argument("--momentum", type=float, metavar="M", help="SGD momentum")
    g.add_argument("--no-nesterov", action="store_true", help="plain momentum for SGD")
    g.add_argument("--weight-decay", type=float, metavar="W")
    g.add_argument("--schedule", choices=["constant", "cosine", "plateau", "step"])
    g.add_argument(
        "--warmup-steps", type=int, metavar="N", help="linear warm-up (default 20; --init: 100)"
    )
    g.add_argument("--grad-clip", type=float, metavar="NORM", help="0 disables clipping")
    g.add_argument("--batch-size", type=int, metavar="N")
    g.add_argument("--seq-len", type=int, metavar="N", help="truncated-BPTT chunk length")
    g.add_argument(
        "--batching",
        choices=["lanes", "walk"],
        help="lanes: shuffled tunes, state carried within each tune; "
        "walk: the reports' fixed in-order walk",
    )
    g = t.add_argument_group("MIDI data")
    g.add_argument(
        "--encoding",
        choices=["remi", "tsd", "midilike", "notes-chords"],
        help="how MIDI becomes events: remi (default; bars, positions, pitches, durations), "
        "tsd, midilike (MidiTok's timed encodings), or notes-chords (the reports' pitch names "
        "and chord normal orders, no durations, through music21; cached after the first read)",
    )
    g.add_argument(
        "--velocities", action="store_true", help="keep note velocities (an event per note)"
    )
    g = t.add_argument_group("run")
    g.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="epoch limit (default: none with --time-budget, else 30)",
    )
    g.add_argument("--time-budget", type=float, metavar="SECONDS", help="wall-clock limit")
    g.add_argument(
        "--patience",
        type=int,
        metavar="N",
        help="stop after N evaluations in which the validation loss, averaged over the "
        "last 3, did not improve (default 5; 0 = never)",
    )
    g.add_argument(
        "--eval-every",
        type=_parse_eval_every,
        metavar="N",
        help="evaluate every N steps, or every N epochs with a suffix: 2e",
    )
    g.add_argument("--val-fraction", type=float, metavar="F", help="share of tunes held out")
    g.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="seeds both the held-out split and training (weights, batch order, dropout); "
        "default 1234, so another seed is also another split",
    )
    g.add_argument("--device", metavar="DEV", help="auto (CUDA when present), cpu, cuda, cuda:N")
    g.add_argument("--threads", type=int, metavar="N", help="CPU threads for torch")
    g.add_argument(
        "--init",
        metavar="CKPT",
        help="fine-tune from this checkpoint (keeps its architecture; lr 1e-3, 100 warm-up "
        "steps and the default dropout 0.5 unless --lr/--warmup-steps/--dropout say otherwise)",
    )
    g.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="CKPT",
        help="continue the run in RUN_DIR (from RUN_DIR/last.pt, or CKPT)",
    )
    g.add_argument("--force", action="store_true", help="start over in a RUN_DIR that has a run")
    g = t.add_argument_group("output")
    g.add_argument("--json", action="store_true", help="print each event as a JSON line")
    g.add_argument("--quiet", action="store_true", help="print only the final line")
    g.add_argument("--print-every", type=float, default=5.0, metavar="SECONDS")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser(
        "evaluate",
        help="loss and accuracy of a checkpoint on tunes",
        description="Cross-entropy (nats and bits per character) and "
        "next-character accuracy, each tune read from its start.",
    )
    e.add_argument("checkpoint", metavar="CKPT")
    e.add_argument("data", nargs="+", metavar="DATA")
    e.add_argument(
        "--json", action="store_true", help='print {"loss_nats_per_char", "accuracy", "chars", ...}'
    )
    e.add_argument("--device", default="auto")
    e.set_defaults(func=cmd_evaluate)

    gen = sub.add_parser(
        "generate",
        help="sample new tunes (or MIDI pieces) from a checkpoint",
        description="Writes one .abc file per tune into DIR; for a MIDI event model, one .mid "
        "file per piece (with its events beside it in .events.txt).",
    )
    gen.add_argument(
        "checkpoint",
        nargs="?",
        metavar="CKPT",
        help="a checkpoint (.pt); default: the shipped model in models/pretrained/",
    )
    gen.add_argument("--out", required=True, metavar="DIR")
    gen.add_argument("--prompt", metavar="TEXT", help="ABC to start from, e.g. 'M:6/8\\nK:G\\n'")
    gen.add_argument("--prompt-file", metavar="FILE")
    gen.add_argument("--temperature", type=float, default=1.0, metavar="T")
    gen.add_argument("--top-k", type=int, default=0, metavar="K", help="0 = off")
    gen.add_argument("--top-p", type=float, default=1.0, metavar="P", help="1.0 = off")
    gen.add_argument("--num", type=int, default=1, metavar="N", help="tunes, sampled as a batch")
    gen.add_argument(
        "--max-chars",
        type=int,
        metavar="N",
        help=f"ABC models: the longest a tune may run (default {DEFAULT_MAX_CHARS}, as in the "
        "Generation pane)",
    )
    gen.add_argument(
        "--events",
        type=int,
        metavar="N",
        help=f"MIDI models: each piece's length in events (default {DEFAULT_EVENTS}, as in the "
        "Generation pane); the model's own end is held back until then unless --end-early",
    )
    gen.add_argument(
        "--end-early",
        action="store_true",
        help="MIDI models: let the model end a piece before --events, where it learnt to end",
    )
    gen.add_argument(
        "--seconds",
        type=float,
        metavar="S",
        help="MIDI models: end each piece when it plays for S seconds (no earlier end; "
        "--events, if given, still caps the events)",
    )
    gen.add_argument(
        "--argmax", action="store_true", help="always the most likely token (the reports' mode)"
    )
    gen.add_argument(
        "--prompt-midi",
        metavar="FILE",
        help="MIDI models: start from the opening of this MIDI file (see --prompt-events)",
    )
    gen.add_argument(
        "--prompt-events",
        type=int,
        default=64,
        metavar="N",
        help="how many events of --prompt-midi to take (default 64)",
    )
    gen.add_argument("--seed", type=int, metavar="S")
    gen.add_argument("--device", default="auto")
    gen.add_argument(
        "--midi", action="store_true", help="also write tune_NNN.mid beside each tune_NNN.abc"
    )
    gen.add_argument(
        "--meter-aware",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="mask characters that would overfill a bar under the tune's M:/L: and force a bar "
        "line when a bar is full, so every bar fits (default: on)",
    )
    gen.add_argument(
        "--end-on-tonic",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --meter-aware: end a tune only on its key's tonic and after 8 bars "
        "(default: on; real tunes end on the tonic 93-95 %% of the time, the model alone 38 %%)",
    )
    gen.add_argument(
        "--keep-provenance",
        action="store_true",
        help="keep the origin, source, transcriber, notes... (O:, S:, Z:, N:, ...) lines the "
        "model writes into the header, and R: genre lists (by default they are dropped: a "
        "generated tune has no origin)",
    )
    gen.set_defaults(func=cmd_generate)

    r = sub.add_parser(
        "render",
        help="convert a tune to MIDI, MusicXML, SVG or WAV",
        description="Convert one tune of FILE (an .abc file) to a standard MIDI file and "
        "MusicXML (through music21) or engrave it as SVG (through verovio; page 1 in OUT.svg, "
        "page 2 in OUT-2.svg, ...). Give at least one output.",
    )
    r.add_argument("file", metavar="FILE")
    r.add_argument(
        "--tune",
        type=int,
        metavar="N",
        help="the tune with X:N, else the N-th tune of FILE (from 1); default: the first",
    )
    out = r.add_argument_group("outputs")
    out.add_argument("--midi", metavar="OUT.mid")
    out.add_argument("--musicxml", metavar="OUT.musicxml")
    out.add_argument("--svg", metavar="OUT.svg")
    out.add_argument("--wav", metavar="OUT.wav", help="audio from the built-in synth")
    r.add_argument(
        "--soundfont",
        metavar="SF2",
        help="soundfont for --wav; default: a General MIDI soundfont found on the system "
        "(else the built-in tone)",
    )
    r.set_defaults(func=cmd_render)

    c = sub.add_parser("corpus", help="built-in collections and data statistics")
    csub = c.add_subparsers(dest="corpus_command", required=True, metavar="ACTION")
    cl = csub.add_parser("list", help="music21's bundled folk collections")
    cl.add_argument("--json", action="store_true")
    cl.set_defaults(func=cmd_corpus_list)
    ce = csub.add_parser("export", help="write a collection (or any DATA) to one file")
    ce.add_argument("name", metavar="NAME", help="a corpus name (oneills1850, folk, ...) or DATA")
    ce.add_argument("file", metavar="FILE", help=".abc tunebook, or .txt for <start>/<end>")
    ce.add_argument("--format", choices=["abc", "start-end"])
    ce.set_defaults(func=cmd_corpus_export)
    cs = csub.add_parser("stats", help="tunes, characters and problems of DATA")
    cs.add_argument("data", nargs="+", metavar="DATA")
    cs.add_argument("--json", action="store_true")
    cs.set_defaults(func=cmd_corpus_stats)

    a = sub.add_parser(
        "activations",
        help="record a checkpoint's neuron activations over a tune or MIDI piece",
        description="Run one tune of FILE (an .abc or <start>/<end> .txt file) through CKPT "
        "and save every layer's hidden (and LSTM cell) state per character, the "
        "next-character probabilities, the text and the vocabulary to an .npz file "
        "(arrays layer0.hidden, layer0.cell, ..., probs; numpy.load(allow_pickle=False)). "
        "For a MIDI event model FILE is a MIDI file, encoded with the checkpoint's own "
        "settings, or a generated piece's .events.txt; rows are events, and the file also "
        "holds the encoding's settings.",
    )
    a.add_argument("checkpoint", metavar="CKPT")
    a.add_argument("file", metavar="FILE")
    a.add_argument("--out", required=True, metavar="NPZ")
    a.add_argument("--tune", type=int, default=1, metavar="N", help="which tune of FILE (from 1)")
    a.add_argument(
        "--probes",
        type=int,
        nargs="?",
        const=5,
        default=0,
        metavar="N",
        help="also print the N units (default 5) that track each built-in probe best "
        "(for event models: on a beat, position in the bar, chord, pitch height, rest)",
    )
    a.add_argument("--device", default="cpu")
    a.set_defaults(func=cmd_activations)

    gui = sub.add_parser("gui", help="open the workbench window")
    gui.set_defaults(func=cmd_gui)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from workbench.corpus import CorpusError

    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        _err(str(exc))
        return 2
    except CorpusError as exc:
        _err(str(exc))
        return 1
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Exception as exc:  # engine errors are the user's to fix; anything else is a bug
        from models.errors import EngineError

        if isinstance(exc, EngineError | OSError | UnicodeError):
            name = getattr(exc, "filename", None)
            msg = f"{name}: {exc.strerror}" if isinstance(exc, OSError) and name else str(exc)
            _err(msg)
            return 1
        raise


if __name__ == "__main__":
    raise SystemExit(main())
