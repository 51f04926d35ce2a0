"""Pure song edits: new Songs, selections that follow the edited notes, clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicapp.core import edits
from musicapp.core.edits import EditError
from musicapp.core.song import Key, Note, Song, Track


def song(*notes: Note, channel: int = 0) -> Song:
    return Song(tracks=(Track("A", channel, 0, tuple(notes)),))


def test_add_notes_selects_new_notes_and_takes_track_channel():
    s = song(Note(0, 60, 100, channel=3), channel=3)
    r = edits.add_notes(s, 0, [Note(50, 62, 10)])
    assert r.song.tracks[0].notes == (Note(0, 60, 100, channel=3), Note(50, 62, 10, channel=3))
    assert r.selection == {(0, 1)}
    assert len(s.tracks[0].notes) == 1  # the input is untouched


def test_move_selection_follows_notes_through_resort():
    s = song(Note(0, 60, 10), Note(100, 62, 10), Note(200, 64, 10))
    r = edits.move_notes(s, {(0, 0)}, 300, 0)
    assert [n.start for n in r.song.tracks[0].notes] == [100, 200, 300]
    assert r.selection == {(0, 2)}


def test_move_of_one_of_two_identical_notes_moves_exactly_one():
    s = song(Note(0, 60, 10), Note(0, 60, 10))
    r = edits.move_notes(s, {(0, 1)}, 0, 5)
    assert r.song.tracks[0].notes == (Note(0, 60, 10), Note(0, 65, 10))


def test_move_clamps_as_a_group_keeping_shape():
    s = song(Note(100, 120, 10), Note(300, 125, 10))
    r = edits.move_notes(s, {(0, 0), (0, 1)}, -500, 12)
    assert [(n.start, n.pitch) for n in r.song.tracks[0].notes] == [(0, 122), (200, 127)]


def test_resize_quantize_velocity_duplicate_paste_remove():
    s = song(Note(10, 60, 100, 90), Note(250, 62, 100, 30))
    refs = {(0, 0), (0, 1)}
    assert [n.length for n in edits.resize_notes(s, refs, -500, 20).song.tracks[0].notes] == [20, 20]
    assert [n.start for n in edits.quantize_notes(s, refs, 120).song.tracks[0].notes] == [0, 240]
    assert {n.velocity for n in edits.set_velocity(s, refs, 64).song.tracks[0].notes} == {64}
    dup = edits.duplicate_notes(s, refs)
    assert [n.start for n in dup.song.tracks[0].notes] == [10, 250, 350, 590]
    assert dup.selection == {(0, 2), (0, 3)}
    pasted = edits.paste_notes(s, 0, [Note(500, 70, 10), Note(620, 72, 10)], 1000)
    assert [n.start for n in pasted.song.tracks[0].notes][-2:] == [1000, 1120]
    assert edits.remove_notes(s, {(0, 0)}).tracks[0].notes == (Note(250, 62, 100, 30),)


def test_track_and_song_edits():
    s = song(Note(0, 60, 10))
    s = edits.add_track(s, "Bass", 2, 33)
    s = edits.rename_track(s, 1, "Low")
    s = edits.set_track_channel(s, 0, 5)
    assert s.tracks[0].notes[0].channel == 5
    s = edits.set_track_program(edits.set_track_mute(edits.set_track_solo(s, 1, True), 1, True), 1, 40)
    assert (s.tracks[1].name, s.tracks[1].program, s.tracks[1].mute, s.tracks[1].solo) == ("Low", 40, True, True)
    s = edits.set_key(edits.set_meter(edits.set_tempo(s, 90), 3, 4), Key(9, "minor"))
    assert round(s.tempos[0].bpm) == 90 and s.meters[0].numerator == 3 and s.key == Key(9, "minor")
    assert len(edits.remove_track(s, 0).tracks) == 1


def test_extract_song_starts_at_the_bar_of_the_first_note():
    s = song(Note(1920 + 480, 60, 10), Note(5000, 62, 10), Note(100, 50, 10))
    out = edits.extract_song(s, {(0, 1), (0, 2)})
    assert [(n.start, n.pitch) for n in out.tracks[0].notes] == [(480, 60), (5000 - 1920, 62)]


@pytest.mark.parametrize("call", [
    lambda s: edits.move_notes(s, {(0, 9)}, 1, 0),
    lambda s: edits.add_notes(s, 4, []),
    lambda s: edits.set_velocity(s, {(0, 0)}, 0),
    lambda s: edits.rename_track(s, 0, "  "),
    lambda s: edits.set_tempo(s, 0),
    lambda s: edits.set_meter(s, 4, 3),
    lambda s: edits.quantize_notes(s, {(0, 0)}, 0),
    lambda s: edits.extract_song(s, set()),
])
def test_bad_edits_raise_one_line_edit_error(call):
    with pytest.raises(EditError) as err:
        call(song(Note(0, 60, 10)))
    assert "\n" not in str(err.value)


notes_st = st.lists(st.builds(Note, st.integers(0, 5000), st.integers(0, 127), st.integers(1, 500),
                              st.integers(1, 127)), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(notes_st, st.data())
def test_move_then_inverse_move_restores_song(ns, data):
    s = song(*ns)
    refs = set(data.draw(st.sets(st.integers(0, len(ns) - 1), min_size=1)))
    sel = {(0, i) for i in refs}
    moved = edits.move_notes(s, sel, data.draw(st.integers(-300, 300)), data.draw(st.integers(-20, 20)))
    assert len(moved.selection) == len(sel)
    dt = min(n.start for n in edits.notes_at(s, sel)) - min(n.start for n in edits.notes_at(moved.song, moved.selection))
    dp = min(n.pitch for n in edits.notes_at(s, sel)) - min(n.pitch for n in edits.notes_at(moved.song, moved.selection))
    back = edits.move_notes(moved.song, moved.selection, dt, dp)
    assert back.song.tracks[0].notes == s.tracks[0].notes


def test_set_controls_replaces_one_controllers_span_and_keeps_the_rest() -> None:
    from musicapp.core.song import Control

    bend = lambda t, v: Control(t, "pitchwheel", 0, v)  # noqa: E731
    pedal = Control(100, "control_change", 64, 127)
    song = Song(tracks=(Track(controls=(bend(0, 10), pedal, bend(200, 20), bend(900, 30))),))
    s = edits.set_controls(song, 0, "pitchwheel", 0, 150, 500, [(240, -100), (480, 0)])
    assert s.tracks[0].controls == (bend(0, 10), pedal, bend(240, -100), bend(480, 0), bend(900, 30))
    erased = edits.set_controls(s, 0, "pitchwheel", 0, 1000, 0)  # a span given backwards
    assert erased.tracks[0].controls == (pedal,)
    with pytest.raises(edits.EditError, match="outside"):
        edits.set_controls(song, 0, "control_change", 7, 0, 10, [(5, 200)])
    with pytest.raises(edits.EditError, match="must lie in"):
        edits.set_controls(song, 0, "control_change", 7, 0, 10, [(50, 2)])
