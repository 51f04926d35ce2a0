"""Project files: exact round trip, backups, atomic saves and clear errors on bad files."""

from __future__ import annotations

import errno
import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from song_strategies import songs

from musicapp.core import atomic
from musicapp.core.errors import ProjectError
from musicapp.core.project import (
    SCHEMA_VERSION, load_project, project_from_bytes, save_project, song_from_dict, song_to_dict)
from musicapp.core.song import Control, Key, Note, Song, Track

JSON_STATE = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False,
                                                                       allow_infinity=False) | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4),
    max_leaves=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(songs(mixed_channels=True), st.dictionaries(st.text(max_size=6), JSON_STATE, max_size=4))
def test_song_and_editor_state_round_trip_exactly_through_a_project(song, state) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "song.musicapp")
        save_project(path, song, state)
        assert load_project(path) == (song, state)


def _song() -> Song:
    return Song((Track("Bass", 1, 33, (Note(0, 40, 480, 90, 1),), mute=True),), key=Key(4, "minor"))


def test_save_then_load_and_previous_file_becomes_bak(tmp_path) -> None:
    path = tmp_path / "tune.musicapp"
    save_project(path, Song(), {"zoom": 1})
    save_project(path, _song(), {"zoom": 2, "selection": [0]})
    assert load_project(path) == (_song(), {"zoom": 2, "selection": [0]})
    assert load_project(tmp_path / "tune.musicapp.bak") == (Song(), {"zoom": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tune.musicapp", "tune.musicapp.bak"]


def test_full_disk_keeps_the_old_project_and_its_backup(tmp_path, monkeypatch) -> None:
    path = tmp_path / "tune.musicapp"
    save_project(path, _song(), {})
    before = path.read_bytes()

    def full_disk(fd):  # a real ENOSPC would need a tiny mounted filesystem
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full_disk)
    with pytest.raises(ProjectError, match="No space left on device"):
        save_project(path, Song(), {})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tune.musicapp"]


def test_unserialisable_editor_state_is_refused_before_touching_the_file(tmp_path) -> None:
    path = tmp_path / "tune.musicapp"
    with pytest.raises(ProjectError, match="editor state cannot be saved"):
        save_project(path, _song(), {"bad": float("nan")})
    with pytest.raises(ProjectError, match="editor state must be a dict"):
        save_project(path, _song(), ["x"])
    assert not path.exists()


def _doc(**song_changes) -> dict:
    song = song_to_dict(_song())
    song.update(song_changes)
    return {"format": "musicapp-project", "schema_version": 1, "song": song, "editor": {}}


@pytest.mark.parametrize("data, fragment", [
    (b"", "bad JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "missing 'format'"),
    (b'{"format": "musicapp-project", "schema_version": 99, "song": {}}', "newer musicapp"),
    (b'{"format": "musicapp-project", "schema_version": "1", "song": {}}', "bad schema_version"),
    (b'{"format": "musicapp-project", "schema_version": 1}', "project: missing 'song'"),
    (b'{"format": "musicapp-project", "schema_version": 1, "song": {"ppq": NaN}}', "NaN"),
    (b"[" * 100000 + b"]" * 100000, "not a musicapp project"),
    (b'{"format": "musicapp-project", "schema_version": 1, "song": {"ppq": 1' + b"0" * 5000 + b"}}",
     "not a musicapp project"),
])
def test_broken_project_bytes_give_one_line_projecterror(data: bytes, fragment: str) -> None:
    with pytest.raises(ProjectError, match=fragment) as info:
        project_from_bytes(data)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("change, fragment", [
    ({"ppq": 0}, "ppq 0 outside 1..32767"),
    ({"ppq": True}, "'ppq' must be an integer, not true/false"),
    ({"tempos": [[0, 0]]}, "tempo 0 us/beat"),
    ({"tempos": [[0]]}, "song tempo 1 must be a list of 2 integers"),
    ({"meters": [[0, 4, 3]]}, "not a power of two"),
    ({"key": {"tonic": 12, "mode": "major"}}, "tonic 12"),
    ({"key": {"tonic": 0, "mode": "funky"}}, "unknown mode"),
    ({"key": "C"}, "song key must be an object"),
    ({"tracks": [{"name": "x"}]}, "track 1: missing 'notes'"),
    ({"tracks": [7]}, "track 1 must be an object"),
    ({"tracks": [{"name": "x", "channel": 16, "program": 0, "mute": False, "solo": False,
                  "notes": []}]}, "track 1: track channel 16"),
    ({"tracks": [{"name": "x", "channel": 0, "program": 0, "mute": 0, "solo": False,
                  "notes": []}]}, "'mute' must be true or false"),
    ({"tracks": [{"name": "x", "channel": 0, "program": 0, "mute": False, "solo": False,
                  "notes": [[0, 60, 10, 100, 0], [0, 128, 10, 100, 0]]}]}, "track 1 note 2: pitch 128"),
    ({"tracks": [{"name": "x", "channel": 0, "program": 0, "mute": False, "solo": False,
                  "notes": [[0, 60, 10.5, 100, 0]]}]}, "track 1 note 1 must be a list of 5 integers"),
    ({"tracks": [{"name": "x", "channel": 0, "program": 0, "mute": False, "solo": False,
                  "notes": [[2**40, 60, 10, 100, 0]]}]}, "beyond"),
    ({"tracks": [{"name": "x", "channel": 0, "program": 0, "mute": False, "solo": False,
                  "notes": [], "controls": [[0, "control_change", 7]]}]},
     r"track 1 control 1 must be \[tick, kind, number, value\]"),
    ({"tracks": [{"name": "x", "channel": 0, "program": 0, "mute": False, "solo": False,
                  "notes": [], "controls": [[0, "wah", 0, 0]]}]}, "track 1 control 1: unknown control kind 'wah'"),
    ({"tracks": [{"name": "x", "channel": 0, "program": 0, "mute": False, "solo": False,
                  "notes": [], "controls": [[0, "pitchwheel", 0, 9000]]}]}, "pitchwheel value 9000 outside"),
    ({"tracks": [{"name": "x", "channel": 0, "program": 0, "mute": False, "solo": False,
                  "notes": [], "controls": {}}]}, "'controls' must be a list"),
])
def test_invalid_song_fields_name_what_and_where(change: dict, fragment: str) -> None:
    with pytest.raises(ProjectError, match=fragment) as info:
        project_from_bytes(json.dumps(_doc(**change)).encode())
    assert "\n" not in str(info.value)


def test_load_errors_name_the_file(tmp_path) -> None:
    path = tmp_path / "broken.musicapp"
    path.write_text("{oops")
    with pytest.raises(ProjectError, match="^broken.musicapp: not a musicapp project"):
        load_project(path)
    with pytest.raises(ProjectError, match="cannot read .*missing.musicapp"):
        load_project(tmp_path / "missing.musicapp")


def test_song_dict_round_trip_keeps_mute_solo_and_key() -> None:
    assert song_from_dict(song_to_dict(_song())) == _song()


def test_schema_1_projects_without_controls_still_load() -> None:
    doc = _doc()
    for t in doc["song"]["tracks"]:
        del t["controls"]
    song, _ = project_from_bytes(json.dumps(doc).encode())
    assert song == _song()


def test_controls_survive_a_project_round_trip_in_order(tmp_path) -> None:
    track = Track("Lead", 2, 81, (Note(0, 60, 480, 100, 2),),
                  controls=(Control(0, "control_change", 101, 0), Control(0, "control_change", 100, 0),
                            Control(0, "control_change", 6, 12), Control(240, "pitchwheel", 0, -8192),
                            Control(480, "program_change", 0, 3), Control(500, "polytouch", 60, 1)))
    path = tmp_path / "c.musicapp"
    save_project(path, Song(tracks=(track,)))
    assert load_project(path)[0].tracks[0].controls == track.controls
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION
