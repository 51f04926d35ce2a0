"""Speed of accompaniment (``core.accompany``): bass + keys for 16 bars, every style.

Target (issue 14): accompany 16 bars p50 <= 50 ms. Run: ``python benchmarks/bench_accompany.py
[--runs R]``. The song: a 16-bar melody in 4/4 with 20 chords (some half-bar), key unset (so it
is detected each run, as the CLI does). Each run uses a new humanise seed and, for the "cold"
line, an empty voicing cache (the first accompaniment of a session pays for enumerating the
candidate voicings). Prints p50 / p95 / min wall time and the process's CPU time p50 in ms
over R runs after 3 warm-up runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

from musicapp.core import voicing
from musicapp.core.accompany import AccompanyOptions, accompany
from musicapp.core.accompany_styles import STYLES
from musicapp.core.chords import Chord
from musicapp.core.song import Note, Song, Track

BAR = 1920
PROGRESSION = ["C", "Am", "F", "G7", "C/E", "Dm7", "G", "C", "F", "Bb", "Gm7", "C7", "F/A", "Bdim", "Esus4", "E7"]


def song16() -> Song:
    melody = Track("Melody", 0, 73, tuple(Note(i * 240, (72, 74, 76, 77, 79, 76, 74, 72)[i % 8], 240)
                                           for i in range(16 * 8)))
    chords = []
    for i, name in enumerate(PROGRESSION):
        if i % 4 == 3:
            chords += [Chord.parse(name, i * BAR, BAR // 2), Chord.parse("Am", i * BAR + BAR // 2, BAR // 2)]
        else:
            chords.append(Chord.parse(name, i * BAR, BAR))
    return Song(tracks=(melody,), chords=tuple(chords))


def timed(fn, runs: int, cold: bool = False) -> str:
    wall, cpu = [], []
    for i in range(runs + 3):
        if cold:
            voicing._candidates.cache_clear()
        w0, c0 = time.perf_counter(), time.process_time()
        fn(i)
        if i >= 3:
            wall.append((time.perf_counter() - w0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    wall.sort()
    return (f"p50 {statistics.median(wall):6.1f}  p95 {wall[int(len(wall) * 0.95) - 1]:6.1f}  "
            f"min {wall[0]:6.1f}  cpu p50 {statistics.median(cpu):6.1f} ms")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=30)
    args = p.parse_args()
    song = song16()
    print(f"accompany 16 bars ({len(song.chords)} chords), bass + keys; target p50 <= 50 ms")
    print(f"  {'block, cold cache':<20} {timed(lambda i: accompany(song, AccompanyOptions(seed=i)), args.runs, True)}")
    for style in STYLES:
        line = timed(lambda i: accompany(song, AccompanyOptions(style=style, seed=i)), args.runs)
        print(f"  {style:<20} {line}")


if __name__ == "__main__":
    main()
