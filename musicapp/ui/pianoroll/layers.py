"""The paint layers of the note canvas, drawn bottom to top.

``BackgroundLayer`` (pitch rows with scale highlighting, bar/beat/grid lines),
``NotesLayer`` (other tracks dimmed, the active track coloured by velocity, selection and the
tool's drag preview), ``GhostLayer`` (non-editable candidate notes from the document's ghost
overlay) and ``OverlayLayer`` (loop region, marquee, edit cursor, playhead). Each layer only
reads state and paints the visible window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QFont

from musicapp.core.song import NOTE_NAMES, Note
from musicapp.ui.pianoroll.raster import DENSE_NOTES, NoteRaster
from musicapp.ui.pianoroll.canvas import (
    BLACK_KEYS, VELOCITY_BUCKETS, PaintContext, thin_pen, velocity_colors,
)

if TYPE_CHECKING:
    import numpy as np

LABEL_LIMIT = 400  # draw note names only when fewer notes than this are visible


def note_name(pitch: int) -> str:
    """``C4`` style name (MIDI 60 = C4)."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


class BackgroundLayer:
    """Pitch rows (scale-aware shading) and vertical bar, beat and grid lines. Reads only the
    view, theme, grid, scale and the song's ppq, meters and key (the canvas caches it apart
    from the notes on that promise)."""

    static = True
    background = True

    def paint(self, ctx: PaintContext) -> None:
        roll, p = ctx.roll, ctx.painter
        theme, view = roll.theme, roll.view
        scale = roll.scale_pcs
        rh = view.row_height
        colors = {k: theme.color(k) for k in ("row_in_scale", "row_out_scale", "row_black_key")}
        p.fillRect(QRectF(0, 0, ctx.width, ctx.height), colors["row_out_scale"])
        row_lines = []
        octave_lines = []
        for pitch in range(ctx.p_lo, ctx.p_hi + 1):
            y = view.pitch_to_y(pitch)
            pc = pitch % 12
            if scale is not None:
                key = "row_in_scale" if pc in scale else "row_out_scale"
            else:
                key = "row_black_key" if pc in BLACK_KEYS else "row_in_scale"
            p.fillRect(QRectF(0, y, ctx.width, rh), colors[key])
            (octave_lines if pc == 0 else row_lines).append(QLineF(0, y + rh, ctx.width, y + rh))
        if scale is not None and roll.document.song.key is not None:
            tonic = roll.document.song.key.tonic
            tint = theme.color("highlight")
            tint.setAlpha(28)
            for pitch in range(ctx.p_lo, ctx.p_hi + 1):
                if pitch % 12 == tonic:
                    p.fillRect(QRectF(0, view.pitch_to_y(pitch), ctx.width, rh), tint)
        if rh >= 6:
            p.setPen(thin_pen(theme.color("line_grid")))
            p.drawLines(row_lines)
        p.setPen(thin_pen(theme.color("line_beat")))
        p.drawLines(octave_lines)
        self._paint_time_lines(ctx)

    def _paint_time_lines(self, ctx: PaintContext) -> None:
        roll, p, view = ctx.roll, ctx.painter, ctx.roll.view
        song = roll.document.song
        ppt = view.px_per_tick
        bar_lines, beat_lines, grid_lines = [], [], []
        grid = roll.grid.ticks(song.ppq) if roll.grid.enabled else 0  # swung lines are no closer than 1/2 step
        starts = song.bar_starts(int(ctx.t1) + 1, max(0, int(ctx.t0)))
        first = song.tick_to_bar_beat(starts[0])[0] if starts else 0  # bar number of starts[0]
        bar_px = song.meters[0].bar_ticks(song.ppq) * ppt
        bar_every = 1 if bar_px >= 8 else int(8 // max(bar_px, 0.01)) + 1
        for n, bar in enumerate(starts):
            nxt = starts[n + 1] if n + 1 < len(starts) else bar + song.meter_at(bar).bar_ticks(song.ppq)
            if nxt < ctx.t0:
                continue
            if (first + n) % bar_every == 0:
                x = view.tick_to_x(bar)
                bar_lines.append(QLineF(x, 0, x, ctx.height))
            beat = song.meter_at(bar).beat_ticks(song.ppq)
            if beat * ppt >= 6:
                beat_lines.extend(QLineF(view.tick_to_x(t), 0, view.tick_to_x(t), ctx.height)
                                  for t in range(bar + beat, nxt, beat))
            if grid and grid * ppt >= 6:
                grid_lines.extend(QLineF(view.tick_to_x(t), 0, view.tick_to_x(t), ctx.height)
                                  for t in roll.grid.lines(bar + 1, nxt, song.ppq) if (t - bar) % beat)
        theme = roll.theme
        for lines, key in ((grid_lines, "line_grid"), (beat_lines, "line_beat"), (bar_lines, "line_bar")):
            if lines:
                p.setPen(thin_pen(theme.color(key)))
                p.drawLines(lines)


class NotesLayer:
    """Notes of every track: others dimmed, the active one by velocity, selection on top.

    Notes a tool is moving are left out here and drawn by ``MovingNotesLayer``.
    """

    static = True

    def __init__(self) -> None:
        self._colors_for: str | None = None
        self._vel_colors: list[QColor] = []

    def paint(self, ctx: PaintContext) -> None:
        roll = ctx.roll
        theme = roll.theme
        if self._colors_for != theme.name:
            self._vel_colors = velocity_colors(theme.color("note_low"), theme.color("note_high"))
            self._colors_for = theme.name
        song = roll.document.song
        active = roll.document.active_track
        index = roll.canvas.index
        shown = {ti: index.track(ti, t.notes) for ti, t in enumerate(song.tracks)
                 if ti == active or roll.show_other_tracks}
        windows = {ti: tidx.window(ctx.t0, ctx.t1, ctx.p_lo, ctx.p_hi) for ti, tidx in shown.items()}
        raster = None
        if not any(len(w) for w in windows.values()):
            return
        import numpy as np

        if sum(len(w) for w in windows.values()) >= DENSE_NOTES:
            raster = NoteRaster(int(ctx.width), int(ctx.height))
        p, view = ctx.painter, roll.view
        dim = theme.color("note_other_track")
        dense: list[tuple[np.ndarray, ...]] = []  # (x, y, w, kind) per track, for the raster
        for ti, idx in windows.items():
            if ti == active or not len(idx):
                continue
            xs, ys, ws = shown[ti].geometry_arrays(idx, view.left_tick, view.px_per_tick, view.top_pitch,
                                                   view.row_height)
            if raster is not None:
                dense.append((xs, ys, ws, np.zeros(len(xs), dtype=np.int64)))
            else:
                h = view.row_height - 1
                p.setPen(Qt.NoPen)
                p.setBrush(dim)
                p.drawRects([QRectF(x, y, w, h) for x, y, w in zip(xs.tolist(), ys.tolist(), ws.tolist())])
        if active in windows:
            self._paint_active(ctx, active, shown[active], windows[active], dense if raster is not None else None)
        if raster is not None and dense:
            xs, ys, ws, kinds = (np.concatenate(parts) for parts in zip(*dense))
            palette = [dim] + self._vel_colors + [theme.color("note_selected")]
            raster.fill(xs, ys, ws, kinds, view.row_height - 1, palette)
            raster.draw(p)

    def _paint_active(self, ctx: PaintContext, ti: int, tidx, idx: np.ndarray,
                      dense: list | None) -> None:
        """Draw the active track; in dense mode append (x, y, w, kind) to ``dense`` instead
        (kind 1..8 = velocity bucket, 9 = selected; 0 is the other tracks' dim colour)."""
        if not len(idx):
            return
        import numpy as np

        roll, p, view = ctx.roll, ctx.painter, ctx.roll.view
        pv = roll.canvas.preview
        rh = view.row_height
        skip = [i for t, i in (pv.moved | pv.hidden) if t == ti]
        if skip:
            idx = idx[~np.isin(idx, skip)]
        vel = tidx.velocities[idx]
        for (t, i), v in pv.velocities.items():
            if t == ti:
                vel[idx == i] = v
        buckets = np.minimum(VELOCITY_BUCKETS - 1, (vel - 1) * VELOCITY_BUCKETS // 127)
        sel = [i for t, i in roll.document.selection if t == ti]
        if sel:
            buckets[np.isin(idx, sel)] = VELOCITY_BUCKETS  # the selection colour
        colors = self._vel_colors + [roll.theme.color("note_selected")]
        if dense is not None:
            xs, ys, ws = tidx.geometry_arrays(idx, view.left_tick, view.px_per_tick, view.top_pitch, rh)
            dense.append((xs, ys, ws, buckets.astype(np.int64) + 1))
            return
        xs, ys, ws = tidx.geometry(idx, view.left_tick, view.px_per_tick, view.top_pitch, rh)
        groups: list[list[QRectF]] = [[] for _ in range(VELOCITY_BUCKETS + 1)]
        for x, y, w, b in zip(xs, ys, ws, buckets.tolist()):
            groups[b].append(QRectF(x, y, w, rh - 1))
        p.setPen(thin_pen(roll.theme.color("note_border")) if rh >= 5 else Qt.NoPen)
        for color, rects in zip(colors, groups):
            if rects:
                p.setBrush(color)
                p.drawRects(rects)
        if rh >= 11 and len(idx) < LABEL_LIMIT:
            font = QFont(p.font())
            font.setPixelSize(max(8, int(rh) - 4))
            p.setFont(font)
            p.setPen(QColor(0, 0, 0, 170))
            for x, y, w, pitch in zip(xs, ys, ws, tidx.pitches[idx].tolist()):
                if w > 26:
                    p.drawText(QRectF(x + 3, y, w - 5, rh - 1), Qt.AlignVCenter | Qt.AlignLeft, note_name(pitch))


class MovingNotesLayer:
    """Notes a tool is dragging (moved, resized or being drawn), drawn over the cached layers."""

    static = False

    def paint(self, ctx: PaintContext) -> None:
        roll, p, view = ctx.roll, ctx.painter, ctx.roll.view
        pv = roll.canvas.preview
        if not pv.moved and not pv.new:
            return
        ppt, rh, left, top = view.px_per_tick, view.row_height, view.left_tick, view.top_pitch
        song = roll.document.song
        rects = []
        for t, i in pv.moved:
            if t < len(song.tracks) and i < len(song.tracks[t].notes):
                start, pitch, length = pv.apply(song.tracks[t].notes[i])
                if start <= ctx.t1 and start + length >= ctx.t0 and ctx.p_lo <= pitch <= ctx.p_hi:
                    rects.append(QRectF((start - left) * ppt, (top - pitch) * rh, max(2.0, length * ppt - 1), rh - 1))
        for n in pv.new:
            rects.append(QRectF((n.start - left) * ppt, (top - n.pitch) * rh, max(2.0, n.length * ppt - 1), rh - 1))
        p.setPen(thin_pen(roll.theme.color("note_border")) if rh >= 5 else Qt.NoPen)
        p.setBrush(roll.theme.color("note_selected"))
        if rects:
            p.drawRects(rects)


class GhostLayer:
    """The document's ghost notes: translucent, dashed, never selectable; the notes accepting
    them would replace (``ghost_replaces``) are dimmed and crossed out."""

    static = False

    def paint(self, ctx: PaintContext) -> None:
        roll = ctx.roll
        ghosts: tuple[Note, ...] = roll.document.ghost_notes
        if not ghosts:
            return
        view, p = roll.view, ctx.painter
        replaced = getattr(roll.document, "ghost_replaces", ())
        if replaced:
            p.setPen(thin_pen(QColor(255, 255, 255, 210), 1.2))
            p.setBrush(QColor(0, 0, 0, 120))  # dimmed, crossed out: what accepting replaces
            for n in replaced:
                if n.start <= ctx.t1 and n.end >= ctx.t0 and ctx.p_lo <= n.pitch <= ctx.p_hi:
                    r = QRectF(view.tick_to_x(n.start), view.pitch_to_y(n.pitch),
                               max(2.0, n.length * view.px_per_tick - 1), view.row_height - 1)
                    p.drawRect(r)
                    p.drawLine(r.topLeft(), r.bottomRight())
                    p.drawLine(r.bottomLeft(), r.topRight())
        fill = roll.theme.color("ghost")
        fill.setAlpha(90)
        p.setBrush(fill)
        p.setPen(thin_pen(roll.theme.color("ghost"), 1.0, Qt.DashLine))
        rects = [
            QRectF(view.tick_to_x(n.start), view.pitch_to_y(n.pitch), max(2.0, n.length * view.px_per_tick - 1),
                   view.row_height - 1)
            for n in ghosts
            if n.start <= ctx.t1 and n.end >= ctx.t0 and ctx.p_lo <= n.pitch <= ctx.p_hi
        ]
        if rects:
            p.drawRects(rects)


class OverlayLayer:
    """Loop region, marquee rectangle, edit cursor and playhead."""

    static = False

    def paint(self, ctx: PaintContext) -> None:
        roll, p, view, theme = ctx.roll, ctx.painter, ctx.roll.view, ctx.roll.theme
        if roll.loop is not None:
            x0, x1 = view.tick_to_x(roll.loop[0]), view.tick_to_x(roll.loop[1])
            p.fillRect(QRectF(x0, 0, x1 - x0, ctx.height), theme.color("loop"))
        marquee = roll.canvas.preview.marquee
        if marquee is not None:
            color = theme.color("marquee")
            p.setPen(thin_pen(color))
            color.setAlpha(40)
            p.setBrush(color)
            p.drawRect(marquee.normalized())
        x = view.tick_to_x(roll.cursor_tick)
        if 0 <= x <= ctx.width:
            p.setPen(thin_pen(theme.color("text"), 1.0, Qt.DotLine))
            p.drawLine(QLineF(x, 0, x, ctx.height))
        x = view.tick_to_x(roll.playhead_tick)
        if 0 <= x <= ctx.width:
            p.setPen(thin_pen(theme.color("playhead"), 1.5))
            p.drawLine(QLineF(x, 0, x, ctx.height))
