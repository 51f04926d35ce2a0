"""Fixtures for the editor tests: a real MainWindow offscreen with private settings, data folder,
scripted dialogs and no engine (tests that need the engine build their own Transport)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from musicapp.app import build_window
from musicapp.core.song import Note, Song, Track
from musicapp.ui.autosave import AutosaveConfig
from musicapp.ui.dialogs import ScriptedDialogs
from musicapp.ui.settings import AppSettings


def make_settings(tmp_path) -> AppSettings:
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))


@pytest.fixture
def dialogs() -> ScriptedDialogs:
    return ScriptedDialogs()


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch, dialogs):
    monkeypatch.setenv("MUSICAPP_DATA", str(tmp_path / "data"))
    w = build_window(settings=make_settings(tmp_path), dialogs=dialogs,
                     autosave=AutosaveConfig(folder=tmp_path / "recovery"), with_engine=False)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w.roll.view.scroll_to(left_tick=0, top_pitch=84)
    yield w
    w.document.undo_stack.setClean()
    w.close()
    w.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)


def point(win, tick: float, pitch: int, dx: float = 2.0) -> QPoint:
    """Canvas pixel inside the row of ``pitch``, ``dx`` px right of ``tick``."""
    v = win.roll.view
    return QPoint(int(v.tick_to_x(tick) + dx), int(v.pitch_to_y(pitch) + v.row_height / 2))


def click(win, tick, pitch, button=Qt.LeftButton, mods=Qt.NoModifier, dx=2.0):
    QTest.mouseClick(win.roll.canvas, button, mods, point(win, tick, pitch, dx))


def drag(widget, start: QPoint, end: QPoint, mods=Qt.NoModifier, steps: int = 4, button=Qt.LeftButton):
    """Press at ``start``, move in ``steps`` to ``end``, release: a real mouse drag."""
    QTest.mousePress(widget, button, mods, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(widget, p)
    QTest.mouseRelease(widget, button, mods, end)


def notes(win, track: int = 0) -> tuple[Note, ...]:
    return win.document.song.tracks[track].notes


def song_with(notes_: list[Note], *more_tracks: list[Note]) -> Song:
    tracks = [Track(name="Lead", notes=tuple(notes_))]
    tracks += [Track(name=f"T{i + 2}", channel=i + 1, notes=tuple(n)) for i, n in enumerate(more_tracks)]
    return Song(tracks=tuple(tracks))


def editor_child(autosave_args: str, body: str) -> str:
    """Python source for a child process running an offscreen editor window ``w`` (no engine,
    settings and recovery files in the folder given as argv[1], ``AutosaveConfig(autosave_args
    folder=...)``) that runs ``body`` after start-up, then the event loop."""
    return f"""
import os, sys
from pathlib import Path
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from musicapp.app import build_window
from musicapp.core.song import Note
from musicapp.ui.autosave import AutosaveConfig
from musicapp.ui.dialogs import ScriptedDialogs
from musicapp.ui.settings import AppSettings
folder = Path(sys.argv[1])
w = build_window(settings=AppSettings(QSettings(str(folder / "child.ini"), QSettings.IniFormat)),
                 dialogs=ScriptedDialogs(), with_engine=False,
                 autosave=AutosaveConfig({autosave_args}folder=folder / "recovery"))
w.show()
w.startup(None)
{body}
app.exec()
"""
