#!/usr/bin/env bash
# Build `dist/Composition Workbench/` with PyInstaller (packaging/workbench.spec) and check that
# the bundle works headless.
#
#     packaging/build.sh            build, then check
#     packaging/build.sh --check    check an existing bundle only
#
# Needs the checkout's .venv with the gui extra (./scripts/setup.sh); installs the pinned
# PyInstaller (packaging/requirements.txt) into it when missing. The build runs niced; it takes
# several minutes on 2 cores (torch and Qt are most of the bundle).
#
# The checks, each in a fresh home folder and under QT_QPA_PLATFORM=offscreen: both
# executables answer --version; the window opens and closes cleanly; `workbench corpus list`
# finds music21's collections in the bundle; `workbench generate --midi` writes a tune and a
# MIDI file; `workbench render` engraves it with verovio (in a spawned child process) and
# synthesises a WAV; `workbench --bundle-check` trains a few steps in the GUI's spawned trainer
# process, converts a Bach chorale through music21's corpus and loads the shipped model. Then it
# prints the bundle's size and its start-up time (benchmarks/startup.py).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
BUNDLE="$ROOT/dist/Composition Workbench"
VERSION="$("$PY" -c 'import workbench; print(workbench.__version__)')"

if [[ "${1:-}" != "--check" ]]; then
    if ! "$PY" -m PyInstaller --version >/dev/null 2>&1; then
        "$PY" -m pip install -r packaging/requirements.txt
    fi
    nice -n 10 "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" packaging/workbench.spec
fi
[[ -x "$BUNDLE/workbench-gui" && -x "$BUNDLE/workbench" ]] || {
    echo "build.sh: no bundle in $BUNDLE" >&2
    exit 1
}

WORK="$(mktemp -d -t wb-bundle-check-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_CACHE_HOME="$WORK/home/.cache"
export XDG_DATA_HOME="$WORK/home/.local/share" QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1
mkdir -p "$HOME"
# Run from elsewhere than the checkout: nothing may come from the source tree.
cd "$WORK"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
step() { echo "== $*"; }

step "--version"
[[ "$("$BUNDLE/workbench" --version)" == "workbench $VERSION" ]] || fail "workbench --version"
[[ "$("$BUNDLE/workbench-gui" --version)" == "workbench-gui $VERSION" ]] || fail "workbench-gui --version"

step "window opens and closes"
timeout 120 "$BUNDLE/workbench-gui" --quit-after 1000 >"$WORK/gui.out" 2>"$WORK/gui.err" ||
    fail "workbench-gui exited with $? ($(tail -5 "$WORK/gui.err"))"
grep -qx "window ready" "$WORK/gui.out" || fail "no window ($(tail -5 "$WORK/gui.err"))"

step "corpus list"
"$BUNDLE/workbench" corpus list | tee "$WORK/corpus.txt"
for name in oneills1850 ryansMammoth airdsAirs essenFolksong miscFolk; do
    grep -q "corpus:$name " "$WORK/corpus.txt" || fail "corpus:$name missing from the bundle"
done

step "generate a tune and its MIDI (the shipped model)"
timeout 300 "$BUNDLE/workbench" generate --out "$WORK/gen" --num 1 --seed 7 --midi
[[ "$(head -c 4 "$WORK/gen/tune_001.mid")" == "MThd" ]] || fail "no MIDI file written"
grep -q "^K:" "$WORK/gen/tune_001.abc" || fail "the generated tune has no K: line"

step "render: SVG (verovio child process) and WAV"
timeout 300 "$BUNDLE/workbench" render "$WORK/gen/tune_001.abc" --svg "$WORK/tune.svg" --wav "$WORK/tune.wav"
grep -q "<svg" "$WORK/tune.svg" || fail "no SVG engraved"
[[ "$(head -c 4 "$WORK/tune.wav")" == "RIFF" ]] || fail "no WAV written"

step "inside the bundle: spawned trainer, music21 corpus, shipped model"
timeout 600 "$BUNDLE/workbench" --bundle-check "$WORK/check" || fail "bundle check"

step "size and start-up"
du -sh "$BUNDLE" | sed 's/^/bundle size: /'
"$PY" "$ROOT/benchmarks/startup.py" --repeats 5 "$BUNDLE/workbench-gui"
echo "build.sh: all checks passed"
