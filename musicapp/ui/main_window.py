"""The main window: piano roll in the middle, track list dock, tool and transport bars, menus.

Owns the wiring between the document, the piano roll, the file controller, playback and
autosave, plus window-level policy (title, status bar, settings, drag and drop, close prompt,
crash recovery on start). Engine objects arrive already built (``Playback`` wraps an injected
Transport; ``OutputChooser`` picks outputs); dialogs are injected so tests never block.

For the Generate panel: ``window.document`` (song, selection, active_track, apply(),
set_ghost_notes()), ``window.roll`` (cursor_tick, loop, add_layer()), ``window.generate_menu``
and ``window.add_panel(title, widget)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication, QComboBox, QDockWidget, QLabel, QMainWindow, QToolBar, QWidget,
)

from musicapp import __version__
from musicapp.core import edits
from musicapp.ui.actions import Actions, fill_history_menu, icon
from musicapp.ui.autosave import AutosaveConfig, Autosaver, load_recovery, orphaned_recovery_files
from musicapp.ui.dialogs import Dialogs
from musicapp.ui.draw_controls import DrawControls
from musicapp.ui.document import Document
from musicapp.ui.editing import EditVerbs
from musicapp.ui.editor_state import clean_editor_state
from musicapp.ui.files import DragHandle, FileController, is_midi_path, new_song
from musicapp.ui.pianoroll.geometry import GridSpec
from musicapp.ui.pianoroll.widget import PianoRoll
from musicapp.ui.playback import Playback
from musicapp.ui.settings import AppSettings
from musicapp.ui.themes import apply_theme, theme_named
from musicapp.ui.recording import InputChooser, Recording
from musicapp.ui.transport_bar import OutputChooser, TransportBar, apply_output_choice
from musicapp.ui.window_habits import apply_first_geometry, install_window_habits


class MainWindow(QMainWindow):
    """The editor window for one document."""

    jam = None  # Transport > Jam's controller, when installed (ui.jam.install_jam)

    def __init__(self, settings: AppSettings | None = None, dialogs=None, playback: Playback | None = None,
                 output_chooser: OutputChooser | None = None, autosave: AutosaveConfig | None = None,
                 document: Document | None = None, input_chooser: InputChooser | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or AppSettings()
        self.dialogs = dialogs or Dialogs(self)
        self.document = document or Document(new_song(), self)
        self.playback = playback or Playback(self.document, None, self)
        self.output_chooser = output_chooser
        self._current_output = ""
        self.roll = PianoRoll(self.document, self)
        self.setCentralWidget(self.roll)
        self.recording = Recording(
            self.document, self.playback, input_chooser, cursor=lambda: self.roll.cursor_tick,
            grid_ticks=lambda: self.roll.grid.ticks(self.document.song.ppq) if self.roll.grid.enabled else None,
            report=self.show_message, parent=self)
        self.files = FileController(self.document, self.dialogs, self.settings, self.editor_state, self)
        self.verbs = EditVerbs(self.document, self.roll, self.dialogs)
        self.autosaver = Autosaver(self.document, self.editor_state, autosave or AutosaveConfig(), self)
        self.files.on_saved = self.autosaver.discard
        self.actions_ = Actions(self)
        # made once, swapped on play/stop
        self._play_icons = {True: icon("pause"), False: icon("play")}
        self.actions_.build_menus()
        self._build_bars()
        self._build_docks()
        self._build_status()
        self._connect()
        self._restore_settings()
        install_window_habits(self)  # port watching, MIDI clock out, time display per song
        self.setAcceptDrops(True)
        self.setWindowIcon(icon("musicapp"))
        self._update_title()
        self._update_enabled()

    # ----- construction -----------------------------------------------------------------------
    def _build_bars(self) -> None:
        a = self.actions_
        tb = QToolBar("Tools", self)
        tb.setObjectName("toolsBar")
        tb.addActions([a.new, a.open, a.save])
        tb.addSeparator()
        tb.addActions([a.undo, a.redo])
        tb.addSeparator()
        tb.addActions(list(a.tools.values()))
        tb.addSeparator()
        tb.addWidget(QLabel(" Grid "))
        self.grid_box = QComboBox()
        self.grid_box.setToolTip("Grid and snap")
        for text, action in a.grids.items():
            self.grid_box.addItem(action.text(), text)
        self.grid_box.activated.connect(lambda i: self.set_grid(GridSpec.from_text(self.grid_box.itemData(i))))
        tb.addWidget(self.grid_box)
        self.draw_controls = DrawControls(self, tb)  # swing, length of drawn notes, snap to scale
        tb.addSeparator()
        tb.addActions([a.zoom_out, a.zoom_in])
        tb.addSeparator()
        self.drag_handle = DragHandle(self.files)
        tb.addWidget(self.drag_handle)
        self.addToolBar(tb)
        self.addToolBarBreak()
        self.transport_bar = TransportBar(self.document, [a.play, a.stop, a.rewind, a.loop, a.metronome, a.follow], self)
        self.addToolBar(self.transport_bar)
        self.transport_bar.set_chooser(self.output_chooser, self.settings.output)
        self.transport_bar.addWidget(self.recording.box)
        self.transport_bar.addAction(a.record)
        self.panels_menu.addActions([tb.toggleViewAction(), self.transport_bar.toggleViewAction()])

    def _build_docks(self) -> None:
        from musicapp.ui.track_list import TrackList

        self.track_list = TrackList(self.document, self)
        self.add_panel("Tracks", self.track_list, Qt.LeftDockWidgetArea)

    def add_panel(self, title: str, widget: QWidget, area=Qt.RightDockWidgetArea) -> QDockWidget:
        """Dock ``widget`` as a panel (listed in View > Panels); returns the dock."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock{title.replace(' ', '')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.hover_label = QLabel("")
        self.selection_label = QLabel("")
        self.grid_label = QLabel("")
        for w in (self.hover_label, self.selection_label, self.grid_label):
            w.setMinimumWidth(90)
            sb.addPermanentWidget(w)

    def _connect(self) -> None:
        doc, roll, pb = self.document, self.roll, self.playback
        doc.selection_changed.connect(self._update_enabled)
        doc.song_changed.connect(self._update_enabled)
        doc.ghosts_changed.connect(self._update_enabled)
        doc.path_changed.connect(self._update_title)
        doc.modified_changed.connect(self._update_title)
        doc.edit_failed.connect(self.show_message)
        self.files.message.connect(self.show_message)
        self.files.opened.connect(self.apply_editor_state)
        self.files.recent_changed.connect(self._fill_recent)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.history_menu.aboutToShow.connect(lambda: fill_history_menu(self.history_menu, doc.undo_stack))
        roll.status_message.connect(lambda t: self.statusBar().showMessage(t, 3000))
        roll.hover_changed.connect(self.hover_label.setText)
        roll.tool_changed.connect(lambda n: self.actions_.tools[n].setChecked(True))
        roll.loop_changed.connect(self._on_loop_changed)
        roll.seek_requested.connect(pb.seek)
        roll.audition_hook = self._audition
        roll.external_drag_hook = lambda: self.files.drag_selection_out(roll.canvas)
        pb.position_changed.connect(self._on_position)
        pb.playing_changed.connect(self._on_playing_changed)
        pb.error.connect(self.show_message)
        self.transport_bar.output_selected.connect(self.select_output)
        self.recording.recording_changed.connect(self.actions_.record.setChecked)
        self.recording.input_selected.connect(lambda name: setattr(self.settings, "midi_input", name))
        self.autosaver.failed.connect(self.show_message)

    def _restore_settings(self) -> None:
        s = self.settings
        geo, state = s.window_state()
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            apply_first_geometry(self)
        if state is not None:
            self.restoreState(state)
        self.set_theme(s.theme)
        self.set_grid(GridSpec.from_text(s.grid))
        self.actions_.follow.setChecked(s.follow)
        self.set_follow(s.follow)
        self.actions_.other_tracks.setChecked(True)
        self.actions_.metronome.setChecked(s.metronome)
        self.playback.set_metronome(s.metronome)
        self.recording.quantize = s.quantize_recording
        self.actions_.quantize_recording.setChecked(s.quantize_recording)
        self.recording.count_in_bars = 1 if s.count_in_recording else 0
        self.actions_.count_in_recording.setChecked(s.count_in_recording)
        self.actions_.tools[self.roll.current_tool().name].setChecked(True)

    # ----- startup ----------------------------------------------------------------------------
    def startup(self, path: str | None = None) -> None:
        """After show: offer crash recovery, then open ``path`` if given; start autosave."""
        recovered = self.offer_recovery()
        if path and not recovered:
            self.files.open_path(path, ask=False)
        self.autosaver.start()
        if not path and not recovered:
            self.roll.center_pitch(66)

    def offer_recovery(self) -> bool:
        """Offer each recovery file left by a crashed editor, newest first; True if one was
        recovered. A declined file is deleted; an unreadable one is kept and named. Once one
        is recovered the rest stay for the next start (nothing is deleted unseen), and the
        recovered file stays until this session has written its own recovery point."""
        files = orphaned_recovery_files(self.autosaver.config)
        for i, path in enumerate(files):
            try:
                song, state = load_recovery(path)
            except Exception as err:  # unreadable recovery file: report, keep it for inspection
                self.show_message(f"Recovery file {path.name} unreadable: {err}")
                continue
            source = state.get("recovery_of") or "an untitled song"
            more = f" ({i + 1} of {len(files)})" if len(files) > 1 else ""
            if not self.dialogs.offer_recovery(f"Unsaved changes to {source} ({song.note_count} notes){more}."):
                self.autosaver.adopt(path)
                self.autosaver.discard()  # declined: the user has seen it
                continue
            origin = state.get("recovery_of") or ""
            self.document.reset(song, Path(origin) if isinstance(origin, str) and origin and Path(origin).is_file() else None)
            self.apply_editor_state(state)
            self.document.undo_stack.resetClean()  # recovered work counts as unsaved
            self.autosaver.adopt(path)
            left = len(files) - i - 1
            self.show_message(f"Recovered {song.note_count} notes from {path.name}"
                              + (f"; {left} more recovery file(s) kept for the next start" if left else ""))
            return True
        return False

    # ----- editor state (stored in projects) --------------------------------------------------
    def editor_state(self) -> dict:
        roll = self.roll
        return {"view": roll.view.to_dict(), "grid": roll.grid.to_text(), "tool": roll.current_tool().name,
                "active_track": self.document.active_track, "cursor": roll.cursor_tick,
                "loop": list(roll.loop) if roll.loop else None}

    def apply_editor_state(self, state: dict) -> None:
        """Restore what ``editor_state`` stored; anything missing or invalid is skipped (and
        said), positions are clamped (``ui.editor_state``): it never stops a song opening."""
        roll = self.roll
        roll.set_loop(None)
        roll.set_cursor_tick(0)
        if not state:
            roll.zoom_to_fit()
            return
        state, dropped = clean_editor_state(state, self.document.song, roll.tools)
        if "view" in state:
            roll.view.load_dict(state["view"])
        if "grid" in state:
            self.set_grid(GridSpec.from_text(state["grid"]))
        if "tool" in state:
            roll.set_tool(state["tool"])
        if "active_track" in state:
            self.document.set_active_track(state["active_track"])
        if "cursor" in state:
            roll.set_cursor_tick(state["cursor"])
        if state.get("loop"):
            roll.set_loop(state["loop"])
        self.ignored_editor_state = dropped
        if dropped:  # after the file controller's "Opened ..." line
            text = f"Editor settings ignored (invalid): {', '.join(dropped)}"
            QTimer.singleShot(0, lambda: self.show_message(text))

    # ----- view verbs -------------------------------------------------------------------------
    def set_grid(self, grid: GridSpec) -> None:
        grid = self.draw_controls.with_swing(grid)
        self.roll.set_grid(grid)
        text, base = grid.to_text(), grid.straight().to_text()
        if base in self.actions_.grids:
            self.actions_.grids[base].setChecked(True)
            self.grid_box.setCurrentIndex(self.grid_box.findData(base))
        self.grid_label.setText(f"Grid {grid.label()}")
        self.settings.grid = text

    def set_theme(self, name: str) -> None:
        theme = theme_named(name)
        app = QApplication.instance()
        if app is not None:
            apply_theme(app, theme)
        self.roll.set_theme(theme)
        self.actions_.themes[theme.name].setChecked(True)
        self.settings.theme = theme.name

    def set_follow(self, on: bool) -> None:
        self.roll.follow = bool(on)
        self.settings.follow = bool(on)

    def set_show_other_tracks(self, on: bool) -> None:
        self.roll.show_other_tracks = bool(on)
        self.roll.refresh()

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    # ----- transport verbs --------------------------------------------------------------------
    def stop_and_rewind(self) -> None:
        self.playback.stop()

    def return_to_start(self) -> None:
        self.roll.request_seek(0)

    def set_loop_enabled(self, on: bool) -> None:
        if on and self.roll.loop is None:
            song = self.document.song
            bar = song.meters[0].bar_ticks(song.ppq)
            start = (self.roll.cursor_tick // bar) * bar
            self.roll.set_loop((start, start + 4 * bar))
        elif not on:
            self.roll.set_loop(None)

    def loop_selection(self) -> None:
        notes = self.document.selected_notes()
        if notes:
            g = self.roll.grid
            ppq = self.document.song.ppq
            start, end = g.floor(min(n.start for n in notes), ppq), max(n.end for n in notes)
            self.roll.set_loop((start, max(start + g.ticks(ppq), g.snap(end, ppq))))

    def set_metronome(self, on: bool) -> None:
        self.playback.set_metronome(on)
        self.settings.metronome = bool(on)

    def refresh_outputs(self) -> None:
        self.transport_bar.refresh_outputs()
        self.recording.refresh_inputs()

    def select_input(self, name: str) -> bool:
        """Listen to MIDI input ``name`` (thru on the active track, recorded with Record)."""
        return self.recording.select_input(name)

    def set_count_in_recording(self, on: bool) -> None:
        self.recording.count_in_bars = 1 if on else 0
        self.settings.count_in_recording = bool(on)

    def set_quantize_recording(self, on: bool) -> None:
        self.recording.quantize = bool(on)
        self.settings.quantize_recording = bool(on)

    def select_output(self, name: str) -> bool:
        """Play through output ``name``; on failure the message says why and nothing changes."""
        if self.output_chooser is None:
            return False
        if apply_output_choice(self.output_chooser, name, self.show_message):
            self.settings.output = self._current_output = name
            self.transport_bar.refresh_outputs(name)
            return True
        self.transport_bar.refresh_outputs(self._current_output or self.transport_bar.output_box.itemText(0))
        return False

    def _on_loop_changed(self, loop) -> None:
        self.actions_.loop.setChecked(loop is not None)
        self.playback.set_loop(loop)

    def _on_position(self, tick: float) -> None:
        self.roll.set_playhead(tick)
        self.transport_bar.set_position(tick)

    def _on_playing_changed(self, playing: bool) -> None:
        self.actions_.play.setIcon(self._play_icons[playing])

    def _audition(self, pitch: int, velocity: int) -> None:
        song = self.document.song
        ti = self.document.active_track
        channel = song.tracks[ti].channel if 0 <= ti < len(song.tracks) else 0
        self.playback.audition(pitch, velocity, channel)

    # ----- generate hooks ---------------------------------------------------------------------
    def accept_ghost_notes(self) -> None:
        """Add the ghost notes to their track as one undo step and clear them."""
        doc = self.document
        ghosts, track = doc.ghost_notes, doc.ghost_track
        if ghosts and 0 <= track < len(doc.song.tracks):
            doc.apply("Accept generated notes", lambda s: edits.add_notes(s, track, ghosts))
            doc.clear_ghost_notes()

    # ----- help -------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td>{a}</td><td><b>{k}</b></td></tr>" for a, k in self.actions_.shortcut_table())
        self.dialogs.about(f"<table cellspacing=4>{rows}</table>")

    def show_about(self) -> None:
        self.dialogs.about(f"<b>musicapp {__version__}</b><br>Offline composing assistant: piano roll, "
                           "neural melody continuation and real-time MIDI.")

    # ----- window state -----------------------------------------------------------------------
    def _update_title(self, *_args) -> None:
        self.setWindowTitle(f"{self.files.display_name()}[*] — musicapp")
        self.setWindowModified(self.document.is_modified)

    def _update_enabled(self) -> None:
        a, doc = self.actions_, self.document
        has_sel = bool(doc.selection)
        for act in (a.cut, a.copy, a.duplicate, a.delete, a.set_velocity, a.export_selection, a.loop_selection,
                    a.up, a.down, a.octave_up, a.octave_down, a.left, a.right, a.bar_left, a.bar_right):
            act.setEnabled(has_sel)
        a.accept_ghosts.setEnabled(bool(doc.ghost_notes))
        a.clear_ghosts.setEnabled(bool(doc.ghost_notes))
        n = len(doc.selection)
        self.selection_label.setText(f"{n} selected" if n else f"{doc.song.note_count} notes")

    def _fill_recent(self) -> None:
        menu = self.recent_menu
        menu.clear()
        for path in self.settings.recent_files():
            act = menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.files.open_path(p))
        if menu.isEmpty():
            menu.addAction("(none)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear Recent Files").triggered.connect(self.settings.clear_recent_files)

    def emergency_exit(self) -> None:
        """The process is being ended by a signal: keep the work as a recovery point (the
        file stays, so the next start offers it) and release every sounding note."""
        self.autosaver.stop()
        if self.autosaver.write_now():
            print(f"musicapp: unsaved work kept in {self.autosaver.path}", file=sys.stderr)
        self.recording.close()
        self.playback.stop()
        self.playback.close()

    # ----- Qt overrides -----------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # Qt override
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if any(u.isLocalFile() and (is_midi_path(u.toLocalFile()) or u.toLocalFile().endswith(".musicapp"))
               for u in urls):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # Qt override
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and event.source() is None:  # ignore our own drag-out landing on ourselves
            event.acceptProposedAction()
            self.files.drop_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt override
        if not self.files.maybe_save_changes():
            event.ignore()
            return
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.autosaver.stop()
        self.autosaver.discard()
        if self.jam is not None:
            self.jam.close()
        self.recording.close()
        self.playback.close()
        self.files.cleanup()
        event.accept()

