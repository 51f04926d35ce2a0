"""Property-based fuzz of project files beside the MIDI fuzz: any JSON value in any field of a
valid project goes through ``info``, ``convert`` (to .mid and to a project) and the editor's open
path; each answers with success or one line, never a traceback, a crash or a hang."""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicapp.cli import main
from musicapp.core.kept_events import KeptEvent
from musicapp.core.project import save_project, song_to_dict
from musicapp.core.song import Control, Key, Note, Song, TempoChange, TimeSignature, Track

_SONG = Song(
    (Track("Lead", 0, 73, (Note(0, 72, 240, 90), Note(480, 74, 240, 80)),
           controls=(Control(0, "control_change", 7, 100), Control(240, "pitchwheel", 0, -300)),
           extras=(KeptEvent(0, 5, b"la"),)),
     Track("Kit", 9, 0, (Note(0, 36, 10, 120, 9),))),
    (TempoChange(0, 500_000), TempoChange(1920, 400_000)), (TimeSignature(0, 4, 4), TimeSignature(3840, 3, 4)),
    Key(9, "minor"), extras=(KeptEvent(0, 2, b"(c)"),))
_EDITOR = {"view": {"px_per_tick": 0.1, "row_height": 12.0, "left_tick": 0.0, "top_pitch": 84.0},
           "grid": "16", "tool": "draw", "active_track": 0, "cursor": 480, "loop": [0, 1920]}
BASE = {"format": "musicapp-project", "schema_version": 4, "song": song_to_dict(_SONG), "editor": _EDITOR}


def _paths(node: Any, here: tuple = ()) -> list[tuple]:
    """Every place in ``node`` a value can be replaced (including the root members)."""
    out = [here] if here else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, here + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, here + (i,))
    return out


PATHS = _paths(BASE)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from([0, -1, 1, 2**31, 2**63, 10**30, 10**400])
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
    | st.sampled_from(["\ud800", "x" * 10_000, "off", "draw", "major"]),
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=8), kids, max_size=5),
    max_leaves=20)


def _mutated(changes: list[tuple[tuple, Any]]) -> dict:
    doc = json.loads(json.dumps(BASE))
    for path, value in changes:
        node = doc
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            pass  # an earlier change removed this place
    return doc


def _answers_in_one_line(argv: list[str], capsys) -> int:
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 1), err
    assert code == 0 or (err.count("\n") == 1 and err.startswith("musicapp: ")), err
    return code


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON), min_size=1, max_size=3))
def test_any_json_in_any_field_gives_a_song_or_one_line(win, tmp_path, capsys, changes) -> None:
    started = time.monotonic()
    path = tmp_path / "fuzz.musicapp"
    path.write_text(json.dumps(_mutated(changes), ensure_ascii=True))
    ok = _answers_in_one_line(["info", str(path)], capsys) == 0
    assert _answers_in_one_line(["convert", str(path), "-o", str(tmp_path / "out.musicapp")], capsys) == (0 if ok else 1)
    _answers_in_one_line(["convert", str(path), "-o", str(tmp_path / "out.mid")], capsys)
    assert win.files.open_path(path, ask=False) == ok
    if ok:
        win.roll.grab()  # paints at whatever the editor state asked, clamped
        save_project(tmp_path / "again.musicapp", win.document.song, win.editor_state())  # whatever opens saves
    assert time.monotonic() - started < 60  # hang guard (each example takes well under a second)
