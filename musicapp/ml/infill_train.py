"""Training the infill model: masked-region windows, a time-budgeted resumable loop, export.

Owns :class:`InfillTrainConfig`, :class:`RegionBank` (random and fixed prefix/region/suffix
windows drawn from a :class:`musicapp.ml.dataset.TuneBank`) and :func:`train`. The model
starts as the shipped melody LSTM (:meth:`InfillLSTM.from_lstm`), so training only has to
teach it to use the suffix; the loop, learning-rate schedule (warm-up, cosine over the
wall-time budget), ``loss.csv``/``loss.png`` and ``last``/``best`` checkpoints are those of
:mod:`musicapp.ml.lstm_train`.

A window is ``prefix + region`` (up to ``max_prefix`` + ``max_region`` 16th steps) with the
region's loss at weight 1 and the prefix's at ``prefix_weight`` (it is read as the plain
LSTM reads it, and keeping it a good language model keeps the shared weights sane); the
suffix (up to ``suffix_steps`` steps after the region) only enters through the suffix GRU
and the lookahead inputs (``gru_steps`` / ``suffix_steps`` of it). Regions are 1-8 bars on bar lines, or (``unaligned``) any span
of 4-128 steps; transposition and key dropout as for the LSTM.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from musicapp.ml import corpus
from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
from musicapp.ml.dataset import UNKNOWN_KEY, UNKNOWN_MODE, TuneBank, encoded_splits
from musicapp.ml.encoding import BOS, NUM_CLASSES, PITCH_OFFSET, EncodingInfo
from musicapp.ml.infill_model import (KIND, InfillConfig, InfillLSTM, lookahead_inputs, remaining_index,
                                      with_lookahead)
from musicapp.ml.lstm import NO_TOKEN
from musicapp.ml.lstm_train import autocast, lr_at, say_if_float32
from musicapp.ml.training import (LossLog, Progress, TrainState, hardware_description, limit_threads,
                                  load_training_checkpoint, model_tensors, numpy_rng, pick_device,
                                  save_training_checkpoint)

REGION_BARS = np.array([1, 2, 2, 3, 4, 4, 4, 5, 6, 8])


@dataclass(frozen=True)
class InfillTrainConfig:
    """How to train. Minutes of wall clock; lengths in 16th steps. ``init`` = LSTM checkpoint to start from."""

    run_dir: str = "runs/infill"
    init: str | None = None  # None: the shipped models/lstm.json; an infill checkpoint continues it
    minutes: float = 33.0
    max_steps: int = 1_000_000
    batch: int = 32
    max_prefix: int = 96
    max_region: int = 128
    unaligned: float = 0.2
    prefix_weight: float = 0.25
    lr: float = 1.5e-3
    min_lr_ratio: float = 0.05
    warmup: int = 100
    weight_decay: float = 1e-5
    clip: float = 1.0
    max_shift: int = 2
    key_dropout: float = 0.15
    eval_every: int = 200
    valid_windows: int = 128
    seed: int = 0
    threads: int = 1
    device: str | None = None
    resume: bool = True
    bf16: bool = True
    lookahead: tuple[int, ...] | None = None  # None: the init's (or InfillConfig's) distances, in bars
    suffix_steps: int | None = None  # None: likewise; 16th steps the lookahead may read after the region


@dataclass(frozen=True)
class Region:
    """One training window: tune ``tune``, window start ``w``, region ``a..b-1``, suffix ``b..c-1`` (tune steps)."""

    tune: int
    w: int
    a: int
    b: int
    c: int


class RegionBank:
    """Prefix/region/suffix windows of one split; arrays come from a :class:`TuneBank`."""

    def __init__(self, bank: TuneBank, config: InfillConfig, train_cfg: InfillTrainConfig) -> None:
        self.bank, self.config, self.cfg = bank, config, train_cfg
        self.length = train_cfg.max_prefix + train_cfg.max_region

    def draw(self, rng: np.random.Generator) -> Region:
        """A random window (tunes drawn proportionally to length)."""
        bank, cfg = self.bank, self.cfg
        p = bank.lens / bank.lens.sum()
        while True:
            i = int(rng.choice(len(bank.lens), p=p))
            n = int(bank.lens[i])
            if n >= 8:
                break
        s0 = int(bank.starts[i])
        pos = bank.pos[s0:s0 + n]
        if rng.random() < cfg.unaligned:
            ln = int(rng.integers(4, min(cfg.max_region, n - 1) + 1))
            a = int(rng.integers(0, n - ln))
            b = a + ln
        else:
            lines = np.flatnonzero(pos == 0)
            lines = lines[lines < n - 1]
            if len(lines) == 0:
                lines = np.array([0])
            a = int(rng.choice(lines))
            bars = int(rng.choice(REGION_BARS))
            later = np.flatnonzero(pos[a + 1:] == 0) + a + 1
            b = int(later[bars - 1]) if len(later) >= bars else n - 1
            b = min(b, a + cfg.max_region, n - 1)
            if b <= a:
                b = a + 1
        pre = int(rng.integers(8, cfg.max_prefix + 1)) if rng.random() > 0.05 else 0
        w = max(0, a - pre)
        c = min(n, b + self.config.suffix_steps)
        return Region(i, w, a, b, c)

    def fixed(self, count: int, seed: int = 1234) -> list[Region]:
        """``count`` windows drawn once with their own seed (the validation set)."""
        rng = np.random.default_rng(seed)
        return [self.draw(rng) for _ in range(count)]

    def batch(self, regions: list[Region], rng: np.random.Generator | None = None) -> dict[str, torch.Tensor]:
        """Model inputs, targets and weights for ``regions`` (augmented when ``rng`` is given)."""
        bank, c, cfg = self.bank, self.config, self.cfg
        B, L, S = len(regions), self.length, c.gru_steps
        K, J = len(c.lookback), len(c.lookahead)
        prev = np.full((B, L), BOS, np.int64)
        target = np.zeros((B, L), np.int64)
        pos = np.zeros((B, L), np.int64)
        bar_len = np.full((B, L), 16, np.int64)
        lb = np.full((B, L, K + J), NO_TOKEN, np.int64)
        match = np.zeros((B, L, K + J), np.int64)
        remain = np.zeros((B, L), np.int64)
        weight = np.zeros((B, L), np.float32)
        region_mask = np.zeros((B, L), np.float32)
        s_tok = np.full((B, S), BOS, np.int64)
        s_pos = np.zeros((B, S), np.int64)
        s_len = np.zeros(B, np.int64)
        key = np.zeros(B, np.int64)
        mode = np.zeros(B, np.int64)
        for r, g in enumerate(regions):
            s0 = int(bank.starts[g.tune])
            n = int(bank.lens[g.tune])
            toks = bank.tokens[s0:s0 + n]
            blen = bank.bar_len[s0:s0 + n]
            shift = 0
            if rng is not None and cfg.max_shift:
                lo = max(-cfg.max_shift, -int(bank.lo[g.tune]))
                hi = min(cfg.max_shift, 127 - int(bank.hi[g.tune]))
                shift = int(rng.integers(lo, hi + 1))
            sh = lambda a: np.where((a >= PITCH_OFFSET) & (a < NUM_CLASSES), a + shift, a)  # noqa: E731
            ln = g.b - g.w
            sl = slice(s0 + g.w, s0 + g.b)
            prev[r, :ln] = sh(bank.prev[sl])
            target[r, :ln] = sh(bank.tokens[sl])
            pos[r, :ln] = bank.pos[sl]
            bar_len[r, :ln] = bank.bar_len[sl]
            if bank.lb is not None:
                lb[r, :ln, :K] = sh(bank.lb[sl])
                match[r, :ln, :K] = bank.match[sl]
            la, la_m = lookahead_inputs(toks, blen, c.lookahead, (g.a, g.b), g.c)
            ra = g.a - g.w
            lb[r, ra:ln, K:] = sh(la)
            match[r, ra:ln, K:] = la_m
            remain[r, ra:ln] = remaining_index(g.b - np.arange(g.a, g.b), c.max_remaining)
            weight[r, :ra] = cfg.prefix_weight
            weight[r, ra:ln] = 1.0
            region_mask[r, ra:ln] = 1.0
            suffix = toks[g.b:min(g.c, g.b + S)][::-1]
            s_len[r] = len(suffix)
            s_tok[r, :len(suffix)] = sh(suffix)
            s_pos[r, :len(suffix)] = bank.pos[s0 + g.b:s0 + g.b + len(suffix)][::-1]
            k = int(bank.key[g.tune])
            key[r] = (k + shift) % 12 if k < 12 else UNKNOWN_KEY
            mode[r] = bank.mode[g.tune]
            if rng is not None and rng.random() < cfg.key_dropout:
                key[r], mode[r] = UNKNOWN_KEY, UNKNOWN_MODE
        t = lambda a: torch.from_numpy(a)  # noqa: E731
        return {"prev": t(prev), "pos": t(pos), "bar_len": t(bar_len), "key": t(np.repeat(key[:, None], L, 1)),
                "mode": t(np.repeat(mode[:, None], L, 1)), "lb": t(lb), "match": t(match), "remain": t(remain),
                "target": t(target), "weight": t(weight), "region": t(region_mask), "s_tok": t(s_tok),
                "s_pos": t(s_pos), "s_len": t(s_len), "s_key": t(key)}


def model_loss(model: InfillLSTM, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-step NLL ``(B, L)`` (nats) and the logits of one batch from :meth:`RegionBank.batch`."""
    summary = model.summarise_suffix(b["s_tok"], b["s_pos"], b["s_key"], b["s_len"])
    logits, _ = model(b["prev"], b["pos"], b["bar_len"], b["key"], b["mode"], lb=b["lb"], match=b["match"],
                      remain=b["remain"], summary=summary)
    nll = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), b["target"].reshape(-1),
                                            reduction="none").reshape(b["target"].shape)
    return nll, logits


@torch.no_grad()
def evaluate_regions(model: InfillLSTM, bank: RegionBank, regions: list[Region], batch: int = 32) -> dict[str, float]:
    """Region nats per step and per note over fixed windows."""
    was = model.training
    model.eval()
    nats = steps = notes = 0.0
    for i in range(0, len(regions), batch):
        b = bank.batch(regions[i:i + batch])
        nll, _ = model_loss(model, b)
        m = b["region"]
        nats += float((nll * m).sum())
        steps += float(m.sum())
        tg = b["target"]
        notes += float((((tg >= PITCH_OFFSET) & (tg < NUM_CLASSES)).float() * m).sum())
    model.train(was)
    return {"nats_per_step": nats / max(steps, 1.0), "nats_per_note": nats / max(notes, 1.0)}


def _meta(config: InfillConfig, cfg: InfillTrainConfig, splits: dict, device, state: TrainState,
          valid: dict | None) -> CheckpointMeta:
    training = {
        "corpora": list(corpus.TRAIN_CORPORA),
        "split": "content-hash split 90/5/5 (musicapp.ml.corpus.split_of), duplicates removed",
        "tunes": {k: len(v) for k, v in splits.items()},
        "init": cfg.init or "models/lstm.json",
        "optimizer_steps": state.step,
        "seconds": round(state.seconds, 1),
        "hardware": hardware_description(device),
        "train_config": asdict(cfg),
    }
    metrics = {} if valid is None else {f"valid_region_{k}": round(v, 5) for k, v in valid.items()}
    return CheckpointMeta(kind=KIND, config=config.to_dict(), encoding=asdict(EncodingInfo()), training=training,
                          metrics=metrics)


def initial_model(cfg: InfillTrainConfig, config: InfillConfig) -> InfillLSTM:
    """The infill model to train from ``cfg.init``.

    An LSTM checkpoint (the shipped one by default) gives :meth:`InfillLSTM.from_lstm`; an
    infill checkpoint (e.g. the shipped ``models/infill``) is continued as it is, its own
    config winning over ``config``, except that ``cfg.lookahead``/``cfg.suffix_steps`` widen
    it (:meth:`InfillLSTM.widen`: more lookahead distances, the model unchanged until trained).
    """
    from musicapp.ml.checkpoint import read_meta
    from musicapp.ml.generate import MelodyGenerator

    if cfg.init is not None and read_meta(cfg.init)[0].kind == KIND:
        meta, tensors = model_tensors(cfg.init, kind=KIND, encoding=asdict(EncodingInfo()))
        model = build_model(meta, tensors, name=str(cfg.init)).train()
        if cfg.lookahead is not None or cfg.suffix_steps is not None:
            model = model.widen(cfg.lookahead or model.infill_config.lookahead, cfg.suffix_steps)
        return model
    if cfg.lookahead is not None or cfg.suffix_steps is not None:
        config = replace(config, lookahead=cfg.lookahead or config.lookahead,
                         suffix_steps=cfg.suffix_steps or config.suffix_steps)
    gen = MelodyGenerator(cfg.init)
    gen.load()
    return InfillLSTM.from_lstm(gen._ready()[0].cpu(), config)


def train(cfg: InfillTrainConfig, config: InfillConfig = InfillConfig(), splits: dict | None = None,
          log: Callable[[str], None] = print, progress: bool = True) -> Path:
    """Train (resuming from ``run_dir/last`` when present); returns the best checkpoint path."""
    limit_threads(cfg.threads)
    device = pick_device(cfg.device)
    run = Path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    splits = splits if splits is not None else encoded_splits()
    torch.manual_seed(cfg.seed)
    model = initial_model(cfg, config).to(device)
    config = model.infill_config  # an infill checkpoint brings its own
    train_bank = RegionBank(TuneBank(splits["train"], config.lookback), config, cfg)
    valid_bank = RegionBank(TuneBank(splits["valid"] or splits["train"], config.lookback), config, cfg)
    valid_regions = valid_bank.fixed(cfg.valid_windows)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state = TrainState()
    last = run / "last.json"
    if cfg.resume and last.exists():
        _, state = load_training_checkpoint(last, model, opt, kind=KIND, encoding=asdict(EncodingInfo()))
        log(f"resumed from {last} at step {state.step} ({state.seconds / 60:.1f} min)")
    else:
        start = evaluate_regions(model, valid_bank, valid_regions)
        what = cfg.init or "the shipped LSTM"
        log(f"before training (= {what}): valid region {start['nats_per_step']:.4f} nats/step, "
            f"{start['nats_per_note']:.4f} nats/note")
    rng = numpy_rng(state.numpy_rng, cfg.seed)
    losses = LossLog(run / "loss.csv", run / "loss.png")
    losses.truncate_after(state.step)
    say_if_float32(device, cfg.bf16, log)
    log(f"training {model.param_count():,} parameters on {device}, budget {cfg.minutes} min")
    budget = cfg.minutes * 60.0
    bar = Progress(total=cfg.max_steps if cfg.max_steps < 1_000_000 else int(budget), initial=state.step,
                   desc="infill", enabled=progress)
    model.train()
    running, t_last = None, time.monotonic()
    while state.step < cfg.max_steps and state.seconds < budget:
        lr = lr_at(cfg, state.step, state.seconds)  # type: ignore[arg-type]  (same fields as LSTMTrainConfig)
        for grp in opt.param_groups:
            grp["lr"] = lr
        b = {k: v.to(device) for k, v in train_bank.batch([train_bank.draw(rng) for _ in range(cfg.batch)], rng).items()}
        with autocast(device, cfg.bf16):
            nll, _ = model_loss(model, b)
        loss = (nll * b["weight"]).sum() / b["weight"].sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        now = time.monotonic()
        state.seconds += now - t_last
        t_last = now
        state.step += 1
        region_loss = float(((nll * b["region"]).sum() / b["region"].sum()).detach())
        running = region_loss if running is None else 0.98 * running + 0.02 * region_loss
        bar.update(1, loss=running, lr=lr)
        done = state.step >= cfg.max_steps or state.seconds >= budget
        if state.step % cfg.eval_every == 0 or done:
            valid = evaluate_regions(model, valid_bank, valid_regions)
            losses.append(step=state.step, epoch=0, seconds=state.seconds, train_loss=running,
                          valid_loss=valid["nats_per_step"], lr=lr)
            losses.plot(title="infill LSTM (region nats/step)")
            if not progress:
                log(f"step {state.step} ({state.seconds / 60:.1f} min): train {running:.4f} valid "
                    f"{valid['nats_per_step']:.4f} nats/step {valid['nats_per_note']:.4f} nats/note, lr {lr:.2e}")
            state.numpy_rng = rng.bit_generator.state
            if valid["nats_per_step"] < state.best_valid:
                state.best_valid = valid["nats_per_step"]
                save_checkpoint(run / "best", model.state_dict(), _meta(config, cfg, splits, device, state, valid))
            save_training_checkpoint(run / "last", model, opt, _meta(config, cfg, splits, device, state, valid), state)
            t_last = time.monotonic()
    bar.close()
    log(f"done: step {state.step}, {state.seconds / 60:.1f} min, best valid {state.best_valid:.4f} region nats/step")
    return run / "best.json"


def export(best: str | Path, out: str | Path) -> Path:
    """Copy a run's best weights to the shipped checkpoint ``out`` (e.g. ``models/infill``)."""
    meta, tensors = model_tensors(best, kind=KIND, encoding=asdict(EncodingInfo()))
    meta.extra = {}
    return save_checkpoint(out, tensors, meta)


def build_model(meta: CheckpointMeta, tensors: dict, name: str = "checkpoint") -> InfillLSTM:
    """An :class:`InfillLSTM` in eval mode from a checkpoint's config and weights."""
    from musicapp.ml.checkpoint import build_checked, config_from_dict

    return build_checked(InfillLSTM, config_from_dict(InfillConfig, meta.config, name), tensors, name).eval()


def run(args) -> int:
    """``musicapp train --model infill``: train, then export to ``--out`` (models/infill)."""
    from musicapp.core.errors import MusicappError

    cfg = InfillTrainConfig(run_dir=args.run_dir or "runs/infill")
    changes = {k: v for k, v in (("init", args.init),
                                 ("minutes", args.minutes), ("max_steps", args.steps), ("batch", args.batch_size),
                                 ("lr", args.lr), ("seed", args.seed), ("device", args.device),
                                 ("threads", args.threads), ("max_shift", args.max_shift),
                                 ("lookahead", args.lookahead), ("suffix_steps", args.suffix_steps)) if v is not None}
    if args.no_resume:
        changes["resume"] = False
    cfg = replace(cfg, **changes)
    if cfg.lookahead is not None or cfg.suffix_steps is not None:
        from musicapp.ml.checkpoint import config_from_dict, read_meta

        try:  # a bad --lookahead / --suffix-steps is a one-line message before any work
            meta = read_meta(cfg.init)[0] if cfg.init is not None else None
            if meta is not None and meta.kind == KIND:  # widening a trained model: the rule of InfillLSTM.widen
                with_lookahead(config_from_dict(InfillConfig, meta.config, str(cfg.init)), cfg.lookahead,
                               cfg.suffix_steps)
            else:
                InfillConfig(lookahead=cfg.lookahead or InfillConfig.lookahead,
                             suffix_steps=InfillConfig.suffix_steps if cfg.suffix_steps is None else cfg.suffix_steps)
        except ValueError as err:
            raise MusicappError(str(err)) from None
    best = train(cfg, progress=not args.quiet)
    keep = best if args.keep == "best" else best.with_name("last.json")
    out = export(keep, args.out or "models/infill")
    print(f"wrote {out}")
    return 0
