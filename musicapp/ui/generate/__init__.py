"""The assistant in the editor: the Generate panel, its controller and the one ML worker thread.

``install_generate(window, services)`` docks the panel, fills the Generate menu (with
shortcuts: Ctrl+Return continue, Ctrl+Shift+I infill the ruler range, Ctrl+Alt+H harmonise,
Ctrl+Alt+M accompany, Ctrl+Alt+D detect chords, Tab / Shift+Tab next / previous candidate, Return
accept, Esc dismiss, Shift+Space audition) and stops the worker when the window closes or the
application quits. ``services`` (``GenerateServices``) is injected by ``musicapp.app``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication

from musicapp.ui.focus import tame_focus
from musicapp.ui.generate.controller import GenerateController
from musicapp.ui.generate.panel import GeneratePanel
from musicapp.ui.generate.seedview import SeedLayer, reveal_ghosts
from musicapp.ui.generate.services import GenerateServices

if TYPE_CHECKING:
    from musicapp.ui.main_window import MainWindow

__all__ = ["install_generate", "GenerateController", "GeneratePanel", "GenerateServices"]


class _CloseWatcher(QObject):
    """Cancels generation when the window gets a close request; stops the worker once closed."""

    def __init__(self, win: "MainWindow", ctrl: GenerateController):
        super().__init__(win)
        self.ctrl = ctrl

    def eventFilter(self, obj, event) -> bool:  # Qt override
        if event.type() == QEvent.Close:
            self.ctrl.worker.cancel()
            QTimer.singleShot(0, self, lambda: self._after_close(obj))
        return False

    def _after_close(self, win) -> None:
        if not win.isVisible():  # the close was accepted (not vetoed by the save prompt)
            self.ctrl.shutdown()


def install_generate(win: "MainWindow", services: GenerateServices) -> GenerateController:
    """Add the Generate panel and its actions to ``win``; returns the controller."""
    ctrl = GenerateController(win.document, services, win.playback, lambda: win.roll.cursor_tick, win)
    ctrl.time_range = lambda: win.roll.loop  # Infill's range: the loop region dragged on the ruler
    panel = GeneratePanel(ctrl)
    win.generate = ctrl
    win.generate_panel = panel
    win.generate_dock = win.add_panel("Generate", panel)
    tame_focus(panel, lambda: win.roll.canvas, (panel.low, panel.high))  # shortcuts after a click here
    _wire_actions(win, ctrl, panel)
    win.installEventFilter(_CloseWatcher(win, ctrl))
    worker = ctrl.worker
    win.destroyed.connect(lambda *_: worker.close())
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(worker.close)
    ctrl.message.connect(win.show_message)
    ctrl.ghost_chords.connect(win.roll.chord_lane.set_ghost_chords)
    win.roll.cursor_changed.connect(panel.seed_moved)
    canvas = win.roll.canvas
    canvas.painted.connect(lambda: ctrl.follow_preview(canvas.preview))  # drags follow live
    dock = win.generate_dock
    win.roll.add_layer(SeedLayer(ctrl, lambda: dock.isVisible()))
    ctrl.ghosts_shown.connect(lambda _rid: reveal_ghosts(win.roll))  # follow the candidates
    win.document.replaced.connect(ctrl.reset_for_document)  # key lock, seed source: per song
    ctrl.changed.connect(win.roll.canvas.update)
    return ctrl


def _wire_actions(win: "MainWindow", ctrl: GenerateController, panel: GeneratePanel) -> None:
    a, menu = win.actions_, win.generate_menu

    def act(text: str, slot, keys: list[str]) -> QAction:
        action = QAction(text, win)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(slot)
        win.addAction(action)
        return action

    a.continue_melody.triggered.connect(ctrl.continue_phrase)
    a.continue_melody.setEnabled(True)
    a.continue_melody.setToolTip("Continue the selection, or the notes before the cursor (Ctrl+Return)")
    try:
        a.accept_ghosts.triggered.disconnect(win.accept_ghost_notes)
    except (RuntimeError, TypeError):
        pass
    a.accept_ghosts.triggered.connect(lambda: ctrl.accept() or win.accept_ghost_notes())
    a.clear_ghosts.triggered.connect(ctrl.dismiss)
    vary = act("&Vary Selection", ctrl.vary_selection, ["Ctrl+Shift+Return"])
    interp = act("&Interpolate Selection", ctrl.interpolate_selection, ["Ctrl+Alt+Return"])
    infill = act("In&fill Range", ctrl.infill_range, ["Ctrl+Shift+I"])
    infill.setToolTip("Regenerate the ruler's loop range (or the selected notes' span) from both sides")
    harmonise = act("&Harmonise Melody", ctrl.harmonise, ["Ctrl+Alt+H"])
    accompany = act("Acco&mpany Chords", ctrl.accompany, ["Ctrl+Alt+M"])
    detect = act("&Detect Chords", ctrl.detect_chords, ["Ctrl+Alt+D"])
    nxt = act("&Next Candidate", lambda: ctrl.next_candidate(), ["Tab"])
    prev = act("&Previous Candidate", ctrl.previous_candidate, ["Shift+Tab", "Shift+Backtab"])
    audition = act("A&udition Candidate", ctrl.audition, ["Shift+Space"])
    stop = act("&Stop Generating", ctrl.dismiss, ["Escape"])  # Esc while nothing is shown yet
    live = act("&Live Re-seed", panel.live.setChecked, [])
    live.setCheckable(True)
    panel.live.toggled.connect(live.setChecked)
    a.vary_selection, a.interpolate_selection, a.next_candidate = vary, interp, nxt
    a.infill_range = infill
    a.previous_candidate, a.audition_candidate, a.live_reseed, a.stop_generating = prev, audition, live, stop
    first = menu.actions()[1] if len(menu.actions()) > 1 else None
    a.harmonise, a.accompany, a.detect_chords = harmonise, accompany, detect
    for action in (infill, vary, interp, harmonise, accompany, detect):
        menu.insertAction(first, action)
    menu.addSeparator()
    menu.addActions([prev, nxt, audition, stop])
    menu.addSeparator()
    menu.addAction(live)
    menu.addAction(win.generate_dock.toggleViewAction())

    def update_enabled() -> None:
        s = ctrl.session
        n = len(s.candidates) if s is not None else 0
        nxt.setEnabled(n > 1)
        prev.setEnabled(n > 1)
        audition.setEnabled(n > 0)
        stop.setEnabled(ctrl.busy and not win.document.ghost_notes)  # else Esc is Dismiss

    ctrl.changed.connect(update_enabled)
    win.document.ghosts_changed.connect(update_enabled)
    update_enabled()
