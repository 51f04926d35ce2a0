"""The infill model: the melody LSTM that also reads what comes *after* the region it fills.

Owns :class:`InfillConfig`, :class:`InfillLSTM` and the per-step inputs that only infilling
has (:func:`lookahead_inputs`, :func:`remaining_index`). Design (fill-in-the-middle):

- the forward melody LSTM of :mod:`musicapp.ml.lstm` (same encoding, embeddings, lookback
  inputs and copy gate) reads the prefix exactly as it does for Continue;
- a small GRU runs **backwards** over the suffix (the tokens after the region, nearest last,
  so its final state is dominated by the first notes the region has to lead into); its
  final state is a summary vector that feeds layer 1 of the LSTM on every region step;
- per region step two more inputs: the number of steps until the region ends (embedded,
  clipped) and **lookahead** tokens -- the suffix token at the same bar position ``d`` bars
  later (``d`` in ``lookahead``), the mirror image of the lookback inputs -- which get their
  own slots in the copy gate, so the region can borrow a bar that follows it as cheaply as
  one that precedes it.

Outside the region (the prefix) these inputs are "none" and the summary is masked, so a
freshly built model initialised from the shipped LSTM (:meth:`InfillLSTM.from_lstm`, new
weights zero) *is* that LSTM, and the prefix is read the same way whatever the region.
The lookahead slots sit after the lookback slots in the ``lb``/``match`` inputs, so
:class:`musicapp.ml.lstm.FusedStepper` runs this model unchanged; the remaining-steps and
summary inputs are the last input columns and enter the stepper as per-step gate rows
(:meth:`InfillLSTM.extra_gates`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from musicapp.ml.encoding import MAX_BAR_STEPS, VOCAB_SIZE
from musicapp.ml.lstm import NO_TOKEN, LSTMConfig, MelodyLSTM, melody_inputs, relative_pitch_class

KIND = "infill"


@dataclass(frozen=True)
class InfillConfig:
    """Sizes of the infill model: the LSTM's (see :class:`LSTMConfig`) plus the suffix reader.

    ``lookahead`` distances in bars; ``suffix_hidden`` GRU units; ``suffix_embed`` its token
    embedding width; ``suffix_steps`` how many 16th steps after the region the lookahead
    inputs may read, ``gru_steps`` how many of them the suffix GRU reads;
    ``max_remaining`` steps-until-end values above this share one embedding.
    """

    hidden: int = 160
    layers: int = 2
    embed: int = 96
    feat: int = 16
    dropout: float = 0.0
    lookback: tuple[int, ...] = (1, 2, 4, 8)
    lookahead: tuple[int, ...] = (1, 2, 4, 8)
    suffix_hidden: int = 96
    suffix_embed: int = 48
    suffix_steps: int = 128
    gru_steps: int = 64
    max_remaining: int = 128

    def __post_init__(self) -> None:
        la = tuple(self.lookahead)
        if any(not isinstance(d, int) or not 1 <= d <= 64 for d in la) or len(set(la)) != len(la):
            raise ValueError("lookahead must be distinct bar counts 1..64")
        object.__setattr__(self, "lookahead", la)
        object.__setattr__(self, "lookback", tuple(self.lookback))
        for name in ("suffix_hidden", "suffix_embed", "suffix_steps", "gru_steps", "max_remaining"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer")
        self.lstm_config()  # validates the LSTM part

    def lstm_config(self) -> LSTMConfig:
        return LSTMConfig(hidden=self.hidden, layers=self.layers, embed=self.embed, feat=self.feat,
                          dropout=self.dropout, lookback=self.lookback)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lookback"], d["lookahead"] = list(self.lookback), list(self.lookahead)
        return d


def with_lookahead(config: InfillConfig, lookahead: tuple[int, ...] | None = None,
                   suffix_steps: int | None = None) -> InfillConfig:
    """``config`` with more lookahead distances and/or another suffix window (16th steps), as a
    trained model can be widened: ``lookahead`` must start with ``config``'s distances (their
    slots keep their place). None keeps a value. Raises ``ValueError`` otherwise, or when the
    result is not a valid config."""
    la = config.lookahead if lookahead is None else tuple(lookahead)
    if la[:len(config.lookahead)] != config.lookahead:
        raise ValueError(f"lookahead {','.join(map(str, la))} must start with the checkpoint's distances "
                         f"{','.join(map(str, config.lookahead))}")
    return replace(config, lookahead=la, suffix_steps=config.suffix_steps if suffix_steps is None else suffix_steps)


def remaining_index(remaining: np.ndarray | torch.Tensor, max_remaining: int):
    """Embedding index of "steps until the region ends": 0 outside the region (``remaining`` <= 0),
    else ``min(remaining, max_remaining)``."""
    if isinstance(remaining, torch.Tensor):
        return remaining.clamp(0, max_remaining)
    return np.clip(remaining, 0, max_remaining)


def lookahead_inputs(tokens: np.ndarray, bar_len: np.ndarray, distances: tuple[int, ...], region: tuple[int, int],
                     known_end: int) -> tuple[np.ndarray, np.ndarray]:
    """Lookahead tokens and match flags for the steps ``region[0]..region[1]-1`` of a melody.

    ``tokens`` ``(T,)`` hold the melody (only ``region[1]..known_end-1`` are read: the
    suffix); ``bar_len`` ``(T,)`` per step (steps past ``T`` continue the last one is not
    needed: sources past ``known_end`` are "none"). ``la[t, j]`` is the suffix token
    ``d_j`` bars after step ``t`` (``NO_TOKEN`` unless it lies in the known suffix);
    ``match[t, j] = 1`` when the token of step ``t - 1`` equals ``la[t - 1, j]`` (for the
    region's first step, with the same rule over the prefix's last step). Returns int64
    ``(R, J)`` arrays.
    """
    a, b = region
    tokens = np.asarray(tokens, dtype=np.int64)
    bl = np.asarray(bar_len, dtype=np.int64)
    rows = np.arange(max(0, a - 1), b)
    d = np.asarray(distances, dtype=np.int64)
    src = rows[:, None] + d[None, :] * bl[rows][:, None] if len(rows) else np.zeros((0, len(d)), np.int64)
    ok = (src >= b) & (src < known_end)
    la = np.where(ok, tokens[np.clip(src, 0, len(tokens) - 1)], NO_TOKEN)
    if a > 0:
        prev_tok = tokens[rows[:-1]]
        match = np.zeros((b - a, len(d)), np.int64)
        match[:] = (la[:-1] != NO_TOKEN) & (la[:-1] == prev_tok[:, None])
        la = la[1:]
    else:
        match = np.zeros((b - a, len(d)), np.int64)
        if b - a > 1:
            match[1:] = (la[:-1] != NO_TOKEN) & (la[:-1] == tokens[a:b - 1, None])
    return la, match


def prefix_inputs(model: "InfillLSTM", tokens: np.ndarray, pos: np.ndarray, bar_len: np.ndarray, key: int,
                  mode: int) -> dict:
    """Keyword inputs (batch 1) for reading a prefix: :func:`melody_inputs` with the lookahead
    slots empty (``NO_TOKEN``, match 0), as the model reads every step outside a region."""
    inputs = melody_inputs(model, tokens, pos, bar_len, key, mode)
    J = len(model.infill_config.lookahead)
    lb, match = inputs["lb"], inputs["match"]
    inputs["lb"] = torch.cat([lb, torch.full((*lb.shape[:2], J), NO_TOKEN, dtype=lb.dtype)], dim=-1)
    inputs["match"] = torch.cat([match, torch.zeros((*match.shape[:2], J), dtype=match.dtype)], dim=-1)
    return inputs


class InfillLSTM(MelodyLSTM):
    """:class:`MelodyLSTM` with suffix summary, steps-until-end and lookahead inputs (see module doc).

    ``config`` stays the LSTM part (so the fused stepper and lookback helpers read it);
    ``infill_config`` is the whole :class:`InfillConfig`.
    """

    def __init__(self, config: InfillConfig) -> None:
        super().__init__(config.lstm_config())
        self.infill_config = config
        c = config
        K, J = len(c.lookback), len(c.lookahead)
        self.lb = nn.ModuleList(nn.Embedding(VOCAB_SIZE, 2 * c.feat) for _ in range(K + J))
        self.match = nn.ModuleList(nn.Embedding(2, c.feat) for _ in range(K + J))
        self.base_inputs = c.embed + 5 * c.feat + 3 * c.feat * (K + J)
        self.rnn = nn.LSTM(self.base_inputs + c.feat + c.suffix_hidden, c.hidden, num_layers=c.layers,
                           batch_first=True, dropout=c.dropout if c.layers > 1 else 0.0)
        self.copy = nn.Linear(c.hidden, K + J)
        self.remain = nn.Embedding(c.max_remaining + 1, c.feat)
        self.suffix_tok = nn.Embedding(VOCAB_SIZE, c.suffix_embed)
        self.suffix_rel = nn.Embedding(13, c.feat)
        self.suffix_pos = nn.Embedding(MAX_BAR_STEPS, c.feat)
        self.suffix_rnn = nn.GRU(c.suffix_embed + 2 * c.feat, c.suffix_hidden, batch_first=True)

    @classmethod
    def from_lstm(cls, lstm: MelodyLSTM, config: InfillConfig) -> "InfillLSTM":
        """A model whose prefix and (before training) region behaviour equals ``lstm``'s exactly.

        Shared weights are copied; the new input columns, lookahead slots and copy rows start
        at zero, so the suffix inputs first have no effect and training learns to use them.
        """
        if lstm.config.to_dict() != config.lstm_config().to_dict():
            raise ValueError("the LSTM's config does not match the infill config's LSTM part")
        model = cls(config)
        model._load_grown(lstm.state_dict(), slots=len(config.lookback), tail=0)
        return model

    def widen(self, lookahead: tuple[int, ...], suffix_steps: int | None = None) -> "InfillLSTM":
        """A copy of this model with more lookahead distances (and optionally a longer suffix
        window), behaving exactly as this one until trained.

        ``lookahead`` must start with this model's distances (their slots keep their place, so
        every learned weight is copied); the new slots' input columns and copy rows start at
        zero. ``suffix_steps`` (16th steps the lookahead may read after the region) defaults
        to this model's. Raises ``ValueError`` for distances that do not extend the current ones.
        """
        old = self.infill_config
        model = InfillLSTM(with_lookahead(old, lookahead, suffix_steps)).to(next(self.parameters()).device)
        model._load_grown(self.state_dict(), slots=len(old.lookback) + len(old.lookahead),
                          tail=old.feat + old.suffix_hidden)
        return model.train(self.training)

    def _load_grown(self, src: dict, slots: int, tail: int) -> None:
        """Load the state dict ``src`` of a model with fewer copy slots into this one.

        ``src`` has ``slots`` lookback/lookahead slots, which are this model's first ones in the
        same order, and ``tail`` layer-1 input columns after its slot inputs (0 for an LSTM; the
        remaining-steps and summary inputs for an infill model). Those keep their weights; the
        other slots' input columns and copy rows are zero (their embeddings keep their fresh
        init), so the model predicts as the source did; every other weight is copied.
        """
        c = self.infill_config
        f, e5, n = c.feat, c.embed + 5 * c.feat, len(c.lookback) + len(c.lookahead)
        own = self.state_dict()
        with torch.no_grad():
            for name, value in src.items():
                if name == "rnn.weight_ih_l0":
                    w = torch.zeros_like(own[name])
                    tok = e5 + 2 * f * slots  # embeddings + the source's slot tokens
                    w[:, :tok] = value[:, :tok]
                    m = e5 + 2 * f * n
                    w[:, m:m + f * slots] = value[:, tok:tok + f * slots]  # their match flags
                    if tail:
                        w[:, self.base_inputs:self.base_inputs + tail] = value[:, -tail:]
                    own[name] = w
                elif name in ("copy.weight", "copy.bias"):
                    own[name] = torch.zeros_like(own[name])
                    own[name][:slots] = value
                else:
                    own[name] = value.clone()
            self.load_state_dict(own)

    # ----- suffix ------------------------------------------------------------------------------
    def summarise_suffix(self, tokens: torch.Tensor, pos: torch.Tensor, key: torch.Tensor,
                         lengths: torch.Tensor) -> torch.Tensor:
        """Suffix summary ``(B, suffix_hidden)``.

        ``tokens``/``pos`` ``(B, S)`` are the suffix steps *reversed* (the step after the
        region last), right-padded; ``key`` ``(B,)`` tonic (12 unknown); ``lengths`` ``(B,)``
        real steps per row (>= 1).
        """
        rel = relative_pitch_class(tokens, key[:, None].expand_as(tokens))
        x = torch.cat([self.suffix_tok(tokens), self.suffix_rel(rel), self.suffix_pos(pos)], dim=-1)
        packed = pack_padded_sequence(x, lengths.cpu().clamp(min=1), batch_first=True, enforce_sorted=False)
        _, h = self.suffix_rnn(packed)
        return h[-1]

    # ----- forward -----------------------------------------------------------------------------
    def features(self, prev, pos, bar_len, key, mode, lb=None, match=None, remain=None,  # type: ignore[override]
                 summary=None) -> torch.Tensor:
        """Input embeddings ``(B, T, base + feat + suffix_hidden)``.

        ``remain`` ``(B, T)`` :func:`remaining_index` values (0 = outside the region, the
        default); ``summary`` ``(B, suffix_hidden)`` from :meth:`summarise_suffix` (masked to 0
        outside the region; None = zeros).
        """
        base = super().features(prev, pos, bar_len, key, mode, lb, match)
        if remain is None:
            remain = torch.zeros_like(prev)
        inside = (remain > 0).to(base.dtype)[..., None]
        if summary is None:
            s = base.new_zeros(*prev.shape, self.infill_config.suffix_hidden)
        else:
            s = summary[:, None, :].to(base.dtype) * inside
        return torch.cat([base, self.remain(remain).to(base.dtype), s], dim=-1)

    def forward(self, prev, pos, bar_len, key, mode, state=None, lb=None, match=None, remain=None,  # type: ignore[override]
                summary=None):
        """Logits ``(B, T, 130)`` (copy gate over lookback and lookahead slots) and the LSTM state."""
        x = self.in_drop(self.features(prev, pos, bar_len, key, mode, lb, match, remain, summary))
        y, state = self.rnn(x, state)
        return self.logits(self.out_drop(y), lb), state

    # ----- fused-stepper support ---------------------------------------------------------------
    @torch.no_grad()
    def extra_gates(self, remain: np.ndarray, summary: torch.Tensor | None) -> np.ndarray:
        """Layer-1 gate rows ``(T, 4H)`` of the remaining-steps and summary inputs, pre-scaled the
        way :class:`FusedStepper` scales its tables (i, f, o rows by 0.5)."""
        H = self.config.hidden
        w = self.rnn.weight_ih_l0[:, self.base_inputs:].float()  # (4H, feat + G)
        scale = torch.full((4 * H,), 0.5)
        scale[2 * H:3 * H] = 1.0
        idx = torch.from_numpy(np.ascontiguousarray(remain, dtype=np.int64))
        f = self.infill_config.feat
        rows = self.remain.weight.float()[idx] @ w[:, :f].T  # (T, 4H)
        if summary is not None:
            inside = (idx > 0).float()[:, None]
            rows = rows + inside * (summary.float().reshape(1, -1) @ w[:, f:].T)
        return (rows * scale).numpy().astype(np.float32)


def suffix_arrays(tokens: np.ndarray, pos: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``steps`` suffix tokens and positions, reversed, as the suffix GRU reads them."""
    t = np.asarray(tokens, dtype=np.int64)[:steps][::-1].copy()
    p = np.asarray(pos, dtype=np.int64)[:steps][::-1].copy()
    return t, p



def region_inputs(model: InfillLSTM, tokens: np.ndarray, pos: np.ndarray, bar_len: np.ndarray, key: int, mode: int,
                  region: tuple[int, int]) -> dict:
    """Teacher-forced keyword inputs (batch 1) of :meth:`InfillLSTM.forward` for a whole melody
    whose steps ``region[0]..region[1]-1`` are the region: lookback over every step, lookahead
    and steps-until-end inside the region, and the summary of up to ``gru_steps`` suffix steps
    (every step after the region is known). Used by evaluation and tests; sampling builds the
    same inputs step by step."""
    c = model.infill_config
    a, b = region
    tokens = np.asarray(tokens, dtype=np.int64)
    inputs = prefix_inputs(model, tokens, pos, bar_len, key, mode)
    K = len(c.lookback)
    la, la_m = lookahead_inputs(tokens, bar_len, c.lookahead, (a, b), len(tokens))
    inputs["lb"][0, a:b, K:] = torch.from_numpy(la)
    inputs["match"][0, a:b, K:] = torch.from_numpy(la_m)
    remain = np.zeros(len(tokens), np.int64)
    remain[a:b] = remaining_index(b - np.arange(a, b), c.max_remaining)
    inputs["remain"] = torch.from_numpy(remain)[None]
    n = max(1, min(c.gru_steps, len(tokens) - b))
    s_tok = torch.from_numpy(tokens[b:b + n][::-1].copy())[None]
    s_pos = torch.from_numpy(np.asarray(pos, dtype=np.int64)[b:b + n][::-1].copy())[None]
    inputs["summary"] = model.summarise_suffix(s_tok, s_pos, torch.tensor([key]), torch.tensor([n]))
    return inputs
