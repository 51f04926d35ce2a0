"""Every question the editor asks the user, behind one injectable object.

``Dialogs`` shows real Qt dialogs; tests pass ``ScriptedDialogs`` with canned answers so no
modal dialog ever blocks an offscreen run. The window calls only these methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox, QWidget

PROJECT_FILTER = "musicapp projects (*.musicapp)"
MIDI_FILTER = "MIDI files (*.mid *.midi)"
OPEN_FILTER = "Projects and MIDI files (*.musicapp *.mid *.midi);;" + PROJECT_FILTER + ";;" + MIDI_FILTER


class Dialogs:
    """Real modal dialogs parented to ``parent``."""

    def __init__(self, parent: QWidget | None = None):
        self.parent = parent

    def open_path(self, title: str, file_filter: str, folder: str = "") -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, folder, file_filter)
        return path or None

    def save_path(self, title: str, file_filter: str, suggested: str = "") -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, file_filter)
        return path or None

    def unsaved_changes(self, name: str) -> str:
        """'save', 'discard' or 'cancel'."""
        box = QMessageBox(QMessageBox.Warning, "Unsaved changes",
                          f"Save changes to {name} before closing?",
                          QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, self.parent)
        box.setDefaultButton(QMessageBox.Save)
        answer = box.exec()
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")

    def choose_tracks(self, file_name: str, names: Sequence[str], tracks: Sequence = ()) -> list[int] | None:
        """Indices of the tracks to import (None = cancelled); ``tracks`` give mini previews."""
        from musicapp.ui.import_chooser import ImportChooser

        dlg = ImportChooser(file_name, names, tracks, self.parent)
        return dlg.chosen() if dlg.exec() == QDialog.Accepted else None

    def offer_recovery(self, description: str) -> bool:
        answer = QMessageBox.question(
            self.parent, "Recover unsaved work",
            f"musicapp did not close properly last time.\n{description}\nRecover it?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        return answer == QMessageBox.Yes

    def ask_int(self, title: str, label: str, value: int, lo: int, hi: int) -> int | None:
        number, ok = QInputDialog.getInt(self.parent, title, label, value, lo, hi)
        return number if ok else None

    def ask_text(self, title: str, label: str, value: str = "") -> str | None:
        text, ok = QInputDialog.getText(self.parent, title, label, text=value)
        return text if ok else None

    def error(self, message: str) -> None:
        QMessageBox.warning(self.parent, "musicapp", message)

    def about(self, text: str) -> None:
        QMessageBox.about(self.parent, "About musicapp", text)


@dataclass
class ScriptedDialogs:
    """Non-interactive dialogs for tests and headless runs: answers come from queues.

    Each ``*_answers`` list is consumed front first; an empty queue gives the cautious
    default (None / 'cancel' / False). Every call is recorded in ``asked``.
    """

    paths: list[str | None] = field(default_factory=list)
    unsaved_answers: list[str] = field(default_factory=list)
    track_answers: list[list[int] | None] = field(default_factory=list)
    recovery_answers: list[bool] = field(default_factory=list)
    int_answers: list[int | None] = field(default_factory=list)
    text_answers: list[str | None] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    @staticmethod
    def _next(queue: list, default):
        return queue.pop(0) if queue else default

    def open_path(self, title: str, file_filter: str, folder: str = "") -> str | None:
        self.asked.append(f"open: {title}")
        return self._next(self.paths, None)

    def save_path(self, title: str, file_filter: str, suggested: str = "") -> str | None:
        self.asked.append(f"save: {title}")
        return self._next(self.paths, None)

    def unsaved_changes(self, name: str) -> str:
        self.asked.append(f"unsaved: {name}")
        return self._next(self.unsaved_answers, "cancel")

    def choose_tracks(self, file_name: str, names: Sequence[str], tracks: Sequence = ()) -> list[int] | None:
        self.asked.append(f"tracks: {file_name}: {list(names)}")
        return self._next(self.track_answers, list(range(len(names))))

    def offer_recovery(self, description: str) -> bool:
        self.asked.append(f"recover: {description}")
        return self._next(self.recovery_answers, False)

    def ask_int(self, title: str, label: str, value: int, lo: int, hi: int) -> int | None:
        self.asked.append(f"int: {title}")
        return self._next(self.int_answers, None)

    def ask_text(self, title: str, label: str, value: str = "") -> str | None:
        self.asked.append(f"text: {title}")
        return self._next(self.text_answers, None)

    def error(self, message: str) -> None:
        self.errors.append(message)

    def about(self, text: str) -> None:
        self.asked.append("about")
