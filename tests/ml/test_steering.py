"""Steering with the shipped LSTM: each control moves its statistic the right way."""

from __future__ import annotations

import numpy as np
import pytest

from musicapp.core.scales import scale_pitch_classes
from musicapp.core.song import Key, Note, TimeSignature
from musicapp.ml.encoding import encode_notes
from musicapp.ml.generate import MelodyGenerator
from musicapp.ml.infill_eval import repeated_bars
from musicapp.ml.steering import Steering, SteeringError, octave_shift, onset_grid

Q, E = 480, 240
G_MAJOR = Key(7, "major")
TUNE = [Note(t, p, ln) for t, p, ln in [
    (0, 67, Q), (480, 67, E), (720, 69, E), (960, 71, Q), (1440, 67, Q),
    (1920, 72, Q), (2400, 71, E), (2640, 69, E), (2880, 67, Q), (3360, 64, Q),
    (3840, 62, Q), (4320, 64, E), (4560, 66, E), (4800, 67, Q), (5280, 69, Q),
    (5760, 71, Q), (6240, 69, Q), (6720, 67, 2 * Q)]]  # 4 bars in G major, eighths and quarters


@pytest.fixture(scope="module")
def gen():
    g = MelodyGenerator()
    g.load()
    return g


def _continue(gen, steering, bars=4, seed=TUNE, variations=8, temperature=1.0, rs=1):
    return gen.continue_melody(seed, bars=bars, variations=variations, key=G_MAJOR, random_seed=rs,
                               temperature=temperature, steering=steering)


def test_density_requests_are_met_in_order_and_in_key(gen):
    scale = scale_pitch_classes(G_MAJOR)
    got = []
    for d in (2, 3, 4, 6, 8):
        cands = _continue(gen, Steering(density=d))
        per_bar = np.mean([len(c) / 4 for c in cands])
        assert abs(per_bar - d) <= 0.2 * d
        assert np.mean([n.pitch % 12 in scale for c in cands for n in c]) >= 0.95
        got.append(per_bar)
    assert got == sorted(got)


def test_rhythm_seed_keeps_the_seeds_grid_and_shortest_value(gen):
    def rhythm(rhythm):
        cands = _continue(gen, Steering(rhythm=rhythm, density=7), temperature=1.4)
        onsets = [sorted(n.start // 120 for n in c) for c in cands]
        off = sum(s % 2 for o in onsets for s in o)
        shortest = min(int(np.diff(o).min()) for o in onsets if len(o) > 1)
        return off, shortest

    assert onset_grid(encode_notes(TUNE)[0].tokens, encode_notes(TUNE)[0].pos) == (2, 2)
    off_seed, short_seed = rhythm("seed")
    off_free, short_free = rhythm("free")
    assert off_seed == 0 and short_seed >= 2
    assert off_free > 0 and short_free == 1


def test_repeat_raises_the_share_of_reused_bars(gen):
    def share(repeat):
        hits = total = 0
        for c in _continue(gen, Steering(repeat=repeat), bars=8):
            enc, _ = encode_notes(TUNE + c, (TimeSignature(0),), 0, 12 * 1920)
            h, n = repeated_bars(enc.tokens, np.arange(0, 12 * 16 + 1, 16), 4)
            hits, total = hits + h, total + n
        return hits / total

    low, mid, high = share(0.0), share(0.5), share(1.0)
    assert low < mid < high


def test_register_follows_a_low_seed(gen):
    low = [Note(n.start, n.pitch - 24, n.length) for n in TUNE]
    seed_mean = np.mean([n.pitch for n in low])
    follow = _continue(gen, Steering(register=True), seed=low)
    free = _continue(gen, Steering(register=False), seed=low)
    assert abs(np.mean([n.pitch for c in follow for n in c]) - seed_mean) < 5
    assert np.mean([n.pitch for c in free for n in c]) - seed_mean > 10
    assert octave_shift([p - 24 for p in range(60, 72)]) == 24 and octave_shift([]) == 0


def test_pitch_range_still_holds_under_the_register_shift(gen):
    low = [Note(n.start, n.pitch - 24, n.length) for n in TUNE]
    cands = gen.continue_melody(low, bars=4, variations=8, key=G_MAJOR, pitch_range=(40, 47), random_seed=2,
                                steering=Steering())
    assert all(40 <= n.pitch <= 47 for c in cands for n in c)


@pytest.mark.parametrize("kw", [{"density": 0}, {"density": 40}, {"rhythm": "swing"}, {"repeat": 1.5}])
def test_out_of_range_steering_is_refused(kw):
    with pytest.raises(SteeringError):
        Steering(**kw)


def test_vae_vary_and_sample_follow_the_density_request():
    from musicapp.ml.vae_generate import VaeService

    vae = VaeService(device="cpu")
    phrase = [n for n in TUNE if n.start < 3840]
    got = []
    for d in (2, 4, 8):
        vary = vae.vary(phrase, 0.5, 8, seed=1, temperature=1.0, steering={"density": d})
        sample = vae.sample(2, 1.0, 8, seed=1, steering={"density": d})
        for cands in (vary, sample):
            per_bar = np.mean([len(c) / 2 for c in cands])
            assert abs(per_bar - d) <= 0.2 * d
        got.append(np.mean([len(c) for c in vary]))
    assert got == sorted(got)


def test_vae_rhythm_seed_keeps_the_phrases_eighth_grid():
    from musicapp.ml.vae_generate import VaeService

    vae = VaeService(device="cpu")
    phrase = [n for n in TUNE if n.start < 3840]
    off = lambda cands: sum((n.start // 120) % 2 for c in cands for n in c)  # noqa: E731
    free = vae.vary(phrase, 0.8, 8, seed=1, temperature=1.3, steering={"rhythm": "free", "density": 7})
    kept = vae.vary(phrase, 0.8, 8, seed=1, temperature=1.3, steering={"rhythm": "seed", "density": 7})
    assert off(kept) == 0 < off(free)
