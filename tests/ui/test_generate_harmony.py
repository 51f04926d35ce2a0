"""The Generate panel's harmony modes and chord lock, driven by keys on the real window:
Accompany (ghost bass and keys, Tab cycles, Return accepts as one undo step, Esc dismisses),
Harmonise (ghost chords in the chord lane, accepted into the chord track) and Continue with the
chord lock on."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from musicapp.core.chords import Chord, chord_at
from musicapp.core.song import Note, Song, Track
from tests.ui.generate_helpers import PHRASE_A, Q, close_window, make_window, show_window, wait_candidates
from tests.ui.test_generate_panel import keys

BAR = 4 * Q
CHORDS = (Chord.parse("C", 0, BAR), Chord.parse("G7", BAR, BAR // 2), Chord.parse("Am", BAR + BAR // 2, BAR // 2),
          Chord.parse("F", 2 * BAR, BAR), Chord.parse("G", 3 * BAR, BAR))


def _song(chords=CHORDS) -> Song:
    return Song(tracks=(Track(name="Lead", notes=tuple(PHRASE_A)),), chords=chords)


@pytest.fixture
def hwin(qtbot, tmp_path, monkeypatch):
    w = show_window(make_window(tmp_path, monkeypatch, _song()), qtbot)
    yield w
    close_window(w)


def test_accompany_by_keyboard_cycles_accepts_in_one_step_and_undoes(hwin, qtbot):
    ctrl, doc = hwin.generate, hwin.document
    hwin.generate_panel.accompany_style.setCurrentText("waltz")
    keys(hwin, Qt.Key_M, Qt.ControlModifier | Qt.AltModifier)  # Accompany chords
    wait_candidates(qtbot, hwin)
    s = ctrl.session
    assert len(s.candidates) == ctrl.options.variations
    bass, keys_track = s.candidates[0]
    assert doc.ghost_notes == tuple(sorted(bass.notes + keys_track.notes))
    for c in CHORDS:  # humanised: within a few ticks of the chord change
        assert any(abs(n.start - c.start) <= 20 and n.pitch % 12 == c.root for n in bass.notes)
    for n in keys_track.notes:
        assert any(n.pitch % 12 in c.pitch_classes for c in (chord_at(CHORDS, n.start + d) for d in (-20, 0, 20)) if c)
    keys(hwin, Qt.Key_Tab)
    assert s.index == 1 and doc.ghost_notes != tuple(sorted(bass.notes + keys_track.notes))
    chosen = s.candidates[1]
    steps = doc.undo_stack.count()
    keys(hwin, Qt.Key_Return)
    assert doc.ghost_notes == () and doc.undo_stack.count() == steps + 1
    assert [t.name for t in doc.song.tracks] == ["Lead", "Bass", "Keys"]
    assert doc.song.tracks[1:] == chosen
    keys(hwin, Qt.Key_Z, Qt.ControlModifier)
    assert doc.song == _song()


def test_escape_dismisses_accompaniment_and_no_chords_is_a_message(hwin, qtbot):
    ctrl, doc = hwin.generate, hwin.document
    keys(hwin, Qt.Key_M, Qt.ControlModifier | Qt.AltModifier)
    wait_candidates(qtbot, hwin)
    keys(hwin, Qt.Key_Escape)
    assert ctrl.session is None and doc.ghost_notes == () and doc.song == _song()
    doc.reset(_song(chords=()))
    messages = []
    ctrl.message.connect(lambda text, error: messages.append((text, error)))
    keys(hwin, Qt.Key_M, Qt.ControlModifier | Qt.AltModifier)
    assert ctrl.session is None and messages and messages[-1][1] and "no chords" in messages[-1][0]


def _share_on_beats(candidates) -> float:
    on = [n for c in candidates for n in c if n.start % Q == 0 and chord_at(CHORDS, n.start)]
    return sum(n.pitch % 12 in chord_at(CHORDS, n.start).pitch_classes for n in on) / max(1, len(on))


def test_chord_lock_makes_continue_favour_the_chord_tones(hwin, qtbot):
    ctrl, doc = hwin.generate, hwin.document
    doc.reset(Song(tracks=(Track(name="Lead", notes=tuple(PHRASE_A[:4])),), chords=CHORDS))
    ctrl.set_options(bars=2, variations=8)
    keys(hwin, Qt.Key_Return, Qt.ControlModifier)
    wait_candidates(qtbot, hwin)
    free = _share_on_beats(ctrl.session.candidates)
    keys(hwin, Qt.Key_Escape)
    hwin.generate_panel.chord_lock.setChecked(True)
    assert ctrl.options.chord_lock
    keys(hwin, Qt.Key_Return, Qt.ControlModifier)
    wait_candidates(qtbot, hwin)
    locked = _share_on_beats(ctrl.session.candidates)
    assert locked >= 0.65 and locked > free, (free, locked)


def test_harmonise_by_keyboard_shows_ghost_chords_and_accepts_them_into_the_chord_track(hwin, qtbot):
    pytest.importorskip("musicapp.ml.harmony")
    shipped = sorted((Path(__file__).resolve().parents[2] / "models").glob("harmony.*"))
    if not shipped:
        pytest.skip("no shipped harmoniser checkpoint (models/harmony.*)")
    for f in shipped:  # the window reads its models from the tests' folder
        shutil.copy(f, Path(os.environ["MUSICAPP_MODELS"]) / f.name)
    ctrl, doc, lane = hwin.generate, hwin.document, hwin.roll.chord_lane
    doc.reset(Song(tracks=(Track(name="Lead", notes=tuple(PHRASE_A)),)))
    keys(hwin, Qt.Key_H, Qt.ControlModifier | Qt.AltModifier)  # Harmonise melody
    wait_candidates(qtbot, hwin, timeout=30000)
    s = ctrl.session
    first = s.candidates[0]
    assert lane.ghost_chords == first and first and all(c.start < 2 * BAR for c in first)
    assert doc.ghost_notes and all(chord_at(first, n.start) for n in doc.ghost_notes)
    if len(s.candidates) > 1:
        keys(hwin, Qt.Key_Tab)
        assert lane.ghost_chords == s.candidates[1]
    chosen = lane.ghost_chords
    keys(hwin, Qt.Key_Return)
    assert doc.song.chords == chosen and lane.ghost_chords == () and doc.ghost_notes == ()
    assert doc.song.tracks[0].notes == tuple(PHRASE_A)  # the melody is untouched
    keys(hwin, Qt.Key_Z, Qt.ControlModifier)
    assert doc.song.chords == ()


def test_detect_chords_on_the_active_track_is_one_undo_step(hwin, qtbot):
    pytest.importorskip("musicapp.core.chord_detect")
    doc = hwin.document
    block = [Note(b * BAR, p, BAR, 80) for b, chord in enumerate([(60, 64, 67), (57, 60, 64), (55, 59, 62, 65)])
             for p in chord]
    doc.reset(Song(tracks=(Track(name="Piano", notes=tuple(block)),)))
    keys(hwin, Qt.Key_D, Qt.ControlModifier | Qt.AltModifier)
    assert [c.name for c in doc.song.chords] == ["C", "Am", "G7"]
    assert doc.undo_stack.count() == 1
    keys(hwin, Qt.Key_Z, Qt.ControlModifier)
    assert doc.song.chords == ()
    doc.reset(Song(tracks=(Track(name="Kit", channel=9, notes=(Note(0, 36, 10, 100, 9),)),)))
    keys(hwin, Qt.Key_D, Qt.ControlModifier | Qt.AltModifier)
    assert doc.song.chords == () and doc.undo_stack.count() == 0
