"""CLI file commands: ``musicapp info`` and ``musicapp convert`` (in process, plus one real run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from musicapp.cli import main
from musicapp.core.midifile import read_midi, write_midi
from musicapp.core.project import load_project, save_project
from musicapp.core.song import Control, Key, Note, Song, TempoChange, TimeSignature, Track


def _song() -> Song:
    melody = Track("Melody", 0, 73, tuple(Note(i * 480, p, 480, 90) for i, p in enumerate(
        [69, 71, 72, 74, 76, 72, 69, 64, 69])),
        controls=(Control(0, "control_change", 7, 96), Control(960, "pitchwheel", 0, 300)))
    drums = Track("Kit", 9, 0, (Note(0, 36, 10, 120, 9), Note(960, 38, 10, 100, 9)))
    return Song((melody, drums), (TempoChange(0, 500_000), TempoChange(1920, 400_000)),
                (TimeSignature(0, 4, 4), TimeSignature(3840, 3, 4)), Key(9, "minor"))


@pytest.fixture
def mid(tmp_path) -> Path:
    path = tmp_path / "tune.mid"
    write_midi(_song(), path)
    return path


def test_info_prints_tracks_notes_range_tempo_meter_key_and_length(mid, capsys) -> None:
    assert main(["info", str(mid)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "tune.mid: MIDI format 1, 480 ticks per quarter note"
    # 4320 ticks = 2 bars of 4/4 + 1/3 bar of 3/4 -> 3 bars; 4 beats at 120 + 5 at 150 BPM = 4 s
    assert out[1] == "length: 3 bars, 0:04.000 (4320 ticks at 480 per quarter note)"
    assert out[2] == "tempo: 120 BPM at 1.1.0; 150 BPM at 2.1.0"
    assert out[3] == "meter: 4/4 at 1.1.0; 3/4 at 3.1.0"
    assert out[4].startswith("key: A minor (from the key signature); detected A minor (r=")
    assert out[5] == "notes: 11, range C2 to E5"
    assert out[6:] == ["tracks: 2", "   1. Melody (channel 1, program 73): 9 notes, E4 to E5, 2 controller events",
                       "   2. Kit (channel 10, drums): 2 notes, C2 to D2"]


def test_info_json_is_machine_readable(mid, capsys) -> None:
    assert main(["info", "--json", str(mid)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["notes"] == 11 and data["length_bars"] == 3 and data["length_seconds"] == 4.0
    assert [t["notes"] for t in data["tracks"]] == [9, 2]
    assert [t["controls"] for t in data["tracks"]] == [2, 0]
    assert data["file_key"] == data["key"] == "A minor"


def test_convert_mid_to_project_and_back_keeps_the_song(mid, tmp_path, capsys) -> None:
    proj = tmp_path / "tune.musicapp"
    back = tmp_path / "back.mid"
    assert main(["convert", str(mid), "-o", str(proj)]) == 0
    assert load_project(proj) == (read_midi(mid), {})
    assert main(["convert", str(proj), "-o", str(back)]) == 0
    assert read_midi(back) == read_midi(mid)
    assert main(["info", str(proj)]) == 0
    assert "musicapp project" in capsys.readouterr().out


def test_convert_refuses_an_unknown_output_type(mid, tmp_path, capsys) -> None:
    assert main(["convert", str(mid), "-o", str(tmp_path / "x.wav")]) == 1
    assert capsys.readouterr().err == f"musicapp: output {tmp_path / 'x.wav'} must end in .mid, .midi or .musicapp\n"


def test_info_on_a_broken_project_prints_one_line(tmp_path, capsys) -> None:
    path = tmp_path / "bad.musicapp"
    save_project(path, _song(), {})
    path.write_text(path.read_text().replace('"ppq":480', '"ppq":-1'))
    assert main(["info", str(path)]) == 1
    assert capsys.readouterr().err == "musicapp: bad.musicapp: song: ppq -1 outside 1..32767\n"


def test_help_lists_the_file_commands(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "info" in out and "convert" in out


def test_installed_musicapp_command_reports_a_bad_file_in_one_line(tmp_path) -> None:
    exe = Path(sys.executable).with_name("musicapp")
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x00")
    run = subprocess.run([str(exe), "info", str(bad)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr == "musicapp: bad.mid: time division is 0 ticks per quarter note\n"
