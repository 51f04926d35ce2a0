"""Harmony training data: which music21 scores are used (never Palestrina or Nottingham, one file
per work), a score whose meter changes keeps its longest one-meter stretch, long scores are cut
into chunks that stay in their score's split, and the CLI's bad options give one line."""

from __future__ import annotations

import numpy as np
import pytest

from musicapp.cli import main
from musicapp.ml.harmony_data import (CHUNK_BARS, HARMONY_CORPORA, Score, chunks, extract_score, list_scores,
                                      load_scores, melody_hash, prepare_harmony, split_of_score)
from musicapp.ml.harmony_train import build_examples


@pytest.mark.parametrize("corpus", ["palestrina", "nottingham-dataset"])
def test_palestrina_and_nottingham_are_never_listed_for_training(corpus):
    assert corpus not in HARMONY_CORPORA
    with pytest.raises(ValueError, match="never be used"):
        list_scores(corpus)


def test_a_work_shipped_in_two_formats_is_listed_once_preferring_musicxml():
    ids = [i for i, _ in list_scores("beethoven") if i.startswith("beethoven/opus18no1/")]
    assert sorted(ids) == [f"beethoven/opus18no1/movement{k}.mxl" for k in range(1, 5)]


def _long_score(bars: int, seed: int = 0) -> Score:
    """Four parts of whole-bar block chords under a top line of quarters, 4/4, ``bars`` bars."""
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(bars):
        root = int(rng.choice([0, 5, 7]))
        rows += [(b * 1920, 1920, 48 + root, 0), (b * 1920, 1920, 52 + root, 0), (b * 1920, 1920, 55 + root, 0)]
        rows += [(b * 1920 + k * 480, 480, 72 + root + int(rng.choice([0, 4, 7])), 1) for k in range(4)]
    return Score(f"test/long{seed}", np.asarray(sorted(rows), dtype=np.int32), 480, 1920, 0, 0, 0)


def test_a_long_score_is_cut_into_chunks_that_stay_in_its_split():
    score = _long_score(150)
    parts = chunks(score)
    assert len(parts) == 3 and [p.name for p in parts] == ["test/long0#0", "test/long0#1", "test/long0#2"]
    for p in parts:
        end = int((p.notes[:, 0] + p.notes[:, 1]).max())
        assert p.notes[:, 0].min() == 0 and end <= CHUNK_BARS * 1920
        assert p.split_hash == melody_hash(score.melody) and split_of_score(p) == split_of_score(score)
    assert sum(len(p.melody) for p in parts) == len(score.melody)
    short = _long_score(20)
    assert chunks(short) == [short]


def test_examples_of_one_long_score_all_land_in_one_split():
    splits = build_examples([_long_score(200, seed=s) for s in range(3)], log=lambda s: None)
    for seed in range(3):
        where = {k for k, v in splits.items() for ex in v if ex.name.startswith(f"test/long{seed}#")}
        assert len(where) == 1


@pytest.fixture
def meter_change_file(tmp_path):
    """A three-part MusicXML score: 4 bars of 3/4, then 8 bars of 4/4, quarters in every part."""
    from music21 import meter, note, stream

    score = stream.Score()
    for octave in (5, 4, 3):
        part = stream.Part()
        for m in range(12):
            bar = stream.Measure(number=m + 1)
            if m in (0, 4):
                bar.append(meter.TimeSignature("3/4" if m == 0 else "4/4"))
            for _ in range(3 if m < 4 else 4):
                bar.append(note.Note(f"{'CEG'[m % 3]}{octave}", quarterLength=1.0))
            part.append(bar)
        score.insert(0, part)
    return score.write("musicxml", fp=str(tmp_path / "changes.musicxml"))


def test_a_score_whose_meter_changes_keeps_its_longest_stretch_in_one_meter(meter_change_file):
    notes, meta, split_hash = extract_score(meter_change_file)
    beat, bar, anchor = int(meta[0]), int(meta[1]), int(meta[2])
    assert (beat, bar, anchor) == (480, 1920, 0) and int(meta[5]) == 3
    top = notes[notes[:, 3] == 1]
    assert len(top) == 32 and top[:, 0].min() == 0 and (top[:, 2] // 12 == 6).all()
    assert 0 <= split_hash < 100


def test_prepare_harmony_is_resumable_and_loads_what_it_cached(tmp_path, monkeypatch, meter_change_file):
    from musicapp.ml import harmony_data

    monkeypatch.setenv("MUSICAPP_CACHE", str(tmp_path / "cache"))
    parsed = []
    real = harmony_data.extract_score
    monkeypatch.setattr(harmony_data, "list_scores", lambda corpus: [(f"{corpus}/changes.musicxml", meter_change_file)])
    monkeypatch.setattr(harmony_data, "extract_score", lambda path: parsed.append(path) or real(path))
    assert prepare_harmony(("corelli",), log=None) == 1
    (score,) = load_scores(("corelli",))
    assert score.name == "corelli/changes.musicxml" and score.split_hash is not None
    assert len(score.melody) == 32 and (score.beat_ticks, score.bar_ticks) == (480, 1920)
    assert prepare_harmony(("corelli",), log=None) == 1 and len(parsed) == 1  # cached: not parsed again


@pytest.mark.parametrize("argv", [["prepare-harmony", "--corpus", "palestrina"],
                                  ["prepare-harmony", "--corpus", "nottingham-dataset"],
                                  ["eval-harmony", "--split", "valid", "--update-metrics"]])
def test_refused_harmony_options_give_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICAPP_CACHE", str(tmp_path))
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("musicapp: ") and err.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_the_lead_sheets_give_written_chords_that_score_themselves_perfectly():
    from musicapp.ml.harmony_eval import evaluate_leadsheets, leadsheet_songs, reference_harmonize

    songs = leadsheet_songs()
    assert [s[0] for s in songs] == ["berlinAlexandersRagtime", "fosterBrownHair"]
    for _, mel, song, key, chords in songs:
        assert len(mel) > 50 and len(chords) > 10 and str(key) == "F major"
        assert all(a.end <= b.start for a, b in zip(chords, chords[1:]))
    res = evaluate_leadsheets(songs, lambda mel, song, key, per_bar: reference_harmonize(mel, song, key, per_bar))
    assert res["written chords"]["accuracy"] == 1.0 and 0.3 < res["reference"]["accuracy"] < 1.0


def test_a_transposing_instrument_is_read_at_its_sounding_pitch(tmp_path):
    from music21 import instrument, meter, note, stream

    score = stream.Score()
    for inst, octave in ((instrument.Clarinet(), 5), (instrument.Violoncello(), 4), (instrument.Violoncello(), 3)):
        part = stream.Part()
        part.insert(0, inst)
        part.append(meter.TimeSignature("4/4"))
        for _ in range(12):
            part.append(note.Note(f"C{octave}", quarterLength=1.0))
        if octave == 5:  # written a tone above the sound: D5 sounds C5
            part.atSoundingPitch = False
            for n in part.notes:
                n.pitch = n.pitch.transpose(2)
        score.insert(0, part)
    path = score.write("musicxml", fp=str(tmp_path / "clarinet.musicxml"))
    notes, _, _ = extract_score(path)
    assert set(notes[notes[:, 3] == 1, 2].tolist()) == {72}


def test_the_split_is_80_10_10_and_keeps_the_earlier_held_out_scores_held_out():
    from dataclasses import replace

    score = _long_score(8)
    where = {h: split_of_score(replace(score, split_hash=h)) for h in range(100)}
    assert sum(v == "train" for v in where.values()) == 80 and sum(v == "test" for v in where.values()) == 10
    assert all(where[h] == "valid" for h in range(90, 95)) and all(where[h] == "test" for h in range(95, 100))


def test_a_descant_of_a_few_bars_above_the_soprano_is_not_taken_as_the_melody(tmp_path):
    """A trumpet playing 3 bars of 12 above the soprano (as in bwv149.7) leaves the soprano the
    melody; the split still hashes the highest line, so no score moves between splits."""
    from music21 import instrument, meter, note, stream

    from musicapp.ml.harmony_data import melody_hash, melody_part

    score = stream.Score()
    for inst, octave, bars in ((instrument.Trumpet(), 6, 3), (instrument.Soprano(), 5, 12),
                               (instrument.Alto(), 4, 12), (instrument.Bass(), 3, 12)):
        part = stream.Part()
        part.insert(0, inst)
        part.append(meter.TimeSignature("4/4"))
        for m in range(12):
            for _ in range(4):
                part.append(note.Note(f"{'CEG'[m % 3]}{octave}", quarterLength=1.0) if m < bars
                            else note.Rest(quarterLength=1.0))
        score.insert(0, part)
    path = score.write("musicxml", fp=str(tmp_path / "descant.musicxml"))
    notes, meta, split_hash = extract_score(path)
    top = notes[notes[:, 3] == 1]
    assert len(top) == 48 and set((top[:, 2] // 12).tolist()) == {6}  # C5-G5: the soprano
    assert sorted(set(notes[:, 4].tolist())) == [0, 1, 2, 3] and int(meta[5]) == 4
    trumpet = notes[notes[:, 4] == 0, :3]
    assert len(trumpet) == 12 and split_hash == melody_hash(trumpet)
    assert melody_part([[(0, 480, 84)], [(0, 1920, 72)]]) == 1  # sounds a quarter of the time: not it
    assert melody_part([[(0, 1000, 84)], [(0, 1920, 72)]]) == 0
