"""Finds the shipped ``models/`` and ``resources/`` folders and the per-user folders.

Shipped data: in a checkout or an editable install ``models/`` and ``resources/`` sit at the
repository root beside the ``musicapp`` package; a built wheel (and the PyInstaller bundle)
carries copies inside the package as ``musicapp/_data/models`` and ``musicapp/_data/resources``
(``setup.py``'s build hook puts them there), found through ``importlib.resources``.
``MUSICAPP_MODELS`` / ``MUSICAPP_RESOURCES`` override both.

Per-user folders come from platformdirs (XDG on Linux, ``~/Library/Application Support`` on
macOS, ``%LOCALAPPDATA%`` on Windows); ``MUSICAPP_DATA`` / ``MUSICAPP_CACHE`` override them
(tests point them at temporary folders).
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "musicapp"


def repo_root() -> Path:
    """The folder that holds ``musicapp/`` (and, in a checkout, ``models/`` and ``resources/``)."""
    return _ROOT


def _shipped(name: str) -> Path:
    """``musicapp/_data/NAME`` when the package carries it (wheel, bundle), else ``ROOT/NAME``."""
    try:
        packaged = Path(str(importlib.resources.files("musicapp").joinpath("_data", name)))
    except (ModuleNotFoundError, TypeError, ValueError):
        packaged = None
    if packaged is not None and packaged.is_dir():
        return packaged
    return _ROOT / name


def models_dir() -> Path:
    """Folder of shipped checkpoints (``*.safetensors`` + ``*.json``)."""
    return Path(os.environ.get("MUSICAPP_MODELS") or _shipped("models"))


def resources_dir() -> Path:
    """Folder of icons, styles, desktop file and sound resources."""
    return Path(os.environ.get("MUSICAPP_RESOURCES") or _shipped("resources"))


def user_data_dir() -> Path:
    """Per-user writable folder (autosave/recovery files), created on demand."""
    env = os.environ.get("MUSICAPP_DATA")
    if env:
        path = Path(env)
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_cache_dir() -> Path:
    """Per-user cache folder (prepared corpora); not created here."""
    env = os.environ.get("MUSICAPP_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
