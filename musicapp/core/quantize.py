"""Grids, quantizing and transposing notes, all in ticks (no swing).

Owns the note-value grids the piano roll snaps to (``Grid``: 1/1 .. 1/32, straight or
triplet), tick snapping helpers, ``quantize`` (starts, optionally ends, with a strength
0..1) and ``transpose`` (error or clamp at the 0..127 pitch range). Grids count from
tick 0 of the song. Functions take and return plain ``Note`` sequences in input order,
so the editor can apply them to a selection.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Iterable

from musicapp.core.song import PPQ, Note, SongError

#: allowed grid note values: 1 = whole note ... 32 = thirty-second note.
NOTE_VALUES = (1, 2, 4, 8, 16, 32)
_GRID_RE = re.compile(r"^\s*1\s*/\s*(\d+)\s*([tT])?\s*$")


@dataclass(frozen=True, slots=True)
class Grid:
    """A grid of 1/``division`` notes (1 = whole, 4 = quarter ... 32), optionally triplets."""

    division: int = 16
    triplet: bool = False

    def __post_init__(self) -> None:
        if self.division not in NOTE_VALUES:
            raise SongError(f"grid 1/{self.division} is not one of "
                            + ", ".join(f"1/{d}" for d in NOTE_VALUES))

    def ticks(self, ppq: int = PPQ) -> int:
        """Grid step in ticks (1/16 at PPQ 480 = 120; 1/8 triplet = 160)."""
        step = ppq * 4 // self.division
        return step * 2 // 3 if self.triplet else step

    @property
    def label(self) -> str:
        """"1/8" or "1/8T"."""
        return f"1/{self.division}{'T' if self.triplet else ''}"

    @staticmethod
    def parse(text: str) -> "Grid":
        """Parse "1/16", "1/8T", "1/4 t"."""
        m = _GRID_RE.match(text) if isinstance(text, str) else None
        if not m:
            raise SongError(f"bad grid {text!r} (use e.g. 1/16 or 1/8T)")
        return Grid(int(m.group(1)), m.group(2) is not None)


#: every grid, straight first then triplets, coarse to fine (for menus).
GRIDS: tuple[Grid, ...] = tuple(Grid(d, t) for t in (False, True) for d in NOTE_VALUES)


def _check_step(step: int) -> None:
    if not isinstance(step, int) or step <= 0:
        raise SongError(f"grid step must be a positive number of ticks, not {step!r}")


def snap_tick(tick: int, step: int) -> int:
    """Nearest multiple of ``step`` to ``tick`` (halfway rounds up)."""
    _check_step(step)
    return (2 * tick + step) // (2 * step) * step


def floor_tick(tick: int, step: int) -> int:
    """Grid line at or before ``tick``."""
    _check_step(step)
    return tick // step * step


def ceil_tick(tick: int, step: int) -> int:
    """Grid line at or after ``tick``."""
    _check_step(step)
    return -(-tick // step) * step


def grid_lines(start: int, end: int, step: int) -> range:
    """Ticks of the grid lines in ``[start, end)``."""
    return range(ceil_tick(start, step), max(end, 0), step)


def quantize(notes: Iterable[Note], step: int, *, strength: float = 1.0,
             ends: bool = False) -> tuple[Note, ...]:
    """Move note starts (and with ``ends`` their ends) toward the grid of ``step`` ticks.

    ``strength`` 1 snaps fully, 0.5 moves halfway, 0 changes nothing (rounded to whole
    ticks, halfway up). Without ``ends`` a note keeps its length; with ``ends`` an end
    that would fall at or before the new start is put one grid step after it (scaled by
    strength, at least 1 tick). Returns the notes in input order.
    """
    _check_step(step)
    if not 0.0 <= strength <= 1.0:
        raise SongError(f"quantize strength {strength} outside 0..1")

    def toward(tick: int) -> int:
        return tick + math.floor((snap_tick(tick, step) - tick) * strength + 0.5)

    out = []
    for n in notes:
        start = toward(n.start)
        if ends:
            end = toward(n.end)
            if end <= start:
                end = start + max(1, math.floor(step * strength + 0.5))
            out.append(replace(n, start=start, length=end - start))
        else:
            out.append(replace(n, start=start))
    return tuple(out)


def transpose(notes: Iterable[Note], semitones: int, *, clamp: bool = False) -> tuple[Note, ...]:
    """Shift pitches by ``semitones``; out of 0..127 raises ``SongError`` or, with ``clamp``,
    pins the pitch at the edge. Returns the notes in input order."""
    if not isinstance(semitones, int):
        raise SongError(f"transpose needs whole semitones, not {semitones!r}")
    notes = tuple(notes)
    out = []
    for n in notes:
        p = n.pitch + semitones
        if not 0 <= p <= 127:
            if not clamp:
                raise SongError(f"transposing by {semitones:+d} would move pitch {n.pitch} "
                                f"{'above 127' if p > 127 else 'below 0'}")
            p = min(max(p, 0), 127)
        out.append(replace(n, pitch=p))
    return tuple(out)
