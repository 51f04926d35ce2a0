"""CLI: ``musicapp chords`` prints one chord per segment; ``musicapp harmonize`` writes melody +
Chords tracks + chord markers; bad input gives one line and writes nothing."""

from __future__ import annotations

import json

import pytest

from musicapp.cli import main
from musicapp.core.chords import Chord
from musicapp.core.midifile import read_midi, write_midi
from musicapp.core.song import Note, Song, Track

from tests.ml.harmony_helpers import tiny_harmony_checkpoint

MELODY = tuple(Note(i * 480, p, 480) for i, p in enumerate([64, 62, 60, 62, 64, 64, 64, 64, 62, 62, 64, 67, 64, 62, 60, 60]))


def _block_file(path, names=("C", "F", "G7", "C")):
    notes = []
    for i, name in enumerate(names):
        c = Chord.parse(name)
        notes += [Note(i * 1920, 36 + c.root, 1920)] + [Note(i * 1920, 60 + pc, 1920) for pc in c.pitch_classes]
    write_midi(Song(tracks=(Track("Piano", notes=tuple(notes)),)), path)
    return str(path)


def test_chords_prints_bar_beat_and_name_per_segment(tmp_path, capsys):
    assert main(["chords", _block_file(tmp_path / "b.mid"), "--per-bar", "1"]) == 0
    lines = capsys.readouterr().out.split("\n")
    assert [ln.split() for ln in lines if ln] == [["1.1", "C"], ["2.1", "F"], ["3.1", "G7"], ["4.1", "C"]]


def test_chords_json_has_key_and_chord_records(tmp_path, capsys):
    assert main(["chords", _block_file(tmp_path / "b.mid"), "--per-bar", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["key"] == "C major" and len(doc["chords"]) == 8
    assert doc["chords"][1] == {"position": "1.3", "tick": 960, "length": 960, "chord": "C", "root": 0,
                                "quality": "maj", "bass": None}


def test_harmonize_writes_melody_then_chords_tracks_with_markers(tmp_path, capsys):
    src = tmp_path / "mel.mid"
    write_midi(Song(tracks=(Track("Tune", notes=MELODY),)), src)
    out = tmp_path / "out.mid"
    ckpt = tiny_harmony_checkpoint(tmp_path / "h")
    assert main(["harmonize", str(src), "--variations", "3", "--per-bar", "2", "--key", "C major",
                 "--style", "simple", "--seed", "1", "--checkpoint", ckpt, "-o", str(out)]) == 0
    song = read_midi(out)
    assert [t.name for t in song.tracks] == ["Tune", "Chords", "Chords 2", "Chords 3"]
    assert song.tracks[0].notes == MELODY
    assert len(song.chords) == 8 and song.chords[0].start == 0 and song.chords[-1].end == 4 * 1920
    for chord in song.chords:  # block notes of each chord, all below the melody
        block = [n for n in song.tracks[1].notes if n.start == chord.start]
        assert {n.pitch % 12 for n in block} == set(chord.pitch_classes)
        top = min(n.pitch for n in MELODY if chord.start <= n.start < chord.end)
        assert max(n.pitch for n in block) < top
    assert "Chords:" in capsys.readouterr().out


def test_harmonize_uses_the_top_line_of_a_melody_with_chords(tmp_path):
    src = tmp_path / "mel.mid"
    notes = MELODY + tuple(Note(n.start, n.pitch - 7, n.length) for n in MELODY[::2])
    write_midi(Song(tracks=(Track("Tune", notes=notes),)), src)
    out = tmp_path / "out.mid"
    assert main(["harmonize", str(src), "--checkpoint", tiny_harmony_checkpoint(tmp_path / "h"), "-o", str(out)]) == 0
    assert read_midi(out).tracks[0].notes == tuple(sorted(notes))


@pytest.mark.parametrize("tracks", [(), (Track("Drums", channel=9, notes=(Note(0, 36, 240, channel=9),)),)])
def test_harmonize_refuses_empty_or_drum_only_files_with_one_line(tmp_path, capsys, tracks):
    src = tmp_path / "d.mid"
    write_midi(Song(tracks=tracks), src)
    out = tmp_path / "out.mid"
    code = main(["harmonize", str(src), "--checkpoint", tiny_harmony_checkpoint(tmp_path / "h"), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("musicapp: ") and err.count("\n") == 1 and not out.exists()
    assert main(["chords", str(src)]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_harmonize_refuses_a_bad_key_name_with_one_line(tmp_path, capsys):
    src = tmp_path / "mel.mid"
    write_midi(Song(tracks=(Track("Tune", notes=MELODY),)), src)
    code = main(["harmonize", str(src), "--key", "H major", "-o", str(tmp_path / "o.mid")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and not (tmp_path / "o.mid").exists()
