"""Edit verbs through their real shortcuts: clipboard, duplicate, delete, quantize, arrows, undo."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from musicapp.core.song import Note
from tests.ui.conftest import click, drag, notes, point, song_with


def keys(win, key, mods=Qt.NoModifier):
    win.roll.canvas.setFocus()
    QTest.keyClick(win.roll.canvas, key, mods)


def load(win, ns):
    win.document.reset(song_with(ns))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)


def test_copy_paste_at_cursor_then_paste_again_follows(win):
    load(win, [Note(0, 60, 240), Note(240, 64, 240)])
    keys(win, Qt.Key_A, Qt.ControlModifier)
    keys(win, Qt.Key_C, Qt.ControlModifier)
    win.roll.set_cursor_tick(1920)
    keys(win, Qt.Key_V, Qt.ControlModifier)
    keys(win, Qt.Key_V, Qt.ControlModifier)
    assert [(n.start, n.pitch) for n in notes(win)] == [
        (0, 60), (240, 64), (1920, 60), (2160, 64), (2400, 60), (2640, 64)]
    assert win.document.selected_notes() == [Note(2400, 60, 240), Note(2640, 64, 240)]


def test_cut_removes_and_paste_restores(win):
    load(win, [Note(0, 60, 240)])
    keys(win, Qt.Key_A, Qt.ControlModifier)
    keys(win, Qt.Key_X, Qt.ControlModifier)
    assert notes(win) == ()
    keys(win, Qt.Key_V, Qt.ControlModifier)
    assert notes(win) == (Note(0, 60, 240),)


def test_duplicate_places_copy_after_selection(win):
    load(win, [Note(0, 60, 480), Note(480, 62, 480)])
    keys(win, Qt.Key_A, Qt.ControlModifier)
    keys(win, Qt.Key_D, Qt.ControlModifier)
    assert [n.start for n in notes(win)] == [0, 480, 960, 1440]
    assert len(win.document.selection) == 2


def test_delete_key_removes_selected_note_only(win):
    load(win, [Note(0, 60, 240), Note(480, 62, 240)])
    win.roll.set_tool("select")
    click(win, 480, 62, dx=5)
    keys(win, Qt.Key_Delete)
    assert notes(win) == (Note(0, 60, 240),)


def test_q_quantizes_selection_to_grid(win):
    load(win, [Note(10, 60, 200), Note(250, 62, 100)])
    keys(win, Qt.Key_A, Qt.ControlModifier)
    keys(win, Qt.Key_Q)
    assert [n.start for n in notes(win)] == [0, 240]
    assert [n.length for n in notes(win)] == [200, 100]


def test_arrow_keys_transpose_and_move_and_merge_into_one_undo_step(win):
    load(win, [Note(480, 60, 240)])
    keys(win, Qt.Key_A, Qt.ControlModifier)
    keys(win, Qt.Key_Up)
    keys(win, Qt.Key_Up)
    keys(win, Qt.Key_Right)
    assert notes(win) == (Note(600, 62, 240),)
    keys(win, Qt.Key_Up, Qt.ShiftModifier)
    keys(win, Qt.Key_Right, Qt.ShiftModifier)
    assert notes(win) == (Note(600 + 1920, 74, 240),)
    assert win.document.undo_stack.count() == 1
    win.document.undo_stack.undo()
    assert notes(win) == (Note(480, 60, 240),)


def test_set_velocity_for_selection_uses_dialog_answer(win, dialogs):
    load(win, [Note(0, 60, 240, 90), Note(480, 62, 240, 20)])
    keys(win, Qt.Key_A, Qt.ControlModifier)
    dialogs.int_answers.append(77)
    win.actions_.set_velocity.trigger()
    assert [n.velocity for n in notes(win)] == [77, 77]


def test_undo_redo_back_to_start_after_mixed_edits(win):
    start = win.document.song
    win.roll.set_tool("draw")
    click(win, 0, 60)
    click(win, 480, 62)
    drag(win.roll.canvas, point(win, 480, 62, dx=5), point(win, 960, 64, dx=5))
    keys(win, Qt.Key_A, Qt.ControlModifier)
    keys(win, Qt.Key_D, Qt.ControlModifier)
    keys(win, Qt.Key_Q)
    keys(win, Qt.Key_Delete)
    end = win.document.song
    steps = win.document.undo_stack.count()
    assert steps >= 5
    for _ in range(steps):
        keys(win, Qt.Key_Z, Qt.ControlModifier)
    assert win.document.song == start
    assert not win.document.is_modified
    for _ in range(steps):
        keys(win, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert win.document.song == end


def test_undo_history_menu_lists_steps_and_jumps(win):
    win.roll.set_tool("draw")
    click(win, 0, 60)
    click(win, 480, 62)
    menu = win.history_menu
    menu.aboutToShow.emit()
    texts = [a.text() for a in menu.actions()]
    assert texts == ["<original>", "Draw note", "Draw note"]
    menu.actions()[1].trigger()
    assert notes(win) == (Note(0, 60, 120),)


def test_menus_show_daw_shortcuts(win):
    a = win.actions_
    shown = {act.text(): act.shortcut().toString() for act in
             (a.undo, a.redo, a.copy, a.cut, a.paste, a.duplicate, a.delete, a.quantize, a.play, a.save,
              a.open, a.new, a.export_midi)}
    assert shown == {"&Undo": "Ctrl+Z", "&Redo": "Ctrl+Shift+Z", "&Copy": "Ctrl+C", "Cu&t": "Ctrl+X",
                     "&Paste": "Ctrl+V", "&Duplicate": "Ctrl+D", "De&lete": "Del", "&Quantize": "Q",
                     "&Play / Stop": "Space", "&Save": "Ctrl+S", "&Open…": "Ctrl+O", "&New": "Ctrl+N",
                     "&Export MIDI…": "Ctrl+E"}
    titles = [act.text() for act in win.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&View", "&Transport", "&Generate", "&Models", "&Help"]


def test_ghost_notes_accept_as_one_step(win):
    win.document.set_ghost_notes([Note(0, 72, 240), Note(240, 74, 240)])
    assert win.actions_.accept_ghosts.isEnabled()
    win.actions_.accept_ghosts.trigger()
    assert [n.pitch for n in notes(win)] == [72, 74]
    assert win.document.ghost_notes == ()
    assert win.document.undo_stack.count() == 1


def test_nudges_of_different_selections_are_separate_undo_steps(win):
    load(win, [Note(0, 60, 240), Note(480, 64, 240)])
    win.document.set_selection({(0, 0)})
    keys(win, Qt.Key_Up)
    win.document.set_selection({(0, 1)})
    keys(win, Qt.Key_Up)
    assert win.document.undo_stack.count() == 2
    win.document.undo_stack.undo()
    assert [n.pitch for n in notes(win)] == [61, 64]


def test_refused_edit_reports_one_line_and_changes_nothing(win):
    from musicapp.core.edits import EditError

    def refuse(song):
        raise EditError("cannot do that here")

    assert not win.document.apply("Bad", refuse)
    assert win.statusBar().currentMessage() == "cannot do that here"
    assert win.document.undo_stack.count() == 0


def test_arrow_keys_leave_notes_alone_while_the_track_list_has_focus(win):
    load(win, [Note(480, 60, 240)])
    keys(win, Qt.Key_A, Qt.ControlModifier)
    table = win.track_list.table
    win.activateWindow()
    table.setFocus()
    QApplication.processEvents()
    assert QApplication.focusWidget() is table
    for key in (Qt.Key_Up, Qt.Key_Right):  # (not undone by a Down or Left after them)
        QTest.keyClick(table, key)
    assert notes(win) == (Note(480, 60, 240),)
    keys(win, Qt.Key_Up)  # back in the roll they transpose again
    assert notes(win) == (Note(480, 61, 240),)
