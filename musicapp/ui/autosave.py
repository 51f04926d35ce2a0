"""Autosave to a recovery file and recovery after a crash.

Owns the recovery folder (``user_data_dir()/recovery``) and its files, one per running
editor: ``session-<pid>.musicapp`` in the project format. A timer checks every
``interval_s`` seconds and writes only when the document changed since the last write and is
unsaved; a clean close deletes the file. On start, a recovery file whose process is no longer
running means that editor crashed (or was killed): the window offers to recover it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from musicapp.core.errors import MusicappError
from musicapp.core.project import load_project, save_project
from musicapp.core.song import Song
from musicapp.paths import user_data_dir
from musicapp.ui.document import Document

_SESSION = re.compile(r"^session-(\d+)\.musicapp$")


@dataclass(frozen=True)
class AutosaveConfig:
    """``interval_s``: seconds between checks (writes happen only after a change);
    ``folder``: where recovery files live (default: the user data folder)."""

    interval_s: float = 30.0
    folder: Path | None = None

    def recovery_folder(self) -> Path:
        folder = self.folder if self.folder is not None else user_data_dir() / "recovery"
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def orphaned_recovery_files(config: AutosaveConfig) -> list[Path]:
    """Recovery files left by editors that are no longer running, newest first."""
    found = []
    for path in config.recovery_folder().iterdir():
        m = _SESSION.match(path.name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            found.append(path)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def load_recovery(path: Path) -> tuple[Song, dict]:
    """The song and editor state in a recovery file (raises MusicappError if unreadable)."""
    return load_project(path)


class Autosaver(QObject):
    """Writes the document to this process's recovery file when it has unsaved changes."""

    saved = Signal(str)  # path written
    failed = Signal(str)  # one-line reason

    def __init__(self, document: Document, editor_state: Callable[[], dict],
                 config: AutosaveConfig = AutosaveConfig(), parent: QObject | None = None):
        super().__init__(parent)
        if config.interval_s <= 0:
            raise ValueError("autosave interval must be positive")
        self.document = document
        self.config = config
        self._state = editor_state
        self._written_revision: int | None = None
        self.path = config.recovery_folder() / f"session-{os.getpid()}.musicapp"
        self.timer = QTimer(self)
        self.timer.setInterval(int(config.interval_s * 1000))
        self.timer.timeout.connect(self.check)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def check(self) -> bool:
        """Write the recovery file if the document changed since the last write; True if written."""
        doc = self.document
        if not doc.is_modified:
            self.discard()
            return False
        if doc.revision == self._written_revision:
            return False
        state = dict(self._state())
        state["recovery_of"] = str(doc.path) if doc.path else ""
        try:
            save_project(self.path, doc.song, state)
        except MusicappError as err:
            self.failed.emit(f"autosave failed: {err}")
            return False
        self._written_revision = doc.revision
        self.saved.emit(str(self.path))
        return True

    def discard(self) -> None:
        """Delete this session's recovery file (after a save or a clean close)."""
        self._written_revision = None
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as err:
            self.failed.emit(f"cannot remove {self.path}: {err.strerror}")
