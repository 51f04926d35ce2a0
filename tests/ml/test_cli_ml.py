"""CLI: ``musicapp continue`` writes seed + variations; ``musicapp score --json`` has the agreed shape."""

from __future__ import annotations

import json

from musicapp.cli import main
from musicapp.core.midifile import read_midi, write_midi
from musicapp.core.song import Note, Song, TimeSignature, Track

SEED = tuple(Note(i * 240, 62 + (i * 5) % 7, 240) for i in range(12))  # 12 eighths: 1.5 bars of 4/4


def _seed_file(path, meters=(TimeSignature(0),)):
    write_midi(Song(tracks=(Track("Melody", notes=SEED),), meters=meters), path)
    return str(path)


def test_continue_writes_seed_then_one_track_per_variation(tmp_path, tiny_checkpoint, capsys):
    seed = _seed_file(tmp_path / "seed.mid")
    out = tmp_path / "out.mid"
    code = main(["continue", seed, "--bars", "2", "--variations", "3", "--temperature", "0.9", "--key", "auto",
                 "-o", str(out), "--checkpoint", str(tiny_checkpoint)])
    assert code == 0
    song = read_midi(out)
    assert len(song.tracks) == 4
    assert song.tracks[0].notes == SEED
    seed_end = max(n.end for n in SEED)
    for track in song.tracks[1:]:
        assert all(seed_end <= n.start and n.end <= 4 * 1920 for n in track.notes)
    assert "3 variation(s)" in capsys.readouterr().out


def test_continue_refuses_bad_key_with_one_line(tmp_path, tiny_checkpoint, capsys):
    seed = _seed_file(tmp_path / "seed.mid")
    code = main(["continue", seed, "--key", "H major", "-o", str(tmp_path / "o.mid"),
                 "--checkpoint", str(tiny_checkpoint)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("musicapp: ") and err.count("\n") == 1


def test_score_json_shape(tmp_path, tiny_checkpoint, capsys):
    a = _seed_file(tmp_path / "a.mid")
    b = _seed_file(tmp_path / "b.mid", meters=(TimeSignature(0, 3, 4),))
    assert main(["score", a, b, "--json", "--checkpoint", str(tiny_checkpoint)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"files", "overall"}
    assert [f["path"] for f in doc["files"]] == [a, b]
    for f in doc["files"]:
        assert set(f) == {"path", "notes", "nats_per_note"} and f["notes"] == 12 and f["nats_per_note"] > 0
    assert doc["overall"]["notes"] == 24
    mean = sum(f["nats_per_note"] for f in doc["files"]) / 2
    assert abs(doc["overall"]["nats_per_note"] - mean) < 1e-4


def test_score_missing_file_is_one_line_error(tmp_path, tiny_checkpoint, capsys):
    code = main(["score", str(tmp_path / "none.mid"), "--checkpoint", str(tiny_checkpoint)])
    assert code == 1 and capsys.readouterr().err.startswith("musicapp: ")
