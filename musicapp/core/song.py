"""The song model: notes, tracks, tempo map, meter and key, all in ticks.

Owns the one data type every layer shares. Everything here is immutable (frozen
dataclasses, tuples), so a Song is its own snapshot: the engine can play it and the ML
worker can read it while the editor builds the next one. Edits live in ``core.edits``
and return new Songs.

Units: positions and lengths are in ticks at ``PPQ`` ticks per quarter note; tempo is
stored exactly as MIDI does, in microseconds per quarter note; seconds appear only in
the tempo-map conversion helpers.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable

from musicapp.core.errors import MusicappError
from musicapp.core.kept_events import KeptEvent

if TYPE_CHECKING:
    from musicapp.core.chords import Chord

#: ticks per quarter note for every Song (imported files are rescaled to it).
PPQ = 480
DEFAULT_US_PER_BEAT = 500_000  # 120 BPM
DRUM_CHANNEL = 9  # MIDI channel 10, zero-based
#: largest ticks-per-quarter a Song may have (a Standard MIDI File's division is 15 bits).
MAX_PPQ = 0x7FFF


class SongError(MusicappError, ValueError):
    """An invalid value was given to the song model."""


@dataclass(frozen=True, slots=True, order=True)
class Note:
    """One note. ``start`` and ``length`` in ticks; ``channel`` 0-15 (9 = drums)."""

    start: int
    pitch: int
    length: int
    velocity: int = 100
    channel: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.pitch <= 127:
            raise SongError(f"pitch {self.pitch} outside 0..127")
        if self.start < 0:
            raise SongError(f"note start {self.start} is negative")
        if self.length < 0:
            raise SongError(f"note length {self.length} is negative")
        if not 1 <= self.velocity <= 127:
            raise SongError(f"velocity {self.velocity} outside 1..127")
        if not 0 <= self.channel <= 15:
            raise SongError(f"channel {self.channel} outside 0..15")

    @property
    def end(self) -> int:
        """Tick just after the note (start + length)."""
        return self.start + self.length

    def moved(self, dt: int = 0, dp: int = 0) -> "Note":
        """Copy shifted by ``dt`` ticks and ``dp`` semitones."""
        return replace(self, start=self.start + dt, pitch=self.pitch + dp)


#: Channel messages a track keeps besides its notes, by mido's names, with their status nibble.
CONTROL_KINDS: dict[str, int] = {"control_change": 0xB0, "pitchwheel": 0xE0, "program_change": 0xC0,
                                 "aftertouch": 0xD0, "polytouch": 0xA0}
_KIND_OF_STATUS = {status: kind for kind, status in CONTROL_KINDS.items()}
_CONTROL_RANGES = {"control_change": ((0, 127), (0, 127)), "pitchwheel": ((0, 0), (-8192, 8191)),
                   "program_change": ((0, 0), (0, 127)), "aftertouch": ((0, 0), (0, 127)),
                   "polytouch": ((0, 127), (0, 127))}


@dataclass(frozen=True, slots=True)
class Control:
    """A channel message other than a note, played on its track's channel at ``tick``.

    ``kind`` is a key of ``CONTROL_KINDS``. ``number`` is the controller number
    (control_change) or the key (polytouch), 0 otherwise. ``value`` is 0..127, except for
    pitchwheel: -8192..8191 with 0 = centre. Program changes here are the ones after a
    track's start (its first program is ``Track.program``).
    """

    tick: int
    kind: str
    number: int = 0
    value: int = 0

    def __post_init__(self) -> None:
        if self.tick < 0:
            raise SongError(f"control tick {self.tick} is negative")
        ranges = _CONTROL_RANGES.get(self.kind)
        if ranges is None:
            raise SongError(f"unknown control kind {self.kind!r}")
        (nlo, nhi), (vlo, vhi) = ranges
        if not nlo <= self.number <= nhi:
            raise SongError(f"{self.kind} number {self.number} outside {nlo}..{nhi}")
        if not vlo <= self.value <= vhi:
            raise SongError(f"{self.kind} value {self.value} outside {vlo}..{vhi}")

    def message(self, channel: int) -> tuple[int, ...]:
        """The MIDI bytes of this control on ``channel`` (0-15)."""
        status = CONTROL_KINDS[self.kind] | channel
        if self.kind == "pitchwheel":
            v = self.value + 8192
            return (status, v & 0x7F, v >> 7)
        if self.kind in ("program_change", "aftertouch"):
            return (status, self.value)
        return (status, self.number, self.value)

    @classmethod
    def from_message(cls, tick: int, msg: tuple[int, ...]) -> "Control | None":
        """The Control for channel-message bytes ``msg`` at ``tick`` (the inverse of
        ``message``); None for a note or a malformed message."""
        kind = _KIND_OF_STATUS.get(msg[0] & 0xF0) if msg and msg[0] < 0xF0 else None
        try:
            if kind == "pitchwheel":
                return cls(tick, kind, 0, (msg[1] | msg[2] << 7) - 8192)
            if kind in ("program_change", "aftertouch"):
                return cls(tick, kind, 0, msg[1])
            if kind is not None:
                return cls(tick, kind, msg[1], msg[2])
        except (IndexError, SongError):
            pass
        return None

    @property
    def state_key(self) -> tuple[str, int]:
        """What this control sets (a later control with the same key overrides it)."""
        return (self.kind, self.number)


def _notes_sorted(notes: tuple[Note, ...]) -> bool:
    """True when ``notes`` are in Note order; compares whole notes only where starts tie (an
    edit re-checks every note of the track it changes, so this runs per edit)."""
    for a, b in zip(notes, notes[1:]):
        if a.start < b.start:
            continue
        if a.start > b.start or a > b:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Track:
    """A named part: notes sorted by (start, pitch), channel 0-15, GM program 0-127.

    ``controls`` are its other channel messages (controllers, pitch bend, later program
    changes, aftertouch) sorted by tick; messages sharing a tick keep their order (an RPN
    or bank-select sequence means something only in order).
    """

    name: str = "Track"
    channel: int = 0
    program: int = 0
    notes: tuple[Note, ...] = ()
    mute: bool = False
    solo: bool = False
    controls: tuple[Control, ...] = ()
    #: events of its .mid track the song does not edit (lyrics, text, sysex...), by tick
    extras: tuple[KeptEvent, ...] = ()
    _end: int = field(default=-1, init=False, repr=False, compare=False)  # cache of ``end``

    def __post_init__(self) -> None:
        if not 0 <= self.channel <= 15:
            raise SongError(f"track channel {self.channel} outside 0..15")
        if not 0 <= self.program <= 127:
            raise SongError(f"program {self.program} outside 0..127")
        notes = tuple(self.notes)
        if not _notes_sorted(notes):
            notes = tuple(sorted(notes))
        object.__setattr__(self, "notes", notes)
        object.__setattr__(self, "controls", _by_tick(self.controls))  # same-tick order kept
        object.__setattr__(self, "extras", _by_tick(self.extras))

    @property
    def is_drums(self) -> bool:
        return self.channel == DRUM_CHANNEL

    def with_notes(self, notes: Iterable[Note]) -> "Track":
        """Copy with ``notes`` (sorted on the way in)."""
        return replace(self, notes=tuple(sorted(notes)))

    @property
    def end(self) -> int:
        """Tick after the last note ends (0 when empty). Computed once per Track: an edit
        rebuilds only the tracks it changes, so ``Song.end`` stays cheap on big songs."""
        end = self._end
        if end < 0:
            end = max((n.end for n in self.notes), default=0)
            object.__setattr__(self, "_end", end)
        return end


@dataclass(frozen=True, slots=True, order=True)
class TempoChange:
    """From ``tick`` on, a quarter note lasts ``us_per_beat`` microseconds."""

    tick: int
    us_per_beat: int = DEFAULT_US_PER_BEAT

    def __post_init__(self) -> None:
        if self.tick < 0:
            raise SongError("tempo change at a negative tick")
        if not 1 <= self.us_per_beat <= 0xFFFFFF:
            raise SongError(f"tempo {self.us_per_beat} us/beat outside 1..16777215")

    @property
    def bpm(self) -> float:
        return 60_000_000 / self.us_per_beat

    @staticmethod
    def from_bpm(tick: int, bpm: float) -> "TempoChange":
        if not bpm > 0:
            raise SongError(f"tempo {bpm} BPM must be positive")
        return TempoChange(tick, round(60_000_000 / bpm))


@dataclass(frozen=True, slots=True, order=True)
class TimeSignature:
    """Meter from ``tick`` on: ``numerator`` / ``denominator`` (a power of two)."""

    tick: int
    numerator: int = 4
    denominator: int = 4

    def __post_init__(self) -> None:
        if self.tick < 0:
            raise SongError("time signature at a negative tick")
        if not 1 <= self.numerator <= 255:
            raise SongError(f"time signature numerator {self.numerator} outside 1..255")
        if self.denominator not in (1, 2, 4, 8, 16, 32, 64):
            raise SongError(f"time signature denominator {self.denominator} is not a power of two")

    def ppq_too_coarse(self, ppq: int) -> bool:
        """True when one beat of this meter would be shorter than a tick at ``ppq``."""
        return ppq * 4 < self.denominator

    def bar_ticks(self, ppq: int = PPQ) -> int:
        """Length of one bar in ticks."""
        return self.numerator * ppq * 4 // self.denominator

    def beat_ticks(self, ppq: int = PPQ) -> int:
        """Length of one beat (the denominator's note value) in ticks."""
        return ppq * 4 // self.denominator


NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


@dataclass(frozen=True, slots=True)
class Key:
    """A key: ``tonic`` pitch class 0-11 (0 = C) and a mode name (see core.scales.MODES)."""

    tonic: int = 0
    mode: str = "major"

    def __post_init__(self) -> None:
        if not 0 <= self.tonic <= 11:
            raise SongError(f"key tonic {self.tonic} outside 0..11")
        if not self.mode or not self.mode.isidentifier():
            raise SongError(f"bad mode name {self.mode!r}")

    def __str__(self) -> str:
        return f"{NOTE_NAMES[self.tonic]} {self.mode}"


@dataclass(frozen=True, slots=True)
class Song:
    """A whole song. Tempo and meter lists are sorted and always start at tick 0.

    ``chords`` is the chord track (``core.chords.Chord``): sorted by start, never overlapping.
    """

    tracks: tuple[Track, ...] = ()
    tempos: tuple[TempoChange, ...] = (TempoChange(0),)
    meters: tuple[TimeSignature, ...] = (TimeSignature(0),)
    key: Key | None = None
    ppq: int = PPQ
    chords: tuple["Chord", ...] = ()
    #: the conductor track's events the song does not edit (copyright, SMPTE offset, text...)
    extras: tuple[KeptEvent, ...] = ()
    _tempo_cache: list = field(default_factory=list, init=False, repr=False, compare=False, hash=False)
    _bar_cache: list = field(default_factory=list, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if type(self.ppq) is not int or not 1 <= self.ppq <= MAX_PPQ:
            raise SongError(f"ppq {self.ppq} outside 1..{MAX_PPQ}")
        tempos = _normalize_changes(tuple(self.tempos), TempoChange(0))
        meters = _normalize_changes(tuple(self.meters), TimeSignature(0))
        for m in meters:
            if m.ppq_too_coarse(self.ppq):
                raise SongError(f"meter {m.numerator}/{m.denominator} needs a beat of at least one tick "
                                f"(ppq {self.ppq} is too coarse for it)")
        object.__setattr__(self, "tracks", tuple(self.tracks))
        object.__setattr__(self, "extras", _by_tick(self.extras))
        object.__setattr__(self, "tempos", tempos)
        object.__setattr__(self, "meters", meters)
        if self.chords:
            from musicapp.core.chords import normalize_chord_track  # chords imports this module
            object.__setattr__(self, "chords", normalize_chord_track(self.chords))
        elif not isinstance(self.chords, tuple):
            object.__setattr__(self, "chords", ())

    # ----- structure -------------------------------------------------------------------
    def with_track(self, index: int, track: Track) -> "Song":
        """Copy with track ``index`` replaced."""
        tracks = list(self.tracks)
        tracks[index] = track
        return replace(self, tracks=tuple(tracks))

    def replace(self, **changes) -> "Song":
        """Copy with the given fields changed (dataclasses.replace)."""
        return replace(self, **changes)

    @property
    def end(self) -> int:
        """Tick after the last note of any track."""
        return max((t.end for t in self.tracks), default=0)

    @property
    def note_count(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

    # ----- time conversions ------------------------------------------------------------
    def _tempo_table(self) -> list[tuple[int, float, int]]:
        """(tick, seconds at tick, us_per_beat) per tempo change, computed once.

        Safe when several threads share the Song: each builds the same table and stores it
        with one slice assignment (extend() from two threads could double the entries).
        """
        if self._tempo_cache:
            return self._tempo_cache
        table: list[tuple[int, float, int]] = []
        secs = 0.0
        prev_tick, prev_us = 0, self.tempos[0].us_per_beat
        for tc in self.tempos:
            secs += (tc.tick - prev_tick) * prev_us / (1e6 * self.ppq)
            table.append((tc.tick, secs, tc.us_per_beat))
            prev_tick, prev_us = tc.tick, tc.us_per_beat
        self._tempo_cache[:] = table
        return table

    def tick_to_seconds(self, tick: float) -> float:
        """Seconds from the song start to ``tick``, following the tempo map."""
        table = self._tempo_table()
        i = bisect.bisect_right(table, tick, key=lambda r: r[0]) - 1
        t0, s0, us = table[max(i, 0)]
        return s0 + (tick - t0) * us / (1e6 * self.ppq)

    def seconds_to_tick(self, seconds: float) -> float:
        """Inverse of ``tick_to_seconds`` (fractional ticks)."""
        table = self._tempo_table()
        i = bisect.bisect_right(table, seconds, key=lambda r: r[1]) - 1
        t0, s0, us = table[max(i, 0)]
        return t0 + (seconds - s0) * 1e6 * self.ppq / us

    def tempo_at(self, tick: int) -> TempoChange:
        i = bisect.bisect_right(self.tempos, tick, key=lambda t: t.tick) - 1
        return self.tempos[max(i, 0)]

    def meter_at(self, tick: int) -> TimeSignature:
        i = bisect.bisect_right(self.meters, tick, key=lambda m: m.tick) - 1
        return self.meters[max(i, 0)]

    @staticmethod
    def ticks_to_beats(ticks: float, ppq: int = PPQ) -> float:
        """Quarter-note beats in ``ticks``."""
        return ticks / ppq

    @staticmethod
    def beats_to_ticks(beats: float, ppq: int = PPQ) -> int:
        return round(beats * ppq)

    def bar_starts(self, until: int, since: int = 0) -> list[int]:
        """Ticks where bars start, from the bar holding ``since`` (default: the first bar) up
        to and including the bar holding ``until``. Work is O(log meters + bars listed)."""
        table = self._bar_table()
        first = max(bisect.bisect_right(table, since, key=lambda r: r[0]) - 1, 0)
        out: list[int] = []
        for j in range(first, len(table)):
            m_tick, _, bar = table[j]
            if m_tick > until:
                break
            stop = table[j + 1][0] if j + 1 < len(table) else until + 1
            t = m_tick + max(0, since - m_tick) // bar * bar if j == first else m_tick
            while t < stop and t <= until:
                out.append(t)
                t += bar
        return out

    def _bar_table(self) -> list[tuple[int, int, int]]:
        """(tick, bar number, bar length in ticks) per meter change, computed once.

        A meter change is taken to start a new bar, so bar numbers count whole bars from the
        previous change with any partial bar rounded up. Thread-safe as ``_tempo_table``.
        """
        if self._bar_cache:
            return self._bar_cache
        table: list[tuple[int, int, int]] = []
        bar = 0
        for i, m in enumerate(self.meters):
            bt = m.bar_ticks(self.ppq)
            table.append((m.tick, bar, bt))
            if i + 1 < len(self.meters):
                bar += -(-(self.meters[i + 1].tick - m.tick) // bt)
        self._bar_cache[:] = table
        return table

    def tick_to_bar_beat(self, tick: int) -> tuple[int, int, int]:
        """(bar, beat, tick-in-beat), all zero-based, at ``tick`` under the meter map.

        A meter change is taken to start a new bar. O(log meters).
        """
        table = self._bar_table()
        i = max(bisect.bisect_right(table, tick, key=lambda r: r[0]) - 1, 0)
        m_tick, bar, bt = table[i]
        into = tick - m_tick
        in_bar = into % bt
        beat_t = self.meters[i].beat_ticks(self.ppq)
        return bar + into // bt, in_bar // beat_t, in_bar % beat_t

    def bar_beat_to_tick(self, bar: int, beat: int = 0, ticks: int = 0) -> int:
        """Inverse of ``tick_to_bar_beat``. O(log meters)."""
        table = self._bar_table()
        i = max(bisect.bisect_right(table, bar, key=lambda r: r[1]) - 1, 0)
        m_tick, first_bar, bt = table[i]
        return m_tick + (bar - first_bar) * bt + beat * self.meters[i].beat_ticks(self.ppq) + ticks


def _by_tick(events) -> tuple:
    """``events`` as a tuple sorted by tick, same-tick order kept (already sorted: as is)."""
    events = tuple(events)
    if any(events[i].tick > events[i + 1].tick for i in range(len(events) - 1)):
        events = tuple(sorted(events, key=lambda e: e.tick))
    return events


def _normalize_changes(items: tuple, default):
    """Sort by tick, keep the last of equal ticks, and make sure one sits at tick 0."""
    by_tick: dict[int, object] = {}
    for it in sorted(items, key=lambda x: x.tick):
        by_tick[it.tick] = it
    if 0 not in by_tick:
        first = by_tick[min(by_tick)] if by_tick else default
        by_tick[0] = replace(first, tick=0)
    return tuple(by_tick[t] for t in sorted(by_tick))
