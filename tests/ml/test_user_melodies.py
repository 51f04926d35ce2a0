"""Reading the user's files: the melody track, meters, skipped files with reasons, too little."""

from __future__ import annotations

import pytest

from musicapp.cli import main
from musicapp.core.midifile import write_midi
from musicapp.core.song import Note, Song, TimeSignature, Track
from musicapp.ml.encoding import PITCH_OFFSET
from musicapp.ml.user_melodies import UserDataError, read_user_melodies, split_user_melodies
from tests.ml.finetune_helpers import style_song, write_style_files


def test_the_lead_is_found_among_bass_and_drums_and_meters_are_kept(tmp_path):
    write_midi(style_song(0, bars=4, meter=TimeSignature(0, 3, 4)), tmp_path / "a.mid")
    data = read_user_melodies([tmp_path / "a.mid"])
    (m,) = data.melodies
    assert m.track == "Lead" and m.notes == 32
    assert set(m.tune.melody.bar_len.tolist()) == {12}  # 3/4: bars of 12 sixteenths
    assert int(m.tune.melody.tokens[0]) - PITCH_OFFSET == 62


def test_a_chosen_track_is_used_and_a_drum_track_is_refused(tmp_path):
    write_midi(style_song(0, bars=4), tmp_path / "a.mid")
    (m,) = read_user_melodies([tmp_path / "a.mid"], track=1).melodies
    assert m.track == "Bass"
    data = read_user_melodies([tmp_path / "a.mid"], track=3)
    assert data.skipped[0].reason == "track 3 is a drum track"


def test_bad_folder_lists_every_skipped_file_with_its_reason(tmp_path):
    folder = write_style_files(tmp_path / "f", count=3)
    (folder / "readme.txt").write_text("not music")
    (folder / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00")
    (folder / "empty.mid").write_bytes(b"")
    write_midi(Song(tracks=(Track("Drums", 9, 0, (Note(0, 36, 120, channel=9),)),)), folder / "drums.mid")
    write_midi(Song(tracks=(Track("Lead", 0, 0, (Note(0, 60, 480),)),)), folder / "short.mid")
    data = read_user_melodies([folder, tmp_path / "missing"])
    reasons = {p.split("/")[-1]: r for p, r in ((s.path, s.reason) for s in data.skipped)}
    assert len(data.melodies) == 3
    assert reasons["readme.txt"] == "not a MIDI file"
    assert reasons["drums.mid"] == "no melody (only drums)"
    assert reasons["short.mid"].startswith("melody too short (1 notes")
    assert reasons["missing"] == "no such file or folder"
    assert "corrupt.mid" in reasons and "empty.mid" in reasons


def test_too_little_music_is_a_clear_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MUSICAPP_USER_MODELS", str(tmp_path / "models"))
    write_midi(style_song(0, bars=2), tmp_path / "one.mid")
    with pytest.raises(UserDataError, match="at least 2 are needed"):
        split_user_melodies(read_user_melodies([tmp_path]).melodies)
    write_midi(style_song(3, bars=2), tmp_path / "two.mid")
    assert main(["finetune", str(tmp_path), "--name", "x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("musicapp: found only 32 melody notes; a fine-tune needs at least 200") and "Traceback" not in err
    assert main(["finetune", str(tmp_path), "--name", "lstm"]) == 1
    assert "shipped model's name" in capsys.readouterr().err


def test_the_held_out_split_is_stable_and_never_empty(tmp_path):
    data = read_user_melodies([write_style_files(tmp_path, count=8)])
    train, valid = split_user_melodies(data.melodies)
    assert valid and train and len(train) + len(valid) == 8
    assert [m.path for m in split_user_melodies(list(reversed(data.melodies)))[1]] == [m.path for m in valid]
