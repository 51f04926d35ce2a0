"""Synthetic chorale-like scores and a tiny harmoniser checkpoint for the harmony tests."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch

from musicapp.core.chords import Chord
from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
from musicapp.ml.harmony import DecoderWeights
from musicapp.ml.harmony_data import Score
from musicapp.ml.harmony_model import ENCODING, KIND, N_CLASSES, GRANULARITIES, HarmonyConfig, HarmonyNet

TINY = HarmonyConfig(proj=16, hidden=16, layers=1, dropout=0.0)
PROGRESSIONS = (("I", "IV", "V", "I"), ("I", "vi", "ii", "V"), ("I", "V", "vi", "IV"), ("vi", "IV", "I", "V"))
DEGREES = {"I": (0, "maj"), "ii": (2, "min"), "IV": (5, "maj"), "V": (7, "maj"), "vi": (9, "min")}


def synthetic_score(seed: int, bars: int = 8) -> Score:
    """Four-part block chords (one per bar, a random pop/hymn progression in a random major key),
    the soprano in quarters on chord tones: a score whose true chords are known."""
    rng = np.random.default_rng(seed)
    tonic = int(rng.integers(12))
    prog = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    rows = []
    for b in range(bars):
        iv, q = DEGREES[prog[b % len(prog)]]
        chord = Chord(0, 1, (tonic + iv) % 12, q)
        pcs = chord.pitch_classes
        start = b * 1920
        rows.append((start, 1920, 36 + chord.root, 0))
        rows.extend((start, 1920, 48 + pc, 0) for pc in pcs[1:])
        for k in range(4):
            rows.append((start + k * 480, 480, 72 + int(pcs[int(rng.integers(len(pcs)))]), 1))
    notes = np.asarray(sorted(rows), dtype=np.int32)
    return Score(f"synthetic/{seed}", notes, 480, 1920, 0, tonic, 0)


def tiny_harmony_checkpoint(path, seed: int = 0) -> str:
    """A random tiny harmoniser with a uniform transition table, saved as a real checkpoint."""
    torch.manual_seed(seed)
    net = HarmonyNet(TINY)
    tensors = {f"net.{k}": v for k, v in net.state_dict().items()}
    tensors["transitions"] = torch.full((2, len(GRANULARITIES), N_CLASSES, N_CLASSES), -float(np.log(N_CLASSES)))
    meta = CheckpointMeta(KIND, asdict(TINY), dict(ENCODING), extra={"decoder": asdict(DecoderWeights())})
    return str(save_checkpoint(path, tensors, meta))
