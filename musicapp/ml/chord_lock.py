"""The chord lock: a per-step logit bias that makes generated melodies follow a chord track.

Owns ``chord_bias``, shared by Continue (``ml.generate``) and Vary (``ml.vae_generate``). On a
beat of the meter (compound meters beat in dotted quarters) the note-on tokens of the chord
sounding there get ``+strength``; between beats the tones of the key's scale get
``+strength / 2``. Steps without a chord get no bias; REST and HOLD never do. The bias is added
to the logits before temperature and nucleus sampling, so it shifts the odds without forbidding
anything (the key lock's mask still forbids out-of-scale notes when it is on).

Shapes: the bias is ``(steps, NUM_CLASSES)`` float32 on the 16th-note grid; ticks at the song's
PPQ; ``strength`` in nats.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from musicapp.core.accompany import beat_grid
from musicapp.core.chords import Chord, chord_at, normalize_chord_track
from musicapp.core.scales import scale_pitch_classes
from musicapp.core.song import PPQ, Key, Song, TimeSignature
from musicapp.ml.encoding import NUM_CLASSES, PITCH_OFFSET

#: default bias in nats (about 7x the odds of a chord tone on a beat).
DEFAULT_STRENGTH = 2.0


def chord_bias(chords: Sequence[Chord], meters: Sequence[TimeSignature], start_tick: int, steps: int,
               ticks_per_step: int, key: Key | None = None, strength: float = DEFAULT_STRENGTH,
               ppq: int = PPQ) -> np.ndarray:
    """Bias ``(steps, NUM_CLASSES)`` for the 16th steps from ``start_tick`` (see the module doc)."""
    out = np.zeros((max(steps, 0), NUM_CLASSES), dtype=np.float32)
    track = normalize_chord_track(chords)
    if not track or steps <= 0 or strength == 0:
        return out
    end = start_tick + steps * ticks_per_step
    song = Song(meters=tuple(meters) or (TimeSignature(0),), ppq=ppq)
    beats = {b.tick for b in beat_grid(song, start_tick, end)}
    pitch_pcs = np.arange(128) % 12
    scale_row = np.zeros(NUM_CLASSES, dtype=np.float32)
    if key is not None:
        scale_row[PITCH_OFFSET:] = np.isin(pitch_pcs, sorted(scale_pitch_classes(key))) * (strength / 2)
    rows: dict[tuple[int, ...], np.ndarray] = {}
    for t in range(steps):
        tick = start_tick + t * ticks_per_step
        chord = chord_at(track, tick)
        if chord is None:
            continue
        if tick in beats:
            pcs = chord.pitch_classes
            if pcs not in rows:
                row = np.zeros(NUM_CLASSES, dtype=np.float32)
                row[PITCH_OFFSET:] = np.isin(pitch_pcs, pcs) * strength
                rows[pcs] = row
            out[t] = rows[pcs]
        else:
            out[t] = scale_row
    return out


def chord_tone_share(notes, chords: Sequence[Chord], meters: Sequence[TimeSignature], ppq: int = PPQ) -> float:
    """Share (0..1) of the notes starting on a beat under a chord whose pitch is a chord tone
    (0 when no note starts on a beat under a chord). ``notes``: core ``Note`` s in ticks."""
    notes = list(notes)
    track = normalize_chord_track(chords)
    if not notes or not track:
        return 0.0
    song = Song(meters=tuple(meters) or (TimeSignature(0),), ppq=ppq)
    beats = {b.tick for b in beat_grid(song, min(n.start for n in notes), max(n.start for n in notes) + 1)}
    hits = total = 0
    for n in notes:
        chord = chord_at(track, n.start)
        if chord is not None and n.start in beats:
            total += 1
            hits += n.pitch % 12 in chord.pitch_classes
    return hits / total if total else 0.0
