"""Builds Standard MIDI File bytes by hand for tests (valid and deliberately broken)."""

from __future__ import annotations

import struct

EOT = b"\x00\xff\x2f\x00"


def vlq(value: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def ev(delta: int, *data: int) -> bytes:
    """One event: delta time then raw bytes."""
    return vlq(delta) + bytes(data)


def meta(delta: int, mtype: int, payload: bytes) -> bytes:
    return vlq(delta) + bytes([0xFF, mtype]) + vlq(len(payload)) + payload


def chunk(name: bytes, body: bytes, length: int | None = None) -> bytes:
    return name + struct.pack(">L", len(body) if length is None else length) + body


def header(fmt: int = 1, ntracks: int = 1, division: int = 480) -> bytes:
    return chunk(b"MThd", struct.pack(">HHH", fmt, ntracks, division))


def mtrk(*events: bytes, eot: bool = True, length: int | None = None) -> bytes:
    return chunk(b"MTrk", b"".join(events) + (EOT if eot else b""), length)


def smf(*tracks: bytes, fmt: int | None = None, division: int = 480) -> bytes:
    """A whole file: header (format 0 for one track, else 1 unless given) and tracks."""
    if fmt is None:
        fmt = 0 if len(tracks) == 1 else 1
    return header(fmt, len(tracks), division) + b"".join(tracks)


def simple_track(channel: int = 0, pitches=(60, 64, 67), length: int = 480) -> bytes:
    """A track of consecutive notes, each ``length`` ticks, with a name."""
    events = [meta(0, 0x03, b"Melody"), ev(0, 0xC0 | channel, 5)]
    for p in pitches:
        events.append(ev(0, 0x90 | channel, p, 100))
        events.append(ev(length, 0x80 | channel, p, 0))
    return mtrk(*events)


def valid_file() -> bytes:
    """A small type 1 file: conductor track (tempo, meter, key) plus two note tracks."""
    conductor = mtrk(meta(0, 0x51, b"\x07\xa1\x20"), meta(0, 0x58, b"\x03\x02\x18\x08"),
                     meta(0, 0x59, b"\x01\x00"), meta(960, 0x51, b"\x09\x27\xc0"))
    drums = mtrk(ev(0, 0x99, 36, 110), ev(10, 0x89, 36, 0), ev(470, 0x99, 38, 90),
                 ev(0, 0x99, 42, 80), ev(10, 0x89, 38, 0), ev(0, 0x89, 42, 0))
    return smf(conductor, simple_track(0), drums)
