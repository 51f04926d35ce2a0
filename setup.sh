#!/usr/bin/env bash
# musicapp: set everything up, then start the app or run the tests.
#   ./setup.sh app [FILE]      install what is missing, start the editor with the shipped models
#   ./setup.sh test [ARGS]     install what is missing, run the test suite (pytest ARGS)
# Idempotent: a second run only checks; installs go to .venv/ beside this script.
set -euo pipefail
cd "$(dirname "$0")"
mode="${1:-app}"; shift || true

# --- system packages (Debian/Ubuntu): JACK for MIDI tests, PortAudio, FluidSynth with a General
# MIDI SoundFont (TimGM6mb, 6 MB: the built-in output's sound), Xvfb, Qt's xcb/EGL libs
APT_PKGS=(jackd2 libportaudio2 libfluidsynth3 timgm6mb-soundfont xvfb xauth libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xkb1)
apt_managed=0
if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  apt_managed=1
  missing=()
  for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing ${missing[*]}" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# --- Python environment
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=".venv/.musicapp-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  log=".venv/setup.log"
  echo "setup: installing Python packages into .venv (log: $log)" >&2
  {
    # torch first and pinned: a loose requirement would pull GBs of CUDA wheels on CPU machines
    .venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install torch==2.13.0
    .venv/bin/python -m pip install -e ".[dev]"
  } >"$log" 2>&1 || { tail -n 30 "$log" >&2; echo "setup: pip install failed (see $log)" >&2; exit 1; }
  touch "$stamp"
fi

case "$mode" in
  app)  exec .venv/bin/musicapp "$@" ;;
  test) # FluidSynth and its SoundFont were installed above: their tests must run, not skip
       if [ "$apt_managed" = 1 ]; then export MUSICAPP_REQUIRE_FLUIDSYNTH="${MUSICAPP_REQUIRE_FLUIDSYNTH:-1}"; fi
       exec .venv/bin/python -m pytest "$@" ;;
  *)    echo "usage: ./setup.sh app [FILE] | ./setup.sh test [PYTEST ARGS]" >&2; exit 2 ;;
esac
