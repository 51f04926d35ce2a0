#!/usr/bin/env bash
# Install musicapp for one user (or into PREFIX): a private virtualenv with the app and its
# models, a `musicapp` launcher on PATH, the desktop entry, the icon and the .musicapp MIME type.
#
#   packaging/install.sh                 install into ~/.local (venv in ~/.local/lib/musicapp)
#   PREFIX=/opt/musicapp packaging/install.sh
#   MUSICAPP_PYTHON=/path/to/python packaging/install.sh
#       use an existing interpreter that already has musicapp's dependencies (no venv, no pip)
#   packaging/install.sh --uninstall     remove what an install put there
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
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

if [ "${1:-}" = "--uninstall" ]; then
  rm -f "${files[@]}"
  rm -rf "$libdir"
  refresh_caches
  echo "musicapp removed from $PREFIX"
  exit 0
fi

mkdir -p "$bindir" "$share/applications" "$share/icons/hicolor/scalable/apps" "$share/mime/packages" "$libdir"
if [ -n "${MUSICAPP_PYTHON:-}" ]; then
  py="$MUSICAPP_PYTHON"
  "$py" -c "import musicapp, PySide6" || { echo "install: $py cannot import musicapp and PySide6" >&2; exit 1; }
else
  "${PYTHON:-python3}" -m venv "$libdir/venv"
  py="$libdir/venv/bin/python"
  "$py" -m pip install -q --upgrade pip
  "$py" -m pip install -q "$here"
fi
# shipped models and resources live beside the package in a checkout; copy them for the install
rm -rf "$libdir/models" "$libdir/resources"
cp -r "$here/resources" "$libdir/resources"
[ -d "$here/models" ] && cp -r "$here/models" "$libdir/models"
cat > "$bindir/musicapp" <<LAUNCH
#!/bin/sh
export MUSICAPP_RESOURCES="\${MUSICAPP_RESOURCES:-$libdir/resources}"
export MUSICAPP_MODELS="\${MUSICAPP_MODELS:-$libdir/models}"
exec "$py" -m musicapp "\$@"
LAUNCH
chmod +x "$bindir/musicapp"
sed "s|^Exec=musicapp|Exec=$bindir/musicapp|" "$here/resources/musicapp.desktop" > "$share/applications/musicapp.desktop"
cp "$here/resources/icons/musicapp.svg" "$share/icons/hicolor/scalable/apps/musicapp.svg"
cp "$here/resources/musicapp-mime.xml" "$share/mime/packages/musicapp.xml"
refresh_caches
echo "musicapp installed: $bindir/musicapp (desktop entry in $share/applications)"
