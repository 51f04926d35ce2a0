"""Speed of the built-in synths: seconds of audio rendered per second of CPU (real-time factor).

Renders a dense 20 s song (melody plus 3-voice chords, ~8 voices sounding) offline with the
numpy synth and, where a SoundFont is present, FluidSynth; prints the real-time factor
(above 1 means faster than real time) and the worst time for one 256-frame live block with
32 voices held, against the 5.3 ms such a block lasts at 48 kHz.
Usage: python benchmarks/bench_engine_synth.py
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_engine import make_song  # noqa: E402

from musicapp.engine import fluid  # noqa: E402
from musicapp.engine.audio import render_song  # noqa: E402
from musicapp.engine.synth import Synth, SynthConfig  # noqa: E402


def main() -> None:
    song = make_song(20)
    seconds = song.tick_to_seconds(song.end) + 1.5
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    engines = ["own"] + (["fluidsynth"] if fluid.available() else [])
    for engine in engines:
        t0 = time.process_time()
        render_song(song, 48000, engine)
        cpu = time.process_time() - t0
        print(f"{engine:10s} offline: {seconds / cpu:.1f}x real time ({seconds:.1f} s of audio)")
    synth = Synth(SynthConfig(sample_rate=48000))
    for ch, program in enumerate((0, 16, 48, 80)):
        synth.handle((0xC0 | ch, program))
        for k in range(8):
            synth.handle((0x90 | ch, 48 + 3 * k + ch, 90))
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        synth.render(256)
        times.append(time.perf_counter() - t0)
    times.sort()
    print(f"own synth live, 32 voices, one 256-frame block: median {times[100] * 1000:.2f} ms, "
          f"p99 {times[198] * 1000:.2f} ms (a block lasts {256 / 48:.2f} ms)")


if __name__ == "__main__":
    main()
