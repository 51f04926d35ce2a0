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

from dataclasses import asdict, dataclass

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
    """Per-generation state of a :class:`FusedStepper`: key-folded tables and ``(h, c)`` per layer.

    ``prev_table`` ``(131, 4H)`` layer-1 gates of each previous token under this key;
    ``key_bias`` ``(4H,)``; ``state`` = ``[h0, c0, h1, c1, ...]``, each ``(B, hidden)``.
    """

    prev_table: torch.Tensor
    key_bias: torch.Tensor
    state: list[torch.Tensor]


class FusedStepper:
    """Step-by-step inference with the weights of a :class:`MelodyLSTM` (read-only, thread-safe).

    ``begin(key, mode, state)`` fixes the key of one generation; ``meter_gates(ctx, pos,
    bar_len)`` precomputes the meter part of layer-1 gates for a run of steps ``(T, 4H)``;
    ``step(ctx, prev, meter_gate)`` advances a batch one step and returns logits ``(B, 130)``.
    The g-gate rows are pre-scaled by 2 so one sigmoid serves all four gates
    (``tanh(x) = 2 * sigmoid(2x) - 1``).
    """

    def __init__(self, model: MelodyLSTM) -> None:
        c = model.config
        self.hidden, self.layers = c.hidden, c.layers
        H = c.hidden
        scale = torch.ones(4 * H)
        scale[2 * H:3 * H] = 2.0
        with torch.no_grad():
            rnn = model.rnn
            w0 = rnn.weight_ih_l0 * scale[:, None]  # (4H, in)
            e, f = c.embed, c.feat
            cols = [0, e, e + f, e + 2 * f, e + 3 * f, e + 4 * f, e + 5 * f]
            tables = [emb.weight @ w0[:, cols[i]:cols[i + 1]].T for i, emb in
                      enumerate((model.tok, model.rel, model.pos, model.bar, model.key, model.mode))]
            self.t_tok, self.t_rel, self.t_pos, self.t_bar, self.t_key, self.t_mode = [t.contiguous() for t in tables]
            self.b0 = ((rnn.bias_ih_l0 + rnn.bias_hh_l0) * scale).contiguous()
            self.w_hh0_t = (rnn.weight_hh_l0 * scale[:, None]).T.contiguous()  # (H, 4H)
            self.upper = []
            for layer in range(1, c.layers):
                w = torch.cat([getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}")], dim=1)
                b = getattr(rnn, f"bias_ih_l{layer}") + getattr(rnn, f"bias_hh_l{layer}")
                self.upper.append(((w * scale[:, None]).T.contiguous(), (b * scale).contiguous()))  # (2H, 4H)
            self.w_out_t = model.head.weight.T.contiguous()  # (H, 130)
            self.b_out = model.head.bias.detach().clone()

    def begin(self, key: int, mode: int, state: list[torch.Tensor]) -> StepContext:
        """A context for key ``key`` (0-11, 12 unknown) and ``mode`` (0-2) from ``state``."""
        with torch.inference_mode():
            toks = torch.arange(VOCAB_SIZE)
            rel = relative_pitch_class(toks, torch.full_like(toks, key))
            prev_table = (self.t_tok + self.t_rel[rel]).contiguous()
            key_bias = (self.b0 + self.t_key[key] + self.t_mode[mode]).contiguous()
        return StepContext(prev_table, key_bias, list(state))

    def meter_gates(self, ctx: StepContext, pos: torch.Tensor, bar_len: torch.Tensor) -> torch.Tensor:
        """Layer-1 gate contribution of meter and key for each step: ``(T, 4H)``."""
        with torch.inference_mode():
            return self.t_pos[pos] + self.t_bar[bar_len] + ctx.key_bias

    def step(self, ctx: StepContext, prev: torch.Tensor, meter_gate: torch.Tensor) -> torch.Tensor:
        """One step for ``prev`` tokens ``(B,)``; ``meter_gate`` ``(4H,)``; returns logits ``(B, 130)``."""
        H, state = self.hidden, ctx.state
        gates = torch.addmm(ctx.prev_table.index_select(0, prev).add_(meter_gate), state[0], self.w_hh0_t)
        x = self._cell(gates, state, 0, H)
        for i, (w, b) in enumerate(self.upper, start=1):
            gates = torch.addmm(b, torch.cat((x, state[2 * i]), dim=1), w)
            x = self._cell(gates, state, i, H)
        return torch.addmm(self.b_out, x, self.w_out_t)

    @staticmethod
    def _cell(gates: torch.Tensor, state: list[torch.Tensor], layer: int, H: int) -> torch.Tensor:
        s = gates.sigmoid_()
        i, f, g, o = s[:, :H], s[:, H:2 * H], s[:, 2 * H:3 * H], s[:, 3 * H:]
        c = torch.addcmul(f * state[2 * layer + 1], i, g, value=2.0).sub_(i)  # f*c + i*(2g-1)
        h = c.tanh().mul_(o)
        state[2 * layer], state[2 * layer + 1] = h, c
        return h
