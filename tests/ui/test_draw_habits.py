"""DAW drawing habits driven with the mouse and keys: snap to scale, swing and dotted grids, the
length of drawn notes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolBar

from musicapp.core.song import Key, Note, Song, Track
from tests.ui.conftest import click, drag, notes, point


def toolbar_click(win, action) -> None:
    """Click ``action``'s button on whichever tool bar shows it."""
    for bar in win.findChildren(QToolBar):
        w = bar.widgetForAction(action)
        if w is not None:
            QTest.mouseClick(w, Qt.LeftButton)
            return
    raise AssertionError(f"{action.text()} is not on a tool bar")


def pick(combo, text: str) -> None:
    """Choose ``text`` in a closed combo box with the arrow keys, like a user tabbing to it."""
    combo.setFocus()
    target = combo.findText(text)
    assert target >= 0, text
    while combo.currentIndex() != target:
        QTest.keyClick(combo, Qt.Key_Down if combo.currentIndex() < target else Qt.Key_Up)


def test_snap_to_scale_keeps_drawn_and_dragged_notes_in_the_key(win):
    win.document.reset(Song(tracks=(Track(name="Lead"),), key=Key(0, "major")))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    action = win.draw_controls.snap_scale
    assert action.isEnabled()
    toolbar_click(win, action)
    assert action.isChecked() and win.settings.snap_scale
    win.roll.set_tool("draw")
    click(win, 0, 61)  # C#: not in C major
    assert [n.pitch for n in notes(win)] == [60]
    drag(win.roll.canvas, point(win, 0, 60, 6), point(win, 0, 63, 6))  # up to Eb: lands on E
    assert [n.pitch for n in notes(win)] == [64]
    toolbar_click(win, action)  # off again: chromatic
    click(win, 960, 61)
    assert sorted(n.pitch for n in notes(win)) == [61, 64]


def test_snap_to_scale_waits_for_a_key(win):
    win.document.reset(Song(tracks=(Track(name="Lead"),)))
    assert not win.draw_controls.snap_scale.isEnabled()


def test_a_swing_grid_puts_every_second_line_late_and_drawing_snaps_to_it(win):
    pick(win.grid_box, "1/8")
    spin = win.draw_controls.swing
    QTest.mouseClick(spin.lineEdit(), Qt.LeftButton)
    spin.selectAll()
    QTest.keyClicks(spin, "66")
    QTest.keyClick(spin, Qt.Key_Return)
    assert win.roll.grid.to_text() == "8s66" and win.settings.grid == "8s66"
    assert win.roll.grid.lines(0, 960) == [0, 317, 480, 797]
    win.roll.set_tool("draw")
    click(win, 330, 72)  # just after the late off-beat line
    click(win, 250, 76)  # before it: the line on the beat
    assert sorted(n.start for n in notes(win)) == [0, 317]
    pick(win.grid_box, "1/8T")  # triplets cannot swing
    assert not spin.isEnabled() and win.roll.grid.to_text() == "8t"


def test_a_dotted_grid_and_a_chosen_note_length_for_drawing(win):
    pick(win.grid_box, "1/8.")
    assert win.roll.grid.ticks(480) == 360
    pick(win.draw_controls.length, "1/4.")
    win.roll.set_tool("draw")
    click(win, 400, 72)
    assert notes(win) == (Note(360, 72, 720, 100),)
    assert win.settings.draw_length == "1/4."
    pick(win.draw_controls.length, "Auto")  # back to one grid step (nothing drawn longer yet)
    win.roll.last_length = 0
    click(win, 1100, 74)
    assert Note(1080, 74, 360, 100) in notes(win)


def test_arrow_keys_step_along_the_scale_with_snap_to_scale(win):
    win.document.reset(Song(tracks=(Track(name="Lead", notes=(Note(0, 64, 480),)),), key=Key(0, "major")))
    toolbar_click(win, win.draw_controls.snap_scale)
    win.document.set_selection({(0, 0)})
    win.roll.canvas.setFocus()
    QTest.keyClick(win.roll.canvas, Qt.Key_Up)  # E -> F (a semitone, in the scale)
    QTest.keyClick(win.roll.canvas, Qt.Key_Up)  # F -> G (F# is not)
    assert [n.pitch for n in notes(win)] == [67]
    QTest.keyClick(win.roll.canvas, Qt.Key_Down)
    assert [n.pitch for n in notes(win)] == [65]


def test_quantize_on_a_swing_grid_moves_notes_to_the_late_off_beats(win):
    win.document.reset(Song(tracks=(Track(name="Lead", notes=(Note(250, 60, 200), Note(350, 62, 100))),)))
    pick(win.grid_box, "1/8")
    spin = win.draw_controls.swing
    QTest.mouseClick(spin.lineEdit(), Qt.LeftButton)
    spin.selectAll()
    QTest.keyClicks(spin, "66")
    QTest.keyClick(spin, Qt.Key_Return)  # back to the roll
    QTest.keyClick(win.roll.canvas, Qt.Key_Q)  # nothing selected: the whole track
    assert [n.start for n in notes(win)] == [317, 317]
