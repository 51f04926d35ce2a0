#!/usr/bin/env bash
# Install musicapp for one user (or into PREFIX): the app, a `musicapp` launcher on PATH, the
# desktop entry, the icon and the .musicapp MIME type. Three sources, picked automatically:
#
#   bundle/install.sh                run from an unpacked standalone bundle (build.sh's tarball):
#                                    copies its app/ folder; no Python needed
#   packaging/install.sh             from a checkout: a private virtualenv in PREFIX/lib/musicapp
#                                    with the pinned CPU build of PyTorch, then this package (its
#                                    wheel carries the models and resources)
#   MUSICAPP_PYTHON=/path/to/python packaging/install.sh
#                                    use an interpreter that already has musicapp and its
#                                    dependencies (no venv, no pip)
#   MUSICAPP_TORCH=cuda packaging/install.sh
#                                    the GPU (CUDA) build of the same PyTorch version instead
#                                    (several GB); MUSICAPP_TORCH=skip keeps whatever is there
#   PREFIX=/opt/musicapp packaging/install.sh     install somewhere else (default ~/.local)
#   packaging/install.sh --uninstall              remove what an install put there
#   MUSICAPP_INSTALL_DRY_RUN=1                    print the pip commands instead of running them
#
# System libraries (Debian/Ubuntu names; ./setup.sh installs them): libegl1 libgl1
# libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0
# libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
# libxcb-render-util0 libxcb-image0 libxcb-xkb1 (Qt), libportaudio2 (sound output),
# libfluidsynth3 with timgm6mb-soundfont or fluid-soundfont-gm (SoundFont sound; without them
# the app plays its own small synth), jackd2 or ALSA for MIDI ports. The bundle carries
# FluidSynth and a SoundFont itself but still needs the Qt/X11 and sound libraries.
set -euo pipefail
TORCH_VERSION="2.13.0"  # the version the models and tests are made with (setup.sh pins the same)
TORCH_CPU_INDEX="https://download.pytorch.org/whl/cpu"
script_dir="$(cd "$(dirname "$0")" && pwd)"
if [ -x "$script_dir/app/musicapp" ]; then
  source_kind=bundle; here="$script_dir"; share_src="$here/share"
else
  source_kind=checkout; here="$(cd "$script_dir/.." && pwd)"; share_src=""
fi
PREFIX="${PREFIX:-$HOME/.local}"
libdir="$PREFIX/lib/musicapp"
bindir="$PREFIX/bin"
share="$PREFIX/share"
files=("$bindir/musicapp" "$share/applications/musicapp.desktop"
       "$share/icons/hicolor/scalable/apps/musicapp.svg" "$share/mime/packages/musicapp.xml")

refresh_caches() {
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$share/applications" || true
  command -v update-mime-database >/dev/null && update-mime-database "$share/mime" >/dev/null 2>&1 || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$share/icons/hicolor" 2>/dev/null || true
}
pip_run() {  # pip_run PYTHON ARGS...: run (or with MUSICAPP_INSTALL_DRY_RUN=1 print) a pip command
  if [ "${MUSICAPP_INSTALL_DRY_RUN:-}" = 1 ]; then echo "pip: $*"; else "$1" -m pip "${@:2}"; fi
}

if [ "${1:-}" = "--uninstall" ]; then
  rm -f "${files[@]}"
  rm -rf "$libdir"
  refresh_caches
  echo "musicapp removed from $PREFIX"
  exit 0
fi

mkdir -p "$bindir" "$share/applications" "$share/icons/hicolor/scalable/apps" "$share/mime/packages"
rm -rf "$libdir"
mkdir -p "$libdir"
if [ "$source_kind" = bundle ]; then
  cp -a "$here/app/." "$libdir/"
  ln -sf "$libdir/musicapp" "$bindir/musicapp"
else
  if [ -n "${MUSICAPP_PYTHON:-}" ]; then
    py="$MUSICAPP_PYTHON"
    "$py" -c "import musicapp, PySide6" || { echo "install: $py cannot import musicapp and PySide6" >&2; exit 1; }
  else
    "${PYTHON:-python3}" -m venv "$libdir/venv"
    py="$libdir/venv/bin/python"
    pip_run "$py" install -q --upgrade pip
    case "${MUSICAPP_TORCH:-cpu}" in
      cpu)  pip_run "$py" install -q "torch==$TORCH_VERSION" --index-url "$TORCH_CPU_INDEX" ;;
      cuda|gpu) pip_run "$py" install -q "torch==$TORCH_VERSION" ;;  # PyPI's build carries CUDA
      skip) ;;
      *) echo "install: MUSICAPP_TORCH must be cpu, cuda or skip" >&2; exit 2 ;;
    esac
    pip_run "$py" install -q "$here"
  fi
  cat > "$bindir/musicapp" <<LAUNCH
#!/bin/sh
exec "$py" -m musicapp "\$@"
LAUNCH
  chmod +x "$bindir/musicapp"
fi
desktop="${share_src:+$share_src/applications/musicapp.desktop}"
icon="${share_src:+$share_src/icons/hicolor/scalable/apps/musicapp.svg}"
mime="${share_src:+$share_src/mime/packages/musicapp.xml}"
sed "s|^Exec=musicapp|Exec=$bindir/musicapp|" "${desktop:-$here/resources/musicapp.desktop}" \
  > "$share/applications/musicapp.desktop"
cp "${icon:-$here/resources/icons/musicapp.svg}" "$share/icons/hicolor/scalable/apps/musicapp.svg"
cp "${mime:-$here/resources/musicapp-mime.xml}" "$share/mime/packages/musicapp.xml"
refresh_caches
echo "musicapp installed: $bindir/musicapp (desktop entry in $share/applications)"
