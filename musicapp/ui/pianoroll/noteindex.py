"""Culling index over one track's notes: which notes touch a tick/pitch window.

Tracks keep notes sorted by start, so a bisect on the start ticks plus the longest note's
length bounds the candidates for any time window; the index is rebuilt only when the track's
note tuple changes (checked by identity, which is cheap because Songs are immutable).
"""

from __future__ import annotations

import bisect
from typing import Sequence

from musicapp.core.song import Note


class TrackIndex:
    """Sorted start ticks of ``notes`` and the longest length, for window queries."""

    __slots__ = ("notes", "starts", "max_len")

    def __init__(self, notes: Sequence[Note]):
        self.notes = notes
        self.starts = [n.start for n in notes]
        self.max_len = max((n.length for n in notes), default=0)

    def candidates(self, t0: float, t1: float) -> range:
        """Indices of notes that may overlap ticks [t0, t1] (a superset; check pitch and end)."""
        lo = bisect.bisect_left(self.starts, t0 - self.max_len)
        hi = bisect.bisect_right(self.starts, t1)
        return range(lo, hi)

    def in_window(self, t0: float, t1: float, p_lo: int, p_hi: int) -> list[int]:
        """Indices of notes overlapping ticks [t0, t1] with pitch in [p_lo, p_hi]."""
        notes = self.notes
        out = []
        for i in self.candidates(t0, t1):
            n = notes[i]
            if p_lo <= n.pitch <= p_hi and n.start + n.length >= t0:
                out.append(i)
        return out


class SongIndex:
    """One ``TrackIndex`` per track, rebuilt lazily when a track's notes change."""

    def __init__(self) -> None:
        self._cache: dict[int, TrackIndex] = {}

    def track(self, track_no: int, notes: Sequence[Note]) -> TrackIndex:
        idx = self._cache.get(track_no)
        if idx is None or idx.notes is not notes:
            idx = TrackIndex(notes)
            self._cache[track_no] = idx
        return idx

    def clear(self) -> None:
        self._cache.clear()
