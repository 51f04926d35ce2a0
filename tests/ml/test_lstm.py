"""Melody LSTM: a tiny model learns, and the fused sampling cell matches nn.LSTM."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from musicapp.ml.dataset import EncodedTune, TuneBank
from musicapp.ml.encoding import HOLD, REST, EncodedMelody, pitch_token
from musicapp.ml.lstm import (NO_TOKEN, FusedStepper, LookbackHistory, LSTMConfig, MelodyLSTM, lookback_inputs,
                              melody_logits, single_thread)
from musicapp.ml.dataset import model_inputs
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


@pytest.mark.parametrize("lookback", [(), (1, 2)])
def test_tiny_model_loss_falls_in_a_few_steps(lookback):
    torch.manual_seed(0)
    bank = TuneBank(_tunes(), lookback)
    model = MelodyLSTM(replace(TINY, lookback=lookback))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    losses = []
    with single_thread():  # tiny tensors: one thread is fastest on a busy machine
        for _ in range(25):
            b = bank.sample(rng, 8, 32, max_shift=2).to_torch()
            logits, _ = model(**model_inputs(b))
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


def test_lookback_inputs_read_the_same_bar_position_d_bars_back():
    toks = np.array([10, 11, 12, 13, 10, 11, 99, 13, 10, 11])
    lb, match = lookback_inputs(toks, np.full(10, 4), (1, 2))
    assert lb[:, 0].tolist() == [NO_TOKEN] * 4 + [10, 11, 12, 13, 10, 11]
    assert lb[:, 1].tolist() == [NO_TOKEN] * 8 + [10, 11]
    # step t matches when token t-1 equalled its own one-bar lookback
    assert match[:, 0].tolist() == [0, 0, 0, 0, 0, 1, 1, 0, 1, 1]
    assert match[:, 1].tolist() == [0] * 9 + [1]
    lb2, match2 = lookback_inputs(toks, np.full(10, 4), (1, 2), first=6)
    np.testing.assert_array_equal(lb2, lb[6:])
    np.testing.assert_array_equal(match2, match[6:])


def test_lookback_distance_follows_the_bar_length_of_each_step():
    toks = np.arange(20) + 2
    bar = np.array([3] * 6 + [4] * 14)  # two bars of 3/16, then bars of 4/16
    lb, _ = lookback_inputs(toks, bar, (1,))
    assert lb[5, 0] == toks[2] and lb[6, 0] == toks[2] and lb[10, 0] == toks[6]


def test_lookback_history_gives_the_same_inputs_step_by_step():
    rng = np.random.default_rng(3)
    toks = rng.integers(0, 8, 60)
    toks[24:40] = toks[8:24]
    bar = np.array([12] * 24 + [16] * 36)
    lb, match = lookback_inputs(toks, bar, (1, 2, 4))
    hist = LookbackHistory((1, 2, 4), toks[:20], bar, batch=3)
    for t in range(20, 60):
        got_lb, got_match = hist.next(np.repeat(toks[t - 1], 3))
        np.testing.assert_array_equal(got_lb, np.repeat(lb[t:t + 1], 3, axis=0))
        np.testing.assert_array_equal(got_match, np.repeat(match[t:t + 1], 3, axis=0))
    assert match.sum() > 0


def test_fused_stepper_matches_nn_lstm_with_lookback_and_copy_gate():
    torch.manual_seed(2)
    model = MelodyLSTM(LSTMConfig(hidden=32, layers=2, embed=8, feat=4, dropout=0.0, lookback=(1, 2))).eval()
    with torch.no_grad():
        model.copy.bias.fill_(3.0)  # make the copy gate matter
    rng = np.random.default_rng(0)
    toks = rng.integers(0, 130, 48)
    toks[24:] = toks[:24]
    pos, bar = np.arange(48) % 12, np.full(48, 12)
    with torch.no_grad():
        ref = melody_logits(model, toks, pos, bar, 5, 1).numpy()
    lb, match = lookback_inputs(toks, bar, (1, 2))
    stepper = FusedStepper(model)
    ctx = stepper.begin(5, 1)
    meter = stepper.meter_gates(ctx, pos, bar)
    prev = np.concatenate([[NO_TOKEN], toks[:-1]])
    for t in range(48):
        logits = stepper.step(ctx, prev[t:t + 1], meter[t], lb[t:t + 1], match[t:t + 1])
        np.testing.assert_allclose(logits[0], ref[t], atol=1e-4)


def test_lookback_model_refuses_calls_without_lookback_inputs():
    model = MelodyLSTM(replace(TINY, lookback=(1,)))
    x = torch.zeros((1, 4), dtype=torch.int64)
    with pytest.raises(ValueError, match="lookback"):
        model(x, x, x + 16, x, x)


def test_training_run_writes_curves_resumes_and_exports_a_usable_checkpoint(tmp_path):
    from musicapp.core.song import Note
    from musicapp.ml.generate import MelodyGenerator
    from musicapp.ml.lstm_train import LSTMTrainConfig, export, train

    tunes = _tunes()
    splits = {"train": tunes, "valid": tunes[:2], "test": tunes[:1]}
    model_cfg = replace(TINY, lookback=(1, 2))
    run = tmp_path / "run"
    cfg = LSTMTrainConfig(run_dir=str(run), max_steps=4, eval_every=2, batch=4, seq_len=32, threads=1,
                          valid_windows=4, bf16=False)
    train(cfg, model_cfg, splits=splits, log=lambda _: None, progress=False)
    best = train(replace(cfg, max_steps=8), model_cfg, splits=splits, log=lambda _: None, progress=False)
    steps = [int(float(line.split(",")[0])) for line in (run / "loss.csv").read_text().splitlines()[1:]]
    assert steps == [2, 4, 6, 8]  # the second call resumed at step 4
    assert (run / "loss.png").stat().st_size > 1000
    out = export(best, tmp_path / "model")
    gen = MelodyGenerator(out)
    seed = [Note(i * 480, 60 + 2 * i, 480) for i in range(4)]
    (cand,) = gen.continue_melody(seed, bars=2, random_seed=1)
    assert all(n.start >= 1920 for n in cand)
    assert gen.meta.config["lookback"] == [1, 2]


def test_mixed_precision_training_runs_on_any_cpu_falling_back_to_float32():
    """bfloat16 autocast is on only where the CPU runs bfloat16 LSTMs (oneDNN refuses them on
    CPUs without bfloat16 instructions); either way a recurrent step trains."""
    from musicapp.ml.lstm_train import autocast, bf16_works

    rnn = torch.nn.LSTM(4, 8, batch_first=True)
    with autocast(torch.device("cpu"), True):
        out, _ = rnn(torch.randn(2, 5, 4))
    out.float().sum().backward()
    assert rnn.weight_ih_l0.grad is not None
    assert out.dtype == (torch.bfloat16 if bf16_works("cpu") else torch.float32)
    with autocast(torch.device("cpu"), False):
        assert rnn(torch.randn(1, 2, 4))[0].dtype == torch.float32
