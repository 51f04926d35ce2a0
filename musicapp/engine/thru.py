"""MIDI thru and take recording for one open input: what a played key does in the engine.

Owns the held-note logic of thru: what the input receives is echoed to the transport's
outputs on the thru channel (the active track's); a key's note-off goes to the channel its
note-on went to even if the thru channel changed while it was held, a sustain pedal is
remembered where it went down, and closing or switching the input releases keys and pedals
still down (no stuck notes). While a take runs the same messages feed a ``Recorder`` timed by
the transport's clock. Both handlers run in the input's poll thread and only enqueue (the
transport sends from its own thread) or record.
"""

from __future__ import annotations

from musicapp.core.errors import MusicappError
from musicapp.engine.midi_input import MidiInput, Recorder


class MidiThru:
    """Thru and recording for the input handed to ``attach`` (one at a time)."""

    def __init__(self, transport) -> None:
        self.transport = transport
        self._input: MidiInput | None = None
        self._recorder: Recorder | None = None
        self._channel = 0
        self._held: dict[tuple[int, int], int] = {}  # (input channel, key) -> thru channel used
        self._pedal: set[int] = set()  # thru channels whose sustain pedal is down

    @property
    def is_open(self) -> bool:
        return self._input is not None

    @property
    def source(self) -> MidiInput | None:
        """The attached input (None when none is), for others (the jam) to listen to as well."""
        return self._input

    def attach(self, midi_input: MidiInput) -> None:
        """Listen to ``midi_input`` from now on (the previous one is closed first)."""
        self.close()
        self._input = midi_input
        midi_input.add_handler(self._thru)
        midi_input.add_handler(self._record)

    def set_channel(self, channel: int) -> None:
        """Play what comes in on ``channel`` (0-15), the active track's."""
        self._channel = channel

    def start_take(self) -> None:
        self._recorder = Recorder(self.transport.tick_at)

    def finish_take(self, quantize_ticks: int | None = None, end_tick: int | None = None):
        """(notes, controls) played since ``start_take``, in song ticks; keys still held end
        at ``end_tick`` (default: where the playhead is now)."""
        rec, self._recorder = self._recorder, None
        if rec is None:
            return [], []
        return rec.notes(quantize_ticks, end_tick=end_tick), rec.controls()

    def close(self) -> None:
        """Close the input and release what it left sounding."""
        inp, self._input = self._input, None
        if inp is not None:
            inp.close()
        self._release_held()

    def _thru(self, _wall: float, msg) -> None:
        """Echo on the thru channel; a key's note-off goes where its note-on went, even if the
        active track (and so the thru channel) changed while it was held."""
        if msg[0] >= 0xF0:
            return self._send(msg)
        kind, key = msg[0] & 0xF0, (msg[0] & 0x0F, msg[1] if len(msg) > 1 else 0)
        if kind == 0x90 and msg[2] > 0:
            self._held[key] = self._channel
            out = self._channel
        elif kind in (0x80, 0x90):
            out = self._held.pop(key, self._channel)
        else:
            out = self._channel
            if kind == 0xB0 and msg[1] == 64:  # sustain pedal: remember where it is down
                (self._pedal.add if msg[2] >= 64 else self._pedal.discard)(out)
        self._send(((kind | out), *msg[1:]))

    def _send(self, msg) -> None:
        try:
            self.transport.send_now(msg)
        except MusicappError:
            pass  # the transport is closing; a dropped echo loses nothing

    def _release_held(self) -> None:
        """Note-offs for keys echoed but not yet released, and pedal up where it was left down
        (the input is going away)."""
        held, self._held = self._held, {}
        for (_in_ch, pitch), out in held.items():
            self._send((0x80 | out, pitch, 0))
        pedal, self._pedal = self._pedal, set()
        for out in sorted(pedal):
            self._send((0xB0 | out, 64, 0))

    def _record(self, wall: float, msg) -> None:
        rec = self._recorder
        if rec is not None:
            rec.feed(wall, msg)
