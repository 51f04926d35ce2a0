"""Strict structural check of Standard MIDI File bytes, run before mido decodes them.

mido (which does the actual decoding) is lenient in ways that turn corrupt files into
hangs, huge allocations, misparsed tracks or stray exceptions: it accepts realtime and
system-common status bytes, unbounded variable-length numbers, events that run across
chunk boundaries, running status after a sysex, wrong-length meta events, tempo 0 and
SMPTE divisions with no real frame rate. This module walks the chunk and event framing once (no decoding into
messages) and raises ``MidiFileError`` with a plain one-line message for any of that.

Owns the limits: ``MAX_FILE_BYTES``, ``MAX_TRACKS``, ``MAX_EVENTS`` and ``MAX_BEATS`` (no
event may sit later than that many quarter notes after the start of its track; with SMPTE
timing, later than they last at 120 BPM).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NoReturn

from musicapp.core.errors import MidiFileError

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_TRACKS = 4096
#: quarter notes; ~14 hours at 120 BPM. Later events mean a corrupt delta time.
MAX_BEATS = 100_000
#: events in the whole file; bounds import time (a few seconds at this many on one core).
MAX_EVENTS = 400_000

_CHANNEL_DATA_LEN = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}
_EVENT_NAMES = {0x80: "note-off", 0x90: "note-on", 0xA0: "aftertouch", 0xB0: "controller",
                0xC0: "program change", 0xD0: "channel pressure", 0xE0: "pitch bend"}
#: meta type -> allowed data lengths (types not listed may have any length).
_META_LENGTHS = {0x00: (0, 2), 0x20: (1,), 0x21: (0, 1), 0x2F: (0,), 0x51: (3,),
                 0x54: (5,), 0x58: (4,), 0x59: (2,)}
_META_NAMES = {0x00: "sequence number", 0x20: "channel prefix", 0x21: "port", 0x2F: "end of track",
               0x51: "tempo", 0x54: "SMPTE offset", 0x58: "time signature", 0x59: "key signature"}


#: SMPTE frame rates a header may store, as exact fractions (numerator, denominator) of frames/s
SMPTE_RATES = {24: (24, 1), 25: (25, 1), 29: (2997, 100), 30: (30, 1)}


@dataclass(frozen=True, slots=True)
class MidiHeader:
    """The MThd fields: ``format`` 0/1/2, ``division`` as stored (ticks per quarter note, or
    with bit 15 set SMPTE timing: see ``smpte``)."""

    format: int
    ntracks: int
    division: int

    @property
    def smpte(self) -> tuple[int, int] | None:
        """(frames per second as stored: 24, 25, 29 for 29.97 drop-frame, 30; ticks per frame)
        for an SMPTE-timed file, else None."""
        if not self.division & 0x8000:
            return None
        return 256 - (self.division >> 8), self.division & 0xFF

    @property
    def limit_ticks(self) -> int:
        """Latest file tick an event may sit at: ``MAX_BEATS`` quarter notes, or with SMPTE
        timing as many seconds as those last at 120 BPM."""
        smpte = self.smpte
        if smpte is None:
            return MAX_BEATS * self.division
        num, den = SMPTE_RATES[smpte[0]]
        return MAX_BEATS // 2 * num * smpte[1] // den


def check_midi_bytes(data: bytes) -> tuple[MidiHeader, list[bytes]]:
    """Validate a whole .mid file; returns its header and the MTrk chunk bodies in order.

    Unknown ("alien") chunks are skipped as the standard asks; bytes after the last
    declared track are ignored. Raises ``MidiFileError`` for anything malformed.
    """
    if not data:
        raise MidiFileError("file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise MidiFileError(
            f"file is too large ({len(data) / 1e6:.1f} MB, limit {MAX_FILE_BYTES / 1e6:.1f} MB)")
    if data[:4] == b"RIFF" and data[8:12] == b"RMID":
        data = _unwrap_rmid(data)
    if data[:4] != b"MThd":
        raise MidiFileError("not a MIDI file (no MThd header)")
    if len(data) < 14:
        raise MidiFileError("file is truncated inside the MIDI header")
    hlen = struct.unpack_from(">L", data, 4)[0]
    if hlen < 6:
        raise MidiFileError(f"MIDI header chunk length {hlen} is too short (must be 6)")
    if 8 + hlen > len(data):
        raise MidiFileError(f"MIDI header chunk length {hlen} runs past the end of the file")
    fmt, ntracks, division = struct.unpack_from(">HHH", data, 8)
    header = _check_header(fmt, ntracks, division)
    limit = header.limit_ticks
    tracks: list[bytes] = []
    events = 0
    pos = 8 + hlen
    while len(tracks) < ntracks:
        if len(data) - pos < 8:
            raise MidiFileError(
                f"file is truncated: header promises {ntracks} tracks, found {len(tracks)}")
        name = data[pos:pos + 4]
        clen = struct.unpack_from(">L", data, pos + 4)[0]
        if name != b"MTrk" and not (name.isascii() and name.isalnum()):
            raise MidiFileError(f"corrupt chunk header at byte {pos} (bad chunk length before it?)")
        if pos + 8 + clen > len(data):
            raise MidiFileError(
                f"chunk length {clen} at byte {pos} runs past the end of the file (truncated?)")
        if name == b"MTrk":
            body = data[pos + 8:pos + 8 + clen]
            events += _check_track(body, len(tracks) + 1, limit, MAX_EVENTS - events)
            tracks.append(body)
        pos += 8 + clen
    return header, tracks


def _unwrap_rmid(data: bytes) -> bytes:
    """The Standard MIDI File inside a RIFF RMID wrapper (its little-endian "data" chunk)."""
    pos = 12
    while pos + 8 <= len(data):
        size = struct.unpack_from("<L", data, pos + 4)[0]
        if data[pos:pos + 4] == b"data":
            if pos + 8 + size > len(data):
                raise MidiFileError("RMID data chunk runs past the end of the file (truncated?)")
            return data[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)  # RIFF chunks are padded to even sizes
    raise MidiFileError("RIFF RMID file without a MIDI data chunk")


def _check_header(fmt: int, ntracks: int, division: int) -> MidiHeader:
    if fmt not in (0, 1, 2):
        raise MidiFileError(f"unknown MIDI file format {fmt} (must be 0, 1 or 2)")
    header = MidiHeader(fmt, ntracks, division)
    smpte = header.smpte
    if smpte is not None:
        if smpte[0] not in SMPTE_RATES:
            raise MidiFileError(f"SMPTE time division with an unknown frame rate ({smpte[0]} fps)")
        if smpte[1] == 0:
            raise MidiFileError("SMPTE time division with 0 ticks per frame")
    if division == 0:
        raise MidiFileError("time division is 0 ticks per quarter note")
    if ntracks == 0:
        raise MidiFileError("file contains no tracks")
    if ntracks > MAX_TRACKS:
        raise MidiFileError(f"file declares {ntracks} tracks (limit {MAX_TRACKS})")
    if fmt == 0 and ntracks != 1:
        raise MidiFileError(f"format 0 file must hold exactly one track, header says {ntracks}")
    return header


class _TrackWalker:
    """Walks one MTrk body event by event; ``fail`` raises with the track and offset."""

    def __init__(self, body: bytes, number: int, limit_ticks: int) -> None:
        self.body = body
        self.number = number
        self.pos = 0
        self.limit_ticks = limit_ticks

    def fail(self, message: str) -> NoReturn:
        raise MidiFileError(f"track {self.number}, byte {self.pos}: {message}")

    def byte(self, what: str) -> int:
        if self.pos >= len(self.body):
            self.fail(f"{what} cut off by the end of the track chunk (bad chunk length?)")
        b = self.body[self.pos]
        self.pos += 1
        return b

    def varlen(self, what: str) -> int:
        value = 0
        for _ in range(4):
            b = self.byte(what)
            value = (value << 7) | (b & 0x7F)
            if b < 0x80:
                return value
        self.fail(f"{what} is longer than 4 bytes")

    def skip(self, count: int, what: str) -> bytes:
        if self.pos + count > len(self.body):
            self.fail(f"{what} runs past the end of the track chunk (bad chunk length?)")
        chunk = self.body[self.pos:self.pos + count]
        self.pos += count
        return chunk


def _check_track(body: bytes, number: int, limit_ticks: int, max_events: int) -> int:
    """Check one MTrk body (no event later than ``limit_ticks``); returns its number of events."""
    w = _TrackWalker(body, number, limit_ticks)
    status: int | None = None  # running status; cancelled by sysex, kept across metas (as mido)
    tick = 0
    count = 0
    while w.pos < len(body):
        count += 1
        if count > max_events:
            w.fail(f"file has more than {MAX_EVENTS} events")
        tick += w.varlen("delta time")
        if tick > w.limit_ticks:
            w.fail(f"absurd delta time puts an event beyond {MAX_BEATS} beats")
        first = w.byte("event")
        if first < 0x80:
            if status is None:
                w.pos -= 1
                w.fail(f"data byte 0x{first:02X} with no status byte before it (bad running status)")
            w.pos -= 1  # the byte is the first data byte of a running-status event
        elif first == 0xFF:
            _check_meta(w)
            continue
        elif first in (0xF0, 0xF7):
            w.skip(w.varlen("sysex length"), "sysex data")
            status = None
            continue
        elif first >= 0xF0:
            w.pos -= 1
            w.fail(f"illegal status byte 0x{first:02X} in a MIDI file")
        else:
            status = first
        kind = status & 0xF0
        for b in w.skip(_CHANNEL_DATA_LEN[kind], f"{_EVENT_NAMES[kind]} event"):
            if b > 0x7F:
                w.fail(f"data byte 0x{b:02X} > 127 in a {_EVENT_NAMES[kind]} event")
    return count


def _check_meta(w: _TrackWalker) -> None:
    mtype = w.byte("meta event type")
    if mtype > 0x7F:
        w.fail(f"bad meta event type 0x{mtype:02X}")
    length = w.varlen("meta event length")
    payload = w.skip(length, "meta event")
    allowed = _META_LENGTHS.get(mtype)
    name = _META_NAMES.get(mtype, "")
    if allowed is not None and length not in allowed:
        want = " or ".join(str(n) for n in allowed)
        w.fail(f"{name} meta event has length {length}, expected {want}")
    if mtype == 0x51 and int.from_bytes(payload, "big") == 0:
        w.fail("tempo of 0 microseconds per beat")
    elif mtype == 0x54 and payload[0] >> 5 > 3:
        w.fail("SMPTE offset has an unknown frame rate")
    elif mtype == 0x58:
        if payload[0] == 0:
            w.fail("time signature with numerator 0")
        if payload[1] > 6:
            w.fail(f"time signature denominator 2^{payload[1]} is not supported (limit 64)")
    elif mtype == 0x59:
        sharps = payload[0] - 256 if payload[0] > 127 else payload[0]
        if not -7 <= sharps <= 7 or payload[1] > 1:
            w.fail(f"key signature with {sharps} sharps and mode {payload[1]} is invalid")
