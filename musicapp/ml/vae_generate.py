"""The VAE generation service: vary a phrase, interpolate between two, sample new ones.

Owns the bridge between core notes in ticks and the VAE's latent space. Qt-free; the editor
calls it from its ML worker thread. The checkpoint loads lazily on first use (thread-safe),
on the device chosen by ``device`` ("auto": CUDA, then MPS, then CPU). Every operation takes
a ``cancel`` callable (or ``threading.Event``) polled between decoder steps; cancelling
raises ``GenerationCancelled`` and bad arguments raise :class:`VaeInputError`, a
``GenerationError`` (both shared with the LSTM's ``musicapp.ml.generate``).

Phrases are cut into windows of whole bars that fit the model's window (two bars of 4/4,
3/4 or 6/8; four of 2/4), exactly as in training; each window has its own latent and is
decoded on its own, and the windows are joined again. A window's latent code is the
encoder's posterior mean refined by a few gradient steps on the latent alone until it
decodes back to the window (``MelodyVae.refine_latent``); codes are cached per window
content, so varying the same phrase again skips the refinement. Before encoding, a phrase is moved by
whole octaves toward the middle of the training range and moved back afterwards, so the
model serves melodies in any register of the 128 MIDI pitches.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from musicapp.core.chords import Chord
from musicapp.core.song import DRUM_CHANNEL, Key, Note, TimeSignature
from musicapp.ml.chord_lock import DEFAULT_STRENGTH, chord_bias
from musicapp.ml import encoding as enc
from musicapp.ml.generate import Cancel, GenerationCancelled, GenerationError
from musicapp.ml.lstm import single_thread
from musicapp.ml.steering import Steering, SteeringState
from musicapp.ml.vae import MelodyVae, VaeConfig, slerp
from musicapp.ml.vae_data import chunk_bounds, octave_shift

DEFAULT_NAME = "vae_2bar"
#: default cap on latent-refinement steps per window, and how many window codes are cached.
REFINE_STEPS = 40
CODE_CACHE = 512

Melody = list[Note]


class VaeInputError(GenerationError):
    """Arguments the VAE cannot work with (empty phrase, amount outside 0..1, ...)."""


@dataclass(frozen=True)
class _Grid:
    """A phrase on the 16th grid: tokens and meter ``(T,)``, the absolute first step, the
    octave shift applied (semitones) and the windows ``[(start, stop)]`` in steps."""

    tokens: np.ndarray
    pos: np.ndarray
    bar_len: np.ndarray
    start_step: int
    shift: int
    chunks: list[tuple[int, int]]
    velocity: int
    channel: int


def default_checkpoint() -> Path:
    """The shipped VAE checkpoint: ``models/vae_2bar`` (``.json`` + ``.safetensors``)."""
    from musicapp.paths import models_dir

    return models_dir() / DEFAULT_NAME


def load_vae(path: str | Path, device: str | torch.device = "cpu") -> tuple[MelodyVae, dict]:
    """Build the model from a checkpoint (shipped or training run) and return it with its
    metrics. Raises ``CheckpointError`` for a missing, damaged or mismatched checkpoint."""
    from musicapp.ml.checkpoint import build_checked, config_from_dict
    from musicapp.ml.training import model_tensors

    meta, tensors = model_tensors(path, kind="vae", encoding=asdict(enc.EncodingInfo()))
    cfg = config_from_dict(VaeConfig, meta.config, name=Path(path).name)
    model = build_checked(MelodyVae, cfg, tensors, name=Path(path).name)
    return model.to(device).eval(), meta.metrics


class VaeService:
    """vary / interpolate / sample over one VAE checkpoint. Results are lists of melodies,
    each a list of ``Note`` in absolute ticks (PPQ 480)."""

    def __init__(self, checkpoint: str | Path | None = None, device: str = "auto",
                 model: MelodyVae | None = None, refine_steps: int = REFINE_STEPS) -> None:
        """``refine_steps`` caps the latent refinement per window (0 = encoder mean only)."""
        self._path = Path(checkpoint) if checkpoint is not None else default_checkpoint()
        self._device_name = device
        self._model = model
        self._refine_steps = int(refine_steps)
        self._lock = threading.RLock()
        self._codes: OrderedDict[bytes, torch.Tensor] = OrderedDict()  # window -> latent (LRU)

    # ----- loading -----------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load the checkpoint now (e.g. from the worker thread at start-up); idempotent."""
        self.model()

    def model(self) -> MelodyVae:
        """The model, loading the checkpoint on first call (thread-safe)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from musicapp.ml.training import pick_device

                    self._model, _ = load_vae(self._path, pick_device(self._device_name))
        return self._model

    @property
    def window_steps(self) -> int:
        return self.model().cfg.max_steps

    # ----- public operations -------------------------------------------------------------
    def vary(self, phrase: Sequence[Note], amount: float = 0.5, variations: int = 4, *,
             meters: Sequence[TimeSignature] = (TimeSignature(0),), start_tick: int | None = None,
             seed: int | None = None, temperature: float = 0.0, cancel: Cancel = None,
             chords: Sequence[Chord] = (), chord_strength: float = DEFAULT_STRENGTH,
             steering: Steering | Mapping | None = None) -> list[Melody]:
        """``variations`` versions of ``phrase`` (notes in ticks; polyphony -> top line).

        ``amount`` 0..1 moves each window's latent code (see :meth:`_encode`; 0: the model's
        reconstruction of the phrase) toward a random prior sample (1: unrelated), by
        spherical interpolation.
        ``start_tick`` is where the phrase's first bar starts (default: the bar holding the
        first note); results lie on the same ticks. ``temperature`` 0 decodes greedily.
        ``chords`` (a chord track, ticks) switch the chord lock on (``ml.chord_lock``): chord
        tones on the beats and the phrase's scale between are favoured by ``chord_strength``.
        ``steering`` (``ml.steering``): density and rhythm apply (no lookback: repeat does not).
        """
        if not 0.0 <= amount <= 1.0:
            raise VaeInputError(f"amount {amount} outside 0..1")
        _check_count("variations", variations)
        _check_temperature(temperature)
        with self._lock:
            grid = self._grid(phrase, meters, start_tick)
            model, gen = self.model(), _generator(seed)
            mu = self._encode(grid, cancel)  # (C, Z)
            z = mu.unsqueeze(0).expand(variations, -1, -1)
            if amount > 0:
                eps = torch.randn(z.shape, generator=gen).to(mu.device)
                z = slerp(z, eps, torch.tensor(amount, device=mu.device))
            bias = self._chord_bias(grid, phrase, meters, chords, chord_strength, variations)
            toks = self._decode(grid, z.reshape(-1, z.shape[-1]), temperature, None, gen, cancel, bias,
                                Steering.of(steering), grid.tokens)
            return [self._notes(grid, toks[i]) for i in range(variations)]

    def interpolate(self, a: Sequence[Note], b: Sequence[Note], steps: int = 5, *,
                    meters: Sequence[TimeSignature] = (TimeSignature(0),), start_a: int | None = None,
                    start_b: int | None = None, cancel: Cancel = None) -> list[Melody]:
        """``steps`` melodies from ``a`` to ``b`` (both included, as the model reconstructs
        them), by spherical interpolation of each window's latent code; greedy decoding.

        Results lie on ``a``'s ticks; when the phrases have different numbers of windows the
        longer one is cut to the shorter's.
        """
        if not 2 <= int(steps) <= 64 or int(steps) != steps:
            raise VaeInputError(f"steps {steps} outside 2..64")
        with self._lock:
            ga, gb = self._grid(a, meters, start_a), self._grid(b, meters, start_b)
            n = min(len(ga.chunks), len(gb.chunks))
            ga = _first_chunks(ga, n)
            gb = _first_chunks(gb, n)
            mu_a, mu_b = self._encode(ga, cancel), self._encode(gb, cancel)  # (n, Z)
            t = torch.linspace(0.0, 1.0, steps, device=mu_a.device).view(steps, 1, 1)
            z = slerp(mu_a.unsqueeze(0), mu_b.unsqueeze(0), t)
            z[0], z[-1] = mu_a, mu_b  # exact endpoints
            toks = self._decode(ga, z.reshape(-1, z.shape[-1]), 0.0, None, None, cancel)
            # on a's ticks; each melody goes back by the octave shift of the nearer end
            gb_on_a = replace(ga, shift=gb.shift, velocity=gb.velocity, channel=gb.channel)
            return [self._notes(ga if i < steps / 2 else gb_on_a, toks[i]) for i in range(steps)]

    def sample(self, bars: int = 2, temperature: float = 1.0, count: int = 1, *, key: Key | str | None = None,
               meters: Sequence[TimeSignature] = (TimeSignature(0),), start_tick: int = 0,
               seed: int | None = None, cancel: Cancel = None,
               steering: Steering | Mapping | None = None) -> list[Melody]:
        """``count`` new melodies of ``bars`` bars drawn from the prior ``z ~ N(0, I)``.

        ``temperature`` scales the decoder's softmax (0 = greedy). With ``key`` (a ``Key`` or
        a name such as "D minor") every note-on is restricted to that scale.
        """
        if not 1 <= int(bars) <= 256 or int(bars) != bars:
            raise VaeInputError(f"bars {bars} outside 1..256")
        _check_count("count", count)
        _check_temperature(temperature)
        allowed = _key_mask(key)
        with self._lock:
            model, gen = self.model(), _generator(seed)
            first = round(start_tick / enc.TICKS_PER_STEP)
            pos, bar_len = enc.positions_from_meters(meters, first, 256 * enc.MAX_BAR_STEPS)
            n_steps = _steps_for_bars(pos, bars)
            pos, bar_len = pos[:n_steps], bar_len[:n_steps]
            grid = _Grid(np.full(n_steps, enc.HOLD, dtype=np.int64), pos, bar_len, first, 0,
                         chunk_bounds(pos, model.cfg.max_steps), 100, 0)
            z = torch.randn((count * len(grid.chunks), model.cfg.latent), generator=gen)
            toks = self._decode(grid, z.to(_device(model)), temperature, allowed, gen, cancel, None,
                                Steering.of(steering))
            return [self._notes(grid, toks[i]) for i in range(count)]

    # ----- private hooks -----------------------------------------------------------------
    def _grid(self, phrase: Sequence[Note], meters: Sequence[TimeSignature], start_tick: int | None) -> _Grid:
        notes = [n for n in phrase if n.channel != DRUM_CHANNEL]
        if not notes:
            raise VaeInputError("the phrase has no (non-drum) notes")
        ticks_end = max(n.end for n in notes)
        mel, first = enc.encode_notes(notes, meters, start_tick=start_tick)
        # run the grid to the end of the bar holding the last note, so windows are whole bars
        last = max(first + 1, round(ticks_end / enc.TICKS_PER_STEP))
        pos, bar_len = enc.positions_from_meters(meters, first, last - first + enc.MAX_BAR_STEPS)
        n_steps = last - first
        if pos[n_steps - 1] + 1 < bar_len[n_steps - 1]:
            n_steps += int(bar_len[n_steps - 1] - pos[n_steps - 1] - 1)
        tokens = enc.steps_to_tokens(enc.top_line(notes), n_steps=n_steps, origin=first)
        if not (tokens >= enc.PITCH_OFFSET).any():
            raise VaeInputError("the phrase has no notes inside its bars")
        shift = octave_shift(tokens)
        tokens = enc.transpose_tokens(tokens, shift)
        vel = int(np.median([n.velocity for n in notes]))
        chunks = chunk_bounds(pos[:n_steps], self.model().cfg.max_steps)
        return _Grid(tokens, pos[:n_steps], bar_len[:n_steps], first, shift, chunks, vel, notes[0].channel)

    def _batch(self, grid: _Grid, rows: int) -> tuple[torch.Tensor, ...]:
        """Padded ``(C, T)`` tokens/pos/bar_len and lengths ``(C,)`` of the grid's windows,
        tiled ``rows`` times (row ``r * C + c`` is window ``c``)."""
        t = self.model().cfg.max_steps
        c = len(grid.chunks)
        tok = np.full((c, t), enc.HOLD, dtype=np.int64)
        pos = np.zeros((c, t), dtype=np.int64)
        bar = np.full((c, t), 16, dtype=np.int64)
        lengths = np.zeros(c, dtype=np.int64)
        for i, (a, b) in enumerate(grid.chunks):
            tok[i, : b - a], pos[i, : b - a], bar[i, : b - a] = grid.tokens[a:b], grid.pos[a:b], grid.bar_len[a:b]
            lengths[i] = b - a
        dev = _device(self.model())
        return tuple(torch.as_tensor(np.tile(x, (rows,) + (1,) * (x.ndim - 1)), device=dev)
                     for x in (tok, pos, bar, lengths))

    def _encode(self, grid: _Grid, cancel: Cancel = None) -> torch.Tensor:
        """Latent codes ``(C, Z)`` of the grid's windows: the encoder's posterior mean, refined
        (``MelodyVae.refine_latent``) until it decodes back to the window. Codes are kept in a
        small LRU cache keyed by the window's contents, so re-varying a phrase is cheap."""
        model = self.model()
        tok, pos, bar, lengths = self._batch(grid, 1)
        keys = [b"".join(x[i, : int(lengths[i])].cpu().numpy().tobytes() for x in (tok, pos, bar))
                for i in range(len(grid.chunks))]
        todo = [i for i, k in enumerate(keys) if k not in self._codes]
        if todo:
            idx = torch.tensor(todo, device=tok.device)
            args = (tok[idx], pos[idx], bar[idx], lengths[idx])
            try:
                with single_thread():
                    with torch.no_grad():
                        mu, _ = model.encode(*args)
                    if self._refine_steps > 0:
                        mu, _ = model.refine_latent(mu, *args, steps=self._refine_steps, cancelled=_poll(cancel))
            except InterruptedError:
                raise GenerationCancelled("generation cancelled") from None
            for j, i in enumerate(todo):
                self._codes[keys[i]] = mu[j]
                while len(self._codes) > CODE_CACHE:
                    self._codes.popitem(last=False)
        for k in keys:
            self._codes.move_to_end(k)
        return torch.stack([self._codes[k] for k in keys])

    def clear_cache(self) -> None:
        """Forget the cached latent codes of windows seen before."""
        with self._lock:
            self._codes.clear()

    def _chord_bias(self, grid: _Grid, phrase: Sequence[Note], meters: Sequence[TimeSignature],
                    chords: Sequence[Chord], strength: float, rows: int) -> torch.Tensor | None:
        """The chord lock's bias ``(rows * C, T, num_classes)`` for the grid's windows, or None."""
        if not chords or strength == 0:
            return None
        from musicapp.core.scales import detect_key

        key = detect_key([n for n in phrase if n.channel != DRUM_CHANNEL], default=None)
        full = chord_bias(chords, meters, grid.start_step * enc.TICKS_PER_STEP, len(grid.tokens),
                          enc.TICKS_PER_STEP, key, strength)
        out = np.zeros((len(grid.chunks), self.model().cfg.max_steps, enc.NUM_CLASSES), dtype=np.float32)
        for i, (a, b) in enumerate(grid.chunks):
            out[i, : b - a] = full[a:b]
        return torch.as_tensor(np.tile(out, (rows, 1, 1)), device=_device(self.model()))

    def _decode(self, grid: _Grid, z: torch.Tensor, temperature: float, allowed: torch.Tensor | None,
                gen: torch.Generator | None, cancel: Cancel, bias: torch.Tensor | None = None,
                steering: Steering | None = None, context: np.ndarray | None = None) -> np.ndarray:
        """Decode ``z`` ``(R * C, Z)`` on the grid's windows; returns tokens ``(R, T_grid)``.

        ``steering`` is solved per window row over the first window's meter (all windows of a
        phrase share it in practice); ``context`` tokens give the seed's rhythm and register."""
        c = len(grid.chunks)
        rows = z.shape[0] // c
        _, pos, bar, _ = self._batch(grid, rows)
        steer = None
        if steering is not None:
            ctx = np.zeros(0, np.int64) if context is None else context
            steer = SteeringState(steering, ctx, grid.pos[:len(ctx)], pos[0].cpu().numpy(), bar[0].cpu().numpy(),
                                  z.shape[0], temperature, 0)
        try:
            with single_thread():
                out = self.model().generate(z, pos, bar, temperature, allowed, gen, _poll(cancel), bias,
                                            steer).cpu().numpy()
        except InterruptedError:
            raise GenerationCancelled("generation cancelled") from None
        res = np.empty((rows, len(grid.tokens)), dtype=np.int64)
        for r in range(rows):
            for i, (a, b) in enumerate(grid.chunks):
                res[r, a:b] = out[r * c + i, : b - a]
        return res

    def _notes(self, grid: _Grid, tokens: np.ndarray) -> Melody:
        """Notes in ticks for grid tokens, moved back by the grid's octave shift (pitches that
        would leave 0..127 are folded back by octaves)."""
        out = []
        for n in enc.decode_notes(tokens, grid.start_step * enc.TICKS_PER_STEP, grid.velocity, grid.channel):
            p = n.pitch - grid.shift
            while p > 127:
                p -= 12
            while p < 0:
                p += 12
            out.append(Note(n.start, p, n.length, n.velocity, n.channel))
        return out


def _first_chunks(g: _Grid, n: int) -> _Grid:
    """``g`` cut after its ``n``-th window."""
    stop = g.chunks[n - 1][1]
    return replace(g, tokens=g.tokens[:stop], pos=g.pos[:stop], bar_len=g.bar_len[:stop], chunks=g.chunks[:n])


def _steps_for_bars(pos: np.ndarray, bars: int) -> int:
    starts = np.flatnonzero(np.r_[True, pos[1:] == 0])
    return int(starts[bars]) if bars < len(starts) else len(pos)


def _key_mask(key: Key | str | None) -> torch.Tensor | None:
    """Bool ``(num_classes,)``: REST, HOLD and note-ons whose pitch class is in ``key``'s scale."""
    if key is None:
        return None
    from musicapp.core.scales import parse_key, scale_pitch_classes

    k = parse_key(key) if isinstance(key, str) else key
    pcs = scale_pitch_classes(k)
    mask = torch.zeros(enc.NUM_CLASSES, dtype=torch.bool)
    mask[enc.REST] = mask[enc.HOLD] = True
    for p in range(enc.NUM_PITCHES):
        if p % 12 in pcs:
            mask[enc.PITCH_OFFSET + p] = True
    return mask


def _check_count(name: str, n: int) -> None:
    if int(n) != n or not 1 <= n <= 64:
        raise VaeInputError(f"{name} {n} outside 1..64")


def _check_temperature(t: float) -> None:
    if not 0.0 <= t <= 5.0:
        raise VaeInputError(f"temperature {t} outside 0..5")


def _generator(seed: int | None) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(int(seed) if seed is not None else secrets.randbits(63))
    return g


def _device(model: MelodyVae) -> torch.device:
    return next(model.parameters()).device


def _poll(cancel: Cancel) -> Callable[[], bool] | None:
    if cancel is None:
        return None
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel
