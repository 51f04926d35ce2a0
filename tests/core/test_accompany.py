"""Accompaniment: the bass and keys follow the chord track, stay in range, keep to the meter,
and humanising is seeded."""

from __future__ import annotations

import pytest

from musicapp.core.accompany import AccompanyError, AccompanyOptions, accompany, add_accompaniment, beat_grid
from musicapp.core.accompany_styles import STYLES
from musicapp.core.chords import Chord, chord_at
from musicapp.core.song import Note, Song, TimeSignature, Track
from musicapp.core.voicing import voice_progression

BAR = 1920
PROGRESSION = ["C", "Am", "F", "G7", "C/E", "Dm7", "G", "C", "F", "Bb", "Gm7", "C7", "F/A", "Bdim", "Esus4", "E7"]


def _song(meter: tuple[int, int] = (4, 4)) -> Song:
    bar = TimeSignature(0, *meter).bar_ticks()
    melody = Track("Melody", 0, 73, tuple(Note(i * 480, (72, 74, 76, 77, 79)[i % 5], 480)
                                           for i in range(len(PROGRESSION) * bar // 480)))
    chords = []
    for i, name in enumerate(PROGRESSION):  # some chords last half a bar
        start = i * bar
        if i % 4 == 3:
            chords += [Chord.parse(name, start, bar // 2), Chord.parse("C", start + bar // 2, bar - bar // 2)]
        else:
            chords.append(Chord.parse(name, start, bar))
    return Song(tracks=(melody,), meters=(TimeSignature(0, *meter),), chords=tuple(chords))


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("meter", [(4, 4), (3, 4), (6, 8)])
def test_bass_plays_each_chords_bass_note_as_it_starts_and_keys_play_chord_tones(style, meter) -> None:
    song = _song(meter)
    options = AccompanyOptions(style=style, humanize=0.0)
    bass, keys = accompany(song, options)
    starts = {n.start: n for n in bass.notes}
    for c in song.chords:
        assert starts[c.start].pitch % 12 == c.bass_pc, (c.name, starts[c.start])
    for n in keys.notes:
        chord = chord_at(song.chords, n.start)
        assert chord is not None and n.pitch % 12 in chord.pitch_classes, (chord, n)
        assert n.end <= chord.end
    lo, hi = options.bass_range
    assert all(lo <= n.pitch <= hi for n in bass.notes)
    lo, hi = options.keys_range
    assert all(lo <= n.pitch <= hi for n in keys.notes)
    assert bass.program == 33 and keys.program in (0, 89) and {bass.channel, keys.channel}.isdisjoint({0, 9})


def test_chords_sound_fully_and_the_bass_follows_the_meter() -> None:
    song = _song((4, 4))
    bass, keys = accompany(song, AccompanyOptions(style="block", humanize=0.0))
    for c in song.chords:
        sounding = {n.pitch % 12 for n in keys.notes if n.start == c.start}
        required = set(c.pitch_classes) - {c.bass} - ({(c.root + 7) % 12} if len(c.pitch_classes) > 4 else set())
        assert required <= sounding, c.name
    # one bass note per beat, on the beat
    assert sorted({n.start for n in bass.notes}) == [b.tick for b in beat_grid(song, 0, song.chords[-1].end)]
    waltz = _song((3, 4))
    waltz_bass, _ = accompany(waltz, AccompanyOptions(style="waltz", humanize=0.0))
    assert {n.start for n in waltz_bass.notes} == {c.start for c in waltz.chords} | set(range(0, waltz.chords[-1].end, 1440))


def test_approach_notes_lead_by_step_into_the_next_chord() -> None:
    song = _song()
    bass, _ = accompany(song, AccompanyOptions(style="block", humanize=0.0))
    notes = list(bass.notes)
    changes = [i for i, n in enumerate(notes) if i and any(c.start == n.start for c in song.chords)]
    steps = [abs(notes[i].pitch - notes[i - 1].pitch) for i in changes if notes[i - 1].start not in
             {c.start for c in song.chords}]
    assert steps and sum(1 <= s <= 2 for s in steps) / len(steps) >= 0.8


def test_voice_leading_moves_less_than_root_position_chords() -> None:
    chords = [c for c in _song().chords]
    smooth = voice_progression(chords, 50, 77, 4)
    moved = sum(sum(abs(a - b) for a, b in zip(x, y)) for x, y in zip(smooth, smooth[1:]))
    rooted = [tuple(sorted(48 + 12 + (c.root + i) % 12 for i in (0, 4, 7, 12))) for c in chords]
    naive = sum(sum(abs(a - b) for a, b in zip(x, y)) for x, y in zip(rooted, rooted[1:]))
    assert moved < naive / 2
    assert all(len(set(v)) == 4 and 50 <= v[0] and v[-1] <= 77 for v in smooth)


def test_humanise_is_seeded_and_stays_near_the_grid() -> None:
    song = _song()
    a = accompany(song, AccompanyOptions(humanize=1.0, seed=3))
    assert a == accompany(song, AccompanyOptions(humanize=1.0, seed=3))
    assert a != accompany(song, AccompanyOptions(humanize=1.0, seed=4))
    plain = accompany(song, AccompanyOptions(humanize=0.0))
    for h, p in zip(a, plain):
        assert [n.pitch for n in h.notes] != [] and len(h.notes) == len(p.notes)
        assert max(abs(x.start - y.start) for x, y in zip(sorted(h.notes, key=lambda n: (n.start, n.pitch)),
                                                          sorted(p.notes, key=lambda n: (n.start, n.pitch)))) <= 40
        assert {n.velocity for n in h.notes} != {n.velocity for n in p.notes}


def test_parts_can_be_left_out_and_a_span_accompanied() -> None:
    song = _song()
    (keys,) = accompany(song, AccompanyOptions(bass=False, humanize=0.0), start=4 * BAR, end=8 * BAR)
    assert keys.name == "Keys" and min(n.start for n in keys.notes) == 4 * BAR
    assert max(n.end for n in keys.notes) <= 8 * BAR
    assert len(add_accompaniment(song).tracks) == 3


def test_no_chords_or_bad_options_are_one_line_errors() -> None:
    with pytest.raises(AccompanyError, match="no chords"):
        accompany(Song(tracks=(Track("x", 0, 0, (Note(0, 60, 480),)),)))
    with pytest.raises(AccompanyError, match="unknown style"):
        AccompanyOptions(style="polka")
    with pytest.raises(AccompanyError, match="range"):
        AccompanyOptions(keys_range=(60, 64))


def test_accompanist_variations_differ_and_the_first_is_the_best_search() -> None:
    from musicapp.core.accompany import Accompanist

    song = _song()
    options = AccompanyOptions(humanize=0.0)
    cands = Accompanist().accompany(song, options, variations=3, seed=7)
    assert cands[0] == accompany(song, options)
    assert len({c for c in cands}) == 3
    for bass, keys in cands:  # every variation still follows the chords
        assert all(any(n.start == c.start and n.pitch % 12 == c.bass_pc for n in bass.notes) for c in song.chords)
        assert all(n.pitch % 12 in chord_at(song.chords, n.start).pitch_classes for n in keys.notes)
