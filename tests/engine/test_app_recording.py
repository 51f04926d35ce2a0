"""Recording in the real app: a JACK MIDI keyboard, the transport bar's input, Record (R), the take."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QSettings

from engine_helpers import virtual_keyboard

from musicapp.app import NO_OUTPUT, build_window
from musicapp.core.song import Song, TempoChange, Track
from musicapp.ui.autosave import AutosaveConfig
from musicapp.ui.dialogs import ScriptedDialogs
from musicapp.ui.settings import AppSettings


@pytest.fixture
def live_keys(jack_server):
    yield from virtual_keyboard("livekeys")


@pytest.fixture
def app_win(jack_server, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICAPP_DATA", str(tmp_path / "data"))
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    settings.output = NO_OUTPUT
    win = build_window(settings=settings, dialogs=ScriptedDialogs(),
                       autosave=AutosaveConfig(folder=tmp_path / "recovery"), with_engine=True)
    qtbot.addWidget(win)
    yield win
    win.close()


def _play(keys, events, t0):
    """Send (seconds after t0, message) pairs at those times."""
    for at, msg in events:
        while time.perf_counter() < t0 + at:
            time.sleep(0.0005)
        keys.send_message(msg)


def test_record_lands_what_the_keyboard_played_in_the_active_track_as_one_step(app_win, live_keys, qtbot):
    win = app_win
    win.document.reset(Song(tracks=(Track("Lead", 3, 0),), tempos=(TempoChange.from_bpm(0, 120),)))
    win.refresh_outputs()
    assert "livekeys:out" in [win.recording.box.itemText(i) for i in range(win.recording.box.count())]
    assert win.select_input("livekeys:out")
    assert win.settings.midi_input == "livekeys:out"
    win.actions_.record.trigger()  # R: starts playing from the edit cursor (0)
    t0 = time.perf_counter()
    assert win.actions_.record.isChecked() and win.playback.is_playing
    # 120 BPM: 0.25 s = 240 ticks
    _play(live_keys, [(0.25, (0x90, 60, 100)), (0.5, (0x80, 60, 0)), (0.5, (0xB0, 64, 127)),
                      (0.75, (0x90, 64, 90)), (1.0, (0x80, 64, 0)), (1.0, (0xB0, 64, 0))], t0)
    qtbot.wait(100)
    win.actions_.record.trigger()  # off: the take lands
    assert not win.actions_.record.isChecked()
    track = win.document.song.tracks[0]
    assert [(n.pitch, n.velocity, n.channel) for n in track.notes] == [(60, 100, 3), (64, 90, 3)]
    for note, start in zip(track.notes, (240, 720)):
        assert abs(note.start - start) <= 40 and abs(note.length - 240) <= 40
    assert [(c.kind, c.number, c.value) for c in track.controls] == [
        ("control_change", 64, 127), ("control_change", 64, 0)]
    assert win.document.undo_stack.count() == 1
    assert win.document.selection == {(0, 0), (0, 1)}
    win.document.undo_stack.undo()
    assert win.document.song.tracks[0].notes == ()


def test_record_without_an_input_says_so_and_stays_off(app_win):
    win = app_win
    said = []
    win.statusBar().messageChanged.connect(lambda m: m and said.append(m))
    win.actions_.record.trigger()
    assert not win.actions_.record.isChecked() and not win.playback.is_playing
    assert said[-1] == "Choose a MIDI input first (transport bar)"


def test_stopping_the_transport_lands_the_take_with_a_held_key_ending_at_the_stop(app_win, live_keys, qtbot):
    win = app_win
    win.document.reset(Song(tracks=(Track("Lead", 0, 0),), tempos=(TempoChange.from_bpm(0, 120),)))
    win.actions_.quantize_recording.setChecked(True)
    win.actions_.quantize_recording.trigger()  # toggled back off: quantize is optional
    win.actions_.quantize_recording.trigger()  # and on again: snapped to the 1/16 grid
    assert win.recording.quantize and win.settings.quantize_recording
    assert win.select_input("livekeys:out")
    win.actions_.record.trigger()
    t0 = time.perf_counter()
    _play(live_keys, [(0.2, (0x90, 67, 80))], t0)  # held until the stop
    qtbot.wait(500)
    win.actions_.play.trigger()  # Space: stop
    assert not win.actions_.record.isChecked()
    (note,) = win.document.song.tracks[0].notes
    assert note.pitch == 67 and note.start % 120 == 0 and note.end >= 480


def test_closing_the_window_lands_a_running_take_and_closes_the_input(app_win, live_keys, qtbot):
    win = app_win
    win.document.reset(Song(tracks=(Track("Lead", 0, 0),), tempos=(TempoChange.from_bpm(0, 120),)))
    assert win.select_input("livekeys:out")
    win.actions_.record.trigger()
    _play(live_keys, [(0.1, (0x90, 62, 70)), (0.2, (0x80, 62, 0))], time.perf_counter())
    qtbot.wait(100)
    win.close()
    assert [n.pitch for n in win.document.song.tracks[0].notes] == [62]
    assert not win.recording.chooser.is_open


def test_count_in_gives_a_bar_before_the_take_starts_at_the_cursor(app_win, live_keys, qtbot):
    win = app_win
    win.document.reset(Song(tracks=(Track("Lead", 0, 0),), tempos=(TempoChange.from_bpm(0, 240),)))
    win.actions_.count_in_recording.trigger()  # on: one bar of 4/4 at 240 BPM = 1 s
    assert win.settings.count_in_recording
    win.roll.set_cursor_tick(1920)
    assert win.select_input("livekeys:out")
    win.actions_.record.trigger()
    t0 = time.perf_counter()
    qtbot.wait(500)
    assert win.playback.transport.position_ticks() == 1920  # still counting in
    _play(live_keys, [(1.25, (0x90, 65, 90)), (1.5, (0x80, 65, 0))], t0)  # a beat into the take
    qtbot.wait(100)
    win.actions_.record.trigger()
    (note,) = win.document.song.tracks[0].notes
    assert abs(note.start - (1920 + 480)) <= 60


def test_the_virtual_input_takes_notes_from_other_programs(app_win, qtbot):
    import rtmidi

    from musicapp.app import VIRTUAL_INPUT

    win = app_win
    win.document.reset(Song(tracks=(Track("Lead", 0, 0),), tempos=(TempoChange.from_bpm(0, 120),)))
    assert win.select_input(VIRTUAL_INPUT)
    sender = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="daw")
    ours = [p for p in sender.get_ports() if p.startswith("musicapp") and p.endswith(":musicapp")]
    assert len(ours) == 1, sender.get_ports()
    sender.open_port(sender.get_ports().index(ours[0]))
    try:
        win.actions_.record.trigger()
        _play(sender, [(0.1, (0x90, 72, 99)), (0.3, (0x80, 72, 0))], time.perf_counter())
        qtbot.wait(100)
        win.actions_.record.trigger()
    finally:
        sender.close_port()
        sender.delete()
    assert [(n.pitch, n.velocity) for n in win.document.song.tracks[0].notes] == [(72, 99)]


def test_thru_never_leaves_a_key_sounding_when_the_track_or_the_input_changes(app_win, live_keys, qtbot):
    from musicapp.app import NO_INPUT
    from musicapp.engine.outputs import RecordingOutput

    win = app_win
    heard = RecordingOutput()
    win.playback.transport.add_output(heard)
    win.document.reset(Song(tracks=(Track("Lead", 3, 0), Track("Pad", 5, 88))))
    assert win.select_input("livekeys:out")
    live_keys.send_message((0x90, 60, 100))
    qtbot.wait(100)
    win.document.set_active_track(1)  # thru now goes to channel 6
    live_keys.send_message((0x80, 60, 0))
    live_keys.send_message((0xB0, 64, 127))
    live_keys.send_message((0x90, 62, 100))
    qtbot.wait(100)
    assert win.select_input(NO_INPUT)  # closing the input while 62 and the pedal are held
    qtbot.wait(100)
    notes = [m for _, m in heard.messages if m[0] & 0xE0 == 0x80]
    assert notes == [(0x93, 60, 100), (0x83, 60, 0), (0x95, 62, 100), (0x85, 62, 0)]
    assert heard.sounding_notes() == []
    pedal = [m for _, m in heard.messages if m[0] == 0xB5 and m[1] == 64]
    assert pedal == [(0xB5, 64, 127), (0xB5, 64, 0)]
