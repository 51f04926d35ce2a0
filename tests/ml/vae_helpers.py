"""Shared pieces for the VAE tests: inline phrases and a tiny model trained to memorize them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from musicapp.core.song import PPQ, Note, TimeSignature
from musicapp.ml import encoding as enc
from musicapp.ml.vae import LossWeights, MelodyVae, VaeConfig
from musicapp.ml.vae_data import Windows, chunk_bounds, pad_windows, to_tensors

TINY = VaeConfig(token_dim=16, pos_dim=8, enc_hidden=32, latent=16, dec_hidden=64)
Q = PPQ  # a quarter note in ticks
E = PPQ // 2  # an eighth


def melody(spec: list[tuple[int, int]], start: int = 0) -> list[Note]:
    """Notes from ``(pitch, ticks)`` pairs placed back to back (pitch -1 = rest)."""
    out, t = [], start
    for pitch, length in spec:
        if pitch >= 0:
            out.append(Note(t, pitch, length, 90))
        t += length
    return out


def transpose(notes: list[Note], semitones: int) -> list[Note]:
    return [n.moved(dp=semitones) for n in notes]


# four bars of 4/4 each (two model windows), in G major around the middle of the training
# range, so the service's octave normalization leaves them where they are

PHRASE_A = transpose(melody([(60, Q), (60, Q), (67, Q), (67, Q), (69, Q), (69, Q), (67, 2 * Q),
                   (65, Q), (65, Q), (64, Q), (64, Q), (62, E), (64, E), (62, Q), (60, 2 * Q)]), 7)
PHRASE_B = transpose(melody([(64, E), (62, E), (60, Q), (62, Q), (64, Q), (64, Q), (64, Q), (64, 2 * Q),
                             (62, Q), (62, Q), (62, 2 * Q), (64, Q), (67, Q), (67, 2 * Q)]), 7)


def phrase_windows(phrases: list[list[Note]], max_steps: int = 32) -> Windows:
    """The model windows of whole 4/4 phrases, as the service cuts them."""
    toks, pos, bars = [], [], []
    for notes in phrases:
        mel, _ = enc.encode_notes(notes, (TimeSignature(0),), start_tick=0, end_tick=4 * 4 * Q)
        for a, b in chunk_bounds(mel.pos, max_steps):
            toks.append(mel.tokens[a:b])
            pos.append(mel.pos[a:b])
            bars.append(mel.bar_len[a:b])
    return pad_windows(toks, pos, bars, max_steps)


def train_tiny(w: Windows, steps: int, seed: int = 0, cfg: VaeConfig = TINY) -> tuple[MelodyVae, list[float]]:
    """Fit a tiny VAE to windows ``w`` (full batch) and return it with the losses per step.

    To memorize quickly it trains on the posterior mean (eval mode: no sampling noise) with
    no KL pressure, on one torch thread (the suite runs beside other work on 2 cores).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        model = MelodyVae(cfg).eval()
        opt = torch.optim.Adam(model.parameters(), lr=2e-2)
        batch = to_tensors(w)
        losses = []
        for _ in range(steps):
            out = model.loss(*batch, LossWeights(beta=0.0, free_nats=0.0))
            opt.zero_grad()
            out["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(float(out["loss"].detach()))
    finally:
        torch.set_num_threads(threads)
    return model, losses


def grid_steps(notes: list[Note]) -> np.ndarray:
    """Tokens of notes on a 4-bar 4/4 grid from tick 0 (for comparing melodies)."""
    mel, _ = enc.encode_notes(notes, (TimeSignature(0),), start_tick=0, end_tick=4 * 4 * Q)
    return mel.tokens


def shipped() -> Path | None:
    from musicapp.ml.vae_generate import default_checkpoint

    p = default_checkpoint()
    return p if p.with_name(p.name + ".json").is_file() else None


def tiny_checkpoint(run_dir: Path, out: Path, steps: int = 4) -> Path:
    """Train a tiny VAE for ``steps`` steps with the real trainer and export it to ``out``."""
    from musicapp.ml.vae_train import VaeTrainConfig, train

    w = phrase_windows([PHRASE_A, PHRASE_B])
    cfg = VaeTrainConfig(run_dir=run_dir, out=out, steps=steps, eval_every=2, batch_size=4, beta_warmup=2,
                         warmup_steps=1, threads=1, progress=False, device="cpu")
    train(cfg, TINY, data=(w, w))
    return out
