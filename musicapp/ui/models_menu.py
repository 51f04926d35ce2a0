"""The Models menu: Learn From MIDI Files..., Manage Models... (rename, delete).

Owns :class:`ModelServices` (what the menu needs from the model library, injected by the
composition root so the UI never imports ``musicapp.ml``), :class:`ManageModelsDialog` and
:func:`install_models_menu`. A model learned or renamed shows up in the Generate panel's model
chooser at once; deleting the model the panel uses falls back to the shipped one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from PySide6.QtWidgets import (QApplication, QDialog, QHBoxLayout, QLabel, QListWidget, QMessageBox, QPushButton,
                               QVBoxLayout, QWidget)

from musicapp.core.errors import MusicappError
from musicapp.ui.learn_dialog import LearnDialog

if TYPE_CHECKING:
    from musicapp.ui.main_window import MainWindow


FINETUNE_KINDS = ("lstm", "vae", "infill")  # model kinds a fine-tune can start from


@dataclass
class ModelServices:
    """``worker_command()``: program and leading arguments of the fine-tune process;
    ``models()``: ``(name, kind, shipped, card lines)`` of every model; ``rename(old, new)``,
    ``delete(name)``: change user models (raise ``MusicappError`` with a one-line reason)."""

    worker_command: Callable[[], tuple[str, list[str]]]
    models: Callable[[], list[tuple[str, str, bool, list[str]]]]
    rename: Callable[[str, str], None]
    delete: Callable[[str], None]


class ManageModelsDialog(QDialog):
    """Every model with its card; the user's own can be renamed and deleted."""

    def __init__(self, services: ModelServices, ask_text, changed: Callable[[], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.services, self.ask_text, self.changed = services, ask_text, changed
        lay = QVBoxLayout(self)
        self.list = QListWidget()
        self.card = QLabel("")
        self.card.setWordWrap(True)
        self.message = QLabel("")
        lay.addWidget(self.list)
        lay.addWidget(self.card)
        lay.addWidget(self.message)
        row = QHBoxLayout()
        self.rename_btn, self.delete_btn, close = QPushButton("Rename..."), QPushButton("Delete"), QPushButton("Close")
        for b in (self.rename_btn, self.delete_btn):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(close)
        lay.addLayout(row)
        self.list.currentRowChanged.connect(self._show)
        self.rename_btn.clicked.connect(lambda: self.rename(self.current()))
        self.delete_btn.clicked.connect(self._ask_delete)
        close.clicked.connect(self.accept)
        self.refresh()

    def refresh(self) -> None:
        self.models = self.services.models()
        self.list.clear()
        self.list.addItems([f"{n} [{k}]" + (" (shipped)" if s else "") for n, k, s, _ in self.models])
        if self.models:
            self.list.setCurrentRow(0)
        self._show(self.list.currentRow())

    def current(self) -> str | None:
        row = self.list.currentRow()
        return self.models[row][0] if 0 <= row < len(self.models) else None

    def _show(self, row: int) -> None:
        user = 0 <= row < len(self.models) and not self.models[row][2]
        self.card.setText("<br>".join(self.models[row][3]) if 0 <= row < len(self.models) else "")
        self.rename_btn.setEnabled(user)
        self.delete_btn.setEnabled(user)

    def rename(self, name: str | None, new: str | None = None) -> bool:
        """Rename user model ``name`` (asks for the new name unless given)."""
        if name is None:
            return False
        new = new if new is not None else self.ask_text("Rename Model", "New name", name)
        if not new or new == name:
            return False
        return self._do(lambda: self.services.rename(name, new), f"renamed {name} to {new}")

    def _ask_delete(self) -> None:
        name = self.current()
        if name and QMessageBox.question(self, "Delete Model", f"Delete the model {name!r}? This cannot be undone."
                                         ) == QMessageBox.Yes:
            self.delete(name)

    def delete(self, name: str) -> bool:
        return self._do(lambda: self.services.delete(name), f"deleted {name}")

    def _do(self, fn: Callable[[], None], done: str) -> bool:
        try:
            fn()
        except (MusicappError, OSError) as err:
            self.message.setText(f"⚠ {err}")
            return False
        self.message.setText(done)
        self.refresh()
        self.changed()
        return True


def install_models_menu(win: "MainWindow", services: ModelServices) -> None:
    """Add the Models menu (before Help) with the learning dialog and the model manager."""
    bar = win.menuBar()
    help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
    from PySide6.QtWidgets import QMenu

    menu = QMenu("&Models", win)
    bar.insertMenu(help_action, menu) if help_action is not None else bar.addMenu(menu)
    win.models_menu = menu
    win.learn_dialog = LearnDialog(services.worker_command, win, bases=lambda: [
        n for n, kind, _shipped, _card in services.models() if kind in FINETUNE_KINDS])

    def refresh() -> None:
        panel = getattr(win, "generate_panel", None)
        if panel is not None:
            panel.refresh_models()
        win.learn_dialog.refresh_bases()

    win.learn_dialog.model_ready.connect(lambda name: (refresh(), win.show_message(f"model {name!r} is ready")))
    learn = menu.addAction("Learn From MIDI Files...")
    learn.triggered.connect(lambda: (win.learn_dialog.show(), win.learn_dialog.raise_()))
    manage = menu.addAction("Manage Models...")

    def open_manager() -> None:
        ManageModelsDialog(services, win.dialogs.ask_text, refresh, win).exec()

    manage.triggered.connect(open_manager)
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(win.learn_dialog.stop_and_wait)
