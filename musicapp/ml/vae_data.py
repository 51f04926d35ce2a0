"""Melody windows for the VAE: cutting tunes into whole-bar windows, batching, augmenting.

Owns how a tune (or a phrase) becomes fixed-size windows of at most ``max_steps`` 16th steps
that start on a bar line and hold as many whole bars as fit (two bars of 4/4, 3/4 or 6/8,
four of 2/4; a bar longer than the window is cut into window-sized pieces). The same rule
chunks long phrases in the generation service, so training and use see the same windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import torch

from musicapp.ml import encoding as enc

#: the generation service moves phrases by octaves so their mean pitch lies near this
#: (the training median is about 71), and back afterwards.
CENTER_PITCH = 70


@dataclass(frozen=True)
class Windows:
    """``N`` padded windows: ``tokens``/``pos``/``bar_len`` int16 ``(N, T)``, ``lengths`` ``(N,)``.

    ``lo``/``hi`` ``(N,)`` are the lowest/highest note-on pitch of each window (for
    transposition that stays inside 0..127). Padding steps hold HOLD / 0 / 16.
    """

    tokens: np.ndarray
    pos: np.ndarray
    bar_len: np.ndarray
    lengths: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def subset(self, idx: np.ndarray) -> "Windows":
        return Windows(self.tokens[idx], self.pos[idx], self.bar_len[idx], self.lengths[idx],
                       self.lo[idx], self.hi[idx])


def bar_spans(pos: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the bars in steps ``0..T``; a bar starts where ``pos`` is 0,
    drops back, or at step 0."""
    t = len(pos)
    if t == 0:
        return []
    p = np.asarray(pos, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, (p[1:] == 0) | (p[1:] < p[:-1])]).tolist()
    starts.append(t)
    return [(starts[i], starts[i + 1]) for i in range(len(starts) - 1)]


def _group(bars: Sequence[tuple[int, int]], first: int, max_steps: int) -> tuple[list[tuple[int, int]], int]:
    """One window from ``bars[first]`` on: as many whole bars as fit ``max_steps`` (a longer bar is
    cut into ``max_steps`` pieces). Returns the window pieces and the index of the next bar."""
    a, b = bars[first]
    if b - a > max_steps:
        return [(s, min(s + max_steps, b)) for s in range(a, b, max_steps)], first + 1
    i = first + 1
    while i < len(bars) and bars[i][1] - a <= max_steps:
        b = bars[i][1]
        i += 1
    return [(a, b)], i


def chunk_bounds(pos: np.ndarray, max_steps: int) -> list[tuple[int, int]]:
    """Split steps ``0..T`` into back-to-back windows ``[(start, stop), ...]`` of whole bars,
    each at most ``max_steps`` long; ``pos`` ``(T,)`` is each step's position in its bar."""
    bars = bar_spans(pos)
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(bars):
        pieces, i = _group(bars, i, max_steps)
        out.extend(pieces)
    return out


def tune_windows(melody: enc.EncodedMelody, max_steps: int, overlap: bool) -> list[tuple[int, int]]:
    """Window bounds for one encoded tune: one from every bar (``overlap``) or back to back."""
    if not overlap:
        return chunk_bounds(melody.pos, max_steps)
    bars = bar_spans(melody.pos)
    return [_group(bars, i, max_steps)[0][0] for i in range(len(bars))]


def build_windows(tunes: Iterable, max_steps: int, overlap: bool = True, min_notes: int = 2) -> Windows:
    """Windows from corpus tunes (``musicapp.ml.corpus.Tune``); windows with fewer than
    ``min_notes`` note-ons are dropped."""
    rows_t: list[np.ndarray] = []
    rows_p: list[np.ndarray] = []
    rows_b: list[np.ndarray] = []
    for tune in tunes:
        mel = enc.encode_tune(tune)
        for a, b in tune_windows(mel, max_steps, overlap):
            tok = mel.tokens[a:b]
            if int((tok >= enc.PITCH_OFFSET).sum()) < min_notes:
                continue
            rows_t.append(tok)
            rows_p.append(mel.pos[a:b])
            rows_b.append(mel.bar_len[a:b])
    return pad_windows(rows_t, rows_p, rows_b, max_steps)


def pad_windows(toks: Sequence[np.ndarray], pos: Sequence[np.ndarray], bar_len: Sequence[np.ndarray],
                max_steps: int) -> Windows:
    """Pack variable-length windows (each ``<= max_steps``) into a :class:`Windows`."""
    n = len(toks)
    t = np.full((n, max_steps), enc.HOLD, dtype=np.int16)
    p = np.zeros((n, max_steps), dtype=np.int16)
    b = np.full((n, max_steps), 16, dtype=np.int16)
    lengths = np.zeros(n, dtype=np.int16)
    lo = np.zeros(n, dtype=np.int16)
    hi = np.zeros(n, dtype=np.int16)
    for i in range(n):
        k = len(toks[i])
        if not 0 < k <= max_steps:
            raise ValueError(f"window of {k} steps does not fit 1..{max_steps}")
        t[i, :k], p[i, :k], b[i, :k] = toks[i], pos[i], bar_len[i]
        lengths[i] = k
        bounds = enc.pitch_bounds(toks[i])
        lo[i], hi[i] = bounds if bounds is not None else (60, 60)
    return Windows(t, p, b, lengths, lo, hi)


def octave_shift(tokens: np.ndarray, center: int = CENTER_PITCH) -> int:
    """Semitones (a multiple of 12) that move the mean note-on pitch of ``tokens`` nearest to
    ``center`` while keeping every pitch inside 0..127 (0 when there are no note-ons)."""
    t = np.asarray(tokens)
    notes = t[(t >= enc.PITCH_OFFSET) & (t < enc.NUM_CLASSES)] - enc.PITCH_OFFSET
    if notes.size == 0:
        return 0
    shift = 12 * round((center - float(notes.mean())) / 12)
    lo, hi = int(notes.min()), int(notes.max())
    return max(-(lo // 12 * 12), min(shift, (enc.NUM_PITCHES - 1 - hi) // 12 * 12))


def to_tensors(w: Windows, device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
    """``(tokens, pos, bar_len, lengths)`` as int64 tensors on ``device``."""
    return tuple(torch.as_tensor(a.astype(np.int64), device=device) for a in (w.tokens, w.pos, w.bar_len, w.lengths))


def transpose_batch(w: Windows, rng: np.random.Generator, max_shift: int) -> Windows:
    """Copy with each window shifted by its own uniform ``[-max_shift, max_shift]`` semitones,
    clipped so every pitch stays in 0..127."""
    if max_shift <= 0:
        return w
    lo_shift = np.maximum(-max_shift, -w.lo.astype(np.int64))
    hi_shift = np.minimum(max_shift, enc.NUM_PITCHES - 1 - w.hi.astype(np.int64))
    shift = rng.integers(lo_shift, hi_shift + 1)
    is_note = w.tokens >= enc.PITCH_OFFSET
    toks = np.where(is_note, w.tokens + shift[:, None], w.tokens).astype(np.int16)
    return Windows(toks, w.pos, w.bar_len, w.lengths, (w.lo + shift).astype(np.int16), (w.hi + shift).astype(np.int16))
