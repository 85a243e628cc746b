#!/usr/bin/env bash
# `pip install .` (a real, non-editable install) into a clean temporary venv, then check that
# the installed entry points work from outside the checkout:
#   - `workbench --version` and `workbench-gui --version` answer;
#   - the modules, the shipped model and the icon come from the venv's site-packages;
#   - `workbench generate --midi` writes a tune and its MIDI file with the shipped model;
#   - the window opens and closes under QT_QPA_PLATFORM=offscreen.
#
#     scripts/check_install.sh          (a few minutes; needs the package index for the deps)
#
# torch is installed first with the same pin as scripts/setup.sh (the local CPU wheel; an
# unpinned torch pulls GBs of CUDA packages). PYTHON picks the interpreter (default: the one
# .venv was made from, else python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${PYTHON:-}" ]]; then
    PYTHON="$("$ROOT/.venv/bin/python" -c 'import sys; print(sys._base_executable)' 2>/dev/null || echo python3)"
fi
WORK="$(mktemp -d -t wb-install-check-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
VENV="$WORK/venv"
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
step() { echo "== $*"; }

step "clean venv ($PYTHON)"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q torch==2.13.0

step "pip install .[gui] (not editable) from a copy of the checkout"
# A copy of the files git knows (tracked, and new ones not ignored): setuptools builds in the
# source folder, and leftovers there (build/lib) could slip into a later wheel.
mkdir "$WORK/src"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    tar -C "$ROOT" --null --ignore-failed-read -T - -cf - | tar -C "$WORK/src" -xf -
"$VENV/bin/python" -m pip install -q "$WORK/src[gui]"
"$VENV/bin/python" -m pip show -f composition-workbench >"$WORK/files.txt"
grep -q "models/pretrained/default.pt" "$WORK/files.txt" ||
    fail "the wheel lacks models/pretrained/default.pt (pyproject.toml package-data)"

export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_CACHE_HOME="$WORK/home/.cache"
export XDG_DATA_HOME="$WORK/home/.local/share" QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1
mkdir -p "$HOME"
cd "$WORK" # not the checkout: `import workbench` must find the installed package

step "--version"
VERSION="$("$VENV/bin/python" -c 'import workbench; print(workbench.__version__)')"
[[ "$("$VENV/bin/workbench" --version)" == "workbench $VERSION" ]] || fail "workbench --version"
[[ "$("$VENV/bin/workbench-gui" --version)" == "workbench-gui $VERSION" ]] || fail "workbench-gui --version"

step "installed files"
"$VENV/bin/python" - "$VENV" <<'EOF' || fail "files not installed in the venv"
import sys
from pathlib import Path

import models
import workbench
from models.pretrained import default_checkpoint
from workbench.app import ICON_PATH

venv = Path(sys.argv[1]).resolve()
for what, path in [
    ("workbench", workbench.__file__),
    ("models", models.__file__),
    ("the shipped model", default_checkpoint()),
    ("the icon", ICON_PATH if ICON_PATH.is_file() else None),
]:
    if path is None or venv not in Path(path).resolve().parents:
        sys.exit(f"{what}: {path} is not installed in {venv}")
    print(f"{what}: {path}")
EOF

step "generate a tune and its MIDI with the shipped model"
"$VENV/bin/workbench" generate --out "$WORK/gen" --num 1 --seed 7 --midi
[[ "$(head -c 4 "$WORK/gen/tune_001.mid")" == "MThd" ]] || fail "no MIDI file written"
grep -q "^K:" "$WORK/gen/tune_001.abc" || fail "the generated tune has no K: line"

step "window opens and closes"
timeout 120 "$VENV/bin/workbench-gui" --quit-after 500 >"$WORK/gui.out" 2>"$WORK/gui.err" ||
    fail "workbench-gui exited with $? ($(tail -5 "$WORK/gui.err"))"
grep -qx "window ready" "$WORK/gui.out" || fail "no window ($(tail -5 "$WORK/gui.err"))"

echo "check_install.sh: all checks passed"
