"""Output base class: checks every message, tracks sounding notes, and releases them.

Owns the "no stuck notes" rule at the output end. Every output (MIDI port, virtual port,
built-in synth, test recorder) derives from ``Output``: ``send`` validates and records the
message, the subclass's ``_send`` delivers it. ``release_all`` sends a note-off for every
note still sounding, then CC64=0 (sustain off) and CC123 (all notes off) on every channel
that was used. ``close`` releases first. Outputs are used from one thread at a time (the
transport's scheduler thread).
"""

from __future__ import annotations

from typing import Iterable, Sequence

from musicapp.engine.errors import PortError

Message = tuple[int, ...]

CC_SUSTAIN, CC_ALL_SOUND_OFF, CC_ALL_NOTES_OFF = 64, 120, 123


def check_message(message: Sequence[int]) -> Message:
    """Return ``message`` as a tuple of ints, or raise ``PortError`` if it is not valid MIDI."""
    try:
        msg = tuple(int(b) for b in message)
    except (TypeError, ValueError):
        raise PortError(f"not a MIDI message: {message!r}") from None
    if not msg or not 0x80 <= msg[0] <= 0xFF:
        raise PortError(f"MIDI message must start with a status byte: {message!r}")
    if msg[0] == 0xF0:
        if msg[-1] != 0xF7 or any(b > 0x7F for b in msg[1:-1]):
            raise PortError("malformed system exclusive message")
    elif any(not 0 <= b <= 0x7F for b in msg[1:]) or len(msg) > 3:
        raise PortError(f"bad MIDI data bytes: {message!r}")
    return msg


class Output:
    """A destination for MIDI messages that remembers which notes are sounding."""

    name: str = "output"

    def __init__(self) -> None:
        self._sounding: dict[tuple[int, int], int] = {}
        self._channels: set[int] = set()
        self._bent: set[int] = set()  # channels whose pitch bend is off centre
        self._closed = False

    # ----- public -------------------------------------------------------------------------
    def send(self, message: Sequence[int]) -> None:
        """Send one MIDI message (a sequence of byte values). Raises ``PortError`` on failure."""
        msg = check_message(message)
        if self._closed:
            raise PortError(f"output {self.name!r} is closed")
        self._send(msg)
        self._track(msg)

    def sounding_notes(self) -> list[tuple[int, int]]:
        """(channel, pitch) of every note that got a note-on and no note-off yet."""
        return sorted(self._sounding)

    def release_all(self) -> None:
        """Note-off for every sounding note, then sustain off and all-notes-off per channel,
        then pitch bend back to centre on channels left bent.

        Keeps going if a send fails (a vanished port); the bookkeeping is cleared anyway.
        """
        offs = [(0x80 | ch, pitch, 0) for (ch, pitch), n in sorted(self._sounding.items())
                for _ in range(n)]
        ctrl = [(0xB0 | ch, cc, 0) for ch in sorted(self._channels)
                for cc in (CC_SUSTAIN, CC_ALL_NOTES_OFF)]
        ctrl += [(0xE0 | ch, 0, 64) for ch in sorted(self._bent)]
        self._sounding.clear()
        self._bent.clear()
        if self._closed:
            return
        self._send_quietly(offs + ctrl)

    def close(self) -> None:
        """Release every note and free the port. Safe to call twice."""
        if self._closed:
            return
        self.release_all()
        self._closed = True
        self._close()

    @property
    def closed(self) -> bool:
        return self._closed

    def is_alive(self) -> bool:
        """False once the destination has gone away (checked now and then by the transport)."""
        return not self._closed

    def __enter__(self) -> "Output":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # ----- hooks --------------------------------------------------------------------------
    def _send(self, msg: Message) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Free the underlying resource (after the notes were released)."""

    # ----- private ------------------------------------------------------------------------
    def _send_quietly(self, messages: Iterable[Message]) -> None:
        for msg in messages:
            try:
                self._send(msg)
            except Exception:  # a dead port must not stop the release of the others
                continue

    def _track(self, msg: Message) -> None:
        status = msg[0]
        if status >= 0xF0:
            return
        kind, ch = status & 0xF0, status & 0x0F
        self._channels.add(ch)
        if kind == 0xE0:
            (self._bent.discard if msg[1:] == (0, 64) else self._bent.add)(ch)
        if kind == 0x90 and msg[2] > 0:
            key = (ch, msg[1])
            self._sounding[key] = self._sounding.get(key, 0) + 1
        elif kind == 0x80 or kind == 0x90:
            key = (ch, msg[1])
            left = self._sounding.get(key, 0) - 1
            if left > 0:
                self._sounding[key] = left
            else:
                self._sounding.pop(key, None)
        elif kind == 0xB0 and msg[1] in (CC_ALL_SOUND_OFF, CC_ALL_NOTES_OFF):
            for key in [k for k in self._sounding if k[0] == ch]:
                del self._sounding[key]


class RecordingOutput(Output):
    """Keeps every message sent, with a timestamp from ``clock`` (seconds). For tests and tools."""

    def __init__(self, name: str = "recorder", clock=None) -> None:
        super().__init__()
        import time

        self.name = name
        self._clock = clock or time.perf_counter
        self.messages: list[tuple[float, Message]] = []

    def _send(self, msg: Message) -> None:
        self.messages.append((self._clock(), msg))
