"""The melody generation service (Qt-free): continue a phrase, score melodies.

Owns :class:`MelodyGenerator`, which loads its LSTM checkpoint lazily (once, under a
lock, so any thread may call it first), primes the LSTM on the seed's top line, then
samples all variations as one batch with temperature, nucleus (top-p), key and
pitch-range masks, and (chord lock) a per-step bias toward a chord track's tones
(``ml.chord_lock``). Results are core ``Note`` lists in ticks, placed after the seed.
The editor calls :meth:`MelodyGenerator.continue_melody` from its worker thread with a
cancel flag (a newer request cancels the running one); cancellation is checked between
16th steps and raises :class:`GenerationCancelled`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from musicapp.core.chords import Chord
from musicapp.core.errors import MusicappError
from musicapp.core.scales import detect_key, scale_pitch_classes
from musicapp.core.song import DRUM_CHANNEL, PPQ, Key, Note, TimeSignature
from musicapp.ml.chord_lock import DEFAULT_STRENGTH, chord_bias
from musicapp.ml.dataset import UNKNOWN_KEY, UNKNOWN_MODE
from musicapp.ml.encoding import (BOS, HOLD, NUM_CLASSES, PITCH_OFFSET, REST, STEPS_PER_QUARTER, EncodingInfo,
                                  bar_start_step, decode_notes, encode_notes, positions_from_meters)
from musicapp.ml.lstm import (KIND, FusedStepper, LookbackHistory, MelodyLSTM, melody_inputs, melody_logits,
                              single_thread)
from musicapp.ml.steering import Steering, SteeringState, note_odds, octave_shift, shift_notes, shift_range

Cancel = Callable[[], bool] | threading.Event | None
Progress = Callable[[int, int], None] | None

MAX_BARS = 64
MAX_VARIATIONS = 64


class GenerationError(MusicappError, ValueError):
    """A generation or scoring request had invalid arguments."""


class GenerationCancelled(MusicappError):
    """The request was cancelled (a newer one replaced it)."""


@dataclass(frozen=True)
class MelodyScore:
    """Log-likelihood of one melody: ``nats`` summed over its 16th steps, ``notes`` note-ons."""

    notes: int
    steps: int
    nats: float

    @property
    def nats_per_note(self) -> float:
        return self.nats / self.notes if self.notes else float("nan")


def default_checkpoint() -> Path:
    """The shipped LSTM checkpoint (``models/lstm.json``)."""
    from musicapp.paths import models_dir

    return models_dir() / "lstm.json"


def model_key_features(key: Key | None) -> tuple[int, int]:
    """The model's (tonic, mode) inputs for ``key``: 12/2 when unknown, mode 2 unless major/minor."""
    if key is None:
        return UNKNOWN_KEY, UNKNOWN_MODE
    return key.tonic, {"major": 0, "minor": 1}.get(key.mode, UNKNOWN_MODE)


def _is_cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


class MelodyGenerator:
    """Continues and scores melodies with the shipped (or a given) LSTM checkpoint.

    ``device`` is 'auto' (CUDA, MPS, else CPU) or a torch device name; ``max_context``
    is how many 16th steps of the seed the model reads (older ones are dropped).
    """

    def __init__(self, checkpoint: str | os.PathLike | None = None, device: str | None = "cpu",
                 max_context: int = 256) -> None:
        self.checkpoint = Path(checkpoint) if checkpoint is not None else default_checkpoint()
        self.device_name = device
        self.max_context = max_context
        self._lock = threading.Lock()
        self._model: MelodyLSTM | None = None
        self._stepper: FusedStepper | None = None
        self.meta = None

    # ----- loading -------------------------------------------------------------------------
    def load(self) -> None:
        """Load and verify the checkpoint now (otherwise the first request does it)."""
        with self._lock:
            if self._model is not None:
                return
            from musicapp.ml.lstm_train import build_model
            from musicapp.ml.training import model_tensors, pick_device

            meta, tensors = model_tensors(self.checkpoint, kind=KIND, encoding=asdict(EncodingInfo()))
            device = pick_device(self.device_name)
            model = build_model(meta, tensors, name=self.checkpoint.name)
            self._stepper = FusedStepper(model)  # sampling runs on the CPU (tiny batches)
            self._device = device
            self.meta = meta
            self._model = model.to(device)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _ready(self) -> tuple[MelodyLSTM, FusedStepper]:
        if self._model is None:
            self.load()
        assert self._model is not None and self._stepper is not None
        return self._model, self._stepper

    # ----- continue --------------------------------------------------------------------------
    def continue_melody(self, seed_notes: Sequence[Note], bars: int = 4, variations: int = 1,
                        temperature: float = 1.0, top_p: float = 0.95, key: str | Key | None = "auto",
                        pitch_range: tuple[int, int] | None = None, random_seed: int = 0, scale_mask: bool = True,
                        meters: Sequence[TimeSignature] = (TimeSignature(0),), start_tick: int | None = None,
                        cancel: Cancel = None, progress: Progress = None, ppq: int = PPQ,
                        chords: Sequence[Chord] = (), chord_strength: float = DEFAULT_STRENGTH,
                        steering: Steering | None = None,
                        pitch_classes: Sequence[int] | None = None) -> list[list[Note]]:
        """``variations`` candidate continuations of ``seed_notes`` (ticks), each a list of Notes.

        The continuation starts at ``start_tick`` (default: where the seed's last note ends,
        on the 16th grid) and ends on the ``bars``-th bar line after it (a partial bar at the
        start counts as one). ``key`` 'auto' detects the seed's key; a ``Key`` is used as
        given; either way the model is told the key and (``scale_mask``) every note-on is
        masked to its scale. ``None`` means no key.
        ``pitch_range`` (lowest, highest) MIDI pitch, inclusive. ``temperature`` 0 is greedy.
        ``progress(done_steps, total_steps)`` is called between steps.
        ``chords`` (the song's chord track, ticks) switch the chord lock on: chord tones on the
        beats and scale tones between are favoured by ``chord_strength`` nats (0 = off).
        ``steering`` (:class:`musicapp.ml.steering.Steering`: density, rhythm, repeat, register)
        shapes the sampling; None keeps the model's own choices.
        ``pitch_classes`` (0-11), when given, is the set note-ons are masked to instead of the
        key's scale.
        """
        if not 1 <= int(bars) <= MAX_BARS:
            raise GenerationError(f"bars must be 1..{MAX_BARS}, not {bars}")
        if not 1 <= int(variations) <= MAX_VARIATIONS:
            raise GenerationError(f"variations must be 1..{MAX_VARIATIONS}, not {variations}")
        if not 0.0 <= float(temperature) <= 10.0:
            raise GenerationError(f"temperature must be 0..10, not {temperature}")
        if not 0.0 < float(top_p) <= 1.0:
            raise GenerationError(f"top-p must be in (0, 1], not {top_p}")
        if pitch_range is not None:
            lo, hi = pitch_range
            if not 0 <= lo <= hi <= 127:
                raise GenerationError(f"pitch range {lo}..{hi} must lie within 0..127, low <= high")
        if ppq % STEPS_PER_QUARTER:
            raise GenerationError(f"ppq {ppq} is not a multiple of {STEPS_PER_QUARTER}")
        seed = [n for n in seed_notes if n.channel != DRUM_CHANNEL]
        if key == "auto":
            key = detect_key(seed) if seed else None
        elif key is not None and not isinstance(key, Key):
            raise GenerationError(f"key must be 'auto', a Key or None, not {key!r}")
        if not 0.0 <= float(chord_strength) <= 10.0:
            raise GenerationError(f"chord strength must be 0..10, not {chord_strength}")
        if pitch_classes is not None:
            pitch_classes = frozenset(int(pc) % 12 for pc in pitch_classes)
            if not pitch_classes:
                raise GenerationError("pitch_classes is empty")
        mask_by = pitch_classes if pitch_classes is not None else bool(scale_mask)
        steering = Steering.of(steering)
        shift = octave_shift(n.pitch for n in seed) if steering is not None and steering.register else 0
        if start_tick is None and seed:
            start_tick = round(max(n.end for n in seed) / (ppq // STEPS_PER_QUARTER)) * (ppq // STEPS_PER_QUARTER)
        out = self._continue(shift_notes(seed, shift), int(bars), int(variations), float(temperature), float(top_p),
                             key, mask_by, shift_range(pitch_range, shift), int(random_seed),
                             tuple(meters) or (TimeSignature(0),), start_tick, cancel, progress, ppq, tuple(chords),
                             float(chord_strength), steering)
        return [shift_notes(c, -shift) for c in out]

    @staticmethod
    def _allowed(key: Key | frozenset | None, pitch_range: tuple[int, int] | None) -> np.ndarray:
        """Additive mask ``(130,)``: 0 where a token may be sampled, -inf where not (REST/HOLD always may).
        ``key`` may also be the set of pitch classes itself."""
        if isinstance(key, frozenset):
            pcs = key
        else:
            pcs = scale_pitch_classes(key) if key is not None else frozenset(range(12))
        lo, hi = pitch_range if pitch_range is not None else (0, 127)
        ok = [True, True] + [p % 12 in pcs and lo <= p <= hi for p in range(128)]
        return np.where(np.array(ok), 0.0, -np.inf).astype(np.float32)

    def _continue(self, seed: list[Note], bars: int, variations: int, temperature: float, top_p: float,
                  key: Key | None, scale_mask: bool | frozenset, pitch_range, random_seed: int, meters,
                  start_tick: int | None, cancel: Cancel, progress: Progress, ppq: int, chords: tuple = (),
                  chord_strength: float = 0.0, steering: Steering | None = None) -> list[list[Note]]:
        model, stepper = self._ready()
        tps = ppq // STEPS_PER_QUARTER
        if start_tick is None:
            start_step = round(max((n.end for n in seed), default=0) / tps)
        else:
            start_step = round(start_tick / tps)
        seed = [n for n in seed if round(n.start / tps) < start_step]
        ctx_start = max(0, start_step - self.max_context)
        if seed:
            ctx_start = max(ctx_start, bar_start_step(meters, round(min(n.start for n in seed) / tps), ppq))
            melody, origin = encode_notes(seed, meters, ctx_start * tps, start_step * tps, ppq)
            tokens = melody.tokens
        else:
            tokens, origin = np.zeros(0, np.int64), start_step
        n_seed = len(tokens)
        n_gen = self._span(meters, start_step, bars, ppq)
        pos, bar_len = positions_from_meters(meters, origin, n_seed + n_gen, ppq)
        rng = np.random.default_rng(random_seed)
        mask = self._allowed(scale_mask if isinstance(scale_mask, frozenset) else key if scale_mask else None,
                             pitch_range)
        first_mask = mask.copy()
        if n_seed and self._sounding(tokens):
            first_mask[HOLD] = -np.inf  # never lengthen the seed's last note
        bias = chord_bias(chords, meters, start_step * tps, n_gen, tps, key, chord_strength, ppq) if chords else None
        first_cols, cols = allowed_columns(first_mask), allowed_columns(mask)  # chord biases are finite
        inv_t = 1.0 / temperature if temperature > 0 else 0.0
        out = np.empty((variations, n_gen), dtype=np.int64)
        history = LookbackHistory(stepper.lookback, tokens, bar_len, variations) if stepper.lookback else None
        with single_thread():
            key_feats = model_key_features(key)
            ctx = stepper.begin(*key_feats)
            meter = stepper.meter_gates(ctx, pos[n_seed:], bar_len[n_seed:])
            odds = None
            if n_seed:
                odds = self._prime(model, stepper, ctx, tokens, pos[:n_seed], bar_len[:n_seed], *key_feats,
                                   odds_mask=mask if steering is not None and steering.density is not None else None)
            ctx = ctx.expand(variations)
            steer = scale = None
            if steering is not None:
                K = len(stepper.lookback)
                steer = SteeringState(steering, tokens, pos[:n_seed], pos[n_seed:], bar_len[n_seed:], variations,
                                      temperature, K, context_odds=odds)
                scale = steering.copy_scale(K, K)
            prev = np.full(variations, tokens[-1] if n_seed else BOS, dtype=np.int64)
            lb = match = None
            for t in range(n_gen):
                if _is_cancelled(cancel):
                    raise GenerationCancelled("generation cancelled")
                if history is not None:
                    lb, match = history.next(prev)
                logits = stepper.step(ctx, prev, meter[t], lb, match, scale)
                step_mask = first_mask if t == 0 else mask
                if bias is not None:
                    step_mask = step_mask + bias[t]
                if steer is not None:
                    logits = steer.adjust(t, logits, step_mask, lb)
                prev = sample_tokens(logits, step_mask, inv_t, top_p, rng, first_cols if t == 0 else cols)
                if steer is not None:
                    steer.observe(prev)
                out[:, t] = prev
                if progress is not None:
                    progress(t + 1, n_gen)
        return [decode_notes(row, start_step * tps, ticks_per_step=tps) for row in out.tolist()]

    @staticmethod
    def _prime(model: MelodyLSTM, stepper: FusedStepper, ctx, tokens: np.ndarray, pos: np.ndarray, bar_len: np.ndarray,
               key: int, mode: int, odds_mask: np.ndarray | None = None) -> np.ndarray | None:
        """Read the seed ``tokens`` ``(T,)`` with ``nn.LSTM`` (one C++ call) into ``ctx``'s state.

        With ``odds_mask`` also returns the note-on log-odds of the seed's last 64 steps (density steering).
        """
        with torch.inference_mode():
            inputs = melody_inputs(model, tokens, pos, bar_len, key, mode)
            y, (h, c) = model.rnn(model.features(**inputs))
            odds = None
            if odds_mask is not None:
                lb = inputs["lb"][0, -64:] if "lb" in inputs else None
                odds = note_odds(model.logits(y[0, -64:], lb).float().cpu().numpy(), odds_mask)
        stepper.set_state(ctx, [x.float().cpu().numpy() for x in h], [x.float().cpu().numpy() for x in c])
        return odds

    @staticmethod
    def _sounding(tokens: np.ndarray) -> bool:
        """Whether a note is still sounding at the end of ``tokens``."""
        events = tokens[tokens != HOLD]
        return bool(events.size) and int(events[-1]) != REST

    @staticmethod
    def _span(meters, start_step: int, bars: int, ppq: int) -> int:
        """Steps from ``start_step`` to the ``bars``-th bar line after it."""
        pos, _ = positions_from_meters(meters, start_step, bars * 64 + 64, ppq)
        lines = np.flatnonzero(pos == 0)
        lines = lines[lines > 0]
        return int(lines[bars - 1]) if len(lines) >= bars else bars * 16

    # ----- score -----------------------------------------------------------------------------
    def score(self, melodies: Sequence[Sequence[Note]], meters: Sequence[TimeSignature] = (TimeSignature(0),),
              key: str | Key | None = None, ppq: int = PPQ, cancel: Cancel = None) -> list[MelodyScore]:
        """Log-likelihood of each melody's top line (drums ignored) under the model.

        Each melody is read from the start of the bar holding its first note to the end of
        its last note; ``key`` None scores without key information, 'auto' detects it per
        melody. An empty melody scores 0 nats over 0 notes.
        """
        if ppq % STEPS_PER_QUARTER:
            raise GenerationError(f"ppq {ppq} is not a multiple of {STEPS_PER_QUARTER}")
        if key is not None and key != "auto" and not isinstance(key, Key):
            raise GenerationError(f"key must be 'auto', a Key or None, not {key!r}")
        model, _ = self._ready()
        meters = tuple(meters) or (TimeSignature(0),)
        out: list[MelodyScore] = []
        for notes in melodies:
            if _is_cancelled(cancel):
                raise GenerationCancelled("scoring cancelled")
            notes = [n for n in notes if n.channel != DRUM_CHANNEL]
            if not notes:
                out.append(MelodyScore(0, 0, 0.0))
                continue
            mkey = (detect_key(notes) if key == "auto" else key)
            melody, _ = encode_notes(notes, meters, ppq=ppq)
            out.append(self._score_one(model, melody, *model_key_features(mkey)))
        return out

    @staticmethod
    def _score_one(model: MelodyLSTM, melody, key: int, mode: int) -> MelodyScore:
        toks = torch.from_numpy(melody.tokens).to(model.head.weight.device)
        with torch.inference_mode():
            logits = melody_logits(model, melody.tokens, melody.pos, melody.bar_len, key, mode)
            nll = torch.nn.functional.cross_entropy(logits, toks, reduction="sum")
        notes = int(((toks >= PITCH_OFFSET) & (toks < NUM_CLASSES)).sum())
        return MelodyScore(notes=notes, steps=len(melody), nats=float(nll))


def allowed_columns(mask: np.ndarray) -> np.ndarray | None:
    """The tokens an additive ``mask`` ``(130,)`` allows, for :func:`sample_tokens`' ``cols``
    (None when it allows all or none: then sampling looks at every column)."""
    cols = np.flatnonzero(np.isfinite(mask))
    return cols if 0 < len(cols) < len(mask) else None


def sample_tokens(logits: np.ndarray, mask: np.ndarray, inv_t: float, top_p: float,
                  rng: np.random.Generator, cols: np.ndarray | None = None) -> np.ndarray:
    """One token per row of ``logits`` ``(B, 130)`` -> ``(B,)`` int64.

    ``mask`` is added (-inf forbids a token); ``inv_t`` = 1 / temperature (0 = greedy);
    nucleus sampling keeps the most likely tokens whose mass reaches ``top_p`` (inverse-CDF
    sampling over the probabilities sorted once, the fewest numpy calls per step).
    ``cols`` (:func:`allowed_columns` of ``mask``) restricts the work to the tokens the mask
    allows; the draw is the same, as a forbidden token has no probability (a key mask
    forbids about 40 % of them, and sorting is most of a step's sampling time).
    """
    if cols is not None:
        return cols[sample_tokens(logits[:, cols], mask[cols], inv_t, top_p, rng)]
    z = logits + mask
    if inv_t == 0.0:
        return z.argmax(axis=1)
    if z.shape[0] == 1:
        return _sample_row(z[0], inv_t, top_p, rng)
    z *= -inv_t  # negated, so argsort gives the most likely first
    order = np.argsort(z, axis=1)
    rows = np.arange(z.shape[0])
    zs = z[rows[:, None], order]
    sp = np.exp(zs[:, :1] - zs)  # sorted probabilities, unnormalised, max = 1
    cs = np.cumsum(sp, axis=1)
    if top_p < 1.0:
        kept = ((cs - sp) <= top_p * cs[:, -1:]).sum(axis=1)  # nucleus size per row
        limit = cs[rows, kept - 1]
    else:
        limit = cs[:, -1]
    j = (cs < (rng.random(len(rows)) * limit)[:, None]).sum(axis=1)
    return order[rows, j]


def _sample_row(z: np.ndarray, inv_t: float, top_p: float, rng: np.random.Generator) -> np.ndarray:
    """:func:`sample_tokens` for one row ``(130,)`` of masked logits with 1-D calls (fewer, cheaper)."""
    z *= -inv_t
    order = np.argsort(z)
    zs = z[order]
    cs = np.cumsum(np.exp(zs[0] - zs))
    limit = cs[-1]
    if top_p < 1.0:
        limit = cs[min(int(np.searchsorted(cs, top_p * limit)), len(cs) - 1)]
    j = int(np.searchsorted(cs, rng.random() * limit, side="right"))
    return order[min(j, len(cs) - 1):][:1]
