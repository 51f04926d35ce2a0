"""MIDI export: type 1 layout, no hanging notes, atomic writes, disk-full errors."""

from __future__ import annotations

import errno
import io
import os

import mido
import pytest

from musicapp.core import atomic
from musicapp.core.errors import MidiFileError
from musicapp.core.midifile import midi_bytes, read_midi, write_midi
from musicapp.core.song import Control, Key, Note, Song, TempoChange, TimeSignature, Track


def _song() -> Song:
    lead = Track("Lead", 0, 40, (Note(0, 60, 480), Note(240, 60, 480), Note(960, 62, 0)))
    drums = Track("Drums", 9, 0, (Note(0, 36, 10, 120, 9),))
    return Song((lead, drums), (TempoChange(0, 400_000), TempoChange(1920, 600_000)),
                (TimeSignature(0, 3, 4), TimeSignature(1440, 6, 8)), Key(9, "minor"))


def test_export_is_type1_with_conductor_and_one_track_per_song_track() -> None:
    mf = mido.MidiFile(file=io.BytesIO(midi_bytes(_song())))
    assert mf.type == 1 and mf.ticks_per_beat == 480 and len(mf.tracks) == 3
    metas = [m.type for m in mf.tracks[0]]
    assert metas.count("set_tempo") == 2 and metas.count("time_signature") == 2
    assert [m.key for m in mf.tracks[0] if m.type == "key_signature"] == ["Am"]
    first = [m for m in mf.tracks[1] if m.time == 0][:2]
    assert first[0].type == "track_name" and first[0].name == "Lead"
    assert first[1].type == "program_change" and first[1].program == 40


def test_export_leaves_no_hanging_notes() -> None:
    for track in mido.MidiFile(file=io.BytesIO(midi_bytes(_song()))).tracks[1:]:
        sounding: dict[tuple[int, int], int] = {}
        for msg in track:
            if msg.type == "note_on" and msg.velocity:
                key = (msg.channel, msg.note)
                assert sounding.get(key, 0) == 0, "same pitch started twice without an end"
                sounding[key] = 1
            elif msg.type in ("note_on", "note_off"):
                sounding[(msg.channel, msg.note)] -= 1
        assert all(v == 0 for v in sounding.values())
        assert track[-1].type == "end_of_track"


def test_modal_key_survives_the_round_trip() -> None:
    song = Song(key=Key(2, "dorian"))
    assert read_midi(midi_bytes(song)).key == Key(2, "dorian")


def test_write_replaces_existing_file_and_leaves_no_temp_files(tmp_path) -> None:
    path = tmp_path / "out.mid"
    path.write_bytes(b"old")
    write_midi(_song(), path)
    assert read_midi(path).note_count == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mid"]


def test_full_disk_raises_midifileerror_and_keeps_the_old_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "out.mid"
    path.write_bytes(b"precious")

    def full_disk(fd):  # the real ENOSPC cannot be produced without mounting a tiny filesystem
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full_disk)
    with pytest.raises(MidiFileError, match="cannot write .*out.mid: No space left on device"):
        write_midi(_song(), path)
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mid"]


def test_write_into_missing_folder_is_a_midifileerror(tmp_path) -> None:
    with pytest.raises(MidiFileError, match="cannot write"):
        write_midi(_song(), tmp_path / "nope" / "out.mid")


def test_write_to_a_folder_path_is_a_midifileerror(tmp_path) -> None:
    with pytest.raises(MidiFileError, match="it is a folder"):
        write_midi(_song(), tmp_path)


def test_notes_are_written_on_their_tracks_channel() -> None:
    song = Song((Track("Horn", 3, 60, (Note(0, 60, 100, 90, 0), Note(100, 62, 100, 90, 7))),))
    mf = mido.MidiFile(file=io.BytesIO(midi_bytes(song)))
    assert {m.channel for m in mf.tracks[1] if m.type.startswith("note")} == {3}
    assert read_midi(midi_bytes(song)).tracks[0].notes == (Note(0, 60, 100, 90, 3), Note(100, 62, 100, 90, 3))


def test_controls_are_written_on_the_tracks_channel_with_bank_select_before_the_program() -> None:
    track = Track("Pad", 3, 88, (Note(0, 60, 480, 100, channel=0),),
                  controls=(Control(0, "control_change", 7, 90), Control(0, "control_change", 0, 2),
                            Control(240, "pitchwheel", 0, -4096), Control(480, "program_change", 0, 5)))
    mf = mido.MidiFile(file=io.BytesIO(midi_bytes(Song(tracks=(track,)))))
    channel_msgs = [m for m in mf.tracks[1] if not m.is_meta]
    assert {m.channel for m in channel_msgs} == {3}
    assert [(m.type, getattr(m, "control", None)) for m in channel_msgs[:3]] == [
        ("control_change", 0), ("program_change", None), ("control_change", 7)]
    bend = next(m for m in channel_msgs if m.type == "pitchwheel")
    assert bend.pitch == -4096
    back = read_midi(midi_bytes(Song(tracks=(track,)))).tracks[0]
    assert back.program == 88 and back.controls[0] == Control(0, "control_change", 0, 2)
    assert back.controls[1:] == track.controls[:1] + track.controls[2:]
