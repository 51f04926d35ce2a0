"""The chord lane above the ruler, and the tint of the current chord's tones in the roll.

``ChordLane`` shows the song's chord track as named blocks over the bars and edits it:
click an empty place (or press Return) to type a chord there, double-click a chord to rename
it, drag a chord to move it, drag its right edge to resize it, Del/Backspace removes the
selected chord. Every edit is one undo step through ``Document.apply`` with a pure edit from
``core.chord_edits``; a name that does not parse is refused with a one-line message
(``Document.edit_failed``) and changes nothing. Drags snap to the roll's grid (to beats when
the grid is off). ``ghost_chords`` (candidates from the Generate panel) are drawn dashed.

``ChordToneLayer`` tints, on the note canvas, the rows of the tones of the chord under the
edit cursor, over that chord's span. Ticks throughout; pixels only here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QPainter, QPen
from PySide6.QtWidgets import QLineEdit, QWidget

from musicapp.core import chord_edits
from musicapp.core.chords import Chord, chord_at
from musicapp.ui.pianoroll.canvas import PaintContext, thin_pen

if TYPE_CHECKING:
    from musicapp.ui.pianoroll.widget import PianoRoll

LANE_HEIGHT = 22
EDGE_PX = 6  # how close to a chord's right edge a press resizes it


class _NameEdit(QLineEdit):
    """The inline chord-name editor: Return commits, Esc cancels; neither reaches the lane."""

    def keyPressEvent(self, event) -> None:  # Qt override
        if event.key() == Qt.Key_Escape:
            self.hide()
            self.parentWidget().setFocus()
            event.accept()
            return
        super().keyPressEvent(event)
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            event.accept()


class ChordLane(QWidget):
    """The chord track of the roll's document, editable with mouse and keyboard."""

    selection_changed = Signal(int)  # index of the selected chord, -1 for none

    def __init__(self, roll: "PianoRoll"):
        super().__init__(roll)
        self.roll = roll
        self.setFixedHeight(LANE_HEIGHT)
        self.setFocusPolicy(Qt.ClickFocus)
        self.setMouseTracking(True)
        self.setToolTip("Chords: click to type a chord (C, F#m7, Bb/D, Gsus4), drag to move, "
                        "drag the right edge to resize, Del removes")
        self.selected: int | None = None
        self.ghost_chords: tuple[Chord, ...] = ()
        self._drag: tuple[str, int, int, Chord] | None = None  # mode, index, press tick, chord
        self._preview: Chord | None = None
        self.editor = _NameEdit(self)
        self.editor.hide()
        self.editor.setPlaceholderText("chord")
        self.editor.returnPressed.connect(self._commit_text)
        self.editor.editingFinished.connect(self.editor.hide)
        self._editing: tuple[int, int | None] = (0, None)  # tick, chord index being renamed
        roll.document.song_changed.connect(self._on_song_changed)

    # ----- public API -------------------------------------------------------------------------
    def set_ghost_chords(self, chords) -> None:
        """Show candidate chords (not part of the song) dashed over the lane."""
        self.ghost_chords = tuple(chords)
        self.update()

    def select(self, index: int | None) -> None:
        chords = self.roll.document.song.chords
        index = index if index is not None and 0 <= index < len(chords) else None
        if index != self.selected:
            self.selected = index
            self.selection_changed.emit(-1 if index is None else index)
        self.update()

    def begin_typing(self, tick: int, index: int | None = None) -> None:
        """Open the name editor at ``tick`` (renaming chord ``index`` when given)."""
        song = self.roll.document.song
        self._editing = (tick, index)
        x = self.roll.view.tick_to_x(song.chords[index].start if index is not None else tick)
        self.editor.setText(song.chords[index].name if index is not None else "")
        self.editor.setGeometry(int(max(0, x)), 0, 90, self.height())
        self.editor.show()
        self.editor.setFocus()
        self.editor.selectAll()

    def add_named(self, name: str, tick: int) -> bool:
        """Place chord ``name`` at ``tick``: until the next chord, at most to the end of the bar
        (a whole bar from a bar line). One undo step; False (and a message) if refused."""
        length = self.default_length(tick)
        ok = self.roll.document.apply("Add chord", lambda s: chord_edits.add_chord_named(s, name, tick, length))
        if ok:
            self.select(chord_edits.chord_index_at(self.roll.document.song, tick))
        return ok

    def default_length(self, tick: int) -> int:
        """Ticks from ``tick`` to the next chord or the next bar line, whichever comes first."""
        song = self.roll.document.song
        bar, beat, sub = song.tick_to_bar_beat(tick)
        bar_end = song.bar_beat_to_tick(bar + 1)
        nxt = next((c.start for c in song.chords if c.start > tick), bar_end)
        return max(1, min(bar_end, nxt) - tick)

    def remove_selected(self) -> None:
        if self.selected is not None:
            index = self.selected
            self.roll.document.apply("Remove chord", lambda s: chord_edits.remove_chords(s, [index]))
            self.select(None)

    # ----- painting ---------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # Qt override
        roll, view, theme = self.roll, self.roll.view, self.roll.theme
        p = QPainter(self)
        w, h = float(self.width()), float(self.height())
        p.fillRect(QRectF(0, 0, w, h), theme.color("row_out_scale"))
        t0, t1 = view.visible_ticks(w)
        font = QFont(p.font())
        font.setPixelSize(12)
        font.setBold(True)
        p.setFont(font)
        chords = list(roll.document.song.chords)
        if self._preview is not None and self._drag is not None:
            chords[self._drag[1]] = self._preview
        for i, c in enumerate(chords):
            if c.end < t0 or c.start > t1:
                continue
            x0, x1 = view.tick_to_x(c.start), view.tick_to_x(c.end)
            box = QRectF(x0 + 1, 2, max(2.0, x1 - x0 - 2), h - 4)
            fill = theme.color("note_selected" if i == self.selected else "highlight")
            fill.setAlpha(200 if i == self.selected else 120)
            p.setPen(thin_pen(theme.color("note_border")))
            p.setBrush(fill)
            p.drawRoundedRect(box, 3, 3)
            p.setPen(thin_pen(theme.color("text")))
            p.drawText(box.adjusted(4, 0, -2, 0), Qt.AlignLeft | Qt.AlignVCenter, c.name)
        pen = QPen(theme.color("ghost"))
        pen.setStyle(Qt.DashLine)
        for c in self.ghost_chords:
            if c.end < t0 or c.start > t1:
                continue
            x0, x1 = view.tick_to_x(c.start), view.tick_to_x(c.end)
            box = QRectF(x0 + 1, 1, max(2.0, x1 - x0 - 2), h - 2)
            p.setPen(pen)
            p.setBrush(Qt.NoBrush)
            p.drawRoundedRect(box, 3, 3)
            p.setPen(thin_pen(theme.color("ghost")))
            p.drawText(box.adjusted(4, 0, -2, 0), Qt.AlignLeft | Qt.AlignVCenter, c.name)
        p.end()

    # ----- input ------------------------------------------------------------------------------
    def _tick_at(self, x: float) -> int:
        return max(0, int(self.roll.view.x_to_tick(x)))

    def _snap(self, tick: float) -> int:
        roll, song = self.roll, self.roll.document.song
        if roll.grid.enabled:
            return roll.grid.snap(tick, song.ppq)
        beat = song.meter_at(int(tick)).beat_ticks(song.ppq)
        return max(0, int(round(tick / beat)) * beat)

    def _floor(self, tick: int) -> int:
        roll, song = self.roll, self.roll.document.song
        if roll.grid.enabled:
            return roll.grid.floor(tick, song.ppq)
        beat = song.meter_at(tick).beat_ticks(song.ppq)
        return tick // beat * beat

    def _hit(self, x: float) -> tuple[int | None, bool]:
        """(index of the chord under ``x`` or None, whether ``x`` is on its right edge)."""
        song, view = self.roll.document.song, self.roll.view
        tick = self._tick_at(x)
        for i, c in enumerate(song.chords):
            x1 = view.tick_to_x(c.end)
            if c.start <= tick < c.end or abs(x - x1) <= EDGE_PX and c.start < tick + 1:
                return i, abs(x - x1) <= EDGE_PX
        return None, False

    def mousePressEvent(self, event) -> None:  # Qt override
        if event.button() != Qt.LeftButton:
            return
        x = event.position().x()
        index, edge = self._hit(x)
        self.select(index)
        if index is None:
            self.begin_typing(self._floor(self._tick_at(x)))
            return
        chord = self.roll.document.song.chords[index]
        self._drag = ("resize" if edge else "move", index, self._tick_at(x), chord)
        self._preview = chord

    def mouseMoveEvent(self, event) -> None:  # Qt override
        x = event.position().x()
        if self._drag is None:
            _, edge = self._hit(x)
            self.setCursor(Qt.SizeHorCursor if edge else Qt.ArrowCursor)
            return
        mode, _, pressed, chord = self._drag
        if mode == "move":
            start = self._snap(chord.start + self._tick_at(x) - pressed)
            self._preview = chord.moved(start=start)
        else:
            end = max(chord.start + 1, self._snap(self._tick_at(x)))
            self._preview = chord.moved(length=end - chord.start)
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # Qt override
        if self._drag is None:
            return
        mode, index, _, chord = self._drag
        new, self._drag, self._preview = self._preview, None, None
        if new is None or new == chord:
            self.update()
            return
        doc = self.roll.document
        if mode == "move":
            doc.apply("Move chord", lambda s: chord_edits.move_chord(s, index, new.start))
        else:
            doc.apply("Resize chord", lambda s: chord_edits.resize_chord(s, index, new.length))
        self.select(chord_edits.chord_index_at(doc.song, new.start))

    def mouseDoubleClickEvent(self, event) -> None:  # Qt override
        index, _ = self._hit(event.position().x())
        if index is not None:
            self.begin_typing(self.roll.document.song.chords[index].start, index)

    def keyPressEvent(self, event) -> None:  # Qt override
        key = event.key()
        if key in (Qt.Key_Delete, Qt.Key_Backspace):
            self.remove_selected()
        elif key in (Qt.Key_Return, Qt.Key_Enter):
            if self.selected is not None:
                self.begin_typing(self.roll.document.song.chords[self.selected].start, self.selected)
            else:
                self.begin_typing(self._floor(self.roll.cursor_tick))
        elif key == Qt.Key_Escape:
            self.select(None)
        else:
            super().keyPressEvent(event)

    def wheelEvent(self, event) -> None:  # Qt override
        self.roll.wheel(event, self)

    # ----- internal ---------------------------------------------------------------------------
    def _commit_text(self) -> None:
        text = self.editor.text().strip()
        tick, index = self._editing
        self.editor.hide()
        self.setFocus()
        if not text:
            return
        if index is None:
            self.add_named(text, tick)
        else:
            self.roll.document.apply("Rename chord", lambda s: chord_edits.rename_chord(s, index, text))

    def _on_song_changed(self) -> None:
        if self.selected is not None and self.selected >= len(self.roll.document.song.chords):
            self.select(None)
        self.update()


class ChordToneLayer:
    """Tints the rows of the tones of the chord under the edit cursor, over its span."""

    static = False

    def paint(self, ctx: PaintContext) -> None:
        roll, p, view = ctx.roll, ctx.painter, ctx.roll.view
        chord = chord_at(roll.document.song.chords, roll.cursor_tick)
        if chord is None:
            return
        x0, x1 = max(0.0, view.tick_to_x(chord.start)), min(ctx.width, view.tick_to_x(chord.end))
        if x1 <= x0:
            return
        tint = roll.theme.color("note_selected")
        tint.setAlpha(34)
        root = roll.theme.color("note_selected")
        root.setAlpha(60)
        pcs = set(chord.pitch_classes)
        rh = view.row_height
        for pitch in range(ctx.p_lo, ctx.p_hi + 1):
            pc = pitch % 12
            if pc in pcs:
                p.fillRect(QRectF(x0, view.pitch_to_y(pitch), x1 - x0, rh), root if pc == chord.root else tint)
        p.setPen(thin_pen(roll.theme.color("note_selected")))
        p.drawLine(QPointF(x0, 0), QPointF(x0, ctx.height))
