"""Chord detection from notes: duration-weighted chroma per segment matched against chord templates.

Owns the segment grid of a song (``segment_bounds``: a chord per bar, half bar or beat), the
chroma of notes over those segments (``segment_chroma``), the template scores of every
(root, quality) pair with the key and the bass as tie-breakers (``template_scores``), and
``detect_chords``, which returns the chord track of any polyphonic material (block chords,
arpeggios, several tracks). The harmoniser's training labels use the same scoring, so
"the true chord" of a chorale beat and "the detected chord" of a user's piano part mean the
same thing.

Units: ticks throughout; pitch classes 0-11 with 0 = C. Numpy only (no torch, no Qt).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NamedTuple, Sequence

import numpy as np

from musicapp.core.chords import QUALITIES, Chord
from musicapp.core.scales import detect_key, scale_pitch_classes
from musicapp.core.song import Key, Note, Song

#: qualities detection chooses from (the rarer 6/m6/add9/sus2 are read as their neighbours).
DETECT_QUALITIES: tuple[str, ...] = ("maj", "min", "dim", "aug", "sus4", "7", "maj7", "m7", "m7b5", "dim7")
#: score handicap per quality: a richer chord must explain clearly more than its triad does.
_QUALITY_COST = {"maj": 0.0, "min": 0.0, "dim": 0.08, "aug": 0.25, "sus4": 0.18, "7": 0.09,
                 "maj7": 0.14, "m7": 0.11, "m7b5": 0.12, "dim7": 0.12}
#: every quality folded to its triad, for "root + major/minor" accuracy (sevenths -> triads).
TRIAD_OF = {"maj": "maj", "min": "min", "dim": "dim", "aug": "aug", "sus2": "maj", "sus4": "maj",
            "7": "maj", "maj7": "maj", "m7": "min", "m7b5": "dim", "dim7": "dim", "6": "maj",
            "m6": "min", "add9": "maj"}
OUTSIDE_WEIGHT = 0.6   # cost of chroma outside the chord, relative to the credit inside
BASS_ROOT_BONUS = 0.15  # lowest note of the segment is the root
KEY_BONUS = 0.04        # per share of chord tones inside the key's scale
CHANGE_COST = 0.2       # auto harmonic rhythm: cost of a chord change (score units)
OFFBEAT_CHANGE_COST = 0.15  # extra cost of a change that is not on a half-bar line


def templates(qualities: Sequence[str] = DETECT_QUALITIES) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Binary templates ``(12 * len(qualities), 12)`` and their ``(root, quality)`` labels."""
    rows, labels = [], []
    for q in qualities:
        for root in range(12):
            t = np.zeros(12, dtype=np.float32)
            for iv in QUALITIES[q]:
                t[(root + iv) % 12] = 1.0
            rows.append(t)
            labels.append((root, q))
    return np.stack(rows), labels


def segment_bounds(song: Song, end: int, per_bar: int) -> np.ndarray:
    """Segment start ticks ``(S + 1,)`` (last = end of the last segment) for ``per_bar`` chords a bar.

    ``per_bar`` 1, 2 or 4: the bar is cut at beat lines into that many parts (3/4 in two: 2 + 1
    beats); with more parts than beats, into equal parts of at least a quarter note (2/2 in
    four), else one per beat (3/4 or 6/8 in four). Meter changes are followed.
    """
    if per_bar not in (1, 2, 4):
        raise ValueError(f"per_bar must be 1, 2 or 4, not {per_bar}")
    out: list[int] = []
    for bar_start in song.bar_starts(max(end - 1, 0)):
        m = song.meter_at(bar_start)
        bar, beat = m.bar_ticks(song.ppq), m.beat_ticks(song.ppq)
        beats = max(bar // beat, 1)
        if per_bar > beats and bar % per_bar == 0 and bar // per_bar >= song.ppq:
            cuts = [i * bar // per_bar for i in range(per_bar)]  # 2/2 in four: quarters
        else:
            n = min(per_bar, beats)
            cuts = sorted({round(i * beats / n) * beat for i in range(n)})
        out.extend(bar_start + c for c in cuts)
    if not out:
        out = [0]
    last_bar_start = song.bar_starts(max(end - 1, 0))[-1]
    out.append(max(last_bar_start + song.meter_at(last_bar_start).bar_ticks(song.ppq), out[-1] + 1))
    return np.asarray(out, dtype=np.int64)


def segment_chroma(notes: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Duration-weighted chroma ``(S, 12)`` (ticks of sound per pitch class) and the lowest
    pitch per segment ``(S,)`` (128 where silent) for ``notes`` ``(N, >=3)`` = onset, length, pitch."""
    n_seg = len(bounds) - 1
    chroma = np.zeros((n_seg, 12), dtype=np.float64)
    lowest = np.full(n_seg, 128, dtype=np.int64)
    if len(notes) == 0 or n_seg <= 0:
        return chroma, lowest
    on = notes[:, 0].astype(np.int64)
    end = on + np.maximum(notes[:, 1].astype(np.int64), 1)
    pitch = notes[:, 2].astype(np.int64)
    starts = bounds[:-1]
    first = np.searchsorted(starts, on, side="right") - 1
    last = np.searchsorted(starts, end - 1, side="right") - 1
    keep = (first >= 0) | (last >= 0)
    first = np.maximum(first, 0)
    last = np.minimum(last, n_seg - 1)
    on, end, pitch, first, last = on[keep], end[keep], pitch[keep], first[keep], last[keep]
    idx = np.arange(len(on))
    k = 0
    while len(idx):
        seg = first[idx] + k
        ok = seg <= last[idx]
        idx, seg = idx[ok], seg[ok]
        if not len(idx):
            break
        overlap = np.minimum(end[idx], bounds[seg + 1]) - np.maximum(on[idx], bounds[seg])
        pos = overlap > 0
        np.add.at(chroma, (seg[pos], pitch[idx][pos] % 12), overlap[pos])
        np.minimum.at(lowest, seg[pos], pitch[idx][pos])
        k += 1
    return chroma, lowest


def template_scores(chroma: np.ndarray, lowest: np.ndarray, key: Key | None,
                    qualities: Sequence[str] = DETECT_QUALITIES, seventh_cost: float = 0.0) -> np.ndarray:
    """Score ``(S, 12 * len(qualities))`` of every template per segment (higher = better fit).

    ``inside - OUTSIDE_WEIGHT * outside`` of the normalised chroma, minus the quality's cost,
    plus bonuses for the bass on the root and for chord tones inside ``key``'s scale.
    ``seventh_cost`` is added to the cost of four-note chords (long segments hold passing
    tones that would otherwise read as sevenths).
    """
    tmpl, labels = templates(qualities)
    total = chroma.sum(axis=1, keepdims=True)
    c = np.zeros((len(chroma), 13), dtype=np.float32)  # column 12 stays 0 (padding)
    c[:, :12] = chroma / np.maximum(total, 1e-9)
    width = int(tmpl.sum(axis=1).max())
    tones = np.full((len(tmpl), width), 12, dtype=np.int64)
    for j, row in enumerate(tmpl):
        pcs = np.flatnonzero(row)
        tones[j, :len(pcs)] = pcs
    inside = c[:, tones].sum(axis=2)  # gathers instead of a BLAS product (slow on a busy machine)
    score = inside - OUTSIDE_WEIGHT * (1.0 - inside)
    score -= np.asarray([_QUALITY_COST[q] + seventh_cost * (len(QUALITIES[q]) > 3) for _, q in labels])[None, :]
    roots = np.asarray([r for r, _ in labels])
    has_bass = lowest < 128
    score += BASS_ROOT_BONUS * ((lowest[:, None] % 12 == roots[None, :]) & has_bass[:, None])
    if key is not None:
        scale = np.zeros(12, dtype=np.float32)
        scale[list(scale_pitch_classes(key))] = 1.0
        score += KEY_BONUS * (tmpl * scale).sum(axis=1) / tmpl.sum(axis=1)
    return score


@dataclass(frozen=True)
class Detection:
    """Result of ``detect_chords``: the chord track, the key used, and the segment grid (ticks)."""

    chords: tuple[Chord, ...]
    key: Key
    bounds: tuple[int, ...]


class _PitchClassWeight(NamedTuple):
    """A stand-in note for ``detect_key``: one pitch class with its total length (ticks)."""

    pitch: int
    length: float
    channel: int = 0


def key_of_array(notes: np.ndarray) -> Key:
    """``detect_key`` of notes ``(N, >=3)`` = onset, length, pitch (C major when empty)."""
    if len(notes) == 0:
        return Key(0, "major")
    hist = np.bincount(notes[:, 2].astype(np.int64) % 12, weights=np.maximum(notes[:, 1], 1), minlength=12)
    return detect_key([_PitchClassWeight(pc, float(w)) for pc, w in enumerate(hist) if w > 0])


def _smooth(scores: np.ndarray, change_cost: np.ndarray) -> np.ndarray:
    """Best label path under a uniform cost per change (Viterbi, O(S * C))."""
    n, c = scores.shape
    best = scores[0].copy()
    back_stay = np.zeros((n, c), dtype=bool)
    back_from = np.zeros(n, dtype=np.int64)
    switch = np.empty(c)
    for t in range(1, n):
        j = int(best.argmax())
        back_from[t] = j
        stay = back_stay[t]
        np.greater_equal(best, best[j] - change_cost[t], out=stay)
        np.maximum(best, best[j] - change_cost[t], out=best)
        best += scores[t]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(best.argmax())
    for t in range(n - 1, 0, -1):
        path[t - 1] = path[t] if back_stay[t, path[t]] else back_from[t]
    return path


def detect_chords(notes: Iterable[Note] | np.ndarray, song: Song, per_bar: int | str = "auto",
                  key: Key | None = None) -> Detection:
    """The chords of ``notes`` under ``song``'s meter map, one per segment.

    ``per_bar`` 1, 2 or 4 gives one chord per bar / half bar / beat-sized part (a silent
    segment gives none); "auto" scores every beat and picks the best path where a change
    costs ``CHANGE_COST`` (more off the half-bar lines), then merges repeats. ``key`` None
    detects it from the notes. Chords carry a slash bass when the segment's lowest note
    is another chord tone.
    """
    arr = notes if isinstance(notes, np.ndarray) else np.asarray(
        [(n.start, n.length, n.pitch) for n in notes if n.channel != 9], dtype=np.int64).reshape(-1, 3)
    if key is None:
        key = key_of_array(arr)
    if len(arr) == 0:
        return Detection((), key, (0,))
    end = int((arr[:, 0] + arr[:, 1]).max())
    auto = per_bar == "auto"
    bounds = segment_bounds(song, end, 4 if auto else int(per_bar))
    chroma, lowest = segment_chroma(arr, bounds)
    scores = template_scores(chroma, lowest, key)
    _, labels = templates()
    silent = chroma.sum(axis=1) <= 0
    if auto:
        half = set(segment_bounds(song, end, 2)[:-1].tolist())
        cost = np.asarray([CHANGE_COST + (0 if int(b) in half else OFFBEAT_CHANGE_COST) for b in bounds[:-1]])
        choice = _smooth(np.where(silent[:, None], 0.0, scores), cost)
    else:
        choice = scores.argmax(axis=1)
    chord_pcs = [frozenset((r + iv) % 12 for iv in QUALITIES[q]) for r, q in labels]
    chords: list[Chord] = []
    for s in range(len(bounds) - 1):
        if silent[s]:
            continue
        label = int(choice[s])
        root, q = labels[label]
        bass = int(lowest[s] % 12)
        bass = bass if bass in chord_pcs[label] else None
        start, stop = int(bounds[s]), int(bounds[s + 1])
        prev = chords[-1] if chords else None
        if auto and prev is not None and prev.end == start and (prev.root, prev.quality) == (root, q):
            chords[-1] = Chord(prev.start, stop - prev.start, root, q, prev.bass)
            continue
        chords.append(Chord(start, stop - start, root, q, bass))
    return Detection(tuple(chords), key, tuple(int(b) for b in bounds))
