"""``musicapp accompany IN.mid [--style NAME] [--bass/--no-bass] [--keys/--no-keys] -o OUT.mid``."""

from __future__ import annotations

import pytest

from musicapp.cli import main
from musicapp.core.chords import Chord
from musicapp.core.midifile import read_midi, write_midi
from musicapp.core.song import Note, Song, Track

BAR = 1920


def _song(chords: bool = True) -> Song:
    melody = Track("Melody", 0, 73, tuple(Note(i * 480, (67, 69, 71, 72)[i % 4], 480) for i in range(32)))
    prog = ("C", "Am", "Dm7", "G7", "C", "F", "G", "C") if chords else ()
    return Song(tracks=(melody,), chords=tuple(Chord.parse(n, i * BAR, BAR) for i, n in enumerate(prog)))


def test_accompany_writes_the_melody_plus_bass_and_keys_with_the_chords_kept(tmp_path, capsys) -> None:
    write_midi(_song(), tmp_path / "in.mid")
    assert main(["accompany", str(tmp_path / "in.mid"), "--style", "waltz", "-o", str(tmp_path / "out.mid")]) == 0
    out = read_midi(tmp_path / "out.mid")
    assert [t.name for t in out.tracks] == ["Melody", "Bass", "Keys"]
    assert out.chords == _song().chords and out.tracks[0].notes == _song().tracks[0].notes
    assert "Bass (" in capsys.readouterr().out


def test_no_bass_and_no_keys_leave_their_track_out(tmp_path) -> None:
    write_midi(_song(), tmp_path / "in.mid")
    assert main(["accompany", str(tmp_path / "in.mid"), "--no-bass", "-o", str(tmp_path / "k.mid")]) == 0
    assert [t.name for t in read_midi(tmp_path / "k.mid").tracks] == ["Melody", "Keys"]
    assert main(["accompany", str(tmp_path / "in.mid"), "--no-keys", "--style", "pad",
                 "-o", str(tmp_path / "b.mid")]) == 0
    assert [t.name for t in read_midi(tmp_path / "b.mid").tracks] == ["Melody", "Bass"]


@pytest.mark.parametrize("args, message", [
    (["--no-bass", "--no-keys"], "nothing to add"),
    (["-o", "x.musicapp"], "must end in .mid"),
])
def test_bad_requests_are_one_line_errors(tmp_path, capsys, args, message) -> None:
    write_midi(_song(), tmp_path / "in.mid")
    out = args if "-o" in args else args + ["-o", str(tmp_path / "o.mid")]
    assert main(["accompany", str(tmp_path / "in.mid"), *out]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o.mid").exists()


def test_a_drum_only_file_without_chords_is_refused(tmp_path, capsys) -> None:
    drums = Song(tracks=(Track("Kit", 9, 0, (Note(0, 36, 10, 100, 9),)),))
    write_midi(drums, tmp_path / "d.mid")
    assert main(["accompany", str(tmp_path / "d.mid"), "-o", str(tmp_path / "o.mid")]) == 1
    assert "no chords and no pitched notes" in capsys.readouterr().err
    assert not (tmp_path / "o.mid").exists()


def test_unknown_style_is_refused_by_the_parser(tmp_path, capsys) -> None:
    write_midi(_song(), tmp_path / "in.mid")
    with pytest.raises(SystemExit):
        main(["accompany", str(tmp_path / "in.mid"), "--style", "polka", "-o", str(tmp_path / "o.mid")])
    assert "invalid choice: 'polka'" in capsys.readouterr().err


def test_a_file_with_block_chords_but_no_markers_gets_detected_chords(tmp_path, capsys) -> None:
    pytest.importorskip("musicapp.core.chord_detect")
    melody = _song(chords=False).tracks[0]
    piano = Track("Piano", 1, 0, tuple(Note(b * BAR, p, BAR) for b, ch in enumerate([(48, 52, 55), (45, 48, 52)] * 4)
                                       for p in ch))
    write_midi(Song(tracks=(melody, piano)), tmp_path / "in.mid")
    assert main(["accompany", str(tmp_path / "in.mid"), "-o", str(tmp_path / "out.mid")]) == 0
    out = read_midi(tmp_path / "out.mid")
    from musicapp.core.chords import chord_at

    assert [chord_at(out.chords, b * BAR).root for b in range(8)] == [0, 9] * 4  # the piano's C and Am
    assert "detected" in capsys.readouterr().out
