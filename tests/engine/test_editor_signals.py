"""The editor ended by SIGTERM, SIGHUP or SIGINT (real processes, real JACK ports): it keeps a
recovery point of the unsaved work and releases every sounding note before exiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from musicapp.core.project import load_project

from engine_helpers import stuck_notes

CHILD = r"""
import os, sys
from pathlib import Path
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from musicapp.app import build_window, install_exit_signals
from musicapp.core.song import Note, Song, TempoChange, Track
from musicapp.ui.autosave import AutosaveConfig
from musicapp.ui.dialogs import ScriptedDialogs
from musicapp.ui.settings import AppSettings
folder, port = Path(sys.argv[1]), sys.argv[2]
settings = AppSettings(QSettings(str(folder / "child.ini"), QSettings.IniFormat))
settings.output = "No output (silent)"  # chosen below, before playing, not on a timer
w = build_window(settings=settings, dialogs=ScriptedDialogs(), autosave=AutosaveConfig(folder=folder / "recovery"))
install_exit_signals(app, w)
w.show()
w.startup(None)
notes = tuple(Note(i * 240, 60 + i, 20_000, 100) for i in range(4))  # long, overlapping notes
w.document.reset(Song(tracks=(Track(notes=notes),), tempos=(TempoChange.from_bpm(0, 240),)))
def go():
    if not w.select_output(port):
        print("NO OUTPUT", w.statusBar().currentMessage(), flush=True)
        return
    w.roll.add_notes([Note(0, 48, 480)])  # an unsaved edit, seconds before any autosave
    w.playback.play(0)
    print("PLAYING", flush=True)
QTimer.singleShot(300, go)
sys.exit(app.exec())
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_keeps_a_recovery_point_and_releases_every_note(inbox, tmp_path, sig):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MUSICAPP_DATA=str(tmp_path / "data"),
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    # env --default-signal=INT: a background job starts with SIGINT ignored; the editor must
    # see it as a terminal's Ctrl-C would deliver it
    proc = subprocess.Popen(["env", "--default-signal=INT", sys.executable, "-c", CHILD, str(tmp_path), inbox.name],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("PLAYING"), line + (proc.stderr.read() if proc.poll() is not None else "")
        assert inbox.wait_until(lambda m: sum(x[1][0] & 0xF0 == 0x90 and x[1][2] for x in m) >= 3, timeout=60)
        proc.send_signal(sig)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()
    assert proc.returncode == 128 + sig, err
    msgs = inbox.collect(0.1)
    assert stuck_notes(msgs) == {}
    files = list((tmp_path / "recovery").glob("session-*.musicapp"))
    assert len(files) == 1 and "unsaved work kept in" in err
    song, _state = load_project(files[0])
    assert 48 in [n.pitch for n in song.tracks[0].notes]
