"""The shipped infill model (models/infill.*): loads, infills in key without touching the
context, and reads the suffix (a region that repeats the bars after it costs it far fewer
nats than the forward LSTM, which cannot see them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musicapp.core.scales import scale_pitch_classes
from musicapp.core.song import Key, Note, TimeSignature
from musicapp.ml.encoding import NUM_CLASSES, PITCH_OFFSET, encode_notes
from musicapp.ml.generate import MelodyGenerator
from musicapp.ml.infill import MelodyInfiller, default_checkpoint
from musicapp.ml.infill_model import region_inputs
from musicapp.ml.lstm import melody_logits

Q, E, BAR = 480, 240, 1920
A = [(0, 67, Q), (480, 67, E), (720, 69, E), (960, 71, Q), (1440, 67, Q),
     (1920, 72, Q), (2400, 71, E), (2640, 69, E), (2880, 67, Q), (3360, 64, Q)]
B = [(0, 62, Q), (480, 64, E), (720, 66, E), (960, 67, Q), (1440, 69, Q),
     (1920, 71, Q), (2400, 69, E), (2640, 67, E), (2880, 66, 2 * Q)]


def phrase(rows, bar: int) -> list[Note]:
    return [Note(bar * BAR + t, p, ln) for t, p, ln in rows]


# bars 1-2 A, 3-4 B, 5-6 A, 7-8 B, 9-10 A: B first appears in bars 3-4, the region below
TUNE = phrase(A, 0) + phrase(B, 2) + phrase(A, 4) + phrase(B, 6) + phrase(A, 8)


def test_shipped_infill_loads_and_describes_itself():
    inf = MelodyInfiller()
    assert inf.checkpoint == default_checkpoint() and inf.checkpoint.is_file()
    inf.load()
    assert inf.meta.kind == "infill" and inf.meta.training["tunes"]["train"] > 10_000
    assert inf.checkpoint.with_suffix(".safetensors").stat().st_size < 25_000_000


def test_shipped_infill_keeps_the_context_and_the_key():
    key = Key(7, "major")
    cands = MelodyInfiller().infill(TUNE, 2 * BAR, 4 * BAR, variations=4, key=key, random_seed=3)
    scale = scale_pitch_classes(key)
    for c in cands:
        assert [n for n in c if not 2 * BAR <= n.start < 4 * BAR] == sorted(n for n in TUNE if not 2 * BAR <= n.start < 4 * BAR)
        new = [n for n in c if 2 * BAR <= n.start < 4 * BAR]
        assert new and all(n.pitch % 12 in scale and n.end <= 4 * BAR for n in new)


def test_shipped_infill_reads_the_bars_after_the_region():
    inf, gen = MelodyInfiller(), MelodyGenerator()
    model, lstm = inf._ready()[0], gen._ready()[0]
    enc, _ = encode_notes(TUNE, (TimeSignature(0),), 0, 10 * BAR)
    a, b = 2 * 16, 4 * 16  # bars 3-4 (B), which return in bars 7-8
    target = torch.from_numpy(enc.tokens[a:b])
    with torch.inference_mode():
        li, _ = model(**region_inputs(model, enc.tokens, enc.pos, enc.bar_len, 7, 0, (a, b)))
        lf = melody_logits(lstm, enc.tokens, enc.pos, enc.bar_len, 7, 0)
    infill = float(torch.nn.functional.cross_entropy(li[0, a:b].float(), target, reduction="sum"))
    forward = float(torch.nn.functional.cross_entropy(lf[a:b].float(), target, reduction="sum"))
    notes = int(((enc.tokens[a:b] >= PITCH_OFFSET) & (enc.tokens[a:b] < NUM_CLASSES)).sum())
    assert notes == 9 and infill < 0.6 * forward, (infill / notes, forward / notes)
    assert np.isfinite(infill)


def test_generated_region_figures_pair_every_sample_with_its_own_tune():
    """``generated_regions`` with the shipped models on two 12-bar tunes: 4 infill and 4 forward
    samples per tune, the true bars overlap themselves fully, every figure is a real number."""
    from musicapp.ml.dataset import EncodedTune
    from musicapp.ml.infill_eval import InfillEvalConfig, generated_regions, twelve_bar_tunes

    meters = (TimeSignature(0),)
    tunes = []
    for shift in (0, 2):
        notes = [n.moved(dp=shift) for n in TUNE + phrase(B, 10) + phrase(A, 12)]
        enc, _ = encode_notes(notes, meters, 0, 14 * BAR)
        tunes.append(EncodedTune(f"t{shift}", enc, 7 if shift == 0 else 9, 0))
    evals = twelve_bar_tunes(tunes)
    assert len(evals) == 2
    g = generated_regions(MelodyInfiller(), MelodyGenerator(), evals, InfillEvalConfig(samples=4, rerank_samples=3))
    assert g["tunes"] == 2 and g["samples"] == 4
    infill = g["infill"]
    assert 0.0 < infill["pitch_class_overlap_region"] <= 1.0 and 0.0 < infill["length_overlap_region"] <= 1.0
    assert g["true"]["pitch_class_overlap_region"] == pytest.approx(1.0) == g["true"]["pitch_class_overlap"]
    for k in ("infill", "forward", "rerank"):
        assert all(np.isfinite(v) for v in g[k].values())
