"""The bar/beat ruler above the roll, with the loop region and the playhead.

Click or drag in the upper part moves the playhead (and the edit cursor); drag in the lower
strip sets the loop region (snapped to the grid, or to bars when snapping is off);
double-click the strip to clear the loop. The ruler only reports these through the roll.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QPainter, QPolygonF
from PySide6.QtWidgets import QWidget

from musicapp.ui.pianoroll.canvas import thin_pen

if TYPE_CHECKING:
    from musicapp.ui.pianoroll.widget import PianoRoll

RULER_HEIGHT = 30
LOOP_STRIP = 10


class Ruler(QWidget):
    """Horizontal time ruler aligned with the canvas."""

    def __init__(self, roll: "PianoRoll"):
        super().__init__(roll)
        self.roll = roll
        self.setFixedHeight(RULER_HEIGHT)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self._loop_anchor: int | None = None
        self._seeking = False

    def paintEvent(self, event) -> None:  # Qt override
        roll, view, theme = self.roll, self.roll.view, self.roll.theme
        song = roll.document.song
        p = QPainter(self)
        w, h = float(self.width()), float(self.height())
        p.fillRect(QRectF(0, 0, w, h), theme.color("ruler_bg"))
        strip = QRectF(0, h - LOOP_STRIP, w, LOOP_STRIP)
        p.fillRect(strip, theme.color("row_out_scale"))
        if roll.loop is not None:
            x0, x1 = view.tick_to_x(roll.loop[0]), view.tick_to_x(roll.loop[1])
            color = theme.color("highlight")
            p.fillRect(QRectF(x0, h - LOOP_STRIP, x1 - x0, LOOP_STRIP), color)
            color.setAlpha(50)
            p.fillRect(QRectF(x0, 0, x1 - x0, h - LOOP_STRIP), color)
        t0, t1 = view.visible_ticks(w)
        font = QFont(p.font())
        font.setPixelSize(11)
        p.setFont(font)
        starts = song.bar_starts(int(t1) + 1, max(0, int(t0)))
        first = song.tick_to_bar_beat(starts[0])[0] if starts else 0  # bar number of starts[0]
        bar_px = song.meters[0].bar_ticks(song.ppq) * view.px_per_tick
        every = 1
        while bar_px * every < 36:
            every *= 2
        text_pen, tick_pen = thin_pen(theme.color("text")), thin_pen(theme.color("line_bar"))
        for n, bar in enumerate(starts):
            meter = song.meter_at(bar)
            if bar + meter.bar_ticks(song.ppq) < t0:
                continue
            x = view.tick_to_x(bar)
            if (first + n) % every == 0:
                p.setPen(tick_pen)
                p.drawLine(QPointF(x, 2), QPointF(x, h - LOOP_STRIP))
                p.setPen(text_pen)
                p.drawText(QRectF(x + 3, 1, 60, h - LOOP_STRIP - 2), Qt.AlignLeft | Qt.AlignVCenter, str(first + n + 1))
            beat = meter.beat_ticks(song.ppq)
            if beat * view.px_per_tick >= 10:
                p.setPen(tick_pen)
                for t in range(bar + beat, bar + meter.bar_ticks(song.ppq), beat):
                    bx = view.tick_to_x(t)
                    p.drawLine(QPointF(bx, h - LOOP_STRIP - 5), QPointF(bx, h - LOOP_STRIP))
        cx = view.tick_to_x(roll.cursor_tick)
        p.setPen(thin_pen(theme.color("text"), 1.0, Qt.DotLine))
        p.drawLine(QPointF(cx, 0), QPointF(cx, h))
        px = view.tick_to_x(roll.playhead_tick)
        p.setPen(Qt.NoPen)
        p.setBrush(theme.color("playhead"))
        p.drawPolygon(QPolygonF([QPointF(px - 6, 0), QPointF(px + 6, 0), QPointF(px, 10)]))
        p.setPen(thin_pen(theme.color("playhead"), 1.5))
        p.drawLine(QPointF(px, 0), QPointF(px, h))
        p.end()

    # ----- input ------------------------------------------------------------------------------
    def _snapped(self, x: float, to_bar: bool = False) -> int:
        roll = self.roll
        song = roll.document.song
        tick = max(0.0, roll.view.x_to_tick(x))
        if roll.grid.enabled and not to_bar:
            return roll.grid.snap(tick, song.ppq)
        bar = song.meter_at(int(tick)).bar_ticks(song.ppq)
        return int(round(tick / bar)) * bar

    def mousePressEvent(self, event) -> None:  # Qt override
        if event.button() != Qt.LeftButton:
            return
        pos = event.position()
        if pos.y() >= self.height() - LOOP_STRIP:
            self._loop_anchor = self._snapped(pos.x())
        else:
            self._seeking = True
            self.roll.request_seek(self._snapped(pos.x()))

    def mouseMoveEvent(self, event) -> None:  # Qt override
        x = event.position().x()
        if self._loop_anchor is not None:
            end = self._snapped(x)
            if end != self._loop_anchor:
                self.roll.set_loop((min(end, self._loop_anchor), max(end, self._loop_anchor)))
        elif self._seeking:
            self.roll.request_seek(self._snapped(x))

    def mouseReleaseEvent(self, event) -> None:  # Qt override
        self._loop_anchor = None
        self._seeking = False

    def mouseDoubleClickEvent(self, event) -> None:  # Qt override
        if event.position().y() >= self.height() - LOOP_STRIP:
            self.roll.set_loop(None)

    def wheelEvent(self, event) -> None:  # Qt override
        self.roll.wheel(event, self)
