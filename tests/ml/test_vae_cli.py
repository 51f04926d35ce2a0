"""``musicapp vary``, ``interpolate`` and ``sample`` write .mid files with the expected tracks."""

from __future__ import annotations

import pytest
from vae_helpers import PHRASE_A, PHRASE_B, Q, tiny_checkpoint

from musicapp.cli import main
from musicapp.core.midifile import read_midi, write_midi
from musicapp.core.scales import parse_key, scale_pitch_classes
from musicapp.core.song import Song, Track


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("vae_cli")
    return str(tiny_checkpoint(root / "run", root / "vae_tiny", steps=2))


def _mid(path, notes, name="melody"):
    write_midi(Song(tracks=(Track(name, notes=tuple(notes)),)), path)
    return str(path)


def test_vary_writes_the_phrase_then_one_track_per_variation(ckpt, tmp_path):
    src = _mid(tmp_path / "in.mid", PHRASE_A)
    out = tmp_path / "out.mid"
    assert main(["vary", src, "--amount", "0.3", "--variations", "3", "-o", str(out),
                 "--checkpoint", ckpt, "--seed", "1"]) == 0
    song = read_midi(out)
    assert [t.name for t in song.tracks] == ["melody", "variation 1", "variation 2", "variation 3"]
    assert [(n.start, n.pitch) for n in song.tracks[0].notes] == [(n.start, n.pitch) for n in PHRASE_A]
    assert all(0 <= n.start and n.end <= 16 * Q for t in song.tracks[1:] for n in t.notes)


def test_interpolate_writes_one_track_per_step_one_after_another(ckpt, tmp_path):
    a, b = _mid(tmp_path / "a.mid", PHRASE_A), _mid(tmp_path / "b.mid", PHRASE_B)
    out = tmp_path / "out.mid"
    assert main(["interpolate", a, b, "--steps", "4", "-o", str(out), "--checkpoint", ckpt]) == 0
    song = read_midi(out)
    assert [t.name for t in song.tracks] == ["step 1 (A)", "step 2", "step 3", "step 4 (B)"]
    for i, t in enumerate(song.tracks):  # each step in its own 4-bar span
        assert all(i * 16 * Q <= n.start and n.end <= (i + 1) * 16 * Q for n in t.notes)


def test_sample_writes_melodies_of_the_asked_bars_in_the_key(ckpt, tmp_path):
    out = tmp_path / "s.mid"
    assert main(["sample", "--bars", "3", "--count", "2", "--key", "A minor", "--meter", "3/4",
                 "--temperature", "1.5", "-o", str(out), "--checkpoint", ckpt, "--seed", "3"]) == 0
    song = read_midi(out)
    assert [t.name for t in song.tracks] == ["sample 1", "sample 2"]
    assert song.meters[0].numerator == 3
    pcs = scale_pitch_classes(parse_key("A minor"))
    notes = [n for t in song.tracks for n in t.notes]
    assert all(n.pitch % 12 in pcs and n.end <= 9 * Q for n in notes)


def test_bad_input_gives_one_line_and_exit_1(ckpt, tmp_path, capsys):
    out = str(tmp_path / "o.mid")
    assert main(["vary", str(tmp_path / "missing.mid"), "-o", out, "--checkpoint", ckpt]) == 1
    assert main(["vary", _mid(tmp_path / "in.mid", PHRASE_A), "--amount", "2", "-o", out,
                 "--checkpoint", ckpt]) == 1
    assert main(["sample", "-o", out, "--checkpoint", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("musicapp: ") for line in err)
    assert "amount 2.0 outside 0..1" in err[1] and "not found" in err[2]
