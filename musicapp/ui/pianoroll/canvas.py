"""The note canvas: a custom-painted widget that draws only what is visible, in layers.

Owns painting and hit testing of the note area. It holds no song state: it reads the
Document and ViewState each paint, plus a transient ``Preview`` the active tool sets while a
drag is in progress (drawn as an offset, so dragging 1,000 notes costs one repaint, not 1,000
edits). Painting is split into ``Layer`` objects (background, notes, ghosts, overlay) so new
overlays such as generated candidates slot in without touching the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from musicapp.core.edits import NoteRef
from musicapp.core.scales import snap_to_scale
from musicapp.core.song import Key, Note
from musicapp.ui.pianoroll.noteindex import SongIndex

if TYPE_CHECKING:
    from musicapp.ui.pianoroll.widget import PianoRoll

VELOCITY_BUCKETS = 8
BLACK_KEYS = frozenset({1, 3, 6, 8, 10})


@dataclass
class Preview:
    """What a tool is doing right now, drawn over the song until the tool commits it.

    ``moved`` notes are drawn shifted by ``dt`` ticks / ``dp`` semitones and lengthened by
    ``dlen`` ticks; ``hidden`` notes are not drawn (being erased); ``new`` notes are drawn as
    if added; ``velocities`` overrides velocities in the lane.
    """

    moved: frozenset[NoteRef] = frozenset()
    dt: int = 0
    dp: int = 0
    dlen: int = 0
    min_len: int = 1
    hidden: frozenset[NoteRef] = frozenset()
    new: tuple[Note, ...] = ()
    velocities: dict[NoteRef, int] = field(default_factory=dict)
    marquee: QRectF | None = None
    key: Key | None = None  # snap to scale: moved pitches land on this key's scale

    def apply(self, n: Note) -> tuple[int, int, int]:
        """(start, pitch, length) of a moved note under this preview."""
        pitch = n.pitch + self.dp
        if self.key is not None and self.dp and 0 <= pitch <= 127:
            pitch = snap_to_scale(pitch, self.key, "up" if self.dp > 0 else "down")
        return n.start + self.dt, pitch, max(self.min_len, n.length + self.dlen)


@dataclass(frozen=True)
class PaintContext:
    """What every layer needs for one paint: the visible window in song units."""

    roll: "PianoRoll"
    painter: QPainter
    width: float
    height: float
    t0: float
    t1: float
    p_lo: int
    p_hi: int


class Layer(Protocol):
    """One paint layer. ``static`` layers depend only on the song, selection, view and theme
    (see ``NoteCanvas.cache_key``) and are drawn into a cached pixmap; the others are drawn
    on top every paint (drag previews, ghosts, playhead)."""

    static: bool

    def paint(self, ctx: PaintContext) -> None: ...


class NoteCanvas(QWidget):
    """The note area of a PianoRoll; forwards mouse and key input to the roll's current tool."""

    painted = Signal()

    def __init__(self, roll: "PianoRoll"):
        super().__init__(roll)
        self.roll = roll
        self.index = SongIndex()
        self.preview = Preview()
        self.layers: list[Layer] = []
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setAcceptDrops(False)
        self._cache: QPixmap | None = None
        self._cache_key: tuple = ()
        self._cache_refs: tuple = ()
        self._background: QPixmap | None = None  # the background layers alone (rows, bar lines)
        self._background_key: tuple = ()

    # ----- painting ---------------------------------------------------------------------------
    def set_preview(self, preview: Preview | None) -> None:
        """Show what the active tool is doing (None: nothing); repaints what it affects."""
        lane_affected = bool(self.preview.velocities) or (preview is not None and bool(preview.velocities))
        self.preview = preview or Preview()
        self.update()
        if lane_affected:
            self.roll.velocity_lane.update()

    def invalidate(self) -> None:
        """Drop the cached static layers so the next paint redraws everything."""
        self._cache = self._background = None

    def _background_values(self) -> tuple:
        """What the background layers depend on besides the song's ppq, meters and key: size,
        view, theme, grid and scale."""
        roll, view = self.roll, self.roll.view
        return (self.width(), self.height(), self.devicePixelRatioF(), view.px_per_tick, view.row_height,
                view.left_tick, view.top_pitch, roll.theme.name, roll.grid, roll.scale_pcs)

    def cache_key(self) -> tuple[tuple, tuple]:
        """(values, objects) that decide the static layers; objects are compared by identity."""
        roll, pv = self.roll, self.preview
        values = self._background_values() + (roll.show_other_tracks, roll.document.active_track)
        objects = (roll.document.song, roll.document.selection, pv.moved, pv.hidden, pv.velocities or None)
        return values, objects

    def _background_pixmap(self, w: float, h: float, t0: float, t1: float, p_lo: int, p_hi: int) -> QPixmap:
        """The ``background`` layers (pitch rows, bar/beat/grid lines) for this view, kept while
        only notes change: an edit repaints the notes over it (~2 ms saved per edit)."""
        song = self.roll.document.song
        key = (self._background_values(), song.ppq, song.meters, song.key)
        if self._background is not None and key == self._background_key:
            return self._background
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(max(1, int(w * ratio)), max(1, int(h * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        painter = QPainter(pixmap)
        ctx = PaintContext(self.roll, painter, w, h, t0, t1, p_lo, p_hi)
        for layer in self.layers:
            if getattr(layer, "background", False):
                layer.paint(ctx)
        painter.end()
        self._background, self._background_key = pixmap, key
        return pixmap

    def paintEvent(self, event) -> None:  # Qt override
        view = self.roll.view
        w, h = float(self.width()), float(self.height())
        t0, t1 = view.visible_ticks(w)
        p_lo, p_hi = view.visible_pitches(h)
        values, objects = self.cache_key()
        fresh = (self._cache is not None and values == self._cache_key
                 and len(objects) == len(self._cache_refs) and all(a is b for a, b in zip(objects, self._cache_refs)))
        if not fresh:
            ratio = self.devicePixelRatioF()
            background = self._background_pixmap(w, h, t0, t1, p_lo, p_hi)
            pixmap = QPixmap(background.size())
            pixmap.setDevicePixelRatio(ratio)
            painter = QPainter(pixmap)
            painter.drawPixmap(0, 0, background)
            ctx = PaintContext(self.roll, painter, w, h, t0, t1, p_lo, p_hi)
            for layer in self.layers:
                if getattr(layer, "static", False) and not getattr(layer, "background", False):
                    layer.paint(ctx)
            painter.end()
            self._cache, self._cache_key, self._cache_refs = pixmap, values, objects
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._cache)
        ctx = PaintContext(self.roll, painter, w, h, t0, t1, p_lo, p_hi)
        for layer in self.layers:
            if not getattr(layer, "static", False):
                layer.paint(ctx)
        painter.end()
        self.painted.emit()

    # ----- hit testing ------------------------------------------------------------------------
    def visible_refs(self, track: int) -> list[int]:
        """Indices of the track's notes inside the visible window."""
        view = self.roll.view
        song = self.roll.document.song
        if not 0 <= track < len(song.tracks):
            return []
        t0, t1 = view.visible_ticks(self.width())
        p_lo, p_hi = view.visible_pitches(self.height())
        return self.index.track(track, song.tracks[track].notes).in_window(t0, t1, p_lo, p_hi)

    def note_at(self, pos: QPointF) -> tuple[NoteRef, bool] | None:
        """(ref, on_end_edge) of the active track's topmost note under ``pos``, or None."""
        doc, view = self.roll.document, self.roll.view
        song = doc.song
        ti = doc.active_track
        if not 0 <= ti < len(song.tracks):
            return None
        notes = song.tracks[ti].notes
        pitch = view.y_to_pitch(pos.y())
        tick = view.x_to_tick(pos.x())
        slack = 3.0 / view.px_per_tick  # ticks in three pixels
        idx = self.index.track(ti, notes)
        for i in reversed(idx.candidates(tick - slack, tick + slack)):
            n = notes[i]
            if n.pitch != pitch or not n.start <= tick <= n.end + slack:
                continue
            x_end = view.tick_to_x(n.end)
            width = n.length * view.px_per_tick
            edge = min(6.0, max(2.0, width / 3.0))
            return (ti, i), pos.x() >= x_end - edge
        return None

    def notes_in_rect(self, rect: QRectF) -> set[NoteRef]:
        """Refs of active-track notes that intersect ``rect`` (widget pixels)."""
        doc, view = self.roll.document, self.roll.view
        ti = doc.active_track
        song = doc.song
        if not 0 <= ti < len(song.tracks):
            return set()
        r = rect.normalized()
        t0, t1 = view.x_to_tick(r.left()), view.x_to_tick(r.right())
        p_hi, p_lo = view.y_to_pitch(r.top()), view.y_to_pitch(r.bottom())
        idx = self.index.track(ti, song.tracks[ti].notes)
        return {(ti, i) for i in idx.in_window(t0, t1, p_lo, p_hi)}

    # ----- input: delegated to the current tool -----------------------------------------------
    def mousePressEvent(self, event) -> None:  # Qt override
        self.setFocus()
        self.roll.current_tool().press(event)

    def mouseMoveEvent(self, event) -> None:  # Qt override
        self.roll.current_tool().move(event)
        self.roll.report_hover(event.position())

    def mouseReleaseEvent(self, event) -> None:  # Qt override
        self.roll.current_tool().release(event)

    def mouseDoubleClickEvent(self, event) -> None:  # Qt override
        self.roll.current_tool().double_click(event)

    def event(self, event) -> bool:  # Qt override
        # while a drag runs, Esc belongs to it (not to "Dismiss Candidates" or other shortcuts)
        if (event.type() == QEvent.ShortcutOverride and event.key() == Qt.Key_Escape
                and self.roll.current_tool().gesture is not None):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # Qt override
        tool = self.roll.current_tool()
        if event.key() == Qt.Key_Escape and tool.gesture is not None:
            tool.cancel()  # the drag ends here: no edit, the release does nothing
            event.accept()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event) -> None:  # Qt override
        self.roll.wheel(event, self)

    def leaveEvent(self, event) -> None:  # Qt override
        self.roll.current_tool().hover_left()


def velocity_colors(low: QColor, high: QColor) -> list[QColor]:
    """``VELOCITY_BUCKETS`` colours from ``low`` (soft) to ``high`` (loud)."""
    out = []
    for b in range(VELOCITY_BUCKETS):
        f = b / (VELOCITY_BUCKETS - 1)
        out.append(QColor.fromRgbF(
            low.redF() + (high.redF() - low.redF()) * f,
            low.greenF() + (high.greenF() - low.greenF()) * f,
            low.blueF() + (high.blueF() - low.blueF()) * f,
        ))
    return out


def velocity_bucket(velocity: int) -> int:
    return min(VELOCITY_BUCKETS - 1, (velocity - 1) * VELOCITY_BUCKETS // 127)


def thin_pen(color: QColor, width: float = 1.0, style=Qt.SolidLine) -> QPen:
    pen = QPen(color, width, style)
    pen.setCosmetic(True)
    return pen
