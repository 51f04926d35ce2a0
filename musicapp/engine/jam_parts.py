"""The pieces of a jam besides its threads: its options and events, the bar/beat grid, the model
request, the exchange record, the answer's key and register, choosing an answer among
candidates.

Owns what a call-and-response exchange *is* (``Exchange``: call and answer notes in song ticks,
where the answer was due, how late it was) and what the model is asked (``JamRequest``: the
call quantized to 16ths, the answer's start tick and length in bars, key and register). The
model itself is injected as a ``Generate`` callable, so the engine never imports ``ml``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Callable, Sequence

from musicapp.core.scales import in_scale, key_scores, scale_pitch_classes
from musicapp.core.song import Key, Note, Song, TimeSignature, Track

#: shortest register (semitones) an answer may use, around the call's own
MIN_RANGE = 12
#: semitones an answer may reach past the call's lowest and highest note
RANGE_MARGIN = 3


@dataclass(frozen=True, slots=True)
class JamConfig:
    """``bars``: call length (fixed mode); ``on_pause``: a gap of ``pause_beats`` beats with no
    key down ends the call instead (answers then last as many bars as the call, at most
    ``max_bars``). ``key``: 'auto' (from the calls), a Key, or None (no key). ``thru_channel``:
    echo the player on this channel (None: no echo). ``lead_s``: the answer is handed to the
    engine this long (seconds) before it is due."""

    bars: int = 2
    on_pause: bool = False
    pause_beats: float = 1.0
    max_bars: int = 8
    key: Key | str | None = "auto"
    answer_channel: int = 1
    thru_channel: int | None = None
    lead_s: float = 0.015


@dataclass(frozen=True, slots=True)
class JamEvent:
    """What listeners get: ``kind`` is call, answer, interrupted, done, late, error or stopped;
    ``index`` the exchange it is about (-1: none)."""

    kind: str
    index: int = -1
    message: str = ""


@dataclass(frozen=True, slots=True)
class JamRequest:
    """What the model is asked: continue ``seed`` (the call so far, quantized to 16ths, song
    ticks) from ``start_tick`` for ``bars`` bars in ``key``, pitches within ``pitch_range``
    (inclusive) and of ``pitch_classes`` (0-11; None: the key's scale). ``random_seed`` varies
    the answer from one exchange to the next."""

    seed: tuple[Note, ...]
    start_tick: int
    bars: int
    key: Key | None
    pitch_range: tuple[int, int]
    meters: tuple[TimeSignature, ...]
    ppq: int
    random_seed: int
    pitch_classes: frozenset[int] | None = None


#: ``generate(request, cancel)`` -> candidate answers (lists of Notes in song ticks, starting
#: at ``request.start_tick``); may raise when ``cancel`` is set. Runs in the jam's own thread.
Generate = Callable[[JamRequest, threading.Event], Sequence[Sequence[Note]]]


@dataclass
class Exchange:
    """One call and its answer, in song ticks.

    ``answer_due`` is the bar line the answer was due on; ``shift`` how many ticks (whole
    beats) later it started because its generation was not ready in time; ``ready_s`` how
    many seconds before that bar line the answer was ready (negative: after it).
    ``interrupted``: the player cut the answer (``answer`` then holds only what sounded).
    """

    call_start: int
    call: list[Note] = field(default_factory=list)
    answer_due: int | None = None
    bars: int = 0
    shift: int = 0
    answer: list[Note] = field(default_factory=list)
    planned: list[Note] = field(default_factory=list)  # the whole answer as cued
    ready_s: float | None = None
    interrupted: bool = False
    key: Key | None = None

    @property
    def answer_start(self) -> int | None:
        return None if self.answer_due is None else self.answer_due + self.shift


class Grid:
    """Bar lines and beats of a song's meter map (ticks)."""

    def __init__(self, song: Song) -> None:
        self.ppq = song.ppq
        self.meters = tuple(song.meters)
        self.sixteenth = song.ppq // 4

    def _meter(self, tick: float) -> TimeSignature:
        found = self.meters[0]
        for m in self.meters:
            if m.tick <= tick:
                found = m
        return found

    def bar_ticks(self, tick: float) -> int:
        return self._meter(tick).bar_ticks(self.ppq)

    def beat_ticks(self, tick: float) -> int:
        return self._meter(tick).beat_ticks(self.ppq)

    def bar_floor(self, tick: float) -> int:
        m = self._meter(tick)
        bar = m.bar_ticks(self.ppq)
        return int(m.tick + (tick - m.tick) // bar * bar)

    def bar_ceil(self, tick: float) -> int:
        floor = self.bar_floor(tick)
        return floor if floor >= tick else self._after(floor, self.bar_ticks(floor))

    def beat_ceil(self, tick: float) -> int:
        m = self._meter(tick)
        beat = m.beat_ticks(self.ppq)
        floor = int(m.tick + (tick - m.tick) // beat * beat)
        return floor if floor >= tick else self._after(floor, beat)

    def _after(self, tick: int, step: int) -> int:
        """``tick + step``, or the next meter change if that comes first (a bar line too)."""
        nxt = [m.tick for m in self.meters if tick < m.tick < tick + step]
        return nxt[0] if nxt else tick + step

    def add_bars(self, tick: int, bars: int) -> int:
        for _ in range(bars):
            tick = self._after(tick, self.bar_ticks(tick))
        return tick

    def snap16(self, tick: float) -> int:
        s = self.sixteenth
        return int((2 * tick + s) // (2 * s) * s)


def quantized_call(notes: Sequence[Note], grid: Grid, until: int) -> tuple[Note, ...]:
    """The call as the model reads it: starts and ends on 16ths, every note at least a 16th,
    nothing at or past ``until`` (the answer's start). The last note is read as lasting until
    ``until``, however long it was held: so its note-off never changes the request, and the
    answer for the call as it will be is ready from the last note-on on (a beat or more)."""
    s = grid.sixteenth
    kept = sorted(n for n in notes if grid.snap16(n.start) < until)
    out = []
    for i, n in enumerate(kept):
        start = grid.snap16(n.start)
        end = until if i == len(kept) - 1 else min(until, max(start + s, grid.snap16(n.end)))
        out.append(Note(start, n.pitch, end - start, n.velocity, n.channel))
    return tuple(out)


def answer_register(call: Sequence[Note]) -> tuple[int, int]:
    """Pitches an answer may use: the call's, widened by ``RANGE_MARGIN`` and to at least
    ``MIN_RANGE`` semitones around its middle."""
    lo = min(n.pitch for n in call) - RANGE_MARGIN
    hi = max(n.pitch for n in call) + RANGE_MARGIN
    if hi - lo < MIN_RANGE:
        mid = (lo + hi) // 2
        lo, hi = mid - MIN_RANGE // 2, mid + MIN_RANGE // 2
    lo, hi = max(0, lo), min(127, hi)
    return lo, hi


#: fewest pitch classes an answer is confined to before the likeliest key's scale is used
MIN_CLASSES = 5
#: keys scoring within this much (correlation) of the best count as equally likely
KEY_TIE = 0.1


def _containing_keys(call: Sequence[Note]) -> list[Key]:
    """Major and minor keys whose scale holds every pitch class the call played."""
    used = {n.pitch % 12 for n in call}
    return [k for k in (Key(t, m) for t in range(12) for m in ("major", "minor"))
            if used <= scale_pitch_classes(k)]


def call_key(call: Sequence[Note], previous: Sequence[Note] = ()) -> Key:
    """The key an answer is in: the likeliest (Krumhansl-Schmuckler over this call and the one
    before it: a player rarely changes key every exchange) of the keys whose scale holds every
    note of this call. A 2-bar phrase often fits two keys about equally (D major and F# minor
    for D-F#-A-C#-B); then the one whose tonic the call starts on, else ends on, else lies
    lowest on, wins: phrases start and end on the tonic more than on any other note."""
    fits = set(_containing_keys(call))
    scores = [(k, s) for k, s in key_scores([*previous, *call]) if not fits or k in fits]
    close = [k for k, score in scores if score >= scores[0][1] - KEY_TIE]
    ordered = sorted(call)
    for pc in (ordered[0].pitch % 12, ordered[-1].pitch % 12, min(n.pitch for n in call) % 12):
        for key in close:
            if key.tonic == pc:
                return key
    return scores[0][0]


def answer_pitch_classes(call: Sequence[Note], key: Key | None) -> frozenset[int] | None:
    """Pitch classes an answer may use: those in the scale of *every* major or minor key that
    holds all of the call's notes (so the answer is in the call's key whichever of them it
    is); when that leaves fewer than ``MIN_CLASSES`` (a call of few notes), ``key``'s scale."""
    keys = _containing_keys(call)
    certain = frozenset.intersection(*[scale_pitch_classes(k) for k in keys]) if keys else frozenset()
    if len(certain) >= MIN_CLASSES:
        return certain
    return scale_pitch_classes(key) if key is not None else None


def similarity(call: Sequence[Note], call_start: int, answer: Sequence[Note], answer_start: int) -> float:
    """Share of (onset, pitch) pairs two phrases have in common, each measured from its own
    start (1.0: the answer copies the call)."""
    a = {(n.start - call_start, n.pitch) for n in call}
    b = {(n.start - answer_start, n.pitch) for n in answer}
    if not a or not b:
        return 0.0
    return len(a & b) / max(len(a), len(b))


def choose_answer(call: Sequence[Note], call_start: int, candidates: Sequence[Sequence[Note]],
                  answer_start: int, max_similarity: float = 0.5) -> list[Note]:
    """The first candidate with enough notes that is not a near copy of the call; failing
    that the one least like it (candidates arrive in random order already)."""
    cands = [list(c) for c in candidates]
    if not cands:
        return []
    enough = max(2, len(call) // 3)
    scored = [(similarity(call, call_start, c, answer_start), -len(c), i) for i, c in enumerate(cands)]
    for sim, neg_len, i in scored:
        if sim <= max_similarity and -neg_len >= enough:
            return cands[i]
    with_notes = [s for s in scored if -s[1] > 0] or scored
    return cands[min(with_notes)[2]]


def cut_answer(planned: Sequence[Note], at_tick: float) -> list[Note]:
    """What of ``planned`` sounded when the player cut in at ``at_tick``."""
    return [Note(n.start, n.pitch, max(1, min(n.end, int(at_tick)) - n.start), n.velocity, n.channel)
            for n in planned if n.start < at_tick]


def in_key_share(notes: Sequence[Note], key: Key) -> float:
    """Fraction of ``notes`` whose pitch lies in ``key``'s scale (1.0 when empty)."""
    return sum(in_scale(n.pitch, key) for n in notes) / len(notes) if notes else 1.0


def exchange_tracks(exchanges: Sequence[Exchange], call_channel: int = 0, answer_channel: int = 1,
                    program: int = 0) -> tuple[Track, Track]:
    """The jam as two tracks: what the player played, and what the app answered."""
    calls = sorted(Note(n.start, n.pitch, n.length, n.velocity, call_channel)
                   for e in exchanges for n in e.call)
    answers = sorted(Note(n.start, n.pitch, n.length, n.velocity, answer_channel)
                     for e in exchanges for n in e.answer)
    return (Track("Jam calls", call_channel, program, tuple(calls)),
            Track("Jam answers", answer_channel, program, tuple(answers)))


def realtime_thread(priority: int) -> None:
    """SCHED_FIFO for the calling thread where allowed (``MUSICAPP_NO_REALTIME=1``: never)."""
    if os.environ.get("MUSICAPP_NO_REALTIME") or not hasattr(os, "sched_setscheduler"):
        return
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except OSError:
        pass
