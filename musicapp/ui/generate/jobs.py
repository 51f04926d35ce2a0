"""The jobs the Generate controller hands to the worker, and where their notes go.

Owns the translation from a session (mode, seed, options) to a closure over immutable
copies that calls the Qt-free service on the worker thread: Continue (LSTM), Vary and
Interpolate (VAE). Also finds notes by value in a track (for Vary's replace-on-accept).
Ticks throughout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicapp.core.song import Key, Note, Song
from musicapp.ui.generate import seed as seeds
from musicapp.ui.generate.services import LSTM, VAE

if TYPE_CHECKING:
    from musicapp.ui.generate.controller import GenerateOptions, Session

CONTINUE, VARY, INTERPOLATE = "Continue", "Vary", "Interpolate"


def refs_of(song: Song, track: int, notes) -> list[tuple[int, int]]:
    """Refs of ``notes`` (by value, each used once) in ``track``."""
    want: dict[Note, int] = {}
    for n in notes:
        want[n] = want.get(n, 0) + 1
    refs = []
    for i, n in enumerate(song.tracks[track].notes):
        if want.get(n, 0) > 0:
            want[n] -= 1
            refs.append((track, i))
    return refs


def make_job(s: "Session", song: Song, o: "GenerateOptions", key: Key | None):
    """(job, model kind, tick offset of results) for session ``s`` over a snapshot of ``song``."""
    seed, meters, ppq, rs = s.seed, song.meters, song.ppq, s.random_seed
    notes = list(seed.notes)
    if s.mode == CONTINUE:
        lo, hi = sorted((o.pitch_low, o.pitch_high))

        def job(svc, cancel, progress):
            return svc.continue_melody(notes, bars=o.bars, variations=o.variations, temperature=o.temperature,
                                       top_p=o.top_p, key=key, pitch_range=(lo, hi), random_seed=rs,
                                       scale_mask=o.key_lock, meters=meters, start_tick=seed.start,
                                       cancel=cancel, progress=progress, ppq=ppq)
        return job, LSTM, 0
    if s.mode == VARY:
        start = seeds.bar_floor(song, notes[0].start)

        def job(svc, cancel, progress):
            return svc.vary(notes, amount=o.amount, variations=o.variations, meters=meters, start_tick=start,
                            seed=rs, temperature=o.temperature, cancel=cancel)
        return job, VAE, 0
    a, b = seeds.split_phrases(notes)
    start_a, start_b = seeds.bar_floor(song, a[0].start), seeds.bar_floor(song, b[0].start)
    offset = seeds.bar_ceil(song, max(n.end for n in b)) - start_a

    def job(svc, cancel, progress):
        return svc.interpolate(a, b, steps=o.variations + 2, meters=meters, start_a=start_a, start_b=start_b,
                               cancel=cancel)[1:-1]
    return job, VAE, offset
