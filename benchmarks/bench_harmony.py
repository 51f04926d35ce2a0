"""Harmony speed: harmonise 16 bars x 4 proposals with the shipped model loaded, and chord
detection of a 10,000-note song.

    python benchmarks/bench_harmony.py [--runs N] [--checkpoint PATH]

Prints p50/p95/max in milliseconds next to the targets (harmonise p50 <= 50 ms; detection of
10,000 notes <= 200 ms). The detection song is a piano part: 250 bars of 4/4, each bar a bass
note, a block chord and arpeggiated eighths and sixteenths over a I-vi-IV-V progression with
chords changing every half bar (40 notes a bar).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicapp.core.chord_detect import detect_chords  # noqa: E402
from musicapp.core.chords import Chord  # noqa: E402
from musicapp.core.song import Note, Song  # noqa: E402


def melody_16_bars() -> list[Note]:
    """A 16-bar folk-like tune in G: quarters and eighths."""
    phrase = [67, 71, 74, 71, 72, 76, 74, 72, 71, 69, 67, 69, 71, 67, 69, 66]
    notes, t = [], 0
    for bar in range(16):
        for k in range(4):
            p = phrase[(bar * 4 + k) % len(phrase)] + (2 if bar % 4 == 2 else 0)
            if k == 2 and bar % 2:
                notes += [Note(t, p, 240), Note(t + 240, p - 2, 240)]
            else:
                notes.append(Note(t, p, 480))
            t += 480
    return notes


def piano_song(notes_wanted: int = 10_000) -> list[Note]:
    """About ``notes_wanted`` notes of a piano part (see the module docstring)."""
    prog = ["C", "Am", "F", "G7", "Em", "Am", "Dm7", "G"]
    out: list[Note] = []
    half = 0
    while len(out) < notes_wanted:
        c = Chord.parse(prog[half % len(prog)], half * 960, 960)
        pcs = sorted(60 + pc for pc in c.pitch_classes)
        out.append(Note(c.start, 36 + c.root, 960))
        out += [Note(c.start, p, 480) for p in pcs]
        arp = pcs + [p + 12 for p in pcs]
        out += [Note(c.start + 480 + i * 60, arp[i % len(arp)], 60) for i in range(8)]
        out += [Note(c.start + i * 240, 48 + c.root + (7 if i % 2 else 0), 240) for i in range(4)]
        half += 1
    return out[:notes_wanted]


def stats(ms: list[float], cpu: list[float]) -> str:
    """Wall-clock p50/p95/max and the p50 of this process's CPU time (which other processes on a
    busy machine do not inflate), in milliseconds."""
    q = statistics.quantiles(ms, n=20) if len(ms) >= 2 else ms * 19
    return (f"p50 {statistics.median(ms):7.2f} ms  p95 {q[18]:7.2f} ms  max {max(ms):7.2f} ms  "
            f"cpu p50 {statistics.median(cpu):7.2f} ms  (n={len(ms)})")


def timed(fn, runs: int) -> tuple[list[float], list[float]]:
    """``runs`` calls of ``fn(i)``: wall and CPU milliseconds of each."""
    wall, cpu = [], []
    for i in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn(i)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--checkpoint", default=None)
    args = ap.parse_args()
    import torch

    from musicapp.ml.harmony import Harmonizer

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    h = Harmonizer.load(args.checkpoint)
    print(f"model load: {(time.perf_counter() - t0) * 1000:.1f} ms")
    mel = melody_16_bars()
    song = Song()
    for style in ("simple", "rich"):
        h.harmonize(mel, song, variations=4, per_bar="auto", style=style, seed=0)  # warm-up
        times = timed(lambda i: h.harmonize(mel, song, variations=4, per_bar="auto", style=style, seed=i),
                      args.runs)
        print(f"harmonise 16 bars x 4 proposals ({style}): {stats(*times)}   target p50 <= 50 ms")
    big = piano_song()
    for per_bar in ("auto", 2):
        detect_chords(big, song, per_bar=per_bar)
        times = timed(lambda i: detect_chords(big, song, per_bar=per_bar), max(5, args.runs // 5))
        print(f"detect chords, {len(big)} notes ({int(big[-1].end / 1920)} bars), per bar {per_bar}: "
              f"{stats(*times)}   target <= 200 ms")


if __name__ == "__main__":
    main()
