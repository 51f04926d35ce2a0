"""Small real inputs for the fine-tune tests: MIDI files of one style and a tiny base LSTM."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from musicapp.core.midifile import write_midi
from musicapp.core.song import Note, Song, TimeSignature, Track
from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
from musicapp.ml.encoding import EncodingInfo
from musicapp.ml.lstm import KIND, LSTMConfig, MelodyLSTM

MOTIF = (0, 4, 7, 12, 7, 4, 2, 5, 9, 5, 2, -1)  # a 12-note figure in eighths: easy to learn


def style_song(shift: int, bars: int = 12, meter: TimeSignature = TimeSignature(0)) -> Song:
    """A bass, the motif as lead (transposed by ``shift``) and drums: the lead is the melody."""
    n = bars * 8
    lead = tuple(Note(j * 240, 62 + shift + MOTIF[j % len(MOTIF)], 240) for j in range(n))
    bass = tuple(Note(j * 960, 38 + shift, 960, channel=1) for j in range(bars * 2))
    drums = tuple(Note(j * 480, 36, 100, channel=9) for j in range(bars * 4))
    return Song(tracks=(Track("Bass", 1, 33, bass), Track("Lead", 0, 73, lead), Track("Drums", 9, 0, drums)),
                meters=(meter,))


def write_style_files(folder: Path, count: int = 8) -> Path:
    """``count`` files of the style in ``folder`` (distinct transpositions, 4/4 and 3/4)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        meter = TimeSignature(0, 3, 4) if i % 3 == 2 else TimeSignature(0)
        write_midi(style_song(i - count // 2, bars=10 + i, meter=meter), folder / f"tune{i}.mid")
    return folder


def tiny_base(path: Path, lookback: tuple[int, ...] = (1, 2)) -> Path:
    """A random tiny LSTM checkpoint (seed 0) standing in for the shipped model."""
    torch.manual_seed(0)
    cfg = LSTMConfig(hidden=24, layers=1, embed=12, feat=4, dropout=0.0, lookback=lookback)
    return save_checkpoint(path, MelodyLSTM(cfg).state_dict(),
                           CheckpointMeta(KIND, cfg.to_dict(), asdict(EncodingInfo())))
