"""Shared pieces of the fuzz suite: the active profile, a per-case guard, and mutations.

The profiles (`register_profiles`, called by `conftest.py`): `fuzz`, the default: fixed seed, no
example database, sized so the whole suite runs in about a minute on two cores; `thorough`:
many more cases, chosen with `HYPOTHESIS_PROFILE=thorough`. They are applied per test through
:func:`fuzz_settings` rather than loaded globally, so the other property tests of the suite keep
their own settings whichever folder pytest collects first.

:func:`fuzz_case` wraps a test body (under `@given`): it counts every case it runs, per test,
for the summary `conftest.py` prints at the end of the session, and it stops a case that runs
longer than `CASE_SECONDS` with :class:`CaseTimeout` (SIGALRM). Hypothesis's own `deadline`
only judges a case after it returns, so it can never catch a hang; the alarm does (in Python
code; a hang inside one C call is caught when the call returns).
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import signal
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: The environment variable that picks the profile, as in Hypothesis's own docs.
PROFILE_ENV = "HYPOTHESIS_PROFILE"
DEFAULT_PROFILE = "fuzz"
#: The longest one case may run. The slowest cases (a MIDI file through MidiTok, a checkpoint
#: through torch.load) take a few hundredths of a second; a loaded machine makes that tenfold.
CASE_SECONDS = 20.0

#: Cases run per test node id, filled by :func:`fuzz_case`, read by conftest's summary.
CASES: Counter[str] = Counter()


class CaseTimeout(Exception):
    """One fuzz case ran longer than `CASE_SECONDS`: a hang, reported as a failure."""


def register_profiles() -> None:
    """Register the `fuzz` and `thorough` profiles (conftest.py says what each is for)."""
    common = {
        "derandomize": True,
        "database": None,
        "deadline": None,
        # Real corpora and files make large inputs on purpose; generation is not the problem.
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
        "print_blob": True,
    }
    settings.register_profile("fuzz", max_examples=400, **common)
    settings.register_profile("thorough", max_examples=8000, **common)


def profile_name() -> str:
    return os.environ.get(PROFILE_ENV, DEFAULT_PROFILE)


def fuzz_settings(share: float = 1.0, **overrides) -> settings:
    """The active profile's settings, with `share` of its `max_examples` (for a slow target:
    the `thorough` profile scales it up the same way)."""
    register_profiles()  # idempotent: also when this module is used outside pytest
    profile = settings.get_profile(profile_name())
    examples = max(1, round(profile.max_examples * share))
    return settings(profile, max_examples=examples, **overrides)


def _current_test() -> str:
    # pytest sets this while a test runs: "tests/fuzz/test_x.py::test_y (call)".
    return os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]


def fuzz_case(test: Callable) -> Callable:
    """Count each case of `test` and stop it after `CASE_SECONDS` (put it under `@given`)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        CASES[_current_test()] += 1
        if threading.current_thread() is not threading.main_thread():
            return test(*args, **kwargs)

        def expire(signum, frame):
            raise CaseTimeout(f"one case ran longer than {CASE_SECONDS:g} s")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
        try:
            return test(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    return run


# -- mutations of real bytes and real text ---------------------------------------------------


class Material:
    """Real inputs to mutate, with a short repr (Hypothesis prints a strategy's arguments)."""

    def __init__(self, name: str, items) -> None:
        self.name = name
        self.items = list(items)

    def __repr__(self) -> str:
        return f"<{len(self.items)} {self.name}>"

    def __len__(self) -> int:
        return len(self.items)


@st.composite
def mutated_bytes(draw, originals: Material, max_edits: int = 6) -> bytes:
    """One of `originals` with a few edits: bit flips, byte overwrites, a range dropped or
    duplicated, random bytes inserted, or the file cut short."""
    data = bytearray(draw(st.sampled_from(originals.items)))
    for _ in range(draw(st.integers(1, max_edits))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "byte", "drop", "dup", "insert", "truncate"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            data[at] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, draw(st.integers(0, 255))]))
        elif kind == "drop":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "dup":
            data[at:at] = data[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at:]
    return bytes(data)


#: Pieces of ABC and of what breaks it, spliced into real tunes.
ABC_SNIPPETS = [
    "|", "||", "|]", "[|", "|:", ":|", "::", "|1", ":|2", "[1", "[", "]", "(", ")", "{", "}",
    '"', '"Am"', "!trill!", "!", "+", "(3", "(3:2:3", ">", "<", ">>", "/", "//", "2", "3/2",
    "z", "Z4", "x", "^", "_", "=", "^^", "'", ",", "~", ".", "-", "&", "$", "\\", "%", "%%",
    "[M:3/4]", "[L:1/16]", "[K:D]", "[M:", "M:", "L:", "K:", "X:", "T:", "Q:1/4=120", "M:none",
    "M:0/0", "L:0/1", "M:9999999999/1", "L:1/99999999999", "K:none", "K:Hp", "K:C clef=bass",
    "<start>", "<end>", "\n", "\n\n", "\t", " ", "\x00", "\ufeff", "\r", "é", "♯", "𝄞",
]  # fmt: skip


@st.composite
def mutated_text(draw, originals: Material, max_edits: int = 6) -> str:
    """One of `originals` with a few edits: ABC snippets inserted, spans deleted or repeated,
    characters replaced by anything, lines shuffled or cut."""
    text = draw(st.sampled_from(originals.items))
    for _ in range(draw(st.integers(1, max_edits))):
        kind = draw(st.sampled_from(["snippet", "snippet", "delete", "repeat", "char", "lines"]))
        at = draw(st.integers(0, len(text)))
        if kind == "snippet":
            text = text[:at] + draw(st.sampled_from(ABC_SNIPPETS)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif kind == "repeat":
            text = text[:at] + text[at : at + draw(st.integers(1, 40))] * 3 + text[at:]
        elif kind == "char":
            text = text[:at] + draw(st.characters()) + text[at + 1 :]
        else:
            lines = text.split("\n")
            lines = draw(st.permutations(lines)) if len(lines) < 40 else lines[: len(lines) // 2]
            text = "\n".join(lines)
    return text


# -- real material ----------------------------------------------------------------------------

#: music21's folk collections the real inputs are drawn from (a few files of each).
_CORPORA = ("ryansMammoth", "oneills1850", "essenFolksong", "airdsAirs", "miscFolk")


@functools.cache
def real_abc_chunks(tunes_per_chunk: int = 4, per_corpus: int = 12) -> list[bytes]:
    """Raw bytes of real tunebooks from music21's corpora, comments and free text included, cut
    at `X:` lines into pieces of a few tunes (a few KiB: big enough to hold every construct the
    files use, small enough that a case stays fast)."""
    from workbench.corpus.builtin import builtin_files

    chunks: list[bytes] = []
    for name in _CORPORA:
        found: list[bytes] = []
        for _, path in builtin_files(f"corpus:{name}"):
            raw = path.read_bytes()
            starts = [m.start() for m in re.finditer(rb"(?m)^X:", raw)] or [0]
            starts[0] = 0  # the file's opening (comments, free text) stays with its first tune
            bounds = [*starts[::tunes_per_chunk], len(raw)]
            found.extend(raw[a:b] for a, b in list(itertools.pairwise(bounds))[:3])
            if len(found) >= per_corpus:
                break
        chunks.extend(found[:per_corpus])
    return chunks


@functools.cache
def real_tunes(limit: int = 120) -> list[str]:
    """Tune texts as the loader gives them, from several of music21's collections."""
    from workbench.corpus.abc_split import split_abc
    from workbench.corpus.text import decode_bytes, normalise_text

    tunes = []
    for chunk in real_abc_chunks():
        found, _ = split_abc(normalise_text(decode_bytes(chunk)), "real")
        tunes.extend(t.text for t in found)
    return tunes[:: max(1, len(tunes) // limit)][:limit]


@functools.cache
def real_run() -> Path:
    """A real run directory: a tiny LSTM trained 12 steps on 30 of music21's miscFolk tunes by
    the real trainer (config.json, metrics.jsonl, best.pt, last.pt with its trainer state,
    samples/). Made once a session in a temporary folder removed at exit."""
    import atexit
    import shutil
    import tempfile

    from models.config import ModelConfig, RunConfig, TrainConfig
    from models.train import Control, train
    from workbench.corpus import load

    folder = Path(tempfile.mkdtemp(prefix="fuzz-run-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    texts = [t.text for t in load(["corpus:miscFolk"]).tunes]
    cfg = RunConfig(
        model=ModelConfig(arch="lstm", hidden=24, layers=1, embedding=8, dropout=0.0),
        train=TrainConfig(
            batch_size=4,
            seq_len=32,
            epochs=1,
            eval_every=4,
            patience=0,
            sample_chars=20,
            device="cpu",
            seed=7,
            threads=1,
        ),
        recipe="fuzz",
    )
    steps: list[int] = []
    control = Control(stop=lambda: len(steps) >= 12)
    run_dir = folder / "run"
    for event in train(
        cfg, texts[:30], sorted(texts[30:60], key=len)[:3], run_dir, control=control
    ):
        if event["event"] == "step":
            steps.append(event["step"])
    return run_dir


@functools.cache
def real_midi_files() -> dict[str, bytes]:
    """Real MIDI bytes: music21's own MIDI test files (type 0 and 1, tempo and key changes,
    sysex, running status), a two-hand file written by mido, and a folk tune from music21's
    corpus written out as MIDI by music21."""
    import tempfile

    import music21
    from midi_files import write_mido_file

    files = {
        path.name: path.read_bytes()
        for path in sorted(Path(music21.__file__).parent.glob("midi/testPrimitive/*.mid"))
        if path.stat().st_size <= 20_000  # the 67 KB one makes every case slow
    }
    with tempfile.TemporaryDirectory() as folder:
        files["two_hands.mid"] = write_mido_file(Path(folder, "two_hands.mid")).read_bytes()
        tune = music21.converter.parse(real_tunes()[0], format="abc")
        files["folk_tune.mid"] = Path(tune.write("midi", Path(folder, "tune.mid"))).read_bytes()
    return files


@functools.cache
def event_checkpoint() -> Path:
    """A REMI event model's checkpoint (format version 2: event vocabulary and MidiTok settings
    inside), a tiny random network, its vocabulary fitted on `real_midi_files`."""
    import atexit
    import shutil
    import tempfile

    import torch

    from models.checkpoint import Checkpoint, save_checkpoint
    from models.config import ModelConfig, RunConfig, TrainConfig
    from models.networks import build_network
    from models.tokenizer import EventTokenizer
    from workbench.midi_data import load_midi, make_settings

    folder = Path(tempfile.mkdtemp(prefix="fuzz-ckpt-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for name, data in real_midi_files().items():
        (folder / name).write_bytes(data)
    settings = make_settings("remi")
    tokenizer = EventTokenizer.fit(load_midi([folder], settings).texts, settings)
    config = RunConfig(
        model=ModelConfig(arch="gru", hidden=16, layers=1, embedding=8, dropout=0.0),
        train=TrainConfig(device="cpu"),
        recipe="fuzz",
    )
    torch.manual_seed(0)
    network = build_network(config.model, len(tokenizer))
    path = folder / "events.pt"
    save_checkpoint(path, Checkpoint(config, tokenizer, network.state_dict(), step=3))
    return path
