"""The infill model and service: context notes never change, fused sampling equals the
training forward pass, seeds repeat, key lock holds, bad regions are refused, training resumes."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from infill_helpers import BAR, TINY_INFILL, save_tiny_infill, tune
from musicapp.core.scales import scale_pitch_classes
from musicapp.core.song import Key, Note, TimeSignature
from musicapp.ml.encoding import BOS, HOLD
from musicapp.ml.infill import InfillError, MelodyInfiller, region_notes
from musicapp.ml.infill_model import InfillLSTM, lookahead_inputs, region_inputs, remaining_index
from musicapp.ml.lstm import NO_TOKEN, MelodyLSTM, lookback_inputs
from musicapp.ml.steering import Steering


@pytest.fixture
def infiller(tmp_path):
    return MelodyInfiller(save_tiny_infill(tmp_path / "tiny_infill"))


def test_every_note_outside_the_region_is_the_inputs_own(infiller):
    rnd = random.Random(4)
    for trial in range(12):
        notes = tune(10, offset=trial)
        # a few chords and overlaps too: the service must keep them verbatim
        notes += [Note(rnd.randrange(0, 10 * BAR, 120), rnd.randrange(40, 90), rnd.choice((120, 480, 2000)), 70, 1)
                  for _ in range(6)]
        a = rnd.randrange(1, 6) * BAR + rnd.choice((0, 120, 360))
        b = a + rnd.randrange(1, 4) * BAR - rnd.choice((0, 240))
        cands = infiller.infill(notes, a, b, variations=3, temperature=1.2, random_seed=trial, key="auto")
        outside = sorted(n for n in notes if not a <= n.start < b)
        assert len(cands) == 3
        for cand in cands:
            assert sorted(n for n in cand if not a <= n.start < b) == outside
            new = [n for n in cand if a <= n.start < b]
            assert all(n.end <= b for n in new)


def test_fill_returns_only_new_notes_inside_the_region(infiller):
    notes = tune(8)
    for cand in infiller.fill(notes, 2 * BAR, 4 * BAR, variations=4, random_seed=1):
        assert cand and all(2 * BAR <= n.start and n.end <= 4 * BAR for n in cand)


def test_same_random_seed_same_candidates_other_seed_others(tmp_path):
    path = save_tiny_infill(tmp_path / "m")
    notes = tune(8)
    a = MelodyInfiller(path).infill(notes, 2 * BAR, 5 * BAR, variations=4, random_seed=7)
    b = MelodyInfiller(path).infill(notes, 2 * BAR, 5 * BAR, variations=4, random_seed=7)
    c = MelodyInfiller(path).infill(notes, 2 * BAR, 5 * BAR, variations=4, random_seed=8)
    assert a == b and a != c


def test_key_lock_keeps_every_new_note_in_the_scale(infiller):
    key = Key(2, "minor")
    scale = scale_pitch_classes(key)
    notes = tune(8)
    cands = infiller.fill(notes, BAR, 6 * BAR, variations=8, temperature=2.0, key=key, random_seed=2)
    pcs = [n.pitch % 12 for c in cands for n in c]
    assert pcs and all(p in scale for p in pcs)
    # without the lock the same random model leaves the scale
    free = infiller.fill(notes, BAR, 6 * BAR, variations=8, temperature=2.0, key=None, random_seed=2)
    assert any(n.pitch % 12 not in scale for c in free for n in c)


def test_pitch_range_is_respected(infiller):
    cands = infiller.fill(tune(8), BAR, 5 * BAR, variations=6, temperature=1.5, key=None, pitch_range=(60, 67),
                          random_seed=3)
    assert all(60 <= n.pitch <= 67 for c in cands for n in c)


def test_greedy_sampling_equals_the_training_forward_pass(infiller):
    """The fused stepper with lookahead slots, extra gates and suffix summary computes the same
    distribution as ``InfillLSTM.forward`` on the same (teacher-forced) inputs."""
    model, _ = infiller._ready()
    c = TINY_INFILL
    notes = tune(8)
    a_t, b_t = 2 * BAR, 5 * BAR
    infiller.fill(notes, a_t, b_t, variations=1, temperature=0, key=None, steering=Steering(register=False))
    gen = infiller.last_tokens[0]
    before, _, after = region_notes(notes, a_t, b_t)
    toks, pos, bar_len, origin = infiller.context(before, after, a_t // 120, b_t // 120, (TimeSignature(0),))
    a, b = a_t // 120 - origin, b_t // 120 - origin
    toks = toks.copy()
    toks[a:b] = gen
    with torch.no_grad():
        logits, _ = model(**region_inputs(model, toks, pos, bar_len, 12, 2, (a, b)))
    best = logits[0, a:b].argmax(-1).numpy()
    assert (best[1:] == gen[1:]).all()
    assert best[0] == gen[0] or best[0] == HOLD  # step 0 may not hold the prefix's last note


def test_a_model_made_from_the_lstm_is_that_lstm(tmp_path):
    """Zero-initialised new weights: before training, the infill model predicts exactly as the LSTM."""
    torch.manual_seed(1)
    lstm = MelodyLSTM(TINY_INFILL.lstm_config()).eval()
    model = InfillLSTM.from_lstm(lstm, TINY_INFILL).eval()
    rng = np.random.default_rng(0)
    toks = rng.choice([0, 1, 1, 62, 64, 67], size=80)
    pos, bl = np.arange(80) % 16, np.full(80, 16)
    lb, m = lookback_inputs(toks, bl, TINY_INFILL.lookback)
    la, lm = lookahead_inputs(toks, bl, TINY_INFILL.lookahead, (30, 50), 80)
    LB = np.concatenate([lb, np.full((80, 2), NO_TOKEN)], 1)
    M = np.concatenate([m, np.zeros((80, 2), np.int64)], 1)
    LB[30:50, 2:], M[30:50, 2:] = la, lm
    rem = np.zeros(80, np.int64)
    rem[30:50] = remaining_index(50 - np.arange(30, 50), TINY_INFILL.max_remaining)
    t = lambda x: torch.from_numpy(np.ascontiguousarray(x))[None]  # noqa: E731
    prev = t(np.concatenate([[BOS], toks[:-1]]))
    key, mode = torch.zeros_like(prev), torch.zeros_like(prev)
    with torch.no_grad():
        want, _ = lstm(prev, t(pos), t(bl), key, mode, lb=t(lb), match=t(m))
        summary = model.summarise_suffix(t(toks[50:][::-1]), t(pos[50:][::-1]), torch.tensor([0]), torch.tensor([30]))
        got, _ = model(prev, t(pos), t(bl), key, mode, lb=t(LB), match=t(M), remain=t(rem), summary=summary)
    assert torch.allclose(want, got, atol=1e-5)


def test_a_widened_model_keeps_its_weights_and_predicts_exactly_as_before(tmp_path):
    """More lookahead distances (new slots at zero): the same logits on inputs whose new slots
    hold real tokens, and the same sampled candidates through the fused sampler."""
    from dataclasses import asdict

    from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
    from musicapp.ml.encoding import EncodingInfo
    from musicapp.ml.infill_model import KIND

    old_path = save_tiny_infill(tmp_path / "old.json", seed=3)
    old, _ = MelodyInfiller(old_path)._ready()
    wide = old.widen((1, 2, 3, 5), suffix_steps=96)
    assert wide.infill_config.lookahead == (1, 2, 3, 5) and wide.infill_config.suffix_steps == 96
    rng = np.random.default_rng(1)
    toks = rng.choice([0, 1, 1, 62, 64, 67], size=120)
    pos, bl = np.arange(120) % 16, np.full(120, 16)
    with torch.no_grad():
        want, _ = old(**region_inputs(old, toks, pos, bl, 0, 0, (32, 64)))
        inputs = region_inputs(wide.eval(), toks, pos, bl, 0, 0, (32, 64))
        assert (inputs["lb"][0, 32:64, 4:] != NO_TOKEN).any()  # the new 3- and 5-bar slots see the suffix
        got, _ = wide(**inputs)
    assert torch.allclose(want, got, atol=1e-5)
    new_path = save_checkpoint(tmp_path / "wide", wide.state_dict(),
                               CheckpointMeta(KIND, wide.infill_config.to_dict(), asdict(EncodingInfo())))
    notes = tune(10)
    a = [n.pitch for n in MelodyInfiller(old_path).fill(notes, 2 * BAR, 4 * BAR, variations=2, random_seed=5)[1]]
    b = [n.pitch for n in MelodyInfiller(new_path).fill(notes, 2 * BAR, 4 * BAR, variations=2, random_seed=5)[1]]
    assert a == b and a
    with pytest.raises(ValueError, match="must start with"):
        old.widen((2, 1, 3))


@pytest.mark.parametrize("start,end,words", [
    (2 * BAR, 2 * BAR, "empty"),
    (3 * BAR, 2 * BAR, "empty"),
    (20 * BAR, 22 * BAR, "outside"),
    (0, 2 * BAR, "no notes before"),
    (6 * BAR, 9 * BAR, "no notes after"),
    (BAR, 70 * BAR, "longer than 64 bars"),
])
def test_bad_regions_are_refused_with_one_line(infiller, start, end, words):
    notes = tune(8)
    if words == "longer than 64 bars":
        notes = notes + [Note(80 * BAR, 60, 480)]
    with pytest.raises(InfillError) as err:
        infiller.infill(notes, start, end)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_infill_training_runs_and_resumes(tmp_path):
    from dataclasses import asdict

    from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
    from musicapp.ml.dataset import EncodedTune
    from musicapp.ml.encoding import EncodedMelody, EncodingInfo
    from musicapp.ml.infill_train import InfillTrainConfig, export, train
    from musicapp.ml.lstm import KIND as LSTM_KIND

    torch.manual_seed(0)
    lstm_cfg = TINY_INFILL.lstm_config()
    init = save_checkpoint(tmp_path / "lstm", MelodyLSTM(lstm_cfg).state_dict(),
                           CheckpointMeta(LSTM_KIND, lstm_cfg.to_dict(), asdict(EncodingInfo())))
    rng = np.random.default_rng(0)
    tunes = []
    for i in range(12):
        n = int(rng.integers(64, 160))
        tunes.append(EncodedTune(f"t{i}", EncodedMelody(rng.choice([0, 1, 1, 62, 64, 67], size=n), np.arange(n) % 16,
                                                        np.full(n, 16)), 0, 0))
    splits = {"train": tunes, "valid": tunes[:4], "test": tunes[:4]}
    cfg = InfillTrainConfig(run_dir=str(tmp_path / "run"), init=str(init), max_steps=2, eval_every=2, batch=4,
                            valid_windows=4, max_prefix=32, max_region=32, threads=1)
    logs: list[str] = []
    best = train(cfg, TINY_INFILL, splits=splits, log=logs.append, progress=False)
    assert (tmp_path / "run" / "loss.csv").read_text().count("\n") == 2
    from dataclasses import replace

    train(replace(cfg, max_steps=4), TINY_INFILL, splits=splits, log=logs.append, progress=False)
    assert any("resumed" in line and "step 2" in line for line in logs)
    out = export(best, tmp_path / "infill")
    assert MelodyInfiller(out).fill(tune(6), BAR, 3 * BAR, random_seed=0)
    # going on fine-tuning from the exported infill checkpoint starts at its weights
    logs.clear()
    train(replace(cfg, run_dir=str(tmp_path / "more"), init=str(out)), TINY_INFILL, splits=splits,
          log=logs.append, progress=False)
    first = next(line for line in logs if line.startswith("before training"))
    best_valid = min(float(row.split(",")[4]) for row in (tmp_path / "run" / "loss.csv").read_text().splitlines()[1:])
    assert str(out) in first
    assert f"{best_valid:.4f} nats/step" in first


def test_the_likelihood_figures_split_region_bars_into_copies_and_new_material():
    """eval-infill's breakdown: a region bar equal to a bar of 1-4 is a prefix copy, one equal
    to a bar of 9-12 only a suffix copy, else new; per-kind sums make up the totals and the
    bounds (copies free) are at most the ratio."""
    from musicapp.ml.encoding import encode_notes
    from musicapp.ml.infill_eval import EvalTune, bar_kind, likelihood

    meters = (TimeSignature(0, 4, 4),)
    base = tune(12)
    bars = [[n for n in base if b * BAR <= n.start < (b + 1) * BAR] for b in range(12)]
    bars[4] = [n.moved(dt=4 * BAR) for n in bars[0]]  # bar 5 copies bar 1
    bars[5] = [Note(5 * BAR + i * 480, 70 - i, 480, 90) for i in range(4)]  # bar 6: new here ...
    bars[9] = [n.moved(dt=4 * BAR) for n in bars[5]]  # ... and repeated as bar 10
    bars[6] = [Note(6 * BAR + i * 240, 48 + i, 240, 90) for i in range(8)]  # bar 7 on neither side
    bars[7] = [n.moved(dt=6 * BAR) for n in bars[1]]  # bar 8 copies bar 2
    notes = [n for b in bars for n in b]
    enc, _ = encode_notes(notes, meters, 0, 12 * BAR)
    lines = np.append(np.flatnonzero(enc.pos == 0), len(enc.tokens))
    t = EvalTune(enc.tokens, enc.pos, enc.bar_len, 0, 0, int(lines[4]), int(lines[8]), meters)
    assert [bar_kind(t, lines, k) for k in (4, 5, 6, 7)] == ["prefix", "suffix", "new", "prefix"]
    torch.manual_seed(0)
    model = InfillLSTM(TINY_INFILL).eval()
    lstm = MelodyLSTM(TINY_INFILL.lstm_config()).eval()
    lk = likelihood(model, lstm, [t, t])
    kinds = lk["kinds"]
    assert sum(k["notes"] for k in kinds.values()) == lk["notes"] > 0
    assert kinds["prefix"]["notes"] == 2 * (len(bars[0]) + len(bars[1])) and kinds["suffix"]["notes"] == 2 * 4
    assert kinds["new"]["notes"] == 2 * 8
    total_i = sum(k["infill"] * k["notes"] for k in kinds.values())
    assert total_i / lk["notes"] == pytest.approx(lk["infill"], rel=1e-6)
    assert sum(k["forward_share"] for k in kinds.values()) == pytest.approx(1.0)
    assert lk["bound_copies"] <= lk["bound_suffix"] <= lk["ratio"] + 1e-9


def test_whole_tune_regions_are_four_bars_on_bar_lines_with_four_bars_either_side():
    """eval-infill's whole-tune protocol: every usable tune kept uncut (a short last bar cut off),
    one 4-bar region on bar lines with >= 4 whole bars before and after it, drawn by the seed;
    tunes under 12 whole bars, with a pickup or a meter change are left out; a region bar equal
    to any later bar counts as a suffix copy, also beyond bar 12."""
    from musicapp.ml.dataset import EncodedTune
    from musicapp.ml.encoding import encode_notes
    from musicapp.ml.infill_eval import bar_kind, whole_tunes

    meters = (TimeSignature(0, 4, 4),)

    def enc(bars: int, extra: int = 0, meter=meters, first: int = 0):
        notes = [Note(first + i * 480, 60 + (i * 5) % 12, 480, 90) for i in range(bars * 4 + extra)]
        e, _ = encode_notes(notes, meter, 0, first + (bars * 4 + extra) * 480)
        return e

    tunes = [EncodedTune(f"t{n}", enc(n), 0, 0) for n in (11, 12, 16, 30)]
    tunes.append(EncodedTune("short-last-bar", enc(14, extra=2), 0, 0))
    tunes.append(EncodedTune("meter-change", enc(16, meter=(TimeSignature(0, 4, 4), TimeSignature(8 * BAR, 3, 4))), 0, 0))
    got = whole_tunes(tunes, seed=3)
    assert [len(t.lines) - 1 for t in got] == [12, 16, 30, 14]  # 11 bars and the meter change left out
    for t in got:
        lines = t.lines
        assert t.a in lines and t.b in lines and len(t.region_bars) == 4
        assert t.region_bars.start >= 4 and len(lines) - 1 - t.region_bars.stop >= 4
    assert [(t.a, t.b) for t in got] == [(t.a, t.b) for t in whole_tunes(tunes, seed=3)]
    assert len({(t.a, t.b) for t in whole_tunes([tunes[3]] * 40, seed=0)}) > 5  # regions spread over the tune
    # a region bar whose copy comes 20 bars later is a suffix copy
    notes = [Note(b * BAR + i * 480, 40 + (7 * b + 3 * i) % 50, 480, 90) for b in range(30) for i in range(4)]
    notes = [n for n in notes if not 26 * BAR <= n.start < 27 * BAR]
    notes += [n.moved(dt=21 * BAR) for n in notes if 5 * BAR <= n.start < 6 * BAR]
    e, _ = encode_notes(notes, meters, 0, 30 * BAR)
    (t,) = whole_tunes([EncodedTune("x", e, 0, 0)], seed=0)
    t.a, t.b = int(t.lines[4]), int(t.lines[8])
    assert [bar_kind(t, t.lines, k) for k in t.region_bars] == ["new", "suffix", "new", "new"]


def test_the_card_table_shows_the_whole_tune_figures_beside_the_twelve_bar_ones():
    from musicapp.ml.infill_eval import format_table

    kinds = {k: {"notes": 10, "infill": 1.0, "forward": 1.2, "forward_share": 1 / 3} for k in ("prefix", "suffix", "new")}
    lk = {"tunes": 5, "notes": 30, "infill": 1.0, "forward": 1.2, "ratio": 0.833, "kinds": kinds,
          "bound_suffix": 0.8, "bound_copies": 0.7}
    row = {"pitch_class_overlap": 0.9, "length_overlap": 0.9, "junction_interval": 3.0,
           "suffix_nats_per_note": 2.0, "notes_per_bar": 4.0}
    gen = {"tunes": 5, **{k: row for k in ("true", "infill", "forward", "rerank")}}
    controls = {"tunes": 0, "density": {}, "rhythm": {}, "repeat": {}, "register": {}}
    fig = {"split": "test", "checkpoint": "infill.json", "likelihood": lk, "generated": gen, "controls": controls,
           "seconds": 1.0}
    old = format_table(fig)
    assert "Whole tunes" not in old and "Ratio infill / forward: **0.833**" in old
    new = format_table({**fig, "likelihood_whole": {**lk, "ratio": 0.777, "mean_bars": 17.5},
                        "generated_whole": {**gen, "tunes": 4}})
    assert "Ratio infill / forward on whole tunes: **0.777**" in new and "mean 17.5 bars" in new
    assert "Generated regions of 4 of the whole tunes" in new and "copy of a bar after it only" in new


def test_train_command_writes_the_best_or_the_last_weights_as_asked(tmp_path, monkeypatch):
    """``musicapp train --model infill --keep last`` exports the run's last weights, the default
    its best (lowest validation-window loss)."""
    import argparse
    from dataclasses import asdict, replace

    from musicapp.ml import infill_train
    from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
    from musicapp.ml.dataset import EncodedTune
    from musicapp.ml.encoding import EncodedMelody, EncodingInfo
    from musicapp.ml.infill_model import KIND
    from musicapp.ml.lstm import KIND as LSTM_KIND
    from musicapp.ml.training import model_tensors

    torch.manual_seed(0)
    lstm_cfg = TINY_INFILL.lstm_config()
    init = save_checkpoint(tmp_path / "lstm", MelodyLSTM(lstm_cfg).state_dict(),
                           CheckpointMeta(LSTM_KIND, lstm_cfg.to_dict(), asdict(EncodingInfo())))
    rng = np.random.default_rng(0)
    tunes = [EncodedTune(f"t{i}", EncodedMelody(rng.choice([0, 1, 1, 62, 64, 67], size=96), np.arange(96) % 16,
                                                np.full(96, 16)), 0, 0) for i in range(8)]
    real_train = infill_train.train

    def tiny_train(cfg, progress=True):
        cfg = replace(cfg, eval_every=2, batch=4, valid_windows=4, max_prefix=32, max_region=32, warmup=0)
        return real_train(cfg, TINY_INFILL, splits={"train": tunes, "valid": tunes[:3], "test": tunes[:3]},
                          log=lambda s: None, progress=False)

    monkeypatch.setattr(infill_train, "train", tiny_train)
    for keep in ("best", "last"):
        args = argparse.Namespace(run_dir=str(tmp_path / "run"), init=str(init), minutes=None, steps=10, batch_size=None,
                                  lr=0.3, seed=None, device=None, threads=1, max_shift=None, no_resume=True,
                                  quiet=True, keep=keep, out=str(tmp_path / f"out-{keep}"), lookahead=None,
                                  suffix_steps=None)
        assert infill_train.run(args) == 0
        _, written = model_tensors(tmp_path / f"out-{keep}.json", kind=KIND)
        _, source = model_tensors(tmp_path / "run" / f"{keep}.json", kind=KIND)
        assert written.keys() == source.keys() and all(torch.equal(written[k], source[k]) for k in written)
    _, best = model_tensors(tmp_path / "run" / "best.json", kind=KIND)
    _, last = model_tensors(tmp_path / "run" / "last.json", kind=KIND)
    assert not all(torch.equal(best[k], last[k]) for k in best)  # the two choices differ here


def test_train_command_widens_an_infill_checkpoint_with_more_lookahead_distances(tmp_path, monkeypatch):
    """``train --model infill --init INFILL --lookahead 1,2,3``: training starts from the
    checkpoint with a new 3-bar slot; distances that do not extend the checkpoint's are a
    one-line error before any work."""
    import argparse
    from dataclasses import replace

    from musicapp.core.errors import MusicappError
    from musicapp.ml import infill_train
    from musicapp.ml.checkpoint import read_meta
    from musicapp.ml.dataset import EncodedTune
    from musicapp.ml.encoding import EncodedMelody

    init = save_tiny_infill(tmp_path / "init.json", seed=2)
    rng = np.random.default_rng(0)
    tunes = [EncodedTune(f"t{i}", EncodedMelody(rng.choice([0, 1, 1, 62, 64, 67], size=96), np.arange(96) % 16,
                                                np.full(96, 16)), 0, 0) for i in range(8)]
    real_train = infill_train.train
    logs: list[str] = []

    def tiny_train(cfg, progress=True):
        cfg = replace(cfg, eval_every=2, batch=4, valid_windows=4, max_prefix=32, max_region=32, warmup=0)
        return real_train(cfg, TINY_INFILL, splits={"train": tunes, "valid": tunes[:3], "test": tunes[:3]},
                          log=logs.append, progress=False)

    monkeypatch.setattr(infill_train, "train", tiny_train)

    def args(lookahead):
        return argparse.Namespace(run_dir=str(tmp_path / "run"), init=str(init), minutes=None, steps=2, batch_size=None,
                                  lr=None, seed=None, device=None, threads=1, max_shift=None, no_resume=True,
                                  quiet=True, keep="last", out=str(tmp_path / "out"), lookahead=lookahead,
                                  suffix_steps=48)

    assert infill_train.run(args((1, 2, 3))) == 0
    meta = read_meta(tmp_path / "out.json")[0]
    assert meta.config["lookahead"] == [1, 2, 3] and meta.config["suffix_steps"] == 48
    # before training, the widened model scored the validation windows exactly as the checkpoint does
    start = next(line for line in logs if line.startswith("before training"))
    logs.clear()
    real_train(replace(infill_train.InfillTrainConfig(run_dir=str(tmp_path / "same"), init=str(init), max_steps=0,
                                                      valid_windows=4, max_prefix=32, max_region=32)),
               TINY_INFILL, splits={"train": tunes, "valid": tunes[:3], "test": tunes[:3]}, log=logs.append,
               progress=False)
    assert start.split(":")[1] == next(line for line in logs if line.startswith("before training")).split(":")[1]
    with pytest.raises(MusicappError, match="must start with the checkpoint's distances 1,2") as err:
        infill_train.run(args((2, 3)))
    assert "\n" not in str(err.value)
    bad = args((1, 2, 3))
    bad.suffix_steps = 0
    with pytest.raises(MusicappError, match="suffix_steps must be a positive integer"):
        infill_train.run(bad)


def test_per_region_overlap_separates_what_pooled_histograms_cannot():
    """Two tunes whose generated regions swap the true regions' notes: the pooled histograms are
    identical (overlap 1), the per-region overlaps show each region is wrong (0)."""
    from musicapp.ml.infill_eval import RegionStats

    scale = frozenset(range(12))
    a = [Note(0, 60, 480), Note(480, 64, 480)]  # C, E quarters
    b = [Note(0, 62, 240), Note(240, 65, 240)]  # D, F eighths
    truth, swapped, same = RegionStats(), RegionStats(), RegionStats()
    for true, gen in ((a, b), (b, a)):
        truth.add_region(true, scale, 67)
        swapped.add_region(gen, scale, 67)
        same.add_region(true, scale, 67)
    f = swapped.figures(truth)
    assert f["pitch_class_overlap"] == 1.0 and f["length_overlap"] == 1.0
    assert f["pitch_class_overlap_region"] == 0.0 and f["length_overlap_region"] == 0.0
    g = same.figures(truth)
    assert g["pitch_class_overlap_region"] == 1.0 and g["length_overlap_region"] == 1.0
    # several samples per tune are each paired with their own tune's true bars
    many = RegionStats()
    for i, true in enumerate((a, b)):
        many.add_region(true, scale, 67, index=i)
        many.add_region(b if i == 0 else a, scale, 67, index=i)
    h = many.figures(truth)
    assert h["pitch_class_overlap_region"] == 0.5 and h["length_overlap_region"] == 0.5
