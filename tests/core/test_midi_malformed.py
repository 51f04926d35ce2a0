"""Every malformed .mid gives MidiFileError with one plain line, in core and in the CLI."""

from __future__ import annotations

import pytest
from smf_bytes import EOT, chunk, ev, header, meta, mtrk, simple_track, smf, valid_file

from musicapp.cli import main
from musicapp.core import midi_check
from musicapp.core.errors import MidiFileError
from musicapp.core.midifile import read_midi

_GOOD = simple_track()

#: id -> (file bytes, fragment the message must contain)
CASES: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "empty"),
    "not_midi": (b"RIFF\x00\x00\x00\x04WAVE", "not a MIDI file"),
    "header_cut": (b"MThd\x00\x00\x00\x06\x00\x01", "truncated inside the MIDI header"),
    "header_length_short": (chunk(b"MThd", b"\x00\x00\x00\x01") + b"\x01\xe0" + _GOOD, "too short"),
    "header_length_past_end": (chunk(b"MThd", b"\x00\x00\x00\x01\x01\xe0", length=1000),
                               "runs past the end"),
    "unknown_format": (header(fmt=3) + _GOOD, "unknown MIDI file format 3"),
    "division_zero": (header(division=0) + _GOOD, "time division is 0"),
    "smpte_unknown_rate": (header(division=0xE550) + _GOOD, "SMPTE time division with an unknown frame rate"),
    "smpte_no_ticks": (header(division=0xE700) + _GOOD, "SMPTE time division with 0 ticks per frame"),
    "no_tracks": (header(ntracks=0), "no tracks"),
    "format0_two_tracks": (header(fmt=0, ntracks=2) + _GOOD + _GOOD, "exactly one track"),
    "truncated_file": (smf(_GOOD)[:-7], "runs past the end of the file"),
    "missing_track": (header(ntracks=2) + _GOOD, "promises 2 tracks, found 1"),
    "chunk_length_too_long": (header() + mtrk(ev(0, 0x90, 60, 100), length=0xFFFFFFF0),
                              "runs past the end of the file"),
    "chunk_length_too_short": (header() + mtrk(ev(0, 0x90, 60, 100), ev(10, 0x80, 60, 0),
                                               length=6), "bad chunk length"),
    "corrupt_chunk_header": (header(ntracks=2) + _GOOD + b"\x90\x3c\x40\x00\x00\x00\x00\x04" + EOT,
                             "corrupt chunk header"),
    "data_byte_over_127": (smf(mtrk(ev(0, 0x90, 60, 200))), "data byte 0xC8 > 127"),
    "running_status_without_status": (smf(mtrk(ev(0, 0x3C, 0x40))), "no status byte"),
    "running_status_after_sysex": (smf(mtrk(ev(0, 0xF0, 2, 0x01, 0xF7), ev(0, 0x3C, 0x40))),
                                   "no status byte"),
    "illegal_status_byte": (smf(mtrk(ev(0, 0xF4, 0x00))), "illegal status byte 0xF4"),
    "realtime_status_byte": (smf(mtrk(ev(0, 0xF8))), "illegal status byte 0xF8"),
    "tempo_wrong_length": (smf(mtrk(meta(0, 0x51, b"\x07\xa1"))), "tempo meta event has length 2"),
    "time_signature_wrong_length": (smf(mtrk(meta(0, 0x58, b"\x04\x02\x18"))),
                                    "time signature meta event has length 3"),
    "key_signature_wrong_length": (smf(mtrk(meta(0, 0x59, b"\x01"))),
                                   "key signature meta event has length 1"),
    "end_of_track_wrong_length": (smf(mtrk(meta(0, 0x2F, b"\x00"), eot=False)),
                                  "end of track meta event has length 1"),
    "sequence_number_wrong_length": (smf(mtrk(meta(0, 0x00, b"\x01"))),
                                     "sequence number meta event has length 1"),
    "key_signature_invalid": (smf(mtrk(meta(0, 0x59, b"\x09\x00"))), "key signature with 9 sharps"),
    "time_signature_zero_numerator": (smf(mtrk(meta(0, 0x58, b"\x00\x02\x18\x08"))), "numerator 0"),
    "time_signature_huge_denominator": (smf(mtrk(meta(0, 0x58, b"\x04\x20\x18\x08"))),
                                        "denominator 2^32"),
    "meta_type_over_127": (smf(mtrk(ev(0, 0xFF, 0x90, 0x00))), "bad meta event type"),
    "meta_length_past_chunk": (smf(mtrk(ev(0, 0xFF, 0x01, 0x7F, 0x41))), "runs past the end"),
    "sysex_length_past_chunk": (smf(mtrk(ev(0, 0xF0, 0x7F, 0x01))), "sysex data runs past"),
    "tempo_zero": (smf(mtrk(meta(0, 0x51, b"\x00\x00\x00"))), "tempo of 0"),
    "absurd_delta": (smf(mtrk(ev(0x0FFFFFFF, 0x90, 60, 100)), division=96), "absurd delta time"),
    "varlen_over_4_bytes": (smf(mtrk(b"\x81\x80\x80\x80\x00\x90\x3c\x40")), "longer than 4 bytes"),
    "event_cut_by_chunk_end": (smf(mtrk(ev(0, 0x90, 60), eot=False)), "note-on event runs past"),
    "delta_cut_by_chunk_end": (smf(mtrk(b"\x81", eot=False)), "delta time cut off"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_file_raises_midifileerror_with_one_line(name: str) -> None:
    data, fragment = CASES[name]
    with pytest.raises(MidiFileError) as info:
        read_midi(data)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message and message.strip() == message and len(message) < 200


@pytest.mark.parametrize("name", sorted(CASES))
def test_info_on_malformed_file_prints_one_line_and_exits_1(name, tmp_path, capsys) -> None:
    path = tmp_path / f"{name}.mid"
    path.write_bytes(CASES[name][0])
    assert main(["info", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("musicapp: ") and f"{name}.mid" in err
    assert CASES[name][1] in err


def test_file_over_size_limit_is_refused_before_reading(tmp_path) -> None:
    path = tmp_path / "huge.mid"
    path.write_bytes(valid_file() + b"\x00" * (midi_check.MAX_FILE_BYTES + 1))
    with pytest.raises(MidiFileError, match=r"huge.mid: file is too large \(8\.4 MB, limit 8\.4 MB\)"):
        read_midi(path)
    with pytest.raises(MidiFileError, match="too large"):
        read_midi(path.read_bytes())


def test_missing_file_is_a_midifileerror(tmp_path) -> None:
    with pytest.raises(MidiFileError, match="cannot read .*nothing.mid: No such file"):
        read_midi(tmp_path / "nothing.mid")


def test_folder_instead_of_file_is_a_midifileerror(tmp_path) -> None:
    with pytest.raises(MidiFileError, match="cannot read"):
        read_midi(tmp_path)


def test_garbage_after_last_declared_track_is_ignored() -> None:
    song = read_midi(valid_file() + b"\x00\x01garbage")
    assert song.note_count == 6


def test_alien_chunk_between_tracks_is_skipped() -> None:
    data = header(ntracks=1) + chunk(b"XFIH", b"\x01\x02\x03") + simple_track()
    assert [n.pitch for n in read_midi(data).tracks[0].notes] == [60, 64, 67]


def test_too_many_events_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(midi_check, "MAX_EVENTS", 5)
    read_midi(smf(mtrk(*[ev(0, 0xB0, 7, 100)] * 4)))  # 4 + end of track = 5 events: fine
    with pytest.raises(MidiFileError, match="more than 5 events"):
        read_midi(smf(mtrk(*[ev(0, 0xB0, 7, 100)] * 5)))


def test_rmid_without_data_chunk_is_refused() -> None:
    with pytest.raises(MidiFileError, match="RMID file without a MIDI data chunk"):
        read_midi(b"RIFF\x04\x00\x00\x00RMID")
