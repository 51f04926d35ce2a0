"""The window's actions (with DAW-style shortcuts) and the menus and tool bar that show them.

Owns the shortcut table and the menu layout: File, Edit, View, Transport, Generate, Help.
Actions call methods of the MainWindow and its helpers; nothing here edits the song itself.
Actions that cannot work right now are disabled, never dead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QMenu

from musicapp.paths import resources_dir
from musicapp.ui.pianoroll.geometry import DIVISIONS, GridSpec

if TYPE_CHECKING:
    from musicapp.ui.main_window import MainWindow


def icon(name: str) -> QIcon:
    """Icon ``resources/icons/<name>.svg`` (an empty icon if missing)."""
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


class Actions:
    """All QActions of one MainWindow, as attributes."""

    def __init__(self, win: "MainWindow"):
        self.win = win
        w, v, f, pb = win, win.verbs, win.files, win.playback

        def act(text: str, slot: Callable | None, keys=None, icon_name: str | None = None,
                checkable: bool = False, tip: str | None = None) -> QAction:
            a = QAction(text, win)
            if keys is not None:
                seqs = keys if isinstance(keys, list) else [keys]
                a.setShortcuts([QKeySequence(k) for k in seqs])
            if icon_name:
                a.setIcon(icon(icon_name))
            a.setCheckable(checkable)
            if tip or keys:
                shown = QKeySequence(seqs[0]).toString(QKeySequence.NativeText) if keys is not None else ""
                a.setToolTip(f"{tip or text.replace('…', '').replace('&', '')}" + (f" ({shown})" if shown else ""))
            if slot is not None:
                a.triggered.connect(slot)
            win.addAction(a)
            return a

        # File
        self.new = act("&New", f.new_document, QKeySequence.New, "new")
        self.open = act("&Open…", f.open_dialog, QKeySequence.Open, "open")
        self.save = act("&Save", f.save, QKeySequence.Save, "save")
        self.save_as = act("Save &As…", f.save_as, "Ctrl+Shift+S")
        self.import_midi = act("&Import MIDI…", f.import_dialog, "Ctrl+I")
        self.export_midi = act("&Export MIDI…", lambda: f.export_dialog(False), "Ctrl+E")
        self.export_selection = act("Export &Selection as MIDI…", lambda: f.export_dialog(True), "Ctrl+Shift+E")
        self.quit = act("&Quit", w.close, QKeySequence.Quit)
        # Edit
        stack = win.document.undo_stack
        self.undo = stack.createUndoAction(win, "&Undo")
        self.undo.setShortcuts([QKeySequence("Ctrl+Z")])
        self.undo.setIcon(icon("undo"))
        self.redo = stack.createRedoAction(win, "&Redo")
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo.setIcon(icon("redo"))
        win.addActions([self.undo, self.redo])
        self.cut = act("Cu&t", v.cut, QKeySequence.Cut)
        self.copy = act("&Copy", v.copy, QKeySequence.Copy)
        self.paste = act("&Paste", v.paste, QKeySequence.Paste)
        self.duplicate = act("&Duplicate", v.duplicate, "Ctrl+D")
        self.delete = act("De&lete", v.delete, [QKeySequence.Delete, "Backspace"])
        self.select_all = act("Select &All", v.select_all, QKeySequence.SelectAll)
        self.select_none = act("Select &None", v.select_none, "Ctrl+Shift+A")
        self.quantize = act("&Quantize", v.quantize, "Q")
        self.quantize_ends = act("Quantize Starts and &Ends", lambda: v.quantize(True), "Shift+Q")
        self.set_velocity = act("Set &Velocity…", v.set_velocity, "Ctrl+Shift+V")
        roll = win.roll
        self.up = act("Transpose Up", lambda: roll.nudge(semitones=1), "Up")
        self.down = act("Transpose Down", lambda: roll.nudge(semitones=-1), "Down")
        self.octave_up = act("Octave Up", lambda: roll.nudge(semitones=12), "Shift+Up")
        self.octave_down = act("Octave Down", lambda: roll.nudge(semitones=-12), "Shift+Down")
        self.left = act("Move Left", lambda: roll.nudge(steps=-1), "Left")
        self.right = act("Move Right", lambda: roll.nudge(steps=1), "Right")
        self.bar_left = act("Move Left One Bar", lambda: roll.nudge(steps=-1, by_bar=True), "Shift+Left")
        self.bar_right = act("Move Right One Bar", lambda: roll.nudge(steps=1, by_bar=True), "Shift+Right")
        # arrows belong to the piano roll: in the track list, the Generate panel or any other
        # widget they keep their own meaning (moving the current row, a spin box's value)
        for a in (self.up, self.down, self.octave_up, self.octave_down, self.left, self.right,
                  self.bar_left, self.bar_right):
            win.removeAction(a)
            a.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            roll.addAction(a)
        self.tool_group = QActionGroup(win)
        self.tools = {}
        for key, (name, label) in enumerate((("select", "&Select Tool"), ("draw", "&Draw Tool"),
                                             ("erase", "&Erase Tool")), start=1):
            a = act(label, lambda _=False, n=name: roll.set_tool(n), str(key), name, checkable=True)
            self.tool_group.addAction(a)
            self.tools[name] = a
        # View
        self.zoom_in = act("Zoom &In", lambda: roll.zoom_time(1.25), QKeySequence.ZoomIn, "zoom-in")
        self.zoom_out = act("Zoom &Out", lambda: roll.zoom_time(0.8), QKeySequence.ZoomOut, "zoom-out")
        self.zoom_rows_in = act("Taller Rows", lambda: roll.zoom_pitch(1.2), "Ctrl+Shift+=")
        self.zoom_rows_out = act("Shorter Rows", lambda: roll.zoom_pitch(1 / 1.2), "Ctrl+Shift+-")
        self.zoom_fit = act("Zoom to &Fit", roll.zoom_to_fit, "Ctrl+0")
        self.follow = act("&Follow Playhead", w.set_follow, "F", "follow", checkable=True)
        self.other_tracks = act("Show &Other Tracks", w.set_show_other_tracks, None, checkable=True)
        self.grid_group = QActionGroup(win)
        self.grids: dict[str, QAction] = {}
        for spec in ([GridSpec(d) for d in DIVISIONS] + [GridSpec(d, True) for d in DIVISIONS[1:]]
                     + [GridSpec(d, dotted=True) for d in DIVISIONS[1:-1]] + [GridSpec(None)]):
            a = act(spec.label(), lambda _=False, s=spec: w.set_grid(s), checkable=True)
            self.grid_group.addAction(a)
            self.grids[spec.to_text()] = a
        self.theme_group = QActionGroup(win)
        self.themes = {name: act(label, lambda _=False, n=name: w.set_theme(n), checkable=True)
                       for name, label in (("dark", "&Dark"), ("light", "&Light"))}
        for a in self.themes.values():
            self.theme_group.addAction(a)
        # Transport
        self.play = act("&Play / Stop", pb.toggle, "Space", "play")
        self.stop = act("&Stop", w.stop_and_rewind, None, "stop")
        self.rewind = act("Return to &Start", w.return_to_start, "Home", "rewind")
        self.loop = act("&Loop", w.set_loop_enabled, "L", "loop", checkable=True)
        self.loop_selection = act("Loop &Selection", w.loop_selection, "Ctrl+L")
        self.metronome = act("&Metronome", w.set_metronome, "K", "metronome", checkable=True)
        self.refresh_outputs = act("&Refresh Outputs and Inputs", w.refresh_outputs)
        self.record = act("&Record", lambda on: w.recording.set_recording(on), "R", "record", checkable=True,
                          tip="Record from the MIDI input into the active track")
        self.quantize_recording = act("&Quantize Recording to Grid", w.set_quantize_recording, None,
                                      checkable=True)
        self.count_in_recording = act("&Count-in Before Recording (1 bar)", w.set_count_in_recording, None,
                                      checkable=True)
        for a in (self.play, self.stop, self.rewind, self.loop, self.metronome, self.refresh_outputs):
            a.setEnabled(pb.available)
        self.record.setEnabled(w.recording.available)
        # Generate (filled by the Generate panel; ghost handling already works)
        self.accept_ghosts = act("&Accept Candidate", w.accept_ghost_notes, ["Return", "Enter"])
        self.clear_ghosts = act("&Dismiss Candidates", win.document.clear_ghost_notes, "Escape")
        self.continue_melody = act("&Continue Phrase", None, "Ctrl+Return")
        self.continue_melody.setEnabled(False)
        self.continue_melody.setToolTip("Needs the Generate panel and a trained model")
        # Help
        self.shortcuts = act("&Keyboard Shortcuts", w.show_shortcuts, "F1")
        self.about = act("&About musicapp", w.show_about)

    def build_menus(self) -> None:
        win = self.win
        bar = win.menuBar()
        m = bar.addMenu("&File")
        m.addActions([self.new, self.open])
        win.recent_menu = m.addMenu("Open &Recent")
        m.addActions([self.save, self.save_as])
        m.addSeparator()
        m.addActions([self.import_midi, self.export_midi, self.export_selection])
        m.addSeparator()
        m.addAction(self.quit)
        m = bar.addMenu("&Edit")
        m.addActions([self.undo, self.redo])
        win.history_menu = m.addMenu("Undo &History")
        m.addSeparator()
        m.addActions([self.cut, self.copy, self.paste, self.duplicate, self.delete])
        m.addSeparator()
        m.addActions([self.select_all, self.select_none])
        m.addSeparator()
        m.addActions([self.quantize, self.quantize_ends, self.set_velocity])
        sub = m.addMenu("&Transpose and Move")
        sub.addActions([self.up, self.down, self.octave_up, self.octave_down])
        sub.addSeparator()
        sub.addActions([self.left, self.right, self.bar_left, self.bar_right])
        m.addSeparator()
        m.addActions(list(self.tools.values()))
        m = bar.addMenu("&View")
        m.addActions([self.zoom_in, self.zoom_out, self.zoom_rows_in, self.zoom_rows_out, self.zoom_fit])
        m.addSeparator()
        m.addActions([self.follow, self.other_tracks])
        sub = m.addMenu("&Grid")
        sub.addActions(list(self.grids.values()))
        sub = m.addMenu("&Theme")
        sub.addActions(list(self.themes.values()))
        win.panels_menu = m.addMenu("&Panels")
        m = bar.addMenu("&Transport")
        win.transport_menu = m
        m.addActions([self.play, self.stop, self.rewind])
        m.addSeparator()
        m.addActions([self.loop, self.loop_selection, self.metronome])
        m.addSeparator()
        m.addActions([self.record, self.quantize_recording, self.count_in_recording])
        m.addSeparator()
        m.addAction(self.refresh_outputs)
        m = bar.addMenu("&Generate")
        win.generate_menu = m
        m.addAction(self.continue_melody)
        m.addSeparator()
        m.addActions([self.accept_ghosts, self.clear_ghosts])
        m = bar.addMenu("&Help")
        m.addActions([self.shortcuts, self.about])

    def shortcut_table(self) -> list[tuple[str, str]]:
        """(action, shortcut) for every action that has one, for the Help dialog."""
        rows = []
        for a in self.win.actions():
            if a.shortcut().isEmpty():
                continue
            keys = ", ".join(s.toString(QKeySequence.NativeText) for s in a.shortcuts())
            rows.append((a.text().replace("&", "").replace("…", ""), keys))
        return rows


def fill_history_menu(menu: QMenu, stack) -> None:
    """List the undo stack's steps in ``menu``; picking one jumps there."""
    menu.clear()
    for i in range(stack.count() + 1):
        text = "<original>" if i == 0 else stack.text(i - 1)
        a = menu.addAction(text)
        a.setCheckable(True)
        a.setChecked(i == stack.index())
        a.triggered.connect(lambda _=False, n=i: stack.setIndex(n))
    if stack.count() == 0:
        menu.actions()[0].setEnabled(False)

