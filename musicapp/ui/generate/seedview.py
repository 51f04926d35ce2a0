"""Showing the seed on the piano roll: which notes a request reads and where its notes will go.

Owns ``SeedLayer`` (a non-static paint layer of the note canvas: seed notes outlined in the
ghost colour, phrases A and B labelled for Interpolate, a marker line and band where
candidates will land) and ``reveal_ghosts`` (scroll the roll so freshly shown candidates are in view).
The layer asks the controller for the seed it would use now (``seed_for_mode``, cached per
song / selection / cursor / options) or, while a session runs, the session's seed. Ticks and
MIDI pitches; pixels only through the roll's view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from musicapp.core.song import Note
from musicapp.ui.generate import seed as seeds
from musicapp.ui.generate.jobs import CONTINUE, INFILL_MODE, INTERPOLATE, morph_layout
from musicapp.ui.pianoroll.canvas import PaintContext, thin_pen

if TYPE_CHECKING:
    from musicapp.ui.generate.controller import GenerateController
    from musicapp.ui.pianoroll.widget import PianoRoll


#: a seed of more notes than this is shown as a bar over its span (outlining 1,000 selected notes
#: on every repaint of a drag cost 3-7 ms of CPU per mouse move; bench_ui.py).
OUTLINE_LIMIT = 200


class SeedPlan:
    """What the layer draws: seed notes (or phrases A and B) and the candidates' tick range."""

    def __init__(self, seed: seeds.Seed, phrases: tuple[list[Note], list[Note]] | None, target: tuple[int, int]):
        self.seed = seed
        self.phrases = phrases
        self.target = target


def plan_for(ctrl: "GenerateController") -> SeedPlan | None:
    """The seed of the running session, else the one the current mode would read now."""
    s = ctrl.session
    mode = s.mode if s is not None else ctrl.options.mode
    seed = s.seed if s is not None else ctrl.seed_for_mode()
    if seed is None:
        return None
    song = ctrl.document.song
    if mode == INTERPOLATE:
        try:
            a, b, place, span = morph_layout(song, seed.notes, ctrl.options.variations, ctrl.options.swap_ab)
        except seeds.SeedError:
            return None
        return SeedPlan(seed, (a, b), (place, place + span * ctrl.options.variations))
    if mode == INFILL_MODE:  # the candidates go into the range
        return SeedPlan(seed, None, seed.region)
    if mode == CONTINUE:
        bar = song.meter_at(seed.start).bar_ticks(song.ppq)
        return SeedPlan(seed, None, (seed.start, seed.start + ctrl.options.bars * bar))
    return SeedPlan(seed, None, (seed.first_tick, max((n.end for n in seed.notes), default=seed.start)))


class SeedLayer:
    """Seed notes outlined, A/B labels, and a marker where candidates go (when ``shown()``)."""

    static = False

    def __init__(self, ctrl: "GenerateController", shown: Callable[[], bool] = lambda: True):
        self.ctrl = ctrl
        self.shown = shown
        self._key: tuple | None = None
        self._plan: SeedPlan | None = None

    def plan(self, cursor: int) -> SeedPlan | None:
        c, d = self.ctrl, self.ctrl.document
        o = c.options
        key = (id(d.song), d.selection, d.active_track, cursor, o.mode, o.seed_track, o.bars, o.variations, o.swap_ab,
               id(c.session), c.session.seed if c.session is not None else None)
        if key != self._key:
            self._key, self._plan = key, plan_for(c)
        return self._plan

    def paint(self, ctx: PaintContext) -> None:
        if not self.shown():
            return
        roll: "PianoRoll" = ctx.roll
        plan = self.plan(roll.cursor_tick)
        if plan is None:
            return
        view, p, theme = roll.view, ctx.painter, roll.theme
        color = theme.color("ghost")
        lo, hi = plan.target
        x0, x1 = view.tick_to_x(lo), view.tick_to_x(hi)
        if x1 >= 0 and x0 <= ctx.width:
            band = theme.color("ghost")
            band.setAlpha(22)
            p.fillRect(QRectF(x0, 0, x1 - x0, ctx.height), band)
            p.setPen(thin_pen(color, 2.0))
            p.drawLine(x0, 0, x0, ctx.height)
        p.setPen(thin_pen(color, 2.0))  # an outline: the notes keep their own (selection) colour
        p.setBrush(Qt.NoBrush)
        groups = plan.phrases if plan.phrases is not None else (list(plan.seed.notes),)
        if sum(len(g) for g in groups) > OUTLINE_LIMIT:  # a huge seed: a bar over its span, not every note
            for g in groups:
                x0, x1 = view.tick_to_x(g[0].start), view.tick_to_x(max(n.end for n in g))
                p.fillRect(QRectF(x0, 0, x1 - x0, 4), color)
        else:
            rects = [self._rect(roll, n) for g in groups for n in g
                     if n.start <= ctx.t1 and n.end >= ctx.t0 and ctx.p_lo <= n.pitch <= ctx.p_hi]
            if rects:
                p.drawRects(rects)
        font = QFont(p.font())
        font.setBold(True)
        p.setFont(font)
        p.setPen(color)
        if plan.phrases is not None:
            for label, notes in zip("AB", plan.phrases):
                top = max(n.pitch for n in notes)
                p.drawText(QRectF(view.tick_to_x(notes[0].start), view.pitch_to_y(top) - 18, 40, 16),
                           Qt.AlignLeft | Qt.AlignBottom, label)
        if x1 >= 0 and x0 <= ctx.width:
            p.drawText(QRectF(x0 + 4, 2, 160, 16), Qt.AlignLeft | Qt.AlignTop, "▶ candidates")

    @staticmethod
    def _rect(roll: "PianoRoll", n: Note) -> QRectF:
        v = roll.view
        return QRectF(v.tick_to_x(n.start), v.pitch_to_y(n.pitch), max(2.0, n.length * v.px_per_tick - 1),
                      v.row_height - 1)


def reveal_ghosts(roll: "PianoRoll") -> None:
    """Scroll ``roll`` so the document's ghost notes are in view (time first, then pitch);
    nothing moves when they are already fully visible, nor while a mouse button is down (the
    ghosts following a dragged seed note must not move the view under the hand)."""
    ghosts = roll.document.ghost_notes
    if not ghosts or QApplication.mouseButtons() != Qt.NoButton:
        return
    view, canvas = roll.view, roll.canvas
    t0, t1 = view.visible_ticks(canvas.width())
    start, end = min(n.start for n in ghosts), max(n.end for n in ghosts)
    if start < t0 or end > t1:
        width = t1 - t0
        margin = width * 0.05
        left = start - margin if end - start + 2 * margin > width else end + margin - width
        view.scroll_to(left_tick=max(0.0, min(start - margin, left)))
    p_lo, p_hi = view.visible_pitches(canvas.height())
    lo, hi = min(n.pitch for n in ghosts), max(n.pitch for n in ghosts)
    if lo < p_lo or hi > p_hi:
        roll.center_pitch((lo + hi) / 2)
