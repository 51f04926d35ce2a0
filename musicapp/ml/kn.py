"""Baseline: an interpolated, modified Kneser-Ney n-gram model over the melody encoding.

Owns :class:`KneserNey`, the baseline the LSTM is measured against. The context of a
step is its bar position (bar length and position in bar, always kept) plus the previous
``order - 1`` tokens (BOS-padded at a tune's start); back-off drops the farthest token
first, down to the bar position alone, then a uniform distribution over the 130 classes.
Discounts D1, D2, D3+ per order follow Chen & Goodman (1998); lower orders use
continuation counts. Everything is vectorised with sorted int64 keys and ``searchsorted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from musicapp.ml.encoding import BOS, MAX_BAR_STEPS, NUM_CLASSES

_BASE = NUM_CLASSES + 1  # token alphabet incl. BOS


@dataclass
class _Level:
    """Counts of one order: n-gram keys/counts and per-context totals and count-of-count sums."""

    keys: np.ndarray
    counts: np.ndarray
    ctx_keys: np.ndarray
    ctx_total: np.ndarray
    ctx_gamma: np.ndarray  # D1*N1 + D2*N2 + D3*N3+ per context
    discounts: np.ndarray  # (4,) : D(0)=0, D1, D2, D3+


def _contexts(tokens: np.ndarray, pos: np.ndarray, bar_len: np.ndarray, k: int) -> np.ndarray:
    """Context keys (meter symbol + previous ``k`` tokens) for every step of one sequence."""
    padded = np.concatenate([np.full(k, BOS, dtype=np.int64), tokens.astype(np.int64)])
    key = bar_len.astype(np.int64) * MAX_BAR_STEPS + pos.astype(np.int64)
    for j in range(k, 0, -1):  # farthest first
        key = key * _BASE + padded[k - j: k - j + len(tokens)]
    return key


def _discounts(counts: np.ndarray) -> np.ndarray:
    n = [int((counts == i).sum()) for i in (1, 2, 3, 4)]
    if min(n) == 0:
        return np.array([0.0, 0.5, 1.0, 1.5])
    y = n[0] / (n[0] + 2 * n[1])
    d = [1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2]]
    return np.array([0.0] + [float(np.clip(v, 0.05, i + 1)) for i, v in enumerate(d)])


def _level(ctx: np.ndarray, tok: np.ndarray, counts_from: tuple[np.ndarray, np.ndarray] | None) -> _Level:
    if counts_from is None:  # raw counts
        keys, counts = np.unique(ctx * NUM_CLASSES + tok, return_counts=True)
    else:  # continuation counts: distinct left extensions of each shorter n-gram
        keys, counts = counts_from
    disc = _discounts(counts)
    ctx_of = keys // NUM_CLASSES
    ctx_keys, first = np.unique(ctx_of, return_index=True)
    ctx_total = np.add.reduceat(counts, first).astype(np.float64)
    d = disc[np.minimum(counts, 3)]
    ctx_gamma = np.add.reduceat(d, first)
    return _Level(keys, counts.astype(np.float64), ctx_keys, ctx_total, ctx_gamma, disc)


class KneserNey:
    """Modified interpolated Kneser-Ney over tokens with bar position; ``order`` = n of n-gram."""

    def __init__(self, order: int = 5) -> None:
        if not 1 <= order <= 6:
            raise ValueError("order must be 1..6")
        self.order = order
        self.levels: list[_Level] = []

    def fit(self, melodies: Sequence) -> "KneserNey":
        """Count n-grams over ``EncodedMelody``-like objects (``tokens``, ``pos``, ``bar_len``)."""
        toks = np.concatenate([m.tokens for m in melodies]).astype(np.int64)
        ctxs = [np.concatenate([_contexts(m.tokens, m.pos, m.bar_len, k) for m in melodies])
                for k in range(self.order)]
        levels: list[_Level] = [None] * self.order  # type: ignore[list-item]
        top = self.order - 1
        levels[top] = _level(ctxs[top], toks, None)
        for k in range(top - 1, -1, -1):
            # distinct (longer n-gram) -> shorter n-gram by dropping the farthest token
            longer = np.unique(ctxs[k + 1] * NUM_CLASSES + toks)
            shorter = self._drop_farthest(longer, k + 1)
            keys, counts = np.unique(shorter, return_counts=True)
            levels[k] = _level(np.empty(0, np.int64), np.empty(0, np.int64), (keys, counts))
        self.levels = levels
        return self

    @staticmethod
    def _drop_farthest(ngram_keys: np.ndarray, k: int) -> np.ndarray:
        """Keys of order ``k`` n-grams (meter + k tokens + w) without the farthest token."""
        w = ngram_keys % NUM_CLASSES
        ctx = ngram_keys // NUM_CLASSES
        meter = ctx // _BASE ** k
        rest = ctx % _BASE ** (k - 1)
        return (meter * _BASE ** (k - 1) + rest) * NUM_CLASSES + w

    def _prob(self, ctxs: list[np.ndarray], w: np.ndarray) -> np.ndarray:
        """P(w | context) for aligned arrays (context keys per order, target tokens)."""
        p = np.full(w.shape, 1.0 / NUM_CLASSES)
        for k, lv in enumerate(self.levels):
            ck = ctxs[k]
            ci = np.clip(np.searchsorted(lv.ctx_keys, ck), 0, max(len(lv.ctx_keys) - 1, 0))
            seen = lv.ctx_keys[ci] == ck if len(lv.ctx_keys) else np.zeros(ck.shape, bool)
            key = ck * NUM_CLASSES + w
            ni = np.clip(np.searchsorted(lv.keys, key), 0, len(lv.keys) - 1)
            c = np.where(lv.keys[ni] == key, lv.counts[ni], 0.0)
            disc = lv.discounts[np.minimum(c, 3).astype(np.int64)]
            total = np.where(seen, lv.ctx_total[ci], 1.0)
            mixed = (np.maximum(c - disc, 0.0) + lv.ctx_gamma[ci] * p) / total
            p = np.where(seen, mixed, p)
        return p

    def distribution(self, melody) -> np.ndarray:
        """P over the 130 classes at every step of one melody: ``(T, 130)``."""
        T = len(melody.tokens)
        ctxs = [np.repeat(_contexts(melody.tokens, melody.pos, melody.bar_len, k), NUM_CLASSES)
                for k in range(self.order)]
        w = np.tile(np.arange(NUM_CLASSES, dtype=np.int64), T)
        return self._prob(ctxs, w).reshape(T, NUM_CLASSES)

    def log_probs(self, melody) -> np.ndarray:
        """Natural-log probability of each actual token of one melody: ``(T,)``."""
        ctxs = [_contexts(melody.tokens, melody.pos, melody.bar_len, k) for k in range(self.order)]
        return np.log(self._prob(ctxs, melody.tokens.astype(np.int64)))
