"""Hostile files: every project field bounded, export never writes what import refuses, reads
bounded (regular files only, a read limit that does not trust stat), work linear in the input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from musicapp.cli import main
from musicapp.core.atomic import read_limited
from musicapp.core.errors import MidiFileError, ProjectError
from musicapp.core.midi_check import MAX_BEATS, MAX_TRACKS
from musicapp.core.midifile import midi_bytes, read_midi, write_midi
from musicapp.core.project import MAX_ITEMS, load_project, save_project
from musicapp.core.song import Note, Song, SongError, TimeSignature, Track

TRACK = {"name": "A", "channel": 0, "program": 0, "mute": False, "solo": False,
         "notes": [[0, 60, 480, 100, 0]], "controls": []}


def _project(tmp_path: Path, song: dict | None = None, text: str | None = None) -> Path:
    doc = {"format": "musicapp-project", "schema_version": 3,
           "song": {"ppq": 480, "tempos": [[0, 500000]], "meters": [[0, 4, 4]], "key": None,
                    "tracks": [TRACK], **(song or {})}, "editor": {}}
    path = tmp_path / "x.musicapp"
    path.write_text(text if text is not None else json.dumps(doc))
    return path


def _info_fails_in_one_line(path: Path, capsys, fragment: str) -> None:
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err, err


@pytest.mark.parametrize("song, fragment", [
    ({"ppq": 2**31}, "ppq 2147483648 outside 1..32767"),
    ({"ppq": 1, "meters": [[0, 3, 64]]}, "meter 3/64 needs a beat of at least one tick"),
    ({"tracks": [{**TRACK, "notes": [[MAX_BEATS * 480, 60, 1, 100, 0]]}]}, "beyond 100000 quarter notes"),
    ({"tracks": [{**TRACK, "notes": [[2**31 - 1, 60, 0, 100, 0]]}]}, "beyond 100000 quarter notes"),
    ({"tempos": [[MAX_BEATS * 480 + 1, 500000]]}, "tempo 1 lies beyond"),
    ({"tracks": [{**TRACK, "controls": [[10**9, "control_change", 7, 1]]}]}, "control 1 lies beyond"),
    ({"tracks": [TRACK] * 100_000}, "100000 tracks (limit 4095)"),
    ({"tracks": [{**TRACK, "notes": [[0, 60, 1, 100, 0]] * (MAX_ITEMS + 1)}]}, "(limit 500000)"),
])
def test_out_of_bounds_song_fields_are_refused_in_one_line(tmp_path, capsys, song, fragment) -> None:
    _info_fails_in_one_line(_project(tmp_path, song), capsys, fragment)


def test_a_ppq_of_ten_to_the_400_is_refused_not_overflowed(tmp_path, capsys) -> None:
    path = _project(tmp_path)
    path.write_text(path.read_text().replace('"ppq": 480', '"ppq": 1' + "0" * 400))
    _info_fails_in_one_line(path, capsys, "outside 1..32767")


def test_the_song_model_refuses_a_meter_shorter_than_a_tick() -> None:
    with pytest.raises(SongError, match="3/64"):
        Song(ppq=1, meters=(TimeSignature(0, 3, 64),))
    assert Song(ppq=16, meters=(TimeSignature(0, 3, 64),)).bar_starts(3) == [0, 3]


def test_a_track_name_with_a_lone_surrogate_saves_loads_and_exports(tmp_path) -> None:
    song = Song((Track("bass \ud800", notes=(Note(0, 40, 480),)),))
    path = tmp_path / "s.musicapp"
    save_project(path, song, {"note": "\udfff"})
    assert load_project(path) == (song, {"note": "\udfff"})
    write_midi(song, tmp_path / "s.mid")
    assert read_midi(tmp_path / "s.mid").tracks[0].name == "bass \ufffd"


@pytest.mark.parametrize("song, fragment", [
    (Song((Track(notes=(Note(MAX_BEATS * 480, 60, 1),)),)), "quarter note 100,000"),
    (Song((Track(notes=(Note(2**31 - 1, 60, 1),)),)), "a .mid musicapp reads ends at 100,000"),
    (Song(tuple(Track() for _ in range(MAX_TRACKS))), "cannot export 4096 tracks"),
    (Song(tuple(Track() for _ in range(100_000))), "cannot export 100000 tracks"),
    (Song((Track(notes=tuple(Note(i, 60, 1) for i in range(210_000))),)), "MIDI events"),
    (Song((Track(notes=(Note(0, 60, 1), Note(300_000_000, 60, 1))),), ppq=32767), "cannot export a gap"),
])
def test_export_refuses_what_import_would_refuse(tmp_path, song, fragment) -> None:
    with pytest.raises(MidiFileError, match=fragment):
        write_midi(song, tmp_path / "x.mid")
    assert not (tmp_path / "x.mid").exists()


def test_export_at_the_limits_reads_back() -> None:
    song = Song((Track(notes=(Note(MAX_BEATS * 480 - 1, 60, 1),)),) + tuple(Track() for _ in range(MAX_TRACKS - 2)))
    back = read_midi(midi_bytes(song))
    assert back.end == MAX_BEATS * 480


@pytest.mark.parametrize("name", ["x.mid", "x.musicapp"])
def test_a_fifo_is_refused_at_once_by_every_command(tmp_path, name) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    for argv in (["info", str(fifo)], ["convert", str(fifo), "-o", str(tmp_path / "y.musicapp")]):
        run = subprocess.run([sys.executable, "-m", "musicapp", *argv], capture_output=True, text=True,
                             timeout=60)
        assert run.returncode == 1 and run.stderr == f"musicapp: cannot read {fifo}: not a regular file\n"


def test_a_device_linked_as_a_file_is_refused(tmp_path, capsys) -> None:
    for dev in ("/dev/zero", "/dev/urandom"):
        link = tmp_path / f"{Path(dev).name}.mid"
        link.symlink_to(dev)
        _info_fails_in_one_line(link, capsys, "not a regular file")


def test_the_read_limit_holds_when_stat_says_zero_bytes() -> None:
    assert os.stat("/proc/self/status").st_size == 0
    with pytest.raises(ProjectError, match="file is too large"):
        read_limited("/proc/self/status", 64, ProjectError)
    assert read_limited("/proc/self/status", 1 << 20, ProjectError).startswith(b"Name:")


def test_info_on_100000_meter_changes_is_linear(tmp_path) -> None:
    """Hang guard, not a speed target: the quadratic walk took over 60 s."""
    path = _project(tmp_path, {"meters": [[i * 480, 1, 4] for i in range(100_000)]})
    run = subprocess.run([sys.executable, "-m", "musicapp", "info", "--json", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert len(summary["meters"]) == 100_000 and summary["meters"][-1]["at"] == "100000.1.0"
