"""The Generate panel's harmony modes: Harmonise (chords for a melody) and Accompany (bass and
keys for the chord track), in the same candidate flow as Continue.

Owns the Qt-free rules of those modes: which span and notes a request reads (``harmony_seed``,
``accompany_seed``), the worker job that calls the injected service (``make_job``), what a
candidate looks like as ghosts (``ghost_notes``: a Harmonise candidate as block chords under
the melody, an Accompany candidate as its notes), the song it would make (``preview_song``, for
audition) and the one edit that accepts it (``accept_edit``: Harmonise replaces the chords of
the span, Accompany adds its tracks). A candidate is a tuple of ``Chord`` (Harmonise) or of
``Track`` (Accompany). Ticks throughout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from musicapp.core import chord_edits
from musicapp.core.song import DRUM_CHANNEL, Key, Note, Song, Track
from musicapp.ui.generate import seed as seeds
from musicapp.ui.generate.services import ACCOMPANY, HARMONY

if TYPE_CHECKING:
    from musicapp.core.accompany import AccompanyOptions
    from musicapp.ui.generate.controller import GenerateOptions, Session

HARMONISE, ACCOMPANY_MODE = "Harmonise", "Accompany"
HARMONY_MODES = (HARMONISE, ACCOMPANY_MODE)
#: where Harmonise's ghost (and audition) chords are voiced, MIDI pitches.
GHOST_RANGE = (48, 69)


def _span_of(song: Song, notes) -> tuple[int, int]:
    start = seeds.bar_floor(song, min(n.start for n in notes))
    return start, seeds.bar_ceil(song, max(n.end for n in notes))


def harmony_seed(song: Song, selection, active_track: int) -> seeds.Seed:
    """Harmonise reads the selected notes (their bars), else the whole active track."""
    if not song.tracks:
        raise seeds.SeedError("no track to harmonise: draw or open a melody first")
    if selection:
        track = min(t for t, _ in selection)
        notes = tuple(sorted(song.tracks[track].notes[i] for t, i in selection if t == track))
    else:
        track = active_track
        notes = song.tracks[track].notes
    notes = tuple(n for n in notes if n.channel != DRUM_CHANNEL and not song.tracks[track].is_drums)
    if not notes:
        raise seeds.SeedError("nothing to harmonise: select a melody, or make a track with notes active")
    start, end = _span_of(song, notes)
    return seeds.Seed(track, notes, start, (start, end))


def accompany_seed(song: Song, selection, active_track: int) -> seeds.Seed:
    """Accompany follows the chords in the selection's bars, else the whole chord track."""
    if selection:
        notes = [song.tracks[t].notes[i] for t, i in selection]
        start, end = _span_of(song, notes)
    else:
        start, end = 0, max((c.end for c in song.chords), default=0)
    if not any(c.end > start and c.start < end for c in song.chords):
        raise seeds.SeedError("no chords to accompany: type chords in the chord lane, or Harmonise first")
    track = active_track if song.tracks else 0
    return seeds.Seed(track, (), start, (start, end))


def accompany_options(o: "GenerateOptions") -> "AccompanyOptions":
    from musicapp.core.accompany import AccompanyOptions  # numpy: not at window start

    return AccompanyOptions(style=o.accompany_style)


def make_job(s: "Session", song: Song, o: "GenerateOptions", key: Key | None):
    """(job, service kind, tick offset) for a harmony-mode session over a snapshot of ``song``."""
    rs, (start, end) = s.random_seed, s.seed.region
    if s.mode == HARMONISE:
        melody = list(s.seed.notes)
        locked = tuple(c for c in song.chords if c.start >= start and c.end <= end) if o.keep_chords else ()

        def job(svc, cancel, progress):
            return svc.harmonize(melody, song, key=key, per_bar=o.per_bar, variations=o.variations,
                                 temperature=max(0.05, o.temperature), style=o.harmony_style, locked=locked,
                                 seed=rs, cancel=cancel)
        return job, HARMONY, 0
    options = accompany_options(o)

    def job(svc, cancel, progress):
        return svc.accompany(song, options, start, end, variations=o.variations, seed=rs, cancel=cancel)
    return job, ACCOMPANY, 0


def clip_candidate(mode: str, candidate, span: tuple[int, int]) -> tuple:
    """A Harmonise candidate's chords inside the span (cut at its end); others unchanged."""
    if mode != HARMONISE:
        return tuple(candidate)
    start, end = span
    out = []
    for c in candidate:
        if c.end <= start or c.start >= end:
            continue
        s, e = max(c.start, start), min(c.end, end)
        out.append(c if (s, e) == (c.start, c.end) else c.moved(start=s, length=e - s))
    return tuple(out)


def chord_notes(song: Song, chords, channel: int, velocity: int = 70) -> tuple[Note, ...]:
    """Block chords for ``chords`` voiced smoothly in ``GHOST_RANGE`` under the song's notes."""
    if not chords:
        return ()
    from musicapp.core.voicing import voice_progression  # numpy: not at window start

    melody = [n for t in song.tracks if not t.is_drums for n in t.notes]
    ceilings = []
    for c in chords:
        over = [n.pitch for n in melody if n.start < c.end and n.end > c.start]
        ceilings.append(min(over) if over else None)
    voicings = voice_progression(list(chords), *GHOST_RANGE, 3, ceilings)
    return tuple(sorted(Note(c.start, p, c.length, velocity, channel) for c, v in zip(chords, voicings) for p in v))


def ghost_notes(song: Song, mode: str, candidate, track: int) -> tuple[Note, ...]:
    """What the roll shows for a candidate (as ghost notes over ``track``)."""
    if mode == HARMONISE:
        channel = song.tracks[track].channel if track < len(song.tracks) else 0
        return chord_notes(song, candidate, channel)
    return tuple(sorted(n for t in candidate for n in t.notes))


def accept_edit(mode: str, candidate, span: tuple[int, int]) -> Callable[[Song], Song]:
    """The pure edit that puts the candidate into the song (one undo step)."""
    if mode == HARMONISE:
        start, end = span
        return lambda song: chord_edits.replace_chords(song, start, end, candidate)
    return lambda song: song.replace(tracks=song.tracks + tuple(candidate))


def preview_song(song: Song, mode: str, candidate, span: tuple[int, int]) -> Song:
    """The song with the candidate accepted; Harmonise adds its block chords as a "Chords" track
    so an audition plays them."""
    after = accept_edit(mode, candidate, span)(song)
    if mode != HARMONISE:
        return after
    used = {t.channel for t in song.tracks}
    channel = next((ch for ch in range(16) if ch not in used and ch != DRUM_CHANNEL), 15)
    return after.replace(tracks=after.tracks + (Track("Chords", channel, 0, chord_notes(song, candidate, channel)),))


def detect_edit(song: Song, selection, active_track: int) -> tuple[Callable[[Song], Song], str]:
    """"Detect chords": (the edit putting the chords detected from the selection, else from the
    active track, into the chord track over their bars; a one-line summary). SeedError if there
    is nothing to detect from."""
    from musicapp.core.chord_detect import detect_chords  # numpy: not at window start

    if selection:
        notes = [song.tracks[t].notes[i] for t, i in selection if not song.tracks[t].is_drums]
        where = "the selection"
    else:
        track = song.tracks[active_track] if 0 <= active_track < len(song.tracks) else None
        notes = [] if track is None or track.is_drums else list(track.notes)
        where = track.name if track is not None else "the track"
    notes = [n for n in notes if n.channel != DRUM_CHANNEL]
    if not notes:
        raise seeds.SeedError("no notes to detect chords from: select notes or make a pitched track active")
    found = detect_chords(notes, song, "auto", song.key)
    start, end = _span_of(song, notes)
    chords = clip_candidate(HARMONISE, found.chords, (start, end))
    return (lambda s: chord_edits.replace_chords(s, start, end, chords),
            f"Detected {len(chords)} chords in {where} (key {found.key})")


def describe_span(song: Song, mode: str, seed: seeds.Seed | None) -> str:
    """The panel's seed line: "Melody: bars 1-4 of Lead (30 notes)" or "Chords: bars 1-8 (9 chords)"."""
    if seed is None:
        return ("Melody: none (select notes or make a melody track active)" if mode == HARMONISE
                else "Chords: none (type chords in the chord lane, or Harmonise first)")
    start, end = seed.region
    bars = f"bars {song.tick_to_bar_beat(start)[0] + 1}-{song.tick_to_bar_beat(max(start, end - 1))[0] + 1}"
    if mode == HARMONISE:
        name = song.tracks[seed.track].name if seed.track < len(song.tracks) else "?"
        return f"Melody: {bars} of {name} ({len(seed.notes)} notes)"
    n = sum(1 for c in song.chords if c.end > start and c.start < end)
    return f"Chords: {bars} ({n} chord{'s' * (n != 1)})"


def describe(mode: str, candidate) -> str:
    """One line for the panel: the chord names, or the tracks and their note counts."""
    if mode == HARMONISE:
        names = " ".join(c.name for c in candidate[:12]) + (" …" if len(candidate) > 12 else "")
        return names or "no chords"
    return ", ".join(f"{t.name} ({len(t.notes)} notes)" for t in candidate)
