"""Training data pipeline: corpus tunes -> encoded splits -> random training windows.

Owns making sure the corpus cache exists (rebuilding it with music21 when missing), encoding
every tune once per process, and drawing batches of fixed-length windows with transposition
augmentation. Shared by the LSTM and VAE trainers and the evaluation.

Per-step model inputs (all int64, aligned with the target token of the same step):
``prev`` (the previous token, BOS at a tune's start), ``pos``/``bar_len`` (meter of the
target step), ``key`` (tonic pitch class 0-11, 12 unknown) and ``mode`` (0 major,
1 minor, 2 unknown); for a lookback model also ``lb``/``match`` ``(B, L, K)`` (see
:func:`musicapp.ml.lstm.lookback_inputs`), computed over whole tunes so a window's first
steps see the bars before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from musicapp.ml import corpus
from musicapp.ml.encoding import BOS, NUM_CLASSES, PITCH_OFFSET, EncodedMelody, encode_tune

UNKNOWN_KEY = 12
UNKNOWN_MODE = 2


def ensure_corpus(corpora: Sequence[str] = corpus.TRAIN_CORPORA, workers: int = 2) -> None:
    """Parse any corpus shard missing from the cache (minutes; needs music21)."""
    missing = [c for c in corpora if not (corpus.cache_dir() / f"{c}.npz").exists()]
    if missing:
        corpus.prepare_all(tuple(missing), workers=workers)


@dataclass(frozen=True)
class EncodedTune:
    """A tune's encoding plus its key features (``key`` 0-12, ``mode`` 0-2) and corpus id."""

    name: str
    melody: EncodedMelody
    key: int
    mode: int


def _key_features(tune: corpus.Tune) -> tuple[int, int]:
    key = tune.key_tonic if 0 <= tune.key_tonic <= 11 else UNKNOWN_KEY
    mode = tune.key_mode if tune.key_mode in (0, 1) else UNKNOWN_MODE
    return key, mode


def encoded_splits(corpora: Sequence[str] = corpus.TRAIN_CORPORA, prepare: bool = True,
                   max_steps: int = 4096) -> dict[str, list[EncodedTune]]:
    """Encode every tune of each split (``train``/``valid``/``test``) in corpus order.

    Tunes longer than ``max_steps`` 16th steps are cut (a handful of medleys).
    """
    if prepare:
        ensure_corpus(corpora)
    out: dict[str, list[EncodedTune]] = {}
    for split, tunes in corpus.load_all(tuple(corpora)).items():
        enc: list[EncodedTune] = []
        for t in tunes:
            m = encode_tune(t)
            if len(m) > max_steps:
                m = EncodedMelody(m.tokens[:max_steps], m.pos[:max_steps], m.bar_len[:max_steps])
            if len(m) >= 2:
                enc.append(EncodedTune(t.name, m, *_key_features(t)))
        out[split] = enc
    return out


@dataclass
class Batch:
    """Aligned int64 arrays of shape ``(B, L)``; ``mask`` is 1.0 on real steps (float32)."""

    prev: np.ndarray
    pos: np.ndarray
    bar_len: np.ndarray
    key: np.ndarray
    mode: np.ndarray
    target: np.ndarray
    mask: np.ndarray
    lb: np.ndarray | None = None
    match: np.ndarray | None = None

    def to_torch(self, device="cpu") -> dict:
        import torch

        names = ("prev", "pos", "bar_len", "key", "mode", "target", "mask", "lb", "match")
        return {k: torch.from_numpy(getattr(self, k)).to(device) for k in names if getattr(self, k) is not None}


MODEL_INPUTS = ("prev", "pos", "bar_len", "key", "mode", "lb", "match")


def model_inputs(batch: dict) -> dict:
    """The keyword arguments of ``MelodyLSTM.forward`` from a :meth:`Batch.to_torch` dict."""
    return {k: batch[k] for k in MODEL_INPUTS if k in batch}


class TuneBank:
    """All tunes of a split concatenated, for fast window sampling.

    ``key_dropout`` is the probability that a training window hides its key (so the model
    also works when the key is unknown).
    """

    def __init__(self, tunes: Sequence[EncodedTune], lookback: Sequence[int] = ()) -> None:
        if not tunes:
            raise ValueError("no tunes to train on")
        self.tunes = list(tunes)
        self.lookback = tuple(lookback)
        lens = np.array([len(t.melody) for t in tunes], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        self.lens = lens
        self.tokens = np.concatenate([t.melody.tokens for t in tunes])
        self.prev = np.concatenate([np.concatenate([[BOS], t.melody.tokens[:-1]]) for t in tunes])
        self.pos = np.concatenate([t.melody.pos for t in tunes])
        self.bar_len = np.concatenate([t.melody.bar_len for t in tunes])
        self.lb = self.match = None
        if self.lookback:
            from musicapp.ml.lstm import lookback_inputs

            pairs = [lookback_inputs(t.melody.tokens, t.melody.bar_len, self.lookback) for t in tunes]
            self.lb = np.concatenate([p[0] for p in pairs])
            self.match = np.concatenate([p[1] for p in pairs])
        self.key = np.array([t.key for t in tunes], dtype=np.int64)
        self.mode = np.array([t.mode for t in tunes], dtype=np.int64)
        lo, hi = [], []
        for t in tunes:
            on = t.melody.tokens[t.melody.tokens >= PITCH_OFFSET] - PITCH_OFFSET
            lo.append(on.min() if on.size else 60)
            hi.append(on.max() if on.size else 60)
        self.lo, self.hi = np.array(lo), np.array(hi)

    @property
    def total_steps(self) -> int:
        return int(self.lens.sum())

    def sample(self, rng: np.random.Generator, batch: int, length: int, max_shift: int = 0,
               key_dropout: float = 0.0) -> Batch:
        """``batch`` random windows of ``length`` steps, tunes drawn proportionally to length."""
        p = self.lens / self.lens.sum()
        ids = rng.choice(len(self.lens), size=batch, p=p)
        offs = np.array([rng.integers(0, max(1, self.lens[i] - length // 2)) for i in ids])
        shifts = np.zeros(batch, dtype=np.int64)
        if max_shift:
            lo = np.maximum(-max_shift, -self.lo[ids])
            hi = np.minimum(max_shift, 127 - self.hi[ids])
            shifts = np.array([rng.integers(a, b + 1) for a, b in zip(lo, hi)])
        hide = rng.random(batch) < key_dropout
        return self._gather(ids, offs, length, shifts, hide)

    def windows(self, length: int) -> list[tuple[int, int]]:
        """Every ``(tune index, offset)`` window tiling the split, for deterministic evaluation."""
        return [(i, o) for i, n in enumerate(self.lens) for o in range(0, int(n), length)]

    def gather(self, spec: Sequence[tuple[int, int]], length: int) -> Batch:
        ids = np.array([s[0] for s in spec])
        offs = np.array([s[1] for s in spec])
        return self._gather(ids, offs, length, np.zeros(len(spec), np.int64), np.zeros(len(spec), bool))

    def _gather(self, ids: np.ndarray, offs: np.ndarray, length: int, shifts: np.ndarray,
                hide_key: np.ndarray) -> Batch:
        n = len(ids)
        idx = self.starts[ids, None] + offs[:, None] + np.arange(length)[None, :]
        valid = (offs[:, None] + np.arange(length)[None, :]) < self.lens[ids, None]
        idx = np.where(valid, idx, 0)

        def shift(a: np.ndarray) -> np.ndarray:
            """Note tokens of ``a`` ``(B, L[, K])`` transposed by each window's shift."""
            note = (a >= PITCH_OFFSET) & (a < NUM_CLASSES)
            return np.where(note, a + shifts.reshape(-1, *[1] * (a.ndim - 1)), a)

        key = np.where(self.key[ids] < 12, (self.key[ids] + shifts) % 12, UNKNOWN_KEY)
        key = np.where(hide_key, UNKNOWN_KEY, key)
        mode = np.where(hide_key, UNKNOWN_MODE, self.mode[ids])
        lb = match = None
        if self.lb is not None:
            v3 = valid[:, :, None]
            lb = np.where(v3, shift(self.lb[idx]), BOS)
            match = np.where(v3, self.match[idx], 0)
        return Batch(
            lb=lb, match=match,
            prev=np.where(valid, shift(self.prev[idx]), BOS),
            pos=np.where(valid, self.pos[idx], 0),
            bar_len=np.where(valid, self.bar_len[idx], 16),
            key=np.repeat(key[:, None], length, axis=1),
            mode=np.repeat(mode[:, None], length, axis=1),
            target=np.where(valid, shift(self.tokens[idx]), 0),
            mask=valid.astype(np.float32),
        )

