"""Tests cannot touch the user's real settings, data or cache (tests/conftest.py's overrides)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from musicapp import paths

TEST_HOME = Path(os.environ["MUSICAPP_TEST_HOME"])  # set by tests/conftest.py


def test_user_folders_resolve_under_the_private_test_home():
    assert paths.user_data_dir().is_relative_to(TEST_HOME)
    assert paths.user_cache_dir().is_relative_to(TEST_HOME)
    from musicapp.ml.corpus import cache_dir

    assert cache_dir().is_relative_to(TEST_HOME)


def test_default_qsettings_file_is_under_the_private_test_home(qapp):
    from PySide6.QtCore import QSettings

    assert Path(QSettings("musicapp", "musicapp").fileName()).is_relative_to(TEST_HOME)


@pytest.mark.skipif(sys.platform != "linux", reason="XDG folders are the Linux convention")
def test_platformdirs_default_follows_xdg_overrides(monkeypatch):
    monkeypatch.delenv("MUSICAPP_DATA")
    monkeypatch.delenv("MUSICAPP_CACHE")
    assert paths.user_data_dir() == TEST_HOME / "data" / "musicapp"
    assert paths.user_cache_dir() == TEST_HOME / "cache" / "musicapp"


def test_subprocesses_inherit_the_private_folders():
    code = "from musicapp import paths; print(paths.user_data_dir())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ), check=True)
    assert Path(out.stdout.strip()).is_relative_to(TEST_HOME)
