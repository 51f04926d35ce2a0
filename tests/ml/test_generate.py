"""Generation service: valid notes after the seed, reproducible, key and range constraints, cancel."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from musicapp.core.scales import scale_pitch_classes
from musicapp.core.song import Key, Note, TimeSignature
from musicapp.ml.generate import GenerationCancelled, GenerationError, MelodyGenerator

SEED = [Note(i * 240, 60 + (i * 3) % 8, 240) for i in range(16)]  # 2 bars of eighths


def _check_valid(cands, variations, start, end):
    assert len(cands) == variations
    for notes in cands:
        for a, b in zip(notes, notes[1:]):
            assert a.end <= b.start  # monophonic
        for n in notes:
            assert start <= n.start and n.end <= end and n.length > 0 and 0 <= n.pitch <= 127


def test_continuation_is_placed_after_the_seed_up_to_the_bar_line(tiny_checkpoint):
    gen = MelodyGenerator(tiny_checkpoint)
    cands = gen.continue_melody(SEED, bars=2, variations=3, temperature=1.0, key=None, random_seed=3)
    _check_valid(cands, 3, 1920 * 2, 1920 * 4)
    assert any(cands)


def test_same_random_seed_same_output_other_seed_differs(tiny_checkpoint):
    gen = MelodyGenerator(tiny_checkpoint)
    a = gen.continue_melody(SEED, bars=4, variations=4, random_seed=7)
    b = MelodyGenerator(tiny_checkpoint).continue_melody(SEED, bars=4, variations=4, random_seed=7)
    c = gen.continue_melody(SEED, bars=4, variations=4, random_seed=8)
    assert a == b and a != c


def test_key_constraint_keeps_every_note_in_scale(tiny_checkpoint):
    gen = MelodyGenerator(tiny_checkpoint)
    key = Key(6, "dorian")
    cands = gen.continue_melody(SEED, bars=4, variations=8, temperature=2.0, top_p=1.0, key=key, random_seed=1)
    notes = [n for c in cands for n in c]
    assert len(notes) > 20
    assert all(n.pitch % 12 in scale_pitch_classes(key) for n in notes)


def test_auto_key_and_pitch_range_constrain_notes(tiny_checkpoint):
    gen = MelodyGenerator(tiny_checkpoint)
    cands = gen.continue_melody(SEED, bars=4, variations=4, temperature=2.0, key="auto", pitch_range=(55, 72),
                                random_seed=2)
    notes = [n for c in cands for n in c]
    assert notes and all(55 <= n.pitch <= 72 and n.pitch % 12 in (0, 2, 4, 5, 7, 9, 11) for n in notes)


def test_meter_and_empty_seed(tiny_checkpoint):
    gen = MelodyGenerator(tiny_checkpoint)
    cands = gen.continue_melody([], bars=3, variations=2, meters=(TimeSignature(0, 3, 4),), key=None)
    _check_valid(cands, 2, 0, 3 * 1440)


def test_cancel_flag_stops_generation_and_progress_is_reported(tiny_checkpoint):
    gen = MelodyGenerator(tiny_checkpoint)
    seen = []
    gen.continue_melody(SEED, bars=1, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (16, 16)
    flag = threading.Event()
    flag.set()
    with pytest.raises(GenerationCancelled):
        gen.continue_melody(SEED, bars=4, cancel=flag)
    with pytest.raises(GenerationCancelled):
        gen.continue_melody(SEED, bars=4, cancel=lambda: len(seen) > 20, progress=lambda d, t: seen.append(d))


@pytest.mark.parametrize("kwargs", [{"bars": 0}, {"variations": 0}, {"temperature": -1}, {"top_p": 0},
                                    {"pitch_range": (80, 60)}, {"key": "C major"}])
def test_bad_arguments_are_refused(tiny_checkpoint, kwargs):
    with pytest.raises(GenerationError):
        MelodyGenerator(tiny_checkpoint).continue_melody(SEED, **kwargs)


def test_score_counts_notes_and_prefers_nothing_to_noise(tiny_checkpoint):
    gen = MelodyGenerator(tiny_checkpoint)
    scores = gen.score([SEED, SEED[:4], []])
    assert [s.notes for s in scores] == [16, 4, 0]
    assert scores[0].nats > scores[1].nats > 0 and scores[2].nats == 0.0


def test_lazy_load_is_thread_safe(tiny_checkpoint):
    gen = MelodyGenerator(tiny_checkpoint)
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(gen.continue_melody(SEED, bars=1, random_seed=i)))
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and gen.loaded


def test_sampling_only_the_tokens_a_mask_allows_draws_what_sampling_all_of_them_draws():
    """``sample_tokens(..., cols=allowed_columns(mask))`` skips forbidden tokens (less to sort)
    and gives the same tokens and random-stream use as sampling over every column."""
    from musicapp.core.song import Key
    from musicapp.ml.generate import MelodyGenerator, allowed_columns, sample_tokens

    rng = np.random.default_rng(0)
    masks = [MelodyGenerator._allowed(Key(2, "major"), None), MelodyGenerator._allowed(Key(9, "minor"), (55, 79))]
    assert allowed_columns(np.zeros(130, np.float32)) is None  # nothing forbidden: plain sampling
    checked = 0
    for mask in masks:
        cols = allowed_columns(mask)
        assert cols is not None and len(cols) < 100 and np.isfinite(mask[cols]).all()
        for batch in (1, 3, 8):
            for inv_t, top_p in ((1.0, 0.95), (0.5, 1.0), (0.0, 0.9), (2.0, 0.5)):
                logits = (rng.standard_normal((batch, 130)) * 3).astype(np.float32)
                a_rng, b_rng = np.random.default_rng(checked), np.random.default_rng(checked)
                full = sample_tokens(logits.copy(), mask, inv_t, top_p, a_rng)
                fast = sample_tokens(logits.copy(), mask, inv_t, top_p, b_rng, cols)
                assert full.tolist() == fast.tolist() and np.isin(fast, cols).all()
                assert a_rng.random() == b_rng.random()
                checked += 1
