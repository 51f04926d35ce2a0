"""Speed of the melody LSTM service with the shipped model (CPU): load and continue.

Targets (issue 3): model load <= 300 ms; continue 4 bars x 1 variation p50 <= 15 ms and
4 bars x 8 variations p50 <= 40 ms with the model already loaded (seed: 4 bars of 4/4).
Also prints, as a reference measured in the same process, the same 4 x 1 continuation
done the obvious way (one ``nn.LSTM`` call per 16th step) and the ratio to it.
Run: ``python benchmarks/bench_lstm.py [--threads N] [--runs R] [--checkpoint PATH]``.
Each line: p50 / p95 / min in milliseconds over R runs after 3 warm-up runs; a new random
seed every run (so no result is reused).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from musicapp.core.song import PPQ, Note
from musicapp.ml.generate import MelodyGenerator
from musicapp.ml.lstm import single_thread

Q, E = PPQ, PPQ // 2


def phrase(bars: int, first: int = 67) -> list[Note]:
    """A folk-like phrase of ``bars`` 4/4 bars (quarters and eighths, stepwise)."""
    shape = [0, 2, 4, 5, 7, 5, 4, 2, 0, 4, 7, 9, 7, 4, 2, 0]
    lens = [Q, E, E, Q, Q, Q, E, E, Q, Q, Q, Q, E, E, Q, Q]
    out, t, i = [], 0, 0
    while t < bars * 4 * Q:
        ln = min(lens[i % len(lens)], bars * 4 * Q - t)
        out.append(Note(t, first + shape[i % len(shape)], ln))
        t += ln
        i += 1
    return out


def timed(fn, runs: int) -> tuple[float, float, float, float]:
    """``(p50, p95, min, cpu p50)`` in ms of ``fn(run_index)`` over ``runs`` calls after 3 warm-ups.

    ``cpu`` is this process's CPU time per call (less sensitive to other processes' load).
    """
    for i in range(3):
        fn(10_000 + i)
    ts, cpu = [], []
    for i in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(i)
        ts.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    ts.sort()
    return statistics.median(ts), ts[min(len(ts) - 1, int(round(0.95 * (len(ts) - 1))))], ts[0], statistics.median(cpu)


def naive_continue(gen: MelodyGenerator, seed: list[Note], steps: int, random_seed: int) -> None:
    """Reference: prime with nn.LSTM, then one nn.LSTM call per step with multinomial sampling."""
    from musicapp.ml.encoding import encode_notes
    from musicapp.ml.lstm import lookback_inputs

    model = gen._ready()[0]
    distances = model.config.lookback
    melody, _ = encode_notes(seed)
    g = torch.Generator().manual_seed(random_seed)
    hist = list(melody.tokens)
    bar16 = np.full(len(hist) + steps, 16)

    def lookback(n: int) -> dict:
        """Lookback inputs for target steps ``len(hist) - n ..`` (the next one included)."""
        if not distances:
            return {}
        lb, match = lookback_inputs(np.array(hist + [0]), bar16[:len(hist) + 1], distances, len(hist) + 1 - n)
        return {"lb": torch.from_numpy(lb)[None], "match": torch.from_numpy(match)[None]}

    with torch.inference_mode(), single_thread():
        toks = torch.from_numpy(melody.tokens)[None]
        prev = torch.cat([torch.tensor([[130]]), toks[:, :-1]], 1)
        pos = torch.from_numpy(melody.pos)[None]
        bl = torch.from_numpy(melody.bar_len)[None]
        key = torch.zeros_like(toks)
        mode = torch.zeros_like(toks)
        extra = {}
        if distances:
            lb, match = lookback_inputs(melody.tokens, melody.bar_len, distances)
            extra = {"lb": torch.from_numpy(lb)[None], "match": torch.from_numpy(match)[None]}
        _, state = model(prev, pos, bl, key, mode, **extra)
        prev = toks[:, -1:]
        for t in range(steps):
            p = torch.tensor([[t % 16]])
            logits, state = model(prev, p, torch.tensor([[16]]), key[:, :1], mode[:, :1], state, **lookback(1))
            prev = torch.multinomial(torch.softmax(logits[0], -1), 1, generator=g)
            hist.append(int(prev))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--checkpoint", default=None, help="default: the shipped models/lstm")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    loads = []
    for _ in range(7):
        gen = MelodyGenerator(args.checkpoint)
        t0 = time.perf_counter()
        gen.load()
        loads.append((time.perf_counter() - t0) * 1000)
    loads.sort()
    cfg = gen.meta.config
    print(f"model {cfg['layers']}x{cfg['hidden']} from {gen.checkpoint}")
    print(f"load:                    p50 {statistics.median(loads):6.1f} ms   min {loads[0]:6.1f} ms   (target <= 300)")

    seed = phrase(4)
    results = {}
    for variations, target in ((1, 15), (8, 40)):
        p50, p95, lo, cpu = timed(lambda i: gen.continue_melody(seed, bars=4, variations=variations, key="auto",
                                                                random_seed=i), args.runs)
        results[variations] = p50
        print(f"continue 4 bars x {variations}:    p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   min {lo:6.1f} ms"
              f"   cpu p50 {cpu:6.1f} ms   (target <= {target})")
    p50, p95, lo, cpu = timed(lambda i: naive_continue(gen, seed, 64, i), max(5, args.runs // 3))
    print(f"reference nn.LSTM/step:  p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   min {lo:6.1f} ms"
          f"   cpu p50 {cpu:6.1f} ms   (service is {p50 / results[1]:.1f}x faster)")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
