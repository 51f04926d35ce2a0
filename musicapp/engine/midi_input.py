"""MIDI input: open input ports, poll them, record notes into a track, thru to the outputs.

Owns live input. Each ``MidiInput`` polls its rtmidi port from one small thread (no Python
callback ever runs in the driver's thread, which could stall JACK) and hands every message
with its arrival time (``time.perf_counter`` seconds) to handlers. Handlers only enqueue or
record: ``Recorder.feed`` stores notes and controls (pedal, bend, ...) under a lock, thru goes through
``Transport.send_now`` (a queue into the engine thread).

Recording converts arrival times to ticks with a ``tick_at(wall)`` function, normally
``Transport.tick_at`` while playing, or ``free_running_ticks`` when the transport stands.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Callable

from musicapp.core.quantize import quantize
from musicapp.core.song import Control, Note, Song, Track
from musicapp.engine.errors import PortError
from musicapp.engine.outputs import Message
from musicapp.engine.ports import (
    CLIENT_NAME, _make, _quiet_stderr, find_port, list_input_ports, settle,
)

Handler = Callable[[float, Message], None]

__all__ = ["InputConfig", "MidiInput", "Recorder", "free_running_ticks", "list_input_ports",
           "open_input_port", "open_virtual_input"]


@dataclass(frozen=True, slots=True)
class InputConfig:
    """``poll_s``: seconds between polls (thru latency and timestamp resolution)."""

    poll_s: float = 0.002
    ignore_clock: bool = True
    ignore_sysex: bool = True


class MidiInput:
    """An open MIDI input (an existing port, or a virtual one others send to)."""

    def __init__(self, name_or_part: str | None = None, virtual: str | None = None,
                 config: InputConfig = InputConfig()) -> None:
        self.config = config
        self._virtual = virtual is not None
        self._midi = _make("in", client=f"{CLIENT_NAME}-in")
        try:
            with _quiet_stderr():
                if virtual is not None:
                    if not virtual:
                        raise PortError("a virtual input port needs a name")
                    self._midi.open_virtual_port(virtual)
                    self.name = virtual
                else:
                    ports = self._midi.get_ports()
                    index = find_port(ports, name_or_part or "", "input")
                    self.name = ports[index]
                    self._midi.open_port(index, "in")
                    settle(self._midi)
        except Exception as err:
            self._midi.delete()
            if isinstance(err, PortError):
                raise
            raise PortError(f"cannot open MIDI input {name_or_part or virtual!r}: {err}") from None
        self._midi.ignore_types(sysex=config.ignore_sysex, timing=config.ignore_clock,
                                active_sense=True)
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="musicapp-midi-in", daemon=True)
        self._thread.start()

    def add_handler(self, handler: Handler) -> None:
        """Call ``handler(arrival_seconds, message)`` for every message (poll thread)."""
        with self._lock:
            self._handlers.append(handler)

    def remove_handler(self, handler: Handler) -> None:
        with self._lock:
            if handler in self._handlers:
                self._handlers.remove(handler)

    def thru_to(self, transport, channel: int | None = None) -> Handler:
        """Echo everything to ``transport``'s outputs, optionally moved to ``channel`` (0-15).

        Returns the handler so it can be removed again.
        """
        if channel is not None and not 0 <= channel <= 15:
            raise PortError(f"thru channel {channel} outside 0..15")

        def thru(_t: float, msg: Message) -> None:
            if channel is not None and msg[0] < 0xF0:
                msg = ((msg[0] & 0xF0) | channel, *msg[1:])
            transport.send_now(msg)

        self.add_handler(thru)
        return thru

    def is_alive(self) -> bool:
        """Whether the port read from is still listed (a virtual port always is). Asks the MIDI
        server with the GIL held (python-rtmidi): call it now and then, not in a hurry."""
        if self._virtual or self.error:
            return not self.error
        try:
            return self.name in self._midi.get_ports()
        except Exception:
            return False

    def close(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(2)
        with contextlib.suppress(Exception):
            self._midi.close_port()
        self._midi.delete()

    def __enter__(self) -> "MidiInput":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self) -> None:
        get, poll = self._midi.get_message, self.config.poll_s
        while not self._stop.wait(poll):
            try:
                while True:
                    item = get()
                    if not item:
                        break
                    self._dispatch(time.perf_counter(), tuple(item[0]))
            except Exception as err:  # the port broke: stop polling, keep the message
                self.error = f"MIDI input {self.name!r} failed: {err}"
                return

    def _dispatch(self, t: float, msg: Message) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(t, msg)
            except Exception:
                continue


def open_input_port(name_or_part: str, config: InputConfig = InputConfig()) -> MidiInput:
    """Open the input port called ``name_or_part`` (or the one port containing it)."""
    return MidiInput(name_or_part, config=config)


def open_virtual_input(name: str = CLIENT_NAME, config: InputConfig = InputConfig()) -> MidiInput:
    """Create an input port other programs (a keyboard, a DAW) can send to."""
    return MidiInput(virtual=name, config=config)


def free_running_ticks(song: Song, start_tick: float = 0.0,
                       start_wall: float | None = None) -> Callable[[float], float]:
    """``tick_at(wall)`` for recording while the transport stands: ``start_tick`` at
    ``start_wall`` (default now), then the song's tempo map."""
    wall0 = time.perf_counter() if start_wall is None else start_wall
    sec0 = song.tick_to_seconds(start_tick)
    return lambda wall: max(0.0, song.seconds_to_tick(sec0 + wall - wall0))


class Recorder:
    """Collects note-on/note-off pairs into Notes and the other channel messages (pedal,
    controllers, pitch bend, aftertouch, program changes) into Controls, in ticks. Feed
    from any thread."""

    def __init__(self, tick_at: Callable[[float], float], channel: int | None = None) -> None:
        """``tick_at(wall)`` maps perf_counter seconds to song ticks; ``channel`` filters input."""
        self._tick_at = tick_at
        self._channel = channel
        self._open: dict[tuple[int, int], tuple[int, int]] = {}
        self._notes: list[Note] = []
        self._controls: list[Control] = []
        self._lock = threading.Lock()

    def feed(self, wall: float, msg: Message) -> None:
        """A handler for ``MidiInput.add_handler``: records channel messages, ignores the rest."""
        if len(msg) < 2 or msg[0] >= 0xF0:
            return
        kind, ch = msg[0] & 0xF0, msg[0] & 0x0F
        if self._channel is not None and ch != self._channel:
            return
        tick = max(0, int(round(self._tick_at(wall))))
        if kind not in (0x80, 0x90):
            control = Control.from_message(tick, msg)
            if control is not None:
                with self._lock:
                    self._controls.append(control)
            return
        if len(msg) < 3:
            return
        with self._lock:
            key = (ch, msg[1])
            if kind == 0x90 and msg[2] > 0:
                if key in self._open:
                    self._close(key, tick)
                self._open[key] = (tick, msg[2])
            elif kind in (0x80, 0x90) and key in self._open:
                self._close(key, tick)

    def _close(self, key: tuple[int, int], tick: int) -> None:
        start, velocity = self._open.pop(key)
        self._notes.append(Note(start, key[1], max(1, tick - start), velocity, key[0]))

    def notes(self, quantize_ticks: int | None = None, now_wall: float | None = None,
              end_tick: int | None = None) -> list[Note]:
        """Recorded notes sorted by start; notes still held end at ``end_tick`` if given, else
        at ``now_wall`` (default now).

        With ``quantize_ticks`` starts and ends snap to that grid (core.quantize).
        """
        if end_tick is not None:
            end = end_tick
        else:
            end = int(round(self._tick_at(time.perf_counter() if now_wall is None else now_wall)))
        with self._lock:
            notes = list(self._notes) + [Note(s, p, max(1, end - s), v, ch)
                                         for (ch, p), (s, v) in self._open.items()]
        if quantize_ticks:
            notes = list(quantize(notes, quantize_ticks, ends=True))
        return sorted(notes)

    def controls(self) -> list[Control]:
        """Recorded controls in the order they came (their ticks are never quantized)."""
        with self._lock:
            return sorted(self._controls, key=lambda c: c.tick)

    def take_track(self, name: str = "Recorded", channel: int = 0, program: int = 0,
                   quantize_ticks: int | None = None) -> Track:
        """The recording as a new Track and a fresh start for the next take."""
        notes = [n if n.channel == channel else Note(n.start, n.pitch, n.length, n.velocity, channel)
                 for n in self.notes(quantize_ticks)]
        controls = self.controls()
        with self._lock:
            self._notes.clear()
            self._open.clear()
            self._controls.clear()
        return Track(name=name, channel=channel, program=program, notes=tuple(notes),
                     controls=tuple(controls))

