"""Pure edits of a song's chord track: add, move, resize, rename, transpose and remove chords.

Each function takes a Song and returns a new one; the editor wraps each call in one undo
command. Chords are addressed by their index in ``song.chords`` (sorted by start). The chord
track never overlaps, so a chord placed over others takes their place: chords it covers
completely go, chords it covers in part are cut back (a chord it lands inside keeps its part
before and its part after). Positions and lengths are in ticks.

Bad input (no such chord, a negative start, a name that does not parse) raises ``EditError``
with a one-line message and changes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from musicapp.core.chords import Chord, parse_chord_name
from musicapp.core.edits import EditError
from musicapp.core.errors import MusicappError
from musicapp.core.song import Song


def _check_index(song: Song, index: int) -> Chord:
    if not isinstance(index, int) or not 0 <= index < len(song.chords):
        raise EditError(f"no chord {index} (the chord track has {len(song.chords)})")
    return song.chords[index]


def _clear(chords: Iterable[Chord], start: int, end: int) -> list[Chord]:
    """``chords`` with the span ``start``..``end`` (ticks) cut out of them."""
    out: list[Chord] = []
    for c in chords:
        if c.end <= start or c.start >= end:
            out.append(c)
            continue
        if c.start < start:
            out.append(c.moved(length=start - c.start))
        if c.end > end:
            out.append(c.moved(start=end, length=c.end - end))
    return out


def _placed(chords: Iterable[Chord], new: Iterable[Chord]) -> tuple[Chord, ...]:
    kept = list(chords)
    for c in new:
        kept = _clear(kept, c.start, c.end) + [c]
    return tuple(sorted(kept, key=lambda c: c.start))


def index_of(song: Song, chord: Chord) -> int:
    """Index in ``song.chords`` of the chord equal to ``chord`` (``EditError`` if none)."""
    try:
        return song.chords.index(chord)
    except ValueError:
        raise EditError(f"no chord {chord.name} at tick {chord.start}") from None


def add_chord(song: Song, chord: Chord) -> Song:
    """Place ``chord`` on the chord track, cutting back whatever it covers."""
    if not isinstance(chord, Chord):
        raise EditError(f"cannot add {type(chord).__name__} as a chord")
    return song.replace(chords=_placed(song.chords, [chord]))


def add_chord_named(song: Song, name: str, start: int, length: int) -> Song:
    """Place the chord called ``name`` at ``start`` for ``length`` ticks (``EditError`` for a
    name that does not parse or a bad span)."""
    try:
        chord = Chord.parse(name, start, length)
    except MusicappError as err:
        raise EditError(str(err)) from None
    return add_chord(song, chord)


def replace_chords(song: Song, start: int, end: int, chords: Iterable[Chord]) -> Song:
    """Clear ``start``..``end`` (ticks) of the chord track, then place ``chords`` (e.g. an
    accepted harmonisation). Chords reaching past ``end`` keep their length."""
    if start < 0 or end < start:
        raise EditError(f"bad chord span {start}..{end}")
    new = list(chords)
    if any(not isinstance(c, Chord) for c in new):
        raise EditError("replace_chords takes Chord values")
    return song.replace(chords=_placed(_clear(song.chords, start, end), new))


def remove_chords(song: Song, indices: Iterable[int]) -> Song:
    """Remove the chords at ``indices``."""
    drop = set(indices)
    for i in drop:
        _check_index(song, i)
    return song.replace(chords=tuple(c for i, c in enumerate(song.chords) if i not in drop))


def move_chord(song: Song, index: int, start: int) -> Song:
    """Move chord ``index`` to ``start`` (ticks, clamped at 0), keeping its length; it takes
    the place of what it lands on."""
    chord = _check_index(song, index)
    rest = song.chords[:index] + song.chords[index + 1:]
    return song.replace(chords=_placed(rest, [chord.moved(start=max(0, int(start)))]))


def resize_chord(song: Song, index: int, length: int, min_length: int = 1) -> Song:
    """Give chord ``index`` a new ``length`` (ticks, at least ``min_length``); growing over
    the next chords cuts them back."""
    chord = _check_index(song, index)
    rest = song.chords[:index] + song.chords[index + 1:]
    return song.replace(chords=_placed(rest, [chord.moved(length=max(min_length, 1, int(length)))]))


def rename_chord(song: Song, index: int, name: str) -> Song:
    """Give chord ``index`` the symbol ``name`` (same place and length)."""
    chord = _check_index(song, index)
    try:
        root, quality, bass = parse_chord_name(name)
    except MusicappError as err:
        raise EditError(str(err)) from None
    chords = list(song.chords)
    chords[index] = replace(chord, root=root, quality=quality, bass=bass)
    return song.replace(chords=tuple(chords))


def transpose_chords(song: Song, indices: Iterable[int] | None, semitones: int) -> Song:
    """Transpose the chords at ``indices`` (all when None) by ``semitones``."""
    pick = set(range(len(song.chords))) if indices is None else set(indices)
    for i in pick:
        _check_index(song, i)
    return song.replace(chords=tuple(c.transposed(semitones) if i in pick else c
                                     for i, c in enumerate(song.chords)))


def chord_index_at(song: Song, tick: int) -> int | None:
    """Index of the chord sounding at ``tick``, or None."""
    for i, c in enumerate(song.chords):
        if c.start <= tick < c.end:
            return i
        if c.start > tick:
            break
    return None
