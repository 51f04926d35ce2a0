"""Chord symbols: parsing and naming, pitch classes, transposition, the chord track in projects
and .mid files, and the chord-track edits."""

from __future__ import annotations

import json

import mido
import pytest
from hypothesis import given
from hypothesis import strategies as st

from musicapp.core.chord_edits import (
    add_chord, add_chord_named, chord_index_at, move_chord, remove_chords, rename_chord,
    replace_chords, resize_chord, transpose_chords)
from musicapp.core.chords import QUALITIES, Chord, ChordError, chord_at, parse_chord_name
from musicapp.core.edits import EditError
from musicapp.core.errors import MusicappError, ProjectError
from musicapp.core.midifile import midi_bytes, read_midi, read_midi_details
from musicapp.core.project import load_project, project_from_bytes, save_project
from musicapp.core.song import Note, Song, SongError, Track

BAR = 1920


@pytest.mark.parametrize("name, root, quality, bass", [
    ("C", 0, "maj", None), ("F#m7", 6, "m7", None), ("Bb/D", 10, "maj", 2), ("Gsus4", 7, "sus4", None),
    ("Ebmaj7", 3, "maj7", None), ("Bm7b5", 11, "m7b5", None), ("Adim7", 9, "dim7", None),
    ("Caug", 0, "aug", None), ("Dsus2", 2, "sus2", None), ("G7", 7, "7", None), ("F6", 5, "6", None),
    ("Am6", 9, "m6", None), ("Cadd9", 0, "add9", None), ("Bdim", 11, "dim", None), ("C#m", 1, "min", None),
    ("Abm7/F#", 8, "m7", 6)])
def test_canonical_names_parse_and_name_back(name, root, quality, bass) -> None:
    assert parse_chord_name(name) == (root, quality, bass)
    assert Chord.parse(name).name == name


@pytest.mark.parametrize("alias, canonical", [
    ("CM7", "Cmaj7"), ("C-7", "Cm7"), ("Cmin", "Cm"), ("C\u00f8", "Cm7b5"), ("Co7", "Cdim7"),
    ("C+", "Caug"), ("Csus", "Csus4"), ("Gb", "F#"), ("am", "Am"), ("C/C", "C"), (" Db/F ", "C#/F"),
    ("B\u266dm", "Bbm")])
def test_aliases_parse_to_the_canonical_name(alias, canonical) -> None:
    assert Chord.parse(alias).name == canonical


@pytest.mark.parametrize("bad", ["", "H", "Cxyz", "C/H", "Cm7/", "7", "C#m7b5b9", "x" * 200, "C/D/E"])
def test_bad_names_raise_one_line_chord_errors(bad) -> None:
    with pytest.raises(ChordError) as info:
        parse_chord_name(bad)
    assert isinstance(info.value, MusicappError) and "\n" not in str(info.value)


@given(st.integers(0, 11), st.sampled_from(sorted(QUALITIES)), st.none() | st.integers(0, 11))
def test_every_chord_round_trips_through_its_name(root, quality, bass) -> None:
    chord = Chord(0, 480, root, quality, bass)
    assert Chord.parse(chord.name, 0, 480) == chord


def test_pitch_classes_and_transpose() -> None:
    assert Chord.parse("C").pitch_classes == (0, 4, 7)
    assert Chord.parse("G7").pitch_classes == (7, 11, 2, 5)
    assert Chord.parse("Cadd9").pitch_classes == (0, 4, 7, 2)
    assert Chord.parse("C/Bb").pitch_classes == (0, 4, 7, 10)
    assert Chord.parse("C7/Bb").pitch_classes == (0, 4, 7, 10)
    assert Chord.parse("Bb/D").transposed(2).name == "C/E"
    assert Chord.parse("B").transposed(1).name == "C"
    assert Chord.parse("F/A").bass_pc == 9 and Chord.parse("F").bass_pc == 5


def test_song_sorts_its_chords_and_refuses_overlaps() -> None:
    song = Song(chords=(Chord(BAR, BAR, 7), Chord(0, BAR, 0)))
    assert [c.name for c in song.chords] == ["C", "G"]
    assert chord_at(song.chords, BAR + 5).name == "G" and chord_at(song.chords, 2 * BAR) is None
    with pytest.raises(SongError, match="overlap"):
        Song(chords=(Chord(0, BAR, 0), Chord(BAR - 1, BAR, 7)))


def _song() -> Song:
    melody = Track("Melody", 0, 0, (Note(0, 72, 480), Note(BAR, 71, 480), Note(3 * BAR, 72, BAR)))
    return Song(tracks=(melody,), chords=(Chord.parse("C", 0, BAR), Chord.parse("G7/B", BAR, BAR),
                                          Chord.parse("Am", 3 * BAR, BAR // 2)))


def test_chords_round_trip_through_a_project(tmp_path) -> None:
    path = tmp_path / "song.musicapp"
    save_project(path, _song())
    assert load_project(path)[0] == _song()
    assert json.loads(path.read_text())["song"]["chords"][1] == [BAR, BAR, "G7/B"]


def test_project_without_chords_loads_and_bad_chord_names_are_project_errors(tmp_path) -> None:
    save_project(tmp_path / "a.musicapp", _song())
    doc = json.loads((tmp_path / "a.musicapp").read_text())
    doc["schema_version"] = 2
    del doc["song"]["chords"]
    assert project_from_bytes(json.dumps(doc).encode())[0].chords == ()
    doc["song"]["chords"] = [[0, BAR, "Qm7"]]
    with pytest.raises(ProjectError, match="song chord 1: .*Qm7"):
        project_from_bytes(json.dumps(doc).encode())
    doc["song"]["chords"] = [[0, BAR, "C"], [10, BAR, "D"]]
    with pytest.raises(ProjectError, match="overlap"):
        project_from_bytes(json.dumps(doc).encode())


def test_chords_round_trip_through_midi_as_markers() -> None:
    data = midi_bytes(_song())
    markers = [(m.text) for m in mido.MidiFile(file=__import__("io").BytesIO(data)).tracks[0]
               if m.type == "marker"]
    assert markers == ["C", "G7/B", "N.C.", "Am", "N.C."]
    assert read_midi(data).chords == _song().chords


def _file_with_markers(markers: list[tuple[int, str]]) -> bytes:
    mf = mido.MidiFile(type=1, ticks_per_beat=480)
    cond = mido.MidiTrack()
    now = 0
    for tick, text in markers:
        cond.append(mido.MetaMessage("marker", text=text, time=tick - now))
        now = tick
    lead = mido.MidiTrack([mido.Message("note_on", note=60, velocity=90, time=0),
                           mido.Message("note_off", note=60, time=4 * BAR)])
    mf.tracks += [cond, lead]
    out = __import__("io").BytesIO()
    mf.save(file=out)
    return out.getvalue()


def test_daw_markers_make_chords_and_other_markers_are_kept_and_written_back() -> None:
    got = read_midi_details(_file_with_markers([(0, "Verse"), (0, "Dm7"), (BAR, "G7"), (2 * BAR, "Chorus"),
                                                (3 * BAR, "Cmaj7")]))
    assert [(c.start, c.length, c.name) for c in got.song.chords] == [
        (0, BAR, "Dm7"), (BAR, 2 * BAR, "G7"), (3 * BAR, BAR, "Cmaj7")]
    kept = [(e.tick, e.kind, e.data) for e in got.song.extras]
    assert kept == [(0, 0x06, b"Verse"), (2 * BAR, 0x06, b"Chorus")]
    again = read_midi_details(midi_bytes(got.song))  # section names and chords both go back out
    assert again.song.chords == got.song.chords
    assert [(e.tick, e.kind, e.data) for e in again.song.extras] == kept


def test_garbage_markers_are_left_out_and_a_file_without_markers_has_no_chords() -> None:
    got = read_midi_details(_file_with_markers([(0, "\x00\xff??"), (5, "C/" + "x" * 300), (BAR, "")]))
    assert got.song.chords == () and got.song.tracks[0].notes
    assert read_midi_details(_file_with_markers([])).song.chords == ()


def test_add_cuts_back_what_the_new_chord_covers() -> None:
    song = Song(chords=(Chord.parse("C", 0, 4 * BAR),))
    song = add_chord_named(song, "F", BAR, BAR)
    assert [(c.start, c.length, c.name) for c in song.chords] == [
        (0, BAR, "C"), (BAR, BAR, "F"), (2 * BAR, 2 * BAR, "C")]
    song = add_chord(song, Chord.parse("G", BAR // 2, 2 * BAR))
    assert [(c.start, c.name) for c in song.chords] == [(0, "C"), (BAR // 2, "G"), (BAR // 2 + 2 * BAR, "C")]


def test_move_resize_rename_transpose_remove() -> None:
    song = _song()
    moved = move_chord(song, 2, 2 * BAR)
    assert moved.chords[2].start == 2 * BAR and moved.chords[2].name == "Am"
    grown = resize_chord(song, 0, 2 * BAR + 10)  # covers G7/B and cuts 10 ticks off nothing else
    assert [c.name for c in grown.chords] == ["C", "Am"] and grown.chords[0].length == 2 * BAR + 10
    assert rename_chord(song, 1, "Dm").chords[1].name == "Dm"
    assert [c.name for c in transpose_chords(song, None, 2).chords] == ["D", "A7/C#", "Bm"]
    assert [c.name for c in remove_chords(song, [0, 2]).chords] == ["G7/B"]
    assert chord_index_at(song, BAR + 1) == 1 and chord_index_at(song, 2 * BAR) is None
    replaced = replace_chords(song, 0, 2 * BAR, [Chord.parse("F", 0, BAR)])
    assert [c.name for c in replaced.chords] == ["F", "Am"]


def test_bad_chord_edits_raise_edit_errors_and_change_nothing() -> None:
    song = _song()
    with pytest.raises(EditError, match="Xm"):
        rename_chord(song, 0, "Xm")
    with pytest.raises(EditError, match="no chord 9"):
        move_chord(song, 9, 0)
    with pytest.raises(EditError):
        add_chord_named(song, "C", -5, BAR)
    assert song == _song()
