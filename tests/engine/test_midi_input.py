"""MIDI input through JACK: listing and opening inputs, recording notes in ticks, thru."""

from __future__ import annotations

import time

import pytest
import rtmidi

from musicapp.core.song import Song, TempoChange
from musicapp.engine.errors import PortError
from musicapp.engine.midi_input import Recorder, free_running_ticks
from musicapp.engine.transport import (
    Transport, list_input_ports, open_input_port, open_output_port, open_virtual_input,
)

from engine_helpers import stuck_notes, virtual_keyboard


@pytest.fixture
def keyboard(jack_server):
    """A JACK MIDI source standing in for a hardware keyboard."""
    yield from virtual_keyboard("testkeys")


def play_keys(keyboard, events):
    """Send (seconds from now, message) pairs at those times; returns the start time."""
    t0 = time.perf_counter() + 0.05
    for at, msg in events:
        while time.perf_counter() < t0 + at:
            time.sleep(0.0005)
        keyboard.send_message(msg)
    return t0


def test_inputs_are_listed_and_opened_by_a_unique_part(keyboard):
    assert "testkeys:out" in list_input_ports()
    with open_input_port("testkeys") as inp:
        assert inp.name == "testkeys:out"
    with pytest.raises(PortError, match="no MIDI input port matches"):
        open_input_port("no-such-keyboard")


def test_recording_turns_played_notes_into_ticks_quantized(keyboard):
    song = Song(tempos=(TempoChange.from_bpm(0, 120),))  # 0.25 s = 240 ticks
    with open_input_port("testkeys") as inp:
        rec_holder: list[Recorder] = []
        start = time.perf_counter() + 0.05
        rec = Recorder(free_running_ticks(song, 0, start))
        rec_holder.append(rec)
        inp.add_handler(rec.feed)
        play_keys(keyboard, [(0.0, (0x90, 60, 100)), (0.2, (0x80, 60, 0)),
                             (0.25, (0x90, 64, 80)), (0.5, (0x90, 64, 0)),
                             (0.5, (0x90, 67, 70)), (0.51, (0xB0, 1, 5))])
        time.sleep(0.1)
        track = rec.take_track("take 1", channel=2, quantize_ticks=120)
    got = [(n.start, n.pitch, n.length, n.velocity, n.channel) for n in track.notes]
    assert got[:2] == [(0, 60, 240, 100, 2), (240, 64, 240, 80, 2)]
    assert got[2][:2] == (480, 67) and got[2][2] >= 120  # still held: ends at take time
    assert rec.notes() == [] and rec.controls() == []  # the take was handed over
    (mod,) = track.controls  # the mod wheel, at its own (unquantized) time
    assert (mod.kind, mod.number, mod.value) == ("control_change", 1, 5) and 470 < mod.tick < 530


def test_recording_keeps_pedal_bend_aftertouch_and_program_in_order(keyboard):
    song = Song(tempos=(TempoChange.from_bpm(0, 120),))
    with open_input_port("testkeys") as inp:
        rec = Recorder(free_running_ticks(song, 0, time.perf_counter() + 0.05))
        inp.add_handler(rec.feed)
        play_keys(keyboard, [(0.0, (0xC0, 12)), (0.0, (0xB0, 64, 127)), (0.05, (0x90, 60, 100)),
                             (0.1, (0xE0, 0, 80)), (0.15, (0xD0, 40)), (0.2, (0x80, 60, 0)),
                             (0.25, (0xB0, 64, 0))])
        time.sleep(0.1)
        track = rec.take_track("take", channel=0)
    assert [(c.kind, c.number, c.value) for c in track.controls] == [
        ("program_change", 0, 12), ("control_change", 64, 127), ("pitchwheel", 0, 80 * 128 - 8192),
        ("aftertouch", 0, 40), ("control_change", 64, 0)]
    assert [c.tick for c in track.controls] == sorted(c.tick for c in track.controls)


def test_thru_echoes_input_to_the_outputs_and_stop_releases_it(keyboard, inbox):
    with Transport(open_output_port(inbox.name)) as tr, open_input_port("testkeys") as inp:
        inp.thru_to(tr, channel=3)
        keyboard.send_message((0x90, 62, 99))
        assert inbox.wait_until(lambda m: any(x[1] == (0x93, 62, 99) for x in m), timeout=2)
        tr.stop()  # the held thru note is released like any other
    msgs = inbox.collect(0.05)
    assert stuck_notes(msgs) == {} and (0xB3, 123, 0) in [m for _, m in msgs]


def test_virtual_input_receives_from_other_programs(jack_server):
    with open_virtual_input("musicapp-test-in") as inp:
        got: list = []
        inp.add_handler(lambda t, m: got.append(m))
        sender = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="sender")
        ports = sender.get_ports()
        sender.open_port(next(i for i, p in enumerate(ports) if "musicapp-test-in" in p))
        time.sleep(0.05)
        sender.send_message((0x90, 70, 50))
        end = time.monotonic() + 2
        while not got and time.monotonic() < end:
            time.sleep(0.005)
        sender.close_port()
        sender.delete()
    assert got == [(0x90, 70, 50)]
