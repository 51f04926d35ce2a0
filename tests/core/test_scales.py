"""Scales and keys: mode tables, key parsing, snapping, signatures, key detection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from musicapp.core.scales import (
    MODES, ScaleError, detect_key, in_scale, key_from_signature, key_scores, key_signature_of,
    parse_key, pitch_name, scale_pitch_classes, snap_to_scale)
from musicapp.core.song import Key, Note

KEYS = st.builds(Key, st.integers(0, 11), st.sampled_from(sorted(MODES)))


@pytest.mark.parametrize("text, tonic, mode", [
    ("C major", 0, "major"), ("F# minor", 6, "minor"), ("Bb dorian", 10, "dorian"),
    ("Am", 9, "minor"), ("c#m", 1, "minor"), ("Eb", 3, "major"), ("bb minor", 10, "minor"),
    ("E harmonic minor", 4, "harmonic_minor"), ("G melodic_minor", 7, "melodic_minor"),
    ("D minor pentatonic", 2, "minor_pentatonic"), ("A aeolian", 9, "minor"),
    ("F lydian", 5, "lydian"), ("G mixolydian", 7, "mixolydian"), ("B locrian", 11, "locrian"),
    ("E phrygian", 4, "phrygian"), ("C pentatonic", 0, "major_pentatonic"), ("A blues", 9, "blues"),
    ("Cb", 11, "major"), ("B# minor", 0, "minor"), ("G\u266d lydian", 6, "lydian"),
    ("D chromatic", 2, "chromatic"),
])
def test_parse_key_accepts_common_names(text: str, tonic: int, mode: str) -> None:
    assert parse_key(text) == Key(tonic, mode)


@pytest.mark.parametrize("text", ["", "H major", "C foo", "C###", "major", "7"])
def test_parse_key_rejects_nonsense_with_one_line(text: str) -> None:
    with pytest.raises(ScaleError, match="unknown key") as info:
        parse_key(text)
    assert "\n" not in str(info.value)


@given(KEYS)
def test_str_of_a_key_parses_back(key: Key) -> None:
    assert parse_key(str(key)) == key


def test_scale_pitch_classes_of_modes() -> None:
    assert scale_pitch_classes(Key(0, "major")) == {0, 2, 4, 5, 7, 9, 11}
    assert scale_pitch_classes(Key(9, "minor")) == scale_pitch_classes(Key(0, "major"))
    assert scale_pitch_classes(Key(2, "dorian")) == scale_pitch_classes(Key(0, "major"))
    assert scale_pitch_classes(Key(9, "harmonic_minor")) == {9, 11, 0, 2, 4, 5, 8}
    assert scale_pitch_classes(Key(9, "blues")) == {9, 0, 2, 3, 4, 7}
    assert len(scale_pitch_classes(Key(5, "chromatic"))) == 12
    with pytest.raises(ScaleError, match="unknown mode 'bogus'"):
        scale_pitch_classes(Key(0, "bogus"))


@given(st.integers(0, 127), KEYS, st.sampled_from(["down", "up"]))
def test_snap_to_scale_gives_nearest_in_scale_pitch(pitch: int, key: Key, prefer: str) -> None:
    got = snap_to_scale(pitch, key, prefer)
    assert 0 <= got <= 127 and in_scale(got, key)
    nearest = min(abs(p - pitch) for p in range(128) if in_scale(p, key))
    assert abs(got - pitch) == nearest
    if in_scale(pitch, key):
        assert got == pitch


def test_snap_to_scale_tie_follows_preference() -> None:
    assert snap_to_scale(61, Key(0, "major")) == 60
    assert snap_to_scale(61, Key(0, "major"), prefer="up") == 62


@given(KEYS)
def test_key_signature_has_the_same_notes_as_the_scale_it_comes_from(key: Key) -> None:
    sig = key_signature_of(key)
    if key.mode == "chromatic":
        assert sig is None
        return
    sharps, minor = sig
    parent = key_from_signature(sharps, minor)
    assert -7 <= sharps <= 7
    assert scale_pitch_classes(key) <= scale_pitch_classes(Key(parent.tonic, "minor" if minor else "major")) \
        or key.mode in ("harmonic_minor", "melodic_minor", "blues")


def test_key_from_signature() -> None:
    assert key_from_signature(0, False) == Key(0, "major")
    assert key_from_signature(-3, True) == Key(0, "minor")
    assert key_from_signature(2, False) == Key(2, "major")


def _notes(pitches: list[int], length: int = 480) -> list[Note]:
    return [Note(i * length, p, length) for i, p in enumerate(pitches)]


def test_detect_key_finds_major_and_minor_scales() -> None:
    d_major = [62, 64, 66, 67, 69, 71, 73, 74, 69, 66, 62]
    assert detect_key(_notes(d_major)) == Key(2, "major")
    a_minor = [57, 59, 60, 62, 64, 65, 67, 69, 64, 60, 57, 64, 57]
    assert detect_key(_notes(a_minor)) == Key(9, "minor")


def test_detect_key_weights_by_duration() -> None:
    # C and G held long with short chromatic passing notes: still C major.
    notes = [Note(0, 60, 1920), Note(1920, 64, 1920), Note(3840, 67, 1920)]
    notes += [Note(5760 + 30 * i, 61 + i % 5, 30) for i in range(5)]
    assert detect_key(notes) == Key(0, "major")
    scores = key_scores(notes)
    assert len(scores) == 24 and scores[0][1] >= scores[1][1]


def test_detect_key_ignores_drums_and_needs_pitched_notes() -> None:
    drums = [Note(0, 36, 10, 100, 9)]
    with pytest.raises(ScaleError, match="no pitched notes"):
        detect_key(drums)
    assert detect_key(drums, default=Key(5, "major")) == Key(5, "major")


def test_pitch_name() -> None:
    assert [pitch_name(p) for p in (0, 60, 61, 127)] == ["C-1", "C4", "C#4", "G9"]
