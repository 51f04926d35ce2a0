"""Grids, quantize and transpose in ticks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from musicapp.core.quantize import (
    GRIDS, Grid, ceil_tick, floor_tick, grid_lines, quantize, snap_tick, transpose)
from musicapp.core.song import Note, SongError

NOTES = st.builds(Note, st.integers(0, 20000), st.integers(0, 127), st.integers(0, 2000))
STEPS = st.sampled_from([g.ticks() for g in GRIDS])


def test_grid_ticks_and_labels() -> None:
    assert [g.ticks() for g in GRIDS[:6]] == [1920, 960, 480, 240, 120, 60]
    assert [g.ticks() for g in GRIDS[6:]] == [1280, 640, 320, 160, 80, 40]
    assert [g.label for g in GRIDS] == ["1/1", "1/2", "1/4", "1/8", "1/16", "1/32",
                                        "1/1T", "1/2T", "1/4T", "1/8T", "1/16T", "1/32T"]
    assert Grid.parse("1/8T") == Grid(8, True) and Grid.parse(" 1 / 16 ") == Grid(16)


@pytest.mark.parametrize("bad", ["1/3", "1/64", "quarter", "2/4"])
def test_bad_grid_is_refused(bad: str) -> None:
    with pytest.raises(SongError):
        Grid.parse(bad)


def test_snap_floor_ceil_and_lines() -> None:
    assert [snap_tick(t, 120) for t in (0, 59, 60, 61, 179, 180)] == [0, 0, 120, 120, 120, 240]
    assert snap_tick(80, 160) == 160 and snap_tick(79, 160) == 0
    assert floor_tick(239, 120) == 120 and ceil_tick(121, 120) == 240 and ceil_tick(240, 120) == 240
    assert list(grid_lines(100, 500, 120)) == [120, 240, 360, 480]
    with pytest.raises(SongError):
        snap_tick(10, 0)


@given(st.lists(NOTES, max_size=20), STEPS)
def test_full_quantize_puts_every_start_on_the_grid_and_keeps_lengths(notes, step) -> None:
    out = quantize(notes, step)
    assert len(out) == len(notes)
    for before, after in zip(notes, out):
        assert after.start % step == 0
        assert abs(after.start - before.start) <= step // 2
        assert (after.length, after.pitch, after.velocity) == (before.length, before.pitch, before.velocity)


@given(st.lists(NOTES, max_size=20), STEPS)
def test_quantizing_ends_puts_ends_on_grid_and_never_shrinks_to_nothing(notes, step) -> None:
    for after in quantize(notes, step, ends=True):
        assert after.start % step == 0 and after.end % step == 0 and after.length >= step


@given(st.lists(NOTES, max_size=20), STEPS, st.floats(0, 1))
def test_partial_strength_moves_part_way(notes, step, strength) -> None:
    full = quantize(notes, step)
    for before, snapped, after in zip(notes, full, quantize(notes, step, strength=strength)):
        lo, hi = sorted((before.start, snapped.start))
        assert lo <= after.start <= hi


def test_strength_examples_and_limits() -> None:
    n = Note(100, 60, 200)
    assert quantize([n], 120, strength=0.5) == (Note(110, 60, 200),)
    assert quantize([n], 120, strength=0.0) == (n,)
    with pytest.raises(SongError, match="strength"):
        quantize([n], 120, strength=1.5)


def test_transpose_errors_or_clamps_at_the_pitch_range() -> None:
    notes = [Note(0, 60, 10), Note(0, 120, 10)]
    assert [n.pitch for n in transpose(notes, -12)] == [48, 108]
    with pytest.raises(SongError, match=r"\+12 would move pitch 120 above 127"):
        transpose(notes, 12)
    assert [n.pitch for n in transpose(notes, 12, clamp=True)] == [72, 127]
    assert [n.pitch for n in transpose(notes, -100, clamp=True)] == [0, 20]
