"""Steering beyond temperature, applied to the logits at sampling time (Qt-free, numpy).

Owns :class:`Steering` (what the user asks: note density, rhythm, repetition, register) and
:class:`SteeringState`, which a sampler (Continue, Infill, the VAE's decoder) creates once
per request and calls every 16th step:

- **density** (average notes per bar): a per-row log-odds bias ``b`` on every note-on token
  against HOLD/REST, solved each step so that the model's own note-on probabilities,
  shifted by ``b``, average to the rate still needed to reach the target over the steps
  left (``mean_s sigmoid(u_s + b) = r``, ``u_s`` the unbiased note-on log-odds of the steps
  seen so far, the context's last steps included, so the bias keeps the model's metrical
  shape and only moves its level). Solved by a few Newton steps from
  the last step's ``b``, each at most ``MAX_STEP`` nats (the mean is monotone in ``b``).
- **rhythm** ``seed``: note-ons (and rests) only on the seed's onset grid (the gcd of its
  onset positions in the bar) and never sooner after the previous onset than the seed's
  shortest inter-onset interval; ``free`` adds nothing.
- **repeat** (0..1, 0.5 = as trained): scales the LSTM's copy gate for the lookback slots by
  ``2 * repeat``; below 0.5 a note-on equal to a lookback token also loses
  ``(0.5 - repeat) * 2 * REPEAT_PENALTY`` nats, above it every lookback token (note, hold or
  rest) gains ``(repeat - 0.5) * 2 * REPEAT_BONUS`` nats per slot that holds it.
- **register**: the models learnt the corpora's register (medians around G4-D5; only
  +-2 semitones of transposition in training), so a seed two octaves down is continued two
  octaves up. The samplers therefore move the context by whole octaves (:func:`octave_shift`,
  the key is unchanged) so that its median pitch lies near ``REGISTER_CENTRE``, generate, and
  move the new notes back; on top, note-ons more than ``REGISTER_SLACK`` semitones outside
  the context's pitch span lose ``REGISTER_SLOPE`` nats per semitone.

Tokens follow :mod:`musicapp.ml.encoding` (0 REST, 1 HOLD, 2 + pitch).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from typing import Mapping

import numpy as np

from musicapp.core.errors import MusicappError
from musicapp.ml.encoding import HOLD, NUM_CLASSES, PITCH_OFFSET, REST

RHYTHMS = ("seed", "free")
REPEAT_PENALTY = 3.0  # nats at repeat 0
REPEAT_BONUS = 1.0  # nats per lookback slot at repeat 1
REGISTER_SLACK = 4  # semitones beyond the context's span that are free
REGISTER_SLOPE = 0.3  # nats per semitone beyond that
REGISTER_CENTRE = 69  # MIDI pitch the context's median is moved near (by octaves)
MIN_RATE, MAX_RATE = 0.005, 0.97
BIAS_LIMIT = 30.0  # nats
NEWTON_STEPS = 4  # per 16th step, from the last step's bias
MAX_STEP = 3.0  # nats per Newton step: saturated sigmoids cannot make it overshoot
PRIOR_STEPS = 32  # context steps whose note-on odds start the density calibration


class SteeringError(MusicappError, ValueError):
    """A steering value is out of range."""


@dataclass(frozen=True)
class Steering:
    """What to steer. ``density`` notes per bar (None: as the model likes); ``rhythm`` 'seed'
    or 'free'; ``repeat`` 0..1 (None: as trained); ``register`` follow the context's register."""

    density: float | None = None
    rhythm: str = "free"
    repeat: float | None = None
    register: bool = True

    def __post_init__(self) -> None:
        if self.density is not None and not 0.25 <= float(self.density) <= 16.0:
            raise SteeringError(f"density must be 0.25..16 notes per bar, not {self.density}")
        if self.rhythm not in RHYTHMS:
            raise SteeringError(f"rhythm must be 'seed' or 'free', not {self.rhythm!r}")
        if self.repeat is not None and not 0.0 <= float(self.repeat) <= 1.0:
            raise SteeringError(f"repeat must be 0..1, not {self.repeat}")

    @classmethod
    def of(cls, value: "Steering | Mapping[str, object] | None") -> "Steering | None":
        """``value`` as a Steering: a Steering as is, a mapping of its fields (what the editor,
        which never imports ``musicapp.ml``, sends), or None."""
        if value is None or isinstance(value, Steering):
            return value
        try:
            return cls(**dict(value))
        except TypeError as err:
            raise SteeringError(f"unknown steering option ({err})") from None

    def copy_scale(self, slots: int, lookback: int) -> np.ndarray | None:
        """Copy-gate multipliers ``(slots,)``: lookback slots scaled, others (lookahead) kept."""
        if self.repeat is None or lookback == 0:
            return None
        s = np.ones(slots, np.float32)
        s[:lookback] = 2.0 * float(self.repeat)
        return s


def octave_shift(pitches) -> int:
    """Semitones (a multiple of 12) that move the median of ``pitches`` nearest to ``REGISTER_CENTRE``,
    kept so that every pitch stays inside 0..127 (0 for no pitches)."""
    p = np.asarray(list(pitches), dtype=np.int64)
    if p.size == 0:
        return 0
    k = int(round((REGISTER_CENTRE - float(np.median(p))) / 12.0))
    while k > 0 and p.max() + 12 * k > 127:
        k -= 1
    while k < 0 and p.min() + 12 * k < 0:
        k += 1
    return 12 * k


def shift_notes(notes, semitones: int) -> list:
    """``notes`` (core ``Note``) moved by ``semitones`` (pitches clipped to 0..127)."""
    from dataclasses import replace

    if not semitones:
        return list(notes)
    return [replace(n, pitch=min(127, max(0, n.pitch + semitones))) for n in notes]


def shift_range(pitch_range: tuple[int, int] | None, semitones: int) -> tuple[int, int] | None:
    """A (low, high) pitch range moved by ``semitones`` and clipped to 0..127 (None stays None)."""
    if pitch_range is None or not semitones:
        return pitch_range
    lo, hi = pitch_range
    return min(127, max(0, lo + semitones)), min(127, max(0, hi + semitones))


def onset_grid(tokens: np.ndarray, pos: np.ndarray) -> tuple[int, int]:
    """The rhythm of ``tokens``: (onset grid in steps, shortest inter-onset interval in steps).

    The grid is the gcd of the bar positions of note-ons (1 when there are none); the
    interval is at least the grid.
    """
    t = np.asarray(tokens)
    on = np.flatnonzero((t >= PITCH_OFFSET) & (t < NUM_CLASSES))
    if len(on) == 0:
        return 1, 1
    g = 0
    for p in np.asarray(pos)[on]:
        g = gcd(g, int(p))
    g = g or int(np.asarray(pos)[on].max() + 1) or 1
    g = min(g, 8)
    ioi = int(np.diff(on).min()) if len(on) > 1 else g
    return g, max(g, ioi)


class SteeringState:
    """Per-request steering: call :meth:`adjust` on each step's logits, then :meth:`observe`.

    ``context`` tokens ``(S,)`` precede the generated steps (the seed, or an infill's prefix
    with its suffix for the register); ``context_pos`` their bar positions; ``pos`` and
    ``bar_len`` ``(N,)`` describe the ``N`` generated steps; ``batch`` rows are sampled at
    once. ``context_odds`` ``(S,)`` optional unbiased note-on log-odds of the context's steps.
    ``temperature`` is the sampling temperature (the bias is solved at that temperature).
    """

    def __init__(self, steering: Steering, context: np.ndarray, context_pos: np.ndarray, pos: np.ndarray,
                 bar_len: np.ndarray, batch: int, temperature: float = 1.0, lookback: int = 0,
                 context_odds: np.ndarray | None = None, register_tokens: np.ndarray | None = None) -> None:
        self.s = steering
        self.pos, self.bar_len = np.asarray(pos), np.asarray(bar_len)
        self.n = len(self.pos)
        self.batch = batch
        self.t_scale = temperature if temperature > 0 else 1.0
        self.lookback = lookback
        ctx = np.asarray(context, dtype=np.int64)
        # density: target note count over the generated steps, running count and bias per row
        self.target = None
        if steering.density is not None:
            self.target = float(steering.density) * float((1.0 / np.maximum(self.bar_len, 1)).sum())
            self.count = np.zeros(batch)
            self.b = np.zeros(batch)
            prior = np.asarray(context_odds, dtype=np.float64)[-PRIOR_STEPS:] if context_odds is not None else \
                np.zeros(0)
            self.hist = np.zeros((batch, len(prior) + self.n))
            self.hist[:, :len(prior)] = prior
            self.open = np.zeros((batch, len(prior) + self.n), dtype=bool)
            self.open[:, :len(prior)] = True
            self.h = len(prior)
        # rhythm
        self.grid = self.min_ioi = 1
        self.since = 10 ** 6
        if steering.rhythm == "seed" and len(ctx):
            self.grid, self.min_ioi = onset_grid(ctx, context_pos)
            on = np.flatnonzero((ctx >= PITCH_OFFSET) & (ctx < NUM_CLASSES))
            self.since = len(ctx) - int(on[-1]) if len(on) else 10 ** 6
        self.since_row = np.full(batch, self.since, dtype=np.int64)
        on_grid = (self.pos % self.grid == 0).astype(np.float64)  # steps left where the grid lets a note start
        self.left_open = np.maximum(np.cumsum(on_grid[::-1])[::-1], 1.0)
        # register: a penalty row over the 130 classes
        self.register_row = None
        reg = ctx if register_tokens is None else np.asarray(register_tokens, dtype=np.int64)
        notes = reg[(reg >= PITCH_OFFSET) & (reg < NUM_CLASSES)] - PITCH_OFFSET
        if steering.register and len(notes):
            lo, hi = int(notes.min()) - REGISTER_SLACK, int(notes.max()) + REGISTER_SLACK
            p = np.arange(128)
            out = np.maximum(0, np.maximum(lo - p, p - hi))
            self.register_row = np.concatenate([[0.0, 0.0], -REGISTER_SLOPE * out]).astype(np.float32)

    @property
    def copy_scale(self) -> np.ndarray | None:
        return None if self.lookback == 0 else self.s.copy_scale(self.lookback, self.lookback)

    def adjust(self, t: int, logits: np.ndarray, mask: np.ndarray, lb: np.ndarray | None = None) -> np.ndarray:
        """Steered logits for generated step ``t`` (a new array): ``logits`` ``(B, 130)`` raw,
        ``mask`` ``(130,)`` the additive key/range mask (used to measure note-on odds),
        ``lb`` ``(B, K)`` this step's lookback tokens (for the repeat penalty)."""
        z = logits.copy()
        if self.register_row is not None:
            z += self.register_row
        if self.s.repeat is not None and self.s.repeat != 0.5 and lb is not None and self.lookback:
            src = lb[:, :self.lookback]
            rows = np.repeat(np.arange(len(z)), src.shape[1])
            cols = src.reshape(-1)
            if self.s.repeat < 0.5:  # a note-on that would repeat an earlier bar's note costs nats
                ok = (cols >= PITCH_OFFSET) & (cols < NUM_CLASSES)
                np.subtract.at(z, (rows[ok], cols[ok]), (0.5 - float(self.s.repeat)) * 2.0 * REPEAT_PENALTY)
            else:  # every token an earlier bar had here (notes, holds, rests) gains nats
                ok = cols < NUM_CLASSES
                np.add.at(z, (rows[ok], cols[ok]), (float(self.s.repeat) - 0.5) * 2.0 * REPEAT_BONUS)
        if self.grid > 1 or self.min_ioi > 1:
            off_grid = int(self.pos[t]) % self.grid != 0
            block = np.full(len(z), off_grid) | (self.since_row < self.min_ioi)
            if block.any():
                z[block, PITCH_OFFSET:] = -np.inf
                if off_grid:
                    z[:, REST] = -np.inf
        if self.target is not None:
            self._density(t, z, mask)
        return z

    def _density(self, t: int, z: np.ndarray, mask: np.ndarray) -> None:
        """Add the solved note-on bias to ``z`` in place (see the module doc)."""
        zz = (z + mask) / self.t_scale
        on = zz[:, PITCH_OFFSET:]
        off = zz[:, :PITCH_OFFSET]
        m_on = on.max(axis=1)
        m_off = off.max(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            l_on = m_on + np.log(np.exp(on - m_on[:, None]).sum(axis=1))
            l_off = m_off + np.log(np.exp(off - m_off[:, None]).sum(axis=1))
        blocked = ~np.isfinite(l_on)
        u = np.where(blocked, 0.0, l_on - l_off)
        self.hist[:, self.h + t] = np.clip(u, -30.0, 30.0)
        self.open[:, self.h + t] = ~blocked  # steps where a note could start count in the calibration
        need = np.clip((self.target - self.count) / self.left_open[t], MIN_RATE, MAX_RATE)
        hs = self.hist[:, :self.h + t + 1]
        w = self.open[:, :self.h + t + 1]
        n_open = np.maximum(w.sum(axis=1), 1)
        b = self.b
        for _ in range(NEWTON_STEPS):  # the mean of sigmoid(hs + b) over open steps = need, per row
            p = 1.0 / (1.0 + np.exp(-(hs + b[:, None])))
            pw = p * w
            f = pw.sum(axis=1) / n_open - need
            d = np.maximum(((pw * (1.0 - p)).sum(axis=1)) / n_open, 1e-6)
            b = np.clip(b - np.clip(f / d, -MAX_STEP, MAX_STEP), -BIAS_LIMIT, BIAS_LIMIT)
        self.b = b
        z[:, PITCH_OFFSET:] += np.where(blocked, 0.0, b * self.t_scale)[:, None]

    def observe(self, tokens: np.ndarray) -> None:
        """The tokens ``(B,)`` sampled for the step just adjusted."""
        is_on = (tokens >= PITCH_OFFSET) & (tokens < NUM_CLASSES)
        if self.target is not None:
            self.count += is_on
        self.since_row = np.where(is_on, 1, self.since_row + 1)


def bars_of(bar_len: np.ndarray) -> float:
    """How many bars ``bar_len`` ``(N,)`` steps span."""
    return float((1.0 / np.maximum(np.asarray(bar_len), 1)).sum())


def note_odds(logits: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Unbiased note-on log-odds (note-ons against HOLD + REST) of logits ``(T, 130)`` -> ``(T,)``."""
    z = np.asarray(logits, dtype=np.float64) + (0.0 if mask is None else mask)
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    on = e[:, PITCH_OFFSET:].sum(axis=1)
    off = e[:, [REST, HOLD]].sum(axis=1)
    with np.errstate(divide="ignore"):
        return np.clip(np.log(on) - np.log(off), -30.0, 30.0)
