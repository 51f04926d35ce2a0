"""The velocity lane under the roll: one bar per visible note of the active track.

Drag on a selected note's bar to set the whole selection to one velocity; drag across
unselected bars to paint velocities note by note. The drag is previewed and committed as one
undo step on release (``core.edits.set_velocities``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

from musicapp.core import edits
from musicapp.core.edits import NoteRef
from musicapp.ui.pianoroll.canvas import Preview, thin_pen, velocity_bucket, velocity_colors

if TYPE_CHECKING:
    from musicapp.ui.pianoroll.widget import PianoRoll

LANE_HEIGHT = 84
HIT_PX = 5.0


class VelocityLane(QWidget):
    """Velocity bars aligned with the canvas; edits velocities by dragging."""

    def __init__(self, roll: "PianoRoll"):
        super().__init__(roll)
        self.roll = roll
        self.setFixedHeight(LANE_HEIGHT)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self._group: frozenset[NoteRef] | None = None  # set-all mode: these refs
        self._painting = False
        self._values: dict[NoteRef, int] = {}

    def value_at(self, y: float) -> int:
        """Velocity 1..127 for a y pixel in the lane."""
        usable = self.height() - 6
        return max(1, min(127, round((self.height() - 3 - y) / usable * 127)))

    def paintEvent(self, event) -> None:  # Qt override
        roll, view, theme = self.roll, self.roll.view, self.roll.theme
        p = QPainter(self)
        w, h = float(self.width()), float(self.height())
        p.fillRect(QRectF(0, 0, w, h), theme.color("row_out_scale"))
        p.setPen(thin_pen(theme.color("line_beat")))
        for frac in (0.25, 0.5, 0.75):
            y = 3 + (h - 6) * frac
            p.drawLine(QPointF(0, y), QPointF(w, y))
        doc = roll.document
        ti = doc.active_track
        if 0 <= ti < len(doc.song.tracks):
            notes = doc.song.tracks[ti].notes
            overrides = roll.canvas.preview.velocities
            colors = velocity_colors(theme.color("note_low"), theme.color("note_high"))
            colors.append(theme.color("note_selected"))
            stems: list[list[QLineF]] = [[] for _ in colors]
            heads: list[list[QRectF]] = [[] for _ in colors]
            selection = doc.selection
            for i in roll.canvas.visible_refs(ti):
                n = notes[i]
                vel = overrides.get((ti, i), n.velocity)
                x = view.tick_to_x(n.start) + 1
                y = h - 3 - (h - 6) * vel / 127
                k = len(colors) - 1 if (ti, i) in selection else velocity_bucket(vel)
                stems[k].append(QLineF(x, h, x, y))
                heads[k].append(QRectF(x - 2.5, y - 2.5, 5, 5))
            for color, lines, rects in zip(colors, stems, heads):
                if lines:
                    p.setPen(thin_pen(color, 2.0))
                    p.drawLines(lines)
                    p.setPen(Qt.NoPen)
                    p.setBrush(color)
                    p.drawRects(rects)
        p.end()

    def _ref_at(self, x: float) -> NoteRef | None:
        """The visible active-track note whose bar is nearest to ``x`` (within a few pixels)."""
        roll = self.roll
        ti = roll.document.active_track
        if not 0 <= ti < len(roll.document.song.tracks):
            return None
        notes = roll.document.song.tracks[ti].notes
        best, best_d = None, HIT_PX
        for i in roll.canvas.visible_refs(ti):
            d = abs(roll.view.tick_to_x(notes[i].start) - x)
            if d <= best_d:
                best, best_d = (ti, i), d
        return best

    def mousePressEvent(self, event) -> None:  # Qt override
        if event.button() != Qt.LeftButton:
            return
        pos = event.position()
        ref = self._ref_at(pos.x())
        sel = self.roll.document.selection
        self._values = {}
        if ref is not None and ref in sel:
            self._group = sel
        else:
            self._group = None
            self._painting = True
        self._update_values(pos)

    def mouseMoveEvent(self, event) -> None:  # Qt override
        if self._group is not None or self._painting:
            self._update_values(event.position())

    def mouseReleaseEvent(self, event) -> None:  # Qt override
        values, self._values = self._values, {}
        self._group, self._painting = None, False
        self.roll.canvas.set_preview(None)
        if values:
            self.roll.document.apply("Set velocity", lambda s: edits.set_velocities(s, values))

    def _update_values(self, pos: QPointF) -> None:
        v = self.value_at(pos.y())
        if self._group is not None:
            self._values = {r: v for r in self._group}
        else:
            ref = self._ref_at(pos.x())
            if ref is not None:
                self._values[ref] = v
        self.roll.canvas.set_preview(Preview(velocities=dict(self._values)))
        self.roll.status(f"velocity {v}")
