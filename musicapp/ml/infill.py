"""The infill service (Qt-free): regenerate a time range of a melody from both of its sides.

Owns :class:`MelodyInfiller`. ``infill(melody, start_tick, end_tick, ...)`` returns ``K``
candidate melodies in which every note that starts outside ``[start_tick, end_tick)`` is
the input's own note, unchanged, and the notes starting inside are new (a monophonic line,
cut at ``end_tick``); ``fill`` returns the new notes only (what the editor shows as ghost
notes). The infill checkpoint (``models/infill.json``, :mod:`musicapp.ml.infill_model`) is
loaded lazily under a lock; the prefix is read with ``nn.LSTM`` in one call, the suffix by
the backward GRU, and the region is sampled for all variations at once with the fused
stepper, with temperature, top-p, key/range masks, steering (:mod:`musicapp.ml.steering`)
and a cancel flag checked between 16th steps.
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from musicapp.core.scales import detect_key
from musicapp.core.song import DRUM_CHANNEL, PPQ, Key, Note, TimeSignature
from musicapp.ml.encoding import (BOS, HOLD, STEPS_PER_QUARTER, EncodingInfo, bar_start_step, decode_notes,
                                  encode_notes, positions_from_meters)
from musicapp.ml.generate import (MAX_VARIATIONS, Cancel, GenerationCancelled, GenerationError, MelodyGenerator,
                                  Progress, _is_cancelled, allowed_columns, model_key_features,
                                  sample_tokens)
from musicapp.ml.infill_model import KIND, InfillLSTM, lookahead_inputs, prefix_inputs, remaining_index
from musicapp.ml.lstm import NO_TOKEN, FusedStepper, LookbackHistory, single_thread
from musicapp.ml.steering import Steering, SteeringState, note_odds, octave_shift, shift_notes, shift_range

MAX_REGION_BARS = 64


class InfillError(GenerationError):
    """An infill request is impossible (empty region, outside the song, nothing on one side...)."""


def default_checkpoint() -> Path:
    """The shipped infill checkpoint (``models/infill.json``)."""
    from musicapp.paths import models_dir

    return models_dir() / "infill.json"


def region_notes(notes: Sequence[Note], start_tick: int, end_tick: int) -> tuple[list[Note], list[Note], list[Note]]:
    """``notes`` split by onset into (before ``start_tick``, inside the region, at or after ``end_tick``)."""
    before = [n for n in notes if n.start < start_tick]
    inside = [n for n in notes if start_tick <= n.start < end_tick]
    after = [n for n in notes if n.start >= end_tick]
    return before, inside, after


def check_region(notes: Sequence[Note], start_tick: int, end_tick: int, meters: Sequence[TimeSignature],
                 ppq: int = PPQ) -> None:
    """Raise :class:`InfillError` (one line) unless ``[start_tick, end_tick)`` can be infilled."""
    if end_tick <= start_tick:
        raise InfillError("the region is empty (its end is not after its start)")
    if start_tick < 0:
        raise InfillError("the region starts before the song")
    melody = [n for n in notes if n.channel != DRUM_CHANNEL]
    song_end = max((n.end for n in melody), default=0)
    if start_tick >= song_end:
        raise InfillError("the region lies outside the song (after its last note)")
    steps = round(end_tick / (ppq // STEPS_PER_QUARTER)) - round(start_tick / (ppq // STEPS_PER_QUARTER))
    pos, _ = positions_from_meters(meters, round(start_tick / (ppq // STEPS_PER_QUARTER)), max(1, steps), ppq)
    if int((pos == 0).sum()) > MAX_REGION_BARS or steps > MAX_REGION_BARS * 64:
        raise InfillError(f"the region is longer than {MAX_REGION_BARS} bars")
    if steps < 1:
        raise InfillError("the region is shorter than one 16th note")
    before, _, after = region_notes(melody, start_tick, end_tick)
    if not before:
        raise InfillError("no notes before the region: use Continue or Sample instead")
    if not after:
        raise InfillError("no notes after the region: use Continue instead")


class MelodyInfiller:
    """Fills regions with the shipped (or a given) infill checkpoint; thread-safe after loading.

    ``max_context`` is how many 16th steps before the region the model reads.
    """

    def __init__(self, checkpoint: str | os.PathLike | None = None, device: str | None = "cpu",
                 max_context: int = 256) -> None:
        self.checkpoint = Path(checkpoint) if checkpoint is not None else default_checkpoint()
        self.device_name = device
        self.max_context = max_context
        self._lock = threading.Lock()
        self._model: InfillLSTM | None = None
        self._stepper: FusedStepper | None = None
        self.meta = None
        self.last_tokens: np.ndarray | None = None

    def load(self) -> None:
        """Load and verify the checkpoint now (otherwise the first request does it)."""
        with self._lock:
            if self._model is not None:
                return
            from musicapp.ml.infill_train import build_model
            from musicapp.ml.training import model_tensors

            meta, tensors = model_tensors(self.checkpoint, kind=KIND, encoding=asdict(EncodingInfo()))
            model = build_model(meta, tensors, name=self.checkpoint.name)
            self._stepper = FusedStepper(model)
            self.meta = meta
            self._model = model  # the prefix and suffix are read on the CPU too (one short call each)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _ready(self) -> tuple[InfillLSTM, FusedStepper]:
        if self._model is None:
            self.load()
        assert self._model is not None and self._stepper is not None
        return self._model, self._stepper

    # ----- public ----------------------------------------------------------------------------
    def infill(self, melody: Sequence[Note], start_tick: int, end_tick: int, variations: int = 1,
               temperature: float = 1.0, top_p: float = 0.95, key: str | Key | None = "auto",
               pitch_range: tuple[int, int] | None = None, random_seed: int = 0, scale_mask: bool = True,
               meters: Sequence[TimeSignature] = (TimeSignature(0),), steering: Steering | None = None,
               cancel: Cancel = None, progress: Progress = None, ppq: int = PPQ) -> list[list[Note]]:
        """``variations`` whole melodies: the input's notes outside ``[start_tick, end_tick)``
        exactly as given (drums too), and new notes inside (see :meth:`fill` for the options)."""
        new = self.fill(melody, start_tick, end_tick, variations, temperature, top_p, key, pitch_range, random_seed,
                        scale_mask, meters, steering, cancel, progress, ppq)
        kept = [n for n in melody if not start_tick <= n.start < end_tick]
        return [sorted(kept + cand) for cand in new]

    def fill(self, melody: Sequence[Note], start_tick: int, end_tick: int, variations: int = 1,
             temperature: float = 1.0, top_p: float = 0.95, key: str | Key | None = "auto",
             pitch_range: tuple[int, int] | None = None, random_seed: int = 0, scale_mask: bool = True,
             meters: Sequence[TimeSignature] = (TimeSignature(0),), steering: Steering | None = None,
             cancel: Cancel = None, progress: Progress = None, ppq: int = PPQ) -> list[list[Note]]:
        """``variations`` lists of new notes (ticks) for the region ``[start_tick, end_tick)``.

        The region snaps to the 16th grid. ``key`` 'auto' detects the key of the notes
        outside the region, a ``Key`` is used as given, ``None`` means none; with a key and
        ``scale_mask`` every note-on is in its scale. ``pitch_range`` (low, high) MIDI,
        inclusive; ``temperature`` 0 is greedy; ``random_seed`` makes the result repeatable.
        """
        if not 1 <= int(variations) <= MAX_VARIATIONS:
            raise InfillError(f"variations must be 1..{MAX_VARIATIONS}, not {variations}")
        if not 0.0 <= float(temperature) <= 10.0:
            raise InfillError(f"temperature must be 0..10, not {temperature}")
        if not 0.0 < float(top_p) <= 1.0:
            raise InfillError(f"top-p must be in (0, 1], not {top_p}")
        if pitch_range is not None and not 0 <= pitch_range[0] <= pitch_range[1] <= 127:
            raise InfillError(f"pitch range {pitch_range[0]}..{pitch_range[1]} must lie within 0..127, low <= high")
        if ppq % STEPS_PER_QUARTER:
            raise InfillError(f"ppq {ppq} is not a multiple of {STEPS_PER_QUARTER}")
        meters = tuple(meters) or (TimeSignature(0),)
        tps = ppq // STEPS_PER_QUARTER
        start_tick, end_tick = round(start_tick / tps) * tps, round(end_tick / tps) * tps
        check_region(melody, start_tick, end_tick, meters, ppq)
        notes = [n for n in melody if n.channel != DRUM_CHANNEL]
        before, _, after = region_notes(notes, start_tick, end_tick)
        if key == "auto":
            key = detect_key(before + after)
        elif key is not None and not isinstance(key, Key):
            raise InfillError(f"key must be 'auto', a Key or None, not {key!r}")
        steering = Steering.of(steering) or Steering()
        shift = octave_shift(n.pitch for n in before + after) if steering.register else 0
        out = self._fill(shift_notes(before, shift), shift_notes(after, shift), start_tick // tps, end_tick // tps,
                         int(variations), float(temperature), float(top_p), key, bool(scale_mask),
                         shift_range(pitch_range, shift), int(random_seed), meters, steering, cancel, progress, ppq)
        return [shift_notes(c, -shift) for c in out]

    # ----- sampling --------------------------------------------------------------------------
    def context(self, before: list[Note], after: list[Note], a_abs: int, b_abs: int, meters, ppq: int = PPQ
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Tokens, bar positions and bar lengths ``(T,)`` of the notes around a region, and the
        absolute 16th step of token 0: from the bar of the first note the model reads (at most
        ``max_context`` steps before the region at step ``a_abs``) to ``suffix_steps`` after
        its end ``b_abs`` (or the end of the last note)."""
        model, _ = self._ready()
        tps = ppq // STEPS_PER_QUARTER
        first = round(min(n.start for n in before) / tps)
        origin = max(bar_start_step(meters, first, ppq), bar_start_step(meters, max(0, a_abs - self.max_context), ppq))
        end_abs = min(b_abs + model.infill_config.suffix_steps, round(max(n.end for n in after) / tps))
        enc, origin = encode_notes(before + after, meters, origin * tps, max(end_abs, b_abs + 1) * tps, ppq)
        return enc.tokens, enc.pos, enc.bar_len, origin

    def _fill(self, before: list[Note], after: list[Note], a_abs: int, b_abs: int, variations: int,
              temperature: float, top_p: float, key: Key | None, scale_mask: bool, pitch_range, random_seed: int,
              meters, steering: Steering, cancel: Cancel, progress: Progress, ppq: int) -> list[list[Note]]:
        model, stepper = self._ready()
        c = model.infill_config
        tokens, pos, bar_len, origin = self.context(before, after, a_abs, b_abs, meters, ppq)
        a, b = a_abs - origin, b_abs - origin
        n_gen = b - a
        feats = model_key_features(key)
        dev_key = torch.tensor([feats[0]])
        mask = MelodyGenerator._allowed(key if scale_mask else None, pitch_range)
        first_mask = mask.copy()
        if a > 0 and MelodyGenerator._sounding(tokens[:a]):
            first_mask[HOLD] = -np.inf
        K = len(c.lookback)
        la_all, _ = lookahead_inputs(tokens, bar_len, c.lookahead, (max(0, a - 1), b), len(tokens))
        la = la_all[1:] if a > 0 else la_all  # (R, J) per region step
        la_prev = la_all[0] if a > 0 else np.full(len(c.lookahead), NO_TOKEN)  # lookahead row of the step before
        remain = remaining_index(b - np.arange(a, b), c.max_remaining)
        first_cols, cols = allowed_columns(first_mask), allowed_columns(mask)
        rng = np.random.default_rng(random_seed)
        inv_t = 1.0 / temperature if temperature > 0 else 0.0
        out = np.empty((variations, n_gen), dtype=np.int64)
        history = LookbackHistory(stepper.lookback, tokens[:a], bar_len[:b], variations)
        with single_thread(), torch.inference_mode():
            s_tok = torch.from_numpy(tokens[b:b + c.gru_steps][::-1].copy())[None]
            s_pos = torch.from_numpy(pos[b:b + c.gru_steps][::-1].copy())[None]
            summary = model.summarise_suffix(s_tok, s_pos, dev_key, torch.tensor([s_tok.shape[1]]))
            ctx = stepper.begin(*feats)
            meter = stepper.meter_gates(ctx, pos[a:b], bar_len[a:b]) + model.extra_gates(remain, summary)
            odds = None
            if a > 0:
                inputs = prefix_inputs(model, tokens[:a], pos[:a], bar_len[:a], *feats)
                y, (h, cell) = model.rnn(model.features(**inputs))
                stepper.set_state(ctx, [x.float().numpy() for x in h], [x.float().numpy() for x in cell])
                if steering.density is not None:
                    odds = note_odds(model.logits(y[0, -64:], inputs["lb"][0, -64:]).float().numpy(), mask)
            ctx = ctx.expand(variations)
            steer = SteeringState(steering, tokens[:a], pos[:a], pos[a:b], bar_len[a:b], variations, temperature,
                                  K, context_odds=odds, register_tokens=np.concatenate([tokens[:a], tokens[b:]]))
            scale = steering.copy_scale(K + len(c.lookahead), K)
            prev = np.full(variations, tokens[a - 1] if a > 0 else BOS, dtype=np.int64)
            prev_la = np.broadcast_to(la_prev, (variations, len(la_prev)))
            for t in range(n_gen):
                if _is_cancelled(cancel):
                    raise GenerationCancelled("generation cancelled")
                lb_back, m_back = history.next(prev)
                la_t = np.broadcast_to(la[t], (variations, la.shape[1]))
                m_ahead = ((prev[:, None] == prev_la) & (prev_la != NO_TOKEN)).astype(np.int64)
                lb = np.concatenate([lb_back, la_t], axis=1)
                match = np.concatenate([m_back, m_ahead], axis=1)
                logits = stepper.step(ctx, prev, meter[t], lb, match, scale)
                m = first_mask if t == 0 else mask
                z = steer.adjust(t, logits, m, lb)
                prev = sample_tokens(z, m, inv_t, top_p, rng, first_cols if t == 0 else cols)
                steer.observe(prev)
                prev_la = la_t
                out[:, t] = prev
                if progress is not None:
                    progress(t + 1, n_gen)
        self.last_tokens = out  # (K, R) region tokens of the last request (tests, evaluation)
        tps = ppq // STEPS_PER_QUARTER
        start = (origin + a) * tps
        return [decode_notes(row, start, ticks_per_step=tps) for row in out.tolist()]
