#!/usr/bin/env bash
# Build the standalone musicapp bundle for people without Python (Linux x86_64):
#   packaging/build.sh                 -> dist/musicapp-VERSION-linux-x86_64.tar.gz
# A PyInstaller one-folder app (Python, PySide6, CPU torch, the models, resources and a General
# MIDI SoundFont, libfluidsynth) packed with the desktop entry, icon, MIME type and an
# install/uninstall script. Then it smoke-tests the unpacked bundle with no Python on PATH
# (info, continue, the editor offscreen) and prints its size and start times.
#   PYTHON=.venv/bin/python            interpreter with musicapp's deps and `.[bundle]` installed
#   MUSICAPP_BUNDLE_SOUNDFONT=FILE.sf2 SoundFont to ship (default: TimGM6mb or FluidR3 from
#                                      /usr/share/sounds/sf2; Debian: timgm6mb-soundfont)
#   SKIP_SMOKE=1                       build and pack only
#   REUSE_BUILD=1                      pack and smoke-test the last PyInstaller output again
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
PY="${PYTHON:-$root/.venv/bin/python}"
"$PY" -c "import PyInstaller" 2>/dev/null || { echo "build: $PY lacks PyInstaller (pip install -e '.[bundle]')" >&2; exit 1; }
version="$("$PY" -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])")"
name="musicapp-$version-linux-x86_64"
work="$root/build/bundle"
if [ -z "${MUSICAPP_BUNDLE_SOUNDFONT:-}" ]; then
  for sf in /usr/share/sounds/sf2/TimGM6mb.sf2 /usr/share/sounds/sf2/FluidR3_GM.sf2; do
    [ -f "$sf" ] && { MUSICAPP_BUNDLE_SOUNDFONT="$(readlink -f "$sf")"; break; }
  done
fi
[ -n "${MUSICAPP_BUNDLE_SOUNDFONT:-}" ] || { echo "build: no SoundFont (apt-get install timgm6mb-soundfont)" >&2; exit 1; }
export MUSICAPP_BUNDLE_SOUNDFONT

if [ "${REUSE_BUILD:-}" = 1 ] && [ -x "$work/dist/musicapp/musicapp" ]; then
  echo "build: reusing $work/dist/musicapp (REUSE_BUILD=1)" >&2
else
  echo "build: PyInstaller (a few minutes)" >&2
  t0=$(date +%s)
  "$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$work/dist" \
    --workpath "$work/work" packaging/musicapp.spec
  echo "build: PyInstaller took $(( $(date +%s) - t0 )) s" >&2
fi

stage="$work/$name"
rm -rf "$stage"
mkdir -p "$stage/share/applications" "$stage/share/icons/hicolor/scalable/apps" "$stage/share/mime/packages"
cp -a "$work/dist/musicapp" "$stage/app"
cp resources/musicapp.desktop "$stage/share/applications/musicapp.desktop"
cp resources/icons/musicapp.svg "$stage/share/icons/hicolor/scalable/apps/musicapp.svg"
cp resources/musicapp-mime.xml "$stage/share/mime/packages/musicapp.xml"
cp packaging/install.sh "$stage/install.sh"
chmod +x "$stage/install.sh"
cat > "$stage/README.txt" <<TXT
musicapp $version for Linux x86_64: no Python needed.
  ./install.sh                 install for this user (~/.local); PREFIX=/opt/musicapp ./install.sh
  ./install.sh --uninstall     remove it again
  ./app/musicapp               run it from here without installing
Sound: the bundled FluidSynth with the TimGM6mb General MIDI SoundFont (GPL-2, by Tim Brechbill).
Needs the usual desktop libraries (X11/Wayland, OpenGL/EGL, fontconfig, ALSA or JACK for sound).
TXT
mkdir -p dist
tarball="$root/dist/$name.tar.gz"
tar -C "$work" -czf "$tarball" "$name"
echo "build: $tarball" >&2

[ "${SKIP_SMOKE:-}" = 1 ] && exit 0
# ---- smoke test: unpack elsewhere and run with no Python environment on PATH
check="$(mktemp -d)"
trap 'rm -rf "$check"' EXIT
tar -C "$check" -xzf "$tarball"
app="$check/$name/app/musicapp"
mkdir -p "$check/empty-path" "$check/home" "$check/run"
run() { (cd "$check/run" && env -i HOME="$check/home" PATH="$check/empty-path" QT_QPA_PLATFORM=offscreen \
          MUSICAPP_NO_REALTIME=1 "$@"); }
run sh -c 'command -v python3 python >/dev/null' 2>/dev/null && { echo "smoke: python on PATH" >&2; exit 1; } || true
"$PY" - "$check/run/seed.mid" <<'PYSEED'
import sys
from musicapp.core.midifile import write_midi
from musicapp.core.song import Note, Song, Track
notes = tuple(Note(i * 240, (60, 62, 64, 65, 67, 65, 64, 62)[i % 8], 240) for i in range(16))
write_midi(Song(tracks=(Track("Melody", notes=notes),)), sys.argv[1])
PYSEED
t=$(date +%s.%N); run "$app" --version; v=$(echo "$(date +%s.%N) - $t" | bc)
run "$app" info seed.mid
t=$(date +%s.%N); run "$app" continue seed.mid -o cont.mid --bars 2 --variations 2; c=$(echo "$(date +%s.%N) - $t" | bc)
run "$app" info cont.mid | head -5
run "$app" vary seed.mid -o vary.mid --variations 2
run /usr/bin/env MUSICAPP_STARTUP_TIMING=1 MUSICAPP_QUIT_AFTER_MS=3000 "$app" seed.mid 2>&1 \
  | grep -E "window shown|editor up" | tee "$check/editor.txt"
grep -q "icon=ok" "$check/editor.txt" && grep -q "shown=True" "$check/editor.txt"
echo "smoke: ok"
echo "figures: tarball $(du -m "$tarball" | cut -f1) MB, unpacked $(du -sm "$check/$name" | cut -f1) MB," \
     "--version ${v} s, continue (2 bars x 2) ${c} s, $(grep -o 'window shown after [0-9.]* s' "$check/editor.txt")"
