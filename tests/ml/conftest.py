"""Fixtures for ml tests: a tiny seeded LSTM saved as a real checkpoint."""

from __future__ import annotations

from dataclasses import asdict, replace

import pytest
import torch

from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
from musicapp.ml.encoding import EncodingInfo
from musicapp.ml.lstm import KIND, LSTMConfig, MelodyLSTM

TINY = LSTMConfig(hidden=24, layers=2, embed=12, feat=4, dropout=0.0)


@pytest.fixture(params=[(), (1, 2)], ids=["plain", "lookback"])
def tiny_checkpoint(tmp_path, request):
    """Path of ``tmp/tiny.json`` holding a random tiny LSTM (seed 0), without and with lookback."""
    torch.manual_seed(0)
    config = replace(TINY, lookback=request.param)
    model = MelodyLSTM(config)
    return save_checkpoint(tmp_path / "tiny", model.state_dict(),
                           CheckpointMeta(KIND, config.to_dict(), asdict(EncodingInfo())))
