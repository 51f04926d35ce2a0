"""The built wheel is a complete app: installed into a fresh virtualenv it finds its models and
icons and runs ``continue``, ``vary`` and the editor from outside the source tree.

The fresh venv gets only the wheel; its third-party dependencies (torch, PySide6, ...) come
from this interpreter's site-packages (links to everything but musicapp itself) through a
``.pth`` line, standing in for a pre-installed
pinned CPU torch, so nothing is downloaded and the test takes well under a minute. pip
resolves the wheel's declared dependencies against them (``--no-index``), so a dependency the
wheel forgets to declare, or one that is not installable, fails here too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from musicapp.core.midifile import read_midi, write_midi
from musicapp.core.song import Note, Song, Track

ROOT = Path(__file__).resolve().parents[1]
SEED = tuple(Note(i * 240, (60, 62, 64, 65, 67, 65, 64, 62)[i % 8], 240) for i in range(16))


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=240, **kw)
    how = f"by signal {-out.returncode}" if out.returncode < 0 else f"with {out.returncode}"
    assert out.returncode == 0, f"{cmd} exited {how}\n{out.stdout}\n{out.stderr}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv python, venv bin dir, clean env) with the freshly built wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "MUSICAPP_MODELS", "MUSICAPP_RESOURCES", "VIRTUAL_ENV")}
    src = tmp / "src"  # a clean copy: an in-tree build/ could leave stale files in the wheel
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "runs", ".hypothesis", "tests"))
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
          "-w", str(tmp / "dist"), str(src)], env=env)
    wheel = next((tmp / "dist").glob("musicapp-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("musicapp/_data/models/lstm.safetensors", "musicapp/_data/models/vae_2bar.json",
                   "musicapp/_data/resources/icons/musicapp.svg", "musicapp/py.typed"):
        assert needed in names
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    py = venv / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                     ).stdout.strip())
    deps = tmp / "deps"  # this interpreter's packages, minus its own (editable) musicapp
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(("musicapp", "__editable__")):
            (deps / entry.name).symlink_to(entry)
    (site / "_deps.pth").write_text(f"{deps}\n")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-index", str(wheel)],
         env=env)  # no PYTHONPATH: a checkout's musicapp.egg-info would count as installed
    env.update(QT_QPA_PLATFORM="offscreen", MUSICAPP_NO_REALTIME="1",
               PATH=f"{venv / 'bin'}:/usr/bin:/bin", MUSICAPP_DATA=str(tmp / "data"))
    work = tmp / "work"  # outside the source tree: no musicapp/, models/ or resources/ here
    work.mkdir()
    return py, venv / "bin", env, work, site


def test_installed_package_finds_its_models_and_resources_inside_itself(installed):
    py, _, env, work, site = installed
    out = _run([str(py), "-c", "import musicapp, musicapp.paths as p; "
                "print(musicapp.__file__); print(p.models_dir()); print(p.resources_dir())"],
               env=env, cwd=work).stdout.split()
    assert all(Path(line).is_relative_to(site) for line in out), out
    assert (Path(out[1]) / "lstm.json").is_file() and (Path(out[2]) / "icons" / "play.svg").is_file()


def test_installed_continue_and_vary_write_midi_outside_the_source_tree(installed):
    _, bindir, env, work, _ = installed
    write_midi(Song(tracks=(Track("Melody", notes=SEED),)), work / "seed.mid")
    _run([str(bindir / "musicapp"), "continue", "seed.mid", "-o", "cont.mid", "--bars", "2",
          "--variations", "2"], env=env, cwd=work)
    song = read_midi(work / "cont.mid")
    assert len(song.tracks) == 3 and all(t.notes for t in song.tracks)
    _run([str(bindir / "musicapp"), "vary", "seed.mid", "-o", "vary.mid", "--variations", "2"],
         env=env, cwd=work)
    assert sum(len(t.notes) for t in read_midi(work / "vary.mid").tracks) > len(SEED)


# One run in about fifteen clean-clone suites on an AMD EPYC VM (2026-12-07) died by SIGSEGV
# after its smoke line, i.e. while quitting; not reproduced in 60 tries since. One more try for
# exactly that, with faulthandler on, so its thread stacks are in the failure if it recurs.
@pytest.mark.flaky(reruns=1, only_rerun=["by signal 11"])
def test_installed_editor_starts_offscreen_with_icons_and_models(installed):
    _, bindir, env, work, site = installed
    out = _run([str(bindir / "musicapp")], env=dict(env, MUSICAPP_QUIT_AFTER_MS="2500", MUSICAPP_NO_ENGINE="1",
                                                     PYTHONFAULTHANDLER="1"), cwd=work)
    line = next(x for x in out.stderr.splitlines() if x.startswith("editor up:"))
    assert "shown=True" in line and "icon=ok" in line and "lstm" in line and "vae_2bar" in line
    assert f"resources={site}" in line
