"""The controller lane under the velocity lane: one controller of the active track as a step line.

Owns showing and drawing a track's non-note events (``core.song.Control``): pitch bend,
sustain pedal, mod wheel, volume, pan, expression, or any other controller number the track
uses, chosen in the combo box beside the lane. The line holds each value until the next
event; squares mark the events. Left-drag paints values on the grid, right-drag erases a
span; either is previewed and committed on release as one undo step
(``core.edits.set_controls``). Values: 0..127, pitch bend -8192..8191 (centre 0).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QComboBox, QWidget

from musicapp.core import edits
from musicapp.core.song import Track
from musicapp.ui.pianoroll.canvas import thin_pen

if TYPE_CHECKING:
    from musicapp.ui.pianoroll.widget import PianoRoll

LANE_HEIGHT = 64
#: (label, kind, number) offered whatever the track holds; short: the chooser is keyboard-wide
STANDARD = (("Bend", "pitchwheel", 0), ("Sustain", "control_change", 64), ("Mod", "control_change", 1),
            ("Volume", "control_change", 7), ("Pan", "control_change", 10), ("Expr", "control_change", 11),
            ("Pressure", "aftertouch", 0))
FULL_NAMES = {"Bend": "Pitch bend", "Sustain": "Sustain pedal (CC64)", "Mod": "Mod wheel (CC1)",
              "Volume": "Volume (CC7)", "Pan": "Pan (CC10)", "Expr": "Expression (CC11)",
              "Pressure": "Channel pressure (aftertouch)", "Prog": "Program changes"}

ControlKey = tuple[str, int]


def value_range(kind: str) -> tuple[int, int]:
    """Lowest and highest value of a controller kind."""
    return (-8192, 8191) if kind == "pitchwheel" else (0, 127)


def lane_choices(track: Track | None) -> list[tuple[str, str, int]]:
    """The standard controllers, then every other controller number ``track`` uses."""
    out = list(STANDARD)
    known = {(k, n) for _, k, n in STANDARD}
    extra = sorted({(c.kind, c.number) for c in track.controls} - known) if track else []
    for kind, number in extra:
        if kind == "control_change":
            out.append((f"CC{number}", kind, number))
        elif kind == "program_change":
            out.append(("Prog", kind, 0))
    return out


class ControlLane(QWidget):
    """Step line of one controller of the active track, aligned with the canvas."""

    def __init__(self, roll: "PianoRoll"):
        super().__init__(roll)
        self.roll = roll
        self.key: ControlKey = ("pitchwheel", 0)
        self.setFixedHeight(LANE_HEIGHT)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self._drawn: dict[int, int] = {}  # tick -> value of a paint drag in progress
        self._erase: tuple[int, int] | None = None  # (anchor tick, current tick) of an erase drag
        self._cache: tuple | None = None  # (controls tuple, key, points)
        self._chooser_for: tuple | None = None  # (controls tuple, key) the chooser was filled for
        self.chooser = QComboBox(roll)
        self.chooser.setFocusPolicy(Qt.NoFocus)
        self.chooser.setToolTip("Controller shown in the lane below the velocities")
        self.chooser.activated.connect(self._on_chosen)
        self.sync_choices()

    # ----- what is shown ------------------------------------------------------------------
    def set_key(self, kind: str, number: int = 0) -> None:
        self.key = (kind, number)
        self.sync_choices()
        self.update()

    def sync_choices(self) -> None:
        """Refill the chooser for the active track, keeping the current controller (nothing to
        do when neither the track's controls nor the controller changed: this runs on every edit)."""
        track = self._track()
        built_for = (track.controls if track is not None else None, self.key)
        if self._chooser_for is not None and self._chooser_for[0] is built_for[0] \
                and self._chooser_for[1] == built_for[1]:
            return
        self._chooser_for = built_for
        choices = lane_choices(track)
        if self.key not in [(k, n) for _, k, n in choices]:
            choices.append((f"CC{self.key[1]}", *self.key))
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for label, kind, number in choices:
            self.chooser.addItem(label, (kind, number))
            self.chooser.setItemData(self.chooser.count() - 1, FULL_NAMES.get(label, f"Controller {number}"),
                                     Qt.ToolTipRole)
        self.chooser.setCurrentIndex([(k, n) for _, k, n in choices].index(self.key))
        self.chooser.blockSignals(False)

    def _on_chosen(self, index: int) -> None:
        kind, number = self.chooser.itemData(index)
        self.key = (kind, number)
        self.update()

    def _track(self) -> Track | None:
        doc = self.roll.document
        return doc.song.tracks[doc.active_track] if 0 <= doc.active_track < len(doc.song.tracks) else None

    def _stored(self, track: Track) -> list[tuple[int, int]]:
        """(tick, value) of the shown controller in ``track``, cached per controls tuple."""
        cached = self._cache
        if cached is not None and cached[0] is track.controls and cached[1] == self.key:
            return cached[2]
        kind, number = self.key
        pts = [(c.tick, c.value) for c in track.controls if c.kind == kind and c.number == number]
        self._cache = (track.controls, self.key, pts)
        return pts

    def events(self) -> list[tuple[int, int]]:
        """(tick, value) of the shown controller in the active track, with a drag's preview."""
        track = self._track()
        if track is None:
            return []
        pts = self._stored(track)
        if self._drawn:
            lo, hi = min(self._drawn), max(self._drawn)
            pts = [p for p in pts if not lo <= p[0] <= hi] + sorted(self._drawn.items())
        elif self._erase is not None:
            lo, hi = sorted(self._erase)
            pts = [p for p in pts if not lo <= p[0] <= hi]
        else:
            return pts  # already in tick order (Track keeps controls sorted)
        return sorted(pts, key=lambda p: p[0])

    def value_to_y(self, value: float) -> float:
        lo, hi = value_range(self.key[0])
        return self.height() - 3 - (self.height() - 6) * (value - lo) / (hi - lo)

    def y_to_value(self, y: float) -> int:
        lo, hi = value_range(self.key[0])
        frac = (self.height() - 3 - y) / max(1, self.height() - 6)
        return max(lo, min(hi, round(lo + frac * (hi - lo))))

    def paintEvent(self, event) -> None:  # Qt override
        view, theme = self.roll.view, self.roll.theme
        p = QPainter(self)
        w, h = float(self.width()), float(self.height())
        p.fillRect(QRectF(0, 0, w, h), theme.color("row_out_scale"))
        p.setPen(thin_pen(theme.color("line_beat")))
        middle = self.value_to_y(0 if self.key[0] == "pitchwheel" else 64)
        p.drawLine(QPointF(0, middle), QPointF(w, middle))
        if self._erase is not None:
            a, b = sorted(view.tick_to_x(t) for t in self._erase)
            p.fillRect(QRectF(a, 0, max(1.0, b - a), h), theme.color("line_beat"))
        pts = self.events()
        if pts:
            self._paint_line(p, pts, w)
        p.end()

    def _paint_line(self, p: QPainter, pts: list[tuple[int, int]], w: float) -> None:
        """The step line and event marks of the points in view (the last one before the
        view, those in it, the first after it). Denser than 2 per pixel column, each column
        gets one vertical stroke over its values (level of detail); marks only when sparse."""
        import numpy as np

        view, theme = self.roll.view, self.roll.theme
        t0, t1 = view.visible_ticks(w)
        ticks = [t for t, _ in pts]
        i0 = max(0, bisect.bisect_right(ticks, t0) - 1)
        i1 = bisect.bisect_right(ticks, t1) + 1
        arr = np.asarray(pts[i0:i1], dtype=np.float64)
        xs = (arr[:, 0] - view.left_tick) * view.px_per_tick
        lo, hi = value_range(self.key[0])
        ys = self.height() - 3 - (self.height() - 6) * (arr[:, 1] - lo) / (hi - lo)
        sparse = len(xs) <= 2 * max(1.0, w)
        if sparse:  # a step: hold the previous value up to each event, then jump
            px = np.repeat(xs, 2)[1:]
            py = np.repeat(ys, 2)[:-1]
        else:  # per pixel column: from the value held into it, over its range, to its last value
            cols = np.floor(xs)
            first = np.r_[0, np.nonzero(np.diff(cols))[0] + 1]
            last = np.r_[first[1:] - 1, len(xs) - 1]
            held = np.r_[ys[0], ys[last[:-1]]]
            px = np.repeat(cols[first], 4)
            py = np.column_stack([held, np.minimum.reduceat(ys, first), np.maximum.reduceat(ys, first),
                                  ys[last]]).ravel()
        if i1 >= len(pts):  # the last value holds to the end of the lane
            px, py = np.r_[px, w], np.r_[py, py[-1]]
        color = theme.color("note_selected" if self._drawn else "note_high")
        # one-pixel segments: a wide pen would make Qt stroke the (self-overlapping) outline
        p.setPen(thin_pen(color, 1.5 if sparse else 1.0))
        xy = list(zip(px.tolist(), py.tolist()))
        p.drawLines([QLineF(a[0], a[1], b[0], b[1]) for a, b in zip(xy, xy[1:])])
        if sparse:
            p.setPen(Qt.NoPen)
            p.setBrush(color)
            inside = (arr[:, 0] >= t0) & (arr[:, 0] <= t1)
            p.drawRects([QRectF(x - 2, y - 2, 4, 4) for x, y in zip(xs[inside].tolist(), ys[inside].tolist())])

    # ----- drawing and erasing ---------------------------------------------------------------
    def _tick_at(self, x: float) -> int:
        roll = self.roll
        tick = roll.view.x_to_tick(x)
        return roll.grid.snap(tick, roll.document.song.ppq) if roll.grid.enabled else max(0, int(tick))

    def mousePressEvent(self, event) -> None:  # Qt override
        if self._track() is None:
            return
        pos = event.position()
        if event.button() == Qt.LeftButton:
            self._drawn = {self._tick_at(pos.x()): self.y_to_value(pos.y())}
        elif event.button() == Qt.RightButton:
            tick = self._tick_at(pos.x())
            self._erase = (tick, tick)
        self._report(pos)
        self.update()

    def mouseMoveEvent(self, event) -> None:  # Qt override
        pos = event.position()
        if self._drawn:
            tick, value = self._tick_at(pos.x()), self.y_to_value(pos.y())
            last = max(self._drawn) if tick >= max(self._drawn) else min(self._drawn)
            roll = self.roll
            # a fast drag skips grid lines (or, with no grid, pixels): fill them from the last
            # point, linear in value; without a grid one point per 4 pixels is plenty
            step = roll.grid.ticks(roll.document.song.ppq) if roll.grid.enabled \
                else max(1, round(4 / roll.view.px_per_tick))
            lo, hi = sorted((last, tick))
            for t in range(lo, hi + 1, step):
                frac = (t - last) / (tick - last) if tick != last else 1.0
                self._drawn[t] = round(self._drawn[last] + frac * (value - self._drawn[last]))
            self._drawn[tick] = value
        elif self._erase is not None:
            self._erase = (self._erase[0], self._tick_at(pos.x()))
        else:
            return
        self._report(pos)
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # Qt override
        drawn, erase = self._drawn, self._erase
        self._drawn, self._erase = {}, None
        ti = self.roll.document.active_track
        kind, number = self.key
        if drawn:
            lo, hi = min(drawn), max(drawn)
            self.roll.document.apply(f"Draw {self.chooser.currentText()}", lambda s: edits.set_controls(
                s, ti, kind, number, lo, hi, sorted(drawn.items())))
        elif erase is not None:
            lo, hi = sorted(erase)
            self.roll.document.apply(f"Erase {self.chooser.currentText()}",
                                     lambda s: edits.set_controls(s, ti, kind, number, lo, hi))
        self.update()

    def _report(self, pos: QPointF) -> None:
        if self._erase is not None:
            self.roll.status(f"erase {self.chooser.currentText()}")
        else:
            self.roll.status(f"{self.chooser.currentText()} {self.y_to_value(pos.y())}")

