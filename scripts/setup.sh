#!/usr/bin/env bash
# Create or reuse .venv/ in the repo root and install Composition Workbench into it.
#   scripts/setup.sh        the app (engine, CLI and GUI)
#   scripts/setup.sh dev    the app plus the test and lint tools
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# System packages, installed when missing if we can (root with apt-get), else named:
# - Qt (even offscreen) and QtMultimedia's libraries;
# - FluidSynth and a small General MIDI soundfont for playback (the soundfont is GPL: it is
#   installed from apt, never copied into this repo);
# - abc2midi, which checks ABC validity (the musicality benchmark, the default model's data);
# - for the tests: PulseAudio, whose null sink lets the real audio path run without a sound card.
SYS_PACKAGES="libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libglib2.0-0 libpulse0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xinerama0
  libfluidsynth3 timgm6mb-soundfont abcmidi"
[ "${1:-}" = dev ] && SYS_PACKAGES="$SYS_PACKAGES pulseaudio"
if command -v dpkg >/dev/null 2>&1; then
  missing=$(for p in $SYS_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
      echo "setup: please install these system packages: $(echo $missing)" >&2
    fi
  fi
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The pin first: it is the local CPU wheel. An unpinned torch pulls GBs of CUDA packages; with
# 2.13.0 installed, the project's `torch>=2.2` is already satisfied. On a machine with a GPU,
# install the CUDA build of torch yourself before running this.
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q torch==2.13.0
extras=gui,midi
[ "${1:-}" = dev ] && extras=gui,midi,dev
.venv/bin/python -m pip install -q -e ".[$extras]"
