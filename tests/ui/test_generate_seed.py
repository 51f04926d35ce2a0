"""The seed rules of the Generate panel: picking, splitting, and following edits (pure, no Qt)."""

from __future__ import annotations

import pytest

from musicapp.core.song import Note, Song, Track
from musicapp.ui.generate.seed import (
    SeedError, describe_seed, follow_edit, pick_seed, seed_from_notes, split_phrases,
)
from tests.ui.generate_helpers import PHRASE_A, PHRASE_B, Q, lead

BAR = 4 * Q


def test_selection_is_the_seed_and_the_continuation_starts_at_its_end_on_the_grid():
    song = lead(PHRASE_A)
    seed = pick_seed(song, 0, {(0, 0), (0, 1)}, cursor=6 * BAR)
    assert seed.notes == tuple(PHRASE_A[:2]) and seed.start == 2 * Q


def test_without_selection_the_notes_before_a_cursor_placed_after_the_phrase_are_the_seed():
    song = lead(PHRASE_A)
    seed = pick_seed(song, 0, (), cursor=3 * BAR)
    assert seed.notes == tuple(PHRASE_A) and seed.start == 8 * Q


def test_a_cursor_inside_the_tune_continues_after_its_last_note_never_over_it():
    song = lead(PHRASE_A + PHRASE_B)
    for cursor in (0, 5 * Q):  # an opened tune (cursor at bar 1) or a click inside it
        seed = pick_seed(song, 0, (), cursor=cursor)
        assert seed.start == PHRASE_B[-1].end
        assert seed.notes == tuple(PHRASE_A[4:] + PHRASE_B)  # bars 2-5: the last four bars
        assert describe_seed(song, seed) == "Seed: bars 2-5 of Lead (12 notes)"


def test_the_seed_is_bounded_to_the_last_four_bars():
    tune = [Note(i * Q, 60 + i % 7, Q, 90) for i in range(32)]  # 8 bars of quarters
    song = lead(tune)
    seed = pick_seed(song, 0, (), cursor=0)
    assert seed.notes == tuple(tune[16:]) and seed.start == 8 * BAR
    assert describe_seed(song, seed) == "Seed: bars 5-8 of Lead (16 notes)"


def test_a_lone_selected_note_anchors_the_phrase_at_its_end():
    song = lead(PHRASE_A)
    last = len(PHRASE_A) - 1
    seed = pick_seed(song, 0, {(0, last)}, cursor=0)  # the note just drawn
    assert seed.notes == tuple(PHRASE_A) and seed.start == PHRASE_A[-1].end
    inner = pick_seed(song, 0, {(0, 2)}, cursor=0)  # a note inside: never over the later notes
    assert inner.start == PHRASE_A[-1].end


def test_an_empty_active_track_reads_its_seed_from_the_track_with_notes():
    song = Song(tracks=(Track(name="Lead", notes=tuple(PHRASE_A)), Track(name="Bass", channel=1)))
    seed = pick_seed(song, 1, (), cursor=0)
    assert seed.track == 0 and seed.dest == 1 and seed.notes == tuple(PHRASE_A)
    assert describe_seed(song, seed) == "Seed from: Lead, bars 1-2 (8 notes), into Bass"
    chosen = pick_seed(song, 1, (), cursor=0, source=1)
    assert chosen.notes == () and chosen.dest == 1


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


def test_overlapping_counts_candidate_notes_on_top_of_existing_ones():
    from musicapp.ui.generate.seed import overlapping

    existing = [Note(0, 60, Q), Note(Q, 62, Q)]
    cands = [Note(Q // 2, 60, Q), Note(Q, 64, Q), Note(2 * Q, 62, Q)]  # one clash; touching is not one
    assert overlapping(cands, existing) == 1
    assert overlapping(cands, existing, ignore=[Note(0, 60, Q)]) == 0  # Vary replaces that note
