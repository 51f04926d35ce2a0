"""Autosave to a recovery file and recovery after a crash.

Owns the recovery folder (``user_data_dir()/recovery``) and its files, one per running
editor: ``session-<pid>.musicapp`` in the project format. The first recovery point is
written ``first_s`` seconds after the first unsaved change, then at most every ``interval_s``
seconds while changes go on, and once the user has paused for ``idle_s``; only an unsaved
document that changed since the last write is written. A clean close or a save deletes the
file and its ``.bak``. On start, every recovery file whose process is no longer running means
that editor crashed (or was killed): the window offers each of them. A recovered file is
adopted (``adopt``) and deleted only once this session has written its own recovery point.
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
    """``interval_s``: most seconds between writes while changes go on; ``first_s``: delay of
    the first write after the document becomes unsaved; ``idle_s``: pause in editing after
    which the latest changes are written; ``folder``: where recovery files live (default: the
    user data folder)."""

    interval_s: float = 30.0
    folder: Path | None = None
    first_s: float = 2.0
    idle_s: float = 5.0

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
        if min(config.interval_s, config.first_s, config.idle_s) <= 0:
            raise ValueError("autosave intervals must be positive")
        self.document = document
        self.config = config
        self._state = editor_state
        self._written_revision: int | None = None
        self._running = False
        self._adopted: list[Path] = []  # recovered files, deleted once our own point is written
        self.path = config.recovery_folder() / f"session-{os.getpid()}.musicapp"
        self.timer = QTimer(self)  # the periodic write while changes go on
        self.timer.setInterval(int(config.interval_s * 1000))
        self.timer.timeout.connect(self.check)
        self.soon = QTimer(self)  # first write after the document became unsaved
        self.soon.setSingleShot(True)
        self.soon.setInterval(int(config.first_s * 1000))
        self.soon.timeout.connect(self.check)
        self.idle = QTimer(self)  # the user paused: write what changed
        self.idle.setSingleShot(True)
        self.idle.setInterval(int(config.idle_s * 1000))
        self.idle.timeout.connect(self.check)
        # after the push (song_changed fires inside it, while the stack still looks clean)
        document.undo_stack.indexChanged.connect(self._on_change)
        document.undo_stack.cleanChanged.connect(self._on_change)

    def start(self) -> None:
        self._running = True
        self.timer.start()
        self._on_change()

    def stop(self) -> None:
        self._running = False
        for t in (self.timer, self.soon, self.idle):
            t.stop()

    def adopt(self, path: Path) -> None:
        """Keep the recovery file ``path`` (just recovered) until this session has written
        its own recovery point, and write that soon."""
        self._adopted.append(Path(path))
        self._written_revision = None
        if self._running:
            self.soon.start()

    def _on_change(self, *_args) -> None:
        if not self._running or not self.document.is_modified:
            return
        if self._written_revision is None and not self.soon.isActive():
            self.soon.start()  # the first recovery point comes soon after the first change
        self.idle.start()  # restarted by every change: fires once editing pauses

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
        adopted, self._adopted = self._adopted, []
        for old in adopted:  # our own point now holds the recovered work
            _remove_recovery_file(old)
        self.saved.emit(str(self.path))
        return True

    def write_now(self) -> bool:
        """Write the recovery point at once if the document has unsaved changes (on a signal
        that ends the process); True if the file holds the current song."""
        if not self.document.is_modified:
            return False
        return self.document.revision == self._written_revision or self.check()

    def discard(self) -> None:
        """Delete this session's recovery file and its ``.bak`` (after a save or a clean close).

        Adopted recovery files go too: a save or a clean close after Recover means the
        recovered work is where the user wanted it.
        """
        self._written_revision = None
        for path in [self.path, *self._adopted]:
            err = _remove_recovery_file(path)
            if err:
                self.failed.emit(err)
        self._adopted = []


def _remove_recovery_file(path: Path) -> str | None:
    """Delete a recovery file and its ``.bak``; a one-line reason on failure, else None."""
    for p in (path, path.with_name(path.name + ".bak")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as err:
            return f"cannot remove {p}: {err.strerror}"
    return None
