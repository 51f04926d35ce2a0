"""Speed of MIDI import/export and project save/load on a large generated song.

Prints seconds per operation and the ratio of our import to mido's bare parse of the same
bytes (the reference, measured in the same process). Run: python benchmarks/midi_io.py
"""

from __future__ import annotations

import io
import random
import tempfile
import time
from pathlib import Path

import mido

from musicapp.core.midi_check import check_midi_bytes
from musicapp.core.midifile import midi_bytes, read_midi
from musicapp.core.project import load_project, save_project
from musicapp.core.song import Note, Song, TempoChange, Track


def _song(tracks: int, notes_per_track: int, seed: int = 1) -> Song:
    rng = random.Random(seed)
    out = []
    for t in range(tracks):
        ch = 9 if t == tracks - 1 else t % 9
        notes = [Note(i * 120 + rng.randrange(60), rng.randrange(36, 96), rng.randrange(30, 480),
                      rng.randrange(1, 128), ch) for i in range(notes_per_track)]
        out.append(Track(f"T{t}", ch, t, tuple(notes)))
    return Song(tuple(out), tuple(TempoChange(i * 1920, 400_000 + i * 1000) for i in range(50)))


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    song = _song(16, 5000)
    data = midi_bytes(song)
    print(f"song: {song.note_count} notes in {len(song.tracks)} tracks; .mid is {len(data) / 1e6:.2f} MB")
    t_mido = _best(lambda: mido.MidiFile(file=io.BytesIO(data)))
    t_check = _best(lambda: check_midi_bytes(data))
    t_read = _best(lambda: read_midi(data))
    t_write = _best(lambda: midi_bytes(song))
    print(f"mido bare parse (reference): {t_mido:.3f} s")
    print(f"structural pre-check:        {t_check:.3f} s  ({t_check / t_mido:.2f} x reference)")
    print(f"read_midi (check+parse+build): {t_read:.3f} s  ({t_read / t_mido:.2f} x reference)")
    print(f"midi_bytes (export):         {t_write:.3f} s")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.musicapp"
        t_save = _best(lambda: save_project(path, song, {}))
        t_load = _best(lambda: load_project(path))
        print(f"project save: {t_save:.3f} s, load: {t_load:.3f} s, "
              f"file {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
