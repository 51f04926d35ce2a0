"""DAW habits of the window with the real engine on a JACK dummy server: ports that appear by
themselves, the app's own port never offered back, MIDI clock out switched in the editor."""

from __future__ import annotations

import time

import rtmidi

from engine_helpers import virtual_keyboard
from test_app_recording import app_win  # noqa: F401 (fixture)

from musicapp.app import VIRTUAL_PORT
from musicapp.core.song import Note, Song, TempoChange, Track


def inputs(win) -> list[str]:
    return [win.recording.box.itemText(i) for i in range(win.recording.box.count())]


def test_a_new_midi_port_appears_without_refresh_and_our_own_output_is_never_an_input(app_win):  # noqa: F811
    win = app_win
    watcher = win.port_watcher
    assert watcher.timer.isActive()
    watcher.check()  # the first look
    assert win.select_output(VIRTUAL_PORT)  # our own virtual output port now exists
    keys = virtual_keyboard("newkeys")
    next(keys)  # a keyboard plugged in while the editor is open
    try:
        assert watcher.check()  # the lists changed: the choosers were refreshed
        assert "newkeys:out" in inputs(win)
        assert not [p for p in inputs(win) if p.startswith("musicapp") and p.endswith(":musicapp")]
        probe = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name="probe")
        try:  # the port really is there for other programs
            assert any(p.startswith("musicapp") and p.endswith(":musicapp") for p in probe.get_ports())
        finally:
            probe.delete()
        assert not watcher.check()  # nothing new
    finally:
        next(keys, None)  # the generator closes the port
    assert watcher.check() and "newkeys:out" not in inputs(win)  # unplugged: gone again


def test_midi_clock_out_is_switched_on_in_the_transport_menu(app_win, qtbot):  # noqa: F811
    from musicapp.engine.outputs import RecordingOutput

    win = app_win
    heard = RecordingOutput()
    win.playback.transport.add_output(heard)
    win.document.reset(Song(tracks=(Track("Lead", 0, 0, (Note(0, 60, 480),)),), tempos=(TempoChange.from_bpm(0, 240),)))
    clock = win.actions_.midi_clock
    assert clock in win.transport_menu.actions() and clock.isEnabled() and not clock.isChecked()
    clock.trigger()
    assert win.settings.midi_clock
    win.playback.play(0)
    qtbot.wait(300)
    win.playback.stop()
    qtbot.waitUntil(lambda: not win.playback.is_playing, timeout=3000)
    sent = [m[0] for _, m in heard.messages]
    assert 0xF8 in sent and (0xFA in sent or 0xFB in sent) and 0xFC in sent  # clock, start, stop
    clock.trigger()  # off: no more clock
    heard.messages.clear()
    win.playback.play(0)
    qtbot.wait(200)
    win.playback.stop()
    time.sleep(0.05)
    assert 0xF8 not in [m[0] for _, m in heard.messages]
