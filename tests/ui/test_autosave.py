"""Autosave writes only after changes; a killed editor's work is offered back on the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from musicapp.app import build_window
from musicapp.core.song import Note
from musicapp.ui.autosave import AutosaveConfig
from musicapp.ui.dialogs import ScriptedDialogs
from tests.ui.conftest import click, editor_child, make_settings

CHILD = editor_child("interval_s=0.2, ", """
w.autosaver.saved.connect(lambda p: print("SAVED", p, flush=True))
w.roll.add_notes([Note(0, 60, 480), Note(480, 64, 480), Note(960, 67, 960)])""")


def test_autosave_writes_only_when_changed_and_drops_file_after_save(win, dialogs, tmp_path):
    saver = win.autosaver
    assert not saver.check() and not saver.path.exists()  # nothing changed yet
    click(win, 0, 60)
    assert saver.check() and saver.path.exists()
    mtime = saver.path.stat().st_mtime_ns
    assert not saver.check()  # unchanged since the last write: no write
    assert saver.path.stat().st_mtime_ns == mtime
    dialogs.paths.append(str(tmp_path / "saved.musicapp"))
    assert win.files.save()
    assert not saver.path.exists()
    assert saver.timer.interval() == 30_000  # the fixture keeps the default 30 s


def test_default_interval_is_thirty_seconds():
    assert AutosaveConfig().interval_s == 30.0


def test_recovery_offered_after_killed_process(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICAPP_DATA", str(tmp_path / "data"))
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if line.startswith("SAVED") or not line:
                break
        assert line.startswith("SAVED"), "child never autosaved"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    recovery = Path(line.split(" ", 1)[1].strip())
    assert recovery.exists()

    dialogs = ScriptedDialogs(recovery_answers=[True])
    win = build_window(settings=make_settings(tmp_path), dialogs=dialogs, with_engine=False,
                       autosave=AutosaveConfig(folder=tmp_path / "recovery"))
    qtbot.addWidget(win)
    win.startup(None)
    assert any(a.startswith("recover:") for a in dialogs.asked)
    assert [n.pitch for n in win.document.song.tracks[0].notes] == [60, 64, 67]
    assert win.document.song.tracks[0].notes[2] == Note(960, 67, 960)
    assert win.document.is_modified  # recovered work still needs saving
    assert recovery.exists()  # kept until this session's own recovery point is written
    qtbot.waitUntil(lambda: win.autosaver.path.exists(), timeout=10_000)
    assert not recovery.exists()
    win.document.undo_stack.setClean()


def test_recovered_work_keeps_the_file_it_belongs_to(qtbot, win, dialogs, tmp_path):
    path = tmp_path / "tune.musicapp"
    dialogs.paths.append(str(path))
    click(win, 0, 60)
    assert win.files.save()
    click(win, 480, 62)
    assert win.autosaver.check()
    orphan = win.autosaver.path.with_name("session-999999999.musicapp")  # a process that is gone
    win.autosaver.path.rename(orphan)
    edited = win.document.song
    again = build_window(settings=make_settings(tmp_path), dialogs=ScriptedDialogs(recovery_answers=[True]),
                         with_engine=False, autosave=AutosaveConfig(folder=tmp_path / "recovery"))
    qtbot.addWidget(again)
    again.startup(None)
    assert again.document.song == edited
    assert again.document.path == path.resolve() and again.document.is_modified
    again.document.undo_stack.setClean()
