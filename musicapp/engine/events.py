"""Compiles a frozen Song into the flat, time-sorted list of MIDI messages the scheduler plays.

Owns the translation ticks -> seconds (through the song's tempo map) and Note -> note-on /
note-off bytes, plus the generated streams that ride along with the song: metronome clicks
(GM drum channel) and MIDI clock (24 per quarter note). Messages are plain tuples of ints.

Ordering at one tick: note-offs first, then control/program messages, then note-ons, so a
repeated pitch re-strikes instead of being cut off. Controls keep their order within a tick.

Chasing: playing from anywhere but the start first sends each audible track's program and
the latest value of every controller, pitch bend and aftertouch it set before that point
(``EventList.chase``), so a seek or loop wrap sounds as playing through would have.
Controllers the song sets only later are put back to their reset values first.
"""

from __future__ import annotations

import bisect
import operator
from dataclasses import dataclass, field
from typing import Callable, Sequence

from musicapp.core.song import DRUM_CHANNEL, Control, Song, Track

Message = tuple[int, ...]

#: priorities for messages sharing one tick (lower is sent first)
PRIO_OFF, PRIO_CTRL, PRIO_ON = 0, 1, 2
CLOCK = (0xF8,)
CLOCK_TICKS_PER_BEAT = 24
#: GM percussion keys used for the metronome: accented first beat, then the other beats
CLICK_ACCENT, CLICK_BEAT = 76, 77
#: values a controller goes back to when a chase starts before the song first sets it
#: (what "Reset All Controllers" and GM power-on give); others are left alone.
RESET_VALUES: dict[tuple[str, int], int] = {
    ("pitchwheel", 0): 0, ("aftertouch", 0): 0, ("control_change", 1): 0,
    ("control_change", 7): 100, ("control_change", 10): 64, ("control_change", 11): 127,
    ("control_change", 64): 0, ("control_change", 65): 0, ("control_change", 66): 0,
    ("control_change", 67): 0}


@dataclass(frozen=True, slots=True)
class EventOptions:
    """What to compile beside the song's notes."""

    metronome: bool = False
    clock: bool = False
    until_tick: int = 0  # generate metronome/clock up to here too (e.g. a loop end past the song)


@dataclass(frozen=True, slots=True)
class EventList:
    """Parallel arrays sorted by time: ``ticks`` (int), ``seconds`` (song seconds), ``messages``.

    ``end_tick`` is where playing ends: after the last note, or at the last control if that
    comes later; ``setup`` are the program
    changes to send before playing from the start; ``chase(tick)`` what to send before
    playing from ``tick``.
    """

    song: Song
    ticks: tuple[int, ...]
    seconds: tuple[float, ...]
    messages: tuple[Message, ...]
    end_tick: int
    setup: tuple[Message, ...]
    _chased: dict = field(default_factory=dict, compare=False, repr=False)

    def chase(self, tick: float) -> tuple[Message, ...]:
        """Programs and controller values in force just before ``tick`` (events at ``tick``
        itself are played, not chased); cached per tick so a loop wrap costs a lookup."""
        key = int(tick) if tick == int(tick) else tick
        got = self._chased.get(key)
        if got is None:
            if len(self._chased) > 64:
                self._chased.clear()
            got = self._chased[key] = tuple(dict.fromkeys(
                m for t in audible_tracks(self.song) for m in track_chase(t, tick)))
        return got

    def __len__(self) -> int:
        return len(self.ticks)

    def index_at_tick(self, tick: float) -> int:
        """Index of the first event at or after ``tick``."""
        return bisect.bisect_left(self.ticks, tick)

    def index_after_seconds(self, seconds: float) -> int:
        """Index of the first event strictly after song time ``seconds``."""
        return bisect.bisect_right(self.seconds, seconds)


def note_on(channel: int, pitch: int, velocity: int) -> Message:
    return (0x90 | channel, pitch, velocity)


def note_off(channel: int, pitch: int) -> Message:
    return (0x80 | channel, pitch, 0)


def audible_tracks(song: Song):
    """Tracks that sound: solo tracks if any are soloed, else every unmuted track."""
    soloed = [t for t in song.tracks if t.solo]
    return soloed if soloed else [t for t in song.tracks if not t.mute]


def track_chase(track: Track, tick: float) -> list[Message]:
    """``track``'s program and control values in force just before ``tick``, on its channel.

    The program (not on the drum channel, as at the start) comes first, then controllers the
    track sets only after ``tick`` at their reset values, then the latest value of each one
    it set before, in the order they were set.
    """
    ch = track.channel
    program = track.program
    last: dict[tuple[str, int], tuple[int, Control]] = {}
    later: dict[tuple[str, int], None] = {}
    for i, c in enumerate(track.controls):
        if c.tick >= tick:
            later.setdefault(c.state_key)
        elif c.kind == "program_change":
            program = c.value
        else:
            last[c.state_key] = (i, c)
    out: list[Message] = []
    if ch != DRUM_CHANNEL or program != track.program:
        out.append((0xC0 | ch, program))
    for key in later:
        if key not in last and key in RESET_VALUES:
            out.append(Control(0, key[0], key[1], RESET_VALUES[key]).message(ch))
    out.extend(c.message(ch) for _, c in sorted(last.values(), key=lambda ic: ic[0]))
    return out


Row = tuple[int, int, Message]  # (tick, priority at that tick, message)
_ROW_ORDER = operator.itemgetter(0, 1)


def track_rows(track: Track) -> list[Row]:
    """``track``'s controls and notes as rows on its channel, sorted by (tick, priority)."""
    ch = track.channel
    rows: list[Row] = [(c.tick, PRIO_CTRL, c.message(ch)) for c in track.controls]
    for n in track.notes:
        if n.length <= 0:
            continue
        rows.append((n.start, PRIO_ON, note_on(ch, n.pitch, n.velocity)))
        rows.append((n.end, PRIO_OFF, note_off(ch, n.pitch)))
    rows.sort(key=_ROW_ORDER)  # stable: controls sharing a tick keep their order
    return rows


def compile_song(song: Song, options: EventOptions = EventOptions(),
                 rows_of: Callable[[Track], list[Row]] = track_rows) -> EventList:
    """Flatten ``song`` into an ``EventList``. Notes and controls play on their track's channel.

    ``rows_of(track)`` gives a track's sorted rows (``track_rows``; the compile thread passes
    a cache, so an edit recompiles only the tracks it changed)."""
    rows: list[Row] = []
    setup: list[Message] = []
    # the song plays to its last event: a pedal release or controller after the last note counts
    end_tick = song.end
    for track in audible_tracks(song):
        ch = track.channel
        if ch != DRUM_CHANNEL:
            setup.append((0xC0 | ch, track.program))
        rows.extend(rows_of(track))  # sorted runs: the sort below mostly merges them
        if track.controls:
            end_tick = max(end_tick, track.controls[-1].tick)
    until = max(end_tick, options.until_tick)
    if options.metronome:
        rows.extend(metronome_rows(song, 0, until))
    if options.clock:
        step = song.ppq // CLOCK_TICKS_PER_BEAT
        rows.extend((t, PRIO_CTRL, CLOCK) for t in range(0, until, step))
    rows.sort(key=_ROW_ORDER)
    ticks = tuple(r[0] for r in rows)
    seconds = sorted_ticks_to_seconds(song, ticks)
    messages = tuple(r[2] for r in rows)
    return EventList(song, ticks, seconds, messages, end_tick, tuple(dict.fromkeys(setup)))


def sorted_ticks_to_seconds(song: Song, ticks: Sequence[int]) -> tuple[float, ...]:
    """``song.tick_to_seconds`` of each of the ascending ``ticks``, in one walk over the tempo
    map (no search per tick)."""
    changes = [(tc.tick, song.tick_to_seconds(tc.tick), tc.us_per_beat / (1e6 * song.ppq))
               for tc in song.tempos]
    out: list[float] = []
    j, last = 0, len(changes) - 1
    t0, s0, k = changes[0]
    for t in ticks:
        while j < last and changes[j + 1][0] <= t:
            j += 1
            t0, s0, k = changes[j]
        out.append(s0 + (t - t0) * k)
    return tuple(out)


def metronome_rows(song: Song, start: int, stop: int) -> list[tuple[int, int, Message]]:
    """Click note-on/off rows on every beat in ``[start, stop)`` ticks, accent on bar starts."""
    rows: list[tuple[int, int, Message]] = []
    click_len = max(1, song.ppq // 8)
    meters = song.meters
    for i, m in enumerate(meters):
        seg_end = meters[i + 1].tick if i + 1 < len(meters) else stop
        beat, bar = m.beat_ticks(song.ppq), m.bar_ticks(song.ppq)
        t = m.tick
        while t < min(seg_end, stop):
            if t >= start:
                key = CLICK_ACCENT if (t - m.tick) % bar == 0 else CLICK_BEAT
                vel = 110 if key == CLICK_ACCENT else 80
                rows.append((t, PRIO_ON, note_on(DRUM_CHANNEL, key, vel)))
                rows.append((t + click_len, PRIO_OFF, note_off(DRUM_CHANNEL, key)))
            t += beat
    return rows


def count_in_clicks(song: Song, at_tick: int, bars: int) -> tuple[float, list[tuple[float, Message]]]:
    """Clicks for ``bars`` bars before ``at_tick`` in the meter/tempo found there.

    Returns (length in seconds, [(seconds from count-in start, message), ...]).
    """
    meter = song.meter_at(at_tick)
    sec_per_tick = song.tempo_at(at_tick).us_per_beat / (1e6 * song.ppq)
    beat, bar = meter.beat_ticks(song.ppq), meter.bar_ticks(song.ppq)
    total_ticks = bars * bar
    out: list[tuple[float, Message]] = []
    click_len = max(1, song.ppq // 8)
    for t in range(0, total_ticks, beat):
        key, vel = (CLICK_ACCENT, 110) if t % bar == 0 else (CLICK_BEAT, 80)
        out.append((t * sec_per_tick, note_on(DRUM_CHANNEL, key, vel)))
        out.append(((t + click_len) * sec_per_tick, note_off(DRUM_CHANNEL, key)))
    return total_ticks * sec_per_tick, out
