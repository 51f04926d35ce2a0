"""The jam's model glue: finding ``--model`` and answering calls in any register."""

from __future__ import annotations

import json
import threading

import pytest

from musicapp.core.song import Note, TimeSignature
from musicapp.engine.jam_parts import JamRequest
from musicapp.jamming import find_model, jam_generate

pytest.importorskip("torch")


def test_find_model_takes_the_shipped_name_a_path_or_says_what_there_is(tmp_path, monkeypatch):
    from musicapp.core.errors import MusicappError

    monkeypatch.setenv("MUSICAPP_USER_MODELS", str(tmp_path / "mine"))
    shipped = find_model(None)
    assert shipped.name == "lstm.json" and find_model("lstm") == shipped
    assert find_model(str(shipped)) == shipped
    with pytest.raises(MusicappError, match="available: .*lstm"):
        find_model("nope")
    (tmp_path / "half.json").write_text("{}")  # not a checkpoint: the loader names the file
    with pytest.raises(MusicappError, match="half.json is not a musicapp checkpoint"):
        jam_generate(find_model(str(tmp_path / "half.json")))
    good = json.loads(shipped.read_text())
    (tmp_path / "noweights.json").write_text(json.dumps(good))  # its weights file is not beside it
    with pytest.raises(MusicappError, match="noweights|lstm.safetensors|not found"):
        jam_generate(find_model(str(tmp_path / "noweights.json")))


def test_a_call_two_octaves_down_is_answered_down_there():
    generate = jam_generate(find_model(None))
    seed = tuple(Note(i * 240, p - 24, 240) for i, p in enumerate((60, 62, 64, 65, 67, 65, 64, 62)))
    request = JamRequest(seed, 1920, 2, None, (33, 46), (TimeSignature(0),), 480, 3)
    answers = generate(request, threading.Event())
    notes = [n for a in answers for n in a]
    assert notes and all(33 <= n.pitch <= 46 and n.start >= 1920 for n in notes)
