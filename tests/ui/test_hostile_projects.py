"""The editor opens any project the loader accepts: hostile editor state is clamped or
dropped (never stops the song opening), and thousands of tracks open without a widget each."""

from __future__ import annotations

import json

import pytest

from musicapp.core.midi_check import MAX_BEATS
from musicapp.core.project import MAX_TRACKS, save_project
from musicapp.core.song import Note, Song, Track
from musicapp.ui.pianoroll.geometry import ViewState


def _write(tmp_path, editor: dict, song: Song | None = None):
    path = tmp_path / "hostile.musicapp"
    save_project(path, song or Song((Track("Lead", notes=(Note(0, 60, 480),)),)), editor)
    return path


@pytest.mark.parametrize("editor, dropped", [
    ({"view": {"left_tick": 1e300, "px_per_tick": 1e-300}}, None),
    ({"cursor": 10**30}, None),
    ({"cursor": 2**63, "loop": [0, 2**63]}, None),
    ({"loop": [2**63, 2**64]}, "loop"),
    ({"tool": ["x"]}, "tool"),
    ({"tool": {"a": 1}, "grid": 5, "active_track": 10**20}, "grid, tool, active_track"),
    ({"view": [1, 2], "loop": "a", "cursor": 1.5}, "view, cursor, loop"),
])
def test_hostile_editor_state_never_stops_a_song_opening(qtbot, win, tmp_path, editor, dropped) -> None:
    assert win.files.open_path(_write(tmp_path, editor), ask=False)
    roll = win.roll
    assert win.document.song.note_count == 1
    assert 0 <= roll.view.left_tick <= ViewState.MAX_LEFT_TICK
    assert 0 <= roll.cursor_tick <= MAX_BEATS * 480
    assert roll.loop is None or 0 <= roll.loop[0] < roll.loop[1] <= MAX_BEATS * 480
    roll.grab()  # paints ruler, grid and notes at the clamped position
    win.transport_bar.grab()
    assert win.ignored_editor_state == (dropped.split(", ") if dropped else [])
    if dropped:
        qtbot.waitUntil(lambda: win.statusBar().currentMessage()
                        == f"Editor settings ignored (invalid): {dropped}", timeout=2000)


def test_a_project_with_the_most_tracks_opens_with_widgets_for_rows_in_view(win, tmp_path) -> None:
    song = Song(tuple(Track(f"T{i}", channel=i % 16) for i in range(MAX_TRACKS)))
    assert win.files.open_path(_write(tmp_path, {}, song), ask=False)
    table = win.track_list.table
    assert table.rowCount() == MAX_TRACKS
    assert table.cellWidget(0, 3) is not None and table.cellWidget(MAX_TRACKS - 1, 3) is None
    table.verticalScrollBar().setValue(table.verticalScrollBar().maximum())
    last = table.cellWidget(MAX_TRACKS - 1, 3)
    assert last is not None
    last.click()  # mute the last track: the widget is wired to its row
    assert win.document.song.tracks[-1].mute
