"""The jam's thread-free parts: grid, the call as the model reads it, key, register, choice."""

from __future__ import annotations

from musicapp.core.scales import parse_key, scale_pitch_classes
from musicapp.core.song import Note, Song, TimeSignature
from musicapp.engine.jam_parts import (
    Grid, answer_pitch_classes, answer_register, call_key, choose_answer, cut_answer, quantized_call,
    similarity,
)


def test_grid_finds_bar_lines_and_beats_across_a_meter_change():
    grid = Grid(Song(meters=(TimeSignature(0, 4, 4), TimeSignature(3840, 3, 4))))
    assert grid.bar_floor(2000) == 1920 and grid.bar_ceil(2000) == 3840
    assert grid.bar_ceil(3841) == 3840 + 1440 and grid.add_bars(1920, 2) == 3840 + 1440
    assert grid.beat_ceil(3841) == 4320 and grid.snap16(1979) == 1920 and grid.snap16(1981) == 2040


def test_the_call_is_read_on_16ths_and_its_last_note_lasts_to_the_answer():
    grid = Grid(Song())
    call = [Note(5, 60, 100), Note(470, 62, 50), Note(3830, 64, 10)]  # the last rounds to 3840
    seed = quantized_call(call, grid, 3840)
    assert [(n.start, n.pitch, n.length) for n in seed] == [(0, 60, 120), (480, 62, 3360)]


def test_a_short_call_gets_the_key_it_starts_on_and_only_notes_every_fitting_key_has():
    d_major = [Note(i * 480, p, 240) for i, p in enumerate((62, 66, 69, 74, 73, 71, 69, 66))]
    key = call_key(d_major)
    assert key == parse_key("D major")
    classes = answer_pitch_classes(d_major, key)
    assert classes <= scale_pitch_classes(key) and {2, 6, 9, 1, 11} <= classes
    two_notes = [Note(0, 60, 480), Note(480, 67, 480)]
    assert answer_pitch_classes(two_notes, parse_key("C major")) == scale_pitch_classes(parse_key("C major"))


def test_the_answer_register_is_the_calls_widened_to_an_octave_at_least():
    assert answer_register([Note(0, 64, 1), Note(1, 65, 1)]) == (58, 70)
    assert answer_register([Note(0, 50, 1), Note(1, 80, 1)]) == (47, 83)


def test_a_candidate_copying_the_call_is_passed_over():
    call = [Note(i * 240, 60 + i, 240) for i in range(8)]
    copy = [n.moved(dt=3840) for n in call]
    other = [Note(3840 + i * 480, 72 - i, 240) for i in range(4)]
    assert similarity(call, 0, copy, 3840) == 1.0
    assert choose_answer(call, 0, [copy, other], 3840) == other
    assert choose_answer(call, 0, [[], copy], 3840) == copy  # all else empty: better than silence


def test_a_cut_keeps_what_sounded_up_to_the_cut():
    planned = [Note(0, 60, 480), Note(480, 62, 480), Note(960, 64, 480)]
    assert cut_answer(planned, 600) == [Note(0, 60, 480), Note(480, 62, 120)]


def test_the_clock_follower_reads_tempo_and_bar_lines_through_late_bunched_stamps():
    import random

    from musicapp.engine.clock_in import ClockFollower

    rng, clock = random.Random(1), ClockFollower()
    pulse = 60.0 / (150 * 24)
    clock.feed(99.0, (0xFA,))
    held = 0.0
    for k in range(150):
        true = 100.0 + k * pulse
        late = 0.002 * rng.random()
        if 40 <= k < 55:  # the poll thread starved: these arrive together, 30 ms late at most
            held = max(held, 100.0 + 55 * pulse)
            late = held - true
        clock.feed(true + late, (0xF8,))
    assert abs(clock.tempo_bpm() - 150) < 0.5
    bar = clock.next_beat(101.0)
    assert abs(bar - (100.0 + 96 * pulse)) < 0.003  # the next bar line from the Start
