"""MIDI import policy: formats, channels, drums, rescaling, overlaps, zero-length notes."""

from __future__ import annotations

from smf_bytes import ev, meta, mtrk, simple_track, smf, valid_file

from musicapp.core.midifile import read_midi, read_midi_details
from musicapp.core.song import Control, Key, Note, TempoChange, TimeSignature


def test_type1_file_reads_tracks_tempo_meter_key_and_drums() -> None:
    imp = read_midi_details(valid_file())
    song = imp.song
    assert (imp.format, imp.division, imp.file_tracks) == (1, 480, 3)
    assert song.tempos == (TempoChange(0, 500_000), TempoChange(960, 600_000))
    assert song.meters == (TimeSignature(0, 3, 4),)
    assert song.key == imp.file_key == Key(7, "major")  # one sharp
    melody, drums = song.tracks
    assert (melody.name, melody.channel, melody.program) == ("Melody", 0, 5)
    assert [(n.start, n.pitch, n.length) for n in melody.notes] == [(0, 60, 480), (480, 64, 480),
                                                                   (960, 67, 480)]
    assert drums.is_drums and drums.channel == 9
    assert [(n.start, n.pitch, n.length, n.velocity) for n in drums.notes] == [
        (0, 36, 10, 110), (480, 38, 10, 90), (480, 42, 10, 80)]


def test_type0_file_is_split_by_channel_with_a_drum_track() -> None:
    data = smf(mtrk(ev(0, 0xC1, 33), ev(0, 0x90, 60, 100), ev(0, 0x91, 40, 90), ev(0, 0x99, 36, 120),
                    ev(480, 0x80, 60, 0), ev(0, 0x81, 40, 0), ev(0, 0x89, 36, 0)))
    song = read_midi(data)
    assert [(t.name, t.channel, t.program, len(t.notes)) for t in song.tracks] == [
        ("Channel 1", 0, 0, 1), ("Channel 2", 1, 33, 1), ("Drums", 9, 0, 1)]
    assert song.tracks[2].is_drums


def test_type1_track_with_two_channels_is_split_and_named_after_it() -> None:
    data = smf(mtrk(meta(0, 0x03, b"Keys"), ev(0, 0x90, 60, 100), ev(0, 0x92, 64, 100),
                    ev(480, 0x80, 60, 0), ev(0, 0x82, 64, 0)), fmt=1)
    assert [t.name for t in read_midi(data).tracks] == ["Keys (Channel 1)", "Keys (Channel 3)"]


def test_type2_patterns_are_read_one_after_another() -> None:
    data = smf(simple_track(pitches=(60,)), simple_track(pitches=(62,)), fmt=2)
    imp = read_midi_details(data)
    assert [t.notes[0].start for t in imp.song.tracks] == [0, 480]
    assert "one after another" in imp.notes[0]


def test_other_divisions_are_rescaled_to_480_rounding_half_up() -> None:
    # 96 ticks per quarter: 1 tick = 5 song ticks. 7 at division 960 -> 3.5 -> 4.
    assert read_midi(smf(simple_track(length=96), division=96)).tracks[0].notes[1].start == 480
    data = smf(mtrk(ev(7, 0x90, 60, 100), ev(960, 0x80, 60, 0), meta(0, 0x58, b"\x06\x03\x18\x08")),
               division=960)
    song = read_midi(data)
    assert song.tracks[0].notes == (Note(4, 60, 480, 100),)
    assert song.meters[-1] == TimeSignature(484, 6, 8)


def test_velocity_zero_note_on_ends_a_note() -> None:
    data = smf(mtrk(ev(0, 0x90, 60, 100), ev(240, 0x90, 60, 0), ev(0, 0x90, 60, 50),
                    ev(240, 0x90, 60, 0)))
    assert read_midi(data).tracks[0].notes == (Note(0, 60, 240, 100), Note(240, 60, 240, 50))


def test_overlapping_same_pitch_notes_close_first_in_first_out() -> None:
    data = smf(mtrk(ev(0, 0x90, 60, 100), ev(100, 0x90, 60, 80), ev(200, 0x80, 60, 0),
                    ev(200, 0x80, 60, 0)))
    assert read_midi(data).tracks[0].notes == (Note(0, 60, 300, 100), Note(100, 60, 400, 80))


def test_zero_length_note_becomes_one_tick_and_stray_note_off_is_ignored() -> None:
    data = smf(mtrk(ev(0, 0x80, 61, 0), ev(10, 0x90, 60, 100), ev(0, 0x80, 60, 0)))
    assert read_midi(data).tracks[0].notes == (Note(10, 60, 1, 100),)


def test_note_left_hanging_ends_at_the_last_event_of_its_track() -> None:
    data = smf(mtrk(ev(0, 0x90, 60, 100), ev(0, 0x90, 64, 100), ev(480, 0x80, 64, 0), ev(480, 0xB0, 7, 100)))
    assert read_midi(data).tracks[0].notes == (Note(0, 60, 960, 100), Note(0, 64, 480, 100))


def test_program_is_the_last_change_before_the_first_note() -> None:
    data = smf(mtrk(ev(0, 0xC0, 10), ev(0, 0xC0, 20), ev(0, 0x90, 60, 100), ev(10, 0xC0, 30),
                    ev(10, 0x80, 60, 0)))
    assert read_midi(data).tracks[0].program == 20


def test_track_with_only_meta_events_is_not_a_song_track() -> None:
    data = smf(mtrk(meta(0, 0x51, b"\x07\xa1\x20")), simple_track())
    assert len(read_midi(data).tracks) == 1


def test_controllers_of_a_track_without_notes_join_the_track_playing_their_channel() -> None:
    data = smf(mtrk(meta(0, 0x03, b"Tempo"), ev(0, 0xB0, 7, 100)), simple_track())
    song = read_midi(data)
    assert [t.name for t in song.tracks] == ["Melody"]
    assert song.tracks[0].controls == (Control(0, "control_change", 7, 100),)


def test_controllers_on_a_channel_no_track_plays_are_reported_when_left_out() -> None:
    data = smf(mtrk(ev(0, 0xB5, 7, 100)), simple_track())
    imp = read_midi_details(data)
    assert [t.controls for t in imp.song.tracks] == [()]
    assert imp.notes == ("controllers on channels without notes were left out (channel 6)",)


def test_every_other_channel_message_is_kept_in_order_on_its_track() -> None:
    data = smf(mtrk(ev(0, 0xB0, 0, 1), ev(0, 0xC0, 5), ev(0, 0xB0, 101, 0), ev(0, 0xB0, 100, 0),
                    ev(0, 0xB0, 6, 12), ev(0, 0x90, 60, 100), ev(100, 0xE0, 0, 0x20),
                    ev(10, 0xB0, 64, 127), ev(10, 0xD0, 33), ev(10, 0xA0, 60, 9), ev(50, 0x80, 60, 0),
                    ev(20, 0xC0, 9), ev(0, 0x90, 62, 90), ev(100, 0x80, 62, 0)))
    (track,) = read_midi(data).tracks
    assert track.program == 5
    assert track.controls == (
        Control(0, "control_change", 0, 1), Control(0, "control_change", 101, 0),
        Control(0, "control_change", 100, 0), Control(0, "control_change", 6, 12),
        Control(100, "pitchwheel", 0, 0x20 * 128 - 8192), Control(110, "control_change", 64, 127),
        Control(120, "aftertouch", 0, 33), Control(130, "polytouch", 60, 9),
        Control(200, "program_change", 0, 9))


def test_a_program_change_after_the_first_note_is_a_control_not_the_tracks_program() -> None:
    data = smf(mtrk(ev(0, 0x90, 60, 100), ev(480, 0xC0, 30), ev(0, 0x80, 60, 0), ev(0, 0x90, 62, 100),
                    ev(480, 0x80, 62, 0)))
    (track,) = read_midi(data).tracks
    assert (track.program, track.controls) == (0, (Control(480, "program_change", 0, 30),))


def test_controls_are_rescaled_with_the_notes() -> None:
    data = smf(mtrk(ev(0, 0x90, 60, 100), ev(96, 0xB0, 1, 64), ev(96, 0x80, 60, 0)), division=96)
    assert read_midi(data).tracks[0].controls == (Control(480, "control_change", 1, 64),)


def test_padded_track_names_are_trimmed() -> None:
    data = smf(mtrk(meta(0, 0x03, b"Piano   \x00"), ev(0, 0xC0, 1)))
    assert read_midi(data).tracks[0].name == "Piano"


def test_running_status_across_meta_is_accepted() -> None:
    data = smf(mtrk(ev(0, 0x90, 60, 100), meta(0, 0x01, b"hi"), ev(480, 60, 0)))
    assert read_midi(data).tracks[0].notes == (Note(0, 60, 480, 100),)


def test_latin1_track_name_is_kept_when_not_utf8() -> None:
    data = smf(mtrk(meta(0, 0x03, "Gitarre \xe4".encode("latin1")), ev(0, 0x90, 60, 100), ev(1, 0x80, 60, 0)))
    assert read_midi(data).tracks[0].name == "Gitarre \xe4"


def test_riff_rmid_wrapper_is_unwrapped() -> None:
    inner = valid_file()
    info = b"LIST" + (5).to_bytes(4, "little") + b"INFOx" + b"\x00"  # odd size, padded
    body = b"RMID" + info + b"data" + len(inner).to_bytes(4, "little") + inner
    wrapped = b"RIFF" + len(body).to_bytes(4, "little") + body
    assert read_midi(wrapped) == read_midi(inner)


def test_smpte_timed_file_keeps_every_events_time_in_seconds() -> None:
    # 25 fps x 40 ticks per frame = 1000 ticks per second; at the default 120 BPM 1 s = 960 ticks
    data = smf(mtrk(ev(0, 0x90, 60, 100), ev(500, 0x80, 60, 0), ev(250, 0x90, 62, 100),
                    ev(1000, 0x80, 62, 0)), division=0xE728)
    imp = read_midi_details(data)
    assert imp.song.tracks[0].notes == (Note(0, 60, 480, 100), Note(720, 62, 960, 100))
    assert imp.song.tempos == (TempoChange(0, 500_000),)
    assert imp.notes == ("SMPTE-timed file (25 fps x 40 ticks per frame): read at 120 BPM",)


def test_smpte_file_tempo_events_become_the_tempo_map_at_their_seconds() -> None:
    # 29.97 fps x 100 ticks per frame; a tempo of 90 BPM from 2 s on
    per_second = 2997
    data = smf(mtrk(ev(0, 0x90, 60, 100), meta(2 * per_second, 0x51, (666_667).to_bytes(3, "big")),
                    ev(0, 0x80, 60, 0), ev(0, 0x90, 62, 100), ev(per_second, 0x80, 62, 0)),
               division=(256 - 29) << 8 | 100)
    song = read_midi(data)
    assert song.tempos == (TempoChange(0, 500_000), TempoChange(1920, 666_667))
    first, second = song.tracks[0].notes
    assert (first.start, first.length) == (0, 1920)  # 2 s at 120 BPM
    assert second.start == 1920 and abs(song.tick_to_seconds(second.end) - 3.0) < 0.002


def test_info_describes_smpte_timing_instead_of_ticks_per_quarter(tmp_path, capsys) -> None:
    from musicapp.cli import main

    path = tmp_path / "film.mid"
    path.write_bytes(smf(mtrk(ev(0, 0x90, 60, 100), ev(500, 0x80, 60, 0)), division=0xE728))
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["film.mid: MIDI format 0",
                       "note: SMPTE-timed file (25 fps x 40 ticks per frame): read at 120 BPM"]


def test_smpte_file_whose_tempo_map_runs_past_the_limit_is_refused_in_one_line() -> None:
    import pytest

    from musicapp.core.errors import MidiFileError

    data = smf(mtrk(meta(0, 0x51, (1).to_bytes(3, "big")), ev(0, 0x90, 60, 100), ev(60_000, 0x80, 60, 0)),
               division=0xE728)  # 60 s at 1 us per quarter note: 60 million quarter notes
    with pytest.raises(MidiFileError, match="past 100000 quarter notes"):
        read_midi(data)
