"""Mouse tools of the piano roll: select, draw and erase.

Owns the gesture state machines. While a gesture runs a tool only sets the canvas ``Preview``
(drawn as an offset, no edit yet); on release it pushes exactly one undo command through the
Document with a pure function from ``core.edits``. Shared behaviour (clicking a note selects
it, dragging its body moves, dragging its end resizes, Alt-drag exports it as a .mid) lives in
``EditTool``; draw and select differ only on empty space.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt

from musicapp.core import edits
from musicapp.core.edits import NoteRef
from musicapp.core.song import Note
from musicapp.ui.pianoroll.canvas import Preview

if TYPE_CHECKING:
    from musicapp.ui.pianoroll.widget import PianoRoll

DRAG_THRESHOLD = 3.0  # pixels before a press becomes a drag


@dataclass
class Gesture:
    """A gesture in progress: what it is, where it started and what it started from."""

    kind: str  # "move" | "resize" | "marquee" | "draw" | "erase" | "click"
    origin: QPointF
    anchor: Note | None = None
    anchor_ref: NoteRef | None = None
    refs: frozenset[NoteRef] = frozenset()
    base: frozenset[NoteRef] = frozenset()
    bounds: tuple[int, int, int] = (0, 0, 127)  # min start, lowest pitch, highest pitch
    toggle: bool = False
    dragged: bool = False
    erased: set[NoteRef] = field(default_factory=set)


def _mods(event) -> tuple[bool, bool]:
    """(additive: shift or ctrl, alt)."""
    m = event.modifiers()
    return bool(m & (Qt.ShiftModifier | Qt.ControlModifier)), bool(m & Qt.AltModifier)


class Tool:
    """Base: no-op handlers and access to the roll."""

    name = "tool"

    def __init__(self, roll: "PianoRoll"):
        self.roll = roll
        self.gesture: Gesture | None = None

    def press(self, event) -> None: ...
    def move(self, event) -> None: ...
    def release(self, event) -> None: ...
    def double_click(self, event) -> None: ...
    def hover_left(self) -> None: ...

    def _start_erase(self, pos: QPointF) -> None:
        self.gesture = Gesture("erase", pos, dragged=True)
        self._erase_at(pos)

    def _erase_at(self, pos: QPointF, g: Gesture | None = None) -> None:
        g = g or self.gesture
        hit = self.roll.canvas.note_at(pos)
        if g is not None and hit is not None and hit[0] not in g.erased:
            g.erased.add(hit[0])
            self.roll.canvas.set_preview(Preview(hidden=frozenset(g.erased)))

    def cancel(self) -> None:
        """Abort the gesture in progress without editing."""
        self.gesture = None
        self.roll.canvas.set_preview(None)


class EditTool(Tool):
    """Select/move/resize behaviour shared by the select and draw tools."""

    def press(self, event) -> None:
        pos = event.position()
        if event.button() == Qt.RightButton:
            self._start_erase(pos)
            return
        if event.button() != Qt.LeftButton:
            return
        hit = self.roll.canvas.note_at(pos)
        if hit is None:
            self.press_empty(event)
            return
        ref, on_edge = hit
        doc = self.roll.document
        additive, alt = _mods(event)
        note = doc.song.tracks[ref[0]].notes[ref[1]]
        if alt and ref in doc.selection:
            self.roll.start_external_drag()
            return
        toggle = False
        if additive:
            if ref in doc.selection:
                toggle = True
            else:
                doc.set_selection(doc.selection | {ref})
        elif ref not in doc.selection:
            doc.set_selection({ref})
        self.roll.audition(note.pitch, note.velocity)
        refs = doc.selection
        notes = [doc.song.tracks[t].notes[i] for t, i in refs]
        bounds = (min(n.start for n in notes), min(n.pitch for n in notes), max(n.pitch for n in notes))
        self.gesture = Gesture("resize" if on_edge else "move", pos, note, ref, refs, bounds=bounds,
                               toggle=toggle)

    def press_empty(self, event) -> None:
        raise NotImplementedError

    def move(self, event) -> None:
        g = self.gesture
        pos = event.position()
        if g is None:
            self._hover(pos)
            return
        if not g.dragged and (pos - g.origin).manhattanLength() < DRAG_THRESHOLD:
            return
        g.dragged = True
        roll, view = self.roll, self.roll.view
        grid, ppq = roll.grid, roll.document.song.ppq
        raw = view.x_to_tick(pos.x()) - view.x_to_tick(g.origin.x())
        if g.kind == "move":
            a = g.anchor
            dt = (grid.snap(a.start + raw, ppq) if grid.enabled else round(a.start + raw)) - a.start
            dp = view.y_to_pitch(pos.y()) - view.y_to_pitch(g.origin.y())
            min_start, lo, hi = g.bounds
            dt = max(dt, -min_start)
            dp = max(min(dp, 127 - hi), -lo)
            roll.canvas.set_preview(Preview(moved=g.refs, dt=dt, dp=dp, key=roll.snap_key()))
            roll.status(f"move {dt:+d} ticks, {dp:+d} semitones")
        elif g.kind == "resize":
            a = g.anchor
            end = grid.snap(a.end + raw, ppq) if grid.enabled else round(a.end + raw)
            min_len = grid.ticks(ppq) if grid.enabled else 1
            min_len = min(min_len, min(a.length, min_len))
            dlen = max(end, a.start + min_len) - a.end
            roll.canvas.set_preview(Preview(moved=g.refs, dlen=dlen, min_len=max(1, min_len)))
            roll.status(f"length {a.length + dlen} ticks")
        elif g.kind == "marquee":
            rect = QRectF(g.origin, pos).normalized()
            hits = roll.canvas.notes_in_rect(rect)
            roll.document.set_selection(g.base | hits)
            roll.canvas.set_preview(Preview(marquee=rect))
        elif g.kind == "erase":
            self._erase_at(pos)
        elif g.kind == "draw":
            self.drag_draw(pos)

    def release(self, event) -> None:
        g, self.gesture = self.gesture, None
        if g is None:
            return
        roll = self.roll
        doc = roll.document
        pv = roll.canvas.preview
        roll.canvas.set_preview(None)
        if g.kind == "move" and g.dragged and (pv.dt or pv.dp):
            if pv.key is not None and pv.dp:
                doc.apply("Move notes", lambda s: edits.move_notes_in_scale(s, g.refs, pv.dt, pv.dp, pv.key))
            else:
                doc.apply("Move notes", lambda s: edits.move_notes(s, g.refs, pv.dt, pv.dp))
        elif g.kind == "resize" and g.dragged and pv.dlen:
            doc.apply("Resize notes", lambda s: edits.resize_notes(s, g.refs, pv.dlen, pv.min_len))
            roll.last_length = max(1, g.anchor.length + pv.dlen)
        elif g.kind in ("move", "resize") and not g.dragged:
            if g.toggle:
                doc.set_selection(doc.selection - {g.anchor_ref})
            elif len(doc.selection) > 1 and not _mods(event)[0]:
                doc.set_selection({g.anchor_ref})
        elif g.kind == "erase":
            self._erase_at(event.position(), g)
            if g.erased:
                doc.apply("Erase notes", lambda s: edits.remove_notes(s, g.erased))
        elif g.kind == "draw":
            self.finish_draw(g, pv)
        elif g.kind == "marquee" and not g.dragged:
            roll.set_cursor_tick(roll.grid.snap(roll.view.x_to_tick(g.origin.x()), doc.song.ppq))

    def hover_left(self) -> None:
        if self.gesture is None:
            self.roll.canvas.unsetCursor()

    # ----- helpers ----------------------------------------------------------------------------
    def _hover(self, pos: QPointF) -> None:
        hit = self.roll.canvas.note_at(pos)
        if hit is None:
            self.roll.canvas.setCursor(self.empty_cursor())
        else:
            self.roll.canvas.setCursor(Qt.SizeHorCursor if hit[1] else Qt.SizeAllCursor)

    def empty_cursor(self) -> Qt.CursorShape:
        return Qt.ArrowCursor

    def drag_draw(self, pos: QPointF) -> None: ...

    def finish_draw(self, g: Gesture, pv: Preview) -> None: ...


class SelectTool(EditTool):
    """Click selects, shift/ctrl-click toggles, drag on empty space draws a marquee."""

    name = "select"

    def press_empty(self, event) -> None:
        doc = self.roll.document
        additive, _ = _mods(event)
        base = doc.selection if additive else frozenset()
        if not additive:
            doc.set_selection(())
        self.gesture = Gesture("marquee", event.position(), base=base)

    def double_click(self, event) -> None:
        if event.button() == Qt.LeftButton and self.roll.canvas.note_at(event.position()) is None:
            self.roll.draw_note_at(event.position())


class DrawTool(EditTool):
    """Click on empty space adds a note (drag right to set its length); right-drag erases."""

    name = "draw"

    def empty_cursor(self) -> Qt.CursorShape:
        return Qt.CrossCursor

    def press_empty(self, event) -> None:
        roll = self.roll
        note = roll.new_note_at(event.position())
        if note is None:
            return
        roll.document.set_selection(())
        roll.audition(note.pitch, note.velocity)
        self.gesture = Gesture("draw", event.position(), anchor=note, dragged=True)
        roll.canvas.set_preview(Preview(new=(note,)))

    def drag_draw(self, pos: QPointF) -> None:
        roll, g = self.roll, self.gesture
        a = g.anchor
        ppq = roll.document.song.ppq
        step = roll.grid.ticks(ppq) if roll.grid.enabled else 1
        tick = roll.view.x_to_tick(pos.x())
        end = roll.grid.snap(tick, ppq) if roll.grid.enabled else round(tick)
        if abs(pos.x() - g.origin.x()) < DRAG_THRESHOLD:
            length = a.length
        else:
            length = max(step, end - a.start)
        note = Note(a.start, a.pitch, length, a.velocity, a.channel)
        roll.canvas.set_preview(Preview(new=(note,)))
        roll.status(f"length {length} ticks")

    def finish_draw(self, g: Gesture, pv: Preview) -> None:
        if not pv.new:
            return
        note = pv.new[0]
        self.roll.last_length = note.length
        self.roll.add_notes([note])


class EraseTool(Tool):
    """Click or drag over notes to delete them (one undo step per drag)."""

    name = "erase"

    def press(self, event) -> None:
        if event.button() in (Qt.LeftButton, Qt.RightButton):
            self._start_erase(event.position())

    def move(self, event) -> None:
        self.roll.canvas.setCursor(Qt.PointingHandCursor)
        if self.gesture is not None:
            self._erase_at(event.position())

    def release(self, event) -> None:
        g, self.gesture = self.gesture, None
        self.roll.canvas.set_preview(None)
        if g is not None and g.erased:
            self.roll.document.apply("Erase notes", lambda s: edits.remove_notes(s, g.erased))

    def hover_left(self) -> None:
        self.roll.canvas.unsetCursor()
