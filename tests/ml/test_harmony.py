"""The harmoniser: a tiny model trains, the service's proposals, locks, styles, cancel, bad input,
the reference, and the shipped checkpoint."""

from __future__ import annotations

import csv
import threading

import numpy as np
import pytest

from musicapp.core.chords import Chord
from musicapp.core.song import Key, Note, Song, TimeSignature
from musicapp.ml.generate import GenerationCancelled, GenerationError
from musicapp.ml.harmony import Harmonizer, top_line
from musicapp.ml.harmony_eval import evaluate_scores, reference_harmonize
from musicapp.ml.harmony_model import TRIAD_QUALS
from musicapp.ml.harmony_train import HarmonyTrainConfig, piece_examples, train, transition_table
from musicapp.paths import models_dir

from tests.ml.harmony_helpers import TINY, synthetic_score, tiny_harmony_checkpoint

# "Twinkle" in C: two bars a phrase, quarters and halves
MELODY = tuple(Note(i * 480, p, 480 if i % 4 != 3 else 480) for i, p in enumerate(
    [60, 60, 67, 67, 69, 69, 67, 67, 65, 65, 64, 64, 62, 62, 60, 60] * 2))


@pytest.fixture
def tiny(tmp_path):
    return Harmonizer.load(tiny_harmony_checkpoint(tmp_path / "harmony"))


def test_synthetic_labels_are_the_chords_that_were_written():
    ex = piece_examples(synthetic_score(3))
    s = synthetic_score(3)
    bar_chords = ex.seg_labels[1]
    assert len(bar_chords) == 8 and (bar_chords >= 0).all()
    first = s.notes[(s.notes[:, 0] == 0) & (s.notes[:, 3] == 0)]
    assert bar_chords[0] % 12 == (int(first[:, 2].min()) - s.key_tonic) % 12  # the root is the bass


def test_a_tiny_harmoniser_trains_and_its_loss_falls(tmp_path):
    examples = [piece_examples(synthetic_score(i)) for i in range(24)]
    splits = {"train": examples[:20], "valid": examples[20:], "test": []}
    cfg = HarmonyTrainConfig(run_dir=str(tmp_path / "run"), minutes=5, max_steps=120, batch=8, eval_every=40,
                             lr=1e-2)
    best = train(cfg, TINY, splits, log=lambda s: None)
    rows = list(csv.DictReader(open(tmp_path / "run" / "loss.csv")))
    valid = [float(r["valid_loss"]) for r in rows]
    assert len(valid) == 3 and valid[-1] < valid[0] - 0.5
    assert best.exists() and (tmp_path / "run" / "last.json").exists()
    table = transition_table(splits["train"])
    assert table.shape[-1] == table.shape[-2] and np.allclose(np.exp(table).sum(-1), 1.0, atol=1e-4)
    # resuming continues from the last step instead of starting again
    train(HarmonyTrainConfig(**{**cfg.__dict__, "max_steps": 160}), TINY, splits, log=lambda s: None)
    rows = list(csv.DictReader(open(tmp_path / "run" / "loss.csv")))
    assert [int(float(r["step"])) for r in rows] == [40, 80, 120, 160]


def test_harmonize_gives_k_progressions_that_cover_the_melody(tiny):
    props = tiny.harmonize(MELODY, Song(), variations=4, per_bar=2, seed=1)
    assert len(props) == 4
    for chords in props:
        assert chords[0].start == 0 and chords[-1].end == 8 * 1920
        assert all(a.end == b.start for a, b in zip(chords, chords[1:]))
        assert all(c.length == 960 for c in chords)
    assert len({tuple(c.name for c in p) for p in props}) > 1


def test_auto_rhythm_merges_repeats_and_bars_follow_the_meter(tiny):
    song = Song(meters=(TimeSignature(0, 3, 4),))
    mel = [Note(i * 480, 67, 480) for i in range(12)]
    (chords,) = tiny.harmonize(mel, song, variations=1, per_bar="auto", seed=0)
    assert all(c.start % 1440 == 0 and c.length % 1440 == 0 for c in chords)
    assert all((a.root, a.quality) != (b.root, b.quality) for a, b in zip(chords, chords[1:]))


def test_locked_chords_stay_in_every_proposal(tiny):
    lock = Chord.parse("F#dim7", 1920, 1920)
    props = tiny.harmonize(MELODY, Song(), variations=3, per_bar=2, locked=[lock], seed=2, style="rich")
    for chords in props:
        assert lock in chords
        assert not any(c != lock and c.start < lock.end and c.end > lock.start for c in chords)


def test_simple_style_is_triads_and_rich_may_use_sevenths(tiny):
    for chords in tiny.harmonize(MELODY, Song(), variations=6, per_bar=4, seed=3, temperature=2.0):
        assert all(c.quality in TRIAD_QUALS for c in chords)
    rich = tiny.harmonize(MELODY, Song(), variations=6, per_bar=4, seed=3, style="rich", temperature=2.0)
    assert any(c.quality not in TRIAD_QUALS for chords in rich for c in chords)


def test_same_seed_same_proposals(tiny):
    a = tiny.harmonize(MELODY, Song(), variations=3, seed=7)
    b = tiny.harmonize(MELODY, Song(), variations=3, seed=7)
    assert a == b


def test_bad_requests_and_cancel_raise_one_line_errors(tiny):
    with pytest.raises(GenerationError, match="no notes"):
        tiny.harmonize([Note(0, 36, 480, channel=9)], Song())
    with pytest.raises(GenerationError):
        tiny.harmonize(MELODY, Song(), variations=0)
    with pytest.raises(GenerationError):
        tiny.harmonize(MELODY, Song(), style="jazz")
    with pytest.raises(GenerationError):
        tiny.harmonize(MELODY, Song(), per_bar=3)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(GenerationCancelled):
        tiny.harmonize(MELODY, Song(), cancel=cancel)


def test_top_line_keeps_the_highest_voice_of_chords():
    notes = [Note(0, 60, 960), Note(0, 64, 960), Note(0, 72, 480), Note(480, 71, 480), Note(960, 48, 480)]
    assert top_line(notes).tolist() == [[0, 480, 72], [480, 480, 71], [960, 480, 48]]


def test_reference_chooses_the_diatonic_triad_covering_the_melody():
    mel = np.asarray([[0, 960, 64], [960, 960, 67], [1920, 960, 65], [2880, 960, 62]])
    chords = reference_harmonize(mel, Song(), Key(0, "major"), per_bar=2)
    assert [c.name for c in chords] == ["C", "C", "F", "G"]


def test_evaluation_scores_true_chords_perfectly_and_the_reference_below_one():
    examples = [piece_examples(synthetic_score(i)) for i in range(4)]
    res = evaluate_scores(examples, lambda mel, song, key, per_bar: reference_harmonize(mel, song, key, per_bar), 1)
    assert res["true chords"]["accuracy"] == 1.0 and res["true chords"]["melody_on_chord_tones"] == 1.0
    assert 0.0 < res["reference"]["accuracy"] <= 1.0


def test_the_shipped_harmoniser_loads_and_harmonises():
    h = Harmonizer.load(models_dir() / "harmony.json")
    props = h.harmonize(MELODY, Song(), variations=4, per_bar=2, seed=0)
    assert len(props) == 4
    best = props[0]
    assert [c.name for c in best][:1] == ["C"] and best[-1].name == "C"  # a tune in C starts and ends on C
    on_tones = sum(n.length for n in MELODY for c in best if c.start <= n.start < c.end and n.pitch % 12 in c.pitch_classes)
    assert on_tones / sum(n.length for n in MELODY) >= 0.7


def test_a_melody_starting_later_gets_chords_from_its_own_first_bar(tiny):
    later = [n.moved(dt=4 * 1920 + 480) for n in MELODY[:8]]  # starts on beat 2 of bar 5
    for chords in tiny.harmonize(later, Song(), variations=2, per_bar=1, seed=0):
        assert chords[0].start == 4 * 1920 and chords[-1].end == 7 * 1920


@pytest.mark.parametrize("bad", [{"melody": "2"}, {"melody": float("inf")}, {"melody": -1.0}, {"colour": 1.0}])
def test_a_checkpoint_with_bad_decoder_weights_is_refused_with_one_line(tmp_path, bad):
    import json

    from musicapp.ml.checkpoint import CheckpointError

    path = tiny_harmony_checkpoint(tmp_path / "h")
    doc = json.loads(open(path).read())
    doc["extra"]["decoder"].update(bad)
    open(path, "w").write(json.dumps(doc))
    with pytest.raises(CheckpointError) as err:
        Harmonizer.load(path)
    assert "\n" not in str(err.value)


def test_decoder_tuning_picks_grid_weights_on_the_given_split_and_prints_the_table(tiny):
    from musicapp.ml.harmony_tune import IN_KEY, MELODY, RICH, TRANSITIONS, format_grid, tune_weights

    valid = [piece_examples(synthetic_score(i)) for i in range(2)]
    chosen, rows = tune_weights(tiny, valid, log=lambda s: None)
    assert chosen.transition in TRANSITIONS and chosen.melody in MELODY
    assert chosen.rich in RICH and chosen.in_key in IN_KEY
    assert len(rows) == len(TRANSITIONS) * len(MELODY) + len(RICH) - 1 + len(IN_KEY)
    best_rich = max(r["accuracy"] for r in rows if r["style"] == "rich")
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in rows) and best_rich > 0.0
    table = format_grid(rows, chosen)
    assert table.count("chosen") == 2 and "reference accuracy" in table


def test_an_ensemble_of_trained_members_averages_their_probabilities_and_ships_as_one_checkpoint(tmp_path):
    import torch

    from musicapp.ml.harmony_model import HarmonyEnsemble, HarmonyNet
    from musicapp.ml.harmony_train import export
    from musicapp.ml.training import model_tensors

    examples = [piece_examples(synthetic_score(i)) for i in range(12)]
    splits = {"train": examples[:10], "valid": examples[10:], "test": []}
    nets, bests, metas = [], [], []
    for seed in (0, 1):
        cfg = HarmonyTrainConfig(run_dir=str(tmp_path / f"m{seed}"), minutes=5, max_steps=40, batch=8,
                                 eval_every=20, lr=1e-2, seed=seed)
        best = train(cfg, TINY, splits, log=lambda s: None)
        meta, tensors = model_tensors(best, kind="harmony")
        net = HarmonyNet(TINY)
        net.load_state_dict(tensors)
        nets.append(net.eval())
        bests.append(best)
        metas.append(meta)
    assert not torch.equal(nets[0].out.weight, nets[1].out.weight)  # different seeds, different nets
    ens = HarmonyEnsemble.of(nets).eval()
    x = torch.from_numpy(examples[0].feats[(2, 0)])[None]
    with torch.no_grad():
        mean = (torch.softmax(nets[0](x), -1) + torch.softmax(nets[1](x), -1)) / 2
        assert torch.allclose(ens(x).exp(), mean, atol=1e-5)
    path = export(bests[0], tmp_path / "harmony", transition_table(splits["train"]), {}, ensemble=ens,
                  member_metas=metas)
    h = Harmonizer.load(path)
    assert isinstance(h._net, HarmonyEnsemble) and h._net.cfg.members == 2
    with torch.no_grad():
        assert torch.allclose(h._net(x), ens(x), atol=1e-6)
    assert len(h.harmonize(MELODY, Song(), variations=3, per_bar=2, seed=0)) == 3
    import json

    doc = json.loads(open(path).read())
    assert [m["seed"] for m in doc["training"]["members"]] == [0, 1]
