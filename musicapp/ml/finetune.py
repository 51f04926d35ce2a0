"""Fine-tuning the melody models on the user's own melodies ("learn my style").

Owns :class:`FinetuneConfig` and :func:`finetune`: start from a base checkpoint (shipped or
the user's; a melody LSTM or a melody VAE, see :mod:`musicapp.ml.finetune_tasks`), train on windows of the user's melodies with transposition augmentation (+-
``max_shift`` semitones), mixed with windows of the original corpus (when its cache exists) so
the model keeps what it knew, measure the held-out user melodies every ``eval_every`` steps,
keep the best weights, stop early after ``patience`` evaluations without improvement, on the
time budget or on cancel. The run folder holds ``last.*`` (resume point: a killed run
continues where it stopped), ``best.*`` and ``loss.csv``; the best weights are installed
into the user's model folder atomically (the previous model of that name, and every shipped
model, stay intact until the new one is complete).

Progress goes to a ``report(event: dict)`` callback: ``data``, ``base``, ``step``, ``eval``,
``done`` events (JSON-able; the editor's child process prints them one per line).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from musicapp.core.errors import MusicappError
from musicapp.ml import corpus
from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
from musicapp.ml.dataset import EncodedTune
from musicapp.ml.encoding import EncodedMelody, EncodingInfo, encode_tune
from musicapp.ml.lstm_train import lr_at
from musicapp.ml.training import (LossLog, TrainState, load_training_checkpoint, model_tensors, numpy_rng,
                                  save_training_checkpoint)
from musicapp.ml.user_melodies import UserData, split_user_melodies

Report = Callable[[dict], None]
Cancel = Callable[[], bool]


class FinetuneError(MusicappError):
    """A fine-tune could not start or could not save its result."""


@dataclass(frozen=True)
class FinetuneConfig:
    """How to fine-tune. Minutes of wall clock (evaluations included); lengths in 16th steps."""

    minutes: float = 5.0
    max_steps: int = 1_000_000
    batch: int = 16
    seq_len: int = 256
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup: int = 10
    weight_decay: float = 0.0
    clip: float = 1.0
    max_shift: int = 5  # transposition augmentation, +- semitones
    key_dropout: float = 0.15
    corpus_share: float = 0.25  # share of each batch drawn from the original corpus
    corpus_tunes: int = 1500  # corpus train tunes sampled for the mix
    eval_every: int = 20
    patience: int = 8  # evaluations without a better validation loss before stopping
    threads: int = 1
    seed: int = 0
    resume: bool = True


@dataclass(frozen=True)
class FinetuneResult:
    """What a fine-tune produced: the installed checkpoint and held-out figures (nats/note)."""

    model: Path
    base_nats_per_note: float
    nats_per_note: float
    steps: int
    seconds: float
    stopped: str  # "budget", "early", "steps", "cancelled"
    corpus_mix: bool


def corpus_mix_tunes(count: int, seed: int) -> list[EncodedTune]:
    """``count`` train-split tunes of the prepared corpus cache (empty if it is missing)."""
    present = tuple(c for c in corpus.TRAIN_CORPORA if (corpus.cache_dir() / f"{c}.npz").exists())
    if not present or count <= 0:
        return []
    train = corpus.load_all(present)["train"]
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(train), size=min(count, len(train)), replace=False))
    out = []
    for i in pick:
        t = train[i]
        m = encode_tune(t)
        if len(m) > 4096:
            m = EncodedMelody(m.tokens[:4096], m.pos[:4096], m.bar_len[:4096])
        if len(m) >= 2:
            key = t.key_tonic if 0 <= t.key_tonic <= 11 else 12
            out.append(EncodedTune(t.name, m, key, t.key_mode if t.key_mode in (0, 1) else 2))
    return out


def _meta(base_meta: CheckpointMeta, info: dict, state: TrainState, metrics: dict) -> CheckpointMeta:
    training = {"finetune": {**info, "seconds": round(state.seconds, 1)}, "optimizer_steps": state.step,
                "base_training": base_meta.training.get("corpora", base_meta.training.get("data",
                                                        base_meta.training.get("finetune")))}
    return CheckpointMeta(kind=base_meta.kind, config=dict(base_meta.config), encoding=asdict(EncodingInfo()),
                          training=training, metrics=dict(metrics))


def _save(fn, *args):
    try:
        return fn(*args)
    except OSError as err:
        raise FinetuneError(f"cannot save the fine-tuned model ({err.strerror or err}); "
                            "the previous models are unchanged") from None


def finetune(data: UserData, base: Path, out: Path, run: Path, cfg: FinetuneConfig = FinetuneConfig(),
             report: Report = lambda e: None, cancel: Cancel = lambda: False,
             log: Callable[[str], None] = lambda s: None) -> FinetuneResult:
    """Fine-tune checkpoint ``base`` on ``data``; install the best weights as ``out`` (JSON path).

    ``run`` is the resume folder. Raises :class:`UserDataError` when there is too little data
    and :class:`FinetuneError` when the result cannot be written.
    """
    from musicapp.ml.checkpoint import read_meta
    from musicapp.ml.finetune_tasks import TASKS
    from musicapp.ml.training import limit_threads

    limit_threads(cfg.threads)
    train_m, valid_m = split_user_melodies(data.melodies)
    train_t = [m.tune for m in train_m]
    valid_t = [m.tune for m in valid_m]
    kind = read_meta(base)[0].kind
    if kind not in TASKS:
        raise FinetuneError(f"{base.stem} is a {kind!r} model; fine-tuning supports {', '.join(TASKS)} models")
    base_meta, base_tensors = model_tensors(base, kind=kind, encoding=asdict(EncodingInfo()))
    torch.manual_seed(cfg.seed)
    mix = corpus_mix_tunes(cfg.corpus_tunes, cfg.seed) if cfg.corpus_share > 0 else []
    task = TASKS[kind](base_meta, base_tensors, train_t, valid_t, mix, cfg)
    model = task.model
    if not mix and cfg.corpus_share > 0:
        log("the melody corpus cache is not prepared (`musicapp prepare-data`): fine-tuning without the corpus "
            "mix, so the model may forget more of what it knew")
    info = {"base": base.stem, "kind": kind, "files": len(data.melodies) + len(data.skipped),
            "melodies": len(data.melodies), "train_melodies": len(train_t), "valid_melodies": len(valid_t),
            "notes": data.notes, "minutes": round(data.minutes, 1), "skipped": len(data.skipped),
            "corpus_mix": bool(mix), "max_shift": cfg.max_shift, "config": asdict(cfg)}
    report({"event": "data", **{k: v for k, v in info.items() if k != "config"}})
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state, extra = TrainState(), {}
    last = run / "last.json"
    if cfg.resume and last.exists():
        try:
            meta, st = load_training_checkpoint(last, model, opt, kind=kind, encoding=asdict(EncodingInfo()))
            extra = meta.extra.get("finetune", {})
            if extra.get("base") != base.stem or extra.get("finished"):
                raise FinetuneError("another run")
            state = st
            log(f"resumed from {last} at step {state.step} ({state.seconds / 60:.1f} min)")
        except MusicappError:
            model = task.new_model()
            opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
            state, extra = TrainState(), {}
    if not extra:
        (run / "loss.csv").unlink(missing_ok=True)
    run.mkdir(parents=True, exist_ok=True)
    losses = LossLog(run / "loss.csv", run / "loss.png")
    losses.truncate_after(state.step)
    if "base_nats_per_note" not in extra:
        base_valid = task.valid_loss()
        extra = {"base": base.stem, "base_nats_per_note": task.nats_per_note(), "base_valid": base_valid,
                 "since_best": 0}
        state.best_valid = base_valid
        losses.append(step=0, epoch=0, seconds=0.0, train_loss=base_valid, valid_loss=base_valid, lr=0.0)
        _save(save_checkpoint, run / "best", model.state_dict(), _meta(base_meta, info, state, {}))
    report({"event": "base", "valid_nats_per_note": extra["base_nats_per_note"], "valid_loss": extra["base_valid"]})
    for r in losses.rows:
        report({"event": "eval", "step": int(r["step"]), "seconds": r["seconds"], "train_loss": r["train_loss"],
                "valid_loss": r["valid_loss"], "best": False})
    rng = numpy_rng(state.numpy_rng, cfg.seed)
    budget = cfg.minutes * 60.0
    running, t_last, t_report = None, time.monotonic(), 0.0
    stopped = "budget"

    def save_last() -> None:
        state.numpy_rng = rng.bit_generator.state
        meta = _meta(base_meta, info, state, {})
        meta.extra = {"finetune": extra}
        _save(save_training_checkpoint, run / "last", model, opt, meta, state)

    def evaluate(train_loss: float, lr: float) -> None:
        valid = task.valid_loss()
        better = valid < state.best_valid
        extra["since_best"] = 0 if better else extra["since_best"] + 1
        losses.append(step=state.step, epoch=0, seconds=state.seconds, train_loss=train_loss, valid_loss=valid, lr=lr)
        if better:
            state.best_valid = valid
            _save(save_checkpoint, run / "best", model.state_dict(), _meta(base_meta, info, state, {}))
        save_last()
        report({"event": "eval", "step": state.step, "seconds": state.seconds, "train_loss": train_loss,
                "valid_loss": valid, "best": better})

    lr = cfg.lr
    while True:
        if cancel():
            stopped = "cancelled"
            break
        if state.step >= cfg.max_steps:
            stopped = "steps"
            break
        if state.seconds >= budget:
            break
        if extra["since_best"] >= cfg.patience:
            stopped = "early"
            break
        lr = lr_at(cfg, state.step, state.seconds)
        for g in opt.param_groups:
            g["lr"] = lr
        loss, value = task.batch_loss(rng)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        state.step += 1
        running = value if running is None else 0.9 * running + 0.1 * value
        now = time.monotonic()
        state.seconds += now - t_last
        t_last = now
        if now - t_report > 0.5:
            t_report = now
            report({"event": "step", "step": state.step, "seconds": state.seconds, "budget": budget,
                    "loss": running, "lr": lr})
        if state.step % cfg.eval_every == 0:
            evaluate(running, lr)
            now = time.monotonic()
            state.seconds += now - t_last  # evaluation and saving count against the budget
            t_last = now
    if running is not None and state.step % cfg.eval_every:
        evaluate(running, lr)  # the last steps since the previous evaluation count too
    return _finish(task, base_meta, info, state, extra, run, out, stopped, report, save_last)


def _finish(task, base_meta, info, state, extra, run: Path, out: Path, stopped: str,
            report: Report, save_last) -> FinetuneResult:
    """Measure the best weights on the held-out melodies and install them as ``out``."""
    import musicapp.ml.user_models as user_models

    best_meta, best_tensors = model_tensors(run / "best", kind=task.kind, encoding=asdict(EncodingInfo()))
    best = task.build(best_meta, best_tensors)
    tuned = task.nats_per_note(best)
    metrics = {"user_valid_base_nats_per_note": round(extra["base_nats_per_note"], 5),
               "user_valid_nats_per_note": round(tuned, 5), "user_valid_nats_per_step": round(state.best_valid, 5)}
    meta = _meta(base_meta, {**info, "stopped": stopped}, state, metrics)
    _save(user_models.install_checkpoint, best.state_dict(), meta, out)
    extra["finished"] = stopped != "cancelled"
    if extra["finished"]:
        save_last()
    report({"event": "done", "model": str(out), "name": out.stem, "base_nats_per_note": extra["base_nats_per_note"],
            "nats_per_note": tuned, "steps": state.step, "seconds": state.seconds, "stopped": stopped,
            "corpus_mix": info["corpus_mix"], "melodies": info["melodies"], "notes": info["notes"],
            "minutes": info["minutes"]})
    return FinetuneResult(out, extra["base_nats_per_note"], tuned, state.step, state.seconds, stopped,
                          info["corpus_mix"])
