"""Mutation score of core modules against their own tests (mutmut; not part of the test suite).

    .venv/bin/python benchmarks/mutation.py [MODULE ...] [--jobs 2] [--keep] [--only GLOB ...]
    .venv/bin/python benchmarks/mutation.py --list

MODULE is a key of MODULES below (e.g. `models/sample.py`); none runs every module (hours).
For each module mutmut (pinned in pyproject's dev extras) copies the code into a scratch folder
(build/mutation/NAME/, ignored by git), makes small changes to the module one at a time (an
operator swapped, a constant changed, a call argument dropped...) and runs only the module's own
test files against each: a mutant is *killed* when a test fails, *survives* when all pass.
Survivors listed in benchmarks/mutation_equivalents.txt with a reason (the change cannot alter
behaviour) count as *equivalent* and leave the score:

    score = killed / (killed + survived - equivalent)

Timeouts count as killed (a test noticed: it hung); mutants no test reaches count as survived.
Prints one RESULT line per module and the surviving mutants' names (`mutmut show NAME` in the
scratch folder prints a mutant's diff). Run it niced on a busy machine: `nice -n 10 ...`.
`--only GLOB` (repeatable) runs only the mutants whose names match (mutmut's names, e.g.
`workbench.notation.meter.x_parse_meter*` or `*BarScannerǁ_special__mutmut*`), so a big module can
be scored function by function; the score then counts only the mutants that were run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "benchmarks" / "mutation_equivalents.txt"

# module -> its own tests (the files that exist to test it; a mutant one of them cannot see is a
# gap in those tests, even if some far-away test would happen to notice it).
MODULES: dict[str, list[str]] = {
    "models/sample.py": [
        "tests/models/test_models_sample.py",
        "tests/models/test_models_sample_definitions.py",
    ],
    "workbench/notation/validate.py": [
        "tests/notation/test_notation_validate.py",
        "tests/notation/test_notation_validate_fields.py",
        "tests/notation/test_notation_validate_details.py",
    ],
    "models/tokenizer.py": [
        "tests/models/test_models_tokenizer.py",
        "tests/models/test_models_event_tokenizer.py",
        "tests/models/test_models_tokenizer_details.py",
    ],
    "models/checkpoint.py": [
        "tests/models/test_models_checkpoint.py",
        "tests/models/test_models_event_tokenizer.py",
        "tests/models/test_models_checkpoint_details.py",
    ],
    "workbench/notation/meter.py": [
        "tests/notation/test_notation_meter.py",
        "tests/notation/test_notation_meter_scanner.py",
        "tests/notation/test_notation_meter_oracles.py",
    ],
    "workbench/notation/meter_aware.py": [
        "tests/notation/test_notation_meter_aware.py",
        "tests/notation/test_notation_meter_aware_shape.py",
        "tests/notation/test_notation_meter_aware_rules.py",
        "tests/notation/test_notation_meter_aware_details.py",
        "tests/notation/test_notation_meter_aware_more.py",
        "tests/notation/test_notation_meter_aware_sections.py",
        "tests/notation/test_notation_meter_aware_endings.py",
        "tests/notation/test_notation_meter_aware_collections.py",
    ],
    "workbench/playback/events.py": [
        "tests/playback/test_playback_events.py",
        "tests/playback/test_playback_player.py",
        "tests/playback/test_playback_follow.py",
    ],
    "workbench/playback/player.py": [
        "tests/playback/test_playback_player.py",
        "tests/playback/test_playback_ports.py",
        "tests/playback/test_playback_player_details.py",
    ],
    "workbench/notation/convert.py": [
        "tests/notation/test_notation_convert.py",
        "tests/notation/test_notation_abc2midi_agreement.py",
        "tests/notation/test_notation_midi_agreement.py",
        "tests/notation/test_notation_convert_export.py",
        "tests/notation/test_notation_convert_details.py",
    ],
    "models/evaluate.py": ["tests/models/test_models_evaluate.py"],
    # Score these two with --only on what you changed: their other functions' own tests are
    # spread over the UI and CLI suites.
    "workbench/generation.py": [
        "tests/test_generation_core.py",
        "tests/midi/test_midi_musicxml_export.py",
    ],
    "workbench/midi_data/encodings.py": [
        "tests/midi/test_midi_roundtrip.py",
        "tests/midi/test_midi_one_note_per_key.py",
    ],
    "models/data.py": [
        "tests/models/test_models_data.py",
        "tests/models/test_distributed.py",
        "tests/models/test_models_data_details.py",
    ],
    "workbench/runs.py": [
        "tests/app/test_app_run_tail.py",
        "tests/fuzz/test_fuzz_runs.py",
        "tests/ui/test_ui_run_history.py",
    ],
    "workbench/corpus/tune.py": ["tests/corpus/test_corpus_tune.py"],
    "workbench/corpus/start_end.py": ["tests/corpus/test_corpus_start_end.py"],
    "workbench/corpus/abc_split.py": ["tests/corpus/test_corpus_abc_split.py"],
    "workbench/corpus/stats.py": ["tests/corpus/test_corpus_stats.py"],
    "workbench/corpus/text.py": ["tests/corpus/test_corpus_text.py"],
    "workbench/corpus/builtin.py": ["tests/corpus/test_corpus_builtin.py"],
    "workbench/corpus/loader.py": ["tests/corpus/test_corpus_loader.py"],
    # Big and slow (each test file 5-17 s): score it function by function with --only.
    "models/train.py": [
        "tests/models/test_models_train.py",
        "tests/models/test_models_train_log_interval.py",
        "tests/models/test_models_training_faults.py",
        "tests/models/test_models_train_rules.py",
        "tests/models/test_models_train_details.py",
    ],
}

# What mutmut's `results --all true` calls each state, mapped onto the score's terms.
KILLED = {"killed", "timeout"}
SURVIVED = {"survived", "no tests"}
# Mutants left out by --only: neither judged nor reported.
NOT_RUN = {"not checked"}


def read_equivalents(path: Path = EQUIVALENTS) -> dict[str, str]:
    """`mutant name: reason` lines (blank lines and # comments skipped) -> {name: reason}."""
    found: dict[str, str] = {}
    if not path.is_file():
        return found
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, reason = line.partition(":")
        if not sep or not reason.strip():
            raise SystemExit(f"{path}:{number}: write `mutant_name: why it changes nothing`")
        found[name.strip()] = reason.strip()
    return found


def prepare(module: str, tests: list[str], work: Path) -> None:
    """A scratch copy of the code and tests with a setup.cfg that points mutmut at `module`."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in ("models", "workbench", "tests"):
        shutil.copytree(ROOT / name, work / name, ignore=skip)
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
    package = module.split("/")[0]
    other = "workbench" if package == "models" else "models"
    lines = [
        "[mutmut]",
        f"source_paths = {package}/",
        f"only_mutate = {module}",
        f"also_copy =\n    {other}/",
        "pytest_add_cli_args_test_selection =\n" + "".join(f"    {t}\n" for t in tests),
        "pytest_add_cli_args =\n    -p\n    no:randomly\n    -p\n    no:cacheprovider",
        "use_git_change_detection = false",
        "",
    ]
    (work / "setup.cfg").write_text("\n".join(lines))


def results(work: Path) -> dict[str, str]:
    """{mutant name: state} from `mutmut results --all true` run in `work`."""
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(re.findall(r"^\s+(\S+): (.+?)\s*$", out, flags=re.M))


def score(states: dict[str, str], equivalents: dict[str, str]) -> dict[str, object]:
    killed = sorted(n for n, s in states.items() if s in KILLED)
    survived = sorted(n for n, s in states.items() if s in SURVIVED)
    equivalent = [n for n in survived if n in equivalents]
    live = [n for n in survived if n not in equivalents]
    other = sorted(f"{n} ({s})" for n, s in states.items() if s not in KILLED | SURVIVED | NOT_RUN)
    judged = len(killed) + len(live)
    return {
        "killed": len(killed),
        "survived": len(live),
        "equivalent": len(equivalent),
        "other": other,
        "score": len(killed) / judged if judged else float("nan"),
        "survivors": live,
        # Listed as equivalent but killed now: the note is stale.
        "stale": sorted(n for n in killed if n in equivalents),
        "not_run": sum(1 for s in states.values() if s in NOT_RUN),
    }


def run_module(
    module: str, jobs: int, keep: bool, only: list[str] | None = None
) -> dict[str, object]:
    tests = [t for t in MODULES[module] if (ROOT / t).is_file()]
    missing = sorted(set(MODULES[module]) - set(tests))
    if missing:
        print(f"note: {', '.join(missing)} not found; running without", flush=True)
    work = ROOT / "build" / "mutation" / module.replace("/", "_").removesuffix(".py")
    prepare(module, tests, work)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen"}
    print(f"mutating {module} with {' '.join(tests)} in {work}", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *(only or [])],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-4000:], sep="\n")
        raise SystemExit(f"mutmut failed on {module} (exit {proc.returncode})")
    outcome = score(results(work), read_equivalents())
    if not keep:
        shutil.rmtree(work / "mutants", ignore_errors=True)
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="keys of MODULES (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--keep", action="store_true", help="keep build/mutation/*/mutants")
    parser.add_argument("--list", action="store_true", help="list the modules and their tests")
    parser.add_argument(
        "--only",
        action="append",
        metavar="GLOB",
        help="run only mutants whose names match (repeatable; mutmut's names or fnmatch globs)",
    )
    args = parser.parse_args()
    if args.list:
        for module, tests in MODULES.items():
            print(module, "<-", " ".join(tests))
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; --list shows them")
    for module in args.modules or list(MODULES):
        r = run_module(module, args.jobs, args.keep, args.only)
        for name in r["survivors"]:
            print(f"  survived: {name}")
        for name in r["stale"]:
            print(f"  killed but listed as equivalent (remove the line): {name}")
        for name in r["other"]:
            print(f"  not judged: {name}")
        print(
            f"RESULT {module}: killed {r['killed']}, survived {r['survived']}, "
            f"equivalent {r['equivalent']}, score {r['score']:.1%}"
            + (f" (--only: {r['not_run']} other mutants not run)" if args.only else ""),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
