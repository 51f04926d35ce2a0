"""The harmonise service (Qt-free): chord proposals for a melody, from the shipped harmoniser.

Owns :class:`Harmonizer`. The editor (through its ML worker) and ``musicapp harmonize`` call::

    Harmonizer.load(path=None)            # models/harmony.json; weights read lazily, once
    harmonizer.harmonize(melody, song=None, *, key=None, per_bar="auto", variations=4,
                         temperature=0.8, style="simple", locked=(), seed=None, cancel=None)
        -> list[tuple[Chord, ...]]        # ``variations`` progressions, best first

- ``melody``: ``core.song.Note`` s in ticks (a polyphonic part is reduced to its top line;
  drum-channel notes are ignored). ``song`` gives the PPQ and meter map (default: 4/4 at
  480 PPQ); ``key`` defaults to ``song.key``, else it is detected from the melody.
- ``per_bar``: 1, 2 or 4 chords a bar, or "auto" (half bars in even meters, bars in odd ones,
  a repeated chord merged into one).
- ``temperature`` > 0 for the sampled proposals (the first is always the best path);
  ``style`` "simple" = major/minor/diminished triads with an in-key prior, "rich" = sevenths,
  secondary dominants and borrowed chords allowed.
- ``locked``: chords (core ``Chord``) the user keeps: returned unchanged in every proposal; the
  segments under them are fixed to them, so their neighbours lead into and out of them.
- ``cancel``: a ``threading.Event`` or a callable; checked between steps, raises
  ``GenerationCancelled``. Bad arguments raise ``GenerationError`` (one line).

Each proposal is a tuple of ``core.chords.Chord`` (ticks, sorted, non-overlapping) covering the
bars from the one holding the melody's first note (or the first locked chord) to the one holding
its last. Decoding: the network gives log-probabilities of the segment's chord per unit;
a segment's score is their length-weighted mean plus ``w_melody`` x the share of its melody on
the chord's tones plus the style prior; a learned chord-bigram table links segments (Viterbi
for the first proposal, forward-filtering backward-sampling at ``temperature`` for the others).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from musicapp.core.chords import Chord
from musicapp.core.scales import detect_key, scale_pitch_classes
from musicapp.core.song import DRUM_CHANNEL, Key, Note, Song
from musicapp.ml.generate import Cancel, GenerationCancelled, GenerationError, _is_cancelled
from musicapp.ml.harmony_model import (ENCODING, GRANULARITIES, KIND, N_CLASSES, QUALS, TRIAD_QUALS,
                                       HarmonyConfig, HarmonyNet, build_net, class_label, class_of,
                                       class_templates, unit_features, unit_grid)

MAX_VARIATIONS = 16
MAX_UNITS = 4096
STYLES = ("simple", "rich")


@dataclass(frozen=True)
class DecoderWeights:
    """Weights of the decoder's terms (score units = nats): network emission, bigram table,
    melody on chord tones (share 0-1), simple style's in-key bonus, rich style's bonus for
    four-note chords."""

    emission: float = 1.0
    transition: float = 0.5
    melody: float = 2.0
    in_key: float = 0.7
    rich: float = 0.3


def decoder_weights(data: dict, name: str = "checkpoint") -> DecoderWeights:
    """``DecoderWeights`` from a checkpoint's JSON: known fields only, each a finite number 0..100."""
    import math

    from musicapp.ml.checkpoint import CheckpointError

    known = DecoderWeights.__dataclass_fields__
    for key, value in data.items():
        if key not in known:
            raise CheckpointError(f"{name} has an unknown decoder weight {str(key)[:40]!r}")
        if type(value) not in (int, float) or not math.isfinite(value) or not 0 <= value <= 100:
            raise CheckpointError(f"{name} has an invalid decoder weight: {key} = {str(value)[:40]} "
                                  "(must be a number 0..100)")
    return DecoderWeights(**{k: float(v) for k, v in data.items()})


def default_checkpoint() -> Path:
    """The shipped harmoniser (``models/harmony.json``)."""
    from musicapp.paths import models_dir

    return models_dir() / "harmony.json"


def top_line(notes: Sequence[Note]) -> np.ndarray:
    """The highest voice of ``notes`` as ``(n, 3)`` int64 onset, length, pitch (ticks), monophonic:
    at each onset the highest pitch; a note is cut where the next one starts."""
    rows = sorted((n.start, -n.pitch, n.length) for n in notes if n.channel != DRUM_CHANNEL and n.length > 0)
    out: list[list[int]] = []
    for start, neg, length in rows:
        if out and out[-1][0] == start:
            continue  # a lower note of the same onset
        if out and out[-1][0] + out[-1][1] > start:
            if -neg < out[-1][2] and out[-1][0] + out[-1][1] > start + length:
                continue  # an inner note under a held melody note
            out[-1][1] = start - out[-1][0]
        out.append([start, length, -neg])
    return np.asarray(out, dtype=np.int64).reshape(-1, 3)


def melody_segment_cover(melody: np.ndarray, bounds: np.ndarray, tonic: int) -> np.ndarray:
    """``(S, N_CLASSES)`` share of each segment's melody duration on each class's chord tones
    (key-relative classes; 0 where the segment has no melody)."""
    from musicapp.core.chord_detect import segment_chroma

    chroma = np.roll(segment_chroma(melody, bounds)[0], -tonic, axis=1)
    total = chroma.sum(axis=1, keepdims=True)
    share = chroma / np.maximum(total, 1e-9)
    return share @ class_templates().T.astype(np.float64)


def style_prior(style: str, key: Key, weights: DecoderWeights) -> np.ndarray:
    """``(N_CLASSES,)`` additive score per key-relative class for ``style`` (-inf = not allowed)."""
    if style not in STYLES:
        raise GenerationError(f"style must be one of {', '.join(STYLES)}, not {style!r}")
    prior = np.zeros(N_CLASSES)
    tmpl = class_templates()
    scale = np.zeros(12)
    rel_scale = [(pc - key.tonic) % 12 for pc in scale_pitch_classes(key)]
    scale[rel_scale] = 1.0
    if minor_like(key):
        scale[11] = 1.0  # the leading tone: V and vii° are in the key in minor
    diatonic = (tmpl @ scale) == tmpl.sum(axis=1)
    for c in range(N_CLASSES):
        q = class_label(c)[1]
        if style == "simple":
            prior[c] = -np.inf if q not in TRIAD_QUALS else weights.in_key * diatonic[c]
        elif q not in TRIAD_QUALS:
            prior[c] = weights.rich
    return prior


def minor_like(key: Key) -> bool:
    """True when ``key``'s scale has a minor third (minor, dorian, phrygian, ...)."""
    return (key.tonic + 3) % 12 in scale_pitch_classes(key) and (key.tonic + 4) % 12 not in scale_pitch_classes(key)


def viterbi(unary: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """Best class path ``(S,)`` for unary scores ``(S, C)`` and transition scores ``(C, C)``."""
    n = len(unary)
    score = unary[0].copy()
    back = np.zeros((n, unary.shape[1]), dtype=np.int64)
    for s in range(1, n):
        cand = score[:, None] + trans
        back[s] = cand.argmax(axis=0)
        score = cand[back[s], np.arange(unary.shape[1])] + unary[s]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(score.argmax())
    for s in range(n - 1, 0, -1):
        path[s - 1] = back[s, path[s]]
    return path


def sample_paths(unary: np.ndarray, trans: np.ndarray, temperature: float, count: int,
                 rng: np.random.Generator) -> list[np.ndarray]:
    """``count`` paths drawn from the chain's distribution at ``temperature`` (forward filtering in
    probability space with per-step normalisation, then backward sampling of all paths at once
    with the Gumbel-max trick). Scores may be -inf (a class not allowed)."""
    n, c = unary.shape
    with np.errstate(under="ignore"):
        u = np.exp((unary - unary.max(axis=1, keepdims=True)) / temperature)
        t = np.exp((trans - trans.max()) / temperature)
    alpha = np.empty_like(u)
    alpha[0] = u[0] / max(u[0].sum(), 1e-300)
    for s in range(1, n):
        a = (alpha[s - 1] @ t) * u[s]
        alpha[s] = a / max(a.sum(), 1e-300)
    with np.errstate(divide="ignore"):
        log_alpha, log_t = np.log(alpha), np.log(t)
    paths = np.empty((count, n), dtype=np.int64)
    paths[:, -1] = (log_alpha[-1][None, :] + rng.gumbel(size=(count, c))).argmax(axis=1)
    for s in range(n - 2, -1, -1):
        logits = log_alpha[s][None, :] + log_t[:, paths[:, s + 1]].T
        paths[:, s] = (logits + rng.gumbel(size=(count, c))).argmax(axis=1)
    return list(paths)


class Harmonizer:
    """Chord proposals for melodies; thread-safe lazy load of the shipped checkpoint."""

    def __init__(self, path: str | os.PathLike | None = None, net: torch.nn.Module | None = None,
                 transitions: np.ndarray | None = None, weights: DecoderWeights | None = None) -> None:
        self.path = Path(path) if path is not None else default_checkpoint()
        self._net, self._trans, self._weights = net, transitions, weights or DecoderWeights()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Harmonizer":
        """A harmoniser reading ``path`` (default ``models/harmony.json``) now; CheckpointError if bad."""
        h = cls(path)
        h._ensure()
        return h

    def _ensure(self) -> None:
        with self._lock:
            if self._net is not None and self._trans is not None:
                return
            from musicapp.ml.checkpoint import config_from_dict, load_checkpoint, load_state

            meta, tensors = load_checkpoint(self.path, kind=KIND, encoding=ENCODING)
            net = build_net(config_from_dict(HarmonyConfig, meta.config, self.path.name))
            load_state(net, {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}, name=self.path.name)
            if "transitions" not in tensors:
                from musicapp.ml.checkpoint import CheckpointError

                raise CheckpointError(f"{self.path.name} has no chord transition table")
            self._trans = tensors["transitions"].numpy().astype(np.float64)
            dec = meta.extra.get("decoder", {})
            self._weights = decoder_weights(dec, self.path.name) if dec else DecoderWeights()
            self._net = net.eval()

    @property
    def weights(self) -> DecoderWeights:
        return self._weights

    def harmonize(self, melody: Sequence[Note], song: Song | None = None, *, key: Key | None = None,
                  per_bar: int | str = "auto", variations: int = 4, temperature: float = 0.8,
                  style: str = "simple", locked: Sequence[Chord] = (), seed: int | None = None,
                  cancel: Cancel = None, weights: DecoderWeights | None = None) -> list[tuple[Chord, ...]]:
        """``variations`` chord progressions for ``melody`` (see the module docstring)."""
        song = song or Song()
        mel = top_line(melody)
        if not len(mel):
            raise GenerationError("the melody has no notes to harmonise (empty or drums only)")
        if not 1 <= int(variations) <= MAX_VARIATIONS:
            raise GenerationError(f"variations must be 1..{MAX_VARIATIONS}, not {variations}")
        if not temperature > 0:
            raise GenerationError(f"temperature must be positive, not {temperature}")
        if per_bar not in ("auto", 1, 2, 4):
            raise GenerationError(f"per_bar must be auto, 1, 2 or 4, not {per_bar!r}")
        locked = tuple(sorted(locked, key=lambda c: c.start))
        key = key or song.key or detect_key([Note(int(a), int(p), int(max(b, 1))) for a, b, p in mel])
        w = weights or self._weights
        prior = style_prior(style, key, w)
        if _is_cancelled(cancel):
            raise GenerationCancelled("harmonise cancelled")
        self._ensure()
        end = int(max((mel[:, 0] + mel[:, 1]).max(), max((c.end for c in locked), default=0)))
        grid = unit_grid(song, end, start=int(min(mel[0, 0], min((c.start for c in locked), default=end))))
        if len(grid.bounds) - 1 > MAX_UNITS:
            raise GenerationError(f"the melody is too long to harmonise ({len(grid.bounds) - 1} beats, "
                                  f"at most {MAX_UNITS})")
        auto = per_bar == "auto"
        if auto:
            first = song.meters[0]
            per_bar = 2 if (first.bar_ticks(song.ppq) // first.beat_ticks(song.ppq)) % 2 == 0 else 1
        from musicapp.core.chord_detect import segment_bounds

        seg_bounds = segment_bounds(song, int(grid.bounds[-1]), int(per_bar))
        seg_bounds = seg_bounds[seg_bounds >= grid.bounds[0]]  # from the melody's first bar
        seg = np.searchsorted(seg_bounds, grid.bounds[:-1], side="right") - 1
        minor = minor_like(key)
        feats = unit_features(mel, grid, key.tonic, minor, seg, int(per_bar))
        with torch.inference_mode():
            logp = torch.log_softmax(self._net(torch.from_numpy(feats)[None])[0], dim=-1).numpy()
        if _is_cancelled(cancel):
            raise GenerationCancelled("harmonise cancelled")
        n_seg = len(seg_bounds) - 1
        ulen = np.diff(grid.bounds).astype(np.float64)
        emis = np.zeros((n_seg, N_CLASSES))
        np.add.at(emis, seg, logp * ulen[:, None])
        seg_len = np.zeros(n_seg)
        np.add.at(seg_len, seg, ulen)
        emis /= np.maximum(seg_len, 1.0)[:, None]
        unary = w.emission * emis + w.melody * melody_segment_cover(mel, seg_bounds, key.tonic) + prior[None, :]
        fixed = self._lock_segments(unary, seg_bounds, locked, key)
        trans = w.transition * self._trans[int(minor), GRANULARITIES.index(int(per_bar))]
        rng = np.random.default_rng(seed)
        paths = [viterbi(unary, trans)]
        tries = 0
        while len(paths) < variations and tries < 4 * variations:
            if _is_cancelled(cancel):
                raise GenerationCancelled("harmonise cancelled")
            tries += 1
            for p in sample_paths(unary, trans, temperature, variations - len(paths), rng):
                if len(paths) < variations and (tries >= 3 * variations
                                               or not any(np.array_equal(p, q) for q in paths)):
                    paths.append(p)
        return [self._chords(p, seg_bounds, fixed, locked, key, merge=auto) for p in paths]

    @staticmethod
    def _lock_segments(unary: np.ndarray, bounds: np.ndarray, locked: tuple[Chord, ...], key: Key) -> np.ndarray:
        """Constrain segments whose middle a locked chord covers to that chord's class (in place);
        returns a bool mask ``(S,)`` of those segments."""
        fixed = np.zeros(len(unary), dtype=bool)
        for c in locked:
            mids = (bounds[:-1] + bounds[1:]) // 2
            hit = np.flatnonzero((mids >= c.start) & (mids < c.end))
            cls = class_of((c.root - key.tonic) % 12, c.quality)
            for s in hit:
                keep = unary[s, cls]
                unary[s] = -np.inf
                unary[s, cls] = keep if np.isfinite(keep) else 0.0
                fixed[s] = True
        return fixed

    @staticmethod
    def _chords(path: np.ndarray, bounds: np.ndarray, fixed: np.ndarray, locked: tuple[Chord, ...],
                key: Key, merge: bool) -> tuple[Chord, ...]:
        """The chord track of a class path: locked chords verbatim, proposed ones around them."""
        spans: list[tuple[int, int]] = [(c.start, c.end) for c in locked]
        out: list[Chord] = list(locked)
        prev: Chord | None = None
        for s, cls in enumerate(path):
            if fixed[s]:
                prev = None
                continue
            start, stop = int(bounds[s]), int(bounds[s + 1])
            for a, b in spans:  # trim around locked chords
                if a <= start < b:
                    start = b
                if start < a < stop:
                    stop = a
            if stop <= start:
                continue
            rel, q = class_label(int(cls))
            root = (rel + key.tonic) % 12
            if merge and prev is not None and prev.end == start and (prev.root, prev.quality) == (root, q):
                out.remove(prev)
                prev = prev.moved(length=stop - prev.start)
            else:
                prev = Chord(start, stop - start, root, q)
            out.append(prev)
        return tuple(sorted(out, key=lambda c: c.start))
