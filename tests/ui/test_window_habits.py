"""The window as a new user first meets it: its size on a first start, remembered after; the
time display starting over with each song."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSettings
from PySide6.QtWidgets import QApplication

from musicapp.app import build_window
from musicapp.core.midifile import write_midi
from musicapp.core.song import Note, Song, Track
from musicapp.ui.autosave import AutosaveConfig
from musicapp.ui.dialogs import ScriptedDialogs
from musicapp.ui.settings import AppSettings
from musicapp.ui.window_habits import first_geometry


def test_first_start_takes_most_of_the_screen_centred():
    assert first_geometry(QRect(0, 0, 1600, 1000)) == QRect(120, 75, 1360, 850)
    assert first_geometry(QRect(0, 0, 800, 600)) == QRect(0, 0, 800, 600)  # small screen: all of it


def test_the_window_opens_sensibly_the_first_time_and_as_left_after(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICAPP_DATA", str(tmp_path / "data"))

    def window():
        settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
        w = build_window(settings=settings, dialogs=ScriptedDialogs(),
                         autosave=AutosaveConfig(folder=tmp_path / "recovery"), with_engine=False)
        w.show()
        qtbot.waitExposed(w)
        return w

    w = window()
    screen = w.screen().availableGeometry()
    assert w.width() >= min(screen.width(), 1024) * 0.99 and w.height() >= min(screen.height(), 680) * 0.99
    w.resize(780, 700)
    w.close()
    w.generate.worker.close(5.0)
    again = window()
    assert (again.width(), again.height()) == (780, 700)
    again.close()
    again.generate.worker.close(5.0)
    QApplication.processEvents()


def test_the_time_display_starts_over_when_another_song_opens(win, tmp_path):
    win.transport_bar.set_position(6 * 1920)  # where the last song was stopped: bar 7
    win.roll.set_playhead(6 * 1920)
    assert win.transport_bar.position_label.text() == "7.1.000"
    path = tmp_path / "other.mid"
    write_midi(Song(tracks=(Track("Lead", notes=(Note(0, 60, 480),)),)), path)
    assert win.files.open_path(path, ask=False)
    assert win.transport_bar.position_label.text() == "1.1.000" and win.roll.playhead_tick == 0


def test_the_tempo_field_and_the_track_list_leave_the_editor_keys_working(win):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    from tests.ui.conftest import click

    a = win.actions_
    click(win, 0, 60)  # something to undo
    tempo = win.transport_bar.tempo
    QTest.mouseClick(tempo.lineEdit(), Qt.LeftButton, Qt.NoModifier, QPoint(4, tempo.height() // 2))
    assert QApplication.focusWidget() is tempo
    follow = a.follow.isChecked()
    QTest.keyClick(tempo, Qt.Key_F)  # not a key a tempo needs: Follow Playhead
    assert a.follow.isChecked() != follow
    QTest.keyClick(tempo, Qt.Key_Z, Qt.ControlModifier)  # the song's undo, not the field's
    assert win.document.song.tracks[0].notes == ()
    tempo.selectAll()
    QTest.keyClicks(tempo, "132")
    QTest.keyClick(tempo, Qt.Key_Return)
    assert round(win.document.song.tempos[0].bpm) == 132 and QApplication.focusWidget() is win.roll.canvas
    table = win.track_list.table
    QTest.mouseClick(table.viewport(), Qt.LeftButton, Qt.NoModifier, table.visualItemRect(table.item(0, 0)).center())
    QTest.keyClick(QApplication.focusWidget(), Qt.Key_3)
    assert win.roll.current_tool().name == "erase"


def test_cell_widgets_made_later_get_the_keyboard_policy_too(win):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QAbstractButton

    from musicapp.core.song import Song, Track
    from musicapp.ui.track_list import EAGER_ROWS

    table = win.track_list.table

    def buttons(row: int) -> list:
        return [table.cellWidget(row, c) for c in (3, 4) if isinstance(table.cellWidget(row, c), QAbstractButton)]

    win.document.reset(Song(tracks=(Track(name="A"), Track(name="B", channel=1))))
    assert buttons(1) and all(b.focusPolicy() == Qt.TabFocus for b in buttons(1))  # made with the song
    many = EAGER_ROWS + 40
    win.document.reset(Song(tracks=tuple(Track(name=f"T{i}", channel=i % 16) for i in range(many))))
    table.scrollToBottom()
    QApplication.processEvents()
    last = many - 1
    assert buttons(last) and all(b.focusPolicy() == Qt.TabFocus for b in buttons(last))  # made on scrolling


def test_quitting_waits_for_a_model_load_longer_than_the_quit_signal_waits(qtbot, tmp_path, monkeypatch):
    """A model load still running when the event loop ends (torch importing on a slow machine)
    is waited for before the interpreter and Qt tear down: ``run_app`` calls finish_background."""
    import threading
    import time

    from musicapp.app import finish_background
    from musicapp.ui.generate.worker import Request
    from tests.ui.generate_helpers import lead, make_window, PHRASE_A

    w = make_window(tmp_path, monkeypatch, lead(PHRASE_A))
    started, ended = threading.Event(), threading.Event()

    def slow_load(svc, cancel, progress):  # a load that cannot be cancelled, like an import
        started.set()
        time.sleep(1.0)
        ended.set()
        return []

    w.generate.worker.submit(Request(99, w.generate.options.model_key("lstm"), slow_load, "preload"))
    assert started.wait(15)
    assert not w.generate.worker.close(0.05)  # a short wait leaves the thread running
    assert finish_background(w, timeout=15.0)
    assert ended.is_set() and not w.generate.worker.alive
    w.document.undo_stack.setClean()
    w.close()
    w.deleteLater()
