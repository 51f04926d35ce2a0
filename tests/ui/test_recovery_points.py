"""When recovery points are written (soon after the first change, periodically, on idle),
that a recovered file survives until a new one exists, that every orphan is offered, and
that nothing is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from musicapp.app import build_window
from musicapp.core.project import save_project
from musicapp.core.song import Note, Song, Track
from musicapp.ui.autosave import AutosaveConfig
from musicapp.ui.dialogs import ScriptedDialogs
from tests.ui.conftest import click, editor_child, make_settings

CHILD = editor_child("", """
def edit():
    w.roll.add_notes([Note(0, 60, 480), Note(480, 64, 480)])
    print("EDITED", flush=True)
QTimer.singleShot(0, edit)""")  # the default timing


def test_a_kill_ten_seconds_after_the_first_edit_loses_nothing(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]), MUSICAPP_DATA=str(tmp_path / "d"))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        assert child.stdout.readline().startswith("EDITED")
        time.sleep(10)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    files = list((tmp_path / "recovery").glob("session-*.musicapp"))
    assert len(files) == 1
    from musicapp.core.project import load_project
    assert [n.pitch for n in load_project(files[0])[0].tracks[0].notes] == [60, 64]


def test_first_point_comes_soon_then_on_idle_and_at_most_every_interval(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICAPP_DATA", str(tmp_path / "data"))
    config = AutosaveConfig(interval_s=30, first_s=0.2, idle_s=0.5, folder=tmp_path / "recovery")
    win = build_window(settings=make_settings(tmp_path), dialogs=ScriptedDialogs(), with_engine=False, autosave=config)
    qtbot.addWidget(win)
    win.show()
    win.startup(None)
    saver, writes = win.autosaver, []
    saver.saved.connect(lambda p: writes.append(win.document.revision))
    assert saver.timer.interval() == 30_000 and saver.timer.isActive()
    click(win, 0, 60)
    qtbot.waitUntil(lambda: len(writes) >= 1, timeout=3000)  # well before the 30 s period
    click(win, 480, 62)
    click(win, 960, 64)
    qtbot.waitUntil(lambda: writes[-1] == win.document.revision, timeout=3000)  # the pause wrote it
    n = len(writes)
    qtbot.wait(800)
    assert len(writes) == n  # nothing changed: no more writes
    win.document.undo_stack.setClean()


def test_every_orphaned_recovery_file_is_offered(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICAPP_DATA", str(tmp_path / "data"))
    folder = tmp_path / "recovery"
    folder.mkdir()
    old, new = folder / "session-999999998.musicapp", folder / "session-999999999.musicapp"
    save_project(old, Song((Track(notes=(Note(0, 50, 480),)),)), {"recovery_of": ""})
    time.sleep(0.05)
    save_project(new, Song((Track(notes=(Note(0, 70, 480),)),)), {"recovery_of": ""})
    dialogs = ScriptedDialogs(recovery_answers=[False, True])
    win = build_window(settings=make_settings(tmp_path), dialogs=dialogs, with_engine=False,
                       autosave=AutosaveConfig(folder=folder, first_s=0.2))
    qtbot.addWidget(win)
    win.startup(None)
    assert [a for a in dialogs.asked if a.startswith("recover:")] == [
        "recover: Unsaved changes to an untitled song (1 notes) (1 of 2).",
        "recover: Unsaved changes to an untitled song (1 notes) (2 of 2)."]
    assert not new.exists()  # declined: gone
    assert win.document.song.tracks[0].notes[0].pitch == 50 and old.exists()
    qtbot.waitUntil(lambda: not old.exists() and win.autosaver.path.exists(), timeout=5000)
    win.document.undo_stack.setClean()


def test_recovering_one_keeps_the_others_for_the_next_start(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICAPP_DATA", str(tmp_path / "data"))
    folder = tmp_path / "recovery"
    folder.mkdir()
    paths = [folder / f"session-99999999{i}.musicapp" for i in range(2)]
    for i, p in enumerate(paths):
        save_project(p, Song((Track(notes=(Note(0, 50 + i, 480),)),)), {})
        os.utime(p, (1000 + i, 1000 + i))
    win = build_window(settings=make_settings(tmp_path), dialogs=ScriptedDialogs(recovery_answers=[True]),
                       with_engine=False, autosave=AutosaveConfig(folder=folder))
    qtbot.addWidget(win)
    win.startup(None)
    assert win.document.song.tracks[0].notes[0].pitch == 51  # the newest first
    assert paths[0].exists() and "1 more recovery file(s) kept" in win.statusBar().currentMessage()
    win.document.undo_stack.setClean()


def test_discard_removes_the_recovery_file_and_its_backup(win):
    saver = win.autosaver
    click(win, 0, 60)
    assert saver.check()
    click(win, 480, 60)
    assert saver.check()
    bak = saver.path.with_name(saver.path.name + ".bak")
    assert saver.path.exists() and bak.exists()
    saver.discard()
    assert not saver.path.exists() and not bak.exists()
