"""The melody LSTM: model, its config, and a fast step-by-step inference cell.

Owns :class:`LSTMConfig`, :class:`MelodyLSTM` (training uses ``nn.LSTM`` over whole
windows) and :class:`FusedStepper`, which runs the same weights one 16th step at a time
for sampling without ``nn.LSTM``'s per-call overhead: the input projection of every
embedding is folded into lookup tables of gate pre-activations, so a step is one table
lookup plus one matrix multiply per layer.

Per-step inputs (int64 tensors ``(B, T)``): ``prev`` token (0..130, 130 = BOS), ``pos``
(position in bar, 0..63), ``bar_len`` (steps, 1..64), ``key`` (tonic 0-11, 12 unknown),
``mode`` (0 major, 1 minor, 2 unknown). Output: logits ``(B, T, 130)`` over the next token.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Iterator

import numpy as np
import torch
from torch import nn

from musicapp.ml.encoding import MAX_BAR_STEPS, NUM_CLASSES, PITCH_OFFSET, VOCAB_SIZE

KIND = "lstm"


@dataclass(frozen=True)
class LSTMConfig:
    """Sizes of the melody LSTM. ``feat`` is the width of each meter/key feature embedding."""

    hidden: int = 192
    layers: int = 2
    embed: int = 96
    feat: int = 16
    dropout: float = 0.1

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "embed", "feat"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")

    def to_dict(self) -> dict:
        return asdict(self)


def relative_pitch_class(prev: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """Pitch class of a note-on token relative to the tonic (0-11), 12 when not a note or no key."""
    pitch = prev - PITCH_OFFSET
    is_note = (prev >= PITCH_OFFSET) & (prev < NUM_CLASSES) & (key < 12)
    return torch.where(is_note, (pitch - key) % 12, torch.full_like(prev, 12))


class MelodyLSTM(nn.Module):
    """Embeddings (token, relative pitch class, bar position, bar length, key, mode) -> LSTM -> logits."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.tok = nn.Embedding(VOCAB_SIZE, c.embed)
        self.rel = nn.Embedding(13, c.feat)
        self.pos = nn.Embedding(MAX_BAR_STEPS, c.feat)
        self.bar = nn.Embedding(MAX_BAR_STEPS + 1, c.feat)
        self.key = nn.Embedding(13, c.feat)
        self.mode = nn.Embedding(3, c.feat)
        self.in_drop = nn.Dropout(c.dropout)
        self.rnn = nn.LSTM(c.embed + 5 * c.feat, c.hidden, num_layers=c.layers, batch_first=True,
                           dropout=c.dropout if c.layers > 1 else 0.0)
        self.out_drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden, NUM_CLASSES)

    def features(self, prev, pos, bar_len, key, mode) -> torch.Tensor:
        """Concatenated input embeddings ``(B, T, embed + 5 * feat)``."""
        parts = [self.tok(prev), self.rel(relative_pitch_class(prev, key)), self.pos(pos),
                 self.bar(bar_len), self.key(key), self.mode(mode)]
        return torch.cat(parts, dim=-1)

    def forward(self, prev, pos, bar_len, key, mode, state=None):
        """Logits ``(B, T, 130)`` and the final ``(h, c)`` state (each ``(layers, B, hidden)``)."""
        x = self.in_drop(self.features(prev, pos, bar_len, key, mode))
        y, state = self.rnn(x, state)
        return self.head(self.out_drop(y)), state

    def param_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


@dataclass
class StepContext:
    """Per-generation state of a :class:`FusedStepper` (numpy float32 arrays).

    ``prev_table`` ``(131, 4H)`` layer-1 gates of each previous token under this key;
    ``key_bias`` ``(4H,)``; per layer, ``c`` the cell state ``(B, hidden)`` and ``r`` the
    recurrent share of the next step's gates, ``h @ W_hh`` ``(B, 4H)``, computed ahead.
    """

    prev_table: np.ndarray
    key_bias: np.ndarray
    c: list[np.ndarray]
    r: list[np.ndarray]

    def expand(self, batch: int) -> "StepContext":
        """A copy whose state is this (batch 1) state repeated ``batch`` times."""
        rep = lambda xs: [np.repeat(x, batch, axis=0) for x in xs]  # noqa: E731
        return StepContext(self.prev_table, self.key_bias, rep(self.c), rep(self.r))


class FusedStepper:
    """Step-by-step inference with the weights of a :class:`MelodyLSTM` (read-only, thread-safe).

    Sampling runs one 16th step at a time on batches of 1-64, where per-call overhead
    dominates, so a step is as few calls as possible: matrix products go to torch (MKL; single
    threaded under :func:`single_thread`), the rest is numpy float32 on the same weights
    (same logits to ~1e-6). Three folds keep the call count low:

    - every embedding's share of the layer-1 input projection is a lookup table;
    - one product per layer and step: ``h_l`` times ``[W_ih(l+1) | W_hh(l)]`` gives the next
      layer's input gates and this layer's recurrent gates for the *next* step; the top
      layer's ``[W_hh | W_out]`` gives its recurrence and the logits;
    - one ``tanh`` per layer: i, f, o rows are pre-scaled by 0.5, as
      ``sigmoid(x) = 0.5 * tanh(x / 2) + 0.5``.

    ``begin(key, mode)`` makes a context, ``set_state(ctx, h, c)`` loads a state (e.g. from
    ``nn.LSTM`` after reading a seed), ``meter_gates(ctx, pos, bar_len)`` gives the meter/key
    part of layer-1 gates ``(T, 4H)``, ``step(ctx, prev, meter_gate)`` advances a batch one
    step and returns logits ``(B, 130)``; ``advance`` steps through known tokens.
    """

    def __init__(self, model: MelodyLSTM) -> None:
        c = model.config
        self.hidden, self.layers = c.hidden, c.layers
        H = c.hidden
        scale = torch.full((4 * H,), 0.5)
        scale[2 * H:3 * H] = 1.0
        self._post_mul = np.where(np.arange(4 * H) // H == 2, 1.0, 0.5).astype(np.float32)
        self._post_add = np.where(np.arange(4 * H) // H == 2, 0.0, 0.5).astype(np.float32)
        f32 = lambda t: np.ascontiguousarray(t.detach().float().numpy())  # noqa: E731
        mat = lambda t: t.detach().float().contiguous().clone()  # noqa: E731  (matmul weights stay torch)
        with torch.no_grad():
            rnn = model.rnn
            w0 = rnn.weight_ih_l0 * scale[:, None]  # (4H, in)
            e, f = c.embed, c.feat
            cols = [0, e, e + f, e + 2 * f, e + 3 * f, e + 4 * f, e + 5 * f]
            tables = [emb.weight @ w0[:, cols[i]:cols[i + 1]].T for i, emb in
                      enumerate((model.tok, model.rel, model.pos, model.bar, model.key, model.mode))]
            self.t_tok, self.t_rel, self.t_pos, self.t_bar, self.t_key, self.t_mode = [f32(t) for t in tables]
            self.b0 = f32((rnn.bias_ih_l0 + rnn.bias_hh_l0) * scale)
            w_hh = [(getattr(rnn, f"weight_hh_l{i}") * scale[:, None]).T for i in range(c.layers)]  # (H, 4H)
            self.w_hh = [mat(w) for w in w_hh]
            self.w_next: list[torch.Tensor] = []  # (H, 8H) below the top, (H, 4H + 130) at the top
            self.bias: list[np.ndarray] = [self.b0]
            for layer in range(1, c.layers):
                w_ih = (getattr(rnn, f"weight_ih_l{layer}") * scale[:, None]).T
                self.w_next.append(mat(torch.cat([w_ih, w_hh[layer - 1]], dim=1)))
                self.bias.append(f32((getattr(rnn, f"bias_ih_l{layer}") + getattr(rnn, f"bias_hh_l{layer}")) * scale))
            self.w_next.append(mat(torch.cat([w_hh[-1], model.head.weight.T], dim=1)))
            self.b_out = f32(model.head.bias)
        toks = np.arange(VOCAB_SIZE)
        self._note_pc = np.where((toks >= PITCH_OFFSET) & (toks < NUM_CLASSES), (toks - PITCH_OFFSET) % 12, -1)

    def begin(self, key: int, mode: int, batch: int = 1) -> StepContext:
        """A zero-state context for key ``key`` (0-11, 12 unknown) and ``mode`` (0-2)."""
        rel = np.where((self._note_pc >= 0) & (key < 12), (self._note_pc - key) % 12, 12)
        prev_table = self.t_tok + self.t_rel[rel]
        key_bias = self.b0 + self.t_key[key] + self.t_mode[mode]
        H = self.hidden
        return StepContext(prev_table, key_bias, [np.zeros((batch, H), np.float32) for _ in range(self.layers)],
                           [np.zeros((batch, 4 * H), np.float32) for _ in range(self.layers)])

    def set_state(self, ctx: StepContext, h: list[np.ndarray], c: list[np.ndarray]) -> None:
        """Load ``nn.LSTM``-style hidden and cell states (one ``(B, hidden)`` array per layer)."""
        ctx.c = [np.ascontiguousarray(x, dtype=np.float32) for x in c]
        ctx.r = [_mm(np.ascontiguousarray(x, dtype=np.float32), w) for x, w in zip(h, self.w_hh)]

    def meter_gates(self, ctx: StepContext, pos: np.ndarray, bar_len: np.ndarray) -> np.ndarray:
        """Layer-1 gate contribution of meter and key for each step: ``(T, 4H)``."""
        return self.t_pos[pos] + self.t_bar[bar_len] + ctx.key_bias

    def advance(self, ctx: StepContext, prev: np.ndarray, meter: np.ndarray) -> None:
        """Read known tokens: ``prev`` ``(T,)`` are the inputs of steps whose meter rows are ``meter``."""
        for t in range(len(prev)):
            self.step(ctx, prev[t:t + 1], meter[t])

    def step(self, ctx: StepContext, prev: np.ndarray, meter_gate: np.ndarray) -> np.ndarray:
        """One step for ``prev`` tokens ``(B,)``; ``meter_gate`` ``(4H,)``; returns logits ``(B, 130)``."""
        H4 = 4 * self.hidden
        gates = ctx.prev_table[prev]
        gates += meter_gate
        gates += ctx.r[0]
        last = self.layers - 1
        for layer in range(self.layers):
            m = _mm(self._cell(gates, ctx, layer), self.w_next[layer])
            if layer < last:
                gates = m[:, :H4]
                gates += ctx.r[layer + 1]
                gates += self.bias[layer + 1]
                ctx.r[layer] = m[:, H4:]
            else:
                ctx.r[layer] = m[:, :H4]
                logits = m[:, H4:]
                logits += self.b_out
        return logits

    def _cell(self, gates: np.ndarray, ctx: StepContext, layer: int) -> np.ndarray:
        """LSTM cell on pre-activations ``gates`` ``(B, 4H)`` (modified in place); returns ``h``."""
        H = self.hidden
        np.tanh(gates, out=gates)
        gates *= self._post_mul
        gates += self._post_add
        c = ctx.c[layer] * gates[:, H:2 * H]
        c += gates[:, :H] * gates[:, 2 * H:3 * H]
        h = np.tanh(c)
        h *= gates[:, 3 * H:]
        ctx.c[layer] = c
        return h


def _mm(x: np.ndarray, w: torch.Tensor) -> np.ndarray:
    """``x @ w`` for a numpy ``(B, K)`` array and a torch ``(K, N)`` weight, as numpy."""
    return torch.mm(torch.from_numpy(x), w).numpy()


@contextmanager
def single_thread() -> Iterator[None]:
    """Inside, torch uses one intra-op thread (tiny matrix products only lose with more)."""
    n = torch.get_num_threads()
    if n != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if n != 1:
            torch.set_num_threads(n)
