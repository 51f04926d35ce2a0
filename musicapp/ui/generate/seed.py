"""Which notes a generation reads (the seed) and how that seed follows the user's edits.

Owns the pure, Qt-free rules of the Generate panel: picking the seed (a selection of two or
more notes, or else the last ``SEED_BARS`` bars of the active track's phrase before the anchor:
the edit cursor, the end of a lone selected / just-drawn note, or -- when that would put
candidates over existing notes -- the end of the track's last note; an empty track takes its
seed from another track), describing it ("Seed: bars 1-4 of Lead (30 notes)"), splitting a
selection into two phrases for interpolation, following a seed through an edit (live re-seed: a diff of the track's notes
before and after, so moving, adding or deleting a seed note changes the seed and nothing
else does), and placing generated notes. All positions are in ticks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from musicapp.core.song import Note, Song

#: whole bars (ending with the anchor's bar) that a seed without a selection reads.
SEED_BARS = 4


class SeedError(ValueError):
    """The selection or cursor gives no usable seed (message is shown in the panel)."""


@dataclass(frozen=True)
class Seed:
    """The notes a request reads: ``notes`` (sorted, ticks) from track ``track``.

    ``start`` is where the continuation begins (ticks); ``region`` is the tick range
    ``(lo, hi)`` in which added notes join the seed on a live re-seed (from the seed's first
    bar to one bar past its end, so drawing just after the phrase extends it). ``target`` is
    the track the candidates go into when it is not ``track`` (a seed read from another
    track); see ``dest``.
    """

    track: int
    notes: tuple[Note, ...]
    start: int
    region: tuple[int, int]
    target: int | None = None

    @property
    def dest(self) -> int:
        """Track the candidates go into (accept, ghost notes, channel)."""
        return self.track if self.target is None else self.target

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


def pick_seed(song: Song, active_track: int, selection: Iterable[tuple[int, int]], cursor: int,
              source: int | None = None) -> Seed:
    """The seed for Continue; candidates go into ``active_track``.

    Two or more selected notes are the seed (those of the track holding most of them). Else
    the seed is the last ``SEED_BARS`` bars of the source track before the anchor (see
    ``anchor_tick``; a lone selected note -- e.g. the one just drawn -- anchors at its end).
    The source is ``source`` if given, else the active track, or -- when the active track is
    empty -- the track with the most notes ("Seed from").
    """
    if not song.tracks:
        raise SeedError("the song has no tracks")
    sel = list(selection)
    if len(sel) > 1:
        counts = Counter(t for t, _ in sel)
        track = max(counts, key=lambda t: (counts[t], t == active_track))
        notes = [song.tracks[track].notes[i] for t, i in sel if t == track]
        return seed_from_notes(song, track, notes)
    active = min(max(active_track, 0), len(song.tracks) - 1)
    track = seed_source(song, active) if source is None else source
    if not 0 <= track < len(song.tracks):
        raise SeedError(f"no track {track + 1} to read the seed from")
    if sel:
        t, i = sel[0]
        cursor = song.tracks[t].notes[i].end
    anchor = anchor_tick(song.tracks[track].notes, cursor)
    lo = max(0, bar_floor(song, max(0, anchor - 1)) - (SEED_BARS - 1) * song.meter_at(anchor).bar_ticks(song.ppq))
    notes = [n for n in song.tracks[track].notes if lo <= n.start < anchor]
    seed = seed_from_notes(song, track, notes, anchor)
    return seed if track == active else replace(seed, target=active)


def anchor_tick(notes: Sequence[Note], cursor: int) -> int:
    """Where the seed ends: ``cursor`` when no note of ``notes`` starts at or after it (the user
    placed it after the phrase), else the end of the last note, so candidates never land on
    existing notes (ticks)."""
    if not notes or cursor > max(n.start for n in notes):
        return max(0, cursor)
    return max(n.end for n in notes)


def seed_source(song: Song, active: int) -> int:
    """The track a seed is read from when none is chosen: the active one, or when it has no
    notes, the track with the most notes (the active one if all are empty)."""
    if song.tracks[active].notes:
        return active
    best = max(range(len(song.tracks)), key=lambda i: (len(song.tracks[i].notes), -i))
    return best if song.tracks[best].notes else active


def bar_span(song: Song, notes: Sequence[Note]) -> tuple[int, int]:
    """First and last bar (1-based) that ``notes`` sound in."""
    first = song.tick_to_bar_beat(min(n.start for n in notes))[0] + 1
    last = song.tick_to_bar_beat(max(max(n.end for n in notes) - 1, 0))[0] + 1
    return first, max(first, last)


def bars_text(song: Song, notes: Sequence[Note]) -> str:
    """``"bars 1-4"`` or ``"bar 3"``."""
    a, b = bar_span(song, notes)
    return f"bar {a}" if a == b else f"bars {a}-{b}"


def describe_seed(song: Song, seed: Seed) -> str:
    """What the panel says about a seed: ``"Seed: bars 1-4 of Lead (30 notes)"``."""
    def name(t: int) -> str:
        return (song.tracks[t].name if 0 <= t < len(song.tracks) else "") or f"Track {t + 1}"

    if not seed.notes:
        bar = song.tick_to_bar_beat(seed.start)[0] + 1
        return f"Seed: none (starts bar {bar} of {name(seed.dest)} unseeded)"
    n = len(seed.notes)
    count = f"({n} note{'s' * (n != 1)})"
    if seed.dest != seed.track:
        return f"Seed from: {name(seed.track)}, {bars_text(song, seed.notes)} {count}, into {name(seed.dest)}"
    return f"Seed: {bars_text(song, seed.notes)} of {name(seed.track)} {count}"


def selected_phrase(song: Song, selection: Iterable[tuple[int, int]], active_track: int) -> Seed:
    """The selection as one phrase to vary (refuses an empty selection)."""
    sel = list(selection)
    if not sel:
        raise SeedError("select the notes to vary")
    counts = Counter(t for t, _ in sel)
    track = max(counts, key=lambda t: (counts[t], t == active_track))
    return seed_from_notes(song, track, [song.tracks[track].notes[i] for t, i in sel if t == track])


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
        return replace(seed, notes=())
    start = step_ceil(max(n.end for n in notes), ppq)
    return replace(seed, notes=notes, start=start, region=(min(lo, notes[0].start), max(hi, start + bar_ticks)))


def follow_drag(seed: Seed, notes: Sequence[Note], song: Song, preview) -> Seed | None:
    """The seed while a tool drags or resizes notes (``preview``: moved refs and their dt / dp /
    dlen, not yet an edit) of the seed track, whose notes were ``notes``; None when the drag
    does not touch the seed or the track changed meanwhile."""
    moved = [i for t, i in preview.moved if t == seed.track] if preview.moved else []
    if not moved or not (preview.dt or preview.dp or preview.dlen) or song.tracks[seed.track].notes != notes:
        return None
    after = list(notes)
    for i in moved:
        if i < len(after):
            start, pitch, length = preview.apply(after[i])
            after[i] = replace(after[i], start=max(0, start), pitch=min(127, max(0, pitch)), length=length)
    return follow_edit(seed, notes, tuple(sorted(after)), song.ppq, song.meter_at(seed.start).bar_ticks(song.ppq))


def overlapping(notes: Iterable[Note], existing: Iterable[Note], ignore: Iterable[Note] = ()) -> int:
    """How many of ``notes`` sound at the same pitch and time as one of ``existing`` (leaving
    out the ``ignore`` notes, e.g. the phrase a variation replaces)."""
    skip = Counter(ignore)
    by_pitch: dict[int, list[Note]] = {}
    for n in existing:
        if skip[n] > 0:
            skip[n] -= 1
            continue
        by_pitch.setdefault(n.pitch, []).append(n)
    return sum(1 for n in notes if any(m.start < n.end and n.start < m.end for m in by_pitch.get(n.pitch, ())))


def fit_candidate(notes: Iterable[Note], channel: int, velocity: int, offset: int = 0) -> tuple[Note, ...]:
    """Generated notes on the track's ``channel`` with ``velocity``, shifted ``offset`` ticks."""
    return tuple(sorted(Note(n.start + offset, n.pitch, max(1, n.length), velocity, channel)
                        for n in notes if n.start + offset >= 0))


def seed_velocity(notes: Sequence[Note], default: int = 96) -> int:
    """Mean velocity of the seed (generated notes get it), ``default`` without notes."""
    return round(sum(n.velocity for n in notes) / len(notes)) if notes else default
