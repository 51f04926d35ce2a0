"""Hypothesis strategies for songs: several tracks and channels, tempo and meter changes, key."""

from __future__ import annotations

from hypothesis import strategies as st

from musicapp.core.chords import QUALITIES, Chord
from musicapp.core.scales import MODES
from musicapp.core.song import Control, Key, Note, Song, TempoChange, TimeSignature, Track

TICKS = st.integers(0, 480 * 64)
# The tempo of a TempoChange is stored in whole microseconds, exactly as MIDI holds it.
tempos = st.builds(TempoChange, TICKS, st.integers(1, 0xFFFFFF))
meters = st.builds(TimeSignature, TICKS, st.integers(1, 32), st.sampled_from([1, 2, 4, 8, 16, 32, 64]))
keys = st.none() | st.builds(Key, st.integers(0, 11), st.sampled_from(sorted(MODES)))


_SEVEN = st.integers(0, 127)


def controls(*, exact: bool = False) -> st.SearchStrategy[Control]:
    """Any control; ``exact`` leaves out what a MIDI round trip rewrites (program changes,
    which may become the track's program, and bank selects, which export puts first)."""
    plain = (st.builds(Control, TICKS, st.just("control_change"), st.integers(1, 127).filter(lambda n: n != 32),
                       _SEVEN)
             | st.builds(Control, TICKS, st.just("pitchwheel"), st.just(0), st.integers(-8192, 8191))
             | st.builds(Control, TICKS, st.just("aftertouch"), st.just(0), _SEVEN)
             | st.builds(Control, TICKS, st.just("polytouch"), _SEVEN, _SEVEN))
    if exact:
        return plain
    return (plain | st.builds(Control, TICKS, st.just("program_change"), st.just(0), _SEVEN)
            | st.builds(Control, TICKS, st.just("control_change"), st.sampled_from([0, 32]), _SEVEN))


@st.composite
def tracks(draw, *, overlaps: bool = True, min_length: int = 0, mixed_channels: bool = False) -> Track:
    """A track with notes and controls; its notes use its channel unless ``mixed_channels``;
    ``overlaps=False`` keeps one pitch's notes apart and leaves out the controls a MIDI round
    trip rewrites."""
    channel = draw(st.integers(0, 15))
    note_channel = st.integers(0, 15) if mixed_channels else st.just(channel)
    raw = draw(st.lists(st.tuples(TICKS, st.integers(0, 127), st.integers(min_length, 960 * 4),
                                  st.integers(1, 127), note_channel), max_size=25))
    notes = [Note(s, p, ln, v, ch) for s, p, ln, v, ch in raw]
    if not overlaps:
        kept, busy = [], {}
        for n in sorted(notes):
            if n.start >= busy.get(n.pitch, -1):
                kept.append(n)
                busy[n.pitch] = n.end if n.length else n.start + 1
        notes = kept
    name = draw(st.text(max_size=12))
    ctrl = draw(st.lists(controls(exact=not overlaps), max_size=8))
    return Track(name, channel, draw(st.integers(0, 127)), tuple(notes),
                 draw(st.booleans()), draw(st.booleans()), tuple(ctrl))


@st.composite
def chord_tracks(draw) -> tuple[Chord, ...]:
    """0-8 chords of any quality (some slash chords), never overlapping, with gaps sometimes."""
    out, tick = [], draw(st.integers(0, 480 * 8))
    for _ in range(draw(st.integers(0, 8))):
        length = draw(st.integers(1, 480 * 8))
        bass = draw(st.none() | st.integers(0, 11))
        out.append(Chord(tick, length, draw(st.integers(0, 11)), draw(st.sampled_from(sorted(QUALITIES))), bass))
        tick += length + draw(st.sampled_from([0, 0, 1, 480]))
    return tuple(out)


def songs(*, overlaps: bool = True, min_length: int = 0,
          mixed_channels: bool = False) -> st.SearchStrategy[Song]:
    """Songs of 0-5 tracks with up to 4 tempo and 4 meter changes, maybe a key, and a chord track."""
    track = tracks(overlaps=overlaps, min_length=min_length, mixed_channels=mixed_channels)
    return st.builds(
        Song,
        tracks=st.lists(track, max_size=5).map(tuple),
        tempos=st.lists(tempos, min_size=1, max_size=4).map(tuple),
        meters=st.lists(meters, min_size=1, max_size=4).map(tuple),
        key=keys,
        chords=chord_tracks(),
    )
