"""The first minutes with the assistant, driven with the mouse and keys on the real window:
which notes are the seed, where candidates go, register, key lock, following the candidates."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from musicapp.core.midifile import write_midi
from musicapp.core.scales import detect_key
from musicapp.core.song import Key, Note, Song, Track
from tests.ui.conftest import point
from tests.ui.generate_helpers import (
    PHRASE_A, PHRASE_B, Q, close_window, lead, make_window, show_window, wait_candidates,
)

SHIPPED = Path(__file__).resolve().parents[2] / "models"


def open_window(qtbot, tmp_path, monkeypatch, song: Song, models: Path | None = None):
    return show_window(make_window(tmp_path, monkeypatch, song, models), qtbot)


@pytest.fixture
def gwin(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, tmp_path, monkeypatch, lead([]))
    yield w
    close(w)


close = close_window


def key(win, k, mods=Qt.NoModifier, widget=None):
    target = widget or win.roll.canvas
    if widget is None:
        target.setFocus()
    QTest.keyClick(target, k, mods)


def seed_line(qtbot, win, text: str) -> None:
    qtbot.waitUntil(lambda: win.generate_panel.seed_info.text() == text, timeout=3000)


def test_drawing_a_phrase_then_ctrl_return_continues_the_whole_phrase_not_the_last_note(gwin, qtbot):
    gwin.roll.set_tool("draw")
    for i, n in enumerate(PHRASE_A):
        QTest.mouseClick(gwin.roll.canvas, Qt.LeftButton, Qt.NoModifier, point(gwin, i * Q, n.pitch))
    drawn = gwin.document.song.tracks[0].notes
    assert len(drawn) == 8 and len(gwin.document.selection) == 1  # the last drawn note is selected
    seed_line(qtbot, gwin, "Seed: bars 1-2 of Lead (8 notes)")
    key(gwin, Qt.Key_Return, Qt.ControlModifier)
    wait_candidates(qtbot, gwin)
    s = gwin.generate.session
    assert s.seed.notes == drawn
    assert all(n.start >= drawn[-1].end for n in gwin.document.ghost_notes)
    assert gwin.generate_panel.key.itemText(0) == f"Auto ({detect_key(drawn)})"  # the phrase's key


def test_ctrl_return_on_an_opened_tune_continues_after_its_last_note(gwin, qtbot, tmp_path):
    tune = tmp_path / "tune.mid"
    write_midi(lead(PHRASE_A + PHRASE_B), tune)
    gwin.files.open_path(tune, ask=False)
    assert gwin.roll.cursor_tick == 0 and not gwin.document.selection
    seed_line(qtbot, gwin, "Seed: bars 2-5 of Lead (12 notes)")
    key(gwin, Qt.Key_Return, Qt.ControlModifier)
    wait_candidates(qtbot, gwin)
    end = max(n.end for n in gwin.document.song.tracks[0].notes)
    assert gwin.document.ghost_notes and all(n.start >= end for n in gwin.document.ghost_notes)


def test_the_seed_is_outlined_and_the_place_of_the_candidates_marked(gwin, qtbot):
    gwin.document.reset(lead(PHRASE_A))
    gwin.roll.view.scroll_to(left_tick=0, top_pitch=84)
    x = int(gwin.roll.view.tick_to_x(PHRASE_A[-1].end)) + 1  # the marker line
    row = int(gwin.roll.view.pitch_to_y(80) + 3)  # a row without notes
    qtbot.waitUntil(lambda: gwin.generate_panel.seed_info.text().startswith("Seed: bars 1-2"), timeout=3000)
    shown = gwin.roll.canvas.grab().toImage()
    gwin.generate_dock.hide()
    hidden = gwin.roll.canvas.grab().toImage()
    assert shown.pixelColor(x, row) != hidden.pixelColor(x, row)
    mid = PHRASE_A[3]
    nx = int(gwin.roll.view.tick_to_x(mid.start + mid.length // 2))
    ny = int(gwin.roll.view.pitch_to_y(mid.pitch))
    assert any(shown.pixelColor(nx, y) != hidden.pixelColor(nx, y) for y in range(ny - 1, ny + 2))  # outline


def test_an_empty_track_takes_its_seed_from_another_track_and_gets_the_candidates(qtbot, tmp_path, monkeypatch):
    song = Song(tracks=(Track(name="Lead", notes=tuple(PHRASE_A)), Track(name="Bass", channel=1)))
    w = open_window(qtbot, tmp_path, monkeypatch, song)
    try:
        table = w.track_list.table
        rect = table.visualItemRect(table.item(1, 0))
        QTest.mouseClick(table.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
        assert w.document.active_track == 1
        panel = w.generate_panel
        qtbot.waitUntil(lambda: panel.seed_from.itemText(0) == "Auto (Lead)", timeout=3000)
        seed_line(qtbot, w, "Seed from: Lead, bars 1-2 (8 notes), into Bass")
        key(w, Qt.Key_Return, Qt.ControlModifier)
        wait_candidates(qtbot, w)
        assert w.document.ghost_track == 1
        key(w, Qt.Key_Return)  # accept
        bass = w.document.song.tracks[1].notes
        assert bass and all(n.channel == 1 and n.start >= PHRASE_A[-1].end for n in bass)
        assert w.document.song.tracks[0].notes == tuple(PHRASE_A)
    finally:
        close(w)


@pytest.mark.skipif(not (SHIPPED / "lstm.json").is_file(), reason="needs the shipped LSTM")
def test_a_seed_in_a_low_octave_is_continued_in_its_own_register(qtbot, tmp_path, monkeypatch):
    low = [n.moved(dp=-36) for n in PHRASE_A]  # C1..G1 (pitches 24..31)
    w = open_window(qtbot, tmp_path, monkeypatch, lead(low), SHIPPED)
    try:
        key(w, Qt.Key_Return, Qt.ControlModifier)
        wait_candidates(qtbot, w, 60000)
        mean_seed = sum(n.pitch for n in low) / len(low)
        o = w.generate.options
        for cand in w.generate.session.candidates:
            pitches = sorted(n.pitch for n in cand)
            assert all(o.pitch_low <= p <= o.pitch_high for p in pitches)
            assert abs(pitches[len(pitches) // 2] - mean_seed) <= 12  # median within an octave
    finally:
        close(w)


def test_key_auto_starts_from_the_songs_key_and_the_choice_resets_with_the_next_song(qtbot, tmp_path, monkeypatch):
    d_major = [Note(i * Q, p, Q, 90) for i, p in enumerate([62, 66, 69, 74, 73, 69, 66, 62])]
    song = Song(tracks=(Track(name="Lead", notes=tuple(d_major)),), key=Key(7, "major"))
    w = open_window(qtbot, tmp_path, monkeypatch, song)
    try:
        panel = w.generate_panel
        qtbot.waitUntil(lambda: panel.key.itemText(0) == "Auto (G major)", timeout=3000)
        panel.key.setFocus()
        for _ in range(panel.key.findText("E major")):  # pick a key from the box with the arrows
            QTest.keyClick(panel.key, Qt.Key_Down)
        assert w.generate.options.key == Key(4, "major")
        w.actions_.new.trigger()  # another song: the key choice belonged to the last one
        assert w.generate.options.key is None and panel.key.currentIndex() == 0
    finally:
        close(w)


def test_candidates_are_followed_on_screen_and_ctrl_0_fits_them(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, tmp_path, monkeypatch, lead(PHRASE_A))
    try:
        w.roll.view.px_per_tick = 0.5  # zoomed in: 8 bars do not fit
        w.roll.view.scroll_to(left_tick=0)
        spin = w.generate_panel.bars
        spin.setFocus()
        spin.selectAll()
        QTest.keyClicks(spin, "8")
        assert w.generate.options.bars == 8
        key(w, Qt.Key_Return, Qt.ControlModifier)
        wait_candidates(qtbot, w)
        ghosts = w.document.ghost_notes
        t0, t1 = w.roll.view.visible_ticks(w.roll.canvas.width())
        assert t0 > 0 and any(t0 <= n.start <= t1 for n in ghosts)
        key(w, Qt.Key_0, Qt.ControlModifier)
        t0, t1 = w.roll.view.visible_ticks(w.roll.canvas.width())
        p_lo, p_hi = w.roll.view.visible_pitches(w.roll.canvas.height())
        assert all(t0 <= n.start and n.end <= t1 and p_lo <= n.pitch <= p_hi for n in ghosts)
    finally:
        close(w)


def focused(win):
    from PySide6.QtWidgets import QApplication

    return QApplication.focusWidget()


def test_shortcuts_work_after_touching_the_panel_and_a_field_keeps_only_its_keys(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, tmp_path, monkeypatch, lead(PHRASE_A))
    try:
        a, panel, doc = w.actions_, w.generate_panel, w.document
        key(w, Qt.Key_Return, Qt.ControlModifier)
        wait_candidates(qtbot, w)
        w.roll.add_notes([Note(40 * Q, 50, Q)])  # something to undo, far from the seed
        # a click on a check box or a combo box leaves the keyboard with the editor
        box = panel.live
        QTest.mouseClick(box, Qt.LeftButton, Qt.NoModifier, QPoint(4, box.height() // 2))
        QTest.mouseClick(box, Qt.LeftButton, Qt.NoModifier, QPoint(4, box.height() // 2))
        assert not panel.live.isChecked() and focused(w) is w.roll.canvas
        before = a.follow.isChecked()  # (K and L need the engine; F is a toggle as well)
        QTest.keyClick(focused(w), Qt.Key_F)
        assert a.follow.isChecked() != before
        QTest.keyClick(focused(w), Qt.Key_3)
        assert w.roll.current_tool().name == "erase"
        # inside the Variations field: digits are typed, Tab moves on, F and Ctrl+Z reach the window
        spin = panel.variations
        QTest.mouseClick(spin.lineEdit(), Qt.LeftButton, Qt.NoModifier, QPoint(4, spin.height() // 2))
        assert focused(w) is spin
        spin.selectAll()
        QTest.keyClick(spin, Qt.Key_2)
        assert spin.text() == "2" and w.roll.current_tool().name == "erase"
        before = a.follow.isChecked()
        QTest.keyClick(spin, Qt.Key_F)
        assert a.follow.isChecked() != before and spin.text() == "2"
        index = w.generate.session.index
        QTest.keyClick(spin, Qt.Key_Tab)
        assert w.generate.session.index == index and focused(w) is not spin  # Tab left the field
        QTest.mouseClick(spin.lineEdit(), Qt.LeftButton, Qt.NoModifier, QPoint(4, spin.height() // 2))
        steps = doc.undo_stack.index()
        QTest.keyClick(spin, Qt.Key_Z, Qt.ControlModifier)
        assert doc.undo_stack.index() == steps - 1  # the document's undo, from inside the field
        ghosts = doc.ghost_notes
        QTest.keyClick(spin, Qt.Key_Return)  # commits the field, does not accept a candidate
        assert w.generate.options.variations == 2 and doc.ghost_notes == ghosts
        assert focused(w) is w.roll.canvas
        QTest.keyClick(focused(w), Qt.Key_0, Qt.ControlModifier)  # and now the editor's keys again
        QTest.keyClick(focused(w), Qt.Key_Return)
        assert not doc.ghost_notes and set(ghosts) <= set(doc.song.tracks[0].notes)
    finally:
        close(w)


def test_interpolate_between_two_selected_phrases_labelled_a_and_b_as_one_morph(qtbot, tmp_path, monkeypatch):
    far_b = [n.moved(dt=40 * Q) for n in PHRASE_A[::-1]]  # B in bars 11-12: room for 4 steps between
    w = open_window(qtbot, tmp_path, monkeypatch, lead(PHRASE_A + far_b))
    try:
        w.roll.set_tool("select")
        w.roll.view.px_per_tick = 0.03
        canvas, view = w.roll.canvas, w.roll.view
        start = QPoint(int(view.tick_to_x(0)) + 1, int(view.pitch_to_y(75)))
        end = QPoint(int(view.tick_to_x(48 * Q)), int(view.pitch_to_y(55)))
        from tests.ui.conftest import drag
        drag(canvas, start, end)  # marquee around both phrases
        assert len(w.document.selection) == 16
        panel = w.generate_panel
        seed_line(qtbot, w, "Seed: bars 1-12 of Lead (16 notes)")  # still Continue: the selection
        key(w, Qt.Key_Return, Qt.ControlModifier | Qt.AltModifier)  # Interpolate Selection
        assert panel.mode.currentText() == "Interpolate"  # the Mode box shows what runs
        seed_line(qtbot, w, "A: bars 1-2, B: bars 11-12 of Lead; 4 steps from bar 3")
        wait_candidates(qtbot, w)
        (morph,) = w.generate.session.candidates
        bar = 4 * Q
        assert all(2 * bar <= n.start < 10 * bar for n in morph)  # the steps fill bars 3-10 in order
        view.scroll_to(left_tick=0)
        shown = canvas.grab().toImage()
        w.generate_dock.hide()
        hidden = canvas.grab().toImage()
        label_y = int(view.pitch_to_y(max(n.pitch for n in PHRASE_A))) - 8  # the "A" above phrase A
        row = [shown.pixelColor(x, label_y) != hidden.pixelColor(x, label_y)
               for x in range(int(view.tick_to_x(0)), int(view.tick_to_x(0)) + 12)]
        assert any(row)
        w.generate_dock.show()
        QTest.mouseClick(panel.swap_ab, Qt.LeftButton, Qt.NoModifier, QPoint(4, panel.swap_ab.height() // 2))
        seed_line(qtbot, w, "A: bars 11-12, B: bars 1-2 of Lead; 4 steps from bar 3")
    finally:
        close(w)
