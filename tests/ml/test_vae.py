"""Melody VAE: model, training step, and the vary / interpolate / sample service."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from vae_helpers import PHRASE_A, PHRASE_B, TINY, Q, grid_steps, phrase_windows, shipped, train_tiny

from musicapp.core.scales import parse_key, scale_pitch_classes
from musicapp.core.song import Note, TimeSignature
from musicapp.ml.vae import MelodyVae, slerp
from musicapp.ml.vae_generate import GenerationCancelled, VaeInputError, VaeService


@pytest.fixture(scope="module")
def memorized() -> VaeService:
    """A tiny VAE trained until it reproduces PHRASE_A and PHRASE_B (four windows)."""
    model, losses = train_tiny(phrase_windows([PHRASE_A, PHRASE_B]), steps=150)
    return VaeService(model=model)


def test_tiny_vae_loss_falls_in_a_few_steps():
    _, losses = train_tiny(phrase_windows([PHRASE_A, PHRASE_B]), steps=12)
    assert losses[-1] < 0.6 * losses[0]


def test_greedy_decoder_agrees_with_teacher_forced_argmax():
    torch.manual_seed(3)
    model = MelodyVae(TINY).eval()
    z = torch.randn(4, TINY.latent)
    pos = torch.arange(24).repeat(4, 1) % 12
    bar = torch.full((4, 24), 12)
    out = model.generate(z, pos, bar)
    assert torch.equal(model.decode_logits(z, out, pos, bar).argmax(-1), out)


def test_slerp_endpoints_are_the_inputs():
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    assert torch.allclose(slerp(a, b, torch.tensor(0.0)), a)
    assert torch.allclose(slerp(a, b, torch.tensor(1.0)), b, atol=1e-5)


def test_vary_amount_zero_reproduces_a_memorized_phrase(memorized):
    for phrase in (PHRASE_A, PHRASE_B):
        outs = memorized.vary(phrase, amount=0.0, variations=3, seed=1)
        assert len(outs) == 3
        for out in outs:
            assert np.array_equal(grid_steps(out), grid_steps(phrase))
            assert all(n.velocity == 90 for n in out)


def test_vary_serves_phrases_in_any_octave(memorized):
    high = [n.moved(dp=36) for n in PHRASE_A]
    out = memorized.vary(high, amount=0.0, variations=1)[0]
    assert [(n.start, n.pitch, n.length) for n in out] == [(n.start, n.pitch, n.length) for n in high]


def test_vary_same_seed_same_output_and_amount_moves_away(memorized):
    a = memorized.vary(PHRASE_A, amount=0.8, variations=4, seed=7)
    b = memorized.vary(PHRASE_A, amount=0.8, variations=4, seed=7)
    assert a == b
    far = memorized.vary(PHRASE_A, amount=1.0, variations=8, seed=2)
    assert any(not np.array_equal(grid_steps(m), grid_steps(PHRASE_A)) for m in far)


def test_vary_keeps_the_phrase_ticks_when_it_starts_later(memorized):
    later = [n.moved(dt=8 * Q) for n in PHRASE_B]  # two bars later
    out = memorized.vary(later, amount=0.0, variations=1)[0]
    assert [(n.start, n.pitch) for n in out] == [(n.start, n.pitch) for n in later]


def test_interpolate_endpoints_equal_inputs(memorized):
    steps = memorized.interpolate(PHRASE_A, PHRASE_B, steps=5)
    assert len(steps) == 5
    assert np.array_equal(grid_steps(steps[0]), grid_steps(PHRASE_A))
    assert np.array_equal(grid_steps(steps[-1]), grid_steps(PHRASE_B))
    assert all(m for m in steps)


def test_sample_with_a_key_keeps_every_note_in_the_scale():
    torch.manual_seed(0)
    svc = VaeService(model=MelodyVae(TINY).eval())
    key = parse_key("D minor")
    mels = svc.sample(bars=3, temperature=1.5, count=4, key=key, meters=(TimeSignature(0, 3, 4),), seed=5)
    assert len(mels) == 4
    notes = [n for m in mels for n in m]
    assert notes, "an untrained model still emits note-ons at temperature 1.5"
    assert all(n.pitch % 12 in scale_pitch_classes(key) for n in notes)
    assert all(0 <= n.start and n.end <= 3 * 3 * Q for n in notes)


def test_cancel_stops_generation():
    svc = VaeService(model=MelodyVae(TINY).eval())
    ev = threading.Event()
    ev.set()
    with pytest.raises(GenerationCancelled):
        svc.vary(PHRASE_A, 0.5, 2, cancel=ev)
    with pytest.raises(GenerationCancelled):
        svc.sample(2, cancel=lambda: True)


@pytest.mark.parametrize("call", [
    lambda s: s.vary(PHRASE_A, amount=1.5),
    lambda s: s.vary(PHRASE_A, variations=0),
    lambda s: s.vary([], amount=0.2),
    lambda s: s.vary([Note(0, 36, Q, channel=9)]),
    lambda s: s.interpolate(PHRASE_A, PHRASE_B, steps=1),
    lambda s: s.sample(bars=0),
    lambda s: s.sample(2, temperature=-1),
])
def test_bad_arguments_are_refused_with_a_message(call):
    svc = VaeService(model=MelodyVae(TINY).eval())
    with pytest.raises(VaeInputError):
        call(svc)


@pytest.mark.skipif(shipped() is None, reason="no shipped VAE checkpoint")
def test_shipped_model_reconstructs_real_phrases_at_amount_zero():
    svc = VaeService(shipped(), device="cpu")
    right = total = 0
    for phrase in (PHRASE_A, PHRASE_B):
        out = svc.vary(phrase, amount=0.0, variations=1)[0]
        want, got = grid_steps(phrase), grid_steps(out)
        right += int((want == got).sum())
        total += len(want)
    assert right / total >= 0.95
    inter = svc.interpolate(PHRASE_A, PHRASE_B, steps=3)
    assert np.array_equal(grid_steps(inter[0]), grid_steps(PHRASE_A))
    assert np.array_equal(grid_steps(inter[-1]), grid_steps(PHRASE_B))
    assert inter[1] and inter[1] != inter[0] and inter[1] != inter[-1]


def test_latent_refinement_moves_another_phrase_code_to_this_phrase(memorized):
    from musicapp.ml.vae_data import to_tensors

    model = memorized.model()
    tok, pos, bar, lengths = to_tensors(phrase_windows([PHRASE_A]))
    with torch.no_grad():
        start, _ = model.encode(*to_tensors(phrase_windows([PHRASE_B])))  # B's codes
    assert not torch.equal(model.generate(start, pos, bar), tok)
    fixed, used = model.refine_latent(start, tok, pos, bar, lengths, steps=300, lr=0.2)
    assert used < 300
    assert torch.equal(model.generate(fixed, pos, bar), tok)


def test_varying_the_same_phrase_again_reuses_its_cached_codes(memorized):
    memorized.clear_cache()
    first = memorized.vary(PHRASE_A, 0.4, 2, seed=3)
    cached = dict(memorized._codes)
    assert len(cached) == 2  # two windows
    again = memorized.vary(PHRASE_A, 0.4, 2, seed=3)
    assert again == first and all(memorized._codes[k] is v for k, v in cached.items())
