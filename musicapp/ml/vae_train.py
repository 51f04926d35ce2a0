"""Training the melody VAE: ``musicapp train --model vae ...`` lands in :func:`run`.

Owns the VAE training config, the loop (Adam, cosine learning rate, KL weight annealed with
free bits, transposition augmentation), periodic validation (teacher-forced loss and the
greedy reconstruction rate that the shipped model is judged by), resumable run folders and
the export of the shipped checkpoint. Progress bar, loss log and resume files come from
:mod:`musicapp.ml.training`, shared with the LSTM trainer.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from musicapp.ml import corpus
from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
from musicapp.ml.encoding import EncodingInfo
from musicapp.ml.training import (LossLog, Progress, TrainState, hardware_description, limit_threads,
                                  load_training_checkpoint, numpy_rng, pick_device,
                                  save_training_checkpoint)
from musicapp.ml.vae import LossWeights, MelodyVae, VaeConfig, kl_beta
from musicapp.ml.vae_data import Windows, build_windows, to_tensors, transpose_batch

KIND = "vae"
LOG_COLUMNS = ("step", "epoch", "seconds", "train_loss", "valid_loss", "lr", "beta", "train_kl",
               "valid_kl", "valid_tf_acc", "valid_recon_acc")


@dataclass(frozen=True)
class VaeTrainConfig:
    """How to train. ``steps`` are optimizer steps; ``minutes`` caps wall time (0 = no cap)."""

    run_dir: Path = Path("runs/vae")
    out: Path | None = None  # where to export the shipped checkpoint (NAME without suffix)
    steps: int = 20000
    minutes: float = 0.0
    batch_size: int = 64
    lr: float = 2e-3
    lr_min: float = 1e-4
    warmup_steps: int = 200
    beta_max: float = 0.1
    beta_warmup: int = 1500
    free_nats: float = 80.0
    word_dropout: float = 0.0
    max_shift: int = 6
    eval_every: int = 250
    valid_windows: int = 1024
    recon_windows: int = 512
    seed: int = 1234
    device: str = "auto"
    threads: int = 1
    resume: bool = True
    progress: bool = True
    corpora: tuple[str, ...] = corpus.TRAIN_CORPORA
    max_tunes: int = 0  # 0 = all (tests use a handful)


def lr_at(cfg: VaeTrainConfig, step: int, seconds: float = 0.0) -> float:
    """Linear warm-up then cosine decay from ``lr`` to ``lr_min``, over ``steps`` or, when
    ``minutes`` is set and runs out first, over the wall-time budget (``seconds`` so far)."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    frac = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    if cfg.minutes:
        frac = max(frac, seconds / (cfg.minutes * 60))
    frac = min(1.0, frac)
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * frac))


@torch.no_grad()
def evaluate(model: MelodyVae, w: Windows, weights: LossWeights, batch: int = 256) -> dict[str, float]:
    """Teacher-forced negative ELBO per step, KL per window and step accuracy on ``w``."""
    model.eval()
    dev = next(model.parameters()).device
    tot = {"recon": 0.0, "kl": 0.0, "correct": 0.0, "steps": 0.0, "n": 0.0}
    for a in range(0, len(w), batch):
        part = w.subset(np.arange(a, min(a + batch, len(w))))
        out = model.loss(*to_tensors(part, dev), weights)
        n = len(part)
        steps = float(out["steps"])
        tot["recon"] += float(out["recon"]) * n
        tot["kl"] += float(out["kl"]) * n
        tot["correct"] += float(out["acc"]) * steps
        tot["steps"] += steps
        tot["n"] += n
    return {"loss": (tot["recon"] + tot["kl"]) / tot["steps"], "kl": tot["kl"] / tot["n"],
            "tf_acc": tot["correct"] / tot["steps"]}


@torch.no_grad()
def reconstruction_rate(model: MelodyVae, w: Windows, batch: int = 256) -> float:
    """Fraction of real (unpadded) steps reproduced exactly by greedy decoding of the
    posterior mean: what ``vary(amount=0)`` does."""
    model.eval()
    dev = next(model.parameters()).device
    correct = total = 0
    for a in range(0, len(w), batch):
        tok, pos, bar, lengths = to_tensors(w.subset(np.arange(a, min(a + batch, len(w)))), dev)
        mu, _ = model.encode(tok, pos, bar, lengths)
        out = model.generate(mu, pos, bar)
        mask = torch.arange(tok.shape[1], device=dev)[None, :] < lengths[:, None]
        correct += int(((out == tok) & mask).sum())
        total += int(mask.sum())
    return correct / max(1, total)


def load_splits(cfg: VaeTrainConfig, max_steps: int) -> tuple[Windows, Windows]:
    """Training windows (one from every bar) and back-to-back validation windows."""
    from musicapp.ml.dataset import ensure_corpus

    ensure_corpus(cfg.corpora)
    splits = corpus.load_all(cfg.corpora)
    tr, va = splits["train"], splits["valid"]
    if cfg.max_tunes:
        tr, va = tr[: cfg.max_tunes], va[: max(1, cfg.max_tunes // 4)]
    return build_windows(tr, max_steps), build_windows(va, max_steps, overlap=False)


def _meta(cfg: VaeTrainConfig, model_cfg: VaeConfig, n_train: int, state: TrainState, device: torch.device,
          metrics: dict) -> CheckpointMeta:
    training = {"data": list(cfg.corpora), "never": "nottingham-dataset", "train_windows": n_train,
                "steps": state.step, "seconds": round(state.seconds, 1), "hardware": hardware_description(device),
                "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}}
    return CheckpointMeta(kind=KIND, config=model_cfg.to_dict(), encoding=asdict(EncodingInfo()),
                          training=training, metrics=metrics)


def train(cfg: VaeTrainConfig, model_cfg: VaeConfig = VaeConfig(),
          data: tuple[Windows, Windows] | None = None) -> dict[str, float]:
    """Run (or resume) training in ``cfg.run_dir``; returns the last validation figures.

    ``data`` (train, valid windows) skips loading the corpus (tests). Writes ``last.*`` every
    evaluation, ``best.*`` at the best validation loss and, with ``cfg.out``, the shipped
    checkpoint (weights only, from ``best``) at the end.
    """
    limit_threads(cfg.threads)
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    train_w, valid_w = data if data is not None else load_splits(cfg, model_cfg.max_steps)
    # fixed random subsets: the windows are in corpus order, and the first ones are the easiest
    order = np.random.default_rng(0).permutation(len(valid_w))
    valid_tf = valid_w.subset(np.sort(order[: cfg.valid_windows]))
    valid_rc = valid_w.subset(np.sort(order[: cfg.recon_windows]))
    model = MelodyVae(model_cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    run = Path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    log = LossLog(run / "loss.csv", run / "loss.png", columns=LOG_COLUMNS)
    state = TrainState()
    if cfg.resume and (run / "last.json").is_file():
        _, state = load_training_checkpoint(run / "last", model, opt, kind=KIND, encoding=asdict(EncodingInfo()))
        log.truncate_after(state.step)
    rng = numpy_rng(state.numpy_rng, cfg.seed)
    bar = Progress(cfg.steps, initial=state.step, desc="train vae", enabled=cfg.progress)
    t_start, sec0 = time.monotonic(), state.seconds
    run_loss = run_kl = 0.0
    run_n = 0
    figures: dict[str, float] = {}
    try:
        while state.step < cfg.steps:
            elapsed = sec0 + time.monotonic() - t_start
            if cfg.minutes and elapsed > cfg.minutes * 60:
                break
            model.train()
            lr, beta = lr_at(cfg, state.step, elapsed), kl_beta(state.step, cfg.beta_warmup, cfg.beta_max)
            for g in opt.param_groups:
                g["lr"] = lr
            idx = rng.integers(0, len(train_w), cfg.batch_size)
            batch = transpose_batch(train_w.subset(idx), rng, cfg.max_shift)
            out = model.loss(*to_tensors(batch, device), LossWeights(beta, cfg.free_nats), cfg.word_dropout)
            opt.zero_grad(set_to_none=True)
            out["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            state.step += 1
            state.epoch = state.step * cfg.batch_size // max(1, len(train_w))
            per_step = float((out["recon"] + out["kl"]).detach()) * cfg.batch_size / float(out["steps"])
            run_loss, run_kl, run_n = run_loss + per_step, run_kl + float(out["kl"].detach()), run_n + 1
            bar.update(1, loss=per_step, kl=float(out["kl"].detach()), acc=float(out["acc"]))
            if state.step % cfg.eval_every == 0 or state.step == cfg.steps:
                state.seconds = sec0 + time.monotonic() - t_start
                figures = _validate(model, valid_tf, valid_rc, beta, cfg)
                log.append(step=state.step, epoch=state.epoch, seconds=state.seconds,
                           train_loss=run_loss / run_n, valid_loss=figures["valid_loss"], lr=lr, beta=beta,
                           train_kl=run_kl / run_n, **{k: v for k, v in figures.items() if k != "valid_loss"})
                run_loss = run_kl = 0.0
                run_n = 0
                _save(run, model, opt, cfg, model_cfg, len(train_w), state, rng, device, figures)
                log.plot("melody VAE (nats per step)")
    finally:
        bar.close()
    state.seconds = sec0 + time.monotonic() - t_start
    if not figures:
        figures = _validate(model, valid_tf, valid_rc, kl_beta(state.step, cfg.beta_warmup, cfg.beta_max), cfg)
    _save(run, model, opt, cfg, model_cfg, len(train_w), state, rng, device, figures)
    if cfg.out is not None:
        export(run / ("best" if (run / "best.json").is_file() else "last"), cfg.out)
    return figures


def _validate(model: MelodyVae, valid_tf: Windows, valid_rc: Windows, beta: float,
              cfg: VaeTrainConfig) -> dict[str, float]:
    ev = evaluate(model, valid_tf, LossWeights(beta, cfg.free_nats))
    return {"valid_loss": ev["loss"], "valid_kl": ev["kl"], "valid_tf_acc": ev["tf_acc"],
            "valid_recon_acc": reconstruction_rate(model, valid_rc)}


def _save(run: Path, model: MelodyVae, opt: torch.optim.Optimizer, cfg: VaeTrainConfig, model_cfg: VaeConfig,
          n_train: int, state: TrainState, rng: np.random.Generator, device: torch.device,
          figures: dict[str, float]) -> None:
    state.numpy_rng = rng.bit_generator.state
    # the best model is judged after the KL weight has reached its final value
    if state.step >= cfg.beta_warmup and figures["valid_loss"] < state.best_valid:
        state.best_valid = figures["valid_loss"]
        save_training_checkpoint(run / "best", model, opt, _meta(cfg, model_cfg, n_train, state, device, figures),
                                 replace(state))
    save_training_checkpoint(run / "last", model, opt, _meta(cfg, model_cfg, n_train, state, device, figures), state)


def export(run_checkpoint: Path, out: Path) -> Path:
    """Write the shipped checkpoint ``out`` (weights only) from a training checkpoint."""
    from musicapp.ml.training import model_tensors

    meta, tensors = model_tensors(run_checkpoint, kind=KIND, encoding=asdict(EncodingInfo()))
    meta.extra = {}
    return save_checkpoint(out, tensors, meta)


def config_from_args(args: argparse.Namespace) -> tuple[VaeTrainConfig, VaeConfig]:
    """Map ``musicapp train --model vae`` options onto the configs (absent options keep defaults)."""
    base = VaeTrainConfig()  # the recipe of the shipped model
    pick = {
        "run_dir": "run_dir", "out": "out", "steps": "steps", "minutes": "minutes", "batch_size": "batch_size",
        "lr": "lr", "seed": "seed", "device": "device", "threads": "threads",
    }
    changes = {}
    for field_name, attr in pick.items():
        val = getattr(args, attr, None)
        if val is not None:
            changes[field_name] = Path(val) if field_name in ("run_dir", "out") else val
    if changes.get("out") is None:
        from musicapp.ml.vae_generate import default_checkpoint

        changes["out"] = default_checkpoint()
    if getattr(args, "no_resume", False):
        changes["resume"] = False
    if getattr(args, "quiet", False):
        changes["progress"] = False
    model_changes = {}
    for name in ("latent", "dec_hidden", "enc_hidden"):
        val = getattr(args, name, None)
        if val is not None:
            model_changes[name] = val
    return replace(base, **changes), replace(VaeConfig(), **model_changes)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``musicapp train --model vae``; returns the exit code."""
    cfg, model_cfg = config_from_args(args)
    figures = train(cfg, model_cfg)
    print(" ".join(f"{k}={v:.4f}" for k, v in figures.items()))
    return 0
