"""A tiny random infill model saved as a real checkpoint, and melodies to infill (ticks, PPQ 480)."""

from __future__ import annotations

from dataclasses import asdict

import torch

from musicapp.core.song import Note
from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
from musicapp.ml.encoding import EncodingInfo
from musicapp.ml.infill_model import KIND, InfillConfig, InfillLSTM

TINY_INFILL = InfillConfig(hidden=24, layers=2, embed=12, feat=4, lookback=(1, 2), lookahead=(1, 2), suffix_hidden=8,
                           suffix_embed=6, suffix_steps=32, gru_steps=16, max_remaining=16)
BAR = 1920


def save_tiny_infill(path, seed: int = 0, config: InfillConfig = TINY_INFILL):
    """A random (non-zero everywhere) tiny infill checkpoint at ``path`` (.json)."""
    torch.manual_seed(seed)
    model = InfillLSTM(config)
    return save_checkpoint(path, model.state_dict(), CheckpointMeta(KIND, config.to_dict(), asdict(EncodingInfo())))


def tune(bars: int = 8, offset: int = 0) -> list[Note]:
    """A plain 4/4 melody of ``bars`` bars in C major: quarters and eighths."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    out, t, i = [], 0, offset
    while t < bars * BAR:
        ln = 480 if (i % 3) else 240
        out.append(Note(t, scale[(i * 5 + offset) % 8], ln, 90))
        t += ln
        i += 1
    return out
