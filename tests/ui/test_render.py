"""What the piano roll actually paints: pixels of notes, selection and the dense-view raster."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from musicapp.core.song import Note
from musicapp.ui.pianoroll.raster import DENSE_NOTES, NoteRaster
from tests.ui.conftest import song_with


def pixel(win, tick: float, pitch: int) -> QColor:
    v = win.roll.view
    win.roll.canvas.invalidate()
    image = win.roll.canvas.grab().toImage()
    return image.pixelColor(int(v.tick_to_x(tick)) + 1, int(v.pitch_to_y(pitch) + v.row_height / 2))


def test_raster_paints_higher_kinds_over_lower_for_narrow_and_wide_notes():
    r = NoteRaster(40, 20)
    palette = [QColor("#ff0000"), QColor("#00ff00")]
    xs, ys = np.array([2.0, 3.0, 10.0, 12.0]), np.array([1.0, 1.0, 8.0, 8.0])
    ws, kinds = np.array([3.0, 2.0, 20.0, 15.0]), np.array([1, 0, 0, 1])
    r.fill(xs, ys, ws, kinds, 5, palette)
    assert r.pixels[2, 3] == QColor("#00ff00").rgba()  # narrow: kind 1 over kind 0
    assert r.pixels[2, 2] == QColor("#00ff00").rgba()
    assert r.pixels[9, 20] == QColor("#00ff00").rgba()  # wide: kind 1 over kind 0
    assert r.pixels[9, 11] == QColor("#ff0000").rgba()
    assert r.pixels[15, 5] == 0  # nothing there
    r.fill(np.array([-3.0, 38.0]), np.array([17.0, -2.0]), np.array([5.0, 6.0]), np.array([0, 1]), 5, palette)
    assert r.pixels[19, 1] == QColor("#ff0000").rgba() and r.pixels[19, 2] == 0  # clipped at the left
    assert r.pixels[0, 39] == QColor("#00ff00").rgba()  # clipped at the top and right


def test_selected_note_is_painted_in_selection_colour(win):
    win.document.reset(song_with([Note(0, 60, 960), Note(960, 60, 960)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    win.document.set_selection({(0, 1)})
    selected = win.roll.theme.color("note_selected")
    assert pixel(win, 1200, 60) == selected
    assert pixel(win, 200, 60) != selected
    assert pixel(win, 200, 69) == win.roll.theme.color("row_in_scale")  # empty white-key row


def test_dense_view_draws_every_note_through_the_raster(win):
    notes = [Note(i * 120, 40 + (i * 7) % 40, 120, 100) for i in range(DENSE_NOTES + 500)]
    win.document.reset(song_with(notes))
    win.roll.zoom_to_fit()
    assert sum(len(win.roll.canvas.visible_refs(t)) for t in range(1)) >= DENSE_NOTES
    win.document.set_selection({(0, 1000)})
    n = win.document.song.tracks[0].notes[1000]
    assert pixel(win, n.start, n.pitch) == win.roll.theme.color("note_selected")
    empty_pitch = 39  # below every note
    assert pixel(win, n.start, empty_pitch) != win.roll.theme.color("note_selected")


def test_a_note_edit_repaints_over_the_kept_background_and_a_meter_change_redraws_it(win):
    from dataclasses import replace

    from musicapp.core.song import TimeSignature

    win.document.reset(song_with([Note(0, 60, 480)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    canvas, v = win.roll.canvas, win.roll.view

    def at(tick: float, pitch: int) -> QColor:  # no invalidate: the caches as an edit meets them
        image = canvas.grab().toImage()
        return image.pixelColor(int(v.tick_to_x(tick)) + 1, int(v.pitch_to_y(pitch) + v.row_height / 2))

    at(0, 60)
    background = canvas._background
    win.document.set_selection({(0, 0)})
    win.actions_.up.trigger()  # the note moves to 61
    def near(a: QColor, b: QColor) -> bool:  # the seed tint may lie over a note
        return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) <= 12

    selected = win.roll.theme.color("note_selected")
    assert near(at(100, 61), selected)
    assert not near(at(100, 60), selected)
    assert canvas._background is background  # rows and bar lines were not drawn again

    def line_at(tick: int) -> QColor:
        image = canvas.grab().toImage()
        return image.pixelColor(int(v.tick_to_x(tick)), int(v.pitch_to_y(69) + v.row_height / 2))

    bar_line = line_at(1920)  # 4/4: bar 2 starts at 1920, tick 1440 is a beat line
    assert line_at(1440) != bar_line
    song = win.document.song
    win.document.reset(replace(song, meters=(TimeSignature(0, 3, 4),)))
    assert line_at(1440) == bar_line  # a 3/4 bar line now: the background followed the meter
    assert canvas._background is not background


def test_a_note_edit_repaints_the_roll_but_not_the_keyboard_unless_the_scale_changes(win, qtbot):
    from PySide6.QtCore import QEvent, QObject

    from musicapp.core.song import Key

    class Count(QObject):
        n = 0

        def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
            if event.type() == QEvent.Paint:
                Count.n += 1
            return False

    win.document.reset(song_with([Note(0, 60, 480)]))
    qtbot.wait(20)
    counter = Count()
    win.roll.keyboard.installEventFilter(counter)
    win.document.set_selection({(0, 0)})
    win.actions_.up.trigger()
    win.roll.canvas.repaint()
    qtbot.wait(20)
    assert Count.n == 0
    win.document.apply("Key", lambda s: s.replace(key=Key(2, "major")))  # D major: the scale shows
    qtbot.waitUntil(lambda: Count.n > 0, timeout=2000)
    win.roll.keyboard.removeEventFilter(counter)
