"""Voice leading: chord voicings within a range, chosen by a shortest-path search.

Owns how a chord progression becomes concrete keyboard voicings. For each chord every voicing
of ``voices`` distinct pitches inside the range that covers the chord's tones (a seventh chord
with three voices may drop its fifth; a triad with four doubles one tone) is a candidate, with a
cost of its own (doubling the third, muddy close intervals low down, distance from the middle
of the range, playing above the melody). Dynamic programming (Viterbi over chords) then picks
the sequence with the least total own cost plus movement, where movement between two voicings
is the sum of semitones each voice moves (voices matched bottom to top). Bass lines use the
same search over single pitches (``best_path``).

Pitches are MIDI note numbers; ranges are inclusive (low, high).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations
from typing import Sequence

import numpy as np

from musicapp.core.chords import QUALITIES, Chord
from musicapp.core.errors import MusicappError

#: cost per semitone of voice movement, relative to the voicings' own costs.
MOVE_WEIGHT = 1.0
#: widest voicing considered, in semitones (an octave and a sixth).
MAX_SPAN = 21


class VoicingError(MusicappError, ValueError):
    """A range too narrow for the chord, or a bad voice count."""


@lru_cache(maxsize=512)
def _candidates(root: int, quality: str, low: int, high: int, voices: int) -> tuple[np.ndarray, np.ndarray]:
    """(voicings as an int array (n, voices) sorted low to high, their own costs (n,))."""
    intervals = QUALITIES[quality]
    tones = [(root + i) % 12 for i in intervals]
    fifth = (root + 7) % 12 if 7 in intervals else None
    third = next(((root + i) % 12 for i in intervals if i in (3, 4)), None)
    required = set(tones)
    if len(tones) > voices:  # a seventh chord in three voices drops its fifth (then what is left over)
        required = set(([tones[0]] + [t for t in tones[1:] if t != fifth])[:voices])
    pitches = [p for p in range(low, high + 1) if p % 12 in tones]
    center = (low + high) / 2
    rows, costs = [], []
    for combo in combinations(pitches, voices):
        if combo[-1] - combo[0] > MAX_SPAN or not required <= {p % 12 for p in combo}:
            continue
        pcs = [p % 12 for p in combo]
        cost = 0.0
        if third is not None and pcs.count(third) > 1:
            cost += 3.0
        if fifth is not None and pcs.count(fifth) > 1:
            cost += 0.5
        for a, b in zip(combo, combo[1:]):
            if b - a < 5 and a < 52:  # close intervals below E3 sound muddy
                cost += 2.0 * (52 - a) / 12
            if b - a > 12:
                cost += 1.0
        if combo[0] % 12 != root:
            cost += 0.3  # an inversion is fine, root position slightly preferred
        cost += 0.15 * abs(sum(combo) / voices - center)
        rows.append(combo)
        costs.append(cost)
    if not rows:
        raise VoicingError(f"no {voices}-voice voicing of a {quality} chord fits in {low}..{high}")
    return np.array(rows, dtype=np.int32), np.array(costs, dtype=np.float64)


def candidate_voicings(chord: Chord, low: int, high: int, voices: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Every voicing of ``chord`` in ``low``..``high`` with ``voices`` pitches, with its own cost."""
    if not 2 <= voices <= 6:
        raise VoicingError(f"voices must be 2..6, not {voices}")
    if not 0 <= low < high <= 127:
        raise VoicingError(f"bad range {low}..{high}")
    return _candidates(chord.root, chord.quality, low, high, voices)


def best_path(own: Sequence[np.ndarray], move) -> list[int]:
    """Viterbi: the index per step minimising sum(own[k][i_k]) + sum(move(k, i_{k-1}, i_k)).

    ``own[k]`` is a float array of step k's candidate costs; ``move(k)`` returns the
    (len(own[k-1]), len(own[k])) transition cost matrix into step k.
    """
    if not own:
        return []
    total = own[0].astype(np.float64)
    back: list[np.ndarray] = []
    for k in range(1, len(own)):
        step = total[:, None] + move(k)
        arg = step.argmin(axis=0)
        back.append(arg)
        total = step[arg, np.arange(step.shape[1])] + own[k]
    path = [int(total.argmin())]
    for arg in reversed(back):
        path.append(int(arg[path[-1]]))
    return path[::-1]


def voice_progression(chords: Sequence[Chord], low: int, high: int, voices: int = 4,
                      ceilings: Sequence[int | None] | None = None, noise=None) -> list[tuple[int, ...]]:
    """One voicing per chord (pitches low to high) with the smoothest leading in the range.

    ``ceilings[k]``, when given, is the lowest melody pitch over chord k: voicings whose top
    voice reaches it cost extra, so the keys stay under the tune where the range allows.
    ``noise`` (n -> array (n,)), when given, is added to each chord's voicing costs (near-best
    alternatives).
    """
    own, cands = [], []
    for k, chord in enumerate(chords):
        rows, cost = candidate_voicings(chord, low, high, voices)
        ceiling = ceilings[k] if ceilings is not None else None
        if ceiling is not None:
            cost = cost + 0.5 * np.maximum(0, rows[:, -1] - ceiling + 1)
        if noise is not None:
            cost = cost + noise(len(cost))
        own.append(cost)
        cands.append(rows)

    def move(k: int) -> np.ndarray:
        a, b = cands[k - 1], cands[k]
        return MOVE_WEIGHT * np.abs(a[:, None, :] - b[None, :, :]).sum(axis=2)

    path = best_path(own, move)
    return [tuple(int(p) for p in cands[k][i]) for k, i in enumerate(path)]
