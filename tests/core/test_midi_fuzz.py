"""Mutation fuzzing: thousands of corrupted valid files give MidiFileError or a song, nothing else."""

from __future__ import annotations

import random
import time

from smf_bytes import ev, mtrk, simple_track, smf, valid_file

from musicapp.core.errors import MidiFileError
from musicapp.core.midifile import midi_bytes, read_midi
from musicapp.core.song import Key, Note, Song, TempoChange, TimeSignature, Track

TIME_BUDGET_S = 20.0
MIN_CASES = 2000
MAX_CASES = 20000
SPECIAL = (0x00, 0x01, 0x7F, 0x80, 0x81, 0x90, 0xC0, 0xF0, 0xF7, 0xF8, 0xFF)


def _seeds() -> list[bytes]:
    rich = Song(
        (Track("Piano", 0, 0, tuple(Note(i * 120, 48 + i % 30, 100 + i % 200, 1 + i % 127)
                                    for i in range(40))),
         Track("Drums", 9, 0, tuple(Note(i * 240, 36 + i % 10, 10, 100, 9) for i in range(20)))),
        (TempoChange(0, 500_000), TempoChange(1920, 450_000)),
        (TimeSignature(0, 4, 4), TimeSignature(3840, 7, 8)), Key(4, "minor"))
    type0 = smf(mtrk(ev(0, 0xC1, 33), ev(0, 0x90, 60, 100), ev(0, 0x91, 40, 90), ev(96, 0x80, 60, 0),
                     ev(0, 0x81, 40, 0), ev(0, 0xF0, 3, 1, 2, 0xF7), ev(5, 0xE0, 0, 64)), division=96)
    inner = valid_file()
    body = b"RMID" + b"data" + len(inner).to_bytes(4, "little") + inner
    rmid = b"RIFF" + len(body).to_bytes(4, "little") + body
    return [inner, midi_bytes(rich), type0, smf(simple_track(), simple_track(3), fmt=2), rmid]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 8))):
        if not buf:
            break
        op = rng.randrange(7)
        i = rng.randrange(len(buf))
        if op == 0:
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[i] = rng.choice(SPECIAL)
        elif op == 2:
            buf[i] = rng.randrange(256)
        elif op == 3:
            del buf[i:i + rng.randint(1, 8)]
        elif op == 4:
            buf[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 5:
            del buf[i:]
        else:
            j = rng.randrange(len(buf))
            buf[i:i] = buf[j:j + rng.randint(1, 32)]
    return bytes(buf)


def test_corrupted_files_give_midifileerror_or_a_song_that_exports() -> None:
    rng = random.Random(20261121)
    seeds = _seeds()
    outcomes = {"error": 0, "song": 0}
    slowest = 0.0
    deadline = time.monotonic() + TIME_BUDGET_S
    cases = 0
    while cases < MAX_CASES and (cases < MIN_CASES or time.monotonic() < deadline):
        data = _mutate(rng.choice(seeds), rng)
        t0 = time.monotonic()
        try:
            song = read_midi(data)
        except MidiFileError as err:
            assert "\n" not in str(err) and str(err)
            outcomes["error"] += 1
        else:
            assert isinstance(song, Song)
            midi_bytes(song)  # whatever we import, we can export
            outcomes["song"] += 1
        slowest = max(slowest, time.monotonic() - t0)
        cases += 1
    print(f"fuzz: {cases} files, {outcomes}, slowest {slowest * 1000:.1f} ms")
    assert cases >= MIN_CASES
    assert outcomes["error"] > cases // 10 and outcomes["song"] > cases // 20, outcomes
    assert slowest < 2.0, f"one corrupted file took {slowest:.2f} s"
