"""Speed of the melody VAE service with the shipped model (CPU): load, vary, interpolate, sample.

Targets (issue 4): vary 4 bars x 8 variations p50 <= 40 ms; interpolate 2 bars x 8 steps
p50 <= 40 ms, with the model already loaded. Run: ``python benchmarks/bench_vae.py
[--threads N] [--runs R] [--checkpoint PATH]``. Prints one line per case: p50 / p95 / min
wall time and the process's CPU time p50, in milliseconds, over R runs after 3 warm-up
runs, a new random seed every run. Unless the line says "again"/"same", every run starts
with an empty latent-code cache, so it pays for encoding and refining the latent codes.
"""

from __future__ import annotations

import argparse
import time

import torch
from bench_lstm import phrase, timed  # same phrase builder and timer as the LSTM benchmark


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1)")
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--checkpoint", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    from musicapp.ml.vae_generate import VaeService, default_checkpoint, load_vae

    ckpt = args.checkpoint or default_checkpoint()
    t0 = time.perf_counter()
    load_vae(ckpt)
    print(f"model load: {(time.perf_counter() - t0) * 1000:.0f} ms (first load in this process)")
    svc = VaeService(ckpt, device="cpu")
    svc.model()
    four, two_a, two_b = phrase(4), phrase(2), phrase(2, first=62)
    def cold(fn):
        """``fn`` with the latent-code cache emptied first (a phrase never seen before)."""
        def run(i):
            svc.clear_cache()
            return fn(i)
        return run

    cases = {
        "vary 4 bars x 8 variations": cold(lambda i: svc.vary(four, 0.5, 8, seed=i)),
        "vary 4 bars x 8, same phrase again": lambda i: svc.vary(four, 0.5, 8, seed=i),
        "vary 4 bars x 1 (amount 0)": cold(lambda i: svc.vary(four, 0.0, 1)),
        "interpolate 2 bars x 8 steps": cold(lambda i: svc.interpolate(two_a, two_b, 8)),
        "interpolate 2 bars x 8, same pair": lambda i: svc.interpolate(two_a, two_b, 8),
        "sample 4 bars x 8": lambda i: svc.sample(4, 1.0, 8, seed=i),
    }
    no_refine = VaeService(ckpt, device="cpu", refine_steps=0)
    no_refine.model()
    cases["vary 4 bars x 8, encoder mean only"] = lambda i: no_refine.vary(four, 0.5, 8, seed=i)
    print(f"torch threads: {torch.get_num_threads()}, runs: {args.runs}")
    for name, fn in cases.items():
        p50, p95, best, cpu = timed(fn, args.runs)
        print(f"{name:36s} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   min {best:6.1f} ms   cpu p50 {cpu:6.1f} ms")


if __name__ == "__main__":
    main()
