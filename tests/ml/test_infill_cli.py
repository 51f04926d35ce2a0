"""CLI: ``musicapp infill`` writes the input then whole melodies with new bars A-B; bad input is
one line, exit 1, nothing written; the steering flags reach the generators."""

from __future__ import annotations

import pytest

from infill_helpers import BAR, save_tiny_infill, tune
from musicapp.cli import main
from musicapp.core.midifile import read_midi, write_midi
from musicapp.core.song import Song, TimeSignature, Track


@pytest.fixture
def files(tmp_path):
    src = tmp_path / "in.mid"
    write_midi(Song(tracks=(Track("Melody", notes=tuple(tune(12))),), meters=(TimeSignature(0),)), src)
    return src, tmp_path / "out.mid", str(save_tiny_infill(tmp_path / "tiny_infill"))


def test_infill_writes_input_then_one_whole_melody_per_variation(files, capsys):
    src, out, ckpt = files
    code = main(["infill", str(src), "--bars", "5-8", "--variations", "3", "--temperature", "0.9", "--key", "auto",
                 "--seed", "4", "-o", str(out), "--checkpoint", ckpt])
    assert code == 0, capsys.readouterr().err
    song = read_midi(out)
    original = read_midi(src).tracks[0].notes
    assert len(song.tracks) == 4 and song.tracks[0].notes == original
    a, b = 4 * BAR, 8 * BAR
    kept = tuple(n for n in original if not a <= n.start < b)
    for track in song.tracks[1:]:
        assert tuple(n for n in track.notes if not a <= n.start < b) == kept
        assert all(n.end <= b for n in track.notes if a <= n.start < b)
    assert "3 variation(s)" in capsys.readouterr().out
    # the same seed gives the same file
    out2 = out.with_name("again.mid")
    main(["infill", str(src), "--bars", "5-8", "--variations", "3", "--temperature", "0.9", "--seed", "4",
          "-o", str(out2), "--checkpoint", ckpt])
    assert read_midi(out2).tracks == song.tracks


@pytest.mark.parametrize("bars,words", [
    ("8-5", "must not be after"),
    ("20-22", "outside the song"),
    ("1-2", "no notes before"),
    ("11-14", "no notes after"),
    ("2-70", "longer than 64 bars"),
    ("x", "is not"),
    ("0-2", "numbered from 1"),
])
def test_bad_regions_give_one_line_exit_1_and_no_file(files, capsys, bars, words):
    src, out, ckpt = files
    if "64" in words:
        notes = tune(12) + [n.moved(dt=80 * BAR) for n in tune(1)]
        write_midi(Song(tracks=(Track("Melody", notes=tuple(sorted(notes))),)), src)
    code = main(["infill", str(src), "--bars", bars, "-o", str(out), "--checkpoint", ckpt])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("musicapp: ") and err.count("\n") == 1 and words in err
    assert not out.exists()


def test_steering_flags_are_checked_and_accepted(files, capsys):
    src, out, ckpt = files
    assert main(["infill", str(src), "--bars", "3-4", "--density", "40", "-o", str(out), "--checkpoint", ckpt]) == 1
    assert "density" in capsys.readouterr().err and not out.exists()
    assert main(["infill", str(src), "--bars", "3-4", "--density", "6", "--rhythm", "seed", "--repeat", "0.2",
                 "-o", str(out), "--checkpoint", ckpt]) == 0
    new = [n for n in read_midi(out).tracks[1].notes if 2 * BAR <= n.start < 4 * BAR]
    assert 10 <= len(new) <= 14  # 6 notes per bar over 2 bars, within 20%


def test_continue_takes_the_steering_flags(tmp_path, tiny_checkpoint, capsys):
    src, out = tmp_path / "in.mid", tmp_path / "out.mid"
    write_midi(Song(tracks=(Track("Melody", notes=tuple(tune(2))),)), src)
    code = main(["continue", str(src), "--bars", "4", "--density", "3", "-o", str(out),
                 "--checkpoint", str(tiny_checkpoint)])
    assert code == 0, capsys.readouterr().err
    assert len(read_midi(out).tracks[1].notes) == 12
