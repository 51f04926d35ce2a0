"""Property tests: song -> .mid -> song is exact on the tick grid."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from song_strategies import songs

from musicapp.core.midifile import clean_name, midi_bytes, midi_normal_form, read_midi, write_midi
from musicapp.core.song import Note, Song, Track

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _without_mix(song: Song) -> Song:
    """MIDI has no mute/solo (and import trims name padding): clear those, keep the rest."""
    return song.replace(tracks=tuple(replace(t, name=clean_name(t.name), mute=False, solo=False)
                                     for t in song.tracks))


@SETTINGS
@given(songs(overlaps=False, min_length=1))
def test_song_without_overlaps_round_trips_exactly_through_midi(song: Song) -> None:
    assert read_midi(midi_bytes(song)) == _without_mix(song)


@SETTINGS
@given(songs(mixed_channels=True))
def test_any_song_reads_back_as_its_midi_normal_form(song: Song) -> None:
    normal = midi_normal_form(song)
    assert read_midi(midi_bytes(song)) == normal
    assert midi_normal_form(normal) == normal


def test_write_midi_file_round_trips(tmp_path) -> None:
    song = Song(tracks=(Track("Lead", 2, 81, (Note(0, 72, 240, 90, 2), Note(240, 74, 240, 91, 2))),))
    path = tmp_path / "lead.mid"
    write_midi(song, path)
    assert read_midi(path) == song
    assert path.read_bytes()[:4] == b"MThd" and path.read_bytes()[9] == 1  # type 1


def test_normal_form_cuts_overlap_and_keeps_longest_duplicate() -> None:
    track = Track("x", 0, 0, (Note(0, 60, 480, 90), Note(240, 60, 480, 80), Note(240, 60, 100, 70),
                              Note(960, 61, 0)))
    got = midi_normal_form(Song(tracks=(track,))).tracks[0].notes
    assert got == (Note(0, 60, 240, 90), Note(240, 60, 480, 80), Note(960, 61, 1))


def _scaled(song: Song, factor: int) -> Song:
    """The same song at ``factor`` times the resolution (every tick multiplied)."""
    tracks = tuple(replace(t, notes=tuple(replace(n, start=n.start * factor, length=n.length * factor)
                                          for n in t.notes),
                           controls=tuple(replace(c, tick=c.tick * factor) for c in t.controls))
                   for t in song.tracks)
    return Song(tracks, tuple(replace(tc, tick=tc.tick * factor) for tc in song.tempos),
                tuple(replace(m, tick=m.tick * factor) for m in song.meters), song.key, song.ppq * factor,
                tuple(c.moved(c.start * factor, c.length * factor) for c in song.chords))


@SETTINGS
@given(songs(overlaps=False, min_length=1), st.sampled_from([2, 4]))
def test_files_at_a_finer_division_are_rescaled_to_480_exactly(song: Song, factor: int) -> None:
    data = midi_bytes(_scaled(song, factor))
    assert int.from_bytes(data[12:14], "big") == 480 * factor
    assert read_midi(data) == _without_mix(song)
