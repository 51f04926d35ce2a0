"""The shipped LSTM (models/lstm.*): loads, generates valid in-key notes, and prefers music to noise."""

from __future__ import annotations

import random

from musicapp.core.scales import scale_pitch_classes
from musicapp.core.song import Key, Note
from musicapp.ml.generate import MelodyGenerator, default_checkpoint

Q, E = 480, 240
TUNE = [Note(t, p, ln) for t, p, ln in [
    (0, 67, Q), (480, 67, E), (720, 69, E), (960, 71, Q), (1440, 67, Q),
    (1920, 72, Q), (2400, 71, E), (2640, 69, E), (2880, 67, Q), (3360, 64, Q),
    (3840, 62, Q), (4320, 64, E), (4560, 66, E), (4800, 67, Q), (5280, 69, Q),
    (5760, 71, Q), (6240, 69, Q), (6720, 67, 2 * Q)]]  # 4 bars in G major


def test_shipped_checkpoint_loads_and_describes_itself():
    gen = MelodyGenerator()
    assert gen.checkpoint == default_checkpoint() and gen.checkpoint.is_file()
    gen.load()
    assert gen.meta.kind == "lstm" and gen.meta.encoding["name"] == "melody16"
    assert gen.meta.training["tunes"]["train"] > 10_000 and "eval" in gen.meta.metrics


def test_shipped_model_continues_in_key_with_valid_notes():
    gen = MelodyGenerator()
    key = Key(7, "major")
    cands = gen.continue_melody(TUNE, bars=4, variations=4, temperature=1.0, key=key, random_seed=5)
    seed_end = TUNE[-1].end
    assert len(cands) == 4
    for notes in cands:
        assert notes, "a 4-bar continuation should contain notes"
        assert all(seed_end <= n.start and n.end <= seed_end + 4 * 1920 and n.length > 0 for n in notes)
        assert all(a.end <= b.start for a, b in zip(notes, notes[1:]))
        assert all(n.pitch % 12 in scale_pitch_classes(key) for n in notes)
        assert all(45 <= n.pitch <= 96 for n in notes)  # stays in a singable/playable register


def test_shipped_model_prefers_a_tune_to_random_notes():
    rng = random.Random(0)
    noise = [Note(n.start, rng.randrange(40, 100), n.length) for n in TUNE]
    tune_score, noise_score = MelodyGenerator().score([TUNE, noise])
    assert tune_score.nats_per_note < 0.5 * noise_score.nats_per_note


def test_shipped_model_expects_a_repeat_of_the_opening_phrase():
    # bars 5-8 repeat bars 1-4: with its lookback inputs the model should find the repeat
    # far cheaper than the first statement
    repeated = TUNE + [Note(n.start + 4 * 1920, n.pitch, n.length) for n in TUNE]
    first, whole = MelodyGenerator().score([TUNE, repeated])
    second_half = (whole.nats - first.nats) / (whole.notes - first.notes)
    assert second_half < 0.35 * first.nats_per_note
