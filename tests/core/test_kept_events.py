"""A .mid keeps what the song does not edit: lyrics, text, copyright, SMPTE offset, sysex and
other meta events survive import, edits, a project and export, each on its own track, in order."""

from __future__ import annotations

import io

import mido
import pytest

from musicapp.cli import main
from musicapp.core import edits
from musicapp.core.errors import ProjectError
from musicapp.core.kept_events import KeptEvent, KeptEventError
from musicapp.core.midifile import midi_bytes, read_midi
from musicapp.core.project import load_project, project_from_bytes, save_project, song_to_dict
from musicapp.core.song import Note


def karaoke_bytes() -> bytes:
    """A type 1 file as karaoke and DAW files hold them: a conductor track with copyright,
    SMPTE offset, text and a sequencer-specific event, a melody track with lyrics (latin-1
    and UTF-8 bytes), a cue point and a sysex, and a drum track with an instrument name."""
    mf = mido.MidiFile(type=1, ticks_per_beat=96)
    M = mido.MetaMessage
    conductor = [M("copyright", text="(c) 2026 Somebody", time=0),
                 M("smpte_offset", frame_rate=25, hours=1, minutes=2, seconds=3, frames=4, time=0),
                 M("set_tempo", tempo=500000, time=0), M("text", text="@KMIDI KARAOKE FILE", time=0),
                 M("sequencer_specific", data=(0, 0, 65, 1, 2), time=0),
                 M("text", text="verse", time=96), M("end_of_track", time=0)]
    melody = [M("track_name", name="Lead", time=0),
              mido.Message("sysex", data=(0x7E, 0x7F, 0x09, 0x01), time=0),
              M("lyrics", text="Hel", time=0), mido.Message("note_on", note=60, velocity=90, time=0),
              M("lyrics", text="lo\xe9", time=48), mido.Message("note_off", note=60, time=0),
              mido.Message("note_on", note=62, velocity=90, time=0),
              M("cue_marker", text="solo", time=48), mido.Message("note_off", note=62, time=0),
              M("lyrics", text="\xc3\xa9t\xc3\xa9", time=0),  # UTF-8 bytes read as latin-1
              mido.Message("note_on", note=64, velocity=90, time=0), mido.Message("note_off", note=64, time=96),
              M("end_of_track", time=0)]
    drums = [M("track_name", name="Kit", time=0), M("instrument_name", name="Standard Kit", time=0),
             mido.Message("note_on", channel=9, note=36, velocity=100, time=0),
             mido.Message("note_off", channel=9, note=36, time=24), M("end_of_track", time=0)]
    for events in (conductor, melody, drums):
        mf.tracks.append(mido.MidiTrack(events))
    out = io.BytesIO()
    mf.save(file=out)
    return out.getvalue()


_OWN = {"note_on", "note_off", "set_tempo", "time_signature", "key_signature", "end_of_track",
        "program_change", "track_name", "marker"}


def kept_of(data: bytes) -> list[list[tuple[int, bytes]]]:
    """Per MTrk: (absolute time in quarter notes * 96, raw bytes) of every event the model
    does not own, in file order."""
    mf = mido.MidiFile(file=io.BytesIO(data), charset="latin1")
    scale = 96 / mf.ticks_per_beat
    out = []
    for track in mf.tracks:
        now, rows = 0, []
        for msg in track:
            now += msg.time
            if msg.type not in _OWN and not (msg.type == "text" and msg.text.startswith("musicapp-key")):
                from mido.midifiles.meta import meta_charset
                with meta_charset("latin1"):
                    rows.append((round(now * scale), bytes(msg.bytes())))
        out.append(rows)
    return out


def test_every_event_the_song_does_not_edit_survives_import_and_export() -> None:
    data = karaoke_bytes()
    song = read_midi(data)
    assert [e.name for e in song.extras] == ["copyright", "SMPTE offset", "text", "sequencer-specific", "text"]
    assert [e.name for e in song.tracks[0].extras] == ["sysex", "lyrics", "lyrics", "cue point", "lyrics"]
    assert [e.name for e in song.tracks[1].extras] == ["instrument name"]
    assert kept_of(midi_bytes(song)) == kept_of(data)  # same bytes, same times, same tracks, same order


def test_kept_events_survive_edits_and_a_project(tmp_path) -> None:
    song = read_midi(karaoke_bytes())
    song = edits.add_notes(song, 0, [Note(960, 67, 240)]).song
    save_project(tmp_path / "k.musicapp", song, {})
    back, _ = load_project(tmp_path / "k.musicapp")
    assert back == song
    assert kept_of(midi_bytes(back)) == kept_of(karaoke_bytes())


def test_convert_keeps_lyrics_and_backs_up_what_it_overwrites(tmp_path) -> None:
    src = tmp_path / "karaoke.mid"
    src.write_bytes(karaoke_bytes())
    out = tmp_path / "out.mid"
    out.write_bytes(b"old")
    assert main(["convert", str(src), "-o", str(tmp_path / "k.musicapp")]) == 0
    assert main(["convert", str(tmp_path / "k.musicapp"), "-o", str(out)]) == 0
    assert (tmp_path / "out.mid.bak").read_bytes() == b"old"
    assert kept_of(out.read_bytes()) == kept_of(karaoke_bytes())


@pytest.mark.parametrize("row, fragment", [
    ([0, 0x51, "07a120"], "kind 81 is not a meta type the song keeps"),
    ([0, 0x54, "00"], "SMPTE offset event has 1 data bytes"),
    ([0, 0xF0, "80"], "sysex data bytes must be 0..127"),
    ([0, 5, "zz"], "kept event 1"),
    ([-1, 5, ""], "kept event tick"),
    ([0, 5], r"must be \[tick, kind, hex data\]"),
])
def test_bad_kept_events_in_a_project_are_refused_in_one_line(row, fragment) -> None:
    import json

    d = song_to_dict(read_midi(karaoke_bytes()))
    d["tracks"][0]["extras"] = [row]
    doc = {"format": "musicapp-project", "schema_version": 4, "song": d, "editor": {}}
    with pytest.raises(ProjectError, match=fragment) as info:
        project_from_bytes(json.dumps(doc).encode())
    assert "\n" not in str(info.value)


def test_schema_3_projects_without_kept_events_still_load() -> None:
    import json

    d = song_to_dict(read_midi(karaoke_bytes()))
    d.pop("extras")
    for t in d["tracks"]:
        t.pop("extras", None)
    song, _ = project_from_bytes(json.dumps({"format": "musicapp-project", "schema_version": 3, "song": d}).encode())
    assert song.extras == () and all(t.extras == () for t in song.tracks)


def test_the_model_refuses_a_kept_event_a_mid_could_not_hold() -> None:
    with pytest.raises(KeptEventError):
        KeptEvent(0, 0x2F)
    with pytest.raises(KeptEventError):
        KeptEvent(0, 0x20, b"\x01\x02")
