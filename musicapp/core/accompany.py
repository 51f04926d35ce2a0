"""Accompaniment from a chord track: a bass line and a keys part, each its own track.

Owns the accompaniment styles (``STYLES``), the beat grid of the meter, the bass line and
the keys patterns, and humanising. Rhythm comes from the style and the meter; pitches come
from searches (``core.voicing``):

- Bass: one slot per beat (or per strong beat, per bar, per chord, by style). The first slot of
  a chord plays its bass note (the root, or a slash chord's bass); strong beats favour the
  fifth, weak beats chord tones and scale (passing) tones, and the last slot before a chord
  change an approach note a step from the next bass note. A Viterbi search over the pitches in
  the range picks the line with the least cost of roles plus leaps.
- Keys: each chord voiced with smooth voice leading in the range (``voice_progression``),
  kept under the melody where possible, then played in the style's pattern: ``block`` (the
  chord on every beat), ``arp-up`` / ``arp-down`` (broken chord in eighths), ``alberti``
  (low-high-middle-high), ``waltz`` (oom-pah-pah: bass on 1, chords on the other beats),
  ``oompah`` (folk: bass on the strong beats, chords between) and ``pad`` (held chords).
- Humanise: seeded timing and velocity jitter, scaled by ``humanize`` 0..1.

Ticks throughout; pitches are MIDI note numbers; ranges inclusive.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np

from musicapp.core.accompany_styles import STYLES
from musicapp.core.chords import Chord
from musicapp.core.errors import MusicappError
from musicapp.core.scales import detect_key, scale_pitch_classes
from musicapp.core.song import DRUM_CHANNEL, Note, Song, Track
from musicapp.core.voicing import best_path, voice_progression

BASS_PROGRAM = 33  # GM Electric Bass (finger)
PIANO_PROGRAM = 0  # GM Acoustic Grand Piano
PAD_PROGRAM = 89  # GM Pad 2 (warm)


class AccompanyError(MusicappError, ValueError):
    """No chords to follow, an unknown style or a bad range."""


@dataclass(frozen=True, slots=True)
class AccompanyOptions:
    """How to accompany. Ranges are (low, high) MIDI pitches; ``humanize`` 0..1 scales the
    jitter (up to ~15 ticks of timing and ~10 of velocity at 1); ``variety`` (0..2) adds seeded
    noise to the searches' costs, so other near-best lines and voicings come out; ``seed``
    makes both repeatable."""

    style: str = "block"
    bass: bool = True
    keys: bool = True
    bass_range: tuple[int, int] = (28, 52)
    keys_range: tuple[int, int] = (50, 77)
    voices: int = 4
    humanize: float = 0.4
    seed: int = 0
    velocity: int = 80
    variety: float = 0.0

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise AccompanyError(f"unknown style {self.style!r} (known: {', '.join(STYLES)})")
        for name, (lo, hi) in (("bass", self.bass_range), ("keys", self.keys_range)):
            if not 0 <= lo < hi <= 127 or hi - lo < 12:
                raise AccompanyError(f"{name} range {lo}..{hi} must span an octave inside 0..127")
        if not 0.0 <= self.humanize <= 1.0:
            raise AccompanyError(f"humanize {self.humanize} outside 0..1")
        if not 0.0 <= self.variety <= 2.0:
            raise AccompanyError(f"variety {self.variety} outside 0..2")
        if not 1 <= self.velocity <= 127:
            raise AccompanyError(f"velocity {self.velocity} outside 1..127")


@dataclass(frozen=True, slots=True)
class Beat:
    """One beat of the meter: ``tick``, ``length`` (ticks), its index in the bar, the bar's
    beat count, and its weight (2 = downbeat, 1 = mid-bar strong beat, 0 = weak)."""

    tick: int
    length: int
    index: int
    count: int
    weight: int


def beat_grid(song: Song, start: int, end: int) -> list[Beat]:
    """The beats from ``start`` to ``end`` (ticks) under the song's meters. Compound meters
    (6/8, 9/8, 12/8) beat in dotted quarters."""
    out: list[Beat] = []
    bars = song.bar_starts(max(end - 1, 0))
    for i, bar in enumerate(bars):
        m = song.meter_at(bar)
        bar_len = m.bar_ticks(song.ppq)
        bar_end = min(bars[i + 1], bar + bar_len) if i + 1 < len(bars) else bar + bar_len
        beat = m.beat_ticks(song.ppq)
        count = m.numerator
        if m.denominator >= 8 and m.numerator % 3 == 0 and m.numerator > 3:
            beat, count = beat * 3, m.numerator // 3
        for j in range(count):
            t = bar + j * beat
            if t >= bar_end or t >= end:
                break
            weight = 2 if j == 0 else (1 if count % 2 == 0 and j == count // 2 else 0)
            if t + beat > start:
                out.append(Beat(t, min(beat, bar_end - t), j, count, weight))
    return out


def accompany(song: Song, options: AccompanyOptions = AccompanyOptions(),
              start: int = 0, end: int | None = None) -> tuple[Track, ...]:
    """The bass and/or keys tracks following ``song.chords`` from ``start`` to ``end`` (ticks).

    Raises ``AccompanyError`` when no chord lies in that span.
    """
    stop = max((c.end for c in song.chords), default=0) if end is None else end
    chords = [_clip(c, start, stop) for c in song.chords if c.end > start and c.start < stop]
    if not chords:
        raise AccompanyError("no chords to accompany (add a chord track, or harmonise first)")
    grid = beat_grid(song, chords[0].start, chords[-1].end)
    rng = random.Random(options.seed)
    channels = _free_channels(song)
    tracks = []
    if options.bass:
        notes = bass_line(song, chords, grid, options)
        tracks.append(Track("Bass", channels[0], BASS_PROGRAM, _humanized(notes, options, rng)))
    if options.keys:
        notes = keys_part(song, chords, grid, options)
        program = PAD_PROGRAM if options.style == "pad" else PIANO_PROGRAM
        tracks.append(Track("Keys", channels[1], program, _humanized(notes, options, rng)))
    return tuple(tracks)


def _clip(c: Chord, start: int, end: int) -> Chord:
    s, e = max(c.start, start), min(c.end, end)
    return c if (s, e) == (c.start, c.end) else c.moved(start=s, length=e - s)


def _free_channels(song: Song) -> tuple[int, int]:
    used = {t.channel for t in song.tracks}
    free = [ch for ch in range(16) if ch not in used and ch != DRUM_CHANNEL] + [14, 15]
    return free[0], free[1] if free[1] != free[0] else 15


def _scale(song: Song) -> frozenset[int]:
    key = song.key
    if key is None:
        pitched = [n for t in song.tracks if not t.is_drums for n in t.notes]
        key = detect_key(pitched, default=None) if pitched else None
    return scale_pitch_classes(key) if key is not None else frozenset()


def _slots(chords: list[Chord], grid: list[Beat], style: str) -> list[tuple[int, int, int, Chord]]:
    """(tick, length, weight, chord) of each bass note: the style's beats inside each chord,
    plus every chord's start."""
    out = []
    for c in chords:
        ticks = [(c.start, 2)]
        for b in grid:
            if not c.start < b.tick < c.end:
                continue
            on = {"pad": b.index == 0, "waltz": b.index == 0,
                  "oompah": b.weight > 0 or b.count <= 2}.get(style, True)
            if on:
                ticks.append((b.tick, b.weight))
        for (t, w), nxt in zip(ticks, ticks[1:] + [(c.end, 0)]):
            out.append((t, nxt[0] - t, w, c))
    return out


def bass_line(song: Song, chords: list[Chord], grid: list[Beat], options: AccompanyOptions) -> list[Note]:
    """The bass notes (see the module docstring); unhumanised."""
    low, high = options.bass_range
    scale = _scale(song)
    noise = _noise(options, 1)
    slots = _slots(chords, grid, options.style)
    center = low + (high - low) * 0.4
    every = np.arange(low, high + 1, dtype=np.int32)
    every_pc = every % 12
    register = 0.04 * np.abs(every - center)
    own, cands, roles = [], [], []
    made: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    for k, (tick, _length, weight, chord) in enumerate(slots):
        first = tick == chord.start
        nxt = slots[k + 1] if k + 1 < len(slots) else None
        approach = (nxt is not None and nxt[0] == nxt[3].start and not first
                    and options.style not in ("pad", "waltz"))
        role = "approach" if approach else ("root" if first else "other")
        key = (chord.root, chord.quality, chord.bass, role, weight > 0)
        if key not in made:
            per_pitch = _bass_costs(chord, first, approach, weight > 0, scale)[every_pc]
            keep = np.isfinite(per_pitch)
            made[key] = (per_pitch[keep] + register[keep], every[keep])
        own.append(made[key][0] if noise is None else made[key][0] + noise(len(made[key][0])))
        cands.append(made[key][1])
        roles.append(role)
    moves: dict[tuple, np.ndarray] = {}

    def move(k: int) -> np.ndarray:
        a, b = cands[k - 1], cands[k]
        key = (id(a), id(b), roles[k - 1], roles[k])
        if key not in moves:
            step = np.abs(a[:, None] - b[None, :])
            cost = 0.04 * step + 1.0 * (step > 12)
            if roles[k - 1] == "approach":
                cost = cost + 2.0 * ((step < 1) | (step > 2))
            elif roles[k] != "root":
                cost = cost + 0.4 * (step == 0)
            moves[key] = cost
        return moves[key]

    path = best_path(own, move)
    vel = options.velocity + 8
    legato = 1.0 if options.style == "pad" else 0.92
    return [Note(tick, int(cands[k][i]), max(1, int(length * legato)), _vel(vel + 6 * (weight == 2)))
            for k, ((tick, length, weight, _c), i) in enumerate(zip(slots, path))]


def _bass_costs(chord: Chord, first: bool, approach: bool, strong: bool, scale: frozenset[int]) -> np.ndarray:
    """Cost per pitch class (inf = not a candidate) of one bass slot's role."""
    costs = np.full(12, np.inf)
    if first:
        costs[chord.bass_pc] = 0.0
        return costs
    fifth, tones = (chord.root + 7) % 12, chord.pitch_classes
    for pc in range(12):
        if pc in tones:
            costs[pc] = 0.0 if (pc == fifth and strong) else (0.3 if pc == chord.root else 0.25)
        elif approach or pc in scale:
            costs[pc] = 0.6 if pc in scale else 1.2
    return costs


def _ceilings(song: Song, chords: list[Chord]) -> list[int | None]:
    """Lowest pitch of the song's other notes over each chord (the melody to stay under)."""
    notes = [n for t in song.tracks if not t.is_drums and not t.mute for n in t.notes]
    if not notes:
        return [None] * len(chords)
    starts = np.array([n.start for n in notes])
    ends = np.array([n.end for n in notes])
    pitches = np.array([n.pitch for n in notes])
    out: list[int | None] = []
    for c in chords:
        over = pitches[(starts < c.end) & (ends > c.start)]
        out.append(int(over.min()) if over.size else None)
    return out


def keys_part(song: Song, chords: list[Chord], grid: list[Beat], options: AccompanyOptions) -> list[Note]:
    """The keys notes in the style's pattern over voiced chords; unhumanised."""
    low, high = options.keys_range
    voicings = voice_progression(chords, low, high, options.voices, _ceilings(song, chords), _noise(options, 2))
    style, out = options.style, []
    vel = options.velocity
    for c, v in zip(chords, voicings):
        beats = [b for b in grid if c.start <= b.tick < c.end]
        if not beats or beats[0].tick != c.start:
            first = next((b for b in grid if b.tick <= c.start < b.tick + b.length), None)
            length = first.length if first else song.ppq
            beats.insert(0, Beat(c.start, length, first.index if first else 0, 4, 2 if first is None else 0))
        if style == "pad":
            out += [Note(c.start, p, c.length, _vel(vel - 16)) for p in v]
            continue
        for b in beats:
            span = min(b.length, c.end - b.tick)
            if style == "block":
                out += [Note(b.tick, p, max(1, span * 9 // 10), _vel(vel + 6 * (b.weight > 0))) for p in v]
            elif style in ("waltz", "oompah"):
                pah = b.index != 0 if style == "waltz" else (b.weight == 0 and b.count > 2) or b.index % 2 == 1
                if pah:
                    out += [Note(b.tick, p, max(1, span * 6 // 10), _vel(vel - 6)) for p in v[1:] or v]
            else:
                out += _broken(b, span, v, style, vel)
    return out


def _broken(b: Beat, span: int, v: tuple[int, ...], style: str, vel: int) -> list[Note]:
    """Arpeggio or Alberti figure over one beat, in eighths (thirds of a compound beat)."""
    parts = 3 if b.length % 3 == 0 and b.length >= 720 else 2
    step = b.length // parts
    if style == "alberti":
        figure = (v[0], v[-1], v[len(v) // 2], v[-1])
    elif style == "arp-up":
        figure = v
    else:
        figure = v[::-1]
    out = []
    for j in range(parts):
        t = b.tick + j * step
        if t - b.tick >= span:
            break
        pitch = figure[(b.index * parts + j) % len(figure)]
        out.append(Note(t, pitch, max(1, min(step, span - j * step) * 95 // 100),
                        _vel(vel + (6 if j == 0 and b.weight else 0))))
    return out


def _noise(options: AccompanyOptions, stream: int):
    """Seeded cost noise for one search (None without variety): n -> array (n,)."""
    if options.variety <= 0:
        return None
    gen = np.random.default_rng([options.seed, stream])
    return lambda n: options.variety * gen.random(n)


def _vel(v: float) -> int:
    return max(1, min(127, int(round(v))))


def _humanized(notes: list[Note], options: AccompanyOptions, rng: random.Random) -> tuple[Note, ...]:
    """Seeded jitter: start +-~15 ticks and velocity +-~10 at humanize 1 (never before tick 0)."""
    h = options.humanize
    if h <= 0 or not notes:
        return tuple(notes)
    gen = np.random.default_rng(rng.getrandbits(64))
    limit = int(15 * h)
    shifts = np.clip(np.rint(gen.normal(0.0, 6.0 * h, len(notes))), -limit, limit).astype(int).tolist()
    dvel = np.rint(gen.normal(0.0, 5.0 * h, len(notes))).astype(int).tolist()
    return tuple(Note(max(0, n.start + dt), n.pitch, max(1, n.length - max(0, dt)),
                      max(1, min(127, n.velocity + dv)), n.channel)
                 for n, dt, dv in zip(notes, shifts, dvel))


class Accompanist:
    """The accompaniment service the editor's Generate panel opens (Qt-free, no model):
    ``accompany`` returns ``variations`` candidates, the first the best by the searches, the
    others near-best ones (``variety`` 1) with their own seeds."""

    loaded = True

    def accompany(self, song: Song, options: AccompanyOptions = AccompanyOptions(), start: int = 0,
                  end: int | None = None, *, variations: int = 1, seed: int = 0,
                  cancel=None) -> list[tuple[Track, ...]]:
        if not 1 <= int(variations) <= 64:
            raise AccompanyError(f"variations must be 1..64, not {variations}")
        out = []
        for i in range(int(variations)):
            if cancel is not None and (cancel.is_set() if hasattr(cancel, "is_set") else cancel()):
                raise AccompanyError("accompaniment cancelled")
            opts = replace(options, seed=seed + i, variety=options.variety if i == 0 else max(1.0, options.variety))
            out.append(accompany(song, opts, start, end))
        return out


def add_accompaniment(song: Song, options: AccompanyOptions = AccompanyOptions(),
                      start: int = 0, end: int | None = None) -> Song:
    """``song`` with the accompaniment tracks appended."""
    return song.replace(tracks=song.tracks + accompany(song, options, start, end))
