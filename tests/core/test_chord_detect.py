"""Chord detection: block chords, arpeggios, slash basses, segment grids, silence and meter."""

from __future__ import annotations

import numpy as np
import pytest

from musicapp.core.chord_detect import detect_chords, segment_bounds, segment_chroma
from musicapp.core.chords import Chord
from musicapp.core.song import Key, Note, Song, TimeSignature

PROG = ("C", "Am", "F", "G7", "Dm", "E7", "Am", "Bb/D")


def _block(names, bar=1920):
    notes = []
    for i, name in enumerate(names):
        c = Chord.parse(name)
        notes.append(Note(i * bar, 36 + c.bass_pc, bar))
        notes.extend(Note(i * bar, 60 + pc, bar) for pc in c.pitch_classes)
    return notes


def _arpeggio(names, bar=1920, step=240):
    """Each bar: bass, then the chord tones up and down in eighths (Alberti-like)."""
    notes = []
    for i, name in enumerate(names):
        c = Chord.parse(name)
        up = sorted(48 + pc for pc in c.pitch_classes if pc != c.bass_pc or len(c.pitch_classes) < 4)
        seq = [36 + c.bass_pc] + up + up[::-1][1:-1]
        notes.extend(Note(i * bar + j * step, seq[j % len(seq)], step) for j in range(bar // step))
    return notes


def test_block_chords_are_named_one_per_bar():
    det = detect_chords(_block(PROG), Song(), per_bar=1)
    assert [c.name for c in det.chords] == list(PROG)
    assert [c.start for c in det.chords] == [i * 1920 for i in range(len(PROG))]


def test_arpeggiated_chords_are_found_with_auto_harmonic_rhythm():
    det = detect_chords(_arpeggio(["C", "Am", "F", "G7", "C", "Dm", "G", "C"]), Song(), per_bar="auto")
    assert [c.name for c in det.chords] == ["C", "Am", "F", "G7", "C", "Dm", "G", "C"]
    assert det.key == Key(0, "major")


def test_two_chords_a_bar_split_at_the_half_bar():
    notes = _block(["C", "G"], bar=960)  # two chords per 4/4 bar
    det = detect_chords(notes, Song(), per_bar=2)
    assert [(c.name, c.start, c.length) for c in det.chords] == [("C", 0, 960), ("G", 960, 960)]


def test_auto_merges_a_chord_held_over_several_bars():
    det = detect_chords(_block(["F", "F", "F", "C"]), Song(), per_bar="auto")
    assert [(c.name, c.start, c.length) for c in det.chords] == [("F", 0, 3 * 1920), ("C", 3 * 1920, 1920)]


def test_silent_segments_get_no_chord():
    notes = _block(["C"]) + [n.moved(dt=2 * 1920) for n in _block(["G"])]
    det = detect_chords(notes, Song(), per_bar=1)
    assert [(c.name, c.start) for c in det.chords] == [("C", 0), ("G", 2 * 1920)]


def test_drum_notes_and_empty_input_give_no_chords():
    drums = [Note(0, 36, 480, channel=9), Note(480, 38, 480, channel=9)]
    assert detect_chords(drums, Song()).chords == ()
    assert detect_chords([], Song()).chords == ()


def test_three_four_bars_follow_the_meter():
    song = Song(meters=(TimeSignature(0, 3, 4),))
    det = detect_chords(_block(["C", "G7", "C"], bar=1440), song, per_bar=1)
    assert [(c.name, c.start) for c in det.chords] == [("C", 0), ("G7", 1440), ("C", 2880)]


@pytest.mark.parametrize("per_bar,expected", [(1, [0, 1440]), (2, [0, 960, 1440]), (4, [0, 480, 960, 1440])])
def test_segment_grid_of_a_three_four_bar(per_bar, expected):
    song = Song(meters=(TimeSignature(0, 3, 4),))
    assert segment_bounds(song, 1440, per_bar).tolist() == expected


def test_segment_chroma_weights_notes_by_duration_across_segments():
    notes = np.asarray([[0, 1440, 60], [480, 480, 64]])
    chroma, lowest = segment_chroma(notes, np.asarray([0, 960, 1920]))
    assert chroma[0, 0] == 960 and chroma[1, 0] == 480 and chroma[0, 4] == 480 and chroma[1, 4] == 0
    assert lowest.tolist() == [60, 60]


def test_bad_per_bar_is_refused():
    with pytest.raises(ValueError):
        segment_bounds(Song(), 1920, 3)
