"""The piano roll: chord lane, keyboard, ruler, note canvas, velocity and controller lanes and
scroll bars in one widget.

Owns the view-side state of editing (zoom/scroll, grid, current tool, edit cursor, loop
region and playhead position as displayed) and the small editing verbs the tools and menus
share (add notes, nudge, draw at a point). It never changes the song itself: everything goes
through ``Document.apply`` with a pure edit from ``core.edits``.

Hooks set by the window (all optional): ``audition_hook(pitch, velocity)`` plays a note,
``external_drag_hook()`` starts a drag of the selection out of the app.
"""

from __future__ import annotations

from typing import Callable, Iterable

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollBar, QVBoxLayout, QWidget

from musicapp.core import edits
from musicapp.core.scales import scale_pitch_classes, snap_to_scale
from musicapp.core.song import Key, Note
from musicapp.ui.document import Document
from musicapp.ui.pianoroll.canvas import Layer, NoteCanvas
from musicapp.ui.pianoroll.chordlane import ChordLane, ChordToneLayer
from musicapp.ui.pianoroll.controls import ControlLane
from musicapp.ui.pianoroll.geometry import GridSpec, ViewState
from musicapp.ui.pianoroll.keyboard import KEYBOARD_WIDTH, Keyboard
from musicapp.ui.pianoroll.layers import (
    BackgroundLayer, GhostLayer, MovingNotesLayer, NotesLayer, OverlayLayer, note_name,
)
from musicapp.ui.pianoroll.ruler import Ruler
from musicapp.ui.pianoroll.tools import DrawTool, EraseTool, SelectTool, Tool
from musicapp.ui.pianoroll.velocity import VelocityLane
from musicapp.ui.themes import DARK, Theme

WHEEL_ZOOM = 1.15


class PianoRoll(QWidget):
    """Editable piano roll over a ``Document``."""

    loop_changed = Signal(object)  # (start, end) ticks or None
    seek_requested = Signal(int)  # tick
    cursor_changed = Signal(int)  # tick
    status_message = Signal(str)
    tool_changed = Signal(str)
    hover_changed = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.view = ViewState(self)
        self.grid = GridSpec()
        self.theme: Theme = DARK
        self.scale_pcs: frozenset[int] | None = None
        self.loop: tuple[int, int] | None = None
        self.playhead_tick = 0
        self.cursor_tick = 0
        self.follow = True
        self.show_other_tracks = True
        self.last_length = 0  # ticks of the last drawn/resized note (0: one grid step)
        self.draw_quarters: float | None = None  # chosen length of drawn notes (None: last / grid)
        self.snap_scale = False  # draw and drag onto the song key's scale (when it has a key)
        self.audition_hook: Callable[[int, int], None] | None = None
        self.external_drag_hook: Callable[[], None] | None = None
        self._syncing = False

        self.canvas = NoteCanvas(self)
        self.canvas.layers = [BackgroundLayer(), NotesLayer(), MovingNotesLayer(), ChordToneLayer(), GhostLayer(),
                              OverlayLayer()]
        self.keyboard = Keyboard(self)
        self.ruler = Ruler(self)
        self.chord_lane = ChordLane(self)
        self.velocity_lane = VelocityLane(self)
        self.control_lane = ControlLane(self)
        self.control_lane.chooser.setFixedWidth(KEYBOARD_WIDTH)
        self.hbar = QScrollBar(Qt.Horizontal, self)
        self.vbar = QScrollBar(Qt.Vertical, self)
        lane_label = QLabel("Vel", self)
        lane_label.setAlignment(Qt.AlignRight | Qt.AlignTop)
        lane_label.setFixedWidth(KEYBOARD_WIDTH)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        top = QWidget(self)
        stack = QVBoxLayout(top)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.setSpacing(0)
        stack.addWidget(self.chord_lane)
        stack.addWidget(self.ruler)
        layout.addWidget(top, 0, 1)
        chords_label = QLabel("Chords ", self)
        chords_label.setAlignment(Qt.AlignRight | Qt.AlignTop)
        layout.addWidget(chords_label, 0, 0)
        layout.addWidget(self.keyboard, 1, 0)
        layout.addWidget(self.canvas, 1, 1)
        layout.addWidget(self.vbar, 1, 2)
        layout.addWidget(lane_label, 2, 0)
        layout.addWidget(self.velocity_lane, 2, 1)
        layout.addWidget(self.control_lane.chooser, 3, 0, Qt.AlignTop)
        layout.addWidget(self.control_lane, 3, 1)
        layout.addWidget(self.hbar, 4, 1)
        layout.setRowStretch(1, 1)
        layout.setColumnStretch(1, 1)

        self.tools: dict[str, Tool] = {t.name: t for t in (SelectTool(self), DrawTool(self), EraseTool(self))}
        self._tool = self.tools["draw"]
        self.view.changed.connect(self._on_view_changed)
        self.hbar.valueChanged.connect(self._on_hbar)
        self.vbar.valueChanged.connect(self._on_vbar)
        document.song_changed.connect(self._on_song_changed)
        document.selection_changed.connect(self._refresh_notes)
        document.ghosts_changed.connect(self.canvas.update)  # ghosts live on the note canvas only
        document.active_track_changed.connect(lambda _: self.control_lane.sync_choices())
        self._on_song_changed()

    # ----- public API -------------------------------------------------------------------------
    def add_layer(self, layer: Layer, below_overlay: bool = True) -> None:
        """Insert a paint layer (above notes and ghosts, below the loop/playhead overlay)."""
        self.canvas.layers.insert(len(self.canvas.layers) - 1 if below_overlay else len(self.canvas.layers), layer)
        self.refresh()

    def current_tool(self) -> Tool:
        return self._tool

    def set_tool(self, name: str) -> None:
        if name not in self.tools:
            raise ValueError(f"unknown tool {name!r}")
        self._tool.cancel()
        self._tool = self.tools[name]
        self.canvas.unsetCursor()
        self.tool_changed.emit(name)

    def set_grid(self, grid: GridSpec) -> None:
        self.grid = grid
        self.refresh()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.refresh()

    def set_playhead(self, tick: float) -> None:
        """Show the playhead at ``tick``; with ``follow`` on, page the view to keep it visible."""
        self.playhead_tick = max(0, int(tick))
        if self.follow:
            t0, t1 = self.view.visible_ticks(self.canvas.width())
            if not t0 <= self.playhead_tick < t1 - (t1 - t0) * 0.02:
                self.view.scroll_to(left_tick=max(0.0, self.playhead_tick - (t1 - t0) * 0.05))
        self.canvas.update()
        self.ruler.update()

    def set_loop(self, loop: tuple[int, int] | None) -> None:
        """Set the loop region in ticks (start < end) or clear it with None."""
        if loop is not None:
            start, end = int(loop[0]), int(loop[1])
            if not 0 <= start < end:
                raise ValueError(f"bad loop region {loop}")
            loop = (start, end)
        if loop != self.loop:
            self.loop = loop
            self.loop_changed.emit(loop)
            self.refresh()

    def set_cursor_tick(self, tick: int) -> None:
        """Move the edit cursor (where paste and generation insert), in ticks."""
        self.cursor_tick = max(0, int(tick))
        self.cursor_changed.emit(self.cursor_tick)
        self.refresh()

    def request_seek(self, tick: int) -> None:
        """Ruler click: move cursor and playhead; the window forwards it to the transport."""
        self.set_cursor_tick(tick)
        self.playhead_tick = self.cursor_tick
        self.seek_requested.emit(self.cursor_tick)
        self.refresh()

    def audition(self, pitch: int, velocity: int = 100) -> None:
        if self.audition_hook is not None:
            self.audition_hook(pitch, velocity)

    def start_external_drag(self) -> None:
        if self.external_drag_hook is not None:
            self.external_drag_hook()

    def status(self, text: str) -> None:
        self.status_message.emit(text)

    def refresh(self) -> None:
        self.keyboard.update()
        self._refresh_notes()

    def _refresh_notes(self) -> None:
        """Repaint what shows notes, the song's events or the selection (after an edit or a
        selection change): not the keyboard, which shows only the view and the scale."""
        for w in (self.canvas, self.ruler, self.chord_lane, self.velocity_lane, self.control_lane):
            w.update()

    # ----- editing verbs ----------------------------------------------------------------------
    def default_length(self) -> int:
        """Ticks of a drawn note: the chosen length, else the last drawn one, else a grid step."""
        ppq = self.document.song.ppq
        if self.draw_quarters:
            return max(1, round(self.draw_quarters * ppq))
        return self.last_length or (self.grid.ticks(ppq) if self.grid.enabled else ppq // 4)

    def snap_key(self) -> Key | None:
        """The key notes are kept in while drawing and dragging (None: snap to scale is off or
        the song has no key)."""
        return self.document.song.key if self.snap_scale else None

    def new_note_at(self, pos: QPointF) -> Note | None:
        """The note a click at ``pos`` would draw in the active track (None without tracks)."""
        song = self.document.song
        if not song.tracks:
            return None
        tick = self.view.x_to_tick(pos.x())
        start = self.grid.floor(tick, song.ppq) if self.grid.enabled else max(0, int(tick))
        channel = song.tracks[self.document.active_track].channel
        pitch = self.view.y_to_pitch(pos.y())
        key = self.snap_key()
        if key is not None and 0 <= pitch <= 127:
            pitch = snap_to_scale(pitch, key)
        return Note(start, pitch, self.default_length(), 100, channel)

    def draw_note_at(self, pos: QPointF) -> None:
        note = self.new_note_at(pos)
        if note is not None:
            self.add_notes([note])

    def add_notes(self, notes: Iterable[Note], text: str = "Draw note") -> None:
        """Add ``notes`` to the active track as one undo step; they become the selection."""
        notes = list(notes)
        track = self.document.active_track
        if notes and self.document.song.tracks:
            self.document.apply(text, lambda s: edits.add_notes(s, track, notes))

    def nudge(self, steps: int = 0, semitones: int = 0, by_bar: bool = False) -> None:
        """Move the selection by grid steps (or bars) and semitones; repeated nudges merge."""
        doc = self.document
        if not doc.selection:
            return
        song = doc.song
        if by_bar:
            unit = song.meters[0].bar_ticks(song.ppq)
        else:
            unit = self.grid.ticks(song.ppq) if self.grid.enabled else song.ppq // 4
        dt = steps * unit
        sel = doc.selection
        key = self.snap_key()
        if key is not None and semitones:  # snap to scale: Up / Down step along the scale
            doc.apply("Nudge notes", lambda s: edits.move_notes_in_scale(s, sel, dt, semitones, key), merge_id=1)
            return
        doc.apply("Nudge notes", lambda s: edits.move_notes(s, sel, dt, semitones), merge_id=1)

    # ----- zoom and scroll --------------------------------------------------------------------
    def zoom_time(self, factor: float, anchor_x: float | None = None) -> None:
        self.view.zoom_x(factor, self.canvas.width() / 2 if anchor_x is None else anchor_x)

    def zoom_pitch(self, factor: float, anchor_y: float | None = None) -> None:
        self.view.zoom_y(factor, self.canvas.height() / 2 if anchor_y is None else anchor_y)
        self.view.scroll_to(top_pitch=self.view.top_pitch, view_height=self.canvas.height())

    def zoom_to_fit(self) -> None:
        """Show the whole song and its ghost notes (or 8 bars of an empty one): time fits the
        width, and the pitch range fits the height as far as the minimum row height allows;
        centred."""
        song = self.document.song
        ghosts = self.document.ghost_notes
        view = self.view
        end = max(song.end, max((n.end for n in ghosts), default=0), 8 * song.meters[0].bar_ticks(song.ppq))
        width = max(100, self.canvas.width())
        view.px_per_tick = max(view.MIN_PX_PER_TICK, min(view.MAX_PX_PER_TICK, width / (end * 1.02)))
        pitches = [n.pitch for t in song.tracks for n in t.notes] + [n.pitch for n in ghosts]
        lo, hi = min(pitches, default=60), max(pitches, default=72)
        rows = hi - lo + 3
        view.row_height = max(view.MIN_ROW, min(14.0, self.canvas.height() / rows))
        view.scroll_to(left_tick=0)
        self.center_pitch((lo + hi) / 2)

    def center_pitch(self, pitch: float) -> None:
        rows = self.canvas.height() / self.view.row_height
        self.view.scroll_to(top_pitch=pitch + rows / 2, view_height=self.canvas.height())

    def wheel(self, event, source: QWidget) -> None:
        """Ctrl+wheel zooms time, Shift+wheel zooms pitch, Alt or horizontal wheel scrolls time."""
        delta = event.angleDelta()
        mods = event.modifiers()
        steps = (delta.y() or delta.x()) / 120.0
        pos = event.position()
        if mods & Qt.ControlModifier:
            self.zoom_time(WHEEL_ZOOM ** steps, pos.x() if source is not self.keyboard else None)
        elif mods & Qt.ShiftModifier:
            self.zoom_pitch(WHEEL_ZOOM ** steps, pos.y() if source is not self.ruler else None)
        elif mods & Qt.AltModifier or (delta.x() and not delta.y()):
            self.view.scroll_to(left_tick=self.view.left_tick - steps * 60 / self.view.px_per_tick)
        else:
            self.view.scroll_to(top_pitch=self.view.top_pitch + steps * 3, view_height=self.canvas.height())
        event.accept()

    def report_hover(self, pos: QPointF) -> None:
        song = self.document.song
        tick = max(0, int(self.view.x_to_tick(pos.x())))
        bar, beat, sub = song.tick_to_bar_beat(tick)
        self.hover_changed.emit(f"{note_name(self.view.y_to_pitch(pos.y()))}  {bar + 1}.{beat + 1}.{sub:03d}")

    # ----- internal ---------------------------------------------------------------------------
    def _on_song_changed(self) -> None:
        key = self.document.song.key
        scale = scale_pitch_classes(key) if key is not None else None
        if scale != self.scale_pcs:  # the keyboard shows only the view and the scale
            self.scale_pcs = scale
            self.keyboard.update()
        self.control_lane.sync_choices()
        self._sync_scrollbars()
        self._refresh_notes()  # not the keyboard (~2 ms on a tall roll)

    def _on_view_changed(self) -> None:
        self._sync_scrollbars()
        self.refresh()

    def _sync_scrollbars(self) -> None:
        v, song = self.view, self.document.song
        self._syncing = True
        try:
            end = max(song.end, self.view.left_tick + 1) + 8 * song.meters[0].bar_ticks(song.ppq)
            w = self.canvas.width()
            self.hbar.setRange(0, max(0, int(end * v.px_per_tick - w)))
            self.hbar.setPageStep(max(1, w))
            self.hbar.setSingleStep(20)
            self.hbar.setValue(int(v.left_tick * v.px_per_tick))
            h = self.canvas.height()
            self.vbar.setRange(0, max(0, int(128 * v.row_height - h)))
            self.vbar.setPageStep(max(1, h))
            self.vbar.setSingleStep(int(v.row_height))
            self.vbar.setValue(int((127 - v.top_pitch) * v.row_height))
        finally:
            self._syncing = False

    def _on_hbar(self, value: int) -> None:
        if not self._syncing:
            self.view.scroll_to(left_tick=value / self.view.px_per_tick)

    def _on_vbar(self, value: int) -> None:
        if not self._syncing:
            self.view.scroll_to(top_pitch=127 - value / self.view.row_height, view_height=self.canvas.height())

    def resizeEvent(self, event) -> None:  # Qt override
        super().resizeEvent(event)
        self._sync_scrollbars()
