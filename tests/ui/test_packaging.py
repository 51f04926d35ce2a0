"""The per-user install script puts a working launcher, desktop entry, icon and MIME type in
place, from a checkout or from an unpacked bundle, and pins the CPU build of PyTorch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "install.sh"


def _install(env, *args, script=SCRIPT) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(script), *args], env=env, check=True, capture_output=True,
                          text=True)


def test_install_script_installs_working_launcher_and_uninstalls(tmp_path):
    env = dict(os.environ, PREFIX=str(tmp_path), MUSICAPP_PYTHON=sys.executable)
    _install(env)
    launcher = tmp_path / "bin" / "musicapp"
    out = subprocess.run([str(launcher), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith("musicapp ")
    desktop = (tmp_path / "share" / "applications" / "musicapp.desktop").read_text()
    assert f"Exec={launcher} %f" in desktop and "MimeType=audio/midi;" in desktop
    assert (tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "musicapp.svg").is_file()
    assert (tmp_path / "share" / "mime" / "packages" / "musicapp.xml").is_file()
    _install(env, "--uninstall")
    assert not launcher.exists() and not (tmp_path / "lib" / "musicapp").exists()


def test_install_script_pins_the_cpu_torch_unless_a_gpu_build_is_asked_for(tmp_path):
    env = dict(os.environ, PREFIX=str(tmp_path), MUSICAPP_INSTALL_DRY_RUN="1")
    cpu = _install(env).stdout
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in cpu
    assert f"install -q {ROOT}" in cpu  # the package itself (its wheel carries the models)
    gpu = _install(dict(env, MUSICAPP_TORCH="cuda")).stdout
    assert "torch==2.13.0" in gpu and "whl/cpu" not in gpu
    setup = (ROOT / "setup.sh").read_text()
    assert "torch==2.13.0" in setup  # one version across the set-up paths


def test_install_script_from_an_unpacked_bundle_links_its_executable(tmp_path):
    bundle = tmp_path / "musicapp-0.1.0-linux-x86_64"
    (bundle / "app").mkdir(parents=True)
    exe = bundle / "app" / "musicapp"
    exe.write_text("#!/bin/sh\necho musicapp bundled \"$@\"\n")
    exe.chmod(0o755)
    for src, dest in (("musicapp.desktop", "share/applications/musicapp.desktop"),
                      ("icons/musicapp.svg", "share/icons/hicolor/scalable/apps/musicapp.svg"),
                      ("musicapp-mime.xml", "share/mime/packages/musicapp.xml")):
        (bundle / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "resources" / src, bundle / dest)
    shutil.copy(SCRIPT, bundle / "install.sh")
    prefix = tmp_path / "prefix"
    env = dict(os.environ, PREFIX=str(prefix))
    env.pop("MUSICAPP_PYTHON", None)
    _install(env, script=bundle / "install.sh")
    out = subprocess.run([str(prefix / "bin" / "musicapp"), "info"], capture_output=True, text=True)
    assert out.stdout.strip() == "musicapp bundled info"
    assert (prefix / "lib" / "musicapp" / "musicapp").is_file()
    assert (prefix / "share" / "applications" / "musicapp.desktop").is_file()
    _install(env, "--uninstall", script=bundle / "install.sh")
    assert not (prefix / "bin" / "musicapp").exists() and not (prefix / "lib" / "musicapp").exists()
