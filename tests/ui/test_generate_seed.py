"""The seed rules of the Generate panel: picking, splitting, and following edits (pure, no Qt)."""

from __future__ import annotations

import pytest

from musicapp.core.song import Note
from musicapp.ui.generate.seed import SeedError, follow_edit, pick_seed, seed_from_notes, split_phrases
from tests.ui.generate_helpers import PHRASE_A, PHRASE_B, Q, lead

BAR = 4 * Q


def test_selection_is_the_seed_and_the_continuation_starts_at_its_end_on_the_grid():
    song = lead(PHRASE_A)
    seed = pick_seed(song, 0, {(0, 0), (0, 1)}, cursor=6 * BAR)
    assert seed.notes == tuple(PHRASE_A[:2]) and seed.start == 2 * Q


def test_without_selection_the_notes_before_the_cursor_are_the_seed():
    song = lead(PHRASE_A + PHRASE_B)
    seed = pick_seed(song, 0, (), cursor=5 * Q)
    assert seed.notes == tuple(PHRASE_A[:5]) and seed.start == 5 * Q


def test_an_empty_seed_continues_from_the_cursor():
    seed = pick_seed(lead([]), 0, (), cursor=Q + 7)
    assert seed.notes == () and seed.start == Q + Q // 4  # next 16th


def test_moving_a_seed_note_moves_it_in_the_seed():
    song = lead(PHRASE_A)
    seed = seed_from_notes(song, 0, PHRASE_A)
    moved = PHRASE_A[-1].moved(dp=3)
    after = tuple(sorted(PHRASE_A[:-1] + [moved]))
    new = follow_edit(seed, tuple(PHRASE_A), after, Q, BAR)
    assert new is not None and moved in new.notes and PHRASE_A[-1] not in new.notes


def test_adding_after_the_phrase_extends_the_seed_and_deleting_shrinks_it():
    song = lead(PHRASE_A)
    seed = seed_from_notes(song, 0, PHRASE_A)
    extra = Note(seed.start, 70, Q)
    grown = follow_edit(seed, tuple(PHRASE_A), tuple(PHRASE_A) + (extra,), Q, BAR)
    assert grown is not None and extra in grown.notes and grown.start == seed.start + Q
    shrunk = follow_edit(seed, tuple(PHRASE_A), tuple(PHRASE_A[:-1]), Q, BAR)
    assert shrunk is not None and shrunk.start == PHRASE_A[-1].start


def test_edits_away_from_the_seed_are_ignored():
    song = lead(PHRASE_A)
    seed = seed_from_notes(song, 0, PHRASE_A)
    far = Note(20 * BAR, 50, Q)
    assert follow_edit(seed, tuple(PHRASE_A), tuple(PHRASE_A) + (far,), Q, BAR) is None
    assert follow_edit(seed, tuple(PHRASE_A), tuple(PHRASE_A), Q, BAR) is None


def test_split_phrases_cuts_at_the_widest_gap():
    a, b = split_phrases(PHRASE_B + PHRASE_A)
    assert a == PHRASE_A and b == PHRASE_B
    with pytest.raises(SeedError):
        split_phrases(PHRASE_A[:1])
    with pytest.raises(SeedError):
        split_phrases([Note(0, 60, Q), Note(0, 64, Q)])
