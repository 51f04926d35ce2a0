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
from musicapp.ui.pianoroll.canvas import VELOCITY_BUCKETS, Preview, thin_pen, velocity_colors

if TYPE_CHECKING:
    import numpy as np

    from musicapp.ui.pianoroll.widget import PianoRoll

LANE_HEIGHT = 84
HIT_PX = 5.0
DENSE_BARS = 600  # above this many visible notes the lane draws one bar per pixel column


def _per_column(xs: np.ndarray, vel: np.ndarray, kind: np.ndarray, width: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduce bars to the loudest per pixel column (selected bars win their column)."""
    import numpy as np

    cols = np.clip(xs.astype(np.int64), 0, max(0, width - 1))
    score = vel + np.where(kind == VELOCITY_BUCKETS, 1000, 0)  # selection first, then loudness
    order = np.lexsort((score, cols))  # by column, then score ascending: the last of a column wins
    cols, score, vel, kind = cols[order], score[order], vel[order], kind[order]
    last = np.r_[cols[1:] != cols[:-1], True]
    return cols[last].astype(np.float64), vel[last], kind[last]


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
        self._paint_bars(p, w, h)
        p.end()

    def _paint_bars(self, p: QPainter, w: float, h: float) -> None:
        roll, view, theme = self.roll, self.roll.view, self.roll.theme
        doc = roll.document
        ti = doc.active_track
        if not 0 <= ti < len(doc.song.tracks):
            return
        tidx = roll.canvas.index.track(ti, doc.song.tracks[ti].notes)
        t0, t1 = view.visible_ticks(roll.canvas.width())
        idx = tidx.window(t0, t1, *view.visible_pitches(roll.canvas.height()))
        if not len(idx):
            return
        import numpy as np

        colors = velocity_colors(theme.color("note_low"), theme.color("note_high"))
        colors.append(theme.color("note_selected"))
        vel = tidx.velocities[idx]
        for (t, i), v in roll.canvas.preview.velocities.items():
            if t == ti:
                vel[idx == i] = v
        kind = np.minimum(VELOCITY_BUCKETS - 1, (vel - 1) * VELOCITY_BUCKETS // 127)
        sel = [i for t, i in doc.selection if t == ti]
        if sel:
            kind[np.isin(idx, sel)] = VELOCITY_BUCKETS
        xs = (tidx.starts[idx] - view.left_tick) * view.px_per_tick + 1
        if len(idx) > DENSE_BARS:  # level of detail: one bar per pixel column, the loudest
            xs, vel, kind = _per_column(xs, vel, kind, int(w))
        xs, ys = xs.tolist(), (h - 3 - (h - 6) * vel / 127).tolist()
        heads = len(xs) <= DENSE_BARS
        for k, color in enumerate(colors):
            pick = np.nonzero(kind == k)[0].tolist()
            if not pick:
                continue
            p.setPen(thin_pen(color, 2.0 if heads else 1.0))
            p.drawLines([QLineF(xs[j], h, xs[j], ys[j]) for j in pick])
            if heads:
                p.setPen(Qt.NoPen)
                p.setBrush(color)
                p.drawRects([QRectF(xs[j] - 2.5, ys[j] - 2.5, 5, 5) for j in pick])

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
