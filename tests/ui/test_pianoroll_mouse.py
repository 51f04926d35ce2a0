"""The piano roll driven by simulated mouse input: draw, move, resize, erase, marquee, velocity."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from musicapp.core.song import Note
from tests.ui.conftest import click, drag, notes, point, song_with


def test_draw_click_adds_one_grid_note_snapped_to_grid(win):
    win.roll.set_tool("draw")
    click(win, 490, 60)  # 10 ticks past beat 2: snaps down to 480
    assert notes(win) == (Note(480, 60, 120, 100, 0),)
    assert win.document.selection == {(0, 0)}  # the new note is selected, ready to adjust
    assert win.document.undo_stack.count() == 1


def test_draw_drag_sets_length_in_one_undo_step(win):
    win.roll.set_tool("draw")
    drag(win.roll.canvas, point(win, 0, 64), point(win, 960, 64, dx=-1))
    assert notes(win) == (Note(0, 64, 960, 100, 0),)
    assert win.document.undo_stack.count() == 1


def test_drag_moves_note_one_undo_step(win):
    win.document.reset(song_with([Note(480, 60, 240)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    drag(win.roll.canvas, point(win, 480, 60, dx=10), point(win, 960, 62, dx=10), steps=8)
    assert notes(win) == (Note(960, 62, 240),)
    assert win.document.undo_stack.count() == 1
    assert win.document.selection == {(0, 0)}
    win.document.undo_stack.undo()
    assert notes(win) == (Note(480, 60, 240),)


def test_drag_of_selection_moves_all_selected_notes_together(win):
    win.document.reset(song_with([Note(0, 60, 240), Note(480, 64, 240), Note(960, 67, 240)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    win.roll.set_tool("select")
    click(win, 0, 60, dx=10)
    click(win, 960, 67, mods=Qt.ShiftModifier, dx=10)
    assert win.document.selection == {(0, 0), (0, 2)}
    drag(win.roll.canvas, point(win, 0, 60, dx=10), point(win, 240, 59, dx=10))
    assert notes(win) == (Note(240, 59, 240), Note(480, 64, 240), Note(1200, 66, 240))
    assert win.document.undo_stack.count() == 1


def test_drag_on_note_end_resizes_it(win):
    win.document.reset(song_with([Note(0, 60, 480)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    v = win.roll.view
    y = int(v.pitch_to_y(60) + v.row_height / 2)
    start = QPoint(int(v.tick_to_x(480)) - 2, y)
    drag(win.roll.canvas, start, QPoint(int(v.tick_to_x(960)) - 2, y))
    assert notes(win) == (Note(0, 60, 960),)
    assert win.document.undo_stack.count() == 1


def test_erase_tool_deletes_notes_it_passes_over_in_one_step(win):
    win.document.reset(song_with([Note(0, 60, 240), Note(480, 60, 240), Note(960, 72, 240)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    win.roll.set_tool("erase")
    drag(win.roll.canvas, point(win, 0, 60, dx=5), point(win, 480, 60, dx=5), steps=10)
    assert notes(win) == (Note(960, 72, 240),)
    assert win.document.undo_stack.count() == 1


def test_right_click_in_draw_tool_erases(win):
    win.document.reset(song_with([Note(0, 60, 240)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    click(win, 0, 60, button=Qt.RightButton, dx=5)
    assert notes(win) == ()


def test_marquee_selects_notes_inside_rectangle(win):
    win.document.reset(song_with([Note(0, 60, 240), Note(480, 62, 240), Note(1920, 62, 240), Note(480, 40, 240)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    win.roll.set_tool("select")
    drag(win.roll.canvas, point(win, 240, 66), point(win, 1200, 58))
    assert win.document.selection == {(0, 2)}  # sorted order: (0,60) (480,40) (480,62) (1920,62)
    assert win.document.selected_notes() == [Note(480, 62, 240)]
    assert win.roll.canvas.preview.marquee is None


def test_identical_notes_can_be_selected_and_moved_one_at_a_time(win):
    win.document.reset(song_with([Note(0, 60, 240), Note(0, 60, 240)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    drag(win.roll.canvas, point(win, 0, 60, dx=10), point(win, 0, 65, dx=10))
    assert sorted(notes(win)) == [Note(0, 60, 240), Note(0, 65, 240)]


def test_velocity_lane_drag_sets_selection_velocity_in_one_step(win):
    win.document.reset(song_with([Note(0, 60, 240, 100), Note(480, 62, 240, 100), Note(960, 64, 240, 30)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    win.document.set_selection({(0, 0), (0, 1)})
    lane = win.roll.velocity_lane
    x = int(win.roll.view.tick_to_x(0)) + 1
    drag(lane, QPoint(x, 40), QPoint(x, lane.height() - 3 - round((lane.height() - 6) * 64 / 127)))
    vels = [n.velocity for n in notes(win)]
    assert vels[0] == vels[1] and abs(vels[0] - 64) <= 1 and vels[2] == 30
    assert win.document.undo_stack.count() == 1


def test_keyboard_click_auditions_pitch(win):
    heard = []
    win.roll.audition_hook = lambda p, v: heard.append(p)
    v = win.roll.view
    QTest.mouseClick(win.roll.keyboard, Qt.LeftButton, Qt.NoModifier, QPoint(50, int(v.pitch_to_y(69) + 3)))
    assert heard == [69]


def test_ruler_drag_in_loop_strip_sets_loop_region(win):
    ruler = win.roll.ruler
    v = win.roll.view
    y = ruler.height() - 3
    drag(ruler, QPoint(int(v.tick_to_x(1920)) + 1, y), QPoint(int(v.tick_to_x(3840)) + 1, y))
    assert win.roll.loop == (1920, 3840)
    assert win.actions_.loop.isChecked()
    QTest.mouseDClick(ruler, Qt.LeftButton, Qt.NoModifier, QPoint(10, y))
    assert win.roll.loop is None


def test_ctrl_wheel_zooms_time_and_shift_wheel_zooms_rows(win, qtbot):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    before_x, before_y = win.roll.view.px_per_tick, win.roll.view.row_height
    for mods in (Qt.ControlModifier, Qt.ShiftModifier):
        ev = QWheelEvent(QPointF(100, 100), QPointF(100, 100), QPoint(0, 0), QPoint(0, 120), Qt.NoButton,
                         mods, Qt.NoScrollPhase, False)
        QApplication.sendEvent(win.roll.canvas, ev)
    assert win.roll.view.px_per_tick > before_x
    assert win.roll.view.row_height > before_y


def test_escape_during_a_drag_cancels_it_even_with_candidates_shown(win):
    win.document.reset(song_with([Note(480, 60, 240)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    win.document.set_ghost_notes([Note(1920, 64, 240)])  # Esc would otherwise dismiss these
    canvas = win.roll.canvas
    start, end = point(win, 480, 60, dx=10), point(win, 960, 62, dx=10)
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, start)
    for i in range(1, 5):
        QTest.mouseMove(canvas, start + (end - start) * (i / 4))
    QTest.keyClick(canvas, Qt.Key_Escape)
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, end)
    assert notes(win) == (Note(480, 60, 240),)
    assert win.document.undo_stack.count() == 0
    assert win.document.ghost_notes  # the Esc went to the drag
    QTest.keyClick(canvas, Qt.Key_Escape)  # with no drag running, Esc dismisses the candidates
    assert not win.document.ghost_notes
