"""The piano keyboard at the left of the roll: shows pitch rows and auditions a key on click.

Owns only key painting and the press/glide gesture; the sound goes through the roll's
``audition`` hook (injected by app.py from the engine), so this widget never touches MIDI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import QWidget

from musicapp.ui.pianoroll.canvas import BLACK_KEYS, thin_pen
from musicapp.ui.pianoroll.layers import note_name

if TYPE_CHECKING:
    from musicapp.ui.pianoroll.widget import PianoRoll

KEYBOARD_WIDTH = 68


class Keyboard(QWidget):
    """Vertical piano keyboard aligned with the canvas rows."""

    def __init__(self, roll: "PianoRoll"):
        super().__init__(roll)
        self.roll = roll
        self.pressed: int | None = None
        self.setFixedWidth(KEYBOARD_WIDTH)
        self.setAttribute(Qt.WA_OpaquePaintEvent)

    def paintEvent(self, event) -> None:  # Qt override
        roll, view, theme = self.roll, self.roll.view, self.roll.theme
        p = QPainter(self)
        w, h = float(self.width()), float(self.height())
        p.fillRect(QRectF(0, 0, w, h), theme.color("key_white"))
        lo, hi = view.visible_pitches(h)
        rh = view.row_height
        font = QFont(p.font())
        font.setPixelSize(max(7, min(11, int(rh) - 1)))
        p.setFont(font)
        scale = roll.scale_pcs
        border = theme.color("row_out_scale").darker(160)
        for pitch in range(lo, hi + 1):
            y = view.pitch_to_y(pitch)
            pc = pitch % 12
            rect = QRectF(0, y, w, rh)
            if pitch == self.pressed:
                p.fillRect(rect, theme.color("key_pressed"))
            elif pc in BLACK_KEYS:
                p.fillRect(QRectF(0, y, w * 0.62, rh), theme.color("key_black"))
            if scale is not None and pc in scale:
                p.fillRect(QRectF(w - 5, y + 1, 4, rh - 2), theme.color("highlight"))
            p.setPen(thin_pen(border))
            p.drawLine(QRectF(0, y + rh, w, 0).topLeft(), QRectF(0, y + rh, w, 0).topRight())
            if pc == 0 and rh >= 7:
                p.setPen(thin_pen(theme.color("key_black")))
                p.drawText(rect.adjusted(0, 0, -8, 0), Qt.AlignRight | Qt.AlignVCenter, note_name(pitch))
        p.end()

    def mousePressEvent(self, event) -> None:  # Qt override
        if event.button() == Qt.LeftButton:
            self._play(self.roll.view.y_to_pitch(event.position().y()))

    def mouseMoveEvent(self, event) -> None:  # Qt override
        if self.pressed is not None:
            pitch = self.roll.view.y_to_pitch(event.position().y())
            if pitch != self.pressed:
                self._play(pitch)

    def mouseReleaseEvent(self, event) -> None:  # Qt override
        self.pressed = None
        self.update()

    def wheelEvent(self, event) -> None:  # Qt override
        self.roll.wheel(event, self)

    def _play(self, pitch: int) -> None:
        self.pressed = pitch
        self.roll.audition(pitch, 100)
        self.update()
