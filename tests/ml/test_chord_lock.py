"""The chord lock: a per-step bias toward chord tones on the beats (Continue and Vary)."""

from __future__ import annotations

import numpy as np
import pytest

from musicapp.core.chords import Chord
from musicapp.core.song import Key, Note, TimeSignature
from musicapp.ml.chord_lock import chord_bias, chord_tone_share
from musicapp.ml.encoding import NUM_CLASSES, PITCH_OFFSET
from musicapp.ml.generate import GenerationError, MelodyGenerator

BAR = 1920
TUNE = [Note(t, p, ln) for t, p, ln in [
    (0, 67, 480), (480, 67, 240), (720, 69, 240), (960, 71, 480), (1440, 67, 480),
    (1920, 72, 480), (2400, 71, 240), (2640, 69, 240), (2880, 67, 480), (3360, 64, 480)]]  # G major
# four bars after the tune, two chords a bar, many of them away from the tune's tonic triad
CHORDS = tuple(Chord.parse(n, 2 * BAR + i * BAR // 2, BAR // 2)
               for i, n in enumerate(["Em", "Am", "D7", "Bm", "C", "Am", "D", "F#dim"]))


def test_bias_favours_chord_tones_on_beats_and_scale_tones_between() -> None:
    bias = chord_bias(CHORDS, (TimeSignature(0),), 2 * BAR, 16, 120, Key(7, "major"), 2.0)
    assert bias.shape == (16, NUM_CLASSES) and not bias[:, :PITCH_OFFSET].any()
    on_beat, between = bias[0], bias[1]  # step 0 is beat 1 of Em, step 1 the 16th after it
    assert on_beat[PITCH_OFFSET + 64] == 2.0 and on_beat[PITCH_OFFSET + 67] == 2.0  # E, G
    assert on_beat[PITCH_OFFSET + 69] == 0.0  # A: in the scale, not in Em
    assert between[PITCH_OFFSET + 69] == 1.0 and between[PITCH_OFFSET + 70] == 0.0  # A vs Bb
    assert bias[8][PITCH_OFFSET + 69] == 2.0  # beat 3: Am
    assert not chord_bias(CHORDS, (TimeSignature(0),), 0, 16, 120).any()  # before the chords: none


def test_chord_lock_raises_the_share_of_chord_tones_on_beats_with_the_shipped_model() -> None:
    gen = MelodyGenerator()
    args = dict(bars=4, variations=16, temperature=1.0, key=Key(7, "major"), random_seed=11)
    free = gen.continue_melody(TUNE, **args)
    locked = gen.continue_melody(TUNE, chords=CHORDS, **args)
    meters = (TimeSignature(0),)
    share_free = np.mean([chord_tone_share(c, CHORDS, meters) for c in free])
    share_locked = np.mean([chord_tone_share(c, CHORDS, meters) for c in locked])
    assert share_locked >= share_free + 0.15, (share_free, share_locked)
    assert share_locked >= 0.6
    weak = gen.continue_melody(TUNE, chords=CHORDS, chord_strength=0.0, **args)
    assert weak == free  # strength 0 is the lock off


def test_bad_chord_strength_is_refused() -> None:
    with pytest.raises(GenerationError, match="chord strength"):
        MelodyGenerator().continue_melody(TUNE, chords=CHORDS, chord_strength=-1)


def test_chord_lock_raises_the_share_of_chord_tones_in_vary_with_the_shipped_vae() -> None:
    from musicapp.ml.vae_generate import VaeService

    svc = VaeService(device="cpu")
    chords = tuple(c.moved(start=c.start - 2 * BAR) for c in CHORDS[:4])  # under the tune's two bars
    meters = (TimeSignature(0),)
    args = dict(amount=0.6, variations=16, seed=5, temperature=1.0, meters=meters)
    free = svc.vary(TUNE, **args)
    locked = svc.vary(TUNE, chords=chords, chord_strength=3.0, **args)
    share_free = np.mean([chord_tone_share(c, chords, meters) for c in free])
    share_locked = np.mean([chord_tone_share(c, chords, meters) for c in locked])
    assert share_locked >= share_free + 0.1, (share_free, share_locked)
