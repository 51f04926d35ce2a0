"""The jobs the Generate controller hands to the worker, and where their notes go.

Owns the translation from a session (mode, seed, options) to a closure over immutable
copies that calls the Qt-free service on the worker thread: Infill (the infill model over a
time range, from the notes on both sides; also a Continue that would run into notes already
there), Continue (LSTM; a seed far from
the model's register is moved by whole octaves to ``MODEL_CENTER`` and the result moved back,
so it continues in the seed's own register), Vary and Interpolate (VAE; the steps laid out one
after another as a single morph, between phrases A and B when they fit there, else after B).
The chord lock passes the song's chord track to Continue and Vary; the harmony modes' jobs are
made in ``harmony_modes``. Also finds notes by value in a track (for Vary's replace-on-accept).
Ticks throughout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import replace

from musicapp.core.song import Key, Note, Song
from musicapp.ui.generate import seed as seeds
from musicapp.ui.generate import infill_range
from musicapp.ui.generate.services import INFILL, LSTM, VAE

if TYPE_CHECKING:
    from musicapp.ui.generate.controller import GenerateOptions, Session

CONTINUE, VARY, INTERPOLATE, INFILL_MODE = "Continue", "Vary", "Interpolate", "Infill"
#: MIDI pitch around which the melody models were trained (corpus melodies sit near G4).
MODEL_CENTER = 67


def register_shift(notes) -> int:
    """Semitones (whole octaves) that bring the mean pitch of ``notes`` within an octave of
    ``MODEL_CENTER``; 0 when it already is (or there are no notes)."""
    if not notes:
        return 0
    mean = sum(n.pitch for n in notes) / len(notes)
    if abs(mean - MODEL_CENTER) <= 12:
        return 0
    return 12 * round((MODEL_CENTER - mean) / 12)


def transposed(notes, semitones: int) -> list[Note]:
    """``notes`` moved by ``semitones``; notes that would leave 0..127 are dropped."""
    return [replace(n, pitch=n.pitch + semitones) for n in notes if 0 <= n.pitch + semitones <= 127]


def morph(steps, start: int, span: int) -> list[Note]:
    """Interpolation ``steps`` (each on phrase A's ticks from ``start``, ``span`` ticks long)
    one after another as one phrase: step i moved ``i * span`` later; notes outside their slot
    are dropped and notes running past its end are cut there."""
    out = []
    for i, step in enumerate(steps):
        for n in step:
            if start <= n.start < start + span:
                length = min(n.length, start + span - n.start)
                out.append(replace(n, start=n.start + i * span, length=max(1, length)))
    return out


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


def morph_layout(song: Song, notes, steps: int, swap: bool = False) -> tuple[list[Note], list[Note], int, int]:
    """Interpolate's plan for ``notes``: (phrase A, phrase B, tick where the morph starts, ticks
    per step). A is the earlier phrase (the later one with ``swap``). The ``steps`` go between
    the phrases when the whole bars between them hold them all, else from the bar after the
    later one. Raises SeedError unless ``notes`` are two phrases."""
    first, second = seeds.split_phrases(notes)
    start_1, start_2 = seeds.bar_floor(song, first[0].start), seeds.bar_floor(song, second[0].start)
    end_1, end_2 = seeds.bar_ceil(song, max(n.end for n in first)), seeds.bar_ceil(song, max(n.end for n in second))
    span = max(1, min(end_1 - start_1, end_2 - start_2))
    place = end_1 if start_2 - end_1 >= steps * span else end_2
    return (second, first, place, span) if swap else (first, second, place, span)


def make_job(s: "Session", song: Song, o: "GenerateOptions", key: Key | None):
    """(job, model kind, tick offset of results) for session ``s`` over a snapshot of ``song``."""
    from musicapp.ui.generate import harmony_modes

    if s.mode in harmony_modes.HARMONY_MODES:
        return harmony_modes.make_job(s, song, o, key)
    seed, meters, ppq, rs = s.seed, song.meters, song.ppq, s.random_seed
    notes = list(seed.notes)
    if s.mode == INFILL_MODE:
        return _infill_job(notes, seed.region, song, o, key, rs), INFILL, 0
    lock = {"chords": song.chords} if o.chord_lock and song.chords else {}
    if s.mode == CONTINUE:
        lo, hi = sorted((o.pitch_low, o.pitch_high))
        gap = continue_gap(song, seed, o.bars)
        if gap is not None:  # notes follow within the requested length: fill up to them instead
            context = [n for n in song.tracks[seed.dest].notes if not seed.start <= n.start < gap]
            return _infill_job(context, (seed.start, gap), song, o, key, rs), INFILL, 0
        shift = register_shift(notes)
        moved = transposed(notes, shift)
        rng = (max(0, lo + shift), min(127, hi + shift))
        steering = o.steering()

        def job(svc, cancel, progress):
            found = svc.continue_melody(moved, bars=o.bars, variations=o.variations, temperature=o.temperature,
                                        top_p=o.top_p, key=key, pitch_range=rng, random_seed=rs,
                                        scale_mask=o.key_lock, meters=meters, start_tick=seed.start,
                                        cancel=cancel, progress=progress, ppq=ppq, steering=steering, **lock)
            return [transposed(c, -shift) for c in found] if shift else found
        return job, LSTM, 0
    if s.mode == VARY:
        start = seeds.bar_floor(song, notes[0].start)
        steering = o.steering()

        def job(svc, cancel, progress):
            return svc.vary(notes, amount=o.amount, variations=o.variations, meters=meters, start_tick=start,
                            seed=rs, temperature=o.temperature, cancel=cancel, steering=steering, **lock)
        return job, VAE, 0
    a, b, place, span = morph_layout(song, notes, o.variations, o.swap_ab)
    start_a, start_b, steps = seeds.bar_floor(song, a[0].start), seeds.bar_floor(song, b[0].start), o.variations

    def job(svc, cancel, progress):
        found = svc.interpolate(a, b, steps=steps + 2, meters=meters, start_a=start_a, start_b=start_b,
                                cancel=cancel)[1:-1]
        return [morph(found, start_a, span)]
    return job, VAE, place - start_a


def continue_gap(song: Song, seed, bars: int) -> int | None:
    """Where a Continue of ``bars`` bars from ``seed.start`` would run into a note already in the
    destination track (which has notes before the start), else None."""
    track = seed.dest
    if not 0 <= track < len(song.tracks) or not any(n.start < seed.start for n in song.tracks[track].notes):
        return None
    bar = song.tick_to_bar_beat(seed.start)[0]
    end = song.bar_beat_to_tick(bar + bars)
    return infill_range.gap_end(song, track, seed.start, end - seed.start)


def _infill_job(context, region: tuple[int, int], song: Song, o: "GenerateOptions", key: Key | None, rs: int):
    """A job regenerating ``region`` (ticks) of a melody from ``context`` (the notes around it)."""
    lo, hi = sorted((o.pitch_low, o.pitch_high))
    meters, ppq, start, end = song.meters, song.ppq, region[0], region[1]
    steering = o.steering()

    def job(svc, cancel, progress):
        return svc.fill(context, start, end, variations=o.variations, temperature=o.temperature, top_p=o.top_p,
                        key=key, pitch_range=(lo, hi), random_seed=rs, scale_mask=o.key_lock, meters=meters,
                        steering=steering, cancel=cancel, progress=progress, ppq=ppq)
    return job
