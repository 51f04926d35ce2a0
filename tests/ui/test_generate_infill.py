"""Generate > Infill in the real window, by mouse and keyboard: drag a range on the ruler,
Ctrl+Shift+I, ghosts over the range with the replaced notes marked, Tab / Return / Esc,
undo, live re-seed from edits on either side, Continue into a gap, and the steering box."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from musicapp.core import edits
from musicapp.core.song import Note
from tests.ml.infill_helpers import save_tiny_infill
from tests.ui.conftest import drag
from tests.ui.generate_helpers import close_window, lead, make_window, show_window, wait_candidates, write_tiny_models

BAR = 1920
TUNE = [Note(i * 480, [60, 62, 64, 65, 67, 69, 71, 72][(i * 3) % 8], 480, 90) for i in range(32)]  # 8 bars


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    models = write_tiny_models(tmp_path / "models")
    save_tiny_infill(models / "infill")
    w = show_window(make_window(tmp_path, monkeypatch, lead(TUNE), models), qtbot)
    yield w
    close_window(w)


def drag_range(win, start: int, end: int) -> None:
    ruler, v = win.roll.ruler, win.roll.view
    y = ruler.height() - 3
    drag(ruler, QPoint(int(v.tick_to_x(start)) + 1, y), QPoint(int(v.tick_to_x(end)) + 1, y))
    assert win.roll.loop == (start, end)


def press(win, k, mods=Qt.NoModifier):
    win.roll.canvas.setFocus()
    QTest.keyClick(win.roll.canvas, k, mods)


def test_ruler_range_infill_by_keyboard_replaces_only_the_range_as_one_undo_step(win, qtbot):
    drag_range(win, 2 * BAR, 4 * BAR)
    press(win, Qt.Key_I, Qt.ControlModifier | Qt.ShiftModifier)
    wait_candidates(qtbot, win)
    s = win.generate.session
    assert s.mode == "Infill" and len(s.candidates) == win.generate.options.variations
    doc = win.document
    assert doc.ghost_notes and all(2 * BAR <= n.start and n.end <= 4 * BAR for n in doc.ghost_notes)
    inside = tuple(n for n in TUNE if 2 * BAR <= n.start < 4 * BAR)
    assert doc.ghost_replaces == inside
    first = doc.ghost_notes
    press(win, Qt.Key_Tab)
    assert s.index == 1
    press(win, Qt.Key_Return)
    song_notes = doc.song.tracks[0].notes
    chosen = s.candidates[1]
    assert tuple(n for n in song_notes if not 2 * BAR <= n.start < 4 * BAR) == \
        tuple(n for n in TUNE if not 2 * BAR <= n.start < 4 * BAR)
    assert tuple(sorted(n for n in song_notes if 2 * BAR <= n.start < 4 * BAR)) == tuple(sorted(chosen))
    assert not doc.ghost_notes and first
    press(win, Qt.Key_Z, Qt.ControlModifier)
    assert doc.song.tracks[0].notes == tuple(TUNE)


def test_escape_dismisses_and_changes_nothing(win, qtbot):
    drag_range(win, BAR, 3 * BAR)
    win.generate.infill_range()
    wait_candidates(qtbot, win)
    press(win, Qt.Key_Escape)
    assert not win.document.ghost_notes and win.generate.session is None
    assert win.document.song.tracks[0].notes == tuple(TUNE) and not win.document.undo_stack.canUndo()


def test_selected_notes_give_the_range_when_no_loop_is_set(win, qtbot):
    doc = win.document
    doc.set_selection({(0, 9), (0, 10), (0, 11)})  # bar 3, beats 2-4
    assert win.generate.infill_range()
    wait_candidates(qtbot, win)
    assert win.generate.session.seed.region == (TUNE[9].start, TUNE[11].end)


@pytest.mark.parametrize("where", ["before", "after"])
def test_live_reseed_follows_edits_on_either_side_of_the_range(win, qtbot, where):
    drag_range(win, 3 * BAR, 5 * BAR)
    win.generate.infill_range()
    wait_candidates(qtbot, win)
    rid = win.generate._rid
    i = 2 if where == "before" else 28
    win.document.apply("move", lambda song: edits.move_notes(song, [(0, i)], 0, 2))
    qtbot.waitUntil(lambda: win.generate._rid > rid and not win.generate.busy and bool(win.generate.session.candidates),
                    timeout=20000)
    moved = win.document.song.tracks[0].notes
    assert win.generate.session.seed.notes == tuple(n for n in moved if not 3 * BAR <= n.start < 5 * BAR)
    assert all(3 * BAR <= n.start and n.end <= 5 * BAR for n in win.document.ghost_notes)


def test_an_edit_inside_the_range_only_updates_what_is_replaced(win, qtbot):
    drag_range(win, 3 * BAR, 5 * BAR)
    win.generate.infill_range()
    wait_candidates(qtbot, win)
    rid = win.generate._rid
    win.document.apply("move", lambda song: edits.move_notes(song, [(0, 13)], 0, 1))
    qtbot.wait(100)
    assert win.generate._rid == rid and win.document.ghost_notes
    inside = tuple(n for n in win.document.song.tracks[0].notes if 3 * BAR <= n.start < 5 * BAR)
    assert win.document.ghost_replaces == inside


def test_a_range_with_no_notes_after_it_says_so_in_one_line(win, qtbot):
    drag_range(win, 7 * BAR, 9 * BAR)
    assert not win.generate.infill_range()
    assert "no notes after" in win.generate_panel.message.text()
    assert win.generate.session is None


def test_continue_into_a_gap_fills_up_to_the_next_note(win, qtbot):
    gap = [n for n in TUNE if not 2 * BAR <= n.start < 5 * BAR]
    win.document.reset(lead(gap))
    win.document.set_selection({(0, i) for i in range(8)})  # bars 1-2: the seed; bar 5 on follows
    win.generate.set_options(bars=4)
    win.generate.continue_phrase()
    wait_candidates(qtbot, win)
    assert all(2 * BAR <= n.start and n.end <= 5 * BAR for n in win.document.ghost_notes)
    press(win, Qt.Key_Return)
    notes = win.document.song.tracks[0].notes
    assert tuple(n for n in notes if not 2 * BAR <= n.start < 5 * BAR) == tuple(gap)


def test_density_slider_shows_its_number_and_steers_the_candidates(win, qtbot):
    box = win.generate_panel.steer
    box.density.setValue(12)  # 6 notes per bar
    assert box.density_label.text() == "6 notes/bar" and win.generate.options.density == 6.0
    box.repeat.setValue(20)
    assert win.generate.options.repeat == 0.2 and "less" in box.repeat_label.text()
    drag_range(win, 2 * BAR, 4 * BAR)
    win.generate.infill_range()
    wait_candidates(qtbot, win)
    counts = [len(c) for c in win.generate.session.candidates]
    assert all(abs(c - 12) <= 2.4 for c in counts)
