"""The harmoniser's network, its chord vocabulary and its per-unit melody features.

Owns the label space (``QUALS`` x 12 key-relative roots = ``N_CLASSES`` chord classes), the
time grid the model reads (``unit_grid``: one *unit* per beat-sized part of a bar, from
``core.chord_detect.segment_bounds(song, end, 4)``), the melody features of each unit
(``unit_features``), and :class:`HarmonyNet`, a bidirectional GRU that reads the features of a
whole melody and gives, for each unit, log-probabilities of the chord of the *segment* holding
that unit (the segment being a bar, half bar or beat: the granularity is an input feature).

Everything is key-relative: pitch classes are rotated so the key's tonic is 0, which makes the
model transposition-invariant (the same as augmenting every training piece to all 12 keys).

Shapes: features ``(U, N_FEATURES)`` float32 per melody of ``U`` units; logits ``(B, U, N_CLASSES)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from musicapp.core.chord_detect import segment_bounds
from musicapp.core.song import Song

KIND = "harmony"
#: chord qualities the model can propose; the rest of core's qualities are folded into these.
QUALS: tuple[str, ...] = ("maj", "min", "dim", "7", "maj7", "m7", "m7b5", "dim7")
TRIAD_QUALS: frozenset[str] = frozenset({"maj", "min", "dim"})
N_CLASSES = 12 * len(QUALS)
#: per_bar values the model knows as granularity (chords per bar): index into the one-hot.
GRANULARITIES: tuple[int, ...] = (1, 2, 4)
#: what a quality outside QUALS is read as, when a locked chord has it.
FOLD = {"aug": "maj", "sus2": "maj", "sus4": "maj", "6": "maj", "m6": "min", "add9": "maj"}
N_FEATURES = 12 + 12 + 1 + 1 + 4 + 1 + 3 + 1 + 2
ENCODING = {"name": "harmony-units", "version": 1, "quals": list(QUALS), "features": N_FEATURES}


def class_of(rel_root: int, quality: str) -> int:
    """Class index of a key-relative root (0-11) and a quality (folded into ``QUALS``)."""
    q = FOLD.get(quality, quality)
    return QUALS.index(q) * 12 + rel_root % 12


def class_label(cls: int) -> tuple[int, str]:
    """``(key-relative root, quality)`` of a class index."""
    return cls % 12, QUALS[cls // 12]


@functools.lru_cache(maxsize=1)
def class_templates() -> np.ndarray:
    """``(N_CLASSES, 12)`` 0/1 key-relative pitch-class sets of every class (read-only)."""
    from musicapp.core.chords import QUALITIES

    out = np.zeros((N_CLASSES, 12), dtype=np.float32)
    for c in range(N_CLASSES):
        root, q = class_label(c)
        for iv in QUALITIES[q]:
            out[c, (root + iv) % 12] = 1.0
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class UnitGrid:
    """The units of a melody: ``bounds`` ``(U + 1,)`` ticks, ``pos`` ``(U,)`` index of the unit in
    its bar (0 = downbeat), ``bar`` ``(U,)`` bar number of each unit."""

    bounds: np.ndarray
    pos: np.ndarray
    bar: np.ndarray

    def segments(self, song: Song, per_bar: int) -> np.ndarray:
        """Segment index ``(U,)`` of each unit for ``per_bar`` chords a bar (segments are unions of units)."""
        seg = segment_bounds(song, int(self.bounds[-1]), per_bar)
        return np.searchsorted(seg, self.bounds[:-1], side="right") - 1


def unit_grid(song: Song, end: int, start: int = 0) -> UnitGrid:
    """Units covering ``[start, end)`` under ``song``'s meter map, in whole bars (``start`` is
    moved back to the bar line at or before it)."""
    bounds = segment_bounds(song, max(end, 1), 4)
    if start > 0:
        first_bar = max(b for b in song.bar_starts(start) if b <= start)
        bounds = bounds[bounds >= first_bar]
    bar_starts = np.asarray(song.bar_starts(int(bounds[-1]) - 1), dtype=np.int64)
    bar = np.searchsorted(bar_starts, bounds[:-1], side="right") - 1
    pos = np.zeros(len(bar), dtype=np.int64)
    for i in range(1, len(bar)):
        pos[i] = pos[i - 1] + 1 if bar[i] == bar[i - 1] else 0
    return UnitGrid(bounds, pos, bar)


def melody_chroma(melody: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Ticks of melody per pitch class per unit ``(U, 12)``; ``melody`` ``(n, 3)`` onset, length, pitch."""
    from musicapp.core.chord_detect import segment_chroma

    return segment_chroma(melody, bounds)[0]


def unit_features(melody: np.ndarray, grid: UnitGrid, tonic: int, minor: bool, seg: np.ndarray,
                  per_bar: int) -> np.ndarray:
    """Features ``(U, N_FEATURES)`` of a monophonic melody (ticks), key-relative to ``tonic``.

    Per unit: melody duration share per pitch class (12), the pitch class sounding at the unit's
    start (12, one-hot), rest share, onset count / 4, position in the bar (4, one-hot, clamped),
    "a segment starts here", the granularity (3, one-hot), minor key, first bar, last bar.
    """
    b = grid.bounds
    n = len(b) - 1
    feats = np.zeros((n, N_FEATURES), dtype=np.float32)
    length = np.maximum(np.diff(b), 1).astype(np.float32)
    chroma = melody_chroma(melody, b)
    chroma = np.roll(chroma, -tonic, axis=1)
    feats[:, 0:12] = chroma / length[:, None]
    if len(melody):
        on = melody[:, 0].astype(np.int64)
        end = on + melody[:, 1].astype(np.int64)
        i = np.searchsorted(on, b[:-1], side="right") - 1
        sounding = (i >= 0) & (end[np.maximum(i, 0)] > b[:-1])
        pcs = (melody[np.maximum(i, 0), 2].astype(np.int64) - tonic) % 12
        feats[np.flatnonzero(sounding), 12 + pcs[sounding]] = 1.0
        counts = np.diff(np.searchsorted(on, b, side="left"))
        feats[:, 25] = np.minimum(counts / 4.0, 2.0)
    feats[:, 24] = np.clip(1.0 - feats[:, 0:12].sum(axis=1), 0.0, 1.0)
    feats[np.arange(n), 26 + np.minimum(grid.pos, 3)] = 1.0
    starts = np.ones(n, dtype=bool)
    starts[1:] = seg[1:] != seg[:-1]
    feats[:, 30] = starts
    feats[:, 31 + GRANULARITIES.index(per_bar)] = 1.0
    feats[:, 34] = float(minor)
    feats[:, 35] = grid.bar == grid.bar[0]
    feats[:, 36] = grid.bar == grid.bar[-1]
    return feats


@dataclass(frozen=True)
class HarmonyConfig:
    """Network size: input projection ``proj``, a ``layers``-deep bidirectional GRU of
    ``hidden`` units per direction, dropout between layers."""

    proj: int = 64
    hidden: int = 96
    layers: int = 2
    dropout: float = 0.1
    #: networks of this shape trained from different seeds whose chord probabilities are
    #: averaged (:class:`HarmonyEnsemble`); 1 = a single :class:`HarmonyNet`.
    members: int = 1


class HarmonyNet(nn.Module):
    """Features ``(B, U, N_FEATURES)`` -> chord-class logits ``(B, U, N_CLASSES)``."""

    def __init__(self, cfg: HarmonyConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.inp = nn.Sequential(nn.Linear(N_FEATURES, cfg.proj), nn.ReLU())
        self.rnn = nn.GRU(cfg.proj, cfg.hidden, num_layers=cfg.layers, batch_first=True,
                          bidirectional=True, dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(2 * cfg.hidden, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(self.inp(x))
        return self.out(self.drop(h))


class HarmonyEnsemble(nn.Module):
    """``cfg.members`` :class:`HarmonyNet` of one shape; the output is the log of their mean
    chord probabilities ``(B, U, N_CLASSES)`` (already normalised: ``log_softmax`` leaves it
    unchanged). State-dict keys ``members.I.*``."""

    def __init__(self, cfg: HarmonyConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.members = nn.ModuleList(HarmonyNet(cfg) for _ in range(cfg.members))

    @classmethod
    def of(cls, nets: list[HarmonyNet]) -> "HarmonyEnsemble":
        """The ensemble of trained ``nets`` (all of one shape; their weights are copied)."""
        from dataclasses import replace

        ens = cls(replace(nets[0].cfg, members=len(nets)))
        for member, net in zip(ens.members, nets):
            member.load_state_dict(net.state_dict())
        return ens

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logp = torch.stack([torch.log_softmax(m(x), dim=-1) for m in self.members])
        return torch.logsumexp(logp, dim=0) - float(np.log(len(self.members)))


def build_net(cfg: HarmonyConfig) -> nn.Module:
    """The network a checkpoint's config describes: a :class:`HarmonyNet`, or a
    :class:`HarmonyEnsemble` when ``cfg.members`` > 1."""
    return HarmonyEnsemble(cfg) if cfg.members > 1 else HarmonyNet(cfg)
