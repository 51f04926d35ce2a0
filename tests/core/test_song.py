"""The song model: validation and the ticks <-> seconds / bars conversions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from song_strategies import meters, songs, tempos

from musicapp.core.song import Control, Key, Note, Song, SongError, TempoChange, TimeSignature, Track


@pytest.mark.parametrize("make", [
    lambda: Note(0, 128, 10), lambda: Note(-1, 60, 10), lambda: Note(0, 60, -1),
    lambda: Note(0, 60, 10, 0), lambda: Note(0, 60, 10, 100, 16), lambda: Track(channel=16),
    lambda: Track(program=128), lambda: TempoChange(0, 0), lambda: TimeSignature(0, 0, 4),
    lambda: TimeSignature(0, 4, 3), lambda: Key(12), lambda: Key(0, "not a mode"),
    lambda: Song(ppq=0), lambda: Control(-1, "control_change", 7, 0), lambda: Control(0, "sysex"),
    lambda: Control(0, "control_change", 128, 0), lambda: Control(0, "pitchwheel", 0, 8192),
    lambda: Control(0, "program_change", 1, 0), lambda: Control(0, "aftertouch", 0, 128),
])
def test_invalid_values_raise_songerror(make) -> None:
    with pytest.raises(SongError):
        make()


def test_control_messages_are_midi_bytes_on_the_given_channel() -> None:
    assert Control(0, "control_change", 64, 127).message(2) == (0xB2, 64, 127)
    assert Control(0, "pitchwheel", 0, 0).message(0) == (0xE0, 0, 64)
    assert Control(0, "pitchwheel", 0, -8192).message(1) == (0xE1, 0, 0)
    assert Control(0, "pitchwheel", 0, 8191).message(1) == (0xE1, 127, 127)
    assert Control(0, "program_change", 0, 40).message(15) == (0xCF, 40)
    assert Control(0, "aftertouch", 0, 5).message(9) == (0xD9, 5)
    assert Control(0, "polytouch", 60, 5).message(0) == (0xA0, 60, 5)


def test_track_sorts_controls_by_tick_keeping_same_tick_order() -> None:
    rpn = [Control(10, "control_change", 101, 0), Control(10, "control_change", 100, 0),
           Control(10, "control_change", 6, 12)]
    track = Track(controls=(Control(20, "pitchwheel", 0, 1), *rpn, Control(0, "control_change", 7, 1)))
    assert track.controls == (Control(0, "control_change", 7, 1), *rpn, Control(20, "pitchwheel", 0, 1))


def test_tempo_and_meter_lists_are_sorted_and_start_at_zero() -> None:
    song = Song(tempos=(TempoChange(960, 400_000), TempoChange(480, 300_000)),
                meters=(TimeSignature(1920, 3, 4),))
    assert [t.tick for t in song.tempos] == [0, 480, 960]
    assert song.tempos[0].us_per_beat == 300_000
    assert song.meters == (TimeSignature(0, 3, 4), TimeSignature(1920, 3, 4))


def test_seconds_follow_the_tempo_map() -> None:
    song = Song(tempos=(TempoChange(0, 500_000), TempoChange(960, 1_000_000)))
    assert song.tick_to_seconds(960) == pytest.approx(1.0)
    assert song.tick_to_seconds(1440) == pytest.approx(2.0)
    assert song.seconds_to_tick(2.0) == pytest.approx(1440)
    assert song.tempo_at(959).us_per_beat == 500_000 and song.tempo_at(960).us_per_beat == 1_000_000


@settings(deadline=None)
@given(st.lists(tempos, min_size=1, max_size=5), st.integers(0, 480 * 200))
def test_seconds_to_tick_inverts_tick_to_seconds(changes, tick) -> None:
    song = Song(tempos=tuple(changes))
    # float seconds: at 1 us per beat after ~30 s, a tick is 2 ns, so double rounding of the
    # seconds (~4e-15 s) is ~2e-6 ticks; 0.01 tick is still far below anything audible or visible
    assert song.seconds_to_tick(song.tick_to_seconds(tick)) == pytest.approx(tick, abs=1e-2)


@settings(deadline=None)
@given(st.lists(meters, min_size=1, max_size=5), st.integers(0, 480 * 200))
def test_bar_beat_round_trips_and_matches_bar_starts(changes, tick) -> None:
    song = Song(meters=tuple(changes))
    bar, beat, rest = song.tick_to_bar_beat(tick)
    assert song.bar_beat_to_tick(bar, beat, rest) == tick
    starts = song.bar_starts(tick)
    assert len(starts) == bar + 1 and starts[-1] <= tick
    assert song.bar_beat_to_tick(bar) == starts[-1]


def test_meter_change_mid_bar_starts_a_new_bar() -> None:
    song = Song(meters=(TimeSignature(0, 4, 4), TimeSignature(2400, 3, 4)))
    assert song.bar_starts(4000) == [0, 1920, 2400, 3840]
    assert song.tick_to_bar_beat(2400) == (2, 0, 0)


def test_song_is_hashable_and_equal_by_value() -> None:
    a = Song((Track("x", 0, 0, (Note(480, 60, 10), Note(0, 62, 10))),))
    b = Song((Track("x", 0, 0, (Note(0, 62, 10), Note(480, 60, 10))),))
    a.tick_to_seconds(100)  # fills a's tempo cache; must not affect equality
    assert a == b and hash(a) == hash(b)


@settings(max_examples=30, deadline=None)
@given(songs())
def test_replace_keeps_the_song_valid(song) -> None:
    assert song.replace(key=None).tracks == song.tracks


def test_control_from_message_inverts_message_and_refuses_notes_and_junk() -> None:
    for c in (Control(5, "control_change", 64, 127), Control(5, "pitchwheel", 0, -8192),
              Control(5, "pitchwheel", 0, 8191), Control(5, "program_change", 0, 40),
              Control(5, "aftertouch", 0, 9), Control(5, "polytouch", 60, 3)):
        assert Control.from_message(5, c.message(3)) == c
    assert Control.from_message(0, (0x90, 60, 100)) is None
    assert Control.from_message(0, (0xF8,)) is None
    assert Control.from_message(0, (0xB0, 7)) is None  # truncated
    assert Control.from_message(0, ()) is None
