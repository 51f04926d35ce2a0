"""The per-user install script puts a working launcher, desktop entry, icon and MIME type in place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_install_script_installs_working_launcher_and_uninstalls(tmp_path):
    env = dict(os.environ, PREFIX=str(tmp_path), MUSICAPP_PYTHON=sys.executable)
    subprocess.run(["bash", str(ROOT / "packaging" / "install.sh")], env=env, check=True, capture_output=True)
    launcher = tmp_path / "bin" / "musicapp"
    out = subprocess.run([str(launcher), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith("musicapp ")
    desktop = (tmp_path / "share" / "applications" / "musicapp.desktop").read_text()
    assert f"Exec={launcher} %f" in desktop and "MimeType=audio/midi;" in desktop
    assert (tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "musicapp.svg").is_file()
    assert (tmp_path / "lib" / "musicapp" / "resources" / "themes" / "dark.qss").is_file()
    subprocess.run(["bash", str(ROOT / "packaging" / "install.sh"), "--uninstall"], env=env, check=True,
                   capture_output=True)
    assert not launcher.exists() and not (tmp_path / "lib" / "musicapp").exists()
