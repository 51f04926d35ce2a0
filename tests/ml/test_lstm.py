"""Melody LSTM: a tiny model learns, and the fused sampling cell matches nn.LSTM."""

from __future__ import annotations

import numpy as np
import torch

from musicapp.ml.dataset import EncodedTune, TuneBank
from musicapp.ml.encoding import HOLD, REST, EncodedMelody, pitch_token
from musicapp.ml.lstm import FusedStepper, LSTMConfig, MelodyLSTM, single_thread
from musicapp.ml.lstm_train import masked_nll

TINY = LSTMConfig(hidden=24, layers=2, embed=12, feat=4, dropout=0.0)


def _tunes(n: int = 6) -> list[EncodedTune]:
    """Scales on quarter notes in 4/4, each in its own key."""
    out = []
    for k in range(n):
        toks = []
        for p in (60, 62, 64, 65, 67, 69, 71, 72):
            toks += [pitch_token(p + k), HOLD, HOLD, REST]
        toks = np.array(toks * 2)
        pos = np.arange(len(toks)) % 16
        out.append(EncodedTune(f"t{k}", EncodedMelody(toks, pos, np.full(len(toks), 16)), k % 12, 0))
    return out


def test_tiny_model_loss_falls_in_a_few_steps():
    torch.manual_seed(0)
    bank = TuneBank(_tunes())
    model = MelodyLSTM(TINY)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    losses = []
    with single_thread():  # tiny tensors: one thread is fastest on a busy machine
        for _ in range(25):
            b = bank.sample(rng, 8, 32, max_shift=2).to_torch()
            logits, _ = model(b["prev"], b["pos"], b["bar_len"], b["key"], b["mode"])
            s, n = masked_nll(logits, b["target"], b["mask"])
            loss = s / n
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:3])


def test_fused_stepper_matches_nn_lstm():
    torch.manual_seed(1)
    model = MelodyLSTM(LSTMConfig(hidden=32, layers=3, embed=8, feat=4, dropout=0.0)).eval()
    T = 40
    prev = torch.randint(0, 131, (1, T))
    pos = (torch.arange(T) % 12)[None]
    bar = torch.full((1, T), 12)
    with torch.no_grad():
        ref, _ = model(prev, pos, bar, torch.full_like(prev, 5), torch.full_like(prev, 1))
    stepper = FusedStepper(model)
    ctx = stepper.begin(5, 1)
    meter = stepper.meter_gates(ctx, pos[0].numpy(), bar[0].numpy())
    stepper.advance(ctx, prev[0, :20].numpy(), meter[:20])
    ctx = ctx.expand(2)
    for t in range(20, T):
        logits = stepper.step(ctx, np.repeat(prev[0, t].numpy(), 2), meter[t])
        np.testing.assert_allclose(logits, np.repeat(ref[0, t:t + 1].numpy(), 2, axis=0), atol=1e-4)
