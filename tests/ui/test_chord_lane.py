"""The chord lane: type, rename, move, resize and remove chords, each one undo step; a bad name
changes nothing; the chord under the cursor has its tones tinted in the roll."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from musicapp.core.chords import Chord
from musicapp.core.song import Note, Song, Track
from tests.ui.conftest import drag

BAR = 1920


def _song() -> Song:
    return Song(tracks=(Track("Lead", 0, 0, (Note(0, 72, 960),)),),
                chords=(Chord.parse("C", 0, BAR), Chord.parse("G7", BAR, BAR)))


def _lane(win):
    win.document.reset(_song())
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    win.roll.set_grid(win.roll.grid.from_text("4"))
    return win.roll.chord_lane


def _at(win, tick: int) -> QPoint:
    return QPoint(int(win.roll.view.tick_to_x(tick)) + 3, win.roll.chord_lane.height() // 2)


def _names(win) -> list[tuple[int, int, str]]:
    return [(c.start, c.length, c.name) for c in win.document.song.chords]


def test_clicking_an_empty_place_and_typing_adds_a_chord_as_one_undo_step(win):
    lane = _lane(win)
    QTest.mouseClick(lane, Qt.LeftButton, Qt.NoModifier, _at(win, 2 * BAR + 500))
    assert lane.editor.isVisible()
    QTest.keyClicks(lane.editor, "F#m7")
    QTest.keyClick(lane.editor, Qt.Key_Return)
    assert _names(win)[-1] == (2 * BAR + 480, BAR - 480, "F#m7")  # floored to the beat, to the bar line
    assert not lane.editor.isVisible()
    win.document.undo_stack.undo()
    assert _names(win) == [(0, BAR, "C"), (BAR, BAR, "G7")]


def test_a_bad_name_gives_a_message_and_changes_nothing(win):
    lane = _lane(win)
    messages = []
    win.document.edit_failed.connect(messages.append)
    QTest.mouseClick(lane, Qt.LeftButton, Qt.NoModifier, _at(win, 3 * BAR))
    QTest.keyClicks(lane.editor, "Hmaj9")
    QTest.keyClick(lane.editor, Qt.Key_Return)
    assert _names(win) == [(0, BAR, "C"), (BAR, BAR, "G7")]
    assert messages and "Hmaj9" in messages[0] and "\n" not in messages[0]
    assert win.document.undo_stack.count() == 0


def test_drag_moves_and_edge_drag_resizes_each_in_one_undo_step(win):
    lane = _lane(win)
    drag(lane, _at(win, BAR + 100), _at(win, 2 * BAR + 100), steps=6)
    assert _names(win) == [(0, BAR, "C"), (2 * BAR, BAR, "G7")]
    assert win.document.undo_stack.count() == 1
    edge = QPoint(int(win.roll.view.tick_to_x(BAR)) - 2, lane.height() // 2)
    drag(lane, edge, QPoint(int(win.roll.view.tick_to_x(BAR + 960)), lane.height() // 2), steps=6)
    assert _names(win)[0] == (0, BAR + 960, "C")
    assert win.document.undo_stack.count() == 2
    win.document.undo_stack.undo()
    win.document.undo_stack.undo()
    assert _names(win) == [(0, BAR, "C"), (BAR, BAR, "G7")]


def test_delete_removes_the_selected_chord_and_double_click_renames(win):
    lane = _lane(win)
    QTest.mouseClick(lane, Qt.LeftButton, Qt.NoModifier, _at(win, 10))
    assert lane.selected == 0
    QTest.keyClick(lane, Qt.Key_Delete)
    assert _names(win) == [(BAR, BAR, "G7")]
    QTest.mouseDClick(lane, Qt.LeftButton, Qt.NoModifier, _at(win, BAR + 10))
    lane.editor.selectAll()
    QTest.keyClicks(lane.editor, "Bb/D")
    QTest.keyClick(lane.editor, Qt.Key_Return)
    assert _names(win) == [(BAR, BAR, "Bb/D")]
    assert win.document.undo_stack.count() == 2


def test_chord_tones_under_the_cursor_are_tinted_in_the_roll(win):
    _lane(win)
    roll = win.roll
    roll.set_cursor_tick(BAR + 100)  # under G7: G B D F
    image = roll.canvas.grab().toImage()
    x = int(roll.view.tick_to_x(BAR + 1500))
    y_of = lambda pitch: int(roll.view.pitch_to_y(pitch) + roll.view.row_height / 2)  # noqa: E731
    tinted, plain = QColor(image.pixel(x, y_of(71))), QColor(image.pixel(x, y_of(72)))  # B vs C
    roll.set_cursor_tick(0)  # under C: now B is plain
    image = roll.canvas.grab().toImage()
    assert QColor(image.pixel(x, y_of(71))) != tinted
    assert tinted != plain
