"""Track list editing, active track, follow playhead, zoom, theme, and opening a file at start."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from musicapp.core.midifile import write_midi
from musicapp.core.song import Note, Song, Track
from tests.ui.conftest import click, notes, song_with


def test_track_list_add_rename_channel_program_mute_solo_each_undoable(win):
    tl = win.track_list
    QTest.mouseClick(tl.add_button, Qt.LeftButton)
    song = win.document.song
    assert [t.name for t in song.tracks] == ["Piano", "Track 2"] and song.tracks[1].channel == 1
    assert win.document.active_track == 1
    tl.table.item(1, 0).setText("Strings")
    chan = tl.table.cellWidget(1, 1)
    chan.setValue(5)
    chan.editingFinished.emit()
    prog = tl.table.cellWidget(1, 2)
    prog.activated.emit(48)
    QTest.mouseClick(tl.table.cellWidget(1, 3), Qt.LeftButton)
    QTest.mouseClick(tl.table.cellWidget(1, 4), Qt.LeftButton)
    t = win.document.song.tracks[1]
    assert (t.name, t.channel, t.program, t.mute, t.solo) == ("Strings", 4, 48, True, True)
    assert win.document.undo_stack.count() == 6
    for _ in range(6):
        win.document.undo_stack.undo()
    assert [t.name for t in win.document.song.tracks] == ["Piano"]


def test_drawing_goes_to_the_active_track_and_channel(win):
    win.document.reset(song_with([Note(0, 60, 240)], [Note(0, 40, 240)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    win.track_list.table.setCurrentCell(1, 0)
    assert win.document.active_track == 1
    click(win, 960, 72)
    assert notes(win, 1)[-1] == Note(960, 72, 120, 100, 1)
    assert notes(win, 0) == (Note(0, 60, 240),)


def test_remove_track_button_removes_active_track(win):
    win.document.reset(song_with([Note(0, 60, 240)], [Note(0, 40, 240)]))
    win.track_list.table.setCurrentCell(0, 0)
    QTest.mouseClick(win.track_list.remove_button, Qt.LeftButton)
    assert [t.name for t in win.document.song.tracks] == ["T2"]


def test_follow_playhead_pages_the_view(win):
    win.roll.set_playhead(50 * 1920)
    t0, t1 = win.roll.view.visible_ticks(win.roll.canvas.width())
    assert t0 <= 50 * 1920 < t1
    win.actions_.follow.trigger()  # off
    win.roll.set_playhead(200 * 1920)
    assert win.roll.view.visible_ticks(win.roll.canvas.width())[0] == t0


def test_zoom_actions_and_theme_switch(win):
    before = win.roll.view.px_per_tick
    win.actions_.zoom_in.trigger()
    assert win.roll.view.px_per_tick > before
    win.actions_.themes["light"].trigger()
    assert win.roll.theme.name == "light" and win.settings.theme == "light"
    win.actions_.themes["dark"].trigger()
    assert win.roll.theme.name == "dark"


def test_grid_menu_and_triplets_change_snapping(win):
    win.actions_.grids["8t"].trigger()
    assert win.roll.grid.ticks() == 160
    click(win, 170, 60)  # floor to the 1/8T grid
    assert notes(win)[0].start == 160
    win.actions_.grids["off"].trigger()
    click(win, 1003, 64)
    assert any(n.start in range(1003, 1031) and n.start % 160 and n.pitch == 64 for n in notes(win)), notes(win)


def test_startup_opens_the_file_given_on_the_command_line(win, tmp_path):
    path = tmp_path / "cli.mid"
    write_midi(Song(tracks=(Track("Cli", 0, 0, (Note(0, 65, 480),)),)), path)
    win.startup(str(path))
    assert [n.pitch for n in notes(win)] == [65]
    assert win.document.path == path.resolve()
