"""Bars, positions and durations for display."""

from __future__ import annotations

from musicapp.core.song import Song, TempoChange, TimeSignature
from musicapp.core.timing import bars_spanned, format_position, format_seconds


def test_bars_spanned_counts_a_started_bar_and_follows_meter_changes() -> None:
    song = Song(meters=(TimeSignature(0, 4, 4), TimeSignature(3840, 3, 4)))
    assert [bars_spanned(song, t) for t in (0, 1, 1920, 1921, 3840, 3840 + 1440, 3841 + 1440)] == [
        0, 1, 1, 2, 2, 3, 4]


def test_format_position_is_one_based_bar_beat_tick() -> None:
    song = Song(meters=(TimeSignature(0, 6, 8),))
    assert format_position(song, 0) == "1.1.0"
    assert format_position(song, 1440 + 250) == "2.2.10"


def test_format_seconds() -> None:
    assert format_seconds(0) == "0:00.000"
    assert format_seconds(61.2346) == "1:01.235"
    assert format_seconds(3723.5) == "1:02:03.500"
    song = Song(tempos=(TempoChange(0, 1_000_000),))
    assert format_seconds(song.tick_to_seconds(480 * 90)) == "1:30.000"
