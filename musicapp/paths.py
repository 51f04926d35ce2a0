"""Finds the shipped ``resources/`` and ``models/`` folders. Standard library only.

Both live at the repository root beside the ``musicapp`` package (an editable install or a
checkout); ``MUSICAPP_MODELS`` / ``MUSICAPP_RESOURCES`` override them (packaged builds,
tests).
"""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def repo_root() -> Path:
    """The folder that holds ``musicapp/``, ``models/`` and ``resources/``."""
    return _ROOT


def models_dir() -> Path:
    """Folder of shipped checkpoints (``*.safetensors`` + ``*.json``)."""
    return Path(os.environ.get("MUSICAPP_MODELS") or _ROOT / "models")


def resources_dir() -> Path:
    """Folder of icons, styles, desktop file and sound resources."""
    return Path(os.environ.get("MUSICAPP_RESOURCES") or _ROOT / "resources")


def user_data_dir() -> Path:
    """Per-user writable folder (autosave/recovery files), created on demand."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    path = Path(os.environ.get("MUSICAPP_DATA") or Path(base) / "musicapp")
    path.mkdir(parents=True, exist_ok=True)
    return path
