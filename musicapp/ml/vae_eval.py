"""Evaluation of the melody VAE on the held-out test split (``python -m musicapp.ml.vae_eval``).

Owns the figures in the model card's VAE section:

- reconstruction: ``vary(amount=0)`` on every back-to-back test window (after the service's
  octave normalisation, greedy decoding of the latent code: the posterior mean refined as
  the service does): share of 16th steps exact and of windows reproduced entirely, and the
  same from the encoder's mean alone;
- prior samples (``z ~ N(0, I)``, temperatures 1 and 0.5, on the meters of random test windows) and
  interpolation midpoints (spherical, t = 0.5, between two random test windows of the same
  meter, greedy): in-key ratio (against the key detected in each window, the same procedure
  for the test windows themselves), note-length and pitch-class histogram overlap with the
  test windows, notes per window and pitch range.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from musicapp.ml import corpus
from musicapp.ml import encoding as enc
from musicapp.ml.evaluate import MelodyStats, histogram_overlap, write_card
from musicapp.ml.vae import MelodyVae, slerp
from musicapp.ml.vae_data import Windows, build_windows, octave_shift, to_tensors

CARD_START, CARD_END = "<!-- vae-eval:start -->", "<!-- vae-eval:end -->"


@dataclass(frozen=True)
class VaeEvalConfig:
    """What to evaluate: checkpoint (None = shipped), split, sample and midpoint counts."""

    checkpoint: Path | None = None
    split: str = "test"
    samples: int = 1000
    midpoints: int = 500
    temperatures: tuple[float, ...] = (1.0, 0.5)
    seed: int = 0
    batch: int = 256
    refine_steps: int = 40


def normalise(w: Windows) -> Windows:
    """Each window moved by the octave shift the generation service would apply."""
    shifts = np.array([octave_shift(w.tokens[i, : w.lengths[i]]) for i in range(len(w))], dtype=np.int64)
    is_note = w.tokens >= enc.PITCH_OFFSET
    toks = np.where(is_note, w.tokens + shifts[:, None], w.tokens).astype(np.int16)
    return Windows(toks, w.pos, w.bar_len, w.lengths, (w.lo + shifts).astype(np.int16),
                   (w.hi + shifts).astype(np.int16))


def reconstruction(model: MelodyVae, w: Windows, batch: int, refine_steps: int) -> tuple[np.ndarray, dict[str, float]]:
    """Greedy reconstructions ``(N, T)`` of ``w`` from the refined latent codes (what the
    service does) and the step / whole-window exact rates, also from the encoder mean alone."""
    outs, right, right_mu, steps, whole, whole_mu = [], 0, 0, 0, 0, 0
    for a in range(0, len(w), batch):
        tok, pos, bar, lengths = to_tensors(w.subset(np.arange(a, min(a + batch, len(w)))))
        mask = torch.arange(tok.shape[1])[None, :] < lengths[:, None]
        with torch.no_grad():
            mu, _ = model.encode(tok, pos, bar, lengths)
            ok_mu = (model.generate(mu, pos, bar) == tok) | ~mask
        z, _ = model.refine_latent(mu, tok, pos, bar, lengths, steps=refine_steps) if refine_steps else (mu, 0)
        out = model.generate(z, pos, bar)
        ok = (out == tok) | ~mask
        right += int((ok & mask).sum())
        right_mu += int((ok_mu & mask).sum())
        steps += int(mask.sum())
        whole += int(ok.all(1).sum())
        whole_mu += int(ok_mu.all(1).sum())
        outs.append(out.numpy())
    return np.concatenate(outs), {"step_exact": right / steps, "window_exact": whole / len(w),
                                  "step_exact_encoder_mean": right_mu / steps,
                                  "window_exact_encoder_mean": whole_mu / len(w),
                                  "refine_steps": refine_steps, "windows": len(w)}


def _stats(tokens: np.ndarray, lengths: np.ndarray) -> MelodyStats:
    """Melody statistics of token windows, each against the key detected in it."""
    from musicapp.core.scales import detect_key, scale_pitch_classes
    from musicapp.core.song import Key

    st = MelodyStats()
    for row, n in zip(tokens, lengths):
        notes = enc.decode_notes(row[: int(n)])
        st.add(notes, scale_pitch_classes(detect_key(notes, default=Key(0))) if notes else frozenset())
    return st


def _summary(st: MelodyStats, ref: MelodyStats) -> dict[str, float]:
    return {
        "in_key": st.in_key / max(1, st.notes),
        "length_overlap": histogram_overlap(st.lengths, ref.lengths),
        "pitch_class_overlap": histogram_overlap(st.pc, ref.pc),
        "notes_per_window": st.notes / max(1, st.melodies),
        "mean_range": float(np.mean(st.ranges)) if st.ranges else 0.0,
    }


@torch.no_grad()
def run_eval(cfg: VaeEvalConfig, log=print) -> dict:
    """All figures as a nested dict (see the module docstring)."""
    from musicapp.ml.vae_generate import default_checkpoint, load_vae

    t0 = time.monotonic()
    model, _ = load_vae(cfg.checkpoint or default_checkpoint())
    tunes = corpus.load_all()[cfg.split]
    w = normalise(build_windows(tunes, model.cfg.max_steps, overlap=False))
    log(f"{len(w)} {cfg.split} windows from {len(tunes)} tunes")
    rec, rec_fig = reconstruction(model, w, cfg.batch, cfg.refine_steps)
    log(f"reconstruction: {rec_fig}")
    ref = _stats(w.tokens, w.lengths)
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)

    pick = rng.integers(0, len(w), cfg.samples)
    _, pos, bar, lengths = to_tensors(w.subset(pick))
    z_all = torch.randn((len(pick), model.cfg.latent), generator=gen)
    prior = {}
    for temp in cfg.temperatures:
        samples = [model.generate(z_all[a:a + cfg.batch], pos[a:a + cfg.batch], bar[a:a + cfg.batch], temp,
                                  generator=gen).numpy() for a in range(0, len(pick), cfg.batch)]
        prior[f"{temp:g}"] = {**_summary(_stats(np.concatenate(samples), lengths.numpy()), ref),
                              "count": len(pick), "temperature": temp}

    ia, ib = _pairs(w, cfg.midpoints, rng)
    mid = []
    for a in range(0, len(ia), cfg.batch):
        pa, pb = w.subset(ia[a:a + cfg.batch]), w.subset(ib[a:a + cfg.batch])
        mu_a, _ = model.encode(*to_tensors(pa))
        mu_b, _ = model.encode(*to_tensors(pb))
        _, pos_a, bar_a, _ = to_tensors(pa)
        mid.append(model.generate(slerp(mu_a, mu_b, torch.tensor(0.5)), pos_a, bar_a).numpy())
    midpoint = _summary(_stats(np.concatenate(mid), w.lengths[ia]), ref)
    return {
        "split": cfg.split, "windows": len(w), "tunes": len(tunes), "seconds": round(time.monotonic() - t0, 1),
        "reconstruction": rec_fig,
        "test_windows": _summary(ref, ref),
        "reconstructions": _summary(_stats(rec, w.lengths), ref),
        "prior_samples": prior,
        "interpolation_midpoints": {**midpoint, "count": len(ia)},
    }


def _pairs(w: Windows, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random pairs of distinct windows with the same length and bar length."""
    key = w.lengths.astype(np.int64) * 100 + w.bar_len[:, 0]
    groups = [np.flatnonzero(key == k) for k in np.unique(key)]
    groups = [g for g in groups if len(g) >= 2]
    sizes = np.array([len(g) for g in groups], dtype=float)
    ia, ib = [], []
    for gi in rng.choice(len(groups), n, p=sizes / sizes.sum()):
        a, b = rng.choice(groups[gi], 2, replace=False)
        ia.append(a)
        ib.append(b)
    return np.array(ia), np.array(ib)


def format_table(fig: dict) -> str:
    """The model-card table (Markdown) for :func:`run_eval`'s figures."""
    rec = fig["reconstruction"]
    rows = [("test windows (reference)", fig["test_windows"]), ("reconstructions (vary, amount 0)", fig["reconstructions"])]
    rows += [(f"prior samples (temperature {p['temperature']:g}, n={p['count']})", p) for p in fig["prior_samples"].values()]
    rows.append((f"interpolation midpoints (n={fig['interpolation_midpoints']['count']})", fig["interpolation_midpoints"]))
    lines = [
        f"Held-out {fig['split']} split: {fig['windows']} back-to-back windows from {fig['tunes']} tunes.",
        "",
        f"- Reconstruction (`vary`, amount 0, greedy, latent refined for up to {rec['refine_steps']} steps): "
        f"**{100 * rec['step_exact']:.2f}%** of 16th steps exact; {100 * rec['window_exact']:.1f}% of windows "
        "reproduced entirely.",
        f"- From the encoder's posterior mean alone (no refinement): {100 * rec['step_exact_encoder_mean']:.2f}% of "
        f"steps, {100 * rec['window_exact_encoder_mean']:.1f}% of windows.",
        "",
        "| melodies | in-key ratio | note-length overlap | pitch-class overlap | notes / window | mean range (semitones) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        lines.append(f"| {name} | {r['in_key']:.3f} | {r['length_overlap']:.3f} | {r['pitch_class_overlap']:.3f} | "
                     f"{r['notes_per_window']:.2f} | {r['mean_range']:.1f} |")
    lines += ["", "In-key ratio: share of notes in the scale of the key detected (Krumhansl-Schmuckler) in the "
              "same window. Overlaps: histogram intersection with the test windows (1 = identical)."]
    return "\n".join(lines)


def store_metrics(checkpoint: Path, fig: dict) -> None:
    """Save ``fig`` as the checkpoint's metrics (rewrites the JSON with the same weights)."""
    from musicapp.ml.checkpoint import load_checkpoint, save_checkpoint

    meta, tensors = load_checkpoint(checkpoint, kind="vae")
    meta.metrics = {**meta.metrics, "test": fig}
    save_checkpoint(checkpoint, tensors, meta)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m musicapp.ml.vae_eval", description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", help="VAE checkpoint (default: the shipped model)")
    p.add_argument("--split", default="test", choices=("test", "valid"))
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--midpoints", type=int, default=500)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--refine-steps", type=int, default=40, help="latent refinement cap per window (40)")
    p.add_argument("--card", help="write the table into this model card (between the VAE eval markers)")
    p.add_argument("--update-metrics", action="store_true", help="store the figures in the checkpoint JSON")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    ckpt = Path(args.checkpoint) if args.checkpoint else None
    cfg = VaeEvalConfig(ckpt, args.split, args.samples, args.midpoints, refine_steps=args.refine_steps)
    fig = run_eval(cfg, log=lambda s: print(s, file=sys.stderr))
    print(json.dumps(fig, indent=2))
    if args.card:
        write_card(Path(args.card), format_table(fig), CARD_START, CARD_END, heading=None)
    if args.update_metrics:
        from musicapp.ml.vae_generate import default_checkpoint

        store_metrics(ckpt or default_checkpoint(), fig)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
