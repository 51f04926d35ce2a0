"""Transport > Jam in the real app: a JACK keyboard plays calls, the answers come out of the
output port on the next bar line, show as they play, and a take lands as two tracks."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QSettings

from engine_helpers import stuck_notes, virtual_keyboard

from musicapp.app import NO_OUTPUT, build_window
from musicapp.core.song import Song, TempoChange, Track
from musicapp.ui.autosave import AutosaveConfig
from musicapp.ui.dialogs import ScriptedDialogs
from musicapp.ui.settings import AppSettings

pytest.importorskip("torch")


@pytest.fixture
def jam_keys(jack_server):
    yield from virtual_keyboard("jamappkeys")


@pytest.fixture
def jam_win(jack_server, qtbot, tmp_path, monkeypatch, inbox):
    monkeypatch.setenv("MUSICAPP_DATA", str(tmp_path / "data"))
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    settings.output = NO_OUTPUT
    win = build_window(settings=settings, dialogs=ScriptedDialogs(),
                       autosave=AutosaveConfig(folder=tmp_path / "recovery"), with_engine=True)
    qtbot.addWidget(win)
    win.document.reset(Song(tracks=(Track("Lead", 0, 0),), tempos=(TempoChange.from_bpm(0, 240),)))
    win.refresh_outputs()
    assert win.select_output(inbox.name)
    yield win
    win.close()


def _play_beats(win, keys, events) -> None:
    """(beat, message) pairs at those beats of the transport's clock (240 BPM: 0.25 s)."""
    for beat, msg in events:
        at = win.playback.transport.wall_at(beat * 480)
        while time.perf_counter() < at:
            time.sleep(0.0005)
        keys.send_message(msg)


def test_jam_without_an_input_says_so_and_stays_off(jam_win):
    win = jam_win
    said = []
    win.statusBar().messageChanged.connect(lambda m: m and said.append(m))
    win.actions_.jam.trigger()
    assert not win.actions_.jam.isChecked() and not win.playback.is_playing
    assert said[-1] == "Choose a MIDI input first (transport bar)"


def test_jam_answers_on_the_bar_line_shows_the_answer_and_records_two_tracks_in_one_step(
        jam_win, jam_keys, inbox, qtbot):
    win = jam_win
    assert win.select_input("jamappkeys:out")
    assert not win.actions_.metronome.isChecked()
    win.actions_.jam_lengths[0].trigger()  # calls of 1 bar
    win.actions_.jam.trigger()
    assert win.actions_.jam.isChecked()
    qtbot.waitUntil(lambda: win.playback.is_playing, timeout=20000)  # the model loads first
    assert win.actions_.metronome.isChecked()  # the jam keeps time with clicks
    win.actions_.record.trigger()  # a jam take
    assert win.actions_.record.isChecked()
    start = int(win.playback.transport.position_ticks() // 1920 + 1)
    call = [(4 * start + i + dt, (0x90 if dt == 0 else 0x80, p, 100 if dt == 0 else 0))
            for i, p in enumerate((60, 64, 67, 64)) for dt in (0, 0.5)]
    _play_beats(win, jam_keys, call)
    qtbot.waitUntil(lambda: bool(win.document.ghost_notes), timeout=3000)  # shown as it plays
    ghosts_early = len(win.document.ghost_notes)
    qtbot.wait(900)
    win.actions_.record.trigger()  # the take lands
    win.actions_.jam.trigger()  # and the jam stops
    assert not win.actions_.jam.isChecked() and not win.document.ghost_notes
    assert not win.actions_.metronome.isChecked()  # as it was
    song = win.document.song
    assert [t.name for t in song.tracks] == ["Lead", "Jam calls", "Jam answers"]
    assert [n.pitch for n in song.tracks[1].notes] == [60, 64, 67, 64]
    answers = song.tracks[2].notes
    assert answers and all(n.start >= (start + 1) * 1920 for n in answers)
    assert ghosts_early <= len(answers)
    assert win.document.undo_stack.count() == 1
    win.document.undo_stack.undo()
    assert [t.name for t in win.document.song.tracks] == ["Lead"]
    ch = song.tracks[2].channel
    win.actions_.stop.trigger()
    got = inbox.collect(0.2)
    ons = [t for t, m in got if m[0] == (0x90 | ch) and m[2] > 0]
    clicks = [t for t, m in got if m[0] == 0x99]
    assert ons and clicks
    off_grid = (ons[0] - clicks[0]) % 0.0625  # a 16th at 240 BPM; the clicks give the grid
    assert min(off_grid, 0.0625 - off_grid) < 0.03  # coarse: the timing is the benchmark's
    assert not stuck_notes(got)


def test_stopping_the_transport_stops_the_jam_and_nothing_keeps_sounding(jam_win, jam_keys, inbox, qtbot):
    win = jam_win
    assert win.select_input("jamappkeys:out")
    win.actions_.jam_lengths[0].trigger()
    win.actions_.jam.trigger()
    qtbot.waitUntil(lambda: win.playback.is_playing, timeout=20000)
    start = int(win.playback.transport.position_ticks() // 1920 + 1)
    _play_beats(win, jam_keys, [(4 * start + i * 0.5, (0x90, 62 + 2 * i, 90)) for i in range(4)]
                + [(4 * start + 3, (0x80, 62 + 2 * i, 0)) for i in range(4)])
    qtbot.waitUntil(lambda: bool(win.document.ghost_notes), timeout=3000)  # answering now
    win.actions_.play.trigger()  # Space: stop
    qtbot.waitUntil(lambda: not win.actions_.jam.isChecked(), timeout=2000)
    assert not stuck_notes(inbox.collect(0.2))
