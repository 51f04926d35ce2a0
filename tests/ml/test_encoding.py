"""Melody encoding: token round trips, full pitch range, bar positions, top line, transposition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicapp.core.song import Note, TimeSignature
from musicapp.ml.encoding import (HOLD, REST, decode_notes, encode_notes, pitch_token, positions_from_bars,
                                  positions_from_meters, steps_to_tokens, tokens_to_steps, top_line,
                                  transpose_tokens, random_transpose)


def test_round_trip_keeps_extreme_pitches_0_and_127():
    notes = [Note(0, 0, 480), Note(480, 127, 240), Note(1200, 64, 120)]
    melody, origin = encode_notes(notes)
    assert origin == 0
    assert melody.tokens.tolist() == [pitch_token(0), HOLD, HOLD, HOLD, pitch_token(127), HOLD, REST, HOLD,
                                      HOLD, HOLD, pitch_token(64)]
    assert decode_notes(melody.tokens) == notes


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 8), st.integers(1, 12), st.integers(0, 127)), min_size=1, max_size=30))
def test_steps_round_trip_for_any_monophonic_line(rows):
    notes, t = [], 0
    for gap, length, pitch in rows:  # gap >= 1 keeps onsets distinct; lengths may overlap the next note
        t += gap
        notes.append((t, length, pitch))
    expected = [(on, min(ln, notes[i + 1][0] - on) if i + 1 < len(notes) else ln, p)
                for i, (on, ln, p) in enumerate(notes)]
    assert tokens_to_steps(steps_to_tokens(notes)) == expected


def test_top_line_keeps_highest_note_and_cuts_overlaps():
    chord = [Note(0, 60, 960), Note(0, 67, 960), Note(0, 64, 960), Note(480, 55, 480)]
    assert top_line(chord) == [(0, 4, 67), (4, 4, 55)]


def test_bar_position_follows_meter_changes():
    meters = [TimeSignature(0, 3, 4), TimeSignature(1440 * 2, 6, 8)]  # two 3/4 bars, then 6/8
    pos, blen = positions_from_meters(meters, 0, 40)
    assert pos[:12].tolist() == list(range(12))
    assert pos[12] == 0 and pos[24] == 0 and pos[36] == 0
    assert blen[0] == 12 and blen[30] == 12  # 6/8 bar = 12 sixteenths too
    pos, blen = positions_from_bars([(0, 4), (4, 16)], 30)
    assert pos[:6].tolist() == [0, 1, 2, 3, 0, 1] and pos[20] == 0 and blen[25] == 16


def test_transpose_shifts_only_note_ons_and_refuses_leaving_range():
    toks = np.array([pitch_token(60), HOLD, REST, pitch_token(127)])
    assert transpose_tokens(toks, -2).tolist() == [pitch_token(58), HOLD, REST, pitch_token(125)]
    with pytest.raises(ValueError):
        transpose_tokens(toks, 1)
    rng = np.random.default_rng(0)
    for _ in range(50):
        out = random_transpose(toks, rng, max_shift=6)
        assert out.max() <= pitch_token(127) and out[1] == HOLD


def test_encode_notes_starts_at_bar_of_first_note_and_decodes_in_ticks():
    notes = [Note(1920 + 240, 62, 240), Note(1920 + 480, 65, 480)]
    melody, origin = encode_notes(notes)
    assert origin == 16  # the second 4/4 bar
    assert decode_notes(melody.tokens, start_tick=origin * 120) == notes
