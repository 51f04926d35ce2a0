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
    ``key_bias`` ``(4H,)``; ``h`` and ``c`` one ``(B, hidden)`` array per layer.
    """

    prev_table: np.ndarray
    key_bias: np.ndarray
    h: list[np.ndarray]
    c: list[np.ndarray]

    def expand(self, batch: int) -> "StepContext":
        """A copy whose state is this (batch 1) state repeated ``batch`` times."""
        rep = lambda xs: [np.repeat(x, batch, axis=0) for x in xs]  # noqa: E731
        return StepContext(self.prev_table, self.key_bias, rep(self.h), rep(self.c))


class FusedStepper:
    """Step-by-step inference with the weights of a :class:`MelodyLSTM`, in numpy (read-only).

    Sampling runs one 16th step at a time on batches of 1-64, where torch's per-call overhead
    would dominate: the matrix products go to torch (MKL, faster than OpenBLAS on small
    batches, and single-threaded under :func:`single_thread`), everything else is numpy
    float32 on the same weights, giving the same logits (to ~1e-6).
    Every embedding's share of the layer-1 input projection is folded into a lookup table.
    Gates use one ``tanh`` per layer: the i, f, o rows are pre-scaled by 0.5, since
    ``sigmoid(x) = 0.5 * tanh(x / 2) + 0.5``.

    ``begin(key, mode, batch)`` makes a context; ``meter_gates(ctx, pos, bar_len)`` gives the
    meter/key part of layer-1 gates ``(T, 4H)``; ``advance(ctx, prev, meter)`` reads a whole
    run of known tokens ``(T,)`` (batch 1, no logits); ``step(ctx, prev, meter_gate)``
    advances a batch one step and returns logits ``(B, 130)``.
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
            self.w_hh0 = mat((rnn.weight_hh_l0 * scale[:, None]).T)  # (H, 4H)
            self.w_cat: list[torch.Tensor | None] = [None]  # (2H, 4H): [input; recurrent] of upper layers
            self.bias = [None]
            for layer in range(1, c.layers):
                w = torch.cat([getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}")], dim=1)
                self.w_cat.append(mat((w * scale[:, None]).T))
                self.bias.append(f32((getattr(rnn, f"bias_ih_l{layer}") + getattr(rnn, f"bias_hh_l{layer}")) * scale))
            self.w_out = mat(model.head.weight.T)  # (H, 130)
            self.b_out = f32(model.head.bias)
        toks = np.arange(VOCAB_SIZE)
        self._note_pc = np.where((toks >= PITCH_OFFSET) & (toks < NUM_CLASSES), (toks - PITCH_OFFSET) % 12, -1)

    def begin(self, key: int, mode: int, batch: int = 1) -> StepContext:
        """A zero-state context for key ``key`` (0-11, 12 unknown) and ``mode`` (0-2)."""
        rel = np.where((self._note_pc >= 0) & (key < 12), (self._note_pc - key) % 12, 12)
        prev_table = self.t_tok + self.t_rel[rel]
        key_bias = self.b0 + self.t_key[key] + self.t_mode[mode]
        zeros = lambda: [np.zeros((batch, self.hidden), np.float32) for _ in range(self.layers)]  # noqa: E731
        return StepContext(prev_table, key_bias, zeros(), zeros())

    def meter_gates(self, ctx: StepContext, pos: np.ndarray, bar_len: np.ndarray) -> np.ndarray:
        """Layer-1 gate contribution of meter and key for each step: ``(T, 4H)``."""
        return self.t_pos[pos] + self.t_bar[bar_len] + ctx.key_bias

    def advance(self, ctx: StepContext, prev: np.ndarray, meter: np.ndarray) -> None:
        """Read known tokens: ``prev`` ``(T,)`` are the inputs of steps whose meter rows are ``meter``."""
        inputs = ctx.prev_table[prev] + meter  # (T, 4H)
        for t in range(len(prev)):
            self._layers(ctx, inputs[t:t + 1])

    def step(self, ctx: StepContext, prev: np.ndarray, meter_gate: np.ndarray) -> np.ndarray:
        """One step for ``prev`` tokens ``(B,)``; ``meter_gate`` ``(4H,)``; returns logits ``(B, 130)``."""
        x = self._layers(ctx, ctx.prev_table[prev] + meter_gate)
        logits = _mm(x, self.w_out)
        logits += self.b_out
        return logits

    def _layers(self, ctx: StepContext, gates0: np.ndarray) -> np.ndarray:
        H = self.hidden
        x = None
        for layer in range(self.layers):
            if layer == 0:
                gates = _mm(ctx.h[0], self.w_hh0)
                gates += gates0
            else:
                gates = _mm(np.concatenate((x, ctx.h[layer]), axis=1), self.w_cat[layer])
                gates += self.bias[layer]
            np.tanh(gates, out=gates)
            gates *= self._post_mul
            gates += self._post_add
            i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
            c = ctx.c[layer] * f
            c += i * g
            x = np.tanh(c)
            x *= o
            ctx.c[layer], ctx.h[layer] = c, x
        return x


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
