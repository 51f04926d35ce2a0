"""Kneser-Ney baseline: proper distributions, learns repeated patterns, backs off for unseen ones."""

from __future__ import annotations

import numpy as np

from musicapp.ml.encoding import HOLD, REST, EncodedMelody, pitch_token
from musicapp.ml.kn import KneserNey


def _melody(pitches, bar=16):
    toks = []
    for p in pitches:
        toks += [pitch_token(p), HOLD, HOLD, REST]
    toks = np.array(toks)
    return EncodedMelody(toks, np.arange(len(toks)) % bar, np.full(len(toks), bar))


def test_distributions_sum_to_one_everywhere():
    train = [_melody([60, 62, 64, 65, 67] * 4), _melody([67, 65, 64, 62, 60] * 3, bar=12)]
    kn = KneserNey(5).fit(train)
    for m in train + [_melody([70, 71, 72, 73])]:
        d = kn.distribution(m)
        assert d.shape == (len(m), 130)
        np.testing.assert_allclose(d.sum(axis=1), 1.0, atol=1e-9)
        assert (d > 0).all()
        np.testing.assert_allclose(np.log(d[np.arange(len(m)), m.tokens]), kn.log_probs(m), atol=1e-12)


def test_seen_pattern_is_likelier_than_unseen():
    kn = KneserNey(5).fit([_melody([60, 62, 64, 65, 67] * 8)])
    seen = kn.log_probs(_melody([60, 62, 64, 65, 67])).sum()
    unseen = kn.log_probs(_melody([61, 66, 59, 70, 63])).sum()
    assert seen > unseen + 10
