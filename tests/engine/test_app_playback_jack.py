"""The editor playing through its virtual output into a JACK receiver delivers every note, every
time: 20 playbacks started with the Play action, each note-on counted and matched to its
note-off (issue 17: the first note-ons of some playbacks were reported missing)."""

from __future__ import annotations

import subprocess
import time

import pytest
from PySide6.QtCore import QSettings

from engine_helpers import scale_song
from musicapp.app import VIRTUAL_PORT, build_window
from musicapp.ui.autosave import AutosaveConfig
from musicapp.ui.dialogs import ScriptedDialogs
from musicapp.ui.settings import AppSettings


@pytest.fixture
def app_win(jack_server, qtbot, tmp_path):
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    settings.output = VIRTUAL_PORT
    win = build_window(settings=settings, dialogs=ScriptedDialogs(),
                       autosave=AutosaveConfig(folder=tmp_path / "recovery"), with_engine=True)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: any(o.name == "musicapp" for o in win.playback.transport.outputs()),
                    timeout=5000)
    yield win
    win.playback.stop()
    watcher = getattr(win, "port_watcher", None)
    if watcher is not None:  # no port polling from a closed window during later tests
        watcher.timer.stop()
    win.close()
    win.playback.transport.close()
    win.deleteLater()


def _output_port_named(suffix: str) -> str:
    """The JACK port ending in ``suffix`` that sends (an output), e.g. the editor's virtual
    output ("musicapp:musicapp"; its virtual *input* has a same-named receiving port)."""
    lines = subprocess.run(["jack_lsp", "-p"], capture_output=True, text=True,
                           check=True).stdout.split("\n")
    return next(name for name, props in zip(lines, lines[1:])
                if name.endswith(suffix) and "output" in props)


def test_twenty_playbacks_through_a_jack_connection_deliver_every_note(app_win, inbox, qtbot):
    win = app_win
    song = scale_song(notes=6, step=120, length=100, bpm=240)  # 6 notes in 0.37 s
    win.document.reset(song)
    source = _output_port_named(":musicapp")  # the editor's virtual output (client "musicapp" or "musicapp-NN")
    subprocess.run(["jack_connect", source, inbox.name], check=True)
    counts = []
    for _ in range(20):
        inbox.drain()
        inbox.received.clear()
        win.actions_.play.trigger()  # Space: play from where play last started (tick 0)
        assert win.playback.is_playing
        qtbot.waitUntil(lambda: not win.playback.is_playing, timeout=5000)  # the song ends
        msgs = inbox.collect(0.05)
        ons = [m[1] for _, m in msgs if m[0] & 0xF0 == 0x90 and m[2] > 0]
        offs = [m[1] for _, m in msgs if m[0] & 0xF0 == 0x80]
        counts.append(len(ons))
        assert ons == [n.pitch for n in song.tracks[0].notes], msgs
        assert offs[:6] == ons  # each note-off after its own note-on
        first_on = next(i for i, (_, m) in enumerate(msgs) if m[0] & 0xF0 == 0x90)
        assert (0xC0, 0) in [m for _, m in msgs[:first_on]]  # the chase came first
    assert counts == [6] * 20
