"""MIDI file events the song does not edit, kept so they go back out: lyrics, text, copyright,
cue points, SMPTE offset, sequencer-specific data, sysex and any other meta event.

Owns ``KeptEvent`` (tick, kind, raw data bytes) and its checks, which are the ones import
applies to a file (``core.midi_check``), so whatever a track carries can be exported and
read back. A ``Track`` carries the events of its own MTrk; ``Song.extras`` those of the
conductor track. Kinds the model owns itself are not kept: tempo, time and key signature,
end of track and the first track name (``Track.name``). Markers naming chords are the chord
track; other markers (section names, cues) are kept here.
"""

from __future__ import annotations

from dataclasses import dataclass

from musicapp.core.errors import MusicappError

SYSEX = 0xF0
#: meta types the song model stores itself (never a KeptEvent).
OWNED_META = {0x2F: "end of track", 0x51: "tempo", 0x58: "time signature", 0x59: "key signature"}
#: meta type -> allowed data lengths (as core.midi_check checks them on import).
_META_LENGTHS = {0x00: (0, 2), 0x20: (1,), 0x21: (0, 1), 0x54: (5,)}
#: longest data kept per event (a .mid musicapp reads is at most 8 MB).
MAX_DATA = 1 << 20
NAMES = {0x00: "sequence number", 0x01: "text", 0x02: "copyright", 0x03: "track name",
         0x04: "instrument name", 0x05: "lyrics", 0x06: "marker", 0x07: "cue point", 0x08: "program name",
         0x09: "device name", 0x20: "channel prefix", 0x21: "port", 0x54: "SMPTE offset",
         0x7F: "sequencer-specific", SYSEX: "sysex"}


class KeptEventError(MusicappError, ValueError):
    """A kept event that a .mid could not hold (bad kind, length or data)."""


@dataclass(frozen=True, slots=True)
class KeptEvent:
    """One event at ``tick``: a meta event (``kind`` its type 0-127) or a sysex (``kind``
    0xF0, ``data`` without the F0 and the closing F7), ``data`` its payload bytes."""

    tick: int
    kind: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if type(self.tick) is not int or self.tick < 0:
            raise KeptEventError(f"kept event tick {self.tick!r} must be a non-negative integer")
        if type(self.data) is not bytes or len(self.data) > MAX_DATA:
            raise KeptEventError("kept event data must be bytes (at most 1 MB)")
        if self.kind == SYSEX:
            if any(b > 0x7F for b in self.data):
                raise KeptEventError("sysex data bytes must be 0..127")
            return
        if type(self.kind) is not int or not 0 <= self.kind <= 0x7F or self.kind in OWNED_META:
            raise KeptEventError(f"kept event kind {self.kind!r} is not a meta type the song keeps")
        allowed = _META_LENGTHS.get(self.kind)
        if allowed is not None and len(self.data) not in allowed:
            raise KeptEventError(f"{NAMES[self.kind]} event has {len(self.data)} data bytes")
        if self.kind == 0x54 and self.data[0] >> 5 > 3:
            raise KeptEventError("SMPTE offset has an unknown frame rate")

    @property
    def name(self) -> str:
        return NAMES.get(self.kind, f"meta event 0x{self.kind:02X}")

    def to_mido(self, time: int):
        """The mido message writing this event ``time`` ticks after the previous one."""
        import mido
        from mido.midifiles.meta import UnknownMetaMessage

        if self.kind == SYSEX:
            return mido.Message("sysex", data=self.data, time=time)
        return UnknownMetaMessage(type_byte=self.kind, data=tuple(self.data), time=time)


def kept_event_of(tick: int, msg) -> KeptEvent | None:
    """The KeptEvent for a mido message read from a file, or None for what the model owns
    (notes, channel messages, tempo, meter, key, end of track)."""
    if msg.type == "sysex":
        return KeptEvent(tick, SYSEX, bytes(msg.data))
    if not msg.is_meta:
        return None
    from mido.midifiles.meta import meta_charset

    with meta_charset("latin1"):  # import decodes text as latin-1: this gives the file's bytes
        raw = msg.bytes()  # FF type varlen-length data
    if raw[1] in OWNED_META:
        return None
    i = 2
    while raw[i] & 0x80:
        i += 1
    try:
        return KeptEvent(tick, raw[1], bytes(raw[i + 1:]))
    except KeptEventError:
        return None
