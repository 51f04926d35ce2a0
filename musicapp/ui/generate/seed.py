"""Which notes a generation reads (the seed) and how that seed follows the user's edits.

Owns the pure, Qt-free rules of the Generate panel: picking the seed (the selection, or the
notes before the edit cursor in the active track), splitting a selection into two phrases for
interpolation, following a seed through an edit (live re-seed: a diff of the track's notes
before and after, so moving, adding or deleting a seed note changes the seed and nothing
else does), and placing generated notes. All positions are in ticks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from musicapp.core.song import Note, Song

#: bars before the cursor that a cursor seed reads (the LSTM keeps at most 16 bars anyway).
CURSOR_SEED_BARS = 8


class SeedError(ValueError):
    """The selection or cursor gives no usable seed (message is shown in the panel)."""


@dataclass(frozen=True)
class Seed:
    """The notes a request reads: ``notes`` (sorted, ticks) from track ``track``.

    ``start`` is where the continuation begins (ticks); ``region`` is the tick range
    ``(lo, hi)`` in which added notes join the seed on a live re-seed (from the seed's first
    bar to one bar past its end, so drawing just after the phrase extends it).
    """

    track: int
    notes: tuple[Note, ...]
    start: int
    region: tuple[int, int]

    @property
    def first_tick(self) -> int:
        return min((n.start for n in self.notes), default=self.start)


def bar_floor(song: Song, tick: int) -> int:
    """Start tick of the bar holding ``tick``."""
    bar, _, _ = song.tick_to_bar_beat(max(0, tick))
    return song.bar_beat_to_tick(bar)


def bar_ceil(song: Song, tick: int) -> int:
    """First bar line at or after ``tick``."""
    floor = bar_floor(song, tick)
    if floor == tick:
        return tick
    bar, _, _ = song.tick_to_bar_beat(tick)
    return song.bar_beat_to_tick(bar + 1)


def step_ceil(tick: int, ppq: int) -> int:
    """``tick`` rounded up to the 16th-note grid (the models' step)."""
    step = ppq // 4
    return -(-tick // step) * step


def seed_from_notes(song: Song, track: int, notes: Iterable[Note], cursor: int | None = None) -> Seed:
    """A seed of ``notes`` in ``track``; the continuation starts at their end on the 16th grid.

    With no notes the continuation starts at ``cursor`` (an unseeded continuation).
    """
    notes = tuple(sorted(notes))
    if notes:
        start = step_ceil(max(n.end for n in notes), song.ppq)
        lo = bar_floor(song, notes[0].start)
    else:
        start = step_ceil(cursor or 0, song.ppq)
        lo = bar_floor(song, start)
    return Seed(track, notes, start, (lo, start + song.meter_at(start).bar_ticks(song.ppq)))


def pick_seed(song: Song, active_track: int, selection: Iterable[tuple[int, int]], cursor: int) -> Seed:
    """The seed for Continue: the selected notes (of the track holding most of them), or else
    the active track's notes that start before ``cursor`` in the last ``CURSOR_SEED_BARS`` bars."""
    if not song.tracks:
        raise SeedError("the song has no tracks")
    sel = list(selection)
    if sel:
        counts = Counter(t for t, _ in sel)
        track = max(counts, key=lambda t: (counts[t], t == active_track))
        notes = [song.tracks[track].notes[i] for t, i in sel if t == track]
        return seed_from_notes(song, track, notes)
    track = min(max(active_track, 0), len(song.tracks) - 1)
    bar = song.meter_at(cursor).bar_ticks(song.ppq)
    lo = max(0, cursor - CURSOR_SEED_BARS * bar)
    notes = [n for n in song.tracks[track].notes if lo <= n.start < cursor]
    return seed_from_notes(song, track, notes, cursor)


def selected_phrase(song: Song, selection: Iterable[tuple[int, int]], active_track: int) -> Seed:
    """The selection as one phrase to vary (refuses an empty selection)."""
    if not any(True for _ in selection):
        raise SeedError("select the notes to vary")
    return pick_seed(song, active_track, selection, 0)


def split_phrases(notes: Sequence[Note]) -> tuple[list[Note], list[Note]]:
    """Two phrases from ``notes``: cut at the widest silence between them (ticks).

    Raises SeedError when the notes do not fall into two phrases separated by a gap.
    """
    notes = sorted(notes)
    if len(notes) < 2:
        raise SeedError("select two phrases (with a gap between them) to interpolate")
    best, cut, end = 0, -1, notes[0].end
    for i in range(1, len(notes)):
        gap = notes[i].start - end
        if gap > best:
            best, cut = gap, i
        end = max(end, notes[i].end)
    if cut < 0:
        raise SeedError("the selection has no gap: select two separate phrases to interpolate")
    return notes[:cut], notes[cut:]


def follow_edit(seed: Seed, before: Sequence[Note], after: Sequence[Note], ppq: int,
                bar_ticks: int) -> Seed | None:
    """The seed after the seed track changed from ``before`` to ``after`` (live re-seed).

    Seed notes that vanished are dropped; notes that appeared inside the seed's region (or
    replaced a seed note, e.g. a move) join it. Returns None when the edit did not touch the
    seed (nothing to regenerate). The continuation start follows the seed's new end and the
    region grows to ``bar_ticks`` past it.
    """
    removed = Counter(before) - Counter(after)
    added = Counter(after) - Counter(before)
    if not removed and not added:
        return None
    seed_left = Counter(seed.notes)
    touched = False
    for n, k in removed.items():
        gone = min(k, seed_left[n])
        if gone:
            seed_left[n] -= gone
            touched = True
    lo, hi = seed.region
    joined = [n for n, k in added.items() for _ in range(k) if touched or lo <= n.start < hi]
    if not touched and not joined:
        return None
    notes = tuple(sorted(list(seed_left.elements()) + joined))
    if not notes:
        return Seed(seed.track, (), seed.start, seed.region)
    start = step_ceil(max(n.end for n in notes), ppq)
    return Seed(seed.track, notes, start, (min(lo, notes[0].start), max(hi, start + bar_ticks)))


def fit_candidate(notes: Iterable[Note], channel: int, velocity: int, offset: int = 0) -> tuple[Note, ...]:
    """Generated notes on the track's ``channel`` with ``velocity``, shifted ``offset`` ticks."""
    return tuple(sorted(Note(n.start + offset, n.pitch, max(1, n.length), velocity, channel)
                        for n in notes if n.start + offset >= 0))


def seed_velocity(notes: Sequence[Note], default: int = 96) -> int:
    """Mean velocity of the seed (generated notes get it), ``default`` without notes."""
    return round(sum(n.velocity for n in notes) / len(notes)) if notes else default
