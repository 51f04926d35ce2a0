"""The melody LSTM: model, its config, and a fast step-by-step inference cell.

Owns :class:`LSTMConfig`, :class:`MelodyLSTM` (training uses ``nn.LSTM`` over whole
windows) and :class:`FusedStepper`, which runs the same weights one 16th step at a time
for sampling without ``nn.LSTM``'s per-call overhead: the input projection of every
embedding is folded into lookup tables of gate pre-activations, so a step is one table
lookup plus one matrix multiply per layer.

Per-step inputs (int64 tensors ``(B, T)``): ``prev`` token (0..130, 130 = BOS), ``pos``
(position in bar, 0..63), ``bar_len`` (steps, 1..64), ``key`` (tonic 0-11, 12 unknown),
``mode`` (0 major, 1 minor, 2 unknown). Output: logits ``(B, T, 130)`` over the next token.

Lookback (``LSTMConfig.lookback``, bars; Magenta's Lookback RNN idea plus a copy gate): for
each distance ``d`` the model also reads ``lb`` ``(B, T, K)``, the token at the same bar
position ``d`` bars before the target step (130 = none), and ``match``, whether the previous
step repeated its own lookback token. A copy gate adds a learned, state-dependent amount to
the logit of each lookback token, so folk tunes' repeated bars cost few nats.
See :func:`lookback_inputs`.
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
NO_TOKEN = NUM_CLASSES  # "no lookback token" (before the start); also the BOS input id


def lookback_sources(bar_len: np.ndarray, distances: tuple[int, ...]) -> np.ndarray:
    """Index of each step's lookback step, ``(T, K)``: ``t - d_k * bar_len[t]``, -1 before step 0."""
    bar_len = np.asarray(bar_len, dtype=np.int64)
    src = np.arange(len(bar_len))[:, None] - np.asarray(distances, dtype=np.int64)[None, :] * bar_len[:, None]
    src[src < 0] = -1
    return src


def lookback_inputs(tokens: np.ndarray, bar_len: np.ndarray, distances: tuple[int, ...],
                    first: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Lookback tokens and match flags for target steps ``first..len(tokens)-1``.

    ``tokens`` ``(T,)`` are the melody's targets, ``bar_len`` ``(T,)`` the bar length (16th
    steps) at each; ``distances`` in bars. Returns ``lb`` and ``match``, int64 ``(T - first, K)``:
    ``lb[t, k] = tokens[t - d_k * bar_len[t]]`` (``NO_TOKEN`` before step 0) and
    ``match[t, k] = 1`` when ``tokens[t - 1] == lb[t - 1, k]`` (a real token).
    """
    T, K = len(tokens), len(distances)
    tokens = np.asarray(tokens, dtype=np.int64)
    src = lookback_sources(bar_len, distances)
    lb = np.where(src >= 0, tokens[src], NO_TOKEN)  # (src -1 reads the last token, masked here)
    match = np.zeros((T, K), dtype=np.int64)
    if T > 1:
        match[1:] = (lb[:-1] != NO_TOKEN) & (lb[:-1] == tokens[:-1, None])
    return lb[first:], match[first:]


@dataclass(frozen=True)
class LSTMConfig:
    """Sizes of the melody LSTM. ``feat`` is the width of each meter/key feature embedding."""

    hidden: int = 192
    layers: int = 2
    embed: int = 96
    feat: int = 16
    dropout: float = 0.1
    lookback: tuple[int, ...] = ()  # distances in bars; () = no lookback inputs, no copy gate

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "embed", "feat"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")
        lb = tuple(self.lookback)
        if any(not isinstance(d, int) or not 1 <= d <= 64 for d in lb) or len(set(lb)) != len(lb):
            raise ValueError("lookback must be distinct bar counts 1..64")
        object.__setattr__(self, "lookback", lb)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lookback"] = list(self.lookback)
        return d


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
        K = len(c.lookback)
        # per distance: its lookback token (2 * feat wide) and the match flag (feat wide)
        self.lb = nn.ModuleList(nn.Embedding(VOCAB_SIZE, 2 * c.feat) for _ in range(K))
        self.match = nn.ModuleList(nn.Embedding(2, c.feat) for _ in range(K))
        self.in_drop = nn.Dropout(c.dropout)
        self.rnn = nn.LSTM(c.embed + 5 * c.feat + 3 * c.feat * K, c.hidden, num_layers=c.layers, batch_first=True,
                           dropout=c.dropout if c.layers > 1 else 0.0)
        self.out_drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden, NUM_CLASSES)
        self.copy = nn.Linear(c.hidden, K) if K else None

    def features(self, prev, pos, bar_len, key, mode, lb=None, match=None) -> torch.Tensor:
        """Concatenated input embeddings ``(B, T, embed + 5 * feat + 3 * feat * K)``."""
        parts = [self.tok(prev), self.rel(relative_pitch_class(prev, key)), self.pos(pos),
                 self.bar(bar_len), self.key(key), self.mode(mode)]
        if self.copy is not None:
            self._check_lookback(lb, match)
            parts += [emb(lb[..., k]) for k, emb in enumerate(self.lb)]
            parts += [emb(match[..., k]) for k, emb in enumerate(self.match)]
        return torch.cat(parts, dim=-1)

    def _check_lookback(self, lb, match) -> None:
        if lb is None or match is None:
            raise ValueError("this model reads lookback inputs (lb, match); see lookback_inputs()")

    def forward(self, prev, pos, bar_len, key, mode, state=None, lb=None, match=None):
        """Logits ``(B, T, 130)`` and the final ``(h, c)`` state (each ``(layers, B, hidden)``)."""
        x = self.in_drop(self.features(prev, pos, bar_len, key, mode, lb, match))
        y, state = self.rnn(x, state)
        return self.logits(self.out_drop(y), lb), state

    def logits(self, y: torch.Tensor, lb=None) -> torch.Tensor:
        """Output logits from top-layer states ``y`` ``(B, T, hidden)``, with the copy gate."""
        out = self.head(y)
        if self.copy is None:
            return out
        gate = self.copy(y).to(out.dtype)
        real = lb < NUM_CLASSES
        return out.scatter_add(-1, torch.where(real, lb, 0), gate * real)

    def param_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


class LookbackHistory:
    """Lookback inputs step by step while sampling: the same values as :func:`lookback_inputs`.

    ``seed`` ``(S,)`` tokens are known; ``bar_len`` ``(S + N,)`` covers the seed and the ``N``
    steps to come; ``batch`` rows are sampled at once. Call :meth:`next` once per step with the
    previous step's tokens ``(B,)``; it returns ``(lb, match)`` for the step, each ``(B, K)``.
    """

    def __init__(self, distances: tuple[int, ...], seed: np.ndarray, bar_len: np.ndarray, batch: int) -> None:
        n_all, n_seed, K = len(bar_len), len(seed), len(distances)
        # the extra last column stays NO_TOKEN, so a source index of -1 (before step 0) reads "none"
        self.hist = np.full((batch, n_all + 1), NO_TOKEN, dtype=np.int64)
        self.hist[:, :n_seed] = seed
        self.src = src = lookback_sources(bar_len, distances)
        self.step = n_seed
        last = src[n_seed - 1] if n_seed else np.full(K, -1)
        self.lb = np.repeat(self.hist[:1, last], batch, axis=0)

    def next(self, prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inputs of the next step, given the tokens ``prev`` ``(B,)`` of the step before it."""
        a = self.step
        if a > 0:
            self.hist[:, a - 1] = prev
        match = ((prev[:, None] == self.lb) & (self.lb != NO_TOKEN)).astype(np.int64)
        self.lb = self.hist[:, self.src[a]]
        self.step = a + 1
        return self.lb, match


def melody_inputs(model: MelodyLSTM, tokens: np.ndarray, pos: np.ndarray, bar_len: np.ndarray, key: int,
                  mode: int) -> dict:
    """Keyword inputs of ``model`` (batch 1, on its device) for reading a whole melody.

    ``tokens`` are the targets; ``prev`` starts with BOS; lookback inputs are added for a
    lookback model.
    """
    dev = model.head.weight.device
    as_t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64))[None].to(dev)  # noqa: E731
    prev = as_t(np.concatenate([[NO_TOKEN], tokens[:-1]]))
    inputs = {"prev": prev, "pos": as_t(pos), "bar_len": as_t(bar_len), "key": torch.full_like(prev, key),
              "mode": torch.full_like(prev, mode)}
    if model.config.lookback:
        lb, match = lookback_inputs(tokens, bar_len, model.config.lookback)
        inputs.update(lb=as_t(lb), match=as_t(match))
    return inputs


def melody_logits(model: MelodyLSTM, tokens: np.ndarray, pos: np.ndarray, bar_len: np.ndarray, key: int,
                  mode: int) -> torch.Tensor:
    """Logits ``(T, 130)`` of ``model`` reading a whole melody; runs under the caller's grad mode."""
    logits, _ = model(**melody_inputs(model, tokens, pos, bar_len, key, mode))
    return logits[0]


@dataclass
class StepContext:
    """Per-generation state of a :class:`FusedStepper` (numpy float32 arrays).

    ``prev_table`` ``(131, 4H)`` layer-1 gates of each previous token under this key;
    ``key_bias`` ``(4H,)``; per layer, ``c`` the cell state ``(B, hidden)`` and ``r`` the
    recurrent share of the next step's gates, ``h @ W_hh`` ``(B, 4H)``, computed ahead.
    ``work`` holds per-layer output buffers that numpy and torch share (made on first use).
    """

    prev_table: np.ndarray
    key_bias: np.ndarray
    c: list[np.ndarray]
    r: list[np.ndarray]
    work: list | None = None

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
            K = self.K = len(model.lb)  # lookback slots (+ an infill model's lookahead slots)
            self.lookback = c.lookback
            # lookback: one table per distance indexed by lb + VOCAB_SIZE * match -> (K, 2 * 131, 4H)
            lbm = []
            for k in range(K):
                a = e + 5 * f + 2 * f * k
                m = e + 5 * f + 2 * f * K + f * k
                t_lb = model.lb[k].weight @ w0[:, a:a + 2 * f].T
                t_m = model.match[k].weight @ w0[:, m:m + f].T
                lbm.append(torch.cat([t_lb + t_m[0], t_lb + t_m[1]], dim=0))
            self.t_lbm = f32(torch.stack(lbm)) if K else None
            self._k_idx = np.arange(K)[None, :]
            self.b0 = f32((rnn.bias_ih_l0 + rnn.bias_hh_l0) * scale)
            w_hh = [(getattr(rnn, f"weight_hh_l{i}") * scale[:, None]).T for i in range(c.layers)]  # (H, 4H)
            self.w_hh = [mat(w) for w in w_hh]
            self.w_next: list[torch.Tensor] = []  # (H, 8H) below the top, (H, 4H + 130) at the top
            self.bias: list[np.ndarray] = [self.b0]
            for layer in range(1, c.layers):
                w_ih = (getattr(rnn, f"weight_ih_l{layer}") * scale[:, None]).T
                self.w_next.append(mat(torch.cat([w_ih, w_hh[layer - 1]], dim=1)))
                self.bias.append(f32((getattr(rnn, f"bias_ih_l{layer}") + getattr(rnn, f"bias_hh_l{layer}")) * scale))
            # top layer: [W_hh | W_out | a zero "no token" column | W_copy] -> recurrence, 131 logits, K gates
            top = [w_hh[-1], model.head.weight.T]
            b_out = [model.head.bias]
            if K:
                top += [torch.zeros(H, 1), model.copy.weight.T]
                b_out += [torch.zeros(1), model.copy.bias]
            self.w_next.append(mat(torch.cat(top, dim=1)))
            self.b_out = f32(torch.cat(b_out))
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

    def advance(self, ctx: StepContext, prev: np.ndarray, meter: np.ndarray, lb: np.ndarray | None = None,
                match: np.ndarray | None = None) -> None:
        """Read known tokens: ``prev`` ``(T,)`` are the inputs of steps whose meter rows are ``meter``
        (and lookback inputs ``(T, K)``, for a lookback model)."""
        for t in range(len(prev)):
            self.step(ctx, prev[t:t + 1], meter[t], None if lb is None else lb[t:t + 1],
                      None if match is None else match[t:t + 1])

    def step(self, ctx: StepContext, prev: np.ndarray, meter_gate: np.ndarray, lb: np.ndarray | None = None,
             match: np.ndarray | None = None, copy_scale: np.ndarray | None = None) -> np.ndarray:
        """One step for ``prev`` tokens ``(B,)``; ``meter_gate`` ``(4H,)``; returns logits ``(B, 130)``.

        The logits are a view of a buffer the next step overwrites: copy them to keep them.

        A lookback model also needs this step's ``lb`` and ``match`` ``(B, K)`` (:func:`lookback_inputs`);
        ``copy_scale`` ``(K,)`` multiplies each slot's copy-gate bonus (steering; None = as trained).
        """
        H4 = 4 * self.hidden
        work = ctx.work
        if work is None or work[0][0].shape[0] != len(prev):
            work = ctx.work = self._workspace(len(prev))
        gates = ctx.prev_table[prev]
        gates += meter_gate
        gates += ctx.r[0]
        if self.K:
            if lb is None or match is None:
                raise ValueError("this model reads lookback inputs (lb, match)")
            gates += self.t_lbm[self._k_idx, lb + VOCAB_SIZE * match].sum(axis=1)
        last = self.layers - 1
        for layer in range(self.layers):
            h_np, h_t, m_np, m_t = work[layer]
            self._cell(gates, ctx, layer, h_np)
            torch.mm(h_t, self.w_next[layer], out=m_t)
            if layer < last:
                gates = m_np[:, :H4]
                gates += ctx.r[layer + 1]
                gates += self.bias[layer + 1]
                ctx.r[layer] = m_np[:, H4:]
            else:
                ctx.r[layer] = m_np[:, :H4]
                logits = m_np[:, H4:]
                logits += self.b_out
        if self.K:
            ext = logits[:, :NUM_CLASSES + 1]  # column 130 takes the gates of "no token"
            gate = logits[:, NUM_CLASSES + 1:]
            if copy_scale is not None:
                gate *= copy_scale
            np.add.at(ext, (np.arange(len(ext))[:, None], lb), gate)
            return ext[:, :NUM_CLASSES]
        return logits

    def _workspace(self, batch: int) -> list:
        """Per layer ``(h numpy, h torch, out numpy, out torch)``; each pair shares its memory."""
        out = []
        for w in self.w_next:
            h = np.zeros((batch, self.hidden), np.float32)
            m = np.zeros((batch, w.shape[1]), np.float32)
            out.append((h, torch.from_numpy(h), m, torch.from_numpy(m)))
        return out

    def _cell(self, gates: np.ndarray, ctx: StepContext, layer: int, h: np.ndarray) -> None:
        """LSTM cell on pre-activations ``gates`` ``(B, 4H)`` (modified in place); writes ``h``."""
        H = self.hidden
        np.tanh(gates, out=gates)
        gates *= self._post_mul
        gates += self._post_add
        c = ctx.c[layer]
        c *= gates[:, H:2 * H]
        ig = gates[:, :H]
        ig *= gates[:, 2 * H:3 * H]
        c += ig
        np.tanh(c, out=h)
        h *= gates[:, 3 * H:]


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
