"""Training the melody LSTM: a time-budgeted, resumable loop and the export of the shipped model.

Owns :class:`LSTMTrainConfig` and :func:`train`. The learning rate follows a warm-up and a
cosine decay over the wall-time budget (so a resumed run continues the same schedule).
Every ``eval_every`` steps it measures validation loss, appends to ``loss.csv``, redraws
``loss.png`` and saves ``last.*`` (and ``best.*`` when validation improved) in the run folder.
:func:`export` writes the best weights as the shipped ``models/lstm.*`` checkpoint.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from musicapp.ml import corpus
from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
from musicapp.ml.dataset import TuneBank, encoded_splits, model_inputs
from musicapp.ml.encoding import EncodingInfo
from musicapp.ml.lstm import KIND, LSTMConfig, MelodyLSTM
from musicapp.ml.training import (LossLog, Progress, TrainState, hardware_description, limit_threads,
                                  load_training_checkpoint, model_tensors, numpy_rng, pick_device,
                                  save_training_checkpoint)


@dataclass(frozen=True)
class LSTMTrainConfig:
    """How to train. Times in minutes of wall clock; lengths in 16th steps."""

    run_dir: str = "runs/lstm"
    minutes: float = 80.0
    max_steps: int = 1_000_000
    batch: int = 32
    seq_len: int = 256
    lr: float = 3e-3
    min_lr_ratio: float = 0.05
    warmup: int = 100
    weight_decay: float = 1e-5
    clip: float = 1.0
    max_shift: int = 2  # transposition augmentation, +- semitones
    key_dropout: float = 0.15
    eval_every: int = 150
    valid_windows: int = 128  # evenly spread over the whole validation split
    seed: int = 0
    threads: int = 2
    device: str | None = None
    resume: bool = True
    bf16: bool = True


# the shipped model's recipe (models/lstm.json): what `musicapp train --model lstm` trains by default
SHIPPED_MODEL = LSTMConfig(hidden=160, dropout=0.0, lookback=(1, 2, 4, 8))


def lr_at(cfg: LSTMTrainConfig, step: int, seconds: float) -> float:
    """Warm-up over ``warmup`` steps, then cosine decay with the fraction of time budget used."""
    warm = min(1.0, (step + 1) / max(1, cfg.warmup))
    frac = min(1.0, seconds / max(1e-9, cfg.minutes * 60.0))
    cos = cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * frac))
    return cfg.lr * warm * cos


@functools.lru_cache(maxsize=None)
def bf16_works(device_type: str) -> bool:
    """Whether recurrent layers run forward and backward under bfloat16 autocast on this device
    type. Probed once with a tiny LSTM: oneDNN refuses bfloat16 LSTM primitives on CPUs without
    bfloat16 instructions (e.g. AMD EPYC without AVX-512), PyTorch only says so when it runs."""
    if device_type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device_type != "cpu":
        return False
    try:
        rnn = torch.nn.LSTM(4, 8, batch_first=True)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out, _ = rnn(torch.zeros(2, 3, 4, requires_grad=True))
        out.float().sum().backward()
        return True
    except RuntimeError:
        return False


def say_if_float32(device: torch.device, enabled: bool, log: Callable[[str], None]) -> None:
    """Tell a training run's log when bfloat16 was asked for on a CPU or GPU that cannot run it
    (:func:`autocast` then trains in float32)."""
    if enabled and device.type in ("cpu", "cuda") and not bf16_works(device.type):
        log(f"bfloat16 autocast does not run on this {device.type}: training in float32")


def autocast(device: torch.device, enabled: bool):
    """bfloat16 autocast (mixed precision; weights and optimizer stay float32) when enabled and
    the device runs it (:func:`bf16_works`); otherwise float32."""
    on = enabled and device.type in ("cpu", "cuda") and bf16_works(device.type)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=on)


def masked_nll(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed NLL (nats) over masked steps and the number of steps; logits ``(B, T, C)``."""
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), reduction="none")
    m = mask.reshape(-1)
    return (nll * m).sum(), m.sum()


@torch.no_grad()
def evaluate_bank(model: MelodyLSTM, bank: TuneBank, length: int = 512, limit: int | None = None,
                  device: torch.device | str = "cpu", batch: int = 32) -> float:
    """Mean NLL per step (nats) over tiled windows of ``bank`` (``limit``: that many, evenly spread)."""
    was_training = model.training
    model.eval()
    spec = bank.windows(length)
    if limit is not None and limit < len(spec):
        spec = [spec[i] for i in np.linspace(0, len(spec) - 1, limit).round().astype(int)]
    total, count = 0.0, 0.0
    for i in range(0, len(spec), batch):
        b = bank.gather(spec[i:i + batch], length).to_torch(device)
        logits, _ = model(**model_inputs(b))
        s, n = masked_nll(logits.float(), b["target"], b["mask"])
        total, count = total + float(s), count + float(n)
    model.train(was_training)
    return total / max(count, 1.0)


def _meta(model_cfg: LSTMConfig, cfg: LSTMTrainConfig, splits: dict, device: torch.device,
          state: TrainState, valid: float | None) -> CheckpointMeta:
    training = {
        "corpora": list(corpus.TRAIN_CORPORA),
        "split": "content-hash split 90/5/5 (musicapp.ml.corpus.split_of), duplicates removed",
        "tunes": {k: len(v) for k, v in splits.items()},
        "steps": {k: int(sum(len(t.melody) for t in v)) for k, v in splits.items()},
        "optimizer_steps": state.step,
        "seconds": round(state.seconds, 1),
        "hardware": hardware_description(device),
        "train_config": asdict(cfg),
    }
    metrics = {} if valid is None else {"valid_nats_per_step": round(valid, 5)}
    return CheckpointMeta(kind=KIND, config=model_cfg.to_dict(), encoding=asdict(EncodingInfo()),
                          training=training, metrics=metrics)


def train(cfg: LSTMTrainConfig, model_cfg: LSTMConfig = SHIPPED_MODEL, splits: dict | None = None,
          log: Callable[[str], None] = print, progress: bool = True) -> Path:
    """Train (resuming from ``run_dir/last`` when present); returns the best checkpoint path."""
    limit_threads(cfg.threads)
    device = pick_device(cfg.device)
    run = Path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    splits = splits if splits is not None else encoded_splits()
    train_bank = TuneBank(splits["train"], model_cfg.lookback)
    valid_bank = TuneBank(splits["valid"] or splits["train"], model_cfg.lookback)
    torch.manual_seed(cfg.seed)
    model = MelodyLSTM(model_cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state = TrainState()
    last = run / "last.json"
    if cfg.resume and last.exists():
        _, state = load_training_checkpoint(last, model, opt, kind=KIND, encoding=asdict(EncodingInfo()))
        log(f"resumed from {last} at step {state.step} ({state.seconds / 60:.1f} min)")
    rng = numpy_rng(state.numpy_rng, cfg.seed)
    losses = LossLog(run / "loss.csv", run / "loss.png")
    losses.truncate_after(state.step)
    say_if_float32(device, cfg.bf16, log)
    log(f"training {model.param_count():,} parameters on {device}; {train_bank.total_steps:,} train steps "
        f"({len(splits['train'])} tunes), budget {cfg.minutes} min")
    budget = cfg.minutes * 60.0
    bar = Progress(total=cfg.max_steps if cfg.max_steps < 1_000_000 else int(budget), initial=state.step,
                   desc="lstm", enabled=progress)
    model.train()
    running, t_last = None, time.monotonic()
    while state.step < cfg.max_steps and state.seconds < budget:
        lr = lr_at(cfg, state.step, state.seconds)
        for g in opt.param_groups:
            g["lr"] = lr
        b = train_bank.sample(rng, cfg.batch, cfg.seq_len, cfg.max_shift, cfg.key_dropout).to_torch(device)
        with autocast(device, cfg.bf16):
            logits, _ = model(**model_inputs(b))
        s, n = masked_nll(logits.float(), b["target"], b["mask"])
        loss = s / n
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        now = time.monotonic()
        state.seconds += now - t_last
        t_last = now
        state.step += 1
        value = float(loss.detach())
        running = value if running is None else 0.98 * running + 0.02 * value
        bar.update(1, loss=running, lr=lr)
        done = state.step >= cfg.max_steps or state.seconds >= budget
        if state.step % cfg.eval_every == 0 or done:
            with autocast(device, cfg.bf16):
                valid = evaluate_bank(model, valid_bank, limit=cfg.valid_windows, device=device)
            state.epoch = int(state.step * cfg.batch * cfg.seq_len // max(1, train_bank.total_steps))
            losses.append(step=state.step, epoch=state.epoch, seconds=state.seconds, train_loss=running,
                          valid_loss=valid, lr=lr)
            losses.plot(title=f"melody LSTM {model_cfg.layers}x{model_cfg.hidden}")
            if not progress:
                log(f"step {state.step} ({state.seconds / 60:.1f} min): train {running:.4f} valid {valid:.4f} "
                    f"nats/step, lr {lr:.2e}")
            state.numpy_rng = rng.bit_generator.state
            if valid < state.best_valid:
                state.best_valid = valid
                save_checkpoint(run / "best", model.state_dict(), _meta(model_cfg, cfg, splits, device, state, valid))
            save_training_checkpoint(run / "last", model, opt, _meta(model_cfg, cfg, splits, device, state, valid), state)
            t_last = time.monotonic()  # do not bill evaluation and saving to the budget
    bar.close()
    log(f"done: step {state.step}, {state.seconds / 60:.1f} min, best valid {state.best_valid:.4f} nats/step")
    return run / "best.json"


def export(best: str | Path, out: str | Path, metrics: dict | None = None) -> Path:
    """Copy a run's best weights to the shipped checkpoint ``out`` (e.g. ``models/lstm``)."""
    meta, tensors = model_tensors(best, kind=KIND, encoding=asdict(EncodingInfo()))
    meta.extra = {}
    if metrics:
        meta.metrics = {**meta.metrics, **metrics}
    return save_checkpoint(out, tensors, meta)


def build_model(meta: CheckpointMeta, tensors: dict, name: str = "checkpoint") -> MelodyLSTM:
    """A :class:`MelodyLSTM` in eval mode from a checkpoint's config and weights."""
    from musicapp.ml.checkpoint import build_checked, config_from_dict

    return build_checked(MelodyLSTM, config_from_dict(LSTMConfig, meta.config, name), tensors, name).eval()

