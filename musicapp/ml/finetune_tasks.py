"""What a fine-tune needs to know about each model kind: the melody LSTM, VAE and infill model.

Owns :class:`LstmTask`, :class:`VaeTask` and :class:`InfillTask`, the model-specific half of
:func:`musicapp.ml.finetune.finetune` (which owns the loop, early stopping, resume and
install). A task builds the model from the base checkpoint, draws a training batch (user
windows with transposition augmentation, plus corpus windows when a mix is given) and returns
its loss, and measures held-out user melodies: validation loss in nats per 16th step (what
early stopping watches) and nats per note (what the user is shown; for the VAE the negative
ELBO with the posterior mean).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Sequence

import numpy as np
import torch

from musicapp.ml.checkpoint import CheckpointMeta, config_from_dict, load_state
from musicapp.ml.dataset import Batch, EncodedTune, TuneBank, model_inputs


class LstmTask:
    """Fine-tuning the melody LSTM on windows of whole melodies (``seq_len`` 16th steps)."""

    kind = "lstm"

    def __init__(self, meta: CheckpointMeta, tensors: dict, train: Sequence[EncodedTune],
                 valid: Sequence[EncodedTune], mix: Sequence[EncodedTune], cfg) -> None:
        from musicapp.ml.lstm_train import build_model

        self.meta, self.tensors, self.cfg = meta, tensors, cfg
        self._build = lambda: build_model(meta, tensors, name="base").train()
        self.model = self.new_model()
        lookback = self.model.config.lookback
        self.valid_tunes = list(valid)
        self.user = TuneBank(train, lookback)
        self.valid = TuneBank(valid, lookback)
        self.corpus = TuneBank(mix, lookback) if mix else None
        self.n_corpus = int(round(cfg.batch * cfg.corpus_share)) if self.corpus is not None else 0

    def new_model(self) -> torch.nn.Module:
        self.model = self._build()
        return self.model

    def batch_loss(self, rng: np.random.Generator) -> tuple[torch.Tensor, float]:
        """Mean NLL per step of one mixed batch: the tensor to minimise and its value (nats/step)."""
        from musicapp.ml.lstm_train import masked_nll

        cfg = self.cfg
        b = self.user.sample(rng, cfg.batch - self.n_corpus, cfg.seq_len, cfg.max_shift, cfg.key_dropout)
        if self.n_corpus:
            b = _concat(b, self.corpus.sample(rng, self.n_corpus, cfg.seq_len, 2, cfg.key_dropout))
        bt = b.to_torch()
        logits, _ = self.model(**model_inputs(bt))
        s, n = masked_nll(logits.float(), bt["target"], bt["mask"])
        loss = s / n
        return loss, float(loss.detach())

    def valid_loss(self) -> float:
        from musicapp.ml.lstm_train import evaluate_bank

        return evaluate_bank(self.model, self.valid)

    def nats_per_note(self, model: torch.nn.Module | None = None) -> float:
        """Nats per note of ``model`` (default: the one training) reading the held-out melodies whole."""
        from musicapp.ml.evaluate import lstm_figures

        model = model or self.model
        was = model.training
        model.eval()
        value = lstm_figures(model, self.valid_tunes)["nats_per_note"]
        model.train(was)
        return float(value)

    def build(self, meta: CheckpointMeta, tensors: dict) -> torch.nn.Module:
        from musicapp.ml.lstm_train import build_model

        return build_model(meta, tensors, name="best")


def _concat(a: Batch, b: Batch) -> Batch:
    return Batch(**{f.name: None if getattr(a, f.name) is None else
                    np.concatenate([getattr(a, f.name), getattr(b, f.name)]) for f in fields(Batch)})


def melody_windows(tunes: Sequence[EncodedTune], max_steps: int, overlap: bool):
    """VAE windows (bar-aligned, ``<= max_steps`` steps) of encoded melodies."""
    from musicapp.ml import encoding as enc
    from musicapp.ml.vae_data import pad_windows, tune_windows

    rows_t, rows_p, rows_b = [], [], []
    for t in tunes:
        m = t.melody
        for a, b in tune_windows(m, max_steps, overlap):
            tok = m.tokens[a:b]
            if int((tok >= enc.PITCH_OFFSET).sum()) >= 2:
                rows_t.append(tok)
                rows_p.append(m.pos[a:b])
                rows_b.append(m.bar_len[a:b])
    return pad_windows(rows_t, rows_p, rows_b, max_steps)


class VaeTask:
    """Fine-tuning the melody VAE on bar-aligned windows of the user's melodies.

    The KL weight stays at the base model's final ``beta_max`` with its free bits (from the
    base checkpoint's training config, else the trainer's defaults).
    """

    kind = "vae"

    def __init__(self, meta: CheckpointMeta, tensors: dict, train: Sequence[EncodedTune],
                 valid: Sequence[EncodedTune], mix: Sequence[EncodedTune], cfg) -> None:
        from musicapp.ml.vae import LossWeights, MelodyVae, VaeConfig

        self.meta, self.tensors, self.cfg = meta, tensors, cfg
        self.model_cfg = config_from_dict(VaeConfig, meta.config, "base")
        self._cls = MelodyVae
        tc = meta.training.get("config", {}) if isinstance(meta.training.get("config"), dict) else {}
        self.weights = LossWeights(float(tc.get("beta_max", 0.1)), float(tc.get("free_nats", 80.0)))
        self.model = self.new_model()
        steps = self.model_cfg.max_steps
        self.user = melody_windows(train, steps, overlap=True)
        self.valid = melody_windows(valid, steps, overlap=False)
        self.corpus = melody_windows(mix, steps, overlap=True) if mix else None
        self.n_corpus = int(round(cfg.batch * cfg.corpus_share)) if self.corpus is not None else 0
        if len(self.user) == 0 or len(self.valid) == 0:
            from musicapp.ml.user_melodies import UserDataError

            raise UserDataError("the melodies give no VAE windows (each needs bars with at least 2 notes)")

    def new_model(self) -> torch.nn.Module:
        model = self._cls(self.model_cfg)
        load_state(model, self.tensors, name="base")
        self.model = model.train()
        return self.model

    def _batch(self, rng: np.random.Generator):
        from musicapp.ml.vae_data import Windows, transpose_batch

        cfg = self.cfg
        n_user = max(1, cfg.batch * 2 - self.n_corpus * 2)  # VAE windows are short: twice the LSTM batch
        parts = [self.user.subset(rng.integers(0, len(self.user), n_user))]
        if self.n_corpus:
            parts.append(self.corpus.subset(rng.integers(0, len(self.corpus), self.n_corpus * 2)))
        w = Windows(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Windows)))
        return transpose_batch(w, rng, cfg.max_shift)

    def batch_loss(self, rng: np.random.Generator) -> tuple[torch.Tensor, float]:
        """The VAE's training loss of one batch (free bits, as it was trained) and its negative
        ELBO in nats per step."""
        from musicapp.ml.vae_data import to_tensors

        batch = self._batch(rng)
        out = self.model.loss(*to_tensors(batch), self.weights)
        per_step = float((out["recon"] + out["kl"]).detach()) * len(batch) / float(out["steps"])
        return out["loss"], per_step

    def valid_loss(self) -> float:
        from musicapp.ml.vae_train import evaluate

        value = evaluate(self.model, self.valid, self.weights)["loss"]
        self.model.train()
        return value

    def nats_per_note(self, model: torch.nn.Module | None = None) -> float:
        """Negative ELBO (posterior mean) per note over the held-out windows."""
        from musicapp.ml import encoding as enc
        from musicapp.ml.vae_train import evaluate

        model = model or self.model
        per_step = evaluate(model, self.valid, self.weights)["loss"]
        model.train(model is self.model)
        w = self.valid
        real = np.arange(w.tokens.shape[1])[None, :] < w.lengths[:, None]
        notes = int(((w.tokens >= enc.PITCH_OFFSET) & real).sum())
        return per_step * float(w.lengths.sum()) / max(1, notes)

    def build(self, meta: CheckpointMeta, tensors: dict) -> torch.nn.Module:
        model = self._cls(config_from_dict(type(self.model_cfg), meta.config, "best"))
        load_state(model, tensors, name="best")
        return model.eval()


class InfillTask:
    """Fine-tuning the infill model on prefix/region/suffix windows of the user's melodies
    (drawn as its trainer draws them); losses are the region's nats per step and per note."""

    kind = "infill"

    def __init__(self, meta: CheckpointMeta, tensors: dict, train: Sequence[EncodedTune],
                 valid: Sequence[EncodedTune], mix: Sequence[EncodedTune], cfg) -> None:
        from musicapp.ml.infill_model import InfillConfig
        from musicapp.ml.infill_train import InfillTrainConfig, RegionBank

        self.meta, self.tensors, self.cfg = meta, tensors, cfg
        self.model_cfg = config_from_dict(InfillConfig, meta.config, "base")
        tcfg = InfillTrainConfig(max_shift=cfg.max_shift, key_dropout=cfg.key_dropout)
        self.model = self.new_model()
        lookback = self.model_cfg.lookback
        self.user = RegionBank(TuneBank(train, lookback), self.model_cfg, tcfg)
        self.valid = RegionBank(TuneBank(valid, lookback), self.model_cfg, tcfg)
        self.valid_regions = self.valid.fixed(64)
        self.corpus = RegionBank(TuneBank(mix, lookback), self.model_cfg, tcfg) if mix else None
        self.n_corpus = int(round(cfg.batch * cfg.corpus_share)) if self.corpus is not None else 0

    def new_model(self) -> torch.nn.Module:
        self.model = self.build(self.meta, self.tensors).train()
        return self.model

    def batch_loss(self, rng: np.random.Generator) -> tuple[torch.Tensor, float]:
        """The trainer's weighted loss of one batch and its region nats per step."""
        from musicapp.ml.infill_train import model_loss

        parts = [self.user.batch([self.user.draw(rng) for _ in range(self.cfg.batch - self.n_corpus)], rng)]
        if self.n_corpus:
            parts.append(self.corpus.batch([self.corpus.draw(rng) for _ in range(self.n_corpus)], rng))
        b = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
        nll, _ = model_loss(self.model, b)
        loss = (nll * b["weight"]).sum() / b["weight"].sum()
        return loss, float(((nll * b["region"]).sum() / b["region"].sum()).detach())

    def valid_loss(self) -> float:
        from musicapp.ml.infill_train import evaluate_regions

        return evaluate_regions(self.model, self.valid, self.valid_regions)["nats_per_step"]

    def nats_per_note(self, model: torch.nn.Module | None = None) -> float:
        """Region nats per note over the fixed held-out windows."""
        from musicapp.ml.infill_train import evaluate_regions

        return evaluate_regions(model or self.model, self.valid, self.valid_regions)["nats_per_note"]

    def build(self, meta: CheckpointMeta, tensors: dict) -> torch.nn.Module:
        from musicapp.ml.infill_train import build_model

        return build_model(meta, tensors, name="checkpoint")


TASKS = {LstmTask.kind: LstmTask, VaeTask.kind: VaeTask, InfillTask.kind: InfillTask}
