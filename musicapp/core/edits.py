"""Pure editing functions on the immutable Song: every change the editor makes goes through here.

Each function takes a Song and returns a new one (notes are never mutated). Note edits address
notes by ``NoteRef = (track index, note index in track.notes)`` rather than by value, because
two identical notes compare equal (Note is a frozen dataclass) and must still be selectable one
at a time. Note edits return an ``EditResult`` holding the new Song and the refs the edited notes
have *in the new Song* (tracks keep their notes sorted, so indices move), so the editor can keep
them selected. Positions and lengths are in ticks, pitches in MIDI note numbers.

Bad input (unknown track, out-of-range value) raises ``EditError`` with a one-line message.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable, Mapping

from musicapp.core.errors import MusicappError
from musicapp.core.quantize import quantize
from musicapp.core.scales import snap_to_scale
from musicapp.core.song import Control, Key, Note, Song, SongError, TempoChange, TimeSignature, Track

NoteRef = tuple[int, int]


class EditError(MusicappError, ValueError):
    """An edit was asked with invalid arguments."""


@dataclass(frozen=True, slots=True)
class EditResult:
    """A new Song plus the refs (in that Song) of the notes the edit produced or changed."""

    song: Song
    selection: frozenset[NoteRef] = frozenset()


def _note_key(n: Note) -> tuple[int, int, int, int, int]:
    return (n.start, n.pitch, n.length, n.velocity, n.channel)


def _check_track(song: Song, track: int) -> None:
    if not isinstance(track, int) or not 0 <= track < len(song.tracks):
        raise EditError(f"no track {track} (song has {len(song.tracks)})")


def _group_refs(song: Song, refs: Iterable[NoteRef]) -> dict[int, set[int]]:
    """``{track: {note indices}}`` after checking every ref exists."""
    groups: dict[int, set[int]] = {}
    for ti, ni in refs:
        _check_track(song, ti)
        if not 0 <= ni < len(song.tracks[ti].notes):
            raise EditError(f"no note {ni} in track {ti}")
        groups.setdefault(ti, set()).add(ni)
    return groups


def notes_at(song: Song, refs: Iterable[NoteRef]) -> list[Note]:
    """The notes the refs point at, in (track, index) order."""
    groups = _group_refs(song, refs)
    return [song.tracks[t].notes[i] for t in sorted(groups) for i in sorted(groups[t])]


def _rebuild(song: Song, changes: Mapping[int, tuple[set[int], list[Note]]]) -> EditResult:
    """Apply ``{track: (indices to drop, notes to add)}``; the added notes become the selection."""
    tracks = list(song.tracks)
    selection: set[NoteRef] = set()
    for ti, (drop, add) in changes.items():
        kept = [(n, False) for i, n in enumerate(tracks[ti].notes) if i not in drop]
        channel = tracks[ti].channel
        added = [(n if n.channel == channel else replace(n, channel=channel), True) for n in add]
        merged = sorted(kept + added, key=lambda p: _note_key(p[0]))  # stable: kept before added
        tracks[ti] = replace(tracks[ti], notes=tuple(n for n, _ in merged))
        selection.update((ti, i) for i, (_, new) in enumerate(merged) if new)
    return EditResult(song.replace(tracks=tuple(tracks)), frozenset(selection))


def _map_notes(song: Song, refs: Iterable[NoteRef], fn: Callable[[Note], Note]) -> EditResult:
    groups = _group_refs(song, refs)
    changes = {
        ti: (idx, [fn(song.tracks[ti].notes[i]) for i in sorted(idx)]) for ti, idx in groups.items()
    }
    return _rebuild(song, changes)


# ----- notes ----------------------------------------------------------------------------------
def add_notes(song: Song, track: int, notes: Iterable[Note]) -> EditResult:
    """Add ``notes`` to ``track`` (their channel becomes the track's); they become the selection."""
    _check_track(song, track)
    return _rebuild(song, {track: (set(), list(notes))})


def remove_notes(song: Song, refs: Iterable[NoteRef]) -> Song:
    """Delete the referenced notes."""
    groups = _group_refs(song, refs)
    return _rebuild(song, {ti: (idx, []) for ti, idx in groups.items()}).song


def clamp_move(notes: Iterable[Note], dt: int, dp: int) -> tuple[int, int]:
    """Largest (dt ticks, dp semitones) toward the asked one that keeps every note in range."""
    notes = list(notes)
    if not notes:
        return 0, 0
    min_start = min(n.start for n in notes)
    lo_p, hi_p = min(n.pitch for n in notes), max(n.pitch for n in notes)
    dt = max(dt, -min_start)
    dp = max(min(dp, 127 - hi_p), -lo_p)
    return dt, dp


def move_notes(song: Song, refs: Iterable[NoteRef], dt: int, dp: int) -> EditResult:
    """Shift notes by ``dt`` ticks and ``dp`` semitones, clamped so the group keeps its shape."""
    refs = list(refs)
    dt, dp = clamp_move(notes_at(song, refs), int(dt), int(dp))
    return _map_notes(song, refs, lambda n: n.moved(dt, dp))


def move_notes_in_scale(song: Song, refs: Iterable[NoteRef], dt: int, dp: int, key: Key) -> EditResult:
    """``move_notes``, each moved pitch then put on ``key``'s scale (the nearest scale tone,
    ties in the direction of ``dp``): dragging with snap to scale."""
    refs = list(refs)
    dt, dp = clamp_move(notes_at(song, refs), int(dt), int(dp))
    prefer = "up" if dp > 0 else "down"
    return _map_notes(song, refs, lambda n: replace(n.moved(dt, dp), pitch=snap_to_scale(n.pitch + dp, key, prefer)))


def transpose_notes(song: Song, refs: Iterable[NoteRef], semitones: int) -> EditResult:
    """Move notes by ``semitones`` in pitch (clamped to 0..127 as a group)."""
    return move_notes(song, refs, 0, semitones)


def resize_notes(song: Song, refs: Iterable[NoteRef], dlen: int, min_length: int = 1) -> EditResult:
    """Change each note's length by ``dlen`` ticks, never below ``min_length`` ticks."""
    if min_length < 1:
        raise EditError("minimum note length must be at least 1 tick")
    return _map_notes(song, refs, lambda n: replace(n, length=max(min_length, n.length + int(dlen))))


def set_lengths(song: Song, lengths: Mapping[NoteRef, int]) -> EditResult:
    """Set each referenced note's length in ticks (>= 1)."""
    if any(v < 1 for v in lengths.values()):
        raise EditError("note length must be at least 1 tick")
    return _map_by_ref(song, lengths, lambda n, v: replace(n, length=int(v)))


def set_velocity(song: Song, refs: Iterable[NoteRef], velocity: int) -> EditResult:
    """Give every referenced note the same velocity (1..127)."""
    refs = list(refs)
    return set_velocities(song, {r: velocity for r in refs})


def set_velocities(song: Song, velocities: Mapping[NoteRef, int]) -> EditResult:
    """Set each referenced note's velocity (1..127)."""
    if any(not 1 <= int(v) <= 127 for v in velocities.values()):
        raise EditError("velocity must be within 1..127")
    return _map_by_ref(song, velocities, lambda n, v: replace(n, velocity=int(v)))


def _map_by_ref(song: Song, values: Mapping[NoteRef, int], fn: Callable[[Note, int], Note]) -> EditResult:
    groups = _group_refs(song, values)
    changes = {
        ti: (idx, [fn(song.tracks[ti].notes[i], values[(ti, i)]) for i in sorted(idx)])
        for ti, idx in groups.items()
    }
    return _rebuild(song, changes)


def paste_notes(song: Song, track: int, notes: Iterable[Note], at_tick: int) -> EditResult:
    """Insert clipboard ``notes`` into ``track`` so the earliest starts at ``at_tick``."""
    notes = list(notes)
    if at_tick < 0:
        raise EditError("cannot paste before the song start")
    if not notes:
        return EditResult(song)
    first = min(n.start for n in notes)
    return add_notes(song, track, [n.moved(at_tick - first, 0) for n in notes])


def duplicate_notes(song: Song, refs: Iterable[NoteRef], offset: int | None = None) -> EditResult:
    """Copy the notes ``offset`` ticks later (default: the selection's span) in their tracks."""
    groups = _group_refs(song, refs)
    notes = [song.tracks[t].notes[i] for t in groups for i in groups[t]]
    if not notes:
        return EditResult(song)
    if offset is None:
        offset = max(n.end for n in notes) - min(n.start for n in notes)
    if offset < 0:
        raise EditError("duplicate offset must not be negative")
    changes = {ti: (set(), [song.tracks[ti].notes[i].moved(offset, 0) for i in idx]) for ti, idx in groups.items()}
    return _rebuild(song, changes)


def snap_notes(song: Song, refs: Iterable[NoteRef], snap: Callable[[int], int], ends: bool = False,
               min_length: int = 1) -> EditResult:
    """Move note starts (and ends when ``ends``) to ``snap(tick)``, any grid's nearest line in
    ticks (a swung grid's too); an end that would fall at or before its start is put
    ``min_length`` ticks after it."""
    def fit(n: Note) -> Note:
        start = max(0, snap(n.start))
        if not ends:
            return replace(n, start=start)
        end = snap(n.end)
        return replace(n, start=start, length=end - start if end > start else max(1, min_length))
    return _map_notes(song, list(refs), fit)


def quantize_notes(
    song: Song, refs: Iterable[NoteRef], grid: int, strength: float = 1.0, ends: bool = False
) -> EditResult:
    """Pull note starts (and ends when ``ends``) toward a grid of ``grid`` ticks by ``strength`` 0..1.

    Wraps ``core.quantize.quantize`` for the referenced notes.
    """
    if not isinstance(grid, int) or grid < 1:
        raise EditError("quantize grid must be at least 1 tick")
    if not 0.0 <= strength <= 1.0:
        raise EditError("quantize strength must be within 0..1")
    groups = _group_refs(song, refs)
    changes = {}
    for ti, idx in groups.items():
        order = sorted(idx)
        moved = quantize([song.tracks[ti].notes[i] for i in order], grid, strength=strength, ends=ends)
        changes[ti] = (idx, [replace(n, start=max(0, n.start)) for n in moved])
    return _rebuild(song, changes)


# ----- tracks ---------------------------------------------------------------------------------
def add_track(song: Song, name: str = "Track", channel: int = 0, program: int = 0, at: int | None = None) -> Song:
    """Insert an empty track at ``at`` (default: the end)."""
    tracks = list(song.tracks)
    at = len(tracks) if at is None else at
    if not 0 <= at <= len(tracks):
        raise EditError(f"cannot insert a track at {at}")
    tracks.insert(at, Track(name=name, channel=channel, program=program))
    return song.replace(tracks=tuple(tracks))


def insert_track(song: Song, track: Track, at: int) -> Song:
    """Insert an existing ``track`` at index ``at`` (used to undo removals and imports)."""
    if not 0 <= at <= len(song.tracks):
        raise EditError(f"cannot insert a track at {at}")
    tracks = list(song.tracks)
    tracks.insert(at, track)
    return song.replace(tracks=tuple(tracks))


def remove_track(song: Song, track: int) -> Song:
    """Delete track ``track`` with its notes."""
    _check_track(song, track)
    return song.replace(tracks=song.tracks[:track] + song.tracks[track + 1 :])


def _set_track(song: Song, track: int, **changes) -> Song:
    _check_track(song, track)
    return song.with_track(track, replace(song.tracks[track], **changes))


def rename_track(song: Song, track: int, name: str) -> Song:
    name = name.strip()
    if not name:
        raise EditError("a track name cannot be empty")
    return _set_track(song, track, name=name)


def set_track_channel(song: Song, track: int, channel: int) -> Song:
    """Set the track's MIDI channel 0-15; its notes follow."""
    if not 0 <= channel <= 15:
        raise EditError(f"channel {channel} outside 0..15")
    _check_track(song, track)
    notes = tuple(replace(n, channel=channel) for n in song.tracks[track].notes)
    return _set_track(song, track, channel=channel, notes=notes)


def set_track_program(song: Song, track: int, program: int) -> Song:
    if not 0 <= program <= 127:
        raise EditError(f"program {program} outside 0..127")
    return _set_track(song, track, program=program)


def set_track_mute(song: Song, track: int, mute: bool) -> Song:
    return _set_track(song, track, mute=bool(mute))


def set_track_solo(song: Song, track: int, solo: bool) -> Song:
    return _set_track(song, track, solo=bool(solo))


# ----- song-wide ------------------------------------------------------------------------------
def add_take(song: Song, track: int, notes: Iterable[Note], controls: Iterable[Control] = ()) -> EditResult:
    """A recorded take into track ``track``: its notes (moved to the track's channel, selected
    afterwards) and its controls (pedal, bend, ...) added to what the track holds."""
    result = add_notes(song, track, notes)
    extra = tuple(controls)
    if not extra:
        return result
    t = result.song.tracks[track]
    return EditResult(_set_track(result.song, track, controls=t.controls + extra), result.selection)


def set_controls(song: Song, track: int, kind: str, number: int, start: int, end: int,
                 points: Iterable[tuple[int, int]] = ()) -> Song:
    """Replace track ``track``'s ``kind``/``number`` controls with ticks in ``[start, end]``
    by ``points`` (tick, value); other controls stay as they are. No points: erase the span."""
    _check_track(song, track)
    if end < start:
        start, end = end, start
    try:
        new = [Control(t, kind, number, v) for t, v in points]
    except SongError as err:
        raise EditError(str(err)) from None
    if any(not start <= c.tick <= end for c in new):
        raise EditError(f"control points must lie in ticks {start}..{end}")
    t = song.tracks[track]
    kept = [c for c in t.controls if not (c.kind == kind and c.number == number and start <= c.tick <= end)]
    return _set_track(song, track, controls=tuple(kept + new))  # Track sorts by tick, stably


def set_tempo(song: Song, bpm: float, tick: int = 0) -> Song:
    """Set the tempo (BPM) from ``tick`` on; at tick 0 this replaces the whole tempo map."""
    if not 10 <= bpm <= 999:
        raise EditError(f"tempo {bpm:g} BPM outside 10..999")
    change = TempoChange.from_bpm(tick, bpm)
    tempos = (change,) if tick == 0 else tuple(t for t in song.tempos if t.tick != tick) + (change,)
    return song.replace(tempos=tempos)


def set_meter(song: Song, numerator: int, denominator: int, tick: int = 0) -> Song:
    """Set the time signature from ``tick`` on; at tick 0 this replaces the whole meter map."""
    try:
        meter = TimeSignature(tick, numerator, denominator)
    except MusicappError as err:
        raise EditError(str(err)) from None
    meters = (meter,) if tick == 0 else tuple(m for m in song.meters if m.tick != tick) + (meter,)
    return song.replace(meters=meters)


def set_key(song: Song, key: Key | None) -> Song:
    """Set (or clear, with None) the song key."""
    return song.replace(key=key)


def extract_song(song: Song, refs: Iterable[NoteRef], from_bar: bool = True) -> Song:
    """A Song holding only the referenced notes (tracks without any are dropped).

    With ``from_bar`` the notes are shifted so the bar holding the earliest one starts at
    tick 0 (what a DAW expects from a dragged clip). Tempo, meter and key are kept.
    """
    groups = _group_refs(song, refs)
    if not groups:
        raise EditError("nothing selected to export")
    first = min(song.tracks[t].notes[i].start for t in groups for i in groups[t])
    shift = 0
    if from_bar:
        bar, _, _ = song.tick_to_bar_beat(first)
        shift = song.bar_beat_to_tick(bar)
    tracks = tuple(
        replace(song.tracks[t], notes=tuple(song.tracks[t].notes[i].moved(-shift, 0) for i in sorted(idx)),
                mute=False, solo=False)
        for t, idx in sorted(groups.items())
    )
    return song.replace(tracks=tracks)


def merge_tracks(song: Song, tracks: Iterable[Track], adopt_timing_from: Song | None = None) -> Song:
    """Append ``tracks``; with ``adopt_timing_from`` also take that song's tempo, meter and key,
    and its chord track and conductor-track extras (markers, copyright, text) where it has them.

    Used by MIDI import: into an empty song the file's timing and chords come along (chords the
    user typed into the empty song stay when the file has none), into a song with notes only its
    tracks are added.
    """
    out = song.replace(tracks=song.tracks + tuple(tracks))
    if adopt_timing_from is not None:
        src = adopt_timing_from
        out = out.replace(tempos=src.tempos, meters=src.meters, key=src.key,
                          chords=src.chords or out.chords, extras=src.extras or out.extras)
    return out
