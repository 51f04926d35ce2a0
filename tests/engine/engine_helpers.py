"""Helpers for engine tests: a polled JACK input port, a stuck-note counter, small songs."""

from __future__ import annotations

import functools
import os
import time

import numpy as np
import pytest

from musicapp.core.song import Note, Song, TempoChange, Track


def needs_fluidsynth(test):
    """Run ``test`` where libfluidsynth and a SoundFont are installed. Elsewhere it is skipped,
    unless ``MUSICAPP_REQUIRE_FLUIDSYNTH=1`` (``./setup.sh test``, which installs both, sets
    it): then the missing synth is a failure, so a fresh clone cannot silently skip them."""
    from musicapp.engine import fluid

    if fluid.available():
        return test
    if os.environ.get("MUSICAPP_REQUIRE_FLUIDSYNTH") != "1":
        return pytest.mark.skip(reason="no libfluidsynth or SoundFont here")(test)

    @functools.wraps(test)
    def missing(*args, **kwargs):
        pytest.fail("FluidSynth tests required (MUSICAPP_REQUIRE_FLUIDSYNTH=1) but libfluidsynth "
                    "or a SoundFont is missing (Debian: libfluidsynth3 timgm6mb-soundfont)")

    return missing


def virtual_keyboard(client: str):
    """A JACK MIDI source ``client:out`` standing in for a hardware keyboard (a generator:
    yields the rtmidi output, closes it after)."""
    import rtmidi

    out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name=client)
    out.open_virtual_port("out")
    yield out
    out.close_port()
    out.delete()


class Inbox:
    """A JACK MIDI input port we poll; arrival times come from JACK's cycle clock (seconds)."""

    def __init__(self, client: str, timing: bool = False) -> None:
        import rtmidi

        self.midi = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name=client)
        self.midi.ignore_types(sysex=True, timing=not timing, active_sense=True)
        self.midi.open_virtual_port("in")
        self.name = f"{client}:in"
        self.received: list[tuple[float, tuple[int, ...]]] = []
        self._t = 0.0

    def drain(self) -> list[tuple[float, tuple[int, ...]]]:
        while True:
            got = self.midi.get_message()
            if not got:
                return self.received
            msg, delta = got
            self._t += delta
            self.received.append((self._t, tuple(msg)))

    def collect(self, seconds: float) -> list[tuple[float, tuple[int, ...]]]:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.drain()
            time.sleep(0.002)
        return self.drain()

    def wait_until(self, predicate, timeout: float = 5.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate(self.drain()):
                return True
            time.sleep(0.002)
        return predicate(self.drain())

    def close(self) -> None:
        self.midi.close_port()
        self.midi.delete()


def stuck_notes(messages) -> dict[tuple[int, int], int]:
    """(channel, pitch) -> note-ons not matched by a later note-off (CC123 does not count)."""
    count: dict[tuple[int, int], int] = {}
    for _, msg in messages:
        status = msg[0]
        kind, ch = status & 0xF0, status & 0x0F
        if kind == 0x90 and msg[2] > 0:
            count[(ch, msg[1])] = count.get((ch, msg[1]), 0) + 1
        elif kind in (0x80, 0x90) and count.get((ch, msg[1])):
            count[(ch, msg[1])] -= 1
    return {k: v for k, v in count.items() if v}


def scale_song(notes: int = 8, step: int = 240, bpm: float = 120.0, length: int = 200,
               start_pitch: int = 60) -> Song:
    """A one-track song: ``notes`` rising notes every ``step`` ticks."""
    track = Track("melody", channel=0, program=0, notes=tuple(
        Note(i * step, start_pitch + i, length, 90) for i in range(notes)))
    return Song(tracks=(track,), tempos=(TempoChange.from_bpm(0, bpm),))


class FakeStream:
    """Stands in for a PortAudio stream where no sound card exists."""

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        self.started = self.closed = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def pull(self, frames: int) -> np.ndarray:
        out = np.zeros((frames, 2), dtype=np.float32)
        self.kwargs["callback"](out, frames, None, None)
        return out
