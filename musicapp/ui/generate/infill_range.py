"""Infill in the editor: the time range it regenerates, its context, edits that follow, accept.

Owns the pure, Qt-free rules of Generate > Infill: the range is the loop region dragged on the
ruler, else the span of the selected notes (snapped to the 16th grid); the seed is the track's
notes that start outside the range (the context the model reads on both sides); notes that
start inside are the ones a candidate replaces. Live re-seed follows an edit when it changed
the context on either side; accepting removes the notes starting in the range and adds the
candidate, leaving every other note alone. Also finds the gap a Continue runs into (notes that
follow within the requested length), which is then filled as an infill. Ticks throughout.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from musicapp.core import edits
from musicapp.core.song import Note, Song
from musicapp.ui.generate.seed import Seed, SeedError

NO_RANGE = "select a time range to infill: drag on the ruler's loop strip, or select notes"


def step_floor(tick: int, ppq: int) -> int:
    """``tick`` rounded down to the 16th grid."""
    step = ppq // 4
    return (tick // step) * step


def step_ceil(tick: int, ppq: int) -> int:
    """``tick`` rounded up to the 16th grid."""
    step = ppq // 4
    return -(-tick // step) * step


def pick_range(song: Song, loop: tuple[int, int] | None, selection: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """The range to regenerate: the loop region, else the span of the selected notes (ticks)."""
    if loop is not None and loop[1] > loop[0]:
        return step_floor(loop[0], song.ppq), step_ceil(loop[1], song.ppq)
    notes = [song.tracks[t].notes[i] for t, i in selection
             if 0 <= t < len(song.tracks) and 0 <= i < len(song.tracks[t].notes)]
    if not notes:
        raise SeedError(NO_RANGE)
    return step_floor(min(n.start for n in notes), song.ppq), step_ceil(max(n.end for n in notes), song.ppq)


def inside(notes: Iterable[Note], start: int, end: int) -> tuple[Note, ...]:
    """The notes that start in ``[start, end)`` (what a candidate replaces)."""
    return tuple(n for n in notes if start <= n.start < end)


def infill_seed(song: Song, track: int, start: int, end: int) -> Seed:
    """The seed of an infill of ``track`` over ``[start, end)``: the notes starting outside it.

    ``region`` is the range itself. Raises SeedError (one line) when one side has no notes.
    """
    if not 0 <= track < len(song.tracks):
        raise SeedError("no track to infill")
    if end <= start:
        raise SeedError(NO_RANGE)
    notes = song.tracks[track].notes
    context = tuple(n for n in notes if not start <= n.start < end)
    if not any(n.start < start for n in context):
        raise SeedError("no notes before the range: use Continue or Sample instead")
    if not any(n.start >= end for n in context):
        raise SeedError("no notes after the range: use Continue instead")
    return Seed(track, context, start, (start, end))


def follow_infill(seed: Seed, after: Sequence[Note]) -> Seed | None:
    """The seed after the track became ``after``: None when the context did not change (an edit
    inside the range only changes what is replaced)."""
    start, end = seed.region
    context = tuple(n for n in after if not start <= n.start < end)
    if context == seed.notes:
        return None
    return Seed(seed.track, context, start, seed.region, seed.target)


def replace_range(song: Song, track: int, start: int, end: int, notes: Iterable[Note]):
    """Edit: the notes of ``track`` that start in ``[start, end)`` replaced by ``notes``."""
    refs = [(track, i) for i, n in enumerate(song.tracks[track].notes) if start <= n.start < end]
    if refs:
        song = edits.remove_notes(song, refs)
    return edits.add_notes(song, track, tuple(notes))


def gap_end(song: Song, track: int, start: int, length: int) -> int | None:
    """Where the first note of ``track`` starting in ``[start, start + length)`` begins (a
    Continue there would run into it), None when no note follows that soon."""
    if not 0 <= track < len(song.tracks):
        return None
    later = [n.start for n in song.tracks[track].notes if start < n.start < start + length]
    return min(later) if later else None
