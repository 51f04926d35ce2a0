"""Pixels <-> ticks and pitches for the piano roll, and the snap grid.

Owns the view's zoom and scroll (``ViewState``) and the grid (``GridSpec``). Pixels exist only
here and in the widgets; the song stays in ticks. x grows with time, y grows downward, so
pitch 127 is at the top. Zoom is ``px_per_tick`` (horizontal) and ``row_height`` (pixels per
semitone); scroll is the tick at the left edge and the pitch row at the top edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from musicapp.core.quantize import NOTE_VALUES, Grid, floor_tick, snap_tick
from musicapp.core.song import PPQ

#: grid divisions offered in the UI: denominators of a whole note.
DIVISIONS: tuple[int, ...] = NOTE_VALUES


#: swing amounts offered (percent of a pair of grid steps the first step takes; 50 = straight).
SWING_RANGE = (50, 75)


@dataclass(frozen=True, slots=True)
class GridSpec:
    """A snap grid: ``division`` of a whole note (1..32), ``triplet`` for 2/3 of it, ``dotted``
    for 3/2 of it; None = off. ``swing`` (50..75 %, straight grids only) delays every second
    line: a pair of steps is split ``swing`` : ``100 - swing``. Lines count from tick 0."""

    division: int | None = 16
    triplet: bool = False
    dotted: bool = False
    swing: int = 50

    def __post_init__(self) -> None:
        if self.division is not None and self.division not in DIVISIONS:
            raise ValueError(f"grid 1/{self.division} not one of {DIVISIONS}")
        if self.triplet and self.dotted:
            raise ValueError("a grid is triplet or dotted, not both")
        if not SWING_RANGE[0] <= self.swing <= SWING_RANGE[1]:
            raise ValueError(f"swing {self.swing}% outside {SWING_RANGE[0]}..{SWING_RANGE[1]}%")
        if self.swing != 50 and (self.triplet or self.dotted):
            raise ValueError("swing needs a straight grid")

    @property
    def enabled(self) -> bool:
        return self.division is not None

    @property
    def swung(self) -> bool:
        return self.enabled and self.swing != 50

    def ticks(self, ppq: int = PPQ) -> int:
        """Grid step in ticks (1 when snapping is off; the straight step of a swung grid)."""
        if self.division is None:
            return 1
        step = max(1, Grid(self.division, self.triplet).ticks(ppq))
        return step * 3 // 2 if self.dotted else step

    def _pair(self, ppq: int) -> tuple[int, int]:
        """(ticks of a pair of steps, offset of the swung second line in the pair)."""
        pair = 2 * self.ticks(ppq)
        return pair, round(pair * self.swing / 100)

    def snap(self, tick: float, ppq: int = PPQ) -> int:
        """Nearest grid line to ``tick`` (never negative; halfway goes later)."""
        if not self.swung:
            return max(0, snap_tick(int(round(tick)), self.ticks(ppq)))
        pair, off = self._pair(ppq)
        tick = int(round(tick))
        base = tick // pair * pair
        return max(0, min((base, base + off, base + pair), key=lambda t: (abs(t - tick), -t)))

    def floor(self, tick: float, ppq: int = PPQ) -> int:
        """Grid line at or before ``tick`` (never negative)."""
        if not self.swung:
            return max(0, floor_tick(int(math.floor(tick)), self.ticks(ppq)))
        pair, off = self._pair(ppq)
        tick = int(math.floor(tick))
        base = tick // pair * pair
        return max(0, base + off if tick - base >= off else base)

    def lines(self, start: int, end: int, ppq: int = PPQ) -> list[int]:
        """Ticks of the grid lines in ``[start, end)`` (empty when snapping is off)."""
        if not self.enabled or end <= start:
            return []
        if not self.swung:
            step = self.ticks(ppq)
            return list(range(-(-start // step) * step, end, step))
        pair, off = self._pair(ppq)
        return [t for base in range(start // pair * pair, end, pair) for t in (base, base + off) if start <= t < end]

    def label(self) -> str:
        if self.division is None:
            return "Off"
        text = Grid(self.division, self.triplet).label + ("." if self.dotted else "")
        return f"{text} swing {self.swing}%" if self.swung else text

    def to_text(self) -> str:
        """Settings form: ``"16"``, ``"8t"``, ``"8."``, ``"16s60"`` or ``"off"``."""
        if self.division is None:
            return "off"
        kind = "t" if self.triplet else "." if self.dotted else ""
        return f"{self.division}{kind}" + (f"s{self.swing}" if self.swung else "")

    def straight(self) -> "GridSpec":
        """This grid without swing."""
        return GridSpec(self.division, self.triplet, self.dotted)

    @staticmethod
    def from_text(text: str) -> "GridSpec":
        """Inverse of ``to_text``; falls back to 1/16 on anything unknown."""
        text = (text or "").strip().lower()
        if text == "off":
            return GridSpec(None)
        swing = 50
        if "s" in text:
            text, _, amount = text.partition("s")
            swing = int(amount) if amount.isdigit() else 50
        triplet, dotted = text.endswith("t"), text.endswith(".")
        try:
            return GridSpec(int(text.rstrip("t.")), triplet, dotted, swing)
        except ValueError:
            return GridSpec()


class ViewState(QObject):
    """Zoom and scroll of one piano roll; emits ``changed`` whenever they move."""

    changed = Signal()

    MIN_PX_PER_TICK = 0.0005
    MAX_PX_PER_TICK = 2.0
    MIN_ROW = 4.0
    MAX_ROW = 40.0
    #: latest tick the left edge may scroll to (past any song: 100,000 beats at the largest ppq).
    MAX_LEFT_TICK = float(2**32)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.px_per_tick = 0.1  # one quarter note = 48 px
        self.row_height = 12.0
        self.left_tick = 0.0
        self.top_pitch = 84.0  # pitch row shown at the top edge (fractional while scrolling)

    # ----- conversions ------------------------------------------------------------------------
    def tick_to_x(self, tick: float) -> float:
        return (tick - self.left_tick) * self.px_per_tick

    def x_to_tick(self, x: float) -> float:
        return self.left_tick + x / self.px_per_tick

    def pitch_to_y(self, pitch: float) -> float:
        """Top edge of the row of ``pitch``."""
        return (self.top_pitch - pitch) * self.row_height

    def y_to_pitch(self, y: float) -> int:
        """Pitch whose row holds ``y`` (clamped to 0..127)."""
        return max(0, min(127, int(math.ceil(self.top_pitch - y / self.row_height))))

    def visible_ticks(self, width: float) -> tuple[float, float]:
        return self.left_tick, self.x_to_tick(width)

    def visible_pitches(self, height: float) -> tuple[int, int]:
        """(lowest, highest) pitch with any part on screen."""
        return max(0, self.y_to_pitch(height)), min(127, int(math.ceil(self.top_pitch)))

    # ----- changes ----------------------------------------------------------------------------
    def scroll_to(self, left_tick: float | None = None, top_pitch: float | None = None,
                  view_height: float | None = None) -> None:
        if left_tick is not None:
            self.left_tick = min(self.MAX_LEFT_TICK, max(0.0, float(left_tick)))
        if top_pitch is not None:
            lo = 0.0 if view_height is None else min(127.0, view_height / self.row_height - 1)
            self.top_pitch = max(lo, min(127.0, float(top_pitch)))
        self.changed.emit()

    def zoom_x(self, factor: float, anchor_x: float = 0.0) -> None:
        """Scale time by ``factor`` keeping the tick under ``anchor_x`` pixels still."""
        anchor = self.x_to_tick(anchor_x)
        self.px_per_tick = min(self.MAX_PX_PER_TICK, max(self.MIN_PX_PER_TICK, self.px_per_tick * factor))
        self.left_tick = min(self.MAX_LEFT_TICK, max(0.0, anchor - anchor_x / self.px_per_tick))
        self.changed.emit()

    def zoom_y(self, factor: float, anchor_y: float = 0.0) -> None:
        """Scale pitch rows by ``factor`` keeping the pitch under ``anchor_y`` pixels still."""
        anchor = self.top_pitch - anchor_y / self.row_height
        self.row_height = min(self.MAX_ROW, max(self.MIN_ROW, self.row_height * factor))
        self.top_pitch = min(127.0, anchor + anchor_y / self.row_height)
        self.changed.emit()

    def to_dict(self) -> dict[str, float]:
        return {"px_per_tick": self.px_per_tick, "row_height": self.row_height,
                "left_tick": self.left_tick, "top_pitch": self.top_pitch}

    def load_dict(self, data: dict) -> None:
        """Restore from ``to_dict`` output; missing or bad values keep the current ones."""
        try:
            self.px_per_tick = min(self.MAX_PX_PER_TICK, max(self.MIN_PX_PER_TICK, float(data.get("px_per_tick", self.px_per_tick))))
            self.row_height = min(self.MAX_ROW, max(self.MIN_ROW, float(data.get("row_height", self.row_height))))
            self.left_tick = min(self.MAX_LEFT_TICK, max(0.0, float(data.get("left_tick", self.left_tick))))
            self.top_pitch = max(0.0, min(127.0, float(data.get("top_pitch", self.top_pitch))))
        except (TypeError, ValueError, OverflowError):
            pass
        self.changed.emit()
