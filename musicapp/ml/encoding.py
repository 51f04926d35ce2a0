"""Melody encoding: monophonic melodies as token sequences on a 16th-note grid.

Owns the token vocabulary, position-in-bar features, and conversion between tokens and
both the corpus cache (:class:`musicapp.ml.corpus.Tune`) and core ``Note`` lists in ticks.
Token ids exist only in ``musicapp.ml``; everything that leaves this module is in ticks.

Vocabulary (Melody-RNN style, but covering all 128 MIDI pitches), one token per 16th step:

- ``REST`` (0): a note-off at this step (silence begins);
- ``HOLD`` (1): no event (the note or the silence of the previous step continues);
- ``2 + p``: note-on of MIDI pitch ``p`` (0..127) at this step, ending any sounding note.

``BOS`` (130) is an input-only start symbol; models predict over ``NUM_CLASSES`` = 130.

Meter enters the model as two small integers per step: the step's position inside its bar
(0-based, clipped to ``MAX_BAR_STEPS - 1``) and the bar length in steps (clipped to
``1 .. MAX_BAR_STEPS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from musicapp.core.song import PPQ, Note, TimeSignature

ENCODING_NAME = "melody16"
ENCODING_VERSION = 1

REST = 0
HOLD = 1
PITCH_OFFSET = 2
NUM_PITCHES = 128
NUM_CLASSES = PITCH_OFFSET + NUM_PITCHES  # 130 output classes
BOS = NUM_CLASSES  # input-only start token
VOCAB_SIZE = NUM_CLASSES + 1  # input vocabulary incl. BOS

STEPS_PER_QUARTER = 4
TICKS_PER_STEP = PPQ // STEPS_PER_QUARTER  # 120 ticks per 16th at PPQ 480
MAX_BAR_STEPS = 64  # 16/4; longer bars are clipped for the features only


@dataclass(frozen=True)
class EncodingInfo:
    """What a checkpoint records about the encoding it was trained with."""

    name: str = ENCODING_NAME
    version: int = ENCODING_VERSION
    num_classes: int = NUM_CLASSES
    vocab_size: int = VOCAB_SIZE
    steps_per_quarter: int = STEPS_PER_QUARTER
    max_bar_steps: int = MAX_BAR_STEPS


@dataclass(frozen=True)
class EncodedMelody:
    """One melody as aligned arrays of length ``T`` (steps).

    ``tokens`` int64 ``(T,)`` token per step; ``pos`` int64 ``(T,)`` position of each step in
    its bar; ``bar_len`` int64 ``(T,)`` length of that bar in steps.
    """

    tokens: np.ndarray
    pos: np.ndarray
    bar_len: np.ndarray

    def __len__(self) -> int:
        return int(self.tokens.shape[0])


def pitch_token(pitch: int) -> int:
    """Token of a note-on of MIDI ``pitch`` (0..127)."""
    if not 0 <= pitch < NUM_PITCHES:
        raise ValueError(f"pitch {pitch} outside 0..127")
    return PITCH_OFFSET + pitch


def token_pitch(token: int) -> int | None:
    """MIDI pitch of a note-on token, ``None`` for REST/HOLD."""
    if not 0 <= token < NUM_CLASSES:
        raise ValueError(f"token {token} outside 0..{NUM_CLASSES - 1}")
    return token - PITCH_OFFSET if token >= PITCH_OFFSET else None


# ----- notes in steps <-> tokens -----------------------------------------------------------
def steps_to_tokens(notes: np.ndarray | Sequence[tuple[int, int, int]], n_steps: int | None = None,
                    origin: int = 0) -> np.ndarray:
    """Tokens for monophonic ``(onset, length, pitch)`` rows (16th steps, sorted by onset).

    ``origin`` is the step of token 0; notes before it are dropped. A note is cut where the
    next one starts. ``n_steps`` defaults to the end of the last note. Returns int64 ``(T,)``.
    """
    arr = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
    arr = arr[arr[:, 0] >= origin]
    end = int((arr[:, 0] + arr[:, 1]).max()) - origin if len(arr) else 0
    total = end if n_steps is None else n_steps
    out = np.full(total, HOLD, dtype=np.int64)
    prev_end = None
    for i, (on, ln, p) in enumerate(arr):
        s = int(on) - origin
        if s >= total:
            break
        if prev_end is not None and prev_end < s:
            out[prev_end] = REST
        out[s] = pitch_token(int(p))
        stop = s + max(1, int(ln))
        if i + 1 < len(arr):
            stop = min(stop, int(arr[i + 1, 0]) - origin)
        prev_end = max(stop, s + 1)
    if prev_end is not None and prev_end < total:
        out[prev_end] = REST
    return out


def tokens_to_steps(tokens: Iterable[int]) -> list[tuple[int, int, int]]:
    """Inverse of :func:`steps_to_tokens`: ``(onset, length, pitch)`` in steps from token 0.

    A note still sounding after the last token ends with the sequence; BOS is not allowed.
    """
    out: list[tuple[int, int, int]] = []
    cur: tuple[int, int] | None = None  # (onset, pitch)
    seq = [int(t) for t in tokens]
    for n, tok in enumerate(seq):
        if tok == HOLD:
            continue
        if cur is not None:
            out.append((cur[0], n - cur[0], cur[1]))
            cur = None
        if tok != REST:
            p = token_pitch(tok)
            cur = (n, int(p))  # type: ignore[arg-type]
    if cur is not None:
        out.append((cur[0], len(seq) - cur[0], cur[1]))
    return out


# ----- meter features ----------------------------------------------------------------------
def positions_from_bars(bars: np.ndarray | Sequence[tuple[int, int]], n_steps: int,
                        origin: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Position-in-bar and bar length per step from ``(bar_start, bar_length)`` rows (steps).

    Steps before the first bar count as inside it; steps after the last bar continue its
    meter. Returns int64 arrays ``(n_steps,)`` (pos clipped, bar_len clipped to 1..MAX).
    """
    b = np.asarray(bars, dtype=np.int64).reshape(-1, 2)
    steps = np.arange(origin, origin + n_steps, dtype=np.int64)
    if len(b) == 0:
        b = np.array([[0, 16]], dtype=np.int64)
    starts = b[:, 0]
    idx = np.clip(np.searchsorted(starts, steps, side="right") - 1, 0, len(b) - 1)
    length = np.clip(b[idx, 1], 1, MAX_BAR_STEPS)
    rel = steps - starts[idx]
    last = idx == len(b) - 1
    rel = np.where(last & (rel >= 0), rel % length, rel)  # continue the last meter
    pos = np.clip(rel, 0, MAX_BAR_STEPS - 1)
    return pos, length


def positions_from_meters(meters: Sequence[TimeSignature], start_step: int, n_steps: int,
                          ppq: int = PPQ) -> tuple[np.ndarray, np.ndarray]:
    """Position-in-bar and bar length per step for a Song's meter map (a change starts a bar).

    ``start_step`` is the absolute 16th step (tick / (ppq/4)) of the first step.
    """
    tps = ppq / STEPS_PER_QUARTER
    ms = sorted(meters, key=lambda m: m.tick) or [TimeSignature(0)]
    bars: list[tuple[int, int]] = []
    stop_step = start_step + n_steps
    for i, m in enumerate(ms):
        m_start = round(m.tick / tps)
        m_end = round(ms[i + 1].tick / tps) if i + 1 < len(ms) else stop_step
        blen = max(1, round(m.bar_ticks(ppq) / tps))
        if i + 1 == len(ms):  # the last meter repeats: one bar row is enough
            bars.append((m_start, blen))
            break
        t = m_start
        while t < m_end:
            bars.append((t, blen))
            t += blen
    return positions_from_bars(bars, n_steps, origin=start_step)


# ----- corpus and ticks --------------------------------------------------------------------
def encode_tune(tune) -> EncodedMelody:
    """Encode a corpus ``Tune`` (notes and bars in 16th steps) from step 0 of its first bar."""
    origin = int(min(tune.notes[0, 0], tune.bars[0, 0] if len(tune.bars) else 0))
    toks = steps_to_tokens(tune.notes, origin=origin)
    pos, blen = positions_from_bars(tune.bars, len(toks), origin=origin)
    return EncodedMelody(toks, pos, blen)


def top_line(notes: Iterable[Note], ticks_per_step: int = TICKS_PER_STEP) -> list[tuple[int, int, int]]:
    """Reduce notes in ticks to a monophonic top line of ``(onset, length, pitch)`` in steps.

    Onsets and ends snap to the nearest step (length at least one step); of notes starting
    on the same step the highest wins; each note is cut where the next one starts.
    Drum-channel notes should be filtered by the caller.
    """
    best: dict[int, tuple[int, int]] = {}
    for n in notes:
        on = round(n.start / ticks_per_step)
        ln = max(1, round(n.end / ticks_per_step) - on)
        if on not in best or n.pitch > best[on][1]:
            best[on] = (ln, n.pitch)
    ordered = sorted(best.items())
    out: list[tuple[int, int, int]] = []
    for i, (on, (ln, p)) in enumerate(ordered):
        if i + 1 < len(ordered):
            ln = min(ln, ordered[i + 1][0] - on)
        out.append((on, ln, p))
    return out


def encode_notes(notes: Iterable[Note], meters: Sequence[TimeSignature] = (TimeSignature(0),),
                 start_tick: int | None = None, end_tick: int | None = None,
                 ppq: int = PPQ) -> tuple[EncodedMelody, int]:
    """Encode core notes (ticks) as a melody; polyphony is reduced to the top line.

    The grid starts at ``start_tick`` (default: the bar holding the first note) and runs to
    ``end_tick`` (default: the end of the last note), both snapped to 16th steps. Returns the
    melody and the absolute step of its first token.
    """
    tps = ppq // STEPS_PER_QUARTER
    line = top_line(notes, tps)
    if start_tick is None:
        first = line[0][0] if line else 0
        start_step = bar_start_step(meters, first, ppq)
    else:
        start_step = round(start_tick / tps)
    n_steps = None if end_tick is None else max(0, round(end_tick / tps) - start_step)
    toks = steps_to_tokens(line, n_steps=n_steps, origin=start_step)
    pos, blen = positions_from_meters(meters, start_step, len(toks), ppq)
    return EncodedMelody(toks, pos, blen), start_step


def bar_start_step(meters: Sequence[TimeSignature], step: int, ppq: int = PPQ) -> int:
    """Absolute 16th step where the bar holding absolute ``step`` starts."""
    if step <= 0:
        return 0
    pos, _ = positions_from_meters(meters, step, 1, ppq)
    return step - int(pos[0])


def decode_notes(tokens: Iterable[int], start_tick: int = 0, velocity: int = 100, channel: int = 0,
                 ticks_per_step: int = TICKS_PER_STEP) -> list[Note]:
    """Core notes (ticks) for a token sequence whose token 0 sits at ``start_tick``."""
    return [Note(start_tick + on * ticks_per_step, p, ln * ticks_per_step, velocity, channel)
            for on, ln, p in tokens_to_steps(tokens)]


# ----- augmentation ------------------------------------------------------------------------
def pitch_bounds(tokens: np.ndarray) -> tuple[int, int] | None:
    """Lowest and highest pitch of the note-ons in ``tokens`` (None if there are none)."""
    t = np.asarray(tokens)
    on = t[(t >= PITCH_OFFSET) & (t < NUM_CLASSES)]
    if on.size == 0:
        return None
    return int(on.min()) - PITCH_OFFSET, int(on.max()) - PITCH_OFFSET


def transpose_tokens(tokens: np.ndarray, semitones: int) -> np.ndarray:
    """Copy of ``tokens`` with every note-on shifted by ``semitones``.

    Raises ``ValueError`` if a pitch would leave 0..127; BOS/REST/HOLD are unchanged.
    """
    t = np.asarray(tokens, dtype=np.int64)
    bounds = pitch_bounds(t)
    if bounds is not None and not (0 <= bounds[0] + semitones and bounds[1] + semitones < NUM_PITCHES):
        raise ValueError(f"transposing by {semitones} leaves the MIDI pitch range")
    is_note = (t >= PITCH_OFFSET) & (t < NUM_CLASSES)
    return np.where(is_note, t + semitones, t)


def random_transpose(tokens: np.ndarray, rng: np.random.Generator, max_shift: int = 6) -> np.ndarray:
    """Transpose by a uniform shift in ``[-max_shift, max_shift]`` clipped to the pitch range."""
    bounds = pitch_bounds(tokens)
    if bounds is None or max_shift <= 0:
        return np.asarray(tokens, dtype=np.int64)
    lo = max(-max_shift, -bounds[0])
    hi = min(max_shift, NUM_PITCHES - 1 - bounds[1])
    return transpose_tokens(tokens, int(rng.integers(lo, hi + 1)))
