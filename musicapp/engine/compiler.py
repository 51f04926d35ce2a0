"""Compiles Song snapshots into ``EventList``s on the engine's own compile thread, newest first.

Owns the step between an edit and the scheduler: the transport hands ``submit`` a frozen Song
with its options and returns at once (an edit on the Qt main thread costs microseconds, not
a compile of the whole song). While one compile runs, later submissions replace each other,
so a burst of edits (a drag, a held arrow key) compiles once for its newest state. The thread
also warms what the scheduler would otherwise compute at a bad moment (the loop start's
chase, which notes each key holds at a tick), then hands the result to ``deliver`` (the
transport posts it to the scheduler thread, which swaps it in). ``flush`` waits until
everything submitted so far has been delivered (``Transport.play`` uses it, so play always
plays the latest song).
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from typing import Callable

from musicapp.core.song import Song, Track
from musicapp.engine.events import (
    EventList, EventOptions, Row, audible_tracks, compile_song, track_rows,
)

#: pitch -> (note starts sorted, running maximum of their ends), both in ticks; one per track
PitchSpans = dict[int, tuple[list[int], list[int]]]
#: (channel, PitchSpans) of every audible track
NoteSpans = list[tuple[int, PitchSpans]]


@dataclass(frozen=True, slots=True)
class CompileJob:
    """One snapshot to compile: the song, its options, the loop (ticks) and the open end."""

    song: Song
    options: EventOptions
    loop: tuple[int, int] | None
    until_tick: int = 0


@dataclass(frozen=True, slots=True)
class Compiled:
    """What the scheduler swaps in: the events, their note spans and the loop they were made for."""

    events: EventList
    spans: NoteSpans
    loop: tuple[int, int] | None


def track_spans(track: Track) -> PitchSpans:
    """``track``'s notes by pitch: starts sorted, with the running maximum of the ends, so
    ``sounds_at`` answers in O(log n) however notes of one pitch overlap."""
    raw: dict[int, list[tuple[int, int]]] = {}
    for n in track.notes:  # sorted by (start, pitch): each pitch's list comes out sorted
        raw.setdefault(n.pitch, []).append((n.start, n.end))
    spans: PitchSpans = {}
    for pitch, v in raw.items():
        ends, top = [], -1
        for _, end in v:
            top = end if end > top else top
            ends.append(top)
        spans[pitch] = ([s for s, _ in v], ends)
    return spans


def note_spans(song: Song, spans_of: Callable[[Track], PitchSpans] = track_spans) -> NoteSpans:
    """The audible tracks' note spans with their channels."""
    return [(t.channel, spans_of(t)) for t in audible_tracks(song)]


def sounds_at(spans: NoteSpans, key: tuple[int, int], tick: float) -> bool:
    """True when a note of ``key`` (channel, pitch) sounds at ``tick`` (start <= tick < end)."""
    ch, pitch = key
    for channel, by_pitch in spans:
        v = by_pitch.get(pitch) if channel == ch else None
        if v:
            i = bisect.bisect_right(v[0], tick)
            if i > 0 and v[1][i - 1] > tick:
                return True
    return False


def _memo(cache: dict, track: Track, build):
    """``build(track)``, kept in ``cache`` under the Track's identity (the Track itself is kept
    beside the value, so a recycled id never returns another track's result)."""
    hit = cache.get(id(track))
    if hit is not None and hit[0] is track:
        return hit[1]
    value = build(track)
    cache[id(track)] = (track, value)
    return value


class TrackRowCache:
    """Each track's compiled rows, kept from one compile to the next: Tracks are immutable and
    an edit rebuilds only the tracks it changes, so the others are looked up, not recompiled.
    Holds the tracks of the latest song only. Used by the compile thread alone."""

    def __init__(self) -> None:
        self._rows: dict[int, tuple[Track, list[Row]]] = {}
        self._spans: dict[int, tuple[Track, PitchSpans]] = {}

    def rows(self, track: Track) -> list[Row]:
        return _memo(self._rows, track, track_rows)

    def spans(self, track: Track) -> PitchSpans:
        return _memo(self._spans, track, track_spans)

    def keep_only(self, song: Song) -> None:
        """Forget tracks that are not in ``song``."""
        ids = {id(t) for t in song.tracks}
        self._rows = {k: v for k, v in self._rows.items() if k in ids}
        self._spans = {k: v for k, v in self._spans.items() if k in ids}


def compile_job(job: CompileJob, cache: TrackRowCache | None = None) -> Compiled:
    """Compile ``job`` and warm its loop-start chase (runs on the compile thread)."""
    from dataclasses import replace

    options = replace(job.options, until_tick=job.until_tick)
    if cache is None:
        events, spans = compile_song(job.song, options), note_spans(job.song)
    else:
        events = compile_song(job.song, options, cache.rows)
        spans = note_spans(job.song, cache.spans)
        cache.keep_only(job.song)
    if job.loop:
        events.chase(job.loop[0])  # here, not in the engine thread: it walks every control
    return Compiled(events, spans, job.loop)


class SnapshotCompiler:
    """One thread compiling the newest submitted ``CompileJob`` and delivering the result."""

    def __init__(self, deliver: Callable[[Compiled], None],
                 on_error: Callable[[Exception], None] = lambda err: None,
                 compile_fn: Callable[[CompileJob], Compiled] | None = None) -> None:
        cache = TrackRowCache()
        self._deliver, self._on_error = deliver, on_error
        self._compile = compile_fn or (lambda job: compile_job(job, cache))
        self._cond = threading.Condition()
        self._pending: tuple[int, CompileJob] | None = None
        self._submitted = 0  # generation of the newest submission
        self._done = 0  # newest generation delivered (or dropped as superseded)
        self._closed = False
        self.compiles = 0  # compiles run so far (a merged burst counts once)
        self._thread = threading.Thread(target=self._run, name="musicapp-compile", daemon=True)
        self._thread.start()

    def submit(self, job: CompileJob) -> None:
        """Compile ``job`` soon, replacing any submission not yet started. Returns at once."""
        with self._cond:
            if self._closed:
                return
            self._submitted += 1
            self._pending = (self._submitted, job)
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is delivered; False on timeout."""
        if threading.current_thread() is self._thread:
            return True
        with self._cond:
            target = self._submitted
            return self._cond.wait_for(lambda: self._done >= target or self._closed, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Finish the running compile (the pending one is dropped) and end the thread."""
        with self._cond:
            self._closed = True
            self._pending = None
            self._cond.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                if self._closed:
                    return
                generation, job = self._pending
                self._pending = None
            try:
                compiled = self._compile(job)
                self.compiles += 1
                self._deliver(compiled)
            except Exception as err:  # reported, never kills the thread
                self._on_error(err)
            with self._cond:
                self._done = generation
                self._cond.notify_all()
